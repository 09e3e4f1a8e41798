"""Product, process and eco-innovation.

Seed 3.1 / 2.1: innovation grows with knowledge and with cooperation that brings diverse partners
(firms, KIBS, research centres, universities). Firms innovate by two routes (Jensen, Johnson,
Lorenz & Lundvall 2007): informally, by doing, using and interacting, at a hazard that rises with
the knowledge stock (Griliches 1979) measured against the state of the art, since ideas get harder
to find as the frontier advances (Jones 1995; Bloom, Jones, Van Reenen & Webb 2020), and through
formal R&D projects. R&D is indivisible: a
project needs at least ``innovation.rd_min_team`` full-time researchers, so only a firm whose R&D
budget (own R&D plus grant-funded R&D) pays for one runs formal R&D, and the returns to R&D rise
with the output it is spread over (Cohen & Klepper 1996); its hazard then rises with the number of
projects it funds with the elasticity of innovation output to R&D (Griliches 1990; Crepon, Duguet
& Mairesse 1998). About half of European innovators do no in-house R&D (Huang, Arundel &
Hollanders 2010), most of them small. Both routes rise with dynamic capabilities (seed 3.6.1;
Teece et al. 1997), with the novelty partners bring, an inverted U in cognitive distance
(Nooteboom et al. 2007: partners too similar teach nothing, partners too different cannot be
understood), and with the knowledge pool near the firm on the grid
(:mod:`cluster_abm.mechanisms.agglomeration`). Product innovations raise quality (more so in
demand-side projects, seed 3.1.3), process innovations raise labour productivity.

Seed 3.2.3 (De Marchi 2012): eco-innovations are systemic and more cooperation-based; a firm
eco-innovates only with green knowledge (seed 3.6.3) **and** a complementary partner: a partner
firm with green knowledge at a cognitive distance, or a knowledge institution with green knowledge
in a running project. Awareness of their business potential scales the hazard (seed 2.2, 3.2.4).
"""

from __future__ import annotations

import numpy as np

from cluster_abm.mechanisms.agglomeration import spillover_factor
from cluster_abm.mechanisms.common import (
    cognitive_distance,
    hazard,
    novelty_value,
    profiles,
    state_of_the_art,
)
from cluster_abm.mechanisms.learning import rd_spend
from cluster_abm.mechanisms.technology import adoption_factor, productivity_frontier


def partner_novelty(m, step) -> None:
    """Per firm: novelty from partners N = 1 - exp(-sum of inverted-U values) and whether a
    complementary green partner exists.

    Step state: reads ``profiles``; writes ``novelty``, ``green_partner``.
    """
    ft, p = m.firms, m.p
    n = ft.n
    prof = step.profiles  # knowledge profiles of this step (knowledge has not changed since)
    value = np.zeros(n)
    green_partner = np.zeros(n, dtype=bool)
    thr, dmin = p.eco.green_threshold, p.eco.partner_min_distance
    green_ok = ft.knowledge[:n, -1] >= thr
    ti = m.ties.idx
    if len(ti):
        a, b = m.ties.ends()
        d = cognitive_distance(prof[a], prof[b])
        g = novelty_value(d, p.innovation.optimal_distance)
        value += np.bincount(a, weights=g, minlength=n) + np.bincount(b, weights=g, minlength=n)
        far = d >= dmin
        green_partner[a[far & green_ok[b]]] = True
        green_partner[b[far & green_ok[a]]] = True
    idx = ft.idx
    proj = idx[ft.ki_until[idx] >= m.t]
    if len(proj) and len(m.kis):
        kp = profiles(m.ki_knowledge)[ft.ki_index[proj]]
        d = cognitive_distance(prof[proj], kp)
        value[proj] += novelty_value(d, p.innovation.optimal_distance)
        green_partner[proj] |= m.ki_knowledge[ft.ki_index[proj], -1] >= thr
    step.novelty = -np.expm1(-value)
    step.green_partner = green_partner


def rd_projects(m, idx: np.ndarray) -> np.ndarray:
    """Minimum-scale R&D projects the R&D budget of firms ``idx`` pays for: budget (k€/yr) over
    the cost of ``innovation.rd_min_team`` researchers at the region's skilled wage (k€/yr), and 0
    below one project: R&D is indivisible (Cohen & Klepper 1996)."""
    cost = m.p.innovation.rd_min_team * m.wage_s[m.firms.region[idx]]
    projects = rd_spend(m, idx) / cost
    return np.where(projects >= 1.0, projects, 0.0)


