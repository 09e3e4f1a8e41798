"""Model-agnostic entry points: sample, evaluate a Python function with replicates, analyse.

The model is any ``func(params, rng)``; the agent-based model plugs in the same way (or its
runner evaluates the design itself and calls :func:`.methods.analyze`). Each replicate gets its
own generator keyed by (point, replicate) (:mod:`.seeding`), so results do not depend on
evaluation order and can be reproduced run by run, e.g. after a parallel evaluation.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from cluster_abm.analysis.sensitivity.methods import analyze
from cluster_abm.analysis.sensitivity.problem import SAProblem
from cluster_abm.analysis.sensitivity.sa_results import SAResult
from cluster_abm.analysis.sensitivity.sampling import check_count, sample
from cluster_abm.analysis.sensitivity.seeding import check_seed, design_rng, replicate_rng

PointFunc = Callable[[dict[str, float], np.random.Generator], "float | Mapping[str, float]"]
VectorFunc = Callable[[np.ndarray, np.random.Generator], np.ndarray]


def _as_outputs(value: Any, point: int) -> dict[str, float]:
    """Normalise one model return value to {output name: float}."""
    if isinstance(value, Mapping):
        if not value:
            raise ValueError(f"func returned an empty dict at point {point}")
        items = value.items()
    else:
        items = [(None, value)]
    out = {}
    for key, v in items:
        if isinstance(v, bool) or not isinstance(v, numbers.Real | np.ndarray) or np.ndim(v):
            raise ValueError(
                f"func must return a number or a dict of numbers, got {v!r} at point {point}"
            )
        out[key] = float(v)
    return out


def evaluate(
    func: PointFunc,
    problem: SAProblem,
    X: np.ndarray,
    replicates: int = 1,
    seed: int = 0,
    *,
    output_name: str = "y",
) -> dict[str, np.ndarray]:
    """Run ``func`` on every design row ``replicates`` times; return {output: (n_points, R)}.

    ``func(params, rng)`` gets the row as ``{name: float}`` and a generator for (row, replicate);
    returning a dict gives several outputs, which must be the same at every call. A scalar
    return value is stored under ``output_name``.
    """
    reps = check_count(replicates, "replicates", 1)
    seed = check_seed(seed)
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] != problem.num_vars:
        raise ValueError(f"X must have shape (n_points, {problem.num_vars}), got {X.shape}")
    store: dict[Any, np.ndarray] = {}
    for i, row in enumerate(X):
        params = dict(zip(problem.names, (float(v) for v in row), strict=True))
        for r in range(reps):
            values = _as_outputs(func(dict(params), replicate_rng(seed, i, r)), i)
            if not store:
                store = {k: np.full((X.shape[0], reps), np.nan) for k in values}
            if values.keys() != store.keys():
                raise ValueError(
                    f"func returned outputs {sorted(map(str, values))} at point {i}"
                    f", expected {sorted(map(str, store))}"
                )
            for k, v in values.items():
                store[k][i, r] = v
    return {(output_name if k is None else str(k)): v for k, v in store.items()}


def evaluate_vectorized(
    func: VectorFunc,
    X: np.ndarray,
    replicates: int = 1,
    seed: int = 0,
    *,
    output_names: Sequence[str] | None = None,
) -> dict[str, np.ndarray]:
    """Vectorised ``evaluate``: ``func(X, rng)`` returns (n_points,) or (n_points, n_outputs).

    Replicate r of the whole design uses one generator, ``design_rng(seed, r)``; results are
    reproducible for the same X but, unlike :func:`evaluate`, not per row.
    """
    reps = check_count(replicates, "replicates", 1)
    seed = check_seed(seed)
    X = np.asarray(X, dtype=float)
    runs = []
    for r in range(reps):
        out = np.asarray(func(X, design_rng(seed, r)), dtype=float)
        out = out[:, None] if out.ndim == 1 else out
        if out.ndim != 2 or out.shape[0] != X.shape[0]:
            raise ValueError(
                f"func must return shape ({X.shape[0]},) or ({X.shape[0]}, k), got {out.shape}"
            )
        runs.append(out)
    stacked = np.stack(runs, axis=1)  # (n_points, R, k)
    k = stacked.shape[2]
    names = (
        list(output_names)
        if output_names is not None
        else (["y"] if k == 1 else [f"y{j}" for j in range(k)])
    )
    if len(names) != k or len(set(names)) != k:
        raise ValueError(f"need {k} distinct output_names, got {names}")
    return {name: stacked[:, :, j] for j, name in enumerate(names)}


SAMPLE_OPTIONS = ("calc_second_order", "num_levels", "optimal_trajectories")
ANALYSIS_OPTIONS = ("calc_second_order", "num_levels", "conf_level", "num_resamples",
                    "pawn_slices", "thresholds")


def run_function(func: PointFunc, problem: SAProblem, method: str, n: int, replicates: int = 1,
                 seed: int = 0, *, output_name: str = "y", **options: Any) -> dict[str, SAResult]:
    """Sample, evaluate ``func(params, rng)`` with replicates, and analyse every output.

    ``options`` go to the design (:func:`.sampling.sample`: ``calc_second_order``,
    ``num_levels``, ``optimal_trajectories``) and the analysis (:func:`.methods.analyze`:
    ``conf_level``, ``num_resamples``, ``pawn_slices``, ``thresholds``), with their defaults.
    """
    return _run(problem, method, n, seed, options, lambda X: evaluate(
        func, problem, X, replicates, seed, output_name=output_name))


def run_vectorized(func: VectorFunc, problem: SAProblem, method: str, n: int,
                   replicates: int = 1, seed: int = 0, *,
                   output_names: Sequence[str] | None = None,
                   **options: Any) -> dict[str, SAResult]:
    """Like :func:`run_function` for ``func(X, rng) -> array``: fast for analytic benchmarks."""
    return _run(problem, method, n, seed, options, lambda X: evaluate_vectorized(
        func, X, replicates, seed, output_names=output_names))


def _run(problem: SAProblem, method: str, n: int, seed: int, options: dict[str, Any],
         evaluate_design: Callable[[np.ndarray], dict[str, np.ndarray]]) -> dict[str, SAResult]:
    """Design, evaluation, one SAResult per output (all with the same seed and options)."""
    unknown = sorted(set(options) - set(SAMPLE_OPTIONS) - set(ANALYSIS_OPTIONS))
    if unknown:
        raise TypeError(f"unknown option(s) {', '.join(unknown)}; allowed: "
                        f"{', '.join(sorted(set(SAMPLE_OPTIONS) | set(ANALYSIS_OPTIONS)))}")
    X = sample(problem, method, n, seed,
               **{k: v for k, v in options.items() if k in SAMPLE_OPTIONS})
    opts = {k: v for k, v in options.items() if k in ANALYSIS_OPTIONS}
    return {name: analyze(problem, method, X, Y, seed, output=name, **opts)
            for name, Y in evaluate_design(X).items()}
