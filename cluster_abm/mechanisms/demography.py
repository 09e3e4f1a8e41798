"""Entry and exit of firms, networked incubators and the loss of tacit knowledge.

Seed 3.1.4: the most frequent way a firm is born in a cluster is a spin-off, replicative (like
its parent) or innovative (new knowledge from combining experiences, more often with a link to a
knowledge institution); innovative ventures carry a higher liability of newness (Stinchcombe
1965). Here that liability is not a table of exit rates by age: new firms are small, have thin
cash, few partners and an uncertain quality draw, so they exit more often as a result of the
market and finance mechanisms, and the survivors are the fitter ones (Klepper 2007 for spin-off
inheritance). Unemployed skilled workers also found firms (de novo entry).

Seed 3.1.4 / Hansen et al. (2000): networked incubators, in clusters of a certain size, cut
start-ups' costs through shared services and connect them through organised networking.
Seed 3.6.4: when firms die, the tacit knowledge of their workers and artisan entrepreneurs is
lost (brain retirement), unless a programme recovers part of it and passes it on.
"""

from __future__ import annotations

import numpy as np

from cluster_abm.agents.firm import Firm
from cluster_abm.mechanisms import cooperation
from cluster_abm.mechanisms.common import hazard
from cluster_abm.numerics.rounding import stochastic_round
from cluster_abm.state.firm_table import ORIGIN_DENOVO, ORIGIN_INNOVATIVE, ORIGIN_REPLICATIVE


def spawn(m, attrs: dict[str, np.ndarray], knowledge: np.ndarray) -> np.ndarray:
    """Create firms: fill table slots, place them on the grid, create their Mesa agents, log."""
    ft = m.firms
    k = len(knowledge)
    slots = ft.allocate(k)
    for name, values in attrs.items():
        getattr(ft, name)[slots] = values
    ft.knowledge[slots] = knowledge
    ft.alive[slots] = True
    x, y = m.world.place(ft.region[slots].astype(np.int64), ft.cluster[slots].astype(np.int64), m.rngs.demography)
    ft.x[slots], ft.y[slots] = x, y
    grid = m.world.grid
    for s, xi, yi in zip(slots, x, y, strict=True):
        agent = Firm(m, int(s), grid[(int(xi), int(yi))])
        ft.uid[s] = agent.unique_id
        m.firm_agents[int(s)] = agent
    ft.mark_changed()
    m.log.births(ft, slots)
    return slots


def remove_firms(m, step) -> None:
    """Exit of insolvent firms and non-economic closures (seed 3.1.4, 3.6.4).

    Step state: reads ``insolvent``; writes ``degree`` (dead slots 0).
    """
    ft, p = m.firms, m.p
    idx = ft.idx
    closing = idx[hazard(m.uniform("closure", idx), np.full(len(idx), p.demography.closure_rate))]
    dead = np.union1d(closing, step.insolvent)
    _remove(m, step, dead, insolvent=~np.isin(dead, closing))


def close_empty(m, step) -> None:
    """A firm whose last person retired or emigrated closes (brain retirement, seed 3.6.4).

    Step state: writes ``degree`` (dead slots 0).
    """
    ft = m.firms
    idx = ft.idx
    empty = idx[ft.employees[idx] == 0]
    _remove(m, step, empty, insolvent=np.zeros(len(empty), dtype=bool))


def _remove(m, step, dead: np.ndarray, insolvent: np.ndarray) -> None:
    """Remove firms: workers return to the labour pool, ties and contract memberships end, and
    their tacit knowledge is lost unless the tacit-recovery lever passes part of it on."""
    if len(dead) == 0:
        return
    ft, p = m.firms, m.p
    dead_mask = np.zeros(ft.n, dtype=bool)
    dead_mask[dead] = True
    region = ft.region[dead]
    tacit_fields = ft.knowledge[dead] * (1.0 - ft.codification[dead])[:, None]
    tacit = tacit_fields.sum(axis=1)
    recovered = np.zeros(len(dead))
    if m.policy.on("tacit_recovery"):
        level = np.minimum(m.policy.level("tacit_recovery", firms=dead), 1.0)
        share = p.policy.tacit_recovery * level
        got = m.policy.grant("tacit_recovery", dead, p.policy.tacit_cost * tacit * share,
                             asking=(share > 0) & (ft.cluster[dead] >= 0))
        recovered[got] = tacit[got] * share[got]
        _pass_on(m, dead[got], tacit_fields[got] * share[got, None], dead_mask)
    young = (m.t - ft.birth_step[dead]) < p.steps_per_year
    m.ledger.add("deaths", region)
    m.ledger.add("deaths_young", region[young])
    m.ledger.add("deaths_insolvent", region, insolvent.astype(float))
    m.ledger.add("jobs_destroyed", region, ft.skilled[dead] + ft.unskilled[dead])
    m.ledger.add("tacit_knowledge_lost", region, tacit - recovered)
    m.ledger.add("tacit_knowledge_recovered", region, recovered)
    m.ties.drop_firms(dead_mask)
    m.log.deaths(ft.uid[dead], m.t)
    for s in dead:
        m.firm_agents.pop(int(s)).remove()
    ft.release(dead)
    ft.contract[dead] = -1
    ft.skilled[dead] = 0
    ft.unskilled[dead] = 0
    step.degree[dead] = 0  # partners' degrees are refreshed at the next step


