"""The result store and the sweep around it: manifest, shards, failures, resume, dry run, replay,
and the notebook API. All runs use the fake model in this process (serial executor)."""

from __future__ import annotations

import argparse
import hashlib
import json
import math

import numpy as np
import pandas.testing as pdt
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from scipy import stats

from cluster_abm.analysis.replay import replay
from cluster_abm.cli.cmd_sweep import (
    DEFAULT_TARGET,
    add_replay_arguments,
    add_sweep_arguments,
    cmd_replay,
    cmd_sweep,
    main,
)
from cluster_abm.errors import InputError
from cluster_abm.experiments import seeds
from cluster_abm.experiments.experiment_spec import load_experiment
from cluster_abm.experiments.results import load_results
from cluster_abm.experiments.runner import run_experiment
from cluster_abm.experiments.store import TIMING_COLUMNS, Store, atomic_write
from cluster_abm.experiments.worker import DEFAULT_TARGET as WORKER_TARGET
from tests.fakes import FAKE, assert_same_tables, read_tables, write_experiment

EXP = """
name = "cmp"
scenarios = ["baseline", "green"]
replicates = 4
seed = 99
years = 2
[execution]
executor = "serial"
"""


def sweep(path, results, **kw):
    kw.setdefault("quiet", True)
    return run_experiment(path, results_dir=results, simulate=FAKE, **kw)


def args(parser_fn, argv):
    parser = argparse.ArgumentParser()
    parser_fn(parser)
    return parser.parse_args(argv)


def test_manifest_holds_what_it_promises(tmp_path):
    path = write_experiment(tmp_path, EXP)
    summary = sweep(path, tmp_path / "res")
    assert summary.exit_code == 0 and summary.ok == 8
    store = Store(tmp_path / "res" / "cmp")
    m = store.read_manifest()
    for key in ("spec_hash", "simulate", "root_seed", "run_count", "code_version", "packages",
                "platform", "python", "timings", "sessions", "status", "created", "source"):
        assert key in m, key
    assert m["spec_hash"] == load_experiment(path).spec_hash
    spec_text = (store.path / "spec.json").read_text().strip()
    assert hashlib.sha256(spec_text.encode()).hexdigest() == m["spec_hash"]
    assert (m["root_seed"], m["run_count"], m["status"], m["runs_ok"]) == (99, 8, "complete", 8)
    assert set(m["code_version"]) >= {"commit", "dirty"}
    assert set(m["packages"]) >= {"mesa", "numpy", "pandas", "pyarrow", "dask", "SALib"}
    assert m["timings"]["runs"] == 8 and m["timings"]["wall_time"] > 0
    assert m["sessions"][0]["runs_ok"] == 8 and m["layout"] == "consolidated"
    assert (store.path / "experiment.toml").read_text() == path.read_text()


def test_tables_carry_seeds_and_ids_and_shards_are_written_per_run(tmp_path):
    path = write_experiment(tmp_path, EXP)
    sweep(path, tmp_path / "res", consolidate=False)
    store = Store(tmp_path / "res" / "cmp")
    exp = load_experiment(path)
    ids = sorted(r.run_id for r in exp.runs)
    for table in ("runs", "kpis", "timeseries"):
        assert list(store.shards(table)) == ids, table
    assert not list(store.path.rglob("*.tmp"))
    shards = read_tables(store.path)
    runs = shards["runs"]
    assert list(runs["run_id"]) == ids and set(runs["status"]) == {"ok"}
    r = runs.set_index("run_id").loc["green-r002"]
    assert (r["seed"], r["root_seed"], r["spawn_key"]) == (seeds.run_seed(99, 0, 2), 99, "(0, 2)")
    k = shards["kpis"]
    assert list(k.columns) == ["run_id", "scenario", "point", "replicate", "seed", "kpi", "value"]
    assert len(k) == 8 * 3
    ts = shards["timeseries"]
    assert list(ts.columns) == ["run_id", "scenario", "point", "replicate", "seed", "step",
                                "year", "region", "metric", "value"]
    assert set(ts["region"]) >= {"ALL"} and ts["step"].max() == 8
    # consolidating changes the layout, not the tables
    store.consolidate()
    assert store.layout() == "consolidated" and not store.shards("runs")
    consolidated = read_tables(store.path)
    for name in shards:
        pdt.assert_frame_equal(shards[name], consolidated[name], check_exact=True)


