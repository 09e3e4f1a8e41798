"""Entry and exit of firms, networked incubators and the loss of tacit knowledge.

Seed 3.1.4: the most frequent way a firm is born in a cluster is a spin-off, replicative (like
its parent) or innovative (new knowledge from combining experiences, more often with a link to a
knowledge institution); innovative ventures carry a higher liability of newness (Stinchcombe
1965). Here that liability is not a table of exit rates by age; it emerges from three mechanisms:

* **Heterogeneous entrants.** An entrant's productivity and quality are drawn around a template,
  on average below it and more widely spread than the incumbents' (Jovanovic 1982; Foster,
  Haltiwanger & Krizan 2001; Foster, Haltiwanger & Syverson 2008; Bartelsman, Haltiwanger &
  Scarpetta 2013): a spin-off's template is its parent (Klepper 2007: spin-offs inherit), a de
  novo firm's the incumbents of its market. The fit grow by the market's selection, the unfit
  shrink (up or out, Haltiwanger, Jarmin & Miranda 2013).
* **Selection before entry.** A founder registers the venture only when a business plan, a
  noisy foresight of its first-year demand, pays the owner at least what would make a running
  firm's owner quit (:func:`plan_venture`; Jovanovic 1982; Hopenhayn 1992; Reynolds 2004: many
  nascent entrepreneurs give up before their firm is born).
* **Start-up capital from the founder and the finance available** (Evans & Jovanovic 1989;
  Hurst & Lusardi 2004): the founder's savings, in years of the founder's own wage (skilled or
  not; less after unemployment), a spin-off's parent's stake, and a bank loan in proportion to the
  founder's equity and to the region's depth of bank credit. Capital bounds the scale at birth
  (hires need working capital) and is the buffer against early losses.
* **Passive learning** (Jovanovic 1982): an owner does not know what the firm will earn; the
  founder's prior is revised by each step's earnings, fast while evidence is short, slowly once
  it is long; the owner quits when the estimate falls below what the owner accepts to earn
  (``finance.owner_min_pay`` of the outside wage). Young firms' estimates move most, so exits
  concentrate in the first years and fall with age, while the survivors are the fitter ones.

Unemployed workers also found firms (de novo entry).

Seed 3.1.4 / Hansen et al. (2000): networked incubators, in clusters of a certain size, cut
start-ups' costs through shared services and connect them through organised networking.
Seed 3.6.4: when firms die, the tacit knowledge of their workers and artisan entrepreneurs is
lost (brain retirement), unless a programme recovers part of it and passes it on.
"""

from __future__ import annotations

import numpy as np

from cluster_abm.agents.firm import Firm
from cluster_abm.mechanisms import cooperation, finance, production, span, technology
from cluster_abm.mechanisms.common import hazard
from cluster_abm.numerics.binomial import binomial_from_uniform
from cluster_abm.numerics.keyed_random import PURPOSES, keyed_normal, keyed_uniform
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
    """Exit of insolvent firms, of firms whose owners learn that they do not pay
    (:func:`learn_viability`) or liquidate them while the bank is still repaid
    (:func:`liquidate`), and non-economic closures (seed 3.1.4, 3.6.4).

    Step state: reads ``insolvent``, ``owner_earnings``; writes ``degree`` (dead slots 0).
    """
    ft, p = m.firms, m.p
    idx = ft.idx
    closing = idx[hazard(m.uniform("closure", idx), np.full(len(idx), p.demography.closure_rate))]
    quitting = idx[learn_viability(m, step, idx) | liquidate(m, idx)]
    dead = np.union1d(np.union1d(closing, quitting), step.insolvent)
    _remove(m, step, dead, insolvent=np.isin(dead, step.insolvent))


