"""Facts about the runs themselves (issue 21): the baseline is stationary after the spin-up, and
one seed tells about as much as another (seed variability). Not stylized facts of firm
populations but conditions for reading the others: a drifting baseline makes every window-mean
depend on the window, and a large spread across seeds makes one run's figures anecdotes (Lee et
al. 2015, The complexities of agent-based modeling output analysis, JASSS 18(4): 4, on
stationarity and the number of replicates).

The yearly series come from ``validate.collect`` (``r["yearly"]``): per-step series of the model
averaged (stocks, ratios) or summed (flows) by policy year, as ``tests/test_stationarity.py``
measures the issue-16 bar.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from cluster_abm.analysis.validation.facts import Fact, _band

DRIFT_MAX_PCT = 5.0  # |drift| per decade of seed-mean firms and employment, % of their mean
DRIFT_MAX_PP = 1.0  # |drift| per decade of the seed-mean unemployment rate, percentage points
CV_MAX = 0.10  # coefficient of variation across seeds of final employment


def drift_per_decade(yearly: np.ndarray) -> float:
    """Slope of the least-squares line through yearly values, times 10 years."""
    years = np.arange(len(yearly), dtype=float)
    return 10.0 * float(np.polyfit(years, yearly, 1)[0])


def yearly_means(series: np.ndarray, spy: int) -> np.ndarray:
    """Steps 1..T of a per-step series (row 0 is the state at year 0) averaged by year."""
    body = np.asarray(series)[1:]
    return body[: len(body) // spy * spy].reshape(-1, spy, *body.shape[1:]).mean(axis=1)


def yearly_sums(series: np.ndarray, spy: int) -> np.ndarray:
    """Steps 1..T of a per-step flow (row 0 is the state at year 0) summed by year."""
    body = np.asarray(series)[1:]
    return body[: len(body) // spy * spy].reshape(-1, spy, *body.shape[1:]).sum(axis=1)


def yearly_series(wide: dict[str, np.ndarray], spy: int) -> dict[str, np.ndarray]:
    """What the run facts need from a model's ``series_wide()`` (last column: all regions)."""
    return {"firms": yearly_means(wide["firms"][:, -1], spy),
            "employment": yearly_means(wide["employment"][:, -1], spy),
            "unemployment": yearly_means(wide["unemployment_rate"][:, -1], spy),
            "employment_end": np.asarray(wide["employment"][spy::spy, -1], dtype=float),
            "firms_end": np.asarray(wide["firms"][spy::spy, -1], dtype=float),
            "firms_region": yearly_means(wide["firms"][:, :-1], spy),
            "innovations": yearly_sums(wide["innovations"][:, -1], spy),
            "skilled_emigrants": yearly_sums(wide["skilled_emigrants"][:, -1], spy),
            "skilled_emigrants_region": yearly_sums(wide["skilled_emigrants"][:, :-1], spy),
            "employment_region_end": np.asarray(wide["employment"][spy::spy, :-1], dtype=float),
            "labour_force_region_end": np.asarray(wide["labour_force"][spy::spy, :-1], dtype=float),
            "wage_bill_region_end": np.asarray(wide["wage_bill"][spy::spy, :-1], dtype=float),
            "value_added_region_end": np.asarray(wide["value_added"][spy::spy, :-1], dtype=float)}


def stationarity(runs, from_year: int) -> dict[str, float]:
    """Drift per decade of the seed means over years ``from_year + 1`` to the end: firms and
    employment in % of their mean, the unemployment rate in percentage points."""
    sl = slice(from_year, None)
    f, e, u = (np.mean([r["yearly"][k][sl] for r in runs], axis=0)
               for k in ("firms", "employment", "unemployment"))
    if len(f) < 2:
        return {"firms %": math.nan, "employment %": math.nan, "unemployment pp": math.nan}
    return {"firms %": 100 * drift_per_decade(f) / f.mean(),
            "employment %": 100 * drift_per_decade(e) / e.mean(),
            "unemployment pp": 100 * drift_per_decade(u)}


