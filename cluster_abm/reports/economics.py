"""Public cost per result, present values and the smallest effect an experiment can detect.

Every arm (a policy package, or a design point) runs replicate r with the seed of the baseline's
replicate r (common random numbers), so each measure is compared seed by seed: the paired
difference arm - baseline. Per run and region (and in total, ``ALL``) the measures are

* public money: all of it (``public_spent_total``: grants, cluster organisations, training and
  levers) and the levers' own spending (``public_cost``), in k€ of the real region, in total and
  as a present value at the report's discount rate;
* jobs: employment in the last policy year, and job-years (employment summed over the policy
  years; as a present value too);
* innovations and skilled emigrants over the run (and their present values);

in real-region units where every region gives its enterprises (the ``_real`` series), else in
model units (said in the ``units`` column). Present values discount policy year y by
``(1 + r) ** -y`` (:func:`.yearly.discount_factors`); results are discounted like money, as
cost-effectiveness analysis does so that a result bought later costs more today.

**Cost per result** is the extra present value of public money over the extra result: per extra
job in the last year, per extra (discounted) job-year, per extra (discounted) innovation and per
avoided (discounted) skilled emigrant. It is given only where the package raises the result with
confidence (the paired interval excludes zero) and spends extra money; its interval is a seeded
bootstrap over the pairs. Otherwise a sentence says why there is none and how many replicates
would detect an effect of the size seen.

**Minimum detectable effect** (Bloom 1995): with n pairs whose differences have standard
deviation s, a paired t-test at significance alpha (two-sided) has the given power against an
effect of ``(t(1 - alpha / 2, n - 1) + t(power, n - 1)) * s / sqrt(n)``; smaller true effects are
likely to be missed. Reported at 5 % and 80 % power, the conventions of impact evaluation.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from cluster_abm.reports import numbers
from cluster_abm.reports.yearly import discount_factors

MDE_ALPHA = 0.05  # two-sided significance of the detectable-effect calculation
MDE_POWER = 0.80
N_BOOT = 2000

# measure -> (label, unit, base series, how): "flow" sums the years, "end" is the last year
# and "level" sums the stock over years (job-years); *_pv the present value of the same.
MEASURES = {
    "money": ("All public money", "k€", "public_spent_total", "flow"),
    "money_pv": ("All public money, present value", "k€", "public_spent_total", "flow_pv"),
    "levers": ("Lever spending", "k€", "public_cost", "flow"),
    "levers_pv": ("Lever spending, present value", "k€", "public_cost", "flow_pv"),
    "jobs_end": ("Jobs in the last year", "persons", "employment", "end"),  # total: the KPI (jobs_from_kpis)
    "job_years": ("Job-years over the run", "job-years", "employment", "level"),
    "job_years_pv": ("Job-years, discounted", "job-years", "employment", "level_pv"),
    "innovations": ("Innovations over the run", "innovations", "innovations", "flow"),
    "innovations_pv": ("Innovations, discounted", "innovations", "innovations", "flow_pv"),
    "emigrants": ("Skilled emigrants over the run", "persons", "skilled_emigrants", "flow"),
    "emigrants_pv": ("Skilled emigrants, discounted", "persons", "skilled_emigrants", "flow_pv"),
}
MONEY = ("public_spent_total", "public_cost")  # booked in real euros already
COUNTS = ("employment", "innovations", "skilled_emigrants")  # real-region when every region can
SERIES_NEEDED = (*MONEY, *COUNTS, *(f"{c}_real" for c in COUNTS))

# result -> (measure, sign: +1 a rise is the result, -1 a fall is, what one is, plural)
RESULTS = {
    "job": ("jobs_end", 1, "extra job in the last year", "jobs"),
    "job_year": ("job_years_pv", 1, "extra job-year (discounted)", "job-years"),
    "innovation": ("innovations_pv", 1, "extra innovation (discounted)", "innovations"),
    "avoided_emigrant": ("emigrants_pv", -1, "avoided skilled emigrant (discounted)",
                         "skilled emigrants"),
}


def real_or_model(panel: pd.DataFrame) -> dict[str, tuple[str, str]]:
    """For each count: (series to use, units): the ``_real`` series where it is stored and
    defined in every region and year, else the model's own count."""
    out = {}
    for name in COUNTS:
        real = panel[panel["metric"] == f"{name}_real"]["value"]
        if len(real) and np.isfinite(real.to_numpy(dtype=float)).all():
            out[name] = (f"{name}_real", "real region")
        else:
            out[name] = (name, "model firms")
    return out


