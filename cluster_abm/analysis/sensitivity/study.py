"""Sensitivity studies of the model: a study file → SALib design → the experiment runner.

This module binds the model-agnostic pipeline of :mod:`cluster_abm.analysis.sensitivity` to the model:
the problem comes from the parameter registry (:func:`.sa_factors.problem_from_registry`), the
design points run through the experiment runner (:func:`cluster_abm.experiments.runner.run_experiment`:
same executors, result store, resume, progress bar, failures recorded), and the analysis reads
the stored KPIs back, computes indices on replicate means and writes the report into
``results/<study>/sensitivity/`` next to the runs. It is not imported by the package's
``__init__``, so ``import cluster_abm.analysis.sensitivity`` stays light and model-free.

Study files (TOML; every key is checked before anything runs) are documented key by key in
``docs/experiments.md``: ``base``, ``method``, ``n``, ``replicates``, ``seed``, ``years``,
``crn``, ``parameters``/``exclude``/``span``, ``kpis``, ``series``, the tables ``[bounds]``,
``[distributions]``, ``[groups]``, ``[options]`` and ``[execution]``
(``experiments/morris_screening.toml`` and ``experiments/sobol_main.toml`` are worked examples).

Common random numbers (``crn = true``, the default): replicate ``r`` of *every* design point
runs with the same seed, so two runs of the design differ only in their inputs. Elementary
effects and the Sobol' estimators are differences between such runs; with independent seeds
each difference would carry the full seed noise, with common seeds most of it cancels, and a
parameter the model ignores gets an index of exactly zero. The report gives two noise shares:
the plain one (between-seed variance of a point's mean over the variance of the means, an upper
bound under CRN) and the CRN one, which first removes the seed effect shared by all points.

Runs execute point by point (:class:`StudyExperiment`), so a stopped study holds complete
design points from the start of the design, and :func:`.study_run.analyze_study` analyses the
largest complete prefix (the first 2^k Sobol' blocks or k Morris trajectories form a valid
smaller design) with a PARTIAL warning. Whole-number parameters are mapped to equal-width bins
of their range (:mod:`.sa_factors`); the analysis uses the continuous design. Outputs in
``results/<study>/sensitivity/``: ``report.html``, ``indices``, ``second_order``,
``convergence``, ``series_indices``, ``noise`` and ``design`` tables (``.csv`` and
``.parquet``) and ``figures/*.png``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cluster_abm.analysis.sensitivity.problem import SAProblem
from cluster_abm.analysis.sensitivity.sa_factors import (
    model_values,
    problem_from_registry,
    select_parameters,
)
from cluster_abm.analysis.sensitivity.sampling import METHODS, check_sobol_n, n_runs, sample
from cluster_abm.experiments.experiment_spec import (
    EXECUTION_KEYS,
    Design,
    Execution,
    Experiment,
    Outputs,
    Run,
    check_execution_table,
    check_param_value,
    check_root_seed,
    find_experiment,
)
from cluster_abm.params import registry as P
from cluster_abm.specs.scenario import Scenario, load_scenario_ref
from cluster_abm.specs.toml_spec import REQUIRED, Table, check_number, flatten, read_toml

TOP_KEYS = ("name", "description", "base", "method", "n", "replicates", "seed", "years", "crn",
            "parameters", "exclude", "span", "kpis", "series", "bounds", "distributions", "groups",
            "options", "execution")
OPTION_KEYS = ("num_levels", "optimal_trajectories", "calc_second_order", "conf_level",
               "num_resamples", "pawn_slices", "convergence")
SAMPLING_OPTIONS = ("num_levels", "optimal_trajectories", "calc_second_order")
DEFAULT_OPTIONS: dict[str, Any] = {"num_levels": 4, "optimal_trajectories": None,
                                   "calc_second_order": True, "conf_level": 0.95,
                                   "num_resamples": 100, "pawn_slices": 10, "convergence": None}
OUT_DIR = "sensitivity"
DEFAULT_SERIES = "employment"  # recorded when a study asks for no series (see Study.experiment)
MAX_POINTS = 2_000_000
SELECTORS = 'parameter names, "group.*" patterns or "uncertain"'  # entries of parameters
DIST_LEAF_KEYS = ("dist",)  # a table with a dist key is a distribution, not a group of names
STUDY_TARGET = "cluster_abm.model.simulate:simulate"  # the runner's default target


@dataclass(frozen=True)
class Study:
    """A validated sensitivity study (see the module docstring for the file format)."""

    name: str
    description: str
    source: str
    base: Scenario
    method: str
    n: int
    replicates: int
    seed: int
    years: int | None
    crn: bool
    problem: SAProblem
    kpis: tuple[str, ...]
    series: str | None
    options: dict[str, Any]
    execution: Execution

    @property
    def names(self) -> tuple[str, ...]:
        return self.problem.names

    @cached_property
    def X(self) -> np.ndarray:
        """The SALib design (continuous values), one row per design point."""
        return sample(self.problem, self.method, self.n, self.seed,
                      calc_second_order=self.options["calc_second_order"],
                      num_levels=self.options["num_levels"],
                      optimal_trajectories=self.options["optimal_trajectories"])

    @cached_property
    def points(self) -> list[dict[str, Any]]:
        """The parameter overrides each design point runs with (integers mapped)."""
        return model_values(self.problem, self.X)

    @property
    def n_points(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_runs(self) -> int:
        return self.n_points * self.replicates

    @cached_property
    def experiment(self) -> Experiment:
        """The runner's view: a design on ``base`` whose points are the SALib rows, in order.

        Design point ``i`` (from 1) is row ``i - 1`` of :attr:`X`; the spec hash covers the
        points, so a changed study never resumes into an old store.
        """
        spy = int(self.base.param("sim.steps_per_year"))
        # only what shapes the design: analysis options (CIs, bootstrap, convergence) can
        # change without invalidating the stored runs
        sampling = {k: self.options[k] for k in SAMPLING_OPTIONS}
        spec = {"method": self.method, "n": self.n, "problem": self.problem.to_salib(),
                "sampling": sampling}
        design = Design(f"sensitivity-{self.method}", self.base, self.names, spec,
                        tuple(self.points), self.n, self.crn)
        # One series is always recorded: the model's timeseries() fails on an empty list of
        # names (model.py: pd.concat of nothing), and a yearly total costs a few rows per run.
        outputs = Outputs(kpis=self.kpis, series=(self.series or DEFAULT_SERIES,),
                          series_every=spy, regions=False)
        return StudyExperiment(self.name, self.description, self.source, {}, self.base.name,
                               design, self.replicates, self.seed, self.years, outputs,
                               self.execution)

    def with_execution(self, executor: str | None = None, workers: int | None = None,
                       scheduler: str | None = None) -> Study:
        """A copy with command-line execution overrides (never part of the results)."""
        exp = self.experiment.with_execution(executor, workers, scheduler)
        new = dataclasses.replace(self, execution=exp.execution)
        new.__dict__.update(X=self.X, points=self.points)  # keep the sampled design
        return new

    def out_dir(self, results_dir: str | Path = "results") -> Path:
        return Path(results_dir) / self.name / OUT_DIR


class StudyExperiment(Experiment):
    """An experiment whose runs execute point by point, each point with all its replicates.

    Same runs, ids and seeds as :class:`Experiment` (so the same store, spec hash and replay);
    only the order differs. Plain experiments go replicate by replicate so an interrupted
    comparison holds complete pairs of scenarios; a SALib design is instead analysable from
    any complete prefix of its points (the first k Saltelli blocks are the design of size k,
    the first k Morris trajectories a design of k trajectories), so an interrupted study can
    be analysed on the part done (:func:`.study_run.analyze_study` does that).
    """

    @cached_property
    def runs(self) -> tuple[Run, ...]:
        return tuple(sorted(super().runs, key=lambda run: (run.point, run.replicate)))


# --- loading --------------------------------------------------------------------------------
def load_study(ref: str | Path) -> Study:
    """Read and validate a study file (a path, or a name in ./experiments)."""
    path = find_experiment(ref, "study")
    return study_from_dict(read_toml(path), source=str(path), base_dir=path.parent)


def study_from_dict(raw: dict[str, Any], source: str = "<dict>",
                    base_dir: Path | None = None) -> Study:
    """Validate a study table; every problem is a one-line :class:`InputError` (file, key)."""
    top = Table(raw, source, TOP_KEYS)
    name = top.name("name", Path(source).stem)
    description = top.text("description")
    method = top.choice("method", METHODS, what="method")
    options = _check_options(top.table("options", OPTION_KEYS))
    n = top.int("n", REQUIRED, 2, MAX_POINTS)
    if method == "sobol":
        try:
            check_sobol_n(n)
        except ValueError as exc:
            raise top.error("n", str(exc)) from None
    if options["optimal_trajectories"] is not None and options["optimal_trajectories"] > n:
        raise top.error("options.optimal_trajectories", f"must not exceed n ({n})")
    replicates = top.int("replicates", 1, 1, 10_000)
    seed = check_root_seed(top.get("seed", 0), source)
    base = load_scenario_ref(top.get("base", "baseline"), source, "base", base_dir)
    years = top.get("years")
    if years is not None:
        years = check_param_value(P.REGISTRY["sim.years"], years, source, "years")
    crn = top.bool("crn", True)

    include = top.str_list("parameters", "parameter", items=SELECTORS, allow_str=True,
                           unique=False)
    exclude = top.str_list("exclude", "parameter", [], items=SELECTORS, allow_str=True,
                           allow_empty=True, unique=False)
    names = select_parameters(include, exclude, source=source)
    problem = problem_from_registry(
        names, bounds=flatten(top.table("bounds").raw),
        groups=flatten(top.table("groups").raw),
        dists=flatten(top.table("distributions").raw, DIST_LEAF_KEYS),
        span=top.get("span"), source=source)
    kpis = tuple(top.str_list("kpis", "KPI", allow_str=True, known=_metrics().KPIS))
    series = top.get("series")
    if series is not None:
        series = top.choice("series", _metrics().SERIES, what="series")
    execution = check_execution_table(top.table("execution", EXECUTION_KEYS))
    n_pts = n_runs(problem, method, n, options["calc_second_order"])
    if n_pts * replicates > MAX_POINTS:
        raise top.error("n", f"{n_pts * replicates} runs is more than {MAX_POINTS}; lower n or "
                             "the replicates")
    return Study(name, description, source, base, method, n, replicates, seed, years,
                 crn, problem, kpis, series, options, execution)


def _metrics():
    """:mod:`cluster_abm.outputs.metrics`, imported only when a study is read."""
    from cluster_abm.outputs import metrics

    return metrics


def _check_options(table: Table) -> dict[str, Any]:
    opts = dict(DEFAULT_OPTIONS)
    opts["num_levels"] = table.int("num_levels", opts["num_levels"], 2, even=True)
    opts["optimal_trajectories"] = table.optional_int("optimal_trajectories", 2)
    opts["calc_second_order"] = table.bool("calc_second_order", opts["calc_second_order"])
    opts["conf_level"] = table.number("conf_level", opts["conf_level"], 0, 1, low_open=True,
                                      high_open=True)
    for k in ("num_resamples", "pawn_slices"):
        opts[k] = table.int(k, opts[k], 2)
    conv = table.get("convergence")
    if conv is not None:
        if not isinstance(conv, list) or not conv:
            raise table.error("convergence", f"must be a list of fractions in (0, 1], got "
                                             f"{conv!r}")
        key = table.key("convergence")
        opts["convergence"] = sorted({check_number(f, table.source, key, 0, 1, low_open=True)
                                      for f in conv})
    return opts


def design_table(study: Study) -> pd.DataFrame:
    """One row per design point: its number, the continuous design values and model values."""
    df = pd.DataFrame(study.X, columns=[f"x:{n}" for n in study.names])
    vals = pd.DataFrame(study.points)
    df = pd.concat([df, vals], axis=1)
    df.insert(0, "point", np.arange(1, study.n_points + 1))
    return df
