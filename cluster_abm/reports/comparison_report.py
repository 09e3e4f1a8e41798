"""The policy comparison report: trajectories with 95 % bands, paired effects against the baseline
with confidence intervals, public cost per job and per innovation, and a plain-language paragraph
per scenario, as one self-contained HTML file with PNG figures and CSV tables beside it.

Every scenario of a comparison runs replicate r with the same seed (common random numbers), so
effects are paired differences, seed by seed (:meth:`ExperimentResults.paired_effects`).
"""

from __future__ import annotations

import base64
import html
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from scipy import stats

from cluster_abm.outputs.metrics import KPIS, SERIES

# Trajectories shown (region ALL) and the headline KPIs the text talks about, in that order.
TRAJECTORIES = ("employment", "innovations", "skilled_emigrants_cum", "unemployment_rate",
                "eco_innovations", "firms", "ties_cross_cluster", "knowledge_stock", "public_cost")
HEADLINE_KPIS = ("employment_final_real", "employment_final", "innovations_per_year", "skilled_emigrants_total",
                 "eco_innovations_per_year", "unemployment_final", "survival_3y",
                 "ties_cross_cluster_final", "emission_intensity_final")
COLOURS = ("#222222", "#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02",
           "#a6761d", "#1f78b4", "#b15928", "#6a3d9a", "#b2df8a")
PLAIN = {
    "employment_final_real": "employment of the real regions in the last year",
    "employment_final": "employment in the last year (model firms)",
    "innovations_per_year": "innovations per year",
    "skilled_emigrants_total": "skilled emigrants over the run (brain drain)",
    "eco_innovations_per_year": "eco-innovations per year",
    "unemployment_final": "the unemployment rate in the last year",
    "survival_3y": "the 3-year survival of new firms",
    "ties_cross_cluster_final": "cooperation ties beyond the own cluster",
    "emission_intensity_final": "emissions per unit of output",
}


@dataclass
class ReportInputs:
    """What the report needs beyond the stored results."""

    title: str
    description: str
    scenario_titles: dict[str, str]
    baseline: str
    years: float
    replicates: int
    level: float = 0.95
    seed: int = 0  # for the bootstrap of cost ratios


def _png(fig: Figure, path: Path) -> bytes:
    FigureCanvasAgg(fig)
    tmp = path.with_name(f".{path.name}.tmp")
    fig.savefig(tmp, format="png", dpi=110)
    tmp.replace(path)
    return path.read_bytes()


def trajectory_bands(ts: pd.DataFrame, level: float) -> pd.DataFrame:
    """Mean over replicates and the confidence interval of that mean, per scenario, metric, year."""
    g = ts.groupby(["scenario", "metric", "year"])["value"]
    out = g.agg(["mean", "std", "count"]).reset_index()
    t = stats.t.ppf(0.5 + level / 2, np.maximum(out["count"] - 1, 1))
    half = np.where(out["count"] > 1, t * out["std"] / np.sqrt(out["count"]), np.nan)
    out["low"], out["high"] = out["mean"] - half, out["mean"] + half
    return out


def _trajectory_figure(bands: pd.DataFrame, metric: str, order: list[str], titles: dict[str, str],
                       path: Path) -> bytes:
    fig = Figure(figsize=(7.2, 4.2))
    ax = fig.add_subplot(1, 1, 1)
    sub = bands[bands["metric"] == metric]
    for i, sc in enumerate(order):
        d = sub[sub["scenario"] == sc].sort_values("year")
        if d.empty:
            continue
        c = COLOURS[i % len(COLOURS)]
        ax.plot(d["year"], d["mean"], color=c, lw=2.2 if i == 0 else 1.6, label=titles.get(sc, sc))
        ax.fill_between(d["year"], d["low"], d["high"], color=c, alpha=0.18, lw=0)
    s = SERIES.get(metric)
    ax.set_title(f"{metric.replace('_', ' ')} ({s.unit})" if s else metric, fontsize=11)
    ax.set_xlabel("year")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    return _png(fig, path)


def _effects_figure(effects: pd.DataFrame, kpi: str, titles: dict[str, str], path: Path) -> bytes:
    d = effects[effects["kpi"] == kpi]
    fig = Figure(figsize=(7.2, 0.5 + 0.45 * max(len(d), 1)))
    ax = fig.add_subplot(1, 1, 1)
    y = np.arange(len(d))
    better = KPIS[kpi].better if kpi in KPIS else None
    for yi, (_, r) in zip(y, d.iterrows(), strict=True):
        good = (better == "higher" and r["ci_low"] > 0) or (better == "lower" and r["ci_high"] < 0)
        bad = (better == "higher" and r["ci_high"] < 0) or (better == "lower" and r["ci_low"] > 0)
        c = "#1b7837" if good else "#b2182b" if bad else "#555555"
        ax.plot([r["ci_low"], r["ci_high"]], [yi, yi], color=c, lw=2.5)
        ax.plot([r["mean_diff"]], [yi], "o", color=c)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(y, [titles.get(s, s) for s in d["scenario"]], fontsize=8)
    unit = KPIS[kpi].unit if kpi in KPIS else ""
    ax.set_title(f"{kpi.replace('_', ' ')} ({unit})", fontsize=10)
    ax.set_xlabel("paired difference to the baseline, 95 % CI", fontsize=8)
    ax.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    return _png(fig, path)


