"""Regional labour pools, brain drain and wages (seed 2.6, 3.6.4).

Workers are not agents: each region has a labour force per skill level (a stock) with flows in
(graduates of its universities, other entrants) and out (retirement, emigration); employment is
the sum of firms' staff and unemployment the rest. Skilled emigration (brain drain) follows a
logistic hazard in the wage gap to abroad, skilled unemployment and the share of peers already
abroad (Borjas 1987; Docquier & Rapoport 2012): seed 3.6.4 warns that educating more without
jobs can intensify the drain. Part of the diaspora returns each year (Dustmann & Weiss 2007). Employed skilled workers emigrate too, at a lower hazard, and their
firms lose them. Wages follow regional productivity and labour-market tightness.
"""

from __future__ import annotations

import numpy as np

from cluster_abm.numerics.rounding import stochastic_round
from cluster_abm.policy.lever_state import ALL


def emigration_rate(m) -> np.ndarray:
    """Yearly emigration hazard of an unemployed skilled worker, per region."""
    mp = m.p.yearly.migration
    u = m.unemployed_s() / np.maximum(m.lf_s, 1.0)
    diaspora = m.diaspora / np.maximum(m.diaspora + m.lf_s, 1.0)
    z = (mp.intercept + mp.wage_gap_weight * np.log(m.foreign_wage / m.wage_s)
         + mp.unemployment_weight * u + mp.peer_weight * diaspora)
    return mp.max_rate / (1.0 + np.exp(-z))


def labour_flows(m, step) -> None:
    """Retirements, entrants (graduates and others), skilled emigration and return migration.

    Step state: writes ``graduates``.
    """
    ft, p, rng = m.firms, m.p, m.rngs.labour
    idx = ft.idx
    region = ft.region[idx]
    R = m.world.n_regions
    # Retirement: employees leave their firms and the labour force; so do unemployed retirees.
    r = p.labour.retirement_rate
    for col, lf, pool_fn in (("skilled", m.lf_s, m.unemployed_s), ("unskilled", m.lf_u, m.unemployed_u)):
        staff = getattr(ft, col)
        pool = pool_fn()
        retired_emp = rng.binomial(staff[idx], r)
        staff[idx] -= retired_emp.astype(np.int32)
        retired_un = rng.binomial(np.maximum(pool, 0).astype(np.int64), r)
        out = np.bincount(region, weights=retired_emp, minlength=R) + retired_un
        lf -= out
        m.ledger.add("retirements", np.arange(R), out)
    # Entrants: graduates of the region's universities (scaled by quality) and others.
    graduates = stochastic_round(rng, m.lf_s * (m.university_output * p.ki.graduates_per_university))
    skilled_in = graduates + stochastic_round(rng, m.lf_s * p.labour.skilled_entry_rate)
    unskilled_in = stochastic_round(rng, m.lf_u * p.labour.unskilled_entry_rate)
    m.lf_s += skilled_in
    m.lf_u += unskilled_in
    step.graduates = graduates
    m.ledger.add("graduates", np.arange(R), graduates)
    # Brain drain: the unemployed skilled emigrate at the full hazard, the employed at a share.
    hazard = -np.expm1(-emigration_rate(m) / p.steps_per_year)
    pool = np.maximum(m.unemployed_s(), 0).astype(np.int64)
    gone_un = rng.binomial(pool, hazard)
    gone_emp = rng.binomial(ft.skilled[idx], hazard[region] * p.migration.employed_factor)
    ft.skilled[idx] -= gone_emp.astype(np.int32)
    emigrants = gone_un + np.bincount(region, weights=gone_emp, minlength=R)
    m.lf_s -= emigrants
    m.emigrants_cum += emigrants
    # Return migration: part of the diaspora comes back and looks for work at home.
    returnees = rng.binomial(np.round(m.diaspora).astype(np.int64), p.migration.return_rate)
    m.diaspora += emigrants - returnees
    m.lf_s += returnees
    m.ledger.add("skilled_returnees", np.arange(R), returnees)
    m.ledger.add("skilled_emigrants", np.arange(R), emigrants)
    m.ledger.add("skilled_emigrants_employed", np.arange(R), np.bincount(region, weights=gone_emp, minlength=R))


def place_trainees(m, step) -> None:
    """University-firm collaboration (seed 3.6.4): a share of this step's graduates is placed in
    firms able to absorb them (traineeships, co-financed PhDs); each placement adds a skilled
    post to the host firm.

    Step state: reads ``graduates``.
    """
    if not m.policy.on("university_firm_collab"):
        return
    ft, p, rng = m.firms, m.p, m.rngs.policy
    idx = ft.idx
    level = m.policy.level("university_firm_collab", regions=ALL)
    want = stochastic_round(rng, step.graduates * np.minimum(p.policy.trainee_rate * level, 1.0))
    pool = np.maximum(m.unemployed_s(), 0)
    want = np.minimum(want, pool)
    hosts_ok = idx[(ft.absorptive[idx] >= p.ki.ac_threshold)
                   & (m.policy.level("university_firm_collab", firms=idx) > 0)]
    host_region = ft.region[hosts_ok]
    # Hosts are drawn region by region; then one budget call serves all regions, since each
    # region draws on its own budget (and a host is in one region only).
    picks = []
    for r in (want > 0).nonzero()[0]:
        hosts = hosts_ok[host_region == r]
        if len(hosts):
            picks.append(rng.choice(hosts, size=int(want[r]), replace=True))
    if not picks:
        return
    chosen = np.concatenate(picks)
    chosen = chosen[m.policy.grant("university_firm_collab", chosen, p.yearly.policy.trainee_cost)]
    if len(chosen) == 0:
        return
    uniq, cnt = np.unique(chosen, return_counts=True)
    emp = ft.skilled[uniq] + ft.unskilled[uniq]
    ft.skilled[uniq] += cnt.astype(np.int32)
    ft.skill_share[uniq] = np.minimum((ft.skill_share[uniq] * emp + cnt) / (emp + cnt), 1.0)
    m.ledger.add("trainees_placed", ft.region[chosen])


def update_wages(m) -> None:
    """Yearly: wages pass through part of regional productivity growth and rise when
    unemployment is below its initial level (and fall when above)."""
    ft, y = m.firms, m.p.yearly
    idx = ft.idx
    emp = ft.skilled[idx] + ft.unskilled[idx]
    R = m.world.n_regions
    prod = np.bincount(ft.region[idx], weights=ft.productivity[idx] * ft.quality[idx] * emp, minlength=R)
    prod /= np.maximum(np.bincount(ft.region[idx], weights=emp, minlength=R), 1.0)
    growth = np.where(m.last_productivity > 0, prod / np.maximum(m.last_productivity, 1e-9) - 1.0, 0.0)
    m.last_productivity = prod
    u = (m.unemployed_s() + m.unemployed_u()) / np.maximum(m.lf_s + m.lf_u, 1.0)
    change = y.production.wage_pass_through * growth + y.labour.wage_tightness * (m.u0 - u)
    cap = y.labour.max_wage_change
    factor = np.clip(1.0 + change, 1.0 - cap, 1.0 + cap)
    m.wage_s *= factor
    m.wage_u *= factor
    m.foreign_wage *= 1.0 + y.labour.foreign_wage_growth
