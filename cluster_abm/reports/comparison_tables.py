"""The comparison report's tables, each built once as a :class:`.tables.ReportTable`: effects
on outcomes, public cost per result, what each lever spent, each region's results and each
lever's own outcome. Numbers go to the table's ``data`` (CSV, Excel), text to its ``view`` (HTML),
and every column of ``data`` is documented (:class:`.tables.Column`).
"""

from __future__ import annotations

import math

import pandas as pd

from cluster_abm.outputs.metrics import KPIS, SERIES
from cluster_abm.policy.levers import BY_ID
from cluster_abm.reports import economics, labels, numbers, spending
from cluster_abm.reports.tables import Column, ReportTable

REGION_MEASURES = ("jobs_end", "job_years_pv", "innovations_pv", "emigrants_pv", "money_pv",
                   "levers_pv")


def verdict(mean, low, high, better) -> str:
    """"good" / "bad" where the interval excludes zero in a direction with a judgement."""
    if not (numbers.finite(low) and numbers.finite(high)) or better not in ("higher", "lower"):
        return ""
    if low > 0 or high < 0:
        return "good" if (mean > 0) == (better == "higher") else "bad"
    return ""



def _effect_text(r, unit) -> tuple[str, str]:
    return (labels.value_text(r["mean"], unit, signed=True),
            numbers.interval(r["low"], r["high"], labels.value_text, unit=unit, signed=True))


def effects_table(eff: pd.DataFrame, kpis: list[str], titles: dict[str, str], years: float,
                  name: str, title: str, mde: bool = True, level: float = 0.95) -> ReportTable:
    """Effects of ``kpis`` per arm: text for people (missing values explained, a fallback
    measure added) and numbers for spreadsheets."""
    rows, data, classes = [], [], []
    for arm in dict.fromkeys(eff["arm"]):
        e = eff[eff["arm"] == arm].set_index("kpi")
        shown = []
        for kpi in kpis:
            if kpi not in e.index:
                continue
            shown.append(kpi)
            r = e.loc[kpi]
            if not numbers.finite(r["mean"]) and labels.fallback(kpi) in e.index:
                shown.append(labels.fallback(kpi))
        for kpi in dict.fromkeys(shown):
            r = e.loc[kpi]
            unit = r["unit"]
            missing = not numbers.finite(r["mean"])
            if missing:
                why = labels.why_missing(kpi, years, not numbers.finite(r["baseline_mean"]),
                                         not numbers.finite(r["arm_mean"]))
                own = (f"; with the package: {labels.value_text(r['arm_mean'], unit)}"
                       if numbers.finite(r["arm_mean"]) else "")
                alt = labels.fallback(kpi)
                alt_text = f"; read instead: {labels.kpi_label(alt)}" if alt in e.index else ""
                effect, ci = why + own + alt_text, ""
            else:
                effect, ci = _effect_text(r, unit)
            rel = (numbers.percent(r["relative"], signed=True)
                   if numbers.finite(r["relative"]) else "not shown" if not missing else "")
            row = {"package": titles.get(arm, arm), "outcome": labels.kpi_label(kpi),
                   "unit": labels.unit_column(unit),
                   "baseline": labels.value_text(r["baseline_mean"], unit)
                   if numbers.finite(r["baseline_mean"]) else "not defined",
                   "effect": effect, f"{100 * level:.0f} % CI": ci, "relative": rel}
            if mde:
                row["smallest detectable"] = ("" if not numbers.finite(r["mde"]) else
                                     numbers.points(r["mde"], signed=False) if labels.is_share(unit)
                                     else labels.value_text(r["mde"], unit))
            row["pairs"] = f"{int(r['n'])}"
            rows.append(row)
            classes.append(verdict(r["mean"], r["low"], r["high"], r["better"]))
            data.append({"arm": arm, "package": titles.get(arm, arm), "kpi": kpi,
                         "outcome": labels.kpi_label(kpi), "unit": unit,
                         "baseline_mean": r["baseline_mean"], "package_mean": r["arm_mean"],
                         "effect": r["mean"], "ci_low": r["low"], "ci_high": r["high"],
                         "relative_effect": r["relative"], "significant": bool(r["significant"]),
                         "mde": r["mde"], "sd_of_pairs": r["sd"], "pairs": int(r["n"]),
                         "note": effect if missing else ""})
    view = pd.DataFrame(rows)
    cols = [Column("arm", "package id"), Column("package", "package"),
            Column("kpi", "KPI id", "", "the KPI's name in docs/outputs.md"),
            Column("outcome", "outcome"), Column("unit", "unit", "", "the KPI's unit (k€ = thousand euros, real region)"),
            Column("baseline_mean", "baseline", "KPI unit", "mean over the baseline's replicates"),
            Column("package_mean", "package", "KPI unit", "mean over the package's replicates"),
            Column("effect", "effect", "KPI unit", "mean paired difference package - baseline"),
            Column("ci_low", "CI low", "KPI unit", "lower end of the confidence interval of the effect"),
            Column("ci_high", "CI high", "KPI unit", "upper end of the confidence interval of the effect"),
            Column("relative_effect", "relative effect", "fraction of the baseline", "effect / baseline; empty where the baseline is not a positive level (a share, a change, zero or less)"),
            Column("significant", "significant", "true/false", "the interval excludes zero"),
            Column("mde", "minimum detectable effect", "KPI unit", "the smallest effect these pairs detect with 80 % power at 5 % two-sided"),
            Column("sd_of_pairs", "sd of paired differences", "KPI unit", ""),
            Column("pairs", "pairs", "count", "replicates with both runs finished"),
            Column("note", "note", "", "why the effect is not defined")]
    return ReportTable(name, title, pd.DataFrame(data), view, cols, row_classes=classes)