def test_failing_run_is_recorded_the_rest_complete_and_resume_retries_it(tmp_path, monkeypatch,
                                                                          capsys):
    path = write_experiment(tmp_path, EXP)
    bad_seed = seeds.run_seed(99, 0, 1)
    monkeypatch.setenv("CLUSTER_ABM_FAKE_FAIL", str(bad_seed))
    code = main(["sweep", str(path), "--results", str(tmp_path / "res"), "--simulate", FAKE,
                 "--quiet"])
    out = capsys.readouterr().out
    assert code == 1
    assert "6 ok, 2 failed" in out and "failed baseline-r001: RuntimeError" in out
    res = load_results(tmp_path / "res" / "cmp")
    fails = res.failures()
    assert list(fails["run_id"]) == ["baseline-r001", "green-r001"]
    assert all("Traceback" in t and "fake_simulate" in t and "RuntimeError" in t
               for t in fails["traceback"])
    assert set(res.kpis["run_id"]) == {r for r in res.runs["run_id"]} - set(fails["run_id"])
    assert res.manifest["status"] == "complete_with_failures"
    # fixed (here: the fake is told to stop failing), a resume reruns only the failed runs
    monkeypatch.delenv("CLUSTER_ABM_FAKE_FAIL")
    summary = sweep(path, tmp_path / "res")
    assert (summary.skipped, summary.ok, summary.failed) == (6, 2, [])
    sweep(path, tmp_path / "clean")
    assert_same_tables(tmp_path / "res" / "cmp", tmp_path / "clean" / "cmp")


def test_resume_skips_stored_runs_and_a_changed_spec_is_refused(tmp_path, capsys):
    path = write_experiment(tmp_path, EXP)
    sweep(path, tmp_path / "res")
    before = Store(tmp_path / "res" / "cmp").read("runs")
    again = sweep(path, tmp_path / "res")
    assert (again.skipped, again.done, again.exit_code) == (8, 0, 0)
    pdt.assert_frame_equal(before, Store(tmp_path / "res" / "cmp").read("runs"))
    # more replicates of the same experiment: the store grows, the stored runs are kept
    path.write_text(EXP.replace("replicates = 4", "replicates = 5"))
    grown = sweep(path, tmp_path / "res")
    assert (grown.skipped, grown.done, grown.exit_code) == (8, 2, 0)
    after = Store(tmp_path / "res" / "cmp").read("runs")
    pdt.assert_frame_equal(before.drop(columns=list(TIMING_COLUMNS)),
                           after[after["replicate"] < 4].reset_index(drop=True)
                           .drop(columns=list(TIMING_COLUMNS)))
    # fewer replicates, or anything else changed: refused by the runner
    path.write_text(EXP.replace("replicates = 4", "replicates = 3"))
    with pytest.raises(InputError, match=r"different version .*first difference: replicates: "
                                         r"the store holds 5.*--overwrite"):
        sweep(path, tmp_path / "res")
    argv = ["sweep", str(path), "--results", str(tmp_path / "res"), "--simulate", FAKE]
    # the command line resumes the store with the replicates it holds, and says so
    assert main(argv) == 0
    assert "holds 5 replicates" in capsys.readouterr().err
    path.write_text(EXP.replace("replicates = 4", "replicates = 3").replace("seed = 99", "seed = 98"))
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("cluster-abm sweep: error: ") and "--overwrite" in err
    assert err.count("\n") == 1
    with pytest.raises(InputError, match="contradict"):
        cmd_sweep(args(add_sweep_arguments, argv[1:] + ["--overwrite", "--resume"]))
    assert cmd_sweep(args(add_sweep_arguments, argv[1:] + ["--overwrite"])) == 0
    assert len(Store(tmp_path / "res" / "cmp").read("runs")) == 6


def test_dry_run_counts_and_estimates_without_writing(tmp_path, capsys):
    path = write_experiment(tmp_path, EXP)
    res = tmp_path / "res"
    code = cmd_sweep(args(add_sweep_arguments, [str(path), "--results", str(res), "--simulate",
                                                FAKE, "--dry-run", "--workers", "2",
                                                "--executor", "processes"]))
    out = capsys.readouterr().out
    assert code == 0
    assert "8 runs (0 already stored, 8 to run)" in out
    assert "pilot run baseline-r000" in out and "estimated wall time" in out
    assert "estimated disk" in out and "/ 2 workers" in out
    assert not res.exists()


def test_progress_bar_goes_to_stderr_unless_quiet(tmp_path, capsys):
    path = write_experiment(tmp_path, EXP)
    sweep(path, tmp_path / "res", quiet=False)
    err = capsys.readouterr().err
    assert "8/8" in err and "run/s" in err
    sweep(path, tmp_path / "res2")
    assert capsys.readouterr().err == ""


def test_replay_matches_to_the_bit_and_reports_the_first_difference(tmp_path, capsys):
    text = EXP + '[design]\nkind = "grid"\n[design.params]\n"funding.eu_budget" = [500.0, 900.0]\n'
    path = write_experiment(tmp_path, text)
    res_dir = tmp_path / "res"
    sweep(path, res_dir)
    replay_args = ["--results", str(res_dir), "--simulate", FAKE]  # not the project's model: named
    assert cmd_replay(args(add_replay_arguments, ["green-r003", *replay_args])) == 0
    assert capsys.readouterr().out.startswith("match: green-r003")
    assert replay("p0002-r001", res_dir, experiment=path, simulate=FAKE).match
    # tamper with one stored KPI by one ulp: replay must notice
    kp = Store(res_dir / "cmp").consolidated_path("kpis")
    t = pq.read_table(kp)
    values = t["value"].to_numpy().copy()
    row = int(np.flatnonzero(t["run_id"].to_numpy(zero_copy_only=False) == "green-r003")[1])
    values[row] = np.nextafter(values[row], np.inf)
    pq.write_table(t.set_column(t.schema.get_field_index("value"), "value", pa.array(values)),
                   kp)
    assert cmd_replay(args(add_replay_arguments, ["green-r003", *replay_args])) == 1
    out = capsys.readouterr().out
    assert "green-r003: kpis differ: row 1" in out and "column value" in out
    assert main(["replay", "nope-r000", "--results", str(res_dir)]) == 2
    assert "no stored run 'nope-r000'" in capsys.readouterr().err


