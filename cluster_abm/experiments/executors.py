"""Executors: the same ``map_unordered(fn, items)`` on one core, on local processes, or on Dask.

* ``serial``: in this process, in order; simplest to debug (pdb, prints).
* ``processes``: worker processes on an explicit ``spawn`` context, one item at a time each
  (:class:`ProcessExecutor`). The start method is the executor's and never set process-wide, so
  importing this module changes nothing for the caller (a notebook, Mesa's own batch runner, a
  test suite), and behaviour is the same on Linux, macOS and Windows. Workers ignore SIGINT, so
  Ctrl-C reaches only the runner, which stops them; they exit by themselves if the runner is
  killed. A worker that dies takes only its item with it: the item is tried once more in a
  fresh process, then reported as lost (:class:`WorkerLost`), and the others run on.
* ``dask``: a :class:`distributed.Client` to an existing scheduler (``--scheduler ADDRESS``:
  a SLURM/PBS cluster via dask-jobqueue, Kubernetes, ``dask scheduler`` on a workstation), or a
  :class:`distributed.LocalCluster` of single-threaded worker processes that the executor starts
  and closes, tuned by :data:`LOCAL_CLUSTER_CONFIG` (see :class:`DaskExecutor`). Scripts that
  start one need the ``if __name__ == "__main__":`` guard.

Worker processes (``processes``, ``dask``) tune glibc's allocator once before their first task
(``malloc_tuning=True``, the default; see :mod:`cluster_abm.experiments.allocator`); the
``serial`` executor leaves the caller's process as it is.

All three keep at most ``window`` tasks in flight, so a sweep of a million runs neither builds a
million task objects nor piles up results faster than the runner writes them. Dask sends short
runs in chunks of about half a second of work (its per-task overhead would swamp them).
Results come back in completion order; callers must not depend on it (the store sorts by run
id).
"""

from __future__ import annotations

import abc
import collections
import contextlib
import itertools
import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from cluster_abm.errors import InputError
from cluster_abm.experiments.allocator import tune_allocator

EXECUTORS = ("serial", "processes", "dask")
START_METHOD = "spawn"
CHUNK_SECONDS = 0.5  # Dask: target work per task when runs are short
MAX_CHUNK = 64
LOCAL_CLUSTER_CONFIG = {
    "distributed.worker.profile.enabled": False,
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,  # None = unset
}


class WorkerLost(RuntimeError):
    """A worker process died (killed, out of memory, segfault) running an item: the error of
    that item under the ``processes`` executor; raised by executors that must stop."""


Result = tuple[Any, Any, BaseException | None]  # (item, fn(item) or None, exception or None)


def _label(item: Any) -> str:
    """A readable name for a task (its run id) in messages and Dask's dashboard."""
    return str(getattr(getattr(item, "run", None), "run_id", "task"))


class Executor(abc.ABC):
    """Base class: a context manager with :meth:`map_unordered` and :meth:`abort`."""

    name = "base"

    def __init__(self, workers: int = 1, window: int | None = None):
        self.workers = max(1, int(workers))
        self.window = window or 4 * self.workers

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close()

    def close(self) -> None:  # noqa: B027 - a no-op by default: the serial executor holds nothing
        """Release workers after normal completion."""

    def abort(self) -> None:
        """Stop running work as fast as possible (Ctrl-C); results in flight are lost."""
        self.close()

    def describe(self) -> str:
        return f"{self.name} ({self.workers} worker{'s' if self.workers != 1 else ''})"

    @abc.abstractmethod
    def map_unordered(self, fn: Callable[[Any], Any], items: Iterable[Any],
                      total: int | None = None) -> Iterator[Result]:
        """Yield ``(item, fn(item), None)`` or ``(item, None, exception)`` as items finish.

        ``total`` (how many items there are, if known) lets an executor size its batches.
        """


class SerialExecutor(Executor):
    """Runs every item in this process, in order."""

    name = "serial"

    def __init__(self, workers: int = 1, window: int | None = None):
        super().__init__(1, window)

    def map_unordered(self, fn, items, total=None):
        for item in items:
            try:
                value = fn(item)
            except Exception as exc:  # fn's own failures are data, not a reason to stop
                yield item, None, exc
            else:
                yield item, value, None


