"""Experiment files: validation before anything runs, run enumeration, seeds, spec hash."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import numpy as np
import pytest

from cluster_abm.errors import InputError
from cluster_abm.experiments import seeds
from cluster_abm.experiments.experiment_spec import load_experiment
from cluster_abm.params.registry import REGISTRY
from tests.fakes import write_experiment

ROOT = Path(__file__).resolve().parents[1]
BASE = 'scenarios = ["baseline", "green"]\nreplicates = 3\nseed = 11\nyears = 2\n'


def test_example_experiments_load():
    smoke = load_experiment(ROOT / "experiments" / "smoke.toml")
    assert (smoke.name, smoke.replicates, smoke.years, len(smoke.runs)) == ("smoke", 2, 2, 2)
    policy = load_experiment(ROOT / "experiments" / "policy_comparison.toml")
    assert (policy.replicates, policy.years, policy.baseline) == (20, 20, "baseline")
    # every package of the scenario library but early_stage_region (another world) and the
    # calibrated baseline (another baseline); runs go replicate by replicate
    assert len(policy.scenarios) == 11 and "early_stage_region" not in policy.scenarios
    assert [r.run_id for r in policy.runs[:2]] == ["baseline-r000", "wg1_innovation-r000"]


BAD = [
    # (experiment text, key the message must name, words it must contain)
    ('scenarios = ["baseline", "no_such_scenario"]', "scenarios[1]", "unknown scenario"),
    ('scenarios = ["baseline"]\n[design]\nkind = "grid"\n[design.params]\n"no.such" = [1.0]',
     "design.params.no.such", "unknown parameter"),
    ('[design]\nkind = "lhs"\nsamples = 4\n[design.params]\n'
     '"funding.eu_budget" = { low = -5.0, high = 10.0 }', "design.params.funding.eu_budget",
     "outside the registry"),
    ('[design]\nkind = "sobol"\n[design.params]\n"funding.eu_budget" = [1.0]', "design.kind",
     "allowed: grid, lhs"),
    ('[design]\nkind = "grid"\n[design.params]\n"funding.eu_budget" = [1.0, -3.0]',
     "design.params.funding.eu_budget", "out of range"),
    ('[design]\nkind = "grid"\nsamples = 3\n[design.params]\n"funding.eu_budget" = [1.0]',
     "design.samples", "only for kind"),
    ('[design]\nkind = "lhs"\n[design.params]\n"funding.eu_budget" = {low = 1.0, high = 2.0}',
     "design.samples", "needs the number"),
    ('[design]\nkind = "lhs"\nsamples = 2\n[design.params]\n'
     '"funding.eu_budget" = {low = 3.0, high = 2.0}', "design.params.funding.eu_budget",
     "low must be below high"),
    ('scenarios = ["baseline"]\nreplicates = 0', "replicates", "from 1"),
    ('scenarios = ["baseline"]\nreplicates = 2.5', "replicates", "whole number"),
    ('scenarios = ["baseline"]\n[execution]\nexecutor = "threads"', "execution.executor",
     "allowed: serial, processes, dask"),
    ('scenarios = ["baseline"]\n[execution]\nscheduler = "tcp://x:8786"', "execution.scheduler",
     "needs executor 'dask'"),
    ('scenarios = ["baseline"]\nreplicate = 3', "replicate", "did you mean 'replicates'"),
    ('scenarios = ["baseline"]\nbaseline = "green"', "baseline", "not one of"),
    ('scenarios = ["baseline", "baseline"]', "scenarios[1]", "listed twice"),
    ('scenarios = ["baseline"]\nseed = -1', "seed", "between 0 and"),
    ('scenarios = ["baseline"]\nyears = 0', "years", "out of range"),
    ('scenarios = ["baseline"]\n[outputs]\nseries_every = 0', "outputs.series_every", "from 1"),
    ('scenarios = ["baseline"]\n[outputs]\nregion = true', "outputs.region", "did you mean"),
    ('name = "has space"\nscenarios = ["baseline"]', "name", "letters, digits"),
    ('description = "nothing to run"', "scenarios", "needs scenarios"),
]


@pytest.mark.parametrize("text,key,words", BAD, ids=[b[1] + "-" + b[2][:12] for b in BAD])
def test_bad_experiment_is_one_line_naming_file_and_key(tmp_path, text, key, words):
    path = write_experiment(tmp_path, text)
    with pytest.raises(InputError) as info:
        load_experiment(path)
    msg = str(info.value)
    assert "\n" not in msg
    assert msg.startswith(f"{path}: {key}: "), msg
    assert words in msg, msg
    assert (info.value.source, info.value.key) == (str(path), key)


def test_malformed_toml_and_missing_file(tmp_path):
    path = write_experiment(tmp_path, 'scenarios = ["baseline"\nreplicates = 2')
    with pytest.raises(InputError, match="malformed TOML") as info:
        load_experiment(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)
    missing = tmp_path / "nope.toml"
    with pytest.raises(InputError, match="not found") as info:
        load_experiment(missing)
    assert str(missing) in str(info.value)


def test_invalid_scenario_file_is_reported_through_the_experiment(tmp_path):
    (tmp_path / "broken.toml").write_text('extends = "baseline"\n[params]\nbogus = 1\n')
    path = write_experiment(tmp_path, 'scenarios = ["broken"]')
    with pytest.raises(InputError, match=r"scenarios\[0\]: scenario 'broken' is invalid"):
        load_experiment(path)


def test_seeds_are_paired_across_scenarios_and_differ_across_replicates(tmp_path):
    exp = load_experiment(write_experiment(tmp_path, BASE))
    by = {(r.scenario, r.replicate): r for r in exp.runs}
    assert [r.run_id for r in exp.runs] == [
        "baseline-r000", "green-r000", "baseline-r001", "green-r001", "baseline-r002",
        "green-r002"]
    for rep in range(3):
        assert by["baseline", rep].seed == by["green", rep].seed
        assert by["green", rep].spawn_key == (seeds.CRN_KEY, rep)
        assert by["green", rep].seed == seeds.run_seed(11, 0, rep)
    reps = [by["baseline", r].seed for r in range(3)]
    assert len(set(reps)) == 3 and all(0 <= s < 2**63 for s in reps)
    assert all(type(s) is int for s in reps)
    # adding replicates keeps the seeds of existing ones
    more = load_experiment(write_experiment(tmp_path, BASE.replace("= 3", "= 5"), "more.toml"))
    assert [r.seed for r in more.runs[:6]] == [r.seed for r in exp.runs]
    # a different root seed gives different seeds
    other = load_experiment(write_experiment(tmp_path, BASE.replace("11", "12"), "o.toml"))
    assert other.runs[0].seed != exp.runs[0].seed


def test_run_seed_matches_its_documented_formula():
    ss = np.random.SeedSequence(123, spawn_key=(4, 5))
    assert seeds.run_seed(123, 4, 5) == int(ss.generate_state(1, dtype=np.uint64)[0]) >> 1
    with pytest.raises(ValueError):
        seeds.run_seed(-1, 0, 0)


GRID = """
scenarios = ["baseline"]
replicates = 2
seed = 5
[design]
kind = "grid"
crn = CRN
[design.params]
"funding.eu_budget" = [1000.0, 5000.0, 9000.0]
demography.spinoff_rate = [0.01, 0.02]
"""


def test_grid_design_points_run_ids_and_seeds(tmp_path):
    exp = load_experiment(write_experiment(tmp_path, GRID.replace("CRN", "false")))
    assert len(exp.design.points) == 6 and len(exp.runs) == 2 * (1 + 6)
    assert exp.design.points[0] == {"funding.eu_budget": 1000.0, "demography.spinoff_rate": 0.01}
    assert exp.design.points[5] == {"funding.eu_budget": 9000.0, "demography.spinoff_rate": 0.02}
    ids = [r.run_id for r in exp.runs]
    assert ids[:3] == ["baseline-r000", "p0001-r000", "p0002-r000"] and ids[-1] == "p0006-r001"
    p3 = exp.run("p0003-r001")
    assert (p3.point, p3.spawn_key, p3.params) == (3, (3, 1), exp.design.points[2])
    assert exp.scenario_for(p3).param("funding.eu_budget") == 5000.0
    seeds_r0 = {r.seed for r in exp.runs if r.replicate == 0}
    assert len(seeds_r0) == 7  # every point its own stream
    crn = load_experiment(write_experiment(tmp_path, GRID.replace("CRN", "true"), "crn.toml"))
    assert {r.seed for r in crn.runs if r.replicate == 0} == {crn.run("baseline-r000").seed}
    with pytest.raises(InputError, match="did you mean"):
        exp.run("p0003-r01")


LHS = """
name = "lhs"
seed = SEED
[design]
kind = "lhs"
samples = 8
[design.params]
"funding.eu_budget" = { low = 1000.0, high = 3000.0 }
"policy.incubator_ties" = { low = 0, high = 8 }
"""


def test_lhs_design_is_stratified_inside_bounds_and_reproducible(tmp_path):
    exp = load_experiment(write_experiment(tmp_path, LHS.replace("SEED", "1")))
    budget = np.array([p["funding.eu_budget"] for p in exp.design.points])
    assert ((budget >= 1000) & (budget <= 3000)).all()
    assert sorted(((budget - 1000) / 2000 * 8).astype(int)) == list(range(8))  # one per stratum
    ties = [p["policy.incubator_ties"] for p in exp.design.points]
    assert all(type(t) is int and 0 <= t <= 8 for t in ties)
    assert exp.design.base.name == "baseline" and exp.baseline == "baseline"
    again = load_experiment(write_experiment(tmp_path, LHS.replace("SEED", "1"), "again.toml"))
    assert again.design.points == exp.design.points and again.spec_hash == exp.spec_hash
    other = load_experiment(write_experiment(tmp_path, LHS.replace("SEED", "2"), "other.toml"))
    assert other.design.points != exp.design.points
    with pytest.raises(InputError, match="registry"):
        hi = REGISTRY["policy.incubator_ties"].high
        load_experiment(write_experiment(tmp_path, LHS.replace("SEED", "1").replace(
            "high = 8", f"high = {hi + 1}"), "bad.toml"))


def test_spec_hash_stable_for_identical_specs_and_changes_with_the_spec(tmp_path):
    a = load_experiment(write_experiment(tmp_path / "a", BASE))
    b = load_experiment(write_experiment(
        tmp_path / "b", BASE + 'description = "same runs"\n[execution]\nexecutor = "serial"\n'))
    assert a.spec_hash == b.spec_hash  # location, description and executor change no result
    assert len(a.spec_hash) == 64
    changes = [BASE.replace("= 3", "= 4"), BASE.replace("years = 2", "years = 3"),
               BASE.replace("11", "12"), BASE + "[outputs]\nseries_every = 2\n"]
    hashes = {load_experiment(write_experiment(tmp_path / f"c{i}", t)).spec_hash
              for i, t in enumerate(changes)}
    assert len(hashes) == len(changes) and a.spec_hash not in hashes
    # a change inside a scenario file changes the hash too
    (tmp_path / "a" / "green.toml").write_text(
        "extends = \"baseline\"\nname = \"green\"\n[params.funding]\neu_budget = 4500.0\n")
    assert load_experiment(tmp_path / "a" / "exp.toml").spec_hash != a.spec_hash


def test_kpi_and_series_names_checked_against_metrics(tmp_path, monkeypatch):
    fake = types.ModuleType("cluster_abm.outputs.metrics")
    fake.KPIS = {"jobs": object(), "firms_final": object()}
    fake.SERIES = {"employment": object()}
    monkeypatch.setitem(sys.modules, "cluster_abm.outputs.metrics", fake)
    ok = 'scenarios = ["baseline"]\n[outputs]\nkpis = ["jobs"]\nseries = ["employment"]\n'
    assert load_experiment(write_experiment(tmp_path, ok)).outputs.kpis == ("jobs",)
    with pytest.raises(InputError, match=r"outputs.kpis: unknown KPI 'job'; did you mean 'jobs'"):
        load_experiment(write_experiment(tmp_path, ok.replace('"jobs"', '"job"'), "k.toml"))
    with pytest.raises(InputError, match="outputs.series: unknown series"):
        load_experiment(write_experiment(tmp_path, ok.replace('"employment"', '"x"'), "s.toml"))


def test_command_line_execution_overrides_are_validated(tmp_path):
    exp = load_experiment(write_experiment(tmp_path, BASE))
    assert exp.with_execution("dask", 3, "tcp://h:1").execution.workers == 3
    with pytest.raises(InputError, match="--executor: unknown executor"):
        exp.with_execution("threads")
    with pytest.raises(InputError, match="--scheduler: a scheduler needs executor 'dask'"):
        exp.with_execution("serial", scheduler="tcp://h:1")