def learn_viability(m, step, idx: np.ndarray) -> np.ndarray:
    """Passive learning about the firm's earning power (Jovanovic 1982); returns which owners quit.

    The owner's estimate of the firm's yearly earnings over the outside wage (``belief``) is a
    Bayesian posterior mean: the founder's prior (``demography.founder_expectation``, worth
    ``demography.prior_years`` years of evidence) averaged with every step's earnings, each
    weighing 1/steps_per_year of a year; evidence older than ``demography.belief_memory`` years
    ages out (earning power drifts; Pakes & Ericson 1998). So a young firm's first results move
    the estimate a lot and an old firm's a little: exits concentrate early and fall with age.
    The owner quits when the estimate falls below ``finance.owner_min_pay``, the share of the
    wage an owner-manager accepts (entrepreneurs accept less than the wage, Hamilton 2000).
    The built world's firms start from their first observed earnings (an established record).

    Step state: reads ``owner_earnings``.
    """
    ft, p = m.firms, m.p
    if step.owner_earnings is None or len(idx) == 0:
        return np.zeros(len(idx), dtype=bool)
    d, spy = p.demography, p.steps_per_year
    earned = step.owner_earnings[idx]
    evidence = (m.t - ft.birth_step[idx]) / spy  # years of results, this step's included
    gain = (1.0 / spy) / (d.prior_years + np.minimum(evidence, d.belief_memory))
    belief = ft.belief[idx]
    belief = np.where(np.isnan(belief), earned, belief + gain * (earned - belief))
    ft.belief[idx] = belief
    return belief < p.finance.owner_min_pay


