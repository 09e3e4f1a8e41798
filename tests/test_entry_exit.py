"""Entry, exit and the built world's sizes (issue 21, items 3-5): heterogeneous entrants, start-up
capital from the founder and the finance available, passive learning, and firm sizes that do not
swing between seeds. Each test fails without its mechanism."""

from __future__ import annotations

import numpy as np
import pytest

from cluster_abm.analysis.validation.facts import exit_hazard
from cluster_abm.analysis.validation.targets import observe
from cluster_abm.mechanisms import demography, technology
from cluster_abm.model.cluster_model import ClusterModel
from cluster_abm.model.step_state import StepState
from cluster_abm.specs.scenario import load_scenario

BUILT = {"sim.spinup_years": 0}  # the built world: margins near their calibrated level


def _entrants(model: ClusterModel, steps: int) -> list[dict]:
    """Step ``model`` and record every entrant at birth beside its market's incumbents."""
    ft, R = model.firms, model.world.n_regions
    rows = []
    for _ in range(steps):
        model.step()
        idx = ft.idx
        new = idx[ft.birth_step[idx] == model.t - 1]
        old = idx[ft.birth_step[idx] < model.t - 1]
        market = ft.sector[old] * R + ft.region[old]
        M = model.world.n_sectors * R
        count = np.bincount(market, minlength=M)
        mean = np.bincount(market, weights=np.log(ft.productivity[old]), minlength=M) / np.maximum(count, 1)
        dev_old = np.log(ft.productivity[old]) - mean[market]
        m_new = ft.sector[new] * R + ft.region[new]
        ok = count[m_new] > 0
        rows.append({"gap": (np.log(ft.productivity[new]) - mean[m_new])[ok],
                     "origin": ft.origin[new][ok], "incumbent_dev": dev_old,
                     "capital": ft.cash[new] + getattr(ft, "startup_credit", np.zeros(ft.n))[new],
                     "region": ft.region[new]})
    return rows


def test_entrants_are_below_their_markets_incumbents_and_more_dispersed():
    """Entrants' productivity lies below the incumbents of their market on average (Foster,
    Haltiwanger & Krizan 2001), de novo entrants spread more widely than incumbents do
    (Jovanovic 1982; Syverson 2011). Four seeds: since the refit of 2026-12-07 fewer founders from
    the unemployed register their ventures (17 de novo entrants in 8 years over two seeds)."""
    gaps, dn, inc = [], [], []
    for seed in (1, 2, 3, 4):
        for r in _entrants(ClusterModel("baseline", seed=seed, params=BUILT), 8):
            gaps.append(r["gap"])
            dn.append(r["gap"][r["origin"] == 3])
            inc.append(r["incumbent_dev"])
    gaps, dn, inc = np.concatenate(gaps), np.concatenate(dn), np.concatenate(inc)
    assert len(gaps) > 100 and len(dn) > 30
    assert gaps.mean() < -0.05, gaps.mean()
    assert dn.std() > 1.2 * inc.std(), (dn.std(), inc.std())


def test_spinoffs_inherit_their_parents_productivity():
    """Klepper (2007): a spin-off starts from its parent's routines, not from its market's mean:
    one large, unusually productive parent's spin-offs sit around its productivity."""
    m = ClusterModel("baseline", seed=3, params={**BUILT, "sim.n_firms": 300,
                                                 "demography.spinoff_rate": 0.2, "demography.denovo_rate": 0.0})
    ft = m.firms
    idx = ft.idx
    # In the region furthest from the world's frontier, so that an unusually productive parent is
    # still far enough inside it that its spin-offs' draws are not capped at it
    # (mechanisms.technology.within_frontier).
    level = np.log(ft.productivity[idx])
    means = np.bincount(ft.region[idx], weights=level) / np.bincount(ft.region[idx])
    home = idx[ft.region[idx] == np.argmin(means)]
    parent = home[0]
    ft.skilled[idx], ft.unskilled[idx] = 0, 1  # nobody else can spawn (a founder needs a colleague)
    ft.skilled[parent], ft.unskilled[parent] = 40, 160
    ft.productivity[parent] = 2.0 * np.exp(np.log(ft.productivity[home]).mean())
    assert ft.productivity[parent] < technology.productivity_frontier(m, np.array([parent]))[0] * np.exp(-0.6)
    step = StepState(t=m.t)
    step.degree = np.zeros(ft.n, dtype=np.int64)
    children = []
    for _ in range(12):
        before = set(ft.idx.tolist())
        demography.create_firms(m, step)
        children += [s for s in ft.idx.tolist() if s not in before]
        m.t += 1
    d = m.p.demography
    log_gap = np.log(ft.productivity[children] / ft.productivity[parent])
    assert len(children) >= 5
    assert abs(log_gap.mean() - d.entrant_productivity_gap) < 3 * d.spinoff_productivity_sd / np.sqrt(len(children)) + 0.02
    assert 0.0 < log_gap.std() < 2 * d.spinoff_productivity_sd


