"""Levers at run time: who each switched-on lever reaches, at what intensity, within what budget.

Built once from a scenario's ``[levers]`` tables (validated against :mod:`cluster_abm.policy.levers`).
Mechanisms ask for a lever's intensity per region, per cluster, per CMO or per firm (targets and
firm group applied), and pay for its activity through :meth:`PolicyState.charge` and
:meth:`PolicyState.allocate`, which never spend beyond the lever's yearly budget in a region
(``policy.lever_budget`` x intensity): policies cost money and budgets are finite (seed 2.4).
With no lever on every query returns zeros and costs nothing.
"""

from __future__ import annotations

import numpy as np

from cluster_abm.numerics.grouping import group_order
from cluster_abm.policy.levers import BY_ID
from cluster_abm.state.firm_table import SME_MAX_EMPLOYEES

_SLACK = 1e-9  # k€: rounding slack when a request's cost meets a region's remaining budget


def upper_quartile(x: np.ndarray) -> float:
    """``np.quantile(x, 0.75)`` to the bit (numpy's default "linear" method: the two order
    statistics around position 0.75 (n - 1), blended with numpy's own interpolation formula),
    from one partition: np.quantile's generic machinery costs ~60 us a call on a few hundred
    firms, and the "promising" group asks for it every step."""
    n = len(x)
    at = 0.75 * n + 0.25 - 1.0  # numpy's virtual index for alpha = beta = 1 (exact: = 0.75 (n - 1))
    lo = int(np.floor(at))
    hi = min(lo + 1, n - 1)
    part = np.partition(x, [lo, hi])
    a, b = float(part[lo]), float(part[hi])
    t = at - lo
    diff = b - a
    return b - diff * (1.0 - t) if t >= 0.5 else a + diff * t


