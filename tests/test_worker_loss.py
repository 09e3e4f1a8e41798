"""A worker that dies takes only its run with it (issue 20). Under the processes executor a run
that kills its worker process (``os._exit``, SIGKILL as the OOM killer sends it) is tried once
more in a fresh process; if that dies too the run is recorded as failed -- worker lost, with the
exit status or the signal -- and the sweep goes on. Every other run is stored, run exactly once,
to the same numbers as a serial sweep. Before, such a run stopped the sweep with nothing more
stored, every time, so it could never finish."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pandas.testing as pdt
import pytest

from cluster_abm.experiments import seeds
from cluster_abm.experiments.executors import make_executor
from cluster_abm.experiments.results import load_results
from cluster_abm.experiments.runner import run_experiment
from cluster_abm.experiments.store import Store
from tests.fakes import FAKE, fake_simulate, read_tables, write_experiment

TARGET = "tests.test_worker_loss:dying_simulate"
EXP = """
name = "loss"
scenarios = ["baseline", "green"]
replicates = 5
seed = 21
years = 2
"""
N_RUNS = 10


def dying_simulate(scenario, seed, years=None, **kw):
    """The fake model, with ways to die steered by environment variables (inherited by the
    spawned workers): LOSS_EXIT / LOSS_KILL = a seed whose run calls os._exit(3) / is killed by
    SIGKILL; LOSS_ONCE = a folder: the run of LOSS_EXIT dies only the first time; LOSS_LOG = a
    file to which every run appends its scenario and seed as it starts."""
    log = os.environ.get("LOSS_LOG")
    if log:
        with open(log, "a") as fh:
            fh.write(f"{scenario.name} {seed}\n")
    if str(seed) == os.environ.get("LOSS_KILL"):
        os.kill(os.getpid(), signal.SIGKILL)
    if str(seed) == os.environ.get("LOSS_EXIT"):
        once = os.environ.get("LOSS_ONCE")
        marker = Path(once) / f"died-{seed}" if once else None
        if marker is None or not marker.exists():
            if marker is not None:
                marker.write_text("x")
            os._exit(3)
    return fake_simulate(scenario, seed, years, **kw)


@pytest.fixture
def log(tmp_path, monkeypatch):
    path = tmp_path / "starts.log"
    monkeypatch.setenv("LOSS_LOG", str(path))
    return path


def _starts(log: Path) -> list[str]:
    return log.read_text().splitlines()


def _without_errors(tables):
    tables["runs"] = tables["runs"].drop(columns=["error", "traceback"])
    return tables


def test_a_run_that_kills_its_worker_fails_alone_and_the_sweep_goes_on(tmp_path, monkeypatch,
                                                                       log):
    path = write_experiment(tmp_path, EXP)
    bad = seeds.run_seed(21, 0, 3)  # replicate 3: baseline-r003 and green-r003
    monkeypatch.setenv("LOSS_EXIT", str(bad))
    s = run_experiment(path, results_dir=tmp_path / "res", executor="processes", workers=2,
                       simulate=TARGET, quiet=True)
    assert s.exit_code == 1 and not s.worker_lost and s.ok == N_RUNS - 2
    assert [run for run, _ in s.failed] == ["baseline-r003", "green-r003"]
    for _, error in s.failed:
        assert error.startswith("WorkerLost: worker lost: its process exited with status 3")
        assert "run a second time in a fresh process" in error
    # each bad run was tried twice, every other run exactly once
    starts = _starts(log)
    assert len(starts) == N_RUNS + 2
    assert sum(line.endswith(f" {bad}") for line in starts) == 4
    res = load_results(tmp_path / "res" / "loss")
    assert res.manifest["status"] == "complete_with_failures"
    assert len(res.manifest["sessions"][-1]["workers_lost"]) == 4
    assert "WorkerLost" in res.failures()["traceback"].iloc[0]
    # what was stored is what a serial sweep stores (the two runs failing there by exception)
    monkeypatch.delenv("LOSS_EXIT")
    monkeypatch.setenv("CLUSTER_ABM_FAKE_FAIL", str(bad))
    run_experiment(path, results_dir=tmp_path / "ref", executor="serial", simulate=FAKE,
                   quiet=True)
    got = _without_errors(read_tables(tmp_path / "res" / "loss"))
    want = _without_errors(read_tables(tmp_path / "ref" / "loss"))
    for name in got:
        pdt.assert_frame_equal(got[name], want[name], check_exact=True, obj=name)
    # fixed, a resume runs the two lost runs and nothing else
    monkeypatch.delenv("CLUSTER_ABM_FAKE_FAIL")
    again = run_experiment(path, results_dir=tmp_path / "res", executor="processes", workers=2,
                           simulate=TARGET, quiet=True)
    assert (again.exit_code, again.skipped, again.ok) == (0, N_RUNS - 2, 2)


def test_the_signal_that_killed_the_worker_is_named(tmp_path, monkeypatch, log):
    path = write_experiment(tmp_path, EXP.replace("replicates = 5", "replicates = 2"))
    monkeypatch.setenv("LOSS_KILL", str(seeds.run_seed(21, 0, 1)))
    s = run_experiment(path, results_dir=tmp_path / "res", executor="processes", workers=2,
                       simulate=TARGET, quiet=True)
    assert s.ok == 2 and len(s.failed) == 2
    assert all("killed by SIGKILL (9)" in error for _, error in s.failed)
    assert Store(tmp_path / "res" / "loss").run_status() == {
        "baseline-r000": "ok", "baseline-r001": "failed", "green-r000": "ok", "green-r001": "failed"}


def test_a_worker_that_dies_once_costs_nothing(tmp_path, monkeypatch, log):
    path = write_experiment(tmp_path, EXP)
    bad = seeds.run_seed(21, 0, 2)
    monkeypatch.setenv("LOSS_EXIT", str(bad))
    monkeypatch.setenv("LOSS_ONCE", str(tmp_path))
    s = run_experiment(path, results_dir=tmp_path / "res", executor="processes", workers=2,
                       simulate=TARGET, quiet=True)
    assert (s.exit_code, s.ok, s.failed) == (0, N_RUNS, [])
    assert [how for _, how in s.workers_lost] == ["its process exited with status 3"]
    assert "worker lost running" in s.format()
    assert len(_starts(log)) == N_RUNS + 1
    run_experiment(path, results_dir=tmp_path / "ref", executor="serial", simulate=FAKE,
                   quiet=True)
    got, want = read_tables(tmp_path / "res" / "loss"), read_tables(tmp_path / "ref" / "loss")
    for name in got:
        pdt.assert_frame_equal(got[name], want[name], check_exact=True, obj=name)


def _square_or_die(x: int) -> int:
    if x == 2:
        os._exit(7)
    return x * x


def test_the_executor_keeps_the_other_workers_running():
    """Item 2 kills its worker twice; the other worker is never restarted (processes started:
    the two workers and one fresh process per death)."""
    with make_executor("processes", 2, malloc_tuning=False) as ex:
        out = {item: (value, type(exc).__name__ if exc else None)
               for item, value, exc in ex.map_unordered(_square_or_die, range(8))}
    assert out[2] == (None, "WorkerLost")
    assert {k: v for k, v in out.items() if k != 2} == {k: (k * k, None) for k in range(8)
                                                         if k != 2}
    assert [how for _, how in ex.deaths] == ["its process exited with status 7"] * 2
    assert ex.started == 2 + 2
