"""The parameter registry: the single source of truth for every constant in a rule.

Each :class:`Param` carries its default, bounds, unit, a one-line doc and whether it is a per-year
rate. Scenario validation, the UI's sliders, sweep designs and the SALib problem are all derived
from this registry, so a parameter is declared exactly once (the AgentPy ``Range`` / EMA Workbench
pattern). Rates are declared **per year** and converted once, when a model is built, into per-step
values by :func:`per_step` (``steps_per_year`` steps a year, a quarter by default).

Conversion kinds (``per_year``):

``hazard``     an instantaneous rate λ per year; per step λ / s (used as 1 − exp(−λ/s))
``fraction``   a fraction r of a stock per year; per step 1 − (1 − r)^(1/s)
``amount``     a flow per year (money, persons, share points); per step x / s
``volatility`` a standard deviation per √year; per step σ / √s
``""``         not a rate; unchanged
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from cluster_abm.errors import InputError, closest

PER_YEAR_KINDS = ("", "hazard", "fraction", "amount", "volatility")


@dataclass(frozen=True)
class Param:
    """One declared model constant.

    ``uncertain`` marks parameters whose value is not known from data; they form the default
    factor set of sensitivity analyses and calibrations.
    """

    name: str
    default: float | int | bool
    low: float | None
    high: float | None
    unit: str
    doc: str
    per_year: str = ""
    uncertain: bool = True
    source: str = ""
    integer: bool = False

    @property
    def group(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def key(self) -> str:
        return self.name.split(".", 1)[1]

    @property
    def is_bool(self) -> bool:
        return isinstance(self.default, bool)

    def check(self, value: Any, source: str | None = None) -> float | int | bool:
        """Validate one value and return it coerced to the parameter's type."""
        if self.is_bool:
            if not isinstance(value, bool):
                raise InputError(f"must be true or false, got {value!r}", source=source, key=self.name)
            return value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InputError(f"must be a number, got {value!r}", source=source, key=self.name)
        if isinstance(value, float) and not math.isfinite(value):
            raise InputError(f"must be finite, got {value!r}", source=source, key=self.name)
        if self.integer and value != int(value):
            raise InputError(f"must be a whole number, got {value!r}", source=source, key=self.name)
        if (self.low is not None and value < self.low) or (self.high is not None and value > self.high):
            raise InputError(
                f"{value!r} is out of range; allowed {self.low} to {self.high} {self.unit}",
                source=source,
                key=self.name,
            )
        return int(value) if self.integer else float(value)


@dataclass
class Registry:
    """An ordered collection of :class:`Param`, looked up by dotted name."""

    params: dict[str, Param] = field(default_factory=dict)

    def add(self, *params: Param) -> None:
        for p in params:
            if p.name in self.params:
                raise ValueError(f"parameter {p.name} declared twice")
            if p.per_year not in PER_YEAR_KINDS:
                raise ValueError(f"{p.name}: per_year must be one of {PER_YEAR_KINDS}")
            if not p.is_bool and p.low is not None and p.high is not None and p.low > p.high:
                raise ValueError(f"{p.name}: low > high")
            if not p.is_bool:
                p.check(p.default, source="params.py")
            self.params[p.name] = p

    def __getitem__(self, name: str) -> Param:
        try:
            return self.params[name]
        except KeyError:
            raise InputError(f"unknown parameter; {closest(name, self.params)}", key=name) from None

    def __contains__(self, name: str) -> bool:
        return name in self.params

    def __iter__(self):
        return iter(self.params.values())

    def __len__(self) -> int:
        return len(self.params)

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self}

    def groups(self) -> list[str]:
        return list(dict.fromkeys(p.group for p in self))


def _p(name, default, low, high, unit, doc, per_year="", uncertain=True, source="", integer=False):
    return Param(name, default, low, high, unit, doc, per_year, uncertain, source, integer)


REGISTRY = Registry()

# --- simulation ---------------------------------------------------------------------------------
REGISTRY.add(
    _p("sim.steps_per_year", 4, 1, 12, "steps/yr", "Steps a year (4 = quarterly).", uncertain=False, integer=True),
    _p("sim.years", 20, 1, 100, "yr", "Default horizon of a run (policy years after the spin-up).", uncertain=False, integer=True),
    _p("sim.spinup_years", 50, 0, 200, "yr", "Years the built world runs, without policy levers, before policy year 0, so that runs start from a statistically stationary economy (docs/ODD.md, 'Spin-up'; chosen with scripts/measure_spinup.py).", uncertain=False, integer=True),
    _p("sim.n_firms", 2000, 20, 500_000, "firms", "Initial number of firms, split over regions by their firm_share.", uncertain=False, integer=True),
    _p("sim.region_cells", 16, 4, 200, "cells", "Side of each region's square block on the grid.", uncertain=False, integer=True),
    _p("sim.knowledge_fields", 8, 3, 32, "fields", "Technology fields of the knowledge vector; the last one is the green field.", uncertain=False, integer=True),
)

# --- initial population -------------------------------------------------------------------------
REGISTRY.add(
    _p("init.size_pareto_alpha", 1.12, 0.8, 2.0, "-", "Pareto tail exponent of initial firm size (employees); each region's firms are the quantiles of this law (ClusterModel initial_sizes); 1.1 gives ~93 % micro firms as in the EU (SBA fact sheet). Founders draw their spans of control from the same law (mechanisms.span; Lucas 1978).", uncertain=False, source="Axtell 2001; EU SBA fact sheet"),
    _p("init.size_max", 1000, 250, 50_000, "employees", "Largest initial firm.", uncertain=False, integer=True),
    _p("init.mean_age", 12.0, 1.0, 50.0, "yr", "Mean age of the initial (established) firms, exponential.", uncertain=False),
    _p("init.cash_to_revenue", 0.25, 0.01, 1.0, "yr of revenue", "Initial cash buffer as a share of annual revenue."),
    _p("init.ties_per_firm", 1.2, 0.0, 10.0, "ties", "Mean initial cooperation ties per firm (intra-cluster mostly)."),
    _p("init.glocal_share_large", 0.35, 0.0, 1.0, "-", "Probability that a firm of 50+ employees starts glocal (global links).", source="seed 3.3.3"),
    _p("init.glocal_share_small", 0.005, 0.0, 0.2, "-", "Probability that a smaller firm starts glocal (niche global players).", source="seed 3.3.3"),
    _p("init.exporter_share", 0.15, 0.0, 1.0, "-", "Probability that a firm with fewer than 50 employees starts as an exporter; larger ones and glocal firms always export."),
    _p("init.productivity_sd", 0.2, 0.0, 1.0, "-", "Log std dev of initial labour productivity within a region.", source="Syverson 2011"),
    _p("init.min_margin", 0.05, 0.0, 0.5, "-", "Initial firms cover their costs with at least this margin on revenue (they are survivors of past selection)."),
    _p("init.rd_sd", 0.6, 0.0, 2.0, "-", "Log std dev of firms' R&D intensity around the regional mean."),
    _p("init.home_field_share", 0.6, 0.1, 1.0, "-", "Share of a firm's knowledge in its sector's home field."),
    _p("init.codification", 0.3, 0.0, 1.0, "-", "Mean initial codification capability, times sqrt(region knowledge_level) (seed 3.6.2: SMEs codify little)."),
    _p("init.dyncap", 0.25, 0.0, 1.0, "-", "Mean initial dynamic capability (seed 3.6.1: weak in SEE clusters)."),
    _p("init.capability_sd", 0.1, 0.0, 0.5, "-", "Std dev of initial codification and dynamic capabilities."),
    _p("init.skill_share_sd", 0.3, 0.0, 1.0, "-", "Log std dev of firms' skilled share around the regional share."),
    _p("init.cluster_spread", 0.125, 0.02, 1.0, "region sides", "Standard deviation of a cluster firm's cell around its cluster's centre, in each direction, as a share of the region's side (16 cells: 2 cells, some 10-20 km): how concentrated clusters are in space. Firms outside clusters sit anywhere in their region.", uncertain=False, source="Porter 1998 (clusters are geographically proximate groups); Rosenthal & Strange 2003 (agglomeration economies attenuate within a few miles)"),
    _p("init.cmo_membership", 0.45, 0.0, 1.0, "-", "Share of a cluster's firms that are members of its CMO."),
)

