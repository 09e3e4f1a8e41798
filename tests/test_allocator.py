"""glibc allocator tuning is an opt-in of the runner's worker processes, never a side effect of
building a model (cluster_abm.experiments.allocator)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from cluster_abm.experiments.allocator import allocator_tuned
from cluster_abm.experiments.executors import make_executor
from cluster_abm.experiments.runner import run_experiment
from cluster_abm.experiments.store import Store
from tests.fakes import fake_simulate, write_experiment

LINUX = sys.platform.startswith("linux")


def _python(code: str, **env: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, **env})
    return out.stdout.strip()


def test_tuning_is_applied_on_linux_and_can_be_turned_off():
    code = "from cluster_abm.experiments.allocator import tune_allocator; print(tune_allocator())"
    assert _python(code, CLUSTER_ABM_MALLOC_TUNING="0") == "False"
    if LINUX:
        assert _python(code) == "True"


def test_building_and_running_a_model_leaves_the_allocator_alone():
    code = ("from cluster_abm.model.cluster_model import ClusterModel\n"
            "ClusterModel('baseline', seed=1, params={'sim.n_firms': 200}).run(0.5)\n"
            "from cluster_abm.experiments.allocator import allocator_tuned\n"
            "print(allocator_tuned())")
    assert _python(code) == "None"


def _probe(_item) -> bool | None:
    return allocator_tuned()


@pytest.mark.parametrize("tuning", [True, False])
def test_process_workers_tune_when_asked_and_serial_runs_never(tuning):
    with make_executor("processes", 1, malloc_tuning=tuning) as ex:
        [(_, in_worker, exc)] = list(ex.map_unordered(_probe, [0]))
    assert exc is None
    assert in_worker == (LINUX if tuning else None)
    before = allocator_tuned()
    with make_executor("serial", malloc_tuning=True) as ex:
        [(_, in_serial, _exc)] = list(ex.map_unordered(_probe, [0]))
    assert in_serial == before == allocator_tuned()  # this process is left as it was


def tuned_simulate(scenario, seed, years=None, **kw):
    """The fake model, with one more KPI: whether the process running it tuned its allocator."""
    result = fake_simulate(scenario, seed, years, **kw)
    result.kpis["allocator_tuned"] = float(bool(allocator_tuned()))
    return result


@pytest.mark.skipif(not LINUX, reason="glibc's mallopt")
@pytest.mark.parametrize("tuning", [True, False])
def test_run_experiment_opts_its_workers_in_by_default(tmp_path, tuning):
    path = write_experiment(tmp_path, 'name = "m"\nscenarios = ["baseline"]\nreplicates = 2\nyears = 1\n',
                            green=False)
    kw = {} if tuning else {"malloc_tuning": False}
    summary = run_experiment(path, results_dir=tmp_path, executor="processes", workers=1,
                             simulate="tests.test_allocator:tuned_simulate", quiet=True, **kw)
    assert summary.exit_code == 0, summary.format()
    kpis = Store(tmp_path / "m").read("kpis")
    assert kpis[kpis["kpi"] == "allocator_tuned"]["value"].tolist() == [float(tuning)] * 2
