"""The result of one analysis (`SAResult`) and the checks that turn it into plain-language warnings.

Confidence values ("*_conf") are SALib's: half-widths ``z * bootstrap standard deviation`` of a
normal-approximation interval at ``conf_level``, so an interval is ``[value - conf, value +
conf]``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

# Index columns each method produces (value columns; "*_conf" columns are their CI half-widths).
INDEX_COLUMNS: dict[str, tuple[str, ...]] = {
    "sobol": ("S1", "S1_conf", "ST", "ST_conf"),
    "morris": ("mu", "mu_star", "sigma", "mu_star_conf"),
    "pawn": ("minimum", "mean", "median", "maximum", "CV", "stdev", "median_conf"),
    "delta": ("delta", "delta_conf", "S1", "S1_conf"),
}
# The indices worth plotting and checking, per method, in display order.
HEADLINE: dict[str, tuple[str, ...]] = {
    "sobol": ("S1", "ST"),
    "morris": ("mu_star",),
    "pawn": ("median",),
    "delta": ("delta", "S1"),
}
# The index factors are ranked by.
RANK_BY: dict[str, str] = {"sobol": "ST", "morris": "mu_star", "pawn": "median", "delta": "delta"}
SECOND_ORDER_COLUMNS: tuple[str, ...] = ("param_i", "param_j", "S2", "S2_conf")


@dataclass(frozen=True)
class Thresholds:
    """When an analysis earns a warning; the defaults are declared here, not buried in code.

    * ``st_sum_max``: the sum of Sobol total-order indices above which interactions are strong
      or the estimate is poor (it is 1 for an additive model).
    * ``ci_rel_max`` and ``ci_floor``: a CI half-width is "too wide" when it exceeds
      ``ci_rel_max * max(|index|, ci_floor)``; the floor keeps near-zero indices from always
      failing. For Morris (indices in output units) the floor is ``ci_floor * max(mu_star)``.
    * ``noise_share_max``: the share of the analysed variance that is seed noise.
    """

    st_sum_max: float = 1.5
    ci_rel_max: float = 0.5
    ci_floor: float = 0.1
    noise_share_max: float = 0.2


DEFAULT_THRESHOLDS = Thresholds()


@dataclass
class SAResult:
    """Indices for one output, plus what is needed to judge them.

    ``indices`` has one row per factor (column ``param``) and the method's columns (see
    ``INDEX_COLUMNS``); ``second_order`` is the long Sobol S2 table (empty for other methods);
    ``noise`` is :func:`.noise.noise_summary` of the replicates; ``warnings`` are findings a
    reader must see, ``notes`` are context (e.g. messages SALib emitted).
    """

    output: str
    method: str
    indices: pd.DataFrame
    second_order: pd.DataFrame
    noise: dict[str, float]
    n_base: int
    n_points: int
    n_replicates: int
    seed: int
    conf_level: float
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def headline(self) -> tuple[str, ...]:
        """The indices to plot and rank by for this method."""
        return HEADLINE[self.method]

    def long(self) -> pd.DataFrame:
        """Tidy table (param, index, value, conf) used by convergence and time-series tables."""
        return long_indices(self.indices)

    def ranking(self) -> list[str]:
        """Factors sorted by the method's ranking index (``RANK_BY``), largest first."""
        key = RANK_BY[self.method]
        order = self.indices.sort_values(key, ascending=False, na_position="last")
        return [str(p) for p in order["param"]]


def long_indices(indices: pd.DataFrame) -> pd.DataFrame:
    """Melt an indices table to (param, index, value, conf); conf is NaN where SALib gives none."""
    rows = []
    values = [c for c in indices.columns if c != "param" and not str(c).endswith("_conf")]
    for col in values:
        conf_col = f"{col}_conf"
        conf = indices[conf_col] if conf_col in indices.columns else np.nan
        rows.append(
            pd.DataFrame(
                {"param": indices["param"], "index": col, "value": indices[col], "conf": conf}
            )
        )
    return pd.concat(rows, ignore_index=True)


def _fmt(x: float) -> str:
    """Compact number formatting for warning texts."""
    return f"{x:.3g}"


def _wide_ci_warnings(result: SAResult, t: Thresholds) -> list[str]:
    """One warning per headline index whose CI is wider than the declared tolerance."""
    out = []
    df = result.indices
    for col in result.headline:
        conf_col = f"{col}_conf"
        if conf_col not in df.columns:
            continue
        floor = t.ci_floor
        if result.method == "morris":
            top = float(np.nanmax(np.abs(df[col]))) if df[col].notna().any() else 0.0
            floor = t.ci_floor * top
        bad = []
        for param, v, c in zip(df["param"], df[col], df[conf_col], strict=True):
            if math.isfinite(v) and math.isfinite(c) and c > t.ci_rel_max * max(abs(v), floor):
                bad.append(f"{param} ({_fmt(v)} \u00b1 {_fmt(c)})")
        if bad:
            out.append(
                f"{result.output}: wide {int(round(result.conf_level * 100))}% CIs for {col} "
                f"(half-width > {t.ci_rel_max:g} x max(|index|, floor)): {', '.join(bad)}; "
                f"increase the sample size (now {result.n_base})"
            )
    return out


def collect_warnings(result: SAResult, t: Thresholds = DEFAULT_THRESHOLDS) -> list[str]:
    """Turn the declared thresholds into readable warnings for ``result``."""
    out: list[str] = []
    name = result.output
    if result.indices[list(result.headline)].isna().to_numpy().any():
        out.append(f"{name}: some {result.method} indices are NaN (see notes)")
    if result.method == "sobol" and result.indices["ST"].notna().all():
        st_sum = float(result.indices["ST"].sum())
        if st_sum > t.st_sum_max:
            out.append(
                f"{name}: sum of total-order indices is {_fmt(st_sum)} > {t.st_sum_max:g}: "
                "strong interactions, seed noise, or too few samples"
            )
    out.extend(_wide_ci_warnings(result, t))
    share = result.noise.get("noise_share", float("nan"))
    if math.isfinite(share) and share > t.noise_share_max:
        out.append(
            f"{name}: noise share {_fmt(share)} > {t.noise_share_max:g}: seed noise is "
            f"{share:.0%} of the variance of the replicate means (R={result.n_replicates}); "
            "add replicates"
        )
    return out
