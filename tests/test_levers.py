"""One test per lever (DESIGN 3), its costs, its conditions and the seed's cross-references.

Each lever of :data:`cluster_abm.policy.levers.LEVERS` is switched on alone (intensity 1, default
targets, everything else as in the baseline) and compared with the baseline over paired seeds
(common random numbers: the same seed builds the same world). The lever must move its direct,
mechanism-level outcome (``Lever.outcome``: a series of :data:`cluster_abm.outputs.metrics.SERIES`,
averaged over the horizon, or a KPI of :data:`cluster_abm.outputs.metrics.KPIS`) in the documented
direction, with the 95 % t-confidence interval of the paired difference excluding zero. The test
is parametrised over the catalogue, so a new lever gets a test and a lever without a measurable
outcome fails. Whether a lever helps jobs or innovation overall is deliberately not tested here.

Runs are cached for the module (a small summary per run, not the model), so the cost, condition
and cross-reference tests reuse the effect tests' runs.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import math
import re
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from scipy import stats

import cluster_abm
from cluster_abm.mechanisms import demography
from cluster_abm.mechanisms.finance import startup_loans
from cluster_abm.model import cluster_model as model_module
from cluster_abm.model.cluster_model import ClusterModel
from cluster_abm.outputs.metrics import KPIS, SERIES
from cluster_abm.params.registry import REGISTRY
from cluster_abm.policy.levers import BY_ID, LEVERS, LeverSetting
from cluster_abm.specs.scenario import load_scenario

SEEDS = tuple(range(7001, 7065))  # paired seeds; the first 8 are the default sample
TIE_SEEDS = SEEDS[:32]  # network contracts' ties: a small effect, 32 pairs
N_SEEDS = 8
YEARS = 4
# Levers whose first-order effect needs rare events to accumulate get more seeds and years:
# incubators act on a few hundred births per run (survival is a binomial share), green
# cooperation starts a few projects a step against ~20 eco-innovations a step, collective
# environmental projects cut emission intensity only through the eco-innovations they add,
# multi-annual funding only matters in the years a baseline budget would have been frozen,
# meta-cluster ties build up between a few clusters in three regions, and dedicated credit lines
# are measured on a mean over a few dozen contract members, where one large member joining in one
# run of a pair dominates (all 16 paired differences are positive).
POWER = {"incubators": (16, 8), "green_cooperation": (64, 8), "collective_env_projects": (16, 8),
         "green_skills": (16, YEARS),
         "multiannual_funding": (8, 8), "meta_clusters": (16, 8), "employment_incentives": (32, 8),
         "contract_credit_lines": (16, 4), "new_venture_finance": (16, 4)}
# Levers measured over more pairs or years (POWER) and levers whose direct effect is not distinguishable
# from zero (KNOWN_WEAK; green cooperation, below, was one until 2026-12-06): employment
# incentives act through wage costs since labour is an input; incubators' direct outcome is the
# partners their organised networking brings new ventures (survival, which matched evaluations find
# not raised by incubators, is compared with them in docs/policy_effects.md); meta-clusters lower
# the interaction cost between member clusters (policy.meta_cost_cut); contract credit lines are
# measured over 16 pairs (issue 21); new-venture finance too since innovation reads knowledge
# against the state of the art (2026-12-06: 8 pairs +0.023 ventures a step [-0.015, +0.062],
# 16 pairs +0.043 [+0.014, +0.072]: a few extra tickets a run); green skills too since the span of
# control (2026-12-07: 8 pairs +0.033 [-0.004, +0.069], 16 pairs +0.056 [+0.030, +0.082]).
KNOWN_WEAK: dict[str, str] = {
    "green_cooperation": (
        "too weak for 64 pairs of 2,000 built firms since money was re-anchored at policy year 0 "
        "and the refit that followed (2026-12-08): +0.076 eco-innovations a step, 95 % CI "
        "[-0.023, +0.175], against about 14 a step; its history below"),
}
# employment_incentives left KNOWN_WEAK on 2026-12-07: with the owner-managers' span of control a
# firm hires up to the size at which a person's marginal product pays the wage, so the subsidy's
# lower marginal wage raises the size firms plan (a scale effect): skilled employment +14.3
# [+10.2, +18.4] over 16 pairs x 8 years, against -6.7 [-11.9, -1.5] before (the extra skilled
# posts then raised the skilled wage and were filled from other firms). Measured over 32 pairs
# since the mirrored placement (2026-12-07), which gives each seed another world: the first 16
# pairs give +4.2 [-0.2, +8.6], all 32 +9.8 [+5.9, +13.7].
# green_cooperation was here on 2026-12-06 (16 pairs: +0.109 eco-innovations a step, 95 % CI
# [-0.025, +0.244] with about 830 model firms at year 0), left the same day, when the stationary
# labour force (graduates out of the entering cohort) resolved its effect, and is back since
# selection before entry and the fitted contract rate (about 650 model firms at year 0): 16 pairs,
# 8 years, +0.092 a step [-0.038, +0.222]; 12 years, +0.070 [-0.077, +0.217]. A few projects a
# step against about 20 eco-innovations: too weak for 2,000 built firms to resolve. It left again
# when spin-off founders were drawn per employee (about 710 model firms at year 0): 16 pairs, 8
# years, +0.158 a step [+0.035, +0.281]; a market that lost its firms keeping its demand put the
# interval across zero again (+0.150 [-0.002, +0.302]). An effect this near the 16-pair
# resolution flips with every change to the economy, so it is measured over 32 pairs (+0.135
# [+0.043, +0.227]); with the participation margin the first 32 pairs gave +0.046 [-0.025, +0.117]
# and the next 32 +0.155 [+0.072, +0.239] (2026-12-07): now 64 pairs.
# The tests examine mechanisms, so each lever gets a budget large enough for 2,000 model firms to
# resolve its effect: 150 M€ a year per lever and region (budgets are real euros; a realistic
# 1 M€ reaches a few real firms behind one model firm, a precision question for the real-units
# tests, not a mechanism's).
STRONG_BUDGET = 150_000.0
BASE = load_scenario("baseline").with_params({"policy.lever_budget": STRONG_BUDGET})


# --- cached runs ---------------------------------------------------------------------------------
@dataclass
class Run:
    """What the tests need from one finished run (models themselves are too big to cache)."""

    totals: dict[str, np.ndarray]  # series -> total column per step (step 0 first)
    by_region: dict[str, np.ndarray]  # a few series -> (steps + 1) x regions
    kpis: dict[str, float]
    spent: dict[str, np.ndarray]  # lever -> years x regions (k€)
    planned: dict[str, np.ndarray]  # lever -> years x regions: the year's own budget (k€)
    committed: dict[str, np.ndarray]  # lever -> years x regions: what it could spend (k€)
    lever_cost_total: dict[str, float]  # lever -> k€ over the run, from the per-step record
    extras: dict[str, float]
    spy: int


def _weighted_mean(values: np.ndarray, weights: np.ndarray) -> float:
    return float(np.average(values, weights=weights)) if weights.sum() > 0 else math.nan


def _extras(m: ClusterModel) -> dict[str, float]:
    """End-of-run measures the cross-reference tests compare."""
    ft = m.firms
    idx = ft.idx
    rev = ft.revenue[idx]
    # Credit line per k€ of revenue, over the region's depth of bank credit, of firms whose line
    # is set by their revenue (not floored by a start-up loan): comparable firms, since members
    # are mostly established firms of regions with a contract law.
    depth = m.credit_access[ft.region[idx]]
    ratio = np.divide(ft.credit_line[idx], rev * depth, out=np.full(len(idx), np.nan), where=rev > 0)
    share = ft.contract_share[idx]  # members' share of each model firm's real firms
    known = np.isfinite(ratio) & (startup_loans(m, idx) <= 0)
    ti = m.ties.idx
    ends = np.concatenate([m.ties.a[ti], m.ties.b[ti]])
    kind = np.concatenate([m.ties.kind[ti], m.ties.kind[ti]])
    cmo_member = ft.member[ends]
    return {
        "credit_ratio_members": _weighted_mean(ratio[known], share[known]),
        "credit_ratio_nonmembers": _weighted_mean(ratio[known], 1.0 - share[known]),
        "n_contract_members": float(share.sum()),
        "member_outward_share": float((kind[cmo_member] > 0).mean()) if cmo_member.any() else math.nan,
        "n_meta_clusters": float(m.n_meta_clusters),
    }


def summarise(m: ClusterModel) -> Run:
    wide = m.series_wide()
    totals = {k: v[:, -1].copy() for k, v in wide.items()}
    by_region = {k: wide[k][:, :-1].copy() for k in ("public_cost", "incubated")}
    lever_cost: dict[str, float] = {}
    for step_costs in m.lever_cost_history:
        for lid, v in step_costs.items():
            lever_cost[lid] = lever_cost.get(lid, 0.0) + float(v.sum())
    budget = m.policy.budget_table()
    R = m.world.n_regions

    def by_year(lid: str, column: str) -> np.ndarray:
        rows = budget[budget.lever == lid].sort_values(["year"], kind="stable")
        return rows[column].to_numpy().reshape(-1, R)

    return Run(totals, by_region, m.kpis(),
               {lid: m.policy.spent_by_year(lid) for lid in m.policy.settings},
               {lid: by_year(lid, "planned_keur") for lid in m.policy.settings},
               {lid: by_year(lid, "committed_keur") for lid in m.policy.settings},
               lever_cost, _extras(m), m.p.steps_per_year)


@functools.cache
def run(levers: tuple[tuple[str, LeverSetting], ...], seed: int, years: float,
        params: tuple[tuple[str, float], ...] = ()) -> Run:
    """One run of the baseline with ``levers`` on and ``params`` overridden, summarised."""
    scenario = BASE.with_levers(dict(levers))
    if params:
        scenario = scenario.with_params(dict(params))
    return summarise(ClusterModel(scenario, seed=seed).run(years))


def lever_on(lid: str, **setting) -> tuple[tuple[str, LeverSetting], ...]:
    return ((lid, LeverSetting(lid, **setting)),)


@pytest.fixture(scope="module")
def baseline():
    """``baseline(seed, years)`` -> the cached baseline run, shared by every test here."""
    return lambda seed, years: run((), seed, years)


def power(lid: str) -> tuple[tuple[int, ...], float]:
    n, years = POWER.get(lid, (N_SEEDS, YEARS))
    return SEEDS[:n], years


def measure(r: Run, outcome: str) -> float:
    """A series averaged over the run's steps (the initial state excluded), or a KPI."""
    if outcome in SERIES:
        return float(np.nanmean(r.totals[outcome][1:]))
    return float(r.kpis[outcome])


