"""Partner search, cooperation ties, business network contracts and glocal firms.

Seed 3.3.1-3.3.2 (and the SKIN model, Gilbert, Ahrweiler & Pyka 2007): firms look for partners,
first near (their cluster), less often further away (their region, their country, abroad), since
interaction costs rise with distance. A candidate is worth a tie when its knowledge is at a useful
cognitive distance (inverted U, Nooteboom et al. 2007). CMOs' matchmaking raises search and
acceptance; entrepreneurial CMOs (seed 3.3.4) widen the search beyond the cluster. Candidates are
drawn per cluster / region bucket, k per seeker: O(n k), never all pairs.

Levers acting here: cooperation support (3.3.1), complementarity-based cross-cluster matching
(3.3.2), entrepreneurial CMOs and the SEE platform (3.3.4), regional clustering (3.5.2),
meta-clusters (3.5.3), demand-side projects (3.1.3), network contracts (3.3.1, 3.4.3) and glocal
support (3.3.3); incubators' organised networking (3.1.4) introduces partners through the same
acceptance rule. Levers change who is proposed (scope), the interaction cost and the brokering,
never whether a tie forms: every tie is accepted by the candidate on its merits. Candidate, tie
decay and acceptance draws are keyed per firm (or per tie) and step: common random numbers.
"""

from __future__ import annotations

import numpy as np

from cluster_abm.mechanisms.common import (
    cognitive_distance,
    hazard,
    hazard_draw,
    novelty_value,
    pay_expected,
    profiles,
)
from cluster_abm.numerics.grouping import rank_in_groups
from cluster_abm.numerics.keyed_random import PURPOSES, keyed_uniform
from cluster_abm.space import INTRA_CLUSTER, TRANSNATIONAL
from cluster_abm.state.firm_table import SME_MAX_EMPLOYEES

SCOPES = ("cluster", "region", "national", "abroad", "meta", "match")


class Buckets:
    """Living firms grouped by cluster and by region, for O(1) random draws within a group."""

    def __init__(self, m):
        ft, w = m.firms, m.world
        idx = ft.idx
        cl = ft.cluster[idx]
        inside = idx[cl >= 0]
        order = np.argsort(ft.cluster[inside], kind="stable")
        self.by_cluster = inside[order]
        self.cluster_start = np.searchsorted(ft.cluster[self.by_cluster], np.arange(w.n_clusters))
        self.cluster_count = np.bincount(ft.cluster[inside], minlength=w.n_clusters)
        order = np.argsort(ft.region[idx], kind="stable")
        self.by_region = idx[order]
        self.region_start = np.searchsorted(ft.region[self.by_region], np.arange(w.n_regions))
        self.region_count = np.bincount(ft.region[idx], minlength=w.n_regions)

    @staticmethod
    def _draw(order, start, count, group, rng=None, u=None):
        """One firm per entry of ``group`` (-1 where the group is empty): at the uniforms ``u``
        (one per entry) or, without them, at ``rng``'s next draws."""
        out = np.full(len(group), -1, dtype=np.int64)
        ok = (group >= 0) & (count[np.maximum(group, 0)] > 0)
        g = group[ok]
        draw = rng.random(len(g)) if u is None else np.asarray(u)[ok]
        out[ok] = order[start[g] + (draw * count[g]).astype(np.int64)]
        return out

    def in_cluster(self, clusters, rng=None, u=None):
        return self._draw(self.by_cluster, self.cluster_start, self.cluster_count, clusters, rng, u)

    def in_region(self, regions, rng=None, u=None):
        return self._draw(self.by_region, self.region_start, self.region_count, regions, rng, u)


