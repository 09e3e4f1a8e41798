"""The model's parameters as a sensitivity problem: derived from the registry, never re-declared.

:func:`problem_from_registry` turns registry names (plus optional narrower bounds, distributions
and groups) into an :class:`~.problem.SAProblem`, so names, bounds and units are declared once,
in :mod:`cluster_abm.params.registry` (DESIGN §4: the registry is the single source of truth, as EMA
Workbench derives its SALib problem from its parameter objects). :func:`select_parameters`
expands the selectors a study file uses ("uncertain", "learning.*", exact names) and
:func:`model_values` turns a SALib design row into the values the model is given.

Integer parameters (``Param.integer``): SALib samples every input on a continuous scale. A
design value ``x`` in ``[low, high]`` is mapped to the integer ``low + k`` where ``k =
floor(u * (high - low + 1))``, ``u = (x - low) / (high - low)``, and ``k`` is capped at
``high - low``. Each of the ``high - low + 1`` integers thus owns an equal share of the
interval, so a uniform design gives a uniform distribution over the integers (plain rounding
would give the two end values half the weight of the others). The mapping is monotone, so a
Morris step up never moves the model value down. The *analysis* uses the continuous design
(SALib needs the design's own layout), and the runs table records the integers the model got.
Only uniform distributions are allowed for integer parameters, where ``u`` is the quantile.

Boolean parameters are not eligible: a switch has no range to vary over; compare the two
settings with scenarios instead.
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from cluster_abm.analysis.sensitivity.problem import SAProblem
from cluster_abm.errors import InputError, closest
from cluster_abm.params.registry import REGISTRY, Param
from cluster_abm.specs.toml_spec import check_bounds

UNCERTAIN = "uncertain"  # selector: every parameter marked uncertain in the registry
# Distributions a model parameter may take: bounded ones only, so every sampled value lies
# within the registry's range (the model rejects values outside it). The numbers after the
# bounds come from the study file (see DIST_KEYS).
BOUNDED_DISTS = ("unif", "logunif", "triang", "truncnorm")
DIST_KEYS: dict[str, tuple[str, ...]] = {
    "unif": (),
    "logunif": (),
    "triang": ("peak",),  # peak as a fraction of the way from low to high, in [0, 1)
    "truncnorm": ("mean", "sd"),
}


def eligible(param: Param) -> str | None:
    """Why ``param`` cannot be a sensitivity input (None if it can)."""
    if param.is_bool:
        return "is true/false and cannot be varied continuously; compare both settings as scenarios"
    if param.low is None or param.high is None:
        return "has no finite registry bounds to sample within"
    if not param.low < param.high:
        return f"has an empty registry range [{param.low}, {param.high}]"
    return None


def select_parameters(
    include: Iterable[str], exclude: Iterable[str] = (), *, source: str | None = None
) -> list[str]:
    """Expand selectors into registry names, in registry order, without duplicates.

    A selector is ``"uncertain"`` (every parameter marked uncertain), a pattern with ``*`` such
    as ``"learning.*"`` (a registry group) or an exact name. Exact names must exist and be
    eligible (:class:`InputError` otherwise); patterns silently skip ineligible parameters
    (booleans), and a pattern that matches nothing is an error. ``exclude`` takes the same
    patterns and names and removes matches.
    """
    chosen: set[str] = set()
    for sel in include:
        key = "parameters"
        if not isinstance(sel, str) or not sel:
            raise InputError(f"must be parameter names or patterns, got {sel!r}", source=source,
                             key=key)
        if sel == UNCERTAIN:
            chosen |= {p.name for p in REGISTRY if p.uncertain and eligible(p) is None}
        elif "*" in sel or "?" in sel:
            hits = [p.name for p in REGISTRY if fnmatch.fnmatchcase(p.name, sel)]
            if not hits:
                raise InputError(f"pattern {sel!r} matches no parameter; groups: "
                                 f"{', '.join(REGISTRY.groups())}", source=source, key=key)
            chosen |= {n for n in hits if eligible(REGISTRY[n]) is None}
        else:
            param = _lookup(sel, source, key)
            why = eligible(param)
            if why:
                raise InputError(f"parameter {sel!r} {why}", source=source, key=key)
            chosen.add(sel)
    for sel in exclude:
        if not isinstance(sel, str) or not sel:
            raise InputError(f"must be parameter names or patterns, got {sel!r}", source=source,
                             key="exclude")
        if "*" in sel or "?" in sel:
            chosen = {n for n in chosen if not fnmatch.fnmatchcase(n, sel)}
        else:
            _lookup(sel, source, "exclude")
            chosen.discard(sel)
    names = [p.name for p in REGISTRY if p.name in chosen]
    if not names:
        raise InputError("selects no parameter (after exclusions)", source=source,
                         key="parameters")
    return names


def _lookup(name: str, source: str | None, key: str) -> Param:
    if name not in REGISTRY:
        raise InputError(f"unknown parameter {name!r}; {closest(name, REGISTRY.params)}",
                         source=source, key=key)
    return REGISTRY[name]


def _dist_bounds(param: Param, low: float, high: float, dist: Any, source: str | None,
                 key: str) -> tuple[str, tuple[float, ...]]:
    """(SALib distribution name, SALib bounds entry) for one parameter."""
    if dist is None:
        return "unif", (low, high)
    spec = {"dist": dist} if isinstance(dist, str) else dist
    if not isinstance(spec, Mapping) or not isinstance(spec.get("dist"), str):
        raise InputError("must be a distribution name or a table { dist = ..., ... }",
                         source=source, key=key)
    name = spec["dist"]
    if name not in DIST_KEYS:
        raise InputError(f"unknown or unbounded distribution {name!r}; allowed: "
                         f"{', '.join(BOUNDED_DISTS)} (bounded, so values stay within the "
                         "registry's range)", source=source, key=key)
    wanted = DIST_KEYS[name]
    extra = [k for k in spec if k not in ("dist", *wanted)]
    if extra:
        raise InputError(f"unknown key {extra[0]!r} for {name}; {name} takes "
                         f"{', '.join(wanted) or 'nothing'} besides the bounds", source=source,
                         key=key)
    missing = [k for k in wanted if k not in spec]
    if missing:
        raise InputError(f"{name} needs {', '.join(wanted)}", source=source, key=key)
    nums = []
    for k in wanted:
        v = spec[k]
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise InputError(f"{k} must be a finite number, got {v!r}", source=source, key=key)
        nums.append(float(v))
    if param.integer and name != "unif":
        raise InputError(f"{param.name} is a whole number; only 'unif' is allowed for it (see "
                         "the integer mapping in cluster_abm.analysis.sensitivity.sa_factors)",
                         source=source, key=key)
    if name == "logunif" and low <= 0:
        raise InputError(f"logunif needs a positive lower bound, got {low}", source=source,
                         key=key)
    if name == "triang":
        return name, (low, high, nums[0])
    if name == "truncnorm":
        return name, (low, high, nums[0], nums[1])
    return name, (low, high)


def problem_from_registry(
    names: Sequence[str],
    bounds: Mapping[str, Sequence[float]] | None = None,
    groups: Mapping[str, Sequence[str]] | None = None,
    dists: Mapping[str, Any] | None = None,
    *,
    span: float | None = None,
    source: str | None = None,
) -> SAProblem:
    """The SALib problem of registry parameters ``names``.

    Bounds default to the registry's; ``bounds`` may narrow them (``{name: [low, high]}``, inside
    the registry's range). ``groups`` maps a factor label to its parameters (parameters in no
    group are their own factor). ``dists`` maps a name to ``"logunif"`` or a table such as
    ``{"dist": "triang", "peak": 0.3}`` / ``{"dist": "truncnorm", "mean": m, "sd": s}``;
    default uniform. ``span`` narrows every parameter without explicit bounds to a factor of
    ``span`` around its default (:func:`span_bounds`). Every problem is an
    :class:`InputError` naming ``source`` and the key.
    """
    names = list(names)
    if not names:
        raise InputError("needs at least one parameter", source=source, key="parameters")
    if span is not None and (isinstance(span, bool) or not isinstance(span, int | float)
                             or not 1 < span < math.inf):
        raise InputError(f"must be a number above 1, got {span!r}", source=source, key="span")
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise InputError(f"lists {', '.join(dup)} twice", source=source, key="parameters")
    params = []
    for n in names:
        p = _lookup(n, source, "parameters")
        why = eligible(p)
        if why:
            raise InputError(f"parameter {n!r} {why}", source=source, key="parameters")
        params.append(p)
    bounds = dict(bounds or {})
    dists = dict(dists or {})
    for table, key in ((bounds, "bounds"), (dists, "distributions")):
        for n in table:
            if n not in names:
                hint = closest(n, names) if n in REGISTRY else closest(n, REGISTRY.params)
                raise InputError(f"{n!r} is not one of the study's parameters; {hint}",
                                 source=source, key=f"{key}.{n}")
    salib_bounds, salib_dists = [], []
    for p in params:
        low, high = _check_bounds(p, bounds.get(p.name), source, span)
        dist, b = _dist_bounds(p, low, high, dists.get(p.name), source,
                               f"distributions.{p.name}")
        salib_bounds.append(b)
        salib_dists.append(dist)
    labels = _group_labels(names, groups, source)
    try:
        return SAProblem(
            names=tuple(names),
            bounds=tuple(salib_bounds),
            dists=None if set(salib_dists) == {"unif"} else tuple(salib_dists),
            groups=labels,
        )
    except ValueError as exc:  # e.g. a truncnorm sd <= 0: SAProblem's one-line reason
        raise InputError(str(exc), source=source, key="distributions") from None


def span_bounds(p: Param, span: float | None) -> tuple[float, float]:
    """Registry bounds, narrowed to ``[default / span, default * span]`` when ``span`` is given.

    Why: some registry ranges are validity limits (a budget up to 1e6 k€/yr when the default is
    2,500), and a uniform draw over them would put nearly every run far from any calibrated
    world. A span says "uncertain by a factor of ``span`` either way" for every parameter at
    once. A negative default is uncertain by the same factor in magnitude and keeps its sign
    (``[default * span, default / span]``): the sign is what the literature fixes (entrants
    below their template, a logit's intercept), and a range across zero changes the model's
    regime (entrants above their parent compound through generations of spin-offs). A default
    of 0 keeps the registry's range (a factor means nothing for it); integers are narrowed to
    whole numbers inside the span.
    """
    low, high = float(p.low), float(p.high)
    if span is None or p.default == 0:
        return low, high
    lo, hi = sorted((p.default / span, p.default * span))
    if p.integer:
        lo, hi = math.ceil(lo), math.floor(hi)
    lo, hi = max(low, lo), min(high, hi)
    return (float(lo), float(hi)) if lo < hi else (low, high)


def _check_bounds(p: Param, raw: Any, source: str | None,
                  span: float | None = None) -> tuple[float, float]:
    key = f"bounds.{p.name}"
    if raw is None:
        return span_bounds(p, span)
    if (isinstance(raw, str | bytes) or not isinstance(raw, Sequence) or len(raw) != 2
            or any(isinstance(v, bool) or not isinstance(v, int | float) for v in raw)):
        raise InputError(f"must be [low, high], got {raw!r}", source=source, key=key)
    return check_bounds(raw[0], raw[1], source, key, limits=(p.low, p.high), unit=p.unit,
                        whole=p.integer)


def _group_labels(names: list[str], groups: Mapping[str, Sequence[str]] | None,
                  source: str | None) -> tuple[str, ...] | None:
    """One factor label per parameter: its group's, else its own name."""
    if not groups:
        return None
    label: dict[str, str] = {}
    for g, members in groups.items():
        key = f"groups.{g}"
        if not isinstance(g, str) or not g.strip():
            raise InputError("group labels must be non-empty strings", source=source, key=key)
        if g in names:
            raise InputError(f"group label {g!r} is also a parameter name; choose another",
                             source=source, key=key)
        if (isinstance(members, str) or not isinstance(members, Sequence) or not members
                or not all(isinstance(m, str) for m in members)):
            raise InputError("must be a non-empty list of parameter names", source=source,
                             key=key)
        for m in members:
            if m not in names:
                hint = closest(m, names) if m in REGISTRY else closest(m, REGISTRY.params)
                raise InputError(f"{m!r} is not one of the study's parameters; {hint}",
                                 source=source, key=key)
            if m in label:
                raise InputError(f"{m!r} is already in group {label[m]!r}", source=source,
                                 key=key)
            label[m] = g
    return tuple(label.get(n, n) for n in names)


def integer_value(param: Param, x: float, low: float, high: float) -> int:
    """The whole number the model gets for design value ``x`` (see the module docstring)."""
    width = int(round(high - low)) + 1
    u = (float(x) - low) / (high - low)
    k = min(max(int(math.floor(u * width)), 0), width - 1)
    return int(round(low)) + k


def model_values(problem: SAProblem, X: np.ndarray) -> list[dict[str, float | int]]:
    """Design rows → parameter overrides for the model (integers mapped, floats as floats).

    Values are clipped into the registry's range, which only changes round-off at the ends.
    """
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] != problem.num_vars:
        raise ValueError(f"X must have shape (n_points, {problem.num_vars}), got {X.shape}")
    params = [REGISTRY[n] for n in problem.names]
    out = []
    for row in X:
        point: dict[str, float | int] = {}
        for p, b, x in zip(params, problem.bounds, row, strict=True):
            if p.integer:
                point[p.name] = integer_value(p, x, b[0], b[1])
            else:
                point[p.name] = float(min(max(float(x), p.low), p.high))
        out.append(point)
    return out