def test_startup_capital_rises_with_the_finance_available(tmp_path):
    """Evans & Jovanovic (1989): founders can borrow in proportion to their wealth, more where
    bank credit is deeper (the region's private credit); skilled founders bring more savings."""
    lines = ['extends = "baseline"']
    for rid in ("veneto", "upper_austria", "west_slovenia", "central_transdanubia",
                "north_east_romania", "south_central_bulgaria"):
        lines += [f"[regions_patch.{rid}]", "private_credit = {level}"]
    capital = {}
    for level in (20.0, 150.0):
        f = tmp_path / f"credit_{int(level)}.toml"
        f.write_text("\n".join(lines).format(level=level) + "\n")
        rows = _entrants(ClusterModel(str(f), seed=4, params=BUILT), 6)
        capital[level] = np.concatenate([r["capital"] for r in rows])
    # The same seed gives the same founders (common random numbers): only the loans differ.
    assert capital[150.0].mean() > 1.2 * capital[20.0].mean(), {k: v.mean() for k, v in capital.items()}


def test_skilled_founders_bring_more_capital():
    m = ClusterModel("baseline", seed=5, params=BUILT)
    ft = m.firms
    skilled, unskilled = [], []
    for _ in range(6):
        m.step()
        idx = ft.idx
        new = idx[ft.birth_step[idx] == m.t - 1]
        # A founder alone (no hire): skilled firm <=> skilled founder.
        alone = new[ft.employees[new] == 1]
        skilled.append((ft.cash[alone] / m.wage_u[ft.region[alone]])[ft.skilled[alone] == 1])
        unskilled.append((ft.cash[alone] / m.wage_u[ft.region[alone]])[ft.skilled[alone] == 0])
    s, u = np.concatenate(skilled), np.concatenate(unskilled)
    assert len(s) > 10 and len(u) > 10
    assert np.median(s) > np.median(u), (np.median(s), np.median(u))


def test_owners_learn_faster_when_young():
    """Passive learning (Jovanovic 1982): the same poor results make a young firm's owner quit
    within about a year, while an old firm's owner, with a long record, holds on for longer.
    The prior is set to the outside wage (1): the test is about how fast evidence revises it, and
    the calibrated prior (about 1.9) only delays every quit."""
    m = ClusterModel("baseline", seed=6, params={**BUILT, "sim.n_firms": 60,
                                                  "demography.founder_expectation": 1.0})
    ft = m.firms
    idx = ft.idx
    half = len(idx) // 2
    young, old = idx[:half], idx[half:]
    ft.birth_step[young] = m.t - 1
    ft.birth_step[old] = m.t - 20 * m.p.steps_per_year
    ft.belief[idx] = m.p.demography.founder_expectation
    step = StepState(t=m.t)
    step.owner_earnings = np.full(ft.n, 0.2)  # a fifth of the outside wage, every step
    quit_at = np.full(ft.n, np.inf)
    for k in range(40):
        out = demography.learn_viability(m, step, idx)
        quit_at[idx[out & np.isinf(quit_at[idx])]] = k
        m.t += 1
    spy = m.p.steps_per_year
    assert np.all(quit_at[young] <= spy), quit_at[young]
    assert np.all(quit_at[old] > 2 * spy), quit_at[old]


