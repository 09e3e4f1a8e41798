"""Finance: yearly budgets, grant calls, venture finance, bank credit and firms' accounts.

Seed 2.4 / 3.4.1: clusters need a stable, predictable financial framework; year-to-year budgets
with freezes undermine trust and CMO staff; complex regulation puts an administrative burden on
applicants; funds should go where monitoring shows potential. Funders open calls each step with
what is left of their yearly budget; firms apply when the expected gain outweighs the
administrative cost (CMO funding scouting helps, seed 2.4); selection is first come or
KPI-based (seed 3.4.1). Seed 3.4.2: venture investors finance new (innovative) ventures.
Seed 3.4.3 (Stiglitz & Weiss 1981 for rationing): banks ration credit by what they can assess;
network-contract members present a shared business plan and get larger credit lines. A firm
whose overdraft exceeds its credit line is insolvent and exits.
"""

from __future__ import annotations

import numpy as np

from cluster_abm.mechanisms.common import hazard
from cluster_abm.mechanisms.innovation import innovation_rate
from cluster_abm.mechanisms.knowledge_projects import project_costs
from cluster_abm.policy.lever_state import ALL, fill_budget
from cluster_abm.state.firm_table import ORIGIN_INNOVATIVE


def set_annual_budgets(m) -> None:
    """Yearly: regional budgets realised with volatility and freezes (seed 3.4.1); the
    ``multiannual_funding`` lever shrinks both by its intensity."""
    y = m.p.yearly
    commit = np.minimum(m.policy.level("multiannual_funding", regions=ALL), 1.0)
    for r, f in enumerate(m.regional_funders):
        sd = y.funding.budget_volatility * (1.0 - commit[r])
        # Both draws always happen, so the lever changes outcomes, not the stream.
        u, z = m.rngs.finance.random(), m.rngs.finance.standard_normal()
        frozen = bool(u < y.funding.freeze_probability * (1.0 - commit[r]))
        budget = 0.0 if frozen else f.planned * max(0.0, 1.0 + sd * z)
        f.open_year(budget, frozen)
        m.frozen[r] = frozen
        m.ledger.add_region("public_committed", r, budget)
    m.eu_funder.open_year(m.eu_funder.planned)
    m.venture_funder.open_year(m.venture_funder.planned)
    for lid in ("kpi_monitoring", "multilevel_alignment", "policy_awareness", "see_platform", "regional_clustering"):
        cost = {"kpi_monitoring": y.policy.kpi_cost, "multilevel_alignment": y.policy.alignment_cost,
                "policy_awareness": y.policy.awareness_cost, "see_platform": y.policy.platform_cost,
                "regional_clustering": y.policy.regional_clustering_cost}[lid]
        for r, level in enumerate(m.policy.level(lid, regions=ALL)):
            if level > 0:
                m.policy.charge(lid, r, cost * level)


def _allowance(funder, steps_left: int) -> float:
    return funder.available / max(steps_left, 1)


