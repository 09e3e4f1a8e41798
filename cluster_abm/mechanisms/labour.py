"""Regional labour pools, recent graduates, brain drain and return migration, wages (seed 2.6,
3.6.4).

Workers are not agents: each region has a labour force per skill level (a stock) with flows in (the
entering cohort: its skilled part, of which the region's graduates, and the rest unskilled) and out
(retirement, emigration), and between it and the region's inactive working-age people (the
participation margin, :func:`participation`: discouraged workers leave when unemployment is high,
inactive people enter when jobs are plentiful; Decressin & Fatas 1995); employment is the sum of
firms' staff and unemployment the rest. The entering cohort replaces the retirees (a stationary
population: the working-age population of the baseline regions changes by well under 1 % a year
before migration, Eurostat demo_r_pjangroup) and has the region's skill mix (:func:`_entrants`), so
the labour force changes only through participation and migration, and its skill mix only through
migration: brain drain thins the skilled stock and returns refill it. Skilled emigration (brain
drain) follows a logistic hazard in the wage gap to abroad, the unemployment rate and the share of
peers already abroad (Borjas 1987; Docquier & Rapoport 2012); employed skilled workers emigrate
too, at a lower hazard, and their firms lose them. Part of the diaspora returns each year (Dustmann
& Weiss 2007), the fewer the wider the wage gap to abroad: emigrants from poorer origins stay
abroad longer (Borjas & Bratsberg 1996; Dustmann 2003; Dustmann & Görlach 2016), see
:func:`return_rate`. The diaspora share is the balance of the two flows (about outflow / (outflow +
return) at rest), so the early-stage regions, with wider wage gaps, keep a larger share of their
skilled abroad than the mature ones (seed 2.1, 2.6) through both flows, not only through
emigration.

Recent graduates (seed 3.6.4: educating more without jobs can intensify the drain, "as educated
and skilled young people explore better opportunities and futures elsewhere"): each region keeps
the stock of its graduates within ``migration.first_job_years`` of graduation and how many of them
have not found a first job (a part of the skilled unemployed). They find first jobs at the skilled
unemployed's job-finding rate of the step (skilled hires over the skilled unemployed), and those
without one weigh emigration against the recent graduates' unemployment rate, not the skilled
workers' at large (the Harris-Todaro expected domestic wage of their group).

Retention levers act on these drivers only (seed 3.6.4: "labour policies and fiscal incentives"):
``returnee_tax_relief`` raises the net domestic wage of returning skilled citizens in the return
decision (Italy's 2010 Controesodo and later impatriate regimes; Bassetto & Ippedico 2023);
``graduate_first_jobs`` raises the first-job finding of recent graduates relative to the other
skilled unemployed (a hiring subsidy for first jobs: who is hired, not how many); traineeships
(``university_firm_collab``) fill firms' open skilled posts with recent graduates. Flows of people
are drawn as binomials at keyed uniforms (per firm or per region and step), so a lever that keeps
a few people at home leaves every other draw of the run unchanged (common random numbers).

Firms hire the unemployed through a matching function per region and skill (Petrongolo &
Pissarides 2001) with labour pooling: vacancies fill faster in thick local labour markets, the
firm's sector in its region (Marshall 1890; Helsley & Strange 1990; Overman & Puga 2010; the
market-size elasticity of job finding of Moretti & Yi 2025), see :func:`match_vacancies`. Wages
follow regional productivity, unemployment (a wage curve; Blanchflower & Oswald 1994) and, per
skill, the pool's vacancies over its unemployed (a V/U wage Phillips curve; Pissarides 2000;
Barnichon & Shapiro 2022; Bernanke & Blanchard 2023), set in yearly contracts renewed evenly
through the year (staggered wage setting; Taylor 1980), see :func:`update_wages`; a tight region's
wage costs rise against outside suppliers, so its firms lose demand and post fewer vacancies.
"""

from __future__ import annotations

import numpy as np

from cluster_abm.mechanisms import span
from cluster_abm.numerics.binomial import binomial_from_uniform
from cluster_abm.numerics.keyed_random import PURPOSES, keyed_uniform, keyed_uniform_columns
from cluster_abm.numerics.rounding import keyed_round
from cluster_abm.policy.lever_state import ALL, covered_share
from cluster_abm.state.firm_table import open_posts, wage_bill