def cost_effectiveness(kpi_table: pd.DataFrame, baseline: str, years: float, level: float,
                       seed: int, n_boot: int = 2000) -> pd.DataFrame:
    """Extra public money per extra job and per extra innovation, against the baseline.

    Extra money and extra outcomes are paired differences (same seed); the ratio of their means
    gets a seeded bootstrap interval over pairs. It is reported only where the outcome's paired
    effect is positive with confidence: cost per job of a policy that does not create jobs is
    not a number a policy maker should be given.
    """
    rng = np.random.default_rng(seed)
    base = kpi_table[kpi_table["scenario"] == baseline].set_index("seed")
    rows = []
    for sc in kpi_table["scenario"].unique():
        if sc == baseline:
            continue
        s = kpi_table[kpi_table["scenario"] == sc].set_index("seed")
        seeds = s.index.intersection(base.index)
        if len(seeds) < 2:
            continue
        money = (s.loc[seeds, "public_spent_total"] - base.loc[seeds, "public_spent_total"]).to_numpy()
        row = {"scenario": sc, "n": len(seeds), "extra_public_money_keur": money.mean(),
               "lever_spending_keur": s.loc[seeds, "public_cost_total"].mean()}
        # Jobs of the real regions (public money is real euros), else the model's own jobs.
        jobs = "employment_final_real" if _finite(s, "employment_final_real") else "employment_final"
        row["jobs_unit"] = "real jobs" if jobs.endswith("_real") else "model jobs"
        outcomes = {
            "job": (s.loc[seeds, jobs] - base.loc[seeds, jobs]).to_numpy(),
            "innovation": years * (s.loc[seeds, "innovations_per_year"] - base.loc[seeds, "innovations_per_year"]).to_numpy(),
        }
        for name, d in outcomes.items():
            n = len(d)
            half = stats.t.ppf(0.5 + level / 2, n - 1) * d.std(ddof=1) / math.sqrt(n)
            row[f"extra_{name}s"] = d.mean()
            row[f"extra_{name}s_ci_low"], row[f"extra_{name}s_ci_high"] = d.mean() - half, d.mean() + half
            if d.mean() - half > 0:
                idx = rng.integers(0, n, (n_boot, n))
                ratios = money[idx].mean(axis=1) / np.maximum(d[idx].mean(axis=1), 1e-9)
                row[f"cost_per_{name}_keur"] = money.mean() / d.mean()
                lo, hi = np.quantile(ratios, [0.5 - level / 2, 0.5 + level / 2])
                row[f"cost_per_{name}_ci_low"], row[f"cost_per_{name}_ci_high"] = lo, hi
            else:
                row[f"cost_per_{name}_keur"] = math.nan
                row[f"cost_per_{name}_ci_low"] = row[f"cost_per_{name}_ci_high"] = math.nan
            row[f"cost_per_{name}_note"] = _why_no_ratio(name, d.mean(), half, n, level)
        rows.append(row)
    return pd.DataFrame(rows)


def _finite(df: pd.DataFrame, col: str) -> bool:
    return col in df.columns and bool(np.isfinite(df[col].to_numpy(dtype=float)).all())


def _why_no_ratio(what: str, mean: float, half: float, n: int, level: float) -> str:
    """Why a cost per job (innovation) is not a number, in words; empty when it is one."""
    if mean - half > 0:
        return ""
    return (f"no cost per {what}: with {n} paired replicates the package's effect on {what}s "
            f"({mean:+,.0f}, {100 * level:.0f} % CI {mean - half:+,.0f} to {mean + half:+,.0f}) "
            f"is not distinguishable from zero" + (" or negative" if mean + half <= 0 else "")
            + "; more replicates or model firms narrow the interval")


def _fmt(x: float, unit: str = "") -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    if unit in ("share", "0-1") or unit.startswith("share"):
        return f"{100 * x:+.1f} pp" if abs(x) < 1 else f"{x:+.2f}"
    ax = abs(x)
    s = f"{x:+,.0f}" if ax >= 100 else f"{x:+,.1f}" if ax >= 1 else f"{x:+.3f}"
    return s