# --- market and production (seed 2.6; replicator dynamics) ---------------------------------------
REGISTRY.add(
    _p("market.selection_strength", 0.6, 0.0, 3.0, "1/yr", "Replicator speed: share growth per year per unit of relative competitiveness above the market mean.", per_year="amount", source="Metcalfe 1998; Dosi et al. 2010"),
    _p("market.share_volatility", 0.25, 0.0, 1.5, "1/sqrt(yr)", "Std dev of idiosyncratic log-demand shocks of a one-employee firm.", per_year="volatility", source="Stanley et al. 1996"),
    _p("market.volatility_size_exponent", 0.2, 0.0, 0.5, "-", "Shock std dev falls with size as size^-beta.", source="Stanley et al. 1996"),
    _p("market.initial_reach", 0.4, 0.05, 1.0, "-", "Customer base of a new firm: the share of the customers its market shares would warrant that it reaches in its first year (demand it does not reach goes to its markets' other firms). 1 switches customer accumulation off.", source="Foster, Haltiwanger & Syverson 2016 (new plants' demand deficit of roughly 0.5-1 log points, closing over more than a decade); Arkolakis 2010"),
    _p("market.reach_growth", 0.2, 0.0, 1.0, "1/yr", "Fraction of the gap between a firm's customer base and full reach that it closes in a year in which it serves all its demand (customers stay and spread the word); in proportion to the share of its demand it serves.", per_year="fraction", source="Foster, Haltiwanger & Syverson 2016 (active accumulation through past sales dominates); Gourio & Rudanko 2014"),
    _p("market.export_entry_rate", 0.08, 0.0, 1.0, "1/yr", "Hazard that a non-exporting firm with transnational ties starts exporting.", per_year="hazard", source="seed 2.3"),
    _p("production.labour_adjust_rate", 0.5, 0.05, 1.0, "1/yr", "Fraction of its staff above the desired level a firm sheds in a year (firing costs, labour hoarding); vacancies fill through the matching function.", per_year="fraction"),
    _p("production.skill_substitution", 1.4, 0.5, 4.0, "-", "Elasticity of substitution between skilled and unskilled labour in the firm's CES production function (about 1.4-2; Havranek et al. 2024 find 0.6-0.9 to 4 after correcting for biases).", source="Katz & Murphy 1992; Acemoglu & Autor 2011"),
    _p("production.demand_elasticity", 1.0, 0.0, 4.0, "-", "Elasticity of a market's demand for the model's firms to their labour-cost wedge against outside suppliers (regional wage drift from labour-market tightness, wage subsidies): the scale effect of labour demand.", source="Armington 1969; Feenstra et al. 2018 (macro elasticity about 1); Hamermesh 1993"),
    _p("production.unfilled_weight", 1.0, 0.0, 3.0, "-", "Exponent of the served share of last step's demand in competitiveness: customers turn away from firms that cannot deliver.", source="Dosi, Fagiolo & Roventini 2010"),
    _p("production.span_of_control", 0.85, 0.7, 1.0, "-", "Returns to a firm's scale in its staff (Lucas 1978's span of control): output per person falls as (staff / span)^(gamma - 1) beyond the owner-manager's span; 1 = constant returns (mechanisms.span).", source="Lucas 1978; Guner, Ventura & Xu 2008 (0.80); Restuccia & Rogerson 2008 (0.85)"),
    _p("production.markup", 1.3, 1.0, 2.0, "-", "Initial revenue net of R&D over the wage bill; sets initial labour productivity."),
    _p("production.fixed_cost", 0.25, 0.0, 3.0, "unskilled wages/yr", "Fixed overhead of a firm (rent, accounting), in yearly unskilled wages of its region.", per_year="amount"),
    _p("production.process_gain", 0.06, 0.0, 1.0, "-", "Share of the log gap between a firm's labour productivity and the world's best practice for its skill mix that a process innovation closes (adoption: the gain grows with the distance still to cover; mechanisms.technology).", source="seed 3.1; Nelson & Phelps 1966; Aghion & Howitt 1998; Acemoglu, Aghion & Zilibotti 2006"),
    _p("production.product_gain", 0.08, 0.0, 1.0, "-", "Share of the log gap between a firm's product quality and the world's best that a product innovation closes (adoption: the gain grows with the distance still to cover; mechanisms.technology).", source="seed 3.1; Nelson & Phelps 1966; Aghion & Howitt 1998; Acemoglu, Aghion & Zilibotti 2006"),
    _p("production.imitation_rate", 0.15, 0.0, 1.0, "1/yr", "Share of the gap to its market's mean quality and productivity a laggard closes in a year at absorptive capacity 1 (imitation).", per_year="fraction", source="Nelson & Winter 1982; seed 3.6.2"),
    _p("production.gain_size_exponent", 0.18, 0.0, 1.0, "-", "An innovation touches a smaller share of a larger firm's output: gains scale as employees^-theta (keeps growth close to Gibrat's law).", source="Klette & Kortum 2004"),
    _p("production.wage_pass_through", 0.5, 0.0, 1.0, "-", "Share of regional productivity growth passed to wages each year."),
    _p("technology.frontier_growth", 0.015, 0.0, 0.05, "1/yr", "Growth of the world's technology frontier (output per person of best practice, quality x productivity): the pace the model's firms must keep by adopting to hold their distance to it; the model's money is measured against it (mechanisms.technology).", source="about the labour-productivity growth of the advanced economies since the 1990s (OECD Compendium of Productivity Indicators); Aghion & Howitt 1998"),
    _p("technology.leader_gap", 0.3, 0.0, 2.0, "-", "Log distance of the build's most productive region to the world's technology frontier, in productivity per unit of skill cost and in quality (mechanisms.technology.build_frontier)."),
)

# --- finance: accounts, bank credit (seed 2.4, 3.4.3) --------------------------------------------
REGISTRY.add(
    _p("finance.interest_rate", 0.06, 0.0, 0.3, "1/yr", "Interest on overdrafts (negative cash).", per_year="amount"),
    _p("finance.credit_to_revenue", 0.25, 0.0, 2.0, "yr of revenue", "Bank credit line as a share of annual revenue; a firm whose overdraft exceeds it is insolvent.", source="seed 2.4; Stiglitz & Weiss 1981"),
    _p("finance.max_cash_to_revenue", 0.5, 0.05, 5.0, "yr of revenue", "Cash above this buffer is paid out to owners."),
    _p("finance.owner_min_pay", 0.5, 0.0, 1.0, "-", "Share of the wage an owner-manager accepts in bad times before the firm makes losses (entrepreneurs are residual claimants).", source="Stinchcombe 1965; Gimeno et al. 1997"),
    _p("finance.contract_credit_bonus", 0.3, 0.0, 3.0, "-", "Relative increase of the credit line of a business-network-contract member (banks value the shared plan).", source="seed 3.4.3"),
)

# --- learning and absorptive capacity (seed 3.6.2; Cohen & Levinthal 1990) ------------------------
REGISTRY.add(
    _p("learning.rd_return", 1.0, 0.0, 5.0, "ku/yr per sqrt(k€/yr)", "Knowledge created per year by in-house R&D: rd_return * sqrt(R&D spend in k€/yr), in knowledge units of the current state of the art (times mechanisms.common.state_of_the_art: R&D money is measured against the technology frontier).", per_year="amount", source="Griliches 1979"),
    _p("learning.obsolescence", 0.06, 0.0, 0.4, "1/yr", "Depreciation of knowledge.", per_year="fraction"),
    _p("learning.partner_transfer", 0.12, 0.0, 1.0, "1/yr", "Share of the per-field knowledge gap to a partner closed in a year at absorptive capacity 1.", per_year="fraction", source="seed 3.6.2; Cohen & Levinthal 1990"),
    _p("learning.ki_transfer", 0.25, 0.0, 1.0, "1/yr", "Share of the gap to a knowledge institution's frontier closed in a year during a joint project.", per_year="fraction", source="seed 3.1.1"),
    _p("learning.contract_pooling", 0.2, 0.0, 1.0, "1/yr", "Share of the gap to a network contract's pooled knowledge closed in a year.", per_year="fraction", source="seed 3.3.1"),
    _p("learning.glocal_transfer", 0.1, 0.0, 1.0, "1/yr", "Share of the gap to the external (global) knowledge pool closed in a year by a glocal firm.", per_year="fraction", source="seed 3.3.3; Morrison 2008"),
    _p("learning.frontier_growth", 0.02, 0.0, 0.1, "1/yr", "Growth of the external (global) knowledge pool.", per_year="fraction"),
    _p("learning.frontier_multiple", 3.0, 1.0, 20.0, "-", "External pool per field relative to the initial mean of the top decile of firms."),
    _p("learning.ac_codification_weight", 0.5, 0.0, 1.0, "-", "Weight of codification capability (vs the skilled share) in absorptive capacity.", source="seed 3.6.2"),
    _p("learning.ac_knowledge_scale", 10.0, 0.1, 200.0, "ku", "Knowledge stock at which prior knowledge gives 63 % of its absorptive potential, at the built world's state of the art (it scales with the frontier: mechanisms.common.state_of_the_art).", source="Cohen & Levinthal 1990"),
)

