"""A programme budget: the money a policy package has, in real euros, and how its levers share it.

Seed 2.4 / 3.4.1 asks for a stable, predictable, multi-annual financial framework for clusters;
regional development agencies plan programmes that way: a budget in euros, total or per year,
for a region or for all, split among the programme's measures by fixed shares or by priority
(money a higher-priority measure cannot absorb moves down the list at the annual review, as
managing authorities reallocate unabsorbed funds between measures of an operational programme).

A scenario's ``[programme]`` table::

    [programme]
    budget_keur = 10000          # the total over the programme's years (or budget_keur_per_year)
    start_year = 0               # policy years; the programme runs start_year .. start_year + years - 1
    years = 5                    # required with budget_keur; default with a yearly budget: to the end
    regions = ["north_east_romania"]   # default: every region of the scenario
    split = "shares"             # or "priority"
    shares = { incubators = 0.5, network_contracts = 0.5 }   # split = "shares": sum to 1
    priority = ["incubators", "network_contracts"]           # split = "priority": first served first

The yearly money is split among the programme's regions in proportion to their enterprises
(real-region units) and replaces ``policy.lever_budget x intensity`` as each lever's yearly cap.
With shares, a lever's cap is its share. With a priority order, the first lever may commit what it
asked for last year (the whole yearly money in the first year), the next what it asked within what
is left, and so on; the last takes the rest. Money a lever does not commit or spend is not spent
(reported as not absorbed, with the reason).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from cluster_abm.errors import InputError, closest

SPLITS = ("shares", "priority")
BUDGET_MAX = 1e9  # k€: a trillion euros, far above any regional programme
YEAR_MAX = 200
_KEYS = ("budget_keur", "budget_keur_per_year", "start_year", "years", "regions", "split", "shares", "priority")


@dataclass(frozen=True)
class Programme:
    """A package's budget (validated): yearly money in real k€, years, regions and its split."""

    per_year_keur: float
    start_year: int = 0
    end_year: int | None = None  # exclusive; None: to the end of the run
    regions: tuple[str, ...] | None = None  # None: every region
    split: str = "shares"
    shares: tuple[tuple[str, float], ...] = ()
    priority: tuple[str, ...] = ()

    @property
    def levers(self) -> tuple[str, ...]:
        return tuple(lid for lid, _ in self.shares) if self.split == "shares" else self.priority

    def runs_in(self, year: int) -> bool:
        return self.start_year <= year and (self.end_year is None or year < self.end_year)

    def region_shares(self, region_ids: list[str], enterprises: np.ndarray) -> np.ndarray:
        """Share of the yearly money each region gets: its enterprises among the programme's
        regions (equal shares where no region gives its enterprises)."""
        inside = np.array([self.regions is None or r in self.regions for r in region_ids], dtype=float)
        weight = inside * np.where(enterprises > 0, enterprises, 0.0)
        if weight.sum() <= 0:
            weight = inside
        return weight / weight.sum()

    def planned(self, year: int, region_share: np.ndarray) -> dict[str, np.ndarray]:
        """Money planned for each lever in ``year`` by region (k€): the fixed shares, or for a
        priority order the whole yearly money offered to the first lever."""
        if not self.runs_in(year):
            return {lid: np.zeros_like(region_share) for lid in self.levers}
        money = self.per_year_keur * region_share
        if self.split == "shares":
            return {lid: share * money for lid, share in self.shares}
        return {lid: money.copy() if i == 0 else np.zeros_like(money) for i, lid in enumerate(self.priority)}

    def commit(self, year: int, region_share: np.ndarray, running: set[str],
               asked_last_year: dict[str, np.ndarray] | None) -> dict[str, np.ndarray]:
        """Each lever's cap in ``year`` by region (k€). Levers that do not run this year get 0
        (their money stays unspent under shares, and goes down the list under priority)."""
        money = self.per_year_keur * region_share if self.runs_in(year) else np.zeros_like(region_share)
        if self.split == "shares":
            return {lid: share * money if lid in running else np.zeros_like(money) for lid, share in self.shares}
        left = money.copy()
        caps = {}
        order = [lid for lid in self.priority if lid in running]
        for i, lid in enumerate(self.priority):
            if lid not in running:
                caps[lid] = np.zeros_like(money)
                continue
            last = i == len(self.priority) - 1 or lid == order[-1]
            want = asked_last_year.get(lid) if asked_last_year else None
            caps[lid] = left.copy() if last or want is None else np.minimum(left, want)
            left = left - caps[lid]
        return caps


