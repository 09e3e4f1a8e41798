"""Calibration files: parameters to fit, targets, hold-outs and settings, validated in full.

:func:`load_calibration` reads a calibration file (TOML, format in ``docs/calibration.md``) into
a :class:`Calibration`; every key is checked before a single run starts, and bad input is a
one-line :class:`~cluster_abm.errors.InputError` naming the file, the key and what is allowed.
:mod:`cluster_abm.analysis.calibration.fit` runs the study.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cluster_abm.analysis.validation.targets import (
    DEFAULT_FROM_YEAR,
    Target,
    load_targets,
    scope_regions,
    suggest_target,
)
from cluster_abm.errors import InputError, closest
from cluster_abm.experiments import seeds
from cluster_abm.experiments.experiment_spec import (
    EXECUTION_KEYS,
    RANGE_KEYS,
    Execution,
    canonical_json,
    check_execution_table,
    check_root_seed,
    find_experiment,
    scenario_dict,
)
from cluster_abm.params import registry as P
from cluster_abm.specs.scenario import Scenario, load_scenario_ref
from cluster_abm.specs.toml_spec import (
    Table,
    check_bounds,
    check_int,
    check_number,
    flatten,
    inside,
    read_toml,
)

FORMAT_VERSION = 1
TOP_KEYS = ("name", "description", "scenario", "targets_file", "seed", "replicates", "trials",
            "years", "from_year", "scale_floor", "params", "targets", "holdout", "optimizer",
            "report", "execution", "storage")
PARAM_KEYS = ("low", "high", "log")
TARGET_KEYS = ("weight", "tolerance")
HOLDOUT_KEYS = ("tolerance",)
OPTIMIZER_KEYS = ("sampler", "startup_trials")
SAMPLERS = ("tpe", "random")
REPORT_KEYS = ("check_seeds", "oat", "oat_step", "importance_threshold")
STORAGE_KEYS = ("url",)
STORAGE_FORMS = ("sqlite:///PATH.db", "journal", "journal:PATH", "postgresql://...", "mysql://...")
NETWORK_DATABASE = re.compile(r"^(postgresql|mysql|mariadb)(\+[a-z0-9_]+)?://\S+$")
DEFAULT_SCALE_FLOOR = 0.01
CHECK_KEY = 1  # spawn key of the fit report's check seeds: independent of the fitting seeds
SAMPLER_KEY = 2**32 - 2  # spawn key of the sampler's seed (one element, as seeds.DESIGN_KEY)
MAX_TRIALS = 1_000_000


# --- the calibration spec -------------------------------------------------------------------------
@dataclass(frozen=True)
class ParamSpec:
    """A fitted parameter and its search range (inside the registry's bounds)."""

    name: str
    low: float
    high: float
    log: bool = False

    @property
    def param(self) -> P.Param:
        return P.REGISTRY[self.name]

    def distribution(self):
        import optuna

        if self.param.integer:
            return optuna.distributions.IntDistribution(int(self.low), int(self.high),
                                                        log=self.log)
        return optuna.distributions.FloatDistribution(self.low, self.high, log=self.log)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "low": self.low, "high": self.high, "log": self.log}


@dataclass(frozen=True)
class TargetSpec:
    """A target with its weight and the scale its deviation is divided by."""

    target: Target
    weight: float
    scale: float
    tolerance: float | None = None

    @property
    def id(self) -> str:
        return self.target.id

    def z(self, simulated: float) -> float:
        """Standardised deviation (simulated - target) / scale."""
        return (simulated - self.target.value) / self.scale

    def to_dict(self) -> dict[str, Any]:
        t = self.target
        return {"id": t.id, "measure": t.measure, "scope": t.scope, "value": t.value,
                "weight": self.weight, "scale": self.scale}


