"""A sweep killed with SIGKILL mid-way resumes to the same tables as an uninterrupted one,
without redoing the runs it had stored."""

from __future__ import annotations

import signal

import pandas.testing as pdt
import pytest

from cluster_abm.experiments.runner import run_experiment
from cluster_abm.experiments.store import Store
from tests.fakes import FAKE, assert_same_tables, start_sweep, wait_for_runs, write_experiment

EXP = """
name = "kill"
scenarios = ["baseline", "green"]
replicates = 20
seed = 77
years = 2
"""


@pytest.mark.parametrize("executor", ["serial", "processes"])
def test_sigkill_mid_sweep_then_resume(tmp_path, executor):
    path = write_experiment(tmp_path, EXP)
    results = tmp_path / "res"
    store = Store(results / "kill")
    proc = start_sweep(path, results, executor)
    wait_for_runs(proc, store, 8)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL

    stored = store.read("runs")  # everything the killed sweep committed
    n_before = len(stored)
    assert 8 <= n_before < 40, n_before
    assert store.read_manifest()["status"] == "running"
    assert store.layout() == "shards"

    summary = run_experiment(path, results_dir=results, executor="serial", simulate=FAKE,
                             quiet=True)
    assert (summary.skipped, summary.ok, summary.exit_code) == (n_before, 40 - n_before, 0)
    after = store.read("runs").set_index("run_id").loc[stored["run_id"]].reset_index()
    # not redone: start time, wall time and worker of the stored runs are untouched
    pdt.assert_frame_equal(stored, after, check_exact=True)
    assert store.read_manifest()["status"] == "complete"

    run_experiment(path, results_dir=tmp_path / "ref", executor="serial", simulate=FAKE,
                   quiet=True)
    assert_same_tables(results / "kill", tmp_path / "ref" / "kill")