def _init_worker(malloc_tuning: bool = False) -> None:
    """Pool initializer: tune the allocator if asked, leave Ctrl-C to the runner, and exit when
    the runner dies.

    Ctrl-C is the runner's to handle (it stops the workers). If the runner is killed outright
    (SIGKILL, the OOM killer), a pool worker would otherwise wait for work forever: every
    worker holds the write end of the task queue, so it never sees end-of-file. A daemon thread
    waits on the parent's sentinel and ends the worker when the parent is gone.
    """
    if malloc_tuning:
        tune_allocator()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(1)

    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()


class _Worker:
    """One worker process of :class:`ProcessExecutor`: a task pipe in, a result pipe out, and
    the item it is running (at most one, so a death is always charged to the right run)."""

    def __init__(self, ctx, malloc_tuning: bool):
        task_r, self.tasks = ctx.Pipe(duplex=False)
        self.results, result_w = ctx.Pipe(duplex=False)
        self.proc = ctx.Process(target=_worker_loop, args=(task_r, result_w, malloc_tuning),
                                name="cluster_abm-worker", daemon=True)
        self.proc.start()
        # our copies of the child's ends: closed, so a dead child means EOF / EPIPE here
        task_r.close()
        result_w.close()
        self.item: Any = None
        self.busy = False

    def send(self, fn: Callable[[Any], Any], item: Any) -> bool:
        """Hand ``item`` over; False if the worker is already gone."""
        try:
            self.tasks.send((fn, item))
        except (BrokenPipeError, ConnectionResetError, EOFError, OSError):
            return False
        self.item, self.busy = item, True
        return True

    def death(self) -> str:
        """How the process ended, in words (after it has)."""
        self.proc.join(timeout=5)
        code = self.proc.exitcode
        if code is None:
            return "its process stopped answering"
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            oom = " (as by the out-of-memory killer)" if -code == signal.SIGKILL else ""
            return f"its process was killed by {name} ({-code}){oom}"
        return f"its process exited with status {code}"

    def stop(self, wait: bool) -> None:
        with contextlib.suppress(Exception):
            if wait and self.proc.is_alive():
                self.tasks.send(None)
                self.proc.join(timeout=10)
        with contextlib.suppress(Exception):
            if self.proc.is_alive():
                self.proc.terminate()
                self.proc.join(timeout=5)
        for conn in (self.tasks, self.results):
            with contextlib.suppress(Exception):
                conn.close()


class _RemoteTraceback(Exception):
    """The traceback of an exception raised in a worker process (its ``__cause__``)."""

    def __init__(self, tb: str):
        super().__init__(tb)
        self.tb = tb

    def __str__(self) -> str:
        return self.tb


def _worker_loop(tasks, results, malloc_tuning: bool) -> None:
    """Body of a worker process: run what arrives on ``tasks``, answer on ``results``; an
    exception of the task is an answer, not the end of the worker."""
    _init_worker(malloc_tuning)
    while True:
        try:
            message = tasks.recv()
        except (EOFError, OSError):
            return  # the runner is gone
        if message is None:
            return
        fn, item = message
        try:
            answer = (True, fn(item), None)
        except Exception as exc:
            answer = (False, exc, traceback.format_exc())
        try:
            results.send(answer)
        except Exception as exc:  # an unpicklable value or exception: say what it was
            results.send((False, RuntimeError(f"the worker could not send back its result: "
                                              f"{type(exc).__name__}: {exc}"),
                          traceback.format_exc()))


