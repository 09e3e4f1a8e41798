"""Production, market shares and labour demand (seed 2.6, 3.6.4).

Market shares evolve by replicator dynamics on competitiveness (Metcalfe 1998; Dosi et al. 2010):
in each market a firm's share grows in proportion to how far its competitiveness (quality x labour
productivity / unit labour cost, lowered by the demand it left unfilled last step) lies above the
share-weighted market mean, plus idiosyncratic demand shocks whose size falls with firm size
(Stanley et al. 1996). Each firm sells in its (sector, region) market and, if it exports, in its
sector's export market; demand grows with the sector and the region. A firm reaches only part of
the customers its shares would warrant while its customer base is young, and builds the base up
each year it sells (customer capital: Foster, Haltiwanger & Syverson 2016; Gourio & Rudanko 2014;
Arkolakis 2010): new firms start small in demand, not only in productivity, and the survivors
grow into their shares (:func:`accumulate_customers`).

Labour is an input (issue 21). A firm's output capacity is its productivity x quality x a CES
composite of its skilled and unskilled staff (elasticity of substitution
``production.skill_substitution``; Katz & Murphy 1992; Acemoglu & Autor 2011), normalised so that a
firm with its technology's skilled share ``skill_share`` produces one unit per person (the
normalised CES of de La Grandville 1989 and Klump, McAdam & Willman 2012). The owner-manager is a
jack of all trades (Lazear 2005): one person of every firm works in the technology's proportions,
so a one-person firm is never short of a skill. Returns to the firm's scale decrease beyond the
owner-manager's span of control (Lucas 1978; :mod:`cluster_abm.mechanisms.span`): output per
person, and with it competitiveness, falls as a firm outgrows its span, so a firm ahead of its
rivals grows to a size its manager can run rather than to its whole market. Sales are capped by
capacity: demand a firm cannot serve is lost, and lowers its competitiveness at the next step, so
its customers drift to competitors through the replicator (unfilled demand in competitiveness:
Dosi, Fagiolo & Roventini 2010). Desired staff minimise cost at the firm's wages for an output
target equal to the demand it faces (substitution at the CES elasticity); the target depends on
unit costs through competitiveness (the replicator) and, for the market as a whole, through
competition with outside suppliers (scale effect; Armington 1969; Hamermesh 1993). Vacancies are
filled through the regional matching function of
:func:`cluster_abm.mechanisms.labour.match_vacancies` (labour pooling) and by employees of less
productive firms who find them on the job and move up the job ladder (:func:`job_to_job`; Burdett &
Mortensen 1998; Haltiwanger, Hyatt, Kahn & McEntarfer 2018); excess staff are shed gradually
(firing costs).
"""

from __future__ import annotations

import numpy as np

from cluster_abm.mechanisms import finance, span
from cluster_abm.mechanisms.common import hazard, reference_wage_ratio
from cluster_abm.mechanisms.labour import match_vacancies
from cluster_abm.numerics.grouping import weighted_group_mean
from cluster_abm.numerics.keyed_random import PURPOSES, keyed_uniform_columns
from cluster_abm.numerics.rounding import keyed_round, systematic_round

# Numerical guard (not a behavioural constant): technology skill shares are kept inside (0, 1)
# so that both CES terms stay finite.
_INSIDE = 1e-9


