"""Robustness files (TOML) for ``cluster-abm robustness`` and ``cluster-abm discover``.

A robustness file names the packages to test (scenario files, and/or the Pareto set a search
wrote), the reference they are measured against (effects are paired differences in the same
world with the same seed), the outcomes and the targets a package should meet, and the
ensemble of plausible worlds (Lempert, Popper & Bankes 2003; Kwakkel 2017):

* **parameter uncertainty** (``[uncertainty]``): registry parameters over their registry bounds,
  narrowed by ``span`` around the default (as the sensitivity study) or set in ``bounds``, or
  over the spread of the best trials of a stored calibration (``calibration``);
* **deep-uncertainty drivers** (``[drivers.<name>]``): a named, labelled range mapped to what the
  model reads -- a registry parameter (``funding.freeze_probability``: funding freezes;
  ``labour.foreign_wage_growth``: the pull of wages abroad; ``migration.intercept``;
  ``production.wage_pass_through``: wage convergence) or a field of every sector or region, or
  of one (``sectors.demand_growth``: growth of external demand; ``regions.<id>.demand_growth``),
  set to the driver's value, shifted by it or scaled by it.

The worlds are a Latin hypercube over all of them (McKay, Beckman & Conover 1979, with
:mod:`scipy.stats.qmc`). ``[[discovery]]`` asks, for one package and one target, in which worlds
the package fails (:mod:`.discovery`). Every key is checked before a run starts; a problem is
one line naming the file and the key. Keys and examples: ``docs/experiments.md``.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cluster_abm.analysis.decisions.decision_spec import (
    Outcome,
    check_outcomes,
    check_shared_params,
    check_years,
)
from cluster_abm.errors import InputError, closest
from cluster_abm.experiments import seeds
from cluster_abm.experiments.experiment_spec import (
    EXECUTION_KEYS,
    Execution,
    check_execution_table,
    check_root_seed,
    find_experiment,
)
from cluster_abm.params import registry as P
from cluster_abm.specs.scenario import (
    REGION_FIELDS,
    SECTOR_FIELDS,
    Scenario,
    load_scenario_ref,
)
from cluster_abm.specs.toml_spec import SAFE_NAME, Table, check_bounds, check_number, read_toml

TOP_KEYS = ("name", "description", "base", "reference", "packages", "frontier", "replicates",
            "seed", "years", "worlds", "params", "outcomes", "regret", "targets", "uncertainty",
            "drivers", "discovery", "execution")
UNCERTAINTY_KEYS = ("parameters", "exclude", "span", "bounds", "calibration",
                    "calibration_share")
DRIVER_KEYS = ("label", "target", "mode", "low", "high", "unit")
MODES = ("set", "shift", "scale")
TARGET_KEYS = ("at_least", "at_most")
DISCOVERY_KEYS = ("package", "outcome", "at_least", "at_most", "threshold", "peel_alpha", "box")
MAX_WORLDS = 100_000


@dataclass(frozen=True)
class Factor:
    """One uncertain input of the worlds: a registry parameter or a driver.

    ``kind``: ``param`` (a registry parameter, also for drivers that name one), ``sectors`` or
    ``regions`` (a field of every one, or of ``scope``); ``mode``: the world's value is set,
    added to the scenario's value (``shift``) or multiplies it (``scale``).
    """

    name: str
    label: str
    low: float
    high: float
    unit: str = ""
    kind: str = "param"
    target: str = ""  # registry name, or the field of sectors / regions
    scope: str | None = None  # a sector or region id (None: every one)
    mode: str = "set"
    integer: bool = False
    driver: bool = False

    def value(self, u: float) -> float | int:
        """The factor's value at quantile ``u`` of its range."""
        if self.integer:
            k = min(int(u * (self.high - self.low + 1)), int(self.high - self.low))
            return int(self.low) + k
        return float(self.low + u * (self.high - self.low))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Target:
    """A level an outcome should reach: ``at_least`` or ``at_most`` (in the outcome's unit)."""

    outcome: str
    at_least: float | None = None
    at_most: float | None = None

    def met(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        ok = np.isfinite(x)
        if self.at_least is not None:
            ok &= x >= self.at_least
        if self.at_most is not None:
            ok &= x <= self.at_most
        return ok

    def text(self) -> str:
        parts = []
        if self.at_least is not None:
            parts.append(f"at least {self.at_least:,g}")
        if self.at_most is not None:
            parts.append(f"at most {self.at_most:,g}")
        return " and ".join(parts)


@dataclass(frozen=True)
class Question:
    """A scenario-discovery question: where does ``package`` miss ``target``?"""

    package: str
    target: Target
    threshold: float = 0.8
    peel_alpha: float = 0.05
    box: int | None = None  # a box of the peeling trajectory; None: the balanced one


@dataclass(frozen=True)
class EnsembleSpec:
    """A validated robustness file (module docstring)."""

    name: str
    description: str
    source: str
    reference: Scenario
    packages: dict[str, Scenario]
    outcomes: tuple[Outcome, ...]
    factors: tuple[Factor, ...]
    worlds: int
    replicates: int
    seed: int
    years: int | None = None
    regret: tuple[str, ...] = ()
    targets: tuple[Target, ...] = ()
    questions: tuple[Question, ...] = ()
    execution: Execution = field(default_factory=Execution)
    params: dict[str, Any] = field(default_factory=dict)
    reference_name: str = "reference"

    def outcome(self, name: str) -> Outcome:
        return next(o for o in self.outcomes if o.name == name)

    @property
    def drivers(self) -> tuple[Factor, ...]:
        return tuple(f for f in self.factors if f.driver)

    def design(self) -> np.ndarray:
        """The worlds: a (worlds x factors) Latin hypercube of factor values."""
        from scipy.stats import qmc

        if not self.factors:
            return np.zeros((1, 0))
        lhs = qmc.LatinHypercube(d=len(self.factors), rng=seeds.design_rng(self.seed))
        unit = lhs.random(self.worlds)
        return np.array([[f.value(float(u)) for f, u in zip(self.factors, row, strict=True)]
                         for row in unit], dtype=float)

    def world_table(self) -> list[dict[str, Any]]:
        """One dict per world: {factor name: value}."""
        X = self.design()
        if not self.factors:
            return [{}]
        return [{f.name: (int(x) if f.integer else float(x)) for f, x in
                 zip(self.factors, row, strict=True)} for row in X]

    def in_world(self, scenario: Scenario, world: dict[str, Any], label: str) -> Scenario:
        """``scenario`` in one world: its parameters and fields changed by the factors."""
        params: dict[str, Any] = {}
        sectors = [dict(s) for s in scenario.sectors]
        regions = [dict(r) for r in scenario.regions]
        for f in self.factors:
            x = world[f.name]
            if f.kind == "param":
                params[f.target] = _apply(f, scenario.param(f.target), x, P.REGISTRY[f.target])
            else:
                rows = sectors if f.kind == "sectors" else regions
                fields = {fl.name: fl for fl in (SECTOR_FIELDS if f.kind == "sectors"
                                                 else REGION_FIELDS)}
                for row in rows:
                    if f.scope is None or row["id"] == f.scope:
                        row[f.target] = _apply(f, row[f.target], x, fields[f.target])
        sc = scenario.with_params(params, source=f"{self.source} ({label})") if params \
            else scenario
        return dataclasses.replace(sc, sectors=tuple(sectors), regions=tuple(
            dict(r, clusters=r["clusters"]) for r in regions))


def _apply(f: Factor, current: Any, x: float, decl: Any) -> Any:
    value = x if f.mode == "set" else current + x if f.mode == "shift" else current * x
    low = getattr(decl, "low", None)
    high = getattr(decl, "high", None)
    if low is not None:
        value = max(low, value)
    if high is not None:
        value = min(high, value)
    integer = getattr(decl, "integer", False) or getattr(decl, "kind", None) is int
    return int(round(value)) if integer else float(value)


def load_ensemble_spec(ref: str | Path, results_dir: str | Path = "results") -> EnsembleSpec:
    """Read and validate a robustness file (a path, or a name in ./experiments)."""
    path = find_experiment(ref, "robustness")
    return ensemble_spec_from_dict(read_toml(path), source=str(path), base_dir=path.parent,
                                   results_dir=results_dir)


def ensemble_spec_from_dict(raw: dict[str, Any], source: str = "<dict>",
                            base_dir: Path | None = None,
                            results_dir: str | Path = "results") -> EnsembleSpec:
    top = Table(raw, source, TOP_KEYS)
    name = top.name("name", Path(source).stem)
    description = top.text("description")
    replicates = top.int("replicates", 2, 1, 10_000)
    seed = check_root_seed(top.get("seed", 0), source)
    years = check_years(top)
    worlds = top.int("worlds", 32, 1, MAX_WORLDS)
    execution = check_execution_table(top.table("execution", EXECUTION_KEYS))
    shared = check_shared_params(top.table("params"))
    ref_key = "reference" if "reference" in top else "base"
    reference = load_scenario_ref(top.get(ref_key, "baseline"), source, ref_key, base_dir)
    if shared:
        reference = reference.with_params(shared, source=source)
    packages = _packages(top, base_dir, results_dir, shared, reference)
    outcomes = check_outcomes(top.table("outcomes"), reference, analytic=False,
                              need_direction=False, what="outcomes")
    names = [o.name for o in outcomes]
    regret = _regret(top, outcomes)
    targets = _targets(top.table("targets"), names)
    factors = _uncertainty(top.table("uncertainty", UNCERTAINTY_KEYS), reference, results_dir)
    factors += _drivers(top.table("drivers"), reference, {f.name for f in factors})
    if not factors:
        raise top.error(None, "has no uncertainty: give [uncertainty] parameters or "
                              "[drivers.<name>] tables (a robustness test needs worlds that "
                              "differ)")
    questions = _questions(top, packages, outcomes)
    n_runs = worlds * (len(packages) + 1) * replicates
    if n_runs > 10_000_000:
        raise top.error("worlds", f"{n_runs} runs is more than 10000000; shrink the ensemble")
    ref_name = reference.name if reference.name not in packages else "reference"
    return EnsembleSpec(name, description, source, reference, packages, outcomes,
                        tuple(factors), worlds, replicates, seed, years, regret,
                        tuple(targets), tuple(questions), execution, shared, ref_name)


def _packages(top: Table, base_dir: Path | None, results_dir: str | Path,
              shared: dict[str, Any], reference: Scenario) -> dict[str, Scenario]:
    out: dict[str, Scenario] = {}
    refs = top.get("packages", [])
    if not isinstance(refs, list):
        raise top.error("packages", "must be a list of scenario names or paths")
    entries = [(ref, f"packages[{i}]", base_dir) for i, ref in enumerate(refs)]
    if "frontier" in top:
        from cluster_abm.analysis.decisions.frontier import frontier_files

        fname = top.str("frontier", what="the name of a search (cluster-abm optimize)")
        files = frontier_files(results_dir, fname)
        if not files:
            raise top.error("frontier", f"no frontier packages in "
                                        f"{Path(results_dir) / fname / 'frontier'}; run "
                                        f"`cluster-abm optimize` for {fname!r} first")
        # Found by the program in the results folder: each may be read from its own folder.
        entries += [(f.name, "frontier", f.parent.resolve()) for f in files]
    if not entries:
        raise top.error("packages", "name at least one package (packages = [...] or "
                                    "frontier = 'search name')")
    for ref, key, where in entries:
        sc = load_scenario_ref(ref, top.source, key, where)
        if not SAFE_NAME.match(sc.name):
            raise InputError(f"the package name {sc.name!r} must be letters, digits, '_', '.', "
                             "'+' or '-'", source=top.source, key=key)
        if sc.name in out:
            raise InputError(f"package {sc.name!r} is listed twice", source=top.source, key=key)
        if sc.region_ids != reference.region_ids:
            raise InputError(f"package {sc.name!r} has other regions than the reference "
                             f"({', '.join(sc.region_ids)}); effects are paired region by region",
                             source=top.source, key=key)
        out[sc.name] = sc.with_params(shared, source=top.source) if shared else sc
    return out


def _regret(top: Table, outcomes: tuple[Outcome, ...]) -> tuple[str, ...]:
    directed = [o.name for o in outcomes if o.direction]
    if "regret" not in top:
        return tuple(directed)
    names = top.str_list("regret", "outcome", allow_str=True, known=[o.name for o in outcomes])
    for n in names:
        if n not in directed:
            raise top.error("regret", f"outcome {n!r} has no direction; regret needs "
                                      "direction = 'max' or 'min'")
    return tuple(names)


def _target(t: Table, outcome: str) -> Target:
    if not ({"at_least", "at_most"} & set(t.raw)):
        raise t.error(None, "give at_least and/or at_most")
    lo = t.optional_number("at_least")
    hi = t.optional_number("at_most")
    if lo is not None and hi is not None and lo > hi:
        raise t.error("at_most", f"is below at_least ({hi} < {lo})")
    return Target(outcome, lo, hi)


def _targets(table: Table, names: list[str]) -> list[Target]:
    out = []
    for outcome, raw in table.raw.items():
        if outcome not in names:
            raise InputError(f"unknown outcome; {closest(outcome, names)}", source=table.source,
                             key=table.key(outcome))
        out.append(_target(Table(raw, table.source, TARGET_KEYS, table.key(outcome)), outcome))
    return out


def _uncertainty(table: Table, reference: Scenario, results_dir: str | Path) -> list[Factor]:
    from cluster_abm.analysis.sensitivity.sa_factors import (
        _check_bounds,
        select_parameters,
    )

    out: list[Factor] = []
    bounds = table.table("bounds").raw
    ranges: dict[str, tuple[float, float]] = {}
    if "calibration" in table:
        ranges = _calibration_spread(table, results_dir)
    names: list[str] = []
    if "parameters" in table:
        include = table.get("parameters")
        include = [include] if isinstance(include, str) else include
        exclude = table.get("exclude", [])
        names = select_parameters(include, exclude, source=table.source)
    elif bounds:
        names = list(bounds)
    span = table.get("span")
    if span is not None:
        span = check_number(span, table.source, table.key("span"), 1.0, low_open=True)
    for n in [*names, *(k for k in bounds if k not in names), *(k for k in ranges
                                                                if k not in names)]:
        if n not in P.REGISTRY:
            raise InputError(f"unknown parameter; {closest(n, P.REGISTRY.params)}",
                             source=table.source, key=table.key(f"bounds.{n}"))
        p = P.REGISTRY[n]
        if n in bounds:
            low, high = _check_bounds(p, bounds[n], table.source, span)
        elif n in ranges:
            low, high = ranges[n]
        else:
            low, high = _check_bounds(p, None, table.source, span)
        if n.startswith("sim."):
            raise InputError("sim.* parameters shape the run, not the world; they cannot be "
                             "uncertain", source=table.source, key=table.key("parameters"))
        unit = "" if p.unit == "-" else p.unit
        out.append(Factor(n, n, low, high, unit, "param", n, integer=p.integer))
    return out


def _calibration_spread(table: Table, results_dir: str | Path) -> dict[str, tuple[float, float]]:
    """The range of each fitted parameter over the best ``calibration_share`` of a stored
    calibration's completed trials (at least three trials): the calibration's spread."""
    import optuna

    from cluster_abm.analysis.calibration.calibration_spec import load_calibration
    from cluster_abm.analysis.calibration.fit import open_study

    cal_ref = table.str("calibration", what="a calibration file or name")
    share = table.number("calibration_share", 0.1, 0.0, 1.0, low_open=True)
    try:
        cal = load_calibration(cal_ref)
        study, _ = open_study(cal, results_dir, create=False)
    except InputError as exc:
        raise table.error("calibration", f"cannot use the calibration: {exc}") from None
    done = [t for t in study.get_trials(deepcopy=False,
                                        states=(optuna.trial.TrialState.COMPLETE,))]
    if len(done) < 3:
        raise table.error("calibration", f"the stored calibration has {len(done)} completed "
                                         "trials; at least 3 are needed for a spread")
    done.sort(key=lambda t: t.value)
    best = done[:max(3, int(math.ceil(share * len(done))))]
    out = {}
    for p in cal.params:
        xs = [float(t.params[p.name]) for t in best]
        lo, hi = min(xs), max(xs)
        if hi > lo:
            out[p.name] = (lo, hi)
    return out


def _drivers(table: Table, reference: Scenario, taken: set[str]) -> list[Factor]:
    out = []
    for name, raw in table.raw.items():
        t = Table(raw, table.source, DRIVER_KEYS, table.key(name))
        if name in taken:
            raise t.error(None, f"{name!r} is also an uncertain parameter; name the driver "
                                "otherwise")
        label = t.text("label") or name.replace("_", " ")
        target = t.str("target", what="a registry parameter, or sectors[.<id>].<field> or "
                                      "regions[.<id>].<field>")
        mode = t.choice("mode", MODES, "set", what="mode")
        unit = t.text("unit")
        low, high = check_bounds(t.get("low"), t.get("high"), table.source, t.key("low"))
        kind, scope, fld, decl = _driver_target(t, target, reference)
        whole = getattr(decl, "integer", False) or getattr(decl, "kind", None) is int
        for end in (low, high):  # the ends must give values the model accepts
            values = ([reference.param(target)] if kind == "param" else
                      [row[fld] for row in (reference.sectors if kind == "sectors"
                                            else reference.regions)
                       if scope is None or row["id"] == scope])
            for v in values:
                new = end if mode == "set" else v + end if mode == "shift" else v * end
                lo, hi = getattr(decl, "low", None), getattr(decl, "high", None)
                if (lo is not None and new < lo - 1e-12) or (hi is not None and new > hi + 1e-12):
                    raise t.error("low" if end == low else "high",
                                  f"gives {fld or target} = {new:g}, outside its allowed "
                                  f"{lo} to {hi}")
        out.append(Factor(name, label, low, high, unit or getattr(decl, "unit", ""), kind,
                          fld or target, scope, mode, whole, driver=True))
    return out


def _driver_target(t: Table, target: str, reference: Scenario):
    """(kind, scope, field, declaration) of a driver's target."""
    if target in P.REGISTRY:
        p = P.REGISTRY[target]
        if p.is_bool or target.startswith("sim."):
            raise t.error("target", "must be a numeric parameter of the world (not true/false, "
                                    "not sim.*)")
        return "param", None, "", p
    parts = target.split(".")
    if parts[0] in ("sectors", "regions") and len(parts) in (2, 3):
        kind = parts[0]
        fields = {f.name: f for f in (SECTOR_FIELDS if kind == "sectors" else REGION_FIELDS)
                  if f.kind in (int, float)}
        fld = parts[-1]
        if fld not in fields:
            raise t.error("target", f"{kind} have no numeric field {fld!r}; "
                                    f"{closest(fld, fields)}")
        scope = parts[1] if len(parts) == 3 else None
        ids = [row["id"] for row in (reference.sectors if kind == "sectors"
                                     else reference.regions)]
        if scope is not None and scope not in ids:
            raise t.error("target", f"names no {kind[:-1]} {scope!r}; {closest(scope, ids)}")
        return kind, scope, fld, fields[fld]
    raise t.error("target", f"must be a registry parameter, or sectors[.<id>].<field> or "
                            f"regions[.<id>].<field>; {closest(target, P.REGISTRY.params)}")


def _questions(top: Table, packages: dict[str, Scenario],
               outcomes: tuple[Outcome, ...]) -> list[Question]:
    raw = top.get("discovery", [])
    if isinstance(raw, dict):
        raw = [raw]
    if not isinstance(raw, list):
        raise top.error("discovery", "must be [[discovery]] tables")
    out = []
    names = [o.name for o in outcomes]
    for i, entry in enumerate(raw):
        t = Table(entry, top.source, DISCOVERY_KEYS, f"discovery[{i}]")
        package = t.choice("package", list(packages), what="package")
        outcome = t.choice("outcome", names, what="outcome")
        target = _target(Table({k: v for k, v in entry.items() if k in TARGET_KEYS},
                               top.source, TARGET_KEYS, t.where), outcome)
        threshold = t.number("threshold", 0.8, 0.0, 1.0, low_open=True)
        alpha = t.number("peel_alpha", 0.05, 0.0, 0.5, low_open=True)
        box = t.optional_int("box", 0, 100_000)
        out.append(Question(package, target, threshold, alpha, box))
    return out
