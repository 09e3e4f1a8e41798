"""Reports of the decision commands, in the style of the comparison report: one self-contained
HTML page, an Excel workbook (a sheet per table, a sheet explaining every column), the tables as
CSV files and the figures as PNG.

* :func:`write_frontier_report` -- ``cluster-abm optimize``: the frontier (every trial, the
  Pareto set with each point's replicate noise), a plain-language paragraph per frontier
  package, the frontier plot and the scenario files written;
* :func:`write_robustness_report` -- ``cluster-abm robustness``: outcomes across the worlds,
  regret (minimax and its distribution), satisficing, ranking stability, the worlds, and the
  scenario-discovery questions of the file;
* :func:`write_discovery_report` -- ``cluster-abm discover``: the discovery questions alone.
"""

from __future__ import annotations

import base64
import html
import os
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from cluster_abm.analysis.decisions.decision_spec import FrontierSpec
from cluster_abm.analysis.decisions.discovery import Discovery, value_text
from cluster_abm.analysis.decisions.frontier import directed
from cluster_abm.analysis.decisions.package_eval import SPENT
from cluster_abm.analysis.decisions.robustness import EnsembleResult
from cluster_abm.reports import figures, numbers
from cluster_abm.reports.tables import CSS, Column, ReportTable
from cluster_abm.reports.workbook import write_csv, write_workbook


def _img(data: bytes, alt: str) -> str:
    return (f"<img alt='{html.escape(alt)}' "
            f"src='data:image/png;base64,{base64.b64encode(data).decode()}'>")


def _page(path: Path, title: str, body: str) -> Path:
    text = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
            f"</title><style>{CSS}</style></head><body><h1>{html.escape(title)}</h1>{body}"
            "</body></html>")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path


def _save_tables(tables: list[ReportTable], out_dir: Path, about: list[tuple[str, str]]) -> str:
    for t in tables:
        write_csv(t.data, out_dir / f"{t.name}.csv")
    write_workbook(tables, out_dir / "report.xlsx", about)
    return (f"<p class='note'>Beside this file: report.xlsx (one sheet per table, and a sheet "
            f"explaining every column), the same tables as CSV files "
            f"({', '.join(f'{t.name}.csv' for t in tables)}), figures in figures/.</p>")


def _n(x: Any, signed: bool = False) -> str:
    return numbers.num(x, signed=signed)


def _pm(mean: Any, se: Any, signed: bool = False) -> str:
    if not numbers.finite(se):
        return _n(mean, signed)
    return f"{_n(mean, signed)} ± {_n(se)}"


# --- the frontier ---------------------------------------------------------------------------------
def _frontier_axes(spec: FrontierSpec, trials: pd.DataFrame) -> tuple[str, list[str]]:
    """(x: the cost, or the first minimised objective, or the first; y: the others)."""
    names = [o.name for o in directed(spec)]
    cost = next((o.name for o in directed(spec) if o.kpi == "public_cost_total"), None)
    if cost is None:
        cost = next((o.name for o in directed(spec) if o.direction == "min"), names[0])
    others = [n for n in names if n != cost]
    if not others and SPENT in trials:
        return SPENT, names
    return cost, others or names[1:]


def frontier_plot(spec: FrontierSpec, trials: pd.DataFrame, front: pd.DataFrame,
                  path: Path) -> bytes:
    """All trials (grey) and the frontier (coloured, ± replicate standard error, numbered)
    in the plane of the cost (or first objective) against each other objective."""
    x, ys = _frontier_axes(spec, trials)
    labels = {o.name: f"{o.label}" + (f" ({o.unit})" if o.unit else "") for o in spec.objectives}
    labels[SPENT] = "lever spending over the run (k€, real region)"
    fig = Figure(figsize=(7.2, 3.6 * max(1, len(ys))))
    for i, y in enumerate(ys or [x]):
        ax = fig.add_subplot(max(1, len(ys)), 1, i + 1)
        ax.scatter(trials[x], trials[y], s=10, color="#bbbbbb", label="every package tried")
        f = front.sort_values(x)
        xe = f.get(f"{x}_se")
        ye = f.get(f"{y}_se")
        ax.errorbar(f[x], f[y], xerr=xe, yerr=ye, fmt="o-", color="#1f77b4", ms=4, lw=1,
                    capsize=2, label="frontier (± replicate s.e.)")
        for _, r in f.iterrows():
            ax.annotate(str(r["package"]).rsplit("_p", 1)[-1], (r[x], r[y]), fontsize=6,
                        xytext=(3, 3), textcoords="offset points")
        ax.set_xlabel(textwrap.fill(labels.get(x, x), 60), fontsize=8)
        ax.set_ylabel(textwrap.fill(labels.get(y, y), 40), fontsize=8)
        figures._plain_axis(ax.xaxis)
        figures._plain_axis(ax.yaxis)
        ax.grid(alpha=0.3)
        if i == 0:
            ax.legend(fontsize=7)
    figures._title(fig.axes[0], f"{spec.name}: the frontier")
    fig.tight_layout()
    return figures._png(fig, path)


