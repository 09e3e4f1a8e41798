"""What runs inside a worker: resolve the model function, simulate one run, pack its outputs.

Kept apart from the runner so worker processes (spawned, or Dask workers on other machines) only
import this small module, the model and pyarrow. The model function is named by an import path
string such as ``"cluster_abm.model.simulate:simulate"`` and resolved here, in the worker: tasks stay
small and picklable, and tests can substitute a fake model.

A run that raises is not an error of the sweep: :func:`execute` catches it and returns a
``failed`` outcome with the traceback, so one bad corner of a design does not stop the rest.
The outputs are serialised to Parquet bytes here, so encoding runs in parallel and the runner
process only writes bytes to disk.
"""

from __future__ import annotations

import datetime as _dt
import importlib
import json
import os
import socket
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pyarrow as pa

from cluster_abm.experiments.experiment_spec import Outputs, Run
from cluster_abm.experiments.store import SCHEMAS, to_parquet_bytes
from cluster_abm.specs.scenario import Scenario

DEFAULT_TARGET = "cluster_abm.model.simulate:simulate"
TS_COLUMNS = ("step", "year", "region", "metric", "value")


@dataclass(frozen=True)
class Task:
    """Everything a worker needs for one run (picklable: plain data and an import path)."""

    run: Run
    scenario: Scenario
    target: str
    years: int | None
    outputs: Outputs
    spinup_cache: str | None = None  # spun-up worlds of the sweep (its store's snapshots/)


@dataclass(frozen=True)
class Outcome:
    """One finished run, ready to store: its ``runs`` row and serialised output shards."""

    run_id: str
    status: str
    error: str
    wall_time: float
    runs: bytes
    kpis: bytes | None
    timeseries: bytes | None
    lever_costs: bytes | None = None

    @property
    def nbytes(self) -> int:
        return (len(self.runs) + len(self.kpis or b"") + len(self.timeseries or b"")
                + len(self.lever_costs or b""))


# Targets that result manifests written before the package's layout change name.
LEGACY_TARGETS = {"cluster_abm.simulate:simulate": DEFAULT_TARGET}


def canonical_target(target: str) -> str:
    """The current import path of a simulate target (manifests may name a legacy one)."""
    return LEGACY_TARGETS.get(target, target)


@lru_cache(maxsize=8)
def resolve_target(target: str) -> Callable[..., Any]:
    """Import ``"package.module:function"``; raise ``ValueError`` with a readable reason."""
    module_name, sep, attr = canonical_target(target).partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"simulate target must look like 'package.module:function', "
                         f"got {target!r}")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(f"cannot import {module_name!r} for simulate target {target!r}: "
                         f"{exc}") from exc
    obj = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ValueError(f"{module_name!r} has no {attr!r} (simulate target "
                             f"{target!r})") from None
    if not callable(obj):
        raise ValueError(f"simulate target {target!r} is not callable")
    return obj


def execute(task: Task) -> Outcome:
    """Simulate one run and pack it; never raises for a failure of the model itself."""
    run = task.run
    started = _dt.datetime.now(_dt.UTC).isoformat(timespec="milliseconds")
    t0 = time.perf_counter()
    c0 = time.thread_time()
    kpis = timeseries = lever_costs = None
    n_kpis = n_rows = 0
    try:
        simulate = resolve_target(task.target)
        # The model's own simulate starts warm from the sweep's spun-up worlds; others get none.
        warm = ({"spinup_cache": task.spinup_cache}
                if task.spinup_cache and canonical_target(task.target) == DEFAULT_TARGET else {})
        # [] records no series; the model is asked for one (its timeseries() needs a name) and
        # timeseries_arrow keeps none of it
        series = None if task.outputs.series is None else list(task.outputs.series) or ["firms"]
        result = simulate(task.scenario, run.seed, task.years,
                          series_every=task.outputs.series_every, series=series,
                          regions=task.outputs.regions, **warm)
        kpi_table = kpi_arrow(run, result.kpis, task.outputs.kpis)
        ts_table = timeseries_arrow(run, result.timeseries, task.outputs)
        n_kpis, n_rows = kpi_table.num_rows, ts_table.num_rows
        kpis = to_parquet_bytes(kpi_table)
        timeseries = to_parquet_bytes(ts_table) if n_rows else None
        costs = getattr(result, "lever_costs", None)  # models that do not report them: none
        if costs is not None:
            lever_costs = to_parquet_bytes(lever_costs_arrow(
                run, costs, task.scenario.param("sim.steps_per_year")))
        status, error, tb = "ok", "", ""
    except Exception as exc:  # the run failed; record it and let the sweep go on
        status = "failed"
        error = f"{type(exc).__name__}: {exc}"
        tb = traceback.format_exc()
        kpis = timeseries = lever_costs = None
        n_kpis = n_rows = 0
    wall = time.perf_counter() - t0
    record = runs_arrow(run, status=status, error=error, traceback=tb, wall_time=wall,
                        cpu_time=time.thread_time() - c0, started=started, worker=f"{socket.gethostname()}:{os.getpid()}",
                        n_kpis=n_kpis, n_rows=n_rows)
    return Outcome(run.run_id, status, error, wall, to_parquet_bytes(record), kpis, timeseries,
                   lever_costs)


