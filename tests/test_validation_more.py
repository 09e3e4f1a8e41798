"""The facts issue 21 added to `cluster-abm validate`, each on small synthetic inputs: a wrong
formula or a band read the wrong way fails here."""

from __future__ import annotations

import dataclasses
import math

import matplotlib
import numpy as np
import pytest
from scipy import stats

matplotlib.use("Agg")

from cluster_abm.analysis.validation import facts as F  # noqa: E402
from cluster_abm.analysis.validation import facts_regions as FR  # noqa: E402
from cluster_abm.analysis.validation import facts_runs as FU  # noqa: E402
from cluster_abm.analysis.validation import published_effects as P  # noqa: E402
from cluster_abm.analysis.validation.targets import Observation, load_targets  # noqa: E402


def _jobs(emp_young, emp, jc_young, jc):
    return {"jobs": {"employment_young": emp_young, "employment": emp,
                     "created_young": jc_young, "created": jc}}


def test_young_fact_bands_both_shares():
    ok = F.young_fact([_jobs(20, 100, 50, 100), _jobs(18, 100, 45, 100)])
    assert ok.passed and "19.0 %" in ok.model and "47.5 %" in ok.model
    # the model's current gap: young firms hold 6 % of jobs and create 32 %
    assert not F.young_fact([_jobs(6, 100, 32, 100)]).passed
    # employment right but job creation far from half
    assert not F.young_fact([_jobs(20, 100, 80, 100)]).passed
    assert F.young_shares([_jobs(1, 4, 3, 4)]) == ([0.25], [0.75])


def test_young_fact_reads_the_real_region_when_it_has_it():
    """With real-region job counts (model firms weighted by the real persons they stand for) the
    verdict is on those; the model firms' own shares are shown beside them."""
    run = {**_jobs(6, 100, 32, 100),
           "jobs_real": {"employment_young": 2.0e5, "employment": 1.0e6,
                         "created_young": 5.5e4, "created": 1.0e5}}
    fact = F.young_fact([run])
    assert fact.passed and "real region: employment 20.0 %" in fact.model
    assert "model firms: employment 6.0 %" in fact.model
    run["jobs_real"]["employment_young"] = 0.5e5
    assert not F.young_fact([run]).passed


def test_real_persons_weigh_small_firms_more():
    """Validation's real-region weights: a model person of a small firm stands for more real
    persons than one of a large firm (small model firms stand for more real enterprises)."""
    from cluster_abm.analysis.validation.validate import real_persons_of
    from cluster_abm.model.cluster_model import ClusterModel

    m = ClusterModel("baseline", seed=1, params={"sim.spinup_years": 0, "sim.n_firms": 400})
    f = real_persons_of(m)(np.array([0, 0]), np.array([2, 300]))
    assert f[0] > f[1] > 0


def _pareto(alpha, n, seed):
    rng = np.random.default_rng(seed)
    return np.floor((1 - rng.random(n)) ** (-1 / alpha)).astype(int)


def test_tail_fact_passes_zipf_and_fails_a_heavy_or_thin_tail():
    zipf = [{"sizes_final": _pareto(1.06, 40_000, s)} for s in range(3)]
    assert F.tail_fact(zipf).passed
    for alpha in (0.75, 1.6):
        runs = [{"sizes_final": _pareto(alpha, 40_000, s)} for s in range(3)]
        fact = F.tail_fact(runs)
        assert not fact.passed and f"{alpha:.2f}"[:3] in fact.model


def _innov_runs(shares: dict[str, float], n=1000):
    """One run whose 10+ firms innovate at ``shares`` per country (all in class 10-49)."""
    countries = tuple(shares)
    by_c = [[(0, 0), (n, int(round(shares[c] * n))), (0, 0), (0, 0)] for c in countries]
    return [{"countries": countries, "innov_by_country_class": by_c}]