# Sub-streams of the per-region keyed draws (purpose "region_labour").
_RETIRE_S, _RETIRE_U, _GRADUATES, _SKILLED_IN, _COHORT = 0, 1, 2, 3, 4
_EMIGRATE_GRADUATES, _EMIGRATE_OTHERS, _RETURN, _TRAINEES, _JOBLESS_ROUND = 5, 6, 7, 8, 9
_PARTICIPATE_S, _PARTICIPATE_U = 10, 11


def _region_uniform(m, sub: int) -> np.ndarray:
    """One keyed uniform per region for this step (common random numbers for pool flows)."""
    return keyed_uniform(m.rngs.key, np.arange(m.world.n_regions), m.t, PURPOSES["region_labour"], sub)


def emigration_rate(m, graduates: bool = False) -> np.ndarray:
    """Yearly emigration hazard of an unemployed skilled worker, per region: a logit in
    ln(foreign wage / regional skilled wage), the unemployment rate and the diaspora share,
    capped at ``migration.max_rate`` (Borjas 1987; Docquier & Rapoport 2012).

    With ``graduates``: of a recent graduate without a first job, for whom the unemployment rate
    that matters is the recent graduates' (seed 3.6.4)."""
    mp = m.p.yearly.migration
    if graduates:
        u = np.divide(m.grads_jobless, m.grads, out=np.zeros_like(m.grads), where=m.grads > 1e-9)
    else:
        u = m.unemployed_s() / np.maximum(m.lf_s, 1.0)
    diaspora = m.diaspora / np.maximum(m.diaspora + m.lf_s, 1.0)
    z = (mp.intercept + mp.wage_gap_weight * np.log(m.foreign_wage / m.wage_s)
         + mp.unemployment_weight * u + mp.peer_weight * diaspora)
    return mp.max_rate / (1.0 + np.exp(-z))


