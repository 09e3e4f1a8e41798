"""The policy comparison report a steering committee reads: one self-contained HTML file, the
same tables as CSV files and an Excel workbook, and PNG figures.

Every package (a scenario, or a point of a design over policy) runs replicate r with the seed of
the baseline's replicate r (common random numbers), so every effect is a paired difference, seed
by seed, with a t interval over the pairs. The report says, in this order:

1. what each package does, in a paragraph: its spending, what it improves, worsens or leaves
   indistinguishable from zero, and its public cost per job;
2. its effects on the headline outcomes, in real-region units, with intervals, relative changes
   only where the baseline is a positive level, and the smallest effect the experiment can
   detect (:mod:`.economics`); a value that is not defined says why and points to a measure to
   read instead (:mod:`.labels`);
3. its public cost per job (in the last year and per job-year), per innovation and per avoided
   skilled emigrant, in present values at the declared discount rate;
4. what each lever spent, by region, against its cap (:mod:`.spending`);
5. the same for each region: a table and a figure of its jobs against the baseline;
6. each lever's own outcome, trajectories by policy year, and every KPI.

Tables are :class:`.tables.ReportTable` objects built in :mod:`.comparison_tables`: their
numbers go to CSV files and to ``report.xlsx`` (:mod:`.workbook`), their text to the HTML page.
"""

from __future__ import annotations

import base64
import html
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from cluster_abm.outputs.metrics import KPIS, SERIES
from cluster_abm.policy.levers import BY_ID
from cluster_abm.reports import economics, figures, labels, numbers, spending
from cluster_abm.reports.comparison_tables import (
    cost_table,
    cost_text,
    direct_outcomes_table,
    effects_table,
    region_table,
    spending_table,
    verdict,
)
from cluster_abm.reports.tables import CSS, Column, ReportTable
from cluster_abm.reports.workbook import write_csv, write_workbook
from cluster_abm.reports.yearly import yearly

# The outcomes the text talks about, in that order (real-region units where the model has them).
HEADLINE_KPIS = ("employment_final_real", "jobs_net_real", "skilled_emigrants_total_real",
                 "innovations_per_year", "unemployment_final", "survival_3y",
                 "ties_cross_cluster_final", "eco_innovations_per_year",
                 "emission_intensity_final")
# Trajectories (all regions), each with the model-unit series to use where the real one is
# not defined.
TRAJECTORIES = (("employment_real", "employment"), ("innovations_real", "innovations"),
                ("skilled_emigrants_cum_real", "skilled_emigrants_cum"),
                ("unemployment_rate", None), ("firms_real", "firms"), ("eco_innovations", None),
                ("ties_cross_cluster", None), ("public_cost", None), ("public_spent_total", None))


@dataclass
class ReportInputs:
    """What the report needs beyond the stored results.

    ``experiment`` (an :class:`~cluster_abm.experiments.experiment_spec.Experiment`) gives the
    packages' scenarios (lever settings for the spending caps, region names, design points);
    without it the report reads what the store holds.
    """

    title: str
    description: str
    scenario_titles: dict[str, str]
    baseline: str
    years: float
    replicates: int
    level: float = 0.95
    seed: int = 0  # for the bootstraps of cost ratios
    discount_rate: float = 0.03
    experiment: Any = None
    notes: list[str] = field(default_factory=list)  # e.g. how replicates were chosen

    @property
    def steps_per_year(self) -> int:
        sc = self.scenarios.get(self.baseline)
        return int(sc.param("sim.steps_per_year")) if sc is not None else 4

    @property
    def scenarios(self) -> dict[str, Any]:
        return dict(self.experiment.arms) if self.experiment is not None else {}


