"""Production, market shares and labour demand (seed 2.6).

Market shares evolve by replicator dynamics on competitiveness (Metcalfe 1998; Dosi et al. 2010):
in each market a firm's share grows in proportion to how far its competitiveness (quality x labour
productivity / unit labour cost) lies above the share-weighted market mean, plus idiosyncratic
demand shocks whose size falls with firm size (Stanley et al. 1996). Each firm sells in its
(sector, region) market and, if it exports, in its sector's export market; demand grows with the
sector and the region. Desired employment is revenue over productivity; firms close part of the
gap each step, hiring from their region's labour pool through a matching friction (only part of
the unemployed can be hired in a step; skill shortages bind, seed 2.6).
"""

from __future__ import annotations

import numpy as np

from cluster_abm.mechanisms.common import hazard
from cluster_abm.numerics.rounding import keyed_round


def competitiveness(m, idx: np.ndarray) -> np.ndarray:
    ft = m.firms
    region = ft.region[idx]
    sk = ft.skill_share[idx]
    ulc = sk * m.wage_s[region] + (1.0 - sk) * m.wage_u[region]
    return ft.quality[idx] * ft.productivity[idx] / ulc


def _replicate(m, idx, share, market, n_markets, fitness, sigma, shocks) -> np.ndarray:
    chi = m.p.market.selection_strength
    w = np.bincount(market, weights=share, minlength=n_markets)
    mean = np.bincount(market, weights=share * fitness, minlength=n_markets) / np.maximum(w, 1e-300)
    grown = share * np.maximum(1.0 + chi * (fitness / np.maximum(mean[market], 1e-300) - 1.0), 0.0)
    grown *= np.exp(sigma * shocks - 0.5 * sigma**2)
    total = np.bincount(market, weights=grown, minlength=n_markets)
    return np.divide(grown, total[market], out=np.zeros_like(grown), where=total[market] > 0)


def _mean_quality(m, idx, share, market, n_markets) -> np.ndarray:
    w = np.bincount(market, weights=share, minlength=n_markets)
    q = np.bincount(market, weights=share * m.firms.quality[idx], minlength=n_markets)
    return np.divide(q, w, out=np.zeros(n_markets), where=w > 0)


def imitate(m, idx, market, n_markets) -> None:
    """Laggards imitate: they close part of the gap to their market's mean quality and
    productivity, scaled by absorptive capacity (Nelson & Winter 1982; seed 3.6.2). This keeps
    selection and diffusion in balance: innovations spread as well as reward their makers."""
    ft = m.firms
    rate = m.p.production.imitation_rate * ft.absorptive[idx]
    w = np.maximum(np.bincount(market, weights=ft.share_reg[idx], minlength=n_markets), 1e-300)
    for col in ("quality", "productivity"):
        v = getattr(ft, col)
        mean = np.bincount(market, weights=ft.share_reg[idx] * v[idx], minlength=n_markets) / w
        v[idx] += rate * np.maximum(mean[market] - v[idx], 0.0)


