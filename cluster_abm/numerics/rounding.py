"""Rounding to whole numbers without bias: counts of people and places are integers, and rounding
a fractional expectation to the nearest integer would lose small flows (a region expecting 0.3
graduates a step would never get one)."""

from __future__ import annotations

import numpy as np

from cluster_abm.numerics.grouping import group_starts

_GUARD = 1e-6


def keyed_round(u: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``floor(x) + (u < x - floor(x))`` as int64, with given uniforms ``u`` (keyed draws, see
    :mod:`cluster_abm.numerics.keyed_random`): on average ``x``."""
    x = np.asarray(x, dtype=float)
    fl = np.floor(x)
    return (fl + (u < (x - fl))).astype(np.int64)


def stochastic_round(rng: np.random.Generator, x: np.ndarray) -> np.ndarray:
    """:func:`keyed_round` with ``u = rng.random(x.shape)``: ``floor(x) + Bernoulli(frac(x))``."""
    x = np.asarray(x, dtype=float)
    return keyed_round(rng.random(x.shape), x)


def systematic_round(u: np.ndarray, x: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Integers that add up, per group, to ``floor(sum(x) + u[group])`` (exactly ``sum(x)`` when
    that sum is a whole number) with each element ``floor(x)`` or ``floor(x) + 1`` and on
    average ``x``: systematic sampling along the cumulative sum within each group (Madow 1949),
    one uniform ``u[g]`` per group. Elements are taken in their given order within a group."""
    x = np.asarray(x, dtype=float)
    group = np.asarray(group, dtype=np.int64)
    # Numerical guard: a whole-number total summed in floating point may miss its integer by
    # ~1e-12; keeping u off 0 and 1 by far more than that makes such totals come out exact.
    u = np.clip(np.asarray(u, dtype=float), _GUARD, 1.0 - _GUARD)
    order = np.argsort(group, kind="stable")
    xs, gs = x[order], group[order]
    cum = np.cumsum(xs)
    start = group_starts(gs)  # first position of each element's group
    base = np.concatenate([[0.0], cum])[start]
    hi = np.floor(cum - base + u[gs])
    lo = np.floor(cum - xs - base + u[gs])
    out = np.empty(len(x), dtype=np.int64)
    out[order] = (hi - lo).astype(np.int64)
    return out