def test_firms_hire_only_what_they_can_finance():
    """Financing constraint on hiring (Evans & Jovanovic 1989; Cooley & Quadrini 2001): a hire
    needs demography.working_capital years of its wage in cash or unused credit, in whole
    persons; a firm whose credit is drawn does not hire."""
    from cluster_abm.mechanisms import finance

    m = ClusterModel("baseline", seed=7, params={**BUILT, "sim.n_firms": 60})
    ft, p = m.firms, m.p
    idx = ft.idx
    rich, broke, two = idx[0::3], idx[1::3], idx[2::3]
    ft.skilled[idx], ft.unskilled[idx] = 0, 3
    ft.credit_line[idx] = 10.0
    ft.cash[rich] = 1e6
    ft.cash[broke] = -10.0  # the whole line drawn
    per_hire = p.demography.working_capital * m.wage_u[ft.region[two]]
    ft.cash[two] = 2.5 * per_hire - 10.0  # liquidity for two and a half hires
    want_s, want_u = finance.financed_labour(m, idx, np.zeros(len(idx)), np.full(len(idx), 8.0))
    pos = {s: i for i, s in enumerate(idx)}
    at = lambda slots: np.array([pos[s] for s in slots])  # noqa: E731
    np.testing.assert_allclose(want_u[at(rich)], 8.0)  # all five hires financed
    np.testing.assert_allclose(want_u[at(broke)], 3.0)  # none
    np.testing.assert_allclose(want_u[at(two)], 5.0)  # two whole persons
    np.testing.assert_allclose(want_s, 0.0)
    # Fewer wanted than employed: nothing to finance, the wish stands (shedding is production's).
    _, want_u = finance.financed_labour(m, idx, np.zeros(len(idx)), np.full(len(idx), 1.0))
    np.testing.assert_allclose(want_u, 1.0)


def test_owners_liquidate_when_the_equity_is_gone_for_good():
    """Forward-looking exit (Dixit 1989; Hopenhayn 1992): an owner whose firm has negative equity
    and whose expected earnings will not restore it within demography.recovery_horizon closes
    before the bank calls the loan (a voluntary exit, not an insolvency); the same overdraft
    with good prospects, or the same prospects with cash in hand, do not close the firm."""
    m = ClusterModel("baseline", seed=7, params={**BUILT, "sim.n_firms": 60,
                                                  "demography.closure_rate": 0.0})
    ft = m.firms
    idx = ft.idx
    gone, hopeful, solvent = idx[0::3], idx[1::3], idx[2::3]
    region = ft.region
    wage = np.where(ft.skilled > 0, m.wage_s[region], m.wage_u[region])  # each owner's outside wage
    ft.credit_line[idx] = 1e6  # nobody is insolvent
    ft.cash[gone], ft.cash[hopeful] = -0.2 * wage[gone], -0.2 * wage[hopeful]
    ft.cash[solvent] = 0.2 * wage[solvent]
    ft.belief[gone] = ft.belief[solvent] = 0.8  # owner earns 0.8 of the wage: the firm keeps nothing
    ft.belief[hopeful] = 1.5  # half a wage a year beyond the owner's pay: the overdraft is repaid
    out = demography.liquidate(m, idx)
    assert out[np.isin(idx, gone)].all()
    assert not out[np.isin(idx, hopeful)].any() and not out[np.isin(idx, solvent)].any()
    step = StepState(t=m.t)
    step.degree = np.zeros(ft.n, dtype=np.int64)
    step.owner_earnings = np.full(ft.n, np.nan)
    step.owner_earnings[idx] = ft.belief[idx]  # results as expected: beliefs stay
    m.ledger.reset()
    demography.remove_firms(m, step)
    assert not ft.alive[gone].any() and ft.alive[hopeful].all() and ft.alive[solvent].all()


def test_hazard_is_highest_in_the_first_years():
    """Liability of newness from mechanisms (Stinchcombe 1965; Jovanovic 1982): over 15 policy
    years after the spin-up, new firms exit most often in their first year and less with age.
    (A strict expected failure until the age at exit was measured right: exits come before
    births within a step, so an exit one year of steps after the birth step is in year 0.) It
    was measured on the built world's first 15 years until the entering cohort took the region's
    skill mix (2026-12-06): that window is the built world's consolidation (2,000 model firms to
    about 640), in which the hazard then peaked in the second year (seeds 1-3: 21.9 % in the
    first, 24.4 % in the second, 17.4 % over years 3-5), while after the spin-up it peaks in the
    first (docs/validation.md)."""
    deaths = expo = 0.0
    for seed in (1, 2, 3):
        obs = observe(load_scenario("baseline"), seed, 15)
        d, e = exit_hazard(obs)
        deaths, expo = deaths + d, expo + e
    h = deaths / expo
    assert h[0] > 1.3 * h[2:5].mean(), h[:11]
    assert h[0:2].mean() > 1.5 * h[5:11].mean(), h[:11]