def test_results_api_kpi_table_and_paired_effects(tmp_path):
    path = write_experiment(tmp_path, EXP)
    sweep(path, tmp_path / "res", consolidate=False)  # readers accept shards too
    res = load_results("cmp", results_dir=tmp_path / "res")
    wide = res.kpi_table()
    assert len(wide) == 8
    assert {"run_id", "scenario", "replicate", "seed", "mean_employment"} <= set(wide.columns)
    eff = res.paired_effects()
    assert set(eff["scenario"]) == {"green"} and len(eff) == 3
    e = eff.set_index("kpi").loc["mean_employment"]
    b = wide[wide.scenario == "baseline"].set_index("seed")["mean_employment"]
    g = wide[wide.scenario == "green"].set_index("seed")["mean_employment"]
    d = (g - b.loc[g.index]).to_numpy()
    half = stats.t.ppf(0.975, 3) * d.std(ddof=1) / math.sqrt(4)
    assert e["n"] == 4 and e["mean_diff"] == pytest.approx(d.mean())
    assert (e["ci_low"], e["ci_high"]) == pytest.approx((d.mean() - half, d.mean() + half))
    assert e["rel_effect"] == pytest.approx(d.mean() / abs(b.mean()))
    assert e["sd_diff"] > 0 and bool(e["significant"]) == (e["ci_low"] > 0 or e["ci_high"] < 0)
    narrow = res.paired_effects(level=0.5).set_index("kpi").loc["mean_employment"]
    assert e["ci_low"] < narrow["ci_low"] < narrow["ci_high"] < e["ci_high"]
    # KPIs the scenario does not touch: common random numbers make the pairs identical
    same = eff.set_index("kpi").loc["final_firms"]
    assert (same["mean_diff"], same["ci_low"], same["ci_high"]) == (0.0, 0.0, 0.0)
    assert not same["significant"]
    with pytest.raises(InputError, match="not a scenario"):
        res.paired_effects(baseline="nope")
    ts = res.timeseries_where(metrics=["firms"], regions=["ALL"], scenarios=["green"])
    assert set(ts["metric"]) == {"firms"} and set(ts["run_id"]) == {f"green-r00{i}"
                                                                     for i in range(4)}


def test_store_writes_atomically_and_ignores_leftover_temp_files(tmp_path):
    store = Store(tmp_path / "s")
    store.prepare()
    target = store.shard_path("runs", "x-r000")
    atomic_write(target, b"abc")
    assert target.read_bytes() == b"abc" and not list(store.path.rglob("*.tmp"))
    stale = store.shard_dir("runs") / ".part-y-r000.parquet.123.tmp"
    stale.write_bytes(b"half a fi")
    assert list(store.shards("runs")) == ["x-r000"]  # readers never see temp files
    store.prepare()  # a resumed sweep sweeps them away
    assert not stale.exists()


def test_default_target_is_the_same_everywhere():
    assert DEFAULT_TARGET == WORKER_TARGET == "cluster_abm.model.simulate:simulate"
    assert json.loads(json.dumps({"ok": True}))  # keep json import honest for ruff


def test_a_sweep_keeps_one_spun_up_world_per_seed_in_its_store(tmp_path, monkeypatch):
    """Scenarios that differ only in levers share each seed's spun-up world, kept (checksummed) in
    the store's snapshots/ and reused on a rerun; tables equal those of runs without it."""
    small = '[params]\n"sim.n_firms" = 150\n"sim.spinup_years" = 2\n'
    (tmp_path / "small_base.toml").write_text('extends = "baseline"\n' + small)
    (tmp_path / "small_sme.toml").write_text('extends = "sme_networks"\n' + small)
    path = write_experiment(tmp_path, """
name = "warm"
scenarios = ["small_base.toml", "small_sme.toml"]
replicates = 2
seed = 5
years = 1
[execution]
executor = "serial"
""", green=False)
    run_experiment(path, results_dir=tmp_path / "res", quiet=True)
    snaps = sorted((tmp_path / "res" / "warm" / "snapshots").glob("*.json"))
    assert len(snaps) == 2  # two seeds, two scenarios: one spin-up per seed
    # Runs that spin up themselves (no store of snapshots to start from) give the same tables.
    from cluster_abm.experiments import runner

    cold_tasks = runner._tasks
    monkeypatch.setattr(runner, "_tasks", lambda exp, runs, target, store=None: cold_tasks(exp, runs, target))
    monkeypatch.setenv("CLUSTER_ABM_SPINUP_CACHE", "off")
    run_experiment(path, results_dir=tmp_path / "cold", quiet=True)
    assert_same_tables(tmp_path / "res" / "warm", tmp_path / "cold" / "warm")
