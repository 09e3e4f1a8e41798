"""Sensitivity studies on the real model: end to end through the command, resume, bad input.

The studies here are tiny (1 simulated year, a handful of design points, serial) so the file
runs in well under a minute; the shipped studies are only validated, not run.
"""

from __future__ import annotations

import dataclasses
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cluster_abm.analysis.sensitivity.sa_factors import (
    integer_value,
    model_values,
    problem_from_registry,
    select_parameters,
    span_bounds,
)
from cluster_abm.analysis.sensitivity.study import load_study
from cluster_abm.analysis.sensitivity.study_run import analyze_study, run_study
from cluster_abm.cli import main as cli
from cluster_abm.errors import InputError
from cluster_abm.experiments import runner
from cluster_abm.experiments.results import load_results
from cluster_abm.params.registry import REGISTRY

ROOT = Path(__file__).resolve().parent.parent
# policy.glocal_boost scales the glocal-emergence hazard only where the glocal-support lever
# is on (mechanisms/cooperation.py: rate * (1 + boost * level), level 0 in the baseline).
IGNORED = "policy.glocal_boost"

TINY = """
name = "{name}"
base = "baseline"
method = "morris"
n = 3
replicates = 2
seed = 3
years = 1
parameters = ["innovation.base_rate", "coop.candidates", "{ignored}"]
kpis = ["employment_final", "innovations_per_year", "ties_total_final"]
series = "employment"
[execution]
executor = "serial"
"""


def _write(tmp_path: Path, text: str, name: str = "tiny") -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def tiny_study(tmp_path_factory):
    """The tiny Morris study run once through ``cluster-abm sensitivity`` (serial)."""
    tmp = tmp_path_factory.mktemp("sa")
    path = _write(tmp, TINY.format(name="tiny", ignored=IGNORED))
    results = tmp / "results"
    code = cli.main(["sensitivity", str(path), "--results", str(results), "--quiet"])
    return path, results, code


def test_command_runs_end_to_end_and_writes_report(tiny_study):
    path, results, code = tiny_study
    assert code == 0
    out = results / "tiny" / "sensitivity"
    for name in ("report.html", "indices.csv", "indices.parquet", "convergence.csv",
                 "convergence.parquet", "series_indices.csv", "series_indices.parquet",
                 "noise.csv", "design.parquet"):
        assert (out / name).is_file(), name
    html = (out / "report.html").read_text(encoding="utf-8")
    assert html.count("data:image/png;base64,") >= 3 * 3 + 1  # bars, mu*-sigma, convergence, series
    assert "mu*-sigma" in html and "Seed noise" in html and "convergence" in html
    table = pd.read_parquet(out / "indices.parquet")
    assert set(table["output"]) == {"employment_final", "innovations_per_year",
                                    "ties_total_final"}
    assert len(table) == 3 * 3
    assert table["noise_share"].notna().all()  # two replicates: noise is measurable
    series = pd.read_csv(out / "series_indices.csv")
    assert set(series["time"]) == {0.0, 1.0} and set(series["output"]) == {"employment"}
    # the runs went through the experiment runner's store, next to the report
    res = load_results(results / "tiny")
    assert res.manifest["status"] == "complete" and res.manifest["run_count"] == 24
    # every design point spun up its own world; a complete study keeps none of them
    assert not (results / "tiny" / runner.SNAPSHOTS).exists()


def test_ignored_parameter_has_exactly_zero_effect(tiny_study):
    _, results, code = tiny_study
    assert code == 0
    table = pd.read_csv(results / "tiny" / "sensitivity" / "indices.csv")
    ignored = table[table["param"] == IGNORED]
    assert len(ignored) == 3
    # common random numbers: runs that differ only in an ignored parameter are identical
    assert (ignored["mu_star"] == 0).all() and (ignored["sigma"] == 0).all()
    rate = table[(table["param"] == "innovation.base_rate")
                 & (table["output"] == "innovations_per_year")]
    assert float(rate["mu_star"].iloc[0]) > 0


def test_runs_use_mapped_integers_and_common_seeds(tiny_study):
    _, results, _ = tiny_study
    runs = load_results(results / "tiny").runs
    cand = runs["coop.candidates"].to_numpy()
    assert np.all(cand == np.round(cand)) and cand.min() >= 1 and cand.max() <= 20
    design = pd.read_parquet(results / "tiny" / "sensitivity" / "design.parquet")
    merged = runs.merge(design[["point", "coop.candidates"]], on="point", suffixes=("", "_d"))
    assert (merged["coop.candidates"] == merged["coop.candidates_d"]).all()
    # one seed per replicate across all design points (common random numbers)
    assert runs.groupby("replicate")["seed"].nunique().eq(1).all()
    assert runs["seed"].nunique() == 2