def cost_text(r, level: float = 0.95) -> str:
    """A cost per result with its interval, for people; where the interval reaches below zero
    (the extra money itself is not told from zero) only its upper end means something; where
    there is no cost, the note saying why."""
    if not numbers.finite(r["cost_per_result"]):
        return r["note"]
    cost, low, high = r["cost_per_result"], r["cost_low"], r["cost_high"]
    ci = f"{100 * level:.0f} % CI"
    if numbers.finite(low) and low < 0:
        upper = f"at most {numbers.money(high)}" if numbers.finite(high) else "no upper bound"
        return (f"{numbers.money(cost)} ({ci}: {upper}; the extra public money itself cannot "
                "be told from zero)")
    return f"{numbers.money(cost)} ({ci} {numbers.interval(low, high, numbers.money)})"


def cost_table(cost: pd.DataFrame, titles: dict[str, str], region: str, name: str,
               title: str) -> ReportTable:
    c = cost[cost["region"] == region]
    rows, data = [], []
    for _, r in c.iterrows():
        units = r["units"]
        result = r["what"] + ("" if units in ("", "real region") else f" ({units})")
        rows.append({"package": titles.get(r["arm"], r["arm"]), "per": result,
                     "extra public money (present value)": numbers.money(r["extra_money_pv"], signed=True),
                     "extra results (CI)": f"{numbers.num(r['extra_result'], signed=True)} ("
                                           f"{numbers.interval(r['extra_result_low'], r['extra_result_high'], signed=True)})",
                     "public cost per result (CI)": cost_text(r)})
        data.append({"arm": r["arm"], "package": titles.get(r["arm"], r["arm"]),
                     "region": region, "result": r["result"], "per": result,
                     **{k: r[k] for k in ("extra_money_pv", "extra_money_low", "extra_money_high",
                                          "extra_result", "extra_result_low", "extra_result_high",
                                          "cost_per_result", "cost_low", "cost_high")},
                     "pairs": int(r["n"]), "note": r["note"]})
    cols = [Column("arm", "package id"), Column("package", "package"), Column("region", "region id"),
            Column("result", "result id"), Column("per", "result"),
            Column("extra_money_pv", "extra public money, present value", "k€", "all public money (grants, cluster organisations, training, levers) against the baseline, discounted"),
            Column("extra_money_low", "CI low", "k€"), Column("extra_money_high", "CI high", "k€"),
            Column("extra_result", "extra results", "result units", "paired difference; job-years, innovations and emigrants discounted"),
            Column("extra_result_low", "CI low", "result units"), Column("extra_result_high", "CI high", "result units"),
            Column("cost_per_result", "public cost per result", "k€", "extra public money (present value) / extra results; empty where there is none (see note)"),
            Column("cost_low", "CI low", "k€", "bootstrap over pairs"), Column("cost_high", "CI high", "k€", "bootstrap over pairs; inf: no upper bound"),
            Column("pairs", "pairs", "count"), Column("note", "note", "", "why there is no cost per result")]
    return ReportTable(name, title, pd.DataFrame(data), pd.DataFrame(rows), cols,
                       left=("public cost per result (CI)",))


