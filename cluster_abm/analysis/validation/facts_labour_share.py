"""The labour share: near the EU's and without trend (Kaldor 1961).

Of the value its firms add, a region pays a share to the people who work in them. In the data
that share has no trend over decades (Kaldor 1961; Gollin 2002, once the self-employed are
costed at employees' pay); the largest movement on record, the global decline since the 1980s,
is about 5 percentage points over 35 years (Karabarbounis & Neiman 2014). A model whose regions'
labour shares trend by more mis-states the margins that entry, survival and growth read.

The model's labour share is its firms' wage bill (every person, owner-managers included, at the
region's wage of their skill) over their revenue, which is their value added (the model has no
bought-in inputs): the series ``wage_bill`` and ``value_added`` at the year ends
(``r["yearly"]``, :func:`cluster_abm.analysis.validation.facts_runs.yearly_series`).
"""

from __future__ import annotations

import math

import numpy as np

from cluster_abm.analysis.validation.facts import Fact, _cite, _finish
from cluster_abm.analysis.validation.facts_runs import _interval, drift_per_decade, seed_interval

SHARE_BAND = 0.10  # the pooled labour share within 10 points of the EU's
SHARE_DRIFT_MAX = 3.0  # |drift| per decade of each region's seed-mean labour share, points
TARGET = "labour_share.EU"


def _shares(r, from_year: int) -> np.ndarray:
    """Years of the window x (regions + the pooled total): wage bill over value added."""
    wb = r["yearly"]["wage_bill_region_end"][from_year:]
    va = r["yearly"]["value_added_region_end"][from_year:]
    wb = np.column_stack([wb, wb.sum(axis=1)])
    va = np.column_stack([va, va.sum(axis=1)])
    return np.divide(wb, va, out=np.full(wb.shape, math.nan), where=va > 0)


def labour_share_fact(runs, targets, from_year: int, figdir=None, plt=None) -> Fact:
    """The pooled labour share over the window within ``SHARE_BAND`` of the EU's (Eurostat
    structural business statistics), and every region's seed-mean share drifting by under
    ``SHARE_DRIFT_MAX`` points per decade (slope of a least-squares line, times ten years)."""
    shares = np.array([_shares(r, from_year) for r in runs])  # seeds x years x (R + 1)
    names = list(runs[0]["region_names"])
    mean = np.nanmean(shares, axis=0)  # years x (R + 1)
    drifts = np.array([[100 * drift_per_decade(s[:, j]) if len(s) > 1 else math.nan
                        for j in range(s.shape[1])] for s in shares])  # seeds x (R + 1)
    drift = drifts.mean(axis=0)
    ci = seed_interval(drifts)
    level = float(np.nanmean(mean[:, -1]))
    target = targets.get(TARGET)
    published = target.value if target is not None else math.nan
    level_ok = math.isfinite(level) and abs(level - published) <= SHARE_BAND
    regions_ok = np.abs(drift[:-1]) < SHARE_DRIFT_MAX
    rows = ["| region | labour share, first / last window year | drift per decade, points "
            "[95 % interval over seeds] |", "|---|---|---|"]
    for j, name in enumerate([*names, "all regions"]):
        rows.append(f"| {name} | {mean[0, j]:.2f} / {mean[-1, j]:.2f} | {drift[j]:+.1f}{_interval(ci[j])} |")
    worst = int(np.nanargmax(np.abs(drift[:-1])))
    figure = None
    if figdir is not None and plt is not None and len(mean) > 1:
        years = np.arange(from_year + 1, from_year + 1 + len(mean))
        fig, ax = plt.subplots(figsize=(7, 3.6))
        for j, name in enumerate(names):
            ax.plot(years, mean[:, j], lw=1.2, label=name)
        ax.plot(years, mean[:, -1], color="k", lw=2.2, label="all regions")
        if math.isfinite(published):
            ax.axhspan(published - SHARE_BAND, published + SHARE_BAND, color="tab:green",
                       alpha=0.1, label="EU (Eurostat SBS) +/- 10 points")
            ax.axhline(published, color="tab:green", lw=1)
        ax.set_ylim(0, 1)
        figure = _finish(fig, ax, figdir, "labour_share.png", plt,
                         xlabel="policy year (after the spin-up)",
                         ylabel="wage bill / value added (mean over seeds)",
                         legend={"fontsize": 7, "ncol": 2})
    return Fact(
        "labour_share", "The labour share: near the EU's and without trend",
        bool(level_ok and regions_ok.all()),
        f"the labour share of all regions over years {from_year + 1}-end within "
        f"{100 * SHARE_BAND:.0f} points of the EU's, and every region's seed-mean share "
        f"drifting by under {SHARE_DRIFT_MAX:g} points per decade",
        f"all regions {level:.2f} (EU {published:.3f}); {int(regions_ok.sum())} of "
        f"{len(regions_ok)} regions without trend (largest drift {names[worst]} "
        f"{drift[worst]:+.1f} points per decade)",
        f"{_cite(TARGET, targets)}; no trend in the data: the largest on "
        f"record is about -5 points over 35 years (Karabarbounis & Neiman 2014)",
        ["Kaldor (1961) Capital accumulation and economic growth, in Lutz & Hague (eds), The "
         "Theory of Capital, 177-222", "Gollin (2002) Getting income shares right, Journal of "
         "Political Economy 110(2): 458-474", "Karabarbounis & Neiman (2014) The global decline "
         "of the labor share, Quarterly Journal of Economics 129(1): 61-103",
         "Eurostat structural business statistics (targets.csv `labour_share.EU`)"],
        "Wage bill over value added at each year end (every person, owner-managers included, "
        "at the region's wage of their skill; revenue is value added, the model having no "
        "bought-in inputs), mean over seeds; the drift is each seed's least-squares slope "
        "times ten years, averaged over seeds. Eurostat's figure costs the self-employed at "
        "employees' pay, as the model costs owner-managers.", figure, rows)
