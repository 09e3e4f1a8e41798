"""Collective environmental projects, funded eco-innovation cooperation and CMO green
best-practice transfer (seed 3.2.2-3.2.4).

Seed 3.2.2: co-located firms share environmental problems and can tackle them collectively at
lower cost (the Sassuolo tile and Arzignano leather districts; Da Ronch & Di Maria 2013).
Seed 3.2.3 (De Marchi 2012): eco-innovations are systemic and cooperation-based; firms need
partners with complementary competences, knowledge institutions and KIBS among them.
Seed 3.2.4: CMOs should raise awareness of the business potential of eco-innovation and transfer
best practice among firms. Environmental pressure is measured as emissions per unit of output:
revenue x the sector's emission intensity x the firm's relative intensity (the firm table's
``emission``, which only eco-innovations cut, :func:`cluster_abm.mechanisms.innovation.eco_innovate`;
the measure itself is an output, :func:`cluster_abm.outputs.metrics.emissions`).

The levers here change drivers only (issue 21): a learning rate (pooled and best-practice green
knowledge, scaled by absorptive capacity where it is learning from others), the eco-innovation
hazard (shared implementation costs) and the hazard of starting a capacity-limited project with a
green knowledge institution; none writes an emission intensity, a knowledge jump or a partner flag.
"""

from __future__ import annotations

import numpy as np

from cluster_abm.mechanisms import knowledge_projects
from cluster_abm.mechanisms.common import hazard


def collective_projects(m) -> None:
    """Yearly: in targeted clusters a share of firms (``policy.env_participation`` x intensity)
    joins the cluster's collective environmental project for the year (seed 3.2.2). Joining
    changes two drivers: participants pool their green knowledge, each closing
    ``policy.env_pooling`` x its absorptive capacity of the gap to the best green knowledge among
    its cluster's participants (a learning rate, as in a network contract's pooling; Cohen &
    Levinthal 1990), and the shared cost of implementing cleaner processes raises their
    eco-innovation hazard by ``policy.env_cost_sharing`` while the project runs (``env_until``,
    read by :func:`cluster_abm.mechanisms.innovation.eco_innovate`; Da Ronch & Di Maria 2013).
    Emission intensity falls only where participants then eco-innovate."""
    if not m.policy.on("collective_env_projects"):
        return
    ft, p = m.firms, m.p
    idx = ft.idx
    level = np.minimum(m.policy.level("collective_env_projects", firms=idx), 1.0)
    join = idx[(ft.cluster[idx] >= 0) & (m.uniform("env_project", idx) < p.policy.env_participation * level)]
    join = join[m.policy.grant("collective_env_projects", join, p.policy.env_cost)]
    if len(join) == 0:
        return
    ft.env_until[join] = m.t + p.steps_per_year - 1
    cl = ft.cluster[join]
    best = np.zeros(m.world.n_clusters)
    np.maximum.at(best, cl, ft.knowledge[join, -1])
    gap = np.maximum(best[cl] - ft.knowledge[join, -1], 0.0)
    ft.knowledge[join, -1] += gap * p.policy.env_pooling * ft.absorptive[join]
    m.ledger.add("env_project_participants", ft.region[join])


def green_cooperation(m, step) -> None:
    """Funded eco-innovation cooperation with complementary partners (seed 3.2.3; De Marchi 2012):
    a supported firm with green knowledge (``eco.green_threshold``) and enough absorptive capacity
    for a project (``ki.ac_threshold``, seed 3.6.2) but no complementary partner starts, at the
    hazard ``policy.green_project_rate`` x intensity, a project with a knowledge institution of any
    kind and region whose green knowledge reaches the threshold and which has free capacity (the
    assignment of :mod:`cluster_abm.mechanisms.knowledge_projects`). The lever pays
    ``policy.green_project_cost`` for each year of the project (``ki.project_years``) when it
    starts. The project, not the lever, is the complementary partner: from the next step
    :func:`cluster_abm.mechanisms.innovation.partner_novelty` counts the green institution, and
    the firm learns from it (:func:`cluster_abm.mechanisms.learning.learn`).

    Step state: reads ``green_partner``.
    """
    if not m.policy.on("green_cooperation") or len(m.kis) == 0:
        return
    ft, p = m.firms, m.p
    idx = ft.idx
    level = m.policy.level("green_cooperation", firms=idx)
    eligible = ((ft.knowledge[idx, -1] >= p.eco.green_threshold) & ~step.green_partner[idx]
                & (ft.ki_until[idx] < m.t) & (ft.absorptive[idx] >= p.ki.ac_threshold) & (level > 0))
    start = eligible & hazard(m.uniform("green_project", idx), p.policy.green_project_rate * level)
    firms = idx[start]
    if len(firms) == 0:
        return
    inst = knowledge_projects.ki_arrays(m)
    green_ki = m.ki_knowledge[:, -1] >= p.eco.green_threshold
    chosen = knowledge_projects.assign_institutions(m, inst, firms, np.broadcast_to(green_ki, (len(firms), len(m.kis))))
    cost = p.yearly.policy.green_project_cost * p.yearly.ki.project_years
    granted = m.policy.grant("green_cooperation", firms, cost, asking=chosen >= 0)
    knowledge_projects.begin_projects(m, inst, firms[granted], chosen[granted], np.zeros(int(granted.sum())))
    m.ledger.add("green_projects", ft.region[firms[granted]])


def best_practice(m, step) -> None:
    """Members of CMOs under the green-awareness lever close part of the gap to the best green
    knowledge in their cluster (best-practice transfer).

    Step state: reads ``buckets`` (firms by cluster).
    """
    if not m.policy.on("cmo_green_awareness"):
        return
    ft, p = m.firms, m.p
    idx = ft.idx
    level = np.minimum(m.policy.level("cmo_green_awareness", firms=idx), 1.0) * ft.member[idx]
    cl = ft.cluster[idx]
    inside = ((cl >= 0) & (level > 0)).nonzero()[0]
    if len(inside) == 0:
        return
    # Best green knowledge per cluster: a maximum per run of the step's firms grouped by cluster
    # (the buckets of this step: no firm has entered or left since they were made).
    b = step.buckets
    best = np.zeros(m.world.n_clusters)
    filled = b.cluster_count.nonzero()[0]
    if len(filled):
        best[filled] = np.maximum(best[filled], np.maximum.reduceat(ft.knowledge[b.by_cluster, -1], b.cluster_start[filled]))
    firms = idx[inside]
    gap = np.maximum(best[ft.cluster[firms]] - ft.knowledge[firms, -1], 0.0)
    ft.knowledge[firms, -1] += gap * p.policy.green_best_practice * level[inside]