def award_grants(m, step) -> None:
    """R&D grant calls of regional governments and the EU programme.

    Step state: reads ``svc_scouting`` (application rate) and ``novelty``, ``knowledge_pool``
    (merit, through :func:`~cluster_abm.mechanisms.innovation.innovation_rate`).
    """
    ft, p = m.firms, m.p
    idx = ft.idx
    if len(idx) == 0:
        return
    region = ft.region[idx]
    simplify = np.minimum(m.policy.level("simplified_funding", regions=ALL), 1.0)[region]
    admin = p.funding.admin_cost * (1.0 - p.policy.admin_cut * simplify)
    eligible = ft.grant_until[idx] < m.t
    base = p.funding.application_rate * (1.0 + p.cmo.scouting_weight * step.svc_scouting[idx])
    tol = p.funding.admin_tolerance
    apply_reg = eligible & ~m.frozen[region] & hazard(m.uniform("apply_regional", idx), base * np.exp(-admin / tol))
    admin_eu = admin * p.funding.eu_admin_multiple
    apply_eu = eligible & hazard(m.uniform("apply_eu", idx), base * np.exp(-admin_eu / tol))
    paid = admin * apply_reg + admin_eu * apply_eu
    ft.cash[idx] -= paid
    applicants = apply_reg | apply_eu
    m.ledger.add("grant_applications", region[applicants], apply_reg[applicants].astype(float) + apply_eu[applicants])
    m.ledger.add("admin_cost", region[applicants], paid[applicants])
    if not applicants.any():
        return

    merit = innovation_rate(m, step, idx)
    z = np.log(np.maximum(merit, 1e-12))
    z = (z - z.mean()) / (z.std() + 1e-12) + p.funding.merit_noise * m.normal("merit_noise", idx)
    first_come = m.normal("first_come", idx)
    kpi = p.funding.kpi_weight + (1.0 - p.funding.kpi_weight) * np.minimum(m.policy.level("kpi_monitoring", regions=ALL), 1.0)
    score = kpi[region] * z + (1.0 - kpi[region]) * first_come
    align = np.minimum(m.policy.level("multilevel_alignment", regions=ALL), 1.0)
    effective = 1.0 - p.policy.misalignment_loss * (1.0 - align[region])
    steps_left = p.steps_per_year - m.step_in_year
    G = p.yearly.funding.grant_size
    awarded = np.zeros(len(idx), dtype=bool)

    def award(funder, pick: np.ndarray) -> None:
        # Best first, while this step's share of the budget lasts; a grant to a model firm goes
        # to every real firm it stands for and costs G x their number (the last one by lottery).
        pick = pick[np.argsort(-score[pick], kind="stable")]
        if len(pick) == 0:
            return
        cost = G * m.firm_weight(idx[pick])
        ok, paid = fill_budget(cost, np.zeros(len(pick), dtype=np.intp),
                               np.array([_allowance(funder, steps_left)]), m.uniform("partial_award", idx[pick]))
        funder.spend(min(float(paid.sum()), funder.available))
        m.ledger.add("public_spent_grants", region[pick], paid)
        chosen = pick[ok]
        slots = idx[chosen]
        ft.cash[slots] += G
        ft.grant_until[slots] = m.t + int(round(p.yearly.funding.grant_years * p.steps_per_year)) - 1
        ft.grant_rd[slots] = G / p.yearly.funding.grant_years * effective[chosen]
        awarded[chosen] = True
        reg = region[chosen]
        m.ledger.add("grants", reg)
        m.ledger.add("grant_merit_sum", reg, merit[chosen] * p.steps_per_year)
        m.ledger.add("grant_rd_effective", reg, G * effective[chosen] * m.firm_weight(slots))

    for r, funder in enumerate(m.regional_funders):
        if not funder.frozen:
            award(funder, (apply_reg & (region == r)).nonzero()[0])
    award(m.eu_funder, (apply_eu & ~awarded).nonzero()[0])


def finance_ventures(m) -> None:
    """The venture fund (and, under ``new_venture_finance``, regional funds) invest in new
    ventures, screening on knowledge (seed 3.4.2)."""
    ft, p = m.firms, m.p
    idx = ft.idx
    young = (m.t - ft.birth_step[idx]) < p.yearly.venture.max_age * p.steps_per_year
    cand = idx[young & ~ft.ventured[idx]]
    if len(cand) == 0:
        return
    steps_left = p.steps_per_year - m.step_in_year
    ticket = p.yearly.venture.ticket
    quality = np.log1p(ft.knowledge[cand].sum(axis=1)) + m.normal("venture_screen", cand)
    innovative = ft.origin[cand] == ORIGIN_INNOVATIVE
    fund = m.venture_funder
    pool = cand[innovative] if p.venture.innovative_only else cand
    pool_q = quality[innovative] if p.venture.innovative_only else quality
    if len(pool):
        # Best first while this step's share of the fund lasts; a ticket to a model firm goes to
        # every real venture it stands for (the last one by lottery).
        order = pool[np.argsort(-pool_q, kind="stable")]
        ok, paid = fill_budget(ticket * m.firm_weight(order), np.zeros(len(order), dtype=np.intp),
                               np.array([_allowance(fund, steps_left)]), m.uniform("partial_award", order))
        fund.spend(min(float(paid.sum()), fund.available))
        _invest(m, order[ok], ticket, order, paid)
    if m.policy.on("new_venture_finance"):
        level = m.policy.level("new_venture_finance", firms=cand)
        rest = (level > 0) & ~ft.ventured[cand]
        order = np.lexsort((-quality, ~innovative))  # innovative first, then best
        order = order[rest[order]]
        if len(order) == 0:
            return
        # Each region's fund spends this step's share of its yearly budget on its best candidates.
        cap = np.minimum(m.policy.left("new_venture_finance"),
                         p.yearly.policy.venture_budget * m.policy.level("new_venture_finance", regions=ALL))
        chosen = cand[order]
        spent0 = m.policy.spent["new_venture_finance"].copy()
        granted = m.policy.grant("new_venture_finance", chosen, ticket, limit=cap / max(steps_left, 1))
        m.ledger.add("venture_investment", np.arange(m.world.n_regions), m.policy.spent["new_venture_finance"] - spent0)
        _invest(m, chosen[granted], ticket)


