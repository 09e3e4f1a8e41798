"""Executors: the same ``map_unordered(fn, items)`` on one core, on local processes, or on Dask.

* ``serial``: in this process, in order; simplest to debug (pdb, prints).
* ``processes``: a :class:`concurrent.futures.ProcessPoolExecutor` on an explicit ``spawn``
  context. The start method is passed to the pool and never set process-wide, so importing this
  module changes nothing for the caller (a notebook, Mesa's own batch runner, a test suite), and
  behaviour is the same on Linux, macOS and Windows. Workers ignore SIGINT, so Ctrl-C reaches
  only the runner, which stops them; they exit by themselves if the runner is killed.
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
import concurrent.futures as cf
import contextlib
import itertools
import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
import time
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
    """A worker process died (killed, out of memory, segfault); stored runs are safe."""


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


class ProcessExecutor(Executor):
    """A spawn-context process pool (the context is the pool's, not the interpreter's)."""

    name = "processes"

    def __init__(self, workers: int = 1, window: int | None = None,
                 start_method: str = START_METHOD, malloc_tuning: bool = True):
        super().__init__(workers, window)
        self.start_method = start_method
        self.pool = cf.ProcessPoolExecutor(max_workers=self.workers,
                                           mp_context=multiprocessing.get_context(start_method),
                                           initializer=_init_worker, initargs=(malloc_tuning,))

    def map_unordered(self, fn, items, total=None):
        it = iter(items)
        pending: dict[cf.Future, Any] = {}

        def submit_next() -> None:
            for item in it:
                pending[self.pool.submit(fn, item)] = item
                return

        for _ in range(self.window):
            submit_next()
        while pending:
            done, _ = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
            for fut in done:
                item = pending.pop(fut)
                value = error = None
                try:
                    value = fut.result()
                except cf.process.BrokenProcessPool as exc:
                    ids = [_label(i) for i in [item, *pending.values()]]
                    raise WorkerLost(
                        "a worker process died (killed, out of memory or a crash in native "
                        f"code) while these runs were in flight: {', '.join(sorted(ids))}; try "
                        "them alone with --executor serial") from exc
                except Exception as exc:
                    error = exc
                submit_next()  # keep the workers busy while the runner stores this result
                yield item, value, error

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)

    def abort(self) -> None:
        # Python 3.11 has no public way to stop running tasks; terminate the workers directly.
        procs = dict(getattr(self.pool, "_processes", None) or {})
        self.pool.shutdown(wait=False, cancel_futures=True)
        for proc in procs.values():
            with contextlib.suppress(Exception):
                proc.terminate()
        for proc in procs.values():
            with contextlib.suppress(Exception):
                proc.join(timeout=5)


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