def write_frontier_report(spec: FrontierSpec, trials: pd.DataFrame, front: pd.DataFrame,
                          out_dir: Path, files: list[Path], sessions: list[dict[str, Any]]
                          ) -> Path:
    """The search's report in ``out_dir``; returns the HTML file's path."""
    out_dir = Path(out_dir)
    fig_dir = out_dir / "figures"
    fig_dir.mkdir(parents=True, exist_ok=True)
    outs = list(spec.objectives)
    cols = [Column("trial", "trial", "", "the Optuna trial number"),
            Column("pareto", "on the frontier", "", "no other package tried is as good in "
                   "every objective and better in one")]
    cols += [Column(v.name, v.name, "", "decision variable") for v in spec.variables]
    for o in outs:
        what = "paired effect against the reference" if o.effect else "level"
        cols += [Column(o.name, o.label, o.unit, f"{what}, mean over {spec.replicates} "
                        f"replicates ({o.direction or 'reported'})"),
                 Column(f"{o.name}_se", f"{o.label}: replicate s.e.", o.unit,
                        "standard error of that mean over the replicates (sd / sqrt(R))")]
    cols.append(Column(SPENT, "lever spending", "k€ (real region)", "what the levers spent "
                       "over the run, mean over replicates"))
    view = pd.DataFrame({"package": front["package"]}) if len(front) else pd.DataFrame()
    for o in outs:
        if len(front):
            view[o.label] = [_pm(m, s, o.effect) for m, s in
                             zip(front[o.name], front[f"{o.name}_se"], strict=True)]
    if len(front) and SPENT in front:
        view["lever spending"] = [numbers.money(v) for v in front[SPENT]]
    t_front = ReportTable("frontier", "The frontier: packages no other package beats in every "
                          "objective", front.drop(columns=["paragraph"], errors="ignore"), view,
                          cols + [Column("package", "package", "", "name of its scenario file")])
    t_trials = ReportTable("trials", "Every package tried", trials, pd.DataFrame(), cols)
    tables = [t_front, t_trials]
    img = _img(frontier_plot(spec, trials, front, fig_dir / "frontier.png"), "frontier") \
        if len(trials) else ""
    paras = "".join(f"<p class='sc'><b>{html.escape(r['package'])}</b>. "
                    f"{html.escape(r['paragraph'])}</p>" for _, r in front.iterrows()) \
        if len(front) else "<p>No trial has completed yet.</p>"
    sim = sum(s.get("simulations", 0) for s in sessions)
    wall = sum(s.get("wall_time", 0.0) for s in sessions)
    rate = f"{3600 * sim / wall:,.0f} evaluations per hour" if wall > 0 else ""
    about = [("search", spec.name), ("description", spec.description), ("file", spec.source),
             ("sampler", spec.sampler), ("replicates", str(spec.replicates)),
             ("root seed", str(spec.seed)), ("trials completed", str(len(trials))),
             ("frontier packages", str(len(front))),
             ("objectives", "; ".join(f"{o.name}: {o.label} ({o.direction}"
                                      f"{', effect' if o.effect else ''})" for o in outs)),
             ("money", "k€ = thousand euros of the real regions, constant prices"),
             ("how to read", "one sheet per table; the sheet 'columns' explains every column")]
    ref = (f"against <b>{html.escape(spec.reference.title)}</b>, with the same seeds "
           f"(common random numbers)") if spec.reference is not None else ""
    files_html = "".join(f"<li>{html.escape(str(p))}</li>" for p in files)
    body = f"""<p>{html.escape(spec.description)}</p>
<p class='note'>{len(trials)} packages tried by Optuna's {spec.sampler.upper()} sampler, each
simulated with the same {spec.replicates} replicate seeds; effects are paired differences {ref}.
A package is on the frontier when no other package tried is at least as good in every objective
and better in one. “±” is the replicate standard error of a mean (sd / √R): frontier points
closer than about two of them may swap places with more replicates. {html.escape(rate)}
(wall time over the sessions, reference included). The model compares policies; it is not a
forecast.</p>
<h2>The frontier</h2>{img}{t_front.html()}
<h2>What each frontier package does</h2>{paras}
<h2>Scenario files</h2><p class='note'>Each frontier package as a scenario file a designer can
open, check (<code>cluster-abm scenario check FILE</code>), compare
(<code>cluster-abm compare</code>) or test for robustness (<code>frontier = "{html.escape(spec.name)}"</code>
in a robustness file):</p><ul>{files_html or '<li>none (an analytic problem)</li>'}</ul>
{_save_tables(tables, out_dir, about)}"""
    return _page(out_dir / "report.html", f"Budget frontier: {spec.name}", body)


