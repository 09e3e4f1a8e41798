"""Enough replicates: add paired replicates until the chosen outcomes are known to a precision.

``cluster-abm compare EXP --precision employment_final_real=500`` runs the experiment, measures
the half-width of each chosen outcome's paired interval (every package against the baseline,
the widest counts), and if any is above its target adds replicates and runs again, until every
target is met or ``--max-replicates`` is reached. New replicates are seeded from the same seed
sequence as the old ones (:mod:`.seeds`: a run's seed depends on its point and replicate only), so
every replicate keeps its common random numbers and the stored runs are reused: the store grows
(:func:`~cluster_abm.experiments.experiment_spec.same_but_replicates`), and a stopped search
resumes where it stopped.

The next number of replicates comes from the half-width's 1/sqrt(n) law: n_next = n x (h /
target)^2 for the outcome furthest from its target, at least one more and at most twice as many
per round (a standard deviation estimated from few pairs is itself uncertain), capped by the
maximum.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from cluster_abm.errors import InputError, closest


@dataclass(frozen=True)
class Width:
    """The widest paired interval of one outcome over the packages."""

    outcome: str
    target: float
    half_width: float  # NaN with fewer than 2 pairs
    arm: str
    pairs: int

    @property
    def met(self) -> bool:
        return math.isfinite(self.half_width) and self.half_width <= self.target


def parse_targets(items: list[str] | None, known: dict, source: str = "--precision") -> dict[str, float]:
    """``["employment_final_real=500", ...]`` -> {outcome: half-width}; one-line errors."""
    out: dict[str, float] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise InputError(f"{item!r} is not OUTCOME=HALFWIDTH (e.g. employment_final_real=500)",
                             key=source)
        if name not in known:
            raise InputError(f"unknown outcome {name!r}; {closest(name, known)}", key=source)
        try:
            width = float(value)
        except ValueError:
            raise InputError(f"{item!r}: the half-width must be a number, got {value!r}",
                             key=source) from None
        if not math.isfinite(width) or width <= 0:
            raise InputError(f"{item!r}: the half-width must be above 0 (in the outcome's unit)",
                             key=source)
        out[name] = width
    return out


def widths(kpi_table, baseline: str, targets: dict[str, float], level: float) -> list[Width]:
    """Half-widths of the paired intervals of each target outcome, the widest over the arms.

    ``kpi_table`` is :meth:`ExperimentResults.kpi_table`; arms are run ids without replicates.
    """
    kt = kpi_table.copy()
    kt["arm"] = kt["run_id"].str.rsplit("-r", n=1).str[0]
    base = kt[kt["arm"] == baseline].set_index("seed")
    out = []
    for outcome, target in targets.items():
        worst = Width(outcome, target, math.nan, "", 0)
        for arm in dict.fromkeys(kt["arm"]):
            if arm == baseline or outcome not in kt.columns:
                continue
            a = kt[kt["arm"] == arm].set_index("seed")
            seeds = a.index.intersection(base.index)
            d = (a.loc[seeds, outcome] - base.loc[seeds, outcome]).to_numpy(dtype=float)
            d = d[np.isfinite(d)]
            n = len(d)
            half = (float(stats.t.ppf(0.5 + level / 2, n - 1)) * float(d.std(ddof=1)) / math.sqrt(n)
                    if n > 1 else math.nan)
            if not math.isfinite(worst.half_width) or (math.isfinite(half) and half > worst.half_width):
                worst = Width(outcome, target, half, arm, n)
        out.append(worst)
    return out


def next_replicates(current: int, found: list[Width], maximum: int) -> int:
    """Replicates for the next round (module docstring); ``current`` when every target is met."""
    if all(w.met for w in found):
        return current
    need = current + 1
    for w in found:
        if w.met:
            continue
        if math.isfinite(w.half_width) and w.target > 0:
            need = max(need, math.ceil(current * (w.half_width / w.target) ** 2))
        else:
            need = max(need, 2 * current)
    return min(maximum, max(current + 1, min(need, 2 * current)))


def progress_line(n: int, found: list[Width], titles: dict[str, str] | None = None) -> str:
    """One line of progress: each target, its half-width now and where it is widest."""
    titles = titles or {}
    parts = []
    for w in found:
        now = "n/a" if not math.isfinite(w.half_width) else f"{w.half_width:,.4g}"
        mark = "met" if w.met else "not yet"
        where = f" ({titles.get(w.arm, w.arm)})" if w.arm else ""
        parts.append(f"{w.outcome} ±{now} for target ±{w.target:,.4g}{where}: {mark}")
    return f"precision after {n} replicates: " + "; ".join(parts)