def _invest(m, firms: np.ndarray, ticket: float, asked: np.ndarray | None = None,
            paid: np.ndarray | None = None) -> None:
    """Tickets of ``ticket`` k€ to each real venture behind model firms ``firms``; the money
    paid (real k€, by the firms ``asked``) is booked by the caller or here."""
    ft = m.firms
    ft.cash[firms] += ticket
    ft.ventured[firms] = True
    m.ledger.add("ventures_financed", ft.region[firms])
    if asked is not None:
        m.ledger.add("venture_investment", ft.region[asked], paid)


def startup_loans(m, idx: np.ndarray) -> np.ndarray:
    """What is left of the start-up loans of firms ``idx`` (k€): the bank lent
    ``startup_credit`` at founding (:func:`cluster_abm.mechanisms.demography.startup_capital`;
    Evans & Jovanovic 1989) and the firm repays it in equal parts over
    ``demography.loan_years``; it floors the firm's credit line meanwhile."""
    ft, p = m.firms, m.p
    term = p.yearly.demography.loan_years * p.steps_per_year
    left = np.clip(1.0 - (m.t - ft.birth_step[idx]) / term, 0.0, 1.0)
    return ft.startup_credit[idx] * left


def expected_profit(m, idx: np.ndarray, earnings: np.ndarray) -> np.ndarray:
    """Profit (k€/yr) firms ``idx`` keep when the owner-manager's earnings (the surplus before
    the owner's pay, in outside wages) are ``earnings``: the owner takes them up to the wage, and
    at least ``finance.owner_min_pay`` of it (the owner-pay rule of :func:`settle_accounts`). So
    the firm keeps what is earned beyond the wage and loses the owner's minimum pay it does not
    earn; between the two it keeps nothing."""
    ft, p = m.firms, m.p
    region = ft.region[idx]
    owner_wage = np.where(ft.skilled[idx] > 0, m.wage_s[region], m.wage_u[region])
    return (earnings - np.clip(earnings, p.finance.owner_min_pay, 1.0)) * owner_wage