# --- robustness -----------------------------------------------------------------------------------
def _box_plot(data: dict[str, np.ndarray], title: str, xlabel: str, path: Path) -> bytes:
    fig = Figure(figsize=(7.2, 0.9 + 0.45 * max(len(data), 1)))
    ax = fig.add_subplot(1, 1, 1)
    names = list(data)
    ax.boxplot([data[n][np.isfinite(data[n])] for n in names], orientation="horizontal", whis=(5, 95))
    ax.set_yticks(np.arange(1, len(names) + 1),
                  ["\n".join(textwrap.wrap(n, 40)) for n in names], fontsize=7)
    ax.invert_yaxis()
    figures._title(ax, title)
    ax.set_xlabel(xlabel, fontsize=8)
    figures._plain_axis(ax.xaxis)
    ax.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    return figures._png(fig, path)


def _robustness_tables(res: EnsembleResult) -> tuple[list[ReportTable], list[str]]:
    spec = res.spec
    tables, html_parts = [], []
    summ = res.outcome_summary()
    view = pd.DataFrame({
        "package": summ["package"], "outcome": summ["label"],
        "mean over worlds": [_n(v, e) for v, e in zip(summ["mean"], summ["effect"], strict=True)],
        "10th–90th percentile": [f"{_n(a, e)} to {_n(b, e)}" for a, b, e in
                                 zip(summ["p10"], summ["p90"], summ["effect"], strict=True)],
        "worst – best world": [f"{_n(a, e)} to {_n(b, e)}" for a, b, e in
                               zip(summ["min"], summ["max"], summ["effect"], strict=True)],
        "replicate s.e. (mean)": [_n(v) for v in summ["replicate_se"]]})
    tables.append(ReportTable("outcomes", "Outcomes across the worlds", summ, view, [
        Column("mean", "mean over worlds", "the outcome's unit",
               "of each world's replicate mean (an effect: against the reference there)"),
        Column("p10", "10th percentile over worlds"), Column("p90", "90th percentile"),
        Column("replicate_se", "replicate standard error", "",
               "mean over worlds of each world mean's standard error")], grouped=1))
    for name, summary in res.regret_summary.items():
        o = spec.outcome(name)
        v = pd.DataFrame({
            "package": summary["package"],
            "worst-case regret": [_n(x) for x in summary["max_regret"]],
            "mean": [_n(x) for x in summary["mean_regret"]],
            "median": [_n(x) for x in summary["median_regret"]],
            "90th percentile": [_n(x) for x in summary["p90_regret"]],
            "best in (share of worlds)": [numbers.percent(x) for x in summary["best_share"]],
            "minimax regret": ["← the choice" if m else "" for m in summary["minimax"]]})
        rk, w = res.ranking[name]
        v["ranked first"] = [numbers.percent(x) for x in rk["first_share"]]
        v["mean rank"] = [_n(x) for x in rk["mean_rank"]]
        data = summary.merge(rk, on="package")
        tables.append(ReportTable(
            f"regret_{name}", f"Regret on {o.label} ({o.unit}; Kendall's W of the rankings "
            f"over worlds = {_n(w)})", data, v, [
                Column("max_regret", "worst-case regret", o.unit, "largest shortfall against "
                       "the best package in the same world"),
                Column("best_share", "best in", "share of worlds"),
                Column("minimax", "minimax-regret choice", "", "smallest worst-case regret"),
                Column("first_share", "ranked first", "share of worlds"),
                Column("mean_rank", "mean rank", "", "1 = best")],
            row_classes=["good" if m else "" for m in summary["minimax"]]))
    if len(res.satisficing):
        s = res.satisficing
        v = pd.DataFrame({"package": s["package"],
                          **{f"meets {t.outcome} ({t.text()})": [numbers.percent(x)
                                                                 for x in s[t.outcome]]
                             for t in spec.targets},
                          "meets every target": [numbers.percent(x) for x in s["all"]]})
        tables.append(ReportTable("satisficing", "Share of worlds meeting the targets", s, v,
                                  [Column("all", "every target", "share of worlds")]))
    wt = res.worlds
    labels = {f.name: f"{f.label}" + (f" ({f.unit})" if f.unit else "") for f in spec.factors}
    tables.append(ReportTable("worlds", "The worlds (Latin hypercube)", wt, pd.DataFrame(), [
        Column(f.name, f.label, f.unit, ("driver: " if f.driver else "parameter: ") +
               f"{f.target} ({f.mode}), {f.low:g} to {f.high:g}") for f in spec.factors]))
    cells = res.cells
    tables.append(ReportTable("cells", "Each package in each world", cells, pd.DataFrame(), [
        Column("mean", "mean over replicates"), Column("se", "replicate standard error"),
        Column("n", "replicates", "count")]))
    del labels
    return tables, html_parts