def run_measures(panel: pd.DataFrame, rate: float) -> tuple[pd.DataFrame, dict[str, str]]:
    """Per arm, seed and region: every measure of :data:`MEASURES` (wide), and the units of
    the counts ({"employment": "real region" | "model firms", ...})."""
    choice = real_or_model(panel)
    use = {m: m for m in MONEY} | {c: s for c, (s, _) in choice.items()}
    wanted = panel[panel["metric"].isin(set(use.values()))].copy()
    if wanted.empty:
        return pd.DataFrame(columns=["arm", "seed", "region", *MEASURES]), {}
    last = int(wanted["year"].max())
    wanted["d"] = discount_factors(wanted["year"].to_numpy(), rate)
    wanted["pv"] = wanted["value"] * wanted["d"]
    keys = ["arm", "seed", "region"]
    sums = wanted.groupby([*keys, "metric"], sort=False)[["value", "pv"]].sum(min_count=1)
    ends = wanted[wanted["year"] == last].groupby([*keys, "metric"], sort=False)["value"].mean()
    out = pd.DataFrame(index=sums.index.droplevel("metric").unique())
    for measure, (_, _, base, how) in MEASURES.items():
        series = use.get(base)
        if series is None:
            continue
        if how == "end":
            col = ends.xs(series, level="metric") if series in ends.index.get_level_values("metric") else None
        else:
            col_name = "pv" if how.endswith("_pv") else "value"
            col = (sums[col_name].xs(series, level="metric")
                   if series in sums.index.get_level_values("metric") else None)
        out[measure] = col if col is not None else np.nan
    units = {c: u for c, (_, u) in choice.items()}
    return out.reset_index(), units


# The KPI that is the same statistic as "jobs_end" in the total, in each unit of the counts.
JOBS_KPI = {"real region": "employment_final_real", "model firms": "employment_final"}


def jobs_from_kpis(measures: pd.DataFrame, kpis: pd.DataFrame, units: dict[str, str]) -> pd.DataFrame:
    """``measures`` with the total's (region ``ALL``) jobs in the last year taken from the runs'
    KPI (employment, mean over the last year's steps), so the cost per job and the headline
    effect on jobs rest on one number. The stored time series is yearly (year-end values), and a
    single quarter's employment in real units moves with a few model firms' growth (each stands
    for hundreds of real firms), so the year-end value and the year's mean can differ. ``kpis``: arm,
    seed and one column per KPI; regions keep their year-end values (KPIs are totals)."""
    kpi = JOBS_KPI.get(units.get("employment", ""))
    if kpi is None or kpi not in kpis.columns or measures.empty:
        return measures
    lookup = kpis.set_index(["arm", "seed"])[kpi]
    total = measures["region"] == "ALL"
    keys = pd.MultiIndex.from_frame(measures.loc[total, ["arm", "seed"]])
    found = lookup.reindex(keys).to_numpy(dtype=float)
    out = measures.copy()
    out.loc[total, "jobs_end"] = np.where(np.isfinite(found), found, out.loc[total, "jobs_end"])
    return out


def mde(sd: float, n: int, alpha: float = MDE_ALPHA, power: float = MDE_POWER) -> float:
    """Minimum detectable effect of a paired t-test with ``n`` pairs (module docstring)."""
    if n < 2 or not numbers.finite(sd):
        return math.nan
    return (stats.t.ppf(1 - alpha / 2, n - 1) + stats.t.ppf(power, n - 1)) * sd / math.sqrt(n)


def replicates_for(effect: float, sd: float, alpha: float = MDE_ALPHA,
                   power: float = MDE_POWER, cap: int = 1_000_000) -> int | None:
    """Pairs needed to detect ``effect`` (the smallest n whose :func:`mde` is at most it)."""
    if not numbers.finite(effect) or not numbers.finite(sd) or effect == 0:
        return None
    if sd == 0:
        return 2
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    n = max(2, math.ceil((z * sd / abs(effect)) ** 2))
    while n < cap and mde(sd, n, alpha, power) > abs(effect):
        n += 1
    return min(n, cap)


def paired(measures: pd.DataFrame, baseline: str, level: float,
           columns: list[str] | None = None) -> pd.DataFrame:
    """Per arm (not the baseline), region and measure: the paired difference to the baseline.

    Columns: arm, region, measure, n, baseline_mean, arm_mean, mean (of the differences), sd,
    low, high (``level`` t interval), mde (80 % power, 5 % two-sided).
    """
    columns = columns or [c for c in MEASURES if c in measures.columns]
    rows = []
    for arm, region, a, b in _pairs(measures, baseline):
        for col in columns:
            x, y = a[col].to_numpy(dtype=float), b[col].to_numpy(dtype=float)
            ok = np.isfinite(x) & np.isfinite(y)
            rows.append(_summary(arm, region, col, x[ok] - y[ok], y[ok], x[ok], level))
    return pd.DataFrame(rows, columns=["arm", "region", "measure", "n", "baseline_mean",
                                       "arm_mean", "mean", "sd", "low", "high", "mde"])


def _pairs(measures: pd.DataFrame, baseline: str):
    """Per arm (not the baseline) and region: (arm, region, arm rows, baseline rows), the rows
    of the seeds both ran, aligned by seed (common random numbers pair them)."""
    base = measures[measures["arm"] == baseline].set_index(["seed", "region"])
    for arm in dict.fromkeys(measures["arm"]):
        if arm == baseline:
            continue
        a = measures[measures["arm"] == arm].set_index(["seed", "region"])
        common = a.index.intersection(base.index)
        for region in dict.fromkeys(common.get_level_values("region")):
            idx = common[common.get_level_values("region") == region]
            yield arm, region, a.loc[idx], base.loc[idx]


