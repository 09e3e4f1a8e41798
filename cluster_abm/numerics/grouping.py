"""Ranks, top items and weighted means within groups (regions, clusters, markets): who gets a
group's first places once items are sorted by group, and what a group's items are worth on
average."""

from __future__ import annotations

import numpy as np


def group_starts(sorted_keys: np.ndarray) -> np.ndarray:
    """For keys sorted ascending: the position of each item's group's first item, the same as
    ``np.searchsorted(sorted_keys, sorted_keys)`` from one pass over the keys instead of a binary
    search per item."""
    n = len(sorted_keys)
    if n == 0:
        return np.zeros(0, dtype=np.intp)
    first = np.flatnonzero(np.concatenate([[True], sorted_keys[1:] != sorted_keys[:-1]]))
    return np.repeat(first, np.diff(first, append=n))


def rank_in_groups(sorted_keys: np.ndarray) -> np.ndarray:
    """For keys sorted ascending: each item's rank among its equals (0 for the first of its
    group, 1 for the next, ...), i.e. its position minus that of its group's first item."""
    return np.arange(len(sorted_keys)) - group_starts(sorted_keys)


def top_per_group(groups: np.ndarray, priority: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Positions of the ``k[g]`` items of highest ``priority`` in each group ``g`` (equal
    priorities: the earlier item first), ordered by group, then priority (highest first), then
    position."""
    order = np.lexsort((-priority, groups))
    g = groups[order]
    return order[rank_in_groups(g) < np.asarray(k)[g]]


def weighted_group_mean(values: np.ndarray, weights: np.ndarray, groups: np.ndarray,
                        n_groups: int, empty: float) -> np.ndarray:
    """Per group: sum(weights x values) / sum(weights), ``empty`` for a group without weight."""
    w = np.bincount(groups, weights=weights, minlength=n_groups)
    v = np.bincount(groups, weights=weights * values, minlength=n_groups)
    return np.divide(v, w, out=np.full(n_groups, float(empty)), where=w > 0)
