"""Rounding to whole numbers without bias: counts of people and places are integers, and rounding
a fractional expectation to the nearest integer would lose small flows (a region expecting 0.3
graduates a step would never get one)."""

from __future__ import annotations

import numpy as np


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