def liquidate(m, idx: np.ndarray) -> np.ndarray:
    """Orderly liquidation (forward-looking exit); returns which owners close firms ``idx``.

    An owner-manager does not wait for the bank to call the loan. The owner looks
    ``demography.recovery_horizon`` years ahead at the earnings the firm is expected to make (the
    owner's estimate of :func:`learn_viability`, the Jovanovic 1982 belief) and the profit the
    firm keeps at them (:func:`cluster_abm.mechanisms.finance.expected_profit`), and closes
    while the bank is still repaid when the firm's equity (its cash; the firm has no other
    assets) would still be negative at the end of the horizon: the equity is gone and the
    expected earnings will not restore it. Continuing would only add to the debt the owner
    guarantees; closing is worth more than the option of waiting (exit when the value of going
    on falls below that of liquidating: Dixit 1989; Hopenhayn 1992). Most such closures are of
    firms that are not bankrupt (Headd 2003; Bates 2005). Called after this step's accounts
    (cash) and learning (belief); a firm that is already insolvent leaves on insolvency.
    """
    ft, p = m.firms, m.p
    if len(idx) == 0:
        return np.zeros(0, dtype=bool)
    ahead = p.yearly.demography.recovery_horizon
    outlook = ft.cash[idx] + ahead * finance.expected_profit(m, idx, ft.belief[idx])
    return outlook < 0.0


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
    ft.contract_share[dead] = 0.0
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
    """Spin-offs from incumbents' staff and de novo firms from the unemployed, with their
    productivity, quality and start-up capital (see the module docstring).

    Step state: writes ``degree`` (grown with the firm table, new firms 0); incubated ventures
    (:func:`incubate_new`) read ``buckets`` and write ``degree``.
    """
    ft, p, w = m.firms, m.p, m.world
    idx = ft.idx
    rng = m.rngs.demography
    parents, ordinal = spinoff_founders(m, idx)
    draws = SpinoffDraws(m, parents, ordinal)
    parent_staff = ft.skilled[parents] + ft.unskilled[parents]
    founder_sp_skilled = founders_skilled(ft.skilled[parents], parent_staff, ordinal,
                                          draws.uniform("founder_skill"))
    pool_s, pool_u = np.maximum(m.unemployed_s(), 0), np.maximum(m.unemployed_u(), 0)
    dn_s = rng.poisson(p.demography.denovo_rate * pool_s).clip(max=pool_s.astype(np.int64))
    dn_u = rng.poisson(p.demography.denovo_rate * pool_u).clip(max=pool_u.astype(np.int64))
    denovo = (dn_s + dn_u).astype(np.int64)
    n_sp, n_dn = len(parents), int(denovo.sum())
    if n_sp + n_dn == 0:
        return
    ref_p, ref_q = market_reference(m, idx)  # the incumbents, before anyone enters
    # De novo founders: the first dn_s of each region are skilled.
    founder_dn_skilled = np.repeat(np.tile([True, False], len(dn_s)), np.column_stack([dn_s, dn_u]).ravel())
    founder_skilled = np.concatenate([founder_sp_skilled, founder_dn_skilled])
    K = ft.n_fields
    d = p.demography
    R = w.n_regions

    # --- spin-offs (replicative or innovative): the parent is the template (Klepper 2007) -------
    in_project = ft.ki_until[parents] >= m.t
    p_innov = np.minimum(d.innovative_share * (1.0 + d.innovative_ki_bonus * in_project), 1.0)
    innovative = draws.uniform("spinoff", 1) < p_innov
    know_sp = ft.knowledge[parents] * d.knowledge_carried
    if innovative.any():
        moved = know_sp[innovative] * d.innovative_novelty
        know_sp[innovative] -= moved
        target = rng.integers(0, K, int(innovative.sum()))
        know_sp[innovative.nonzero()[0], target] += moved.sum(axis=1)
    q_mean = np.where(innovative, d.innovative_mean, d.entrant_quality_gap)
    q_sd = np.where(innovative, d.innovative_sd, d.replicative_sd)
    p_draw = d.entrant_productivity_gap + d.spinoff_productivity_sd * draws.normal("productivity_draw")
    sp = {
        "region": ft.region[parents], "cluster": ft.cluster[parents], "sector": ft.sector[parents],
        "quality": ft.quality[parents] * np.exp(q_mean + q_sd * draws.normal("quality_draw")),
        "productivity": ft.productivity[parents] * np.exp(p_draw),
        "skill_share": ft.skill_share[parents], "rd_intensity": ft.rd_intensity[parents],
        "codification": ft.codification[parents], "dyncap": ft.dyncap[parents],
        "emission": ft.emission[parents],
        "origin": np.where(innovative, ORIGIN_INNOVATIVE, ORIGIN_REPLICATIVE).astype(np.int8),
        "span": span.pareto_sizes(draws.uniform("founder_span"), p.init.size_pareto_alpha, p.init.size_max),
    }

    # --- de novo firms in each region: the market's incumbents are the template -----------------
    dn_region = np.repeat(np.arange(R), denovo)
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
    dn_market = dn_sector * R + dn_region
    z_q, z_p = rng.standard_normal(n_dn), rng.standard_normal(n_dn)
    dn = {
        "region": dn_region, "cluster": dn_cluster, "sector": dn_sector,
        "quality": np.exp(ref_q[dn_market] + d.entrant_quality_gap + d.denovo_quality_sd * z_q),
        "productivity": np.exp(ref_p[dn_market] + d.entrant_productivity_gap + d.entrant_productivity_sd * z_p),
        "skill_share": ref["skill_share"][dn_region], "rd_intensity": ref["rd_intensity"][dn_region],
        "codification": ref["codification"][dn_region], "dyncap": ref["dyncap"][dn_region],
        "emission": np.ones(n_dn), "origin": np.full(n_dn, ORIGIN_DENOVO, dtype=np.int8),
        "span": span.pareto_sizes(rng.random(n_dn), p.init.size_pareto_alpha, p.init.size_max),
    }
    know_dn = np.zeros((n_dn, K))
    if n_dn:
        home = m.sector_field[dn_sector]
        know_dn[np.arange(n_dn), home] = ref["knowledge"][dn_region] * d.knowledge_carried

    attrs = {k: np.concatenate([sp[k], dn[k]]) for k in sp}
    technology.within_frontier(m, attrs)
    knowledge = np.vstack([know_sp, know_dn])
    n_new = n_sp + n_dn
    region = attrs["region"]
    # Start-up capital: the founder's savings, a spin-off's parent's stake, a bank loan.
    own, loan, stake = startup_capital(m, parents, parent_staff, region, founder_skilled, n_dn, rng,
                                       draws.normal("founder_wealth"))
    # The founder plus the planned hires that capital can carry (and the pools can supply).
    share_s = attrs["skill_share"]
    wage_cost = share_s * m.wage_s[region] + (1.0 - share_s) * m.wage_u[region]
    affordable = np.floor((own + loan) / np.maximum(d.working_capital * wage_cost, 1e-9))
    extra = np.minimum(rng.poisson(max(d.startup_employees - 1.0, 0.0), n_new), affordable).astype(np.int64)
    skilled_extra = stochastic_round(rng, extra * share_s)
    attrs["skilled"] = founder_skilled + skilled_extra
    attrs["unskilled"] = (~founder_skilled) + extra - skilled_extra
    attrs["birth_step"] = np.full(n_new, m.t)
    attrs["cash"] = own
    attrs["startup_credit"] = loan
    attrs["belief"] = np.full(n_new, d.founder_expectation)
    member_draw = rng.random(n_new) < p.init.cmo_membership
    has_cmo = np.array([c.has_cmo for c in w.clusters] + [False])[attrs["cluster"]]
    attrs["member"] = member_draw & has_cmo & (attrs["cluster"] >= 0)
    # Initial market share: as big as the firm's expected revenue (diluting the incumbents). The
    # entrant reaches market.initial_reach of its customers (customer capital,
    # production.accumulate_customers): its share is scaled up so that what it reaches, against
    # the incumbents' mean reach, is its expected revenue; it grows into the rest as it sells.
    market = attrs["sector"].astype(np.int64) * R + region
    staff = (attrs["skilled"] + attrs["unskilled"]).astype(float)
    capacity = (staff * attrs["productivity"] * attrs["quality"]
                * span.factor(staff, attrs["span"], p.production.span_of_control))
    expected = capacity * np.exp(d.entry_demand_mean + d.entry_demand_sd * rng.standard_normal(n_new))
    plan_error = np.concatenate([draws.normal("entry_plan"), rng.standard_normal(n_dn)])
    go = plan_venture(m, attrs, expected * np.exp(d.plan_error_sd * plan_error))
    m.ledger.add("ventures_abandoned", region[~go])
    m.ledger.record("ventures_abandoned")
    # The founders of registered spin-offs leave their parents, which pay their stakes.
    sp_go = go[:n_sp]
    founders = parents[sp_go]
    np.subtract.at(ft.skilled, founders[founder_sp_skilled[sp_go]], 1)  # a parent can lose several
    np.subtract.at(ft.unskilled, founders[~founder_sp_skilled[sp_go]], 1)
    np.subtract.at(ft.cash, founders, stake[sp_go])
    attrs = {k: v[go] for k, v in attrs.items()}
    knowledge, expected, founder_skilled = knowledge[go], expected[go], founder_skilled[go]
    region, market = region[go], market[go]
    n_new = len(region)
    if n_new == 0:
        return
    r0 = p.market.initial_reach
    base = production.mean_reach(ft.share_reg[idx], ft.reach[idx], ft.sector[idx] * R + ft.region[idx], w.n_sectors * R)
    attrs["share_reg"] = expected / np.maximum(m.demand_reg.ravel()[market], 1e-9) * (base[market] / r0)
    attrs["reach"] = np.full(n_new, r0)
    attrs["revenue"] = expected
    slots = spawn(m, attrs, knowledge)
    if len(step.degree) < ft.n:
        step.degree = np.concatenate([step.degree, np.zeros(ft.n - len(step.degree), dtype=step.degree.dtype)])
    step.degree[slots] = 0
    # Hires come out of the pools; where a pool is short the venture starts with its founder only.
    _fit_to_pools(m, slots, founder_skilled)
    m.ledger.add("births", region)
    m.ledger.add("births_innovative", region[attrs["origin"] == ORIGIN_INNOVATIVE])
    m.ledger.add("jobs_created_entry", region, attrs["skilled"] + attrs["unskilled"])
    incubate_new(m, step, slots)


