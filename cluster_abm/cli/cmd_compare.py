"""``cluster-abm compare EXPERIMENT``: run the baseline and the policy scenarios of a comparison
experiment (resuming what is stored) and write the HTML report with figures and CSV tables."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cluster_abm.cli.cmd_sweep import (
    add_sweep_arguments,
    check_file_scheduler,
    print_dry_run,
    runner_options,
)
from cluster_abm.errors import InputError


def add_compare_arguments(p: argparse.ArgumentParser) -> None:
    add_sweep_arguments(p)
    p.add_argument("--level", type=float, default=0.95, help="confidence level of intervals (default 0.95)")
    p.add_argument("--report-only", action="store_true", help="write the report from stored results, run nothing")


def cmd_compare(args: argparse.Namespace) -> int:
    from cluster_abm.experiments.experiment_spec import load_experiment
    from cluster_abm.experiments.results import load_results
    from cluster_abm.experiments.runner import run_experiment
    from cluster_abm.reports.comparison_report import ReportInputs, write_report

    if not 0.5 <= args.level < 1:
        raise InputError(f"{args.level} is out of range; allowed 0.5 to below 1", key="--level")
    exp = load_experiment(args.experiment)
    if len(exp.scenarios) < 1 or exp.design is not None and not exp.scenarios:
        raise InputError("a comparison needs scenarios (a design belongs to `cluster-abm sweep`)",
                         source=exp.source, key="scenarios")
    options = runner_options(args)
    check_file_scheduler(exp.execution, options["scheduler"], exp.source)
    if args.dry_run:
        return print_dry_run(exp, **options)
    code = 0
    if not args.report_only:
        summary = run_experiment(exp, quiet=args.quiet, consolidate=args.consolidate, **options)
        print(summary.format())
        code = summary.exit_code
        if summary.interrupted:
            return code
    store = Path(args.results_dir) / exp.name
    results = load_results(store)
    years = exp.years if exp.years is not None else exp.scenarios[exp.baseline].param("sim.years")
    inputs = ReportInputs(
        title=f"Policy comparison: {exp.name}",
        description=exp.description,
        scenario_titles={n: s.title for n, s in exp.scenarios.items()},
        baseline=exp.baseline or next(iter(exp.scenarios)),
        years=years, replicates=exp.replicates, level=args.level, seed=exp.seed)
    path = write_report(results, store / "report", inputs)
    print(f"Report: {path}  (figures and effects.csv, cost_effectiveness.csv, trajectories.csv beside it)")
    if code and not args.quiet:
        print("note: some runs failed; the report uses the runs that finished", file=sys.stderr)
    return code