# --- innovation (seed 3.1; Nooteboom et al. 2007) --------------------------------------------------
REGISTRY.add(
    _p("innovation.base_rate", 0.05588, 0.0, 2.0, "1/yr", "Informal innovation hazard (no formal R&D: doing, using, interacting) of a firm at the reference knowledge stock with no partners, no dynamic capability and nobody near it. At the default, non-R&D firms of 10-49 employees in the mature regions (with their partners, capabilities and neighbours) innovate within three years at about 62 % (4 seeds, policy year 10, 2026-12-08); about half of European innovators do no in-house R&D.", per_year="hazard", source="seed 3.1; Jensen et al. 2007; Huang, Arundel & Hollanders 2010; default fitted by the calibration calibrate_see (docs/calibration.md)"),
    _p("innovation.rd_rate", 0.1193, 0.0, 5.0, "1/yr", "Innovation hazard that one minimum-scale R&D project adds (times the same multipliers as the informal route). At the default, most R&D performers (79 %, 4 seeds, policy year 10, 2026-12-08) innovate within three years.", per_year="hazard", source="Crepon, Duguet & Mairesse 1998; Huang, Arundel & Hollanders 2010; default fitted by the calibration calibrate_see (docs/calibration.md)"),
    _p("innovation.rd_min_team", 1.0, 0.1, 10.0, "researchers (FTE)", "Smallest R&D project: full-time researchers at the region's skilled wage; a firm whose R&D budget (own plus grant-funded) pays for less does no formal R&D (R&D is indivisible).", source="Cohen & Klepper 1996"),
    _p("innovation.rd_elasticity", 0.3, 0.0, 1.0, "-", "Elasticity of the formal-R&D hazard to the number of minimum-scale projects funded: innovation output rises less than proportionally with R&D, and innovations per unit of R&D fall with firm size.", source="Griliches 1990; Cohen & Klepper 1996; Crepon, Duguet & Mairesse 1998"),
    _p("innovation.knowledge_ref", 20.0, 1.0, 500.0, "ku", "Reference knowledge stock of the informal innovation route and of the local knowledge pool, at the built world's state of the art (it scales with the frontier: ideas get harder to find).", source="Jones 1995; Bloom, Jones, Van Reenen & Webb 2020"),
    _p("innovation.knowledge_elasticity", 0.6881, 0.0, 2.0, "-", "Elasticity of the innovation hazard to the knowledge stock. Knowledge from R&D grows with the square root of spend, so the elasticity to R&D is half of it; cross-section elasticities of innovation output to R&D run from about 0.3 to 1 (Griliches 1990). Identified in the calibration by innovation's size gradient (CIS 250+ over 10-49).", source="Griliches 1979; Griliches 1990; default fitted by the calibration calibrate_see (docs/calibration.md)"),
    _p("innovation.partner_weight", 1.0, 0.0, 5.0, "-", "Maximum relative rise of the hazard from novel partner knowledge.", source="seed 2.1; Nooteboom et al. 2007"),
    _p("innovation.optimal_distance", 0.35, 0.05, 0.95, "-", "Cognitive distance at which a partner adds most novelty (inverted U).", source="Nooteboom et al. 2007"),
    _p("innovation.dyncap_weight", 1.0, 0.0, 5.0, "-", "Relative rise of the hazard per unit of dynamic capability.", source="seed 3.6.1; Teece et al. 1997"),
    _p("innovation.product_share", 0.55, 0.0, 1.0, "-", "Probability that an innovation is a product (not a process) innovation."),
    _p("innovation.recent_years", 3.0, 1.0, 5.0, "yr", "Window for 'innovative firm' (the Community Innovation Survey uses 3 years).", uncertain=False),
)

# --- agglomeration: location effects (seed 3.6.2, 3.2.2; Marshall 1890) ----------------------------
REGISTRY.add(
    _p("agglomeration.decay_cells", 2.0, 0.25, 16.0, "cells", "Decay length of the location kernel exp(-d / L) at city-block grid distance d: knowledge spillovers and shared inputs reach about this far (a cell is some 5-10 km of a baseline region).", source="Rosenthal & Strange 2003; Jaffe, Trajtenberg & Henderson 1993"),
    _p("agglomeration.spillover_elasticity", 0.1, 0.0, 0.6, "-", "Elasticity of the innovation hazard to 1 + the local knowledge pool a firm absorbs (absorptive capacity x kernel-weighted knowledge of the other firms and institutions nearby, in reference stocks).", source="Jaffe 1989; Audretsch & Feldman 1996; Anselin, Varga & Acs 1997; Cohen & Levinthal 1990"),
    _p("agglomeration.sharing_elasticity", 0.05, 0.0, 0.15, "-", "Elasticity of a firm's effective productivity to 1 + the employment of its sector nearby (kernel-weighted persons), relative to the economy's employment-weighted geometric mean: shared suppliers and inputs. Reaches capacity, labour demand, competitiveness and the cost wedge against outside suppliers.", source="Marshall 1890; Duranton & Puga 2004; Rosenthal & Strange 2004 (0.02-0.08); Ciccone & Hall 1996 (0.05 for density)"),
)

# --- eco-innovation (seed 3.2.3; De Marchi 2012) ----------------------------------------------------
REGISTRY.add(
    _p("eco.base_rate", 0.15, 0.0, 2.0, "1/yr", "Eco-innovation hazard of an aware firm with green knowledge and a complementary partner.", per_year="hazard", source="seed 3.2.3; De Marchi 2012"),
    _p("eco.green_threshold", 1.0, 0.0, 50.0, "ku", "Green-field knowledge a firm needs before it can eco-innovate.", source="seed 3.6.3"),
    _p("eco.partner_min_distance", 0.15, 0.0, 0.9, "-", "Minimum cognitive distance for a partner to count as complementary.", source="seed 3.2.3"),
    _p("eco.awareness", 0.3, 0.0, 1.0, "-", "Baseline awareness of the business potential of eco-innovation (scales the hazard).", source="seed 2.2, 3.2.4"),
    _p("eco.emission_cut", 0.15, 0.0, 0.6, "-", "Relative cut of a firm's emission intensity per eco-innovation.", source="seed 3.2.1"),
    _p("eco.green_rd_share", 0.05, 0.0, 0.5, "-", "Share of R&D aimed at the green field at full awareness.", source="seed 3.6.3"),
)

# --- cooperation and network contracts (seed 3.3.1-3.3.2; SKIN, Gilbert et al. 2007) ---------------
REGISTRY.add(
    _p("coop.search_rate", 0.8, 0.0, 6.0, "1/yr", "Hazard that a firm looks for a new partner.", per_year="hazard", source="seed 3.3.1; Gilbert et al. 2007"),
    _p("coop.candidates", 4, 1, 20, "firms", "Candidates a searching firm examines (bucketed by cluster and region, never all pairs).", integer=True),
    _p("coop.scope_region", 0.2, 0.0, 1.0, "-", "Share of candidates drawn from the own region outside the own cluster.", source="seed 3.3.2"),
    _p("coop.scope_national", 0.05, 0.0, 1.0, "-", "Share of candidates drawn from other regions of the own country.", source="seed 3.3.2"),
    _p("coop.scope_abroad", 0.05, 0.0, 1.0, "-", "Share of candidates drawn from regions of other countries.", source="seed 2.3"),
    _p("coop.accept_base", 0.5, 0.0, 1.0, "-", "Probability a pair at the optimal cognitive distance, in the same cluster, forms a tie."),
    _p("coop.cost_region", 0.7, 0.0, 1.0, "-", "Relative acceptance of a partner in the own region but another cluster (interaction cost)."),
    _p("coop.cost_national", 0.5, 0.0, 1.0, "-", "Relative acceptance of a partner in another region of the country."),
    _p("coop.cost_abroad", 0.3, 0.0, 1.0, "-", "Relative acceptance of a partner abroad.", source="seed 2.3"),
    _p("coop.tie_decay", 0.15, 0.0, 1.0, "1/yr", "Share of ties that end in a year.", per_year="fraction"),
    _p("coop.max_partners", 12, 1, 100, "ties", "Most partners a firm maintains.", integer=True),
    _p("contract.formation_rate", 0.0004, 0.0, 1.0, "1/yr", "Hazard that a networked SME founds a business network contract where the law allows them.", per_year="hazard", source="seed 3.3.1; Italian Law 99/2009; fitted to the stock of members: 50,298 Italian firms in 9,630 contracts at the end of 2024 (InfoCamere / RetImpresa, see_targets.csv), 1.34 % of Italy's 3.75 M enterprises (enterprises.csv); Veneto in the baseline, 3 seeds x 5 years: 1.39 % of its enterprises in about 795 contracts (8.9 % of Italy's contracts: 857)"),
    _p("contract.max_members", 10, 2, 30, "firms", "Most members of a network contract.", integer=True, uncertain=False, source="see_targets: 87 % of Italian contracts have < 10 members"),
    _p("contract.export_pooling", 1.0, 0.0, 1.0, "-", "Export-entry hazard of a network-contract member whose co-member exports, relative to a firm with a transnational tie of its own: members sell abroad through a joint commercial programme and share the fixed costs of reaching foreign customers.", source="Cisi, Devicienti, Manello & Vannoni 2020 (contract members' exports rise); Koenig, Mayneris & Poncet 2010 (export spillovers on the decision to start exporting); seed 3.3.1"),
    _p("contract.cost_sharing", 0.2, 0.0, 0.8, "-", "Share of fixed costs saved by pooling in a network contract.", source="seed 3.3.1"),
    _p("contract.dissolution_rate", 0.08, 0.0, 1.0, "1/yr", "Share of network contracts ending in a year.", per_year="fraction"),
)