class ProcessExecutor(Executor):
    """Worker processes started with ``spawn`` (the context is this executor's, not the
    interpreter's), each running one item at a time.

    A worker that dies (``os._exit``, a segfault in native code, the OOM killer) takes only its
    item with it: the item is tried again once in a fresh process (:data:`RETRIES`); if that
    process dies too, the item is yielded with a :class:`WorkerLost` error saying how the
    process ended (exit status or signal). The other workers run on undisturbed, so one run
    that kills its worker never stops a sweep. :attr:`deaths` lists every death, for the
    record.
    """

    name = "processes"
    RETRIES = 1

    def __init__(self, workers: int = 1, window: int | None = None,
                 start_method: str = START_METHOD, malloc_tuning: bool = True):
        super().__init__(workers, window)
        self.start_method = start_method
        self.malloc_tuning = malloc_tuning
        self.ctx = multiprocessing.get_context(start_method)
        self.pool: list[_Worker] = []
        self.deaths: list[tuple[str, str]] = []  # (item label, how its worker ended)
        self.started = 0  # worker processes started

    def _start(self) -> _Worker:
        w = _Worker(self.ctx, self.malloc_tuning)
        self.started += 1
        self.pool.append(w)
        return w

    def _replace(self, w: _Worker) -> _Worker:
        w.stop(wait=False)
        self.pool.remove(w)
        return self._start()

    def map_unordered(self, fn, items, total=None):
        it = iter(items)
        again: collections.deque = collections.deque()  # items whose worker died: run again
        tries: dict[int, int] = {}  # id(item) -> deaths so far

        def next_item() -> Any:
            if again:
                return again.popleft()
            return next(it, _DONE)

        def feed(w: _Worker) -> _Worker:
            """Give ``w`` the next item (a fresh worker if ``w`` turns out to be dead)."""
            while True:
                item = next_item()
                if item is _DONE:
                    w.item, w.busy = None, False
                    return w
                if w.send(fn, item):
                    return w
                again.appendleft(item)  # never started: not its fault
                w = self._replace(w)

        while len(self.pool) < self.workers:
            w = feed(self._start())
            if not w.busy:
                break
        while True:
            busy = [w for w in self.pool if w.busy]
            if not busy:
                if again:  # items whose worker died while every other worker had finished
                    for w in self.pool:
                        feed(w)
                    continue
                return
            ready = multiprocessing.connection.wait(
                [w.results for w in busy] + [w.proc.sentinel for w in busy])
            for w in busy:
                answer = None
                if w.results in ready:
                    try:
                        answer = w.results.recv()
                    except Exception:  # EOF or half a message: it died while answering
                        answer = None
                elif w.proc.sentinel not in ready:
                    continue
                if answer is not None:
                    ok, value, tb = answer
                    item = w.item
                    feed(w)  # keep the worker busy while the caller stores this result
                    if ok:
                        yield item, value, None
                    else:
                        if tb:
                            value.__cause__ = _RemoteTraceback(tb)
                        yield item, None, value
                    continue
                # the process ended without answering: its item goes with it, alone
                item, how = w.item, w.death()
                label = _label(item)
                self.deaths.append((label, how))
                tries[id(item)] = tries.get(id(item), 0) + 1
                fresh = self._replace(w)
                if tries[id(item)] <= self.RETRIES:
                    again.append(item)
                    feed(fresh)
                else:
                    feed(fresh)
                    yield item, None, WorkerLost(
                        f"worker lost: {how} while running {label}, and again when it was run "
                        "a second time in a fresh process")

    def close(self) -> None:
        for w in self.pool:
            w.stop(wait=True)
        self.pool.clear()

    def abort(self) -> None:
        for w in self.pool:
            with contextlib.suppress(Exception):
                w.proc.terminate()
        for w in self.pool:
            w.stop(wait=False)
        self.pool.clear()


_DONE = object()