def spending_table(summary: pd.DataFrame, titles: dict[str, str], rnames: dict[str, str]) -> ReportTable:
    """One row per package and lever (all regions), its regions in one cell; the spreadsheet
    table has a row per region as well."""
    rows = []
    total = summary[summary["region"] == "ALL"]
    for _, r in total.iterrows():
        start, end = int(r["start_year"]), r["end_year"]
        timing = (f"years {start}–{int(end) - 1}" if end is not None and numbers.finite(end)
                  else f"from year {start}")
        regional = summary[(summary["arm"] == r["arm"]) & (summary["lever"] == r["lever"])
                           & (summary["region"] != "ALL")]
        by_region = "; ".join(
            f"{rnames.get(g['region'], g['region'])}: {numbers.money(g['spent'])}"
            + (f" ({numbers.percent(g['share_of_cap'])})" if numbers.finite(g["share_of_cap"]) else "")
            for _, g in regional.iterrows())
        rows.append({"package": titles.get(r["arm"], r["arm"]),
                     "lever": f"{r['lever_name']} (intensity {numbers.num(r['intensity'])}, {timing})",
                     "spent over the run": numbers.money(r["spent"]),
                     "present value": numbers.money(r["spent_pv"]),
                     "per year running": numbers.money(r["spent_per_year"]),
                     "cap per year": numbers.money(r["yearly_cap"]) if numbers.finite(r["yearly_cap"]) else "none",
                     "share of cap spent": (numbers.percent(r["share_of_cap"]) + ": "
                                            + spending.not_absorbed_reason(r["share_of_cap"]))
                     if numbers.finite(r["share_of_cap"]) else "",
                     "by region (share of its cap)": by_region})
    data = summary.assign(package=summary["arm"].map(lambda a: titles.get(a, a)))
    cols = [Column("arm", "package id"), Column("lever", "lever id"), Column("lever_name", "lever"),
            Column("region", "region id", "", "ALL: the lever in every region"),
            Column("intensity", "intensity", "0-2"), Column("start_year", "start year", "policy year"),
            Column("end_year", "end year", "policy year", "exclusive; empty: to the end"),
            Column("years_running", "years running", "years", "policy years of the run in which the lever runs"),
            Column("spent", "spent over the run", "k€", "mean over replicates"),
            Column("spent_pv", "present value", "k€", "discounted at the report's rate"),
            Column("spent_per_year", "spent per year running", "k€/yr"),
            Column("yearly_cap", "cap per year", "k€/yr", "policy.lever_budget x intensity in a region the lever reaches; for ALL, times the regions it reaches"),
            Column("cap", "cap over the run", "k€", "yearly cap x years running x regions reached"),
            Column("share_of_cap", "share of cap spent", "fraction"), Column("package", "package")]
    return ReportTable("lever_spending", "What each lever spent, by region", data, pd.DataFrame(rows), cols,
                       left=("share of cap spent", "by region (share of its cap)"))