def _money(keur: float) -> str:
    if keur is None or math.isnan(keur):
        return "n/a"
    return f"€{keur / 1000:,.1f} million" if abs(keur) >= 1000 else f"€{keur:,.0f} thousand"


def paragraph(sc: str, effects: pd.DataFrame, cost: pd.Series | None, inputs: ReportInputs) -> str:
    """A plain-language paragraph: what the package costs and what it does, with uncertainty."""
    title = inputs.scenario_titles.get(sc, sc)
    e = effects[effects["scenario"] == sc].set_index("kpi")
    n = int(e["n"].max()) if len(e) else 0
    parts = [f"<b>{html.escape(title)}</b>."]
    if cost is not None:
        parts.append(f"Over {inputs.years:g} years it spends {_money(cost['lever_spending_keur'])} on its "
                     f"levers; all public money rises by {_money(cost['extra_public_money_keur'])} "
                     f"against the baseline.")
    better, worse, unclear = [], [], []
    for kpi in HEADLINE_KPIS:
        if kpi not in e.index:
            continue
        r = e.loc[kpi]
        unit = r["unit"] or ""
        text = (f"{PLAIN.get(kpi, kpi)} by {_fmt(r['mean_diff'], unit)} {'' if unit.startswith('share') else unit}"
                f" (95 % CI {_fmt(r['ci_low'], unit)} to {_fmt(r['ci_high'], unit)})").replace("  ", " ")
        if not r["significant"]:
            unclear.append(PLAIN.get(kpi, kpi))
        elif (r["mean_diff"] > 0) == (r["better"] == "higher") and r["better"] is not None:
            better.append(text)
        else:
            worse.append(text)
    if better:
        parts.append("It improves " + "; ".join(better) + ".")
    if worse:
        parts.append("It worsens " + "; ".join(worse) + ".")
    if unclear:
        parts.append(f"With {n} paired replicates, no effect can be distinguished from zero on "
                     + ", ".join(unclear) + ".")
    if cost is not None:
        for what in ("job", "innovation"):
            v = cost.get(f"cost_per_{what}_keur")
            if v is not None and not math.isnan(v):
                unit = f" ({cost['jobs_unit']})" if what == "job" else ""
                parts.append(f"Each extra {what}{unit} costs about {_money(v)} of public money "
                             f"(95 % CI {_money(cost[f'cost_per_{what}_ci_low'])} to "
                             f"{_money(cost[f'cost_per_{what}_ci_high'])}).")
            elif cost.get(f"cost_per_{what}_note"):
                note = cost[f"cost_per_{what}_note"]
                parts.append(note[0].upper() + note[1:] + ".")
    return " ".join(parts)


def _table_html(df: pd.DataFrame) -> str:
    return df.to_html(index=False, border=0, classes="t", float_format=lambda x: f"{x:,.4g}", na_rep="n/a")


def _effects_html(effects: pd.DataFrame, titles: dict[str, str]) -> str:
    rows = []
    for _, r in effects.iterrows():
        cls = ""
        if r["significant"] and r["better"] in ("higher", "lower"):
            good = (r["mean_diff"] > 0) == (r["better"] == "higher")
            cls = "good" if good else "bad"
        rel = "" if math.isnan(r["rel_effect"]) else f"{100 * r['rel_effect']:+.1f} %"
        rows.append(
            f"<tr class='{cls}'><td>{html.escape(titles.get(r['scenario'], r['scenario']))}</td>"
            f"<td>{r['kpi']}</td><td>{r['unit'] or ''}</td><td>{r['baseline_mean']:,.4g}</td>"
            f"<td>{r['mean_diff']:+,.4g}</td><td>[{r['ci_low']:+,.4g}, {r['ci_high']:+,.4g}]</td>"
            f"<td>{rel}</td><td>{int(r['n'])}</td></tr>")
    head = ("<tr><th>scenario</th><th>KPI</th><th>unit</th><th>baseline mean</th><th>effect</th>"
            "<th>95 % CI</th><th>relative</th><th>pairs</th></tr>")
    return f"<table class='t'>{head}{''.join(rows)}</table>"


CSS = """
body{font-family:Helvetica,Arial,sans-serif;max-width:1100px;margin:2em auto;color:#222;line-height:1.45}
h1{font-size:1.6em} h2{border-bottom:2px solid #ddd;padding-bottom:.2em;margin-top:1.6em}
table.t{border-collapse:collapse;font-size:.82em;margin:.6em 0} .t td,.t th{padding:.25em .6em;border-bottom:1px solid #e5e5e5;text-align:right}
.t td:first-child,.t th:first-child,.t td:nth-child(2){text-align:left}
tr.good td{background:#e9f5ea} tr.bad td{background:#fbe9e9}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:10px} img{max-width:100%}
.note{color:#555;font-size:.9em} p.sc{margin:.7em 0}
"""


