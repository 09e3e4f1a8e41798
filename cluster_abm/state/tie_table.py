"""Cooperation ties as an edge table (arrays of endpoints, distance class and start step).

Seed 3.3.1-3.3.2: firms cooperate within their cluster, across clusters, regions and countries;
the distance class of each tie (see :mod:`cluster_abm.space`) is stored so outcomes can be
reported by class. A tie's ends never change region, cluster or sector, so whatever else the
reporting needs of a tie (its ends' regions and a small class code) is computed once, when it is
formed, by the ``classify`` function the model passes in. Ties are undirected; ``a < b`` always.
Pair keys (``a * CAP + b``) detect duplicates without any all-pairs structure.
"""

from __future__ import annotations

import numpy as np

KEY_BASE = np.int64(1) << 32
_ROW_COLUMNS = ("a", "b", "kind", "start", "region_a", "region_b", "code")


def _no_class(a: np.ndarray, b: np.ndarray, kind: np.ndarray):
    zeros = np.zeros(len(a), dtype=np.int16)
    return zeros, zeros, zeros.astype(np.uint8)


class TieTable:
    def __init__(self, capacity: int = 1024, classify=None):
        """``classify(a, b, kind)`` gives, for new ties between firm slots a and b of distance
        class kind, the regions of both ends and a class code (see ``metrics.tie_class``)."""
        self.classify = classify or _no_class
        self.capacity = capacity
        self.n = 0
        self.a = np.zeros(capacity, dtype=np.int64)
        self.b = np.zeros(capacity, dtype=np.int64)
        self.kind = np.zeros(capacity, dtype=np.int8)
        self.start = np.zeros(capacity, dtype=np.int32)
        self.alive = np.zeros(capacity, dtype=np.bool_)
        self.region_a = np.zeros(capacity, dtype=np.int16)
        self.region_b = np.zeros(capacity, dtype=np.int16)
        self.code = np.zeros(capacity, dtype=np.uint8)
        self._keys: set[int] = set()  # pair keys of living ties
        self._idx: np.ndarray | None = None  # cache of idx, dropped whenever ties change
        self._ends: tuple | None = None  # cache of ends(), for the idx it was made from

    def __len__(self) -> int:
        return len(self._keys)

    @property
    def idx(self) -> np.ndarray:
        """Rows of living ties, ascending (cached: mechanisms ask for it many times a step)."""
        if self._idx is None:
            self._idx = self.alive[: self.n].nonzero()[0]
        return self._idx

    def ends(self) -> tuple[np.ndarray, np.ndarray]:
        """Endpoints (a, b) of the living ties, in ``idx`` order, read-only: several mechanisms
        of a step read them between two changes of the table, so they are gathered once."""
        idx = self.idx
        if self._ends is None or self._ends[0] is not idx:
            a, b = self.a[idx], self.b[idx]
            a.flags.writeable = b.flags.writeable = False
            self._ends = (idx, a, b)
        return self._ends[1], self._ends[2]

    def firms_with(self, kind: int, n_firms: int) -> np.ndarray:
        """Mask over firm slots [0, n_firms): the firm is an end of a living tie of ``kind``."""
        a, b = self.ends()
        of_kind = self.kind[self.idx] == kind
        mask = np.zeros(n_firms, dtype=bool)
        mask[a[of_kind]] = True
        mask[b[of_kind]] = True
        return mask

    def keys(self, idx: np.ndarray | None = None) -> np.ndarray:
        idx = self.idx if idx is None else idx
        return self.a[idx] * KEY_BASE + self.b[idx]

    def reclassify(self) -> None:
        """Classify every living tie again (a class that depends on more than the firms' fixed
        region, cluster and sector changed: meta-cluster membership starts or ends with its lever)."""
        ti = self.idx
        if len(ti):
            self.region_a[ti], self.region_b[ti], self.code[ti] = self.classify(self.a[ti], self.b[ti], self.kind[ti])

    def add(self, a: np.ndarray, b: np.ndarray, kind: np.ndarray, step: int) -> np.ndarray:
        """Add ties (a, b) that do not exist yet; returns the mask of pairs actually added."""
        lo, hi = np.minimum(a, b).astype(np.int64), np.maximum(a, b).astype(np.int64)
        keys = lo * KEY_BASE + hi
        _, first = np.unique(keys, return_index=True)
        fresh = np.zeros(len(keys), dtype=bool)
        fresh[first] = True
        fresh &= lo != hi
        if fresh.any() and self._keys:
            # A set of the living ties' keys answers "exists already?" in O(1) per new pair,
            # however many ties exist (this runs several times a step).
            cand = fresh.nonzero()[0]
            known = self._keys
            exists = np.fromiter(map(known.__contains__, keys[cand].tolist()), dtype=bool, count=len(cand))
            fresh[cand[exists]] = False
        m = int(fresh.sum())
        if m == 0:
            return fresh
        if self.n + m > self.capacity:
            self._compact()
            # Leave the living ties at most half the table, or the next few steps' new ties
            # would fill it again and every step would pay for a compaction.
            if 2 * (self.n + m) > self.capacity:
                self._grow(2 * (self.n + m))
        sl = slice(self.n, self.n + m)
        self.a[sl], self.b[sl] = lo[fresh], hi[fresh]
        self.kind[sl] = kind[fresh]
        self.start[sl] = step
        self.region_a[sl], self.region_b[sl], self.code[sl] = self.classify(lo[fresh], hi[fresh], kind[fresh])
        self.alive[sl] = True
        self.n += m
        self._idx = None
        self._keys.update(keys[fresh].tolist())
        return fresh

    def drop_firms(self, dead: np.ndarray) -> int:
        """End every tie touching a dead slot (``dead`` is a bool mask over firm slots)."""
        idx = self.idx
        a, b = self.ends()
        hit = idx[dead[a] | dead[b]]
        self._end(hit)
        return len(hit)

    def decay(self, rng: np.random.Generator, p: float) -> int:
        idx = self.idx
        hit = idx[rng.random(len(idx)) < p]
        self._end(hit)
        return len(hit)

    def end(self, rows: np.ndarray) -> None:
        """End the living ties in table rows ``rows`` (rows of :attr:`idx`)."""
        self._end(rows)

    def _end(self, hit: np.ndarray) -> None:
        self.alive[hit] = False
        self._idx = None
        self._keys.difference_update(self.keys(hit).tolist())

    def degree(self, n: int) -> np.ndarray:
        a, b = self.ends()
        return (np.bincount(a, minlength=n) + np.bincount(b, minlength=n))[:n]

    def _compact(self) -> None:
        idx = self.idx
        m = len(idx)
        for name in _ROW_COLUMNS:
            arr = getattr(self, name)
            arr[:m] = arr[idx]
        self.alive[:m] = True
        self.alive[m:] = False
        self.n = m
        self._idx = None

    def _grow(self, needed: int) -> None:
        cap = self.capacity
        while cap < needed:
            cap *= 2
        for name in (*_ROW_COLUMNS, "alive"):
            old = getattr(self, name)
            arr = np.zeros(cap, dtype=old.dtype)
            arr[: self.capacity] = old
            setattr(self, name, arr)
        self.capacity = cap
