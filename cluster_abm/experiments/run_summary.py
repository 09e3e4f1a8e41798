"""What one call of a batch command did, and how the command line reports it.

A sweep's runs (:class:`cluster_abm.experiments.runner.SweepSummary`, also behind ``compare``
and ``sensitivity``) and a calibration's trials
(:class:`cluster_abm.analysis.calibration.fit.CalibrationSummary`) end the same way: some
finished, some failed, a worker may have died, Ctrl-C or SIGTERM may have stopped it. This base
holds those facts, the exit-status rule (0 done, 1 failures, a lost worker or a stop such as a
full disk, 130 interrupted)
and the lines about them, so every command says them in the same words; a subclass adds its
counts (:meth:`RunSummary.headline`) and its own lines.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar

from cluster_abm.experiments.executors import WorkerLost

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a Ctrl-C


class Stop(Exception):
    """Raised inside :meth:`RunSummary.stopping` to stop a batch for a reason the caller states
    (a full disk): the executor's outstanding work is aborted and the reason recorded."""


@dataclass(kw_only=True)
class RunSummary(ABC):
    """Failures, stops and timing of one batch call; subclasses add their counts."""

    failed: list[tuple[Any, str]] = field(default_factory=list)  # (run id or trial, error)
    interrupted: bool = False
    worker_lost: str = ""
    stopped: str = ""  # why the batch stopped early other than a lost worker or Ctrl-C
    wall_time: float = 0.0  # s
    executor: str = ""

    max_failures_shown: ClassVar[int] = 20
    failures_hint: ClassVar[str] = ""  # where the full errors are, shown after the failures

    @property
    def failures_fatal(self) -> bool:
        """Whether the failures alone make the call fail (exit status 1)."""
        return bool(self.failed)

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            return EXIT_INTERRUPTED
        return EXIT_FAILED if self.worker_lost or self.stopped or self.failures_fatal else EXIT_OK

    # --- what a subclass says -------------------------------------------------------------------
    @abstractmethod
    def headline(self) -> str:
        """The first line: what was done, how fast, where it went."""

    def failure_label(self, key: Any) -> str:
        """How a failed item is named (a run id; ``trial 12``)."""
        return str(key)

    def stored_note(self) -> str:
        """After an interruption: what is kept."""
        return "what finished is stored"

    def detail_lines(self) -> list[str]:
        """Lines right after the headline."""
        return []

    def closing_lines(self) -> list[str]:
        """Lines at the end (files written)."""
        return []

    # --- the report -----------------------------------------------------------------------------
    def format(self) -> str:
        lines = [self.headline(), *self.detail_lines()]
        n = self.max_failures_shown
        for key, error in self.failed[:n]:
            first = error.splitlines()[0] if error else "?"
            lines.append(f"  failed {self.failure_label(key)}: {first}")
        if len(self.failed) > n:
            lines.append(f"  ... and {len(self.failed) - n} more")
        if self.failed and self.failures_hint:
            lines.append(f"  {self.failures_hint}")
        if self.worker_lost:
            lines.append(f"  stopped: {self.worker_lost}; what finished is stored; run the same "
                         "command again to resume")
        if self.stopped:
            lines.append(f"  stopped: {self.stopped}; {self.stored_note()}; run the same command "
                         "again to resume")
        if self.interrupted:
            lines.append(f"  interrupted: {self.stored_note()}; run the same command again to "
                         "resume")
        lines += self.closing_lines()
        return "\n".join(lines)

    @contextmanager
    def stopping(self, executor: Any) -> Iterator[None]:
        """Around an executor's loop: Ctrl-C (SIGTERM, under the CLI) or a lost worker aborts the
        executor's outstanding work and is recorded here, so the caller can still store and
        report what finished."""
        try:
            yield
        except (KeyboardInterrupt, WorkerLost, Stop) as exc:
            executor.abort()
            if isinstance(exc, WorkerLost):
                self.worker_lost = str(exc)
            elif isinstance(exc, Stop):
                self.stopped = str(exc)
            else:
                self.interrupted = True


class TrialSummary(RunSummary):
    """A study of trials (a calibration, a policy search): trials are counted run, ok or failed,
    failures are named ``trial N``, and a failed trial is a finding (the optimiser avoids its
    region) unless every trial failed. Subclasses are dataclasses with a ``completed`` count."""

    max_failures_shown: ClassVar[int] = 10

    @property
    def run(self) -> int:
        return self.completed + len(self.failed)

    @property
    def failures_fatal(self) -> bool:
        return bool(self.failed) and not self.completed

    def failure_label(self, key: Any) -> str:
        return f"trial {key}"

    def stored_note(self) -> str:
        return "the stored trials are kept"