def test_built_regions_have_the_same_sizes_whatever_the_seed():
    """Each region's firms are the quantiles of the size law (issue 21, item 5): which firm gets
    which size is random, the region's size distribution and employment are not."""
    a = ClusterModel("baseline", seed=1, params=BUILT)
    b = ClusterModel("baseline", seed=2, params=BUILT)
    for r in range(a.world.n_regions):
        sa = np.sort(a.firms.employees[a.firms.idx][a.firms.region[a.firms.idx] == r])
        sb = np.sort(b.firms.employees[b.firms.idx][b.firms.region[b.firms.idx] == r])
        np.testing.assert_array_equal(sa, sb)
    assert not np.array_equal(a.firms.employees[a.firms.idx], b.firms.employees[b.firms.idx])
    emp = a.firms.employees[a.firms.idx]
    assert 0.90 <= (emp < 10).mean() <= 0.96  # still about 93 % micro firms (EU SBA)


@pytest.mark.slow
def test_employment_varies_little_between_seeds(baseline_run):
    """Luck no longer outweighs policy: employment at year 20 varies by a few per cent over seeds
    (a CV of about 14 % with independent size draws, seeds 1-10)."""
    emp = np.array([baseline_run(seed, 20).kpis()["employment_final"] for seed in range(1, 7)])
    assert emp.std(ddof=1) / emp.mean() < 0.06, emp


def test_insolvent_deaths_are_a_part_of_all_deaths():
    """The ``deaths_insolvent`` series counts the exits on insolvency among all exits (the
    cause the validation's liability-of-newness discussion reads)."""
    w = ClusterModel("baseline", seed=2, params={"sim.spinup_years": 5}).run(3).series_wide()
    insolvent, deaths = w["deaths_insolvent"][1:], w["deaths"][1:]
    assert (insolvent <= deaths).all()
    assert 0 < insolvent[:, -1].sum() < deaths[:, -1].sum()


def _candidates(m: ClusterModel, skilled, unskilled) -> dict:
    """Candidate ventures in region 0 with no R&D, as ``create_firms`` hands them over."""
    n = len(skilled)
    return {"region": np.zeros(n, dtype=np.int64), "skilled": np.asarray(skilled),
            "unskilled": np.asarray(unskilled), "rd_intensity": np.zeros(n)}


def test_founders_register_only_plans_that_pay_the_owner():
    """Pre-entry selection (Jovanovic 1982; Hopenhayn 1992; Reynolds 2004): a venture is founded
    when its planned first-year revenue, less the hires' wages and the fixed overhead, leaves the
    owner at least finance.owner_min_pay of the outside wage, the bar at which a running firm's
    owner quits; a hire raises the revenue the plan needs by the hire's wage."""
    m = ClusterModel("baseline", seed=3, params={**BUILT, "sim.n_firms": 60})
    p = m.p
    ws, wu = m.wage_s[0], m.wage_u[0]
    fixed = p.yearly.production.fixed_cost * wu
    need_alone = p.finance.owner_min_pay * ws + fixed  # a skilled founder alone
    c = _candidates(m, [1, 1, 1, 1], [0, 0, 1, 1])
    plan = np.array([0.99 * need_alone, 1.01 * need_alone, 1.01 * need_alone, 1.01 * (need_alone + wu)])
    np.testing.assert_array_equal(demography.plan_venture(m, c, plan), [False, True, False, True])
    # An unskilled founder's bar is the unskilled wage.
    c = _candidates(m, [0, 0], [1, 1])
    need_u = p.finance.owner_min_pay * wu + fixed
    np.testing.assert_array_equal(demography.plan_venture(m, c, np.array([0.99, 1.01]) * need_u), [False, True])


