"""``cluster-abm sweep`` and ``cluster-abm replay``: run an experiment, re-check one run.

Wiring in cli.py (owned by the CLI)::

    from .commands import experiments as ex
    p = sub.add_parser("sweep", help="run an experiment's runs into results/<name>/")
    ex.add_sweep_arguments(p); p.set_defaults(func=ex.cmd_sweep)
    p = sub.add_parser("replay", help="re-simulate one stored run and compare to the bit")
    ex.add_replay_arguments(p); p.set_defaults(func=ex.cmd_replay)

Exit status: 0 success; 1 some runs failed, a worker died, or a replay differs; 130
interrupted. Bad input raises :class:`~cluster_abm.errors.InputError`, which the caller prints as
one line and turns into status 2 (cli.main does; so does :func:`main` here, which makes
``python -m cluster_abm.cli.cmd_sweep sweep|replay ...`` work without cli.py).
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

from cluster_abm.errors import InputError
from cluster_abm.experiments.experiment_spec import EXECUTORS

DEFAULT_RESULTS = "results"
DEFAULT_TARGET = "cluster_abm.model.simulate:simulate"  # = worker.DEFAULT_TARGET; kept here so --help
# does not import pyarrow


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def add_execution_arguments(parser: argparse.ArgumentParser, what: str = "runs execute",
                            scheduler: str = "implies --executor dask") -> None:
    """``--executor``, ``--workers`` and ``--scheduler``: the file's [execution], overridden."""
    parser.add_argument("--executor", choices=EXECUTORS, default=None,
                        help=f"where {what} (default: the file's [execution], else processes)")
    parser.add_argument("--workers", type=_positive_int, default=None, metavar="N",
                        help="worker processes (default: the file's, else every CPU available)")
    parser.add_argument("--scheduler", default=None, metavar="ADDRESS",
                        help=f"address of a running Dask scheduler ({scheduler}), e.g. "
                             "tcp://10.0.0.5:8786 or a dask-jobqueue cluster's")


def add_sweep_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``cluster-abm sweep``."""
    parser.add_argument("experiment", help="experiment file, or a name in ./experiments")
    add_execution_arguments(parser)
    parser.add_argument("--resume", action="store_true",
                        help="continue a stored sweep (the default when the store holds the same "
                             "experiment): skip runs stored ok, retry failed ones")
    parser.add_argument("--overwrite", action="store_true",
                        help="delete the stored results of this experiment and start over")
    parser.add_argument("--dry-run", action="store_true",
                        help="count runs, time one pilot run, estimate wall time and disk; "
                             "write nothing")
    parser.add_argument("--results", dest="results_dir", default=DEFAULT_RESULTS, metavar="DIR",
                        help="folder of result stores (default: results)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar or notes")
    parser.add_argument("--simulate", default=DEFAULT_TARGET, metavar="MODULE:FUNCTION",
                        help="model function to call (default: %(default)s; tests and "
                             "benchmarks use a fake)")
    parser.add_argument("--no-consolidate", dest="consolidate", action="store_false",
                        help="keep per-run shard files at the end instead of merging them")


def add_replay_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``cluster-abm replay``."""
    parser.add_argument("run_id", help="run id such as baseline-r007 (or EXPERIMENT/RUN_ID)")
    parser.add_argument("--experiment", default=None, metavar="FILE",
                        help="experiment file (default: search every store under --results)")
    parser.add_argument("--results", dest="results_dir", default=DEFAULT_RESULTS, metavar="DIR",
                        help="folder of result stores (default: results)")
    parser.add_argument("--simulate", default=None, metavar="MODULE:FUNCTION",
                        help="model function (default: the one the sweep used)")
    parser.add_argument("--quiet", action="store_true", help="print only the verdict")


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Treat SIGTERM (scancel, a batch system's time limit) like Ctrl-C, for a clean stop."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def cmd_sweep(args: argparse.Namespace) -> int:
    """Run (or dry-run) an experiment; see the module docstring for the exit status."""
    from cluster_abm.experiments.experiment_spec import load_experiment
    from cluster_abm.experiments.runner import dry_run, run_experiment

    quiet = getattr(args, "quiet", False)
    scheduler = getattr(args, "scheduler", None)
    executor = getattr(args, "executor", None) or ("dask" if scheduler else None)
    kwargs = dict(results_dir=getattr(args, "results_dir", DEFAULT_RESULTS), executor=executor,
                  workers=getattr(args, "workers", None), scheduler=scheduler,
                  simulate=getattr(args, "simulate", None) or DEFAULT_TARGET,
                  overwrite=getattr(args, "overwrite", False))
    if getattr(args, "resume", False) and kwargs["overwrite"]:
        raise InputError("--resume and --overwrite contradict each other; choose one",
                         key="--resume")
    exp = load_experiment(args.experiment)
    if getattr(args, "dry_run", False):
        report = dry_run(exp, **kwargs)
        print(report.format())
        return 1 if report.pilot_error else 0
    if getattr(args, "resume", False) and not quiet and not (
            Path(kwargs["results_dir"]) / exp.name / "manifest.json").is_file():
        print(f"note: nothing to resume in {Path(kwargs['results_dir']) / exp.name}; starting",
              file=sys.stderr)
    with _sigterm_as_interrupt():
        summary = run_experiment(exp, quiet=quiet, consolidate=getattr(args, "consolidate", True),
                                 **kwargs)
    print(summary.format())
    return summary.exit_code


def cmd_replay(args: argparse.Namespace) -> int:
    """Replay one run: 0 and "match", or 1 and the first difference."""
    from cluster_abm.analysis.replay import replay

    res = replay(args.run_id, results_dir=getattr(args, "results_dir", DEFAULT_RESULTS),
                 experiment=getattr(args, "experiment", None),
                 simulate=getattr(args, "simulate", None))
    if res.warning and not getattr(args, "quiet", False):
        print(f"warning: {res.warning}", file=sys.stderr)
    print(res.message)
    return 0 if res.match else 1


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry point: ``python -m cluster_abm.cli.cmd_sweep sweep ...``."""
    parser = argparse.ArgumentParser(prog="python -m cluster_abm.cli.cmd_sweep")
    sub = parser.add_subparsers(dest="command", required=True)
    add_sweep_arguments(sub.add_parser("sweep", help="run an experiment"))
    add_replay_arguments(sub.add_parser("replay", help="replay one stored run"))
    args = parser.parse_args(argv)
    try:
        return cmd_sweep(args) if args.command == "sweep" else cmd_replay(args)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
