"""Collective environmental projects and CMO green best-practice transfer (seed 3.2.2, 3.2.4).

Seed 3.2.2: co-located firms share environmental problems and can tackle them collectively at
lower cost (the Sassuolo tile and Arzignano leather districts; Da Ronch & Di Maria 2013).
Seed 3.2.4: CMOs should raise awareness of the business potential of eco-innovation and transfer
best practice among firms. Environmental pressure is measured as emissions per unit of output:
revenue x the sector's emission intensity x the firm's relative intensity (the firm table's
``emission``, which eco-innovation and these projects cut; the measure itself is an output,
:func:`cluster_abm.outputs.metrics.emissions`).
"""

from __future__ import annotations

import numpy as np


def collective_projects(m) -> None:
    """Yearly: in targeted clusters a share of firms joins the collective project; participants cut
    emission intensity and gain green knowledge."""
    if not m.policy.on("collective_env_projects"):
        return
    ft, p = m.firms, m.p
    idx = ft.idx
    level = np.minimum(m.policy.level("collective_env_projects", firms=idx), 1.0)
    join = idx[(ft.cluster[idx] >= 0) & (m.rngs.policy.random(len(idx)) < p.policy.env_participation * level)]
    join = join[m.policy.grant("collective_env_projects", join, p.policy.env_cost)]
    ft.emission[join] *= 1.0 - p.policy.env_cut
    ft.knowledge[join, -1] += p.policy.env_green_knowledge
    m.ledger.add("env_project_participants", ft.region[join])


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