def write_report(results, out_dir: Path, inputs: ReportInputs) -> Path:
    """Write ``report.html`` (self-contained), ``figures/*.png`` and CSV tables into ``out_dir``."""
    out_dir = Path(out_dir)
    fig_dir = out_dir / "figures"
    fig_dir.mkdir(parents=True, exist_ok=True)
    order = [inputs.baseline] + [s for s in inputs.scenario_titles if s != inputs.baseline]
    titles = inputs.scenario_titles

    effects = results.paired_effects(baseline=inputs.baseline, level=inputs.level)
    effects = effects[effects["kpi"].isin(KPIS)]
    kt = results.kpi_table()
    kt = kt[kt["point"] == 0]
    cost = cost_effectiveness(kt, inputs.baseline, inputs.years, inputs.level, inputs.seed)
    ts = results.timeseries_where(metrics=list(TRAJECTORIES), regions=["ALL"])
    ts = ts[ts["point"] == 0]
    bands = trajectory_bands(ts, inputs.level)

    _atomic_csv(effects, out_dir / "effects.csv")
    _atomic_csv(cost, out_dir / "cost_effectiveness.csv")
    _atomic_csv(bands, out_dir / "trajectories.csv")

    imgs = []
    for metric in TRAJECTORIES:
        if metric in set(bands["metric"]):
            data = _trajectory_figure(bands, metric, order, titles, fig_dir / f"trajectory_{metric}.png")
            imgs.append(data)
    effect_imgs = []
    if len(order) > 1:
        for kpi in HEADLINE_KPIS[:6]:
            if kpi in set(effects["kpi"]):
                effect_imgs.append(_effects_figure(effects, kpi, titles, fig_dir / f"effect_{kpi}.png"))

    def img_tag(data: bytes) -> str:
        return f"<img src='data:image/png;base64,{base64.b64encode(data).decode()}'>"

    paras = []
    for sc in order[1:]:
        c = cost[cost["scenario"] == sc].iloc[0] if (len(cost) and (cost["scenario"] == sc).any()) else None
        paras.append(f"<p class='sc'>{paragraph(sc, effects, c, inputs)}</p>")
    cost_view = cost.copy()
    if len(cost_view):
        cost_view["scenario"] = cost_view["scenario"].map(lambda s: titles.get(s, s))
    headline = effects[effects["kpi"].isin(HEADLINE_KPIS)]
    others = effects[~effects["kpi"].isin(HEADLINE_KPIS)]
    body = f"""<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(inputs.title)}</title>
<style>{CSS}</style></head><body>
<h1>{html.escape(inputs.title)}</h1>
<p>{html.escape(inputs.description)}</p>
<p class='note'>{len(order)} scenarios, {inputs.replicates} replicates each, {inputs.years:g} years. Every
scenario runs replicate r with the same seed (common random numbers), so effects are paired
differences against <b>{html.escape(titles.get(inputs.baseline, inputs.baseline))}</b>, with
{100 * inputs.level:.0f} % t confidence intervals over the pairs. Green rows are improvements whose interval
excludes zero, red rows deteriorations. The model is a tool for comparing policies, not a forecast.</p>
<h2>What each policy package does</h2>{''.join(paras) or '<p>Only the baseline was run.</p>'}
<h2>Effects on the headline outcomes</h2>{_effects_html(headline, titles)}
<div class='grid'>{''.join(img_tag(d) for d in effect_imgs)}</div>
<h2>Public cost per job and per innovation</h2>
<p class='note'>Extra public money in real euros (grants, CMO funding, training and levers) over the run,
against the baseline, divided by the extra jobs of the real regions in the last year and the extra
innovations over the run; intervals from a seeded bootstrap over pairs. Where the package does not
raise the outcome with confidence there is no ratio, and the last columns say why.</p>
{_table_html(cost_view) if len(cost_view) else '<p>n/a</p>'}
<h2>Trajectories (mean and {100 * inputs.level:.0f} % band of the mean)</h2>
<div class='grid'>{''.join(img_tag(d) for d in imgs)}</div>
<h2>All KPIs</h2>{_effects_html(others, titles)}
<p class='note'>Tables beside this file: effects.csv, cost_effectiveness.csv, trajectories.csv; figures
in figures/. KPI definitions: docs/outputs.md.</p>
</body></html>"""
    path = out_dir / "report.html"
    tmp = path.with_name(".report.html.tmp")
    tmp.write_text(body, encoding="utf-8")
    tmp.replace(path)
    return path


def _atomic_csv(df: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    df.to_csv(tmp, index=False)
    tmp.replace(path)
