"""``cluster-abm compare EXPERIMENT``: run the baseline and every policy package of a comparison
experiment (its scenarios, and the points of a design over policy; resuming what is stored),
optionally add replicates until chosen outcomes are precise enough (``--precision``), and write
the report: ``report.html``, ``report.xlsx``, CSV tables and figures."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cluster_abm.cli.cmd_sweep import (
    _positive_int,
    add_sweep_arguments,
    check_file_scheduler,
    print_dry_run,
    runner_options,
)
from cluster_abm.errors import InputError


def add_compare_arguments(p: argparse.ArgumentParser) -> None:
    add_sweep_arguments(p)
    p.add_argument("--level", type=float, default=None,
                   help="confidence level of intervals (default: the file's [report] level, else 0.95)")
    p.add_argument("--discount-rate", type=float, default=None, metavar="RATE",
                   help="real discount rate per year of present values (default: the file's "
                        "[report] discount_rate, else 0.03, the European Commission's)")
    p.add_argument("--precision", action="append", default=None, metavar="OUTCOME=HALFWIDTH",
                   help="add replicates (same seed sequence: common random numbers kept) until "
                        "the paired interval of OUTCOME (a KPI, e.g. employment_final_real) is "
                        "at most ±HALFWIDTH for every package; repeatable")
    p.add_argument("--max-replicates", type=_positive_int, default=None, metavar="N",
                   help="most replicates --precision may reach (default: 8 x the file's)")
    p.add_argument("--report-only", action="store_true", help="write the report from stored results, run nothing")


def cmd_compare(args: argparse.Namespace) -> int:
    from cluster_abm.experiments import precision
    from cluster_abm.experiments.experiment_spec import load_experiment
    from cluster_abm.experiments.results import load_results
    from cluster_abm.experiments.runner import run_experiment, stored_replicates
    from cluster_abm.outputs.metrics import KPIS
    from cluster_abm.reports.comparison_report import arm_titles, write_report

    exp = load_experiment(args.experiment)
    level = exp.report.level if args.level is None else args.level
    rate = exp.report.discount_rate if args.discount_rate is None else args.discount_rate
    if not 0.5 <= level < 1:
        raise InputError(f"{level} is out of range; allowed 0.5 to below 1", key="--level")
    if not 0 <= rate <= 0.5:
        raise InputError(f"{rate} is out of range; allowed 0 to 0.5 (a real rate per year)",
                         key="--discount-rate")
    if not exp.scenarios:
        raise InputError("a comparison needs scenarios = [...] with the baseline (a design alone "
                         "belongs to `cluster-abm sweep`)", source=exp.source, key="scenarios")
    if exp.design is not None and not exp.design.crn:
        raise InputError("compare pairs every design point with the baseline seed by seed: set "
                         "crn = true", source=exp.source, key="design.crn")
    targets = precision.parse_targets(args.precision, KPIS)
    if args.max_replicates is not None and not targets:
        raise InputError("only with --precision", key="--max-replicates")
    maximum = args.max_replicates or 8 * exp.replicates
    held = None if args.overwrite else stored_replicates(exp, args.results_dir)
    if held is not None and held > exp.replicates:  # a store grown by --precision: resume it
        if not args.quiet:
            print(f"note: {exp.name} holds {held} replicates (grown by --precision); using them",
                  file=sys.stderr)
        exp = exp.with_replicates(held)
    if targets and maximum < exp.replicates:
        raise InputError(f"{maximum} is below the {exp.replicates} replicates already asked for",
                         key="--max-replicates")
    options = runner_options(args)
    check_file_scheduler(exp.execution, options["scheduler"], exp.source)
    if args.dry_run:
        return print_dry_run(exp, **options)
    store = Path(args.results_dir) / exp.name
    code = 0
    notes: list[str] = []
    if not args.report_only:
        while True:
            summary = run_experiment(exp, quiet=args.quiet, consolidate=args.consolidate, **options)
            print(summary.format())
            code = summary.exit_code
            if summary.interrupted:
                return code
            if not targets:
                break
            found = precision.widths(load_results(store).kpi_table(), exp.baseline, targets, level)
            titles = arm_titles(_inputs(exp, level, rate), list(exp.arms))
            line = precision.progress_line(exp.replicates, found, titles)
            print(line, file=sys.stderr)
            nxt = precision.next_replicates(exp.replicates, found, maximum)
            if nxt == exp.replicates:
                reached = all(w.met for w in found)
                notes.append(("Replicates were added until " if reached else
                              f"Replicates were added up to the maximum of {maximum}; not every "
                              "target was met: ") + line.split(": ", 1)[1] + ".")
                break
            exp = exp.with_replicates(nxt)
            options["overwrite"] = False  # the next rounds grow the store
    path = write_report(load_results(store), store / "report", _inputs(exp, level, rate, notes))
    print(f"Report: {path}  (report.xlsx, CSV tables and figures/ beside it)")
    if code and not args.quiet:
        print("note: some runs failed; the report uses the runs that finished", file=sys.stderr)
    return code


def _inputs(exp, level: float, rate: float, notes: list[str] | None = None):
    """What the report needs from the experiment and the command line."""
    from cluster_abm.reports.comparison_report import ReportInputs

    years = exp.years if exp.years is not None else exp.scenarios[exp.baseline].param("sim.years")
    return ReportInputs(
        title=f"Policy comparison: {exp.name}", description=exp.description,
        scenario_titles={n: s.title for n, s in exp.scenarios.items()},
        baseline=exp.baseline or next(iter(exp.scenarios)), years=years,
        replicates=exp.replicates, level=level, seed=exp.seed, discount_rate=rate,
        experiment=exp, notes=notes or [])
