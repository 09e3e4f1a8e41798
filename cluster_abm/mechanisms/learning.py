"""Learning: knowledge creation by R&D and transfer from partners, scaled by absorptive capacity.

Seed 3.6.2 (Cohen & Levinthal 1990): what a firm learns from external sources is proportional to
its absorptive capacity. Transfers close a share of the per-field gap to the source (knowledge is
non-rival: sources lose nothing). Sources are cooperation partners (seed 3.3.1), the pooled
knowledge of a business network contract (seed 3.3.1), a knowledge institution during a joint
project (seed 3.1.1) and, for glocal firms, the external global knowledge pool they act as
gatekeepers to (seed 3.3.3; Morrison 2008). In-house R&D creates knowledge with diminishing
returns (Griliches 1979), a share of it in the green field as eco-awareness rises (seed 3.6.3).
All knowledge depreciates.
"""

from __future__ import annotations

import numpy as np


def rd_spend(m, idx: np.ndarray) -> np.ndarray:
    """Yearly R&D spend (k€/yr): own R&D intensity x revenue plus grant-funded R&D."""
    ft = m.firms
    return ft.rd_intensity[idx] * ft.revenue[idx] + ft.grant_rd[idx]


def learn(m, step) -> None:
    """Knowledge transfer from partners, contracts, institutions and the global pool, scaled by
    absorptive capacity; in-house R&D; obsolescence (see the module docstring).

    Step state: reads ``eco_awareness`` (the green share of R&D).
    """
    ft, p = m.firms, m.p.learning
    n = ft.n
    idx = ft.idx
    K = ft.knowledge
    ac = ft.absorptive
    # Partners: each tie teaches both ends (positive part of the gap, per field). Worked on
    # fields x firms, so each field's gather and bincount runs over one contiguous row.
    dKT = np.zeros((ft.n_fields, n))
    ties = m.ties
    ti = ties.idx
    if len(ti):
        a, b = ties.ends()
        KT = K[:n].T.copy()
        gap = KT[:, b]
        gap -= KT[:, a]
        up = np.maximum(gap, 0.0)  # what a learns from b
        down = up - gap  # = max(-gap, 0), exactly: what b learns from a
        up *= p.partner_transfer * ac[a]
        down *= p.partner_transfer * ac[b]
        for f in range(ft.n_fields):
            dKT[f] = np.bincount(a, weights=up[f], minlength=n)
            dKT[f] += np.bincount(b, weights=down[f], minlength=n)
    dK = dKT.T  # firms x fields

    # Network contracts pool knowledge: members learn toward the contract's field maxima.
    members = idx[ft.contract[idx] >= 0]
    if len(members):
        members = members[np.argsort(ft.contract[members], kind="stable")]
        cid = ft.contract[members]
        head = np.r_[True, cid[1:] != cid[:-1]]  # first member of each contract
        pooled = np.maximum.reduceat(K[members], head.nonzero()[0], axis=0)  # field maxima per contract
        group = np.cumsum(head) - 1
        dK[members] += np.maximum(pooled[group] - K[members], 0.0) * (p.contract_pooling * ac[members])[:, None]

    # Joint projects with knowledge institutions.
    in_project = idx[ft.ki_until[idx] >= m.t]
    if len(in_project) and len(m.kis):
        source = m.ki_knowledge[ft.ki_index[in_project]]
        dK[in_project] += np.maximum(source - K[in_project], 0.0) * (p.ki_transfer * ac[in_project])[:, None]

    # Glocal gatekeepers tap the external knowledge pool.
    glocal = idx[ft.glocal[idx]]
    if len(glocal):
        dK[glocal] += np.maximum(m.frontier - K[glocal], 0.0) * (p.glocal_transfer * ac[glocal])[:, None]

    # In-house R&D (diminishing returns); eco-aware firms steer part of it to the green field.
    spend = rd_spend(m, idx)
    green = m.p.eco.green_rd_share * step.eco_awareness[idx]
    home = m.sector_field[ft.sector[idx]]
    dK[idx, home] += p.rd_return * np.sqrt(spend * (1.0 - green))
    dK[idx, -1] += p.rd_return * np.sqrt(spend * green)

    K[idx] = (K[idx] + dK[idx]) * (1.0 - p.obsolescence)
    m.frontier *= 1.0 + p.frontier_growth
    if len(m.kis):
        m.ki_knowledge *= 1.0 + p.frontier_growth