def _summary(arm, region, measure, d, b, x, level) -> dict:
    n = len(d)
    mean = float(d.mean()) if n else math.nan
    sd = float(d.std(ddof=1)) if n > 1 else math.nan
    half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * sd / math.sqrt(n) if n > 1 else math.nan
    return {"arm": arm, "region": region, "measure": measure, "n": n,
            "baseline_mean": float(b.mean()) if n else math.nan,
            "arm_mean": float(x.mean()) if n else math.nan, "mean": mean, "sd": sd,
            "low": mean - half, "high": mean + half, "mde": mde(sd, n)}


def cost_per_result(measures: pd.DataFrame, baseline: str, level: float, seed: int,
                    units: dict[str, str] | None = None, n_boot: int = N_BOOT) -> pd.DataFrame:
    """Per arm, region and result (:data:`RESULTS`): extra money (present value), extra result
    and the cost per result with a bootstrap interval, or a ``note`` saying why there is none."""
    rng = np.random.default_rng(seed)
    units = units or {}
    rows = []
    for arm, region, a, b in _pairs(measures, baseline):
        money = (a["money_pv"] - b["money_pv"]).to_numpy(dtype=float)
        for result, (measure, sign, one, plural) in RESULTS.items():
            if measure not in a.columns:
                continue
            d = sign * (a[measure] - b[measure]).to_numpy(dtype=float)
            ok = np.isfinite(d) & np.isfinite(money)
            unit = units.get(MEASURES[measure][2], "")
            rows.append(_ratio_row(arm, region, result, one, plural, unit, money[ok], d[ok],
                                   level, rng, n_boot))
    return pd.DataFrame(rows, columns=[
        "arm", "region", "result", "what", "units", "n", "extra_money_pv", "extra_money_low",
        "extra_money_high", "extra_result", "extra_result_low", "extra_result_high",
        "cost_per_result", "cost_low", "cost_high", "note"])


def _ratio_row(arm, region, result, one, plural, unit, money, d, level, rng, n_boot) -> dict:
    n = len(d)
    row = {"arm": arm, "region": region, "result": result, "what": one, "units": unit, "n": n}
    t = float(stats.t.ppf(0.5 + level / 2, n - 1)) if n > 1 else math.nan
    for key, x in (("extra_money", money), ("extra_result", d)):
        mean = float(x.mean()) if n else math.nan
        half = t * float(x.std(ddof=1)) / math.sqrt(n) if n > 1 else math.nan
        row[key if key == "extra_result" else "extra_money_pv"] = mean
        row[f"{key}_low"], row[f"{key}_high"] = mean - half, mean + half
    row["cost_per_result"] = row["cost_low"] = row["cost_high"] = math.nan
    mean, low = row["extra_result"], row["extra_result_low"]
    if n > 1 and low > 0 and row["extra_money_pv"] > 0:
        row["cost_per_result"] = row["extra_money_pv"] / mean
        idx = rng.integers(0, n, (n_boot, n))
        num_, den = money[idx].mean(axis=1), d[idx].mean(axis=1)
        ratios = np.where(den > 0, num_ / np.where(den > 0, den, 1.0), np.inf)
        row["cost_low"], row["cost_high"] = np.quantile(ratios, [0.5 - level / 2, 0.5 + level / 2])
        row["note"] = ""
    else:
        row["note"] = why_no_cost(one, plural, n, row, level, d)
    return row


def why_no_cost(one: str, plural: str, n: int, row: dict, level: float, d: np.ndarray) -> str:
    """Why there is no cost per result, in a sentence a steering committee can read."""
    name = one.split(" (")[0].removeprefix("extra ")
    if n < 2:
        return (f"No cost per {name}: {n} paired replicate(s); at least 2 are needed for an "
                "interval.")
    mean, low, high = row["extra_result"], row["extra_result_low"], row["extra_result_high"]
    if np.all(d == 0):
        return (f"No cost per {name}: the package leaves {plural} unchanged in every one of "
                f"{n} paired replicates.")
    effect = (f"{numbers.num(mean, signed=True)} {plural} "
              f"({100 * level:.0f} % CI {numbers.interval(low, high, signed=True)})")
    if low > 0:
        return (f"No cost per {name}: the package raises {plural} ({effect}) without extra public "
                f"money ({numbers.money(row['extra_money_pv'], signed=True)} in present value).")
    if high < 0:
        verb = "raises" if plural == "skilled emigrants" else "lowers"
        return f"No cost per {name}: the package {verb} {plural} ({effect})."
    sd = float(d.std(ddof=1))
    need = replicates_for(mean, sd)
    more = (f" About {numbers.num(need)} paired replicates would detect an effect of this size (80 % power, "
            "5 % two-sided)." if need and need > n else "")
    return (f"No cost per {name}: with {n} paired replicates the effect on {plural} ({effect}) "
            f"cannot be told from zero.{more}")