class DaskExecutor(Executor):
    """A Dask client: to ``scheduler`` if given, else to a LocalCluster it owns."""

    name = "dask"

    def __init__(self, workers: int = 1, window: int | None = None, scheduler: str | None = None,
                 quiet: bool = False, malloc_tuning: bool = True):
        super().__init__(workers, window)
        self.malloc_tuning = malloc_tuning
        try:
            from distributed import Client, LocalCluster
        except ImportError as exc:  # pragma: no cover - dask[distributed] is a dependency
            raise RuntimeError("the dask executor needs dask[distributed] installed") from exc
        self.scheduler = scheduler
        self.cluster = None
        self._pending: dict[str, tuple[Any, Any]] = {}
        if scheduler:
            try:
                self.client = Client(scheduler, timeout="30s")
            except (OSError, TimeoutError, ValueError) as exc:
                raise InputError(f"cannot connect to the Dask scheduler at {scheduler!r}: "
                                 f"{exc}", key="--scheduler") from None
            n = len(self.client.scheduler_info(n_workers=-1).get("workers", {}))
            self.workers = max(1, n)
            self.window = window or 4 * max(self.workers, workers)
        else:
            import dask

            # Two Dask defaults that suit long-lived data workers, not short model runs, each
            # cost a large share of a run's CPU: the statistical profiler (samples every
            # worker's stack every 10 ms) and MALLOC_TRIM_THRESHOLD_=65536, which hands freed
            # memory back to the OS at once, so every run page-faults it in again. Workers copy
            # the config they are started with.
            with dask.config.set(LOCAL_CLUSTER_CONFIG):
                self.cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1,
                                            processes=True, dashboard_address=None,
                                            silence_logs=logging.ERROR if quiet
                                            else logging.WARNING)
            self.client = Client(self.cluster)

    def describe(self) -> str:
        where = f"scheduler {self.scheduler}" if self.scheduler else "LocalCluster"
        return f"dask ({where}, {self.workers} worker{'s' if self.workers != 1 else ''})"

    def _chunk_size(self, per_item: float | None, total: int | None, submitted: int) -> int:
        """Runs per Dask task: about CHUNK_SECONDS of work, 1 until the run time is known.

        Dask spends scheduler and worker CPU on every task, a large share of a short run, so
        short runs travel in chunks. Chunks stay small enough that every worker gets several
        before the sweep ends (no straggler chunk).
        """
        if not per_item:
            return 1
        size = int(CHUNK_SECONDS / per_item)
        if total is not None:
            size = min(size, (total - submitted) // (4 * self.workers))
        return max(1, min(size, MAX_CHUNK))

    def map_unordered(self, fn, items, total=None):
        from distributed import as_completed

        it = iter(items)
        pending = self._pending
        state = {"submitted": 0, "per_item": None}

        def submit():
            size = self._chunk_size(state["per_item"], total, state["submitted"])
            batch = list(itertools.islice(it, size))
            if not batch:
                return None
            more = f"+{len(batch) - 1}" if len(batch) > 1 else ""
            key = f"{_label(batch[0])}{more}-{uuid.uuid4().hex[:8]}"
            fut = self.client.submit(_run_chunk, fn, batch, self.malloc_tuning, key=key, pure=False)
            pending[fut.key] = (fut, batch)
            state["submitted"] += len(batch)
            return fut

        first = []
        for _ in range(self.window):
            fut = submit()
            if fut is None:
                break
            first.append(fut)
        queue = as_completed(first)
        for fut in queue:
            _, batch = pending.pop(fut.key)
            try:
                values, elapsed = fut.result()
            except Exception as exc:  # incl. KilledWorker: a run here kept killing workers
                values = [(None, exc)] * len(batch)
            else:
                x = elapsed / len(batch)
                prev = state["per_item"]
                state["per_item"] = x if prev is None else 0.7 * prev + 0.3 * x
            finally:
                fut.release()
            nxt = submit()  # keep the workers busy while the runner stores these results
            if nxt is not None:
                queue.add(nxt)
            for item, (value, exc) in zip(batch, values, strict=True):
                yield item, value, exc

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.close()
        if self.cluster is not None:
            with contextlib.suppress(Exception):
                self.cluster.close()

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self.client.cancel([fut for fut, _ in self._pending.values()], force=True)
        self._pending.clear()
        self.close()


def _run_chunk(fn: Callable[[Any], Any], items: list[Any],
               malloc_tuning: bool = False) -> tuple[list[tuple], float]:
    """Dask task body: run several items; return [(value, exception)] and the time it took.
    With ``malloc_tuning`` the worker process tunes its allocator (once; a no-op after)."""
    if malloc_tuning:
        tune_allocator()
    t0 = time.perf_counter()
    out: list[tuple[Any, BaseException | None]] = []
    for item in items:
        try:
            out.append((fn(item), None))
        except Exception as exc:  # fn's own failures are data, as in the other executors
            out.append((None, exc))
    return out, time.perf_counter() - t0


def make_executor(kind: str, workers: int = 1, *, scheduler: str | None = None,
                  window: int | None = None, quiet: bool = False,
                  malloc_tuning: bool = True) -> Executor:
    """Build the executor called ``kind`` (one of :data:`EXECUTORS`). ``malloc_tuning``: its
    worker processes tune glibc's allocator (:mod:`cluster_abm.experiments.allocator`); the
    serial executor, which has none, ignores it."""
    if kind == "serial":
        return SerialExecutor(1, window)
    if kind == "processes":
        return ProcessExecutor(workers, window, malloc_tuning=malloc_tuning)
    if kind == "dask":
        return DaskExecutor(workers, window, scheduler=scheduler, quiet=quiet,
                            malloc_tuning=malloc_tuning)
    raise ValueError(f"unknown executor {kind!r}; allowed: {', '.join(EXECUTORS)}")
