"""``cluster-abm calibrate`` and ``cluster-abm validate``: fit to published statistics, check
stylized facts.

The logic lives in :mod:`cluster_abm.analysis.calibration.fit` (with :mod:`cluster_abm.analysis.validation.targets` and
:mod:`cluster_abm.analysis.calibration.fit_report`) and :mod:`cluster_abm.analysis.validation.validate`; this module only
parses options. Bad input raises :class:`~cluster_abm.errors.InputError`, which the CLI's
boundary (:func:`cluster_abm.cli.main.run_command`) prints as one line with exit status 2.

Exit status of ``calibrate``: 0 done (or nothing left to do); 1 every trial of the session
failed, or a worker died; 130 interrupted (the study keeps its trials: run the same command to
continue). ``validate``: 0 written (whatever the facts' verdicts: a failing fact is a finding,
not an error; ``--strict`` makes failures exit 1).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cluster_abm.cli.cmd_sweep import (
    DEFAULT_RESULTS,
    _positive_int,
    add_execution_arguments,
    check_file_scheduler,
    check_scheduler,
)

DEFAULT_SCENARIOS = "scenarios"


def add_calibrate_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``cluster-abm calibrate``."""
    parser.add_argument("calibration", help="calibration file (TOML), or a name in "
                                            "./experiments, e.g. calibrate_see")
    parser.add_argument("--trials", type=_positive_int, default=None, metavar="N",
                        help="total trials the study should hold (default: the file's); a "
                             "stored study continues up to N")
    add_execution_arguments(parser, "simulations run", "with --executor dask")
    parser.add_argument("--storage", default=None, metavar="URL",
                        help="Optuna storage (default: the file's [storage] url, else "
                             "sqlite:///results/<name>/optuna.db; 'journal' for a journal file; "
                             "postgresql://... for workers on several machines)")
    parser.add_argument("--results", dest="results_dir", default=DEFAULT_RESULTS, metavar="DIR",
                        help="folder of results (default: results)")
    parser.add_argument("--scenarios", dest="scenarios_dir", default=DEFAULT_SCENARIOS,
                        metavar="DIR", help="where calibrated_<name>.toml is written "
                                            "(default: scenarios)")
    parser.add_argument("--overwrite", action="store_true",
                        help="delete the stored study and start over")
    parser.add_argument("--no-report", dest="report", action="store_false",
                        help="do not write the calibrated scenario and the fit report")
    parser.add_argument("--report-only", action="store_true",
                        help="run no trial: write the scenario and the report from the study")
    parser.add_argument("--quiet", action="store_true", help="no progress bar or notes")


def cmd_calibrate(args: argparse.Namespace) -> int:
    import optuna

    from cluster_abm.analysis.calibration.calibration_spec import load_calibration
    from cluster_abm.analysis.calibration.fit import open_study, run_calibration

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    cal = load_calibration(args.calibration)
    check_file_scheduler(cal.execution, args.scheduler, cal.source)
    cal = cal.with_overrides(
        trials=args.trials, executor=args.executor, workers=args.workers,
        scheduler=check_scheduler(args.scheduler), storage=args.storage)
    if args.report_only:
        from cluster_abm.analysis.calibration.fit_report import write_outputs

        study, _ = open_study(cal, args.results_dir, create=False)
        scenario, report = write_outputs(cal, study, results_dir=args.results_dir,
                                         scenarios_dir=args.scenarios_dir, quiet=args.quiet)
        print(f"{cal.name}: calibrated scenario {scenario}; fit report {report}")
        return 0
    summary = run_calibration(cal, results_dir=args.results_dir,
                              scenarios_dir=args.scenarios_dir, overwrite=args.overwrite,
                              report=args.report, quiet=args.quiet)
    print(summary.format())
    return summary.exit_code


def add_validate_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``cluster-abm validate``."""
    parser.add_argument("scenario", nargs="?", default="baseline",
                        help="scenario file or name (default: baseline)")
    parser.add_argument("--seeds", type=_positive_int, default=20, metavar="N",
                        help="replicate runs (default: 20)")
    parser.add_argument("--years", type=_positive_int, default=None, metavar="N",
                        help="horizon (default: the scenario's)")
    parser.add_argument("--seed", default="0", metavar="ROOT",
                        help="root seed of the replicates, 0 to 2**63 - 1 (default: 0)")
    parser.add_argument("--from-year", type=int, default=None, metavar="Y",
                        help="first year of the measurement window (default: 5, or less for "
                             "short runs)")
    add_execution_arguments(parser, "simulations run", "with --executor dask")
    parser.add_argument("--out", default="docs/validation.md", metavar="FILE",
                        help="markdown report (default: docs/validation.md)")
    parser.add_argument("--figures", default=None, metavar="DIR",
                        help="folder of the PNG figures (default: figures/validation next to "
                             "the report)")
    parser.add_argument("--strict", action="store_true",
                        help="exit with status 1 when a fact fails")
    parser.add_argument("--quiet", action="store_true", help="no progress notes")


def cmd_validate(args: argparse.Namespace) -> int:
    from cluster_abm.analysis.validation.validate import run_validation
    from cluster_abm.cli.cmd_run import check_writable_folder, parse_seed

    root_seed = parse_seed(args.seed)
    # the report and figures are written after every run: check they can be, first
    out = Path(args.out)
    check_writable_folder(out.parent, "--out")
    check_writable_folder(args.figures or out.parent / "figures" / "validation",
                          "--figures" if args.figures else "--out")
    result = run_validation(args.scenario, seeds=args.seeds, years=args.years,
                            root_seed=root_seed, from_year=args.from_year,
                            executor=args.executor, workers=args.workers,
                            scheduler=check_scheduler(args.scheduler), out=args.out, figures=args.figures,
                            quiet=args.quiet)
    print(result.format())
    if args.strict and result.failed:
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m cluster_abm.cli.cmd_calibrate calibrate|validate ...``: as ``cluster-abm``."""
    from cluster_abm.cli.main import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