# --- the production function ---------------------------------------------------------------------
def technology(m, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The firms' technology skilled shares ``s`` and reference skilled cost shares ``pi``.

    ``pi = s w0 / (s w0 + 1 - s)``, with ``w0`` the region's skilled/unskilled wage ratio of the
    scenario: the CES distribution parameter that makes the mix ``s`` cost-minimising at the
    region's reference wages (normalised CES: Klump, McAdam & Willman 2012)."""
    ft = m.firms
    s = np.clip(ft.skill_share[idx], _INSIDE, 1.0 - _INSIDE)
    w0 = reference_wage_ratio(m)[ft.region[idx]]
    return s, s * w0 / (s * w0 + 1.0 - s)


def cost_factor(r: np.ndarray, pi: np.ndarray, sigma: float) -> np.ndarray:
    """kappa(r) = [pi r^(1-sigma) + 1 - pi]^(1/(1-sigma)): the CES unit cost relative to its
    value at the reference wages, when the skilled wage relative to the unskilled one is ``r``
    times its reference ratio (Cobb-Douglas limit r^pi at sigma = 1). Cost-minimising inputs per
    unit of the composite are ``s (kappa / r)^sigma`` skilled and ``(1 - s) kappa^sigma``
    unskilled persons."""
    if abs(sigma - 1.0) < _INSIDE:
        return r**pi
    return (pi * r ** (1.0 - sigma) + 1.0 - pi) ** (1.0 / (1.0 - sigma))


def labour_composite(m, idx: np.ndarray, skilled: np.ndarray, unskilled: np.ndarray) -> np.ndarray:
    """The CES labour composite X of firms ``idx`` with the given staff (persons of output).

    X = [pi (S / s)^rho + (1 - pi) (U / (1 - s))^rho]^(1/rho), rho = (sigma - 1) / sigma, with
    effective inputs S = s + (n - 1)/n x skilled and U = (1 - s) + (n - 1)/n x unskilled for a
    firm of n persons: the owner-manager works in the technology's proportions (Lazear 2005), the
    others in the firm's. At the technology's mix X = n; X = 0 without staff.
    """
    s, pi = technology(m, idx)
    sigma = m.p.production.skill_substitution
    skilled = np.asarray(skilled, dtype=float)
    unskilled = np.asarray(unskilled, dtype=float)
    n = skilled + unskilled
    keep = np.divide(n - 1.0, n, out=np.zeros_like(n), where=n > 0)
    xs = (s + keep * skilled) / s
    xu = (1.0 - s + keep * unskilled) / (1.0 - s)
    if abs(sigma - 1.0) < _INSIDE:
        x = xs**pi * xu ** (1.0 - pi)
    else:
        rho = (sigma - 1.0) / sigma
        x = (pi * xs**rho + (1.0 - pi) * xu**rho) ** (1.0 / rho)
    return np.where(n > 0, x, 0.0)


def technology_productivity(m, step, idx: np.ndarray) -> np.ndarray:
    """Output per person of the composite at quality 1 at the firm's span
    (:mod:`cluster_abm.mechanisms.span`): its technology (``productivity``) times its gain from
    shared suppliers and inputs nearby (``sharing_gain``,
    :func:`cluster_abm.mechanisms.agglomeration.sharing_gain`; Duranton & Puga 2004; Rosenthal
    & Strange 2004).

    Step state: reads ``sharing_gain``."""
    return m.firms.productivity[idx] * step.sharing_gain[idx]


def effective_productivity(m, step, idx: np.ndarray, staff: np.ndarray | None = None) -> np.ndarray:
    """Output per person of the composite at quality 1 with the firm's staff (``staff``, the
    labour composite; its current staff when not given): its technology at its span
    (:func:`technology_productivity`) times the span-of-control factor of that staff
    (:func:`cluster_abm.mechanisms.span.span_factor`; Lucas 1978).

    Step state: reads ``sharing_gain``."""
    ft = m.firms
    if staff is None:
        staff = labour_composite(m, idx, ft.skilled[idx], ft.unskilled[idx])
    return technology_productivity(m, step, idx) * span.span_factor(m, idx, staff)


def capacity(m, step, idx: np.ndarray) -> np.ndarray:
    """Output capacity (k€/yr): effective productivity at the current staff (technology x
    shared-inputs gain x span-of-control factor, :func:`effective_productivity`) x quality x
    the labour composite of the current staff.

    Step state: reads ``sharing_gain``."""
    ft = m.firms
    staff = labour_composite(m, idx, ft.skilled[idx], ft.unskilled[idx])
    return effective_productivity(m, step, idx, staff) * ft.quality[idx] * staff


def composite_for_demand(m, step, idx: np.ndarray, subsidy_rate: np.ndarray | None) -> np.ndarray:
    """The labour composite (persons) firms ``idx`` plan for: the one that would produce the
    demand they face (the persons it takes at the technology's output per person, through the
    span of control, :func:`cluster_abm.mechanisms.span.staff_for_output`), but no more than
    the size at which one more person stops paying for itself at the firm's wages
    (:func:`cluster_abm.mechanisms.span.profitable_staff`; Lucas 1978).

    Step state: reads ``sharing_gain``."""
    ft = m.firms
    per_person = technology_productivity(m, step, idx) * ft.quality[idx]
    needed = span.staff_for_output(m, idx, ft.demand[idx] / np.maximum(per_person, 1e-9))
    return np.minimum(needed, span.profitable_staff(m, idx, per_person, unit_cost(m, idx, subsidy_rate)))


def wage_ratio(m, idx: np.ndarray, subsidy_rate: np.ndarray | None) -> np.ndarray:
    """r per firm: the skilled wage cost the firm faces at the margin (net of a wage subsidy
    paying ``subsidy_rate`` of it) over the unskilled wage, relative to the reference ratio."""
    region = m.firms.region[idx]
    r = (m.wage_s / (m.wage_u * reference_wage_ratio(m)))[region]
    if subsidy_rate is not None:
        r = r * (1.0 - subsidy_rate[idx])
    return r


def unit_cost(m, idx: np.ndarray, subsidy_rate: np.ndarray | None) -> np.ndarray:
    """Unit labour cost (k€ per person-year of the composite) at the firm's effective wages:
    kappa(r) x (s w_u w0 + (1 - s) w_u), which is s w_s + (1 - s) w_u without a subsidy."""
    ft = m.firms
    s, pi = technology(m, idx)
    wu = m.wage_u[ft.region[idx]]
    w0 = reference_wage_ratio(m)[ft.region[idx]]
    kappa = cost_factor(wage_ratio(m, idx, subsidy_rate), pi, m.p.production.skill_substitution)
    return kappa * wu * (s * w0 + 1.0 - s)


def unfilled_share(m, idx: np.ndarray) -> np.ndarray:
    """Share of last step's demand a firm could not serve (0 for firms without a demand record)."""
    ft = m.firms
    d = ft.demand[idx]
    return np.divide(d - ft.revenue[idx], d, out=np.zeros(len(idx)), where=d > 0).clip(0.0, 1.0)


def cost_wedge(m, idx: np.ndarray, subsidy_rate: np.ndarray | None) -> np.ndarray:
    """Unit labour cost at the firm's effective wages over that at the market wages (below 1
    under a wage subsidy, 1 otherwise)."""
    if subsidy_rate is None or not subsidy_rate[idx].any():
        return np.ones(len(idx))
    _, pi = technology(m, idx)
    sigma = m.p.production.skill_substitution
    return (cost_factor(wage_ratio(m, idx, subsidy_rate), pi, sigma)
            / cost_factor(wage_ratio(m, idx, None), pi, sigma))


def competitiveness(m, step, idx: np.ndarray, subsidy_rate: np.ndarray | None = None) -> np.ndarray:
    """Quality x effective productivity (technology x shared-inputs gain,
    :func:`effective_productivity`) / unit labour cost at the firm's effective wages, times
    (1 - unfilled share of last step's demand)^``production.unfilled_weight`` (Dosi, Fagiolo &
    Roventini 2010: customers turn away from firms that cannot deliver).

    Step state: reads ``sharing_gain``."""
    ft = m.firms
    served = (1.0 - unfilled_share(m, idx)) ** m.p.production.unfilled_weight
    return ft.quality[idx] * effective_productivity(m, step, idx) / unit_cost(m, idx, subsidy_rate) * served


# --- markets --------------------------------------------------------------------------------------
def _replicate(m, idx, share, market, n_markets, fitness, sigma, shocks) -> np.ndarray:
    chi = m.p.market.selection_strength
    mean = weighted_group_mean(fitness, share, market, n_markets, empty=0.0)
    grown = share * np.maximum(1.0 + chi * (fitness / np.maximum(mean[market], 1e-300) - 1.0), 0.0)
    grown *= np.exp(sigma * shocks - 0.5 * sigma**2)
    total = np.bincount(market, weights=grown, minlength=n_markets)
    return np.divide(grown, total[market], out=np.zeros_like(grown), where=total[market] > 0)


def mean_reach(share, reach, market, n_markets) -> np.ndarray:
    """Per market: the share-weighted mean customer base, sum(share x reach) / sum(share)
    (1 for a market without shares: a lone firm reaches its whole market)."""
    return weighted_group_mean(reach, share, market, n_markets, empty=1.0)


def reached_share(share, reach, market, n_markets) -> np.ndarray:
    """Per firm: the share of its market's demand it faces, share x reach over its market's
    mean reach (:func:`mean_reach`). The demand a young firm does not reach goes to the other
    firms of its market in proportion to what they reach, so the market's demand is conserved:
    the sum over a market is the sum of its shares (1 after the replicator). Equal to ``share``
    where every firm has full reach."""
    return share * reach / mean_reach(share, reach, market, n_markets)[market]


def accumulate_customers(m, idx: np.ndarray) -> None:
    """Customer capital (seed 2.6, 3.1.4): a firm's customer base grows while it sells.

    Demand is a firm's market share times the share of its potential customers it reaches
    (``reach``): a new firm starts at ``market.initial_reach`` (customers must first learn of
    it) and each year closes ``market.reach_growth`` of the gap to full reach, in proportion to
    the share of last step's demand it served: customers it serves stay and bring others, while
    demand it cannot deliver builds no base. This is the demand accumulation through past sales
    of Foster, Haltiwanger & Syverson (2016, "The slow growth of new plants: learning about
    demand?"), who find it, not a productivity gap, behind new plants' slow convergence in size
    (also Gourio & Rudanko 2014's customer capital; Arkolakis 2010's market penetration). With
    selection on competitiveness (the replicator) it makes young firms' growth "up or out"
    (Haltiwanger, Jarmin & Miranda 2013): the fit grow into their shares, the unfit exit before.
    A firm without a demand record (an entrant before its first sale) does not accumulate.
    """
    ft = m.firms
    served = np.where(ft.demand[idx] > 0, 1.0 - unfilled_share(m, idx), 0.0)
    r = ft.reach[idx]
    ft.reach[idx] = r + m.p.market.reach_growth * served * (1.0 - r)


def quality_growth(before: np.ndarray, now: np.ndarray) -> np.ndarray:
    """Per market: the factor by which its demand grows with its incumbents' mean quality,
    ``now / before`` (product innovations create value, not only steal shares). Quality is
    measured against the world's products (:mod:`cluster_abm.mechanisms.technology`): a market
    whose firms fall behind them loses customers to outside suppliers, one whose firms catch up
    wins them back. 1 where the
    market has no incumbents now or had none at the last step: customers of a market whose
    firms have all exited keep buying, from outside suppliers (Armington 1969), and an entrant
    can win them back. Scaling by an empty market's mean quality (zero) erased its demand for
    good: 30 years after the spin-up 13-17 of the 36 regional markets had none left (seeds 1-2),
    4 of the 6 of the Romania-like region, whose thin markets empty most often."""
    both = (before > 0) & (now > 0)
    return np.where(both, now / np.where(both, before, 1.0), 1.0)


def _mean_quality(m, idx, share, market, n_markets) -> np.ndarray:
    return weighted_group_mean(m.firms.quality[idx], share, market, n_markets, empty=0.0)


def _against_outside(share, market, n_markets, wedge, eta) -> np.ndarray:
    """Per market: the factor on the demand the model's firms win from outside suppliers,
    (share-weighted mean cost wedge)^-eta (Armington 1969), with each firm's unit-cost wedge
    against them (its region's wage drift times its subsidy wedge, over its shared-inputs
    gain); 1 without one."""
    return weighted_group_mean(wedge, share, market, n_markets, empty=1.0) ** (-eta)


def imitate(m, idx, market, n_markets) -> None:
    """Laggards imitate: they close part of the gap to their market's mean quality and
    productivity, scaled by absorptive capacity (Nelson & Winter 1982; seed 3.6.2). This keeps
    selection and diffusion in balance: innovations spread as well as reward their makers."""
    ft = m.firms
    rate = m.p.production.imitation_rate * ft.absorptive[idx]
    for col in ("quality", "productivity"):
        v = getattr(ft, col)
        mean = weighted_group_mean(v[idx], ft.share_reg[idx], market, n_markets, empty=0.0)
        v[idx] += rate * np.maximum(mean[market] - v[idx], 0.0)


def wage_subsidy(m, step) -> None:
    """Employment incentives (lever ``employment_incentives``, seed 3.6.4): a marginal wage
    subsidy on skilled jobs (Layard & Nickell 1980's subsidy of extra jobs).

    The state pays ``policy.hiring_subsidy`` x intensity of the skilled wage for every skilled
    employee a reached firm has above its base, its skilled staff at the start of the year (or
    when the scheme first reaches it): net additions over the year, as the US New Jobs Tax Credit
    paid for growth over the previous year's employment (Perloff & Wachter 1979; Bishop 1981). So
    its skilled wage cost at the margin falls by that share while it expands: labour
    demand (substitution and scale), competitiveness and, against outside suppliers, its market's
    demand respond (:func:`compete`, :func:`plan_labour`).

    A budget-limited scheme is rationed by applications: a firm applies for the extra skilled
    jobs it plans at the subsidised wage (for the demand it last faced), or for those it already
    holds if more, and the agency reserves their cost while the year's budget lasts, first come,
    first served (Italy's hiring incentives reserve funds on each online application to INPS
    until the appropriation runs out; the French 2009 hiring credit served firms under ten
    employees, Cahuc, Carcillo & Le Barbanchon 2019, and small firms respond most, so small firms
    come first). A firm planning no extra job does not apply. Reserving only what firms had
    already hired (none at the start of a year) promised the marginal subsidy to every firm of a
    region at once: its skilled vacancies jumped to 4-14 times the skilled unemployed and the
    skilled wage rose by the cap, 12-19 % in three years, for a budget of about 0.2 % of the
    skilled wage bill (seed 1, docs/policy_effects.md). What is reserved is spread over the
    year's remaining steps: a firm is reached when its reservation fits the step's share of
    what is left of the year's budget.

    Step state: reads ``sharing_gain``; writes ``subsidy_rate``, ``subsidy_paid``.
    """
    ft, p = m.firms, m.p
    n = ft.n
    step.subsidy_rate = np.zeros(n)
    step.subsidy_paid = np.zeros(n)
    if not m.policy.on("employment_incentives"):
        return
    idx = ft.idx
    level = m.policy.level("employment_incentives", firms=idx)
    new = (level > 0) & ((ft.subsidy_base[idx] < 0) | (m.step_in_year == 0))
    ft.subsidy_base[idx[new]] = ft.skilled[idx[new]]
    rate = p.policy.hiring_subsidy * level
    region = ft.region[idx]
    base = ft.subsidy_base[idx]
    extra = np.maximum(ft.skilled[idx] - base, 0)
    cost = rate * m.wage_s[region] * extra  # k€/yr
    # The application: skilled staff wanted at the subsidised wage for the demand last faced.
    s, pi = technology(m, idx)
    sigma = p.production.skill_substitution
    r = wage_ratio(m, idx, None) * (1.0 - rate)
    applied = np.zeros(n)
    applied[idx] = rate
    target = composite_for_demand(m, step, idx, applied)
    want = s * target * (cost_factor(r, pi, sigma) / r) ** sigma
    reserved = rate * m.wage_s[region] * np.maximum(want - base, extra)  # k€/yr
    asking = (rate > 0) & (reserved > 0)
    order = np.lexsort((idx, ft.skilled[idx] + ft.unskilled[idx], region))
    order = order[asking[order]]
    if len(order) == 0:
        return
    steps_left = p.steps_per_year - m.step_in_year
    allowance = m.policy.left("employment_incentives") / max(steps_left, 1)
    # Real euros: a model firm's reservation is made for every real firm it stands for.
    reg, c = region[order], reserved[order] / p.steps_per_year * m.firm_weight(idx[order])
    cum = np.cumsum(c)
    start = np.searchsorted(reg, np.arange(m.world.n_regions))
    before = cum - c - np.concatenate([[0.0], cum])[start][reg]
    chosen = order[before + c <= allowance[reg]]
    paid = np.zeros(len(idx), dtype=bool)
    paying = chosen[cost[chosen] > 0]
    paid[paying] = m.policy.grant("employment_incentives", idx[paying], cost[paying] / p.steps_per_year)
    reached = np.zeros(len(idx), dtype=bool)
    reached[chosen] = True
    reached[paying] = paid[paying]
    # The subsidy lowers the skilled wage at the margin where, at the subsidised wage, the firm
    # would want skilled staff above its base (for the demand it last faced); below its base a
    # firm pays the full wage for its marginal skilled worker (the kink of a marginal subsidy).
    margin = reached & (want >= base)
    step.subsidy_rate[idx[margin]] = rate[margin]
    step.subsidy_paid[idx[paid]] = cost[paid]


def compete(m, step) -> None:
    """Replicator step in regional and export markets, demand growth, the demand each firm faces.

    The demand a firm faces (``demand``, k€/yr) is its share of its markets' demand. The model's
    firms also compete, as a group, with outside suppliers (imports, other countries' exporters)
    that share their technology and the pass-through of productivity to wages: where the firms'
    wage costs drift above theirs (a tight regional labour market, ``m.wage_drift`` of
    :func:`cluster_abm.mechanisms.labour.update_wages`) or below (a wage subsidy), the markets'
    demand for the firms moves at the elasticity ``production.demand_elasticity``
    (:func:`_against_outside`; the scale effect of labour demand: Armington 1969; Hamermesh
    1993). The outside suppliers do not share the firms' location: a firm's gain from shared
    inputs nearby (``sharing_gain``, :func:`cluster_abm.mechanisms.agglomeration.sharing_gain`)
    lowers its unit cost against them, so a market whose firms sit in a dense local industry
    wins demand from outside and one whose firms are scattered loses it (Armington 1969; Porter
    1998; Delgado, Porter & Stern 2014). Revenue is what the firm sells, set by :func:`produce`
    once staff are known.

    A firm faces its shares of the customers it reaches (customer capital,
    :func:`accumulate_customers`; Foster, Haltiwanger & Syverson 2016): its share times its
    ``reach`` over the market's share-weighted mean reach (:func:`reached_share`), so the
    demand a young firm does not reach goes to its market's other firms and the market's total
    is unchanged.

    Step state: reads ``export_access`` (export entry), ``subsidy_rate`` (effective wages),
    ``sharing_gain`` (competitiveness, cost wedge against outside suppliers).
    """
    ft, p, w = m.firms, m.p, m.world
    idx = ft.idx
    if len(idx) == 0:
        return
    R = w.n_regions
    sector = ft.sector[idx]
    market = sector * R + ft.region[idx]
    # Demand grows with the sector and region (real growth over the world frontier's: the
    # model's money is measured against it), and with the markets' mean quality against the
    # world's products: product innovations create value, not only steal shares.
    q_reg = _mean_quality(m, idx, ft.share_reg[idx], market, w.n_sectors * R).reshape(w.n_sectors, R)
    q_exp = _mean_quality(m, idx, ft.share_exp[idx], sector, w.n_sectors)
    m.demand_reg *= m.demand_growth_reg * quality_growth(m.q_reg, q_reg)
    m.demand_exp *= m.demand_growth_exp * quality_growth(m.q_exp, q_exp)
    m.q_reg, m.q_exp = q_reg, q_exp
    imitate(m, idx, market, w.n_sectors * R)
    fit = competitiveness(m, step, idx, step.subsidy_rate)
    emp = np.maximum(ft.skilled[idx] + ft.unskilled[idx], 1)
    sigma = p.market.share_volatility * emp ** (-p.market.volatility_size_exponent)
    shocks = m.normal("share_shock", idx)
    ft.share_reg[idx] = _replicate(m, idx, ft.share_reg[idx], market, w.n_sectors * R, fit, sigma, shocks)

    # Export entry (seed 2.3, 3.3.1): firms with transnational ties, or in a network contract
    # with an exporter, start exporting.
    new_exp = ~ft.exporter[idx] & hazard(m.uniform("export_entry", idx), p.market.export_entry_rate * step.export_access[idx])
    if new_exp.any():
        entrants = idx[new_exp]
        # A new exporter's orders start at its export propensity times its revenue: its share
        # is scaled up for the customers it does not yet reach (:func:`reached_share`).
        was = ft.exporter[idx]
        base = mean_reach(np.where(was, ft.share_exp[idx], 0.0), ft.reach[idx], sector, w.n_sectors)
        ft.exporter[entrants] = True
        x = m.sector_export[ft.sector[entrants]]
        ft.share_exp[entrants] = (ft.revenue[entrants] * x / np.maximum(m.demand_exp[ft.sector[entrants]], 1e-9)
                                  * (base[ft.sector[entrants]] / ft.reach[entrants]))
        m.ledger.add("export_entries", ft.region[entrants])
    exp = ft.exporter[idx]
    ex_idx = idx[exp]
    if len(ex_idx):
        ft.share_exp[ex_idx] = _replicate(m, ex_idx, ft.share_exp[ex_idx], sector[exp], w.n_sectors, fit[exp], sigma[exp], shocks[exp])
    # Customer capital: each firm faces its share of the customers it reaches.
    accumulate_customers(m, idx)
    reach = ft.reach[idx]
    eff_reg = reached_share(ft.share_reg[idx], reach, market, w.n_sectors * R)
    eff_exp = reached_share(np.where(exp, ft.share_exp[idx], 0.0), reach, sector, w.n_sectors)
    demand_reg = m.demand_reg.ravel()[market]
    demand_exp = m.demand_exp[sector]
    wedge = cost_wedge(m, idx, step.subsidy_rate) * m.wage_drift[ft.region[idx]] / step.sharing_gain[idx]
    eta = p.production.demand_elasticity
    demand_reg = demand_reg * _against_outside(eff_reg, market, w.n_sectors * R, wedge, eta)[market]
    demand_exp = demand_exp * _against_outside(eff_exp, sector, w.n_sectors, wedge, eta)[sector]
    rev_reg = eff_reg * demand_reg
    rev_exp = np.where(exp, eff_exp * demand_exp, 0.0)
    ft.demand[idx] = rev_reg + rev_exp
    ft.revenue_exp[idx] = rev_exp  # orders for now; produce() scales them to what is sold


def plan_labour(m, step) -> None:
    """Desired staff by cost minimisation, layoffs, and hiring through the matching function.

    Output target: the demand the firm faces (``demand``). Desired staff per skill minimise the
    wage cost of producing it with the CES of :func:`labour_composite` at the firm's wages (net of
    a wage subsidy at the margin): s X (kappa/r)^sigma skilled and (1 - s) X kappa^sigma unskilled
    persons, X the composite that produces the demand through the span of control
    (:func:`composite_for_demand`); stored as ``desired_skilled`` and
    ``desired_unskilled``, vacancies capped at the hires the firm can finance
    (:func:`cluster_abm.mechanisms.finance.financed_labour`). Staff above the desired level are shed at
    ``production.labour_adjust_rate`` a year (firing costs, labour hoarding); a firm keeps at
    least one person (its entrepreneur). Vacancies (desired minus actual staff) are filled from
    the region's unemployed through :func:`cluster_abm.mechanisms.labour.match_vacancies`: they
    persist where the pools are short (seed 2.6) and cost output (:func:`produce`). Before that,
    employees of less productive firms take some of them (:func:`job_to_job`, the job ladder).

    Step state: reads ``subsidy_rate`` (the skilled wage at the margin), ``sharing_gain``
    (effective productivity).
    """
    ft, p = m.firms, m.p
    idx = ft.idx
    for flow in ("hires", "hires_skilled", "hires_unskilled", "separations"):
        m.ledger.record(flow)  # zero when no firm is left to hire (an extinct world)
    if len(idx) == 0:
        return
    s, pi = technology(m, idx)
    sigma = p.production.skill_substitution
    r = wage_ratio(m, idx, step.subsidy_rate)
    kappa = cost_factor(r, pi, sigma)
    target = composite_for_demand(m, step, idx, step.subsidy_rate)
    want_s = s * target * (kappa / r) ** sigma
    want_u = (1.0 - s) * target * kappa**sigma
    want_s, want_u = finance.financed_labour(m, idx, want_s, want_u)  # financing constraint on hires
    ft.desired_skilled[idx] = want_s
    ft.desired_unskilled[idx] = want_u
    rate = p.production.labour_adjust_rate
    excess_s = keyed_round(m.uniform("round_skilled", idx), rate * np.maximum(ft.skilled[idx] - want_s, 0.0))
    excess_u = keyed_round(m.uniform("round_unskilled", idx), rate * np.maximum(ft.unskilled[idx] - want_u, 0.0))
    region = ft.region[idx]
    # Layoffs first (the entrepreneur always stays), so laid-off workers can be rehired elsewhere.
    fire_s = np.minimum(excess_s, ft.skilled[idx])
    fire_u = np.minimum(excess_u, ft.unskilled[idx])
    last = ((ft.skilled[idx] - fire_s + ft.unskilled[idx] - fire_u) == 0) & ((fire_s + fire_u) > 0)
    keep_skilled = last & (fire_s > 0)
    fire_s[keep_skilled] -= 1
    fire_u[last & ~keep_skilled] -= 1
    ft.skilled[idx] -= fire_s.astype(np.int32)
    ft.unskilled[idx] -= fire_u.astype(np.int32)
    m.ledger.add("separations", region, fire_s + fire_u)
    job_to_job(m, step, idx, want_s, want_u)
    for col, want, pool, skill in (("skilled", want_s, m.unemployed_s(), "skilled"),
                                   ("unskilled", want_u, m.unemployed_u(), "unskilled")):
        staff = getattr(ft, col)
        vacancies = np.maximum(want - staff[idx], 0.0)
        hire = match_vacancies(m, idx, vacancies, pool, skill)
        staff[idx] += hire.astype(np.int32)
        m.ledger.add("hires", region, hire)
        m.ledger.add("hires_" + col, region, hire)  # skilled hires: recent graduates' first jobs (labour)


def job_to_job(m, step, idx: np.ndarray, want_s: np.ndarray, want_u: np.ndarray) -> None:
    """On-the-job search up a job ladder: employees move to more productive firms' vacancies.

    Each employee other than the owner-manager meets an open vacancy of its skill in its region
    at the yearly rate ``labour.on_the_job_search``, the vacancy drawn in proportion to the
    region's vacancies (random search), and takes it when the offering firm is more productive
    than its own (quality x effective productivity, :func:`effective_productivity`): more
    productive firms can pay more, so offers from them are accepted and offers from less
    productive ones refused (the job ladder of Burdett & Mortensen 1998; Postel-Vinay & Robin
    2002). A firm hires at most its open vacancies this way. So workers flow from less to more
    productive firms (Haltiwanger, Hyatt & McEntarfer 2018), and firms that want to grow in a
    tight labour market grow by poaching, not only from the trickle of the unemployed: small
    young firms poach from all others (Haltiwanger, Hyatt, Kahn & McEntarfer 2018, "Cyclical job
    ladders by firm size and firm wage"). The firms left behind refill the vacancies from the
    unemployed (:func:`cluster_abm.mechanisms.labour.match_vacancies`), a vacancy chain.

    Expected flows per region and skill: a firm j with vacancies v_j hires a v_j / V x (searching
    employees of the less productive firms of its region), capped at v_j; a firm i loses
    a e_i / V x (vacancies of the more productive firms, as filled) searching employees e_i.
    Both sides add up to the same regional total, which is rounded with a keyed draw per region
    and spread over firms by systematic rounding, so every move has a leaver and a joiner.

    Step state: reads ``sharing_gain``.
    """
    ft, p = m.firms, m.p
    a = -np.expm1(-p.labour.on_the_job_search)  # per step: chance an employee meets a vacancy
    if a <= 0.0 or len(idx) == 0:
        return
    R = m.world.n_regions
    region = ft.region[idx]
    ladder = ft.quality[idx] * effective_productivity(m, step, idx)
    order = np.lexsort((ladder, region))  # by region, then up the ladder
    reg, rung = region[order], ladder[order]
    # Firms at the same rung are no better than each other: group ties.
    new_rung = np.ones(len(order), dtype=bool)
    new_rung[1:] = (reg[1:] != reg[:-1]) | (rung[1:] != rung[:-1])
    first = np.maximum.accumulate(np.where(new_rung, np.arange(len(order)), 0))
    last = np.minimum.accumulate(np.where(np.concatenate([new_rung[1:], [True]]), np.arange(len(order)), len(order))[::-1])[::-1]
    reg_start = np.searchsorted(reg, np.arange(R + 1))
    # Per region, the keyed draws of both skills at once (column j is sub-stream j): columns 0-1
    # round each skill's moves, 2-5 spread each skill's hires and quits over the ladder.
    draws = keyed_uniform_columns(m.rngs.key, np.arange(R), m.t, PURPOSES["job_to_job"], 6)
    moved = np.zeros(len(idx), dtype=np.int64)
    for sub, (col, want) in enumerate((("skilled", want_s), ("unskilled", want_u))):
        staff = getattr(ft, col)
        n = (ft.skilled[idx] + ft.unskilled[idx]).astype(float)
        searching = np.divide(n - 1.0, n, out=np.zeros_like(n), where=n > 0)  # the owner stays
        e = (staff[idx] * searching)[order]
        v = np.maximum(want - staff[idx], 0.0)[order]
        V = np.bincount(reg, weights=v, minlength=R)
        share = np.divide(v, V[reg], out=np.zeros_like(v), where=V[reg] > 0)
        # Searching employees of strictly lower rungs of the region, for each firm.
        ce = np.concatenate([[0.0], np.cumsum(e)])
        below = ce[first] - ce[reg_start[reg]]
        hires = np.minimum(a * share * below, v)
        # Vacancies of strictly higher rungs, weighted by how far they are filled.
        filled = np.divide(hires, a * share * below, out=np.zeros_like(v), where=share * below > 0)
        cv = np.concatenate([[0.0], np.cumsum(share * filled)])
        above = cv[reg_start[reg + 1]] - cv[last + 1]
        quits = a * e * above
        total = np.bincount(reg, weights=hires, minlength=R)
        moves = keyed_round(draws[:, sub], total).astype(float)
        scale = np.divide(moves, total, out=np.zeros(R), where=total > 0)
        hired = systematic_round(draws[:, 2 + 2 * sub], hires * scale[reg], reg)
        left = systematic_round(draws[:, 3 + 2 * sub], quits * scale[reg], reg)
        change = np.zeros(len(idx), dtype=np.int64)
        change[order] = hired - left
        staff[idx] += change.astype(staff.dtype)
        moved[order] += hired
    m.ledger.add("hires", region, moved)


def produce(m, step) -> None:
    """Sales: a firm sells the demand it faces up to its output capacity (effective productivity
    x quality x labour composite of its staff after this step's hiring, :func:`capacity`); the
    rest of its demand is lost (and lowers its competitiveness next step). Export sales are cut
    in the same proportion.

    Step state: reads ``sharing_gain``."""
    ft = m.firms
    idx = ft.idx
    if len(idx) == 0:
        return
    demand = ft.demand[idx]
    sold = np.minimum(demand, capacity(m, step, idx))
    served = np.divide(sold, demand, out=np.ones(len(idx)), where=demand > 0)
    ft.revenue[idx] = sold
    ft.revenue_exp[idx] *= served