# --- knowledge institutions and firm-KI projects (seed 3.1.1-3.1.2) --------------------------------
REGISTRY.add(
    _p("ki.project_rate", 0.06, 0.0, 2.0, "1/yr", "Hazard that an eligible firm starts a project with a knowledge institution.", per_year="hazard", source="seed 3.1.1"),
    _p("ki.ac_threshold", 0.25, 0.0, 1.0, "-", "Absorptive capacity a firm needs to run a project with a knowledge institution.", source="seed 3.6.2"),
    _p("ki.project_years", 2.0, 0.25, 5.0, "yr", "Duration of a firm-KI project."),
    _p("ki.awareness_weight", 1.0, 0.0, 5.0, "-", "Relative rise of the project hazard per unit of policy-maker awareness of the interaction gap.", source="seed 3.1.1 a"),
    _p("ki.brokering_weight", 2.0, 0.0, 10.0, "-", "Relative rise of the project hazard per unit of CMO brokering service.", source="seed 3.1.1 b"),
    _p("ki.capacity_university", 30, 0, 500, "projects", "Concurrent firm projects a university can run.", integer=True),
    _p("ki.capacity_research", 20, 0, 500, "projects", "Concurrent firm projects a research centre can run.", integer=True),
    _p("ki.capacity_kibs", 15, 0, 500, "projects", "Concurrent firm projects an institutional KIBS can run.", integer=True),
    _p("ki.frontier_multiple", 2.0, 0.5, 10.0, "-", "A knowledge institution's stock per field relative to the region's top firms, times its quality."),
    _p("ki.project_cost", 10.0, 0.0, 200.0, "k€/yr", "Firm's own cost of a running KI project.", per_year="amount"),
    _p("ki.graduates_per_university", 0.14, 0.0, 1.0, "-", "Share of its region's entering cohort (labour.cohort_rate of the labour force a year) a university of quality 1 graduates; the region's graduates are part of the cohort's skilled entrants, and universities that graduate more than the region's skilled share raise it. 0.14 gives the graduate flows of the former rule (0.012 of the skilled labour force a year) at a skilled share of 0.3.", source="seed 2.6"),
)

# --- cluster management organisations (seed 3.3.4, 3.2.4, 3.6.5; ECEI) ----------------------------
REGISTRY.add(
    _p("cmo.member_fee", 1.5, 0.0, 20.0, "k€/yr", "Membership fee per member firm.", per_year="amount", source="seed 3.4.1"),
    _p("cmo.regional_funding", 80.0, 0.0, 1000.0, "k€/yr", "Regional government's yearly support to each CMO (lost in a budget freeze).", per_year="amount", source="seed 3.4.1"),
    _p("cmo.eu_funding", 40.0, 0.0, 1000.0, "k€/yr", "National/EU project funding each CMO raises in a year, times its competence.", per_year="amount", source="seed 3.4.1"),
    _p("cmo.service_cost", 2.0, 0.1, 50.0, "k€/yr", "Cost of serving one member at full service intensity for a year.", per_year="amount"),
    _p("cmo.competence_growth", 0.05, 0.0, 0.5, "1/yr", "Yearly rise of staff competence toward 1 while funding is stable (learning by doing).", per_year="fraction"),
    _p("cmo.competence_loss_on_gap", 0.25, 0.0, 1.0, "-", "Share of staff competence lost in a year without regional funding (staff leave).", source="seed 3.4.1"),
    _p("cmo.matchmaking_weight", 1.5, 0.0, 10.0, "-", "Relative rise of partner search and acceptance per unit of matchmaking service.", source="seed 3.3.4"),
    _p("cmo.scouting_weight", 1.0, 0.0, 10.0, "-", "Relative rise of grant applications per unit of funding-scouting service.", source="seed 2.4"),
    _p("cmo.awareness_weight", 0.5, 0.0, 1.0, "-", "Rise of eco-awareness per unit of awareness-campaign service.", source="seed 3.2.4"),
    _p("cmo.entrepreneurial_orientation", 0.2, 0.0, 1.0, "-", "Baseline entrepreneurial orientation: how far a CMO's matchmaking reaches beyond its cluster.", source="seed 3.3.4"),
    _p("cmo.outreach_weight", 2.0, 0.0, 10.0, "-", "Relative widening of members' search scope beyond the cluster per unit of entrepreneurial matchmaking.", source="seed 3.3.4"),
    _p("cmo.excellence_members", 50.0, 1.0, 1000.0, "firms", "Membership at which the size indicator of the excellence score saturates.", uncertain=False, source="ECEI"),
    _p("cmo.excellence_budget_multiple", 2.0, 0.1, 10.0, "-", "Budget per member, in multiples of the full-service cost, at which the budget indicator saturates.", uncertain=False),
    _p("cmo.excellence_stable_years", 5.0, 1.0, 20.0, "yr", "Years of stable funding at which the stability indicator saturates.", uncertain=False, source="seed 3.4.1"),
    _p("cmo.excellence_outward_share", 0.3, 0.01, 1.0, "-", "Share of members' ties beyond the cluster at which the openness indicator saturates.", uncertain=False, source="seed 3.3.4"),
    _p("cmo.gold_threshold", 0.7, 0.0, 1.0, "-", "Excellence score for a gold-like label.", uncertain=False, source="ECEI, Lämmer-Gamp et al. 2014"),
    _p("cmo.bronze_threshold", 0.4, 0.0, 1.0, "-", "Excellence score for a bronze-like label.", uncertain=False, source="ECEI, Lämmer-Gamp et al. 2014"),
)

# --- funders: calls, grants, venture finance (seed 2.4, 3.4.1-3.4.2) ------------------------------
REGISTRY.add(
    _p("funding.eu_budget", 40000.0, 0.0, 1e7, "k€/yr", "Yearly R&D grant budget of the EU programme for the firms of all regions (real euros; all regions compete). An order-of-magnitude assumption: direct EU R&D grants (Horizon 2020 SME instrument and collaborative projects) to firms of six regions of this size; no regional figures in the project's data.", per_year="amount", source="seed 2.4"),
    _p("funding.grant_size", 60.0, 1.0, 2000.0, "k€", "Size of one R&D grant.", uncertain=False),
    _p("funding.grant_years", 2.0, 0.25, 5.0, "yr", "Years over which a grant is spent on R&D."),
    _p("funding.admin_cost", 6.0, 0.0, 100.0, "k€", "Administrative cost an applicant bears per application.", source="seed 2.4, 3.4.1"),
    _p("funding.eu_admin_multiple", 1.5, 1.0, 5.0, "-", "EU applications cost this many times a regional one.", source="seed 3.4.1"),
    _p("funding.application_rate", 0.25, 0.0, 4.0, "1/yr", "Hazard that an eligible firm applies for an R&D grant when applying costs nothing.", per_year="hazard"),
    _p("funding.admin_tolerance", 8.0, 0.1, 100.0, "k€", "Admin cost at which the application hazard falls to 37 % (exp(-cost/tolerance)).", source="seed 2.4"),
    _p("funding.budget_volatility", 0.3, 0.0, 1.0, "-", "Std dev of the yearly regional budget around its plan (year-to-year budgeting).", source="seed 3.4.1"),
    _p("funding.freeze_probability", 0.12, 0.0, 1.0, "1/yr", "Probability a region's cluster budget is frozen for a year.", source="seed 3.4.1"),
    _p("funding.kpi_weight", 0.0, 0.0, 1.0, "-", "Weight of KPI-based merit (vs first come) in grant selection; the kpi_monitoring lever raises it.", source="seed 3.4.1"),
    _p("funding.merit_noise", 0.5, 0.0, 5.0, "-", "Std dev of evaluators' noise on merit scores."),
    _p("venture.budget", 17000.0, 0.0, 1e7, "k€/yr", "Yearly budget of the public venture funds of all regions (real euros): the sum of the six regions' public venture capital per year in cluster_abm/data/public_budgets.csv (16.9 M€).", per_year="amount", source="seed 3.4.2; cluster_abm/data/public_budgets.csv"),
    _p("venture.ticket", 80.0, 1.0, 5000.0, "k€", "Investment in one new venture.", uncertain=False),
    _p("venture.max_age", 2.0, 0.25, 10.0, "yr", "Oldest a firm may be to receive venture finance."),
    _p("venture.innovative_only", True, None, None, "-", "Venture investors finance innovative ventures only.", uncertain=False, source="seed 3.4.2"),
    _p("venture.credit_depth_ref", 78.26, 1.0, 400.0, "% of GDP", "Private credit at which bank credit lines are finance.credit_to_revenue of revenue and start-up loans demography.bank_leverage of equity (the EU-27 mean of 2020); a region's access to bank credit is its private_credit over this.", uncertain=False, source="World Bank WDI FS.AST.PRVT.GD.ZS"),
)