def return_rate(m) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per region and step: the return probability of a skilled citizen abroad, the share of
    returnees the ``returnee_tax_relief`` lever's budget covers, and the relief's cost per covered
    returnee (k€).

    Return migration falls with the wage gap to abroad (seed 2.6, 3.6.4: brain circulation):
    emigrants from poorer origins return less and later, as the gain of staying abroad is larger
    (Borjas & Bratsberg 1996: outmigration of immigrants is higher for those from richer origin
    countries; Dustmann 2003 and Dustmann & Weiss 2007: the optimal duration abroad falls with
    the relative value of the home wage; Dustmann & Görlach 2016 review the evidence). The
    probability is ``migration.return_rate`` x (net domestic skilled wage / foreign wage x
    exp(``migration.return_reference_gap``))^``migration.return_wage_elasticity``: the base rate
    (Dustmann & Weiss 2007) holds where ln(foreign / domestic wage) equals the reference gap and
    changes with the net domestic wage relative to the foreign one with the elasticity of the
    return probability to the net-of-tax domestic wage. A relief that raises the net wage of
    returnees by ``policy.returnee_tax_relief`` x intensity for ``policy.returnee_relief_years``
    is one such rise of the net wage and raises the return probability of those it covers by
    (1 + relief)^elasticity - 1 (Bassetto & Ippedico 2023: Italy's 2010 Controesodo exemption
    raised eligible graduates' return probability by about 27 %; Kleven et al. 2014: elasticity
    of migration to the net-of-tax rate 1.5-2 for foreigners). The scheme covers returnees while
    its yearly budget lasts (first come); its cost per returnee is the forgone tax, relief x the
    skilled wage x the relief years, booked at return. Probabilities are capped at 1 a step.
    """
    p = m.p
    mp = p.migration
    pull = (m.wage_s / m.foreign_wage * np.exp(mp.return_reference_gap)) ** mp.return_wage_elasticity
    base = mp.return_rate * pull
    none = np.zeros(m.world.n_regions)
    if not m.policy.on("returnee_tax_relief"):
        return np.minimum(base, 1.0), none, none
    relief = p.policy.returnee_tax_relief * m.policy.level("returnee_tax_relief", regions=ALL)
    gain = (1.0 + relief) ** p.migration.return_wage_elasticity - 1.0
    unit = relief * m.wage_s * p.yearly.policy.returnee_relief_years
    wanted = m.diaspora * base * (1.0 + gain) * unit  # expected cost this step at full cover
    cover = np.where(relief > 0, covered_share(m.policy.left("returnee_tax_relief"), wanted), 0.0)
    return np.minimum(base * (1.0 + cover * gain), 1.0), cover, unit


def _first_jobs(m) -> None:
    """Recent graduates without a first job find one at the skilled unemployed's job-finding rate
    of this step (skilled hires of :func:`cluster_abm.mechanisms.production.plan_labour` over the
    skilled unemployed before them; Petrongolo & Pissarides 2001), raised by first-job support
    (``graduate_first_jobs``: ``policy.first_job_boost`` x intensity x the share its budget
    covers), never beyond the step's skilled hires: support changes who is hired, not how many
    (Crépon et al. 2013 on displacement). Then both graduate stocks age out of the first-job
    window (``migration.first_job_years``)."""
    p = m.p
    if len(m.firms.idx) and "hires_skilled" not in m.ledger.names():
        raise RuntimeError("labour._first_jobs reads this step's skilled hires, which "
                           "production.plan_labour records in the ledger as 'hires_skilled'")
    hires = m.ledger.get("hires_skilled")
    pool = np.maximum(m.unemployed_s(), 0.0)
    f = np.divide(hires, hires + pool, out=np.zeros_like(hires), where=(hires + pool) > 0)
    found = m.grads_jobless * f
    if m.policy.on("graduate_first_jobs"):
        boost = p.policy.first_job_boost * m.policy.level("graduate_first_jobs", regions=ALL)
        unit = p.policy.first_job_subsidy * m.wage_s  # k€ per supported first job
        wanted = m.grads_jobless * np.minimum(f * (1.0 + boost), 1.0) * unit
        cover = np.where(boost > 0, covered_share(m.policy.left("graduate_first_jobs"), wanted), 0.0)
        found = np.minimum(m.grads_jobless * np.minimum(f * (1.0 + boost * cover), 1.0), hires)
        for r in np.flatnonzero(cover > 0):
            m.policy.charge("graduate_first_jobs", int(r), found[r] * cover[r] * unit[r])
    m.grads_jobless -= found
    m.ledger.add("first_jobs_graduates", np.arange(m.world.n_regions), found)
    ageing = 1.0 / (p.yearly.migration.first_job_years * p.steps_per_year)
    m.grads *= 1.0 - ageing
    m.grads_jobless *= 1.0 - ageing


def _entrants(m) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per region this step: skilled and unskilled entrants, and the region's graduates among
    the skilled.

    One cohort enters per region, ``labour.cohort_rate`` of the whole labour force (at the
    retirement rate it replaces the retirees: a stationary population). Its skilled share is the
    region's tertiary share of the scenario (field ``skilled_share``): the cohort's attainment is
    that of the labour force it joins, so the skill mix is stationary, as the population is (in
    the EU younger cohorts are more often tertiary-educated, Eurostat edat_lfse_03; that
    upgrading is left out of the baseline, as population change is). The region's universities
    graduate ``ki.graduates_per_university`` of the cohort per unit of university quality; the
    other skilled entrants come from other regions' and foreign universities. Universities that
    graduate more than the cohort's attainment raise it (up to the whole cohort); the skilled
    stock then converges to the new share over a career instead of compounding on itself.
    """
    p = m.p
    cohort = (m.lf_s + m.lf_u) * p.labour.cohort_rate
    entrants = keyed_round(_region_uniform(m, _COHORT), cohort)
    grad_share = np.minimum(m.university_output * p.ki.graduates_per_university, 1.0)
    graduates = np.minimum(keyed_round(_region_uniform(m, _GRADUATES), cohort * grad_share), entrants)
    attained = keyed_round(_region_uniform(m, _SKILLED_IN), cohort * m.world.region_field("skilled_share"))
    skilled_in = np.minimum(np.maximum(attained, graduates), entrants)
    return skilled_in, entrants - skilled_in, graduates