@dataclass(frozen=True)
class Calibration:
    """A validated calibration (see the module docstring and docs/calibration.md)."""

    name: str
    description: str
    source: str
    scenario: Scenario
    params: tuple[ParamSpec, ...]
    targets: tuple[TargetSpec, ...]
    holdout: tuple[TargetSpec, ...]
    seed: int
    replicates: int
    trials: int
    years: int
    from_year: int
    scale_floor: float
    sampler: str = "tpe"
    startup_trials: int = 20
    check_seeds: int = 10
    oat: bool = True
    oat_step: float = 0.1
    importance_threshold: float = 0.02
    execution: Execution = field(default_factory=Execution)
    storage: str | None = None

    @property
    def seeds(self) -> list[int]:
        """The R replicate seeds every trial uses (common random numbers)."""
        return [seeds.run_seed(self.seed, seeds.CRN_KEY, r) for r in range(self.replicates)]

    def check_seed_list(self, n: int | None = None) -> list[int]:
        """Seeds of the fit report's re-runs: independent of the fitting seeds."""
        return [seeds.run_seed(self.seed, CHECK_KEY, r) for r in range(n or self.check_seeds)]

    def to_dict(self) -> dict[str, Any]:
        """What changes the loss of a parameter vector (hashed: a study resumes only if equal).

        Leaves out the number of trials (raising it is how a calibration is continued), the
        hold-out targets and report settings (they change the report, not the fit), execution
        and storage.
        """
        return {"format": FORMAT_VERSION, "name": self.name,
                "scenario": scenario_dict(self.scenario),
                "params": [p.to_dict() for p in self.params],
                "targets": [t.to_dict() for t in self.targets],
                "seed": self.seed, "replicates": self.replicates, "years": self.years,
                "from_year": self.from_year, "sampler": self.sampler,
                "startup_trials": self.startup_trials}

    @property
    def spec_hash(self) -> str:
        return hashlib.sha256(canonical_json(self.to_dict()).encode()).hexdigest()

    def with_overrides(self, *, trials: int | None = None, executor: str | None = None,
                       workers: int | None = None, scheduler: str | None = None,
                       storage: str | None = None) -> Calibration:
        """A copy with command-line overrides (validated like the file's)."""
        cal = self
        if trials is not None:
            cal = dataclasses.replace(cal, trials=check_int(trials, "command line", "--trials",
                                                             1, MAX_TRIALS))
        if storage is not None:
            storage = check_storage_url(storage, "command line", "--storage", in_file=False)
        return dataclasses.replace(cal, execution=cal.execution.overridden(executor, workers,
                                                                           scheduler),
                                   storage=storage if storage is not None else cal.storage)

    def loss_terms(self, simulated: dict[str, float]) -> dict[str, float]:
        """Weighted squared standardised deviation of every fitted target."""
        return {t.id: t.weight * t.z(simulated[t.id]) ** 2 for t in self.targets}

    def loss(self, simulated: dict[str, float]) -> float:
        return float(sum(self.loss_terms(simulated).values()))

    def all_targets(self) -> tuple[TargetSpec, ...]:
        return self.targets + self.holdout


def load_calibration(ref: str | Path) -> Calibration:
    """Read and validate a calibration file (a path, or a name in ./experiments)."""
    path = find_experiment(ref, "calibration")
    return calibration_from_dict(read_toml(path), source=str(path), base_dir=path.parent)


def _check_params(raw: Any, source: str) -> tuple[ParamSpec, ...]:
    if not isinstance(raw, dict) or not raw:
        raise InputError("must be a table of parameter names with { low = ..., high = ... } "
                         "search bounds", source=source, key="params")
    out = []
    for name, spec in flatten(raw, RANGE_KEYS, empty_is_leaf=True).items():
        key = f"params.{name}"
        if name not in P.REGISTRY:
            raise InputError(f"unknown parameter; {closest(name, P.REGISTRY.params)}",
                             source=source, key=key)
        param = P.REGISTRY[name]
        if param.is_bool or name.startswith("sim."):
            raise InputError("cannot be fitted (true/false and sim.* parameters set the "
                             "experiment, not the model's behaviour)", source=source, key=key)
        if not isinstance(spec, dict) or not {"low", "high"} <= set(spec):
            raise InputError("must be { low = ..., high = ... }", source=source, key=key)
        table = Table(spec, source, PARAM_KEYS, key)
        low, high = check_bounds(spec["low"], spec["high"], source, key,
                                 limits=(param.low, param.high), unit=param.unit,
                                 whole=param.integer)
        log = table.bool("log", False)
        if log and low <= 0:
            raise InputError("log = true needs low > 0", source=source, key=key)
        out.append(ParamSpec(name, low, high, log))
    return tuple(out)


