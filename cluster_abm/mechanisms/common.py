"""Small helpers shared by mechanisms: hazards, stochastic rounding, cognitive distance."""

from __future__ import annotations

import numpy as np

from cluster_abm.numerics.grouping import rank_in_groups


def hazard_draw(rng: np.random.Generator, rate: np.ndarray) -> np.ndarray:
    """Bernoulli draws for per-step hazards ``rate`` (P = 1 - exp(-rate))."""
    rate = np.asarray(rate, dtype=float)
    return rng.random(rate.shape) < -np.expm1(-rate)


def hazard(u: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """Events for per-step hazards ``rate`` given uniforms ``u`` (keyed draws, see randomness)."""
    return u < -np.expm1(-np.asarray(rate, dtype=float))


def keyed_round(u: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Unbiased rounding with given uniforms: floor(x) + (u < frac(x))."""
    x = np.asarray(x, dtype=float)
    fl = np.floor(x)
    return (fl + (u < (x - fl))).astype(np.int64)


def stochastic_round(rng: np.random.Generator, x: np.ndarray) -> np.ndarray:
    """Round to integers without bias: floor(x) + Bernoulli(frac(x))."""
    x = np.asarray(x, dtype=float)
    fl = np.floor(x)
    return (fl + (rng.random(x.shape) < (x - fl))).astype(np.int64)


def profiles(knowledge: np.ndarray) -> np.ndarray:
    """Knowledge profiles: each row's shares over technology fields (rows of zeros stay zero)."""
    total = knowledge.sum(axis=1, keepdims=True)
    return np.divide(knowledge, total, out=np.zeros_like(knowledge), where=total > 0)


def cognitive_distance(p_a: np.ndarray, p_b: np.ndarray) -> np.ndarray:
    """Half the L1 distance between knowledge profiles: 0 identical, 1 disjoint."""
    return 0.5 * np.abs(p_a - p_b).sum(axis=-1)


def top_per_group(groups: np.ndarray, priority: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Positions of the ``k[g]`` items of highest ``priority`` in each group ``g`` (equal
    priorities: the earlier item first), ordered by group, then priority (highest first), then
    position: to the bit ``np.lexsort((-priority, groups))`` cut to the first ``k[g]`` of each
    group.

    Why not that lexsort: a stable sort of every priority costs ~140 us at 2,000 items, while
    few places are handed out. Here items are grouped by a (radix) sort of the small group
    numbers, each group's cut-off value comes from a partition, and only the chosen are sorted.
    """
    order = np.argsort(groups, kind="stable")  # by group, positions ascending within a group
    pr = priority[order]
    count = np.bincount(groups, minlength=len(k)).tolist()
    cut, room, begin = [], [], 0
    for c, want in zip(count, np.asarray(k).tolist(), strict=True):
        take = min(max(want, 0), c)
        if take == c:
            cut.append(-np.inf)  # everybody is above -inf: the group takes all
        elif take == 0:
            cut.append(np.inf)  # nobody is above +inf
        else:
            part = pr[begin: begin + c].copy()  # np.partition without its wrappers
            part.partition(c - take)
            cut.append(float(part[c - take]))  # take-th highest
        room.append(take)
        begin += c
    cut_of_item = np.repeat(cut, count)
    above = pr >= cut_of_item
    # Each group has at least its places at or above its cut-off. When the totals agree, no
    # group has more (no ties at a cut-off) and these are the chosen; else items at the
    # cut-off fill what is left of their group's places, earliest first.
    if np.count_nonzero(above) != sum(room):
        above = pr > cut_of_item
        at = (pr == cut_of_item).nonzero()[0]
        g_at = groups[order[at]]
        left = np.asarray(room) - np.bincount(groups[order[above]], minlength=len(room))
        above[at[rank_in_groups(g_at) < left[g_at]]] = True
    pos = order[above]
    return pos[np.lexsort((-priority[pos], groups[pos]))]


def novelty_value(distance: np.ndarray, optimum: float) -> np.ndarray:
    """Inverted U in cognitive distance (Nooteboom et al. 2007): (d/d*) exp(1 - d/d*), peak 1 at d*.

    Too close a partner teaches nothing new; too far a partner cannot be understood.
    """
    r = np.asarray(distance) / optimum
    return r * np.exp(1.0 - r)