def labour_flows(m, step) -> None:
    """Retirements, recent graduates' first jobs, entrants (the cohort of :func:`_entrants`:
    its skilled part, of which the region's graduates, and the rest unskilled), skilled
    emigration and return migration.

    Step state: writes ``graduates``.
    """
    ft, p = m.firms, m.p
    idx = ft.idx
    region = ft.region[idx]
    R = m.world.n_regions
    regions = np.arange(R)
    # This function's keyed draws per region, in one call: column j is sub-stream j.
    draws = keyed_uniform_columns(m.rngs.key, regions, m.t, PURPOSES["region_labour"], _JOBLESS_ROUND + 1)
    # Retirement: employees leave their firms and the labour force; so do unemployed retirees.
    r = p.labour.retirement_rate
    for sub, (col, lf, pool_fn) in enumerate((("skilled", m.lf_s, m.unemployed_s),
                                              ("unskilled", m.lf_u, m.unemployed_u))):
        staff = getattr(ft, col)
        pool = pool_fn()
        retired_emp = binomial_from_uniform(m.uniform("retire", idx, sub), staff[idx], r)
        staff[idx] -= retired_emp.astype(np.int32)
        retired_un = binomial_from_uniform(draws[:, (_RETIRE_S, _RETIRE_U)[sub]],
                                           np.maximum(pool, 0).astype(np.int64), r)
        out = np.bincount(region, weights=retired_emp, minlength=R) + retired_un
        lf -= out
        m.ledger.add("retirements", regions, out)
    _first_jobs(m)
    skilled_in, unskilled_in, graduates = _entrants(m)
    m.lf_s += skilled_in
    m.lf_u += unskilled_in
    participation(m)
    m.grads += graduates
    m.grads_jobless += graduates
    step.graduates = graduates
    m.ledger.add("graduates", regions, graduates)
    # Brain drain: recent graduates without a first job and the other skilled unemployed emigrate
    # at their full hazards, the employed at a share of the others'.
    hazard = -np.expm1(-emigration_rate(m) / p.steps_per_year)
    hazard_g = -np.expm1(-emigration_rate(m, graduates=True) / p.steps_per_year)
    pool = np.maximum(m.unemployed_s(), 0).astype(np.int64)
    jobless = np.minimum(keyed_round(draws[:, _JOBLESS_ROUND], m.grads_jobless), pool)
    gone_g = binomial_from_uniform(draws[:, _EMIGRATE_GRADUATES], jobless, hazard_g)
    gone_un = binomial_from_uniform(draws[:, _EMIGRATE_OTHERS], pool - jobless, hazard)
    gone_emp = binomial_from_uniform(m.uniform("emigrate", idx), ft.skilled[idx],
                                     hazard[region] * p.migration.employed_factor)
    ft.skilled[idx] -= gone_emp.astype(np.int32)
    gone_emp_r = np.bincount(region, weights=gone_emp, minlength=R)
    # Employed recent graduates leave in proportion to their share of the employed skilled.
    employed_s = np.bincount(region, weights=ft.skilled[idx], minlength=R) + gone_emp_r
    employed_g = np.maximum(m.grads - m.grads_jobless, 0.0)
    m.grads -= gone_g + gone_emp_r * np.divide(employed_g, employed_s, out=np.zeros(R), where=employed_s > 0)
    m.grads_jobless = np.maximum(m.grads_jobless - gone_g, 0.0)
    emigrants = gone_g + gone_un + gone_emp_r
    m.lf_s -= emigrants
    m.emigrants_cum += emigrants
    # Return migration: part of the diaspora comes back and looks for work at home.
    rate, cover, unit = return_rate(m)
    returnees = binomial_from_uniform(draws[:, _RETURN], np.round(m.diaspora).astype(np.int64), rate)
    returnees = np.minimum(returnees, np.floor(m.diaspora))  # a rounded-up diaspora never goes below 0
    for r in np.flatnonzero(cover * returnees > 0):
        m.policy.charge("returnee_tax_relief", int(r), returnees[r] * cover[r] * unit[r])
    m.diaspora += emigrants - returnees
    m.lf_s += returnees
    # The graduates without a first job are a part of the skilled unemployed.
    m.grads = np.maximum(m.grads, 0.0)
    m.grads_jobless = np.minimum(m.grads_jobless, np.minimum(m.grads, np.maximum(m.unemployed_s(), 0.0)))
    m.ledger.add("skilled_returnees", regions, returnees)
    m.ledger.add("skilled_emigrants", regions, emigrants)
    m.ledger.add("skilled_emigrants_graduates", regions, gone_g)
    m.ledger.add("skilled_emigrants_employed", regions, gone_emp_r)


