"""Ranks of items within groups, for keys sorted so that equal keys are adjacent (a stable
``np.argsort`` by region, cluster or institution, then a cut to each group's first places)."""

from __future__ import annotations

import numpy as np


def rank_in_groups(sorted_keys: np.ndarray) -> np.ndarray:
    """For keys sorted so that equal keys are adjacent: each item's rank among its equals
    (0 for the first of its group, 1 for the next, ...)."""
    return np.arange(len(sorted_keys)) - np.searchsorted(sorted_keys, sorted_keys)