def _resolve_target(tid: Any, table: dict[str, Target], scenario: Scenario, source: str,
                    key: str) -> Target:
    if not isinstance(tid, str) or tid not in table:
        raise InputError(f"unknown target {tid!r}; {suggest_target(str(tid), table)}",
                         source=source, key=key)
    target = table[tid]
    if not scope_regions(target.scope, scenario):
        raise InputError(f"target {tid!r} is for {target.scope}, which names no region of "
                         f"scenario {scenario.name!r}", source=source, key=key)
    return target


def _check_horizon(target: Target, years: int, from_year: int, source: str, key: str) -> None:
    if target.measure.startswith("survival_"):
        k = int(target.measure.split("_")[1].rstrip("y"))
        if years < from_year + k:
            raise InputError(f"target {target.id!r} follows cohorts for {k} years, so it needs "
                             f"years >= from_year + {k} = {from_year + k}, got years = {years}",
                             source=source, key=key)


def _spec(target: Target, weight: float, tolerance: float | None, floor: float) -> TargetSpec:
    scale = tolerance if tolerance is not None else max(abs(target.value), floor)
    return TargetSpec(target, weight, scale, tolerance)


def calibration_from_dict(raw: dict[str, Any], source: str = "<dict>",
                          base_dir: Path | None = None) -> Calibration:
    """Validate a calibration table; paths are relative to ``base_dir`` (the file's folder)."""
    top = Table(raw, source, TOP_KEYS)
    name = top.name("name", Path(source).stem, names="folders and the study")
    description = top.text("description")
    scenario = load_scenario_ref(top.get("scenario", "baseline"), source, "scenario", base_dir)
    table = _target_table(top, base_dir)

    seed = check_root_seed(top.get("seed", 0), source)
    replicates = top.int("replicates", 4, 1, 10_000)
    trials = top.int("trials", 100, 1, MAX_TRIALS)
    years = top.int("years", int(scenario.param("sim.years")), 1,
                    int(P.REGISTRY["sim.years"].high))
    from_year = top.int("from_year", min(DEFAULT_FROM_YEAR, years - 1), 0, years - 1)
    floor = top.number("scale_floor", DEFAULT_SCALE_FLOOR, 0, low_open=True)
    params = _check_params(top.get("params"), source)

    traw = top.get("targets")
    if not isinstance(traw, dict) or not traw:
        raise top.error("targets", "must name at least one target: a table of target ids (see "
                                   "cluster_abm/data/targets.csv) with a weight or "
                                   "{ weight, tolerance }")
    fit = []
    for tid, spec in flatten(traw, TARGET_KEYS, empty_is_leaf=True).items():
        key = f"targets.{tid}"
        if tid in TOP_KEYS:
            raise InputError(f"{tid!r} is a top-level key, but TOML put it in the [targets] "
                             "table; move it above the first [table]", source=source, key=key)
        target = _resolve_target(tid, table, scenario, source, key)
        _check_horizon(target, years, from_year, source, key)
        if isinstance(spec, dict):
            t = Table(spec, source, TARGET_KEYS, key)
            weight = t.number("weight", 1.0, 0, low_open=True)
            tol = t.optional_number("tolerance", 0, low_open=True)
        else:
            weight = check_number(spec, source, key, 0, low_open=True)
            tol = None
        fit.append(_spec(target, weight, tol, floor))

    hraw = top.get("holdout", [])
    if isinstance(hraw, list):
        hitems = [(f"holdout[{i}]", tid, None) for i, tid in enumerate(hraw)]
    elif isinstance(hraw, dict):
        hitems = [(f"holdout.{tid}", tid, spec)
                  for tid, spec in flatten(hraw, HOLDOUT_KEYS, empty_is_leaf=True).items()]
    else:
        raise top.error("holdout", "must be a list of target ids, or a table of target ids "
                                   "with { tolerance = ... }")
    fitted = {t.id for t in fit}
    holdout = []
    for key, tid, spec in hitems:
        target = _resolve_target(tid, table, scenario, source, key)
        _check_horizon(target, years, from_year, source, key)
        if tid in fitted:
            raise InputError(f"target {tid!r} is fitted; a hold-out target must not be",
                             source=source, key=key)
        tol = None
        if spec is not None:
            tol = Table(spec, source, HOLDOUT_KEYS, key).optional_number("tolerance", 0,
                                                                         low_open=True)
        holdout.append(_spec(target, 1.0, tol, floor))

    opt = top.table("optimizer", OPTIMIZER_KEYS)
    sampler = opt.choice("sampler", SAMPLERS, "tpe", what="sampler")
    startup = opt.int("startup_trials", max(10, 2 * len(params) + 4), 0, MAX_TRIALS)
    rep = top.table("report", REPORT_KEYS)
    check_seeds = rep.int("check_seeds", 10, 1, 10_000)
    oat = rep.bool("oat", True)
    oat_step = rep.number("oat_step", 0.1, 0.001, 0.5)
    threshold = rep.number("importance_threshold", 0.02, 0.0, 1.0)
    execution = check_execution_table(top.table("execution", EXECUTION_KEYS))
    url = top.table("storage", STORAGE_KEYS).optional_str(
        "url", "a database URL (sqlite:///path.db, postgresql://...) or 'journal'")
    if url is not None:
        url = check_storage_url(url, source, "storage.url", in_file=True)
    return Calibration(name, description, source, scenario, params, tuple(fit),
                       tuple(holdout), seed, replicates, trials, years, from_year, floor,
                       sampler, startup, check_seeds, oat, oat_step, threshold, execution, url)


