"""Decisions under uncertainty (issue 18): the search recovers a known Pareto front through the
model's own code path, the regret table is right on a hand-made payoff matrix, scenario
discovery recovers a known box, bad files get one line, and the commands run end to end on a
small world.

ZDT1 (Zitzler, Deb & Thiele 2000) with two variables has the Pareto front f2 = 1 - sqrt(f1),
f1 in [0, 1]. The tolerance stated for the search (measured over root seeds 1-5 with the TPE and
NSGA-II samplers, 200 and 500 trials: IGD 0.010-0.034, median distance 0.002-0.022, at least 94 %
of frontier points within 0.05): the mean distance from the true front to the nearest frontier
point (IGD) at most 0.05, every true front point within 0.2 of a frontier point, the median
distance of frontier points to the true front at most 0.03, and at least 90 % of them within
0.05 (a few frontier points with x1 = 0 exactly are only weakly optimal: nothing else has f1 = 0).
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cluster_abm.analysis.decisions.decision_problems import zdt1_front
from cluster_abm.analysis.decisions.decision_spec import (
    frontier_spec_from_dict,
    load_frontier_spec,
)
from cluster_abm.analysis.decisions.discovery import discover
from cluster_abm.analysis.decisions.ensemble_spec import Target, load_ensemble_spec
from cluster_abm.analysis.decisions.frontier import (
    frontier_table,
    open_search,
    run_search,
    scenario_text,
)
from cluster_abm.analysis.decisions.robustness import (
    kendall_w,
    ranking_stability,
    regret_summary,
    regret_table,
    satisficing,
)
from cluster_abm.cli.main import main
from cluster_abm.errors import InputError
from cluster_abm.specs.scenario import load_scenario

ZDT1 = """
name = "zdt1"
target = "cluster_abm.analysis.decisions.decision_problems:{target}"
replicates = {replicates}
trials = {trials}
seed = {seed}
[variables]
x1 = {{ low = 0.0, high = 1.0 }}
x2 = {{ low = 0.0, high = 1.0 }}
[objectives.f1]
direction = "min"
[objectives.f2]
direction = "min"
[optimizer]
sampler = "{sampler}"
population = 20
[storage]
url = "journal"
[execution]
executor = "serial"
"""

SMALL = {"sim.n_firms": 300, "sim.spinup_years": 2}


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _front_errors(front: pd.DataFrame) -> tuple[float, float, float, float]:
    """(IGD mean, IGD max, median distance of found points, share of found points within 0.05)."""
    F = front[["f1", "f2"]].to_numpy(dtype=float)
    grid = np.linspace(0.0, 1.0, 201)
    true = np.c_[grid, zdt1_front(grid)]
    d = np.sqrt(((F[:, None, :] - true[None]) ** 2).sum(-1))
    return d.min(0).mean(), d.min(0).max(), float(np.median(d.min(1))), (d.min(1) <= 0.05).mean()


@pytest.mark.parametrize(("sampler", "trials", "seed", "target", "replicates"), [
    ("tpe", 200, 1, "zdt1", 1),
    ("tpe", 200, 4, "zdt1", 1),
    ("nsga2", 500, 2, "zdt1", 1),
    ("tpe", 200, 3, "zdt1_noisy", 4),  # noise sd 0.02: replicate means over common seeds
])
def test_search_recovers_the_zdt1_front(tmp_path, sampler, trials, seed, target, replicates):
    path = _write(tmp_path, "zdt1", ZDT1.format(sampler=sampler, trials=trials, seed=seed,
                                                target=target, replicates=replicates))
    spec = load_frontier_spec(path)
    summary = run_search(spec, results_dir=tmp_path / "res", quiet=True)
    assert summary.exit_code == 0 and summary.completed == trials
    study, _ = open_search(spec, tmp_path / "res", create=False)
    front = frontier_table(spec, study)
    igd, igd_max, gd_median, near = _front_errors(front)
    assert igd <= 0.05 and igd_max <= 0.2, (igd, igd_max)
    assert gd_median <= 0.03 and near >= 0.9, (gd_median, near)
    assert front["f1"].min() <= 0.05 and front["f1"].max() >= 0.8  # spread along the front
    if replicates > 1:  # the replicate noise of each point is reported
        assert (front["f1_se"] > 0).all() and (front["f1_se"] < 0.05).all()


def test_search_resumes_and_refuses_another_file(tmp_path):
    text = ZDT1.format(sampler="tpe", trials=12, seed=5, target="zdt1", replicates=1)
    text = text.replace('url = "journal"', 'url = "sqlite"').replace('[storage]\nurl = "sqlite"\n', "")
    path = _write(tmp_path, "zdt1", text)
    spec = load_frontier_spec(path)
    first = run_search(spec, results_dir=tmp_path, quiet=True)
    assert first.completed == 12 and (tmp_path / "zdt1" / "optuna.db").is_file()
    study, _ = open_search(spec, tmp_path, create=False)
    before = {t.number: t.values for t in study.trials}
    more = run_search(spec, results_dir=tmp_path, trials=20, quiet=True)
    assert more.before == 12 and more.completed == 8
    study, _ = open_search(spec, tmp_path, create=False)
    assert {t.number: t.values for t in study.trials if t.number in before} == before
    again = run_search(spec, results_dir=tmp_path, trials=20, quiet=True)
    assert again.completed == 0  # nothing left to do
    changed = _write(tmp_path, "zdt1", text.replace('direction = "min"\n[optimizer]',
                                                    'direction = "max"\n[optimizer]'))
    with pytest.raises(InputError, match=r"zdt1.toml: name: the search 'zdt1' .*\(first "
                                         r"difference: objectives\[1\]\.direction"):
        run_search(load_frontier_spec(changed), results_dir=tmp_path, quiet=True)


# --- regret, satisficing, ranking on a hand-made payoff matrix ------------------------------------
PAYOFF = pd.DataFrame({"A": [10.0, 4.0, 7.0], "B": [6.0, 8.0, 7.0], "C": [9.0, 5.0, 2.0]},
                      index=["w1", "w2", "w3"])


def test_regret_table_on_a_hand_made_payoff_matrix():
    r = regret_table(PAYOFF, "max")
    # best per world: w1 A (10), w2 B (8), w3 A and B (7)
    expected = pd.DataFrame({"A": [0.0, 4.0, 0.0], "B": [4.0, 0.0, 0.0], "C": [1.0, 3.0, 5.0]},
                            index=PAYOFF.index)
    pd.testing.assert_frame_equal(r, expected)
    s = regret_summary(r).set_index("package")
    assert s["max_regret"].to_dict() == {"A": 4.0, "B": 4.0, "C": 5.0}
    assert s["mean_regret"].round(6).to_dict() == {"A": 1.333333, "B": 1.333333, "C": 3.0}
    assert s["best_share"].round(6).to_dict() == {"A": 0.666667, "B": 0.666667, "C": 0.0}
    assert s.loc["A", "minimax"] and not s.loc["B", "minimax"] and not s.loc["C", "minimax"]
    # minimising (a cost): regret is the excess over the cheapest in the world
    rmin = regret_table(PAYOFF, "min")
    assert rmin.loc["w1"].tolist() == [4.0, 0.0, 3.0] and rmin.loc["w3"].tolist() == [5.0, 5.0, 0.0]
    assert regret_summary(rmin).set_index("package").loc["C", "minimax"]


def test_satisficing_and_ranking_stability():
    sat = satisficing({"jobs": PAYOFF, "cost": -PAYOFF},
                      [Target("jobs", at_least=6.0), Target("cost", at_most=-7.0)]).set_index(
        "package")
    assert sat["jobs"].round(6).to_dict() == {"A": 0.666667, "B": 1.0, "C": 0.333333}
    assert sat["all"].round(6).to_dict() == {"A": 0.666667, "B": 0.666667, "C": 0.333333}
    rk, w = ranking_stability(PAYOFF, "max")
    rk = rk.set_index("package")
    assert rk["first_share"].round(6).to_dict() == {"A": 0.666667, "B": 0.666667, "C": 0.0}
    assert rk.loc["C", "mean_rank"] == pytest.approx((2 + 2 + 3) / 3)
    same = pd.DataFrame({"A": [3.0, 3.0], "B": [2.0, 2.0], "C": [1.0, 1.0]})
    assert ranking_stability(same, "max")[1] == pytest.approx(1.0)
    # Kendall's W of two opposite rankings of three items is 0
    assert kendall_w(pd.DataFrame({"a": [1, 3], "b": [2, 2], "c": [3, 1]})) == pytest.approx(0.0)


# --- scenario discovery ----------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_discovery_recovers_a_known_box(seed):
    rng = np.random.default_rng(seed)
    x = pd.DataFrame(rng.uniform(0, 1, (600, 5)), columns=["demand", "pull", "c", "d", "e"])
    box = (x["demand"] < 0.3) & (x["pull"] > 0.6)
    noise = rng.uniform(size=len(x)) < 0.01  # a few failures outside, a few passes inside
    cases = (box ^ noise).to_numpy()
    d = discover(x, cases, labels={"demand": ("growth of external demand", "1/yr"),
                                   "pull": ("emigration pull", "")})
    assert d.coverage >= 0.8 and d.density >= 0.8, (d.coverage, d.density)
    significant = d.limits[d.limits["qp"] < 0.05]  # any other restriction is chance (qp)
    assert set(significant["factor"]) == {"demand", "pull"}, d.limits
    lim = d.limits.set_index("factor")
    assert lim.loc["demand", "high"] == pytest.approx(0.3, abs=0.05)
    assert lim.loc["pull", "low"] == pytest.approx(0.6, abs=0.05)
    rule = "when " + " and ".join(p for p in d.rule[5:].split(" and ")
                                  if p.startswith(("growth", "emigration")))
    assert re.fullmatch(r"when (growth of external demand is under \d+ % a year|emigration pull "
                        r"is above 0\.\d+) and (growth of external demand is under \d+ % a year|"
                        r"emigration pull is above 0\.\d+)", rule), d.rule
    assert d.trajectory["coverage"].iloc[0] == 1.0  # the trajectory starts with every world
    assert discover(x, np.zeros(len(x), bool)).chosen is None  # nothing fails: nothing to find


# --- bad files: one line naming the file and the key ----------------------------------------------
GOOD_SEARCH = {
    "name": "s", "base": "baseline", "replicates": 2, "trials": 4, "years": 2, "params": SMALL,
    "programme": {"budget_keur": {"low": 1000.0, "high": 5000.0}, "years": 2,
                  "regions": ["north_east_romania"], "split": "shares"},
    "levers": {"incubators": {"regions": ["north_east_romania"]},
               "new_venture_finance": {"intensity": {"low": 0.5, "high": 2.0}}},
    "objectives": {"jobs": {"series": "employment_real", "region": "north_east_romania",
                            "direction": "max"},
                   "cost": {"kpi": "public_cost_total", "effect": False, "direction": "min"}},
}


def _patched(base: dict, path: str, value) -> dict:
    out = json.loads(json.dumps(base))
    *head, last = path.split("/")
    t = out
    for k in head:
        t = t.setdefault(k, {})
    if value is None:
        t.pop(last)
    else:
        t[last] = value
    return out


@pytest.mark.parametrize(("path", "value", "key", "message"), [
    ("trial", 3, "trial", "unknown key; did you mean 'trials'"),
    ("objectives/jobs/direction", "maximise", "objectives.jobs.direction", "unknown direction"),
    ("objectives/jobs/region", "north_east_romnia", "objectives.jobs.region", "did you mean"),
    ("objectives/jobs/stat", "total", "objectives.jobs.stat", "is a stock, not a flow"),
    ("objectives/cost/kpi", "public_cost", "objectives.cost.kpi", "unknown KPI"),
    ("levers/incubator", {}, "levers.incubator", "unknown lever; did you mean 'incubators'"),
    ("levers/new_venture_finance/intensity", {"low": 0.5, "high": 3.0},
     "levers.new_venture_finance.intensity", "outside the registry's [0.0, 2.0]"),
    ("levers/incubators/regions", ["atlantis"], "levers.incubators", "atlantis"),
    ("programme/budget_keur", {"low": 5000.0, "high": 1000.0}, "programme.budget_keur",
     "low must be below high"),
    ("programme/split", "priority", "programme.priority", "non-empty list of lever ids"),
    ("optimizer/sampler", "cmaes", "optimizer.sampler", "unknown sampler"),
    ("objectives", {}, "objectives", "name at least one outcome"),
])
def test_bad_search_files_get_one_line(path, value, key, message):
    raw = _patched(GOOD_SEARCH, path, value)
    with pytest.raises(InputError) as exc:
        frontier_spec_from_dict(raw, source="experiments/s.toml")
    text = str(exc.value)
    assert "\n" not in text and text.startswith(f"experiments/s.toml: {key}"), text
    assert message in text, text


ROBUST = """
name = "tiny_robust"
reference = "baseline"
packages = ["{package}"]
replicates = 2
worlds = 6
years = 2
seed = 7

