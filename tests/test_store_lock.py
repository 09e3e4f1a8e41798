"""A lock per store (issue 20): a second sweep into a busy store refuses in one line naming the
holder, the first completes untouched; a lock left by a process that died is taken over.
Before the lock, two sweeps into one store both ran everything, and in 3 of 5 trials one
crashed with FileNotFoundError and left the manifest at "stopped" with every run stored."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys

import pytest

from cluster_abm.cli.main import main
from cluster_abm.experiments import store_lock
from cluster_abm.experiments.runner import run_experiment
from cluster_abm.experiments.store import Store
from cluster_abm.experiments.store_lock import LOCK, StoreBusy, StoreLock, holder
from tests.fakes import FAKE, assert_same_tables, start_sweep, wait_for_runs, write_experiment

EXP = """
name = "busy"
scenarios = ["baseline", "green"]
replicates = 15
seed = 12
years = 2
"""
N_RUNS = 30


def one_line(text: str, *needles: str) -> None:
    assert text.count("\n") == 1 and text.endswith("\n"), text
    for n in needles:
        assert n in text, (n, text)


def test_two_concurrent_sweeps_one_refuses_naming_the_holder_the_other_completes(tmp_path):
    path = write_experiment(tmp_path, EXP)
    results = tmp_path / "res"
    store = Store(results / "busy")
    first = start_sweep(path, results, "processes", sleep="0.5")  # 30 runs: about 8 s
    try:
        wait_for_runs(first, store, 2)
        second = start_sweep(path, results, "serial", sleep="0")
        _, err = second.communicate(timeout=120)
        assert second.returncode == 2
        one_line(err.decode(), "cluster-abm sweep: error:", "is in use by another sweep",
                 f"pid {first.pid} on {socket.gethostname()}", "cmd_sweep.py sweep")
        assert first.poll() is None  # the refused sweep did not disturb the running one
        assert first.wait(timeout=300) == 0, first.stderr.read().decode()
    finally:
        if first.poll() is None:
            first.kill()
        first.stderr.close()
    assert store.read_manifest()["status"] == "complete"
    assert len(store.read_manifest()["sessions"]) == 1  # only the first one ever wrote
    assert not (store.path / LOCK).exists() and holder(store.path) is None
    run_experiment(path, results_dir=tmp_path / "ref", executor="serial", simulate=FAKE,
                   quiet=True)
    assert_same_tables(store.path, tmp_path / "ref" / "busy")


def test_a_lock_left_by_a_killed_sweep_is_taken_over(tmp_path, capsys):
    path = write_experiment(tmp_path, EXP)
    results = tmp_path / "res"
    store = Store(results / "busy")
    proc = start_sweep(path, results, "serial")
    wait_for_runs(proc, store, 3)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stderr.close()
    left = json.loads((store.path / LOCK).read_text())
    assert left["pid"] == proc.pid  # the file stays; the kernel has released the lock
    assert holder(store.path) is None
    summary = run_experiment(path, results_dir=results, executor="serial", simulate=FAKE)
    err = capsys.readouterr().err
    assert f"took over the lock of {store.path / LOCK}, left by pid {proc.pid}" in err
    assert summary.exit_code == 0 and summary.skipped >= 3
    assert not (store.path / LOCK).exists()
    run_experiment(path, results_dir=tmp_path / "ref", executor="serial", simulate=FAKE,
                   quiet=True)
    assert_same_tables(store.path, tmp_path / "ref" / "busy")


def test_a_busy_store_is_refused_before_anything_is_read_or_written(tmp_path, capsys):
    path = write_experiment(tmp_path, EXP)
    results = tmp_path / "res"
    run_experiment(path, results_dir=results, executor="serial", simulate=FAKE, quiet=True)
    store = Store(results / "busy")
    before = {p: p.stat().st_mtime_ns for p in store.path.rglob("*") if p.is_file()}
    with StoreLock(store.path):
        info = holder(store.path)
        assert info["pid"] == os.getpid()
        with pytest.raises(StoreBusy, match=f"in use by another sweep: pid {os.getpid()}"):
            run_experiment(path, results_dir=results, simulate=FAKE, quiet=True)
        argv = ["sweep", str(path), "--results", str(results), "--simulate", FAKE, "--overwrite"]
        assert main(argv) == 2  # not even --overwrite
        one_line(capsys.readouterr().err, "is in use by another sweep")
        assert main(["verify", str(store.path)]) == 0
        assert f"a sweep is writing this store now (pid {os.getpid()}" in capsys.readouterr().out
    after = {p: p.stat().st_mtime_ns for p in store.path.rglob("*") if p.is_file()}
    assert after == before


def test_without_flock_the_file_is_the_lock_and_a_dead_holder_is_taken_over(tmp_path,
                                                                           monkeypatch):
    monkeypatch.setattr(store_lock, "fcntl", None)
    folder = tmp_path / "s"
    folder.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead_pid = int(dead.stdout)
    (folder / LOCK).write_text(json.dumps({"pid": dead_pid, "host": socket.gethostname()}))
    with StoreLock(folder) as lock:
        assert lock.took_over.startswith(f"pid {dead_pid}")
        assert json.loads((folder / LOCK).read_text())["pid"] == os.getpid()
        with pytest.raises(StoreBusy, match=f"pid {os.getpid()}.*delete"):
            StoreLock(folder).acquire()
    assert not (folder / LOCK).exists()
    # a holder on another machine cannot be checked: it is respected
    (folder / LOCK).write_text(json.dumps({"pid": 1, "host": "elsewhere"}))
    with pytest.raises(StoreBusy, match="pid 1 on elsewhere"):
        StoreLock(folder).acquire()