def stationarity_fact(runs, from_year: int, figdir=None, plt=None) -> Fact:
    """After the spin-up the baseline is stationary (issue 16): over the measurement window the
    seed-mean firm count and employment drift by under 5 % per decade and the unemployment
    rate by under 1 percentage point per decade (slopes of least-squares lines through the
    yearly means, as tests/test_stationarity.py measures it on 10 other seeds)."""
    d = stationarity(runs, from_year)
    passed = (abs(d["firms %"]) < DRIFT_MAX_PCT and abs(d["employment %"]) < DRIFT_MAX_PCT
              and abs(d["unemployment pp"]) < DRIFT_MAX_PP)
    n_years = len(runs[0]["yearly"]["firms"]) if runs else 0
    d_all = stationarity(runs, 0)
    name = None
    if figdir is not None and plt is not None and runs:
        from cluster_abm.analysis.validation.facts import _save

        years = np.arange(1, n_years + 1)
        fig, axes = plt.subplots(1, 3, figsize=(12, 3.4))
        for ax, key, label, scale in ((axes[0], "firms", "firms", 1.0),
                                      (axes[1], "employment", "employment (persons)", 1.0),
                                      (axes[2], "unemployment", "unemployment rate (%)", 100.0)):
            vals = np.array([r["yearly"][key] for r in runs]) * scale
            ax.plot(years, vals.T, color="0.7", lw=0.6)
            ax.plot(years, vals.mean(axis=0), color="tab:blue", lw=2, label="mean over seeds")
            ax.axvspan(from_year + 0.5, n_years + 0.5, color="tab:green", alpha=0.08,
                       label="measurement window")
            ax.set_xlabel("policy year (after the spin-up)")
            ax.set_title(label, fontsize=10)
        axes[0].legend(fontsize=8)
        fig.tight_layout()
        name = _save(fig, figdir, "stationarity.png", plt)
    return Fact(
        "stationarity", "The baseline is stationary after the spin-up", bool(passed),
        f"over years {from_year + 1}-{n_years}, drift per decade of the seed means: firms and "
        f"employment under {DRIFT_MAX_PCT:g} % of their mean, unemployment rate under "
        f"{DRIFT_MAX_PP:g} percentage point",
        f"firms {d['firms %']:+.2f} %, employment {d['employment %']:+.2f} %, unemployment "
        f"{d['unemployment pp']:+.2f} pp per decade (years 1-{n_years}: "
        f"{d_all['firms %']:+.2f} %, {d_all['employment %']:+.2f} %, "
        f"{d_all['unemployment pp']:+.2f} pp)",
        "the issue-16 bar (a model property, no published figure)",
        ["issue 16; tests/test_stationarity.py", "Lee et al. (2015) The complexities of "
         "agent-based modeling output analysis, JASSS 18(4): 4"],
        "Yearly means of the per-step series over all regions; the drift is the slope of a "
        "least-squares line through the mean over seeds, times ten years.", name)


def _regional_firms(runs, from_year: int) -> np.ndarray:
    """Seed-mean firm count by year (``from_year + 1`` to the end) x region."""
    return np.mean([r["yearly"]["firms_region"][from_year:] for r in runs], axis=0)


def _seed_drifts(runs, from_year: int) -> np.ndarray:
    """Seeds x regions: each seed's drift per decade of its firm count over years
    ``from_year + 1`` to the end, in % of the seed-mean count's mean. A least-squares slope is
    linear in the data, so the mean over seeds is the drift of the seed-mean count."""
    f = _regional_firms(runs, from_year)
    if len(f) < 2:
        return np.full((len(runs), f.shape[1]), math.nan)
    mean = np.maximum(f.mean(axis=0), 1e-9)
    return np.array([[100 * drift_per_decade(r["yearly"]["firms_region"][from_year:, j]) / mean[j]
                      for j in range(f.shape[1])] for r in runs])


def regional_drift(runs, from_year: int) -> np.ndarray:
    """Per region: drift per decade of the seed-mean firm count over years ``from_year + 1`` to
    the end, in % of its mean."""
    return _seed_drifts(runs, from_year).mean(axis=0)


def regional_drift_interval(runs, from_year: int, level: float = 0.95) -> np.ndarray:
    """Per region: the (low, high) t-interval over seeds of the seeds' drifts
    (:func:`_seed_drifts`), centred on :func:`regional_drift`. One region's drift over 20 years
    moves by several points with the root seed (North-East Romania -6.2 % and -10.7 % a decade
    on 20 seeds each); the interval says how far the mean can be trusted. NaN with fewer than
    two seeds. Regions x 2."""
    return seed_interval(_seed_drifts(runs, from_year), level)


def seed_interval(per_seed: np.ndarray, level: float = 0.95) -> np.ndarray:
    """Per column of ``per_seed`` (seeds x k): the (low, high) t-interval over seeds of its mean;
    NaN with fewer than two seeds. k x 2."""
    d = np.asarray(per_seed, dtype=float)
    if len(d) < 2:
        return np.full((d.shape[1], 2), math.nan)
    half = stats.t.ppf(0.5 + level / 2, len(d) - 1) * d.std(axis=0, ddof=1) / math.sqrt(len(d))
    centre = d.mean(axis=0)
    return np.column_stack([centre - half, centre + half])


def _interval(lo_hi: np.ndarray) -> str:
    return "" if np.isnan(lo_hi).any() else f" [{lo_hi[0]:+.1f}, {lo_hi[1]:+.1f}]"


