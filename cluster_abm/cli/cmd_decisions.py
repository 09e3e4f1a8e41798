"""``cluster-abm optimize``, ``cluster-abm robustness`` and ``cluster-abm discover``: the best
package for a budget, how robust packages are across plausible worlds, and where they fail.

The logic lives in :mod:`cluster_abm.analysis.decisions` (search, ensemble, discovery) and
:mod:`cluster_abm.reports.decision_report` (the reports); this module only parses options. Bad
input raises :class:`~cluster_abm.errors.InputError`, which the CLI's boundary prints as one
line with exit status 2.

Exit status: 0 done; 1 failures (every trial of a session failed, some runs failed, a pilot
failed) or a lost worker; 130 interrupted (run the same command again to resume).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cluster_abm.cli.cmd_sweep import DEFAULT_RESULTS, _positive_int, add_execution_arguments
from cluster_abm.errors import InputError


def _common(parser: argparse.ArgumentParser, what: str) -> None:
    add_execution_arguments(parser, what, "with --executor dask")
    parser.add_argument("--results", dest="results_dir", default=DEFAULT_RESULTS, metavar="DIR",
                        help="folder of results (default: results)")
    parser.add_argument("--overwrite", action="store_true",
                        help="delete what is stored for this file and start over")
    parser.add_argument("--dry-run", action="store_true",
                        help="count what is left to run, time one pilot evaluation, estimate "
                             "the wall time; write nothing")
    parser.add_argument("--report-only", action="store_true",
                        help="run nothing: write the report from what is stored")
    parser.add_argument("--quiet", action="store_true", help="no progress bar or notes")


# --- optimize -------------------------------------------------------------------------------------
def add_optimize_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``cluster-abm optimize``."""
    parser.add_argument("search", help="search file (TOML), or a name in ./experiments, e.g. "
                                       "frontier_ne_romania")
    parser.add_argument("--trials", type=_positive_int, default=None, metavar="N",
                        help="total trials the study should hold (default: the file's); a "
                             "stored search continues up to N")
    parser.add_argument("--storage", default=None, metavar="URL",
                        help="Optuna storage (default: the file's [storage] url, else "
                             "sqlite:///results/<name>/optuna.db; 'journal' for a journal file; "
                             "postgresql://... for workers on several machines)")
    _common(parser, "simulations run")


def cmd_optimize(args: argparse.Namespace) -> int:
    import optuna

    from cluster_abm.analysis.decisions.decision_spec import load_frontier_spec
    from cluster_abm.analysis.decisions.frontier import (
        dry_run_search,
        open_search,
        run_search,
        trial_table,
        write_frontier,
    )
    from cluster_abm.reports.decision_report import write_frontier_report

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    spec = load_frontier_spec(args.search).with_overrides(
        trials=args.trials, executor=args.executor, workers=args.workers,
        scheduler=args.scheduler, storage=args.storage)
    if args.dry_run:
        report = dry_run_search(spec, args.results_dir)
        print(report.format())
        return 1 if report.pilot_error else 0
    code = 0
    if not args.report_only:
        summary = run_search(spec, results_dir=args.results_dir, overwrite=args.overwrite,
                             quiet=args.quiet)
        print(summary.format())
        code = summary.exit_code
        if summary.interrupted:
            return code
    study, _ = open_search(spec, args.results_dir, create=False)
    front, files = write_frontier(spec, study, args.results_dir)
    path = write_frontier_report(spec, trial_table(spec, study), front,
                                 Path(args.results_dir) / spec.name / "report", files,
                                 study.user_attrs.get("sessions", []))
    print(f"{spec.name}: {len(front)} packages on the frontier; scenario files in "
          f"{Path(args.results_dir) / spec.name / 'frontier'}")
    print(f"Report: {path}  (report.xlsx, CSV tables and figures/ beside it)")
    return code