def _discovery_tables(res: EnsembleResult, discoveries: list[tuple[Any, Discovery]],
                      fig_dir: Path) -> tuple[list[ReportTable], str]:
    spec = res.spec
    labels = {f.name: (f.label, f.unit) for f in spec.factors}
    tables, parts = [], []
    for i, (q, d) in enumerate(discoveries):
        o = spec.outcome(q.target.outcome)
        head = (f"<h3>{html.escape(q.package)}: {html.escape(o.label)} "
                f"{html.escape(q.target.text())}</h3>")
        if d.chosen is None:
            parts.append(head + f"<p>{html.escape(d.note)} ({d.n_cases} of {d.n_worlds} "
                                f"worlds miss it).</p>")
            continue
        rule = (f"The package misses the target in {d.n_cases} of {d.n_worlds} worlds. "
                f"It misses it {d.rule}: this box holds {numbers.percent(d.coverage)} of the "
                f"failing worlds (coverage), and {numbers.percent(d.density)} of the worlds in "
                f"it fail (density), against {numbers.percent(d.n_cases / d.n_worlds)} "
                "overall." + (f" Note: {d.note}." if d.note else ""))
        traj = d.trajectory.assign(chosen=d.trajectory["box"] == d.chosen)
        name = f"discovery_{i + 1}"
        tables.append(ReportTable(f"{name}_trajectory", f"Peeling trajectory: {q.package}",
                                  traj, pd.DataFrame(), [
                                      Column("coverage", "coverage", "share",
                                             "failing worlds inside the box / all failing"),
                                      Column("density", "density", "share",
                                             "failing worlds inside the box / worlds inside"),
                                      Column("restricted", "restricted factors", "count")]))
        lim = d.limits.assign(label=[labels.get(f, (f, ""))[0] for f in d.limits["factor"]])
        view = pd.DataFrame({
            "factor": lim["label"],
            "box": [f"{value_text(a, labels.get(f, (f, ''))[1])} to "
                    f"{value_text(b, labels.get(f, (f, ''))[1])}"
                    for f, a, b in zip(lim["factor"], lim["low"], lim["high"], strict=True)],
            "range over the worlds": [f"{value_text(a, labels.get(f, (f, ''))[1])} to "
                                      f"{value_text(b, labels.get(f, (f, ''))[1])}"
                                      for f, a, b in zip(lim["factor"], lim["data_low"],
                                                         lim["data_high"], strict=True)],
            "quasi-p-value": [f"{x:.2g}" for x in lim["qp"]]})
        t_box = ReportTable(f"{name}_box", f"The chosen box: {q.package}", lim, view, [
            Column("qp", "quasi-p-value", "", "how likely a restriction this good arises by "
                   "chance (binomial; Bryant & Lempert 2010)")])
        tables.append(t_box)
        img = _img(_trajectory_plot(d, fig_dir / f"{name}_trajectory.png",
                                    f"{q.package}: peeling trajectory"), "trajectory")
        parts.append(f"{head}<p>{html.escape(rule)}</p>{t_box.html()}<div class='grid'>{img}"
                     f"{_scatter(res, q, d, labels, fig_dir / f'{name}_worlds.png')}</div>"
                     f"<p class='note'>Another box of the trajectory: "
                     f"<code>cluster-abm discover FILE --box N</code> (N from 0 to "
                     f"{len(d.trajectory) - 1}; now {d.chosen}).</p>")
    return tables, "".join(parts)


