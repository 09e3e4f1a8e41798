"""The report's charts: trajectories by policy year, effects with intervals, and each region's
change in jobs against the baseline.

Axes say the quantity and its unit (a flow summed by year is "per year"), tick labels use
thousands separators (never an offset or scientific notation), and any number of packages gets
distinct colours (tab10, then tab20, then line styles) with the legend below the plot.
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from cluster_abm.reports import numbers

BASELINE_COLOUR = "#222222"
STYLES = ("-", "--", ":", "-.")


def colour(i: int, n: int) -> tuple:
    """Colour of arm ``i`` of ``n`` (the baseline, i = 0, is near-black)."""
    if i == 0:
        return BASELINE_COLOUR
    cmap = colormaps["tab10" if n <= 11 else "tab20"]
    return cmap((i - 1) % cmap.N)


def style(i: int, n: int) -> str:
    cycle = 10 if n <= 11 else 20
    return STYLES[((i - 1) // cycle) % len(STYLES)] if i else "-"


def _png(fig: Figure, path: Path) -> bytes:
    FigureCanvasAgg(fig)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fig.savefig(tmp, format="png", dpi=110)
    os.replace(tmp, path)
    return path.read_bytes()


def _plain_axis(axis) -> None:
    axis.set_major_formatter(FuncFormatter(lambda v, _pos: numbers.num(v)))


def _title(ax, text: str, width: int = 70) -> None:
    ax.set_title("\n".join(textwrap.wrap(text, width)), fontsize=10)


def _legend(fig: Figure, ax, n: int) -> None:
    if n <= 1:
        return
    cols = 1 if n <= 4 else 2 if n <= 10 else 3
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=cols,
              frameon=False)


def lines(bands: pd.DataFrame, order: list[str], titles: dict[str, str], title: str,
          ylabel: str, path: Path, scale: float = 1.0, zero_line: bool = False) -> bytes:
    """One line per arm over policy years with its band: ``bands`` has arm, year, mean, low,
    high (values divided by ``scale`` for display)."""
    n = len(order)
    rows = 1 + (n + 2) // 3 if n > 1 else 0
    fig = Figure(figsize=(7.2, 3.9 + 0.17 * rows))
    ax = fig.add_subplot(1, 1, 1)
    for i, arm in enumerate(order):
        d = bands[bands["arm"] == arm].sort_values("year")
        if d.empty:
            continue
        c = colour(i, n)
        ax.plot(d["year"], d["mean"] / scale, color=c, ls=style(i, n),
                lw=2.2 if i == 0 else 1.5, label="\n".join(textwrap.wrap(titles.get(arm, arm), 45)))
        lo, hi = d["low"].to_numpy(dtype=float), d["high"].to_numpy(dtype=float)
        if np.isfinite(lo).any():
            ax.fill_between(d["year"], lo / scale, hi / scale, color=c, alpha=0.15, lw=0)
    if zero_line:
        ax.axhline(0, color="black", lw=0.8)
    _title(ax, title)
    ax.set_xlabel("policy year (0 = the first)")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel(ylabel, fontsize=8)
    _plain_axis(ax.yaxis)
    ax.grid(alpha=0.3)
    _legend(fig, ax, n)
    fig.tight_layout()
    return _png(fig, path)


def effects(rows: pd.DataFrame, title: str, xlabel: str, path: Path, scale: float = 1.0) -> bytes:
    """Horizontal intervals: ``rows`` has label, mean, low, high, verdict ("good", "bad", "")."""
    fig = Figure(figsize=(7.2, 0.9 + 0.42 * max(len(rows), 1)))
    ax = fig.add_subplot(1, 1, 1)
    y = np.arange(len(rows))
    palette = {"good": "#1b7837", "bad": "#b2182b"}
    for yi, (_, r) in zip(y, rows.iterrows(), strict=True):
        c = palette.get(r["verdict"], "#555555")
        if numbers.finite(r["low"]) and numbers.finite(r["high"]):
            ax.plot([r["low"] / scale, r["high"] / scale], [yi, yi], color=c, lw=2.5)
        if numbers.finite(r["mean"]):
            ax.plot([r["mean"] / scale], [yi], "o", color=c)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(y, ["\n".join(textwrap.wrap(str(s), 40)) for s in rows["label"]], fontsize=7)
    ax.invert_yaxis()
    _title(ax, title)
    ax.set_xlabel(xlabel, fontsize=8)
    _plain_axis(ax.xaxis)
    ax.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    return _png(fig, path)
