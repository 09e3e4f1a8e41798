"""`analyze`: SALib's estimators applied to replicate means, wrapped into an `SAResult`.

Each adapter calls one SALib analyser and only reshapes its output: the estimators themselves
(Saltelli et al. 2010 / Jansen for Sobol, Campolongo et al. 2007 mu* for Morris, Pianosi &
Wagener 2015 for PAWN, Plischke et al. 2013 for delta) are SALib's. The one addition is a
bootstrap CI for the PAWN median, which SALib 1.6 does not provide.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Callable

import numpy as np
import pandas as pd
from SALib.analyze import delta as delta_analyzer
from SALib.analyze import morris as morris_analyzer
from SALib.analyze import pawn as pawn_analyzer
from SALib.analyze import sobol as sobol_analyzer
from scipy.stats import norm

from cluster_abm.analysis.sensitivity.layout import check_layout
from cluster_abm.analysis.sensitivity.noise import as_replicate_matrix, noise_summary
from cluster_abm.analysis.sensitivity.problem import SAProblem
from cluster_abm.analysis.sensitivity.sa_results import (
    DEFAULT_THRESHOLDS,
    INDEX_COLUMNS,
    SECOND_ORDER_COLUMNS,
    SAResult,
    Thresholds,
    collect_warnings,
)
from cluster_abm.analysis.sensitivity.sampling import check_count, check_method
from cluster_abm.analysis.sensitivity.seeding import check_seed, isolated_salib, salib_seed

# (indices, second_order, notes) returned by each adapter
_Adapted = tuple[pd.DataFrame, pd.DataFrame, list[str]]


def _empty_second_order() -> pd.DataFrame:
    """The S2 table for methods without second-order indices."""
    return pd.DataFrame(
        {c: pd.Series(dtype=str if c.startswith("param") else float) for c in SECOND_ORDER_COLUMNS}
    )


def _frame(names: list[str], columns: dict[str, object]) -> pd.DataFrame:
    """Indices table: a ``param`` column and float index columns, in SALib's factor order."""
    data = {"param": [str(n) for n in names]}
    data.update({k: np.asarray(v, dtype=float) for k, v in columns.items()})
    return pd.DataFrame(data)


def _salib_notes(method: str, caught: list) -> list[str]:
    """SALib's runtime warnings as de-duplicated one-line notes."""
    seen: dict[str, None] = {}
    for w in caught:
        text = " ".join(str(w.message).split())
        seen.setdefault(f"SALib {method}: {text}", None)
    return list(seen)


def _sobol(problem: SAProblem, X, y, seed, conf_level, num_resamples, opts) -> _Adapted:
    """Saltelli/Jansen first- and total-order indices, second order if the design has it."""
    second = opts["calc_second_order"]
    with isolated_salib() as caught:
        si = sobol_analyzer.analyze(
            problem.to_salib(),
            y,
            calc_second_order=second,
            num_resamples=num_resamples,
            conf_level=conf_level,
            seed=salib_seed(seed),
        )
    names = list(problem.factor_names)
    indices = _frame(names, {k: si[k] for k in INDEX_COLUMNS["sobol"]})
    pairs = _empty_second_order()
    if second:
        rows = [
            (names[i], names[j], si["S2"][i, j], si["S2_conf"][i, j])
            for i in range(len(names))
            for j in range(i + 1, len(names))
        ]
        if rows:
            pairs = pd.DataFrame(rows, columns=list(SECOND_ORDER_COLUMNS))
    return indices, pairs, _salib_notes("sobol", caught)


def _morris(problem: SAProblem, X, y, seed, conf_level, num_resamples, opts) -> _Adapted:
    """Elementary-effects statistics; mu_star_conf is SALib's bootstrap over trajectories."""
    with isolated_salib() as caught:
        si = morris_analyzer.analyze(
            problem.to_salib(),
            X,
            y,
            num_resamples=num_resamples,
            conf_level=conf_level,
            num_levels=opts["num_levels"],
            seed=salib_seed(seed),
        )
    indices = _frame(list(si["names"]), {k: si[k] for k in INDEX_COLUMNS["morris"]})
    return indices, _empty_second_order(), _salib_notes("morris", caught)


def _pawn(problem: SAProblem, X, y, seed, conf_level, num_resamples, opts) -> _Adapted:
    """PAWN statistics with a seeded row bootstrap for the median (SALib gives no CI)."""
    slices = opts["pawn_slices"]
    salib_problem = problem.to_salib()
    with isolated_salib() as caught:
        si = pawn_analyzer.analyze(salib_problem, X, y, S=slices)
        rng = np.random.default_rng(salib_seed(seed))
        boot = np.empty((num_resamples, len(si["median"])))
        for b in range(num_resamples):
            rows = rng.integers(0, len(y), size=len(y))
            boot[b] = pawn_analyzer.analyze(salib_problem, X[rows], y[rows], S=slices)["median"]
    cols = {k: si[k] for k in INDEX_COLUMNS["pawn"] if k != "median_conf"}
    cols["median_conf"] = norm.ppf(0.5 + conf_level / 2) * np.nanstd(boot, axis=0, ddof=1)
    notes = _salib_notes("pawn", caught)
    if len(y) < 10 * slices:
        notes.append(f"PAWN: {len(y)} points for {slices} slices leaves < 10 points per slice")
    return _frame(list(si["names"]), cols), _empty_second_order(), notes


