"""Money keeps its value: the regions' wages stay in the data's euros, and their ratios too.

The policy levers pay real euros (a grant, a venture ticket, a training place), and the firms they
reach count theirs in the model's money. The two agree only if the model's money keeps the value
the build gave it from the regions' published wages: then a 60 k EUR grant is as large against a
firm's accounts in policy year 10 as the data say it is. Regions converge slowly in the data
(about 2 % of the gap a year: Barro & Sala-i-Martin 1992), so their wage ratios change little
over decades.

The model's money is measured against the world's technology frontier
(:mod:`cluster_abm.mechanisms.technology`). Before the frontier, quality and productivity grew with
every innovation, and over the spin-up the skilled wage of the Upper Austria-like region rose from
52 to 619 k EUR a year and that of the North-East Romania-like region from 15 to 43 (seed 1): a
grant met accounts 3 to 12 times the data's, and the ratio of the two regions' wages went from
3.5 to 14.5. With the frontier, the 50-year spin-up still moved each seed's regional money
(0.89-2.0 times the published wage at policy year 0, seeds 101-108), so policy year 0 now starts
from the published wages (:mod:`cluster_abm.model.money_anchor`) and the fact reads what the policy
years do to them: the early-stage regions' catch-up, the data's direction.
"""

from __future__ import annotations

import math

import numpy as np

from cluster_abm.analysis.validation.facts import Fact, _finish
from cluster_abm.analysis.validation.facts_runs import _interval, drift_per_decade, seed_interval

LEVEL_FACTOR = 1.5  # each region's window-mean skilled wage within x / 1.5 .. x 1.5 of the data's
RATIO_FACTOR = 1.5  # the highest over the lowest region's wage within the same factor of the data's


def wage_levels(runs) -> tuple[np.ndarray, np.ndarray]:
    """Seeds x regions: the skilled wage averaged over the window's year ends
    (``r["wage_skilled"]``, window years x regions); and per region the published wage the build
    starts from (``r["wage_skilled_data"]``)."""
    level = np.array([np.asarray(r["wage_skilled"]).mean(axis=0) for r in runs])
    return level, np.asarray(runs[0]["wage_skilled_data"], dtype=float)


def money_fact(runs, from_year: int, figdir=None, plt=None) -> Fact:
    """Every region's seed-mean skilled wage over the window within ``LEVEL_FACTOR`` of its
    published wage, and the ratio of the highest to the lowest within ``RATIO_FACTOR`` of the
    data's ratio; each region's drift per decade (in % of its mean) is reported."""
    names = list(runs[0]["region_names"])
    level, data = wage_levels(runs)
    mean = level.mean(axis=0)
    ratio = mean / data
    level_ok = (ratio <= LEVEL_FACTOR) & (ratio >= 1.0 / LEVEL_FACTOR)
    spread, spread_data = mean.max() / mean.min(), data.max() / data.min()
    spread_ok = 1.0 / RATIO_FACTOR <= spread / spread_data <= RATIO_FACTOR
    series = np.array([np.asarray(r["wage_skilled"]) for r in runs])  # seeds x window years x R
    drifts = np.array([[100 * drift_per_decade(s[:, j]) / s[:, j].mean() if len(s) > 1 else math.nan
                        for j in range(s.shape[1])] for s in series])
    drift, ci = drifts.mean(axis=0), seed_interval(drifts)
    rows = ["| region | published skilled wage, k EUR/yr | model, window mean [min, max over seeds] "
            "| model / published | drift per decade, % [95 % interval over seeds] |",
            "|---|---|---|---|---|"]
    for j, name in enumerate(names):
        rows.append(f"| {name} | {data[j]:.1f} | {mean[j]:.1f} [{level[:, j].min():.1f}, "
                    f"{level[:, j].max():.1f}] | {ratio[j]:.2f} | {drift[j]:+.1f}{_interval(ci[j])} |")
    worst = int(np.argmax(np.abs(np.log(ratio))))
    figure = None
    if figdir is not None and plt is not None and series.shape[1] > 1:
        years = np.arange(from_year + 1, from_year + 1 + series.shape[1])
        fig, ax = plt.subplots(figsize=(7, 3.6))
        for j, name in enumerate(names):
            line, = ax.plot(years, series[:, :, j].mean(axis=0), lw=1.4, label=name)
            ax.axhline(data[j], color=line.get_color(), lw=0.8, ls=":")
        ax.set_yscale("log")
        figure = _finish(fig, ax, figdir, "money.png", plt,
                         xlabel="policy year (after the spin-up)",
                         ylabel="skilled wage, k EUR/yr (mean over seeds; dotted: the data)",
                         legend={"fontsize": 7, "ncol": 2})
    return Fact(
        "money", "Money keeps its value: regional wages stay in the data's euros",
        bool(level_ok.all() and spread_ok),
        f"every region's skilled wage over years {from_year + 1}-end within a factor "
        f"{LEVEL_FACTOR:g} of its published wage, and the highest over the lowest region's wage "
        f"within a factor {RATIO_FACTOR:g} of the data's ratio",
        f"{int(level_ok.sum())} of {len(level_ok)} regions within the factor (furthest "
        f"{names[worst]}: {ratio[worst]:.2f} x the data); highest / lowest {spread:.1f} "
        f"(data {spread_data:.1f})",
        "the regions' skilled wages of the scenario (cluster_abm/data/regions/*_SOURCES.md); "
        "regional convergence of about 2 % of the gap a year (Barro & Sala-i-Martin 1992)",
        ["Barro & Sala-i-Martin (1992) Convergence, Journal of Political Economy 100(2): 223-251",
         "Nelson & Phelps (1966) Investment in humans, technological diffusion, and economic "
         "growth, American Economic Review 56(1/2): 69-75"],
        "The regional skilled wage (k EUR a year, the wage contracts' level) at each window year "
        "end, averaged over the window and over seeds, against the published wage the build "
        "starts from; the drift is each seed's least-squares slope times ten years over its "
        "mean, averaged over seeds. A region's wage rising faster than the others' is catch-up "
        "(mechanisms.technology), the data's direction for the early-stage regions.",
        figure, rows)
