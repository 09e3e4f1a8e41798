"""Evaluating parameter vectors of a calibration: simulate each over common replicate seeds and
measure its targets (the method of moments of :mod:`cluster_abm.analysis.calibration.fit`).

These pieces are shared by the fit and by its report, which re-simulates the best vector, the
defaults and one-at-a-time moves; they run in worker processes.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cluster_abm.analysis.calibration.calibration_spec import Calibration
from cluster_abm.analysis.validation.targets import observe
from cluster_abm.experiments.executors import make_executor
from cluster_abm.experiments.experiment_spec import default_workers
from cluster_abm.specs.scenario import Scenario


@dataclass(frozen=True)
class EvalTask:
    """One simulation of one parameter vector with one replicate seed (picklable)."""

    key: Any  # trial number, or a label of a report run
    replicate: int
    scenario: Scenario
    seed: int
    years: int
    from_year: int
    targets: tuple[tuple[str, str, str], ...]  # (id, measure, scope)


def evaluate(task: EvalTask) -> dict[str, Any]:
    """Simulate one task and measure its targets: {"values": {id: value}, "wall": s, ...}."""
    from cluster_abm.analysis.validation.targets import measure

    t0, c0 = time.perf_counter(), time.process_time()
    obs = observe(task.scenario, task.seed, task.years, spinup_cache=None)  # a world per trial
    values = {tid: measure(obs, meas, scope, task.from_year) for tid, meas, scope in task.targets}
    return {"values": values, "wall": time.perf_counter() - t0,
            "cpu": time.process_time() - c0, "pid": os.getpid()}


def _target_tuples(cal: Calibration) -> tuple[tuple[str, str, str], ...]:
    return tuple((t.id, t.target.measure, t.target.scope) for t in cal.all_targets())


def make_tasks(cal: Calibration, key: Any, params: dict[str, Any],
               seed_list: list[int]) -> list[EvalTask]:
    """Tasks of one parameter vector over the given seeds."""
    scenario = cal.scenario.with_params(params, source=f"{cal.source} ({key})") if params \
        else cal.scenario
    tt = _target_tuples(cal)
    return [EvalTask(key, r, scenario, s, cal.years, cal.from_year, tt)
            for r, s in enumerate(seed_list)]


def aggregate(results: list[dict[str, float]]) -> tuple[dict[str, float], dict[str, float]]:
    """Mean and standard deviation over replicates of each measure (NaNs ignored)."""
    ids = list(results[0])
    arr = np.array([[r[i] for i in ids] for r in results], dtype=float)
    n = np.isfinite(arr).sum(axis=0)
    filled = np.where(np.isfinite(arr), arr, 0.0)
    mean = np.divide(filled.sum(axis=0), n, out=np.full(len(ids), np.nan), where=n > 0)
    dev = np.where(np.isfinite(arr), arr - mean, 0.0)
    sd = np.sqrt(np.divide((dev**2).sum(axis=0), n - 1, out=np.zeros(len(ids)), where=n > 1))
    return dict(zip(ids, map(float, mean), strict=True)), dict(zip(ids, map(float, sd),
                                                                    strict=True))


def run_points(cal: Calibration, points: dict[Any, dict[str, Any]], seed_list: list[int],
               executor: str | None = None, workers: int | None = None,
               scheduler: str | None = None) -> dict[Any, list[dict[str, float]]]:
    """Simulate several parameter vectors over ``seed_list``: {key: [values per replicate]}.

    Used by the fit report (the best vector, the defaults, one-at-a-time moves) and the
    recovery tests. Failures raise: a report built on missing runs would mislead.
    """
    ex_cfg = cal.execution
    kind = executor or ex_cfg.executor
    sched = scheduler or ex_cfg.scheduler
    n = 1 if kind == "serial" else (workers or ex_cfg.workers or default_workers())
    tasks = [t for key, pv in points.items() for t in make_tasks(cal, key, pv, seed_list)]
    out: dict[Any, list] = {key: [None] * len(seed_list) for key in points}
    if kind != "dask" or not sched:
        n = max(1, min(n, len(tasks)))  # no idle processes for a handful of runs
    with make_executor(kind, n, scheduler=sched, quiet=True) as ex:
        for task, value, exc in ex.map_unordered(evaluate, tasks, total=len(tasks)):
            if exc is not None:
                raise RuntimeError(f"simulation {task.key} replicate {task.replicate} (seed "
                                   f"{task.seed}) failed: {type(exc).__name__}: {exc}") from exc
            out[task.key][task.replicate] = value["values"]
    return out


def storage_url(cal: Calibration, results_dir: str | Path) -> str:
    """The study's storage: the file's ``[storage] url``, else SQLite in results/<name>/.

    Any study spec with ``name`` and ``storage`` will do (the policy search's too)."""
    if cal.storage and cal.storage != "journal":
        return cal.storage
    folder = (Path(results_dir) / cal.name).resolve()
    if cal.storage == "journal":
        return f"journal:{folder / 'optuna.journal'}"
    return f"sqlite:///{folder / 'optuna.db'}"


def best_trial(study):
    """The completed trial with the lowest loss, or None."""
    import optuna

    done = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    return min(done, key=lambda t: t.value) if done else None
