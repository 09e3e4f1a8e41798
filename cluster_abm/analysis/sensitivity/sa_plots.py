"""Figures for sensitivity results, written as PNG files.

Figures are built on :class:`matplotlib.figure.Figure` with an explicit Agg canvas instead of
pyplot: no global figure registry, no backend switch for the caller, safe in worker processes.
Every function takes a result or tidy table and a path, writes atomically and returns the path.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from cluster_abm.analysis.sensitivity.atomic_io import atomic_write_bytes
from cluster_abm.analysis.sensitivity.sa_results import HEADLINE, SAResult


def _new_figure(width: float = 6.4, height: float = 4.0) -> Figure:
    """A figure attached to its own Agg canvas."""
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Figure, path: str | Path) -> Path:
    """Render to PNG in memory, then write atomically."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    return atomic_write_bytes(path, buf.getvalue())


def _conf(df: pd.DataFrame, col: str) -> np.ndarray | None:
    """CI half-widths for ``col`` if the table has them (NaN drawn as no bar)."""
    name = f"{col}_conf"
    return np.nan_to_num(df[name].to_numpy(dtype=float)) if name in df.columns else None


def plot_indices(result: SAResult, path: str | Path) -> Path:
    """Bar chart of the headline indices with CI error bars (S1 and ST side by side for Sobol)."""
    df = result.indices
    cols = HEADLINE[result.method]
    x = np.arange(len(df))
    width = 0.8 / len(cols)
    fig = _new_figure(max(4.0, 0.8 * len(df) + 2), 4.0)
    ax = fig.subplots()
    for j, col in enumerate(cols):
        ax.bar(
            x + (j - (len(cols) - 1) / 2) * width,
            df[col].to_numpy(dtype=float),
            width,
            yerr=_conf(df, col),
            capsize=3,
            label=col,
        )
    ax.set_xticks(
        x, df["param"], rotation=30 if len(df) > 6 else 0, ha="right" if len(df) > 6 else "center"
    )
    ax.axhline(0, color="black", linewidth=0.6)
    ax.set_ylabel("index")
    ax.set_title(
        f"{result.output}: {result.method} indices ({int(round(result.conf_level * 100))}% CI)"
    )
    ax.legend()
    return _save(fig, path)


def plot_morris(result: SAResult, path: str | Path) -> Path:
    """mu* against sigma with labels: far right = influential, high = non-linear/interacting."""
    if result.method != "morris":
        raise ValueError(f"plot_morris needs a Morris result, got {result.method}")
    df = result.indices
    fig = _new_figure(5.5, 4.5)
    ax = fig.subplots()
    ax.errorbar(df["mu_star"], df["sigma"], xerr=_conf(df, "mu_star"), fmt="o", capsize=3)
    for p, mx, sy in zip(df["param"], df["mu_star"], df["sigma"], strict=True):
        ax.annotate(str(p), (mx, sy), textcoords="offset points", xytext=(4, 4))
    top = float(np.nanmax(np.r_[df["mu_star"], df["sigma"], 1e-12]))
    ax.plot([0, top], [0, top], color="grey", linestyle="--", linewidth=0.8, label="sigma = mu*")
    ax.set_xlabel("mu* (mean |elementary effect|)")
    ax.set_ylabel("sigma (sd of elementary effects)")
    ax.set_title(f"{result.output}: Morris screening")
    ax.legend(loc="upper left")
    return _save(fig, path)


