"""Real-region units (issue 16): money is real euros and reaches model firms in proportion to the
real firms they stand for, so the number of model firms is a speed/precision choice.

- a budget-bound lever spends its real budget whatever the number of model firms;
- public money (funders' grants, lever costs) never exceeds a budget in real euros;
- the same scenario at 2,000 and 10,000 model firms gives real-unit employment and public cost
  within each other's 95 % intervals (slow);
- real network-contract membership does not depend on the model size (a share of each model
  firm's real firms; equal to within 5 %) and no region goes a year without it, but its
  credit-line requests are still 6.5 % higher at 1,000 model firms than at 4,000 and spending
  3 % (not shown equivalent; slow, strict xfails).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from cluster_abm.model.cluster_model import ClusterModel
from cluster_abm.policy.levers import LeverSetting
from cluster_abm.specs.scenario import load_scenario

BASE = load_scenario("baseline")


def _with(lid: str, budget: float):
    return BASE.with_levers({lid: LeverSetting(lid)}).with_params({"policy.lever_budget": budget})


@pytest.mark.parametrize("n_firms", [1000, 4000])
def test_a_budget_bound_lever_spends_its_real_budget_at_any_model_size(n_firms):
    """Cooperation support asks more than 2 M€ a year can pay at either size: each region spends
    exactly its 2,000 k€ a year, though a model firm's request costs 4x more at 1,000 firms."""
    m = ClusterModel(_with("cooperation_support", 2000.0), seed=3,
                     params={"sim.n_firms": n_firms, "sim.spinup_years": 2}).run(2)
    spent = m.policy.spent_by_year("cooperation_support")
    assert spent.shape == (2, m.world.n_regions)
    assert np.allclose(spent, 2000.0, rtol=1e-9)


@pytest.mark.parametrize("n_firms", [1000, 4000])
def test_a_rare_event_lever_spends_its_real_budget_at_any_model_size(n_firms):
    """Network contracts are founded rarely (here 0.4 % of networked SMEs a year, ten times the
    rate fitted to Italy's registry, so that every region's requests exceed its budget): with
    1,000 model firms a region may draw no founding in a year, or one that costs more than the
    year's money. The lever pays for the expected real foundings behind every model firm, so each
    region spends exactly its 300 k€ a year at either size."""
    m = ClusterModel(_with("network_contracts", 300.0), seed=3,
                     params={"sim.n_firms": n_firms, "sim.spinup_years": 2,
                             "contract.formation_rate": 0.004}).run(2)
    spent = m.policy.spent_by_year("network_contracts")
    assert spent.shape == (2, m.world.n_regions)
    assert np.allclose(spent, 300.0, rtol=1e-9), spent
    asked = m.policy.budget_table().groupby("region").asked_keur.sum()
    assert (asked > 600.0).all(), asked  # the requests' full cost is recorded, not what was paid


def test_funders_spend_within_their_real_budgets():
    """Every step, no funder has spent more than its year's budget; by the year's end a regional
    government that had calls open has used most of its budget, although one model grant costs
    funding.grant_size times some hundreds of real firms (the last one of a call by lottery)."""
    m = ClusterModel(BASE, seed=4, params={"sim.spinup_years": 1})
    for _ in range(m.p.steps_per_year):
        m.step()
        for f in m.funders:
            assert f.spent <= f.budget + 1e-6, f
    G = m.p.yearly.funding.grant_size
    assert (G * m.size_weight[:, 0] > 1000).all()  # a grant to a micro model firm costs over 1 M€
    for f in m.regional_funders:
        if not f.frozen:
            assert f.spent >= 0.5 * f.budget, f


def _summary(scenario, n_firms: int, seeds, years: int) -> dict[str, np.ndarray]:
    out = {"employment_final_real": [], "public_cost_total": [], "public_spent_total": []}
    for seed in seeds:
        k = ClusterModel(scenario, seed=seed, params={"sim.n_firms": n_firms}).run(years).kpis()
        for name in out:
            out[name].append(k[name])
    return {k: np.array(v) for k, v in out.items()}


def _interval(x: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    half = stats.t.ppf(0.5 + level / 2, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x))
    return x.mean() - half, x.mean() + half


@pytest.fixture(scope="module")
def two_sizes():
    """wg4_financing (a package with realistic budgets) at 2,000 and 10,000 built model firms:
    8 seeds, 10 policy years."""
    scenario = load_scenario("wg4_financing")
    seeds = range(11, 19)
    return _summary(scenario, 2000, seeds, 10), _summary(scenario, 10000, seeds, 10)


