"""Serial, process-pool and Dask execution give identical tables, failures included."""

from __future__ import annotations

import pytest

from cluster_abm.experiments import seeds
from cluster_abm.experiments.executors import (
    CHUNK_SECONDS,
    MAX_CHUNK,
    DaskExecutor,
    _run_chunk,
    make_executor,
)
from cluster_abm.experiments.runner import run_experiment
from cluster_abm.experiments.store import Store
from tests.fakes import FAKE, assert_same_tables, read_tables, write_experiment

EXP = """
name = "eq"
scenarios = ["baseline", "green"]
replicates = 3
seed = 4242
years = 2
[outputs]
series_every = 2
[design]
kind = "lhs"
samples = 3
[design.params]
"funding.eu_budget" = { low = 500.0, high = 8000.0 }
"""


def test_serial_processes_and_dask_give_identical_tables(tmp_path, monkeypatch):
    path = write_experiment(tmp_path, EXP)
    # one failing run (replicate 2 of design point 1), to check failures are identical too
    monkeypatch.setenv("CLUSTER_ABM_FAKE_FAIL", str(seeds.run_seed(4242, 1, 2)))
    summaries = {}
    for executor in ("serial", "processes", "dask"):
        summaries[executor] = run_experiment(path, results_dir=tmp_path / executor,
                                             executor=executor, workers=2, simulate=FAKE,
                                             quiet=True)
    for executor, s in summaries.items():
        assert (s.ok, [f[0] for f in s.failed], s.exit_code) == (14, ["p0001-r002"], 1), executor
    assert summaries["dask"].executor == "dask (LocalCluster, 2 workers)"
    assert summaries["processes"].executor == "processes (2 workers)"
    serial = tmp_path / "serial" / "eq"
    assert_same_tables(serial, tmp_path / "processes" / "eq")
    assert_same_tables(serial, tmp_path / "dask" / "eq")
    tables = read_tables(serial)
    assert len(tables["runs"]) == 15 and len(tables["kpis"]) == 14 * 3
    # runs came from two worker processes, yet the stored order is the run-id order
    workers = set(Store(tmp_path / "processes" / "eq").read("runs")["worker"])
    assert len(workers) == 2
    assert list(tables["runs"]["run_id"]) == sorted(tables["runs"]["run_id"])


def test_unknown_executor_is_refused():
    with pytest.raises(ValueError, match="unknown executor"):
        make_executor("threads")


def test_a_dying_worker_takes_only_its_run_and_resume_finishes_it(tmp_path, monkeypatch):
    """Before issue 20 a run that killed its worker stopped the whole sweep ('stopped', nothing
    more stored); now it is that run's failure (tried twice) and the sweep goes on."""
    path = write_experiment(tmp_path, 'name = "crash"\nscenarios = ["baseline"]\nreplicates = 6\n'
                                      "seed = 3\nyears = 1\n")
    monkeypatch.setenv("CLUSTER_ABM_FAKE_CRASH", str(seeds.run_seed(3, 0, 4)))
    s = run_experiment(path, results_dir=tmp_path, executor="processes", workers=2,
                       simulate=FAKE, quiet=True)
    assert s.exit_code == 1 and not s.worker_lost and s.ok == 5
    assert [run for run, _ in s.failed] == ["baseline-r004"]
    assert "worker lost: its process exited with status 3" in s.failed[0][1]
    store = Store(tmp_path / "crash")
    assert store.read_manifest()["status"] == "complete_with_failures"
    assert store.run_status() == {f"baseline-r00{i}": "failed" if i == 4 else "ok"
                                  for i in range(6)}
    monkeypatch.delenv("CLUSTER_ABM_FAKE_CRASH")
    s2 = run_experiment(path, results_dir=tmp_path, executor="processes", workers=2,
                        simulate=FAKE, quiet=True)
    assert s2.exit_code == 0 and (s2.skipped, s2.ok) == (5, 1)


def test_dask_with_an_existing_scheduler(tmp_path):
    from distributed import LocalCluster

    # 40 short runs: after the first few, Dask gets them in chunks of several runs per task
    path = write_experiment(tmp_path, 'name = "sched"\nscenarios = ["baseline", "green"]\n'
                                      "replicates = 20\nseed = 8\nyears = 1\n")
    run_experiment(path, results_dir=tmp_path / "serial", executor="serial", simulate=FAKE,
                   quiet=True)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster:
        s = run_experiment(path, results_dir=tmp_path / "remote", executor="dask",
                           scheduler=cluster.scheduler_address, simulate=FAKE, quiet=True)
    assert s.exit_code == 0 and s.executor.startswith("dask (scheduler tcp://")
    assert_same_tables(tmp_path / "serial" / "sched", tmp_path / "remote" / "sched")


def test_dask_chunks_short_runs_but_leaves_every_worker_several_chunks():
    ex = DaskExecutor.__new__(DaskExecutor)  # no cluster needed for the sizing rule
    ex.workers = 4
    assert ex._chunk_size(None, 1000, 0) == 1  # run time unknown yet
    assert ex._chunk_size(0.05, 10_000, 0) == int(CHUNK_SECONDS / 0.05)
    assert ex._chunk_size(0.001, 10_000, 0) == MAX_CHUNK
    assert ex._chunk_size(0.05, 100, 60) == 2  # (100 - 60) // (4 * 4 workers)
    assert ex._chunk_size(2.0, 10_000, 0) == 1  # long runs go one by one
    values, _ = _run_chunk(lambda x: 10 // x, [5, 0, 2])
    assert values[0] == (2, None) and values[2] == (5, None)
    assert isinstance(values[1][1], ZeroDivisionError)