def _pass_on(m, donors: np.ndarray, fields: np.ndarray, dead_mask: np.ndarray) -> None:
    """Recovered tacit knowledge goes, in equal parts, to the surviving firms of the donor's cluster."""
    ft = m.firms
    alive = ft.living(~dead_mask)  # survivors (the dead are still marked alive here)
    cl = ft.cluster[alive]
    C = m.world.n_clusters
    count = np.bincount(cl + 1, minlength=C + 1)[1:]  # firms per cluster (cl = -1: none)
    pool = np.zeros((C, ft.n_fields))
    np.add.at(pool, ft.cluster[donors], fields)
    share = np.divide(pool, count[:, None], out=np.zeros_like(pool), where=count[:, None] > 0)
    # Firms of clusters without a donor would receive exact zeros: leave them out. (A lookup
    # table with a last "no cluster" entry that stays False, so cluster -1 never receives.)
    donor_cluster = np.zeros(C + 1, dtype=bool)
    donor_cluster[ft.cluster[donors]] = True
    hit = donor_cluster[cl].nonzero()[0]
    receivers = alive[hit]  # distinct slots: a gather, an add and a scatter are the same as +=
    ft.knowledge[receivers] = ft.knowledge.take(receivers, axis=0) + share.take(cl[hit], axis=0)