# --- demography: entry and exit (seed 3.1.4; Klepper 2007; Stinchcombe 1965) ----------------------
REGISTRY.add(
    _p("demography.spinoff_rate", 0.01215, 0.0, 0.2, "1/yr", "Hazard per employee of leaving to found a spin-off.", per_year="hazard", source="seed 3.1.4; Klepper 2007; default fitted by the calibration calibrate_see (docs/calibration.md)"),
    _p("demography.denovo_rate", 0.02, 0.0, 0.5, "1/yr", "Hazard per unemployed worker of founding a firm (necessity and opportunity entry): candidates, before about a third give up their plan (demography.plan_venture). For scale, 2.5 % of the EU's unemployed of 2017 were self-employed a year later (EU-LFS).", per_year="hazard", source="OECD/European Commission (2019), The Missing Entrepreneurs 2019, ch. 5"),
    _p("demography.innovative_share", 0.2, 0.0, 1.0, "-", "Probability a spin-off is innovative rather than replicative.", source="seed 3.1.4"),
    _p("demography.innovative_ki_bonus", 1.0, 0.0, 5.0, "-", "Relative rise of that probability when the parent has a KI project or the founder comes with a KI link.", source="seed 3.1.4"),
    _p("demography.replicative_sd", 0.12, 0.0, 1.0, "-", "Log std dev of a replicative spin-off's quality around its parent's.", source="seed 3.1.4"),
    _p("demography.innovative_sd", 0.3, 0.0, 1.5, "-", "Log std dev of an innovative spin-off's quality (more novel, more uncertain).", source="seed 3.1.4"),
    _p("demography.innovative_mean", 0.0, -0.5, 0.5, "-", "Mean log quality premium of an innovative spin-off over its parent."),
    _p("demography.entrant_quality_gap", -0.08, -0.5, 0.3, "-", "Mean log quality of an entrant relative to its template: its parent for a replicative spin-off, its market's incumbents (mean log) for a de novo firm (learning to be learned; entrants sell at lower prices, Foster, Haltiwanger & Syverson 2008).", source="Foster, Haltiwanger & Syverson 2008"),
    _p("demography.denovo_quality_sd", 0.25, 0.0, 1.5, "-", "Log std dev of a de novo entrant's quality around its market's incumbents (no parent's template: wider than a replicative spin-off's).", source="Foster, Haltiwanger & Syverson 2008; Jovanovic 1982"),
    _p("demography.entrant_productivity_gap", -0.1, -0.6, 0.3, "-", "Mean log labour productivity of an entrant relative to its template: its parent for a spin-off, its market's incumbents (mean log) for a de novo firm.", source="Foster, Haltiwanger & Krizan 2001; Bartelsman, Haltiwanger & Scarpetta 2013"),
    _p("demography.entrant_productivity_sd", 0.3, 0.0, 1.5, "-", "Log std dev of a de novo entrant's labour productivity around its market's incumbents (entrants are more dispersed than incumbents, init.productivity_sd).", source="Jovanovic 1982; Syverson 2011; Foster, Haltiwanger & Syverson 2008"),
    _p("demography.spinoff_productivity_sd", 0.15, 0.0, 1.0, "-", "Log std dev of a spin-off's labour productivity around its parent's (inherited routines).", source="Klepper 2007; Klepper & Sleeper 2005"),
    _p("demography.knowledge_carried", 0.3, 0.0, 1.0, "-", "Share of the parent's knowledge the founder carries.", source="seed 3.1.4"),
    _p("demography.startup_employees", 1.3, 1.0, 10.0, "employees", "Mean size at birth (EU newborns average 1.2-1.7 persons).", uncertain=False, source="Eurostat 2020; DZS 2019"),
    _p("demography.entry_demand_mean", 0.5567, -2.0, 1.0, "-", "Mean log of a new firm's first-year demand relative to what its staff could produce (markets must be won).", source="default fitted by the calibration calibrate_see (docs/calibration.md)"),
    _p("demography.entry_demand_sd", 0.8, 0.0, 2.0, "-", "Log std dev of that first-year demand (uncertain market acceptance, seed 3.1.4).", source="seed 3.1.4; Stinchcombe 1965"),
    _p("demography.plan_error_sd", 0.8, 0.0, 3.0, "-", "Log std dev of a nascent founder's error on the venture's first-year revenue (the business plan): the smaller, the better founders foresee their demand and the fewer unviable ventures are registered; large, and founders register whatever they draw.", source="Jovanovic 1982; Reynolds 2004 (PSED: about a third of nascent entrepreneurs give up before the firm is born); Parker & Belghitar 2006"),
    _p("demography.founder_savings", 0.5, 0.0, 5.0, "yr of wage", "Mean savings a founder puts into the firm, in years of the founder's own wage (skilled or unskilled, in its region).", source="Evans & Jovanovic 1989; Hurst & Lusardi 2004"),
    _p("demography.founder_wealth_sd", 1.0, 0.0, 3.0, "-", "Log std dev of founders' savings around that mean (wealth is far more unequal than wages).", source="Hurst & Lusardi 2004"),
    _p("demography.unemployed_savings", 0.5, 0.0, 1.0, "-", "Savings of a founder who comes from unemployment (de novo entry) relative to one who leaves a job (a spin-off's founder).", source="Evans & Leighton 1989"),
    _p("demography.parent_stake", 0.1, 0.0, 1.0, "-", "Share of its cash per employee a parent puts into a spin-off of one of its employees (corporate spin-off support); paid from the parent's cash.", source="Klepper 2007; Parhankangas & Arenius 2003"),
    _p("demography.bank_leverage", 0.44, 0.0, 3.0, "-", "Bank loan a founder gets per unit of own equity at the reference credit depth (venture.credit_depth_ref); scales with the region's private_credit.", source="Evans & Jovanovic 1989 (capital up to about 1.44 times wealth)"),
    _p("demography.loan_years", 5.0, 0.25, 20.0, "yr", "Term of the start-up loan: it floors the firm's credit line, falling linearly to zero over the term."),
    _p("demography.working_capital", 0.25, 0.0, 2.0, "yr of wages", "Wages a founder must hold in start-up capital (equity and loan) for each planned hire, since pay precedes sales; hires beyond what it covers are not made (liquidity constraint on the scale at birth).", source="Evans & Jovanovic 1989; Petersen & Rajan 1997"),
    _p("demography.founder_expectation", 1.155, 0.0, 3.0, "-", "A founder's prior of the venture's yearly earnings over the outside wage (the occupational-choice margin). The fit's 1.16 is near 1: founders expect about the wage, slightly more, though the median entrepreneur earns less than a wage worker of the same kind (Hamilton 2000): optimism at entry (Cooper, Woo & Dunkelberg 1988).", source="Lucas 1978; Jovanovic 1982; Hamilton 2000; Cooper, Woo & Dunkelberg 1988; default fitted by the calibration calibrate_see (docs/calibration.md)"),
    _p("demography.prior_years", 0.5, 0.05, 10.0, "yr", "Weight of that prior in years of market evidence: the smaller, the faster the first results revise it (Bayesian learning about one's efficiency).", source="Jovanovic 1982"),
    _p("demography.belief_memory", 5.0, 0.5, 50.0, "yr", "Most years of evidence an owner's estimate weighs (earning power drifts, so old evidence ages out).", source="Jovanovic 1982; Pakes & Ericson 1998"),
    _p("demography.recovery_horizon", 1.0, 0.25, 5.0, "yr", "How far ahead an owner-manager looks when deciding to liquidate a firm whose equity is gone: the owner closes when the expected earnings would not make the equity positive again within it (about the yearly review of a small firm's credit line).", source="Berger & Udell 1995 (small-business credit lines renewed about yearly); Dixit 1989; Hopenhayn 1992"),
    _p("demography.closure_rate", 0.02, 0.0, 0.3, "1/yr", "Hazard of a non-economic closure (owner retires, no successor).", per_year="hazard", source="seed 3.6.4"),
)

