"""Calibration by simulated method of moments: fit parameters to published statistics.

A calibration file (TOML, format in ``docs/calibration.md``) names a base scenario, the
parameters to fit with their search bounds (inside the registry's), the targets
(:mod:`cluster_abm.analysis.validation.targets`) with weights, the targets held out for checking, the replicates per
evaluation, the number of trials and a root seed. Each trial proposes a parameter vector,
simulates it on the same ``R`` replicate seeds (common random numbers: the seeds come from
:func:`cluster_abm.experiments.seeds.run_seed` with the CRN key, so every trial sees the same random worlds
and differences between trials are parameter effects, not seed noise), averages each measure
over the replicates and scores the distance

    loss = sum_i  w_i * ((m_i - t_i) / s_i)^2,      s_i = tolerance_i  or  max(|t_i|, floor)

(a weighted sum of squared standardised deviations: by default each deviation is relative to its
target, so a birth rate of 8.9 % and a survival share of 82 % weigh alike; a per-target
``tolerance`` in the target's unit replaces the scale where a relative error is the wrong yardstick,
e.g. for rates near zero). This is the simulated method of moments of McFadden (1989) and
Lee & Ingram (1991) with a diagonal weighting matrix, as used for agent-based models by
Franke & Westerhoff (2012) and Grazzini & Richiardi (2015).

The optimiser is Optuna's TPE sampler (Bergstra et al. 2011; Akiba et al. 2019), multivariate
with the constant-liar strategy so that trials can run in parallel; the first trials are a Latin
hypercube over the bounds, enqueued when the study is created. The study lives in persistent
storage -- by default SQLite at ``results/<name>/optuna.db`` -- so a calibration resumes after a
stop (a new call continues until the requested number of trials is reached) and several
``calibrate`` processes, on one machine or several sharing a database, can work on one study.
Within one process, the replicates of the trials in flight run on the runner's executors
(:mod:`cluster_abm.experiments.executors`: serial, processes or Dask).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import math
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cluster_abm.analysis.calibration.calibration_spec import (
    SAMPLER_KEY,
    Calibration,
    ParamSpec,
    TargetSpec,
    calibration_from_dict,
    load_calibration,
)
from cluster_abm.analysis.calibration.trials import (
    EvalTask,
    aggregate,
    best_trial,
    evaluate,
    make_tasks,
    run_points,
    storage_url,
)
from cluster_abm.errors import InputError
from cluster_abm.experiments import seeds
from cluster_abm.experiments.executors import make_executor
from cluster_abm.experiments.experiment_spec import (
    canonical_json,
    default_workers,
)
from cluster_abm.experiments.run_summary import TrialSummary


# --- storage and the study ------------------------------------------------------------------------
def make_storage(url: str):
    """An Optuna storage that several processes may share.

    * SQLite (the default): an :class:`optuna.storages.RDBStorage` with a 60 s busy timeout and
      write-ahead logging, so writers from several ``calibrate`` processes on one machine wait
      for each other instead of failing with "database is locked" (a trial writes a few rows
      per simulated second, far below what SQLite serialises). Not for network file systems.
    * ``journal:PATH``: a :class:`optuna.storages.JournalStorage` on an append-only file with
      a file lock (Optuna's recommendation for many processes on one machine or NFS).
    * any other SQLAlchemy URL (``postgresql://``, ``mysql://``): an RDBStorage as is, for
      workers on several machines.
    """
    import optuna

    if url.startswith("journal:"):
        from optuna.storages.journal import JournalFileBackend

        path = Path(url.removeprefix("journal:"))
        path.parent.mkdir(parents=True, exist_ok=True)
        return optuna.storages.JournalStorage(JournalFileBackend(str(path)))
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        storage = optuna.storages.RDBStorage(url, engine_kwargs={"connect_args": {"timeout": 60}})
        with contextlib.suppress(Exception), storage.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA journal_mode=WAL")
        return storage
    try:
        return optuna.storages.RDBStorage(url)
    except Exception as exc:  # SQLAlchemy raises many kinds for a bad URL
        raise InputError(f"cannot open the study storage {url!r}: {exc}",
                         key="storage.url") from None


def _first_difference(old: Any, new: Any, path: str = "") -> str:
    from cluster_abm.experiments.runner import _first_difference as first

    return first(old, new, path)


def _sampler(cal: Calibration, salt: int):
    import optuna

    seed = int(np.random.SeedSequence(cal.seed, spawn_key=(SAMPLER_KEY, salt))
               .generate_state(1, dtype=np.uint32)[0])
    if cal.sampler == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    return optuna.samplers.TPESampler(seed=seed, multivariate=True, constant_liar=True,
                                      n_startup_trials=cal.startup_trials)


def startup_points(cal: Calibration) -> list[dict[str, Any]]:
    """A Latin hypercube of ``startup_trials`` points over the bounds (log bounds in log space).

    Space-filling start points explore the box more evenly than independent uniform draws
    (McKay, Beckman & Conover 1979) and, being enqueued in the study, are shared by every
    process working on it.
    """
    from scipy.stats import qmc

    if cal.startup_trials == 0:
        return []
    sampler = qmc.LatinHypercube(d=len(cal.params), rng=seeds.design_rng(cal.seed))
    out = []
    for row in sampler.random(cal.startup_trials):
        point = {}
        for p, u in zip(cal.params, row, strict=True):
            if p.log:
                v = math.exp(math.log(p.low) + float(u) * (math.log(p.high) - math.log(p.low)))
            else:
                v = p.low + float(u) * (p.high - p.low)
            point[p.name] = int(round(v)) if p.param.integer else float(v)
        out.append(point)
    return out


def open_study(cal: Calibration, results_dir: str | Path = "results", *, overwrite: bool = False,
               create: bool = True):
    """Load the calibration's study, or create it (with its start points enqueued).

    Refuses (``InputError``) to continue a study made with a different calibration spec
    (parameters, bounds, targets, weights, seeds, horizon): its trials would be scored by
    another loss. ``overwrite`` deletes the old study first.
    """
    url = storage_url(cal, results_dir)
    with _study_lock(url):
        return _open_study(cal, url, overwrite, create)


@contextlib.contextmanager
def _study_lock(url: str):
    """Serialise a step on a local study across processes (a file lock next to the database).

    Two ``calibrate`` processes started together would otherwise both create the SQLite schema
    (Optuna's alembic stamp then fails with a UNIQUE constraint), both enqueue the start
    points, or both see one trial left and both ask for it (one trial too many). Remote
    databases (postgresql://...) are not locked here.
    """
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
    elif url.startswith("journal:"):
        path = Path(url.removeprefix("journal:"))
    else:
        yield
        return
    try:
        import fcntl
    except ImportError:  # Windows: no lock; start several processes a few seconds apart
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.parent / f".{path.name}.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _open_study(cal: Calibration, url: str, overwrite: bool, create: bool):
    import optuna

    storage = make_storage(url)
    names = [s.study_name for s in optuna.get_all_study_summaries(storage,
                                                                  include_best_trial=False)]
    exists = cal.name in names
    if exists and overwrite:
        optuna.delete_study(study_name=cal.name, storage=storage)
        exists = False
    if exists:
        study = optuna.load_study(study_name=cal.name, storage=storage)
        old = study.user_attrs.get("spec_hash")
        if old != cal.spec_hash:
            import json

            where = _first_difference(json.loads(study.user_attrs.get("spec", "{}")),
                                      cal.to_dict())
            raise InputError(f"the study {cal.name!r} in {url} was made by a different "
                             f"calibration (first difference: {where}); pass --overwrite to "
                             "start over, or give the calibration another name",
                             source=cal.source, key="name")
        salt = len(study.get_trials(deepcopy=False))
        if _live_foreign_trials(study):
            salt = salt * 100_003 + os.getpid()  # another process is asking: do not mirror it
        study.sampler = _sampler(cal, salt)
        return study, url
    if not create:
        raise InputError(f"no study {cal.name!r} in {url}; run the calibration first",
                         source=cal.source, key="name")
    study = optuna.create_study(study_name=cal.name, storage=storage, direction="minimize",
                                sampler=_sampler(cal, 0), load_if_exists=True)
    if "spec_hash" not in study.user_attrs:  # not created a moment ago by a sibling process
        study.set_user_attr("spec", canonical_json(cal.to_dict()))
        study.set_user_attr("spec_hash", cal.spec_hash)
        study.set_user_attr("created", _now())
        study.set_user_attr("interrupted_trials", [])
        study.set_user_attr("sessions", [])
        for point in startup_points(cal):
            study.enqueue_trial(point, user_attrs={"start_point": True})
    return study, url


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _live_foreign_trials(study) -> bool:
    import optuna

    host = socket.gethostname()
    for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        owner = t.user_attrs.get("owner", "")
        h, _, pid = owner.rpartition(":")
        if h != host or (pid.isdigit() and _pid_alive(int(pid)) and int(pid) != os.getpid()):
            return True
    return False


def recover_stale_trials(study) -> list[int]:
    """Fail the RUNNING trials of dead ``calibrate`` processes on this host; retry their points.

    A process killed outright (SIGKILL, a crash, a reboot) leaves its trials RUNNING forever.
    Trials owned by a process id that no longer exists on this machine are marked FAIL, listed
    as interrupted (so they do not count against the trial budget) and their parameter vectors
    are enqueued again. Trials of other machines are left alone: their owners may be alive.
    """
    import optuna

    host = socket.gethostname()
    stale = []
    for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        h, _, pid = t.user_attrs.get("owner", "").rpartition(":")
        if h == host and pid.isdigit() and not _pid_alive(int(pid)):
            stale.append(t)
    if stale:
        _mark_interrupted(study, [(t.number, dict(t.params)) for t in stale])
    return [t.number for t in stale]


def release_in_flight(study, pending: dict[int, dict[str, Any]], owner: str) -> None:
    """Trials in flight when a session stops (and one asked for but not yet handed out, if the
    stop came in between): fail them as interrupted, queue their points again, empty ``pending``."""
    import optuna

    stopped = [(n, rec["params"]) for n, rec in pending.items()]
    stopped += [(t.number, dict(t.params)) for t in study.get_trials(
        deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))
        if t.user_attrs.get("owner") == owner and t.number not in pending]
    if stopped:
        _mark_interrupted(study, stopped)
    pending.clear()


def _mark_interrupted(study, trials: list[tuple[int, dict[str, Any]]]) -> None:
    """Fail trials (number, params) that were stopped, not evaluated, and enqueue them again."""
    import optuna

    numbers = list(study.user_attrs.get("interrupted_trials", []))
    for number, params in trials:
        numbers.append(int(number))
        study.tell(number, state=optuna.trial.TrialState.FAIL, skip_if_finished=True)
        study.enqueue_trial(dict(params), user_attrs={"retry_of": int(number)})
    study.set_user_attr("interrupted_trials", sorted(set(numbers)))


def counted_trials(study) -> int:
    """Trials that use up the budget: finished or running, except interrupted ones."""
    import optuna

    S = optuna.trial.TrialState
    skip = set(study.user_attrs.get("interrupted_trials", []))
    return sum(1 for t in study.get_trials(deepcopy=False, states=(S.COMPLETE, S.FAIL, S.RUNNING))
               if t.number not in skip)


# --- the calibration loop -------------------------------------------------------------------------
@dataclass
class CalibrationSummary(TrialSummary):
    """What a calibration call did; :attr:`exit_code` is what the command returns (see
    :class:`~cluster_abm.experiments.run_summary.RunSummary`)."""

    name: str
    storage: str
    requested: int
    before: int = 0
    completed: int = 0
    best_loss: float | None = None
    best_params: dict[str, Any] = field(default_factory=dict)
    best_trial: int | None = None
    report: Path | None = None
    scenario_file: Path | None = None
    load_start: tuple[float, float, float] | None = None
    load_end: tuple[float, float, float] | None = None

    def headline(self) -> str:
        rate = self.run / (self.wall_time / 60) if self.wall_time > 0 and self.run else 0.0
        return (f"{self.name}: {self.run} trials run ({self.completed} ok, {len(self.failed)} "
                f"failed) after {self.before} stored, of {self.requested} requested, in "
                f"{self.wall_time:.1f} s ({rate:.1f} trials/min) on {self.executor}; study in "
                f"{self.storage}")

    def detail_lines(self) -> list[str]:
        if self.best_loss is None:
            return []
        return [f"  best: trial {self.best_trial}, loss {self.best_loss:.4g}: "
                + ", ".join(f"{k} = {v:.4g}" for k, v in self.best_params.items())]

    def closing_lines(self) -> list[str]:
        lines = []
        if self.scenario_file:
            lines.append(f"  calibrated scenario: {self.scenario_file}")
        if self.report:
            lines.append(f"  fit report: {self.report}")
        return lines


def _loadavg() -> tuple[float, float, float] | None:
    try:
        return tuple(round(x, 2) for x in os.getloadavg())
    except (AttributeError, OSError):
        return None


def run_calibration(
    calibration: Calibration | str | Path,
    *,
    results_dir: str | Path = "results",
    scenarios_dir: str | Path = "scenarios",
    trials: int | None = None,
    executor: str | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    storage: str | None = None,
    overwrite: bool = False,
    report: bool = True,
    quiet: bool = False,
) -> CalibrationSummary:
    """Run the calibration until its study holds ``trials`` trials, then write the outputs.

    Resumes whatever the study holds. When the budget is reached (now or earlier) and
    ``report`` is true, writes the calibrated scenario and the fit report.
    """


    cal = calibration if isinstance(calibration, Calibration) else load_calibration(calibration)
    cal = cal.with_overrides(trials=trials, executor=executor, workers=workers,
                             scheduler=scheduler, storage=storage)
    study, url = open_study(cal, results_dir, overwrite=overwrite)
    recover_stale_trials(study)
    summary = CalibrationSummary(cal.name, url, cal.trials, before=counted_trials(study),
                                 load_start=_loadavg())
    distributions = {p.name: p.distribution() for p in cal.params}
    seed_list = cal.seeds
    R = len(seed_list)
    pending: dict[int, dict[str, Any]] = {}
    owner = _owner()
    t0 = time.perf_counter()
    session = {"started": _now(), "owner": owner, "load_start": summary.load_start}

    def jobs() -> Iterator[EvalTask]:
        while True:
            # A trial is asked, owned and tracked, or not at all; counting and asking are one
            # step across processes sharing the study, so together they ask exactly the budget.
            with _interrupts_deferred(), _study_lock(url):
                if counted_trials(study) >= cal.trials:
                    return
                trial = study.ask(distributions)
                trial.set_user_attr("owner", owner)
                params = {p.name: trial.params[p.name] for p in cal.params}
                pending[trial.number] = {"trial": trial, "values": [None] * R, "left": R,
                                         "error": "", "wall": 0.0, "cpu": 0.0,
                                         "params": params}
            yield from make_tasks(cal, trial.number, params, seed_list)

    remaining = max(0, cal.trials - summary.before)
    kind = cal.execution.executor
    n_workers = 1 if kind == "serial" else (cal.execution.workers or default_workers())
    bar = None
    try:
        if remaining:
            if kind != "dask" or not cal.execution.scheduler:
                n_workers = max(1, min(n_workers, remaining * R))
            with make_executor(kind, n_workers, scheduler=cal.execution.scheduler,
                               window=max(2 * n_workers, 2), quiet=quiet) as ex:
                summary.executor = ex.describe()
                session["executor"] = summary.executor
                if not quiet:
                    print(f"{cal.name}: {remaining} trials to run ({summary.before} stored of "
                          f"{cal.trials}) x {R} replicates on {summary.executor}; study in "
                          f"{url}", file=sys.stderr)
                bar = _progress(cal.name, cal.trials, summary.before, quiet)
                with summary.stopping(ex):
                    for task, value, exc in ex.map_unordered(evaluate, jobs(),
                                                             total=remaining * R):
                        rec = pending[task.key]
                        if exc is not None:
                            rec["error"] = rec["error"] or f"{type(exc).__name__}: {exc}"
                        else:
                            rec["values"][task.replicate] = value["values"]
                            rec["wall"] += value["wall"]
                            rec["cpu"] += value.get("cpu", 0.0)
                        rec["left"] -= 1
                        if rec["left"] == 0:
                            with _interrupts_deferred():
                                _finish_trial(study, cal, pending.pop(task.key), summary)
                            if bar is not None:
                                bar.update(1)
                                if summary.best_loss is not None:
                                    bar.set_postfix(best=f"{summary.best_loss:.4g}",
                                                    refresh=False)
        else:
            summary.executor = "nothing to run"
    except KeyboardInterrupt:
        summary.interrupted = True
    finally:
        if bar is not None:
            bar.close()
        release_in_flight(study, pending, owner)
        summary.wall_time = time.perf_counter() - t0
        summary.load_end = _loadavg()
        session.update(finished=_now(), wall_time=round(summary.wall_time, 3),
                       trials_run=summary.run, trials_ok=summary.completed,
                       load_end=summary.load_end, interrupted=summary.interrupted,
                       replicates=R, workers=n_workers, cpus=os.cpu_count())
        sessions = list(study.user_attrs.get("sessions", []))
        if summary.run or summary.interrupted:
            sessions.append(session)
            study.set_user_attr("sessions", sessions)
    best = best_trial(study)
    if best is not None:
        summary.best_loss = float(best.value)
        summary.best_params = {p.name: best.params[p.name] for p in cal.params}
        summary.best_trial = best.number
    done = counted_trials(study) >= cal.trials and not summary.interrupted
    written = (Path(results_dir) / cal.name / "report.md").is_file()
    if summary.run == 0 and written:
        report = False  # nothing new since the last report (--report-only rewrites it)
    if report and done and best is not None and not summary.worker_lost:
        from cluster_abm.analysis.calibration.fit_report import write_outputs

        summary.scenario_file, summary.report = write_outputs(
            cal, study, results_dir=results_dir, scenarios_dir=scenarios_dir, quiet=quiet)
    return summary


@contextlib.contextmanager
def _interrupts_deferred():
    """Hold Ctrl-C and SIGTERM until the block is done, then raise KeyboardInterrupt.

    A stop that lands inside ``study.ask`` would leave a RUNNING trial nobody owns (it would
    use up the budget for ever); inside ``study.tell`` a finished evaluation would be lost.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []

    def hold(signum, frame):
        caught.append(signum)

    previous = {sig: signal.signal(sig, hold) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if caught:
            raise KeyboardInterrupt


def _finish_trial(study, cal: Calibration, rec: dict[str, Any], summary: CalibrationSummary):
    import optuna

    trial = rec["trial"]
    if rec["error"] or any(v is None for v in rec["values"]):
        trial.set_user_attr("error", rec["error"][:2000])
        study.tell(trial, state=optuna.trial.TrialState.FAIL)
        summary.failed.append((trial.number, rec["error"]))
        return
    mean, sd = aggregate(rec["values"])
    missing = [t.id for t in cal.targets if not math.isfinite(mean[t.id])]
    if missing:
        msg = f"no value for target(s) {', '.join(missing)} in any replicate"
        trial.set_user_attr("error", msg)
        study.tell(trial, state=optuna.trial.TrialState.FAIL)
        summary.failed.append((trial.number, msg))
        return
    terms = cal.loss_terms(mean)
    trial.set_user_attr("sim", mean)
    trial.set_user_attr("sim_sd", sd)
    trial.set_user_attr("terms", terms)
    trial.set_user_attr("wall", round(rec["wall"], 3))  # summed over replicates
    trial.set_user_attr("cpu", round(rec["cpu"], 3))
    loss = float(sum(terms.values()))
    study.tell(trial, loss)
    summary.completed += 1
    if summary.best_loss is None or loss < summary.best_loss:
        summary.best_loss = loss


def _progress(name: str, total: int, initial: int, quiet: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, desc=name, unit="trial", file=sys.stderr,
                disable=quiet, dynamic_ncols=True, smoothing=0.1)


__all__ = ["Calibration", "CalibrationSummary", "ParamSpec", "TargetSpec", "aggregate",
           "best_trial", "calibration_from_dict", "counted_trials", "evaluate",
           "load_calibration", "make_storage", "open_study", "recover_stale_trials",
           "run_calibration", "run_points", "storage_url"]
