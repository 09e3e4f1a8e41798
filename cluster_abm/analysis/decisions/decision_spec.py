"""Search files (TOML) for ``cluster-abm optimize``: decision variables, objectives, settings.

A search file names a base scenario, a policy package whose settings are partly fixed and partly
searched -- a programme budget (``[programme]``, real euros) and how its levers share it, each
lever's intensity, targets and timing (``[levers.<id>]``) -- and the outcomes to trade off
(``[objectives.<name>]``: jobs, innovation, brain drain, cost, any KPI or regional series). A
value written as ``{ low = ..., high = ... }`` is searched over that range, ``{ choices = [...] }``
over those choices; any other value is fixed, with the meaning it has in a scenario file. With
``split = "shares"`` and no ``shares`` given, the search also decides how the programme's money is
shared: one weight per lever in [0, 1], shares proportional to the weights, and a lever whose
share falls below ``optimizer.min_share`` is left out of the package (its money goes to the
others), so a package may fund fewer levers.

The same file format drives analytic test problems: ``target = "module:function"`` and a
``[variables]`` table replace the package (:mod:`.decision_problems`), and the search, storage,
Pareto set and report are the ones the model uses.

Every key is checked before a run starts; a problem is one line naming the file and the key
(:class:`~cluster_abm.errors.InputError`). The keys, with examples, are in
``docs/experiments.md`` ("Search files").
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cluster_abm.errors import InputError, closest
from cluster_abm.experiments import seeds
from cluster_abm.experiments.experiment_spec import (
    EXECUTION_KEYS,
    Execution,
    canonical_json,
    check_execution_table,
    check_param_value,
    check_root_seed,
    find_experiment,
    scenario_dict,
)
from cluster_abm.params import registry as P
from cluster_abm.policy.levers import BY_ID, INTENSITY_MAX, YEAR_MAX, validate_lever
from cluster_abm.policy.programme import BUDGET_MAX, validate_programme
from cluster_abm.specs.scenario import Scenario, load_scenario_ref
from cluster_abm.specs.toml_spec import (
    REQUIRED,
    Table,
    check_bounds,
    check_choice,
    check_str,
    flatten,
    read_toml,
)

FORMAT_VERSION = 1
TOP_KEYS = ("name", "description", "base", "reference", "target", "replicates", "seed", "years",
            "trials", "params", "programme", "levers", "variables", "objectives", "optimizer",
            "storage", "execution")
OUTCOME_KEYS = ("label", "kpi", "series", "region", "stat", "direction", "effect")
DIRECTIONS = ("max", "min")
STATS = ("final", "total", "per_year", "mean")
OPTIMIZER_KEYS = ("sampler", "startup_trials", "population", "min_share")
SAMPLERS = ("tpe", "nsga2", "random")
STORAGE_KEYS = ("url",)
RANGE = ("low", "high", "log")
CHOICES = "choices"
PROGRAMME_RANGES = {"budget_keur": (0.0, BUDGET_MAX, False), "budget_keur_per_year":
                    (0.0, BUDGET_MAX, False), "start_year": (0, YEAR_MAX, True),
                    "years": (1, YEAR_MAX, True)}
LEVER_RANGES = {"intensity": (0.0, INTENSITY_MAX, False), "start_year": (0, YEAR_MAX, True),
                "end_year": (1, YEAR_MAX, True)}
LEVER_CHOICES = ("regions", "clusters", "firms")
SHARE = "share."  # variable name prefix of a lever's weight in the programme's money
MAX_TRIALS = 1_000_000
SAMPLER_KEY = 2**32 - 3  # spawn key of the sampler's seed (one element, as seeds.DESIGN_KEY)
MODEL_TARGET = "cluster_abm.analysis.decisions.package_eval:simulate_outcomes"


# --- outcomes -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Outcome:
    """One outcome measured on every run: a KPI of the whole world, or a series of one region
    (``stat``: ``final`` the mean over the last year's steps, ``total`` the sum over the run,
    ``per_year`` that sum per year, ``mean`` the mean over the run), or, for an analytic target,
    the value it returns under this name. ``effect``: the difference to the reference package
    run with the same seed (a paired effect), else the level."""

    name: str
    label: str
    direction: str | None  # "max", "min", or None (reported, not judged)
    kpi: str | None = None
    series: str | None = None
    region: str | None = None
    stat: str = "final"
    effect: bool = True
    unit: str = ""

    @property
    def sign(self) -> float:
        """+1 where more is better, -1 where less is (0 without a direction)."""
        return {"max": 1.0, "min": -1.0}.get(self.direction or "", 0.0)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _metric_tables():
    from cluster_abm.outputs.metrics import KPIS, SERIES, SERIES_LABELS

    return KPIS, SERIES, SERIES_LABELS


def check_outcomes(table: Table, scenario: Scenario | None, *, analytic: bool,
                   need_direction: bool, what: str = "objectives") -> tuple[Outcome, ...]:
    """``[objectives.<name>]`` (or ``[outcomes.<name>]``) tables -> outcomes, each checked."""
    if not table.raw:
        raise table.error(None, f"name at least one outcome: [{what}.<name>] with kpi = ... "
                                "(or series and region) and direction = 'max' or 'min'")
    out = []
    for name, raw in table.raw.items():
        t = Table(raw, table.source, OUTCOME_KEYS, table.key(name))
        check_str(name, table.source, t.where, "an outcome name")
        direction = t.get("direction")
        if direction is None and need_direction:
            raise t.error("direction", "is required: 'max' or 'min'")
        if direction is not None:
            t.choice("direction", DIRECTIONS, what="direction")
        label = t.text("label") or name.replace("_", " ")
        if analytic:
            for k in ("kpi", "series", "region", "stat", "effect"):
                if k in t:
                    raise t.error(k, "an analytic target's outcome is the value it returns "
                                     "under this name; only label and direction apply")
            out.append(Outcome(name, label, direction, effect=False))
            continue
        kpis, series, series_labels = _metric_tables()
        effect = t.bool("effect", True)
        if ("kpi" in t) == ("series" in t):
            raise t.error(None, "give exactly one of kpi (a KPI of the whole world) and series "
                                "(a series, with region)")
        if "kpi" in t:
            kpi = t.choice("kpi", list(kpis), what="KPI")
            for k in ("region", "stat"):
                if k in t:
                    raise t.error(k, "only with series = ...; a KPI is of the whole world")
            out.append(Outcome(name, label, direction, kpi=kpi, effect=effect,
                               unit=kpis[kpi].unit))
            continue
        s = t.choice("series", list(series), what="series")
        stat = t.choice("stat", STATS, "final", what="statistic")
        if stat in ("total", "per_year") and series[s].kind != "flow":
            raise t.error("stat", f"{s!r} is a {series[s].kind}, not a flow: use 'final' or "
                                  "'mean'")
        region = t.get("region", "ALL")
        ids = ["ALL", *(scenario.region_ids if scenario is not None else [])]
        check_choice(region, ids, table.source, t.key("region"), "region")
        unit = series[s].unit  # a flow is per step; its total is not, its yearly rate per year
        if stat == "total":
            unit = unit.replace("/step", "")
        elif stat == "per_year":
            unit = unit.replace("/step", "/yr") if "/step" in unit else unit + "/yr"
        out.append(Outcome(name, label, direction, series=s, region=region, stat=stat,
                           effect=effect, unit=unit))
    return tuple(out)


# --- decision variables ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Variable:
    """One searched setting: a range (``integer`` for years) or a list of choices."""

    name: str
    low: float | None = None
    high: float | None = None
    integer: bool = False
    log: bool = False
    choices: tuple[Any, ...] = ()

    def distribution(self):
        """The Optuna distribution of the variable (choices are JSON texts)."""
        import optuna

        if self.choices:
            return optuna.distributions.CategoricalDistribution(
                [json.dumps(c, sort_keys=True) for c in self.choices])
        if self.integer:
            return optuna.distributions.IntDistribution(int(self.low), int(self.high))
        return optuna.distributions.FloatDistribution(float(self.low), float(self.high),
                                                      log=self.log)

    def decode(self, raw: Any) -> Any:
        """A value as the sampler gives it -> the setting (a choice back from its JSON)."""
        return json.loads(raw) if self.choices else raw

    def encode(self, value: Any) -> Any:
        return json.dumps(value, sort_keys=True) if self.choices else value

    def from_unit(self, u: float) -> Any:
        """The value at quantile ``u`` in [0, 1) of the variable (space-filling start points)."""
        if self.choices:
            return self.encode(self.choices[min(int(u * len(self.choices)), len(self.choices) - 1)])
        if self.integer:
            k = min(int(u * (self.high - self.low + 1)), int(self.high - self.low))
            return int(self.low) + k
        if self.log:
            return math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        return float(self.low + u * (self.high - self.low))

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["choices"] = list(self.choices)
        return d


def _range_or_choices(raw: Any) -> str | None:
    """'range' for {low, high[, log]}, 'choices' for {choices}, None for a fixed value."""
    if isinstance(raw, dict) and raw and set(raw) <= set(RANGE) and {"low", "high"} <= set(raw):
        return "range"
    if isinstance(raw, dict) and set(raw) == {CHOICES}:
        return "choices"
    return None


def _check_range(raw: dict, name: str, limits: tuple[float, float, bool], source: str,
                 key: str) -> Variable:
    lo, hi, whole = limits
    low, high = check_bounds(raw["low"], raw["high"], source, key, limits=(lo, hi), whole=whole)
    log = raw.get("log", False)
    if not isinstance(log, bool):
        raise InputError(f"log must be true or false, got {log!r}", source=source, key=key)
    if log and (whole or low <= 0):
        raise InputError("log = true needs a range of numbers above 0 (not whole years)",
                         source=source, key=key)
    return Variable(name, int(low) if whole else low, int(high) if whole else high, whole, log)


# --- the search file ------------------------------------------------------------------------------
@dataclass(frozen=True)
class FrontierSpec:
    """A validated search file (module docstring)."""

    name: str
    description: str
    source: str
    variables: tuple[Variable, ...]
    objectives: tuple[Outcome, ...]
    replicates: int
    seed: int
    trials: int
    years: int | None = None
    base: Scenario | None = None
    reference: Scenario | None = None
    target: str = MODEL_TARGET
    programme: dict[str, Any] | None = None  # fixed [programme] keys (raw values)
    levers: dict[str, dict[str, Any]] = field(default_factory=dict)  # fixed lever settings
    sampler: str = "tpe"
    startup_trials: int = 10
    population: int = 24
    min_share: float = 0.05
    storage: str | None = None
    execution: Execution = field(default_factory=Execution)
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def analytic(self) -> bool:
        return self.target != MODEL_TARGET

    @property
    def seeds(self) -> list[int]:
        """The replicate seeds every trial and the reference use (common random numbers)."""
        return [seeds.run_seed(self.seed, seeds.CRN_KEY, r) for r in range(self.replicates)]

    @property
    def needs_reference(self) -> bool:
        return not self.analytic and any(o.effect for o in self.objectives)

    @property
    def shares_searched(self) -> bool:
        return any(v.name.startswith(SHARE) for v in self.variables)

    @property
    def horizon(self) -> int | None:
        if self.years is not None or self.base is None:
            return self.years
        return int(self.base.param("sim.years"))

    def variable(self, name: str) -> Variable:
        return next(v for v in self.variables if v.name == name)

    def to_dict(self) -> dict[str, Any]:
        """Everything that changes results (hashed): not the execution or the storage."""
        return {"format": FORMAT_VERSION, "name": self.name, "target": self.target,
                "variables": [v.to_dict() for v in self.variables],
                "objectives": [{k: v for k, v in o.to_dict().items()  # words do not count
                                if k not in ("label", "unit")} for o in self.objectives],
                "replicates": self.replicates, "seed": self.seed, "years": self.years,
                "base": scenario_dict(self.base) if self.base else None,
                "reference": scenario_dict(self.reference) if self.reference else None,
                "programme": self.programme, "levers": self.levers, "sampler": self.sampler,
                "startup_trials": self.startup_trials, "population": self.population,
                "min_share": self.min_share}

    @property
    def spec_hash(self) -> str:
        return hashlib.sha256(canonical_json(self.to_dict()).encode()).hexdigest()

    def with_overrides(self, *, trials: int | None = None, executor: str | None = None,
                       workers: int | None = None, scheduler: str | None = None,
                       storage: str | None = None) -> FrontierSpec:
        """The command line's options on top of the file's (validated like the file's)."""
        out = self
        if trials is not None:
            if isinstance(trials, bool) or not isinstance(trials, int) or trials < 1:
                raise InputError(f"must be a whole number from 1, got {trials!r}", key="--trials")
            out = dataclasses.replace(out, trials=trials)
        if storage is not None:
            out = dataclasses.replace(out, storage=storage)
        return dataclasses.replace(out, execution=out.execution.overridden(executor, workers,
                                                                           scheduler))

    # --- packages -------------------------------------------------------------------------------
    def settings(self, values: dict[str, Any]) -> tuple[dict[str, Any] | None,
                                                        dict[str, dict[str, Any]]]:
        """The package's ``[programme]`` and ``[levers.<id>]`` tables for decision ``values``
        ({variable name: value}, choices decoded): the fixed keys with the searched ones, the
        programme's shares from the levers' weights (levers under ``min_share`` left out)."""
        levers = {lid: dict(t) for lid, t in self.levers.items()}
        for name, value in values.items():
            if name.startswith("levers."):
                lid, fld = name[len("levers."):].rsplit(".", 1)
                levers[lid][fld] = round(value, 3) if fld == "intensity" else value
        for table in levers.values():  # a sampled end not after the start: one year
            if "end_year" in table and table["end_year"] <= table.get("start_year", 0):
                table["end_year"] = table.get("start_year", 0) + 1
        programme = None
        if self.programme is not None:
            programme = dict(self.programme)
            for name, value in values.items():
                if name.startswith("programme."):  # money to the nearest hundred euros
                    key = name[len("programme."):]
                    programme[key] = round(value, 1) if key.startswith("budget") else value
            if self.shares_searched:
                weights = {lid: float(values[SHARE + lid]) for lid in levers}
                shares = _shares(weights, self.min_share)
                levers = {lid: t for lid, t in levers.items() if lid in shares}
                programme["shares"] = shares
        return programme, levers

    def package(self, values: dict[str, Any], title: str | None = None,
                name: str | None = None) -> Scenario:
        """The scenario a trial simulates: the base with the package's levers and programme."""
        if self.base is None:
            raise ValueError("an analytic target has no package")
        programme, levers = self.settings(values)
        where = f"{self.source} (package)"
        settings = dict(self.base.levers)
        for lid, table in levers.items():
            settings[lid] = validate_lever(lid, table, where, self.base.region_ids,
                                           self.base.cluster_ids)
        prog = self.base.programme
        if programme is not None:
            prog = validate_programme(programme, where, self.base.region_ids, list(settings))
        sc = self.base.with_levers(settings)
        return dataclasses.replace(sc, programme=prog, name=name or self.base.name,
                                   title=title or sc.title)


def _shares(weights: dict[str, float], min_share: float) -> dict[str, float]:
    """Shares proportional to the weights; shares under ``min_share`` dropped and the rest
    re-scaled (all weights zero: equal shares). Rounded to 4 decimals, summing to 1."""
    total = sum(weights.values())
    if total <= 0:
        weights = dict.fromkeys(weights, 1.0)
        total = float(len(weights))
    shares = {lid: w / total for lid, w in weights.items()}
    kept = {lid: s for lid, s in shares.items() if s >= min_share} or {
        max(shares, key=shares.get): 1.0}
    total = sum(kept.values())
    rounded = {lid: round(s / total, 4) for lid, s in kept.items()}
    first = next(iter(rounded))
    rounded[first] = round(1.0 - sum(v for k, v in rounded.items() if k != first), 4)
    return rounded


def load_frontier_spec(ref: str | Path) -> FrontierSpec:
    """Read and validate a search file (a path, or a name in ./experiments)."""
    path = find_experiment(ref, "search")
    return frontier_spec_from_dict(read_toml(path), source=str(path), base_dir=path.parent)


def check_shared_params(table: Table) -> dict[str, Any]:
    """``[params]``: registry parameters set in the base, the reference and every package."""
    out = {}
    for name, value in flatten(table.raw).items():
        if name not in P.REGISTRY:
            raise InputError(f"unknown parameter; {closest(name, P.REGISTRY.params)}",
                             source=table.source, key=f"params.{name}")
        out[name] = check_param_value(P.REGISTRY[name], value, table.source, f"params.{name}")
    return out


def check_years(top: Table) -> int | None:
    if top.get("years") is None:
        return None
    return int(check_param_value(P.REGISTRY["sim.years"], top.get("years"), top.source, "years"))


def frontier_spec_from_dict(raw: dict[str, Any], source: str = "<dict>",
                            base_dir: Path | None = None) -> FrontierSpec:
    """Validate a search table; scenario references resolve relative to ``base_dir``."""
    top = Table(raw, source, TOP_KEYS)
    name = top.name("name", Path(source).stem)
    description = top.text("description")
    replicates = top.int("replicates", 4, 1, 10_000)
    seed = check_root_seed(top.get("seed", 0), source)
    trials = top.int("trials", 100, 1, MAX_TRIALS)
    years = check_years(top)
    execution = check_execution_table(top.table("execution", EXECUTION_KEYS))
    storage = top.table("storage", STORAGE_KEYS).optional_str("url", "an Optuna storage URL")
    target = top.get("target")
    if target is not None:
        target = _check_target(top)
        for k in ("base", "reference", "programme", "levers", "params"):
            if k in top:
                raise top.error(k, "an analytic target (target = ...) has [variables], not a "
                                   "package")
        variables = _analytic_variables(top.table("variables"))
        objectives = check_outcomes(top.table("objectives"), None, analytic=True,
                                    need_direction=True)
        base = reference = None
        programme, levers = None, {}
        shared: dict[str, Any] = {}
    else:
        if "variables" in top:
            raise top.error("variables", "only with target = ...; a package's variables are "
                                         "ranges in [programme] and [levers.<id>]")
        shared = check_shared_params(top.table("params"))
        base = load_scenario_ref(top.get("base", "baseline"), source, "base", base_dir)
        if shared:
            base = base.with_params(shared, source=source)
        reference = base
        if "reference" in top:
            reference = load_scenario_ref(top.get("reference"), source, "reference", base_dir)
            if shared:
                reference = reference.with_params(shared, source=source)
            if reference.region_ids != base.region_ids:
                raise top.error("reference", "must have the base's regions (effects are paired "
                                             "region by region)")
        levers, lever_vars = _lever_tables(top.table("levers"), base)
        programme, prog_vars = _programme_table(top, levers)
        variables = tuple(prog_vars + lever_vars)
        if programme is not None and programme.get("split", "shares") == "shares" \
                and "shares" not in programme and len(levers) > 1:
            variables += tuple(Variable(SHARE + lid, 0.0, 1.0) for lid in levers)
        elif programme is not None and programme.get("split", "shares") == "shares" \
                and "shares" not in programme:
            programme["shares"] = {lid: 1.0 for lid in levers}
        objectives = check_outcomes(top.table("objectives"), base, analytic=False,
                                    need_direction=True)
    if not variables:
        raise top.error(None, "searches nothing: give a range { low = ..., high = ... } or "
                              "choices { choices = [...] } in [programme] or [levers.<id>], or "
                              "several levers sharing a programme")
    if len([o for o in objectives if o.direction]) < 1:
        raise top.error("objectives", "needs at least one outcome with a direction")
    opt = top.table("optimizer", OPTIMIZER_KEYS)
    sampler = opt.choice("sampler", SAMPLERS, "tpe", what="sampler")
    population = opt.int("population", 24, 2, 10_000)
    default_start = {"tpe": max(10, 2 * len(variables) + 4), "nsga2": population, "random": 0}
    startup = opt.int("startup_trials", default_start[sampler], 0, MAX_TRIALS)
    n_levers = max(1, len(levers))
    min_share = opt.number("min_share", 0.05, 0.0, 1.0 / n_levers, high_open=n_levers > 1)
    spec = FrontierSpec(name, description, source, variables, objectives, replicates, seed,
                        trials, years, base, reference, target if target else MODEL_TARGET,
                        programme, levers, sampler, startup, population, min_share, storage,
                        execution, shared)
    if not spec.analytic:
        _check_corners(spec, top)
    return spec


def _check_target(top: Table) -> str:
    from cluster_abm.experiments.worker import resolve_target

    target = top.str("target", REQUIRED, "an import path 'package.module:function'")
    try:
        resolve_target(target)
    except ValueError as exc:
        raise top.error("target", str(exc)) from None
    return target


def _analytic_variables(table: Table) -> list[Variable]:
    out = []
    for name, raw in table.raw.items():
        key = table.key(name)
        kind = _range_or_choices(raw)
        if kind == "range":
            out.append(_check_range(raw, name, (-math.inf, math.inf, False), table.source, key))
        elif kind == "choices":
            out.append(_check_choices(raw, name, table.source, key))
        else:
            raise InputError("must be { low = ..., high = ... } or { choices = [...] }",
                             source=table.source, key=key)
    return out


def _check_choices(raw: dict, name: str, source: str, key: str) -> Variable:
    choices = raw[CHOICES]
    if not isinstance(choices, list) or len(choices) < 2:
        raise InputError("choices must be a list of at least two values", source=source,
                         key=f"{key}.choices")
    texts = [json.dumps(c, sort_keys=True) for c in choices]
    if len(set(texts)) != len(texts):
        raise InputError("lists a choice twice", source=source, key=f"{key}.choices")
    return Variable(name, choices=tuple(choices))


def _lever_tables(table: Table, base: Scenario) -> tuple[dict[str, dict[str, Any]],
                                                           list[Variable]]:
    """``[levers.<id>]``: fixed settings and searched ones (ranges and choices)."""
    fixed: dict[str, dict[str, Any]] = {}
    variables: list[Variable] = []
    for lid, raw in table.raw.items():
        key = table.key(lid)
        if lid not in BY_ID:
            raise InputError(f"unknown lever; {closest(lid, BY_ID)}", source=table.source,
                             key=key)
        if raw is True:
            raw = {}
        if not isinstance(raw, dict):
            raise InputError("must be a table of the lever's settings (fixed values, ranges "
                             "{ low, high } or { choices = [...] })", source=table.source, key=key)
        allowed = ["intensity", *BY_ID[lid].targets, "start_year", "end_year"]
        fixed[lid] = {}
        for fld, value in raw.items():
            fkey = f"{key}.{fld}"
            if fld not in allowed:
                raise InputError(f"unknown or untargetable setting for this lever; allowed: "
                                 f"{', '.join(allowed)}", source=table.source, key=fkey)
            kind = _range_or_choices(value)
            if kind == "range":
                if fld not in LEVER_RANGES:
                    raise InputError(f"{fld} cannot take a range; give {{ choices = [...] }}",
                                     source=table.source, key=fkey)
                variables.append(_check_range(value, f"levers.{lid}.{fld}", LEVER_RANGES[fld],
                                              table.source, fkey))
            elif kind == "choices":
                var = _check_choices(value, f"levers.{lid}.{fld}", table.source, fkey)
                for c in var.choices:  # each choice as a scenario would take it
                    _validate_setting(lid, {fld: c}, base, table.source, fkey)
                variables.append(var)
            else:
                fixed[lid][fld] = value
        _validate_setting(lid, fixed[lid], base, table.source, key)
    return fixed, variables


def _validate_setting(lid: str, table: dict[str, Any], base: Scenario, source: str,
                      key: str) -> None:
    try:
        validate_lever(lid, table, source, base.region_ids, base.cluster_ids)
    except InputError as exc:
        raise InputError(_bare(exc), source=source, key=key) from None


def _bare(exc: InputError) -> str:
    where = ": ".join(part for part in (exc.source, exc.key) if part)
    text = str(exc)
    return text[len(where) + 2:] if where and text.startswith(where + ": ") else text


def _programme_table(top: Table, levers: dict[str, dict[str, Any]]) -> tuple[
        dict[str, Any] | None, list[Variable]]:
    if "programme" not in top:
        return None, []
    raw = top.get("programme")
    if not isinstance(raw, dict):
        raise top.error("programme", "must be a table (budget_keur or budget_keur_per_year, "
                                     "years, regions, split, shares or priority)")
    if not levers:
        raise top.error("levers", "a programme needs the levers it funds: [levers.<id>]")
    fixed, variables = {}, []
    for k, value in raw.items():
        kind = _range_or_choices(value)
        if kind == "range":
            if k not in PROGRAMME_RANGES:
                raise InputError(f"cannot take a range; ranges: {', '.join(PROGRAMME_RANGES)}",
                                 source=top.source, key=f"programme.{k}")
            variables.append(_check_range(value, f"programme.{k}", PROGRAMME_RANGES[k],
                                          top.source, f"programme.{k}"))
        elif kind == "choices":
            raise InputError("a programme key takes a value or a range { low, high }",
                             source=top.source, key=f"programme.{k}")
        else:
            fixed[k] = value
    return fixed, variables


def corner_values(spec: FrontierSpec, u: float) -> dict[str, Any]:
    """Every variable at quantile ``u`` (choices decoded)."""
    return {v.name: v.decode(v.from_unit(u)) for v in spec.variables}


def _check_corners(spec: FrontierSpec, top: Table) -> None:
    """Build the package at the low and high ends and the middle of every range (and with each
    choice): a fixed setting that no package could take is an error now, not after an hour."""
    for u in (0.0, 0.5, 0.999999):
        values = corner_values(spec, u)
        try:
            spec.package(values)
        except InputError as exc:
            msg = _bare(exc)
            raise InputError(f"the package with every searched setting at its "
                             f"{'low end' if u == 0 else 'middle' if u == 0.5 else 'high end'} "
                             f"is invalid: {msg}", source=spec.source,
                             key=exc.key or "programme") from None
