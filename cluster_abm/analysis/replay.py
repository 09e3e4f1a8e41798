"""Replay one stored run and check it reproduces its stored outputs to the bit.

Reproducibility is the runner's promise (same scenario + same seed => same outputs, whatever
executor ran it), and replay is how a reader of a paper, or the lead after a refactor, checks it
for a single run: the run is rebuilt from the experiment file named in the store's manifest
(scenarios, design point, seed), simulated in this process, and its KPI and time-series rows are
compared with the stored ones, floats bit for bit. The first difference is reported.

A results folder may come from someone else, so its manifest is data, never code: replay
imports only the project's own simulate function (:data:`~.worker.DEFAULT_TARGET`, or a legacy
name of it) or a target the user names with ``--simulate``. A store made with another target
is refused in one line that says how to name it (:func:`replay_target`).
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from cluster_abm.errors import InputError, closest
from cluster_abm.experiments.experiment_spec import (
    Experiment,
    experiment_from_dict,
    find_experiment,
)
from cluster_abm.experiments.runner import _first_difference
from cluster_abm.experiments.store import EXPERIMENT_COPY, SPEC, TIMING_COLUMNS, Store
from cluster_abm.experiments.worker import DEFAULT_TARGET, Task, canonical_target, execute
from cluster_abm.specs.toml_spec import read_toml


@dataclass
class ReplayResult:
    run_id: str
    match: bool
    message: str
    warning: str = ""


def find_run(run_id: str, results_dir: str | Path = "results",
             experiment: str | Path | None = None) -> tuple[Store, Experiment, str]:
    """Locate ``run_id`` (or ``experiment/run_id``): its store, its experiment, a warning.

    Without ``experiment`` every store under ``results_dir`` is searched; a run id found in two
    stores must be qualified. The experiment is reloaded from the file the manifest names (or
    the copy kept in the store when that file is gone); the warning says if it changed.
    """
    results_dir = Path(results_dir)
    if experiment is not None:
        exp = _load(find_experiment(experiment))
        store = Store(results_dir / exp.name)
        if not store.exists():
            raise InputError(f"no results in {store.path}; run the sweep first",
                             source=str(experiment))
    else:
        name, sep, rid = run_id.rpartition("/")
        if sep:
            run_id = rid
            stores = [Store(results_dir / name)]
        else:
            stores = sorted((Store(p.parent) for p in results_dir.glob("*/manifest.json")),
                            key=lambda s: s.path.name)
        hits = [s for s in stores if s.exists() and run_id in s.run_status()]
        if not hits:
            known = [s.path.name for s in stores]
            raise InputError(f"no stored run {run_id!r} under {results_dir} (experiments: "
                             f"{', '.join(known) or 'none'})", key="run_id")
        if len(hits) > 1:
            raise InputError(f"run {run_id!r} is in several experiments "
                             f"({', '.join(s.path.name for s in hits)}); write "
                             f"EXPERIMENT/{run_id} or pass --experiment", key="run_id")
        store = hits[0]
        exp = _experiment_of(store)
    manifest = store.read_manifest()
    warning = ""
    if exp.spec_hash != manifest.get("spec_hash"):
        where = "?"
        if (store.path / SPEC).is_file():
            where = _first_difference(json.loads((store.path / SPEC).read_text()), exp.to_dict())
        warning = (f"the experiment or its scenarios changed since the sweep (first difference: "
                   f"{where}); replaying with the current files")
    if run_id not in store.run_status():
        raise InputError(f"no stored run {run_id!r} in {store.path}; "
                         f"{closest(run_id, store.run_status())}", key="run_id")
    return store, exp, warning


def _experiment_of(store: Store) -> Experiment:
    manifest = store.read_manifest()
    source = Path(manifest.get("source", ""))
    if source.is_file():
        return _load(source)
    copy = store.path / EXPERIMENT_COPY
    if copy.is_file():  # the file moved: use the copy, scenarios still relative to the original
        return _load(copy, base_dir=source.parent)
    raise InputError(f"cannot find the experiment file {source} of {store.path}; pass "
                     "--experiment", key="run_id")


def _load(path: Path, base_dir: Path | None = None) -> Experiment:
    """An experiment file, or a sensitivity study file (whose runs are an experiment's)."""
    raw = read_toml(path)
    base_dir = base_dir or path.parent
    if "method" in raw:  # a study of cluster_abm.analysis.sensitivity.study: its own format, same runs
        from cluster_abm.analysis.sensitivity.study import study_from_dict

        return study_from_dict(raw, source=str(path), base_dir=base_dir).experiment
    return experiment_from_dict(raw, source=str(path), base_dir=base_dir)


def replay(run_id: str, results_dir: str | Path = "results",
           experiment: str | Path | None = None, simulate: str | None = None) -> ReplayResult:
    """Re-simulate one stored run and compare its outputs with the stored ones, bit for bit."""
    store, exp, warning = find_run(run_id, results_dir, experiment)
    run_id = run_id.rpartition("/")[2]
    run = exp.run(run_id)
    target = replay_target(simulate, store)
    stored_run = store.read_arrow("runs", filter=pc.field("run_id") == run_id).to_pylist()[0]
    outcome = execute(Task(run, exp.scenario_for(run), target, exp.years, exp.outputs))

    def result(match: bool, message: str) -> ReplayResult:
        return ReplayResult(run_id, match, message, warning)

    if stored_run["seed"] != run.seed:
        return result(False, f"{run_id}: the stored seed {stored_run['seed']} is not the "
                              f"experiment's {run.seed}")
    if stored_run["status"] != "ok" or outcome.status != "ok":
        if stored_run["status"] == outcome.status and stored_run["error"] == outcome.error:
            return result(True, f"match: {run_id} fails again with the stored error: "
                                f"{outcome.error}")
        return result(False, f"{run_id}: stored status {stored_run['status']} "
                              f"({stored_run['error'] or 'no error'}), replay "
                              f"{outcome.status} ({outcome.error or 'no error'})")
    for table, data, keys in (("kpis", outcome.kpis, ("kpi",)),
                              ("timeseries", outcome.timeseries, ("step", "region", "metric"))):
        stored = store.read_arrow(table, filter=pc.field("run_id") == run_id)
        fresh = pq.read_table(io.BytesIO(data)) if data else stored.schema.empty_table()
        diff = first_difference(stored, fresh, keys)
        if diff:
            return result(False, f"{run_id}: {table} differ: {diff}")
    n_k = outcome_rows(outcome.kpis)
    n_t = outcome_rows(outcome.timeseries)
    return result(True, f"match: {run_id} ({n_k} KPIs, {n_t} time-series rows identical to the "
                        "bit)")


def replay_target(simulate: str | None, store: Store) -> str:
    """The model function a replay imports: ``simulate`` when the user named one, else the
    project's own; a store made with another target is refused (its manifest could name any
    module, and importing a module runs its code)."""
    if simulate is not None:
        return simulate
    stored = store.read_manifest().get("simulate") or DEFAULT_TARGET
    if not isinstance(stored, str) or canonical_target(stored) != DEFAULT_TARGET:
        raise InputError(f"{store.path} was made with simulate {stored!r:.80}, not the project's "
                         f"own; replay imports another model function only when it is named on "
                         f"the command line: pass --simulate MODULE:FUNCTION if you trust it",
                         key="--simulate")
    return DEFAULT_TARGET


def outcome_rows(data: bytes | None) -> int:
    return pq.ParquetFile(io.BytesIO(data)).metadata.num_rows if data else 0


def first_difference(stored: pa.Table, fresh: pa.Table, keys: tuple[str, ...]) -> str:
    """Describe the first row where two tables differ ('' if equal; floats compared as bits)."""
    cols = [c for c in stored.column_names if c not in TIMING_COLUMNS]
    if stored.num_rows != fresh.num_rows:
        return f"{stored.num_rows} stored rows, {fresh.num_rows} replayed"
    for c in cols:
        a = stored[c].to_numpy(zero_copy_only=False)
        b = fresh[c].to_numpy(zero_copy_only=False)
        # floats as bits: -0.0 differs from 0.0 and NaN equals the same NaN
        differ = a.view(np.uint64) != b.view(np.uint64) if a.dtype.kind == "f" else a != b
        if np.any(differ):
            i = int(np.argmax(differ))
            where = ", ".join(f"{k}={stored[k][i].as_py()!r}" for k in keys)
            return (f"row {i} ({where}), column {c}: stored {a[i]!r}, replayed {b[i]!r}")
    return ""