@pytest.mark.slow
def test_two_thousand_and_ten_thousand_model_firms_give_the_same_real_employment(two_sizes):
    """Issue 16: real-unit employment at 2,000 and 10,000 model firms, each mean inside the
    other's 95 % interval (firm weights by size, persons calibrated to the published figure).

    Measured 2026-12-06 (markets keep their demand when their firms are gone): 3.42 M [3.25,
    3.59] against 3.50 M [3.30, 3.70], 2.3 % apart; with spin-offs per employee before it, 3.39 M
    [3.25, 3.52] against 3.50 M, 3.3 % apart; with innovation on knowledge against the state of the art before it,
    3.45 M [3.33, 3.56] against 3.34 M [3.20, 3.48]. It was a strict expected failure from the
    entering cohort's skill mix to that change: 3.52 M [3.42, 3.62] against 3.40 M [3.29, 3.51],
    3.4 % apart on narrower intervals. The gap is about the same; the intervals decide."""
    _assert_agree(*two_sizes, "employment_final_real")


@pytest.mark.slow
def test_two_thousand_and_ten_thousand_model_firms_spend_the_same(two_sizes):
    """Issue 16: public cost at 2,000 and 10,000 model firms, one mean inside the other's 95 %
    interval. Money that depends on rare or lumpy model events (network contracts and their
    credit lines, science-industry co-financing) is paid for the expected real events behind
    every model firm, so a region does not go a year without requests when its few model firms
    happen to draw none.

    Measured 2026-12-06 (markets keep their demand when their firms are gone): 217.5 M€ [214.5,
    220.6] against 220.5 M€ [217.7, 223.2], 1.3 % apart; the larger mean lies 0.1 M€ inside the
    smaller's interval. It was a strict expected failure with spin-offs per employee before that
    change (217.1 [214.5, 219.8] against 220.5 [217.9, 223.2]): the gap is about the same, the
    intervals decide. With the participation margin (2026-12-07) it failed again (215.8 M€ [213.0,
    218.6] against 220.8 M€ [218.9, 222.6], a strict expected failure); with the owner-managers'
    span of control (same day), which keeps about 1,150 model firms at policy year 0 from 2,000
    built, it passes again (full suite of 2026-12-07). With wages returning to the labour share
    and that evening's refit it was a strict expected failure (218.8 M€ [215.5, 222.1] against
    223.0 M€ [222.4, 223.6], 1.9 % apart). With each region's money re-anchored to its published
    wage at policy year 0 and the refit that followed (2026-12-08) it passes: 202.2 M€ [199.5,
    204.9] against 201.0 M€ [200.0, 201.9], 0.6 % apart (real employment 3.56 M [3.45, 3.67]
    against 3.48 M [3.42, 3.54])."""
    _assert_agree(*two_sizes, "public_cost_total")


def _contract_credit(n_firms: int, seeds, years: int = 3) -> dict[str, np.ndarray]:
    """Per seed, in the regions without a contract law (wg4_financing, 2-year spin-up): the real
    contract members summed over year-ends, and what contract credit lines asked and spent (k€)."""
    scenario = load_scenario("wg4_financing")
    out = {"members": [], "asked": [], "spent": [], "idle": []}
    for seed in seeds:
        m = ClusterModel(scenario, seed=seed, params={"sim.n_firms": n_firms, "sim.spinup_years": 2})
        no_law = ~m.contract_law
        members = 0.0
        for _ in range(years):
            m.run(1)
            ft = m.firms
            idx = ft.idx
            members += (m.firm_weight(idx) * ft.contract_share[idx] * no_law[ft.region[idx]]).sum()
        bt = m.policy.budget_table()
        bt = bt[(bt.lever == "contract_credit_lines")
                & bt.region.isin([r.id for r, nl in zip(m.world.regions, no_law, strict=True) if nl])]
        out["members"].append(members)
        out["asked"].append(bt.asked_keur.sum())
        out["spent"].append(bt.spent_keur.sum())
        out["idle"].append((bt.asked_keur == 0).mean())  # region-years that asked nothing
    return {k: np.array(v) for k, v in out.items()}


def _agree(a: np.ndarray, b: np.ndarray) -> bool:
    lo_a, hi_a = _interval(a)
    lo_b, hi_b = _interval(b)
    return lo_a <= b.mean() <= hi_a or lo_b <= a.mean() <= hi_b