def participation(m) -> None:
    """Flows between inactivity and the labour force (the participation margin).

    Each region keeps, per skill, working-age people outside the labour force (``inactive_s``,
    ``inactive_u``). Its target activity rate is ``labour.activity_rate`` x (1 -
    ``labour.participation_response`` x (u - u0)), u the regional unemployment rate and u0 its
    initial level (the reference of the wage curve, :func:`update_wages`): when jobs are scarce
    discouraged workers stop searching, when they are plentiful inactive people start (the
    participation decision weighs the value of search against that of inactivity, which rises
    with the job-finding rate: Pissarides 2000, ch. 7; Garibaldi & Wasmer 2005). Each step the
    labour force of each skill closes ``labour.participation_adjust`` (a year) of its gap to that
    target: the inactive enter as unemployed searchers, and only the unemployed leave. In European
    regions a labour-demand shock is absorbed mostly by participation in the first three years,
    little by unemployment and hardly by migration (Decressin & Fatas 1995); with a fixed labour
    force every job a policy added or a closure cut moved unemployment one for one.

    The inactive pool's own turnover (people ageing out, young people staying in education) is
    left out, as the population is stationary (:func:`_entrants`); emigrants and returnees are
    skilled workers of the labour force (:func:`labour_flows`). Rounded with a keyed draw per
    region and skill (common random numbers).
    """
    p = m.p
    lf = m.lf_s + m.lf_u
    unemployed = {"s": m.unemployed_s(), "u": m.unemployed_u()}  # before either flow
    u = (unemployed["s"] + unemployed["u"]) / np.maximum(lf, 1.0)
    target = np.clip(p.labour.activity_rate * (1.0 - p.labour.participation_response * (u - m.u0)), 0.0, 1.0)
    rate = p.labour.participation_adjust
    for sub, skill in ((_PARTICIPATE_S, "s"), (_PARTICIPATE_U, "u")):
        force, inactive = getattr(m, "lf_" + skill), getattr(m, "inactive_" + skill)
        pool = np.maximum(unemployed[skill], 0.0)
        gap = rate * (target * (force + inactive) - force)
        flow = keyed_round(_region_uniform(m, sub), np.abs(gap)) * np.sign(gap)
        flow = np.clip(flow, -np.floor(pool), np.floor(inactive))  # only the unemployed leave
        force += flow
        inactive -= flow


def open_skilled_posts(m, slots: np.ndarray) -> np.ndarray:
    """Skilled posts firms ``slots`` plan for but have not filled (whole posts, >= 0): the skilled
    staff :func:`cluster_abm.mechanisms.production.plan_labour` aims at (``desired_skilled``, by
    cost minimisation for the demand the firm faces) minus the skilled it employs."""
    ft = m.firms
    return np.maximum(np.floor(ft.desired_skilled[slots] - ft.skilled[slots]), 0).astype(np.int64)


def place_trainees(m, step) -> None:
    """University-firm collaboration (seed 3.6.4: courses for the cluster's needs, traineeships,
    PhDs co-financed by firms): the programme matches recent graduates still without a first job
    with host firms able to absorb them (absorptive capacity at least ``ki.ac_threshold``) that
    have open skilled posts (:func:`open_skilled_posts`). Up to ``policy.trainee_rate`` x
    intensity of the step's graduates (never more than the graduates without a job) are placed,
    each in an open post of a host of their region. A placement fills a post the firm plans for:
    the programme changes who fills skilled posts and how soon (internships raise graduates'
    job finding: Saniter & Siedler 2014; Baert et al. 2021), not how many posts firms want.

    Step state: reads ``graduates``.
    """
    if not m.policy.on("university_firm_collab"):
        return
    ft, p, rng = m.firms, m.p, m.rngs.policy
    idx = ft.idx
    level = m.policy.level("university_firm_collab", regions=ALL)
    want = keyed_round(_region_uniform(m, _TRAINEES), step.graduates * np.minimum(p.policy.trainee_rate * level, 1.0))
    pool = np.maximum(m.unemployed_s(), 0)
    want = np.minimum(want, np.minimum(np.floor(m.grads_jobless), pool)).astype(np.int64)
    hosts_ok = idx[(ft.absorptive[idx] >= p.ki.ac_threshold)
                   & (m.policy.level("university_firm_collab", firms=idx) > 0)]
    posts = open_skilled_posts(m, hosts_ok)
    hosts_ok, posts = hosts_ok[posts > 0], posts[posts > 0]
    host_region = ft.region[hosts_ok]
    # Open posts are drawn region by region (a post once, without replacement); then one budget
    # call serves all regions, since each region draws on its own budget.
    picks = []
    for r in (want > 0).nonzero()[0]:
        here = host_region == r
        slots = np.repeat(hosts_ok[here], posts[here])
        if len(slots):
            picks.append(rng.choice(slots, size=min(int(want[r]), len(slots)), replace=False))
    if not picks:
        return
    chosen = np.concatenate(picks)
    chosen = chosen[m.policy.grant("university_firm_collab", chosen, p.yearly.policy.trainee_cost)]
    if len(chosen) == 0:
        return
    uniq, cnt = np.unique(chosen, return_counts=True)
    ft.skilled[uniq] += cnt.astype(np.int32)
    placed = np.bincount(ft.region[chosen], minlength=m.world.n_regions)
    m.grads_jobless = np.maximum(m.grads_jobless - placed, 0.0)
    m.ledger.add("trainees_placed", ft.region[chosen])


