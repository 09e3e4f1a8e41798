"""The step state: what one phase of a step computes for a later phase of the same step.

DESIGN 2.4b: what one mechanism computes for another within a step (buckets, degrees, partner
flags, insolvent firms, CMO service levels) lives in one explicit object passed to the
mechanisms, not as loose attributes on the model, so each mechanism's inputs and outputs show in
its signature (``innovate(m, step)``) and its docstring says which fields it reads and writes.

What persists from one step to the next (stocks: the firm and tie tables, labour pools, wages,
demand, budgets, the knowledge frontier) stays on :class:`~cluster_abm.model.cluster_model.ClusterModel`.
A fresh :class:`StepState` is made at the start of every step (``ClusterModel.step``); the last
one stays readable as ``model.step_state`` (the outputs read the CMOs' reach from it). The table
"Step data flow" of ``docs/ODD.md`` lists the phases in order with what each reads and writes.

Shapes: ``n`` is the firm table's slot count (``model.firms.n``) when the field is made; arrays
"per firm" are indexed by slot (dead slots hold values nobody reads). ``C`` is the number of
clusters, ``R`` of regions, ``K`` of knowledge fields.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cluster_abm.mechanisms.cooperation import Buckets


@dataclass(eq=False)
class StepState:
    """Within-step values, one field per quantity: its unit and shape, who writes it, who reads it."""

    t: int
    """The step these values belong to (``model.t`` while the step runs). Read by the lever
    state's firm groups (new ventures' age), :meth:`cluster_abm.policy.lever_state.PolicyState.begin_step`."""

    # --- phase 2, CMOs act: ClusterModel._cmo_services -------------------------------------------
    cluster_reach: np.ndarray | None = None
    """(C,) 0-1: per cluster, the share of non-member firms its CMO's publicly funded tasks reach
    (``ClusterOrganisation.public_reach``; 0 without a CMO). Read by outputs.metrics (``cmo_reach``)."""
    svc_matchmaking: np.ndarray | None = None
    """(n,) 0-1 per firm: CMO matchmaking service the firm receives (members in full, other cluster
    firms the reach share, firms outside clusters 0). Read by cooperation.search_partners (search
    rate, acceptance)."""
    svc_scouting: np.ndarray | None = None
    """(n,) 0-1 per firm: CMO funding scouting (the matchmaking array itself). Read by
    finance.award_grants (application rate)."""
    svc_brokering: np.ndarray | None = None
    """(n,) 0-1+ per firm: CMO brokering of firm-KI projects (raised by the ``cmo_ki_brokering``
    lever). Read by knowledge_projects.start_projects (project hazard)."""
    outreach: np.ndarray | None = None
    """(n,) >= 0 per firm: how far the CMO's entrepreneurial orientation widens partner search
    beyond the cluster. Read by cooperation.scope_probabilities (search_partners, initial_ties)."""
    eco_awareness: np.ndarray | None = None
    """(n,) 0-1 per firm: awareness of eco-innovation's business potential (baseline plus CMO
    awareness campaigns). Read by innovation.eco_innovate (hazard) and learning.learn (green R&D)."""

    # --- phase 3 starts: ClusterModel._observe_firms -----------------------------------------------
    buckets: Buckets | None = None
    """Living firms grouped by cluster and by region (as at the start of phase 3; no firm enters
    or leaves until phase 4). Read by cooperation.search_partners and demand_side_projects
    (candidate draws), sustainability.best_practice (best green knowledge per cluster),
    demography.create_firms (incubated ventures' partners)."""
    degree: np.ndarray | None = None
    """(n,) int64 per firm: cooperation ties (partners). Counted here; kept current by
    cooperation.decay_ties (recount), search_partners and demand_side_projects (+1 per new tie),
    demography.create_firms (new slots 0, incubator ties +1) and remove_firms / close_empty (dead
    slots 0; their partners keep the count until the next step's recount). Read by
    cooperation.search_partners and form_contracts (partner cap, networked firms) and by the
    lever state's ``promising`` firm group (any per-firm lever level)."""
    profiles: np.ndarray | None = None
    """(n, K) shares per firm: knowledge profiles (each firm's knowledge over fields, summing to
    1), at the start of phase 3 (before this step's learning). Read by innovation.partner_novelty
    and cooperation.search_partners (cognitive distance to partners and candidates)."""
    export_access: np.ndarray | None = None
    """(n,) factor in [0, 1] per firm: its access to foreign customers at the start of phase 3,
    1 with a transnational tie, ``contract.export_pooling`` as a member of a network contract
    whose co-member exports, else 0 (cooperation.export_access). Read by production.compete
    (the export-entry hazard's factor)."""

    # --- phase 3, firms act ----------------------------------------------------------------------
    knowledge_pool: np.ndarray | None = None
    """(n,) ku per firm: kernel-weighted knowledge of the other firms and the knowledge
    institutions near the firm on the grid (its region's block), at the start of phase 3.
    Written by agglomeration.local_pools; read by agglomeration.spillover_factor
    (innovation.innovation_rate: innovation.innovate, finance.award_grants' merit)."""
    local_industry: np.ndarray | None = None
    """(n,) persons per firm: kernel-weighted employees of the other firms of its sector near it
    on the grid, at the start of phase 3. Written by agglomeration.local_pools; read by
    agglomeration.sharing_gain (within local_pools: the ``sharing_gain`` field)."""
    sharing_gain: np.ndarray | None = None
    """(n,) factor per firm (1 in dead slots): its effective productivity over its technology from
    shared suppliers and inputs nearby, ((1 + local industry) / economy reference)^elasticity.
    Written by agglomeration.local_pools (agglomeration.sharing_gain); read by
    production.wage_subsidy, compete (competitiveness, cost wedge against outside suppliers),
    plan_labour (output target in persons) and produce (capacity)."""
    subsidy_rate: np.ndarray | None = None
    """(n,) 0-1 per firm: share of the skilled wage the employment-incentives lever pays at the
    margin this step (0 where it does not reach or the firm is below its base). Written by
    production.wage_subsidy; read by production.compete (competitiveness, outside demand) and
    production.plan_labour (desired staff)."""
    subsidy_paid: np.ndarray | None = None
    """(n,) k€/yr per firm: the employment-incentives subsidy paid this step (annualised).
    Written by production.wage_subsidy; read by finance.settle_accounts (wage bill)."""
    novelty: np.ndarray | None = None
    """(n,) 0-1 per firm: novelty partners bring, 1 - exp(-sum of inverted-U values of cognitive
    distance). Written by innovation.partner_novelty; read by innovation.innovation_rate
    (innovation.innovate, finance.award_grants' merit)."""
    green_partner: np.ndarray | None = None
    """(n,) bool per firm: has a complementary green partner (a green partner firm at a cognitive
    distance, or a green knowledge institution in a running project). Written by
    innovation.partner_novelty; read by innovation.eco_innovate."""
    insolvent: np.ndarray | None = None
    """Firm slots (int64) whose overdraft exceeds their credit line. Written by
    finance.settle_accounts; read by demography.remove_firms (they exit)."""
    owner_earnings: np.ndarray | None = None
    """(n,) per firm: this step's earnings of the firm's owner-manager (the surplus before the
    owner's pay, annualised) over the owner's outside wage; NaN for dead slots. Written by
    finance.settle_accounts; read by demography.learn_viability (the owner's estimate of what
    the firm earns, through demography.remove_firms)."""

    # --- phase 5, labour market -------------------------------------------------------------------
    graduates: np.ndarray | None = None
    """(R,) persons: graduates entering each region's skilled labour force this step. Written by
    labour.labour_flows; read by labour.place_trainees."""

    def __post_init__(self) -> None:
        if self.insolvent is None:
            self.insolvent = np.zeros(0, dtype=np.int64)
