"""Regional labour pools, brain drain and wages (seed 2.6, 3.6.4).

Workers are not agents: each region has a labour force per skill level (a stock) with flows in
(graduates of its universities, other entrants) and out (retirement, emigration); employment is
the sum of firms' staff and unemployment the rest. Skilled emigration (brain drain) follows a
logistic hazard in the wage gap to abroad, skilled unemployment and the share of peers already
abroad (Borjas 1987; Docquier & Rapoport 2012): seed 3.6.4 warns that educating more without
jobs can intensify the drain. Part of the diaspora returns each year (Dustmann & Weiss 2007). Employed skilled workers emigrate too, at a lower hazard, and their
firms lose them. Wages follow regional productivity and labour-market tightness.

Firms hire the unemployed through a matching function per region and skill (Petrongolo &
Pissarides 2001) with labour pooling: vacancies fill faster in thick local labour markets, the
firm's sector in its region (Marshall 1890; Helsley & Strange 1990; Overman & Puga 2010; the
market-size elasticity of job finding of Moretti & Yi 2025), see :func:`match_vacancies`.
"""

from __future__ import annotations

import numpy as np

from cluster_abm.numerics.rounding import keyed_round, stochastic_round
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
    unemployment is below its initial level (and fall when above).

    Outside suppliers (:func:`cluster_abm.mechanisms.production.compete`) share the region's
    technology and the pass-through of its productivity growth, not its labour-market tightness:
    ``m.wage_drift`` (per region) accumulates the wage change beyond the pass-through, the region's
    wage cost over theirs, so a tight labour market raises the region's costs against them and
    loses it demand (the scale effect of labour demand; Hamermesh 1993). Wage growth falls with
    unemployment as in a wage curve (Blanchflower & Oswald 1994)."""
    ft, y = m.firms, m.p.yearly
    idx = ft.idx
    emp = ft.skilled[idx] + ft.unskilled[idx]
    R = m.world.n_regions
    prod = np.bincount(ft.region[idx], weights=ft.productivity[idx] * ft.quality[idx] * emp, minlength=R)
    prod /= np.maximum(np.bincount(ft.region[idx], weights=emp, minlength=R), 1.0)
    growth = np.where(m.last_productivity > 0, prod / np.maximum(m.last_productivity, 1e-9) - 1.0, 0.0)
    m.last_productivity = prod
    u = (m.unemployed_s() + m.unemployed_u()) / np.maximum(m.lf_s + m.lf_u, 1.0)
    common = 1.0 + y.production.wage_pass_through * growth
    cap = y.labour.max_wage_change
    factor = np.clip(common + y.labour.wage_tightness * (m.u0 - u), 1.0 - cap, 1.0 + cap)
    m.wage_s *= factor
    m.wage_u *= factor
    m.wage_drift *= factor / common
    m.foreign_wage *= 1.0 + y.labour.foreign_wage_growth


def pool_thickness(m, idx: np.ndarray) -> np.ndarray:
    """Thickness of each firm's local labour market: employment of its sector in its region over
    the region's employment, times the number of sectors (1 where employment is spread evenly
    over the sectors). Moretti & Yi (2025) define the market as a commuting zone x industry and
    identify its size effect within commuting zones, as this ratio does within regions."""
    ft, w = m.firms, m.world
    region = ft.region[idx]
    emp = (ft.skilled[idx] + ft.unskilled[idx]).astype(float)
    cell = ft.sector[idx] * w.n_regions + region
    by_cell = np.bincount(cell, weights=emp, minlength=w.n_sectors * w.n_regions)
    by_region = np.bincount(region, weights=emp, minlength=w.n_regions)
    share = np.divide(by_cell[cell], by_region[region], out=np.ones(len(idx)), where=by_region[region] > 0)
    return w.n_sectors * share


def match_vacancies(m, idx: np.ndarray, vacancies: np.ndarray, unemployed: np.ndarray, skill: str) -> np.ndarray:
    """Hires (persons, int64) of firms ``idx`` with ``vacancies`` (persons) of one skill from the
    regions' ``unemployed`` of that skill.

    A vacancy fills within the step with probability 1 - exp(-f / steps), at the yearly rate
    f = mu (U / V)^alpha x thickness^epsilon: the vacancy-filling rate of a Cobb-Douglas matching
    function M = mu U^alpha V^(1-alpha) in the region (Petrongolo & Pissarides 2001;
    ``labour.matching_rate``, ``labour.matching_elasticity``), raised in thick local labour
    markets (:func:`pool_thickness`) with the market-size elasticity of job finding
    (``labour.pooling_elasticity_skilled`` / ``_unskilled``: Moretti & Yi 2025, larger for
    college graduates; Di Addario 2011; Bleakley & Lin 2012). Labour pooling thus emerges from
    matching: firms of large clusters fill vacancies faster (Marshall 1890; Helsley & Strange
    1990; Overman & Puga 2010). Where expected hires exceed a region's unemployed they are scaled
    down to them: vacancies persist where the pool is short (seed 2.6). Expected hires are
    rounded with keyed draws (common random numbers), and hires beyond the pool after rounding
    are dropped in the order of those draws.
    """
    ft, p = m.firms, m.p
    R = m.world.n_regions
    region = ft.region[idx]
    pool = np.floor(np.maximum(unemployed, 0.0))
    V = np.bincount(region, weights=vacancies, minlength=R)
    tight = np.divide(pool, V, out=np.zeros(R), where=V > 0)
    lp = p.labour
    eps = lp.pooling_elasticity_skilled if skill == "skilled" else lp.pooling_elasticity_unskilled
    rate = lp.matching_rate * tight[region] ** lp.matching_elasticity * pool_thickness(m, idx) ** eps
    expected = vacancies * -np.expm1(-rate)
    total = np.bincount(region, weights=expected, minlength=R)
    scale = np.divide(pool, total, out=np.ones(R), where=total > pool)
    u = m.uniform("hire_" + skill, idx)
    hire = keyed_round(u, expected * scale[region])
    # Rounding may overshoot a pool by a few persons: drop hires in order of the draws.
    order = np.lexsort((u, region))
    h, reg = hire[order], region[order]
    cum = np.cumsum(h)
    start = np.searchsorted(reg, np.arange(R))
    before = cum - h - np.concatenate([[0], cum])[start][reg]
    hire[order] = np.clip(pool[reg] - before, 0, h).astype(np.int64)
    return hire