def tightness(m, unemployed_s: np.ndarray, unemployed_u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Labour-market tightness V/U per region, for skilled and for unskilled workers: the open
    posts firms hold (:func:`cluster_abm.state.firm_table.open_posts`, from the ``desired_*`` staff
    of :func:`cluster_abm.mechanisms.production.plan_labour`) over the region's
    unemployed of that skill (``unemployed_s``, ``unemployed_u``: persons per region; at least
    one person). The vacancy-unemployment ratio theta of search and matching (Pissarides 2000),
    the slack measure of the V/U wage Phillips curves (Barnichon & Shapiro 2022; Ball, Leigh &
    Mishra 2022; Bernanke & Blanchard 2023)."""
    ft = m.firms
    idx = ft.idx
    region = ft.region[idx]
    R = m.world.n_regions
    out = []
    for skill, pool in (("skilled", unemployed_s), ("unskilled", unemployed_u)):
        V = np.bincount(region, weights=open_posts(ft, idx, skill), minlength=R)
        out.append(V / np.maximum(pool, 1.0))
    return out[0], out[1]


def update_wages(m) -> None:
    """Each step: the wage contracts of a share 1/steps-per-year of workers are renewed (yearly
    contracts renewed evenly through the year: staggered wage setting, Taylor 1980; Calvo 1983;
    in Europe most firms change base wages about once a year, Druant et al. 2012). A renewed
    contract's yearly raise passes through part of regional productivity growth, rises when
    unemployment is below its initial level (falls when above), and rises with labour-market
    tightness V/U, each skill's with its own pool's tightness; the regional wage, the mean over
    the contracts, moves by the renewed share of that raise, at the conditions of the step.

    Yearly raise of a renewed contract of skill k in a region:

        ``production.wage_pass_through`` x g + ``labour.wage_tightness`` x (u0 - u)
        + ``labour.wage_vu_slope`` x (V_k/U_k - ``labour.vu_reference``)
        + ``labour.share_correction`` x log(s0 / s)

    with g the region's productivity growth at a yearly rate (this step's growth x steps per
    year), capped at +-``labour.max_wage_change``. The regional wage of skill k moves by the
    raise / steps per year in the step: the same yearly rate as a once-a-year update, but set on
    the conditions of each quarter, not on one quarter's. With one update a year the wage took a
    whole year's change (up to the cap) from the unemployment of one step, e.g. the quarter a
    large firm had just closed, and held it for a year while demand moved the other way: a
    cobweb of 10-30 points in small regions (NE Romania; docs/calibration.md). A region without firms has no
    productivity to pass on: its productivity growth is 0, not a fall to 0 (and the wage-cost
    drift below stays finite when wages take all of it). The second term is the wage curve in
    unemployment (Blanchflower & Oswald 1994), one rate for both skills. The third is the V/U
    wage Phillips curve: in search and matching the bargained wage rises with tightness theta =
    V/U, because a worker's outside option improves and a firm's cost of an unfilled post rises
    (Pissarides 2000, ch. 1); empirically V/U is the better measure of wage pressure
    (Barnichon & Shapiro 2022; Ball, Leigh & Mishra 2022; Bernanke & Blanchard 2023), steep
    where V/U is above about 1 (Benigno & Eggertsson 2023), hence linear in V/U, not in its log.
    It JOINS the unemployment term rather than replacing it: with a fixed matching efficiency
    the two terms meet on the Beveridge curve, and the unemployment term is the one the
    calibration (``calibrate_see``) fitted to unemployment; the V/U term is what stops labour
    demand running above supply (vacancies, not unemployment, signal it when the pool is
    nearly empty). Each skill follows its own pool's tightness (:func:`tightness`), so a
    shortage of skilled workers raises the skill premium (Katz & Murphy 1992) and firms
    substitute towards unskilled staff (cost minimisation in ``plan_labour``).

    The last term is error correction towards the region's labour share s0 at the build (its
    firms' wage bill over their revenue, :func:`labour_share`; s now): the pass-through passes only
    part of each step's productivity growth, and without a level to return to, the labour share
    fell wherever innovation raised output per person and rose where it did not (years 0-40 of
    the baseline, 4 seeds: 0.35 -> 0.16 in the Veneto-like region, 0.77 -> 0.84 in the
    Romania-like one), and firm entry, which reads the owner's margin, followed it. Most European
    wage equations carry such a term: wages return to productivity in the long run (Blanchard &
    Katz 1999), and factor shares show no trend (Kaldor 1961; Gollin 2002). With productivity
    growing at g the share settles at a constant gap below s0, about g (1 - pass-through) over
    the correction's speed, and stays there.

    Outside suppliers (:func:`cluster_abm.mechanisms.production.compete`) share the region's
    technology and the pass-through of its productivity growth, not its labour-market tightness:
    ``m.wage_drift`` (per region) accumulates the unit labour cost change beyond the
    pass-through and the error correction (both shared by the outside suppliers), the skills'
    wage changes weighted by their shares of the region's wage bill (Shephard's lemma), the
    region's wage cost over theirs. A tight labour market thus raises
    the region's costs against them and loses it demand (the scale effect of labour demand;
    Hamermesh 1993), so its firms want fewer staff and post fewer vacancies: the loop closes.
    The foreign wage grows at ``labour.foreign_wage_growth`` a year, compounded per step, less
    the world's technology frontier's growth, against which the model's money is measured
    (:mod:`cluster_abm.mechanisms.technology`)."""
    ft, y = m.firms, m.p.yearly
    spy = m.p.steps_per_year
    idx = ft.idx
    emp = ft.skilled[idx] + ft.unskilled[idx]
    R = m.world.n_regions
    region = ft.region[idx]
    # Output per person (technology x quality x the span-of-control factor of its persons).
    output = ft.productivity[idx] * ft.quality[idx] * emp * span.span_factor(m, idx, emp)
    prod = np.bincount(region, weights=output, minlength=R)
    staff = np.bincount(region, weights=emp, minlength=R)
    # A region without firms has no productivity to pass on (not a fall to 0): growth 0 there.
    prod = np.where(staff > 0, prod / np.maximum(staff, 1.0), m.last_productivity)
    growth = np.where(m.last_productivity > 0, prod / np.maximum(m.last_productivity, 1e-9) - 1.0, 0.0)
    m.last_productivity = prod
    unemployed_s, unemployed_u = m.unemployed_s(), m.unemployed_u()
    u = (unemployed_s + unemployed_u) / np.maximum(m.lf_s + m.lf_u, 1.0)
    theta_s, theta_u = tightness(m, unemployed_s, unemployed_u)
    passed = y.production.wage_pass_through * growth  # this step's
    # Error correction towards the build's labour share (none where either share is undefined).
    share, s0 = labour_share(m), m.labour_share0
    defined = (share > 0) & (s0 > 0)
    gap = np.log(np.where(defined, s0, 1.0) / np.where(defined, share, 1.0))
    correction = y.labour.share_correction * gap  # yearly rate
    cap = y.labour.max_wage_change
    curve = passed * spy + correction + y.labour.wage_tightness * (m.u0 - u)  # yearly rates
    vu = y.labour.wage_vu_slope
    raise_s = np.clip(curve + vu * (theta_s - y.labour.vu_reference), -cap, cap)
    raise_u = np.clip(curve + vu * (theta_u - y.labour.vu_reference), -cap, cap)
    factor_s = 1.0 + raise_s / spy  # the renewed contracts' share of the yearly raise
    factor_u = 1.0 + raise_u / spy
    bill_s = m.wage_s * np.bincount(region, weights=ft.skilled[idx], minlength=R)
    bill = bill_s + m.wage_u * np.bincount(region, weights=ft.unskilled[idx], minlength=R)
    share_s = np.divide(bill_s, bill, out=np.full(R, 0.5), where=bill > 0)
    m.wage_s *= factor_s
    m.wage_u *= factor_u
    m.wage_drift *= (share_s * factor_s + (1.0 - share_s) * factor_u) / (1.0 + passed + correction / spy)
    m.foreign_wage *= ((1.0 + y.labour.foreign_wage_growth) / (1.0 + y.technology.frontier_growth)) ** (1.0 / spy)


def labour_share(m) -> np.ndarray:
    """Per region: the wage bill of its firms (every person at the region's wage of their skill,
    owner-managers included) over their revenue (k€/yr; revenue is value added, the model having
    no bought-in inputs); 0 for a region without revenue."""
    ft, R = m.firms, m.world.n_regions
    idx = ft.idx
    region = ft.region[idx]
    bill = np.bincount(region, weights=wage_bill(ft, idx, m.wage_s, m.wage_u), minlength=R)
    revenue = np.bincount(region, weights=ft.revenue[idx], minlength=R)
    return np.divide(bill, revenue, out=np.zeros(R), where=revenue > 0)


def pool_thickness(m, idx: np.ndarray) -> np.ndarray:
    """Thickness of each firm's local labour market: employment of its sector in its region over
    the region's employment, times the number of sectors (1 where employment is spread evenly
    over the sectors). Moretti & Yi (2025) define the market as a commuting zone x industry and
    identify its size effect within commuting zones, as this ratio does within regions."""
    ft, w = m.firms, m.world
    region = ft.region[idx]
    emp = (ft.skilled[idx] + ft.unskilled[idx]).astype(float)
    cell = ft.sector[idx] * w.n_regions + region
    by_cell = np.bincount(cell, weights=emp, minlength=w.n_sectors * w.n_regions)
    by_region = np.bincount(region, weights=emp, minlength=w.n_regions)
    share = np.divide(by_cell[cell], by_region[region], out=np.ones(len(idx)), where=by_region[region] > 0)
    return w.n_sectors * share


def match_vacancies(m, idx: np.ndarray, vacancies: np.ndarray, unemployed: np.ndarray, skill: str) -> np.ndarray:
    """Hires (persons, int64) of firms ``idx`` with ``vacancies`` (persons) of one skill from the
    regions' ``unemployed`` of that skill.

    A vacancy fills within the step with probability 1 - exp(-f / steps), at the yearly rate
    f = mu (U / V)^alpha x thickness^epsilon: the vacancy-filling rate of a Cobb-Douglas matching
    function M = mu U^alpha V^(1-alpha) in the region (Petrongolo & Pissarides 2001;
    ``labour.matching_rate``, ``labour.matching_elasticity``), raised in thick local labour
    markets (:func:`pool_thickness`) with the market-size elasticity of job finding
    (``labour.pooling_elasticity_skilled`` / ``_unskilled``: Moretti & Yi 2025, larger for
    college graduates; Di Addario 2011; Bleakley & Lin 2012). Labour pooling thus emerges from
    matching: firms of large clusters fill vacancies faster (Marshall 1890; Helsley & Strange
    1990; Overman & Puga 2010). Where expected hires exceed a region's unemployed they are scaled
    down to them: vacancies persist where the pool is short (seed 2.6). Expected hires are
    rounded with keyed draws (common random numbers), and hires beyond the pool after rounding
    are dropped in the order of those draws.
    """
    ft, p = m.firms, m.p
    R = m.world.n_regions
    region = ft.region[idx]
    pool = np.floor(np.maximum(unemployed, 0.0))
    V = np.bincount(region, weights=vacancies, minlength=R)
    tight = np.divide(pool, V, out=np.zeros(R), where=V > 0)
    lp = p.labour
    eps = lp.pooling_elasticity_skilled if skill == "skilled" else lp.pooling_elasticity_unskilled
    rate = lp.matching_rate * tight[region] ** lp.matching_elasticity * pool_thickness(m, idx) ** eps
    expected = vacancies * -np.expm1(-rate)
    total = np.bincount(region, weights=expected, minlength=R)
    scale = np.divide(pool, total, out=np.ones(R), where=total > pool)
    u = m.uniform("hire_" + skill, idx)
    hire = keyed_round(u, expected * scale[region])
    # Rounding may overshoot a pool by a few persons: drop hires in order of the draws (among
    # the firms that hire; the others have none to drop).
    hiring = np.flatnonzero(hire)
    order = hiring[np.lexsort((u[hiring], region[hiring]))]
    h, reg = hire[order], region[order]
    cum = np.cumsum(h)
    start = np.searchsorted(reg, np.arange(R))
    before = cum - h - np.concatenate([[0], cum])[start][reg]
    hire[order] = np.clip(pool[reg] - before, 0, h).astype(np.int64)
    return hire