def programme_to_dict(prog: Programme) -> dict[str, Any]:
    """The ``[programme]`` table of a programme (TOML/JSON-able; validates back to it)."""
    out: dict[str, Any] = {"budget_keur_per_year": prog.per_year_keur, "start_year": prog.start_year}
    if prog.end_year is not None:
        out["years"] = prog.end_year - prog.start_year
    if prog.regions is not None:
        out["regions"] = list(prog.regions)
    out["split"] = prog.split
    if prog.split == "shares":
        out["shares"] = dict(prog.shares)
    else:
        out["priority"] = list(prog.priority)
    return out


def validate_programme(raw: Any, source: str, region_ids: list[str], lever_ids: list[str]) -> Programme | None:
    """Check a scenario's ``[programme]`` table; a one-line error names the file and the key."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise InputError("must be a table (budget_keur or budget_keur_per_year, years, regions, split, shares or priority)",
                         source=source, key="programme")
    for k in raw:
        if k not in _KEYS:
            raise InputError(f"unknown key; {closest(k, _KEYS)}", source=source, key=f"programme.{k}")
    if ("budget_keur" in raw) == ("budget_keur_per_year" in raw):
        raise InputError("give exactly one of budget_keur (the total) and budget_keur_per_year", source=source, key="programme")
    money_key = "budget_keur" if "budget_keur" in raw else "budget_keur_per_year"
    money = _number(raw[money_key], source, f"programme.{money_key}", 0.0, BUDGET_MAX)
    start = _year(raw.get("start_year", 0), source, "programme.start_year", 0)
    years = None if "years" not in raw else _year(raw["years"], source, "programme.years", 1)
    if money_key == "budget_keur" and years is None:
        raise InputError("a total budget needs the programme's years (or give budget_keur_per_year)", source=source, key="programme.years")
    per_year = money / years if money_key == "budget_keur" else money
    regions = raw.get("regions")
    if regions is not None:
        if isinstance(regions, str):
            regions = [regions]
        if not isinstance(regions, list) or not regions:
            raise InputError("must be a non-empty list of region ids", source=source, key="programme.regions")
        for r in regions:
            if r not in region_ids:
                raise InputError(f"{r!r} names no region of this scenario; {closest(str(r), region_ids)}", source=source, key="programme.regions")
        regions = tuple(regions)
    split = raw.get("split", "shares")
    if split not in SPLITS:
        raise InputError(f"{split!r} is not a split; allowed: {', '.join(SPLITS)}", source=source, key="programme.split")
    other = "priority" if split == "shares" else "shares"
    if other in raw:
        raise InputError(f"split = {split!r} takes {split}, not {other}", source=source, key=f"programme.{other}")
    shares: tuple[tuple[str, float], ...] = ()
    priority: tuple[str, ...] = ()
    if split == "shares":
        table = raw.get("shares")
        if not isinstance(table, dict) or not table:
            raise InputError("must be a table of lever ids and shares that sum to 1", source=source, key="programme.shares")
        for lid, share in table.items():
            _lever(lid, source, "programme.shares", lever_ids)
            _number(share, source, f"programme.shares.{lid}", 0.0, 1.0)
        total = sum(float(v) for v in table.values())
        if not math.isclose(total, 1.0, abs_tol=1e-6):
            raise InputError(f"shares sum to {total:g}; they must sum to 1", source=source, key="programme.shares")
        shares = tuple((lid, float(v)) for lid, v in table.items())
    else:
        order = raw.get("priority")
        if not isinstance(order, list) or not order:
            raise InputError("must be a non-empty list of lever ids, first served first", source=source, key="programme.priority")
        for lid in order:
            _lever(lid, source, "programme.priority", lever_ids)
        if len(set(order)) != len(order):
            raise InputError("names a lever twice", source=source, key="programme.priority")
        priority = tuple(order)
    end = None if years is None else start + years
    return Programme(per_year, start, end, regions, split, shares, priority)


def _number(value: Any, source: str, key: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or not low <= value <= high:
        raise InputError(f"{value!r} is out of range; allowed {low:g} to {high:g}", source=source, key=key)
    return float(value)


def _year(value: Any, source: str, key: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= YEAR_MAX:
        raise InputError(f"{value!r} is not allowed; whole years {low} to {YEAR_MAX}", source=source, key=key)
    return int(value)


def _lever(lid: str, source: str, key: str, lever_ids: list[str]) -> None:
    if lid not in lever_ids:
        raise InputError(f"{lid!r} is not a lever switched on in this scenario; {closest(str(lid), lever_ids)}",
                         source=source, key=key)
