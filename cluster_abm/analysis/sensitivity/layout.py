"""Checking that a design has the row layout its method assumes, and truncating it validly.

SALib's Sobol and Morris analysers infer the structure of X from row positions alone; a design
sampled with a different ``calc_second_order``, shuffled, or mixed with other runs silently
gives wrong indices. These checks rebuild the expected structure from X itself (see the layout
description in :mod:`.sampling`), which also verifies the block-truncation used for convergence.
"""

from __future__ import annotations

import numpy as np

from cluster_abm.analysis.sensitivity.problem import SAProblem
from cluster_abm.analysis.sensitivity.sampling import LATIN_METHODS, block_size, n_base


def _membership(problem: SAProblem) -> np.ndarray:
    """Boolean (num_vars, n_factors) matrix: which parameters move with which factor."""
    factors = problem.factor_names
    labels = problem.groups if problem.groups is not None else problem.names
    return np.array([[lab == f for f in factors] for lab in labels], dtype=bool)


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    """Equality up to round-off, tolerant of designs that went through a text file."""
    return bool(np.allclose(a, b, rtol=1e-9, atol=1e-12))


def check_sobol_layout(problem: SAProblem, X: np.ndarray, calc_second_order: bool) -> None:
    """Raise if X is not a Saltelli design (A, AB_k..., [BA_k...], B blocks) for this problem."""
    member = _membership(problem)
    g = member.shape[1]
    size = block_size(problem, "sobol", calc_second_order)
    blocks = X.reshape(n_base(problem, "sobol", X.shape[0], calc_second_order), size, -1)
    A, B = blocks[:, 0, :], blocks[:, -1, :]
    for k in range(g):
        moved = member[:, k]
        if not _close(blocks[:, 1 + k, :], np.where(moved, B, A)):
            break
        if calc_second_order and not _close(blocks[:, 1 + g + k, :], np.where(moved, A, B)):
            break
    else:
        return
    raise ValueError(
        f"X is not a Saltelli design with calc_second_order={calc_second_order} for these "
        f"factors (blocks of {size} rows); was it sampled with other options or reordered?"
    )


def check_morris_layout(problem: SAProblem, X: np.ndarray) -> None:
    """Raise unless every trajectory moves each factor exactly once, one factor per step."""
    member = _membership(problem).astype(int)
    size = block_size(problem, "morris")
    traj = X.reshape(n_base(problem, "morris", X.shape[0]), size, -1)
    changed = ~np.isclose(traj[:, 1:, :], traj[:, :-1, :], rtol=1e-9, atol=1e-12)
    moved = (changed.astype(int) @ member) > 0  # (trajectory, step, factor)
    if not (np.all(moved.sum(axis=2) == 1) and np.all(moved.sum(axis=1) == 1)):
        raise ValueError(
            f"X is not a Morris design for these factors (trajectories of {size} rows, one "
            "factor moving per step); was it reordered or sampled for another problem?"
        )


def check_layout(problem: SAProblem, method: str, X: np.ndarray, calc_second_order: bool) -> int:
    """Validate X for ``method`` and return its number of base samples."""
    if method == "sobol":
        check_sobol_layout(problem, X, calc_second_order)
    elif method == "morris":
        check_morris_layout(problem, X)
    return n_base(problem, method, X.shape[0], calc_second_order)


def truncate_design(
    problem: SAProblem, method: str, n_rows: int, k: int, calc_second_order: bool = True
) -> slice:
    """Rows forming a valid design with the first ``k`` base samples.

    Sobol: the first k Saltelli blocks (the same rows SALib would draw with N = k and the same
    seed, since the scrambled Sobol' sequence is extended, not redrawn, when N grows). Morris:
    the first k whole trajectories. PAWN/delta: the first k rows, a uniformly random subset
    because SALib shuffles each Latin-hypercube column (the subset is no longer stratified, but
    still a sample from the input distribution, which is all these given-data estimators need).
    """
    total = n_base(problem, method, n_rows, calc_second_order)
    if not 1 <= k <= total:
        raise ValueError(f"cannot take {k} base samples from a design with {total}")
    size = 1 if method in LATIN_METHODS else block_size(problem, method, calc_second_order)
    return slice(0, k * size)
