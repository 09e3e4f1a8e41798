"""Firm-knowledge-institution projects: the triple helix at cluster level (seed 3.1.1-3.1.2).

Seed 3.1.1: to close the interaction gap between cluster firms and the knowledge helix, no new
forms of interaction are needed, only two conditions: (a) policy makers aware of the gap and (b)
CMOs that act as enablers. So the project hazard of an eligible firm (absorptive capacity above a
threshold, seed 3.6.2) rises with its region's policy awareness and with its CMO's brokering.
Institutional KIBS serve their own cluster; accredited excellent KIBS (seed 3.1.2) take clients
from other clusters and regions. Science-industry instruments (seed 3.4.1) co-finance projects;
bridges (seed 3.5.3) connect manufacturing firms with research centres of other regions.
Projects are capacity-limited: an institution runs at most ``capacity`` projects at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cluster_abm.mechanisms.common import hazard, hazard_draw, pay_expected
from cluster_abm.numerics.grouping import rank_in_groups

KIND_CODE = {"university": 0, "research": 1, "kibs": 2}


@dataclass
class Institutions:
    """The knowledge institutions as arrays, one entry each, for one call of
    :func:`start_projects` (derived from the agents, not stored)."""

    free: np.ndarray  # int64: projects each can still take (taken places are subtracted)
    region: np.ndarray  # int64
    kind: np.ndarray  # int64: KIND_CODE
    cluster: np.ndarray  # int64: a KIBS's cluster, else -1
    accredited: np.ndarray  # bool


def ki_arrays(m) -> Institutions:
    """Refresh the institutions' running-project counts; their arrays as they stand now."""
    ft = m.firms
    idx = ft.idx
    running = idx[ft.ki_until[idx] >= m.t]
    counts = np.bincount(ft.ki_index[running], minlength=len(m.kis)) if len(m.kis) else np.zeros(0)
    for k, ki in enumerate(m.kis):
        ki.projects = int(counts[k])
    return Institutions(
        free=np.array([ki.free_capacity for ki in m.kis], dtype=np.int64),
        region=np.array([ki.region for ki in m.kis], dtype=np.int64),
        kind=np.array([KIND_CODE[ki.kind] for ki in m.kis], dtype=np.int64),
        cluster=np.array([ki.cluster for ki in m.kis], dtype=np.int64),
        accredited=np.array([ki.accredited for ki in m.kis], dtype=bool),
    )


def _assign(m, inst: Institutions, firms: np.ndarray, eligible: np.ndarray) -> np.ndarray:
    """Give each firm one eligible institution with free capacity (random, weighted by quality);
    returns the institution per firm or -1 and takes the places from ``inst.free``.
    ``eligible`` is (firms x institutions)."""
    if len(firms) == 0 or len(m.kis) == 0:
        return np.full(len(firms), -1, dtype=np.int64)
    quality = np.array([ki.quality for ki in m.kis])
    ok = eligible & (inst.free > 0)[None, :]
    score = np.where(ok, m.rngs.knowledge.random(ok.shape) ** (1.0 / np.maximum(quality, 1e-6)), -1.0)
    choice = score.argmax(axis=1)
    choice[score.max(axis=1) < 0] = -1
    # Capacity: an institution takes its first free_capacity applicants (random order): rank
    # each applicant among those of its institution, in that order.
    order = m.rngs.knowledge.permutation(len(firms))
    applicants = order[choice[order] >= 0]
    by_ki = np.argsort(choice[applicants], kind="stable")
    applicants = applicants[by_ki]
    k = choice[applicants]
    admitted = rank_in_groups(k) < inst.free[k]
    out = np.full(len(firms), -1, dtype=np.int64)
    out[applicants[admitted]] = k[admitted]
    inst.free -= np.bincount(k[admitted], minlength=len(m.kis))
    return out


