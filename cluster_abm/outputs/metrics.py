"""Outcomes: per-step series by region and in total, and named scalar KPIs (pure functions).

One family per working-group area (DESIGN 2.5) so every WG's policies can be judged:
WG1 innovation, WG2 sustainability, WG3 cooperation, WG4 financing, WG5 specialisation, WG6 skills
and jobs, plus business demography. :data:`SERIES` documents every series (unit, meaning); the
per-step values come from :func:`step_metrics`, which only reads model state and the step ledger.
:data:`KPIS` are post-processing functions of the series and the firm log.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cluster_abm.space import DISTANCE_CLASSES
from cluster_abm.state.firm_table import SME_MAX_EMPLOYEES, open_posts, wage_bill


@dataclass(frozen=True)
class Series:
    name: str
    unit: str
    doc: str
    family: str
    kind: str  # "flow" (per step), "stock" (level at the end of the step) or "ratio"

    @property
    def label(self) -> str:
        """A short human name for reports and charts (:data:`SERIES_LABELS`)."""
        return SERIES_LABELS.get(self.name) or _words(self.name)


S = Series
SERIES_LIST = [
    # WG1 innovation
    S("innovations", "count/step", "Product plus process innovations introduced in the step.", "WG1", "flow"),
    S("innovations_product", "count/step", "Product innovations (raise quality).", "WG1", "flow"),
    S("innovations_process", "count/step", "Process innovations (raise labour productivity).", "WG1", "flow"),
    S("innovative_firm_share", "share", "Share of firms that innovated in the last innovation.recent_years years (CIS definition).", "WG1", "ratio"),
    S("knowledge_stock", "ku/firm", "Mean knowledge stock per firm.", "WG1", "ratio"),
    S("absorptive_capacity", "0-1", "Mean absorptive capacity of firms.", "WG1", "ratio"),
    S("ki_projects_started", "count/step", "Firm-knowledge-institution projects started.", "WG1", "flow"),
    S("ki_projects_active", "count", "Firm-knowledge-institution projects running.", "WG1", "stock"),
    S("ki_projects_cross_cluster", "count/step", "Projects started with a KI of another region or a KIBS of another cluster.", "WG1", "flow"),
    S("ki_projects_research", "count/step", "Projects started with research centres.", "WG1", "flow"),
    S("births_innovative", "count/step", "Innovative spin-offs born.", "WG1", "flow"),
    S("incubated", "count/step", "New ventures entering a networked incubator.", "WG1", "flow"),
    # WG2 sustainability
    S("eco_innovations", "count/step", "Eco-innovations introduced.", "WG2", "flow"),
    S("emissions", "kt CO2e/yr", "Emissions of all firms (annual rate).", "WG2", "stock"),
    S("emission_intensity", "t CO2e per k€", "Emissions per unit of revenue (environmental pressure).", "WG2", "ratio"),
    S("green_knowledge", "ku/firm", "Mean knowledge in the green field per firm.", "WG2", "ratio"),
    S("env_project_participants", "count/step", "Firms joining collective environmental projects.", "WG2", "flow"),
    # WG3 cooperation
    *[S(f"ties_{c}", "ties", f"Cooperation ties of class {c} (a tie counts half in each endpoint's region).", "WG3", "stock") for c in DISTANCE_CLASSES],
    S("ties_total", "ties", "All cooperation ties.", "WG3", "stock"),
    S("ties_cross_cluster", "ties", "Ties beyond the own cluster (inter-cluster, inter-regional, transnational).", "WG3", "stock"),
    S("ties_cross_sector", "ties", "Ties between firms of different sectors.", "WG3", "stock"),
    S("meta_cluster_ties", "ties", "Ties between firms of clusters of one meta-cluster in different regions.", "WG3", "stock"),
    S("ties_sector_interregional", "ties", "Ties between firms of clusters of the same sector in different regions (what meta-clusters build, seed 3.5.3; defined with or without them).", "WG3", "stock"),
    S("new_ties", "count/step", "Ties formed.", "WG3", "flow"),
    S("network_contracts", "real contracts", "Business network contracts in force, in real contracts, by the founder's region.", "WG3", "stock"),
    S("firms_in_contracts", "firms", "Firms in business network contracts (model firms: the members' share of each model firm's real firms, summed).", "WG3", "stock"),
    S("glocal_firms", "firms", "Glocal firms (gatekeepers with global links).", "WG3", "stock"),
    S("exporters", "firms", "Exporting firms.", "WG3", "stock"),
    S("export_share", "share", "Export revenue over revenue.", "WG3", "ratio"),
    S("qh_projects", "count/step", "Firms joining demand-side (quadruple-helix) projects.", "WG3", "flow"),
    # WG4 financing
    S("public_committed", "k€/step (real region)", "Regional cluster budgets committed (at the start of each year).", "WG4", "flow"),
    S("public_spent_grants", "k€/step (real region)", "R&D grants paid.", "WG4", "flow"),
    S("public_spent_cmo", "k€/step (real region)", "Regional and EU/national money to CMOs (at the start of each year).", "WG4", "flow"),
    S("public_spent_training", "k€/step (real region)", "Baseline public training places.", "WG4", "flow"),
    S("public_cost", "k€/step (real region)", "Spending of the policy levers switched on.", "WG4", "flow"),
    S("public_spent_total", "k€/step (real region)", "All public money: grants, CMOs, training and levers.", "WG4", "flow"),
    S("admin_cost", "k€/step", "Administrative cost borne by applicants.", "WG4", "flow"),
    S("grant_applications", "count/step", "Grant applications.", "WG4", "flow"),
    S("grants", "count/step", "R&D grants awarded.", "WG4", "flow"),
    S("grant_merit", "1/yr", "Mean innovation hazard of grantees when selected (what KPI monitoring screens for).", "WG4", "ratio"),
    S("grant_rd_effective", "k€/step (real region)", "Grant money that funds aligned R&D (after misalignment losses).", "WG4", "flow"),
    S("ventures_financed", "count/step", "New ventures receiving venture finance.", "WG4", "flow"),
    S("venture_investment", "k€/step (real region)", "Venture finance invested.", "WG4", "flow"),
    S("credit_outstanding", "k€", "Bank credit used (overdrafts).", "WG4", "stock"),
    S("contract_credit_line", "k€/firm", "Mean bank credit line of network-contract members.", "WG4", "ratio"),
    # WG5 specialisation
    S("cmo_count", "count", "Cluster management organisations.", "WG5", "stock"),
    S("cmo_competence", "0-1", "Mean staff competence of CMOs.", "WG5", "ratio"),
    S("cmo_excellence", "0-1", "Mean excellence score of CMOs.", "WG5", "ratio"),
    S("cmo_service_intensity", "0-1", "Mean service intensity CMOs offer members.", "WG5", "ratio"),
    S("cmo_reach", "0-1", "Share of cluster firms a CMO serves: members count 1, non-members the share its publicly funded public tasks reach (seed 3.4.1).", "WG5", "ratio"),
    S("cmo_budget", "k€/step", "CMO budgets (at the start of each year).", "WG5", "flow"),
    S("sector_concentration", "HHI 0-1", "Herfindahl index of employment across sectors in the region.", "WG5", "ratio"),
    S("meta_clusters", "count", "Meta-clusters (clusters of one sector in enough regions) formed.", "WG5", "stock"),
    # WG6 skills and jobs
    S("employment", "persons", "Employees of all firms.", "WG6", "stock"),
    S("employment_skilled", "persons", "Skilled employees.", "WG6", "stock"),
    S("employment_unskilled", "persons", "Unskilled employees.", "WG6", "stock"),
    S("labour_force", "persons", "Labour force (employed + unemployed).", "WG6", "stock"),
    S("unemployment_rate", "share", "Unemployed over labour force.", "WG6", "ratio"),
    S("activity_rate", "share", "Labour force over the working-age population (labour force + inactive; labour.participation).", "WG6", "ratio"),
    S("open_posts", "persons", "Open posts: staff firms want beyond the staff they have (desired minus actual, each skill, at least 0) after the step's hiring.", "WG6", "stock"),
    S("job_vacancy_rate", "share", "Open posts over occupied plus open posts (Eurostat's job vacancy rate).", "WG6", "ratio"),
    S("wage_bill", "k€/yr", "Wage bill of firms: every person, owner-managers included, at the region's wage of their skill (summed over model firms, not the real region's enterprises; euros of the data year, mechanisms.technology).", "WG6", "stock"),
    S("value_added", "k€/yr", "Revenue of firms, which is their value added: the model has no bought-in inputs (summed over model firms, not the real region's enterprises).", "WG6", "stock"),
    S("labour_share", "share", "Wage bill over value added: the labour share, without trend in the data (Kaldor 1961; Gollin 2002).", "WG6", "ratio"),
    S("skilled_unemployment_rate", "share", "Unemployed skilled over skilled labour force.", "WG6", "ratio"),
    S("skilled_emigrants", "persons/step", "Skilled workers emigrating (brain drain flow).", "WG6", "flow"),
    S("skilled_emigrants_cum", "persons", "Skilled emigrants since the start (brain drain stock).", "WG6", "stock"),
    S("skilled_returnees", "persons/step", "Skilled citizens returning from abroad.", "WG6", "flow"),
    S("diaspora_share", "share", "Skilled citizens abroad over all skilled citizens (abroad + labour force).", "WG6", "ratio"),
    S("graduates", "persons/step", "Graduates entering the skilled labour force.", "WG6", "flow"),
    S("graduate_unemployment_rate", "share", "Recent graduates (within migration.first_job_years of graduation) without a first job, over recent graduates in the labour force.", "WG6", "ratio"),
    S("first_jobs_graduates", "persons/step", "Recent graduates finding a first job.", "WG6", "flow"),
    S("skilled_emigrants_graduates", "persons/step", "Recent graduates without a first job emigrating (part of skilled_emigrants).", "WG6", "flow"),
    S("hires", "persons/step", "Hires by firms (from the unemployed and, job to job, from other firms).", "WG6", "flow"),
    S("separations", "persons/step", "Layoffs by firms.", "WG6", "flow"),
    S("tacit_knowledge_lost", "ku/step", "Tacit knowledge lost with closing firms (brain retirement).", "WG6", "flow"),
    S("trainings", "count/step", "Managerial training places filled.", "WG6", "flow"),
    S("trainees_placed", "persons/step", "Graduates placed in firms as trainees or PhDs.", "WG6", "flow"),
    S("dynamic_capability", "0-1", "Mean dynamic capability of firms.", "WG6", "ratio"),
    S("codification", "0-1", "Mean codification capability of firms.", "WG6", "ratio"),
    # Demography
    S("firms", "firms", "Living firms.", "demography", "stock"),
    S("births", "count/step", "Firm births.", "demography", "flow"),
    S("deaths", "count/step", "Firm deaths.", "demography", "flow"),
    S("ventures_abandoned", "count/step", "Nascent ventures whose founders give up before registering them: the business plan does not pay the owner (demography.plan_venture).", "demography", "flow"),
    S("deaths_young", "count/step", "Deaths of firms younger than one year.", "demography", "flow"),
    S("deaths_insolvent", "count/step", "Deaths of insolvent firms (an overdraft beyond the credit line); the other deaths are owners who learn the firm does not pay or liquidate it before the bank calls the loan, non-economic closures and firms left without staff.", "demography", "flow"),
    S("new_ventures", "firms", "Firms younger than three years.", "demography", "stock"),
    S("new_venture_partners", "ties/firm", "Mean cooperation partners of firms younger than three years.", "demography", "ratio"),
    S("mean_firm_size", "persons", "Mean employees per firm.", "demography", "ratio"),
    S("median_firm_size", "persons", "Median employees per firm.", "demography", "ratio"),
    S("sme_employment_share", "share", "Share of employment in firms with fewer than 250 employees.", "demography", "ratio"),
    S("large_firms", "firms", "Firms with 250 or more employees.", "demography", "stock"),
]
# Real-region units: each model firm is a super-individual (Scheffer et al. 1995) standing for
# real enterprises of its region, a smooth function of its size fitted at policy year 0
# (cluster_abm.state.size_weights), so counts of firms and persons scale by those weights.
REAL_SERIES = ("firms", "employment", "employment_skilled", "labour_force", "births", "deaths",
               "innovations", "skilled_emigrants", "skilled_emigrants_cum", "firms_in_contracts")
# Public money is booked in real euros where it is spent (cluster_abm.policy.lever_state): the
# public_* series need no conversion.
_SERIES_BY_NAME = {s.name: s for s in SERIES_LIST}
SERIES_LIST += [S(f"{name}_real", f"{_SERIES_BY_NAME[name].unit} (real region)",
                  f"{_SERIES_BY_NAME[name].doc} In real-region units: model firms weighted by the "
                  "real enterprises of their region and size they stand for; persons also by the "
                  "region's factor that makes employment at policy year 0 its published persons "
                  "employed (labour stocks by real persons per model person employed; NaN where a "
                  "region gives no enterprises).",
                  _SERIES_BY_NAME[name].family, _SERIES_BY_NAME[name].kind) for name in REAL_SERIES]
del S
SERIES: dict[str, Series] = {s.name: s for s in SERIES_LIST}


# Series read straight from the step ledger (the first two are the innovations' parts).
LEDGER_FLOWS = (
    "innovations_product", "innovations_process",
    "ki_projects_started", "ki_projects_cross_cluster", "ki_projects_research", "births_innovative",
    "incubated", "eco_innovations", "env_project_participants", "new_ties", "qh_projects",
    "public_committed", "public_spent_grants", "public_spent_cmo", "public_spent_training",
    "public_cost", "admin_cost", "grant_applications", "grants", "grant_rd_effective",
    "ventures_financed", "venture_investment", "cmo_budget", "skilled_emigrants",
    "skilled_returnees", "graduates", "hires", "separations", "tacit_knowledge_lost", "trainings",
    "trainees_placed", "births", "deaths", "deaths_young", "deaths_insolvent", "first_jobs_graduates",
    "skilled_emigrants_graduates", "ventures_abandoned",
)


def _by_region(region: np.ndarray, R: int, values=None) -> np.ndarray:
    out = np.empty(R + 1)
    out[:R] = np.bincount(region, weights=values, minlength=R)
    out[R] = out[:R].sum()
    return out


def _region_sums(region: np.ndarray, R: int, columns: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """:func:`_by_region` of many per-firm columns with one ``bincount``.

    Why: at 2,000 firms a step's cost is mostly per-call overhead of some twenty small
    bincounts. Each bin still adds its firms' values in the same order, so the sums are
    identical to the bit.
    """
    names = list(columns)
    k = len(names)
    keys = (region[None, :] + R * np.arange(k)[:, None]).ravel()
    weights = np.empty((k, len(region)))
    for i, n in enumerate(names):
        weights[i] = columns[n]  # bool and int columns become exact floats
    weights = weights.ravel()
    by = np.bincount(keys, weights=weights, minlength=k * R).reshape(k, R)
    out = np.empty((k, R + 1))
    out[:, :R] = by
    out[:, R] = by.sum(axis=1)
    return dict(zip(names, out, strict=True))


def _median_by_region(reg: np.ndarray, values: np.ndarray, R: int) -> np.ndarray:
    """Median per region and overall from one sort (lower-middle for even counts, like a rank)."""
    out = np.full(R + 1, np.nan)
    if len(values) == 0:
        return out
    if values.min() >= 0 and values.max() < _COUNTING_MAX and np.all(values == np.floor(values)):
        return _median_of_counts(reg, values.astype(np.int64), R, out)
    return medians_by_region(reg, values[None, :], R)[0]


def medians_by_region(reg: np.ndarray, cols: np.ndarray, R: int) -> np.ndarray:
    """Medians of each row of ``cols`` (columns: firms of regions ``reg``) per region, NaN for a
    region without firms, and over all firms in the last column: (rows, R + 1), numpy's figures.

    Firms are grouped by region once; each region's block is then sorted on its own."""
    out = np.full((len(cols), R + 1), np.nan)
    if cols.shape[1] == 0:
        return out
    order = np.argsort(reg, kind="stable")
    cols = cols[:, order]
    count = np.bincount(reg, minlength=R)
    start = np.concatenate([[0], np.cumsum(count)])
    for r in [*np.flatnonzero(count), R]:  # R: every firm
        block = np.sort(cols[:, start[r]:start[r + 1]] if r < R else cols, axis=1)
        k = block.shape[1]
        out[:, r] = 0.5 * (block[:, (k - 1) // 2] + block[:, k // 2])  # np.median's figures
    return out


_COUNTING_MAX = 100_000  # whole numbers below this: medians by counting, not sorting


def _median_of_counts(reg: np.ndarray, values: np.ndarray, R: int, out: np.ndarray) -> np.ndarray:
    """:func:`_median_by_region` of small whole numbers (firm sizes) by a counting sort: one
    bincount instead of a lexsort, the same figures."""
    V = int(values.max()) + 1
    counts = np.bincount(reg * V + values, minlength=R * V).reshape(R, V)
    counts = np.vstack([counts, counts.sum(axis=0)])  # the last row: all regions
    cum = counts.cumsum(axis=1)
    n = cum[:, -1]
    for r in np.flatnonzero(n):
        lo, hi = np.searchsorted(cum[r], [(n[r] - 1) // 2, n[r] // 2], side="right")
        out[r] = 0.5 * (lo + hi)
    return out


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    return np.divide(num, den, out=np.full_like(num, np.nan, dtype=float), where=den > 0)


# Tie class codes: distance class in the high bits, three flags in the low ones: cross-sector (1),
# meta-cluster (2), same sector in two regions (4); each tie series counts the codes in its set.
_FLAG_BITS = 3
_TIE_CODES = len(DISTANCE_CLASSES) << _FLAG_BITS
_codes = np.arange(_TIE_CODES)
_TIE_SERIES_NAMES = (*(f"ties_{c}" for c in DISTANCE_CLASSES), "ties_total", "ties_cross_sector",
                     "meta_cluster_ties", "ties_sector_interregional")
_TIE_SERIES = np.array([*((_codes >> _FLAG_BITS) == k for k in range(len(DISTANCE_CLASSES))),
                        np.ones(_TIE_CODES, dtype=bool), (_codes & 1) > 0, (_codes & 2) > 0,
                        (_codes & 4) > 0], dtype=np.int64)
del _codes


def tie_class(m, a: np.ndarray, b: np.ndarray, kind: np.ndarray):
    """For new ties between firm slots ``a`` and ``b`` of distance class ``kind``: the regions
    of both ends and the tie's class code (see ``_TIE_SERIES``). Computed once per tie, since
    firms never change region, cluster or sector."""
    ft = m.firms
    ra, rb = ft.region[a], ft.region[b]
    ca, cb = ft.cluster[a], ft.cluster[b]
    meta_a, meta_b = m.meta_of_cluster_or_none[ca], m.meta_of_cluster_or_none[cb]
    same_sector = ft.sector[a] == ft.sector[b]
    apart = ra != rb
    meta = (meta_a >= 0) & (meta_a == meta_b) & apart
    sector_interregional = (ca >= 0) & (cb >= 0) & same_sector & apart
    flags = ~same_sector + 2 * meta + 4 * sector_interregional
    code = (np.asarray(kind, dtype=np.int64) << _FLAG_BITS) + flags
    return ra, rb, code.astype(np.uint8)


def emissions(m, idx: np.ndarray) -> np.ndarray:
    """Emissions (t CO2e/yr) of firms ``idx``: revenue x the sector's emission intensity x the
    firm's relative intensity (``emission``, cut by eco-innovation; seed 3.2.2-3.2.4)."""
    ft = m.firms
    return ft.revenue[idx] * m.sector_emission[ft.sector[idx]] * ft.emission[idx]


def step_metrics(m) -> dict[str, np.ndarray]:
    """Every series for the current step: arrays of length R + 1 (regions, then the total).
    Reads the model's state, the step ledger and the last step's state (``m.step_state``)."""
    ft, w, L = m.firms, m.world, m.ledger
    R = w.n_regions
    idx = ft.idx
    reg = ft.region[idx]
    emp = (ft.skilled[idx] + ft.unskilled[idx]).astype(float)
    out: dict[str, np.ndarray] = {}
    # The step's flows from the ledger, with their totals, in one array operation.
    ledger = np.array([L.get(name) for name in LEDGER_FLOWS])
    flows = dict(zip(LEDGER_FLOWS, np.column_stack([ledger, ledger.sum(axis=1)]), strict=True))

    # Per-firm columns summed by region, all in one pass (see _region_sums).
    window = m.p.yearly.innovation.recent_years * m.p.steps_per_year
    in_c = ft.contract_share[idx]  # the share of each model firm's real firms that are members
    small = emp < SME_MAX_EMPLOYEES
    em = emissions(m, idx)
    rev = ft.revenue[idx]
    sums = _region_sums(reg, R, {
        "firms": np.ones(len(idx)),
        "recent_innovators": (m.t - ft.last_innov[idx]) < window,
        "knowledge": ft.knowledge[idx].sum(axis=1),
        "absorptive": ft.absorptive[idx],
        "ki_active": ft.ki_until[idx] >= m.t,
        "emissions": em,
        "revenue": rev,
        "green_knowledge": ft.knowledge[idx, -1],
        "in_contracts": in_c,
        "glocal": ft.glocal[idx],
        "exporters": ft.exporter[idx],
        "revenue_exp": ft.revenue_exp[idx],
        "credit": np.maximum(-ft.cash[idx], 0.0),
        "contract_credit_line": ft.credit_line[idx] * in_c,
        "employment": emp,
        "employment_skilled": ft.skilled[idx],
        "wage_bill": wage_bill(ft, idx, m.wage_s, m.wage_u),
        "open_posts": open_posts(ft, idx, "skilled") + open_posts(ft, idx, "unskilled"),
        "dyncap": ft.dyncap[idx],
        "codification": ft.codification[idx],
        "young": (m.t - ft.birth_step[idx]) < 3 * m.p.steps_per_year,
        "sme_employment": emp * small,
        "large": ~small,
    })
    n_firms = sums["firms"]
    out["firms"] = n_firms
    # WG1
    out["innovations_product"] = flows["innovations_product"]
    out["innovations_process"] = flows["innovations_process"]
    out["innovations"] = out["innovations_product"] + out["innovations_process"]
    out["innovative_firm_share"] = _ratio(sums["recent_innovators"], n_firms)
    out["knowledge_stock"] = _ratio(sums["knowledge"], n_firms)
    out["absorptive_capacity"] = _ratio(sums["absorptive"], n_firms)
    out.update((name, flows[name]) for name in LEDGER_FLOWS[2:])
    out["ki_projects_active"] = sums["ki_active"]
    # WG2
    out["emissions"] = sums["emissions"] / 1000.0
    out["emission_intensity"] = _ratio(sums["emissions"], sums["revenue"])
    out["green_knowledge"] = _ratio(sums["green_knowledge"], n_firms)
    # WG3
    # A tie counts half in each endpoint's region (so regions sum to the total): ties are
    # counted per (end region, class code) as whole numbers, then halved (exact figures).
    t = m.ties
    ti = t.idx
    code = t.code[ti].astype(np.int64)
    per_code = (np.bincount(t.region_a[ti].astype(np.int64) * _TIE_CODES + code, minlength=R * _TIE_CODES)
                + np.bincount(t.region_b[ti].astype(np.int64) * _TIE_CODES + code, minlength=R * _TIE_CODES))
    ends = per_code.reshape(R, _TIE_CODES) @ _TIE_SERIES.T  # (regions, series), whole numbers
    for k, name in enumerate(_TIE_SERIES_NAMES):
        out[name] = np.append(0.5 * ends[:, k], 0.5 * ends[:, k].sum())
        if name == "ties_total":  # keep the series in their documented order
            out["ties_cross_cluster"] = out["ties_total"] - out["ties_intra_cluster"]
    out["firms_in_contracts"] = sums["in_contracts"]
    out["network_contracts"] = np.append(m.contract_stock, m.contract_stock.sum())
    out["glocal_firms"] = sums["glocal"]
    out["exporters"] = sums["exporters"]
    out["export_share"] = _ratio(sums["revenue_exp"], sums["revenue"])
    # WG4
    out["public_spent_total"] = (out["public_spent_grants"] + out["public_spent_cmo"]
                                 + out["public_spent_training"] + out["public_cost"])
    out["grant_merit"] = _ratio(np.append(L.get("grant_merit_sum"), L.get("grant_merit_sum").sum()), out["grants"])
    out["credit_outstanding"] = sums["credit"]
    out["contract_credit_line"] = _ratio(sums["contract_credit_line"], out["firms_in_contracts"])
    # WG5
    cmo_reg = np.array([c.region for c in m.cmos], dtype=np.int64)
    n_cmo = _by_region(cmo_reg, R)
    out["cmo_count"] = n_cmo
    for name, attr in (("cmo_competence", "competence"), ("cmo_excellence", "excellence"), ("cmo_service_intensity", "service")):
        vals = np.array([getattr(c, attr) for c in m.cmos], dtype=float)
        out[name] = _ratio(_by_region(cmo_reg, R, vals), n_cmo)
    cl = ft.cluster[idx]
    in_cl = cl >= 0
    served = np.where(ft.member[idx], 1.0, m.step_state.cluster_reach[np.maximum(cl, 0)])[in_cl]
    out["cmo_reach"] = _ratio(_by_region(reg[in_cl], R, served), _by_region(reg[in_cl], R))
    sec = ft.sector[idx]
    S_ = w.n_sectors
    by = np.bincount(reg * S_ + sec, weights=emp, minlength=R * S_).reshape(R, S_)
    tot = by.sum(axis=1, keepdims=True)
    shares = np.divide(by, tot, out=np.zeros(by.shape), where=tot > 0)  # by is int when no firm is left
    all_sh = by.sum(axis=0) / max(by.sum(), 1.0)
    out["sector_concentration"] = np.append((shares**2).sum(axis=1), (all_sh**2).sum())
    out["meta_clusters"] = np.append(np.zeros(R), float(m.n_meta_clusters))
    # WG6
    out["employment"] = sums["employment"]
    out["employment_skilled"] = sums["employment_skilled"]
    out["employment_unskilled"] = out["employment"] - out["employment_skilled"]
    lf = np.append(m.lf_s + m.lf_u, (m.lf_s + m.lf_u).sum())
    lfs = np.append(m.lf_s, m.lf_s.sum())
    out["labour_force"] = lf
    out["unemployment_rate"] = _ratio(lf - out["employment"], lf)
    inactive = np.append(m.inactive_s + m.inactive_u, (m.inactive_s + m.inactive_u).sum())
    out["activity_rate"] = _ratio(lf, lf + inactive)
    out["skilled_unemployment_rate"] = _ratio(lfs - out["employment_skilled"], lfs)
    out["open_posts"] = sums["open_posts"]
    out["job_vacancy_rate"] = _ratio(out["open_posts"], out["employment"] + out["open_posts"])
    out["wage_bill"] = sums["wage_bill"]
    out["value_added"] = sums["revenue"]
    out["labour_share"] = _ratio(sums["wage_bill"], sums["revenue"])
    out["skilled_emigrants_cum"] = np.append(m.emigrants_cum, m.emigrants_cum.sum())
    dia = np.append(m.diaspora, m.diaspora.sum())
    out["diaspora_share"] = _ratio(dia, dia + lfs)
    out["graduate_unemployment_rate"] = _ratio(np.append(m.grads_jobless, m.grads_jobless.sum()),
                                               np.append(m.grads, m.grads.sum()))
    out["dynamic_capability"] = _ratio(sums["dyncap"], n_firms)
    out["codification"] = _ratio(sums["codification"], n_firms)
    # Demography
    out["new_ventures"] = sums["young"]
    young = (m.t - ft.birth_step[idx]) < 3 * m.p.steps_per_year
    partners = m.ties.degree(ft.n)[idx][young]
    out["new_venture_partners"] = _ratio(_by_region(reg[young], R, partners.astype(float)), sums["young"])
    out["mean_firm_size"] = _ratio(out["employment"], n_firms)
    out["median_firm_size"] = _median_by_region(reg, emp, R)
    out["sme_employment_share"] = _ratio(sums["sme_employment"], out["employment"])
    out["large_firms"] = sums["large"]
    out.update(real_series(m, out, reg, emp, idx))
    return out


def real_series(m, out: dict[str, np.ndarray], reg: np.ndarray, emp: np.ndarray, idx: np.ndarray) -> dict[str, np.ndarray]:
    """The ``_real`` series: model counts in units of the real region. Firms add up each firm's
    weight (the real enterprises of its region and size it stands for,
    :mod:`cluster_abm.state.size_weights`), employment each firm's weight times its staff times
    the region's ``m.employment_scale`` (calibrated to the published persons employed at policy
    year 0); labour stocks and emigrants scale by real persons per model person
    employed (``m.person_weight``); births and deaths by the weight of micro firms (nearly all
    entrants and exits are micro); innovations by the region's mean weight per model firm."""
    R = m.world.n_regions
    known = np.isfinite(m.size_weight[:, 0])
    w = m.firm_weight(idx)  # 1 in a region without published enterprises, which ``mask`` blanks
    mask = np.where(known, 1.0, np.nan)

    def weighted(values: np.ndarray) -> np.ndarray:
        by_region = np.bincount(reg, weights=w * values, minlength=R) * mask
        return np.append(by_region, np.nansum(by_region) if known.any() else np.nan)

    persons = m.employment_scale[reg]  # real persons per model person, over the firm's weight
    real = {"firms_real": weighted(np.ones(len(idx))), "employment_real": weighted(emp * persons),
            "firms_in_contracts_real": weighted(m.firms.contract_share[idx]),
            "employment_skilled_real": weighted(m.firms.skilled[idx] * persons)}
    mean_weight = np.divide(real["firms_real"][:-1], out["firms"][:-1], out=np.zeros(R), where=out["firms"][:-1] > 0)
    scale = {"labour_force": m.person_weight, "skilled_emigrants": m.person_weight,
             "skilled_emigrants_cum": m.person_weight, "births": m.size_weight[:, 0],
             "deaths": m.size_weight[:, 0], "innovations": mean_weight}
    for name, weight in scale.items():
        real[f"{name}_real"] = to_real(out[name], np.where(known, weight, np.nan))
    return real


def to_real(values: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """A count by region and in total (length R + 1) in real-region units: each region's count
    times the real enterprises one of its model firms stands for; the total is their sum."""
    real = values[:-1] * weight
    return np.append(real, real.sum() if np.isfinite(real).any() else np.nan)


# --- KPIs -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KPI:
    name: str
    unit: str
    doc: str
    better: str | None  # "higher", "lower" or None (no normative direction)
    fn: Callable

    @property
    def label(self) -> str:
        """A short human name for reports and charts (:data:`KPI_LABELS`)."""
        return KPI_LABELS.get(self.name) or _words(self.name)


def _total(ts: dict, name: str) -> np.ndarray:
    return ts[name][:, -1]


def _last_year_mean(ts, name, spy):
    return float(np.nanmean(_total(ts, name)[-spy:]))


def _per_year(ts, name, spy):
    v = _total(ts, name)
    return float(v.sum() / (len(v) / spy))


def _cohort_survival(log: pd.DataFrame, years: float, spy: int, t_end: int, mask=None) -> float:
    born = log[log["birth_step"] >= 0] if mask is None else log[(log["birth_step"] >= 0) & mask]
    horizon = int(round(years * spy))
    cohort = born[born["birth_step"] + horizon <= t_end]
    if len(cohort) == 0:
        return float("nan")
    # Exits come before births in a step (phase 4), so a firm that leaves ``horizon`` steps after
    # its birth step leaves before its birthday: it did not survive the horizon.
    dead_before = (cohort["death_step"] >= 0) & (cohort["death_step"] <= cohort["birth_step"] + horizon)
    return float(1.0 - dead_before.mean())


def _yearly_rate(ts, name, spy):
    """Mean over years of (events in the year) / (firms at the start of the year)."""
    v, firms = _total(ts, name), _total(ts, "firms")
    # Row 0 is the initial state; year y is rows (y - 1) * spy + 1 ... y * spy.
    years = (len(v) - 1) // spy
    if years == 0:
        return float("nan")
    ev = v[1 : years * spy + 1].reshape(years, spy).sum(axis=1)
    start = firms[0 : years * spy : spy]
    return float(np.mean(ev / np.maximum(start, 1)))


K = KPI
KPI_LIST = [
    K("employment_final", "persons", "Employment, mean over the last year.", "higher", lambda ts, log, c: _last_year_mean(ts, "employment", c["spy"])),
    K("jobs_net", "persons", "Employment in the last year minus employment at the start.", "higher", lambda ts, log, c: _last_year_mean(ts, "employment", c["spy"]) - c["employment0"]),
    K("skilled_employment_final", "persons", "Skilled employment, mean over the last year.", "higher", lambda ts, log, c: _last_year_mean(ts, "employment_skilled", c["spy"])),
    K("unemployment_final", "share", "Unemployment rate, mean over the last year.", "lower", lambda ts, log, c: _last_year_mean(ts, "unemployment_rate", c["spy"])),
    K("innovations_per_year", "count/yr", "Innovations (product + process) per year over the run.", "higher", lambda ts, log, c: _per_year(ts, "innovations", c["spy"])),
    K("eco_innovations_per_year", "count/yr", "Eco-innovations per year over the run.", "higher", lambda ts, log, c: _per_year(ts, "eco_innovations", c["spy"])),
    K("innovative_firm_share_final", "share", "Share of innovative firms (CIS definition), last year.", "higher", lambda ts, log, c: _last_year_mean(ts, "innovative_firm_share", c["spy"])),
    K("knowledge_stock_final", "ku/firm", "Mean knowledge per firm, last year.", "higher", lambda ts, log, c: _last_year_mean(ts, "knowledge_stock", c["spy"])),
    K("ki_projects_per_year", "count/yr", "Firm-knowledge-institution projects started per year.", "higher", lambda ts, log, c: _per_year(ts, "ki_projects_started", c["spy"])),
    K("skilled_emigrants_total", "persons", "Skilled emigrants over the run (brain drain).", "lower", lambda ts, log, c: float(_total(ts, "skilled_emigrants").sum())),
    K("brain_drain_rate", "per 1000/yr", "Skilled emigrants per year per 1000 of the initial skilled labour force.", "lower", lambda ts, log, c: 1000 * _per_year(ts, "skilled_emigrants", c["spy"]) / c["lf_s0"]),
    K("tacit_knowledge_lost_total", "ku", "Tacit knowledge lost with closing firms over the run (brain retirement).", "lower", lambda ts, log, c: float(_total(ts, "tacit_knowledge_lost").sum())),
    K("birth_rate", "1/yr", "Firm births per year over firms at the start of the year (mean over years).", None, lambda ts, log, c: _yearly_rate(ts, "births", c["spy"])),
    K("death_rate", "1/yr", "Firm deaths per year over firms at the start of the year (mean over years).", "lower", lambda ts, log, c: _yearly_rate(ts, "deaths", c["spy"])),
    K("survival_1y", "share", "Share of firms born in the run still alive one year later.", "higher", lambda ts, log, c: _cohort_survival(log, 1, c["spy"], c["t_end"])),
    K("survival_3y", "share", "Share of firms born in the run still alive three years later.", "higher", lambda ts, log, c: _cohort_survival(log, 3, c["spy"], c["t_end"])),
    K("survival_5y", "share", "Share of firms born in the run still alive five years later.", "higher", lambda ts, log, c: _cohort_survival(log, 5, c["spy"], c["t_end"])),
    K("incubated_survival_3y", "share", "Three-year survival of incubated ventures (NaN without incubators).", "higher", lambda ts, log, c: _cohort_survival(log, 3, c["spy"], c["t_end"], log["incubated"])),
    K("incubator_cluster_survival_2y", "share", "Two-year survival of firms born during the run in clusters of at least policy.incubator_min_cluster_enterprises real enterprises at the start (where seed 3.1.4 puts networked incubators), with or without incubators.", "higher", lambda ts, log, c: _cohort_survival(log, 2, c["spy"], c["t_end"], log["cluster"].isin(c.get("incubator_clusters", ())))),
    K("sme_employment_share_final", "share", "SMEs' share of employment, last year.", None, lambda ts, log, c: _last_year_mean(ts, "sme_employment_share", c["spy"])),
    K("firms_final", "firms", "Living firms, last year.", None, lambda ts, log, c: _last_year_mean(ts, "firms", c["spy"])),
    K("ties_total_final", "ties", "Cooperation ties, last year.", "higher", lambda ts, log, c: _last_year_mean(ts, "ties_total", c["spy"])),
    K("ties_cross_cluster_final", "ties", "Ties beyond the own cluster, last year.", "higher", lambda ts, log, c: _last_year_mean(ts, "ties_cross_cluster", c["spy"])),
    K("ties_transnational_final", "ties", "Transnational ties, last year.", "higher", lambda ts, log, c: _last_year_mean(ts, "ties_transnational", c["spy"])),
    K("firms_in_contracts_final", "firms", "Firms in network contracts, last year.", "higher", lambda ts, log, c: _last_year_mean(ts, "firms_in_contracts", c["spy"])),
    K("glocal_firms_final", "firms", "Glocal firms, last year.", "higher", lambda ts, log, c: _last_year_mean(ts, "glocal_firms", c["spy"])),
    K("export_share_final", "share", "Export share of revenue, last year.", "higher", lambda ts, log, c: _last_year_mean(ts, "export_share", c["spy"])),
    K("emission_intensity_final", "t CO2e per k€", "Emissions per unit of revenue, last year.", "lower", lambda ts, log, c: _last_year_mean(ts, "emission_intensity", c["spy"])),
    K("cmo_excellence_final", "0-1", "Mean CMO excellence score, last year.", "higher", lambda ts, log, c: _last_year_mean(ts, "cmo_excellence", c["spy"])),
    K("admin_cost_total", "k€", "Administrative cost borne by applicants over the run.", "lower", lambda ts, log, c: float(_total(ts, "admin_cost").sum())),
    K("public_cost_total", "k€ (real region)", "Spending of the policy levers over the run.", None, lambda ts, log, c: float(_total(ts, "public_cost").sum())),
    K("public_spent_total", "k€ (real region)", "All public money spent over the run (grants, CMOs, training, levers).", None, lambda ts, log, c: float(_total(ts, "public_spent_total").sum())),
    # The same in real-region units (model firms weighted by the real enterprises they stand for).
    K("employment_final_real", "persons (real region)", "Employment in the real region, mean over the last year.", "higher", lambda ts, log, c: _last_year_mean(ts, "employment_real", c["spy"])),
    K("jobs_net_real", "persons (real region)", "Employment in the real region in the last year minus at policy year 0.", "higher", lambda ts, log, c: _last_year_mean(ts, "employment_real", c["spy"]) - _total(ts, "employment_real")[0]),
    K("firms_final_real", "enterprises (real region)", "Enterprises the living model firms stand for, last year.", None, lambda ts, log, c: _last_year_mean(ts, "firms_real", c["spy"])),
    K("skilled_emigrants_total_real", "persons (real region)", "Skilled emigrants of the real region over the run.", "lower", lambda ts, log, c: float(_total(ts, "skilled_emigrants_real").sum())),
]
del K
KPIS: dict[str, KPI] = {k.name: k for k in KPI_LIST}


def compute_kpis(ts: dict[str, np.ndarray], log: pd.DataFrame, context: dict) -> dict[str, float]:
    """All KPIs from wide series arrays (steps x (regions + 1)) and the firm log."""
    return {name: float(k.fn(ts, log, context)) for name, k in KPIS.items()}


# --- human labels -------------------------------------------------------------------------------
# What a report, a chart or a spreadsheet calls each series and KPI (units stay in ``unit``).
# A test checks every series and KPI has one; ``_real`` series take their count's label.
SERIES_LABELS: dict[str, str] = {
    # series, WG1
    "innovations": "Innovations", "innovations_product": "Product innovations",
    "innovations_process": "Process innovations", "innovative_firm_share": "Innovative firms (share)",
    "knowledge_stock": "Knowledge per firm", "absorptive_capacity": "Absorptive capacity",
    "ki_projects_started": "Projects with knowledge institutions started",
    "ki_projects_active": "Projects with knowledge institutions running",
    "ki_projects_cross_cluster": "Projects with institutions elsewhere",
    "ki_projects_research": "Projects with research centres",
    "births_innovative": "Innovative spin-offs", "incubated": "Ventures entering incubators",
    # WG2
    "eco_innovations": "Eco-innovations", "emissions": "Emissions",
    "emission_intensity": "Emissions per unit of revenue", "green_knowledge": "Green knowledge per firm",
    "env_project_participants": "Firms joining environmental projects",
    # WG3
    "ties_intra_cluster": "Ties within the cluster", "ties_inter_cluster": "Ties between clusters",
    "ties_inter_regional": "Ties between regions", "ties_transnational": "Transnational ties",
    "ties_total": "Cooperation ties", "ties_cross_cluster": "Ties beyond the own cluster",
    "ties_cross_sector": "Ties between sectors", "meta_cluster_ties": "Meta-cluster ties",
    "ties_sector_interregional": "Same-sector ties between regions", "new_ties": "New ties",
    "network_contracts": "Network contracts", "firms_in_contracts": "Firms in network contracts",
    "glocal_firms": "Glocal firms", "exporters": "Exporters", "export_share": "Export share of revenue",
    "qh_projects": "Firms joining demand-side projects",
    # WG4
    "public_committed": "Regional cluster budgets committed", "public_spent_grants": "R&D grants paid",
    "public_spent_cmo": "Public money to cluster organisations",
    "public_spent_training": "Public training places", "public_cost": "Lever spending",
    "public_spent_total": "All public money", "admin_cost": "Applicants' administrative cost",
    "grant_applications": "Grant applications", "grants": "R&D grants awarded",
    "grant_merit": "Innovation hazard of grantees", "grant_rd_effective": "Grant money funding aligned R&D",
    "ventures_financed": "Ventures financed", "venture_investment": "Venture finance invested",
    "credit_outstanding": "Bank credit used", "contract_credit_line": "Credit line of contract members",
    # WG5
    "cmo_count": "Cluster organisations", "cmo_competence": "Cluster organisations' competence",
    "cmo_excellence": "Cluster organisations' excellence",
    "cmo_service_intensity": "Cluster organisations' service intensity",
    "cmo_reach": "Firms a cluster organisation serves (share)",
    "cmo_budget": "Cluster organisations' budgets", "sector_concentration": "Sector concentration",
    "meta_clusters": "Meta-clusters",
    # WG6
    "employment": "Employment", "employment_skilled": "Skilled employment",
    "employment_unskilled": "Unskilled employment", "labour_force": "Labour force",
    "unemployment_rate": "Unemployment rate", "activity_rate": "Activity rate", "skilled_unemployment_rate": "Skilled unemployment rate",
    "open_posts": "Open posts", "job_vacancy_rate": "Job vacancy rate",
    "wage_bill": "Wage bill", "value_added": "Value added", "labour_share": "Labour share",
    "skilled_emigrants": "Skilled emigrants", "skilled_emigrants_cum": "Skilled emigrants so far",
    "graduate_unemployment_rate": "Recent graduates without a first job",
    "first_jobs_graduates": "First jobs of recent graduates",
    "skilled_emigrants_graduates": "Recent graduates emigrating", "new_venture_partners": "Partners per new venture",
    "skilled_returnees": "Skilled returnees", "diaspora_share": "Skilled citizens abroad (share)",
    "graduates": "Graduates", "hires": "Hires", "separations": "Layoffs",
    "tacit_knowledge_lost": "Tacit knowledge lost", "trainings": "Managerial training places filled",
    "trainees_placed": "Graduates placed as trainees", "dynamic_capability": "Dynamic capability",
    "codification": "Codification capability",
    # demography
    "firms": "Firms", "births": "Firm births", "deaths": "Firm deaths",
    "deaths_young": "Deaths of firms under one year", "ventures_abandoned": "Nascent ventures abandoned", "deaths_insolvent": "Deaths of insolvent firms", "new_ventures": "Firms under three years",
    "mean_firm_size": "Mean firm size", "median_firm_size": "Median firm size",
    "sme_employment_share": "SMEs' share of employment", "large_firms": "Large firms",
}
SERIES_LABELS.update({f"{n}_real": SERIES_LABELS[n] for n in REAL_SERIES})
KPI_LABELS: dict[str, str] = {
    "employment_final": "Employment in the last year (model firms)",
    "jobs_net": "Net jobs over the run (model firms)",
    "skilled_employment_final": "Skilled employment in the last year (model firms)",
    "unemployment_final": "Unemployment rate in the last year",
    "innovations_per_year": "Innovations per year (model firms)",
    "eco_innovations_per_year": "Eco-innovations per year (model firms)",
    "innovative_firm_share_final": "Innovative firms in the last year (share)",
    "knowledge_stock_final": "Knowledge per firm in the last year",
    "ki_projects_per_year": "Projects with knowledge institutions per year",
    "skilled_emigrants_total": "Skilled emigrants over the run (model firms' regions)",
    "brain_drain_rate": "Brain drain rate", "tacit_knowledge_lost_total": "Tacit knowledge lost over the run",
    "birth_rate": "Firm birth rate", "death_rate": "Firm death rate",
    "survival_1y": "1-year survival of new firms", "survival_3y": "3-year survival of new firms",
    "survival_5y": "5-year survival of new firms",
    "incubated_survival_3y": "3-year survival of incubated ventures",
    "incubator_cluster_survival_2y": "2-year survival of new firms in incubator-sized clusters",
    "sme_employment_share_final": "SMEs' share of employment in the last year",
    "firms_final": "Firms in the last year (model firms)",
    "ties_total_final": "Cooperation ties in the last year",
    "ties_cross_cluster_final": "Ties beyond the own cluster in the last year",
    "ties_transnational_final": "Transnational ties in the last year",
    "firms_in_contracts_final": "Firms in network contracts in the last year",
    "glocal_firms_final": "Glocal firms in the last year",
    "export_share_final": "Export share of revenue in the last year",
    "emission_intensity_final": "Emissions per unit of revenue in the last year",
    "cmo_excellence_final": "Cluster organisations' excellence in the last year",
    "admin_cost_total": "Applicants' administrative cost over the run",
    "public_cost_total": "Lever spending over the run",
    "public_spent_total": "All public money over the run",
    "employment_final_real": "Jobs in the last year",
    "jobs_net_real": "Net jobs created over the run",
    "firms_final_real": "Enterprises in the last year",
    "skilled_emigrants_total_real": "Skilled emigrants over the run",
}


def _words(name: str) -> str:
    """A name without a label yet, in words."""
    return name.replace("_", " ").capitalize()