def plot_second_order(result: SAResult, path: str | Path) -> Path:
    """Heat map of Sobol S2 (symmetric); annotated so small but real interactions are visible."""
    s2 = result.second_order
    if s2.empty:
        raise ValueError(f"{result.output} has no second-order indices to plot")
    names = list(result.indices["param"])
    pos = {n: i for i, n in enumerate(names)}
    mat = np.full((len(names), len(names)), np.nan)
    for a, b, v in zip(s2["param_i"], s2["param_j"], s2["S2"], strict=True):
        mat[pos[a], pos[b]] = mat[pos[b], pos[a]] = v
    fig = _new_figure(max(4.0, 0.6 * len(names) + 2.5), max(3.5, 0.6 * len(names) + 1.5))
    ax = fig.subplots()
    lim = max(float(np.nanmax(np.abs(mat))), 1e-6)
    im = ax.imshow(mat, cmap="RdBu_r", vmin=-lim, vmax=lim)
    for i in range(len(names)):
        for j in range(len(names)):
            if np.isfinite(mat[i, j]):
                dark = abs(mat[i, j]) > 0.6 * lim  # keep labels readable on saturated cells
                ax.text(
                    j,
                    i,
                    f"{mat[i, j]:.2f}",
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if dark else "black",
                )
    ax.set_xticks(range(len(names)), names, rotation=45, ha="right")
    ax.set_yticks(range(len(names)), names)
    fig.colorbar(im, ax=ax, label="S2")
    ax.set_title(f"{result.output}: second-order Sobol indices")
    return _save(fig, path)


def _lines_with_bands(df: pd.DataFrame, x: str, path: str | Path, title: str, log2x: bool) -> Path:
    """One panel per index, one line per factor, CI band where conf is known."""
    indices = list(dict.fromkeys(df["index"]))
    fig = _new_figure(5.0 * len(indices), 4.0)
    axes = np.atleast_1d(fig.subplots(1, len(indices), squeeze=False)[0])
    for ax, idx in zip(axes, indices, strict=True):
        sub = df[df["index"] == idx]
        for param, g in sub.groupby("param", sort=False):
            g = g.sort_values(x)
            xs = g[x].to_numpy(dtype=float)
            v = g["value"].to_numpy(dtype=float)
            c = g["conf"].to_numpy(dtype=float)
            (line,) = ax.plot(xs, v, marker="o", markersize=3, label=str(param))
            if np.isfinite(c).any():
                ax.fill_between(xs, v - c, v + c, color=line.get_color(), alpha=0.2)
        if log2x:
            ax.set_xscale("log", base=2)
        ax.set_xlabel(x)
        ax.set_ylabel(idx)
        ax.set_title(idx)
    axes[-1].legend(fontsize=8)
    fig.suptitle(title)
    return _save(fig, path)


def plot_convergence(
    df: pd.DataFrame, path: str | Path, method: str | None = None, title: str = "Convergence"
) -> Path:
    """Index against base sample size with CI bands (table from :func:`convergence`)."""
    keep = df if method is None else df[df["index"].isin(HEADLINE[method])]
    if keep.empty:
        raise ValueError("nothing to plot: the convergence table has no matching rows")
    return _lines_with_bands(keep, "n", path, title, log2x=True)


def plot_series(
    df: pd.DataFrame,
    path: str | Path,
    method: str | None = None,
    title: str = "Time-resolved sensitivity",
) -> Path:
    """Index against time with CI bands (table from :func:`analyze_series`)."""
    keep = df if method is None else df[df["index"].isin(HEADLINE[method])]
    if keep.empty:
        raise ValueError("nothing to plot: the series table has no matching rows")
    return _lines_with_bands(keep, "time", path, title, log2x=False)


def standard_figures(result: SAResult, out_dir: str | Path) -> dict[str, Path]:
    """The figures that fit ``result``'s method, named ``<output>_<kind>.png`` in ``out_dir``."""
    out = Path(out_dir)
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in result.output)
    figs = {f"{result.output}: indices": plot_indices(result, out / f"{safe}_indices.png")}
    if result.method == "morris":
        figs[f"{result.output}: mu*-sigma"] = plot_morris(result, out / f"{safe}_morris.png")
    if not result.second_order.empty and result.second_order["S2"].notna().any():
        figs[f"{result.output}: second order"] = plot_second_order(result, out / f"{safe}_s2.png")
    return figs