def create_firms(m, step) -> None:
    """Spin-offs from incumbents' skilled staff and de novo firms from the skilled unemployed.

    Step state: writes ``degree`` (grown with the firm table, new firms 0); incubated ventures
    (:func:`incubate_new`) read ``buckets`` and write ``degree``.
    """
    ft, p, w = m.firms, m.p, m.world
    idx = ft.idx
    rng = m.rngs.demography
    emp = ft.skilled[idx] + ft.unskilled[idx]
    spawn_mask = (emp >= 2) & hazard(m.uniform("spinoff", idx), p.demography.spinoff_rate * emp)
    parents = idx[spawn_mask]
    # The founder leaves the parent: skilled with the probability of the parent's skilled share.
    p_skilled = ft.skilled[parents] / np.maximum(ft.skilled[parents] + ft.unskilled[parents], 1)
    founder_sp_skilled = m.uniform("founder_skill", parents) < p_skilled
    pool_s, pool_u = np.maximum(m.unemployed_s(), 0), np.maximum(m.unemployed_u(), 0)
    dn_s = rng.poisson(p.demography.denovo_rate * pool_s).clip(max=pool_s.astype(np.int64))
    dn_u = rng.poisson(p.demography.denovo_rate * pool_u).clip(max=pool_u.astype(np.int64))
    denovo = (dn_s + dn_u).astype(np.int64)
    n_sp, n_dn = len(parents), int(denovo.sum())
    if n_sp + n_dn == 0:
        return
    ft.skilled[parents[founder_sp_skilled]] -= 1
    ft.unskilled[parents[~founder_sp_skilled]] -= 1
    # De novo founders: the first dn_s of each region are skilled.
    founder_dn_skilled = np.repeat(np.tile([True, False], len(dn_s)), np.column_stack([dn_s, dn_u]).ravel())
    founder_skilled = np.r_[founder_sp_skilled, founder_dn_skilled]
    K = ft.n_fields
    d = p.demography

    # --- spin-offs (replicative or innovative) ---------------------------------------------------
    in_project = ft.ki_until[parents] >= m.t
    p_innov = np.minimum(d.innovative_share * (1.0 + d.innovative_ki_bonus * in_project), 1.0)
    innovative = m.uniform("spinoff", parents, 1) < p_innov
    know_sp = ft.knowledge[parents] * d.knowledge_carried
    if innovative.any():
        moved = know_sp[innovative] * d.innovative_novelty
        know_sp[innovative] -= moved
        target = rng.integers(0, K, int(innovative.sum()))
        know_sp[innovative.nonzero()[0], target] += moved.sum(axis=1)
    q_mean = np.where(innovative, d.innovative_mean, d.entrant_quality_gap)
    q_sd = np.where(innovative, d.innovative_sd, d.replicative_sd)
    sp = {
        "region": ft.region[parents], "cluster": ft.cluster[parents], "sector": ft.sector[parents],
        "quality": ft.quality[parents] * np.exp(q_mean + q_sd * m.normal("quality_draw", parents)),
        "productivity": ft.productivity[parents],
        "skill_share": ft.skill_share[parents], "rd_intensity": ft.rd_intensity[parents],
        "codification": ft.codification[parents], "dyncap": ft.dyncap[parents],
        "emission": ft.emission[parents],
        "origin": np.where(innovative, ORIGIN_INNOVATIVE, ORIGIN_REPLICATIVE).astype(np.int8),
    }

    # --- de novo firms in each region ------------------------------------------------------------
    dn_region = np.repeat(np.arange(w.n_regions), denovo)
    dn_cluster = np.full(n_dn, -1, dtype=np.int64)
    dn_sector = rng.integers(0, w.n_sectors, n_dn)
    if n_dn:
        # Each founder picks a cluster of the region by its firm share (or none, the rest).
        cdf, choice = m.denovo_cluster_choice
        u = rng.random(n_dn)
        pick = (u[:, None] >= cdf[dn_region]).sum(axis=1)  # inverse CDF, as Generator.choice
        dn_cluster = choice[dn_region, pick]
        inside = dn_cluster >= 0
        dn_sector[inside] = w.cluster_sector[dn_cluster[inside]]
    ref = m.region_reference
    dn = {
        "region": dn_region, "cluster": dn_cluster, "sector": dn_sector,
        "quality": ref["quality"][dn_region] * np.exp(d.entrant_quality_gap + d.replicative_sd * rng.standard_normal(n_dn)),
        "productivity": ref["productivity"][dn_region],
        "skill_share": ref["skill_share"][dn_region], "rd_intensity": ref["rd_intensity"][dn_region],
        "codification": ref["codification"][dn_region], "dyncap": ref["dyncap"][dn_region],
        "emission": np.ones(n_dn), "origin": np.full(n_dn, ORIGIN_DENOVO, dtype=np.int8),
    }
    know_dn = np.zeros((n_dn, K))
    if n_dn:
        home = m.sector_field[dn_sector]
        know_dn[np.arange(n_dn), home] = ref["knowledge"][dn_region] * d.knowledge_carried

    attrs = {k: np.concatenate([sp[k], dn[k]]) for k in sp}
    knowledge = np.vstack([know_sp, know_dn])
    n_new = n_sp + n_dn
    # The founder plus further hires from the pools (if there are workers to hire).
    extra = rng.poisson(max(d.startup_employees - 1.0, 0.0), n_new)
    skilled_extra = stochastic_round(rng, extra * attrs["skill_share"])
    attrs["skilled"] = founder_skilled + skilled_extra
    attrs["unskilled"] = (~founder_skilled) + extra - skilled_extra
    attrs["birth_step"] = np.full(n_new, m.t)
    attrs["cash"] = np.full(n_new, p.yearly.demography.startup_capital)
    member_draw = rng.random(n_new) < p.init.cmo_membership
    has_cmo = np.array([c.has_cmo for c in w.clusters] + [False])[attrs["cluster"]]
    attrs["member"] = member_draw & has_cmo & (attrs["cluster"] >= 0)
    # Initial market share: as big as the firm's expected revenue (diluting the incumbents).
    market = attrs["sector"].astype(np.int64) * w.n_regions + attrs["region"]
    capacity = (attrs["skilled"] + attrs["unskilled"]) * attrs["productivity"] * attrs["quality"]
    expected = capacity * np.exp(d.entry_demand_mean + d.entry_demand_sd * rng.standard_normal(n_new))
    attrs["share_reg"] = expected / np.maximum(m.demand_reg.ravel()[market], 1e-9)
    attrs["revenue"] = expected
    slots = spawn(m, attrs, knowledge)
    if len(step.degree) < ft.n:
        step.degree = np.concatenate([step.degree, np.zeros(ft.n - len(step.degree), dtype=step.degree.dtype)])
    step.degree[slots] = 0
    # Hires come out of the pools; where a pool is short the venture starts with its founder only.
    _fit_to_pools(m, slots, founder_skilled)
    m.ledger.add("births", attrs["region"])
    m.ledger.add("births_innovative", attrs["region"][attrs["origin"] == ORIGIN_INNOVATIVE])
    m.ledger.add("jobs_created_entry", attrs["region"], attrs["skilled"] + attrs["unskilled"])
    incubate_new(m, step, slots)


