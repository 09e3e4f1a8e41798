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
  and closes. Scripts that start one need the ``if __name__ == "__main__":`` guard.

All three keep at most ``window`` tasks in flight, so a sweep of a million runs neither builds a
million task objects nor piles up results faster than the runner writes them. Results come back
in completion order; callers must not depend on it (the store sorts by run id).
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import itertools
import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any

EXECUTORS = ("serial", "processes", "dask")
START_METHOD = "spawn"


class WorkerLost(RuntimeError):
    """A worker process died (killed, out of memory, segfault); stored runs are safe."""


Result = tuple[Any, Any, BaseException | None]  # (item, fn(item) or None, exception or None)


class Executor:
    """Base class: a context manager with :meth:`map_unordered` and :meth:`abort`."""

    name = "base"

    def __init__(self, workers: int = 1, window: int | None = None):
        self.workers = max(1, int(workers))
        self.window = window or 4 * self.workers

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close()

    def close(self) -> None:
        """Release workers after normal completion."""

    def abort(self) -> None:
        """Stop running work as fast as possible (Ctrl-C); results in flight are lost."""
        self.close()

    def describe(self) -> str:
        return f"{self.name} ({self.workers} worker{'s' if self.workers != 1 else ''})"

    def map_unordered(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Result]:
        raise NotImplementedError


class SerialExecutor(Executor):
    """Runs every item in this process, in order."""

    name = "serial"

    def __init__(self, workers: int = 1, window: int | None = None):
        super().__init__(1, window)

    def map_unordered(self, fn, items):
        for item in items:
            try:
                value = fn(item)
            except Exception as exc:  # fn's own failures are data, not a reason to stop
                yield item, None, exc
            else:
                yield item, value, None


def _init_worker() -> None:
    """Pool initializer: leave Ctrl-C to the runner, and exit when the runner dies.

    Ctrl-C is the runner's to handle (it stops the workers). If the runner is killed outright
    (SIGKILL, the OOM killer), a pool worker would otherwise wait for work forever: every
    worker holds the write end of the task queue, so it never sees end-of-file. A daemon thread
    waits on the parent's sentinel and ends the worker when the parent is gone.
    """
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
                 start_method: str = START_METHOD):
        super().__init__(workers, window)
        self.start_method = start_method
        self.pool = cf.ProcessPoolExecutor(max_workers=self.workers,
                                           mp_context=multiprocessing.get_context(start_method),
                                           initializer=_init_worker)

    def map_unordered(self, fn, items):
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
                try:
                    value = fut.result()
                except cf.process.BrokenProcessPool as exc:
                    raise WorkerLost(
                        "a worker process died (killed or out of memory?) while running "
                        f"{len(pending) + 1} run(s)") from exc
                except Exception as exc:
                    yield item, None, exc
                else:
                    yield item, value, None
                submit_next()

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
                 quiet: bool = False):
        super().__init__(workers, window)
        try:
            from distributed import Client, LocalCluster
        except ImportError as exc:  # pragma: no cover - dask[distributed] is a dependency
            raise RuntimeError("the dask executor needs dask[distributed] installed") from exc
        self.scheduler = scheduler
        self.cluster = None
        self._pending: dict[str, tuple[Any, Any]] = {}
        if scheduler:
            self.client = Client(scheduler, timeout="30s")
            n = len(self.client.scheduler_info(n_workers=-1).get("workers", {}))
            self.workers = max(1, n)
            self.window = window or 4 * max(self.workers, workers)
        else:
            self.cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1,
                                        processes=True, dashboard_address=None,
                                        silence_logs=logging.ERROR if quiet else logging.WARNING)
            self.client = Client(self.cluster)

    def describe(self) -> str:
        where = f"scheduler {self.scheduler}" if self.scheduler else "LocalCluster"
        return f"dask ({where}, {self.workers} worker{'s' if self.workers != 1 else ''})"

    def map_unordered(self, fn, items):
        from distributed import as_completed

        it = iter(items)
        pending = self._pending

        def submit(item):
            key = f"{getattr(getattr(item, 'run', None), 'run_id', 'task')}-{uuid.uuid4().hex[:8]}"
            fut = self.client.submit(fn, item, key=key, pure=False)
            pending[fut.key] = (fut, item)
            return fut

        first = [submit(item) for item in itertools.islice(it, self.window)]
        queue = as_completed(first)
        for fut in queue:
            _, item = pending.pop(fut.key)
            try:
                value = fut.result()
            except Exception as exc:  # incl. KilledWorker: this run kept killing workers
                yield item, None, exc
            else:
                yield item, value, None
            finally:
                fut.release()
            for nxt in it:
                queue.add(submit(nxt))
                break

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


def make_executor(kind: str, workers: int = 1, *, scheduler: str | None = None,
                  window: int | None = None, quiet: bool = False) -> Executor:
    """Build the executor called ``kind`` (one of :data:`EXECUTORS`)."""
    if kind == "serial":
        return SerialExecutor(1, window)
    if kind == "processes":
        return ProcessExecutor(workers, window)
    if kind == "dask":
        return DaskExecutor(workers, window, scheduler=scheduler, quiet=quiet)
    raise ValueError(f"unknown executor {kind!r}; allowed: {', '.join(EXECUTORS)}")
