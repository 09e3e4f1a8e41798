"""Policy years from stored series: flows summed over each year, stocks and ratios averaged.

The store keeps series at a cadence of ``series_every`` steps (``docs/outputs.md``): stocks and
ratios at the recorded step, flows summed over the steps up to it. Whatever the cadence, the
report reads them by policy year: year ``y`` (from 0) holds steps ``y * spy + 1 .. (y + 1) * spy``;
a flow's year is the sum of its recorded values in the year (its yearly total when the cadence
divides the year), a stock's or a ratio's the mean of its recorded values (the year-end value at a
yearly cadence). Step 0, the state at the start of policy year 0, belongs to no year.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cluster_abm.outputs.metrics import SERIES


def policy_year(step: np.ndarray, steps_per_year: int) -> np.ndarray:
    """The policy year (from 0) a step closes: steps 1..spy are year 0; step 0 gives -1."""
    step = np.asarray(step, dtype=np.int64)
    return np.where(step > 0, (step - 1) // int(steps_per_year), -1)


def yearly(ts: pd.DataFrame, steps_per_year: int, keys: tuple[str, ...] = ("arm", "seed")) -> pd.DataFrame:
    """Long yearly table: ``keys`` + region, metric, year (policy year from 0), value."""
    if ts.empty:
        return pd.DataFrame(columns=[*keys, "region", "metric", "year", "value"])
    df = ts[ts["step"] > 0].copy()
    df["year"] = policy_year(df["step"].to_numpy(), steps_per_year)
    kind = df["metric"].map(lambda m: SERIES[m].kind if m in SERIES else "stock")
    group = [*keys, "region", "metric", "year"]
    flows = df[kind == "flow"].groupby(group, sort=False)["value"].sum(min_count=1)
    levels = df[kind != "flow"].groupby(group, sort=False)["value"].mean()
    out = pd.concat([flows, levels]).reset_index()
    return out.sort_values(group, kind="stable").reset_index(drop=True)


def discount_factors(years: np.ndarray, rate: float) -> np.ndarray:
    """``(1 + rate) ** -year``: policy year 0 undiscounted, as the European Commission's guide to
    cost-benefit analysis counts the first year as year 0 (Sartori et al. 2014)."""
    return (1.0 + float(rate)) ** -np.asarray(years, dtype=float)