_OTHER_DELTA_MODES = re.compile(r"\[(balanced|step)\]|Step:|differs from balanced", re.IGNORECASE)


def _delta(problem: SAProblem, X, y, seed, conf_level, num_resamples, opts) -> _Adapted:
    """Plischke et al. (2013) bias-reduced delta with plain bootstrap (SALib's "raw" mode).

    SALib 1.6 also computes "balanced" and "step" variants; "raw" is the published estimator.
    Parameter names are replaced by placeholders because SALib's delta rejects names ending
    in ``_conf``/``_raw``/``_balanced``/``_step``. Delta is per parameter even with groups.
    """
    salib_problem = problem.to_salib()
    salib_problem["names"] = [f"p{i}" for i in range(problem.num_vars)]
    salib_problem.pop("groups", None)
    with isolated_salib() as caught:
        si = delta_analyzer.analyze(
            salib_problem,
            X,
            y,
            num_resamples=num_resamples,
            conf_level=conf_level,
            seed=salib_seed(seed),
            method="all",
        )
    cols = {
        "delta": si["delta_raw"],
        "delta_conf": si["delta_raw_conf"],
        "S1": si["S1"],
        "S1_conf": si["S1_conf"],
    }
    # drop SALib's messages about the "balanced"/"step" variants, which are not reported
    notes = [n for n in _salib_notes("delta", caught) if not _OTHER_DELTA_MODES.search(n)]
    for name, note in zip(problem.names, si.get("notes", []), strict=False):
        kept = [p for p in str(note).split(";") if p.strip() and not _OTHER_DELTA_MODES.search(p)]
        if kept:
            notes.append(f"SALib delta [{name}]: {'; '.join(p.strip() for p in kept)}")
    return _frame(list(problem.names), cols), _empty_second_order(), notes


_ADAPTERS: dict[str, Callable[..., _Adapted]] = {
    "sobol": _sobol,
    "morris": _morris,
    "pawn": _pawn,
    "delta": _delta,
}


def _check_X(problem: SAProblem, X: object) -> np.ndarray:
    """X must be a finite float matrix with one column per parameter."""
    arr = np.asarray(X, dtype=float)
    if arr.ndim != 2 or arr.shape[1] != problem.num_vars:
        raise ValueError(f"X must have shape (n_points, {problem.num_vars}), got {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError("X has non-finite values")
    return arr


def _check_options(
    conf_level: object, num_resamples: object, num_levels: object, pawn_slices: object
) -> None:
    """Settings SALib would otherwise reject with multi-line errors (or silently accept)."""
    if not isinstance(conf_level, numbers.Real) or not 0 < float(conf_level) < 1:
        raise ValueError(f"conf_level must be in (0, 1), got {conf_level!r}")
    check_count(num_resamples, "num_resamples", 2)
    check_count(num_levels, "num_levels", 2)
    check_count(pawn_slices, "pawn_slices", 2)


def _constant_output(problem: SAProblem, method: str) -> _Adapted:
    """NaN indices for an output that never varies: every index is 0/0 there."""
    names = list(problem.names if method == "delta" else problem.factor_names)
    nan = np.full(len(names), np.nan)
    return _frame(names, dict.fromkeys(INDEX_COLUMNS[method], nan)), _empty_second_order(), []


def analyze(
    problem: SAProblem,
    method: str,
    X: object,
    Y: object,
    seed: int,
    conf_level: float = 0.95,
    num_resamples: int = 100,
    *,
    output: str = "y",
    calc_second_order: bool = True,
    num_levels: int = 4,
    pawn_slices: int = 10,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> SAResult:
    """Sensitivity indices of one output from its design X and outputs Y.

    ``Y`` has shape (n_points,) or (n_points, n_replicates); indices are computed on replicate
    means and ``result.noise`` reports how much seed noise those means still carry. ``seed``
    drives every bootstrap, so equal inputs give identical results. ``calc_second_order`` and
    ``num_levels`` must match the sampling; the design layout is checked for Sobol and Morris.
    """
    if not isinstance(problem, SAProblem):
        raise ValueError(f"problem must be an SAProblem, got {type(problem).__name__}")
    method = check_method(method)
    seed = check_seed(seed)
    _check_options(conf_level, num_resamples, num_levels, pawn_slices)
    Xa = _check_X(problem, X)
    Yr = as_replicate_matrix(Y, Xa.shape[0])
    base = check_layout(problem, method, Xa, calc_second_order)
    y = Yr.mean(axis=1)
    opts = {
        "calc_second_order": calc_second_order,
        "num_levels": num_levels,
        "pawn_slices": pawn_slices,
    }
    if np.ptp(y) == 0:
        indices, pairs, notes = _constant_output(problem, method)
        notes = [f"{output} is constant ({y[0]:g}) over the design: indices are undefined"]
    else:
        indices, pairs, notes = _ADAPTERS[method](
            problem, Xa, y, seed, float(conf_level), int(num_resamples), opts
        )
    if Yr.shape[1] == 1:
        notes.append("one replicate per point: seed noise cannot be separated from the signal")
    result = SAResult(
        output=output,
        method=method,
        indices=indices,
        second_order=pairs,
        noise=noise_summary(Yr),
        n_base=base,
        n_points=Xa.shape[0],
        n_replicates=Yr.shape[1],
        seed=seed,
        conf_level=float(conf_level),
        notes=notes,
        options={"num_resamples": int(num_resamples), **opts},
    )
    result.warnings.extend(collect_warnings(result, thresholds))
    return result