def _assert_equivalent(small: dict, large: dict, name: str, margin: float = 0.05) -> None:
    """``name`` is the same at both model sizes to within ``margin`` of its mean (an equivalence
    test, Schuirmann 1987): the 95 % interval of the difference of the means (Welch) lies inside
    +- margin x the larger size's mean. With requests no longer lumpy, 40 seeds give intervals of
    about 1 %, narrower than what separates any two model sizes (whose firms' sizes within a
    class differ)."""
    a, b = small[name], large[name]
    diff = a.mean() - b.mean()
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    dof = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    half = stats.t.ppf(0.975, dof) * math.sqrt(va + vb)
    bound = margin * abs(b.mean())
    assert -bound < diff - half and diff + half < bound, (name, a.mean(), b.mean(), diff - half, diff + half, bound)


def test_the_equivalence_check_can_fail():
    rng = np.random.default_rng(1)
    same = {"x": rng.normal(100.0, 2.0, 40)}
    _assert_equivalent({"x": rng.normal(100.0, 2.0, 40)}, same, "x")
    with pytest.raises(AssertionError):
        _assert_equivalent({"x": rng.normal(107.0, 2.0, 40)}, same, "x")  # 7 % apart, +-1 % noise
    with pytest.raises(AssertionError):
        _assert_equivalent({"x": rng.normal(100.0, 30.0, 40)}, same, "x")  # too noisy to tell


def _assert_agree(small: dict, large: dict, name: str) -> None:
    """``name``'s mean at one model size lies in the other's 95 % interval."""
    assert _agree(small[name], large[name]), (name, small[name].mean(), _interval(small[name]),
                                              large[name].mean(), _interval(large[name]))


@pytest.fixture(scope="module")
def contract_credit_by_size():
    seeds = range(1, 41)
    return _contract_credit(1000, seeds), _contract_credit(4000, seeds)


@pytest.mark.slow
def test_real_contract_membership_does_not_depend_on_model_size(contract_credit_by_size):
    """Issue 16: network-contract membership in real firms is the same in expectation at 1,000
    and 4,000 model firms (regions without a contract
    law, where only supported contracts are founded; 40 seeds, 3 years). Membership is a share of
    each model firm's real firms (super-individuals, Scheffer et al. 1995), so the rule is
    scale-free and not lumpy: no region-year goes without members at either size (with whole model
    firms joining, 73 % did at 1,000 and 29 % at 4,000), and the two sizes agree to within 5 %
    (:func:`_assert_equivalent`)."""
    small, large = contract_credit_by_size
    _assert_equivalent(small, large, "members")
    assert small["idle"].mean() < 0.05 and large["idle"].mean() < 0.05


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason=(
    "known gap (issue 16, measured 2026-12-06 with membership as shares, after exit25): real "
    "members agree at 1,000 and 4,000 model firms to within 5 % (11,021 against 10,877 "
    "member-years, 40 seeds) and no region-year goes without a request, but the requests are "
    "6.5 % higher at 1,000: 5.78 M€ against 5.42 M€ (95 % interval of the difference +0.04 to "
    "+0.67 M€, beyond the +-0.27 M€ equivalence bound), so what one real member asks (its credit "
    "line, by its model firm's revenue) still depends on the model size; not yet explained. "
    "Since the formation rate was fitted to Italy's registry (ten times lower): 2.26 against "
    "2.16 M€, +4.3 %, interval -0.01 to +0.20 M€ against a +-0.11 M€ bound"))
def test_contract_credit_requests_do_not_depend_on_model_size(contract_credit_by_size):
    _assert_equivalent(*contract_credit_by_size, "asked")


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason=(
    "known gap (issue 16, measured 2026-12-06 with membership as shares, after exit25): contract "
    "credit lines spend 5.57 M€ at 1,000 model firms against 5.40 M€ at 4,000 (40 seeds, 3 "
    "years; 95 % interval of the difference -0.01 to +0.35 M€, beyond the +-0.27 M€ equivalence "
    "bound). With whole model firms joining it was 2.18 against 3.92, 73 % of region-years "
    "asking nothing against 29 %; now none: the budget rarely binds, so spending follows the "
    "requests' gap (test above). Since the formation rate was fitted: spending equals the "
    "requests, 2.26 against 2.16 M€ (interval -0.01 to +0.20 M€ against +-0.11 M€)"))
def test_contract_credit_lines_spend_the_same_at_any_model_size(contract_credit_by_size):
    _assert_equivalent(*contract_credit_by_size, "spent")
