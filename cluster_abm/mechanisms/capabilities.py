"""Firm capabilities: absorptive capacity, managerial training, codification and green skills.

Seed 3.6.2: absorptive capacity (Cohen & Levinthal 1990) is the ability to value, assimilate and
exploit external knowledge; it rests on prior related knowledge and on knowledge-codification
capabilities, which SEE SMEs mostly lack. Seed 3.6.1: managerial training should build dynamic
capabilities (Teece et al. 1997) and be targeted at the most promising, well-networked firms, so
that their partners benefit too. Seed 3.6.3: eco-innovation needs industry-specific green skills.
Seed 3.6.5: CMOs broker training supply and demand, so offered places are actually taken up.
Training and knowledge-management systems close a share of the gap to full capability (a
learning rate per place); green-skills transfers close a share of the gap to the experts' green
knowledge, scaled by absorptive capacity. No lever adds a fixed amount of a stock.
"""

from __future__ import annotations

import numpy as np

from cluster_abm.mechanisms.common import state_of_the_art
from cluster_abm.numerics.grouping import top_per_group
from cluster_abm.numerics.rounding import stochastic_round
from cluster_abm.policy.lever_state import ALL


def update_absorptive(m) -> None:
    """AC = (w * codification + (1 - w) * skilled share) * (1 - exp(-K / (K_scale * S))) (seed
    3.6.2), with S the state of the art (:func:`~cluster_abm.mechanisms.common.state_of_the_art`):
    prior knowledge counts relative to the knowledge it is to absorb (Cohen & Levinthal 1990)."""
    ft, p = m.firms, m.p.learning
    idx = ft.idx
    emp = np.maximum(ft.skilled[idx] + ft.unskilled[idx], 1)
    skilled = ft.skilled[idx] / emp
    scale = p.ac_knowledge_scale * state_of_the_art(m)
    prior = -np.expm1(-ft.knowledge[idx].sum(axis=1) / scale)
    w = p.ac_codification_weight
    ft.absorptive[idx] = (w * ft.codification[idx] + (1 - w) * skilled) * prior


def decay_capabilities(m) -> None:
    """Capabilities erode without renewal (managers leave, routines decay)."""
    ft = m.firms
    idx = ft.idx
    keep = 1.0 - m.p.training.capability_decay
    ft.dyncap[idx] *= keep
    ft.codification[idx] *= keep


def _places(m, per_100_firms: np.ndarray, eligible_count: np.ndarray) -> np.ndarray:
    """Places per region this step from a per-100-firms yearly rate (already per step)."""
    return stochastic_round(m.rngs.capabilities, per_100_firms * eligible_count / 100.0)


def _select(m, candidates: np.ndarray, places: np.ndarray, priority: np.ndarray) -> np.ndarray:
    """Pick up to ``places[r]`` candidates per region, highest ``priority`` first."""
    if len(candidates) == 0:
        return candidates
    return candidates[top_per_group(m.firms.region[candidates], priority, places)]


def _apply_training(m, trained: np.ndarray, scale: float = 1.0) -> None:
    """Raise dynamic capabilities (and codification) of trained firms; partners learn a share."""
    ft, p = m.firms, m.p.training
    gain_dc = p.dyncap_gain * scale * (1.0 - ft.dyncap[trained])
    ft.dyncap[trained] += gain_dc
    ft.codification[trained] += p.codification_gain * scale * (1.0 - ft.codification[trained])
    # Spillover to partners (seed 3.6.1: "the ones connected to them will both benefit").
    ties = m.ties
    ti = ties.idx
    if len(ti) and len(trained):
        gain = np.zeros(ft.n)
        gain[trained] = gain_dc
        is_trained = np.zeros(ft.n, dtype=bool)
        is_trained[trained] = True
        a, b = ties.ends()
        # Only ties touching a trained firm carry a gain; the others would add exact zeros.
        touch = (is_trained[a] | is_trained[b]).nonzero()[0]
        a, b = a[touch], b[touch]
        spill = np.bincount(a, weights=gain[b], minlength=ft.n) + np.bincount(b, weights=gain[a], minlength=ft.n)
        spill = spill[: ft.n] * p.spillover
        ft.dyncap[: ft.n] = np.minimum(ft.dyncap[: ft.n] + spill * (1.0 - ft.dyncap[: ft.n]), 1.0)