def test_stopped_study_resumes_without_redoing_runs(tmp_path, monkeypatch):
    text = TINY.format(name="resume", ignored=IGNORED).replace(
        'parameters = ["innovation.base_rate", "coop.candidates", "policy.glocal_boost"]',
        'parameters = ["innovation.base_rate", "coop.candidates"]').replace(
        "replicates = 2", "replicates = 1").replace(
        'series = "employment"\n', "")  # and no time-resolved series
    assert "series" not in text
    path = _write(tmp_path, text, "resume")
    study = load_study(path)
    assert study.n_runs == 9
    real = runner.execute
    calls = []

    def stop_after_six(task):
        if len(calls) == 6:
            raise KeyboardInterrupt  # Ctrl-C in the middle of the study
        calls.append(task.run.run_id)
        return real(task)

    monkeypatch.setattr(runner, "execute", stop_after_six)
    summary, report = run_study(study, results_dir=tmp_path / "a", quiet=True)
    assert summary.interrupted and report is None and summary.ok == 6
    # design order: the first two trajectories (3 points each) are complete ...
    assert calls == [f"p{i:04d}-r000" for i in range(1, 7)]
    # ... and form a valid smaller design that can be analysed while the rest is missing
    partial = analyze_study(load_study(path), results_dir=tmp_path / "a", quiet=True)
    assert partial.partial and partial.n_base == 2
    assert all(any("partial study" in w for w in r.warnings) for r in partial.results.values())

    done_first = list(calls)
    calls.clear()
    monkeypatch.setattr(runner, "execute", lambda task: calls.append(task.run.run_id)
                        or real(task))
    summary, report = run_study(load_study(path), results_dir=tmp_path / "a", quiet=True)
    assert summary.skipped == 6 and summary.ok == 3 and not summary.failed
    assert not set(calls) & set(done_first) and len(calls) == 3
    assert report is not None and report.report.is_file() and not report.partial
    assert report.n_base == 3

    # the resumed study holds exactly what an uninterrupted one does
    monkeypatch.setattr(runner, "execute", real)
    run_study(load_study(path), results_dir=tmp_path / "b", quiet=True, analyze_results=False)
    a = load_results(tmp_path / "a" / "resume").kpi_table().drop(columns="run_id")
    b = load_results(tmp_path / "b" / "resume").kpi_table().drop(columns="run_id")
    pd.testing.assert_frame_equal(a, b)


# --- bad input -----------------------------------------------------------------------------
BAD = [
    ('parameters = ["innovation.base_rat"]', "parameters", "did you mean 'innovation.base_rate'"),
    ('parameters = ["venture.innovative_only"]', "parameters", "true/false"),
    ('[bounds]\n"innovation.base_rate" = [0.0, 3.0]', "bounds.innovation.base_rate",
     "outside the registry's [0.0, 2.0]"),
    ('method = "sobol"\nn = 100', "n", "power of two"),
    ('kpis = ["employment_fnal"]', "kpis", "did you mean 'employment_final'"),
    ('method = "fast"', "method", "allowed: delta, morris, pawn, sobol"),
]


def _bad_study(tmp_path: Path, change: str) -> Path:
    text = TINY.format(name="bad", ignored=IGNORED)
    key = change.split("=")[0].strip()
    if not key.startswith("["):
        text = "\n".join(line for line in text.splitlines()
                         if not re.match(rf"{re.escape(key)}\s*=", line)
                         and not (key == "method" and line.startswith("n =")))
        text = change + "\n" + text  # top-level keys before the first table
    else:
        text = text + "\n" + change + "\n"
    return _write(tmp_path, text, "bad")


