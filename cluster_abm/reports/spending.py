"""What each lever of each package spent, by region and policy year, against what it could.

From the store's ``lever_costs`` table (what each lever spent per step and region, k€ of the real
region): the mean over an arm's replicates (a replicate in which a lever spent nothing counts as
zero), by lever, region and policy year; in total, as a present value, per year while the lever
runs; and against its cap. A lever may spend at most its programme's money for it, or else
``policy.lever_budget x intensity``, per targeted region and year
(``cluster_abm/policy/lever_state.py``, ``programme.py``), so the share of that cap it
spent shows how much of the money it was given it could absorb: a lever that spends little of it
found few eligible firms or few takers, whatever its budget.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from cluster_abm.policy.levers import BY_ID
from cluster_abm.reports.yearly import discount_factors, policy_year
from cluster_abm.specs.scenario import Scenario


def yearly_spending(costs: pd.DataFrame, runs_per_arm: dict[str, int], steps_per_year: int,
                    years: int) -> pd.DataFrame:
    """Mean spending per arm, lever, region and policy year over each arm's replicates:
    arm, lever, region, year, spent (k€)."""
    cols = ["arm", "lever", "region", "year", "spent"]
    if costs.empty:
        return pd.DataFrame(columns=cols)
    c = costs.copy()
    c["year"] = policy_year(c["step"].to_numpy(), steps_per_year)
    c = c[(c["year"] >= 0) & (c["year"] < years)]
    total = c.groupby(["arm", "lever", "region", "year"], sort=False)["cost"].sum().reset_index()
    total["spent"] = total["cost"] / total["arm"].map(runs_per_arm).astype(float)
    return total[cols].sort_values(["arm", "lever", "region", "year"]).reset_index(drop=True)


def reached_regions(scenario: Scenario, lid: str) -> list[str]:
    """The regions a lever of ``scenario`` reaches: its regions, the regions of its clusters,
    or every region."""
    s = scenario.levers[lid]
    if s.clusters is not None:
        regions = list(dict.fromkeys(c.split(".", 1)[0] for c in s.clusters))
        return [r for r in regions if s.regions is None or r in s.regions]
    return list(s.regions) if s.regions is not None else list(scenario.region_ids)


def running_years(scenario: Scenario, lid: str, years: int) -> int:
    """Policy years 0 .. years - 1 in which lever ``lid`` runs (within its programme's years)."""
    s, prog = scenario.levers[lid], scenario.programme
    in_prog = prog is not None and lid in prog.levers
    return sum(1 for y in range(years) if s.runs_in(y) and (not in_prog or prog.runs_in(y)))


def yearly_caps(scenario: Scenario, lid: str) -> dict[str, float]:
    """Most lever ``lid`` may spend a year, by region (k€): its programme's money for it (its
    share, or under a priority order all of the programme's yearly money), else
    ``policy.lever_budget`` x intensity in every region it reaches."""
    prog = scenario.programme
    if prog is not None and lid in prog.levers:
        enterprises = np.array([r["enterprises"] for r in scenario.regions], dtype=float)
        share = prog.region_shares(scenario.region_ids, enterprises)
        part = dict(prog.shares).get(lid, 1.0)
        return {r: prog.per_year_keur * part * sh for r, sh in zip(scenario.region_ids, share, strict=True) if sh > 0}
    budget = float(scenario.param("policy.lever_budget")) * scenario.levers[lid].intensity
    return dict.fromkeys(reached_regions(scenario, lid), budget)


def lever_summary(per_year: pd.DataFrame, arms: dict[str, Scenario], years: int,
                  rate: float) -> pd.DataFrame:
    """Per arm, lever and region (and each lever in all regions, region ``ALL``): spent over the
    run, its present value, per running year, its yearly cap (in every region it reaches, for
    ``ALL``), the cap over the running years and the share of it spent. Levers switched on but never spending appear with zeros."""
    rows = []
    for arm, scenario in arms.items():
        d = per_year[per_year["arm"] == arm]
        for lid in scenario.levers:
            lever = BY_ID.get(lid)
            intensity = scenario.levers[lid].intensity
            run_years = running_years(scenario, lid, years)
            caps = yearly_caps(scenario, lid)
            reached = list(caps)
            dl = d[d["lever"] == lid]
            spent_regions = list(dict.fromkeys(dl["region"]))
            regions = list(dict.fromkeys([*reached, *spent_regions]))
            for region in [*regions, "ALL"]:
                dr = dl if region == "ALL" else dl[dl["region"] == region]
                spent = float(dr["spent"].sum())
                pv = float((dr["spent"] * discount_factors(dr["year"].to_numpy(), rate)).sum())
                yearly = sum(caps.values()) if region == "ALL" else caps.get(region, 0.0)
                cap = yearly * run_years
                rows.append({
                    "arm": arm, "lever": lid, "lever_name": lever.name if lever else lid,
                    "region": region, "intensity": intensity,
                    "start_year": scenario.levers[lid].start_year,
                    "end_year": scenario.levers[lid].end_year,
                    "years_running": run_years, "spent": spent, "spent_pv": pv,
                    "spent_per_year": spent / run_years if run_years else math.nan,
                    "yearly_cap": yearly if yearly > 0 else math.nan,
                    "cap": cap if cap > 0 else math.nan,
                    "share_of_cap": spent / cap if cap > 0 else math.nan,
                })
    return pd.DataFrame(rows, columns=[
        "arm", "lever", "lever_name", "region", "intensity", "start_year", "end_year",
        "years_running", "spent", "spent_pv", "spent_per_year", "yearly_cap", "cap",
        "share_of_cap"])


def not_absorbed_reason(share: float) -> str:
    """A short reading of how much of its cap a lever spent."""
    if not np.isfinite(share):
        return ""
    if share >= 0.95:
        return "spent (nearly) all it could: the cap binds"
    if share >= 0.5:
        return "spent most of its cap"
    if share > 0:
        return "spent little of its cap: its takers, at its unit cost, need less"
    return "spent nothing: no eligible firm took it up"
