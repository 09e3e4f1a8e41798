"""The step ledger: flows (counts and money) recorded by mechanisms during one step, by region.

Mechanisms record events here (innovations, births, grants, costs); reporters read them. Agents
never increment model counters; the ledger is reset at the start of every step.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np


class Ledger:
    def __init__(self, n_regions: int):
        self.n_regions = n_regions
        self._flows: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(n_regions))
        self.lever_cost: dict[str, np.ndarray] = defaultdict(lambda: np.zeros(n_regions))

    def reset(self) -> None:
        self._flows.clear()
        self.lever_cost.clear()

    def add(self, name: str, regions: np.ndarray, values: np.ndarray | float = 1.0) -> None:
        """Add ``values`` (one per event, or a scalar per event) to the regions of the events."""
        if len(regions) == 0:
            return
        if isinstance(values, float) or np.ndim(values) == 0:
            counts = np.bincount(regions, minlength=self.n_regions)
            self._flows[name] += counts * float(values) if values != 1.0 else counts
        else:
            self._flows[name] += np.bincount(regions, weights=values, minlength=self.n_regions)

    def record(self, name: str) -> None:
        """Record flow ``name`` for this step even if no event happens (zero in every region),
        so a reader can tell "nothing happened" from "not yet recorded"."""
        self._flows[name] += 0.0

    def add_region(self, name: str, region: int, value: float) -> None:
        self._flows[name][region] += value

    def get(self, name: str) -> np.ndarray:
        return self._flows[name] if name in self._flows else np.zeros(self.n_regions)

    def add_cost(self, lever: str, region: int, amount: float) -> None:
        self.lever_cost[lever][region] += amount
        self._flows["public_cost"][region] += amount

    def add_costs(self, lever: str, amounts: np.ndarray) -> None:
        """:meth:`add_cost` for every region at once (``amounts`` >= 0, one per region)."""
        if np.count_nonzero(amounts):  # not .any(): its Python wrapper costs more here
            self.lever_cost[lever] += amounts
            self._flows["public_cost"] += amounts

    def names(self) -> list[str]:
        return sorted(self._flows)