def cluster_choice_table(world) -> tuple[np.ndarray, np.ndarray]:
    """Per region, the CDF of a de novo founder's cluster (its clusters by firm share, then
    "no cluster") and the cluster index of each outcome (-1: none), padded to one table.

    The CDF is computed as ``numpy.random.Generator.choice`` computes it, so drawing a founder's
    cluster as ``(u >= cdf).sum()`` with ``u = rng.random()`` gives that method's picks.
    """
    w = world
    width = 1 + max((sum(c.region == r for c in w.clusters) for r in range(w.n_regions)), default=0)
    cdf = np.full((w.n_regions, width), np.inf)
    choice = np.full((w.n_regions, width), -1, dtype=np.int64)
    for r in range(w.n_regions):
        cl = [c.index for c in w.clusters if c.region == r]
        shares = [c["firm_share"] for c in w.specs[r]["clusters"]]
        probs = np.array(shares + [max(1.0 - sum(shares), 0.0)])
        c = (probs / probs.sum()).cumsum()
        c /= c[-1]
        cdf[r, : len(c)] = c
        choice[r, : len(cl)] = cl
    return cdf, choice


def _fit_to_pools(m, slots: np.ndarray, founder_skilled: np.ndarray) -> None:
    """Trim new firms' extra hires (never the founder) so that no regional pool goes negative."""
    ft = m.firms
    for col, pool_fn in (("skilled", m.unemployed_s), ("unskilled", m.unemployed_u)):
        pool = pool_fn()
        founder = founder_skilled if col == "skilled" else ~founder_skilled
        for r in (pool < 0).nonzero()[0]:
            here = (ft.region[slots] == r).nonzero()[0]
            staff = getattr(ft, col)
            deficit = -int(pool[r])
            for i in here[::-1]:
                s = slots[i]
                floor = int(founder[i])
                cut = min(deficit, int(staff[s]) - floor)
                if cut > 0:
                    staff[s] -= cut
                    deficit -= cut
                if deficit == 0:
                    break


def incubate_new(m, step, slots: np.ndarray) -> None:
    """Networked incubators (seed 3.1.4) take new ventures of large enough targeted clusters,
    innovative ones first, while the lever's budget lasts, and introduce each to partners of its
    cluster, who accept by the ordinary rule (:func:`cooperation.introduce_partners`).

    Step state: reads ``buckets``, ``profiles``, ``svc_matchmaking`` (introductions); writes
    ``degree`` (new ties).
    """
    if not m.policy.on("incubators") or len(slots) == 0:
        return
    ft, p = m.firms, m.p
    cl = ft.cluster[slots]
    living = ft.cluster[ft.idx]
    size = np.bincount(living + 1, minlength=m.world.n_clusters + 1)[1:]  # living = -1: no cluster
    big = (cl >= 0) & (size[np.maximum(cl, 0)] >= p.policy.incubator_min_cluster_firms)
    level = m.policy.level("incubators", firms=slots)
    cand = slots[big & (level > 0)]
    if len(cand) == 0:
        return
    cand = cand[np.argsort(ft.origin[cand] != ORIGIN_INNOVATIVE, kind="stable")]  # innovative first
    cand = cand[m.policy.grant("incubators", cand, p.policy.incubator_cost)]
    if len(cand) == 0:
        return
    ft.incubated_until[cand] = m.t + int(round(p.yearly.policy.incubator_years * p.steps_per_year)) - 1
    m.log.flag("incubated", ft.uid[cand])
    m.ledger.add("incubated", ft.region[cand])
    # Organised networking: introductions that the introduced firms accept on their merits.
    cooperation.introduce_partners(m, step, cand, p.policy.incubator_ties, 1.0)


def keep_incubated(m) -> None:
    """Each step the incubator's services cost money; a venture leaves when the budget runs out."""
    if not m.policy.on("incubators"):
        return
    ft = m.firms
    inside = ft.living(ft.incubated_until[: ft.n] >= m.t)
    if len(inside) == 0:
        return
    granted = m.policy.grant("incubators", inside, m.p.policy.incubator_cost)
    ft.incubated_until[inside[~granted]] = m.t - 1
