"""Money at the data's level when the policy clock starts: each region's euros re-anchored to its
published wage at the end of the spin-up (issue 21; validation fact 26).

The spin-up (``sim.spinup_years``) lets the built world settle: firm sizes, ages, customer bases,
ties and knowledge take their stationary shapes. It also runs fifty years of history the data's
regions have not lived: the early-stage regions catch up on the frontier (the advantage of
backwardness, :mod:`cluster_abm.mechanisms.technology`) and each seed's regional money level takes
a random walk of its own. Measured on the baseline (seeds 101-108, 2026-12-08), a region's skilled
wage at policy year 0 was 0.89-2.0 times the published wage it was built from (North-East
Romania-like 1.03-2.0, Central Transdanubia-like 1.07-1.85), so a grant or a subsidy in the real
region's euros met firms whose euros had drifted away from them, differently in every seed.

So at policy year 0 each region's money is re-anchored: every money quantity of the region is
multiplied by one factor, the published skilled wage over the spun-up one. What the spin-up shaped
is kept: within a region, every firm's productivity, revenue, cash and wage cost keep their ratios
to one another, so shares, margins, the labour share and every firm's competitiveness
(productivity over unit labour cost) are unchanged; only the level of the region's euros returns
to the data's. It is the initial-condition counterpart of the real-unit weights' calibration at
the same moment (:meth:`ClusterModel._set_region_weights`; Deville & Särndal 1992): agent-based
macro models built to be compared with data start from the data's aggregates at the forecast
origin (Poledna, Miess, Hommes & Rabitsch 2023), and here the spin-up supplies what the data do
not publish, the joint distribution of the firms' states.

The export markets are shared by the regions: an exporter's share is scaled by its region's
factor and each sector's export demand by the resulting sum of its shares, so that every
exporter's orders are its region's euros too and the other regions' exporters keep theirs. Real
euros of the policy (budgets, grants) and the outside world's money (the frontier, the foreign
wage) are not the regions' and are not touched. After policy year 0 the regions evolve as
before: an early-stage region re-anchored below its spun-up level is further from the frontier
and catches up faster, the data's direction (Barro & Sala-i-Martin 1992).
"""

from __future__ import annotations

import numpy as np

# Firm columns in euros (k€ or k€/yr): scaled with their region's money.
MONEY_COLUMNS = ("productivity", "revenue", "revenue_exp", "demand", "cash", "credit_line",
                 "grant_rd", "startup_credit")


def anchor_factors(m) -> np.ndarray:
    """Per region: the published skilled wage over the model's (1 where either is not positive)."""
    published = m.world.region_field("wage_skilled")
    ok = (published > 0) & (m.wage_s > 0)
    return np.where(ok, published / np.where(ok, m.wage_s, 1.0), 1.0)


def anchor_money(m) -> np.ndarray:
    """Multiply every money quantity of each region by :func:`anchor_factors` (see the module
    docstring); returns the factors."""
    k = anchor_factors(m)
    ft = m.firms
    idx = ft.idx
    k_firm = k[ft.region[idx]]
    for col in MONEY_COLUMNS:
        getattr(ft, col)[idx] *= k_firm
    m.wage_s *= k
    m.wage_u *= k
    m.last_productivity *= k
    m.demand_reg *= k[None, :]
    _rescale_exports(m, idx, k_firm)
    return k


def _rescale_exports(m, idx: np.ndarray, k_firm: np.ndarray) -> None:
    """Each exporter's share of its sector's export market times its region's factor, each
    sector's export demand times the sum of the scaled shares, the shares normalised again: every
    exporter's orders (share x demand) are scaled by its own region's factor."""
    ft = m.firms
    sector = ft.sector[idx]
    exporting = ft.exporter[idx]
    scaled = ft.share_exp[idx] * k_firm
    total = np.bincount(sector[exporting], weights=scaled[exporting], minlength=m.world.n_sectors)
    m.demand_exp *= np.where(total > 0, total, 1.0)
    norm = np.where(total > 0, total, 1.0)[sector]
    ft.share_exp[idx] = np.where(exporting, scaled / norm, ft.share_exp[idx])