def spinoff_founders(m, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """This step's spin-off founders among the staff of firms ``idx``: each employee of a firm of
    two or more leaves to found a venture at the per-step hazard ``demography.spinoff_rate``
    (Klepper 2007: spin-offs are founded by employees), so a firm's founders are binomial in its
    staff and a large firm can lose several in one step. Returns (parent slot per founder, the
    founder's ordinal among its parent's founders of the step).

    Drawing at most one founder per firm and step capped large firms: a firm of 900 persons
    produced 0.9 founders a quarter instead of 2.3, and in a region that a few large firms
    dominate only 27-34 % of the intended founders were drawn (seed 2, North-East Romania,
    policy years 10-20), so its births fell as it concentrated."""
    ft = m.firms
    emp = ft.skilled[idx] + ft.unskilled[idx]
    per_employee = -np.expm1(-m.p.demography.spinoff_rate)
    count = binomial_from_uniform(m.uniform("spinoff", idx), np.where(emp >= 2, emp, 0), per_employee)
    parents = np.repeat(idx, count)
    first = np.repeat(np.cumsum(count) - count, count)
    return parents, np.arange(len(parents)) - first


_ORDINALS = np.uint64(1 << 16)  # key space per parent: founders of one firm in one step


class SpinoffDraws:
    """Keyed draws of this step's spin-offs (common random numbers): each founder's draws are
    fixed by its parent's uid and its ordinal among the parent's founders of the step, so two
    founders leaving one firm in one step meet their own luck."""

    def __init__(self, m, parents: np.ndarray, ordinal: np.ndarray):
        self.key, self.t = m.rngs.key, m.t
        self.ids = m.firms.uid[parents].astype(np.uint64) * _ORDINALS + ordinal.astype(np.uint64)

    def uniform(self, purpose: str, sub: int = 0) -> np.ndarray:
        return keyed_uniform(self.key, self.ids, self.t, PURPOSES[purpose], sub)

    def normal(self, purpose: str) -> np.ndarray:
        return keyed_normal(self.key, self.ids, self.t, PURPOSES[purpose])


def founders_skilled(skilled: np.ndarray, staff: np.ndarray, ordinal: np.ndarray,
                     u: np.ndarray) -> np.ndarray:
    """Whether each founder is skilled: drawn from the parent's staff without replacement, the
    parent's founders in ordinal order (they sit next to each other, as
    :func:`spinoff_founders` returns them), so a parent never loses more skilled or unskilled
    persons than it has. ``skilled``, ``staff``: the parent's, per founder; ``u``: uniforms."""
    out = np.zeros(len(u), dtype=bool)
    start = np.arange(len(u)) - ordinal  # the position of the parent's first founder
    for j in range(int(ordinal.max(initial=-1)) + 1):
        at = np.flatnonzero(ordinal == j)
        before = np.concatenate([[0], np.cumsum(out)])  # skilled picks at positions below each index
        taken = before[at] - before[start[at]]
        out[at] = u[at] * (staff[at] - j) < skilled[at] - taken
    return out


def plan_venture(m, attrs: dict[str, np.ndarray], planned_revenue: np.ndarray) -> np.ndarray:
    """Nascent founders register only ventures whose business plan pays the owner; returns which
    of the candidate ventures ``attrs`` are founded.

    A founder foresees the venture's first-year revenue with a log error of sd
    ``demography.plan_error_sd`` (``planned_revenue``: the caller's draw) and gives up before
    registering the firm when the earnings the plan leaves the owner-manager (revenue less the
    planned hires' wages, the firm's own R&D and the fixed overhead, in the founder's outside
    wage, as :func:`cluster_abm.mechanisms.finance.settle_accounts` counts them) fall below
    ``finance.owner_min_pay``: the bar at which an owner closes a running firm
    (:func:`learn_viability`). Entry is selected on expected profitability with a noisy pre-entry
    signal (Jovanovic 1982; entrants that expect to fall below the exit cut-off never produce:
    Hopenhayn 1992), and about a third of nascent entrepreneurs give up before their firm is born
    (Reynolds 2004, Panel Study of Entrepreneurial Dynamics; Parker & Belghitar 2006). Business
    registers count only the registered ventures, so births and first-year exits do too; the
    abandoned attempts are the ``ventures_abandoned`` flow.
    """
    p = m.p
    region = attrs["region"]
    ws, wu = m.wage_s[region], m.wage_u[region]
    skilled, unskilled = attrs["skilled"], attrs["unskilled"]
    owner_wage = np.where(skilled > 0, ws, wu)  # as settle_accounts pays the owner
    hires = skilled * ws + unskilled * wu - owner_wage
    fixed = p.yearly.production.fixed_cost * wu
    earnings = (planned_revenue * (1.0 - attrs["rd_intensity"]) - hires - fixed) / owner_wage
    return earnings >= p.finance.owner_min_pay


def market_reference(m, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per (sector, region) market: the mean log labour productivity and log quality of its
    incumbents ``idx``, the template of a de novo entrant (Foster, Haltiwanger & Syverson 2008
    compare entrants with the incumbents of their industry). A market without incumbents takes
    its region's reference firm (``model.region_reference``). Arrays of sector x regions."""
    ft, w = m.firms, m.world
    R, M = w.n_regions, w.n_sectors * w.n_regions
    market = ft.sector[idx] * R + ft.region[idx]
    count = np.bincount(market, minlength=M)
    region_of = np.arange(M) % R
    out = []
    for col in ("productivity", "quality"):
        total = np.bincount(market, weights=np.log(getattr(ft, col)[idx]), minlength=M)
        fallback = np.log(m.region_reference[col][region_of])
        out.append(np.where(count > 0, total / np.maximum(count, 1), fallback))
    return out[0], out[1]


def startup_capital(m, parents: np.ndarray, parent_staff: np.ndarray, region: np.ndarray,
                    founder_skilled: np.ndarray, n_dn: int, rng,
                    wealth_draw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start-up capital of new firms (spin-offs of ``parents`` first, then ``n_dn`` de novo
    firms), k€: (own funds, bank loan). Liquidity constraints after Evans & Jovanovic (1989):
    the founder's savings are ``demography.founder_savings`` years of the founder's wage (skilled
    or unskilled in its region), spread lognormally (``founder_wealth_sd``; Hurst & Lusardi 2004:
    wealth is very unequal), ``demography.unemployed_savings`` of that after unemployment (de
    novo founders come from the pools); a spin-off's parent adds ``demography.parent_stake`` of
    its cash per employee (taken from its cash); the bank lends ``demography.bank_leverage``
    per unit of the founder's equity at the reference depth of bank credit, in proportion to the
    region's (``model.credit_access``). The loan is a credit line the firm repays over
    ``demography.loan_years`` (:func:`cluster_abm.mechanisms.finance.startup_loans`). Returns
    (own funds, loan, parents' stakes); the caller takes the stakes from the parents of the
    spin-offs that are founded. ``wealth_draw``: the spin-off founders' standard normals.
    """
    ft, d = m.firms, m.p.demography
    n_sp = len(parents)
    wage = np.where(founder_skilled, m.wage_s[region], m.wage_u[region])
    sd = d.founder_wealth_sd
    z = np.concatenate([wealth_draw, rng.standard_normal(n_dn)])
    after_job = np.concatenate([np.ones(n_sp), np.full(n_dn, d.unemployed_savings)])
    savings = d.founder_savings * wage * np.exp(sd * z - 0.5 * sd**2) * after_job
    stake = d.parent_stake * np.maximum(ft.cash[parents], 0.0) / np.maximum(parent_staff, 1)
    loan = d.bank_leverage * m.credit_access[region] * savings
    return savings + np.concatenate([stake, np.zeros(n_dn)]), loan, stake


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
    """Networked incubators (seed 3.1.4) take new ventures of targeted clusters of at least
    ``policy.incubator_min_cluster_enterprises`` real enterprises (real-region units, issue 16),
    innovative ones first, while the lever's budget lasts, and introduce each to partners of its
    cluster, who accept by the ordinary rule (:func:`cooperation.introduce_partners`).

    Step state: reads ``buckets``, ``profiles``, ``svc_matchmaking`` (introductions); writes
    ``degree`` (new ties).
    """
    if not m.policy.on("incubators") or len(slots) == 0:
        return
    ft, p = m.firms, m.p
    cl = ft.cluster[slots]
    size = m.cluster_enterprises()
    big = (cl >= 0) & (size[np.maximum(cl, 0)] >= p.policy.incubator_min_cluster_enterprises)
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
