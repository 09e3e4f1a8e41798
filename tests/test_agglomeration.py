"""Location effects (cluster_abm/mechanisms/agglomeration.py) and the innovation routes
(cluster_abm/mechanisms/innovation.py): where a firm sits on the grid changes its innovation
hazard and its effective productivity (capacity, competitiveness, demand against outside
suppliers); formal R&D needs an indivisible minimum budget; the cluster premia are
measured, never set."""

from __future__ import annotations

import math

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from cluster_abm.analysis.validation import facts as F  # noqa: E402
from cluster_abm.mechanisms import agglomeration, innovation, production  # noqa: E402
from cluster_abm.model.cluster_model import ClusterModel  # noqa: E402
from cluster_abm.model.step_state import StepState  # noqa: E402


@pytest.fixture(scope="module")
def model():
    m = ClusterModel("baseline", seed=7, params={"sim.spinup_years": 0})
    m.run(1)
    return m


def _fresh_state(m) -> StepState:
    s = StepState(t=m.t)
    s.novelty = m.step_state.novelty
    agglomeration.local_pools(m, s)
    return s


def test_smoothing_equals_the_pairwise_sum_within_region_blocks(model):
    """The separable kernel on the grid gives what a plain all-pairs sum over firms gives."""
    m = model
    w = m.world
    rng = np.random.default_rng(0)
    n = 300
    x = rng.integers(0, w.width, n)
    y = rng.integers(0, w.height, n)
    val = rng.random(n)
    L = 1.7
    got = agglomeration.smooth(w, x, y, val, agglomeration.decay_kernel(w.side, L))[0][x, y]
    block = (x // w.side) * 1000 + y // w.side
    d = np.abs(x[:, None] - x[None, :]) + np.abs(y[:, None] - y[None, :])
    weight = np.exp(-d / L) * (block[:, None] == block[None, :])
    np.testing.assert_allclose(got, weight @ val, rtol=1e-10)


def _core_firm(m):
    """A firm of the densest cluster, the one nearest its centre, and a cell of its region far
    from every cluster centre."""
    ft, w = m.firms, m.world
    idx = ft.idx
    cl = ft.cluster[idx]
    c = int(np.bincount(cl[cl >= 0]).argmax())
    members = idx[cl == c]
    cx, cy = w.clusters[c].centre
    firm = members[np.argmin(np.abs(ft.x[members] - cx) + np.abs(ft.y[members] - cy))]
    reg = w.regions[w.clusters[c].region]
    ox, oy = reg.origin
    corners = [(ox, oy), (ox + reg.side - 1, oy), (ox, oy + reg.side - 1),
               (ox + reg.side - 1, oy + reg.side - 1)]
    far = max(corners, key=lambda xy: min(abs(xy[0] - k.centre[0]) + abs(xy[1] - k.centre[1])
                                          for k in w.clusters if k.region == reg.index))
    return firm, far


def test_moving_a_firm_out_of_its_cluster_lowers_its_hazard_and_its_productivity(model):
    """Location matters: the same firm, moved from its cluster's core to the emptiest corner of
    its region, absorbs less local knowledge (lower innovation hazard) and shares fewer
    suppliers: its effective productivity, hence its output capacity with the same staff and
    its competitiveness, fall, and it needs more people for the same demand (Duranton & Puga
    2004; Rosenthal & Strange 2004). Nothing else about it changes."""
    m = model
    ft = m.firms
    firm, (fx, fy) = _core_firm(m)
    one = np.array([firm])

    def measure():
        s = _fresh_state(m)
        return (innovation.innovation_rate(m, s, one)[0], s.sharing_gain[firm],
                production.capacity(m, s, one)[0], production.competitiveness(m, s, one)[0],
                s.knowledge_pool[firm], s.local_industry[firm])

    rate_in, gain_in, cap_in, fit_in, pool_in, industry_in = measure()
    x0, y0 = ft.x[firm], ft.y[firm]
    try:
        ft.x[firm], ft.y[firm] = fx, fy
        rate_out, gain_out, cap_out, fit_out, pool_out, industry_out = measure()
    finally:
        ft.x[firm], ft.y[firm] = x0, y0
    assert pool_out < 0.5 * pool_in and industry_out < 0.5 * industry_in
    assert rate_out < rate_in
    e = m.p.agglomeration.sharing_elasticity
    expected = ((1.0 + industry_out) / (1.0 + industry_in)) ** e
    assert gain_out < gain_in
    assert cap_out / cap_in == pytest.approx(expected, rel=0.02)  # the reference moves a little
    assert fit_out / fit_in == pytest.approx(expected, rel=0.02)
    # The effect is the declared elasticity at work: with both set to 0, location is irrelevant.
    flat = ClusterModel("baseline", seed=7, params={"sim.spinup_years": 0,
                                                    "agglomeration.spillover_elasticity": 0.0,
                                                    "agglomeration.sharing_elasticity": 0.0})
    s = _fresh_state_for(flat)
    assert np.all(agglomeration.spillover_factor(flat, s, flat.firms.idx) == 1.0)
    assert np.all(s.sharing_gain == 1.0)


def test_sharing_gain_is_relative_to_the_typical_job_of_the_economy(model):
    """The gain compares a firm's local industry with the employment-weighted geometric mean
    (the outside suppliers' location): its employment-weighted mean log is 0, firms in dense
    local industries gain, isolated ones lose; dead slots carry 1."""
    m = model
    ft = m.firms
    idx = ft.idx
    s = _fresh_state(m)
    g = s.sharing_gain
    emp = ft.employees[idx].astype(float)
    assert (emp @ np.log(g[idx])) / emp.sum() == pytest.approx(0.0, abs=1e-12)
    dense = s.local_industry[idx] > np.quantile(s.local_industry[idx], 0.9)
    sparse = s.local_industry[idx] < np.quantile(s.local_industry[idx], 0.1)
    assert (g[idx][dense] > 1).all() and (g[idx][sparse] < 1).all()
    dead = np.setdiff1d(np.arange(ft.n), idx)
    assert (g[dead] == 1.0).all()


def test_cluster_spread_sets_how_close_cluster_firms_sit(model):
    """init.cluster_spread is the standard deviation of a cluster firm's cell around its centre,
    in region sides: placed firms scatter by it (mirrored at the region's edge), and a cluster
    spread thin leaves its firms less local industry to share."""
    w = model.world
    side = w.side
    c = w.clusters[0]
    rng = np.random.default_rng(1)
    n = 20_000
    region = np.full(n, c.region)
    sds = []
    for spread in (0.06, 0.125, 0.25):
        w.cluster_spread = spread
        try:
            x, _ = w.place(region, np.zeros(n, dtype=np.int64), rng)
        finally:
            w.cluster_spread = model.p.init.cluster_spread
        sds.append(np.std(x.astype(float) - c.centre[0]))
    # Rounded to cells: sd^2 + 1/12; far from the region's edges at the smallest spread.
    assert sds[0] == pytest.approx(np.sqrt((0.06 * side) ** 2 + 1 / 12), rel=0.05)
    assert sds[0] < sds[1] < sds[2]

    def local_industry_of_cluster_firms(spread):
        m = ClusterModel("baseline", seed=7, params={"sim.spinup_years": 0,
                                                     "init.cluster_spread": spread})
        s = _fresh_state_for(m)
        inside = m.firms.cluster[m.firms.idx] >= 0
        return np.median(s.local_industry[m.firms.idx][inside])

    assert local_industry_of_cluster_firms(0.5) < 0.5 * local_industry_of_cluster_firms(0.125)


def test_firms_placed_beyond_the_border_are_mirrored_back_not_piled_on_it(model):
    """A cluster firm whose draw falls outside its region lands on the mirror cell inside, so the
    border cells hold about as many firms as their neighbours (clipping piled the whole tail on
    them: at a spread of a quarter side, about 30 % of a cluster's firms)."""
    w = model.world
    side = w.side
    c = w.clusters[0]
    ox, oy = w.regions[c.region].origin
    n = 40_000
    w.cluster_spread = 0.25
    try:
        x, y = w.place(np.full(n, c.region), np.zeros(n, dtype=np.int64), np.random.default_rng(3))
    finally:
        w.cluster_spread = model.p.init.cluster_spread
    assert (x >= ox).all() and (x < ox + side).all() and (y >= oy).all() and (y < oy + side).all()
    for coord, origin, centre in ((x, ox, c.centre[0]), (y, oy, c.centre[1])):
        counts = np.bincount(coord.astype(np.int64) - origin, minlength=side)
        # The border nearest the centre, against the cell next to it.
        border, inner = (0, 1) if centre - origin < side / 2 else (side - 1, side - 2)
        assert counts[border] < 1.3 * counts[inner]


def _compete(m):
    """Phase 3 up to the markets, on a fresh step state: the demand each firm faces."""
    s = StepState(t=m.t)
    m.step_in_year = m.t % m.p.steps_per_year
    m.policy.begin_step(s)
    m._observe_firms(s)
    agglomeration.local_pools(m, s)
    production.wage_subsidy(m, s)
    production.compete(m, s)
    return s


@pytest.mark.parametrize("elasticity", [0.05, 0.0])
def test_a_market_whose_firms_crowd_together_wins_demand_from_outside_suppliers(elasticity):
    """Paired seeds: the firms of one (sector, region) market are moved onto one cell. Outside
    suppliers share their technology but not their location (Armington 1969; Delgado, Porter &
    Stern 2014), so the market's demand for the model's firms rises with their shared-inputs
    gain, by (share-weighted mean cost wedge)^-demand_elasticity; at elasticity 0 location is
    irrelevant and the market's demand is unchanged."""
    params = {"sim.spinup_years": 0, "sim.n_firms": 600, "agglomeration.sharing_elasticity": elasticity}
    runs = [ClusterModel("baseline", seed=11, params=params) for _ in range(2)]
    ft0 = runs[0].firms
    idx = ft0.idx
    R = runs[0].world.n_regions
    market = ft0.sector[idx] * R + ft0.region[idx]
    outside = ft0.cluster[idx] < 0
    counts = np.bincount(market[outside], minlength=runs[0].world.n_sectors * R)
    target = int(counts.argmax())  # the largest market of firms outside clusters
    members = idx[market == target]
    assert len(members) >= 5
    moved = runs[1].firms
    moved.x[members], moved.y[members] = moved.x[members[0]], moved.y[members[0]]
    states = [_compete(m) for m in runs]
    home = [(m.firms.demand[members] - m.firms.revenue_exp[members]).sum() for m in runs]
    if elasticity == 0.0:
        assert home[1] == pytest.approx(home[0], rel=1e-12)
        return
    assert (states[1].local_industry[members] > states[0].local_industry[members]).all()
    assert (states[1].sharing_gain[members] > states[0].sharing_gain[members]).all()
    assert home[1] > home[0]
    # By the Armington factor: the market's (reached-share-weighted) mean gain.
    eta = runs[0].p.production.demand_elasticity
    ratio = home[1] / home[0]
    g0, g1 = states[0].sharing_gain[members], states[1].sharing_gain[members]
    lo, hi = (g1 / g0).min() ** eta, (g1 / g0).max() ** eta
    assert lo * (1 - 1e-9) <= ratio <= hi * (1 + 1e-9)


def _fresh_state_for(m) -> StepState:
    s = StepState(t=m.t)
    agglomeration.local_pools(m, s)
    return s


def test_pools_leave_out_the_firm_itself_and_other_regions(model):
    """Own knowledge is not part of a firm's pool, and nothing crosses a region's block: a
    pool is at most what the rest of the region holds (kernel weights are at most 1)."""
    m = model
    ft = m.firms
    idx = ft.idx
    s = _fresh_state(m)
    assert (s.knowledge_pool[idx] >= 0).all() and (s.local_industry[idx] >= 0).all()
    reg = ft.region[idx]
    total_k = np.bincount(reg, weights=ft.knowledge[idx].sum(axis=1), minlength=m.world.n_regions)
    ki_k = np.zeros(m.world.n_regions)
    for ki, k in zip(m.kis, m.ki_knowledge.sum(axis=1), strict=True):
        ki_k[ki.region] += k
    own = ft.knowledge[idx].sum(axis=1)
    assert (s.knowledge_pool[idx] <= total_k[reg] + ki_k[reg] - own + 1e-6).all()


def test_formal_rd_needs_a_budget_for_one_researcher(model):
    """R&D is indivisible (Cohen & Klepper 1996): a budget below one researcher's wage funds no
    formal R&D; at and above it the hazard jumps and then rises with the number of projects."""
    m = model
    ft = m.firms
    firm = ft.idx[0]
    one = np.array([firm])
    s = _fresh_state(m)
    wage = m.wage_s[ft.region[firm]] * m.p.innovation.rd_min_team
    saved = ft.rd_intensity[firm], ft.grant_rd[firm], ft.revenue[firm]
    rates, projects = [], []
    try:
        ft.rd_intensity[firm] = 0.0
        for budget in (0.0, 0.99 * wage, 1.0 * wage, 4.0 * wage):
            ft.grant_rd[firm] = budget
            projects.append(innovation.rd_projects(m, one)[0])
            rates.append(innovation.innovation_rate(m, s, one)[0])
    finally:
        ft.rd_intensity[firm], ft.grant_rd[firm], ft.revenue[firm] = saved
    assert projects[0] == 0 and projects[1] == 0 and projects[2] == pytest.approx(1.0)
    assert rates[0] == rates[1] < rates[2] < rates[3]
    # Above the threshold the formal part rises with projects^rd_elasticity (Griliches 1990).
    assert (rates[3] - rates[0]) / (rates[2] - rates[0]) == pytest.approx(
        4 ** m.p.innovation.rd_elasticity)


def test_bigger_firms_of_the_same_intensity_innovate_more(model):
    """The size gradient emerges from the threshold and the scale of R&D, with no size term in
    the hazard: the same firm with a larger revenue (same R&D intensity) has a higher hazard
    once its budget crosses one researcher's wage, and the same hazard below."""
    m = model
    ft = m.firms
    firm = ft.idx[0]
    one = np.array([firm])
    s = _fresh_state(m)
    wage = m.wage_s[ft.region[firm]] * m.p.innovation.rd_min_team
    saved = ft.rd_intensity[firm], ft.grant_rd[firm], ft.revenue[firm]
    try:
        ft.rd_intensity[firm], ft.grant_rd[firm] = 0.01, 0.0
        out = []
        for rev in (0.2 * wage / 0.01, 0.5 * wage / 0.01, 2 * wage / 0.01, 20 * wage / 0.01):
            ft.revenue[firm] = rev
            out.append(innovation.innovation_rate(m, s, one)[0])
    finally:
        ft.rd_intensity[firm], ft.grant_rd[firm], ft.revenue[firm] = saved
    assert out[0] == out[1] < out[2] < out[3]


def _obs(cluster, death, birth=None, t_end=80, spy=4):
    import dataclasses

    from cluster_abm.analysis.validation.targets import Observation

    n = len(cluster)
    birth = np.zeros(n, int) + 20 if birth is None else np.asarray(birth)
    yearly = {f.name: np.zeros((1, 1)) for f in dataclasses.fields(Observation)
              if f.name not in ("region_ids", "countries", "stages", "steps_per_year", "t_end",
                                "extra") and not f.name.startswith("log_")}
    return Observation(("r",), ("IT",), ("mature",), spy, t_end, **yearly,
                       log_uid=np.arange(n), log_region=np.zeros(n, int),
                       log_cluster=np.asarray(cluster), log_birth=birth,
                       log_death=np.asarray(death), log_size_birth=np.ones(n, int))


def _cohort_run(dead_in: int, dead_out: int) -> dict:
    """One seed's log: 100 firms born in clusters, 100 outside, at step 20 (year 5); the first
    ``dead_in`` and ``dead_out`` of each die at step 30 (year 7.5)."""
    cl = np.r_[np.zeros(100, int), -np.ones(100, int)]
    death = np.full(200, -1)
    death[:dead_in] = 30
    death[100:100 + dead_out] = 30
    return {"obs": _obs(cl, death)}


def test_cluster_survival_fact_reads_the_odds_ratio(tmp_path):
    from cluster_abm.analysis.validation.targets import load_targets

    targets = load_targets()
    premium = F.cluster_survival_fact([_cohort_run(30, 35)], targets, 5, tmp_path, plt)  # OR 1.26
    none = F.cluster_survival_fact([_cohort_run(30, 30)], targets, 5, tmp_path, plt)
    huge = F.cluster_survival_fact([_cohort_run(10, 50)], targets, 5, tmp_path, plt)
    assert premium.passed and not none.passed and not huge.passed
    assert "1.26" in premium.model and "1.26" in premium.published  # ISTAT: 64.7 vs 59.2 %


def test_survival_premium_interval_resamples_whole_seeds(tmp_path):
    """The interval holds the point estimate, is reproducible, collapses when every seed tells
    the same, and is wide when seeds disagree; the fact reports it."""
    from cluster_abm.analysis.validation.targets import load_targets

    def strata(runs):
        return [F.cluster_survival_strata(r["obs"], 5, 5) for r in runs]

    same = [_cohort_run(30, 35)] * 6
    lo, hi = F.seed_bootstrap_interval(strata(same))
    assert lo == pytest.approx(hi) == pytest.approx(F.mantel_haenszel_odds_ratio(strata(same)[0]))
    mixed = [_cohort_run(*deaths) for deaths in
             ((30, 35), (20, 45), (40, 30), (30, 33), (25, 40), (35, 30))]
    st = strata(mixed)
    point = F.mantel_haenszel_odds_ratio(np.concatenate(st))
    lo, hi = F.seed_bootstrap_interval(st)
    assert lo < point < hi and hi - lo > 0.3
    assert F.seed_bootstrap_interval(st) == (lo, hi)
    assert all(math.isnan(v) for v in F.seed_bootstrap_interval(st[:1]))
    fact = F.cluster_survival_fact(mixed, load_targets(), 5, tmp_path, plt)
    assert f"{lo:.2f}-{hi:.2f}" in fact.model


def test_cluster_growth_fact_needs_a_clear_positive_premium(tmp_path):
    rng = np.random.default_rng(3)

    def run(shift):
        inside = np.arange(2000) % 2 == 0
        g = rng.laplace(0, 0.1, 2000) + shift * inside
        return {"growth": g, "growth_base": np.full(2000, 20.0), "growth_cluster": inside}

    assert F.cluster_growth_fact([run(0.02) for _ in range(10)], tmp_path, plt).passed
    assert not F.cluster_growth_fact([run(0.0) for _ in range(10)], tmp_path, plt).passed
    assert not F.cluster_growth_fact([run(-0.02) for _ in range(10)], tmp_path, plt).passed
    assert not math.isnan(F._odds_ratio(0.6, 0.5))