def t_interval(diffs, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and two-sided t-confidence interval of paired differences."""
    d = np.asarray(diffs, dtype=float)
    mean = float(d.mean())
    half = float(stats.t.ppf(0.5 + level / 2, len(d) - 1) * d.std(ddof=1) / math.sqrt(len(d)))
    return mean, mean - half, mean + half


def paired_effect(lid: str, outcome: str, baseline) -> tuple[float, float, float]:
    seeds, years = power(lid)
    diffs = []
    for seed in seeds:
        on, off = measure(run(lever_on(lid), seed, years), outcome), measure(baseline(seed, years), outcome)
        assert math.isfinite(on) and math.isfinite(off), f"{lid}: {outcome} is not finite (seed {seed})"
        diffs.append(on - off)
    return t_interval(diffs)


# --- 1. every lever moves its own outcome ---------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("lever", [
    pytest.param(lv, marks=pytest.mark.xfail(strict=True, reason=KNOWN_WEAK[lv.id]))
    if lv.id in KNOWN_WEAK else lv for lv in LEVERS], ids=[lv.id for lv in LEVERS])
def test_lever_moves_its_direct_outcome(lever, baseline):
    assert lever.outcome in SERIES or lever.outcome in KPIS, (
        f"{lever.id}: outcome {lever.outcome!r} is neither a series nor a KPI")
    assert lever.direction in ("+", "-")
    mean, lo, hi = paired_effect(lever.id, lever.outcome, baseline)
    shown = f"{lever.id} -> {lever.outcome}: paired difference {mean:+.4g}, 95 % CI [{lo:+.4g}, {hi:+.4g}]"
    if lever.direction == "+":
        assert lo > 0, shown
    else:
        assert hi < 0, shown


def test_paired_interval_can_fail():
    """The statistic used above rejects noise and a wrong sign (the test can fail)."""
    rng = np.random.default_rng(3)
    _, lo, hi = t_interval(rng.normal(0.0, 1.0, 8))
    assert lo < 0 < hi
    _, lo, hi = t_interval(rng.normal(-1.0, 0.1, 8))
    assert hi < 0
    _, lo, hi = t_interval([2.0] * 8)  # a deterministic effect (e.g. merged CMOs): CI = the value
    assert lo == hi == 2.0


# --- 2. conditions both ways ----------------------------------------------------------------------
def _identical(a: Run, b: Run) -> bool:
    return all(np.array_equal(a.totals[k], b.totals[k], equal_nan=True) for k in a.totals)


@pytest.mark.slow
def test_incubators_need_a_cluster_of_a_certain_size(baseline, monkeypatch):
    """Seed 3.1.4: incubators only in clusters of at least policy.incubator_min_cluster_enterprises
    real enterprises."""
    seed, years = SEEDS[0], 3
    too_big = (("policy.incubator_min_cluster_enterprises", 1_000_000),)
    off = run(lever_on("incubators"), seed, years, too_big)
    assert off.totals["incubated"].sum() == 0
    assert off.lever_cost_total.get("incubators", 0.0) == 0.0
    assert _identical(off, baseline(seed, years)), "an incubator nowhere must change nothing"

    # A threshold in the widest gap between the initial cluster sizes: only the clusters above it
    # get an incubator, and the effect appears there. Clusters grow and shrink during the run, so
    # eligibility is read when the incubators take ventures (each call of incubate_new).
    world = ClusterModel(BASE, seed=seed)
    sizes = np.sort(world.cluster_enterprises())
    gap = int(np.argmax(np.diff(sizes)))
    threshold = int((sizes[gap] + sizes[gap + 1]) // 2)
    eligible: set[int] = set()
    take = demography.incubate_new

    def recording(m, step, slots):
        eligible.update(np.flatnonzero(m.cluster_enterprises() >= threshold).tolist())
        take(m, step, slots)

    monkeypatch.setattr(demography, "incubate_new", recording)
    m = ClusterModel(BASE.with_levers(dict(lever_on("incubators"))).with_params(
        {"policy.incubator_min_cluster_enterprises": threshold}), seed=seed).run(years)
    log = m.log.frame()
    incubated = log[log["incubated"]]
    assert len(incubated) > 0 and m.policy.spent_by_year("incubators").sum() > 0
    assert 0 < len(eligible) < m.world.n_clusters
    assert set(incubated["cluster"].tolist()) <= eligible, (threshold, sizes)


@pytest.mark.slow
def test_meta_clusters_need_enough_regions(baseline):
    """Seed 3.5.3: a meta-cluster needs same-sector clusters in policy.meta_min_regions regions.

    Automotive clusters lie in Upper Austria, Western Slovenia and Central Transdanubia."""
    seed, years = SEEDS[0], 3
    two = lever_on("meta_clusters", regions=("upper_austria", "west_slovenia"))
    r2 = run(two, seed, years)
    assert r2.extras["n_meta_clusters"] == 0
    assert r2.lever_cost_total.get("meta_clusters", 0.0) == 0.0
    assert _identical(r2, baseline(seed, years)), "no meta-cluster must change nothing"

    three = lever_on("meta_clusters", regions=("upper_austria", "west_slovenia", "central_transdanubia"))
    r3 = run(three, seed, years)
    assert r3.extras["n_meta_clusters"] == 1
    assert r3.lever_cost_total["meta_clusters"] > 0
    # It links firms: a few ties in three years, so on one seed there may be none (seed 7001 since
    # spin-offs are drawn per employee; 7002-7004: 2-3 ties at most).
    ties = [run(three, s, years).totals["meta_cluster_ties"].max() for s in SEEDS[:3]]
    assert max(ties) > 0, ties

    # The threshold is a parameter: with two regions enough, two regions form one.
    r2b = run(two, seed, years, (("policy.meta_min_regions", 2),))
    assert r2b.extras["n_meta_clusters"] == 1


# --- 3. cross-references of the seed ---------------------------------------------------------------
@pytest.mark.slow
def test_network_contracts_improve_access_to_credit(baseline):
    """Seed 3.4.3: members' credit lines exceed comparable non-members' (per k€ of revenue), and
    dedicated credit lines raise them further (paired over seeds)."""
    seeds, years = SEEDS[:4], YEARS
    diffs = []
    for seed in seeds:
        nc = run(lever_on("network_contracts"), seed, years)
        assert nc.extras["n_contract_members"] > 0
        assert nc.extras["credit_ratio_members"] > nc.extras["credit_ratio_nonmembers"]
        both = run((("network_contracts", LeverSetting("network_contracts")),
                    ("contract_credit_lines", LeverSetting("contract_credit_lines"))), seed, years)
        diffs.append(both.extras["credit_ratio_members"] - nc.extras["credit_ratio_members"])
    _, lo, _ = t_interval(diffs)
    assert lo > 0, diffs


@pytest.mark.slow
def test_network_contracts_raise_cooperation_ties_not_only_memberships(baseline):
    """Seed 3.3.1: a network contract is a written programme of joint activities, so supporting
    contracts raises cooperation ties, not only memberships; members of a contract are tied to
    each other while it lasts. 32 paired seeds: since the founding hazard was fitted to Italy's
    registry the lever adds about 6 model firms' worth of members in 4 years. Its new ties
    (+0.21 a step [+0.03, +0.39] over 16 pairs, measured 2026-12-06) were not resolved by 10
    pairs ([-0.10, +0.37]); with the entering cohort of the region's skill mix (same day) 16
    pairs no longer resolve the ties (two pairs lose 6-7), 32 do: ties +3.2 [+1.5, +5.0], new
    ties +0.31 a step [+0.09, +0.53]."""
    seeds, years = TIE_SEEDS, YEARS
    lever = lever_on("network_contracts")
    for outcome in ("firms_in_contracts", "ties_total", "new_ties"):
        diffs = [measure(run(lever, s, years), outcome) - measure(baseline(s, years), outcome) for s in seeds]
        _, lo, _ = t_interval(diffs)
        assert lo > 0, (outcome, diffs)


@pytest.mark.slow
def test_entrepreneurial_cmos_raise_members_cross_cluster_ties(baseline):
    """Seed 3.3.4: entrepreneurial CMOs open their members' networks beyond the cluster."""
    seeds, years = power("entrepreneurial_cmos")
    diffs = [run(lever_on("entrepreneurial_cmos"), s, years).extras["member_outward_share"]
             - baseline(s, years).extras["member_outward_share"] for s in seeds]
    _, lo, _ = t_interval(diffs)
    assert lo > 0, diffs


@pytest.mark.slow
def test_codification_raises_absorptive_capacity_and_ki_cooperation(baseline):
    """Seed 3.6.2: knowledge-management systems raise codification, so absorptive capacity, so
    cooperation with knowledge institutions (more firms pass the projects' capacity threshold)."""
    seeds, years = SEEDS[:32], YEARS  # 32 seeds: the project effect is second-order (via the threshold)
    lever = lever_on("codification_support")
    for outcome in ("codification", "absorptive_capacity", "ki_projects_started"):
        diffs = [measure(run(lever, s, years), outcome) - measure(baseline(s, years), outcome) for s in seeds]
        _, lo, _ = t_interval(diffs)
        assert lo > 0, (outcome, diffs)


# --- 4. costs ---------------------------------------------------------------------------------------
def costless(lever) -> bool:
    return lever.cost.startswith("no extra cost")


@pytest.mark.slow
@pytest.mark.parametrize("lever", LEVERS, ids=[lv.id for lv in LEVERS])
def test_lever_costs_are_tracked_and_capped(lever, baseline):
    seeds, years = power(lever.id)
    for seed in seeds[:2]:
        off = baseline(seed, years)
        assert not off.spent and not off.lever_cost_total
        assert off.totals["public_cost"].sum() == 0
        r = run(lever_on(lever.id), seed, years)
        total = r.lever_cost_total.get(lever.id, 0.0)
        # The per-lever record and the public_cost series agree (one lever on).
        assert r.totals["public_cost"].sum() == pytest.approx(total, rel=1e-9, abs=1e-9)
        assert r.spent[lever.id].sum() == pytest.approx(total, rel=1e-9, abs=1e-9)
        if costless(lever):
            assert total == 0.0, f"{lever.id} is documented as costless but spent {total:.1f} k€"
        else:
            assert total > 0, f"{lever.id} is switched on but spent nothing"
        # Each year's own money is policy.lever_budget x intensity per targeted region; a year
        # may also spend what the two years before left (n+2), never more than it was given.
        planned, committed, spent = r.planned[lever.id], r.committed[lever.id], r.spent[lever.id]
        assert np.allclose(planned, STRONG_BUDGET * 1.0)
        over = spent - committed
        assert (over <= 1e-6).all(), f"{lever.id} overspent: {over.max():.2f} k€ in a year"
        assert (np.cumsum(spent, axis=0) <= np.cumsum(planned, axis=0) + 1e-6).all()


def test_budget_cap_follows_intensity_and_targets():
    """At intensity 0.5 in one region a lever spends only there, within half the budget."""
    lid = "cooperation_support"  # a lever that exhausts its budget
    r = run(lever_on(lid, intensity=0.5, regions=("veneto",)), SEEDS[0], 2)
    spent = r.spent[lid]
    cap = 0.5 * STRONG_BUDGET
    assert spent[:, 0].max() == pytest.approx(cap, rel=0.05)
    assert (spent[:, 0] <= cap + 1e-6).all()
    assert (spent[:, 1:] == 0).all()
    assert (r.by_region["public_cost"][:, 1:] == 0).all()


def test_every_lever_at_intensity_zero_is_off(baseline):
    """A lever at intensity 0 changes nothing and spends nothing: the run equals the baseline."""
    levers = tuple((lv.id, LeverSetting(lv.id, intensity=0.0)) for lv in LEVERS)
    r = run(levers, SEEDS[0], 2)
    assert sum(r.lever_cost_total.values()) == 0.0
    assert _identical(r, baseline(SEEDS[0], 2))


# --- 5. wiring ----------------------------------------------------------------------------------------
def resolve(path: str):
    """The object a catalogue ``mechanism`` path names (relative to the package), and its module."""
    parts = path.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            module = importlib.import_module("cluster_abm." + ".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        obj = module
        for name in parts[cut:]:
            obj = getattr(obj, name)
        return obj, module
    raise LookupError(path)


def _package_sources() -> dict[str, str]:
    """Model code: everything but the catalogue and registry themselves (which name every lever
    and parameter) and the layers above the model."""
    root = Path(cluster_abm.__file__).parent
    skip = {"ui", "analysis", "cli", "experiments", "reports", "levers.py", "registry.py"}
    return {str(p.relative_to(root)): p.read_text() for p in root.rglob("*.py")
            if not skip & set(p.relative_to(root).parts)}


@pytest.mark.parametrize("lever", LEVERS, ids=[lv.id for lv in LEVERS])
def test_lever_is_wired_to_its_mechanism(lever):
    obj, module = resolve(lever.mechanism)
    assert callable(obj), lever.mechanism
    assert obj.__doc__, f"{lever.mechanism} has no docstring citing its seed section"
    # The code path: the mechanism's module and every module that names the lever.
    sources = _package_sources()
    named = re.compile(rf"\b{lever.id}\b")
    path_sources = [inspect.getsource(module)] + [s for s in sources.values() if named.search(s)]
    assert any(f'"{lever.id}"' in s for s in path_sources), f"no code reads lever {lever.id}"
    for name in lever.params:
        key = REGISTRY[name].key
        assert any(re.search(rf"\b{key}\b", s) for s in path_sources), (
            f"{lever.id}: parameter {name} is read neither by {lever.mechanism} nor where the lever is read")


class _Recorder(SimpleNamespace):
    """A parameter group that remembers which parameters were read."""

    def __init__(self, group: str, ns: SimpleNamespace, seen: set):
        super().__init__(**vars(ns))
        object.__setattr__(self, "_group", group)
        object.__setattr__(self, "_seen", seen)

    def __getattribute__(self, name):
        if not name.startswith("_"):
            object.__getattribute__(self, "_seen").add(f"{object.__getattribute__(self, '_group')}.{name}")
        return object.__getattribute__(self, name)


def test_every_lever_parameter_is_read_when_its_lever_runs(monkeypatch):
    """All levers on for a year: each parameter a lever declares is actually read by the model
    (from the build on: some, like policy.meta_min_regions, are read once when it is built)."""
    seen: set[str] = set()
    real = model_module.per_step

    def recording(values):
        p = real(values)
        for ns in (p, p.yearly):
            for group in REGISTRY.groups():
                setattr(ns, group, _Recorder(group, getattr(ns, group), seen))
        return p

    monkeypatch.setattr(model_module, "per_step", recording)
    # No spin-up cache: the recording parameters are no model state a snapshot could hold.
    # An incubator place for a model entrant (hundreds of real ventures) is drawn by lottery when
    # the budget covers part of it, so a run may incubate none: up to three seeds, 8 years each.
    for seed in SEEDS[:3]:
        ClusterModel(load_scenario("full_strategy"), seed=seed, spinup_cache=None).run(8)
        missing = sorted({p for lv in LEVERS for p in lv.params} - seen)
        if not missing:
            break
    assert not missing, f"declared by levers but never read: {missing}"


def test_catalogue_is_complete_and_consistent():
    ids = [lv.id for lv in LEVERS]
    assert len(ids) == len(set(ids)) == len(BY_ID)
    wgs = {lv.wg for lv in LEVERS}
    assert wgs == {"WG1", "WG2", "WG3", "WG4", "WG5", "WG6"}
    for lv in LEVERS:
        assert re.match(r"^\d\.\d\.\d", lv.seed), lv.id
        assert lv.outcome in SERIES or lv.outcome in KPIS, lv.id
        assert lv.params and lv.cost and lv.summary, lv.id


# --- 6. timing -----------------------------------------------------------------------------------------
def test_lever_starting_in_year_3_changes_nothing_before_it_and_costs_nothing_before_it():
    """A lever that starts in policy year 3 leaves years 0-2 identical to the bit to the baseline
    (paired seeds) and spends nothing before year 3; from year 3 on it acts and spends."""
    from cluster_abm.specs.scenario import load_scenario

    base = load_scenario("baseline")
    late = base.with_levers({"cooperation_support": LeverSetting("cooperation_support", start_year=3)})
    seed, spy = SEEDS[0], REGISTRY["sim.steps_per_year"].default
    a = ClusterModel(base, seed=seed).run(5)
    b = ClusterModel(late, seed=seed).run(5)
    wa, wb = a.series_wide(), b.series_wide()
    before = 3 * spy + 1  # steps 0 .. 3 * spy: up to the end of year 2
    for name in wa:
        assert np.array_equal(wa[name][:before], wb[name][:before], equal_nan=True), name
    costs = b.lever_costs()
    assert costs.empty or costs["step"].min() >= 3 * spy
    assert costs["cost"].sum() > 0
    assert not np.array_equal(wa["new_ties"], wb["new_ties"])


def test_lever_ending_stops_its_spending():
    from cluster_abm.specs.scenario import load_scenario

    sc = load_scenario("baseline").with_levers(
        {"cooperation_support": LeverSetting("cooperation_support", start_year=1, end_year=3)})
    m = ClusterModel(sc, seed=SEEDS[0]).run(5)
    spy = m.p.steps_per_year
    steps = m.lever_costs()["step"]
    # Row k of the record is the k-th step (row 0: the state at year 0): years 1-2 are rows 5-12.
    assert steps.min() >= spy + 1 and steps.max() <= 3 * spy
    by_year = m.policy.spent_by_year("cooperation_support").sum(axis=1)
    assert by_year[0] == 0 and by_year[1] > 0 and by_year[2] > 0 and (by_year[3:] == 0).all()
