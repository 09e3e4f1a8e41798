"""The PNG dashboard of one run: the main outcomes by region, one panel per question users ask."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

PANELS = (
    ("employment", "Employment (persons)", "level"),
    ("innovations", "Innovations per year", "yearly"),
    ("skilled_emigrants_cum", "Skilled emigrants, cumulative (brain drain)", "level"),
    ("unemployment_rate", "Unemployment rate", "level"),
    ("births", "Firm births per year", "yearly"),
    ("deaths", "Firm deaths per year", "yearly"),
    ("eco_innovations", "Eco-innovations per year", "yearly"),
    ("ties_cross_cluster", "Ties beyond the own cluster", "level"),
    ("knowledge_stock", "Knowledge per firm (ku)", "level"),
)


def _yearly(values: pd.Series, steps_per_year: int) -> pd.Series:
    """Sum a per-step flow into calendar years (the first row, the initial state, is dropped)."""
    v = values.iloc[1:]
    years = np.ceil(v.index.values - 1e-9).astype(int)
    return v.groupby(years).sum()


def draw_dashboard(timeseries: pd.DataFrame, title: str, path: Path, steps_per_year: int) -> Path:
    """Write a 3x3 grid of the main outcomes by region (thin lines) and in total (thick, right axis
    where the scale differs) to ``path`` (PNG, written atomically)."""
    fig = Figure(figsize=(15, 11), dpi=100)
    FigureCanvasAgg(fig)
    regions = [r for r in timeseries["region"].unique() if r != "ALL"]
    colours = dict(zip(regions, ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02",
                                  "#a6761d", "#666666"), strict=False))
    for i, (metric, label, kind) in enumerate(PANELS):
        ax = fig.add_subplot(3, 3, i + 1)
        df = timeseries[timeseries["metric"] == metric]
        for r in regions:
            s = df[df["region"] == r].set_index("year")["value"]
            if kind == "yearly":
                s = _yearly(s, steps_per_year)
            ax.plot(s.index, s.values, color=colours.get(r, "grey"), lw=1.4, label=r)
        ax.set_title(label, fontsize=11)
        ax.set_xlabel("year")
        ax.grid(alpha=0.3)
        if i == 0:
            ax.legend(fontsize=8, loc="best")
    fig.suptitle(title, fontsize=14)
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    fig.savefig(tmp, format="png")
    tmp.replace(path)
    return path