@pytest.mark.parametrize("change,key,needle", BAD)
def test_bad_input_is_one_line_naming_file_and_key(tmp_path, capsys, change, key, needle):
    path = _bad_study(tmp_path, change)
    with pytest.raises(InputError) as e:
        load_study(path)
    msg = str(e.value)
    assert "\n" not in msg
    assert msg.startswith(f"{path}: {key}: "), msg
    assert needle in msg, msg
    # and through the command: status 2, one line on stderr, nothing run or written
    results = tmp_path / "results"
    assert cli.main(["sensitivity", str(path), "--results", str(results)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and key in err
    assert not results.exists()


def test_sobol_n_hint_names_neighbouring_powers(tmp_path):
    with pytest.raises(InputError, match=r"got 100 \(try 64 or 128\)"):
        load_study(_bad_study(tmp_path, 'method = "sobol"\nn = 100'))


# --- the problem comes from the registry -----------------------------------------------------
def test_problem_from_registry_uses_registry_bounds_groups_and_span():
    names = ["innovation.base_rate", "coop.candidates", "funding.eu_budget"]
    prob = problem_from_registry(names, bounds={"innovation.base_rate": [0.05, 0.5]},
                                 groups={"firms": ["innovation.base_rate", "coop.candidates"]})
    assert prob.names == tuple(names)
    assert prob.bounds[0] == (0.05, 0.5)
    assert prob.bounds[1] == (REGISTRY["coop.candidates"].low, REGISTRY["coop.candidates"].high)
    assert prob.groups == ("firms", "firms", "funding.eu_budget")
    assert prob.factor_names == ("firms", "funding.eu_budget")
    p = REGISTRY["funding.eu_budget"]
    assert span_bounds(p, 4) == (p.default / 4, p.default * 4)
    # A negative default keeps its sign: -3 by a factor of 4 is [-12, -0.75], cut to the registry.
    intercept = dataclasses.replace(REGISTRY["migration.intercept"], default=-3.0)
    assert span_bounds(intercept, 4) == (-10.0, -0.75)
    # The shipped default (fitted, negative) keeps its sign too, cut to the registry where x4 leaves it.
    d, low = REGISTRY["migration.intercept"].default, REGISTRY["migration.intercept"].low
    assert d < 0
    assert span_bounds(REGISTRY["migration.intercept"], 4) == pytest.approx((max(d * 4, low), d / 4))
    assert span_bounds(REGISTRY["demography.entrant_productivity_gap"], 4) == (-0.4, -0.025)
    assert span_bounds(REGISTRY["funding.kpi_weight"], 4) == (0.0, 1.0)  # default 0: registry's
    assert span_bounds(REGISTRY["coop.candidates"], 4) == (1.0, 16.0)  # whole numbers
    with pytest.raises(InputError, match="is already in group"):
        problem_from_registry(names, groups={"a": names[:2], "b": names[1:]})


def test_selectors_expand_uncertain_and_groups_without_booleans():
    names = select_parameters(["uncertain"], ["policy.*", "sim.*", "init.*"])
    assert names and all(REGISTRY[n].uncertain and not REGISTRY[n].is_bool for n in names)
    assert not any(n.split(".")[0] in ("policy", "sim", "init") for n in names)
    venture = select_parameters(["venture.*"])
    assert "venture.innovative_only" not in venture and "venture.budget" in venture


def test_integer_mapping_gives_every_whole_number_an_equal_share():
    p = REGISTRY["coop.candidates"]  # 1..20
    u = (np.arange(20_000) + 0.5) / 20_000
    values = [integer_value(p, p.low + x * (p.high - p.low), p.low, p.high) for x in u]
    counts = np.bincount(values)[1:]
    assert len(counts) == 20 and counts.min() == counts.max() == 1000
    prob = problem_from_registry(["coop.candidates"])
    levels = np.array([[1.0], [1 + 19 / 3], [1 + 38 / 3], [20.0]])  # Morris' 4 levels
    mapped = [v["coop.candidates"] for v in model_values(prob, levels)]
    assert mapped == sorted(mapped) and mapped[0] == 1 and mapped[-1] == 20


# --- the shipped studies ----------------------------------------------------------------------
def test_shipped_studies_are_valid():
    morris = load_study(ROOT / "experiments" / "morris_screening.toml")
    assert morris.method == "morris" and len(morris.names) > 100
    assert not any(n.split(".")[0] in ("policy", "sim", "init") for n in morris.names)
    sobol = load_study(ROOT / "experiments" / "sobol_main.toml")
    assert sobol.method == "sobol" and sobol.n & (sobol.n - 1) == 0
    # each run spins up its own world (50 years): sized to about an hour on two cores
    assert morris.n_runs <= 2_400 and sobol.n_runs <= 2_000  # Morris grows with the registry
    assert set(sobol.names) <= set(morris.names)
    assert math.isclose(sobol.replicates, 2)


def test_analysis_options_do_not_invalidate_stored_runs(tmp_path):
    base = TINY.format(name="h", ignored=IGNORED)
    a = load_study(_write(tmp_path, base, "a")).experiment.spec_hash
    b = load_study(_write(tmp_path, base + "[options]\nnum_resamples = 50\nconf_level = 0.9\n",
                          "b")).experiment.spec_hash
    c = load_study(_write(tmp_path, base.replace("n = 3", "n = 5"), "c")).experiment.spec_hash
    d = load_study(_write(tmp_path, base + "[bounds]\n\"innovation.base_rate\" = [0.1, 1.0]\n",
                          "d")).experiment.spec_hash
    assert a == b and len({a, c, d}) == 3


def test_simulate_releases_each_model():
    """Mesa 3.3 keeps every model alive through Agent._ids (mesa#3179); simulate(), the
    runner's and the studies' target, drops the model it built, so a worker's memory stays
    flat over thousands of runs."""
    import gc

    from cluster_abm.model.cluster_model import ClusterModel
    from cluster_abm.model.simulate import simulate
    from cluster_abm.specs.scenario import load_scenario

    def live_models() -> int:
        gc.collect()
        return sum(isinstance(o, ClusterModel) for o in gc.get_objects())

    before = live_models()
    res = simulate(load_scenario("baseline"), 11, 1, series=["employment"], regions=False)
    assert res.kpis["employment_final"] > 0
    assert live_models() == before
