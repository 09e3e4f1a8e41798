"""``cluster-abm sweep`` and ``cluster-abm replay``: run an experiment, re-check one run.

Both are registered in :data:`cluster_abm.cli.main.COMMANDS`; :func:`runner_options` and
:func:`print_dry_run` serve ``compare`` and ``sensitivity`` too.

Exit status: 0 success; 1 some runs failed, a worker died, or a replay differs; 130
interrupted (Ctrl-C or SIGTERM: run the same command to resume). Bad input raises
:class:`~cluster_abm.errors.InputError`, which the CLI's boundary
(:func:`cluster_abm.cli.main.run_command`) prints as one line with status 2;
``python -m cluster_abm.cli.cmd_sweep sweep|replay ...`` goes through the same boundary.
"""

from __future__ import annotations

import argparse
import sys
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


TLS_CLIENT = ("ca-file", "client.cert", "client.key")  # distributed.comm.tls.* a tls:// client needs


def check_scheduler(address: str | None) -> str | None:
    """``--scheduler``: a ``tls://`` address needs the client's certificate in Dask's
    configuration (README, "Dask with an existing scheduler"); without it Dask fails with a
    traceback, so say what to set instead."""
    if address is None or not address.startswith("tls://"):
        return address
    import dask.config

    missing = [k for k in TLS_CLIENT if not dask.config.get(f"distributed.comm.tls.{k}", None)]
    if missing:
        names = ", ".join("DASK_DISTRIBUTED__COMM__TLS__" + k.upper().replace("-", "_").replace(".", "__")
                          for k in missing)
        raise InputError(f"a tls:// scheduler needs the client's certificate: set {names} "
                         "(see the README's Dask recipe)", key="--scheduler")
    return address


LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]")


def check_file_scheduler(execution, cli_scheduler: str | None, source: str) -> None:
    """A Dask scheduler named in a file is used only if it runs on this machine, or if the
    command line names one (``--scheduler``, which then wins): a Dask client unpickles what the
    scheduler and its workers send back, so a file someone sends must not pick the machine
    that answers."""
    address = getattr(execution, "scheduler", None)
    if address is None or cli_scheduler is not None:
        return
    host = address.split("://", 1)[-1].rsplit(":", 1)[0]
    if host not in LOCAL_HOSTS:
        raise InputError(f"names the Dask scheduler {address!r} on another machine; a scheduler "
                         f"elsewhere is used only when the command line names it: add "
                         f"--scheduler {address}", source=source, key="execution.scheduler")


def runner_options(args: argparse.Namespace, simulate: str | None = None) -> dict:
    """The runner's keyword arguments from the options of sweep, compare and sensitivity."""
    return dict(results_dir=getattr(args, "results_dir", DEFAULT_RESULTS),
                executor=getattr(args, "executor", None), workers=getattr(args, "workers", None),
                scheduler=check_scheduler(getattr(args, "scheduler", None)),
                simulate=simulate or getattr(args, "simulate", None) or DEFAULT_TARGET,
                overwrite=getattr(args, "overwrite", False))


def print_dry_run(exp, **options) -> int:
    """Print what a sweep would do (one timed pilot run); 1 if the pilot run failed."""
    from cluster_abm.experiments.runner import dry_run

    report = dry_run(exp, **options)
    print(report.format())
    return 1 if report.pilot_error else 0


def cmd_sweep(args: argparse.Namespace) -> int:
    """Run (or dry-run) an experiment; see the module docstring for the exit status."""
    from cluster_abm.experiments.experiment_spec import load_experiment
    from cluster_abm.experiments.runner import run_experiment, stored_replicates

    quiet = getattr(args, "quiet", False)
    options = runner_options(args)
    if getattr(args, "resume", False) and options["overwrite"]:
        raise InputError("--resume and --overwrite contradict each other; choose one",
                         key="--resume")
    exp = load_experiment(args.experiment)
    check_file_scheduler(exp.execution, options["scheduler"], exp.source)
    held = None if options["overwrite"] else stored_replicates(exp, options["results_dir"])
    if held is not None and held > exp.replicates:  # grown by `compare --precision`
        if not quiet:
            print(f"note: {exp.name} holds {held} replicates (grown by compare --precision); "
                  "using them", file=sys.stderr)
        exp = exp.with_replicates(held)
    if getattr(args, "dry_run", False):
        return print_dry_run(exp, **options)
    store = Path(options["results_dir"]) / exp.name
    if getattr(args, "resume", False) and not quiet and not (store / "manifest.json").is_file():
        print(f"note: nothing to resume in {store}; starting", file=sys.stderr)
    summary = run_experiment(exp, quiet=quiet, consolidate=getattr(args, "consolidate", True),
                             **options)
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
    """``python -m cluster_abm.cli.cmd_sweep sweep|replay ...``: the same as ``cluster-abm``."""
    from cluster_abm.cli.main import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
