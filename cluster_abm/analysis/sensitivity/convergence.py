"""Are the indices stable? Recompute them on growing sub-designs and over simulated time.

Both functions return tidy tables (one row per factor, index and size/time) so that plots,
reports and further checks need no knowledge of the method.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from cluster_abm.analysis.sensitivity.layout import truncate_design
from cluster_abm.analysis.sensitivity.methods import analyze
from cluster_abm.analysis.sensitivity.noise import as_replicate_matrix
from cluster_abm.analysis.sensitivity.problem import SAProblem
from cluster_abm.analysis.sensitivity.sampling import check_method, n_base

# Smallest sub-design worth analysing: bootstraps need >= 2 blocks/trajectories, and the
# given-data estimators (PAWN slices, delta's kernel densities) need some rows per slice.
_MIN_BASE = {"sobol": 2, "morris": 2, "pawn": 20, "delta": 20}


def _check_fractions(fractions: Sequence[float]) -> list[float]:
    """Fractions must lie in (0, 1]; duplicates are dropped and the order made increasing."""
    fr = sorted({float(f) for f in fractions})
    if not fr or fr[0] <= 0 or fr[-1] > 1:
        raise ValueError(f"fractions must be in (0, 1], got {list(fractions)}")
    return fr


def convergence(
    problem: SAProblem,
    method: str,
    X: object,
    Y: object,
    seed: int,
    fractions: Sequence[float] = (1 / 8, 1 / 4, 1 / 2, 1),
    *,
    calc_second_order: bool = True,
    **options: Any,
) -> pd.DataFrame:
    """Indices on the first ``fraction`` of the base samples: columns n, n_runs, param, index,
    value, conf (``n`` = base samples, ``n_runs`` = model runs incl. replicates). ``options``
    go to :func:`.methods.analyze` (``conf_level``, ``num_resamples``, ``num_levels``,
    ``pawn_slices``, ``thresholds``).

    Truncation keeps each sub-design valid (see :func:`.layout.truncate_design`): whole Saltelli
    blocks (for a power-of-two N and power-of-two fractions, exactly SALib's design of that
    size), whole Morris trajectories, or the first rows of a shuffled Latin hypercube. Nested
    sub-designs make the curves reflect sample size rather than sampling luck.
    """
    method = check_method(method)
    Xa = np.asarray(X, dtype=float)
    if Xa.ndim != 2:
        raise ValueError(f"X must be a 2-D array, got shape {Xa.shape}")
    Yr = as_replicate_matrix(Y, Xa.shape[0])
    total = n_base(problem, method, Xa.shape[0], calc_second_order)
    frames = []
    for f in _check_fractions(fractions):
        k = int(round(f * total))
        if k < _MIN_BASE[method]:
            raise ValueError(
                f"fraction {f:g} of {total} base samples leaves {k}; {method} needs >= "
                f"{_MIN_BASE[method]} (drop small fractions or sample more)"
            )
        rows = truncate_design(problem, method, Xa.shape[0], k, calc_second_order)
        res = analyze(problem, method, Xa[rows], Yr[rows], seed,
                      calc_second_order=calc_second_order, **options)
        long = res.long()
        long.insert(0, "n_runs", res.n_points * res.n_replicates)
        long.insert(0, "n", k)
        frames.append(long)
    return pd.concat(frames, ignore_index=True)


def analyze_series(
    problem: SAProblem,
    method: str,
    X: object,
    Y_t: object,
    seed: int,
    times: Sequence[float] | None = None,
    **options: Any,
) -> pd.DataFrame:
    """Indices at every time step: ``Y_t`` is (n_points, n_replicates, n_times) →
    columns time, param, index, value, conf, plus ``noise_share`` of that time step.
    ``options`` go to :func:`.methods.analyze`.

    Each time step is analysed independently with the same seed, so differences over time come
    from the model, not from the bootstrap. Time steps where the output is constant (e.g.
    before anything happens) get NaN indices rather than an error.
    """
    Yt = np.asarray(Y_t, dtype=float)
    if Yt.ndim != 3:
        raise ValueError(f"Y_t must have shape (n_points, n_replicates, n_times), got {Yt.shape}")
    labels = list(range(Yt.shape[2])) if times is None else list(times)
    if len(labels) != Yt.shape[2]:
        raise ValueError(f"got {len(labels)} times for {Yt.shape[2]} time steps")
    frames = []
    for t, label in enumerate(labels):
        res = analyze(problem, method, X, Yt[:, :, t], seed, **options)
        long = res.long()
        long.insert(0, "time", label)
        long["noise_share"] = res.noise["noise_share"]
        frames.append(long)
    return pd.concat(frames, ignore_index=True)
