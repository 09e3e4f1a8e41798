"""Real-region units (issue 16): money is real euros and reaches model firms in proportion to the
real firms they stand for, so the number of model firms is a speed/precision choice.

- a budget-bound lever spends its real budget whatever the number of model firms;
- public money (funders' grants, lever costs) never exceeds a budget in real euros;
- the same scenario at 2,000 and 10,000 model firms gives real-unit employment within each
  other's 95 % intervals (slow), and public cost not yet (contract credit lines; strict xfail);
- real network-contract membership does not depend on the model size, but its credit-line
  requests and their budget-capped spending do (lumpier requests at few model firms; slow,
  strict xfails).
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
    """Network contracts are founded rarely (0.4 % of networked SMEs a year): with 1,000 model
    firms a region may draw no founding in a year, or one that costs more than the year's money.
    The lever pays for the expected real foundings behind every model firm, so each region spends
    exactly its 300 k€ a year at either size."""
    m = ClusterModel(_with("network_contracts", 300.0), seed=3,
                     params={"sim.n_firms": n_firms, "sim.spinup_years": 2}).run(2)
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
    other's 95 % interval (firm weights by size, persons calibrated to the published figure)."""
    _assert_agree(*two_sizes, "employment_final_real")


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason=(
    "known gap (issue 16): real employment agrees at 2,000 and 10,000 model firms (3.55 M [3.43, "
    "3.66] against 3.48 M [3.36, 3.61]; calibrated to the published persons employed at policy "
    "year 0) but public cost is 220.7 M€ [212.6, 228.8] at 2,000 against 237.4 M€ [233.0, 241.8] "
    "at 10,000 (wg4_financing, 8 seeds, 10 years, measured 2026-12-06 with the n+2 budget rule). "
    "Nearly all the gap is contract credit lines (35.8 against 49.6 M€): their real members do "
    "not depend on the model size (test below) but with few model firms their "
    "requests come in lumps, so regions go years without one while others ask several budgets; "
    "closing it needs contract membership as a share of each model firm's real firms"))
def test_two_thousand_and_ten_thousand_model_firms_spend_the_same(two_sizes):
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
            idx = ft.idx[ft.contract[ft.idx] >= 0]
            members += (m.firm_weight(idx) * no_law[ft.region[idx]]).sum()
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
    law, where only supported contracts are founded; 40 seeds, 3 years). Each founding model firm
    stands for its real firms and its partners for theirs (super-individuals, Scheffer et al.
    1995), so the rule is scale-free; only its lumpiness grows as model firms get fewer."""
    small, large = contract_credit_by_size
    _assert_agree(small, large, "members")
    assert small["idle"].mean() > 2 * large["idle"].mean()  # lumpier at 1,000


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason=(
    "known gap (issue 16, measured 2026-12-06 after the labour force was made stationary): real "
    "members agree at 1,000 and 4,000 model firms (8,811 [6,836, 10,790] against 10,280 [9,032, "
    "11,540] member-years, 40 seeds, 3 years) but what they ask for does not: 3.09 M€ [1.90, 4.28] "
    "against 4.78 [3.99, 5.57] (it agreed before, 3.84 against 4.59). The credit line per real "
    "member is not lower at 1,000 (61 against 57 k€, 8 seeds, year 1), so the gap is in which "
    "members ask (a lever level > 0) rather than in what one asks; not yet explained"))
def test_contract_credit_requests_do_not_depend_on_model_size(contract_credit_by_size):
    _assert_agree(*contract_credit_by_size, "asked")


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason=(
    "known gap (issue 16): contract credit lines spend less at 1,000 model firms than at 4,000 (2.43 M€ [1.85, 3.01] against 4.01 [3.45, 4.57] over 3 years, 40 seeds, "
    "measured 2026-12-06 with the growing labour force; now 2.18 [1.58, 2.78] against 3.92 [3.42, "
    "4.43]; 73 % of region-years ask nothing against 29 %). A region's budget caps what it spends, E[min(budget, asked)] < min(budget, E[asked]), "
    "and at few model firms a region's requests are far more dispersed: a handful of model "
    "contracts, each standing for hundreds of real ones founded as one, so many region-years ask "
    "nothing and others several budgets; carrying unspent money over two years (the n+2 rule) "
    "does not make up for regions that go years without a member. Real foundings are "
    "independent; closing this needs membership as a share of each model firm's real firms (or "
    "more model firms), not a change of the credit-line rule"))
def test_contract_credit_lines_spend_the_same_at_any_model_size(contract_credit_by_size):
    _assert_agree(*contract_credit_by_size, "spent")