def _trajectory_plot(d: Discovery, path: Path, title: str) -> bytes:
    fig = Figure(figsize=(5.2, 4.0))
    ax = fig.add_subplot(1, 1, 1)
    t = d.trajectory
    sc = ax.scatter(t["coverage"], t["density"], c=t["restricted"], cmap="viridis", s=18)
    c = t.iloc[d.chosen]
    ax.scatter([c["coverage"]], [c["density"]], s=120, facecolors="none", edgecolors="red",
               label=f"chosen box {d.chosen}")
    fig.colorbar(sc, ax=ax, label="restricted factors")
    ax.set_xlabel("coverage", fontsize=8)
    ax.set_ylabel("density", fontsize=8)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    figures._title(ax, title, 50)
    fig.tight_layout()
    return figures._png(fig, path)


def _scatter(res: EnsembleResult, q, d: Discovery, labels: dict, path: Path) -> str:
    """The worlds in the plane of the box's first two factors, failing ones marked."""
    if len(d.limits) == 0:
        return ""
    names = list(d.limits["factor"][:2])
    if len(names) == 1:
        other = [f.name for f in res.spec.factors if f.name != names[0]]
        if not other:
            return ""
        names.append(other[0])
    o = res.spec.outcome(q.target.outcome)
    m = res.payoff[o.name][q.package]
    w = res.worlds.set_index("world").loc[m.index]
    fail = ~q.target.met(m.to_numpy())
    fig = Figure(figsize=(5.2, 4.0))
    ax = fig.add_subplot(1, 1, 1)
    ax.scatter(w[names[0]][~fail], w[names[1]][~fail], s=14, color="#1b7837", label="meets")
    ax.scatter(w[names[0]][fail], w[names[1]][fail], s=18, color="#b2182b", marker="x",
               label="misses")
    lim = d.limits.set_index("factor")
    x0, x1 = (lim.loc[names[0], "low"], lim.loc[names[0], "high"]) if names[0] in lim.index \
        else (w[names[0]].min(), w[names[0]].max())
    y0, y1 = (lim.loc[names[1], "low"], lim.loc[names[1], "high"]) if names[1] in lim.index \
        else (w[names[1]].min(), w[names[1]].max())
    ax.plot([x0, x1, x1, x0, x0], [y0, y0, y1, y1, y0], color="black", lw=1.2, label="box")
    ax.set_xlabel(textwrap.fill(labels.get(names[0], (names[0], ""))[0], 50), fontsize=8)
    ax.set_ylabel(textwrap.fill(labels.get(names[1], (names[1], ""))[0], 40), fontsize=8)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    figures._title(ax, f"{q.package}: worlds and the box", 50)
    fig.tight_layout()
    return _img(figures._png(fig, path), "worlds")