# --- tables -------------------------------------------------------------------------------------
def runs_arrow(run: Run, *, status: str, error: str, traceback: str, wall_time: float,
               started: str, worker: str, n_kpis: int, n_rows: int,
               cpu_time: float = 0.0) -> pa.Table:
    """The one-row ``runs`` table of a run."""
    row = {
        "run_id": run.run_id, "scenario": run.scenario, "point": run.point,
        "point_key": run.point_key, "replicate": run.replicate, "seed": run.seed,
        "root_seed": run.root_seed, "spawn_key": str(run.spawn_key),
        "params": json.dumps(run.params, sort_keys=True), "status": status, "error": error,
        "traceback": traceback, "wall_time": wall_time, "cpu_time": cpu_time,
        "started": started, "worker": worker,
        "n_kpis": n_kpis, "n_rows": n_rows,
    }
    return pa.Table.from_pylist([row], schema=SCHEMAS["runs"])


def _id_columns(run: Run, n: int) -> dict[str, pa.Array]:
    return {
        "run_id": pa.array([run.run_id] * n, pa.string()),
        "scenario": pa.array([run.scenario] * n, pa.string()),
        "point": pa.array(np.full(n, run.point, dtype=np.int64)),
        "replicate": pa.array(np.full(n, run.replicate, dtype=np.int64)),
        "seed": pa.array(np.full(n, run.seed, dtype=np.int64)),
    }


def kpi_arrow(run: Run, kpis: Any, wanted: tuple[str, ...] | None) -> pa.Table:
    """Long KPI rows of a run: the wanted KPIs in the order asked, else all, sorted by name."""
    if not hasattr(kpis, "items"):
        raise TypeError(f"simulate returned kpis of type {type(kpis).__name__}, expected a dict")
    if wanted is None:
        names = sorted(kpis)
    else:
        missing = [k for k in wanted if k not in kpis]
        if missing:
            raise KeyError(f"simulate returned no KPI {missing[0]!r} (it returned: "
                           f"{', '.join(sorted(map(str, kpis)))})")
        names = list(wanted)
    values = np.array([float(kpis[k]) for k in names], dtype=np.float64)
    cols = _id_columns(run, len(names))
    cols["kpi"] = pa.array([str(k) for k in names], pa.string())
    cols["value"] = pa.array(values)
    return pa.table(cols, schema=SCHEMAS["kpis"])


def timeseries_arrow(run: Run, frame: Any, outputs: Outputs) -> pa.Table:
    """Long time-series rows of a run, in the model's row order, restricted to what was asked."""
    if frame is None:
        return SCHEMAS["timeseries"].empty_table()
    missing = [c for c in TS_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"simulate returned a timeseries without column(s) {missing}; "
                         f"expected {list(TS_COLUMNS)}")
    keep = np.ones(len(frame), dtype=bool)
    metric = frame["metric"].astype(str).to_numpy(dtype=object)
    region = frame["region"].astype(str).to_numpy(dtype=object)
    if outputs.series is not None:
        keep &= np.isin(metric, np.array(outputs.series, dtype=object))
    if not outputs.regions:
        keep &= region == "ALL"
    step = frame["step"].to_numpy()
    if step.dtype.kind not in "iu":
        as_int = step.astype(np.int64)
        if not np.array_equal(as_int, step):
            raise ValueError("simulate returned non-integer steps in its timeseries")
        step = as_int
    n = int(keep.sum())
    cols = _id_columns(run, n)
    cols["step"] = pa.array(step[keep].astype(np.int64))
    cols["year"] = pa.array(frame["year"].to_numpy(dtype=np.float64)[keep])
    cols["region"] = pa.array(region[keep].tolist(), pa.string())
    cols["metric"] = pa.array(metric[keep].tolist(), pa.string())
    cols["value"] = pa.array(frame["value"].to_numpy(dtype=np.float64)[keep])
    return pa.table(cols, schema=SCHEMAS["timeseries"])


LEVER_COST_COLUMNS = ("step", "lever", "region", "cost")


def lever_costs_arrow(run: Run, frame: Any, steps_per_year: int) -> pa.Table:
    """Rows of what each lever spent (``ClusterModel.lever_costs()``: step, lever, region, cost
    in k€ of the real region), with the run's id columns and the policy year of each step."""
    missing = [c for c in LEVER_COST_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"simulate returned lever_costs without column(s) {missing}; "
                         f"expected {list(LEVER_COST_COLUMNS)}")
    n = len(frame)
    step = frame["step"].to_numpy().astype(np.int64)
    cols = _id_columns(run, n)
    cols["step"] = pa.array(step)
    cols["year"] = pa.array(step / float(steps_per_year))
    cols["lever"] = pa.array(frame["lever"].astype(str).tolist(), pa.string())
    cols["region"] = pa.array(frame["region"].astype(str).tolist(), pa.string())
    cols["cost"] = pa.array(frame["cost"].to_numpy(dtype=np.float64))
    return pa.table(cols, schema=SCHEMAS["lever_costs"])
