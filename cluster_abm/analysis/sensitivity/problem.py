"""The sensitivity-analysis problem: which inputs vary, over what distribution, in which groups.

`SAProblem` is the single place where input specifications are checked, so that a bad bound
fails at construction with a one-line message naming the parameter instead of deep inside a
SALib sampler with a multi-line error (or, worse, silently: SALib's uniform scaling accepts
``low == high`` in some code paths).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# How many numbers each SALib distribution takes in its ``bounds`` entry (SALib 1.6,
# ``SALib.util._nonuniform_scale_samples``). The two-number "triang" form is deprecated there,
# so only the explicit three-number form (start, end, peak fraction) is accepted here.
_DIST_ARITY: dict[str, tuple[int, ...]] = {
    "unif": (2,),
    "logunif": (2,),
    "triang": (3,),
    "norm": (2,),
    "truncnorm": (4,),
    "lognorm": (2,),
    "weibull": (2, 3),
}
DISTRIBUTIONS: tuple[str, ...] = tuple(sorted(_DIST_ARITY))


def _dist_error(dist: str, b: tuple[float, ...]) -> str | None:
    """Return why ``b`` is not a valid parameterisation of ``dist`` (None if it is).

    Mirrors the checks SALib performs while scaling, so that they happen up front.
    """
    if dist == "unif" and not b[0] < b[1]:
        return f"needs low < high, got [{b[0]:g}, {b[1]:g}]"
    if dist == "logunif" and not 0 < b[0] < b[1]:
        return f"needs 0 < low < high, got [{b[0]:g}, {b[1]:g}]"
    if dist == "triang":
        start, end, peak = b
        if not start < end:
            return f"needs start < end, got [{start:g}, {end:g}]"
        if not 0 <= peak < 1:
            return f"needs the peak fraction in [0, 1), got {peak:g}"
        if end < 0:  # SALib 1.6 rejects a negative end point of a triangular distribution
            return f"needs end >= 0 (a SALib 1.6 restriction), got {end:g}"
    if dist in ("norm", "lognorm") and not b[1] > 0:
        return f"needs a standard deviation > 0, got {b[1]:g}"
    if dist == "truncnorm":
        if not b[0] < b[1]:
            return f"needs low < high, got [{b[0]:g}, {b[1]:g}]"
        if not b[3] > 0:
            return f"needs a standard deviation > 0, got {b[3]:g}"
    if dist == "weibull" and not (b[0] > 0 and b[1] > 0):
        return f"needs shape > 0 and scale > 0, got [{b[0]:g}, {b[1]:g}]"
    return None


def _as_bound(name: str, dist: str, raw: Any) -> tuple[float, ...]:
    """Convert one bounds entry to a tuple of finite floats, checking its length for ``dist``."""
    try:
        values = tuple(float(v) for v in raw)
    except (TypeError, ValueError):
        raise ValueError(
            f"bounds for {name!r} must be a sequence of numbers, got {raw!r}"
        ) from None
    arity = _DIST_ARITY[dist]
    if len(values) not in arity:
        want = " or ".join(str(a) for a in arity)
        raise ValueError(
            f"bounds for {name!r} ({dist}) need {want} numbers, got {len(values)}: {list(values)}"
        )
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"bounds for {name!r} must be finite, got {list(values)}")
    problem = _dist_error(dist, values)
    if problem:
        raise ValueError(f"bounds for {name!r} ({dist}) {problem}")
    return values


def _as_tuple(raw: Any, what: str) -> tuple:
    """Accept lists, tuples and numpy arrays alike, but not a bare string (a common slip)."""
    if isinstance(raw, str | bytes | Mapping):
        raise ValueError(f"{what} must be a sequence with one entry per parameter, got {raw!r}")
    try:
        return tuple(raw)
    except TypeError:
        raise ValueError(f"{what} must be a sequence, got {type(raw).__name__}") from None


@dataclass(frozen=True)
class SAProblem:
    """Inputs of a sensitivity analysis, validated once and convertible to SALib's dict.

    ``bounds`` are interpreted per distribution as SALib does: ``unif``/``logunif`` take
    (low, high); ``norm``/``lognorm`` take (mean, sd) (ln-space for lognorm); ``triang`` takes
    (start, end, peak fraction); ``truncnorm`` takes (low, high, mean, sd); ``weibull`` takes
    (shape, scale[, loc]). ``groups`` (one label per parameter) makes Sobol and Morris report one
    index per group ("factor") instead of per parameter.
    """

    names: tuple[str, ...]
    bounds: tuple[tuple[float, ...], ...]
    dists: tuple[str, ...] | None = None
    groups: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        names = self._check_names(self.names)
        dists = self._check_dists(self.dists, names)
        raw_bounds = _as_tuple(self.bounds, "bounds")
        if len(raw_bounds) != len(names):
            raise ValueError(f"got {len(raw_bounds)} bounds for {len(names)} names")
        bounds = tuple(
            _as_bound(n, dists[i] if dists else "unif", b)
            for i, (n, b) in enumerate(zip(names, raw_bounds, strict=True))
        )
        groups = self._check_groups(self.groups, names)
        object.__setattr__(self, "names", names)
        object.__setattr__(self, "bounds", bounds)
        object.__setattr__(self, "dists", dists)
        object.__setattr__(self, "groups", groups)

    @staticmethod
    def _check_names(raw: Any) -> tuple[str, ...]:
        """Names must be unique non-empty strings: they key the result tables and model calls."""
        names = _as_tuple(raw, "names")
        if not names:
            raise ValueError("names must be a non-empty sequence of strings, got none")
        bad = [n for n in names if not isinstance(n, str) or not n.strip()]
        if bad:
            raise ValueError(f"names must be non-empty strings, got {bad!r}")
        names = tuple(str(n) for n in names)  # numpy.str_ -> str
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"duplicated parameter names: {', '.join(dupes)}")
        return names

    @staticmethod
    def _check_dists(raw: Any, names: tuple[str, ...]) -> tuple[str, ...] | None:
        """Distributions are optional (uniform) but, if given, one known name per parameter."""
        if raw is None:
            return None
        dists = tuple(str(d) for d in _as_tuple(raw, "dists"))
        if len(dists) != len(names):
            raise ValueError(f"got {len(dists)} dists for {len(names)} names")
        unknown = sorted({d for d in dists if d not in _DIST_ARITY})
        if unknown:
            raise ValueError(
                f"unknown distribution(s) {', '.join(unknown)}; "
                f"choose from {', '.join(DISTRIBUTIONS)}"
            )
        return dists

    @staticmethod
    def _check_groups(raw: Any, names: tuple[str, ...]) -> tuple[str, ...] | None:
        """Groups are optional, but if given there must be one non-empty label per parameter."""
        if raw is None:
            return None
        groups = _as_tuple(raw, "groups")
        if len(groups) != len(names):
            raise ValueError(f"got {len(groups)} groups for {len(names)} names")
        if any(not isinstance(g, str) or not g.strip() for g in groups):
            raise ValueError(f"group labels must be non-empty strings, got {list(groups)!r}")
        return tuple(str(g) for g in groups)

    @property
    def num_vars(self) -> int:
        """Number of input parameters (columns of the design matrix)."""
        return len(self.names)

    @property
    def factor_names(self) -> tuple[str, ...]:
        """Labels indices are reported for: unique groups in first-seen order, else the names."""
        if self.groups is None:
            return self.names
        return tuple(dict.fromkeys(self.groups))

    def to_salib(self) -> dict[str, Any]:
        """Return a fresh SALib problem dict (fresh because SALib functions mutate it)."""
        out: dict[str, Any] = {
            "num_vars": self.num_vars,
            "names": list(self.names),
            "bounds": [list(b) for b in self.bounds],
        }
        if self.dists is not None:
            out["dists"] = list(self.dists)
        if self.groups is not None:
            out["groups"] = list(self.groups)
        return out

    @classmethod
    def from_salib(cls, problem: Mapping[str, Any]) -> SAProblem:
        """Build from a SALib-style dict, so existing problem files can be reused."""
        if "names" not in problem or "bounds" not in problem:
            raise ValueError("a SALib problem dict needs 'names' and 'bounds'")
        if "num_vars" in problem and problem["num_vars"] != len(problem["names"]):
            raise ValueError(
                f"num_vars is {problem['num_vars']} but there are {len(problem['names'])} names"
            )
        return cls(
            names=problem["names"],
            bounds=problem["bounds"],
            dists=problem.get("dists"),
            groups=problem.get("groups") or None,
        )