# --- robustness and discovery ---------------------------------------------------------------------
def add_robustness_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``cluster-abm robustness``."""
    parser.add_argument("file", help="robustness file (TOML), or a name in ./experiments, e.g. "
                                     "robustness_ne_romania")
    parser.add_argument("--box", type=int, default=None, metavar="N",
                        help="report box N of each discovery question's peeling trajectory "
                             "(default: the file's, else the balanced one)")
    _common(parser, "runs execute")


def add_discover_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``cluster-abm discover``."""
    add_robustness_arguments(parser)


def _ensemble(args: argparse.Namespace):
    """(spec, result, exit code) after running or resuming the ensemble (None: stopped)."""
    from cluster_abm.analysis.decisions.ensemble_spec import load_ensemble_spec
    from cluster_abm.analysis.decisions.robustness import (
        dry_run_ensemble,
        load_ensemble,
        run_ensemble,
    )

    if args.box is not None and args.box < 0:
        raise InputError(f"must be a box number from 0, got {args.box}", key="--box")
    spec = load_ensemble_spec(args.file, args.results_dir)
    if args.dry_run:
        report = dry_run_ensemble(spec, results_dir=args.results_dir, executor=args.executor,
                                  workers=args.workers, scheduler=args.scheduler,
                                  overwrite=args.overwrite)
        print(f"{spec.name}: {len(spec.packages)} packages + the reference in {spec.worlds} "
              f"worlds x {spec.replicates} replicates")
        print(report.format())
        return spec, None, 1 if report.pilot_error else 0
    if args.report_only:
        return spec, load_ensemble(spec, args.results_dir), 0
    summary, result = run_ensemble(spec, results_dir=args.results_dir, executor=args.executor,
                                   workers=args.workers, scheduler=args.scheduler,
                                   overwrite=args.overwrite, quiet=args.quiet)
    print(summary.format())
    return spec, result, summary.exit_code


def _answers(result, box):
    from cluster_abm.analysis.decisions.robustness import discoveries

    try:
        return discoveries(result, box)
    except ValueError as exc:  # a box beyond the trajectory
        raise InputError(str(exc), key="--box") from None


def cmd_robustness(args: argparse.Namespace) -> int:
    from cluster_abm.reports.decision_report import write_robustness_report

    spec, result, code = _ensemble(args)
    if result is None:
        return code
    path = write_robustness_report(result, _answers(result, args.box),
                                   Path(args.results_dir) / spec.name / "robustness")
    print(f"Report: {path}  (report.xlsx, CSV tables and figures/ beside it)")
    return code


def cmd_discover(args: argparse.Namespace) -> int:
    from cluster_abm.analysis.decisions.ensemble_spec import load_ensemble_spec
    from cluster_abm.reports.decision_report import write_discovery_report

    if not args.dry_run and not load_ensemble_spec(args.file, args.results_dir).questions:
        raise InputError("asks no discovery question: add [[discovery]] tables (package, "
                         "outcome, at_least or at_most)", source=args.file, key="discovery")
    spec, result, code = _ensemble(args)
    if result is None:
        return code
    answers = _answers(result, args.box)
    for q, d in answers:
        what = d.rule if d.chosen is not None else d.note
        cov = (f" (coverage {d.coverage:.2f}, density {d.density:.2f}, box {d.chosen})"
               if d.chosen is not None else "")
        print(f"{q.package} misses {q.target.outcome} {q.target.text()} in {d.n_cases} of "
              f"{d.n_worlds} worlds: {what}{cov}" + (f"; note: {d.note}"
                                                     if d.chosen is not None and d.note else ""))
    path = write_discovery_report(result, answers,
                                  Path(args.results_dir) / spec.name / "discovery")
    print(f"Report: {path}")
    return code


def main(argv: list[str] | None = None) -> int:
    """``python -m cluster_abm.cli.cmd_decisions optimize|robustness|discover ...``."""
    from cluster_abm.cli.main import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