# --- labour market and migration (seed 2.6, 3.6.4; Docquier & Rapoport 2012) ----------------------
REGISTRY.add(
    _p("labour.retirement_rate", 0.025, 0.015, 0.04, "1/yr", "Share of the labour force retiring in a year (employees retire too; firms rehire). Bounds: careers of 25 to 67 years (Eurostat lfsi_dwl_a: a working life of 32-39 years in the six countries); beyond them the labour force doubles or empties within a run.", per_year="fraction", source="Eurostat lfsi_dwl_a"),
    _p("labour.cohort_rate", 0.025, 0.015, 0.04, "1/yr", "The entering cohort as a share of the labour force (at the retirement rate it replaces the retirees). Its skilled part is the region's skilled share (the region's graduates among them), the rest enter unskilled. Bounds as labour.retirement_rate's: cohorts of careers of 25 to 67 years.", per_year="amount", source="Eurostat lfsi_dwl_a"),
    _p("labour.matching_rate", 3.657, 0.05, 5.0, "1/yr", "Matching efficiency mu of the regional matching function M = mu U^alpha V^(1-alpha): the yearly job-finding rate of the unemployed (and vacancy-filling rate) when vacancies equal the unemployed. Fitted to the job vacancy rate with the unemployment rate: about 3.7/yr, so at the EU's V/U of about 0.35 the unemployed find a job at about 2.2 a year (a spell of about 5.5 months) and a post fills in about 1.9 months.", per_year="hazard", source="Petrongolo & Pissarides 2001; Elsby, Hobijn & Sahin 2013; default fitted by the calibration calibrate_see (docs/calibration.md)"),
    _p("labour.matching_elasticity", 0.5, 0.3, 0.8, "-", "Elasticity alpha of matches to the unemployed (1 - alpha to vacancies; constant returns).", source="Petrongolo & Pissarides 2001"),
    _p("labour.on_the_job_search", 0.16, 0.0, 0.6, "1/yr", "Rate at which an employee (not the owner-manager) meets an open vacancy of its skill in its region, drawn in proportion to vacancies (random on-the-job search); the employee moves when the vacancy's firm is more productive than its own (job ladder). A random offer beats the current job about half the time, so the default gives about 8 % of employees changing employer a year, the EU's yearly job-to-job mobility.", per_year="hazard", source="Burdett & Mortensen 1998; Haltiwanger, Hyatt, Kahn & McEntarfer 2018; EU Labour Force Survey 2003 (8.2 % of the employed changed job within a year, 5-13 % by country)"),
    _p("labour.pooling_elasticity_skilled", 0.06, 0.0, 0.2, "-", "Elasticity of the skilled vacancy-filling rate to the size of the firm's local labour market (its sector in its region): labour pooling.", source="Moretti & Yi 2025 (college graduates); Di Addario 2011"),
    _p("labour.pooling_elasticity_unskilled", 0.04, 0.0, 0.2, "-", "Elasticity of the unskilled vacancy-filling rate to the size of the firm's local labour market: labour pooling.", source="Moretti & Yi 2025 (high-school graduates); Di Addario 2011"),
    _p("labour.activity_rate", 0.712, 0.5, 0.9, "-", "Share of the working-age population in the labour force (employed or unemployed) when unemployment is at its initial level: the inactive pool of each region is built as its labour force x (1 / rate - 1), for both skills.", uncertain=False, source="Eurostat lfsi_act_a: EU-27 activity rate of persons aged 15-64, 71.2 % in 2011 (Statistics Explained, 'Labour market participation statistics')"),
    _p("labour.participation_response", 2.0, 0.0, 5.0, "-", "Fall of the target activity rate, relative to labour.activity_rate, per unit rise of the regional unemployment rate above its initial level (and rise below it): discouraged workers leave the labour force when jobs are scarce and inactive people enter when they are plentiful. At 2 participation absorbs two thirds of a regional employment shock and unemployment one third: in European regions most of a shock is absorbed by participation in the first three years, little by unemployment or migration (Decressin & Fatas 1995).", source="Decressin & Fatas 1995; Pissarides 2000, ch. 7; Garibaldi & Wasmer 2005"),
    _p("labour.participation_adjust", 0.5, 0.05, 1.0, "1/yr", "Share of the gap between a region's labour force and its target (labour.participation_response) closed in a year by flows between inactivity and unemployment (Decressin & Fatas 1995: participation absorbs regional shocks within the first years).", per_year="fraction", source="Decressin & Fatas 1995"),
    _p("labour.wage_tightness", 2.838, 0.0, 3.0, "1/yr", "Yearly wage growth per point of unemployment below its initial level.", per_year="amount", source="default fitted by the calibration calibrate_see (docs/calibration.md)"),
    _p("labour.share_correction", 0.2, 0.0, 1.0, "1/yr", "Yearly wage raise per unit of the log gap between the labour share of the region's firms at the build and now (wage bill over revenue): the error-correction term of European wage equations, which makes wages follow productivity one for one in the long run and keeps factor shares from trending. 0 leaves the labour share to drift with productivity growth beyond the pass-through.", per_year="amount", source="Blanchard & Katz 1999 (error correction in most European wage equations); Kaldor 1961; Gollin 2002 (no trend in labour shares)"),
    _p("labour.wage_vu_slope", 0.008897, 0.0, 0.1, "1/yr", "Yearly wage growth of a skill per unit of its regional pool's vacancy-unemployment ratio V/U above labour.vu_reference (the V/U wage Phillips curve): US wage growth rose by about 2-3 points as V/U rose from about 1.2 (2019) to 2 (2022), and by about 1.5 points from 0.15 (2009) to 1.2 (2019), a slope of about 0.015-0.03; the calibration fits about 0.009, below those US estimates (the unemployment wage curve, labour.wage_tightness, carries most of the wage pressure) (docs/calibration.md).", per_year="amount", source="Pissarides 2000; Barnichon & Shapiro 2022; Ball, Leigh & Mishra 2022; Bernanke & Blanchard 2023; default fitted by the calibration calibrate_see (docs/calibration.md)"),
    _p("labour.vu_reference", 0.35, 0.1, 1.5, "-", "Vacancy-unemployment ratio V/U at which tightness neither raises nor lowers wages: the EU's in 2019 (job vacancy rate 2.3 % of posts, unemployment 6.7 %: V/U about 0.35; RO/BG about 0.2-0.3, AT about 0.6, DE about 1).", source="Eurostat jvs_a_rate_r2 and une_rt_a (2019)"),
    _p("labour.max_wage_change", 0.2, 0.0, 1.0, "1/yr", "Largest yearly raise or cut of a renewed wage contract (wage rigidity): regional wages change by at most this in a year, and by this over steps-per-year in a step (staggered contracts, labour.update_wages).", uncertain=False),
    _p("labour.foreign_wage_skilled", 60.0, 10.0, 200.0, "k€/yr", "Skilled wage abroad that emigrants compare with.", uncertain=False, source="seed 2.6"),
    _p("labour.foreign_wage_growth", 0.015, 0.0, 0.1, "1/yr", "Real growth of the foreign wage; in the model's money (measured against the world's technology frontier, mechanisms.technology) it grows at this less technology.frontier_growth.", per_year="amount"),
    _p("migration.max_rate", 0.11, 0.0, 0.5, "1/yr", "Ceiling of the yearly skilled emigration hazard (logistic).", source="seed 3.6.4; Docquier & Rapoport 2012; default fitted by the calibration calibrate_see (docs/calibration.md)"),
    _p("migration.intercept", -3.451, -10.0, 5.0, "-", "Logit intercept of the emigration hazard.", source="default fitted by the calibration calibrate_see (docs/calibration.md)"),
    _p("migration.wage_gap_weight", 2.0, 0.0, 10.0, "-", "Logit weight of ln(foreign wage / regional skilled wage).", source="Borjas 1987"),
    _p("migration.unemployment_weight", 10.0, 0.0, 50.0, "-", "Logit weight of the skilled unemployment rate.", source="seed 2.6"),
    _p("migration.peer_weight", 5.0, 0.0, 50.0, "-", "Logit weight of the diaspora share (peers abroad).", source="Docquier & Rapoport 2012"),
    _p("migration.return_rate", 0.1496, 0.0, 0.5, "1/yr", "Share of the skilled diaspora returning in a year (brain circulation) where ln(foreign wage / regional skilled wage) equals migration.return_reference_gap; the share changes with the net domestic wage relative to the foreign one (elasticity migration.return_wage_elasticity); returnees rejoin the skilled labour force.", per_year="fraction", source="Dustmann & Weiss 2007; default fitted by the calibration calibrate_see (docs/calibration.md) when the rate was uniform over regions"),
    _p("migration.return_reference_gap", 1.0, 0.0, 3.0, "ln(ratio)", "ln(foreign wage / regional skilled wage) at which the return rate is migration.return_rate: a normalisation (collinear with the rate), about the mean skilled wage gap of the SEE baseline regions at policy year 0 (1.1), where migration.return_rate was fitted.", uncertain=False, source="normalisation; wage gaps of scenarios/baseline.toml"),
    _p("migration.employed_factor", 0.25, 0.0, 1.0, "-", "Emigration hazard of an employed skilled worker relative to an unemployed one."),
    _p("migration.return_wage_elasticity", 1.0, 0.0, 3.0, "-", "Elasticity of the return probability of skilled citizens abroad to the net-of-tax domestic skilled wage relative to the foreign wage: return migration falls with the wage gap to abroad, and a returnee tax relief acts through the same net wage.", source="Bassetto & Ippedico 2023 (Controesodo: +27 % return probability for a net income gain of roughly a quarter); Kleven, Landais, Saez & Schultz 2014 (1.5-2 for foreigners); Borjas & Bratsberg 1996, Dustmann & Weiss 2007, Dustmann & Görlach 2016 (return falls with the wage gap)"),
    _p("migration.first_job_years", 3.0, 0.5, 10.0, "yr", "Years after graduation a graduate counts as a recent graduate (first-job seeker; Eurostat: employment rate of graduates within 3 years of graduation).", uncertain=False, source="seed 3.6.4; Eurostat edat_lfse_24"),
)

