"""The world's technology frontier: catch-up growth, and money that keeps its value (issue 21).

The model's regions are not the world's technology leaders: most of what their firms count as
innovations is new to the firm, not to the world (Community Innovation Survey), the adoption of
practice that exists elsewhere. Growth far from the frontier is mostly catch-up, and the gains of
an adoption grow with the distance still to cover: the advantage of backwardness (Gerschenkron
1962; Nelson & Phelps 1966; Aghion & Howitt 1998, ch. 12; Acemoglu, Aghion & Zilibotti 2006).
Here a product innovation closes ``production.product_gain`` of the log gap between the firm's
quality and the world's best, a process innovation ``production.process_gain`` of the log gap
between its labour productivity and the best practice for its skill mix
(:func:`adoption_factor`), and the frontier moves on at ``technology.frontier_growth`` a year.
A region's distance to the frontier then settles where its firms' adoptions keep pace with the
frontier: far behind where firms innovate rarely, close where they innovate often. Growth rates
converge and levels do not (conditional convergence: Barro & Sala-i-Martin 1992; Griffith,
Redding & Van Reenen 2004).

Money in the model is in euros of the data year measured against the world's technology: the
frontier stays where it is and every firm's quality and productivity fall behind it at the
frontier's growth (:func:`fall_behind`); the markets' demand, in these units, grows at its real
growth less the frontier's (``cluster_model._build_sectors_and_regions``), and so do wages abroad.
Before, quality and productivity grew with every innovation without a frontier to close on: over
the 50-year spin-up the regions' skilled wages rose 3- to 12-fold (Upper Austria-like 52 -> 619
k EUR a year, North-East Romania-like 15 -> 43), so a grant in real euros met firms whose money
had drifted away from them, and the regions' wages diverged (ratio 3.5 -> 14.5) where the data's
converge.
"""

from __future__ import annotations

import numpy as np

from cluster_abm.mechanisms.common import reference_wage_ratio


def skill_cost_index(m, skill_share: np.ndarray, region: np.ndarray) -> np.ndarray:
    """Per firm: its labour cost per person at its region's reference wages, in unskilled wages
    (s w0 + 1 - s, ``s`` its technology's skilled share, ``w0`` the region's skill premium): best
    practice for a skill-intensive technology produces more per person, as its staff costs more."""
    return skill_share * reference_wage_ratio(m)[region] + 1.0 - skill_share


def build_frontier(m) -> None:
    """Place the world's frontier at the build: ``technology.leader_gap`` (log) above the region
    whose firms have the highest mean log productivity per unit of skill cost, and above quality
    1 (every firm's quality at the build)."""
    ft, w = m.firms, m.world
    idx = ft.idx
    gap = m.p.technology.leader_gap
    level = np.log(ft.productivity[idx] / skill_cost_index(m, ft.skill_share[idx], ft.region[idx]))
    region = ft.region[idx]
    n = np.bincount(region, minlength=w.n_regions)
    mean = np.bincount(region, weights=level, minlength=w.n_regions) / np.maximum(n, 1)
    m.frontier_productivity = float(np.exp(gap + mean[n > 0].max()))
    m.frontier_quality = float(np.exp(gap))


def productivity_frontier(m, idx: np.ndarray) -> np.ndarray:
    """Per firm: the world's best practice for its skill mix (k EUR/yr per person)."""
    ft = m.firms
    return m.frontier_productivity * skill_cost_index(m, ft.skill_share[idx], ft.region[idx])


def within_frontier(m, attrs: dict) -> None:
    """Entrants start at most at the world's best practice: a draw of quality or productivity
    above the frontier takes the frontier. Entrants are drawn around their parents or their
    market's incumbents and the draws that fail exit, so without a bound this selection alone
    raised the mean quality of high-turnover regions without limit (North-East Romania-like, seed
    1: to 6 times the frontier in 30 years, 6 % a year)."""
    attrs["quality"] = np.minimum(attrs["quality"], m.frontier_quality)
    best = m.frontier_productivity * skill_cost_index(m, attrs["skill_share"], attrs["region"])
    attrs["productivity"] = np.minimum(attrs["productivity"], best)


def adoption_factor(level: np.ndarray, frontier: np.ndarray | float, share: np.ndarray) -> np.ndarray:
    """The factor by which an innovation multiplies ``level``: (frontier / level)^share below the
    frontier, closing ``share`` of the log gap; 1 at or above it (nothing left to adopt)."""
    gap = np.maximum(np.log(frontier / level), 0.0)
    return np.exp(share * gap)


def fall_behind(m) -> None:
    """The frontier moves on: every firm's quality and productivity fall behind it at
    ``technology.frontier_growth`` a year, compounded per step, split between better products
    and better processes as innovations are (``innovation.product_share``)."""
    ft, p = m.firms, m.p
    idx = ft.idx
    g = p.yearly.technology.frontier_growth
    spy = p.steps_per_year
    share = p.innovation.product_share
    ft.quality[idx] /= (1.0 + g * share) ** (1.0 / spy)
    ft.productivity[idx] /= (1.0 + g * (1.0 - share)) ** (1.0 / spy)