def _padded(lists: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    width = max([len(x) for x in lists] + [1])
    table = np.full((len(lists), width), -1, dtype=np.int64)
    for i, x in enumerate(lists):
        table[i, : len(x)] = x
    return table, np.array([len(x) for x in lists], dtype=np.int64)


def build_option_tables(m) -> None:
    """Per-region and per-cluster lists of where far candidates can come from (built once)."""
    w = m.world
    R = w.n_regions
    country = w.region_country
    m.opt_national = _padded([[q for q in range(R) if q != r and country[q] == country[r]] for r in range(R)])
    m.opt_abroad = _padded([[q for q in range(R) if country[q] != country[r]] for r in range(R)])
    comp = []
    for s in range(w.n_sectors):
        for r in range(R):
            comp.append([c.index for c in w.clusters if c.sector != s and c.region != r])
    m.opt_match = _padded(comp)
    meta = []
    for c in w.clusters:
        g = m.meta_of_cluster[c.index]
        meta.append([] if g < 0 else [o.index for o in w.clusters
                                      if m.meta_of_cluster[o.index] == g and o.region != c.region])
    m.opt_meta = _padded(meta)


def _pick(table_count, rows, u):
    """One entry of each row's list (a region or a cluster) at the uniforms ``u``; -1 where empty."""
    table, count = table_count
    out = np.full(len(rows), -1, dtype=np.int64)
    ok = count[rows] > 0
    r = rows[ok]
    out[ok] = table[r, (u[ok] * count[r]).astype(np.int64)]
    return out


def scope_probabilities(m, step, seekers: np.ndarray) -> np.ndarray:
    """Probability that a candidate of each seeker comes from each scope (rows sum to 1).

    Step state: reads ``outreach``.
    """
    ft, c, pol = m.firms, m.p.coop, m.p.policy
    out = step.outreach[seekers]
    pr = c.scope_region * (1 + out) + pol.regional_clustering_scope * m.policy.level("regional_clustering", firms=seekers)
    pn = c.scope_national * (1 + out)
    pa = c.scope_abroad * (1 + out) + pol.platform_scope * m.policy.level("see_platform", firms=seekers)
    cl = ft.cluster[seekers]
    in_meta = m.meta_of_cluster_or_none[cl] >= 0
    pm = pol.meta_scope * in_meta * (m.policy.level("meta_clusters", firms=seekers) > 0)
    px = pol.matching_share * m.policy.level("complementarity_matching", firms=seekers)
    far = np.stack([pr, pn, pa, pm, px], axis=1)
    total = far.sum(axis=1)
    over = total > 1.0
    far[over] /= total[over, None]
    rest = np.clip(1.0 - far.sum(axis=1), 0.0, 1.0)
    in_cluster = cl >= 0
    probs = np.column_stack([np.where(in_cluster, rest, 0.0), far])
    probs[:, 1] += np.where(in_cluster, 0.0, rest)
    return probs


def draw_candidates(m, seekers: np.ndarray, k: int, probs: np.ndarray, buckets: Buckets,
                    purpose: str = "candidates", u: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """k candidates per seeker, each from a scope drawn with ``probs``; -1 where none exists.

    Each candidate takes three uniforms (its scope, the region or cluster it comes from, the firm
    there), keyed by the seeker and step (``purpose``), so a seeker meets the same candidates in
    every scenario run with the seed wherever its scope probabilities agree (common random
    numbers); ``u`` (seekers x 3k) replaces them where seekers repeat (the initial network).
    """
    ft = m.firms
    S = len(seekers)
    if u is None:
        u = m.uniform_columns(purpose, seekers, 3 * k)
    u_scope, u_place, u_firm = (u[:, j * k:(j + 1) * k].ravel() for j in range(3))
    cum = np.cumsum(probs, axis=1)
    # scope = number of cumulative probabilities below u
    scope = (u_scope.reshape(S, k)[:, :, None] > cum[:, None, :]).sum(axis=2).clip(0, len(SCOPES) - 1)
    seek = np.repeat(seekers, k)
    scope = scope.ravel()
    cand = np.full(S * k, -1, dtype=np.int64)
    reg, cl = ft.region[seek], ft.cluster[seek]
    for code in range(len(SCOPES)):
        sel = (scope == code).nonzero()[0]
        if len(sel) == 0:
            continue
        up, uf = u_place[sel], u_firm[sel]
        if code == 0:
            cand[sel] = buckets.in_cluster(cl[sel], u=uf)
        elif code == 1:
            cand[sel] = buckets.in_region(reg[sel], u=uf)
        elif code == 2:
            cand[sel] = buckets.in_region(_pick(m.opt_national, reg[sel], up), u=uf)
        elif code == 3:
            cand[sel] = buckets.in_region(_pick(m.opt_abroad, reg[sel], up), u=uf)
        elif code == 4:
            cand[sel] = buckets.in_cluster(_pick(m.opt_meta, np.maximum(cl[sel], 0), up), u=uf)
        else:
            cand[sel] = _draw_match(m, seek[sel], buckets, up, uf)
    return cand.reshape(S, k), scope.reshape(S, k)


def decay_ties(m, step) -> None:
    """Ties end at a yearly rate (projects finish, relations fade), except ties between members
    of one business network contract while it lasts (the share :func:`contract_bound` of the
    relations a tie stands for): the contract is a written agreement to work together towards
    common objectives (seed 3.3.1; Italian Law 33/2009, Law 99/2009).
    Each tie's draw is keyed by its two firms and the step (common random numbers).

    Step state: writes ``degree`` (a recount).
    """
    ties, ft = m.ties, m.firms
    ti = ties.idx
    if len(ti):
        a, b = ties.ends()
        pair = (ft.uid[a].astype(np.uint64) << np.uint64(32)) | ft.uid[b].astype(np.uint64)
        u = keyed_uniform(m.rngs.key, pair, m.t, PURPOSES["tie_decay"])
        bound = contract_bound(m, a, b)
        ties.end(ti[u < m.p.coop.tie_decay * (1.0 - bound)])
    step.degree = ties.degree(ft.n)


def search_partners(m, step) -> None:
    """SKIN-style partner search: draw k candidates, form a tie with the first that accepts.

    Step state: reads ``degree``, ``svc_matchmaking``, ``outreach``, ``buckets``, ``profiles``;
    writes ``degree`` (+1 at both ends of each new tie).
    """
    ft, c, pol = m.firms, m.p.coop, m.p.policy
    idx = ft.idx
    degree = step.degree
    coop_level = m.policy.level("cooperation_support", firms=idx)
    rate = (c.search_rate * (1 + ft.dyncap[idx]) * (1 + m.p.cmo.matchmaking_weight * step.svc_matchmaking[idx])
            * (1 + pol.coop_search_boost * coop_level))
    seeking = (hazard(m.uniform("search", idx), rate) & (degree[idx] < c.max_partners)).nonzero()[0]
    seekers = idx[seeking]
    if len(seekers) == 0:
        return
    support = coop_level[seeking]
    if m.policy.on("cooperation_support"):
        # Supported seekers ask; those the budget cannot serve search without support (level 0).
        m.policy.grant("cooperation_support", seekers, m.p.yearly.policy.coop_tie_cost, level=support)
    probs = scope_probabilities(m, step, seekers)
    cand, scope = draw_candidates(m, seekers, c.candidates, probs, step.buckets)
    if m.policy.on("complementarity_matching"):
        match = scope == SCOPES.index("match")
        granted = m.policy.grant("complementarity_matching", seekers, m.p.yearly.policy.matching_cost,
                                 asking=match.any(axis=1))
        cand[match & ~granted[:, None]] = -1  # refused: the proposed matches fall away
    _evaluate_and_tie(m, step, seekers, cand, pol.coop_cost_cut * support)


def _evaluate_and_tie(m, step, seekers, cand, cut, broker=None, prof=None, service=None) -> np.ndarray:
    """Score candidates (cognitive distance, distance class, matchmaking); form at most one tie
    per seeker, with the first candidate that accepts. Returns the new partners.

    ``cut`` (one per seeker, 0-1): share of the interaction cost of distance removed (cooperation
    grants); pairs inside one meta-cluster have at least ``policy.meta_cost_cut`` of it removed
    (seed 3.5.3: the meta-cluster's joint initiative). ``broker`` (one per seeker, 0-1): the
    matchmaking of a project or incubator that proposed the candidates, which replaces the CMO's
    where it is higher (seed 3.1.3, 3.1.4; Hansen et al. 2000). ``prof`` and ``service``
    (per firm slot) replace the step's profiles and matchmaking service for firms born after
    they were made (incubated ventures).

    Step state: reads ``degree``, ``profiles``, ``svc_matchmaking``; writes ``degree``.
    """
    ft, c, w = m.firms, m.p.coop, m.world
    S, k = cand.shape
    seek = np.repeat(seekers, k).reshape(S, k)
    valid = (cand >= 0) & (cand != seek)
    cs = np.where(valid, cand, 0)
    valid &= step.degree[cs] < c.max_partners
    # Each candidate accepts on its own merits; the seeker keeps the first that accepts (in the
    # random order candidates were drawn), so far candidates are not crowded out by near ones.
    dclass = w.distance_class(ft.region[seek], ft.cluster[seek], ft.region[cs], ft.cluster[cs])
    prof = step.profiles if prof is None else prof
    d = cognitive_distance(prof[seek], prof[cs])
    base_cost = np.array([1.0, c.cost_region, c.cost_national, c.cost_abroad])[dclass]
    meta = m.meta_of_cluster_or_none
    meta_seek = meta[ft.cluster[seek]]
    same_meta = (meta_seek >= 0) & (meta_seek == meta[ft.cluster[cs]])
    cut_pair = np.where(same_meta, np.maximum(np.asarray(cut)[:, None], m.p.policy.meta_cost_cut),
                        np.asarray(cut)[:, None])
    cost = base_cost + (1.0 - base_cost) * cut_pair
    service = (step.svc_matchmaking if service is None else service)[seek]
    if broker is not None:
        service = np.maximum(service, np.asarray(broker)[:, None])
    util = (c.accept_base * novelty_value(d, m.p.innovation.optimal_distance) * cost
            * (1.0 + m.p.cmo.matchmaking_weight * service))
    util = np.where(valid, np.minimum(util, 1.0), 0.0)
    u = m.uniform_columns("accept", seekers, k)
    accepts = valid & (u < util)
    first = accepts.argmax(axis=1)
    rows = np.arange(S)
    ok = accepts[rows, first]
    a, b = seekers[ok], cand[rows, first][ok]
    kind = dclass[rows, first][ok]
    added = m.ties.add(a, b, kind, m.t)
    if added.any():
        np.add.at(step.degree, a[added], 1)
        np.add.at(step.degree, b[added], 1)
        m.ledger.add("new_ties", ft.region[a[added]])
    return b[added]


def demand_side_projects(m, step) -> None:
    """Quadruple-helix projects (seed 3.1.3): targeted firms join cross-cluster projects with
    demand-side partners; the project proposes candidates from complementary clusters of other
    regions, and brokers the match (matchmaking at the lever's intensity, at most full service):
    a candidate accepts by the ordinary rule (cognitive distance, distance class), so a project
    brings a tie only where a partner finds it worth having. While the project runs, product
    innovations have more market success (``policy.qh_market_gain``, in ``innovation.innovate``).

    Step state: reads ``buckets``, ``degree``, ``profiles``, ``svc_matchmaking``; writes
    ``degree`` (new ties).
    """
    if not m.policy.on("quadruple_helix"):
        return
    ft = m.firms
    idx = ft.idx
    level = m.policy.level("quadruple_helix", firms=idx)
    free = (ft.qh_until[idx] < m.t) & (level > 0)
    join_mask = free & hazard_draw(m.rngs.policy, m.p.policy.qh_rate * level)
    join, lv = idx[join_mask], level[join_mask]
    if len(join) == 0:
        return
    granted = m.policy.grant("quadruple_helix", join, m.p.yearly.policy.qh_cost)
    join, lv = join[granted], lv[granted]
    if len(join) == 0:
        return
    ft.qh_until[join] = m.t + int(round(m.p.yearly.ki.project_years * m.p.steps_per_year))
    cand = _match_candidates(m, join, m.p.coop.candidates, step.buckets)
    _evaluate_and_tie(m, step, join, cand, np.zeros(len(join)), broker=np.minimum(lv, 1.0))
    m.ledger.add("qh_projects", ft.region[join])


def introduce_partners(m, step, ventures: np.ndarray, k: int, broker: float) -> np.ndarray:
    """Organised networking of an incubator (seed 3.1.4; Hansen et al. 2000): each venture is
    introduced to ``k`` firms of its own cluster, one at a time; each introduced firm accepts by
    the ordinary rule (cognitive distance, partner cap), with the incubator brokering at
    ``broker`` (0-1). Returns the partners that accepted (one entry per new tie).

    Step state: reads ``buckets``, ``degree``, ``profiles``, ``svc_matchmaking``; writes
    ``degree`` (new ties).
    """
    if len(ventures) == 0 or k <= 0:
        return np.zeros(0, dtype=np.int64)
    ft = m.firms
    n = ft.n
    u = m.uniform_columns("introductions", ventures, k)
    seekers = np.repeat(ventures, k)
    cand = step.buckets.in_cluster(ft.cluster[seekers], u=u.ravel())
    cand[(cand >= 0) & ~ft.alive[np.maximum(cand, 0)]] = -1  # closed since the buckets were made
    # Ventures were born after the step's profiles and CMO services were made: fresh ones.
    service = np.zeros(n)
    old = min(len(step.svc_matchmaking), n)
    service[:old] = step.svc_matchmaking[:old]
    service[ventures] = 0.0
    return _evaluate_and_tie(m, step, seekers, cand[:, None], np.zeros(len(seekers)),
                             broker=np.full(len(seekers), broker),
                             prof=profiles(ft.knowledge[:n]), service=service)


def _match_candidates(m, seekers: np.ndarray, k: int, buckets: Buckets) -> np.ndarray:
    """k candidates per seeker, all from the complementarity-matching scope."""
    probs = np.zeros((len(seekers), len(SCOPES)))
    probs[:, SCOPES.index("match")] = 1.0
    return draw_candidates(m, seekers, k, probs, buckets, purpose="qh_candidates")[0]


def _draw_match(m, seek: np.ndarray, buckets: Buckets, u_place, u_firm) -> np.ndarray:
    """One candidate per entry of ``seek`` from a complementary cluster (another sector, another
    region: the "match" scope), at the uniforms given."""
    ft = m.firms
    rows = ft.sector[seek] * m.world.n_regions + ft.region[seek]
    return buckets.in_cluster(_pick(m.opt_match, rows, u_place), u=u_firm)


def form_contracts(m, step) -> None:
    """Business network contracts (seed 3.3.1, 3.4.3; Italian Law 99/2009): a networked SME in a
    region whose law allows them founds a contract with up to ``contract.max_members`` - 1 of its
    SME partners (partners may be anywhere: the law admits foreign firms). The
    ``network_contracts`` lever makes them legal in targeted regions and supports formation
    (a founding hazard higher by ``policy.contract_support`` x its intensity) for the share of
    the real foundings its budget pays for (:func:`_contract_cover`); where the law does not
    allow contracts, only supported ones are founded.

    Membership is a share of each model firm's real firms (``contract_share``; super-individuals,
    Scheffer et al. 1995), so contracts, their support and their credit lines do not depend on
    how many model firms describe the economy: of the real firms behind an eligible model firm
    that are not yet members, the founding hazard's share found a contract this step, and each
    founding recruits :func:`_recruit` partners from the real firms behind its model firm's SME
    partners. The founded real contracts join the region's stock (``m.contract_stock``).

    Members of a new contract cooperate with each other (:func:`_tie_co_members`): a model firm
    whose real firms found draws, with the probability that one of them does, a founding event
    that ties its partners to each other; contract ties outlast ordinary ones (:func:`decay_ties`).

    Step state: reads ``degree`` (only firms with partners found contracts); writes ``degree``
    (ties between co-members).
    """
    ft, p = m.firms, m.p
    idx = ft.idx
    region = ft.region[idx]
    lever = m.policy.level("network_contracts", regions=region)
    law = m.contract_law[region].astype(bool)
    emp = ft.skilled[idx] + ft.unskilled[idx]
    sme = emp < SME_MAX_EMPLOYEES
    share = ft.contract_share[idx]
    eligible = (law | (lever > 0)) & sme & (share < 1.0) & (step.degree[idx] > 0)
    base = p.contract.formation_rate
    raised = base * (1.0 + p.policy.contract_support * lever)  # the supported founding hazard
    cover = _contract_cover(m, idx, eligible & (lever > 0), raised, share)
    rate = np.where(law, base * (1.0 + p.policy.contract_support * lever * cover), raised * cover)
    found = np.where(eligible, -np.expm1(-rate) * (1.0 - share), 0.0)  # share of the real firms founding
    if not found.any():
        return
    weight = np.zeros(ft.n)
    weight[idx] = m.policy.weight(idx)
    founded = np.zeros(ft.n)
    founded[idx] = found * weight[idx]  # real contracts founded, by founding model firm
    m.contract_stock += np.bincount(region, weights=founded[idx], minlength=m.world.n_regions)
    joined = np.zeros(ft.n)
    joined[idx] = found
    joined += _recruit(m, founded, weight)
    ft.contract_share[idx] = np.minimum(share + joined[idx], 1.0)
    founders = idx[eligible & (m.uniform("contract", idx) < found)]
    if len(founders):
        _tie_co_members(m, step, founders)


def _recruit(m, founded: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Per firm slot: the share of its real firms that join a contract founded this step by the
    real firms of its partners (``founded``: real contracts founded, per founding slot;
    ``weight``: real firms per slot).

    A real founder recruits up to ``contract.max_members`` - 1 SME partners that are not yet
    members, one behind each of its model firm's such partners (a model firm's ties are its real
    firms' partners); so partner ``j`` of founder ``i`` receives ``founded[i] x min(k_i, M - 1) /
    k_i`` real members, ``k_i`` being ``i``'s eligible partners. For the real firms behind ``j``
    not yet members, that is a recruitment hazard, so the share joining saturates at all of them.
    O(ties)."""
    ft, p = m.firms, m.p
    n = ft.n
    a, b = m.ties.ends()
    open_share = np.zeros(n)
    live = ft.idx
    sme = (ft.skilled[live] + ft.unskilled[live]) < SME_MAX_EMPLOYEES
    open_share[live] = np.where(sme, 1.0 - ft.contract_share[live], 0.0)
    # Both directions of every tie: founder -> partner.
    src, dst = np.concatenate([a, b]), np.concatenate([b, a])
    use = (founded[src] > 0) & (open_share[dst] > 0)
    src, dst = src[use], dst[use]
    if len(src) == 0:
        return np.zeros(n)
    k = np.bincount(src, minlength=n).astype(float)
    per_partner = founded[src] * np.minimum(k[src], p.contract.max_members - 1) / k[src]
    arriving = np.bincount(dst, weights=per_partner, minlength=n)
    hazard_rate = np.divide(arriving, weight * open_share, out=np.zeros(n), where=(weight * open_share) > 0)
    return open_share * -np.expm1(-hazard_rate)


def _contract_cover(m, idx: np.ndarray, supported: np.ndarray, rate: np.ndarray,
                    share: np.ndarray) -> np.ndarray:
    """Per firm of ``idx``: the share of its region's supported contract foundings this step that
    the ``network_contracts`` budget pays for (``rate``: the supported founding hazards; ``share``:
    the members' share of each model firm's real firms, who found no new contract); books the
    money.

    The expected number of real foundings behind a model firm this step is its real non-members
    times the supported founding hazard. The support costs ``policy.contract_cost`` per founded
    contract, paid by :func:`cluster_abm.mechanisms.common.pay_expected`."""
    expected = np.where(supported, m.policy.weight(idx) * (1.0 - share) * -np.expm1(-rate), 0.0)
    return pay_expected(m, "network_contracts", m.firms.region[idx], expected, m.p.yearly.policy.contract_cost)


def contract_bound(m, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per tie ``(a, b)``: the share of the real relations it stands for that run inside a
    network contract, ``min`` of the two ends' member shares (members' contracts are with their
    partners, so the two shares overlap as far as they can; seed 3.3.1)."""
    share = m.firms.contract_share
    return np.minimum(share[a], share[b])


def export_access(m, has_transnational: np.ndarray) -> np.ndarray:
    """Per firm slot: its access to foreign customers, the factor on its export-entry hazard
    (:func:`cluster_abm.mechanisms.production.compete`). 1 for a firm with a transnational tie
    (seed 2.3); for members of business network contracts with an exporting partner,
    ``contract.export_pooling`` times the share of the firm's real relations with that partner
    that run inside a contract (:func:`contract_bound`; the best such partner): members
    commercialise abroad together under the contract's programme and share the fixed costs of
    reaching foreign customers (seed 3.3.1; Cisi, Devicienti, Manello & Vannoni 2020 find
    members' exports rise; export spillovers on the decision to start exporting: Koenig, Mayneris
    & Poncet 2010); 0 otherwise.

    ``has_transnational``: (n,) bool per slot. O(ties)."""
    ft = m.firms
    access = has_transnational.astype(float)
    a, b = m.ties.ends()
    bound = contract_bound(m, a, b)
    src, dst = np.concatenate([a, b]), np.concatenate([b, a])
    pooled = np.concatenate([bound, bound]) * ft.exporter[dst]
    use = pooled > 0
    np.maximum.at(access, src[use], m.p.contract.export_pooling * pooled[use])
    return access


def _tie_co_members(m, step, founders: np.ndarray) -> None:
    """Members of a new network contract cooperate with each other, not only with its founder:
    the contract is a written programme of joint activities (seed 3.3.1; Law 33/2009; the
    Istat-Confindustria 2017 report finds members' ties and exchanges intensify). Each founding
    model firm takes up to ``contract.max_members`` - 1 of its SME partners (in random order; a
    partner in one founding per step), and every pair of these members not yet tied forms a tie,
    within each firm's partner cap (``coop.max_partners``). O(members).

    Step state: reads ``degree``; writes ``degree`` (new ties).
    """
    ft, w, p = m.firms, m.world, m.p
    a, b = m.ties.ends()
    is_founder = np.zeros(ft.n, dtype=bool)
    is_founder[founders] = True
    ok_partner = ((ft.skilled[: ft.n] + ft.unskilled[: ft.n]) < SME_MAX_EMPLOYEES) & ~is_founder
    # Founder-partner pairs over both directions of every tie: (a, b) pairs first, then (b, a).
    ab = is_founder[a] & ok_partner[b]
    ba = is_founder[b] & ok_partner[a]
    src, dst = np.concatenate([a[ab], b[ba]]), np.concatenate([b[ab], a[ba]])
    # Random order, then each partner joins at most one new contract and each founder takes at most
    # max_members - 1 partners.
    order = m.rngs.cooperation.permutation(len(src))
    src, dst = src[order], dst[order]
    _, first = np.unique(dst, return_index=True)
    src, dst = src[np.sort(first)], dst[np.sort(first)]
    order = np.argsort(src, kind="stable")
    src, dst = src[order], dst[order]
    keep = rank_in_groups(src) < p.contract.max_members - 1
    src, dst = src[keep], dst[keep]
    if len(src) == 0:
        return
    # Members grouped by founding: the founder, then its partners.
    heads = np.unique(src)
    members = np.concatenate([heads, dst])
    group = np.concatenate([heads, src])
    order = np.argsort(group, kind="stable")
    members, group = members[order], group[order]
    pos = np.arange(len(members))
    group_end = np.searchsorted(group, group, side="right")
    later = group_end - pos - 1  # co-members after each member in its founding
    src_pos = np.repeat(pos, later)
    within = np.arange(len(src_pos)) - np.repeat(np.cumsum(later) - later, later)
    a, b = members[src_pos], members[src_pos + 1 + within]
    if len(a) == 0:
        return
    # Partner cap: a firm takes new contract ties only up to its free places (first pairs first).
    free = np.maximum(p.coop.max_partners - step.degree, 0)
    ends = np.concatenate([a, b])
    pair = np.concatenate([np.arange(len(a)), np.arange(len(a))])
    order = np.lexsort((pair, ends))
    over = np.zeros(len(a), dtype=bool)
    over[pair[order][rank_in_groups(ends[order]) >= free[ends[order]]]] = True
    a, b = a[~over], b[~over]
    kind = w.distance_class(ft.region[a], ft.cluster[a], ft.region[b], ft.cluster[b])
    added = m.ties.add(a, b, kind, m.t)
    if added.any():
        np.add.at(step.degree, a[added], 1)
        np.add.at(step.degree, b[added], 1)
        m.ledger.add("new_ties", ft.region[a[added]])


def dissolve_contracts(m) -> None:
    """Contracts end at a yearly rate (``contract.dissolution_rate``), their members' shares and
    the regions' stock of contracts alike."""
    keep = 1.0 - m.p.contract.dissolution_rate
    idx = m.firms.idx
    m.firms.contract_share[idx] *= keep
    m.contract_stock *= keep


def become_glocal(m) -> None:
    """Exporting firms of 50+ employees with transnational ties become glocal (seed 3.3.3); the
    ``glocal_support`` lever raises the hazard and helps firms of 10+ employees too."""
    ft, p = m.firms, m.p
    idx = ft.idx
    trans = m.ties.firms_with(TRANSNATIONAL, ft.n)
    emp = ft.skilled[idx] + ft.unskilled[idx]
    level = m.policy.level("glocal_support", firms=idx)
    min_size = np.where(level > 0, p.policy.glocal_min_employees, p.glocal.min_employees)
    eligible = ~ft.glocal[idx] & ft.exporter[idx] & trans[idx] & (emp >= min_size)
    if m.policy.on("glocal_support"):
        # Eligible supported firms ask; those the budget cannot serve lose the support (level 0).
        m.policy.grant("glocal_support", idx, p.policy.glocal_cost, asking=eligible & (level > 0), level=level)
        eligible &= (emp >= p.glocal.min_employees) | (level > 0)
    rate = p.glocal.emergence_rate * (1.0 + p.policy.glocal_boost * level)
    new = idx[eligible & hazard(m.uniform("glocal", idx), rate)]
    ft.glocal[new] = True
    m.ledger.add("glocal_new", ft.region[new])


def initial_ties(m, step, mean_ties: float) -> None:
    """Seed the network: each firm draws Poisson(mean/2) partners, mostly in its cluster.

    Step state (of step 0): reads ``outreach``, ``buckets``; writes ``degree``.
    """
    ft = m.firms
    idx = ft.idx
    step.degree = np.zeros(ft.n, dtype=np.int64)
    draws = m.rngs.init.poisson(mean_ties / 2.0, len(idx))
    seekers = np.repeat(idx, draws)
    if len(seekers) == 0:
        return
    probs = scope_probabilities(m, step, seekers)
    cand, _ = draw_candidates(m, seekers, 1, probs, step.buckets, u=m.rngs.init.random((len(seekers), 3)))
    valid = cand[:, 0] >= 0
    a, b = seekers[valid], cand[valid, 0]
    kind = m.world.distance_class(ft.region[a], ft.cluster[a], ft.region[b], ft.cluster[b])
    m.ties.add(a, b, kind, -1)
    step.degree = m.ties.degree(ft.n)


__all__ = ["INTRA_CLUSTER", "Buckets", "build_option_tables", "search_partners", "decay_ties",
           "demand_side_projects", "introduce_partners", "form_contracts", "dissolve_contracts",
           "become_glocal", "initial_ties"]