# --- training and capabilities (seed 3.6.1-3.6.3, 3.6.5) -------------------------------------------
REGISTRY.add(
    _p("training.places", 4.0, 0.0, 100.0, "places/yr per 100 firms", "Baseline publicly funded managerial training places per year.", per_year="amount", source="seed 3.6.1"),
    _p("training.dyncap_gain", 0.25, 0.0, 1.0, "-", "Share of the gap to full dynamic capability closed by one training.", source="seed 3.6.1; Teece et al. 1997"),
    _p("training.codification_gain", 0.1, 0.0, 1.0, "-", "Share of the gap to full codification capability closed by managerial training.", source="seed 3.6.2"),
    _p("training.spillover", 0.3, 0.0, 1.0, "-", "Share of a trained firm's capability gain passed to each partner.", source="seed 3.6.1"),
    _p("training.cost", 8.0, 0.0, 100.0, "k€", "Public cost of one training place.", uncertain=False),
    _p("training.capability_decay", 0.03, 0.0, 0.3, "1/yr", "Erosion of dynamic and codification capabilities without renewal.", per_year="fraction"),
    _p("glocal.min_employees", 50, 1, 1000, "employees", "Smallest firm that becomes glocal unaided.", integer=True, source="seed 3.3.3"),
    _p("policy.glocal_min_employees", 10, 1, 1000, "employees", "Smallest firm the glocal-support lever helps.", integer=True, uncertain=False, source="seed 3.3.3: small firms in a global niche"),
    _p("glocal.emergence_rate", 0.05, 0.0, 1.0, "1/yr", "Hazard that an exporting firm of 50+ employees with transnational ties becomes glocal.", per_year="hazard", source="seed 3.3.3"),
)


def convert(param: Param, value: float, steps_per_year: int) -> float:
    """Convert one per-year value to its per-step equivalent (see the module docstring)."""
    s = steps_per_year
    if param.per_year == "hazard" or param.per_year == "amount":
        return value / s
    if param.per_year == "fraction":
        return 1.0 - (1.0 - min(value, 1.0)) ** (1.0 / s)
    if param.per_year == "volatility":
        return value / math.sqrt(s)
    return value


def validate(values: dict[str, Any], source: str | None = None) -> dict[str, Any]:
    """Check names and ranges of parameter overrides; return them coerced."""
    out = {}
    for name, value in values.items():
        if name not in REGISTRY:
            raise InputError(f"unknown parameter; {closest(name, REGISTRY.params)}", source=source, key=f"params.{name}")
        out[name] = REGISTRY[name].check(value, source=source)
    return out


def per_step(values: dict[str, Any]) -> SimpleNamespace:
    """Full per-step parameter set: defaults, overridden by ``values``, rates converted.

    Returns a namespace per group, so rules read ``p.innovation.base_rate``. The per-year values
    stay available as ``p.yearly``.
    """
    merged = REGISTRY.defaults() | values
    spy = int(merged["sim.steps_per_year"])
    groups: dict[str, dict[str, Any]] = {}
    for param in REGISTRY:
        v = merged[param.name]
        groups.setdefault(param.group, {})[param.key] = convert(param, v, spy) if not param.is_bool else v
    ns = SimpleNamespace(**{g: SimpleNamespace(**kv) for g, kv in groups.items()})
    ns.yearly = SimpleNamespace(**{g: SimpleNamespace(**{k: merged[f"{g}.{k}"] for k in kv}) for g, kv in groups.items()})
    ns.steps_per_year = spy
    return ns

