"""Real enterprises per model firm as a smooth function of its size (real-region units, issue 16).

Each model firm is a super-individual (Scheffer et al. 1995) standing for real enterprises of its
region. How many depends on its size: the region's published enterprises of a size class (0-9,
10-49, 50-249, 250+ persons) over its model firms of that class (post-stratification, Cochran
1977). Taken class by class, that weight jumps where a firm crosses a class boundary: in Veneto
one model firm growing from 249 to 250 persons added about 46,000 real jobs and one growing from
9 to 10 removed about 5,000 (measured 2026-12-05), so policy effects and costs per job read the
boundary crossings of a handful of model firms.

Here the weight is a continuous function of size instead: log weight is linear in log size
between anchors, one per populated class at the mean log size of its model firms, and constant
beyond the first and last anchor (the weight a class's mean firm has). The anchors' weights are
raked (Deming & Stephan 1940) so that at policy year 0 every class's model firms still add up to
the region's published enterprises of that class: the year-0 totals are those of the class
weights; only a firm that changes size afterwards is weighed differently, and its real
employment (weight x persons) now changes by a bounded amount per person.
"""

from __future__ import annotations

import numpy as np

from cluster_abm.state.firm_table import SIZE_CLASS_EDGES, size_class

N_CLASSES = len(SIZE_CLASS_EDGES) + 1
_RAKING_ROUNDS = 200
_RAKING_TOLERANCE = 1e-12  # largest |log(published / weighted)| accepted for a class


def log_size(employees: np.ndarray) -> np.ndarray:
    """Log persons employed, a firm without staff counted as one person (its owner)."""
    return np.log(np.maximum(np.asarray(employees, dtype=float), 1.0))


def fit_anchors(region: np.ndarray, employees: np.ndarray, enterprises: np.ndarray,
                total: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The size-weight anchors of every region: ``(x, y)``, each of shape (regions, classes),
    ``x`` the log size of a class's anchor and ``y`` its log weight (NaN for classes without
    model firms; a whole row NaN for a region whose enterprises are unknown).

    Args:
        region, employees: the model firms' regions and persons employed (policy year 0).
        enterprises: published enterprises by region and size class (0 where not given).
        total: published enterprises by region (0 where unknown).

    A class with enterprises but no model firm lends them to the nearest populated class
    (smaller first); firms that later grow into it take the weight beyond the last anchor. A
    region that publishes only its total gets one weight for every size.
    """
    R = len(total)
    x = np.full((R, N_CLASSES), np.nan)
    y = np.full((R, N_CLASSES), np.nan)
    cls = size_class(employees)
    ls = log_size(employees)
    for r in range(R):
        mine = region == r
        if total[r] <= 0 or not mine.any():
            continue
        c_r, ls_r = cls[mine], ls[mine]
        count = np.bincount(c_r, minlength=N_CLASSES).astype(float)
        if enterprises[r].sum() <= 0:  # only a total: one weight at every size
            x[r, 0], y[r, 0] = ls_r.mean(), np.log(total[r] / mine.sum())
            continue
        target = _lend_to_populated(enterprises[r].astype(float), count)
        populated = count > 0
        x[r, populated] = np.bincount(c_r, weights=ls_r, minlength=N_CLASSES)[populated] / count[populated]
        y[r, populated] = np.log(target[populated] / count[populated])
        y[r] = _rake(x[r], y[r], c_r, ls_r, target)
    return x, y


def _nearest_populated(populated: np.ndarray) -> np.ndarray:
    """For each class, the nearest class where ``populated`` holds (smaller first on ties)."""
    where = np.flatnonzero(populated)
    return where[np.abs(np.arange(len(populated))[:, None] - where[None, :]).argmin(axis=1)]


def _lend_to_populated(enterprises: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Enterprises of classes without model firms added to the nearest populated class."""
    out = np.zeros_like(enterprises)
    np.add.at(out, _nearest_populated(count > 0), enterprises)
    return out


def _rake(x: np.ndarray, y: np.ndarray, cls: np.ndarray, ls: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Shift the anchors' log weights until each populated class's model firms, weighed by the
    interpolated weight, add up to its published enterprises (iterative proportional fitting)."""
    populated = np.isfinite(x)
    y = y.copy()
    for _ in range(_RAKING_ROUNDS):
        w = np.exp(_interp(ls, x[populated], y[populated]))
        weighted = np.bincount(cls, weights=w, minlength=len(x))
        gap = np.log(target[populated] / weighted[populated])
        y[populated] += gap
        if np.abs(gap).max() < _RAKING_TOLERANCE:
            break
    return y


def _interp(ls: np.ndarray, xp: np.ndarray, yp: np.ndarray) -> np.ndarray:
    return np.interp(ls, xp, yp) if len(xp) > 1 else np.full(len(ls), yp[0])


def weights(x: np.ndarray, y: np.ndarray, region: np.ndarray, employees: np.ndarray) -> np.ndarray:
    """Real enterprises each firm (its region, its persons employed) stands for, from the
    anchors of :func:`fit_anchors` (NaN in regions without anchors)."""
    out = np.full(len(region), np.nan)
    ls = log_size(employees)
    for r in range(len(x)):
        known = np.isfinite(x[r])
        if not known.any():
            continue
        mine = region == r
        out[mine] = np.exp(_interp(ls[mine], x[r, known], y[r, known]))
    return out


def weight_table(x: np.ndarray, y: np.ndarray, max_employees: int) -> np.ndarray:
    """:func:`weights` of every region at every size from 0 to ``max_employees`` persons, shape
    (regions, max_employees + 1): ``table[region, employees]`` is ``weights(x, y, region,
    employees)`` to the bit (each weight is an elementwise function of the firm's own region and
    size), one lookup where the model asks for the weights of some firms many times a step."""
    sizes = np.arange(max_employees + 1)
    R = len(x)
    return weights(x, y, np.repeat(np.arange(R), len(sizes)), np.tile(sizes, R)).reshape(R, len(sizes))


def anchor_weights(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Weight by region and size class: at the class's anchor, or for a class without one, the
    weight its firms would take (that of the nearest anchor, smaller first); NaN where unknown."""
    out = np.full(x.shape, np.nan)
    for r in range(len(x)):
        known = np.isfinite(x[r])
        if known.any():
            out[r] = np.exp(y[r, _nearest_populated(known)])
    return out