def financed_labour(m, idx: np.ndarray, want_s: np.ndarray, want_u: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Financing constraint on hiring: the staff firms ``idx`` can pay for (called by
    :func:`cluster_abm.mechanisms.production.plan_labour`).

    Pay precedes sales, so a hire needs ``demography.working_capital`` years of its wage in
    liquidity (cash plus what is left of the credit line), hires counted in whole persons: the
    constraint that bounds the scale at birth (:func:`cluster_abm.mechanisms.demography.create_firms`; Evans & Jovanovic 1989;
    Petersen & Rajan 1997) applied after birth as well: vacancies beyond what the firm can
    finance are not opened, and a firm at the end of its credit does not hire (young firms grow
    as their equity allows: Cooley & Quadrini 2001; Albuquerque & Hopenhayn 2004; Clementi &
    Hopenhayn 2006). Staff the firm already has are not touched (shedding them faster in
    overdraft made one-firm regional labour markets swing by 80 % of their employment).

    ``want_s`` and ``want_u`` are the desired skilled and unskilled staff (persons); returns
    them capped at the financed hires.
    """
    ft, p = m.firms, m.p
    region = ft.region[idx]
    skilled, unskilled = ft.skilled[idx], ft.unskilled[idx]
    vac_s = np.maximum(want_s - skilled, 0.0)
    vac_u = np.maximum(want_u - unskilled, 0.0)
    vac = vac_s + vac_u
    # Working capital per hire (k€) at the mix of the firm's vacancies; hires are whole persons.
    per_hire = p.demography.working_capital * np.divide(
        vac_s * m.wage_s[region] + vac_u * m.wage_u[region], vac, out=np.zeros(len(idx)), where=vac > 0)
    line = np.maximum(ft.credit_line[idx], startup_loans(m, idx))  # a newborn's line: its loan
    liquidity = np.maximum(ft.cash[idx] + line, 0.0)
    affordable = np.floor(np.divide(liquidity, per_hire, out=np.full(len(idx), np.inf), where=per_hire > 0))
    funded = np.minimum(np.divide(affordable, vac, out=np.ones(len(idx)), where=vac > 0), 1.0)
    want_s = np.where(vac_s > 0, skilled + funded * vac_s, want_s)
    want_u = np.where(vac_u > 0, unskilled + funded * vac_u, want_u)
    return want_s, want_u


def settle_accounts(m, step) -> None:
    """Costs, profit, cash, pay-out and credit line of every firm; flags the insolvent.

    Policy enters here three ways: employment incentives pay part of the wages of skilled jobs
    above a firm's base (lever ``employment_incentives``, seed 3.6.4; what
    :func:`~cluster_abm.mechanisms.production.wage_subsidy` granted); ventures in a networked incubator pay only part of
    their fixed costs (lever ``incubators``, ``policy.incubator_cost_cut``, seed 3.1.4); and
    network-contract members get larger credit lines, larger still under dedicated credit lines
    (lever ``contract_credit_lines``, seed 3.4.3).

    Step state: reads ``subsidy_paid``; writes
    ``insolvent``, ``owner_earnings``.
    """
    ft, p = m.firms, m.p
    idx = ft.idx
    spy = p.steps_per_year
    region = ft.region[idx]
    ws, wu = m.wage_s[region], m.wage_u[region]
    rev = ft.revenue[idx]
    skilled, unskilled = ft.skilled[idx], ft.unskilled[idx]
    # Employment incentives (seed 3.6.4): the part of skilled wages the state pays (k€/yr).
    subsidy = step.subsidy_paid[idx]
    # The owner-manager (one person of every firm) is a residual claimant: paid up to the
    # average wage when the firm earns it, down to finance.owner_min_pay of it in bad times.
    owner_wage = np.where(skilled > 0, ws, wu)
    wages = skilled * ws + unskilled * wu - subsidy - owner_wage
    running = ft.grant_until[idx] >= m.t
    ft.grant_rd[idx[~running]] = 0.0
    grant_rd = ft.grant_rd[idx]
    rd_own = ft.rd_intensity[idx] * rev
    in_contract = ft.contract_share[idx]  # members' share of the firm's real firms
    incubated = ft.incubated_until[idx] >= m.t
    fixed = (p.production.fixed_cost * wu * (1.0 - p.contract.cost_sharing * in_contract)
             * (1.0 - p.policy.incubator_cost_cut * incubated))
    debt = np.maximum(-ft.cash[idx], 0.0)
    interest = p.finance.interest_rate * debt
    surplus = (rev - wages - rd_own - grant_rd) / spy - fixed - interest - project_costs(m)
    owner_pay = np.clip(surplus, p.finance.owner_min_pay * owner_wage / spy, owner_wage / spy)
    profit = surplus - owner_pay
    cash = ft.cash[idx] + profit
    cash = np.minimum(cash, p.finance.max_cash_to_revenue * rev)
    ft.cash[idx] = cash
    m.ledger.add("interest_paid", region, interest)

    # Banks lend in proportion to the region's depth of bank credit (private_credit); a young
    # firm's start-up loan floors its line while it is repaid (Evans & Jovanovic 1989).
    line = p.finance.credit_to_revenue * rev * m.credit_access[region] * (1.0 + p.finance.contract_credit_bonus * in_contract)
    line = np.maximum(line, startup_loans(m, idx))
    if m.policy.on("contract_credit_lines"):
        level = m.policy.level("contract_credit_lines", firms=idx) * in_contract
        extra = p.finance.credit_to_revenue * rev * p.policy.contract_credit_boost * level
        granted = m.policy.grant("contract_credit_lines", idx, p.policy.guarantee_fee * extra, level=level)
        line[granted] += extra[granted]
    ft.credit_line[idx] = line
    step.owner_earnings = np.full(ft.n, np.nan)
    step.owner_earnings[idx] = surplus * spy / owner_wage  # the owner's learning (demography)
    step.insolvent = idx[cash < -line]