def test_abandoned_ventures_leave_no_trace():
    """When no plan pays (first-year demand far below capacity, foreseen exactly), nobody founds:
    spin-off founders stay with their parents, which keep their cash, and the attempts are
    counted as abandoned ventures, not as births."""
    m = ClusterModel("baseline", seed=4, params={**BUILT, "demography.entry_demand_mean": -2.0,
                                                  "demography.entry_demand_sd": 0.0,
                                                  "demography.plan_error_sd": 0.0,
                                                  "demography.spinoff_rate": 0.2})
    ft = m.firms
    before = (len(ft.idx), ft.employees[ft.idx].sum(), ft.cash[ft.idx].copy())
    m.ledger.reset()
    step = StepState(t=m.t)
    step.degree = np.zeros(ft.n, dtype=np.int64)
    demography.create_firms(m, step)
    assert m.ledger.get("ventures_abandoned").sum() > 20
    assert m.ledger.get("births").sum() == 0
    assert len(ft.idx) == before[0] and ft.employees[ft.idx].sum() == before[1]
    np.testing.assert_array_equal(ft.cash[ft.idx], before[2])


def test_foresight_at_entry_raises_first_year_survival():
    """The better founders foresee their first-year demand, the fewer doomed ventures are
    registered: 1-year survival is higher with exact plans than with plans that are mostly
    noise (paired seeds, built world, 10 years)."""
    from cluster_abm.analysis.validation.targets import load_targets, measure

    target = load_targets()["survival_1y.EU"]
    surv = {}
    for sd in (0.0, 3.0):
        scen = load_scenario("baseline").with_params({**BUILT, "demography.plan_error_sd": sd})
        surv[sd] = np.array([measure(observe(scen, seed, 10), target.measure, target.scope, 0)
                             for seed in (1, 2, 3)])
    assert (surv[0.0] - surv[3.0]).mean() > 0.03, surv


def test_each_employee_may_leave_to_found_so_a_large_firm_spawns_in_proportion_to_its_staff():
    """Spin-off founders are binomial in a firm's staff (per-employee hazard
    ``demography.spinoff_rate``): a firm of 900 persons averages 900 x the per-step hazard
    founders a step (2.3 at the shipped rate). Drawing at most one founder per firm and step
    gave at most 1, so regions dominated by a few large firms lost most of their spin-offs."""
    m = ClusterModel("baseline", seed=7, params=BUILT)
    ft = m.firms
    big = ft.idx[:1]
    ft.skilled[big], ft.unskilled[big] = 500, 400
    per_employee = -np.expm1(-m.p.demography.spinoff_rate)
    counts = []
    for t in range(300):
        m.t = t
        parents, ordinal = demography.spinoff_founders(m, big)
        counts.append(len(parents))
        assert (ordinal == np.arange(len(parents))).all()
    assert np.mean(counts) == pytest.approx(900 * per_employee, rel=0.1)
    assert max(counts) > 1


def test_founders_leave_as_persons_their_parents_have():
    """Founders of one parent are drawn from its staff without replacement: a parent with one
    skilled person among three loses exactly one skilled founder if all three leave, and the
    skilled share of founders is the parent's."""
    rng = np.random.default_rng(0)
    for _ in range(200):
        out = demography.founders_skilled(np.array([1, 1, 1]), np.array([3, 3, 3]),
                                          np.array([0, 1, 2]), rng.random(3))
        assert out.sum() == 1
    n = 50_000
    out = demography.founders_skilled(np.tile([4, 4], n), np.tile([10, 10], n),
                                      np.tile([0, 1], n), rng.random(2 * n)).reshape(n, 2)
    np.testing.assert_allclose(out.mean(axis=0), [0.4, 0.4], atol=0.01)
    assert (out.sum(axis=1) == 2).mean() == pytest.approx(4 / 10 * 3 / 9, abs=0.01)


def test_staff_never_goes_negative_when_many_founders_leave():
    """At the registry's highest spin-off hazard, five years from the built world: parents that
    lose several founders in one step keep non-negative staff of both skills."""
    m = ClusterModel("baseline", seed=3, params={**BUILT, "demography.spinoff_rate": 0.2})
    ft = m.firms
    for _ in range(20):
        m.step()
        assert ft.skilled[ft.idx].min() >= 0 and ft.unskilled[ft.idx].min() >= 0