def compete(m, step) -> None:
    """Replicator step in regional and export markets, demand growth, revenue.

    Step state: reads ``has_transnational`` (export entry).
    """
    ft, p, w = m.firms, m.p, m.world
    idx = ft.idx
    if len(idx) == 0:
        return
    R = w.n_regions
    sector = ft.sector[idx]
    market = sector * R + ft.region[idx]
    # Demand grows with the sector and region, and with the markets' mean quality: product
    # innovations create value, not only steal shares.
    q_reg = _mean_quality(m, idx, ft.share_reg[idx], market, w.n_sectors * R).reshape(w.n_sectors, R)
    q_exp = _mean_quality(m, idx, ft.share_exp[idx], sector, w.n_sectors)
    m.demand_reg *= m.demand_growth_reg * np.where(m.q_reg > 0, q_reg / np.where(m.q_reg > 0, m.q_reg, 1.0), 1.0)
    m.demand_exp *= m.demand_growth_exp * np.where(m.q_exp > 0, q_exp / np.where(m.q_exp > 0, m.q_exp, 1.0), 1.0)
    m.q_reg, m.q_exp = q_reg, q_exp
    imitate(m, idx, market, w.n_sectors * R)
    fit = competitiveness(m, idx)
    emp = np.maximum(ft.skilled[idx] + ft.unskilled[idx], 1)
    sigma = p.market.share_volatility * emp ** (-p.market.volatility_size_exponent)
    shocks = m.normal("share_shock", idx)
    ft.share_reg[idx] = _replicate(m, idx, ft.share_reg[idx], market, w.n_sectors * R, fit, sigma, shocks)

    # Export entry (seed 2.3): firms with transnational ties start exporting.
    new_exp = ~ft.exporter[idx] & step.has_transnational[idx] & hazard(m.uniform("export_entry", idx), np.full(len(idx), p.market.export_entry_rate))
    if new_exp.any():
        entrants = idx[new_exp]
        ft.exporter[entrants] = True
        x = m.sector_export[ft.sector[entrants]]
        ft.share_exp[entrants] = ft.revenue[entrants] * x / np.maximum(m.demand_exp[ft.sector[entrants]], 1e-9)
        m.ledger.add("export_entries", ft.region[entrants])
    exp = ft.exporter[idx]
    ex_idx = idx[exp]
    if len(ex_idx):
        ft.share_exp[ex_idx] = _replicate(m, ex_idx, ft.share_exp[ex_idx], sector[exp], w.n_sectors, fit[exp], sigma[exp], shocks[exp])
    rev_reg = ft.share_reg[idx] * m.demand_reg.ravel()[market]
    rev_exp = np.where(exp, ft.share_exp[idx] * m.demand_exp[sector], 0.0)
    ft.revenue[idx] = rev_reg + rev_exp
    ft.revenue_exp[idx] = rev_exp


def plan_labour(m) -> None:
    """Hire toward revenue / productivity, split by the firm's skilled share; hires are limited by
    each region's unemployed pool, firing returns workers to it. A firm keeps at least one person
    (its entrepreneur). Employment incentives (seed 3.6.4) raise the skilled share of subsidised
    firms (``subsidy_share``)."""
    ft, p, w = m.firms, m.p, m.world
    idx = ft.idx
    if len(idx) == 0:
        return
    desired = ft.revenue[idx] / np.maximum(ft.productivity[idx], 1e-9)
    share = np.minimum(ft.skill_share[idx] + ft.subsidy_share[idx], 1.0)
    want_s = desired * share
    want_u = desired - want_s
    rate = p.production.labour_adjust_rate
    gap_s = keyed_round(m.uniform("round_skilled", idx), rate * (want_s - ft.skilled[idx]))
    gap_u = keyed_round(m.uniform("round_unskilled", idx), rate * (want_u - ft.unskilled[idx]))
    region = ft.region[idx]
    # Firing first (the entrepreneur always stays), so fired workers can be rehired elsewhere.
    fire_s = np.minimum(np.maximum(-gap_s, 0), ft.skilled[idx])
    fire_u = np.minimum(np.maximum(-gap_u, 0), ft.unskilled[idx])
    last = ((ft.skilled[idx] - fire_s + ft.unskilled[idx] - fire_u) == 0) & ((fire_s + fire_u) > 0)
    keep_skilled = last & (fire_s > 0)
    fire_s[keep_skilled] -= 1
    fire_u[last & ~keep_skilled] -= 1
    ft.skilled[idx] -= fire_s.astype(np.int32)
    ft.unskilled[idx] -= fire_u.astype(np.int32)
    m.ledger.add("separations", region, fire_s + fire_u)
    match = p.labour.matching_rate
    for col, gap, pool in (("skilled", gap_s, m.unemployed_s()), ("unskilled", gap_u, m.unemployed_u())):
        pool = np.floor(np.maximum(pool, 0) * match)  # only part of the unemployed can be matched
        hire = np.maximum(gap, 0)
        demand = np.bincount(region, weights=hire, minlength=w.n_regions)
        for r in (demand > pool).nonzero()[0]:
            sel = ((region == r) & (hire > 0)).nonzero()[0]
            if pool[r] > 0:
                got = m.rngs.labour.multinomial(int(pool[r]), hire[sel] / hire[sel].sum())
            else:
                got = np.zeros(len(sel), dtype=np.int64)
            hire[sel] = np.minimum(got, hire[sel])
        staff = getattr(ft, col)
        staff[idx] += hire.astype(np.int32)
        m.ledger.add("hires", region, hire)
        m.ledger.add("hires_" + col, region, hire)  # skilled hires: recent graduates' first jobs (labour)