def regional_stationarity_fact(runs, from_year: int) -> Fact:
    """Each region's firm count is stationary after the spin-up: the bar of the stationarity
    fact (5 % of the mean per decade) region by region. The totals can hide a region that
    consolidates while the others grow; the table adds the largest firm's share of each region's
    employment at the window's first and last year end (``r["top_share"]``)."""
    drift = regional_drift(runs, from_year)
    ci = regional_drift_interval(runs, from_year)
    names = runs[0]["region_names"]
    f = _regional_firms(runs, from_year)
    top = np.mean([r["top_share"] for r in runs], axis=0)  # window year ends x regions
    rows = ["| region | firms, first / last window year | drift per decade [95 % interval over seeds] | "
            "largest firm's share of the region's employment, first / last window year end |",
            "|---|---|---|---|"]
    for j, name in enumerate(names):
        rows.append(f"| {name} | {f[0, j]:.0f} / {f[-1, j]:.0f} | {drift[j]:+.1f} %{_interval(ci[j])} | "
                    f"{100 * top[0, j]:.0f} % / {100 * top[-1, j]:.0f} % |")
    worst = int(np.nanargmax(np.abs(drift)))
    inside = int(np.sum(np.abs(drift) < DRIFT_MAX_PCT))
    return Fact(
        "regional_stationarity", "Each region's firm count is stationary after the spin-up",
        bool(inside == len(drift)),
        f"every region: drift per decade of the seed-mean firm count over years "
        f"{from_year + 1}-end under {DRIFT_MAX_PCT:g} % of its mean",
        f"{inside} of {len(drift)} regions inside; largest drift {names[worst]} "
        f"{drift[worst]:+.1f} % per decade{_interval(ci[worst])}",
        "the issue-16 bar, region by region (a model property, no published figure)",
        ["issue 16; issue 21 (regional differences)", "Lee et al. (2015) The complexities of "
         "agent-based modeling output analysis, JASSS 18(4): 4"],
        "Yearly means of each region's firm count, mean over seeds; the drift is the slope of a "
        "least-squares line, times ten years, over the region's mean.", None, rows)


def seed_variability(runs, from_year: int) -> dict[str, list[float]]:
    """Per seed: final-year-end employment and firms, innovations and skilled emigrants per
    year over the window."""
    sl = slice(from_year, None)
    return {"employment": [float(r["yearly"]["employment_end"][-1]) for r in runs],
            "firms": [float(r["yearly"]["firms_end"][-1]) for r in runs],
            "innovations per year": [float(np.mean(r["yearly"]["innovations"][sl]))
                                     for r in runs],
            "skilled emigrants per year": [float(np.mean(r["yearly"]["skilled_emigrants"][sl]))
                                           for r in runs]}


def cv(values) -> float:
    """Coefficient of variation across seeds: sample standard deviation over the mean."""
    v = np.asarray([x for x in values if math.isfinite(x)], dtype=float)
    if len(v) < 2 or v.mean() == 0:
        return math.nan
    return float(v.std(ddof=1) / abs(v.mean()))


def variability_fact(runs, from_year: int) -> Fact:
    """One seed is a fair sample: the coefficient of variation across seeds of final
    employment stays under 10 %, so differences between scenarios of more than a few percent
    are not seed noise (paired seeds shrink it further; Lee et al. 2015 on choosing the
    number of replicates). The other outcomes' CVs are reported: innovations and emigration
    are counts of rare events in small regions and vary more."""
    v = seed_variability(runs, from_year)
    cvs = {k: cv(x) for k, x in v.items()}
    passed = math.isfinite(cvs["employment"]) and cvs["employment"] < CV_MAX
    rows = ["| outcome | mean [min, max] over seeds | CV across seeds |", "|---|---|---|"]
    for k, x in v.items():
        b = _band(x)
        rows.append(f"| {k} | {b[0]:.4g} [{b[1]:.4g}, {b[2]:.4g}] | {100 * cvs[k]:.1f} % |")
    return Fact(
        "variability", "Seed variability: final employment varies by under 10 % across seeds",
        bool(passed),
        f"coefficient of variation across seeds (sample standard deviation over the mean) of "
        f"final employment below {100 * CV_MAX:.0f} %",
        "; ".join(f"{k} CV {100 * c:.1f} %" for k, c in cvs.items()),
        "a model property (no published figure)",
        ["Lee et al. (2015) The complexities of agent-based modeling output analysis, JASSS "
         "18(4): 4"],
        f"Final: the last year end; per year: mean over years {from_year + 1}-end. Every seed "
        "starts from its own spun-up world, so the CV covers the spin-up's variation too.",
        None, rows)
