"""Replicates of a stochastic model: averaging them and measuring how much seed noise remains.

A stochastic model run at design point i with seed r gives ``Y[i, r] = f(x_i) + e[i, r]``. The
indices are computed on the replicate means ``m_i``, whose variance across points is
``Var(f) + s2 / R`` (``s2``: the within-point, between-seeds variance). The estimators see the
leftover ``s2 / R`` as an extra, unexplained input, so first-order indices shrink by the factor
``Var(f) / (Var(f) + s2 / R)`` and, with Jansen's total-order estimator (SALib's Sobol), every
total-order index gains about ``noise_share``; a dummy input's ST estimates ``noise_share``.
"""

from __future__ import annotations

import numpy as np


def as_replicate_matrix(Y: object, n_points: int) -> np.ndarray:
    """Return Y as a float array of shape (n_points, R), accepting (n_points,) for R = 1."""
    arr = np.asarray(Y, dtype=float)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(
            f"Y must have shape (n_points,) or (n_points, n_replicates), got {arr.shape}"
        )
    if arr.shape[0] != n_points:
        raise ValueError(f"Y has {arr.shape[0]} rows but X has {n_points}")
    if arr.shape[1] < 1:
        raise ValueError("Y has no replicates (zero columns)")
    bad = int(np.count_nonzero(~np.isfinite(arr)))
    if bad:
        raise ValueError(
            f"Y has {bad} non-finite value(s) (NaN/inf); drop or re-run failed points first"
        )
    return arr


def noise_summary(Yr: np.ndarray) -> dict[str, float]:
    """Split the output variance into between-points and between-seeds parts.

    Returns ``var_within`` (mean within-point variance across replicates, ddof=1: the raw
    between-seeds variance of a single run), ``var_between`` (variance of the point means
    across design points: what the indices decompose), ``var_noise_of_mean`` (``var_within /
    R``), ``noise_share`` (``var_noise_of_mean / var_between``: the part of the analysed
    variance that is seed noise) and ``noise_share_single_run`` (the share a single replicate
    would carry, ``var_within / (var_signal + var_within)`` with ``var_signal = var_between -
    var_within / R``). The noise terms are NaN when R = 1: one run per point cannot separate
    noise from signal.
    """
    n_points, reps = Yr.shape
    means = Yr.mean(axis=1)
    var_between = float(np.var(means, ddof=1)) if n_points > 1 else float("nan")
    out = {
        "n_points": float(n_points),
        "n_replicates": float(reps),
        "var_between": var_between,
        "var_within": float("nan"),
        "var_noise_of_mean": float("nan"),
        "noise_share": float("nan"),
        "noise_share_single_run": float("nan"),
    }
    if reps < 2:
        return out
    var_within = float(np.mean(np.var(Yr, axis=1, ddof=1)))
    var_noise = var_within / reps
    var_signal = max(var_between - var_noise, 0.0)
    out["var_within"] = var_within
    out["var_noise_of_mean"] = var_noise
    if var_between > 0:
        out["noise_share"] = var_noise / var_between
    if var_signal + var_within > 0:
        out["noise_share_single_run"] = var_within / (var_signal + var_within)
    return out
