"""Ranks and top items within groups (regions, clusters, institutions): who gets a group's first
places once items are sorted by group."""

from __future__ import annotations

import numpy as np


def rank_in_groups(sorted_keys: np.ndarray) -> np.ndarray:
    """For keys sorted ascending: each item's rank among its equals (0 for the first of its
    group, 1 for the next, ...), i.e. its position minus that of its group's first item."""
    return np.arange(len(sorted_keys)) - np.searchsorted(sorted_keys, sorted_keys)


def top_per_group(groups: np.ndarray, priority: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Positions of the ``k[g]`` items of highest ``priority`` in each group ``g`` (equal
    priorities: the earlier item first), ordered by group, then priority (highest first), then
    position."""
    order = np.lexsort((-priority, groups))
    g = groups[order]
    return order[rank_in_groups(g) < np.asarray(k)[g]]