def region_table(pm: pd.DataFrame, cost: pd.DataFrame, region: str, titles: dict[str, str],
                 units: dict[str, str], name: str, title: str) -> ReportTable:
    p = pm[pm["region"] == region]
    rows, data, classes = [], [], []
    good = {"jobs_end": "higher", "job_years_pv": "higher", "innovations_pv": "higher",
            "emigrants_pv": "lower", "money_pv": None, "levers_pv": None}
    for arm in dict.fromkeys(p["arm"]):
        for measure in REGION_MEASURES:
            sel = p[(p["arm"] == arm) & (p["measure"] == measure)]
            if sel.empty:
                continue
            r = sel.iloc[0]
            label, unit, base, _ = economics.MEASURES[measure]
            u = units.get(base, "")
            unit_txt = "€" if unit == "k€" else unit + ("" if u in ("", "real region") else f" ({u})")
            fmt = numbers.money if unit == "k€" else numbers.num
            rel = (numbers.percent(r["mean"] / r["baseline_mean"], signed=True)
                   if numbers.finite(r["baseline_mean"]) and r["baseline_mean"] > 0 and unit != "k€" else "")
            rows.append({"package": titles.get(arm, arm), "outcome": label, "unit": unit_txt,
                         "baseline": fmt(r["baseline_mean"]), "effect": fmt(r["mean"], signed=True),
                         "CI": numbers.interval(r["low"], r["high"], fmt, signed=True),
                         "relative": rel, "smallest detectable": fmt(r["mde"])})
            classes.append(verdict(r["mean"], r["low"], r["high"], good[measure]))
            data.append({"arm": arm, "package": titles.get(arm, arm), "region": region,
                         "measure": measure, "outcome": label, "unit": unit, "units": u,
                         **{k: r[k] for k in ("baseline_mean", "arm_mean", "mean", "low", "high",
                                              "mde", "n")}})
        c = cost[(cost["region"] == region) & (cost["arm"] == arm) & cost["result"].isin(["job", "job_year"])]
        for _, r in c.iterrows():
            text = cost_text(r)
            rows.append({"package": titles.get(arm, arm), "outcome": f"Public cost per {r['what']}",
                         "unit": "€", "baseline": "", "effect": text, "CI": "", "relative": "",
                         "smallest detectable": ""})
            classes.append("")
            data.append({"arm": arm, "package": titles.get(arm, arm), "region": region,
                         "measure": f"cost_per_{r['result']}", "outcome": f"Public cost per {r['what']}",
                         "unit": "k€", "units": r["units"], "baseline_mean": math.nan,
                         "arm_mean": math.nan, "mean": r["cost_per_result"], "low": r["cost_low"],
                         "high": r["cost_high"], "mde": math.nan, "n": r["n"]})
    cols = [Column("arm", "package id"), Column("package", "package"), Column("region", "region id"),
            Column("measure", "measure id"), Column("outcome", "outcome"),
            Column("unit", "unit", "", "k€ = thousand euros of the real region"),
            Column("units", "counted in", "", "real region, or model firms where a region gives no enterprises"),
            Column("baseline_mean", "baseline", "unit"), Column("arm_mean", "package", "unit"),
            Column("mean", "effect", "unit", "mean paired difference (for costs: the cost per result)"),
            Column("low", "CI low", "unit"), Column("high", "CI high", "unit"),
            Column("mde", "minimum detectable effect", "unit", "80 % power, 5 % two-sided"),
            Column("n", "pairs", "count")]
    return ReportTable(name, title, pd.DataFrame(data), pd.DataFrame(rows), cols,
                       group=region, row_classes=classes)


