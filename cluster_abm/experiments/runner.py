"""Run an experiment into its store: resume, progress, failures, dry runs, provenance.

:func:`run_experiment` is the whole sweep: take the store's lock (:mod:`.store_lock`: a
second sweep into a busy store refuses, naming the holder), check the store (resume when it
holds the same experiment run by the same model code, refuse when either changed unless
``overwrite``), verify the checksums of what it holds and repair it (:mod:`.integrity`: damaged
or missing files cost their runs, which run again), write the manifest, run every run not yet
stored on the chosen executor with a progress bar, store each run as it finishes, record
failures without stopping (a run that kills its worker process included), and consolidate the
shards at the end. Ctrl-C (or SIGTERM, or SIGKILL) leaves a store that the next call completes;
so does a full disk, after which the manifest's status is ``disk_full``.

Results never depend on the executor or on completion order: each run's seed comes from the
experiment (:mod:`.seeds`), each run is stored under its id, and the tables are read in run-id
order (:mod:`.store`).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import importlib.metadata
import json
import platform
import subprocess
import sys
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from cluster_abm.errors import InputError
from cluster_abm.experiments.executors import make_executor
from cluster_abm.experiments.experiment_spec import (
    Experiment,
    canonical_json,
    default_workers,
    load_experiment,
    same_but_replicates,
)
from cluster_abm.experiments.run_summary import RunSummary, Stop
from cluster_abm.experiments.store import (
    EXPERIMENT_COPY,
    RESERVE_MIN,
    SCHEMAS,
    SPEC,
    TABLES,
    Store,
    is_disk_full,
    to_parquet_bytes,
)
from cluster_abm.experiments.store_lock import StoreLock
from cluster_abm.experiments.worker import (
    DEFAULT_TARGET,
    Outcome,
    Task,
    canonical_target,
    execute,
    resolve_target,
    runs_arrow,
)

PACKAGES = ("mesa", "numpy", "pandas", "pyarrow", "dask", "distributed", "SALib", "scipy", "tqdm")
MANIFEST_FORMAT = 2  # 2: checksums of every table file; spec hash over defaults and model code


# --- provenance ---------------------------------------------------------------------------------
def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def code_version(root: Path | None = None) -> dict[str, Any]:
    """Git commit and dirtiness of the code that runs (None where git or the repo is missing)."""
    root = root or Path(__file__).resolve().parents[2]

    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True,
                                 timeout=20, check=False)
        except (OSError, subprocess.SubprocessError):
            return None
        return out.stdout.strip() if out.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain") if commit else None
    return {"commit": commit, "dirty": None if status is None else bool(status),
            "changed_files": None if status is None else len(status.splitlines())}


def package_versions() -> dict[str, str | None]:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    from cluster_abm import __version__

    out["cluster_abm"] = __version__
    return out


def platform_info() -> dict[str, Any]:
    return {"system": platform.system(), "release": platform.release(),
            "machine": platform.machine(), "node": platform.node(),
            "python": platform.python_version(),
            "python_implementation": platform.python_implementation()}


def build_manifest(exp: Experiment, target: str, previous: dict[str, Any] | None) -> dict[str, Any]:
    """The manifest at the start of a session (sessions of earlier attempts kept).

    Keys: format, experiment, description, source (the experiment file), spec_hash, simulate
    (the model function's import path), root_seed, run_count, scenarios, design_points,
    replicates, scenario_names, baseline, design, years, outputs, tables (columns), created,
    code (the model code's version and source fingerprint, part of the spec hash),
    code_version (commit, dirty, changed_files), packages, platform, python, status
    ("running" | "interrupted" | "stopped" | "disk_full" | "complete" |
    "complete_with_failures"), stopped (why, when the status says stopped or disk_full),
    sessions (one per invocation: start, end, executor, runs, code version, the damage repaired
    and the worker processes lost), timings (totals over sessions), checksums (of every table
    file, :mod:`.integrity`); and at the end of a session runs_ok, runs_failed, layout.
    """
    sessions = list(previous.get("sessions", [])) if previous else []
    counts = {"scenarios": len(exp.scenarios),
              "design_points": len(exp.design.points) if exp.design else 0,
              "replicates": exp.replicates}
    return {
        "format": MANIFEST_FORMAT,
        "experiment": exp.name,
        "description": exp.description,
        "source": exp.source,
        "spec_hash": exp.spec_hash,
        "simulate": target,
        "root_seed": exp.seed,
        "run_count": len(exp.runs),
        **counts,
        "scenario_names": list(exp.scenarios),
        "baseline": exp.baseline,
        "design": None if exp.design is None else {
            "kind": exp.design.kind, "base": exp.design.base.name,
            "params": list(exp.design.params), "levers": list(exp.design.levers),
            "crn": exp.design.crn},
        "years": exp.years,
        "outputs": exp.outputs.to_dict(),
        "tables": {t: [f.name for f in SCHEMAS[t]] for t in TABLES},
        "created": previous.get("created", _now()) if previous else _now(),
        "code": exp.to_dict()["code"],
        "code_version": code_version(),
        "packages": package_versions(),
        "platform": platform_info(),
        "python": sys.version,
        "status": "running",
        "sessions": sessions,
        "timings": previous.get("timings", {}) if previous else {},
        "checksums": {},
    }


# --- store checks -----------------------------------------------------------------------------
def _first_difference(old: Any, new: Any, path: str = "") -> str:
    """Dotted path of the first place two JSON-like values differ (for "what changed" hints)."""
    if isinstance(old, dict) and isinstance(new, dict):
        for k in list(old) + [k for k in new if k not in old]:
            if k not in old or k not in new or old[k] != new[k]:
                return _first_difference(old.get(k), new.get(k), f"{path}.{k}" if path else k)
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            if a != b:
                return _first_difference(a, b, f"{path}[{i}]")
    return path or "(top level)"


def open_store(exp: Experiment, results_dir: str | Path, target: str, *, overwrite: bool = False,
               create: bool = True) -> tuple[Store, dict[str, Any] | None]:
    """The experiment's store, checked: (store, previous manifest or None).

    Raises :class:`InputError` when the folder holds a different experiment (or results
    without a manifest) and ``overwrite`` is false; with ``overwrite`` it is emptied. The same
    experiment with more replicates is not a different one: the store grows.
    """
    store = Store(Path(results_dir) / exp.name)
    previous = None
    if store.exists():
        if overwrite:
            if create:
                store.reset()
            return store, None
        previous = store.read_manifest()
        if previous.get("spec_hash") != exp.spec_hash:
            where = "?"
            stored = stored_spec(store)
            if stored is not None:
                if same_but_replicates(stored, exp.to_dict()):
                    return store, previous  # more replicates of the same runs: grow
                if stored.get("code") != exp.to_dict()["code"]:
                    raise InputError(_code_changed(store, stored, exp), source=exp.source,
                                     key="name")
                where = _first_difference(stored, exp.to_dict())
                if where == "replicates":
                    where = (f"replicates: the store holds {stored['replicates']}; ask for at "
                             "least as many to resume")
                elif where.startswith("defaults."):
                    where = _default_changed(stored, exp, where)
            raise InputError(
                f"{store.path} holds results of a different version of this experiment (first "
                f"difference: {where}); pass --overwrite to replace them, or give the experiment "
                "another name", source=exp.source, key="name")
        elif canonical_target(previous.get("simulate", "")) != canonical_target(target):
            raise InputError(
                f"{store.path} was made with simulate {previous.get('simulate')!r}, not "
                f"{target!r}; pass --overwrite to replace it", source=exp.source, key="name")
    elif store.has_results():
        if not overwrite:
            raise InputError(f"{store.path} holds results but no manifest.json; pass --overwrite "
                             "to replace them", source=exp.source, key="name")
        if create:
            store.reset()
    return store, previous


def _code_changed(store: Store, stored: dict[str, Any], exp: Experiment) -> str:
    """The one line that refuses to resume with other model code."""
    now = exp.to_dict()["code"]
    code = stored.get("code")
    if not isinstance(code, dict):
        then = "code older than the stores that record it"
    else:
        then = f"cluster_abm {code.get('version')}, source {str(code.get('source'))[:12]}"
    changed = ""
    if isinstance(stored.get("defaults"), dict):
        where = _first_difference(stored["defaults"], exp.to_dict()["defaults"])
        if where != "(top level)":
            changed = f"; among the changes, {_default_changed(stored, exp, 'defaults.' + where)}"
    return (f"{store.path} holds results of other model code ({then}; now cluster_abm "
            f"{now['version']}, source {now['source'][:12]}{changed}): a resumed sweep would mix "
            "runs of two models in one table; pass --overwrite to run it again with this code, "
            "or go back to the code it was made with to resume")


def _default_changed(stored: dict[str, Any], exp: Experiment, where: str) -> str:
    name = where[len("defaults."):]
    was = (stored.get("defaults") or {}).get(name, "not a parameter")
    now = exp.to_dict()["defaults"].get(name, "not a parameter")
    return f"the default of {name} was {was}, is {now}"


def stored_spec(store: Store) -> dict[str, Any] | None:
    """The resolved experiment a store holds (``spec.json``), or None."""
    path = store.path / SPEC
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def stored_replicates(exp: Experiment, results_dir: str | Path) -> int | None:
    """How many replicates the store of ``exp`` holds if it holds this experiment up to its
    number of replicates (e.g. a store grown by ``compare --precision``); None otherwise."""
    stored = stored_spec(Store(Path(results_dir) / exp.name))
    if stored is None or not isinstance(stored.get("replicates"), int) or stored["replicates"] < 1:
        return None
    same = exp.with_replicates(stored["replicates"]).to_dict() == stored
    return stored["replicates"] if same else None


# --- the sweep --------------------------------------------------------------------------------
@dataclass
class SweepSummary(RunSummary):
    """What a sweep did; :attr:`exit_code` is what the command returns (see :class:`RunSummary`)."""

    experiment: str
    store: Path
    total: int
    skipped: int = 0
    ok: int = 0
    repaired: list[str] = field(default_factory=list)  # runs re-run because their files were damaged
    workers_lost: list[tuple[str, str]] = field(default_factory=list)  # (run, how its worker ended)

    failures_hint: ClassVar[str] = (
        "tracebacks: status == 'failed' rows of the runs table "
        "(cluster_abm.experiments.results.load_results(...).failures())")

    @property
    def done(self) -> int:
        return self.ok + len(self.failed)

    def headline(self) -> str:
        return (f"{self.experiment}: {self.total} runs: {self.ok} ok, {len(self.failed)} failed, "
                f"{self.skipped} already stored; {self.done} done in {self.wall_time:.1f} s on "
                f"{self.executor} -> {self.store}")

    def stored_note(self) -> str:
        return f"{self.skipped + self.done} of {self.total} runs stored"

    def detail_lines(self) -> list[str]:
        lines = []
        if self.repaired:
            shown = ", ".join(self.repaired[:8]) + (" ..." if len(self.repaired) > 8 else "")
            lines.append(f"  re-ran {len(self.repaired)} run(s) whose stored files were damaged "
                         f"or missing: {shown}")
        for run, how in self.workers_lost:
            lines.append(f"  worker lost running {run}: {how}")
        return lines


SNAPSHOTS = "snapshots"  # the store's folder of spun-up worlds (checksummed snapshot files)


def _tasks(exp: Experiment, runs, target: str, store: Store | None = None) -> Iterator[Task]:
    cache = None if store is None else str(store.path / SNAPSHOTS)
    for run in runs:
        yield Task(run, exp.scenario_for(run), target, exp.years, exp.outputs, cache)


def _failure_outcome(task: Task, exc: BaseException) -> Outcome:
    """An outcome for a run whose task failed outside the model (pickling, a lost worker)."""
    error = f"{type(exc).__name__}: {exc}"
    tb = "".join(traceback.format_exception(exc))
    record = runs_arrow(task.run, status="failed", error=error, traceback=tb, wall_time=0.0,
                        started=_now(), worker="", n_kpis=0, n_rows=0)
    return Outcome(task.run.run_id, "failed", error, 0.0, to_parquet_bytes(record), None, None)


def _as_experiment(exp: Experiment | str | Path) -> Experiment:
    return exp if isinstance(exp, Experiment) else load_experiment(exp)


def _check_target(target: str) -> None:
    try:
        resolve_target(target)
    except ValueError as exc:
        raise InputError(str(exc), key="--simulate") from None


def run_experiment(
    experiment: Experiment | str | Path,
    *,
    results_dir: str | Path = "results",
    executor: str | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    overwrite: bool = False,
    quiet: bool = False,
    simulate: str = DEFAULT_TARGET,
    consolidate: bool = True,
    window: int | None = None,
    malloc_tuning: bool = True,
) -> SweepSummary:
    """Run every run of ``experiment`` not yet stored ok; return a :class:`SweepSummary`.

    Resuming is the default: runs stored ``ok`` are skipped, failed ones are tried again, and
    runs whose files were damaged or lost (checksums, :mod:`.integrity`) run again. The
    executor settings override the experiment's ``[execution]`` table. ``malloc_tuning``: the
    worker processes keep step-sized buffers in the heap (:mod:`cluster_abm.experiments.allocator`;
    faster, same numbers); the serial executor leaves this process as it is.

    Raises :class:`~cluster_abm.experiments.store_lock.StoreBusy` (an ``InputError``) when
    another live process is writing the store.
    """
    exp = _as_experiment(experiment).with_execution(executor, workers, scheduler)
    _check_target(simulate)
    with StoreLock(Path(results_dir) / exp.name) as lock:
        if lock.took_over and not quiet:
            print(f"note: took over the lock of {lock.path}, left by {lock.took_over}, which is "
                  "no longer running", file=sys.stderr)
        return _sweep(exp, results_dir, simulate, overwrite=overwrite, quiet=quiet,
                      consolidate=consolidate, window=window, malloc_tuning=malloc_tuning)


def _repair(store: Store, exp: Experiment, quiet: bool) -> dict[str, Any] | None:
    """Verify a resumed store's checksums; remove what was lost, so those runs run again."""
    report = store.verify()
    if report.ok:
        return None
    ids = [run.run_id for run in exp.runs]
    lost = report.lost_among(ids)
    if not quiet:
        print(f"note: {store.path}: {report.summary()}; running {report.describe_lost(ids)} "
              "again", file=sys.stderr)
    store.repair(report)
    return {"files": [f"{p.path} {p.what}" for p in report.problems], "runs": lost}


def _sweep(exp: Experiment, results_dir: str | Path, simulate: str, *, overwrite: bool,
           quiet: bool, consolidate: bool, window: int | None,
           malloc_tuning: bool) -> SweepSummary:
    """:func:`run_experiment` with the store's lock held."""
    store, previous = open_store(exp, results_dir, simulate, overwrite=overwrite)
    t0 = time.perf_counter()
    manifest = build_manifest(exp, simulate, previous)
    session = {"started": _now(), "code_version": manifest["code_version"]}
    if previous and previous.get("code_version", {}).get("commit") != session["code_version"][
            "commit"] and not quiet:
        print(f"note: resuming a sweep started with commit "
              f"{previous.get('code_version', {}).get('commit')}; now at "
              f"{session['code_version']['commit']}", file=sys.stderr)
    store.prepare()
    if previous is not None:
        repaired = _repair(store, exp, quiet)
        if repaired:
            session["repaired"] = repaired
        manifest["checksums"] = store.settled_checksums()
    text = _manifest_bytes(manifest)
    try:
        store.reserve(len(text) + RESERVE_MIN)  # room to record a full disk, taken first
        store.write_manifest(manifest)
        store.clear_journal()  # its records are in the manifest now
        if previous is None or previous.get("spec_hash") != exp.spec_hash:  # new, or grown
            store.write_text(SPEC, canonical_json(exp.to_dict()) + "\n")
            if Path(exp.source).is_file():
                store.write_text(EXPERIMENT_COPY, Path(exp.source).read_text(encoding="utf-8"))
    except OSError:  # a disk already full: nothing was run; the CLI says so in one line
        store.release_reserve()
        raise

    status = store.run_status()
    todo = [run for run in exp.runs if status.get(run.run_id) != "ok"]
    summary = SweepSummary(exp.name, store.path, len(exp.runs), skipped=len(exp.runs) - len(todo))
    summary.repaired = session.get("repaired", {}).get("runs", [])
    n_workers = exp.execution.workers or default_workers()
    if exp.execution.executor != "serial" and not exp.execution.scheduler:
        n_workers = max(1, min(n_workers, len(todo)))
    run_time = 0.0
    bar = None
    finished = False  # the loop ran to its end (every run stored, ok or failed)
    disk_full = False
    try:
        if todo:
            with make_executor(exp.execution.executor, n_workers, scheduler=exp.execution.scheduler,
                               window=window, quiet=quiet, malloc_tuning=malloc_tuning) as ex:
                summary.executor = ex.describe()
                if not quiet:
                    print(f"{exp.name}: {len(todo)} of {summary.total} runs to do on "
                          f"{summary.executor} -> {store.path}", file=sys.stderr)
                bar = _progress(exp.name, summary.total, summary.skipped, quiet)
                try:
                    with summary.stopping(ex):
                        for task, outcome, exc in ex.map_unordered(
                                execute, _tasks(exp, todo, simulate, store), total=len(todo)):
                            if exc is not None:
                                outcome = _failure_outcome(task, exc)
                            try:
                                store.write_run(outcome.run_id, outcome.runs, outcome.kpis,
                                                outcome.timeseries, outcome.lever_costs)
                            except OSError as err:
                                if not is_disk_full(err):
                                    raise
                                disk_full = True
                                raise Stop(_disk_full_note(store, err)) from None
                            run_time += outcome.wall_time
                            if outcome.status == "ok":
                                summary.ok += 1
                            else:
                                summary.failed.append((outcome.run_id, outcome.error))
                                bar.set_postfix(failed=len(summary.failed), refresh=False)
                            bar.update(1)
                        finished = not disk_full
                finally:
                    summary.workers_lost = list(getattr(ex, "deaths", []))
        else:
            summary.executor = "nothing to run"
            finished = True
    except KeyboardInterrupt:  # while starting or closing workers
        summary.interrupted = True
        finished = False
    finally:
        if bar is not None:
            bar.close()
        summary.failed.sort()
        summary.wall_time = time.perf_counter() - t0
        if finished and consolidate:
            try:
                store.consolidate()
            except KeyboardInterrupt:
                summary.interrupted = True
            except OSError as err:
                if not is_disk_full(err):
                    raise
                disk_full = True
                summary.stopped = _disk_full_note(store, err)
        session.update(finished=_now(), wall_time=round(summary.wall_time, 3),
                       executor=summary.executor, runs_ok=summary.ok,
                       runs_failed=len(summary.failed), run_time=round(run_time, 3),
                       interrupted=summary.interrupted)
        if summary.workers_lost:
            session["workers_lost"] = [{"run": run, "how": how}
                                       for run, how in summary.workers_lost]
        if summary.stopped:
            session["stopped"] = summary.stopped
        manifest["sessions"].append(session)
        _finish_manifest(store, manifest, summary, finished, disk_full)
    return summary


def _disk_full_note(store: Store, err: OSError) -> str:
    return (f"the disk is full ({store.path}: {' '.join(str(err).split())[:160]}); free some "
            "space")


def _manifest_bytes(manifest: dict[str, Any]) -> bytes:
    return (json.dumps(manifest, indent=2, default=str) + "\n").encode()


def _finish_manifest(store: Store, manifest: dict[str, Any], summary: SweepSummary,
                     finished: bool, disk_full: bool) -> None:
    """Write the session's last manifest, with the journal's checksums folded in.

    On a full disk the space set aside at the start is freed first and the journal stays
    where it is (folding it would make the manifest larger than that space); readers apply
    it over the manifest either way.
    """
    if not disk_full:
        try:
            _final_fields(store, manifest, summary, finished, disk_full=False)
            manifest["checksums"] = store.settled_checksums()
            store.write_manifest(manifest)
            store.clear_journal()
            store.release_reserve()
            return
        except OSError as err:
            if not is_disk_full(err):
                raise
            summary.stopped = summary.stopped or _disk_full_note(store, err)
            manifest["sessions"][-1]["stopped"] = summary.stopped
    store.release_reserve()
    with contextlib.suppress(OSError):
        previous = store.read_manifest()  # the checksums as the session started
        manifest["checksums"] = previous.get("checksums", {})
    _final_fields(store, manifest, summary, finished, disk_full=True)
    store.write_manifest(manifest)


def _final_fields(store: Store, manifest: dict[str, Any], summary: SweepSummary,
                  finished: bool, disk_full: bool) -> None:
    stored = store.run_status()
    n_ok = sum(v == "ok" for v in stored.values())
    manifest["status"] = (
        "interrupted" if summary.interrupted
        else "disk_full" if disk_full
        else "stopped" if not finished  # an error in the runner itself
        else "complete" if n_ok == summary.total else "complete_with_failures")
    if summary.stopped:
        manifest["stopped"] = summary.stopped
    else:
        manifest.pop("stopped", None)
    manifest["runs_ok"] = n_ok
    manifest["runs_failed"] = sum(v != "ok" for v in stored.values())
    manifest["layout"] = store.layout()
    manifest["timings"] = _timings(manifest["sessions"])
    manifest["code_version"] = manifest["sessions"][-1]["code_version"]


def _timings(sessions: list[dict[str, Any]]) -> dict[str, Any]:
    wall = sum(s.get("wall_time", 0.0) for s in sessions)
    runs = sum(s.get("runs_ok", 0) + s.get("runs_failed", 0) for s in sessions)
    run_time = sum(s.get("run_time", 0.0) for s in sessions)
    return {"first_started": sessions[0]["started"] if sessions else None,
            "last_finished": sessions[-1].get("finished") if sessions else None,
            "wall_time": round(wall, 3), "runs": runs, "run_time": round(run_time, 3),
            "mean_run_time": round(run_time / runs, 4) if runs else None,
            "runs_per_second": round(runs / wall, 3) if wall else None}


def _progress(name: str, total: int, initial: int, quiet: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, desc=name, unit="run", file=sys.stderr,
                disable=quiet, dynamic_ncols=True, smoothing=0.1)


# --- dry run ----------------------------------------------------------------------------------
@dataclass
class DryRun:
    """What a sweep would do, from one timed pilot run (nothing is written)."""

    experiment: str
    store: Path
    total: int
    stored: int
    todo: int
    executor: str
    workers: int | None
    pilot_run: str = ""
    pilot_time: float = 0.0
    pilot_bytes: int = 0
    pilot_error: str = ""
    startup_time: float = 0.0  # a fresh interpreter importing the model (each worker pays it)

    @property
    def estimated_wall_time(self) -> float | None:
        if not self.workers or self.pilot_error:
            return None
        return self.startup_time + self.pilot_time * self.todo / min(self.workers,
                                                                     max(self.todo, 1))

    @property
    def estimated_bytes(self) -> int:
        return self.pilot_bytes * self.todo

    def format(self) -> str:
        lines = [f"{self.experiment}: {self.total} runs ({self.stored} already stored, "
                 f"{self.todo} to run) -> {self.store}",
                 f"executor: {self.executor}, "
                 f"{self.workers if self.workers else 'as many as the scheduler has'} worker(s)"]
        if self.pilot_error:
            lines.append(f"pilot run {self.pilot_run} FAILED: {self.pilot_error}")
        elif self.pilot_run:
            lines.append(f"pilot run {self.pilot_run}: {self.pilot_time:.2f} s, "
                         f"{_human_bytes(self.pilot_bytes)} of results")
            est = self.estimated_wall_time
            if est is not None:
                lines.append(f"estimated wall time: {_human_time(est)} ({self.todo} runs x "
                             f"{self.pilot_time:.2f} s / {min(self.workers, max(self.todo, 1))} "
                             f"workers + {self.startup_time:.1f} s to start a worker)")
            else:
                lines.append(f"estimated run time: {_human_time(self.pilot_time * self.todo)} "
                             "in total, to divide by the number of workers")
            lines.append(f"estimated disk: {_human_bytes(self.estimated_bytes)} "
                         "(shards; consolidated tables are usually smaller)")
        lines.append("dry run: nothing was written")
        return "\n".join(lines)


def dry_run(experiment: Experiment | str | Path, *, results_dir: str | Path = "results",
            executor: str | None = None, workers: int | None = None,
            scheduler: str | None = None, simulate: str = DEFAULT_TARGET,
            overwrite: bool = False) -> DryRun:
    """Count the runs, time one pilot run in this process, and estimate time and disk."""
    exp = _as_experiment(experiment).with_execution(executor, workers, scheduler)
    _check_target(simulate)
    store, previous = open_store(exp, results_dir, simulate, overwrite=overwrite, create=False)
    status = store.run_status() if previous is not None else {}
    todo = [run for run in exp.runs if status.get(run.run_id) != "ok"]
    ex = exp.execution
    n_workers = 1 if ex.executor == "serial" else (
        ex.workers or (None if ex.scheduler else default_workers()))
    report = DryRun(exp.name, store.path, len(exp.runs), len(exp.runs) - len(todo), len(todo),
                    ex.executor, n_workers)
    pilot = todo[0] if todo else exp.runs[0]
    outcome = execute(next(_tasks(exp, [pilot], simulate)))
    report.pilot_run = pilot.run_id
    report.pilot_time = outcome.wall_time
    report.pilot_bytes = outcome.nbytes
    report.pilot_error = outcome.error if outcome.status != "ok" else ""
    if ex.executor != "serial":
        report.startup_time = _import_time(simulate)
    return report


def _import_time(target: str) -> float:
    """Seconds a fresh interpreter takes to import the worker and the model (0 if unknown)."""
    module = target.partition(":")[0]
    code = ("import time; t = time.perf_counter(); import importlib; "
            f"importlib.import_module('cluster_abm.experiments.worker'); importlib.import_module({module!r}); "
            "print(time.perf_counter() - t)")
    try:
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             timeout=300, check=True, cwd=Path.cwd())
        return float(out.stdout.strip().splitlines()[-1])
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return 0.0


def _human_time(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def _human_bytes(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"
