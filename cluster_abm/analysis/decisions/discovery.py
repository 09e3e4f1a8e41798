"""Scenario discovery: in which worlds does a package miss its target?

For one package and one target ("at least 500 jobs in North-East Romania"), each world of the
ensemble is a case: its uncertain factors (drivers and parameters) and whether the package
misses the target there (on the replicate mean). The Patient Rule Induction Method (PRIM;
Friedman & Fisher 1999), as used for scenario discovery by Bryant & Lempert (2010), peels the
space of factors into a box that holds many of the failing worlds (**coverage**: the share of all
failing worlds inside the box) and few others (**density**: the share of worlds inside the box
that fail). Peeling further trades coverage for density; the **peeling trajectory** shows each
step's box, and the report marks the one chosen -- by default the box with the best balance of
the two (the largest harmonic mean of coverage and density), or the one a file or the command
line names -- and states it as a rule in plain words: "when growth of external demand is under
0.5 % a year and the pull of wages abroad is above 2 % a year".

The PRIM implementation is the ``PRIM`` package of Project Platypus (Hadka 2024), the
EMA Workbench's algorithm (Kwakkel 2017) as a 56 kB package that depends only on numpy, pandas,
scipy, matplotlib and mplcursors. The EMA Workbench itself (``ema_workbench`` 2.5.3, the newest
that installs on Python 3.11) was measured as the alternative: 11 packages and 158 MB installed
(scikit-learn, statsmodels, seaborn, Platypus-Opt among them), 3.7 s to import its PRIM module
against 1.3 s, and a warning on import without ipyparallel; on the same synthetic data both give
the same peeling trajectory to the last digit. CART was not needed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

SIGNIFICANT = 0.05  # a restriction whose quasi-p-value is below this is unlikely to be chance


@dataclass
class Discovery:
    """The result of one scenario-discovery question."""

    n_worlds: int
    n_cases: int  # worlds where the package misses the target
    trajectory: pd.DataFrame  # box, coverage, density, mass, restricted (dimensions)
    chosen: int | None  # index of the chosen box on the trajectory
    limits: pd.DataFrame = field(default_factory=pd.DataFrame)  # factor, low, high, qp, ...
    rule: str = ""
    coverage: float = math.nan
    density: float = math.nan
    note: str = ""


def balanced_box(trajectory: pd.DataFrame) -> int:
    """The trajectory's box with the largest harmonic mean of coverage and density (ties: the
    one with fewer restricted dimensions, then the earlier)."""
    c = trajectory["coverage"].to_numpy(dtype=float)
    d = trajectory["density"].to_numpy(dtype=float)
    f = np.where(c + d > 0, 2 * c * d / np.where(c + d > 0, c + d, 1.0), 0.0)
    best = np.flatnonzero(np.isclose(f, f.max(), rtol=0, atol=1e-12))
    dims = trajectory["restricted"].to_numpy()[best]
    return int(best[np.argmin(dims)])


def discover(x: pd.DataFrame, cases: np.ndarray, *, labels: dict[str, tuple[str, str]] | None
             = None, threshold: float = 0.8, peel_alpha: float = 0.05, box: int | None = None
             ) -> Discovery:
    """PRIM on worlds ``x`` (one column per factor) with ``cases`` (True where the package misses
    its target). ``labels``: {column: (label, unit)} for the rule's words; ``box``: the index on
    the peeling trajectory to report (default :func:`balanced_box`)."""
    import prim

    cases = np.asarray(cases, dtype=bool)
    n, k = len(cases), int(cases.sum())
    if n == 0:
        return Discovery(0, 0, _empty(), None, note="no worlds to analyse")
    if k == 0:
        return Discovery(n, 0, _empty(), None, note="the package meets the target in every "
                                                     "world: there is nothing to discover")
    if k == n:
        return Discovery(n, k, _empty(), None, note="the package misses the target in every "
                                                     "world: no condition separates failing "
                                                     "worlds from others")
    x = x.reset_index(drop=True).astype(float)
    p = prim.Prim(x, cases, threshold=threshold, threshold_type=">", peel_alpha=peel_alpha)
    found = p.find_box()
    traj = found.peeling_trajectory.reset_index(drop=True)
    trajectory = pd.DataFrame({"box": np.arange(len(traj)),
                               "coverage": traj["coverage"].to_numpy(dtype=float),
                               "density": traj["density"].to_numpy(dtype=float),
                               "mass": traj["mass"].to_numpy(dtype=float),
                               "restricted": traj["res dim"].to_numpy(dtype=int)})
    if box is None:
        chosen = balanced_box(trajectory)
    elif not 0 <= box < len(trajectory):
        raise ValueError(f"box {box} is not on the peeling trajectory (0 to "
                         f"{len(trajectory) - 1})")
    else:
        chosen = int(box)
    found.select(chosen)
    limits = _limits(found, p, chosen)
    rule = rule_text(limits, labels or {})
    note = ""
    if len(limits) and not (limits["qp"] < SIGNIFICANT).any():
        note = (f"no restriction of this box is significant (every quasi-p-value is at least "
                f"{SIGNIFICANT:g}): with {n} worlds it may be chance; add worlds or pick a box "
                "with fewer restrictions")
    return Discovery(n, k, trajectory, chosen, limits, rule,
                     float(trajectory["coverage"].iloc[chosen]),
                     float(trajectory["density"].iloc[chosen]), note)


def _empty() -> pd.DataFrame:
    return pd.DataFrame(columns=["box", "coverage", "density", "mass", "restricted"])


def _limits(found, p, i: int) -> pd.DataFrame:
    """The chosen box's restricted factors: low and high of the box and of the data, and the
    quasi-p-value of each restriction (Bryant & Lempert 2010)."""
    init = p._box_init  # the data's range: what a box restricts
    lims = found._box_lims[i]
    qp = found._calculate_quasi_p(i)
    rows = []
    for name in lims.dtype.names:
        lo, hi = float(lims[name][0]), float(lims[name][1])
        dlo, dhi = float(init[name][0]), float(init[name][1])
        if lo > dlo or hi < dhi:
            rows.append({"factor": name, "low": lo, "high": hi, "data_low": dlo,
                         "data_high": dhi, "restricts_low": lo > dlo, "restricts_high": hi < dhi,
                         "qp": float(qp.get(name, math.nan))})
    out = pd.DataFrame(rows, columns=["factor", "low", "high", "data_low", "data_high",
                                      "restricts_low", "restricts_high", "qp"])
    return out.sort_values("qp", kind="stable").reset_index(drop=True)


def value_text(x: float, unit: str) -> str:
    """A factor's value with its unit; yearly rates and shares in per cent."""
    u = (unit or "").strip()
    if u in ("1/yr", "per year", "/yr", "a year"):
        return f"{100 * x:.2g} % a year"
    if u in ("share", "-/1", "fraction"):
        return f"{100 * x:.2g} %"
    text = f"{x:.3g}"
    return f"{text} {u}" if u and u != "-" else text


def rule_text(limits: pd.DataFrame, labels: dict[str, tuple[str, str]]) -> str:
    """The box as words: "when A is under a and B is above b (and C is between c1 and c2)"."""
    if limits.empty:
        return "in any world (the box restricts nothing)"
    parts = []
    for _, r in limits.iterrows():
        label, unit = labels.get(r["factor"], (r["factor"], ""))
        if r["restricts_low"] and r["restricts_high"]:
            parts.append(f"{label} is between {value_text(r['low'], unit)} and "
                         f"{value_text(r['high'], unit)}")
        elif r["restricts_high"]:
            parts.append(f"{label} is under {value_text(r['high'], unit)}")
        else:
            parts.append(f"{label} is above {value_text(r['low'], unit)}")
    return "when " + " and ".join(parts)