def direct_outcomes_table(panel: pd.DataFrame, order: list[str], arms: dict, titles: dict[str, str],
                          baseline: str, level: float, eff: pd.DataFrame | None = None,
                          years: float = 0) -> ReportTable:
    """Each lever's own (direct) outcome from the catalogue against the baseline: a series over
    the run (flows summed, stocks and ratios in the last year) or a KPI (from ``eff``, the KPI
    effects; a KPI that is not defined says why)."""
    rows, data, classes = [], [], []
    last = panel["year"].max() if len(panel) else 0
    tot = panel[panel["region"] == "ALL"]
    for arm in order[1:]:
        sc = arms.get(arm)
        if sc is None:
            continue
        for lid in sc.levers:
            lever = BY_ID[lid]
            metric = lever.outcome
            if metric in SERIES:
                d = tot[tot["metric"] == metric]
                if d.empty:
                    continue
                kind = SERIES[metric].kind
                per = (d.groupby(["arm", "seed"])["value"].sum(min_count=1) if kind == "flow"
                       else d[d["year"] == last].groupby(["arm", "seed"])["value"].mean())
                per = per.reset_index()
                b, a = per[per["arm"] == baseline], per[per["arm"] == arm]
                m = a.merge(b, on="seed", suffixes=("", "_b")).dropna(subset=["value", "value_b"])
                diff = (m["value"] - m["value_b"]).to_numpy(dtype=float)
                r = economics._summary(arm, "ALL", metric, diff, m["value_b"].to_numpy(dtype=float),
                                       m["value"].to_numpy(dtype=float), level)
                unit = SERIES[metric].unit
                what = "over the run" if kind == "flow" else "in the last year"
                name = f"{labels.series_label(metric)} {what}"
                fmt_unit = unit.split("/")[0] if kind == "flow" else unit
            elif eff is not None and metric in KPIS:
                sel = eff[(eff["arm"] == arm) & (eff["kpi"] == metric)]
                if sel.empty:
                    continue
                r = sel.iloc[0]
                unit = fmt_unit = KPIS[metric].unit
                what, name = "KPI", labels.kpi_label(metric)
            else:
                continue
            better = "higher" if lever.direction == "+" else "lower"
            if numbers.finite(r["mean"]):
                effect = (f"{labels.value_text(r['mean'], fmt_unit, signed=True)} ("
                          f"{numbers.interval(r['low'], r['high'], labels.value_text, unit=fmt_unit, signed=True)})")
            else:
                alt = labels.fallback(metric)
                effect = labels.why_missing(metric, years, not numbers.finite(r["baseline_mean"]),
                                            not numbers.finite(r["arm_mean"]))
                if alt is not None:
                    effect += f"; read instead: {labels.kpi_label(alt)} (in the table of all outcomes)"
            rows.append({"package": titles.get(arm, arm), "lever": lever.name,
                         "its direct outcome": name,
                         "unit": labels.unit_column(fmt_unit) if labels.is_money(unit) or labels.is_share(unit) else labels.unit_words(fmt_unit),
                         "baseline": labels.value_text(r["baseline_mean"], fmt_unit)
                         if numbers.finite(r["baseline_mean"]) else "not defined",
                         "with the package": labels.value_text(r["arm_mean"], fmt_unit)
                         if numbers.finite(r["arm_mean"]) else "not defined",
                         "effect (CI)": effect,
                         "expected": "up" if lever.direction == "+" else "down"})
            classes.append(verdict(r["mean"], r["low"], r["high"], better))
            data.append({"arm": arm, "package": titles.get(arm, arm), "lever": lid,
                         "lever_name": lever.name, "series": metric, "measured": what,
                         "unit": fmt_unit, "baseline_mean": r["baseline_mean"],
                         "package_mean": r["arm_mean"], "effect": r["mean"], "ci_low": r["low"],
                         "ci_high": r["high"], "expected_direction": lever.direction,
                         "pairs": int(r["n"])})
    cols = [Column("arm", "package id"), Column("package", "package"), Column("lever", "lever id"),
            Column("lever_name", "lever"), Column("series", "outcome id", "", "a series or KPI of docs/outputs.md"),
            Column("measured", "measured", "", "series: flows summed over the run, stocks and ratios in the last year; KPI: as defined"),
            Column("unit", "unit"), Column("baseline_mean", "baseline", "unit"),
            Column("package_mean", "package", "unit"), Column("effect", "effect", "unit"),
            Column("ci_low", "CI low", "unit"), Column("ci_high", "CI high", "unit"),
            Column("expected_direction", "expected direction", "+ / -", "the catalogue's direction (docs/policies.md)"),
            Column("pairs", "pairs", "count")]
    return ReportTable("direct_outcomes", "Each lever's own outcome", pd.DataFrame(data),
                       pd.DataFrame(rows), cols, row_classes=classes)
