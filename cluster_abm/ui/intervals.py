"""Means and 95 % intervals over seeds, for the workshop app's bands, difference charts and tiles.

The app runs the policy and the baseline over the same seeds (common random numbers), so the
effect of the levers in one seed is the paired difference *policy − baseline* of that seed, and
the effect the room is shown is the mean of these differences with its 95 % confidence interval
(Student's t with n − 1 degrees of freedom). A tile is coloured only when that interval excludes
zero; otherwise the difference is "not distinguishable from chance yet". The bands around the
policy and baseline lines are the same kind of interval for each run's mean.

With one seed there is no interval: :func:`summarise` then gives ``lo == hi == mean`` and
:attr:`Estimate.has_interval` is false (the app says "one seed: no interval").
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

LEVEL = 0.95


@lru_cache(maxsize=64)
def t_quantile(n: int, level: float = LEVEL) -> float:
    """The two-sided ``level`` quantile of Student's t for a mean of ``n`` values (n - 1 df)."""
    if n < 2:
        return math.nan
    # the inverse of Student's t distribution function (the same numbers as scipy.stats.t.ppf;
    # scipy.special comes with the model, scipy.stats would slow the first page down)
    from scipy.special import stdtrit

    return float(stdtrit(n - 1, 0.5 + level / 2.0))


@dataclass(frozen=True)
class Estimate:
    """A mean over seeds with its 95 % interval (``lo``, ``hi``); ``n`` seeds."""

    mean: float
    lo: float
    hi: float
    n: int

    @property
    def has_interval(self) -> bool:
        return self.n >= 2 and math.isfinite(self.lo) and math.isfinite(self.hi)

    @property
    def excludes_zero(self) -> bool:
        """True when the interval lies wholly above or below zero (a distinguishable effect)."""
        return self.has_interval and (self.lo > 0.0 or self.hi < 0.0)

    @property
    def sign(self) -> int:
        """+1 / -1 when the interval excludes zero on that side, else 0."""
        if not self.excludes_zero:
            return 0
        return 1 if self.lo > 0.0 else -1


def summarise(values: np.ndarray, level: float = LEVEL) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and interval bounds along the last axis (seeds) of ``values``.

    ``values`` is (..., n) with NaN where a value is undefined (say, a yearly rate at step 0);
    such entries give NaN. With n == 1 the bounds equal the mean.
    """
    v = np.asarray(values, dtype=float)
    n = v.shape[-1]
    mean = v.mean(axis=-1)
    if n < 2:
        return mean, mean.copy(), mean.copy()
    sd = v.std(axis=-1, ddof=1)
    half = t_quantile(n, level) * sd / math.sqrt(n)
    return mean, mean - half, mean + half


def estimate(values: np.ndarray, level: float = LEVEL) -> Estimate:
    """One :class:`Estimate` of a 1-d array of per-seed values."""
    v = np.asarray(values, dtype=float).ravel()
    mean, lo, hi = summarise(v[None, :], level)
    return Estimate(float(mean[0]), float(lo[0]), float(hi[0]), int(v.size))
