"""Small helpers shared by mechanisms: hazards, knowledge profiles, cognitive distance."""

from __future__ import annotations

import numpy as np


def hazard_draw(rng: np.random.Generator, rate: np.ndarray) -> np.ndarray:
    """Bernoulli draws for per-step hazards ``rate`` (P = 1 - exp(-rate))."""
    rate = np.asarray(rate, dtype=float)
    return rng.random(rate.shape) < -np.expm1(-rate)


def hazard(u: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """Events for per-step hazards ``rate`` given uniforms ``u`` (keyed draws, see randomness)."""
    return u < -np.expm1(-np.asarray(rate, dtype=float))


def profiles(knowledge: np.ndarray) -> np.ndarray:
    """Knowledge profiles: each row's shares over technology fields (rows of zeros stay zero)."""
    total = knowledge.sum(axis=1, keepdims=True)
    return np.divide(knowledge, total, out=np.zeros_like(knowledge), where=total > 0)


def cognitive_distance(p_a: np.ndarray, p_b: np.ndarray) -> np.ndarray:
    """Half the L1 distance between knowledge profiles: 0 identical, 1 disjoint."""
    return 0.5 * np.abs(p_a - p_b).sum(axis=-1)


def novelty_value(distance: np.ndarray, optimum: float) -> np.ndarray:
    """Inverted U in cognitive distance (Nooteboom et al. 2007): (d/d*) exp(1 - d/d*), peak 1 at d*.

    Too close a partner teaches nothing new; too far a partner cannot be understood.
    """
    r = np.asarray(distance) / optimum
    return r * np.exp(1.0 - r)