def test_innovation_country_fact_checks_levels_and_ranking():
    targets = load_targets()
    pub = {c: v[1] for c, v in F.innovation_10plus_by_country(
        _innov_runs(dict.fromkeys(("IT", "AT", "SI", "HU", "RO", "BG"), 0.5)), targets).items()}
    assert pub["IT"] == pytest.approx(0.632) and pub["RO"] == pytest.approx(0.088)
    assert FR.innovation_country_fact(_innov_runs({c: v - 0.05 for c, v in pub.items()}),
                                      targets).passed
    # one country 20 points off: fails on levels
    off = {c: v for c, v in pub.items()}
    off["IT"] -= 0.20
    fact = FR.innovation_country_fact(_innov_runs(off), targets)
    assert not fact.passed and "largest gap IT -20.0" in fact.model
    assert FR.spearman([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert math.isnan(FR.spearman([1, 2], [1, 2]))


def test_innovation_country_fact_fails_a_reversed_ranking(monkeypatch):
    # every level within 15 points of the published one, but the ranking reversed
    reversed_ = {"A": (0.40, 0.30), "B": (0.35, 0.40), "C": (0.30, 0.45)}
    monkeypatch.setattr(FR, "innovation_10plus_by_country", lambda runs, targets: reversed_)
    fact = FR.innovation_country_fact([], {})
    assert not fact.passed and "3 of 3 countries within 15 points" in fact.model
    assert "rho -1.00" in fact.model


def _stage_obs(birth: dict[str, float], innov: dict[str, float], dia: dict[str, float],
               years=4) -> Observation:
    countries = tuple(birth)
    R = len(countries)
    fields = {f.name: np.zeros((years, R)) for f in dataclasses.fields(Observation)
              if f.name not in ("region_ids", "countries", "stages", "steps_per_year", "t_end",
                                "extra") and not f.name.startswith("log_")}
    fields["firms_start"][:] = 100.0
    fields["births"][:] = [100 * birth[c] for c in countries]
    fields["deaths"][:] = [100 * birth[c] for c in countries]  # death rate = birth rate
    fields["firms_10plus"][:] = 100.0
    fields["innovative_10plus"][:] = [100 * innov[c] for c in countries]
    fields["diaspora"][:] = [dia[c] * 1000 for c in countries]
    fields["skilled_labour_force"][:] = [(1 - dia[c]) * 1000 for c in countries]
    stages = tuple("early" if c in ("RO", "BG") else "mature" for c in countries)
    z = np.zeros(0, np.int64)
    return Observation(tuple(c.lower() for c in countries), countries, stages, 4, 4 * years,
                       **fields, log_uid=z, log_region=z, log_cluster=z, log_birth=z,
                       log_death=z, log_size_birth=z)


def test_stage_ratios_of_model_and_data():
    targets = load_targets()
    birth = FR.STAGE_RATIOS[0]
    e, m, r = FR.data_stage_ratio(targets, birth)
    assert e == pytest.approx(0.10) and m == pytest.approx((0.065 + 0.054) / 2)
    assert r == pytest.approx(0.10 / 0.0595)
    emig = FR.STAGE_RATIOS[3]
    assert FR.data_stage_ratio(targets, emig)[2] == pytest.approx((0.197 + 0.125) / 2 / 0.038)
    obs = _stage_obs({"IT": 0.06, "AT": 0.04, "RO": 0.5, "BG": 0.10},
                     {"IT": 0.6, "AT": 0.6, "RO": 0.1, "BG": 0.2},
                     {"IT": 0.03, "AT": 0.02, "RO": 0.2, "BG": 0.12})
    ratio, per_seed = FR.model_stage_ratio([obs, obs], birth, 0)
    assert ratio == pytest.approx(0.10 / 0.05)  # BG only (as the data): RO's 0.5 is left out
    assert per_seed == pytest.approx([2.0, 2.0])
    innov_ratio, _ = FR.model_stage_ratio([obs], FR.STAGE_RATIOS[2], 0)
    assert innov_ratio == pytest.approx(0.15 / 0.6)


def test_ratio_agrees_direction_and_factor():
    assert FR.ratio_agrees(2.0, 1.7) and FR.ratio_agrees(1.2, 1.7)
    assert not FR.ratio_agrees(1.1, 1.7)  # below 1.7 / 1.5
    assert not FR.ratio_agrees(0.9, 1.2)  # wrong side of 1, though within the factor
    assert not FR.ratio_agrees(3.0, 1.7)
    assert FR.ratio_agrees(30.0, 4.2, lower_bound=True)
    assert not FR.ratio_agrees(2.0, 4.2, lower_bound=True)
    assert not FR.ratio_agrees(math.nan, 1.7)


def test_stage_fact_verdicts():
    targets = load_targets()
    good = _stage_obs({"IT": 0.06, "AT": 0.06, "RO": 0.10, "BG": 0.12},
                      {"IT": 0.6, "AT": 0.6, "RO": 0.2, "BG": 0.2},
                      {"IT": 0.03, "AT": 0.02, "RO": 0.2, "BG": 0.12})
    # birth and death ratio 2.0 (data 1.68, 2.28), innovation 0.33 (data 0.36), emigration 6.4
    assert FR.stage_fact([{"obs": good}], targets, 0).passed
    flat = _stage_obs({c: 0.08 for c in ("IT", "AT", "RO", "BG")},
                      {"IT": 0.6, "AT": 0.6, "RO": 0.2, "BG": 0.2},
                      {"IT": 0.03, "AT": 0.02, "RO": 0.2, "BG": 0.12})
    fact = FR.stage_fact([{"obs": flat}], targets, 0)
    assert not fact.passed and "birth rate 1.00 vs 1.68 (NO)" in fact.model


def _yearly(firms, emp, unemp, innov=None, emig=None):
    n = len(firms)
    return {"yearly": {"firms": np.asarray(firms, float), "employment": np.asarray(emp, float),
                       "unemployment": np.asarray(unemp, float),
                       "firms_end": np.asarray(firms, float), "employment_end": np.asarray(emp, float),
                       "innovations": np.asarray(innov if innov is not None else np.ones(n), float),
                       "skilled_emigrants": np.asarray(emig if emig is not None else np.ones(n),
                                                       float)}}


def test_yearly_helpers_match_the_stationarity_test():
    s = np.arange(9, dtype=float)  # step 0 and two years of 4 steps
    np.testing.assert_allclose(FU.yearly_means(s, 4), [2.5, 6.5])
    np.testing.assert_allclose(FU.yearly_sums(s, 4), [10, 26])
    two = np.column_stack([s, 2 * s])
    np.testing.assert_allclose(FU.yearly_sums(two, 4), [[10, 20], [26, 52]])
    assert FU.drift_per_decade(np.arange(20) * 0.5 + 3.0) == pytest.approx(5.0)


def test_stationarity_fact_flags_a_drift():
    years = np.arange(20)
    flat = [_yearly(1000 + 0 * years, 5000 + 0 * years, 0.08 + 0 * years) for _ in range(3)]
    assert FU.stationarity_fact(flat, 5).passed
    growing = [_yearly(1000 * 1.01 ** years, 5000 + 0 * years, 0.08 + 0 * years)]  # 1 %/yr
    d = FU.stationarity(growing, 5)
    assert d["firms %"] == pytest.approx(10.0, rel=0.1)
    assert not FU.stationarity_fact(growing, 5).passed
    rising_u = [_yearly(1000 + 0 * years, 5000 + 0 * years, 0.08 + 0.0015 * years)]
    assert FU.stationarity(rising_u, 5)["unemployment pp"] == pytest.approx(1.5)
    assert not FU.stationarity_fact(rising_u, 5).passed
    # a drift before the window does not count
    early = [_yearly(np.r_[np.linspace(800, 1000, 5), np.full(15, 1000.0)], 5000 + 0 * years,
                     0.08 + 0 * years)]
    assert FU.stationarity_fact(early, 5).passed and not FU.stationarity_fact(early, 0).passed


def _regional(per_region: list[np.ndarray], top_first: float, top_last: float) -> dict:
    firms = np.column_stack(per_region)
    run = _yearly(firms.sum(axis=1), 5000 + 0 * firms[:, 0], 0.08 + 0 * firms[:, 0])
    run["yearly"]["firms_region"] = firms
    run["region_names"] = ("Veneto", "NE Romania")
    run["top_share"] = np.array([[0.1, top_first], [0.1, top_last]])
    return run


def test_regional_stationarity_fact_finds_a_region_that_consolidates_behind_flat_totals():
    years = np.arange(20)
    steady = _regional([100 + 0 * years, 80 + 0 * years], 0.2, 0.2)
    assert FU.regional_stationarity_fact([steady], 5).passed
    # one region gains what the other loses: the totals stay flat, the fact fails on the loser
    shrinking = _regional([100 + 2.0 * years, 80 - 2.0 * years], 0.25, 0.5)
    assert FU.stationarity_fact([shrinking], 5).passed
    fact = FU.regional_stationarity_fact([shrinking], 5)
    assert not fact.passed and "largest drift NE Romania" in fact.model
    np.testing.assert_allclose(FU.regional_drift([shrinking], 5)[1], 100 * -20 / np.mean(80 - 2.0 * years[5:]))
    assert "| NE Romania | 70 / 42 | " in "\n".join(fact.table) and "25 % / 50 %" in "\n".join(fact.table)


def test_regional_drift_interval_is_centred_on_the_seed_mean_drift():
    """Per-seed drifts share the seed-mean count's mean as denominator, so their mean is the
    drift of the seed-mean count; the interval widens with the seeds' disagreement."""
    years = np.arange(20)
    runs = [_regional([100 + 0 * years, 80 - k * years], 0.2, 0.3) for k in (1.0, 2.0, 3.0)]
    ci = FU.regional_drift_interval(runs, 5)
    drift = FU.regional_drift(runs, 5)
    np.testing.assert_allclose(ci.mean(axis=1), drift)
    np.testing.assert_allclose(ci[0], [0.0, 0.0], atol=1e-9)  # every seed flat
    lo, hi = ci[1]
    per_seed = 100 * -10 * np.array([1.0, 2.0, 3.0]) / np.mean([80 - k * years[5:] for k in (1.0, 2.0, 3.0)])
    half = stats.t.ppf(0.975, 2) * per_seed.std(ddof=1) / math.sqrt(3)
    np.testing.assert_allclose([lo, hi], [per_seed.mean() - half, per_seed.mean() + half])
    fact = FU.regional_stationarity_fact(runs, 5)
    assert f"[{lo:+.1f}, {hi:+.1f}]" in fact.model and f"[{lo:+.1f}, {hi:+.1f}]" in "\n".join(fact.table)
    assert np.isnan(FU.regional_drift_interval(runs[:1], 5)).all()
    assert "[" not in FU.regional_stationarity_fact(runs[:1], 5).model


def test_variability_fact_is_a_coefficient_of_variation():
    assert FU.cv([90, 100, 110]) == pytest.approx(10 / 100)
    assert math.isnan(FU.cv([5]))
    years = np.ones(10)
    tight = [_yearly(1000 * years, e * years, 0.1 * years) for e in (4900, 5000, 5100)]
    fact = FU.variability_fact(tight, 2)
    assert fact.passed and "employment CV 2.0 %" in fact.model
    loose = [_yearly(1000 * years, e * years, 0.1 * years) for e in (3000, 5000, 7000)]
    assert not FU.variability_fact(loose, 2).passed


def _effects(path, mean=1.0, lo=0.5, hi=1.5, current=None):
    results = {(p.treatment, p.outcome, h): (mean * (1 if p.direction >= 0 else -1),
                                              lo, hi, 4)
               for p in P.PUBLISHED for h in (1, 3)}
    results[("network_contracts", "treated firms", 3)] = (12.0, 10.0, 14.0, 4)
    P.write_effects_csv(path, results, 9001, {"git_revision": "abc", **(current or {})})


def test_policy_section_renders_the_file_and_says_when_it_is_stale(tmp_path):
    path = tmp_path / "effects.csv"
    missing = "\n".join(P.policy_section(path))
    assert "is missing" in missing
    current = {"model_code": "m1", "scenario": "s1"}
    _effects(path, current=current)
    eff, meta = P.read_effects_csv(path)
    assert meta["git_revision"] == "abc" and meta["first_seed"] == "9001"
    assert eff[("rd_grants", "extra R&D per extra grant euro, small (< 50)", 3)].seeds == 4
    text = "\n".join(P.policy_section(path, current))
    assert "matches the current model" in text and "Out of date" not in text
    assert "Bronzini & Iachini (2014)" in text and "| `network_contracts` | treated firms |" in text
    stale = "\n".join(P.policy_section(path, {"model_code": "m2", "scenario": "s1"}))
    assert "Out of date: the model code changed" in stale
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    assert "cannot be read" in "\n".join(P.policy_section(bad, current))


def test_sign_verdicts():
    E = P.Effect
    assert P.sign_verdict(E(0.5, 0.1, 0.9, 4), +1) == "yes"
    assert P.sign_verdict(E(0.5, -0.1, 0.9, 4), +1) == "sign only"
    assert P.sign_verdict(E(-0.5, -0.9, -0.1, 4), +1) == "no"
    assert P.sign_verdict(E(-0.5, -0.9, -0.1, 4), -1) == "yes"
    assert P.sign_verdict(E(0.1, -0.2, 0.4, 4), 0) == "yes"
    assert P.sign_verdict(E(0.5, 0.2, 0.8, 4), 0) == "no"
    assert P.sign_verdict(None, +1) == "n/a"


def test_every_published_effect_names_a_treatment_the_script_runs(monkeypatch):
    import importlib.util
    import sys
    from pathlib import Path

    spec = importlib.util.spec_from_file_location(
        "measure_policy_effects",
        Path(__file__).resolve().parents[1] / "scripts" / "measure_policy_effects.py")
    mod = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, mod)  # its dataclasses look their module up
    spec.loader.exec_module(mod)
    assert {p.treatment for p in P.PUBLISHED} == set(mod.TREATMENTS)
    assert len({(p.treatment, p.outcome) for p in P.PUBLISHED}) == len(P.PUBLISHED)


def _labour_run(employment: np.ndarray, labour_force: np.ndarray) -> dict:
    return {"yearly": {"employment_region_end": employment, "labour_force_region_end": labour_force}}


def test_absorption_fact_reads_the_labour_force_share_of_employment_changes():
    """Decressin & Fatas (1995): the slope of the labour force's change on employment's, over
    3-year windows; a region whose labour force follows 70 % of its employment swings passes, a
    fixed labour force (unemployment takes everything) fails."""
    rng = np.random.default_rng(5)
    runs_follow, runs_fixed = [], []
    for _ in range(3):
        swings = np.cumsum(rng.normal(0.0, 30.0, (21, 2)), axis=0)
        lf = 1000.0 + 0.7 * swings
        runs_follow.append(_labour_run(950.0 + swings, lf))
        runs_fixed.append(_labour_run(950.0 + swings, np.full((21, 2), 1000.0)))
    de, dlf = FR.absorption_changes(runs_follow[:1], 5)[0]
    assert len(de) == 2 * 5  # windows from the end of year 5 (index 4): 4, 7, ..., 16 in 2 regions
    assert FR.absorbed_share(de, dlf) == pytest.approx(0.7)
    follow = FR.absorption_fact(runs_follow, 5)
    assert follow.passed and "labour force 0.70" in follow.model
    fixed = FR.absorption_fact(runs_fixed, 5)
    assert not fixed.passed and "labour force 0.00" in fixed.model
    assert math.isnan(FR.absorbed_share(np.zeros(5), np.zeros(5)))
