"""The lever catalogue: every policy action recapped in seed section 3.7, as a switchable lever.

A lever names the seed section it comes from, the mechanism it acts through, the registry
parameters that size its effect and its cost, the outcome it moves directly (and in which
direction) and how it can be targeted. A scenario switches a lever on with ``[levers.<id>]``,
setting ``intensity`` (1 = the programme as the seed describes it), and optionally ``regions``,
``clusters``, a firm group ``firms`` and the policy years it runs, ``start_year`` (default 0)
to ``end_year`` (exclusive; default: to the end of the run). The mechanism code reads the lever through
:class:`cluster_abm.policy.lever_state.PolicyState`; :func:`catalogue_markdown` renders
``docs/policies.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cluster_abm.errors import InputError, closest
from cluster_abm.params.registry import REGISTRY

WG_NAMES = {
    "WG1": "Innovation and R&D",
    "WG2": "Sustainability",
    "WG3": "Cooperation and networking",
    "WG4": "Financing",
    "WG5": "Regional specialisation",
    "WG6": "Skills and jobs",
}

FIRM_GROUPS = {
    "all": "every firm in the targeted regions and clusters",
    "smes": "firms with fewer than 250 employees",
    "new_ventures": "firms younger than 3 years",
    "cmo_members": "members of a cluster management organisation",
    "promising": "the most promising, well-networked firms: top quartile of competitiveness x (1 + partners)",
    "manufacturing": "firms outside the ICT sector",
}

INTENSITY_MAX = 2.0
YEAR_MAX = 200  # policy years: a lever's start and end lie in 0..YEAR_MAX


@dataclass(frozen=True)
class LeverSetting:
    """One lever switched on in a scenario: intensity, targets (None = everywhere) and the policy
    years it runs, from ``start_year`` to ``end_year`` (exclusive; None = to the end of the run).
    Policy year 0 begins at the end of the spin-up (``sim.spinup_years``)."""

    id: str
    intensity: float = 1.0
    regions: tuple[str, ...] | None = None
    clusters: tuple[str, ...] | None = None
    firms: str = "all"
    start_year: int = 0
    end_year: int | None = None

    def runs_in(self, year: int) -> bool:
        """Whether the lever runs in policy year ``year`` (negative years are the spin-up)."""
        return self.start_year <= year and (self.end_year is None or year < self.end_year)


@dataclass(frozen=True)
class Lever:
    id: str
    name: str
    wg: str
    seed: str
    summary: str
    mechanism: str
    params: tuple[str, ...]
    outcome: str
    direction: str  # "+" or "-"
    cost: str
    targets: tuple[str, ...] = ("regions",)
    firm_groups: tuple[str, ...] = ("all",)
    condition: str = ""


L = Lever
LEVERS: tuple[Lever, ...] = (
    # --- WG1 innovation and R&D -------------------------------------------------------------------
    L("policy_awareness", "Policy-maker awareness of the interaction gap", "WG1", "3.1.1 a",
      "Regional policy makers learn of the firm-knowledge-institution gap: more firm-KI projects.",
      "mechanisms.knowledge_projects.start_projects", ("ki.awareness_weight", "policy.awareness_cost"),
      "ki_projects_started", "+", "policy.awareness_cost per region and year"),
    L("cmo_ki_brokering", "CMOs as enablers of firm-KI interaction", "WG1", "3.1.1 b",
      "CMOs broker projects between members and knowledge institutions.",
      "mechanisms.knowledge_projects.start_projects", ("policy.brokering_boost", "ki.brokering_weight", "policy.cmo_programme_cost"),
      "ki_projects_started", "+", "policy.cmo_programme_cost per CMO and year", ("regions", "clusters")),
    L("accredited_kibs", "Accredited excellent KIBS with cross-cluster reach", "WG1", "3.1.2",
      "Excellent institutional KIBS are accredited and serve firms beyond their own cluster and region.",
      "mechanisms.knowledge_projects.start_projects", ("policy.kibs_reach_rate", "policy.kibs_accreditation_cost"),
      "ki_projects_cross_cluster", "+", "policy.kibs_accreditation_cost per KIBS and year"),
    L("quadruple_helix", "Demand-side (quadruple-helix) cross-cluster projects", "WG1", "3.1.3",
      "Firms join cross-cluster projects with demand-side partners: the project proposes and brokers partners from complementary clusters, and product innovations have more market success.",
      "mechanisms.cooperation.demand_side_projects", ("policy.qh_rate", "policy.qh_market_gain", "policy.qh_cost"),
      "ties_cross_cluster", "+", "policy.qh_cost per participating firm", ("regions", "clusters", "firms"), ("all", "smes", "cmo_members", "promising")),
    L("incubators", "Networked start-up incubators", "WG1", "3.1.4",
      "Networked incubators in large clusters cut new ventures' costs and introduce them to partners of their cluster.",
      "mechanisms.demography.incubate_new", ("policy.incubator_min_cluster_enterprises", "policy.incubator_years", "policy.incubator_cost_cut", "policy.incubator_ties", "policy.incubator_cost"),
      "new_venture_partners", "+", "policy.incubator_cost per incubated venture and year", ("regions", "clusters"),
      condition="only clusters of at least policy.incubator_min_cluster_enterprises real enterprises get an incubator"),
    # --- WG2 sustainability -----------------------------------------------------------------------
    L("collective_env_projects", "Collective environmental projects", "WG2", "3.2.2",
      "Clusters tackle shared environmental problems together: participants pool green knowledge and share the cost of cleaner processes, so they eco-innovate more often.",
      "mechanisms.sustainability.collective_projects", ("policy.env_participation", "policy.env_pooling", "policy.env_cost_sharing", "policy.env_cost"),
      "emission_intensity", "-", "policy.env_cost per participating firm and year", ("regions", "clusters")),
    L("green_cooperation", "Eco-innovation cooperation with complementary partners", "WG2", "3.2.3",
      "Funded projects with knowledge institutions that have green knowledge (KIBS, universities, research centres) for green-skilled firms lacking a complementary partner, where an institution has capacity.",
      "mechanisms.sustainability.green_cooperation", ("policy.green_project_rate", "policy.green_project_cost"),
      "eco_innovations", "+", "policy.green_project_cost per project and year (ki.project_years), paid at its start", ("regions", "clusters", "firms"), ("all", "smes", "cmo_members")),
    L("cmo_green_awareness", "CMO green awareness and best-practice transfer", "WG2", "3.2.4",
      "CMOs raise awareness of eco-innovation and spread their cluster's best green practice.",
      "mechanisms.sustainability.best_practice", ("policy.green_best_practice", "cmo.awareness_weight", "policy.cmo_programme_cost"),
      "green_knowledge", "+", "policy.cmo_programme_cost per CMO and year", ("regions", "clusters")),
    # --- WG3 cooperation and networking -----------------------------------------------------------
    L("cooperation_support", "Inter-firm and intra-cluster cooperation across regions", "WG3", "3.3.1",
      "Cooperation grants lower the cost of ties beyond the cluster and raise partner search.",
      "mechanisms.cooperation.search_partners", ("policy.coop_cost_cut", "policy.coop_search_boost", "policy.coop_tie_cost"),
      "ties_total", "+", "policy.coop_tie_cost per new supported tie", ("regions", "clusters", "firms"), ("all", "smes", "cmo_members")),
    L("complementarity_matching", "Complementarity-based cross-cluster matching", "WG3", "3.3.2",
      "Matchmakers propose partners from clusters of other sectors whose knowledge complements the firm's.",
      "mechanisms.cooperation.search_partners", ("policy.matching_share", "policy.matching_cost"),
      "ties_cross_sector", "+", "policy.matching_cost per proposed match", ("regions", "clusters")),
    L("glocal_support", "Glocal cluster support", "WG3", "3.3.3",
      "Firms of clusters with a competitive gap are helped to become glocal gatekeepers.",
      "mechanisms.cooperation.become_glocal", ("policy.glocal_boost", "policy.glocal_cost"),
      "glocal_firms", "+", "policy.glocal_cost per supported firm and year", ("regions", "clusters")),
    L("entrepreneurial_cmos", "Entrepreneurial CMOs", "WG3", "3.3.4",
      "CMOs seek opportunities outside the cluster: members' partner search reaches other clusters and countries.",
      "mechanisms.cooperation.search_partners", ("cmo.outreach_weight", "policy.cmo_programme_cost"),
      "ties_cross_cluster", "+", "policy.cmo_programme_cost per CMO and year", ("regions", "clusters")),
    L("see_platform", "SEE cluster platform for matchmaking", "WG3", "3.3.4",
      "A transnational platform proposes partners abroad to every firm, with or without a CMO.",
      "mechanisms.cooperation.search_partners", ("policy.platform_scope", "policy.platform_cost"),
      "ties_transnational", "+", "policy.platform_cost per participating region and year"),
    # --- WG4 financing ----------------------------------------------------------------------------
    L("multiannual_funding", "Multi-annual funding commitment", "WG4", "3.4.1",
      "Regions commit cluster budgets for several years: no freezes, little volatility, CMO staff stay.",
      "mechanisms.finance.set_annual_budgets", ("funding.budget_volatility", "funding.freeze_probability"),
      "cmo_competence", "+", "no extra cost (a commitment of existing budgets)"),
    L("kpi_monitoring", "KPI monitoring of cluster funding", "WG4", "3.4.1",
      "Funders select grantees on monitored performance instead of first come.",
      "mechanisms.finance.award_grants", ("funding.kpi_weight", "policy.kpi_cost"),
      "grant_merit", "+", "policy.kpi_cost per region and year"),
    L("simplified_funding", "Simplified funding regulation", "WG4", "3.4.1",
      "Simpler rules cut the administrative cost of applying: more applications, less money lost to paperwork.",
      "mechanisms.finance.award_grants", ("policy.admin_cut",),
      "grant_applications", "+", "no extra cost"),
    L("activity_financing", "Financing structures by activity type", "WG4", "3.4.1",
      "Public tasks of CMOs get dedicated public funding: their services reach the cluster's non-member firms too.",
      "agents.cmo.ClusterOrganisation.plan_services", ("policy.activity_funding", "cmo.service_cost"),
      "cmo_reach", "+", "policy.activity_funding per CMO and year", ("regions", "clusters")),
    L("science_industry_finance", "Science-industry financial instruments", "WG4", "3.4.1",
      "An instrument co-finances firm-KI projects: more projects, lower cost to firms.",
      "mechanisms.knowledge_projects.start_projects", ("policy.science_industry_boost", "policy.science_industry_share"),
      "ki_projects_started", "+", "policy.science_industry_share of a project's costs (ki.project_cost x ki.project_years), committed at its start for the expected real projects, within the yearly budget paced over its steps"),
    L("new_venture_finance", "New-venture finance", "WG4", "3.4.2",
      "Regional funds tailored to new ventures invest beside the venture fund.",
      "mechanisms.finance.finance_ventures", ("policy.venture_budget", "venture.ticket"),
      "ventures_financed", "+", "the invested tickets, up to policy.venture_budget per region and year"),
    L("network_contracts", "Business network contracts", "WG4", "3.3.1, 3.4.3",
      "Network contracts become legal where they are not and their formation is supported.",
      "mechanisms.cooperation.form_contracts", ("policy.contract_support", "policy.contract_cost"),
      "firms_in_contracts", "+", "policy.contract_cost per real contract founded (the expected real foundings, within the yearly budget paced over its steps)"),
    L("contract_credit_lines", "Network-contract credit lines", "WG4", "3.4.3",
      "Banks open dedicated, publicly guaranteed credit lines to network-contract members.",
      "mechanisms.finance.settle_accounts", ("policy.contract_credit_boost", "policy.guarantee_fee"),
      "contract_credit_line", "+", "policy.guarantee_fee per k€ of extra credit line and year"),
    # --- WG5 regional specialisation --------------------------------------------------------------
    L("multilevel_alignment", "Multi-level policy alignment", "WG5", "3.5.1",
      "Cluster, regional and EU priorities are aligned: less grant money wasted on misaligned projects.",
      "mechanisms.finance.award_grants", ("policy.misalignment_loss", "policy.alignment_cost"),
      "grant_rd_effective", "+", "policy.alignment_cost per region and year"),
    L("regional_clustering", "Regional clustering initiatives", "WG5", "3.5.2",
      "Temporary thematic initiatives join the clusters of a region: more ties between them.",
      "mechanisms.cooperation.search_partners", ("policy.regional_clustering_scope", "policy.regional_clustering_cost"),
      "ties_inter_cluster", "+", "policy.regional_clustering_cost per region and year"),
    L("cmo_merger", "Merged regional CMOs", "WG5", "3.5.2",
      "The CMOs of a region merge into one, more efficient organisation serving all its clusters.",
      "model.cluster_model.ClusterModel.merge_cmos", ("policy.merger_saving", "policy.merger_cost"),
      "cmo_count", "-", "policy.merger_cost once per merged region"),
    L("meta_clusters", "European meta-clusters", "WG5", "3.5.3",
      "Clusters of one sector in at least three regions form a meta-cluster whose members search each other at a lower interaction cost.",
      "mechanisms.cooperation.search_partners", ("policy.meta_scope", "policy.meta_cost_cut", "policy.meta_min_regions", "policy.meta_cost"),
      "ties_sector_interregional", "+", "policy.meta_cost per member cluster and year", ("regions", "clusters"),
      condition="a sector forms a meta-cluster only with clusters in at least policy.meta_min_regions targeted regions"),
    L("excellence_bridges", "Bridges to excellence centres", "WG5", "3.5.3",
      "Manufacturing firms start projects with research centres of other regions.",
      "mechanisms.knowledge_projects.start_projects", ("policy.bridge_rate", "policy.bridge_cost"),
      "ki_projects_research", "+", "policy.bridge_cost per project and year", ("regions", "clusters", "firms"), ("manufacturing", "all", "smes")),
    # --- WG6 skills and jobs ----------------------------------------------------------------------
    L("managerial_training", "Managerial training for dynamic capabilities", "WG6", "3.6.1",
      "Training places for the most promising, well-networked firms raise dynamic capabilities (and their partners').",
      "mechanisms.capabilities.train_firms", ("policy.training_places", "training.dyncap_gain", "training.spillover", "training.cost"),
      "dynamic_capability", "+", "training.cost per place", ("regions", "clusters", "firms"), ("promising", "all", "smes", "cmo_members")),
    L("codification_support", "Knowledge codification support (KM systems in SMEs)", "WG6", "3.6.2",
      "SMEs get knowledge-management systems: codification and so absorptive capacity rise.",
      "mechanisms.capabilities.support_codification", ("policy.training_places", "policy.codification_gain", "policy.codification_cost"),
      "absorptive_capacity", "+", "policy.codification_cost per system", ("regions", "clusters", "firms"), ("smes", "all", "cmo_members")),
    L("green_skills", "Green skills transfer", "WG6", "3.6.3",
      "Experts transfer eco-innovation skills specific to the cluster's industry: firms close part of the gap to the experts' green knowledge, as far as they can absorb it.",
      "mechanisms.capabilities.transfer_green_skills", ("policy.training_places", "policy.green_skills_transfer", "policy.green_skills_cost"),
      "green_knowledge", "+", "policy.green_skills_cost per transfer", ("regions", "clusters", "firms"), ("all", "smes", "cmo_members")),
    L("employment_incentives", "Labour policies and fiscal incentives for employment", "WG6", "3.6.4",
      "Fiscal incentives for skilled jobs: the state pays part of the wage of skilled jobs above a firm's base, lowering its skilled wage cost at the margin (labour demand, competitiveness); firms apply for the extra jobs they plan and the budget is reserved for them, small firms first, until it runs out.",
      "mechanisms.production.wage_subsidy", ("policy.hiring_subsidy",),
      "employment_skilled", "+", "policy.hiring_subsidy of the skilled wage of each skilled job above the firm's base"),
    L("university_firm_collab", "University-firm collaboration (courses, traineeships, PhDs)", "WG6", "3.6.4",
      "Recent graduates without a first job fill open skilled posts of firms able to absorb them, as trainees and co-financed PhDs.",
      "mechanisms.labour.place_trainees", ("policy.trainee_rate", "policy.trainee_cost"),
      "trainees_placed", "+", "policy.trainee_cost per placement"),
    L("returnee_tax_relief", "Tax relief for returning skilled citizens", "WG6", "3.6.4",
      "Returning skilled citizens pay less income tax for some years (Italy's 2010 Controesodo, later impatriate regimes): a higher net domestic wage in the return decision.",
      "mechanisms.labour.return_rate", ("policy.returnee_tax_relief", "policy.returnee_relief_years", "migration.return_wage_elasticity"),
      "skilled_returnees", "+", "the forgone tax: policy.returnee_tax_relief x skilled wage x policy.returnee_relief_years per covered returnee"),
    L("graduate_first_jobs", "First-job support for recent graduates", "WG6", "3.6.4",
      "Employers hiring a recent graduate into a first job get a subsidy: graduates find first jobs sooner (hiring shifts toward them), so fewer leave for lack of one.",
      "mechanisms.labour.labour_flows", ("policy.first_job_boost", "policy.first_job_subsidy", "migration.first_job_years"),
      "graduate_unemployment_rate", "-", "policy.first_job_subsidy x skilled wage per supported first job"),
    L("tacit_recovery", "Recovery of tacit knowledge from retiring workers", "WG6", "3.6.4",
      "When a firm closes, part of its tacit knowledge is recovered and passed to its cluster's firms.",
      "mechanisms.demography.remove_firms", ("policy.tacit_recovery", "policy.tacit_cost"),
      "tacit_knowledge_lost", "-", "policy.tacit_cost per unit of recovered knowledge", ("regions", "clusters")),
    L("cmo_training_brokering", "CMOs brokering training supply and demand", "WG6", "3.6.5",
      "CMOs match training offers to members' needs: every offered place is taken up.",
      "mechanisms.capabilities.train_firms", ("policy.training_uptake", "policy.cmo_programme_cost"),
      "trainings", "+", "policy.cmo_programme_cost per CMO and year", ("regions", "clusters")),
    L("cluster_manager_training", "Training periods for cluster managers in accredited CMOs", "WG6", "3.6.5",
      "Cluster managers train in accredited CMOs: staff competence rises.",
      "agents.cmo.ClusterOrganisation.update_competence", ("policy.manager_training_gain", "policy.cmo_programme_cost"),
      "cmo_competence", "+", "policy.cmo_programme_cost per CMO and year", ("regions", "clusters")),
)
del L

BY_ID: dict[str, Lever] = {lv.id: lv for lv in LEVERS}


def _check_catalogue() -> None:
    for lv in LEVERS:
        if lv.wg not in WG_NAMES:
            raise ValueError(f"{lv.id}: unknown WG {lv.wg}")
        for p in lv.params:
            if p not in REGISTRY:
                raise ValueError(f"{lv.id}: parameter {p} is not in the registry")
        for g in lv.firm_groups:
            if g not in FIRM_GROUPS:
                raise ValueError(f"{lv.id}: unknown firm group {g}")


_check_catalogue()


def validate_lever(lid: str, setting: Any, source: str, region_ids: list[str], cluster_ids: list[str]):
    """Check one ``[levers.<id>]`` table of a scenario; return a LeverSetting."""
    key = f"levers.{lid}"
    if lid not in BY_ID:
        raise InputError(f"unknown lever; {closest(lid, BY_ID)}", source=source, key=key)
    lever = BY_ID[lid]
    if not isinstance(setting, dict):
        raise InputError("must be a table (intensity, regions, clusters, firms) or true", source=source, key=key)
    allowed = ["intensity", *lever.targets, "start_year", "end_year"]
    for k in setting:
        if k not in allowed:
            raise InputError(f"unknown or untargetable key for this lever; allowed: {', '.join(allowed)}", source=source, key=f"{key}.{k}")
    intensity = setting.get("intensity", 1.0)
    if isinstance(intensity, bool) or not isinstance(intensity, int | float) or not 0.0 <= intensity <= INTENSITY_MAX:
        raise InputError(f"intensity {intensity!r} is out of range; allowed 0 to {INTENSITY_MAX}", source=source, key=f"{key}.intensity")

    def names(field: str, known: list[str]) -> tuple[str, ...] | None:
        if field not in setting:
            return None
        value = setting[field]
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value:
            raise InputError(f"must be a non-empty list of {field}", source=source, key=f"{key}.{field}")
        for v in value:
            if v not in known:
                raise InputError(f"{v!r} names no {field[:-1]} of this scenario; {closest(str(v), known)}", source=source, key=f"{key}.{field}")
        return tuple(value)

    regions = names("regions", region_ids)
    clusters = names("clusters", cluster_ids)
    if regions is not None and clusters is not None:
        outside = [c for c in clusters if c.split(".", 1)[0] not in regions]
        if outside:
            raise InputError(f"clusters {outside} lie outside the targeted regions", source=source, key=f"{key}.clusters")
    firms = setting.get("firms", lever.firm_groups[0])
    if firms not in lever.firm_groups:
        raise InputError(f"firm group {firms!r} not allowed for this lever; allowed: {', '.join(lever.firm_groups)}", source=source, key=f"{key}.firms")
    years = {}
    for field in ("start_year", "end_year"):
        if field in setting:
            value = setting[field]
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= YEAR_MAX:
                raise InputError(f"{value!r} is not a policy year; allowed whole years 0 to {YEAR_MAX}",
                                 source=source, key=f"{key}.{field}")
            years[field] = value
    if "end_year" in years and years["end_year"] <= years.get("start_year", 0):
        raise InputError(f"end_year {years['end_year']} is not after start_year {years.get('start_year', 0)}; "
                         "a lever runs from start_year to end_year (exclusive)", source=source, key=f"{key}.end_year")
    return LeverSetting(lid, float(intensity), regions, clusters, firms, **years)


def catalogue_markdown() -> str:
    """The docs/policies.md page, generated from the catalogue: an overview table of every
    lever (what it does, where the seed asks for it, what it moves), then one section per WG
    with the mechanism, parameters, cost, targets and conditions of each lever."""
    lines = [
        "# Policy levers",
        "",
        "Generated from `cluster_abm/policy/levers.py` by `cluster-abm levers --markdown`; a test keeps it current.",
        "Each lever is one policy action of seed section 3.7 (the ClusterPoliSEE sustainability plan's recap",
        "of suggested actions per working-group area). Switch it on in a scenario with `[levers.<id>]`",
        "(`intensity` 0-2, 1 = the programme as the seed describes it; optional `regions`, `clusters`,",
        "`firms`). Every lever's spending is capped per targeted region and year at `policy.lever_budget`",
        "x intensity and recorded per step (`public_cost` in the outputs, `ClusterModel.lever_costs()` per",
        "lever). `tests/test_levers.py` checks, for every lever, that switching it on alone moves its direct",
        "outcome in the stated direction over paired seeds, that it spends within its budget, and that its",
        "parameters are read by its mechanism.",
        "",
        "Firm groups: " + "; ".join(f"`{k}` = {v}" for k, v in FIRM_GROUPS.items()) + ".",
        "",
        "## Overview",
        "",
        f"{len(LEVERS)} levers in {len(WG_NAMES)} working-group areas. Scenario packages in `scenarios/`:",
        "`wg1_innovation` ... `wg6_skills_jobs` (one WG each), `full_strategy` (every lever),",
        "`new_ventures`, `sme_networks`, `entrepreneurial_cmos`.",
        "",
        "| lever | WG | seed | what it does | direct outcome |",
        "|---|---|---|---|---|",
    ]
    for lv in LEVERS:
        arrow = "up" if lv.direction == "+" else "down"
        lines.append(f"| `{lv.id}` | {lv.wg} | {lv.seed} | {lv.name} | `{lv.outcome}` {arrow} |")
    lines.append("")
    for wg, title in WG_NAMES.items():
        lines += [f"## {wg} {title}", "",
                  "| lever | seed | mechanism | parameters | direct outcome | cost | targets |",
                  "|---|---|---|---|---|---|---|"]
        for lv in LEVERS:
            if lv.wg != wg:
                continue
            targets = ", ".join(lv.targets)
            if "firms" in lv.targets:
                targets += f" (firms: {', '.join(lv.firm_groups)}; default {lv.firm_groups[0]})"
            cond = f" *Condition: {lv.condition}.*" if lv.condition else ""
            lines.append(
                f"| **{lv.id}**: {lv.name}. {lv.summary}{cond} | {lv.seed} | `{lv.mechanism}` | "
                f"{', '.join(f'`{p}`' for p in lv.params)} | `{lv.outcome}` {lv.direction} | {lv.cost} | {targets} |"
            )
        lines.append("")
    return "\n".join(lines)
