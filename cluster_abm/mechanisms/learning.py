"""Learning: knowledge creation by R&D and transfer from partners, scaled by absorptive capacity.

Seed 3.6.2 (Cohen & Levinthal 1990): what a firm learns from external sources is proportional to
its absorptive capacity. Transfers close a share of the per-field gap to the source (knowledge is
non-rival: sources lose nothing). Sources are cooperation partners (seed 3.3.1), the pooled
knowledge of a business network contract (seed 3.3.1), a knowledge institution during a joint
project (seed 3.1.1) and, for glocal firms, the external global knowledge pool they act as
gatekeepers to (seed 3.3.3; Morrison 2008). In-house R&D creates knowledge with diminishing
returns (Griliches 1979), a share of it in the green field as eco-awareness rises (seed 3.6.3);
its money is measured against the technology frontier (mechanisms/technology.py), so a euro of R&D
buys knowledge at the current state of the art.
All knowledge depreciates.
"""

from __future__ import annotations

import numpy as np

from cluster_abm.mechanisms.common import state_of_the_art
from cluster_abm.mechanisms.cooperation import contract_bound


def rd_spend(m, idx: np.ndarray) -> np.ndarray:
    """Yearly R&D spend (k€/yr): own R&D intensity x revenue plus grant-funded R&D."""
    ft = m.firms
    return ft.rd_intensity[idx] * ft.revenue[idx] + ft.grant_rd[idx]


def contract_pooled_gap(m) -> np.ndarray:
    """Per firm slot and field (n, K): what contract membership lets a firm learn toward, the
    largest over its partners of the partner's lead in the field times the share of their
    relation inside a network contract (:func:`~cluster_abm.mechanisms.cooperation.contract_bound`):
    members pool their knowledge toward the contract's best (seed 3.3.1). O(ties x fields)."""
    ft = m.firms
    n = ft.n
    gap = np.zeros((ft.n_fields, n))  # fields x firms: each field's maximum runs over one row
    a, b = m.ties.ends()
    bound = contract_bound(m, a, b)
    inside = bound > 0
    if inside.any():
        a, b, bound = a[inside], b[inside], bound[inside]
        KT = ft.knowledge[:n].T
        for f in range(ft.n_fields):
            lead_b = KT[f, b] - KT[f, a]  # b's lead over a
            up = np.maximum(lead_b, 0.0)
            down = up - lead_b  # = max(-lead_b, 0), exactly: a's lead over b
            np.maximum.at(gap[f], a, up * bound)
            np.maximum.at(gap[f], b, down * bound)
    return gap.T


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

    # Network contracts pool knowledge: members learn toward the best of their co-members, each
    # partner's lead weighed by the share of the relation inside a contract (contract_bound).
    dK += p.contract_pooling * ac[:n, None] * contract_pooled_gap(m)

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
    # A euro of R&D yields knowledge at the current state of the art: money is measured against
    # the technology frontier, so R&D spend does not grow with the state of the art innovation
    # reads (docs/calibration.md, "R&D knowledge at the state of the art").
    yield_ = p.rd_return * state_of_the_art(m)
    dK[idx, home] += yield_ * np.sqrt(spend * (1.0 - green))
    dK[idx, -1] += yield_ * np.sqrt(spend * green)

    K[idx] = (K[idx] + dK[idx]) * (1.0 - p.obsolescence)
    m.frontier *= 1.0 + p.frontier_growth
    if len(m.kis):
        m.ki_knowledge *= 1.0 + p.frontier_growth