def start_projects(m, step) -> None:
    """Firms with enough absorptive capacity start projects with knowledge institutions (seed
    3.1.1, 3.6.2): the hazard rises with policy makers' awareness (lever ``policy_awareness``,
    3.1.1 a), with CMO brokering (``cmo_ki_brokering``, 3.1.1 b) and with science-industry
    co-financing (``science_industry_finance``, 3.4.1) for the share of the expected real
    projects its budget pays for (:func:`_science_industry_cover`), which pays that share of
    their costs. Accredited KIBS reach firms of other clusters and regions (``accredited_kibs``,
    3.1.2); bridges send manufacturing firms to research centres of other regions
    (``excellence_bridges``, 3.5.3); the instrument co-finances neither (it pays the projects
    firms start with the institutions of their own region and cluster).

    Step state: reads ``svc_brokering``.
    """
    ft, p = m.firms, m.p
    idx = ft.idx
    inst = ki_arrays(m)
    if len(m.kis) == 0:
        return
    free = (ft.ki_until[idx] < m.t) & (ft.absorptive[idx] >= p.ki.ac_threshold)
    region = ft.region[idx]
    awareness = m.awareness[region]
    si_level = m.policy.level("science_industry_finance", firms=idx)
    base = (p.ki.project_rate * (1.0 + p.ki.awareness_weight * awareness)
            * (1.0 + p.ki.brokering_weight * step.svc_brokering[idx]))
    raised = base * (1.0 + p.policy.science_industry_boost * si_level)  # the co-financed hazard
    cover = _science_industry_cover(m, idx, free & (si_level > 0), raised)
    rate = base * (1.0 + p.policy.science_industry_boost * si_level * cover)
    start = free & hazard(m.uniform("ki_project", idx), rate)

    ki_region, ki_kind, ki_cluster, ki_acc = inst.region, inst.kind, inst.cluster, inst.accredited

    firms = idx[start]
    fr, fc = ft.region[firms], ft.cluster[firms]
    local = (ki_region[None, :] == fr[:, None]) & (ki_kind[None, :] < 2)
    own_kibs = (ki_kind[None, :] == 2) & (ki_cluster[None, :] == fc[:, None]) & (fc[:, None] >= 0)
    accredited = (ki_kind[None, :] == 2) & ki_acc[None, :]
    chosen = _assign(m, inst, firms, local | own_kibs | accredited)
    _begin(m, inst, firms, chosen, np.where(si_level[start] > 0, cover[start], 0.0) * p.policy.science_industry_share)

    # Accredited KIBS reach firms beyond their own cluster and region (seed 3.1.2).
    if ki_acc.any():
        pool = idx[free & ~start]
        rate = np.full(len(pool), p.policy.kibs_reach_rate * m.policy.intensity("accredited_kibs"))
        reach = pool[hazard_draw(m.rngs.policy, rate)]
        acc_kibs = (ki_kind == 2) & ki_acc
        elig = acc_kibs[None, :] & (ki_cluster[None, :] != ft.cluster[reach][:, None])
        chosen = _assign(m, inst, reach, elig)
        _begin(m, inst, reach, chosen, np.zeros(len(reach)))  # the instrument pays local projects

    # Bridges between manufacturing clusters and excellence centres of other regions (seed 3.5.3).
    if m.policy.on("excellence_bridges"):
        level = m.policy.level("excellence_bridges", firms=idx)
        cand = idx[(ft.ki_until[idx] < m.t) & (ft.absorptive[idx] >= p.ki.ac_threshold) & (level > 0)]
        cand = cand[hazard_draw(m.rngs.policy, p.policy.bridge_rate * m.policy.level("excellence_bridges", firms=cand))]
        elig = (ki_kind[None, :] == 1) & (ki_region[None, :] != ft.region[cand][:, None])
        chosen = _assign(m, inst, cand, elig)
        granted = m.policy.grant("excellence_bridges", cand, p.yearly.policy.bridge_cost, asking=chosen >= 0)
        ok_idx = granted.nonzero()[0]
        _begin(m, inst, cand[ok_idx], chosen[ok_idx], np.zeros(len(ok_idx)))


def _science_industry_cover(m, idx: np.ndarray, supported: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """Per firm of ``idx``: the share of its region's co-financed project starts this step that the
    ``science_industry_finance`` budget pays for (``rate``: the co-financed project hazards);
    books the money (seed 3.4.1).

    Each model firm stands for real firms (super-individuals, Scheffer et al. 1995): the
    expected real projects starting behind it this step are its real firms times the hazard. The
    instrument commits ``policy.science_industry_share`` of a project's costs over its life
    (``ki.project_cost`` x ``ki.project_years``) when the project starts; a region's budget, paced
    over the year's remaining steps, pays for as many of the expected starts as it covers, the
    same share of each (:func:`cluster_abm.mechanisms.common.pay_expected`)."""
    p = m.p
    expected = np.where(supported, m.policy.weight(idx) * -np.expm1(-rate), 0.0)
    commitment = p.policy.science_industry_share * p.yearly.ki.project_cost * p.yearly.ki.project_years
    return pay_expected(m, "science_industry_finance", m.firms.region[idx], expected, commitment)


def _begin(m, inst: Institutions, firms: np.ndarray, chosen: np.ndarray, cofunded: np.ndarray) -> None:
    """Start projects of ``firms`` with institutions ``chosen`` (-1: none); ``cofunded``: the share
    of each project's costs a science-industry instrument pays (0: none)."""
    ft = m.firms
    ok = chosen >= 0
    firms, chosen, cofunded = firms[ok], chosen[ok], cofunded[ok]
    if len(firms) == 0:
        return
    ft.ki_index[firms] = chosen
    ft.ki_until[firms] = m.t + int(round(m.p.yearly.ki.project_years * m.p.steps_per_year)) - 1
    ft.ki_cofunded[firms] = cofunded
    region = ft.region[firms]
    m.ledger.add("ki_projects_started", region)
    kinds, ki_region, ki_cluster = inst.kind[chosen], inst.region[chosen], inst.cluster[chosen]
    cross = (ki_region != region) | ((kinds == 2) & (ki_cluster != ft.cluster[firms]))
    m.ledger.add("ki_projects_cross_cluster", region[cross])
    m.ledger.add("ki_projects_research", region[kinds == 1])


def project_costs(m) -> np.ndarray:
    """Per-step cost (k€) each firm bears for its running KI project, less the share a
    science-industry instrument pays (committed when the project started,
    :func:`_science_industry_cover`)."""
    ft, p = m.firms, m.p
    idx = ft.idx
    running = ft.ki_until[idx] >= m.t
    return np.where(running, p.ki.project_cost * (1.0 - ft.ki_cofunded[idx]), 0.0)


# Public names for mechanisms that start projects of their own (sustainability.green_cooperation).
assign_institutions = _assign
begin_projects = _begin