# --- the pieces ---------------------------------------------------------------------------
def with_arms(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with an ``arm`` column: the run id without its replicate (a scenario's name or a
    design point's label)."""
    df = df.copy()
    df["arm"] = df["run_id"].str.rsplit("-r", n=1).str[0]
    return df


def arm_order(inputs: ReportInputs, seen: list[str]) -> list[str]:
    """The baseline first, then the experiment's order (scenarios, then design points)."""
    known = list(inputs.scenarios) or list(inputs.scenario_titles)
    order = [inputs.baseline] + [a for a in known if a != inputs.baseline and a in seen]
    return order + [a for a in seen if a not in order]


def arm_titles(inputs: ReportInputs, order: list[str]) -> dict[str, str]:
    """Human titles: the scenario's title, or a design point's base title and settings."""
    out = dict(inputs.scenario_titles)
    exp = inputs.experiment
    if exp is not None and exp.design is not None:
        for run in exp.runs:
            if run.point and run.replicate == 0:
                out[exp.arm(run)] = f"{exp.design.base.title}: {describe_point(run.params)}"
    return {a: out.get(a, a) for a in order}


def describe_point(params: dict[str, Any]) -> str:
    """A design point's settings in words: "incubators at intensity 0.5 from year 3"."""
    parts = []
    levers: dict[str, dict[str, Any]] = {}
    for key, value in params.items():
        if key.startswith("levers."):
            lid, fld = key[len("levers."):].rsplit(".", 1)
            levers.setdefault(lid, {})[fld] = value
        else:
            parts.append(f"{key} = {numbers.num(value) if numbers.finite(value) else value}")
    for lid, fields in levers.items():
        name = BY_ID[lid].name.lower() if lid in BY_ID else lid
        bits = []
        if "intensity" in fields:
            bits.append(f"at intensity {numbers.num(fields['intensity'])}")
        for fld in ("regions", "clusters"):
            if fld in fields:
                v = fields[fld]
                bits.append(f"in {', '.join(v) if isinstance(v, list) else 'every ' + fld[:-1]}")
        if "start_year" in fields:
            bits.append(f"from year {fields['start_year']}")
        if "end_year" in fields:
            bits.append(f"until year {fields['end_year']}")
        if "firms" in fields:
            bits.append(f"for {fields['firms']} firms")
        parts.insert(0, f"{name} {' '.join(bits)}".strip())
    return "; ".join(parts)


def region_names(inputs: ReportInputs) -> dict[str, str]:
    base = inputs.scenarios.get(inputs.baseline)
    names = {r["id"]: r["name"] for r in base.regions} if base is not None else {}
    return names | {"ALL": "All regions"}

def kpi_effects(kt: pd.DataFrame, baseline: str, level: float) -> pd.DataFrame:
    """Paired effects of every KPI for every arm against the baseline (:func:`.economics.paired`)."""
    kpis = [k for k in kt.columns if k in KPIS]
    wide = kt[["arm", "seed", *kpis]].assign(region="ALL")
    eff = economics.paired(wide, baseline, level, kpis).rename(columns={"measure": "kpi"})
    eff["unit"] = eff["kpi"].map(lambda k: KPIS[k].unit)
    eff["better"] = eff["kpi"].map(lambda k: KPIS[k].better)
    eff["significant"] = (eff["low"] > 0) | (eff["high"] < 0)
    eff["relative"] = [r["mean"] / r["baseline_mean"]
                       if labels.relative_meaningful(r["kpi"], r["baseline_mean"]) else math.nan
                       for _, r in eff.iterrows()]
    return eff


def bands(panel: pd.DataFrame, level: float) -> pd.DataFrame:
    """Mean over replicates and the interval of that mean: arm, region, metric, year."""
    g = panel.groupby(["arm", "region", "metric", "year"], sort=False)["value"]
    out = g.agg(["mean", "std", "count"]).reset_index()
    t = stats.t.ppf(0.5 + level / 2, np.maximum(out["count"] - 1, 1))
    half = np.where(out["count"] > 1, t * out["std"] / np.sqrt(out["count"]), np.nan)
    out["low"], out["high"] = out["mean"] - half, out["mean"] + half
    return out.drop(columns=["std"])


def difference_bands(panel: pd.DataFrame, metric: str, baseline: str, level: float) -> pd.DataFrame:
    """Paired difference arm - baseline of one metric by region and year, with its interval."""
    d = panel[panel["metric"] == metric]
    base = d[d["arm"] == baseline][["seed", "region", "year", "value"]]
    pairs = d[d["arm"] != baseline].merge(base, on=["seed", "region", "year"], suffixes=("", "_b"))
    pairs["value"] = pairs["value"] - pairs["value_b"]
    return bands(pairs.drop(columns=["value_b"]), level)

# --- text -----------------------------------------------------------------------------------
def paragraph(arm: str, title: str, eff: pd.DataFrame, cost: pd.DataFrame, spend: pd.DataFrame,
              inputs: ReportInputs) -> str:
    """A plain-language paragraph: what the package costs and does, with its uncertainty."""
    e = eff[eff["arm"] == arm].set_index("kpi")
    n = int(e["n"].max()) if len(e) else 0
    parts = [f"<b>{html.escape(title)}</b>."]
    s = spend[(spend["arm"] == arm) & (spend["region"] == "ALL")]
    c = cost[(cost["arm"] == arm) & (cost["region"] == "ALL")]
    if len(s):
        parts.append(f"Over {inputs.years:g} years its levers spend {numbers.money(s['spent'].sum())} "
                     f"({numbers.money(s['spent_pv'].sum())} in present value at "
                     f"{100 * inputs.discount_rate:g} % a year).")
    if len(c):
        parts.append(f"All public money changes by {numbers.money(c['extra_money_pv'].iloc[0], signed=True)} "
                     "in present value against the baseline.")
    better, worse, unclear = [], [], []
    for kpi in HEADLINE_KPIS:
        if kpi not in e.index or not numbers.finite(e.loc[kpi, "mean"]):
            continue
        r = e.loc[kpi]
        text = (f"{labels.kpi_label(kpi).lower()} by {labels.value_text(r['mean'], r['unit'], signed=True)}"
                f" (95 % CI {numbers.interval(r['low'], r['high'], labels.value_text, unit=r['unit'], signed=True)})")
        if not r["significant"]:
            unclear.append(labels.kpi_label(kpi).lower())
        elif r["better"] is not None and (r["mean"] > 0) == (r["better"] == "higher"):
            better.append(text)
        elif r["better"] is not None:
            worse.append(text)
    if better:
        parts.append("It improves " + "; ".join(better) + ".")
    if worse:
        parts.append("It worsens " + "; ".join(worse) + ".")
    if unclear:
        parts.append(f"With {n} paired replicates no effect can be told from zero on "
                     + ", ".join(unclear) + ".")
    job = c[c["result"] == "job"]
    if len(job):
        r = job.iloc[0]
        if numbers.finite(r["cost_per_result"]):
            parts.append(f"Each {r['what']} costs about {html.escape(cost_text(r, inputs.level))} "
                         "of public money in present value.")
        else:
            parts.append(html.escape(r["note"]))
    return " ".join(parts)


def _img(data: bytes, alt: str) -> str:
    return (f"<img alt='{html.escape(alt)}' "
            f"src='data:image/png;base64,{base64.b64encode(data).decode()}'>")


# --- the report -------------------------------------------------------------------------------
def write_report(results, out_dir: Path, inputs: ReportInputs) -> Path:
    """Write ``report.html`` (self-contained), ``report.xlsx``, ``figures/*.png`` and one CSV
    per table into ``out_dir``; return the HTML file's path."""
    out_dir = Path(out_dir)
    fig_dir = out_dir / "figures"
    fig_dir.mkdir(parents=True, exist_ok=True)
    level, rate, spy = inputs.level, inputs.discount_rate, inputs.steps_per_year

    kt = with_arms(results.kpi_table())
    seen = list(dict.fromkeys(kt["arm"]))
    order = arm_order(inputs, seen)
    titles = arm_titles(inputs, order)
    rnames = region_names(inputs)
    arms = inputs.scenarios
    eff = kpi_effects(kt, inputs.baseline, level)

    outcome_series = {BY_ID[lid].outcome for sc in arms.values() for lid in sc.levers
                      if BY_ID[lid].outcome in SERIES}
    metrics = {*economics.SERIES_NEEDED, *(m for pair in TRAJECTORIES for m in pair if m),
               *outcome_series}
    ts = with_arms(results.timeseries_where(metrics=sorted(metrics)))
    panel = yearly(ts, spy)
    years = int(panel["year"].max()) + 1 if len(panel) else int(round(inputs.years))
    measures, units = economics.run_measures(panel, rate)
    measures = economics.jobs_from_kpis(measures, kt, units)
    pm = economics.paired(measures, inputs.baseline, level) if len(measures) else pd.DataFrame(
        columns=["arm", "region", "measure", "n", "baseline_mean", "arm_mean", "mean", "sd", "low", "high", "mde"])
    cost = (economics.cost_per_result(measures, inputs.baseline, level, inputs.seed, units)
            if len(measures) else pd.DataFrame(columns=["arm", "region", "result", "what", "units", "n",
                                                        "extra_money_pv", "cost_per_result", "note"]))
    runs = with_arms(results.runs)
    n_ok = runs[runs["status"] == "ok"].groupby("arm").size().to_dict()
    lever_costs = with_arms(results.lever_costs) if len(results.lever_costs) else pd.DataFrame(
        columns=["arm", "step", "lever", "region", "cost"])
    per_year = spending.yearly_spending(lever_costs, n_ok, spy, years)
    spend = spending.lever_summary(per_year, {a: arms[a] for a in order if a in arms}, years, rate)

    # every table in the experiment's order of packages
    rank = {a: i for i, a in enumerate(order)}
    eff, pm, cost, spend = (d.sort_values("arm", key=lambda c: c.map(rank), kind="stable")
                            .reset_index(drop=True) for d in (eff, pm, cost, spend))

    # tables
    headline = [k for k in HEADLINE_KPIS if k in set(eff["kpi"])]
    others = [k for k in KPIS if k in set(eff["kpi"]) and k not in headline]
    t_head = effects_table(eff, headline, titles, inputs.years, "headline_effects",
                           "Effects on the headline outcomes", level=level)
    t_all = effects_table(eff, others, titles, inputs.years, "all_kpis", "All other outcomes",
                          mde=False, level=level)
    t_cost = cost_table(cost, titles, "ALL", "cost_per_result",
                        "Public cost per job, per innovation and per avoided emigrant")
    t_spend = spending_table(spend, titles, rnames)
    t_years = ReportTable("lever_spending_by_year", "What each lever spent, by region and year",
                          per_year.assign(package=per_year["arm"].map(lambda a: titles.get(a, a))),
                          pd.DataFrame(), [Column("spent", "spent", "k€", "mean over replicates"),
                                           Column("year", "policy year", "year", "0 = the first policy year")])
    t_direct = direct_outcomes_table(panel, order, arms, titles, inputs.baseline, level, eff,
                                     inputs.years)
    regions = [r for r in rnames if r != "ALL" and r in set(pm["region"])] if len(pm) else []
    t_regions = [region_table(pm, cost, r, titles, units, f"region_{r}",
                              f"{rnames.get(r, r)}") for r in regions]
    t_total = region_table(pm, cost, "ALL", titles, units, "all_regions", "All regions") if len(pm) else None
    traj = bands(panel, level) if len(panel) else pd.DataFrame()
    t_traj = ReportTable("trajectories", "Trajectories by policy year", traj, pd.DataFrame(),
                         [Column("mean", "mean over replicates", "the series' unit, per policy year"),
                          Column("low", "CI low"), Column("high", "CI high"),
                          Column("count", "replicates", "count"),
                          Column("year", "policy year", "", "0 = the first policy year; flows summed over the year, stocks and ratios averaged")])

    # figures
    imgs_traj = []
    total = traj[traj["region"] == "ALL"] if len(traj) else traj
    for real, model in TRAJECTORIES:
        if not len(total):
            break
        metric = real
        shown = total[total["metric"] == real]
        if model is not None and (shown.empty or not np.isfinite(shown["mean"]).all()):
            metric = model  # a region gives no enterprises: model units
        b = total[total["metric"] == metric]
        if b.empty:
            continue
        s = SERIES[metric]
        scale, unit = 1.0, labels.unit_words(s.unit)
        if labels.is_money(s.unit):
            scale, unit = 1000.0, "€ million per year" if s.kind == "flow" else "€ million"
        elif labels.is_share(s.unit):
            scale, unit = 0.01, "%"
        if metric.endswith("_real"):
            unit += ", real region"
        imgs_traj.append(_img(figures.lines(
            b, order, titles, f"{s.label} ({unit})", unit, fig_dir / f"trajectory_{metric}.png",
            scale=scale), s.label))
    imgs_eff = []
    if len(order) > 1:
        for kpi in headline[:6]:
            d = eff[eff["kpi"] == kpi].dropna(subset=["mean"])
            if d.empty:
                continue
            unit = KPIS[kpi].unit
            scale = 0.01 if labels.is_share(unit) else 1.0
            unit_txt = "percentage points" if labels.is_share(unit) else labels.unit_words(unit)
            rows = pd.DataFrame({"label": d["arm"].map(titles), "mean": d["mean"], "low": d["low"],
                                 "high": d["high"],
                                 "verdict": [verdict(r["mean"], r["low"], r["high"], r["better"]) for _, r in d.iterrows()]})
            imgs_eff.append(_img(figures.effects(
                rows, f"{labels.kpi_label(kpi)} ({unit_txt})",
                f"difference to the baseline, {100 * level:.0f} % CI", fig_dir / f"effect_{kpi}.png",
                scale=scale), labels.kpi_label(kpi)))
    emp = "employment_real" if units.get("employment") == "real region" else "employment"
    region_imgs = {}
    if len(order) > 1 and len(panel):
        diff = difference_bands(panel, emp, inputs.baseline, level)
        for r in [*regions, "ALL"]:
            d = diff[diff["region"] == r]
            if d.empty:
                continue
            unit = "jobs" + (", real region" if emp.endswith("_real") else ", model firms")
            region_imgs[r] = _img(figures.lines(
                d, order, titles, f"{rnames.get(r, r)}: jobs against the baseline ({unit})",
                f"difference in employment ({unit})", fig_dir / f"region_{r}_jobs.png",
                zero_line=True), f"{rnames.get(r, r)} jobs")

    tables = [t_head, t_cost, t_spend, *([t_total] if t_total else []), *t_regions, t_direct,
              t_all, t_years, t_traj]
    for t in tables:
        write_csv(t.data, out_dir / f"{t.name}.csv")
    about = _about(inputs, order, titles, units)
    sheets = write_workbook(tables, out_dir / "report.xlsx", about)

    # page
    paras = "".join(f"<p class='sc'>{paragraph(a, titles[a], eff, cost, spend, inputs)}</p>"
                    for a in order[1:])
    region_html = []
    for t in ([t_total] if t_total else []) + t_regions:
        region_html.append(f"<h3>{html.escape(t.title)}</h3>{t.html()}"
                           + region_imgs.get(t.group, ""))
    if not len(measures):
        region_html.append(
            "<p>The experiment recorded none of the series these tables need (public_spent_total, "
            "public_cost, employment, innovations, skilled_emigrants and their _real versions; "
            "[outputs] series), so there are no regional results, present values or costs per "
            "result: record them to see them.</p>")
    elif not t_regions:
        region_html.append("<p>Only the totals were recorded ([outputs] regions = false): "
                           "set regions = true for a table and a figure per region.</p>")
    n_pairs = int(eff["n"].max()) if len(eff) else 0
    body = f"""<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(inputs.title)}</title>
<style>{CSS}</style></head><body>
<h1>{html.escape(inputs.title)}</h1>
<p>{html.escape(inputs.description)}</p>
<p class='note'>{len(order)} packages including the baseline, {n_pairs} replicates each,
{inputs.years:g} policy years. Every package runs replicate r with the seed of the baseline's
replicate r (common random numbers), so effects are paired differences against
<b>{html.escape(titles.get(inputs.baseline, inputs.baseline))}</b>, with {100 * level:.0f} %
t confidence intervals over the pairs. Money is in euros of the real regions, at constant prices;
present values discount policy year y by (1 + {100 * rate:g} %)<sup>-y</sup>, the real social discount
rate of the European Commission's Economic Appraisal Vademecum 2021-2027 and Better Regulation
Toolbox. Green rows are improvements whose interval excludes zero, red rows deteriorations.
The model compares policies; it is not a forecast.</p>
<h2>What each package does</h2>{paras or '<p>Only the baseline was run: there is nothing to compare.</p>'}
<h2>Effects on the headline outcomes</h2>
<p class='note'>“Detectable” is the smallest effect these {n_pairs} pairs detect with 80 % power
at 5 % (two-sided): a true effect smaller than it is likely to look like zero here. Four times
as many replicates halve it. A relative change is shown only against a positive baseline level
(not for shares, whose change is in percentage points, nor for changes such as net jobs).
{' '.join(html.escape(n) for n in inputs.notes)}</p>
{t_head.html()}
<div class='grid'>{''.join(imgs_eff)}</div>
<h2>Public cost per result</h2>
<p class='note'>Extra public money (all of it: grants, cluster organisations, training and the
levers; present value) against the baseline, over each extra result: a job in the last year, a
job-year, an innovation, an avoided skilled emigrant (the last three discounted like money).
A cost is given only where the package raises the result with confidence; otherwise the cell
says why. Intervals of costs: a seeded bootstrap over the pairs. Jobs here come from the stored
yearly series (at a yearly cadence, employment at the end of the last year), so they can differ
a little from the headline table's jobs, which average the last year's quarters.</p>
{t_cost.html()}
<h2>What each lever spent</h2>
<p class='note'>Mean over replicates. A lever may spend at most policy.lever_budget × intensity
per region it reaches and year it runs (“cap per year”); the share of that cap it spent shows
how much money it could absorb.</p>
{t_spend.html()}
<h2>By region</h2>
<p class='note'>Money spent in a region against results in that region; spill-overs between
regions (a tie, a job or a migrant that crosses a border) make regional costs indicative.</p>
{''.join(region_html)}
<h2>Each lever's own outcome</h2>{t_direct.html()}
<h2>Trajectories (mean and {100 * level:.0f} % band of the mean)</h2>
<div class='grid'>{''.join(imgs_traj)}</div>
<h2>All other outcomes</h2>{t_all.html()}
<p class='note'>Beside this file: report.xlsx (one sheet per table, and a sheet explaining every
column), the same tables as CSV files ({', '.join(f'{t.name}.csv' for t in tables)}), figures in
figures/. Definitions of every outcome: docs/outputs.md.</p>
</body></html>"""
    del sheets
    path = out_dir / "report.html"
    tmp = path.with_name(f".report.html.{os.getpid()}.tmp")
    tmp.write_text(body, encoding="utf-8")
    tmp.replace(path)
    return path


def _about(inputs: ReportInputs, order: list[str], titles: dict[str, str],
           units: dict[str, str]) -> list[tuple[str, str]]:
    exp = inputs.experiment
    return [
        ("report", inputs.title),
        ("description", inputs.description),
        ("packages", "; ".join(f"{a}: {titles[a]}" for a in order)),
        ("baseline", inputs.baseline),
        ("replicates", str(inputs.replicates)),
        ("policy years", f"{inputs.years:g}"),
        ("confidence level", f"{100 * inputs.level:g} %"),
        ("discount rate", f"{100 * inputs.discount_rate:g} % a year, real (European Commission, "
                          "Economic Appraisal Vademecum 2021-2027; Better Regulation Toolbox)"),
        ("money", "k€ = thousand euros of the real regions, constant prices"),
        ("counts", "; ".join(f"{k}: {v}" for k, v in units.items()) or "model firms"),
        ("root seed", str(exp.seed) if exp is not None else str(inputs.seed)),
        ("how to read", "one sheet per table of the report; the sheet 'columns' explains every "
                        "column; empty cells are values that do not exist (the note column says why)"),
    ]
