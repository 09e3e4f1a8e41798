"""Core model: determinism, invariants, plausibility of the baseline, the notebook API."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cluster_abm import run_scenario
from cluster_abm.agents import ClusterOrganisation, Firm, Funder, KnowledgeInstitution
from cluster_abm.model.cluster_model import ClusterModel
from cluster_abm.params.registry import REGISTRY, convert, per_step


def test_same_seed_same_numbers():
    a = ClusterModel("baseline", seed=11).run(3)
    b = ClusterModel("baseline", seed=11).run(3)
    wa, wb = a.series_wide(), b.series_wide()
    for k in wa:
        np.testing.assert_array_equal(wa[k], wb[k], err_msg=k)
    assert a.kpis() == pytest.approx(b.kpis(), nan_ok=True)


def test_different_seeds_differ():
    a = ClusterModel("baseline", seed=1).run(2).series_wide()
    b = ClusterModel("baseline", seed=2).run(2).series_wide()
    assert not np.array_equal(a["employment"], b["employment"])
    assert not np.array_equal(a["innovations"], b["innovations"])


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_invariants_every_step(seed):
    m = ClusterModel("baseline", seed=seed)
    initial = len(m.firms)
    births = deaths = 0
    for _ in range(5 * m.p.steps_per_year):
        m.step()
        ft = m.firms
        idx = ft.idx
        last = m.history[-1]
        # Employment equals the sum of firms' employees (total and by region).
        assert last["employment"][-1] == ft.employees[idx].sum()
        by_region = np.bincount(ft.region[idx], weights=ft.employees[idx], minlength=m.world.n_regions)
        np.testing.assert_array_equal(last["employment"][:-1], by_region)
        # Labour pools never negative; staff never negative.
        assert (m.unemployed_s() >= 0).all() and (m.unemployed_u() >= 0).all()
        assert (ft.skilled[idx] >= 0).all() and (ft.unskilled[idx] >= 0).all()
        assert (ft.employees[idx] >= 1).all(), "every living firm keeps its entrepreneur"
        # No funder spends more than its budget.
        for f in m.funders:
            assert f.spent <= f.budget + 1e-6, f
        # Agent counts: initial + births - deaths, and one Firm agent per living firm.
        births += last["births"][-1]
        deaths += last["deaths"][-1]
        assert len(ft) == initial + births - deaths
        assert len(m.agents_by_type[Firm]) == len(ft)
        # Ties connect living firms only.
        ti = m.ties.idx
        assert ft.alive[m.ties.a[ti]].all() and ft.alive[m.ties.b[ti]].all()
        # A firm's cluster lies in its region (World.distance_class counts on it).
        inside = idx[ft.cluster[idx] >= 0]
        assert (m.world.cluster_region[ft.cluster[inside]] == ft.region[inside]).all()


def test_agent_types_present_and_views_consistent(baseline_run):
    m = baseline_run(1, 1)
    types = m.agents_by_type
    assert len(types[ClusterOrganisation]) == len(m.cmos) > 0
    assert len(types[KnowledgeInstitution]) == len(m.kis) > 0
    kinds = {f.kind for f in types[Funder]}
    assert kinds == {"regional", "eu", "venture", "bank"}
    firm = next(iter(types[Firm]))
    assert firm.employees == m.firms.employees[firm.slot]
    assert firm.unique_id == m.firms.uid[firm.slot]
    assert firm.region in [r.id for r in m.world.regions]
    # Early-stage regions have clusters without a CMO (seed 2.1); mature ones do not.
    no_cmo = [c for c in m.world.clusters if not c.has_cmo]
    assert no_cmo and all(m.world.regions[c.region].stage == "early" for c in no_cmo)


def test_a_finished_model_is_freed_and_ids_stay_per_model():
    """Mesa 3.3 keeps every model alive through a class-level id counter (mesa#3179): a process
    running replications one after another would grow by a model per run. Ours count per model
    as Mesa does (1, 2, ... over all agent types) but hold the model weakly."""
    import gc
    import weakref

    built = {"sim.n_firms": 60, "sim.spinup_years": 0}  # as built: every agent still alive
    first = ClusterModel("baseline", seed=1, params=built)
    ids = sorted(a.unique_id for a in first.agents)
    assert ids == list(range(1, len(ids) + 1))  # one counter for all four agent types
    second = ClusterModel("baseline", seed=1, params=built)
    assert sorted(a.unique_id for a in second.agents) == ids  # each model counts from 1
    second.run(1)
    ref = weakref.ref(second)
    del second
    gc.collect()
    assert ref() is None, "a finished model is still referenced: memory grows with every run"


def test_rates_are_declared_per_year_and_converted_once():
    p4, p12 = per_step({}), per_step({"sim.steps_per_year": 12})
    # A yearly fraction compounds back to itself.
    r = REGISTRY["coop.tie_decay"].default
    assert (1 - p4.coop.tie_decay) ** 4 == pytest.approx(1 - r)
    assert (1 - p12.coop.tie_decay) ** 12 == pytest.approx(1 - r)
    # Hazards and amounts divide; volatilities scale with sqrt.
    assert p4.innovation.base_rate * 4 == pytest.approx(REGISTRY["innovation.base_rate"].default)
    assert p4.market.share_volatility * 2 == pytest.approx(REGISTRY["market.share_volatility"].default)
    assert convert(REGISTRY["coop.candidates"], 4, 4) == 4


def test_every_param_has_unit_bounds_and_doc():
    for p in REGISTRY:
        assert p.doc and p.unit, p.name
        if not p.is_bool:
            assert p.low is not None and p.high is not None and p.low <= p.default <= p.high, p.name


@pytest.mark.slow
def test_baseline_plausibility_over_ten_seeds(baseline_run):
    """Published bands (cluster_abm/data/see_targets.csv): birth and death rates 3-15 %,
    1-year survival 70-95 %, right-skewed sizes (the SMEs' share of employment: below)."""
    rows = []
    for seed in range(10):
        m = baseline_run(seed, 20)
        k = m.kpis()
        emp = m.firms.employees[m.firms.idx]
        rows.append({**k, "mean_size": emp.mean(), "median_size": np.median(emp)})
    df = pd.DataFrame(rows).mean()
    assert 0.03 <= df["birth_rate"] <= 0.15
    assert 0.03 <= df["death_rate"] <= 0.15
    assert df["mean_size"] > df["median_size"]


@pytest.mark.slow
def test_smes_hold_50_to_90_percent_of_employment_over_ten_seeds(baseline_run):
    """The published band of the SME share of employment (cluster_abm/data/see_targets.csv).

    At its edge: 0.894 over these ten seeds with R&D knowledge at the state of the art and its
    refit (2026-12-07, late night; 0.939 before it, then a strict expected failure), while
    validation fact 13 (80 seeds, years 6-20) reads 93.1 % with 17 of 80 seeds inside the band:
    large firms are still too few (EU 66.6 %)."""
    share = np.mean([baseline_run(seed, 20).kpis()["sme_employment_share_final"] for seed in range(10)])
    assert 0.50 <= share <= 0.90, share


@pytest.mark.slow
def test_one_year_survival_of_new_firms_is_in_the_published_band(baseline_run):
    """1-year survival 70-95 % (EU 82 %, AT 83.7 %, IT 76 %, HU 95 %: cluster_abm/data/see_targets.csv).
    Entrants below their market's incumbents, thin start-up capital and owners who learn from
    their first results that the firm does not pay (mechanisms/demography.py) bring it into the
    band; after the spin-up it sits near the top (about 93 %), see the issue-21 report."""
    survival = np.mean([baseline_run(seed, 20).kpis()["survival_1y"] for seed in range(10)])
    assert 0.70 <= survival <= 0.95


@pytest.mark.slow
def test_liability_of_newness_emerges(baseline_run):
    """Young firms exit more often than established ones, from the mechanisms (small size, thin
    cash, few partners), not from an exit table by age."""
    young_exits = young_exposure = old_exits = old_exposure = 0.0
    for seed in range(5):
        m = baseline_run(seed, 20)
        log = m.log.frame()
        spy = m.p.steps_per_year
        end = m.t
        death = np.where(log["death_step"] >= 0, log["death_step"], end)
        start = np.maximum(log["birth_step"], 0)
        for lo, hi, bucket in ((0, 2, "young"), (5, 100, "old")):
            a0 = np.maximum(start, log["birth_step"] + lo * spy)
            a1 = np.minimum(death, log["birth_step"] + hi * spy)
            exposure = np.clip(a1 - a0, 0, None).sum() / spy
            died = ((log["death_step"] >= 0) & (death >= log["birth_step"] + lo * spy)
                    & (death < log["birth_step"] + hi * spy)).sum()
            if bucket == "young":
                young_exits += died
                young_exposure += exposure
            else:
                old_exits += died
                old_exposure += exposure
    young_hazard, old_hazard = young_exits / young_exposure, old_exits / old_exposure
    assert young_hazard > 1.2 * old_hazard, (young_hazard, old_hazard)


def test_notebook_api_returns_tidy_frames():
    res = run_scenario("baseline", seed=3, years=1, firm_data=True)
    assert list(res.timeseries.columns) == ["step", "year", "region", "metric", "value"]
    assert set(res.timeseries["region"]) >= {"ALL", "veneto"}
    assert res.series("employment").index[-1] == 1.0
    assert {"employment_final", "survival_3y"} <= set(res.kpis)
    assert len(res.firms) > 500 and {"uid", "employees", "region"} <= set(res.firms.columns)
    at_start = res.series("firms").iloc[0]  # policy year 0: the end of the spin-up
    assert (res.firm_log["birth_step"] < 0).sum() == at_start > 500


def test_regions_subset_and_patch(tmp_path):
    f = tmp_path / "one.toml"
    f.write_text('extends = "baseline"\n[simulation]\nregions = ["north_east_romania"]\nn_firms = 300\n'
                 'spinup_years = 0\n[regions_patch.north_east_romania]\ncmo_competence = 0.9\n')
    m = ClusterModel(str(f), seed=1)
    assert [r.id for r in m.world.regions] == ["north_east_romania"]
    assert len(m.firms) == 300
    assert all(c.competence == 0.9 for c in m.cmos)
    m.run(1)


def test_real_region_units_scale_counts_by_the_enterprises_a_model_firm_stands_for():
    """At policy year 0 the living model firms stand for exactly the regions' published
    enterprises; counts in real units add up each firm's weight (its region and size class)."""
    m = ClusterModel("baseline", seed=5)
    wide = m.series_wide()
    enterprises = m.world.region_field("enterprises")
    assert wide["firms_real"][0, :-1] == pytest.approx(enterprises)
    assert wide["firms_real"][0, -1] == pytest.approx(enterprises.sum())
    m.run(1)
    wide = m.series_wide()
    idx = m.firms.idx
    emp = m.firms.employees[idx]
    weighted = np.bincount(m.firms.region[idx], weights=m.firm_weight(idx) * emp, minlength=m.world.n_regions)
    assert wide["employment_real"][-1, :-1] == pytest.approx(weighted * m.employment_scale)
    assert wide["employment_real"][-1, -1] == pytest.approx(wide["employment_real"][-1, :-1].sum())
    k = m.kpis()
    assert k["employment_final_real"] > 100 * k["employment_final"]


def test_a_region_without_enterprises_stays_in_model_units(tmp_path):
    f = tmp_path / "unknown.toml"
    f.write_text('extends = "baseline"\n[simulation]\nregions = ["north_east_romania"]\nn_firms = 200\n'
                 'spinup_years = 0\n[regions_patch.north_east_romania]\nenterprises = 0\nenterprises_micro = 0\n'
                 'enterprises_small = 0\nenterprises_medium = 0\nenterprises_large = 0\n')
    m = ClusterModel(str(f), seed=1)
    assert np.isnan(m.region_weight).all() and np.isnan(m.series_wide()["employment_real"][0]).all()


def test_a_diverging_economy_stops_with_a_one_line_error():
    """A state that overflows stops the run with ModelDiverged (an InputError naming the
    quantity and the step) instead of letting NaN reach every output."""
    from cluster_abm.errors import InputError, ModelDiverged

    m = ClusterModel("baseline", seed=3, params={"sim.spinup_years": 0})
    m.step()
    m.firms.productivity[m.firms.idx[0]] = np.inf
    with pytest.raises(ModelDiverged) as err:
        m.step()
    assert isinstance(err.value, InputError)
    msg = str(err.value)
    assert "params" in msg and "diverged in policy year 0.25 (step 1)" in msg and "\n" not in msg
    assert "productivity" in msg