def train_firms(m) -> None:
    """Baseline regional training places plus the managerial-training lever (seed 3.6.1, 3.6.5).

    Places are offered first, then taken up or not: without CMO brokering a firm offered a place
    takes it with probability ``policy.training_uptake`` (an unused place is lost); members of
    CMOs under the ``cmo_training_brokering`` lever take every place offered to them (seed 3.6.5:
    CMOs lead "the enterprises to participate at the initiatives targeted to them"). Baseline
    places go to firms at random (first come), the lever's places to its targeted group (default:
    the promising, well-networked firms); only places taken up are paid for.
    """
    ft, w = m.firms, m.world
    idx = ft.idx
    count = np.bincount(ft.region[idx], minlength=w.n_regions)
    uptake = m.p.policy.training_uptake
    brokered = np.zeros(ft.n, dtype=bool)
    if m.policy.on("cmo_training_brokering"):
        funded = np.zeros(w.n_clusters + 1, dtype=bool)  # CMOs whose programme was paid this year
        for cmo in m.cmos:
            if "cmo_training_brokering" in cmo.active_levers:
                funded[cmo.clusters] = True
        brokered[idx] = ((m.policy.level("cmo_training_brokering", firms=idx) > 0)
                         & ft.member[idx] & funded[ft.cluster[idx]])

    def take_up(offered_to: np.ndarray) -> np.ndarray:
        return offered_to[brokered[offered_to] | (m.uniform("training", offered_to, 1) < uptake)]

    offered = _places(m, np.full(w.n_regions, m.p.training.places), count)
    trained = take_up(_select(m, idx, offered, m.uniform("training", idx)))
    if len(trained):
        _apply_training(m, trained)
        m.ledger.add("trainings", ft.region[trained])
        m.ledger.add("public_spent_training", ft.region[trained], m.p.yearly.training.cost * m.firm_weight(trained))

    if m.policy.on("managerial_training"):
        level = m.policy.level("managerial_training", firms=idx)
        reached = idx[level > 0]
        targeted_count = np.bincount(ft.region[reached], minlength=w.n_regions)
        places = _places(m, m.p.policy.training_places * m.policy.level("managerial_training", regions=ALL), targeted_count)
        chosen = take_up(_select(m, reached, places, m.uniform("training", reached, 2)))
        if len(chosen):
            chosen = chosen[m.policy.grant("managerial_training", chosen, m.p.yearly.training.cost)]
            _apply_training(m, chosen)
            m.ledger.add("trainings", ft.region[chosen])


def _funded_places(m, lid: str, need, cost: float) -> np.ndarray:
    """Firms a place-funding lever reaches this step: ``policy.training_places`` per 100 targeted
    firms and year, neediest first (``need(slots)`` gives the priority), within the budget."""
    ft = m.firms
    idx = ft.idx
    reached = idx[m.policy.level(lid, firms=idx) > 0]
    count = np.bincount(ft.region[reached], minlength=m.world.n_regions)
    places = _places(m, m.p.policy.training_places * m.policy.level(lid, regions=ALL), count)
    chosen = _select(m, reached, places, need(reached))
    return chosen[m.policy.grant(lid, chosen, cost)] if len(chosen) else chosen


def support_codification(m) -> None:
    """Knowledge-management systems for SMEs lacking codification capability (seed 3.6.2).

    The lever ``codification_support`` funds systems for targeted firms, lowest codification
    first; each closes ``policy.codification_gain`` of the gap to full codification.
    """
    if not m.policy.on("codification_support"):
        return
    ft = m.firms
    chosen = _funded_places(m, "codification_support", lambda s: -ft.codification[s],
                            m.p.yearly.policy.codification_cost)
    ft.codification[chosen] += m.p.policy.codification_gain * (1.0 - ft.codification[chosen])
    m.ledger.add("km_systems", ft.region[chosen])


def transfer_green_skills(m) -> None:
    """Transfer of industry-specific eco-innovation skills to targeted firms, those with the least
    green knowledge first (seed 3.6.3: experts' advice and training on skills distant from the
    industry's knowledge base; Porter & van der Linde 1995). A transfer is a learning episode, not
    a fixed amount of knowledge: the firm closes ``policy.green_skills_transfer`` x its absorptive
    capacity of the gap between its green knowledge and the experts' (the green field of the
    external knowledge pool, ``m.frontier``), as every transfer in the model is scaled by absorptive
    capacity (seed 3.6.2; Cohen & Levinthal 1990). So the lever raises a learning rate; whether a
    firm then passes the eco-innovation threshold depends on what it can absorb (issue 21)."""
    if not m.policy.on("green_skills"):
        return
    ft = m.firms
    chosen = _funded_places(m, "green_skills", lambda s: -ft.knowledge[s, -1],
                            m.p.yearly.policy.green_skills_cost)
    gap = np.maximum(m.frontier[-1] - ft.knowledge[chosen, -1], 0.0)
    ft.knowledge[chosen, -1] += m.p.policy.green_skills_transfer * ft.absorptive[chosen] * gap
    m.ledger.add("green_transfers", ft.region[chosen])