def innovation_rate(m, step, idx: np.ndarray) -> np.ndarray:
    """Per-step innovation hazard of firms ``idx`` (also the 'merit' funders can monitor): the
    informal route (knowledge stock, in reference stocks of the current state of the art:
    :func:`~cluster_abm.mechanisms.common.state_of_the_art`) plus the formal one (R&D projects,
    none below the minimum scale), times partner novelty, dynamic capabilities and local
    spillovers.

    Step state: reads ``novelty``, ``knowledge_pool``.
    """
    ft, p = m.firms, m.p.innovation
    k = ft.knowledge[idx].sum(axis=1)
    reference = p.knowledge_ref * state_of_the_art(m)  # ideas get harder to find (common.py)
    informal = p.base_rate * (k / reference) ** p.knowledge_elasticity
    projects = rd_projects(m, idx)
    formal = np.where(projects > 0, p.rd_rate * projects ** p.rd_elasticity, 0.0)
    return ((informal + formal)
            * (1.0 + p.partner_weight * step.novelty[idx])
            * (1.0 + p.dyncap_weight * ft.dyncap[idx])
            * spillover_factor(m, step, idx))


def innovate(m, step) -> None:
    """Product and process innovations at the hazard of :func:`innovation_rate` (seed 3.1).

    A product innovation raises quality, more so for a firm in a demand-side project (lever
    ``quadruple_helix``, seed 3.1.3: ``policy.qh_market_gain``); a process innovation raises
    labour productivity. Each closes a share of the firm's log gap to the world's frontier
    (adoption, :mod:`cluster_abm.mechanisms.technology`: ``production.product_gain``,
    ``production.process_gain``), so its gain grows with the distance still to cover. The
    shares shrink with firm size (``production.gain_size_exponent``).

    Step state: reads ``novelty``, ``knowledge_pool``.
    """
    ft, p = m.firms, m.p
    idx = ft.idx
    hit = idx[hazard(m.uniform("innovate", idx), innovation_rate(m, step, idx))]
    if len(hit) == 0:
        return
    product = m.uniform("innovation_type", hit) < p.innovation.product_share
    prod, proc = hit[product], hit[~product]
    theta = p.production.gain_size_exponent
    scale_prod = np.maximum(ft.skilled[prod] + ft.unskilled[prod], 1) ** -theta
    scale_proc = np.maximum(ft.skilled[proc] + ft.unskilled[proc], 1) ** -theta
    share = p.production.product_gain * scale_prod * np.where(ft.qh_until[prod] >= m.t, 1.0 + p.policy.qh_market_gain, 1.0)
    ft.quality[prod] *= adoption_factor(ft.quality[prod], m.frontier_quality, np.minimum(share, 1.0))
    share = p.production.process_gain * scale_proc
    ft.productivity[proc] *= adoption_factor(ft.productivity[proc], productivity_frontier(m, proc), share)
    ft.n_innov[hit] += 1
    ft.last_innov[hit] = m.t
    m.ledger.add("innovations_product", ft.region[prod])
    m.ledger.add("innovations_process", ft.region[proc])


def eco_innovate(m, step) -> None:
    """Eco-innovation needs green knowledge and a complementary partner (seed 3.2.3).

    Hazard = ``eco.base_rate`` x eco-awareness x (1 + ``policy.env_cost_sharing`` while the firm
    is in a collective environmental project, seed 3.2.2: implementation costs shared), for firms
    with green knowledge above ``eco.green_threshold`` and a complementary partner (a green
    partner firm at a cognitive distance, or a green knowledge institution in a running project:
    ``green_partner``). Each eco-innovation cuts the firm's emission intensity by
    ``eco.emission_cut``. Levers reach eco-innovation only through these drivers: awareness
    (``cmo_green_awareness``), green knowledge (``green_skills``, collective projects' pooling),
    partners (``green_cooperation`` starts projects with green institutions) and the hazard
    (``collective_env_projects``); none sets the partner flag or cuts emissions itself.

    Step state: reads ``green_partner``, ``eco_awareness``.
    """
    ft, p = m.firms, m.p
    idx = ft.idx
    green = ft.knowledge[idx, -1] >= p.eco.green_threshold
    partner = step.green_partner[idx]
    shared = 1.0 + p.policy.env_cost_sharing * (ft.env_until[idx] >= m.t)
    rate = p.eco.base_rate * step.eco_awareness[idx] * (green & partner) * shared
    hit = idx[hazard(m.uniform("eco", idx), rate)]
    if len(hit) == 0:
        return
    ft.emission[hit] *= 1.0 - p.eco.emission_cut
    ft.n_eco[hit] += 1
    m.ledger.add("eco_innovations", ft.region[hit])