def check_storage_url(url: str, source: str, key: str, *, in_file: bool) -> str:
    """A study storage Optuna can keep trials in: ``sqlite:///PATH``, ``journal``,
    ``journal:PATH``, or (on the command line only) a PostgreSQL or MySQL URL.

    ``in_file``: the URL is written in a calibration file, whose SQLite or journal path must
    then be relative and stay inside the working folder; other schemes, in-memory SQLite (the
    study would vanish) and anything with spaces or control characters are refused everywhere.
    """
    allowed = f"allowed: {', '.join(STORAGE_FORMS)}"
    if url != url.strip() or any(c.isspace() or not c.isprintable() for c in url):
        raise InputError(f"must be a storage URL without spaces; {allowed}", source=source, key=key)
    if url == "journal":
        return url
    path = None
    if url.startswith("journal:"):
        path = url.removeprefix("journal:")
    elif url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        if path.startswith(":memory:") or "?" in path:
            raise InputError("an in-memory or parametrised SQLite database keeps nothing; give a "
                             "file, sqlite:///PATH.db", source=source, key=key)
    elif NETWORK_DATABASE.match(url):
        if in_file:
            raise InputError("a network database is named on the command line only (--storage "
                             f"{url.split('://')[0]}://...), so that a calibration file cannot "
                             "send its study to another machine", source=source, key=key)
        return url
    else:
        raise InputError(f"unknown storage {url[:60]!r}; {allowed}", source=source, key=key)
    if not path:
        raise InputError(f"names no file; {allowed}", source=source, key=key)
    if in_file and (Path(path).is_absolute() or ".." in Path(path).parts):
        raise InputError(f"{path!r} leaves the working folder; a file may name a storage path "
                         "relative to it (results/...), or give another path with --storage on "
                         "the command line", source=source, key=key)
    return url


def _target_table(top: Table, base_dir: Path | None) -> dict[str, Target]:
    """The published targets: the file's ``targets_file`` (relative to ``base_dir``), else the
    shipped ones."""
    tfile = top.optional_str("targets_file", "a path to a targets CSV")
    if tfile is None:
        return load_targets()
    tpath = Path(tfile)
    if not tpath.is_absolute() and base_dir is not None:
        tpath = base_dir / tpath
    if base_dir is not None and not inside(tpath, [base_dir]):
        raise top.error("targets_file", f"{tfile!r} leads outside the calibration file's folder; "
                                        "put the targets CSV next to the file (or in a sub-folder)")
    try:
        return load_targets(tpath)
    except InputError as exc:
        raise top.error("targets_file", f"cannot read targets ({exc})") from None
