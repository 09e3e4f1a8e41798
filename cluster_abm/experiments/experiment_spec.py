"""Experiment files (TOML) -> a validated :class:`Experiment`: what to run, how often, which seeds.

An experiment names the scenarios to compare and/or a design over model parameters and policy
levers (intensity, targets, timing; budgets are ``policy.*`` parameters), the number of
replicates, the root seed, the horizon, parameters every scenario shares (``[params]``, e.g. a
smaller world for a quick look), what to record, how the report discounts and (as a default the
command line can override) how to execute. Everything is checked before a single run starts, and every problem is
an :class:`~cluster_abm.errors.InputError` naming the file, the key and what is allowed, because a
typo found after three hours of a sweep costs three hours.

The file format, key by key with examples, is in ``docs/experiments.md`` (a test checks that
it names every key accepted here): ``name``, ``description``, ``scenarios``, ``baseline``,
``replicates``, ``seed``, ``years`` and the tables ``[params]``, ``[design]`` (with
``[design.params]`` and ``[design.levers.<id>]``), ``[outputs]``, ``[report]`` and
``[execution]``; the shared checks are :mod:`cluster_abm.specs.toml_spec`'s.

The *spec hash* (:attr:`Experiment.spec_hash`) covers everything that changes results -- the
resolved scenarios (not their file names), the design points, replicates, seeds, horizon and
outputs -- and nothing that does not (description, executor, workers, the report's settings), so
a store can tell whether it may resume a sweep. A store may also grow: the same experiment with
more replicates resumes and adds them (:func:`same_but_replicates`), each new replicate seeded
from the same seed sequence, so common random numbers hold across the old and the new runs.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import itertools
import json
import math
import os
import re
import warnings
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from cluster_abm.errors import InputError, closest
from cluster_abm.experiments import seeds
from cluster_abm.params import registry as P
from cluster_abm.policy.levers import BY_ID, INTENSITY_MAX, YEAR_MAX, LeverSetting, validate_lever
from cluster_abm.specs.scenario import Scenario, load_scenario_ref
from cluster_abm.specs.toml_spec import (
    REQUIRED,
    Table,
    check_bounds,
    check_choice,
    check_int,
    check_name,
    check_str,
    find_spec_file,
    flatten,
    read_toml,
)

FORMAT_VERSION = 1
TOP_KEYS = ("name", "description", "scenarios", "baseline", "design", "replicates", "seed",
            "years", "params", "outputs", "report", "execution")
DESIGN_KEYS = ("kind", "base", "params", "levers", "samples", "crn")
LEVER_FIELDS = ("intensity", "regions", "clusters", "firms", "start_year", "end_year")
LEVER_NUMERIC = ("intensity", "start_year", "end_year")  # what a Latin hypercube can sample
LEVER_KEY = "levers."  # design point keys of lever settings: levers.<id>.<field>
EVERYWHERE = "all"  # a design value of regions / clusters: no targeting (the whole world)
REPORT_KEYS = ("discount_rate", "level")
DEFAULT_DISCOUNT_RATE = 0.03  # real, per year: the European Commission's benchmark (docs/experiments.md)
DESIGN_KINDS = ("grid", "lhs")
OUTPUT_KEYS = ("kpis", "series", "series_every", "regions")
EXECUTION_KEYS = ("executor", "workers", "scheduler")
EXECUTORS = ("serial", "processes", "dask")
DEFAULT_EXECUTOR = "processes"
MAX_REPLICATES = 1_000_000
MAX_RUNS = 10_000_000
RANGE_KEYS = ("low", "high")  # a { low, high } table is a range, not a group of names
POINT_LABEL = re.compile(r"^p\d+$")


@dataclass(frozen=True)
class Outputs:
    """What each run records; ``None`` means everything the model reports."""

    kpis: tuple[str, ...] | None = None
    series: tuple[str, ...] | None = None
    series_every: int = 1
    regions: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {"kpis": None if self.kpis is None else list(self.kpis),
                "series": None if self.series is None else list(self.series),
                "series_every": self.series_every, "regions": self.regions}


@dataclass(frozen=True)
class ReportSettings:
    """How the comparison report discounts and how sure its intervals are; never part of the
    spec hash (the report can be rewritten with other settings from the same runs)."""

    discount_rate: float = DEFAULT_DISCOUNT_RATE  # real, per year
    level: float = 0.95  # confidence level of intervals


@dataclass(frozen=True)
class Execution:
    """How to run; never part of the spec hash since results do not depend on it."""

    executor: str = DEFAULT_EXECUTOR
    workers: int | None = None
    scheduler: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def overridden(self, executor: str | None = None, workers: int | None = None,
                   scheduler: str | None = None, source: str = "command line") -> Execution:
        """This execution with the command line's options on top (validated like the file's).

        A scheduler address without an executor implies the Dask executor.
        """
        if scheduler and not executor:
            executor = "dask"
        merged = Execution(executor or self.executor,
                           workers if workers is not None else self.workers,
                           scheduler if scheduler is not None else self.scheduler)
        _check_execution(merged, source, prefix="--")
        return merged


@dataclass(frozen=True)
class Design:
    """Runs over parameter values and lever settings on ``base``; ``points[i - 1]`` overrides
    for point ``i``: registry parameter names, and ``levers.<id>.<field>`` for lever settings
    (:func:`apply_point`)."""

    kind: str
    base: Scenario
    params: tuple[str, ...]
    spec: dict[str, Any]  # the value lists (grid) or {low, high} bounds (lhs) as validated
    points: tuple[dict[str, Any], ...]
    samples: int | None = None
    crn: bool = False
    levers: tuple[str, ...] = ()  # the lever settings varied, as levers.<id>.<field>

    def to_dict(self) -> dict[str, Any]:
        d = {"kind": self.kind, "base": scenario_dict(self.base), "params": list(self.params),
             "spec": self.spec, "samples": self.samples, "crn": self.crn,
             "points": [dict(p) for p in self.points]}
        if self.levers:  # absent otherwise, so stores of parameter designs keep their hash
            d["levers"] = list(self.levers)
        return d


@dataclass(frozen=True)
class Run:
    """One simulation of an experiment: what to simulate and with which seed.

    ``point`` is 0 for a scenario run and the design point number (from 1) otherwise;
    ``params`` are the design's overrides (empty for scenario runs).
    """

    run_id: str
    scenario: str
    point: int
    point_key: int
    replicate: int
    seed: int
    root_seed: int
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def spawn_key(self) -> tuple[int, int]:
        return seeds.spawn_key(self.point_key, self.replicate)


@dataclass(frozen=True)
class Experiment:
    """A fully resolved, validated experiment (see the module docstring for the file format)."""

    name: str
    description: str
    source: str
    scenarios: dict[str, Scenario]
    baseline: str | None
    design: Design | None
    replicates: int
    seed: int
    years: int | None
    outputs: Outputs
    execution: Execution
    params: dict[str, Any] = field(default_factory=dict)  # [params]: in every scenario already
    report: ReportSettings = field(default_factory=ReportSettings)

    # --- runs ------------------------------------------------------------------------------
    @cached_property
    def runs(self) -> tuple[Run, ...]:
        """Every run, replicate-major: an interrupted sweep still holds complete pairs."""
        rep_width = max(3, len(str(self.replicates - 1)))
        out: list[Run] = []
        points = self.design.points if self.design else ()
        pt_width = max(4, len(str(len(points))))
        crn_points = self.design.crn if self.design else False
        for r in range(self.replicates):
            for name in self.scenarios:
                out.append(Run(f"{name}-r{r:0{rep_width}d}", name, 0, seeds.CRN_KEY, r,
                               seeds.run_seed(self.seed, seeds.CRN_KEY, r), self.seed))
            for i, overrides in enumerate(points, start=1):
                key = seeds.CRN_KEY if crn_points else i
                out.append(Run(f"p{i:0{pt_width}d}-r{r:0{rep_width}d}", self.design.base.name, i,
                               key, r, seeds.run_seed(self.seed, key, r), self.seed,
                               dict(overrides)))
        return tuple(out)

    @cached_property
    def _by_id(self) -> dict[str, Run]:
        return {run.run_id: run for run in self.runs}

    def run(self, run_id: str) -> Run:
        """The run called ``run_id``; :class:`InputError` with a hint if there is none."""
        try:
            return self._by_id[run_id]
        except KeyError:
            raise InputError(f"no run {run_id!r} in this experiment; "
                             f"{closest(run_id, self._by_id)}", source=self.source,
                             key="run_id") from None

    def scenario_for(self, run: Run) -> Scenario:
        """The scenario a run simulates: a listed scenario, or the design base with its point."""
        if run.point == 0:
            return self.scenarios[run.scenario]
        return apply_point(self.design.base, run.params, source=f"{self.source} p{run.point}")

    # --- identity -------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Everything that changes results, as plain JSON-able data (hashed into spec_hash)."""
        return {
            "format": FORMAT_VERSION,
            "name": self.name,
            "scenarios": {n: scenario_dict(s) for n, s in self.scenarios.items()},
            "baseline": self.baseline,
            "design": self.design.to_dict() if self.design else None,
            "replicates": self.replicates,
            "seed": self.seed,
            "years": self.years,
            "outputs": self.outputs.to_dict(),
        }

    @cached_property
    def spec_hash(self) -> str:
        """SHA-256 of the canonical JSON of :meth:`to_dict` (stable across machines and runs)."""
        return hashlib.sha256(canonical_json(self.to_dict()).encode()).hexdigest()

    def with_execution(self, executor: str | None = None, workers: int | None = None,
                       scheduler: str | None = None, source: str = "command line") -> Experiment:
        """A copy with command-line execution overrides (validated like the file's)."""
        return dataclasses.replace(self, execution=self.execution.overridden(
            executor, workers, scheduler, source))

    def with_replicates(self, replicates: int) -> Experiment:
        """The same experiment with ``replicates`` replicates: the runs it shares with this one
        keep their ids and seeds (seeds depend on (point, replicate) only, :mod:`.seeds`)."""
        check_int(replicates, self.source, "replicates", 1, MAX_REPLICATES)
        return dataclasses.replace(self, replicates=int(replicates))

    def arm(self, run: Run) -> str:
        """What a run is an instance of: its scenario's name, or its design point's label
        (``p0003``), i.e. its run id without the replicate."""
        return run.run_id.rsplit("-r", 1)[0]

    @cached_property
    def arms(self) -> dict[str, Scenario]:
        """Every scenario and design point, in order, with the scenario it simulates."""
        out = {name: sc for name, sc in self.scenarios.items()}
        for run in self.runs:
            if run.replicate == 0 and run.point > 0:
                out[self.arm(run)] = self.scenario_for(run)
        return out


