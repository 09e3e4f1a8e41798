"""Designs of experiments for each method, drawn with SALib's samplers.

Row layouts (they matter for :mod:`.convergence` and for checking a design before analysis):

* ``sobol``: SALib's Saltelli scheme lays out one *block* per base sample: row ``A``, then the
  ``G`` rows ``AB_k`` (A with factor k taken from B), then, with second order, the ``G`` rows
  ``BA_k`` (B with factor k taken from A), then row ``B``: ``2G + 2`` rows per block (``G + 2``
  without second order), ``G`` = number of factors (groups, or parameters). The base points come
  from a scrambled Sobol' sequence, whose first ``k`` points do not depend on how many are drawn,
  so the first ``k`` blocks of a design of size N *are* the design of size k with the same seed.
* ``morris``: ``n`` trajectories of ``G + 1`` rows, each moving one factor per step.
* ``pawn`` / ``delta``: a Latin hypercube of ``n`` rows whose row order is random.
"""

from __future__ import annotations

import numbers

import numpy as np
from SALib.sample import latin as latin_sampler
from SALib.sample import morris as morris_sampler
from SALib.sample import sobol as sobol_sampler

from cluster_abm.analysis.sensitivity.problem import SAProblem
from cluster_abm.analysis.sensitivity.seeding import check_seed

METHODS: tuple[str, ...] = ("delta", "morris", "pawn", "sobol")
LATIN_METHODS: frozenset[str] = frozenset({"pawn", "delta"})


def check_method(method: object) -> str:
    """Return the method name or raise a one-line ValueError listing the valid ones."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of: {', '.join(METHODS)}")
    return str(method)


def check_count(n: object, what: str, minimum: int = 2) -> int:
    """Sample sizes must be plain integers >= ``minimum`` (bootstraps need at least two)."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or int(n) < minimum:
        raise ValueError(f"{what} must be an integer >= {minimum}, got {n!r}")
    return int(n)


def check_sobol_n(n: int) -> int:
    """Sobol' base samples must be a power of two: only then is the scrambled net balanced."""
    n = check_count(n, "Sobol N")
    if n & (n - 1):
        lower = 1 << (n.bit_length() - 1)
        raise ValueError(f"Sobol N must be a power of two, got {n} (try {lower} or {lower * 2})")
    return n


def block_size(problem: SAProblem, method: str, calc_second_order: bool = True) -> int:
    """Rows per base sample (Sobol block, Morris trajectory); 1 for Latin-hypercube methods."""
    method = check_method(method)
    g = len(problem.factor_names)
    if method == "sobol":
        return 2 * g + 2 if calc_second_order else g + 2
    if method == "morris":
        return g + 1
    return 1


def n_base(problem: SAProblem, method: str, n_rows: int, calc_second_order: bool = True) -> int:
    """Number of base samples (blocks, trajectories or rows) in a design of ``n_rows`` rows."""
    size = block_size(problem, method, calc_second_order)
    if n_rows % size:
        raise ValueError(
            f"{method} design has {n_rows} rows, not a multiple of the block size {size} "
            f"(calc_second_order={calc_second_order}, {len(problem.factor_names)} factors)"
        )
    return n_rows // size


def n_runs(problem: SAProblem, method: str, n: int, calc_second_order: bool = True) -> int:
    """Model evaluations per replicate for ``sample(problem, method, n, ...)``: a budget helper."""
    return n * block_size(problem, method, calc_second_order)


# Distributions with infinite support: their 0 and 1 quantiles are -inf/+inf.
_UNBOUNDED = frozenset({"norm", "lognorm", "weibull"})


def _check_morris_dists(problem: SAProblem) -> None:
    """Morris' grid includes the 0 and 1 quantiles, which are infinite for unbounded laws."""
    if problem.dists is None:
        return
    bad = [n for n, d in zip(problem.names, problem.dists, strict=True) if d in _UNBOUNDED]
    if bad:
        raise ValueError(
            f"Morris levels include the 0 and 1 quantiles, infinite for {', '.join(bad)} "
            f"({', '.join(sorted(_UNBOUNDED))}); use truncnorm or bounded distributions"
        )


def sample(
    problem: SAProblem,
    method: str,
    n: int,
    seed: int,
    *,
    calc_second_order: bool = True,
    num_levels: int = 4,
    optimal_trajectories: int | None = None,
) -> np.ndarray:
    """Draw the design for ``method``: an array of shape (n_points, problem.num_vars).

    ``n`` is the number of Sobol' base samples (a power of two; ``n * (2G + 2)`` rows with
    second order), Morris trajectories (``n * (G + 1)`` rows; with ``optimal_trajectories=k``
    SALib keeps the k most spread of the n candidates) or Latin-hypercube rows (PAWN, delta).
    Options that do not apply to ``method`` are ignored.
    """
    if not isinstance(problem, SAProblem):
        raise ValueError(f"problem must be an SAProblem, got {type(problem).__name__}")
    method = check_method(method)
    seed = check_seed(seed)
    salib_problem = problem.to_salib()
    if method == "sobol":
        n = check_sobol_n(n)
        return sobol_sampler.sample(
            salib_problem, n, calc_second_order=calc_second_order, scramble=True, seed=seed
        )
    if method == "morris":
        _check_morris_dists(problem)
        n = check_count(n, "Morris trajectories")
        levels = check_count(num_levels, "Morris num_levels")
        if levels % 2:
            raise ValueError(f"Morris num_levels must be even (SALib's design), got {levels}")
        if optimal_trajectories is not None:
            check_count(optimal_trajectories, "optimal_trajectories")
            if optimal_trajectories > n:
                raise ValueError(
                    f"optimal_trajectories ({optimal_trajectories}) must not exceed n ({n})"
                )
        return morris_sampler.sample(
            salib_problem,
            n,
            num_levels=levels,
            optimal_trajectories=optimal_trajectories,
            seed=seed,
        )
    n = check_count(n, f"{method} sample size")
    return latin_sampler.sample(salib_problem, n, seed=seed)
