"""``cluster-abm sensitivity STUDY.toml``: run a global sensitivity study and write its report.

The study file (format: :mod:`cluster_abm.analysis.sensitivity.study`) is validated completely before any
run starts. The runs go through the experiment runner into ``results/<name>/`` (resume is the
default: a stopped study continues where it stopped), then the indices, convergence check,
time-resolved indices, figures, tables and ``report.html`` go to ``results/<name>/sensitivity/``.

Exit status: 0 success; 1 some runs failed (the report is still written, see its warnings) or
a worker died; 130 interrupted (run the same command again to resume); 2 bad input.
"""

from __future__ import annotations

import argparse
import sys

from cluster_abm.cli.cmd_sweep import (
    DEFAULT_RESULTS,
    add_execution_arguments,
    check_file_scheduler,
    print_dry_run,
    runner_options,
)


def add_sensitivity_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``cluster-abm sensitivity``."""
    parser.add_argument("study", help="study file (TOML), or a name in ./experiments, e.g. "
                                      "morris_screening or sobol_main")
    add_execution_arguments(parser)
    parser.add_argument("--results", dest="results_dir", default=DEFAULT_RESULTS, metavar="DIR",
                        help="folder of result stores (default: results)")
    parser.add_argument("--overwrite", action="store_true",
                        help="delete this study's stored runs and start over")
    parser.add_argument("--dry-run", action="store_true",
                        help="validate, count runs, time one pilot run; write nothing")
    parser.add_argument("--no-analysis", dest="analysis", action="store_false",
                        help="only run (or resume) the runs; analyse later")
    parser.add_argument("--analyze-only", action="store_true",
                        help="only analyse the stored runs (of a stopped study: the complete "
                             "first part of its design)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar or notes")


def cmd_sensitivity(args: argparse.Namespace) -> int:
    """Validate, run (resuming), analyse; see the module docstring for the exit status."""
    from cluster_abm.analysis.sensitivity.study import STUDY_TARGET, load_study
    from cluster_abm.analysis.sensitivity.study_run import analyze_study, run_study
    from cluster_abm.errors import InputError

    quiet = getattr(args, "quiet", False)
    options = runner_options(args, simulate=STUDY_TARGET)
    results_dir = options["results_dir"]
    study = load_study(args.study)
    check_file_scheduler(study.execution, options["scheduler"], study.source)
    study = study.with_execution(options["executor"], options["workers"], options["scheduler"])
    analysis = getattr(args, "analysis", True)
    if getattr(args, "analyze_only", False):
        if not analysis:
            raise InputError("--analyze-only and --no-analysis contradict each other",
                             key="--analyze-only")
        print(analyze_study(study, results_dir=results_dir, quiet=quiet).format())
        return 0
    if not quiet:
        print(f"{study.name}: {study.method}, {len(study.problem.factor_names)} factors, "
              f"n = {study.n}: {study.n_points} design points x {study.replicates} "
              f"replicate(s) = {study.n_runs} runs of "
              f"{study.years or study.base.param('sim.years')} years", file=sys.stderr)
    if getattr(args, "dry_run", False):
        return print_dry_run(study.experiment, results_dir=results_dir,
                             overwrite=options["overwrite"], simulate=STUDY_TARGET)
    summary, report = run_study(study, results_dir=results_dir, overwrite=options["overwrite"],
                                quiet=quiet, analyze_results=analysis)
    print(summary.format())
    if report is not None:
        print(report.format())
    return summary.exit_code
