"""Calibration files: parameters to fit, targets, hold-outs and settings, validated in full.

:func:`load_calibration` reads a calibration file (TOML, format in ``docs/calibration.md``) into
a :class:`Calibration`; every key is checked before a single run starts, and bad input is a
one-line :class:`~cluster_abm.errors.InputError` naming the file, the key and what is allowed.
:mod:`cluster_abm.analysis.calibration.fit` runs the study.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
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
    SAFE_NAME,
    Execution,
    _check_execution,
    _check_execution_table,
    canonical_json,
    check_int,
    find_experiment,
    scenario_dict,
)
from cluster_abm.params import registry as P
from cluster_abm.specs.scenario import Scenario, find_scenario, load_scenario, read_toml

FORMAT_VERSION = 1
TOP_KEYS = ("name", "description", "scenario", "targets_file", "seed", "replicates", "trials",
            "years", "from_year", "scale_floor", "params", "targets", "holdout", "optimizer",
            "report", "execution", "storage")
PARAM_KEYS = ("low", "high", "log")
TARGET_KEYS = ("weight", "tolerance")
OPTIMIZER_KEYS = ("sampler", "startup_trials")
SAMPLERS = ("tpe", "random")
REPORT_KEYS = ("check_seeds", "oat", "oat_step", "importance_threshold")
STORAGE_KEYS = ("url",)
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
        if scheduler and not executor:
            executor = "dask"  # a scheduler address implies the Dask executor
        if trials is not None:
            cal = dataclasses.replace(cal, trials=check_int(trials, "command line", "--trials",
                                                             1, MAX_TRIALS))
        ex = cal.execution
        merged = Execution(executor or ex.executor, workers if workers is not None else ex.workers,
                           scheduler if scheduler is not None else ex.scheduler)
        _check_execution(merged, "command line", prefix="--")
        return dataclasses.replace(cal, execution=merged,
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
    path = find_experiment(ref)
    return calibration_from_dict(read_toml(path), source=str(path), base_dir=path.parent)


def _check_number(value: Any, source: str, key: str, *, positive: bool = False,
                  low: float | None = None, high: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InputError(f"must be a finite number, got {value!r}", source=source, key=key)
    if positive and value <= 0:
        raise InputError(f"must be above 0, got {value!r}", source=source, key=key)
    if (low is not None and value < low) or (high is not None and value > high):
        raise InputError(f"must be from {low} to {high}, got {value!r}", source=source, key=key)
    return float(value)


def _check_table(raw: Any, keys: tuple[str, ...], source: str, where: str) -> dict:
    if not isinstance(raw, dict):
        raise InputError("must be a table", source=source, key=where)
    for k in raw:
        if k not in keys:
            raise InputError(f"unknown key; {closest(k, keys)}", source=source, key=f"{where}.{k}")
    return raw


def _flatten(table: dict, leaf_keys: set[str], prefix: str = "") -> dict[str, Any]:
    """Dotted names from nested tables; a table holding one of ``leaf_keys`` is a leaf."""
    out = {}
    for k, v in table.items():
        name = f"{prefix}{k}"
        if isinstance(v, dict) and v and not (leaf_keys & set(v)):
            out.update(_flatten(v, leaf_keys, name + "."))
        else:
            out[name] = v
    return out


def _check_params(raw: Any, source: str) -> tuple[ParamSpec, ...]:
    if not isinstance(raw, dict) or not raw:
        raise InputError("must be a table of parameter names with { low = ..., high = ... } "
                         "search bounds", source=source, key="params")
    out = []
    for name, spec in _flatten(raw, {"low", "high"}).items():
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
        _check_table(spec, PARAM_KEYS, source, key)
        low = _check_number(spec["low"], source, f"{key}.low")
        high = _check_number(spec["high"], source, f"{key}.high")
        if not low < high:
            raise InputError(f"low must be below high, got [{low}, {high}]", source=source, key=key)
        if (param.low is not None and low < param.low) or (param.high is not None
                                                           and high > param.high):
            raise InputError(f"bounds [{low}, {high}] are outside the registry's "
                             f"[{param.low}, {param.high}] {param.unit}", source=source, key=key)
        log = spec.get("log", False)
        if not isinstance(log, bool):
            raise InputError(f"must be true or false, got {log!r}", source=source, key=f"{key}.log")
        if log and low <= 0:
            raise InputError("log = true needs low > 0", source=source, key=key)
        if param.integer and (low != int(low) or high != int(high)):
            raise InputError("an integer parameter needs whole-number bounds", source=source,
                             key=key)
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
    _check_table(raw, TOP_KEYS, source, "")
    name = raw.get("name", Path(source).stem)
    if not isinstance(name, str) or not SAFE_NAME.match(name):
        raise InputError(f"must be a name of letters, digits, '_', '.', '+' or '-' (it names "
                         f"folders and the study), got {name!r}", source=source, key="name")
    description = raw.get("description", "")
    if not isinstance(description, str):
        raise InputError("must be a string", source=source, key="description")
    ref = raw.get("scenario", "baseline")
    if not isinstance(ref, str) or not ref:
        raise InputError(f"must be a scenario name or path, got {ref!r}", source=source,
                         key="scenario")
    try:
        scenario = load_scenario(find_scenario(ref, relative_to=base_dir))
    except InputError as exc:
        raise InputError(f"cannot load scenario {ref!r} ({exc})", source=source,
                         key="scenario") from None

    tfile = raw.get("targets_file")
    if tfile is not None:
        if not isinstance(tfile, str) or not tfile:
            raise InputError("must be a path to a targets CSV", source=source, key="targets_file")
        tpath = Path(tfile)
        if not tpath.is_absolute() and base_dir is not None:
            tpath = base_dir / tpath
        try:
            table = load_targets(tpath)
        except InputError as exc:
            raise InputError(f"cannot read targets ({exc})", source=source,
                             key="targets_file") from None
    else:
        table = load_targets()

    try:
        seed = seeds.check_seed(raw.get("seed", 0), "the root seed")
    except ValueError as exc:
        raise InputError(str(exc), source=source, key="seed") from None
    replicates = check_int(raw.get("replicates", 4), source, "replicates", 1, 10_000)
    trials = check_int(raw.get("trials", 100), source, "trials", 1, MAX_TRIALS)
    default_years = int(scenario.param("sim.years"))
    years = check_int(raw.get("years", default_years), source, "years", 1,
                       int(P.REGISTRY["sim.years"].high))
    from_year = check_int(raw.get("from_year", min(DEFAULT_FROM_YEAR, years - 1)), source,
                           "from_year", 0, years - 1)
    floor = _check_number(raw.get("scale_floor", DEFAULT_SCALE_FLOOR), source, "scale_floor",
                          positive=True)
    params = _check_params(raw.get("params"), source)

    traw = raw.get("targets")
    if not isinstance(traw, dict) or not traw:
        raise InputError("must name at least one target: a table of target ids (see "
                         "cluster_abm/data/targets.csv) with a weight or { weight, tolerance }",
                         source=source, key="targets")
    fit = []
    for tid, spec in _flatten(traw, set(TARGET_KEYS)).items():
        key = f"targets.{tid}"
        if tid in TOP_KEYS:
            raise InputError(f"{tid!r} is a top-level key, but TOML put it in the [targets] "
                             "table; move it above the first [table]", source=source, key=key)
        target = _resolve_target(tid, table, scenario, source, key)
        _check_horizon(target, years, from_year, source, key)
        if isinstance(spec, dict):
            _check_table(spec, TARGET_KEYS, source, key)
            weight = _check_number(spec.get("weight", 1.0), source, f"{key}.weight", positive=True)
            tol = spec.get("tolerance")
            tol = None if tol is None else _check_number(tol, source, f"{key}.tolerance",
                                                         positive=True)
        else:
            weight = _check_number(spec, source, key, positive=True)
            tol = None
        fit.append(_spec(target, weight, tol, floor))

    hraw = raw.get("holdout", [])
    if isinstance(hraw, list):
        hitems = [(f"holdout[{i}]", tid, None) for i, tid in enumerate(hraw)]
    elif isinstance(hraw, dict):
        hitems = [(f"holdout.{tid}", tid, spec)
                  for tid, spec in _flatten(hraw, {"tolerance"}).items()]
    else:
        raise InputError("must be a list of target ids, or a table of target ids with "
                         "{ tolerance = ... }", source=source, key="holdout")
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
            _check_table(spec, ("tolerance",), source, key)
            if "tolerance" in spec:
                tol = _check_number(spec["tolerance"], source, f"{key}.tolerance",
                                    positive=True)
        holdout.append(_spec(target, 1.0, tol, floor))

    opt = _check_table(raw.get("optimizer", {}), OPTIMIZER_KEYS, source, "optimizer")
    sampler = opt.get("sampler", "tpe")
    if sampler not in SAMPLERS:
        raise InputError(f"unknown sampler {sampler!r}; allowed: {', '.join(SAMPLERS)}",
                         source=source, key="optimizer.sampler")
    startup = check_int(opt.get("startup_trials", max(10, 2 * len(params) + 4)), source,
                         "optimizer.startup_trials", 0, MAX_TRIALS)
    rep = _check_table(raw.get("report", {}), REPORT_KEYS, source, "report")
    check_seeds = check_int(rep.get("check_seeds", 10), source, "report.check_seeds", 1, 10_000)
    oat = rep.get("oat", True)
    if not isinstance(oat, bool):
        raise InputError(f"must be true or false, got {oat!r}", source=source, key="report.oat")
    oat_step = _check_number(rep.get("oat_step", 0.1), source, "report.oat_step", low=0.001,
                             high=0.5)
    threshold = _check_number(rep.get("importance_threshold", 0.02), source,
                              "report.importance_threshold", low=0.0, high=1.0)
    execution = _check_execution_table(raw.get("execution", {}), source)
    st = _check_table(raw.get("storage", {}), STORAGE_KEYS, source, "storage")
    url = st.get("url")
    if url is not None and (not isinstance(url, str) or not url):
        raise InputError("must be a database URL (sqlite:///path.db, postgresql://...) or "
                         "'journal'", source=source, key="storage.url")
    return Calibration(name, description.strip(), source, scenario, params, tuple(fit),
                       tuple(holdout), seed, replicates, trials, years, from_year, floor,
                       sampler, startup, check_seeds, oat, oat_step, threshold, execution, url)