def same_but_replicates(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Whether two :meth:`Experiment.to_dict` differ at most in ``replicates``, the new one
    having as many or more: a store of ``old`` may grow into ``new``."""
    if not isinstance(old, dict) or not isinstance(old.get("replicates"), int):
        return False
    return ({k: v for k, v in old.items() if k != "replicates"}
            == {k: v for k, v in new.items() if k != "replicates"}
            and new["replicates"] >= old["replicates"])


def apply_point(base: Scenario, overrides: dict[str, Any], source: str = "overrides") -> Scenario:
    """``base`` with a design point's overrides: registry parameters (validated) and lever
    settings ``levers.<id>.<field>`` (a lever the base lacks is switched on, at intensity 1
    unless the point sets it; the setting is validated as a scenario's ``[levers.<id>]``)."""
    params = {k: v for k, v in overrides.items() if not k.startswith(LEVER_KEY)}
    lever_values = {k: v for k, v in overrides.items() if k.startswith(LEVER_KEY)}
    scenario = base.with_params(params, source=source) if params else base
    if not lever_values:
        return scenario
    levers = dict(scenario.levers)
    for lid, setting in lever_overrides(lever_values).items():
        levers[lid] = lever_with(scenario, lid, setting, source, f"levers.{lid}")
    return scenario.with_levers(levers)


def lever_overrides(values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``{"levers.incubators.intensity": 2.0}`` -> ``{"incubators": {"intensity": 2.0}}``."""
    out: dict[str, dict[str, Any]] = {}
    for key, value in values.items():
        lid, fld = key[len(LEVER_KEY):].rsplit(".", 1)
        out.setdefault(lid, {})[fld] = value
    return out


def lever_table(setting: LeverSetting) -> dict[str, Any]:
    """A lever setting as the ``[levers.<id>]`` table that gives it."""
    targets = BY_ID[setting.id].targets
    table: dict[str, Any] = {"intensity": setting.intensity}
    if setting.regions is not None:
        table["regions"] = list(setting.regions)
    if setting.clusters is not None:
        table["clusters"] = list(setting.clusters)
    if "firms" in targets:
        table["firms"] = setting.firms
    if setting.start_year:
        table["start_year"] = setting.start_year
    if setting.end_year is not None:
        table["end_year"] = setting.end_year
    return table


def lever_with(scenario: Scenario, lid: str, changes: dict[str, Any], source: str,
               key: str) -> LeverSetting:
    """The scenario's setting of lever ``lid`` (or the lever switched on with its defaults)
    with ``changes``; ``"all"`` for regions or clusters drops that targeting. Checked by the
    scenario's own rules; a problem is an :class:`InputError` at ``key``."""
    table = lever_table(scenario.levers[lid]) if lid in scenario.levers else {}
    for fld, value in changes.items():
        if fld in ("regions", "clusters") and value == EVERYWHERE:
            table.pop(fld, None)
        else:
            table[fld] = value
    try:
        return validate_lever(lid, table, source, scenario.region_ids, scenario.cluster_ids)
    except InputError as exc:
        raise InputError(_message(exc), source=source, key=key) from None


def _message(exc: InputError) -> str:
    """An :class:`InputError`'s text without its ``file: key:`` prefix."""
    where = ": ".join(part for part in (exc.source, exc.key) if part)
    text = str(exc)
    return text[len(where) + 2:] if where and text.startswith(where + ": ") else text


def scenario_dict(scenario: Scenario) -> dict[str, Any]:
    """Scenario.to_dict without where its files live: the same world hashes the same anywhere.

    ``extends_chain`` holds absolute paths; only the file names are kept (the merged values
    the chain produced are all in the dict already).
    """
    d = scenario.to_dict()
    d["extends_chain"] = [Path(p).name for p in d.get("extends_chain", [])]
    return d


def canonical_json(data: Any) -> str:
    """Key-sorted, compact JSON: the same data always gives the same text (and hash)."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                      allow_nan=False)


def default_workers() -> int:
    """CPUs this process may use (respects taskset / SLURM's cgroup, unlike os.cpu_count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


# --- loading ------------------------------------------------------------------------------------
def experiment_dirs() -> list[Path]:
    """Folders searched for an experiment given by name: ./experiments, then the project's own."""
    return [Path.cwd() / "experiments", Path(__file__).resolve().parents[2] / "experiments"]


def find_experiment(ref: str | Path, what: str = "experiment") -> Path:
    """Resolve an experiment reference (a path, or a name such as ``smoke``) to a file.

    Study and calibration files live with the experiments; ``what`` names the kind in errors.
    """
    return find_spec_file(ref, experiment_dirs(), what)


def load_experiment(ref: str | Path) -> Experiment:
    """Read, resolve and validate an experiment file (a path or a name in ./experiments)."""
    path = find_experiment(ref)
    raw = read_toml(path)
    return experiment_from_dict(raw, source=str(path), base_dir=path.parent)


def experiment_from_dict(raw: dict[str, Any], source: str = "<dict>",
                         base_dir: Path | None = None) -> Experiment:
    """Validate an experiment table; scenario paths are resolved relative to ``base_dir``."""
    top = Table(raw, source, TOP_KEYS)
    name = top.name("name", Path(source).stem)
    description = top.text("description")

    shared = _check_shared_params(top)
    scenarios = _load_scenarios(top.get("scenarios"), source, base_dir)
    if shared:
        scenarios = {n: sc.with_params(shared, source=source) for n, sc in scenarios.items()}
    if not scenarios and "design" not in top:
        raise top.error("scenarios", "needs scenarios = [...] or a [design] table")
    baseline = _check_baseline(top.get("baseline"), scenarios, source)

    replicates = top.int("replicates", 1, 1, MAX_REPLICATES)
    seed = check_root_seed(top.get("seed", 0), source)
    years = top.get("years")
    if years is not None:
        years = check_param_value(P.REGISTRY["sim.years"], years, source, "years")
    outputs = _check_outputs(top.table("outputs", OUTPUT_KEYS))
    execution = check_execution_table(top.table("execution", EXECUTION_KEYS))
    report = check_report_table(top.table("report", REPORT_KEYS))

    design = None
    if "design" in top:
        design = _check_design(top.table("design", DESIGN_KEYS), base_dir, scenarios, baseline,
                               seed, shared)
        for n in scenarios:
            if POINT_LABEL.match(n):
                raise top.error("scenarios", f"scenario name {n!r} looks like a design point "
                                             "label (p0001); rename the scenario")
    if baseline is None and design is not None:
        baseline = design.base.name
    n_runs = replicates * (len(scenarios) + (len(design.points) if design else 0))
    if n_runs > MAX_RUNS:
        raise top.error("replicates", f"{n_runs} runs is more than {MAX_RUNS}; shrink the design")
    return Experiment(name, description, source, scenarios, baseline, design, replicates,
                      seed, years, outputs, execution, shared, report)


def _check_shared_params(top: Table) -> dict[str, Any]:
    """``[params]``: registry parameters set in every scenario (and the design's base), over
    the scenarios' own values: the same world for every package, e.g. a smaller one."""
    flat = flatten(top.table("params").raw)
    out = {}
    for name, value in flat.items():
        if name not in P.REGISTRY:
            raise InputError(f"unknown parameter; {closest(name, P.REGISTRY.params)}",
                             source=top.source, key=f"params.{name}")
        out[name] = check_param_value(P.REGISTRY[name], value, top.source, f"params.{name}")
    return out


def check_report_table(table: Table) -> ReportSettings:
    """``[report]``: the discount rate (real, per year) and the confidence level."""
    return ReportSettings(
        table.number("discount_rate", DEFAULT_DISCOUNT_RATE, 0.0, 0.5, unit="per year"),
        table.number("level", 0.95, 0.5, 1.0, high_open=True))


# --- pieces ---------------------------------------------------------------------------------------
def check_root_seed(value: Any, source: str, key: str = "seed") -> int:
    """The root seed of a spec file (:func:`.seeds.check_seed`), else a one-line error."""
    try:
        return seeds.check_seed(value, "the root seed")
    except ValueError as exc:
        raise InputError(str(exc), source=source, key=key) from None


def check_param_value(param: P.Param, value: Any, source: str, key: str) -> Any:
    """Param.check, re-keyed to where the value sits in the spec file."""
    try:
        return param.check(value)
    except InputError as exc:
        msg = str(exc).removeprefix(f"{param.name}: ")
        raise InputError(msg, source=source, key=key) from None


def _load_scenarios(refs: Any, source: str, base_dir: Path | None) -> dict[str, Scenario]:
    if refs is None:
        return {}
    if not isinstance(refs, list) or not refs:
        raise InputError("must be a non-empty list of scenario names or paths", source=source,
                         key="scenarios")
    out: dict[str, Scenario] = {}
    for i, ref in enumerate(refs):
        key = f"scenarios[{i}]"
        sc = load_scenario_ref(ref, source, key, base_dir)
        check_name(sc.name, source, f"{key} (scenario name)")
        if sc.name in out:
            raise InputError(f"scenario {sc.name!r} is listed twice (scenario names must be "
                             "unique)", source=source, key=key)
        out[sc.name] = sc
    return out


def _check_baseline(value: Any, scenarios: dict[str, Scenario], source: str) -> str | None:
    if value is None:
        return next(iter(scenarios), None)
    if not isinstance(value, str):
        raise InputError(f"must be a scenario name, got {value!r}", source=source, key="baseline")
    if value in scenarios:
        return value
    stems = {Path(s.source).stem: n for n, s in scenarios.items()}
    if Path(value).stem in stems:  # written as the ref used in scenarios = [...]
        return stems[Path(value).stem]
    raise InputError(f"{value!r} is not one of the experiment's scenarios; "
                     f"{closest(value, scenarios)}", source=source, key="baseline")


def _metric_catalogs() -> tuple[dict | None, dict | None]:
    """(KPIS, SERIES) of cluster_abm.outputs.metrics, or None where the module or table does not exist."""
    try:
        metrics = importlib.import_module("cluster_abm.outputs.metrics")
    except ModuleNotFoundError as exc:
        if exc.name != "cluster_abm.outputs.metrics":
            warnings.warn(f"cluster_abm.outputs.metrics does not import ({exc}); KPI and series names "
                          "are not checked", stacklevel=3)
        return None, None
    except Exception as exc:  # the model is mid-edit: run without the check, but say so
        warnings.warn(f"cluster_abm.outputs.metrics does not import ({type(exc).__name__}: {exc}); "
                      "KPI and series names are not checked", stacklevel=3)
        return None, None
    return getattr(metrics, "KPIS", None), getattr(metrics, "SERIES", None)


def _check_outputs(table: Table) -> Outputs:
    kpi_catalog, series_catalog = _metric_catalogs()
    kpis = table.get("kpis")
    if kpis is not None:
        kpis = tuple(table.str_list("kpis", "KPI", known=kpi_catalog))
    series = table.get("series")
    if series is not None:  # [] records no time series
        series = tuple(table.str_list("series", "series", allow_empty=True,
                                      known=series_catalog))
    return Outputs(kpis, series, table.int("series_every", 1, 1, 10_000),
                   table.bool("regions", True))


def check_execution_table(table: Table) -> Execution:
    """The ``[execution]`` table of an experiment, study or calibration file."""
    ex = Execution(table.get("executor", DEFAULT_EXECUTOR), table.get("workers"),
                   table.get("scheduler"))
    _check_execution(ex, table.source, prefix=table.key(""))
    return ex


def _check_execution(ex: Execution, source: str, prefix: str) -> None:
    check_choice(ex.executor, EXECUTORS, source, f"{prefix}executor", "executor")
    if ex.workers is not None:
        check_int(ex.workers, source, f"{prefix}workers", 1, 100_000)
    if ex.scheduler is not None:
        check_str(ex.scheduler, source, f"{prefix}scheduler",
                  "a scheduler address such as 'tcp://host:8786'")
        if ex.executor != "dask":
            raise InputError(f"a scheduler needs executor 'dask', not {ex.executor!r}",
                             source=source, key=f"{prefix}scheduler")


def _check_design(table: Table, base_dir: Path | None, scenarios: dict[str, Scenario],
                  baseline: str | None, root_seed: int,
                  shared: dict[str, Any] | None = None) -> Design:
    source = table.source
    kind = table.choice("kind", DESIGN_KINDS, what="design kind")
    base_ref = table.get("base")
    if base_ref is None:
        base = (scenarios[baseline] if baseline
                else load_scenario_ref("baseline", source, "design.base", base_dir))
    elif isinstance(base_ref, str) and base_ref in scenarios:
        base = scenarios[base_ref]
    else:
        base = load_scenario_ref(base_ref, source, "design.base", base_dir)
    check_name(base.name, source, "design.base (scenario name)")
    if shared and base.name not in scenarios:
        base = base.with_params(shared, source=source)
    crn = table.bool("crn", False)
    params = table.get("params", {})
    levers = table.get("levers", {})
    if not isinstance(params, dict) or not isinstance(levers, dict) or not (params or levers):
        raise table.error("params", "must be a table of parameter names with value lists "
                                    "(grid) or {low, high} ranges (lhs); or give "
                                    "[design.levers.<id>] tables")
    flat = flatten(params, RANGE_KEYS)  # a table with low/high is a leaf (an LHS range)
    for name in flat:
        if name not in P.REGISTRY:
            raise InputError(f"unknown parameter; {closest(name, P.REGISTRY.params)}",
                             source=source, key=f"design.params.{name}")
    lever_flat = _check_lever_keys(levers, source)
    samples = None
    if kind == "grid":
        if "samples" in table:
            raise table.error("samples", "only for kind = 'lhs' (a grid runs every combination)")
        spec, points = _grid(flat, source, _lever_grid(lever_flat, base, source))
    else:
        if "samples" not in table:
            raise table.error("samples", "kind = 'lhs' needs the number of samples")
        samples = table.int("samples", REQUIRED, 1, MAX_RUNS)
        spec, points = _lhs(flat, samples, root_seed, source, _lever_ranges(lever_flat, source))
    if lever_flat:
        _check_lever_points(points, base, source)
    return Design(kind, base, tuple(flat), spec, tuple(points), samples, crn, tuple(lever_flat))


def _check_lever_keys(levers: dict[str, Any], source: str) -> dict[str, Any]:
    """``[design.levers.<id>]`` tables -> {``levers.<id>.<field>``: values}, ids and fields
    checked against the lever catalogue."""
    out = {}
    for lid, fields in levers.items():
        key = f"design.levers.{lid}"
        if lid not in BY_ID:
            raise InputError(f"unknown lever; {closest(lid, BY_ID)}", source=source, key=key)
        allowed = ["intensity", *BY_ID[lid].targets, "start_year", "end_year"]
        if not isinstance(fields, dict) or not fields:
            raise InputError(f"must be a table of lever settings to vary ({', '.join(allowed)})",
                             source=source, key=key)
        for fld, values in fields.items():
            if fld not in allowed:
                raise InputError(f"unknown or untargetable setting for this lever; allowed: "
                                 f"{', '.join(allowed)}", source=source, key=f"{key}.{fld}")
            out[f"{LEVER_KEY}{lid}.{fld}"] = values
    return out


def _lever_grid(lever_flat: dict[str, Any], base: Scenario, source: str) -> dict[str, list]:
    """The value lists of a grid over lever settings, each value checked on its own."""
    spec = {}
    for name, values in lever_flat.items():
        key = f"design.{name}"
        lid, fld = name[len(LEVER_KEY):].rsplit(".", 1)
        if not isinstance(values, list) or not values:
            what = ("lists of region ids, or 'all'" if fld == "regions" else
                    "lists of cluster ids, or 'all'" if fld == "clusters" else "values")
            raise InputError(f"must be a non-empty list of {what} for kind = 'grid'",
                             source=source, key=key)
        checked = []
        for v in values:
            setting = lever_with(base, lid, {fld: v}, source, key)
            checked.append(v if v == EVERYWHERE else getattr(setting, fld))
        plain = [list(v) if isinstance(v, tuple) else v for v in checked]
        if len({json.dumps(v, sort_keys=True) for v in plain}) != len(plain):
            raise InputError("lists a value twice", source=source, key=key)
        spec[name] = plain
    return spec


def _lever_ranges(lever_flat: dict[str, Any], source: str) -> dict[str, dict[str, float]]:
    """The {low, high} ranges of a Latin hypercube over lever settings (numeric ones only)."""
    spec = {}
    for name, rng in lever_flat.items():
        key = f"design.{name}"
        fld = name.rsplit(".", 1)[1]
        if fld not in LEVER_NUMERIC:
            raise InputError(f"{fld} cannot be sampled; use kind = 'grid' (a Latin hypercube "
                             f"samples {', '.join(LEVER_NUMERIC)})", source=source, key=key)
        if not isinstance(rng, dict) or set(rng) != set(RANGE_KEYS):
            raise InputError("must be { low = ..., high = ... } for kind = 'lhs'", source=source,
                             key=key)
        limits = (0.0, INTENSITY_MAX) if fld == "intensity" else (0, YEAR_MAX)
        unit = "" if fld == "intensity" else "policy years"
        low, high = check_bounds(rng["low"], rng["high"], source, key, limits=limits, unit=unit,
                                 whole=fld != "intensity")
        spec[name] = {"low": low, "high": high}
    return spec


def _check_lever_points(points: list[dict[str, Any]], base: Scenario, source: str) -> None:
    """Every point's lever settings together (an end_year after the start_year ...)."""
    for i, point in enumerate(points, start=1):
        values = {k: v for k, v in point.items() if k.startswith(LEVER_KEY)}
        for lid, changes in lever_overrides(values).items():
            try:
                lever_with(base, lid, changes, source, f"design.levers.{lid}")
            except InputError as exc:
                shown = ", ".join(f"{k} = {v}" for k, v in changes.items())
                raise InputError(f"design point p{i} ({shown}): {_message(exc)}", source=source,
                                 key=exc.key) from None


def _grid(flat: dict[str, Any], source: str,
          lever_spec: dict[str, list] | None = None) -> tuple[dict, list[dict]]:
    spec = {}
    for name, values in flat.items():
        key = f"design.params.{name}"
        if not isinstance(values, list) or not values:
            raise InputError("must be a non-empty list of values for kind = 'grid'",
                             source=source, key=key)
        checked = [check_param_value(P.REGISTRY[name], v, source, key) for v in values]
        if len(set(checked)) != len(checked):
            raise InputError("lists a value twice", source=source, key=key)
        spec[name] = checked
    spec.update(lever_spec or {})
    n = math.prod(len(v) for v in spec.values())
    if n > MAX_RUNS:
        raise InputError(f"the grid has {n} points, more than {MAX_RUNS}", source=source,
                         key="design.params")
    names = list(spec)
    points = [dict(zip(names, combo, strict=True)) for combo in itertools.product(*spec.values())]
    return spec, points


def _lhs(flat: dict[str, Any], samples: int, root_seed: int, source: str,
         lever_spec: dict[str, dict[str, float]] | None = None) -> tuple[dict, list]:
    from scipy.stats import qmc  # only designs need scipy; keep `import experiment` light

    spec = {}
    for name, rng in flat.items():
        key = f"design.params.{name}"
        param = P.REGISTRY[name]
        if param.is_bool:
            raise InputError("is true/false and cannot be sampled; use kind = 'grid'",
                             source=source, key=key)
        if not isinstance(rng, dict) or set(rng) != set(RANGE_KEYS):
            raise InputError("must be { low = ..., high = ... } for kind = 'lhs'", source=source,
                             key=key)
        low, high = check_bounds(rng["low"], rng["high"], source, key,
                                 limits=(param.low, param.high), unit=param.unit)
        spec[name] = {"low": low, "high": high}
    spec.update(lever_spec or {})
    sampler = qmc.LatinHypercube(d=len(spec), rng=seeds.design_rng(root_seed))
    unit = sampler.random(samples)
    points = []
    for row in unit:
        point = {}
        for (name, b), u in zip(spec.items(), row, strict=True):
            value = b["low"] + float(u) * (b["high"] - b["low"])
            if name.startswith(LEVER_KEY):  # policy years are whole; intensity is not
                whole = not name.endswith(".intensity")
            else:
                whole = P.REGISTRY[name].integer
            point[name] = int(round(value)) if whole else float(value)
        points.append(point)
    return spec, points