[params]
"sim.n_firms" = 300
"sim.spinup_years" = 2

[outcomes.jobs]
series = "employment_real"
region = "north_east_romania"
direction = "max"

[targets]
jobs = {{ at_least = 0.0 }}

[drivers.external_demand]
label = "growth of external demand"
target = "sectors.demand_growth"
low = -0.01
high = 0.04
unit = "1/yr"

[drivers.emigration_pull]
label = "growth of wages abroad"
target = "labour.foreign_wage_growth"
low = 0.0
high = 0.04
unit = "1/yr"

[[discovery]]
package = "{name}"
outcome = "jobs"
at_least = 0.0

[execution]
executor = "serial"
"""


@pytest.mark.parametrize(("old", "new", "key", "message"), [
    ('target = "sectors.demand_growth"', 'target = "sectors.demand_growht"',
     "drivers.external_demand.target", "sectors have no numeric field"),
    ('high = 0.04\nunit = "1/yr"\n\n[drivers.emigration_pull]',
     'high = 0.5\nunit = "1/yr"\n\n[drivers.emigration_pull]', "drivers.external_demand.high",
     "outside its allowed"),
    ('worlds = 6', 'worlds = 0', "worlds", "whole number from 1"),
    ('jobs = { at_least = 0.0 }', 'job = { at_least = 0.0 }', "targets.job", "unknown outcome"),
    ('outcome = "jobs"\nat_least', 'outcome = "jbs"\nat_least', "discovery[0].outcome",
     "unknown outcome"),
    ('mode', 'mode', "", ""),  # placeholder replaced below
])
def test_bad_robustness_files_get_one_line(tmp_path, old, new, key, message):
    pkg = _write(tmp_path, "pkg", 'extends = "baseline"\n[levers.incubators]\nregions = '
                                  '["north_east_romania"]\n')
    text = ROBUST.format(package=pkg, name="pkg")
    if old == "mode":
        text = text.replace('unit = "1/yr"\n\n[drivers.emigration_pull]',
                            'unit = "1/yr"\nmode = "add"\n\n[drivers.emigration_pull]')
        key, message = "drivers.external_demand.mode", "unknown mode 'add'"
    else:
        assert old in text
        text = text.replace(old, new, 1)
    path = _write(tmp_path, "tiny_robust", text)
    with pytest.raises(InputError) as exc:
        load_ensemble_spec(path, tmp_path / "res")
    msg = str(exc.value)
    assert "\n" not in msg and msg.startswith(f"{path}: {key}"), msg
    assert message in msg, msg


def test_cli_reports_a_bad_file_in_one_line(tmp_path, capsys):
    path = _write(tmp_path, "bad", 'name = "bad"\nbase = "baseline"\ntrails = 3\n')
    assert main(["optimize", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"cluster-abm optimize: error: {path}: trails: unknown key; did you "
                          "mean 'trials'") and "\n" not in err, err


# --- the model, end to end on a small world -------------------------------------------------------
def test_frontier_package_files_round_trip(tmp_path):
    spec = frontier_spec_from_dict(GOOD_SEARCH, source=str(tmp_path / "s.toml"))
    values = {"programme.budget_keur": 2345.67, "levers.new_venture_finance.intensity": 1.25,
              "share.incubators": 0.9, "share.new_venture_finance": 0.3}
    text = scenario_text(spec, values, "s_p01", "title", "a paragraph", tmp_path, ["a comment"])
    path = _write(tmp_path, "s_p01", text)
    loaded = load_scenario(path)
    built = spec.package(values)
    assert loaded.levers == built.levers
    assert loaded.programme == built.programme
    assert dict(loaded.programme.shares) == {"incubators": 0.75, "new_venture_finance": 0.25}
    assert loaded.param("sim.n_firms") == 300 and loaded.param("sim.years") == 2
    # a lever whose share is under min_share is left out and its money goes to the others
    few = spec.package({**values, "share.incubators": 0.02, "share.new_venture_finance": 0.98})
    assert "incubators" not in few.levers and dict(few.programme.shares) == {
        "new_venture_finance": 1.0}


def test_optimize_robustness_and_discover_end_to_end(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CLUSTER_ABM_SPINUP_CACHE", str(tmp_path / "cache"))
    lines = ['name = "tiny_frontier"', 'base = "baseline"', "replicates = 2", "trials = 5",
             "years = 2", "seed = 3", "", "[params]", '"sim.n_firms" = 300',
             '"sim.spinup_years" = 2', "", "[programme]",
             "budget_keur = { low = 1000.0, high = 5000.0 }", "years = 2",
             'regions = ["north_east_romania"]', 'split = "shares"', "",
             "[levers.incubators]", 'regions = ["north_east_romania"]', "",
             "[levers.new_venture_finance]", 'regions = ["north_east_romania"]', "",
             "[objectives.jobs]", 'series = "employment_real"', 'region = "north_east_romania"',
             'direction = "max"', "", "[objectives.cost]", 'kpi = "public_cost_total"',
             "effect = false", 'direction = "min"', "", "[execution]", 'executor = "serial"']
    search = _write(tmp_path, "tiny_frontier", "\n".join(lines) + "\n")
    res = tmp_path / "res"
    assert main(["optimize", str(search), "--results", str(res), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "5 trials (0 already stored) x 2 replicates + 2 reference runs = 12 evaluations" in out
    assert not (res / "tiny_frontier").exists()
    assert main(["optimize", str(search), "--results", str(res), "--quiet"]) == 0
    files = sorted((res / "tiny_frontier" / "frontier").glob("*.toml"))
    assert files and (res / "tiny_frontier" / "report" / "report.html").is_file()
    assert (res / "tiny_frontier" / "report" / "report.xlsx").is_file()
    front = pd.read_csv(res / "tiny_frontier" / "report" / "frontier.csv")
    assert {"jobs", "jobs_se", "cost", "cost_se"} <= set(front.columns)
    for f in files:
        assert main(["scenario", "check", str(f)]) == 0
    capsys.readouterr()
    # robustness of the frontier and a hand-written package, and where one fails
    pkg = _write(tmp_path, "pkg", 'extends = "baseline"\n[levers.incubators]\nregions = '
                                  '["north_east_romania"]\n')
    text = ROBUST.format(package=pkg, name="pkg").replace(
        'packages = [', 'frontier = "tiny_frontier"\npackages = [')
    robust = _write(tmp_path, "tiny_robust", text)
    assert main(["robustness", str(robust), "--results", str(res), "--dry-run"]) == 0
    assert "worlds x 2 replicates" in capsys.readouterr().out
    code = main(["robustness", str(robust), "--results", str(res), "--quiet"])
    assert code == 0
    report = res / "tiny_robust" / "robustness"
    assert (report / "report.html").is_file() and (report / "report.xlsx").is_file()
    regret = pd.read_csv(report / "regret_jobs.csv")
    assert set(regret["package"]) == {"pkg", *(f.stem for f in files)}
    assert regret["max_regret"].min() >= 0 and regret["minimax"].sum() == 1
    worlds = pd.read_csv(report / "worlds.csv")
    assert len(worlds) == 6 and worlds["external_demand"].between(-0.01, 0.04).all()
    capsys.readouterr()
    assert main(["discover", str(robust), "--results", str(res), "--report-only"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("pkg misses jobs at least 0 in ") and "Report:" in out
    assert math.isfinite(len(out))


# --- the documentation ----------------------------------------------------------------------------
def test_experiments_page_documents_the_decision_files(tmp_path):
    """docs/experiments.md names every key the two loaders accept, and its examples load."""
    import tomllib

    from cluster_abm.analysis.decisions import decision_spec as ds
    from cluster_abm.analysis.decisions import ensemble_spec as es
    from cluster_abm.analysis.decisions.decision_spec import frontier_spec_from_dict
    from cluster_abm.analysis.decisions.ensemble_spec import ensemble_spec_from_dict
    from tests.test_docs import DOCS, _toml_blocks

    text = (DOCS / "experiments.md").read_text()
    keys = {*ds.TOP_KEYS, *ds.OUTCOME_KEYS, *ds.OPTIMIZER_KEYS, *ds.STORAGE_KEYS,
            *es.TOP_KEYS, *es.UNCERTAINTY_KEYS, *es.DRIVER_KEYS, *es.TARGET_KEYS,
            *es.DISCOVERY_KEYS}
    missing = sorted(k for k in keys if f"`{k}`" not in text and f"`[{k}]`" not in text
                     and f"`[{k}.<name>]`" not in text and f"`[[{k}]]`" not in text
                     and f"`[{k}.<id>]`" not in text)
    assert not missing, f"docs/experiments.md does not document: {missing}"
    blocks = _toml_blocks(text)
    for section, load in (("Search files", frontier_spec_from_dict),
                          ("Robustness files",
                           ensemble_spec_from_dict)):
        assert blocks.get(section), section
        for block in blocks[section]:
            load(tomllib.loads(block), source=str(tmp_path / "example.toml"),
                 base_dir=DOCS.parent / "experiments")


def test_worlds_from_a_calibration_spread(tmp_path):
    """``[uncertainty] calibration``: each fitted parameter over its best trials' range."""
    import optuna

    from cluster_abm.analysis.calibration.calibration_spec import load_calibration
    from cluster_abm.analysis.calibration.fit import open_study

    cal = load_calibration("calibrate_see")
    study, _ = open_study(cal, tmp_path / "res")
    dists = {p.name: p.distribution() for p in cal.params}
    rng = np.random.default_rng(0)
    for i in range(20):  # loss rises with the trial number: the best two are trials 0 and 1
        params = {p.name: float(rng.uniform(p.low, p.high)) for p in cal.params}
        study.add_trial(optuna.trial.create_trial(params=params, distributions=dists,
                                                  value=float(i)))
    best = [t.params for t in sorted(study.get_trials(states=(
        optuna.trial.TrialState.COMPLETE,)), key=lambda t: t.value)[:3]]
    pkg = _write(tmp_path, "pkg", 'extends = "baseline"\n[levers.incubators]\nregions = '
                                  '["north_east_romania"]\n')
    text = ROBUST.format(package=pkg, name="pkg").replace(
        "[drivers.external_demand]", '[uncertainty]\ncalibration = "calibrate_see"\n'
                                     'calibration_share = 0.1\n\n[drivers.external_demand]')
    spec = load_ensemble_spec(_write(tmp_path, "r", text), tmp_path / "res")
    factors = {f.name: f for f in spec.factors}
    for p in cal.params:
        xs = [b[p.name] for b in best]
        assert factors[p.name].low == pytest.approx(min(xs))
        assert factors[p.name].high == pytest.approx(max(xs))
    worlds = pd.DataFrame(spec.world_table())
    assert worlds["migration.max_rate"].between(factors["migration.max_rate"].low,
                                                factors["migration.max_rate"].high).all()
    one = spec.in_world(spec.packages["pkg"], spec.world_table()[0], "w000")
    assert one.param("migration.max_rate") == pytest.approx(worlds["migration.max_rate"][0])
    assert one.sectors[0]["demand_growth"] == pytest.approx(worlds["external_demand"][0])


def test_shipped_examples_load(tmp_path):
    import tomllib

    from cluster_abm.analysis.decisions.ensemble_spec import ensemble_spec_from_dict

    spec = load_frontier_spec("frontier_ne_romania")
    assert {v.name for v in spec.variables} >= {"programme.budget_keur",
                                                "levers.employment_incentives.start_year"}
    with pytest.raises(InputError, match=r"robustness_ne_romania.toml: frontier: no frontier "
                                         r"packages in .*run `cluster-abm optimize`"):
        load_ensemble_spec("robustness_ne_romania", tmp_path)
    path = Path(spec.source).parent / "robustness_ne_romania.toml"
    raw = tomllib.loads(path.read_text())
    raw.pop("frontier")
    robust = ensemble_spec_from_dict(raw, str(path), path.parent, tmp_path)
    assert list(robust.packages) == ["ne_romania_programme"] and len(robust.factors) == 6