def write_robustness_report(res: EnsembleResult, discoveries: list[tuple[Any, Discovery]],
                            out_dir: Path) -> Path:
    """The robustness report in ``out_dir`` (with the file's discovery questions)."""
    out_dir = Path(out_dir)
    fig_dir = out_dir / "figures"
    fig_dir.mkdir(parents=True, exist_ok=True)
    spec = res.spec
    tables, _ = _robustness_tables(res)
    d_tables, d_html = _discovery_tables(res, discoveries, fig_dir)
    imgs = []
    for o in spec.outcomes:
        m = res.payoff[o.name]
        if m.empty:
            continue
        what = "effect against the reference" if o.effect else "level"
        imgs.append(_img(_box_plot({p: m[p].to_numpy(dtype=float) for p in m.columns},
                                   f"{o.label} across the worlds ({what})",
                                   f"{o.label} ({o.unit})", fig_dir / f"outcome_{o.name}.png"),
                         o.label))
    for name, r in res.regret.items():
        o = spec.outcome(name)
        imgs.append(_img(_box_plot({p: r[p].to_numpy(dtype=float) for p in r.columns},
                                   f"Regret on {o.label} over the worlds",
                                   f"regret ({o.unit}; 0 = the best package in that world)",
                                   fig_dir / f"regret_{name}.png"), f"regret {o.label}"))
    choice = ""
    for name, s in res.regret_summary.items():
        best = s[s["minimax"]].iloc[0]
        o = spec.outcome(name)
        choice += (f"<p class='sc'>On <b>{html.escape(o.label)}</b>, the minimax-regret choice is "
                   f"<b>{html.escape(best['package'])}</b>: in its worst world it falls "
                   f"{_n(best['max_regret'])} {html.escape(o.unit)} short of the best package "
                   f"there; it is the best package in {numbers.percent(best['best_share'])} "
                   f"of the worlds.</p>")
    if len(res.satisficing):
        s = res.satisficing.sort_values("all", ascending=False).iloc[0]
        choice += (f"<p class='sc'>The package meeting every target in the most worlds is "
                   f"<b>{html.escape(s['package'])}</b> ({numbers.percent(s['all'])} of them).</p>")
    missing = (f"<p class='note'><b>{res.missing} runs are not stored</b> (failed or not run "
               "yet); cells without them are left out.</p>") if res.missing else ""
    drivers = "".join(f"<li><b>{html.escape(f.label)}</b>: {html.escape(f.target)}"
                      f"{' of ' + html.escape(f.scope) if f.scope else ''} ({f.mode}) from "
                      f"{f.low:g} to {f.high:g} {html.escape(f.unit)}</li>" for f in spec.factors)
    about = [("robustness", spec.name), ("description", spec.description),
             ("file", spec.source), ("packages", ", ".join(spec.packages)),
             ("reference", spec.reference_name), ("worlds", str(spec.worlds)),
             ("replicates", str(spec.replicates)), ("root seed", str(spec.seed)),
             ("uncertain factors", "; ".join(f"{f.label}: {f.low:g} to {f.high:g} {f.unit}"
                                             for f in spec.factors)),
             ("how to read", "one sheet per table; the sheet 'columns' explains every column")]
    all_tables = tables + d_tables
    body = f"""<p>{html.escape(spec.description)}</p>
<p class='note'>{len(spec.packages)} packages in {spec.worlds} worlds (a Latin hypercube over the
uncertain factors below), {spec.replicates} replicates each; replicate r has the same seed in
every package and world (common random numbers), and effects are paired differences against
<b>{html.escape(spec.reference_name)}</b> in the same world. Regret is how far a package falls
short of the best of these packages in the same world (in the outcome's unit; Savage 1951); the
minimax-regret package has the smallest worst case. Rankings and regret use replicate means:
differences smaller than about twice the replicate standard error are not reliable.</p>
{missing}<h2>The choice</h2>{choice or '<p>No outcome with a direction: no regret.</p>'}
<h2>Outcomes across the worlds</h2>{tables[0].html()}<div class='grid'>{''.join(imgs)}</div>
<h2>Regret and ranking stability</h2>{''.join(f"<h3>{html.escape(t.title)}</h3>{t.html()}"
                                               for t in tables if t.name.startswith('regret_'))}
<p class='note'>Kendall's W is 1 when every world ranks the packages alike and 0 when rankings
share nothing.</p>
<h2>Targets (satisficing)</h2>{next((t.html() for t in tables if t.name == 'satisficing'),
                                    '<p>The file states no targets.</p>')}
<h2>Where packages fail (scenario discovery)</h2>{d_html or '<p>The file asks no discovery question ([[discovery]]).</p>'}
<h2>The uncertain factors</h2><ul>{drivers}</ul>
{_save_tables(all_tables, out_dir, about)}"""
    return _page(out_dir / "report.html", f"Robustness: {spec.name}", body)


def write_discovery_report(res: EnsembleResult, discoveries: list[tuple[Any, Discovery]],
                           out_dir: Path) -> Path:
    """The discovery questions alone, in ``out_dir``."""
    out_dir = Path(out_dir)
    fig_dir = out_dir / "figures"
    fig_dir.mkdir(parents=True, exist_ok=True)
    tables, d_html = _discovery_tables(res, discoveries, fig_dir)
    about = [("robustness file", res.spec.source), ("worlds", str(res.spec.worlds)),
             ("method", "PRIM (Friedman & Fisher 1999; package PRIM 1.0 of Project Platypus)")]
    body = f"""<p class='note'>For each question: the worlds where the package misses its target
(on replicate means), and the box of uncertain factors PRIM finds around them. Coverage: the
share of all failing worlds inside the box; density: the share of worlds inside the box that
fail. The peeling trajectory shows the trade-off; the chosen box balances the two unless a box is
named.</p>{d_html or '<p>The file asks no discovery question ([[discovery]]).</p>'}
{_save_tables(tables, out_dir, about) if tables else ''}"""
    return _page(out_dir / "report.html", f"Scenario discovery: {res.spec.name}", body)
