"""Cluster management organisation (CMO): the cluster's facilitator (seed 3.3.4, 3.2.4, 3.6.5).

A CMO is funded by members' fees, the regional government and national/EU projects (seed 3.4.1:
the three shares of cluster financing). Its staff competence grows with stable funding and falls
when the regional budget is frozen (seed 2.6, 3.4.1). Each step it turns budget and competence
into service intensities for its members — matchmaking, brokering of firm-KI projects, awareness
campaigns, funding scouting and training selection — which the firm mechanisms read. Its
excellence score follows the European Cluster Excellence Initiative's idea of benchmarking
(Lämmer-Gamp et al. 2014): a mean of normalised indicators.

State table:

====================  ========  ===========================================================
attribute             unit      meaning
====================  ========  ===========================================================
clusters              indices   clusters it serves (several after a merger, seed 3.5.2)
region                index     home region
competence            0-1       staff competence
orientation           0-1       entrepreneurial orientation (reach beyond the cluster)
budget                k€/yr     this year's budget (fees + regional + EU/national + levers)
member_budget         k€/yr     of which for member services (fees + regional + EU/national)
members               firms     member firms this year
service               0-1       service intensity per member this year
public_reach          0-1       share of non-member cluster firms its public tasks reach (seed 3.4.1)
stable_years          yr        consecutive years without a funding freeze
excellence            0-1       excellence score (see :meth:`excellence_score`)
merged                bool      result of a regional-clustering merger
====================  ========  ===========================================================
"""

from __future__ import annotations

import numpy as np
from mesa.discrete_space import FixedAgent

from cluster_abm.agents.ids import ModelScopedIds

SERVICES = ("matchmaking", "brokering", "awareness", "scouting", "training")


class ClusterOrganisation(ModelScopedIds, FixedAgent):
    def __init__(self, model, clusters: list[int], region: int, competence: float, cell):
        super().__init__(model)
        self.clusters = list(clusters)
        self.region = int(region)
        self.competence = float(competence)
        self.orientation = float(model.p.cmo.entrepreneurial_orientation)
        self.budget = 0.0
        self.member_budget = 0.0
        self.members = 0
        self.service = 0.0
        self.public_reach = 0.0
        self.stable_years = 0
        self.excellence = 0.0
        self.merged = False
        self.active_levers: set[str] = set()  # CMO programme levers funded this year
        self.cell = cell

    @property
    def name(self) -> str:
        return "+".join(self.model.world.clusters[c].id for c in self.clusters)

    def plan_services(self, frozen: bool, in_cluster: np.ndarray, members: np.ndarray) -> None:
        """Yearly: set the budget from fees, regional and EU/national money (seed 3.4.1).

        Activity-based financing (lever ``activity_financing``, seed 3.4.1: "public tasks require
        public funding") adds money earmarked for the CMO's public tasks: services open to every
        firm of its clusters, not only to fee-paying members. The earmarked money does not pay
        for member services; it buys reach among non-members, ``public_reach`` = earmarked money
        over the cost of serving all non-members (``cmo.service_cost`` each), at most 1.
        ``in_cluster`` and ``members`` count, per cluster, its firms and its CMO members.
        """
        m = self.model
        y = m.p.yearly.cmo
        self.members = int(members[self.clusters].sum())
        non_members = int(in_cluster[self.clusters].sum()) - self.members
        fees = self.members * y.member_fee
        regional = 0.0 if frozen else y.regional_funding
        eu = y.eu_funding * self.competence
        extra = 0.0
        lv = m.policy.level("activity_financing", cmo=self)
        if lv > 0:
            extra = m.policy.charge("activity_financing", self.region, m.p.yearly.policy.activity_funding * lv)
        unit = y.service_cost * (1.0 - m.p.yearly.policy.merger_saving * self.merged)
        self.public_reach = min(1.0, extra / max(non_members * unit, 1e-9)) if extra > 0 else 0.0
        self.member_budget = fees + regional + eu
        self.budget = self.member_budget + extra
        m.ledger.add_region("cmo_budget", self.region, self.budget)
        m.ledger.add_region("public_spent_cmo", self.region, regional + eu)

    def update_competence(self, frozen: bool) -> None:
        """Yearly: staff learn while funding is stable and leave when it is frozen (seed 2.6, 3.4.1).

        Training periods in accredited CMOs (lever ``cluster_manager_training``, seed 3.6.5)
        close a further share of the gap to full competence.
        """
        m = self.model
        y = m.p.yearly
        if frozen:
            self.competence *= 1.0 - y.cmo.competence_loss_on_gap
            self.stable_years = 0
        else:
            self.competence += (1.0 - self.competence) * y.cmo.competence_growth
            self.stable_years += 1
        lv = m.policy.level("cluster_manager_training", cmo=self)
        if lv > 0 and m.policy.charge("cluster_manager_training", self.region, y.policy.cmo_programme_cost * lv) > 0:
            self.competence += (1.0 - self.competence) * min(1.0, y.policy.manager_training_gain * lv)
        self.competence = float(np.clip(self.competence, 0.0, 1.0))

    def service_intensity(self) -> float:
        """Per-member service intensity this year: budget per member against the cost of full
        service, times staff competence. Merged CMOs serve at lower unit cost (lever ``cmo_merger``,
        ``policy.merger_saving``, seed 3.5.2)."""
        m = self.model
        unit = m.p.yearly.cmo.service_cost
        if self.merged:
            unit *= 1.0 - m.p.yearly.policy.merger_saving
        need = max(self.members, 1) * unit
        return float(min(1.0, self.member_budget / need) * self.competence)

    def excellence_score(self, outward_share: float) -> float:
        """Mean of normalised ECEI-like indicators: membership size, budget per member, staff
        competence, funding stability, members' ties beyond the cluster, service intensity."""
        y = self.model.p.yearly.cmo
        indicators = (
            min(1.0, self.members / y.excellence_members),
            min(1.0, self.budget / max(self.members, 1) / (y.excellence_budget_multiple * y.service_cost)),
            self.competence,
            min(1.0, self.stable_years / y.excellence_stable_years),
            min(1.0, outward_share / y.excellence_outward_share),
            self.service,
        )
        return float(np.mean(indicators))
