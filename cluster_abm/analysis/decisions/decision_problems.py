"""Analytic test problems for the search, evaluated on the model's own path
(:func:`.package_eval.evaluate_task`): a search file with ``target =
"cluster_abm.analysis.decisions.decision_problems:zdt1"`` and ``[variables] x1 .. xn`` in [0, 1].

ZDT1 (Zitzler, Deb & Thiele 2000): minimise f1 = x1 and f2 = g (1 - sqrt(f1 / g)) with
g = 1 + 9 mean(x2 .. xn); the Pareto front is f2 = 1 - sqrt(f1), f1 in [0, 1] (x2 .. xn = 0), a
convex curve whose ends test whether a search spreads along the front.
"""

from __future__ import annotations

import math

import numpy as np


def zdt1(values: dict[str, float], seed: int) -> dict[str, float]:
    """ZDT1 on the variables sorted by name (x1 first); ``seed`` is not used."""
    x = [float(values[k]) for k in sorted(values)]
    f1 = x[0]
    g = 1.0 + 9.0 * (sum(x[1:]) / len(x[1:]) if len(x) > 1 else 0.0)
    return {"f1": f1, "f2": g * (1.0 - math.sqrt(f1 / g))}


def zdt1_noisy(values: dict[str, float], seed: int) -> dict[str, float]:
    """ZDT1 with Gaussian noise of sd 0.02 on both objectives, drawn from ``seed``: replicate
    means over common seeds must still find the front."""
    rng = np.random.default_rng(seed)
    f = zdt1(values, seed)
    return {k: v + 0.02 * float(rng.standard_normal()) for k, v in f.items()}


def zdt1_front(f1: np.ndarray) -> np.ndarray:
    """The true Pareto front of ZDT1: f2 at ``f1``."""
    return 1.0 - np.sqrt(np.asarray(f1, dtype=float))