class PolicyState:
    def __init__(self, scenario, world, p, ledger):
        self.world = world
        self.p = p
        self.ledger = ledger
        self.settings = dict(scenario.levers)
        R, C = world.n_regions, world.n_clusters
        self._region = {}
        self._cluster = {}
        self._explicit_clusters = {}
        region_ids = [r.id for r in world.regions]
        cluster_ids = [c.id for c in world.clusters]
        for lid, s in self.settings.items():
            if lid not in BY_ID:
                raise ValueError(f"unknown lever {lid}")
            reg = np.zeros(R)
            if s.regions is None:
                reg[:] = s.intensity
            else:
                reg[[region_ids.index(r) for r in s.regions]] = s.intensity
            clu = reg[world.cluster_region].copy() if C else np.zeros(0)
            if s.clusters is not None:
                clu[:] = 0.0
                clu[[cluster_ids.index(c) for c in s.clusters]] = s.intensity
                if s.regions is None:
                    # Cluster targeting alone reaches those clusters' regions for region-level effects.
                    reg[:] = 0.0
                    reg[np.unique(world.cluster_region[clu > 0])] = s.intensity
            self._region[lid] = reg
            self._cluster[lid] = clu
            self._explicit_clusters[lid] = s.clusters is not None
        # Levers at one intensity in every region and cluster: that intensity, else None.
        self._everywhere = {lid: float(s.intensity)
                            if s.regions is None and s.clusters is None else None
                            for lid, s in self.settings.items()}
        # Per cluster, then a last entry 0 that firms outside clusters (cluster -1) read.
        self._cluster_or_none = {lid: np.append(clu, 0.0) for lid, clu in self._cluster.items()}
        self.spent = {lid: np.zeros(R) for lid in self.settings}
        self._cap = {lid: p.yearly.policy.lever_budget * self._region[lid] for lid in self.settings}
        self._past_years: dict[str, list[np.ndarray]] = {lid: [] for lid in self.settings}
        self._cmo_levels: dict[tuple, float] = {}  # (lever, CMO clusters) -> level (cmo_level)
        self._sums: dict[float, np.ndarray] = {}  # running sums of one unit cost (allocate)
        self._manufacturing = np.array([s["manufacturing"] for s in world.sectors], dtype=bool)
        self._year_open = False

    # --- who a lever reaches ------------------------------------------------------------------
    def on(self, lid: str) -> bool:
        return lid in self.settings and self.settings[lid].intensity > 0

    def intensity(self, lid: str) -> float:
        return self.settings[lid].intensity if lid in self.settings else 0.0

    def region_level(self, lid: str) -> np.ndarray:
        return self._region.get(lid, np.zeros(self.world.n_regions))

    def cluster_level(self, lid: str) -> np.ndarray:
        return self._cluster.get(lid, np.zeros(self.world.n_clusters))

    def cmo_level(self, lid: str, cmo) -> float:
        if lid not in self.settings:
            return 0.0
        # Targets are fixed for a run, so each (lever, CMO clusters) pair is looked up once.
        key = (lid, tuple(cmo.clusters))
        level = self._cmo_levels.get(key)
        if level is None:
            level = self._cmo_levels[key] = float(self._cluster[lid][cmo.clusters].max())
        return level

    def firm_level(self, lid: str, ft, slots: np.ndarray, group_context=None) -> np.ndarray:
        """Intensity of ``lid`` for each firm in ``slots`` (0 where not targeted)."""
        if lid not in self.settings:
            return np.zeros(len(slots))
        everywhere = self._everywhere[lid]
        if everywhere is not None:  # one intensity in every region: no per-firm lookup needed
            level = np.full(len(slots), everywhere)
        elif self._explicit_clusters[lid]:
            level = self._cluster_or_none[lid][ft.cluster[slots]]  # cluster -1 reads the last 0
        else:
            level = self._region[lid][ft.region[slots]]
        group = self.settings[lid].firms
        if group != "all":
            level = level * self.group_mask(group, ft, slots, level > 0, group_context)
        return level

    def group_mask(self, group: str, ft, slots, reached, ctx) -> np.ndarray:
        """Firm groups a lever can target (see policies.FIRM_GROUPS)."""
        if group == "smes":  # over the table's contiguous columns, then one lookup, not two
            return (ft.skilled[: ft.n] + ft.unskilled[: ft.n] < SME_MAX_EMPLOYEES)[slots]
        if group == "new_ventures":
            return (ctx.t - ft.birth_step[slots]) < 3 * self.p.steps_per_year
        if group == "cmo_members":
            return ft.member[slots]
        if group == "manufacturing":
            return self._manufacturing[ft.sector[slots]]
        if group == "promising":
            # Seed 3.6.1: the most promising firms with a good level of networking in the cluster.
            score = ft.quality[slots] * ft.productivity[slots] * (1.0 + ctx.degree[slots])
            mask = np.zeros(len(slots), dtype=bool)
            if reached.any():
                cut = upper_quartile(score[reached])
                mask = reached & (score >= cut)
            return mask
        raise ValueError(f"unknown firm group {group}")

    # --- what a lever spends ------------------------------------------------------------------
    def new_year(self) -> None:
        """Start a budget year: what each lever spent last year is kept, the counters reset."""
        for lid, arr in self.spent.items():
            if self._year_open:
                self._past_years[lid].append(arr.copy())
            arr[:] = 0.0
        self._year_open = True

    def spent_by_year(self, lid: str) -> np.ndarray:
        """What lever ``lid`` spent (k€), one row per budget year so far (the running year last),
        one column per region; no rows for a lever that is not switched on."""
        if lid not in self.settings:
            return np.zeros((0, self.world.n_regions))
        rows = self._past_years[lid] + ([self.spent[lid].copy()] if self._year_open else [])
        return np.array(rows).reshape(len(rows), self.world.n_regions)

    def yearly_cap(self, lid: str) -> np.ndarray:
        """Most lever ``lid`` may spend in a year, per region: policy.lever_budget x intensity."""
        return self.p.yearly.policy.lever_budget * self.region_level(lid)

    def remaining(self, lid: str, region: int) -> float:
        if lid not in self.settings:
            return 0.0
        return max(self._cap[lid][region] - self.spent[lid][region], 0.0)

    def left(self, lid: str) -> np.ndarray:
        """:meth:`remaining` of every region (``lid`` switched on)."""
        return np.maximum(self._cap[lid] - self.spent[lid], 0.0)

    def charge(self, lid: str, region: int, amount: float) -> float:
        """Spend up to ``amount`` of the lever's remaining yearly budget in ``region``; returns
        what was actually spent (0 when the lever is off or its budget is used up)."""
        amount = min(max(float(amount), 0.0), self.remaining(lid, region))
        if amount > 0:
            self.spent[lid][region] += amount
            self.ledger.add_cost(lid, region, amount)
        return amount

    def _running_sums(self, unit_cost: float, n: int) -> np.ndarray:
        """``[0, c, c + c, (c + c) + c, ...]`` up to n terms, for unit cost c (cached per cost)."""
        sums = self._sums.get(unit_cost)
        if sums is None or len(sums) <= n:
            size = max(2 * n, 1024)
            sums = np.concatenate([[0.0], np.cumsum(np.full(size, unit_cost))])
            self._sums[unit_cost] = sums
        return sums

    def allocate(self, lid: str, regions: np.ndarray, unit_cost: float | np.ndarray) -> np.ndarray:
        """Grant requests in order (callers order them by priority) while the region's budget
        lasts; returns the mask of granted requests and books their cost.

        Vectorised: one stable sort by region and a running sum within each region, so a call
        costs O(n log n) whatever the number of regions.
        """
        n = len(regions)
        if n == 0 or lid not in self.settings:
            return np.zeros(n, dtype=bool)
        regions = np.asarray(regions, dtype=np.intp)
        R = self.world.n_regions
        cap = self.left(lid)
        # One unit cost: every running sum is a multiple of it, added up in sequence, so they
        # come from a table (the very sums a weighted bincount or cumsum would make).
        one_cost = isinstance(unit_cost, float | int) or np.ndim(unit_cost) == 0
        if one_cost:
            sums = self._running_sums(float(unit_cost), n)
            spend = sums[np.bincount(regions, minlength=R)]
        else:
            cost = np.asarray(unit_cost, dtype=float)
            spend = np.bincount(regions, weights=cost, minlength=R)
        # count_nonzero rather than .all(): this runs ~20 times a step on a few regions, where
        # .all()'s Python-level wrapper costs more than the comparison itself.
        if np.count_nonzero(spend <= cap + _SLACK) == R:  # the usual case: every request fits
            granted = np.empty(n, dtype=bool)
            granted.fill(True)
        else:
            order = group_order(regions, R)
            reg = regions[order]
            start = np.searchsorted(reg, np.arange(R))
            if one_cost:
                cum, before = sums[1: n + 1], sums[start]
            else:
                c = cost[order]
                cum = np.cumsum(c)
                before = np.concatenate([[0.0], cum])[start]  # running sum before each region's first
            # Positions, not a boolean mask: numpy's boolean subscript of a mid-selective mask
            # costs about twice as much, and ok is read three times.
            ok = ((cum - before[reg]) <= cap[reg] + _SLACK).nonzero()[0]
            granted = np.zeros(n, dtype=bool)
            granted[order[ok]] = True
            if one_cost:
                spend = sums[np.bincount(reg[ok], minlength=R)]
            else:
                spend = np.bincount(reg[ok], weights=c[ok], minlength=R)
        self.spent[lid] += spend
        self.ledger.add_costs(lid, spend)
        return granted