# --- policy levers: effect sizes and unit costs (seed 3.7; see cluster_abm/policy/levers.py) -----------
# A lever's intensity (0-2, 1 = the programme as the seed describes it) scales these effects and
# its spending; every lever's spending per targeted region and year is capped by
# policy.lever_budget * intensity, so a policy cannot spend money it was not given.
REGISTRY.add(
    _p("policy.lever_budget", 1000.0, 0.0, 1e8, "k€/yr", "Yearly budget of one lever in one targeted region at intensity 1, in real euros (the median regional cluster-support budget in cluster_abm/data/public_budgets.csv is about 0.9 M€/yr).", per_year="amount", uncertain=False, source="seed 2.4; cluster_abm/data/public_budgets.csv"),
    _p("policy.budget_carry_years", 2, 0, 5, "yr", "Years a lever's unspent yearly budget stays available after its year (oldest money spent first, then lost): the n+2 rule of EU cohesion funds. A programme's money follows its own commitments.", uncertain=False, integer=True, source="Regulation (EU) 2021/1060, Art. 105 (n+2); Regulation (EU) 1303/2013, Art. 136 (n+3)"),
    _p("policy.awareness_cost", 30.0, 0.0, 1000.0, "k€/yr", "Awareness programme for regional policy makers (per region).", per_year="amount", uncertain=False),
    _p("policy.cmo_programme_cost", 40.0, 0.0, 1000.0, "k€/yr", "Extra public funding of one CMO for a programme (brokering, green awareness, entrepreneurial orientation, activity financing, training brokering).", per_year="amount", uncertain=False),
    _p("policy.brokering_boost", 1.5, 0.0, 10.0, "-", "Relative rise of a CMO's brokering of firm-KI projects under the enabler lever.", source="seed 3.1.1 b"),
    _p("policy.kibs_accreditation_cost", 25.0, 0.0, 1000.0, "k€/yr", "Accreditation and cross-cluster project support of one KIBS.", per_year="amount", uncertain=False),
    _p("policy.kibs_reach_rate", 0.05, 0.0, 1.0, "1/yr", "Hazard that an eligible firm outside an accredited KIBS's cluster starts a project with it.", per_year="hazard", source="seed 3.1.2"),
    _p("policy.qh_rate", 0.1, 0.0, 2.0, "1/yr", "Hazard that a targeted firm joins a demand-side (quadruple-helix) cross-cluster project.", per_year="hazard", source="seed 3.1.3"),
    _p("policy.qh_market_gain", 0.5, 0.0, 3.0, "-", "Relative rise of the quality gain of product innovations by demand-side project partners.", source="seed 3.1.3"),
    _p("policy.qh_cost", 10.0, 0.0, 500.0, "k€", "Public cost of one firm's participation in a demand-side project.", uncertain=False),
    _p("policy.incubator_min_cluster_enterprises", 40_000, 0, 1_000_000, "enterprises (real region)", "Smallest cluster, in real enterprises (its model firms' weights summed), that gets a networked incubator ('clusters of a certain dimension'); 40,000 lets the same three or so of the baseline's 13 clusters qualify as 60 model firms did before real-region units.", integer=True, source="seed 3.1.4"),
    _p("policy.incubator_years", 3.0, 0.25, 10.0, "yr", "Years a venture stays in the incubator.", source="Hansen et al. 2000"),
    _p("policy.incubator_cost_cut", 0.6, 0.0, 1.0, "-", "Share of fixed costs an incubated venture saves (shared services).", source="seed 3.1.4; Hansen et al. 2000"),
    _p("policy.incubator_ties", 2, 0, 10, "ties", "Partners an incubated venture is connected to (organised networking).", integer=True, source="Hansen et al. 2000"),
    _p("policy.incubator_cost", 15.0, 0.0, 500.0, "k€/yr", "Public cost of incubating one venture for a year.", per_year="amount", uncertain=False),
    _p("policy.env_participation", 0.3, 0.0, 1.0, "-", "Share of a cluster's firms joining its collective environmental project each year.", source="seed 3.2.2"),
    _p("policy.env_pooling", 0.2, 0.0, 1.0, "-", "Share of the gap to the best green knowledge among its cluster's participants that a firm closes in a year of a collective environmental project, at absorptive capacity 1 (pooled knowledge, as learning.contract_pooling in network contracts).", source="seed 3.2.2; Da Ronch & Di Maria 2013; Cohen & Levinthal 1990"),
    _p("policy.env_cost_sharing", 1.0, 0.0, 5.0, "-", "Relative rise of a participant's eco-innovation hazard while a collective environmental project runs: tackling a shared problem together shares the cost of implementing cleaner processes.", source="seed 3.2.2; Da Ronch & Di Maria 2013"),
    _p("policy.env_cost", 6.0, 0.0, 500.0, "k€", "Public cost of one firm's participation in a collective environmental project.", uncertain=False),
    _p("policy.green_project_rate", 1.0, 0.0, 10.0, "1/yr", "Hazard that a supported firm with green knowledge but no complementary partner starts a funded project with a knowledge institution that has green knowledge (where one has free capacity).", per_year="hazard", source="seed 3.2.3; De Marchi 2012"),
    _p("policy.green_project_cost", 20.0, 0.0, 2000.0, "k€/yr", "Public cost of one funded green-cooperation project per year it runs (paid when it starts, for ki.project_years).", per_year="amount", uncertain=False),
    _p("policy.green_best_practice", 0.2, 0.0, 1.0, "1/yr", "Share of the gap to the cluster's best green practice closed in a year by CMO best-practice transfer.", per_year="fraction", source="seed 3.2.4"),
    _p("policy.coop_cost_cut", 0.5, 0.0, 1.0, "-", "Share of the interaction cost of ties beyond the cluster removed by cooperation grants.", source="seed 3.3.1"),
    _p("policy.coop_search_boost", 0.5, 0.0, 5.0, "-", "Relative rise of the partner-search hazard under cooperation support."),
    _p("policy.coop_tie_cost", 3.0, 0.0, 200.0, "k€", "Public cost of one supported new tie.", uncertain=False),
    _p("policy.matching_share", 0.3, 0.0, 1.0, "-", "Share of a searching firm's candidates brought by complementarity-based cross-cluster matching.", source="seed 3.3.2"),
    _p("policy.matching_cost", 2.0, 0.0, 200.0, "k€", "Public cost of one proposed cross-cluster match.", uncertain=False),
    _p("policy.glocal_boost", 3.0, 0.0, 20.0, "-", "Relative rise of the glocal-emergence hazard of supported firms (which also need only 10+ employees).", source="seed 3.3.3"),
    _p("policy.glocal_cost", 20.0, 0.0, 1000.0, "k€/yr", "Public cost of supporting one firm's internationalisation for a year.", per_year="amount", uncertain=False),
    _p("policy.platform_scope", 0.1, 0.0, 1.0, "-", "Extra share of candidates found abroad through the SEE cluster platform.", source="seed 3.3.4"),
    _p("policy.platform_cost", 50.0, 0.0, 5000.0, "k€/yr", "Running cost of the platform per participating region.", per_year="amount", uncertain=False),
    _p("policy.kpi_cost", 20.0, 0.0, 1000.0, "k€/yr", "Monitoring system cost per region.", per_year="amount", uncertain=False),
    _p("policy.admin_cut", 0.6, 0.0, 1.0, "-", "Share of the administrative cost of applying removed by simplified regulation.", source="seed 3.4.1"),
    _p("policy.activity_funding", 60.0, 0.0, 2000.0, "k€/yr", "Public funding of a CMO's public tasks (services) under activity-based financing.", per_year="amount", source="seed 3.4.1"),
    _p("policy.science_industry_boost", 1.0, 0.0, 10.0, "-", "Relative rise of the firm-KI project hazard when an instrument co-finances the project.", source="seed 3.4.1"),
    _p("policy.science_industry_share", 0.7, 0.0, 1.0, "-", "Share of a firm's project cost the instrument pays.", source="seed 3.4.1"),
    _p("policy.venture_budget", 2000.0, 0.0, 1e7, "k€/yr", "Regional new-venture fund budget per targeted region, in real euros (public venture capital per region: 1.4-5.8 M€/yr, cluster_abm/data/public_budgets.csv).", per_year="amount", source="seed 3.4.2; cluster_abm/data/public_budgets.csv"),
    _p("policy.contract_support", 1.0, 0.0, 10.0, "-", "Relative rise of the contract-formation hazard with public support.", source="seed 3.3.1"),
    _p("policy.contract_cost", 10.0, 0.0, 500.0, "k€", "Public support for founding one network contract.", uncertain=False),
    _p("policy.contract_credit_boost", 0.5, 0.0, 5.0, "-", "Extra relative credit line of contract members under dedicated credit lines.", source="seed 3.4.3"),
    _p("policy.guarantee_fee", 0.02, 0.0, 0.2, "1/yr", "Public cost of guaranteeing the extra credit line, per k€ of line and year.", per_year="amount", uncertain=False),
    _p("policy.misalignment_loss", 0.25, 0.0, 0.9, "-", "Share of the R&D that regional grants fund lost to misaligned cluster, regional and EU priorities.", source="seed 3.5.1"),
    _p("policy.alignment_cost", 30.0, 0.0, 1000.0, "k€/yr", "Coordination cost of multi-level alignment per region.", per_year="amount", uncertain=False),
    _p("policy.regional_clustering_scope", 0.3, 0.0, 1.0, "-", "Extra share of candidates drawn from other clusters of the region by thematic initiatives.", source="seed 3.5.2"),
    _p("policy.regional_clustering_cost", 40.0, 0.0, 1000.0, "k€/yr", "Cost of a region's thematic cross-cluster initiatives.", per_year="amount", uncertain=False),
    _p("policy.merger_saving", 0.3, 0.0, 0.9, "-", "Share of service costs saved by a merged CMO (scale).", source="seed 3.5.2"),
    _p("policy.merger_cost", 50.0, 0.0, 2000.0, "k€", "One-off cost of merging a region's CMOs.", uncertain=False),
    _p("policy.meta_scope", 0.2, 0.0, 1.0, "-", "Extra share of candidates drawn from the other clusters of a meta-cluster.", source="seed 3.5.3"),
    _p("policy.meta_min_regions", 3, 2, 10, "regions", "Regions a meta-cluster needs (Alps4Eu: three clusters in three regions).", integer=True, uncertain=False, source="seed 3.5.3"),
    _p("policy.meta_cost_cut", 0.5, 0.0, 1.0, "-", "Share of the interaction cost of distance removed for pairs of firms in clusters of one meta-cluster (its joint initiative: events, projects, a common strategy).", source="seed 3.5.3; Alps4Eu"),
    _p("policy.meta_cost", 60.0, 0.0, 2000.0, "k€/yr", "Running cost of a meta-cluster per member cluster.", per_year="amount", uncertain=False),
    _p("policy.bridge_rate", 0.05, 0.0, 1.0, "1/yr", "Hazard that a targeted manufacturing firm starts a project with a research centre of another region.", per_year="hazard", source="seed 3.5.3"),
    _p("policy.bridge_cost", 10.0, 0.0, 500.0, "k€/yr", "Public cost of a bridge project per year.", per_year="amount", uncertain=False),
    _p("policy.training_places", 10.0, 0.0, 100.0, "places/yr per 100 firms", "Extra training places a training lever funds.", per_year="amount", source="seed 3.6.1"),
    _p("policy.codification_gain", 0.3, 0.0, 1.0, "-", "Share of the gap to full codification capability closed by a knowledge-management system.", source="seed 3.6.2"),
    _p("policy.codification_cost", 12.0, 0.0, 500.0, "k€", "Public cost of one knowledge-management system.", uncertain=False),
    _p("policy.green_skills_transfer", 0.1, 0.0, 1.0, "-", "Share of the gap between a firm's green knowledge and the experts' (the external pool's green field) that one green-skills transfer closes, at absorptive capacity 1.", source="seed 3.6.3; Cohen & Levinthal 1990"),
    _p("policy.green_skills_cost", 6.0, 0.0, 500.0, "k€", "Public cost of one green-skills transfer.", uncertain=False),
    _p("policy.hiring_subsidy", 0.2, 0.0, 1.0, "-", "Share of the skilled wage the state pays for each skilled job a reached firm holds above its base (a marginal employment subsidy); the French 2009 hiring credit cut labour costs by 4-12 %, Sweden's youth payroll-tax cut by 16 points.", source="seed 3.6.4; Layard & Nickell 1980; Cahuc, Carcillo & Le Barbanchon 2019"),
    _p("policy.trainee_rate", 0.3, 0.0, 1.0, "-", "Share of a region's graduates the programme offers as trainees or co-financed PhDs to host firms with open skilled posts (placed as far as posts and graduates without a job allow).", source="seed 3.6.4"),
    _p("policy.trainee_cost", 5.0, 0.0, 100.0, "k€", "Public cost of one placement.", uncertain=False),
    _p("policy.returnee_tax_relief", 0.25, 0.0, 1.0, "-", "Relative rise of a returning skilled citizen's net domestic wage under the returnee tax relief (Controesodo exempted 70-80 % of income from income tax, roughly +25-30 % net income).", source="seed 3.6.4; Law 238/2010; Bassetto & Ippedico 2023"),
    _p("policy.returnee_relief_years", 5.0, 1.0, 10.0, "yr", "Years a returnee's tax relief lasts (its forgone tax, relief x skilled wage x years, is booked at return).", uncertain=False, source="Law 238/2010 and Decree 147/2015 (impatriate regime: 5 years)"),
    _p("policy.first_job_boost", 0.5, 0.0, 3.0, "-", "Relative rise of the first-job finding rate of recent graduates under first-job support (a subsidy for hiring a recent graduate: employers prefer subsidised applicants; total hiring unchanged).", source="seed 3.6.4; Saez, Schoefer & Seim 2019; Cahuc, Carcillo & Le Barbanchon 2019"),
    _p("policy.first_job_subsidy", 0.2, 0.0, 1.0, "skilled wages", "Public cost of one supported first job, in yearly skilled wages of its region (a year of reduced labour cost).", uncertain=False, source="Cahuc et al. 2019 (12 % labour-cost cut); Italian youth hiring bonuses (up to 8,060 €/yr)"),
    _p("policy.tacit_recovery", 0.5, 0.0, 1.0, "-", "Share of the tacit knowledge of a closing firm recovered and passed to its cluster's firms.", source="seed 3.6.4"),
    _p("policy.tacit_cost", 0.5, 0.0, 50.0, "k€ per ku", "Public cost per unit of recovered knowledge.", uncertain=False),
    _p("policy.training_uptake", 0.6, 0.0, 1.0, "-", "Share of offered training places firms take up without CMO brokering.", source="seed 3.6.5"),
    _p("policy.manager_training_gain", 0.15, 0.0, 1.0, "1/yr", "Yearly share of the gap to full competence closed by training periods in accredited CMOs.", per_year="fraction", source="seed 3.6.5"),
)

REGISTRY.add(
    _p("demography.innovative_novelty", 0.4, 0.0, 1.0, "-", "Share of an innovative spin-off's knowledge moved to a field new to its parent (combinatorial novelty, seed 3.1.4)."),
)
