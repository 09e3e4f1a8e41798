"""Real-region units (issue 16): money is real euros and reaches model firms in proportion to the
real firms they stand for, so the number of model firms is a speed/precision choice.

- a budget-bound lever spends its real budget whatever the number of model firms;
- public money (funders' grants, lever costs) never exceeds a budget in real euros;
- the same scenario at 2,000 and 10,000 model firms gives real-unit employment and public cost
  within each other's 95 % intervals (slow).
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


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason=(
    "known gap (issue 16): real employment agrees at 2,000 and 10,000 model firms, and network "
    "contracts now spend the same (60.0 M€ at both, 8 seeds), but public cost is 224.0 M€ [220.8, 227.3] "
    "at 2,000 against 234.5 M€ [232.5, 236.4] at 10,000 (wg4_financing, 8 seeds, 10 years, measured "
    "2026-12-05). The rest of the gap is contract credit lines (36.6 against 46.7 M€): at 2,000 model "
    "firms 15 % of region-years have no contract member in the regions without a contract law, and their "
    "members ask less (North-East Romania 388 against 1,028 k€ a year); why contract membership there is "
    "lower in expectation, not only lumpier, is not yet found"))
def test_two_thousand_and_ten_thousand_model_firms_describe_the_same_economy():
    """Real-unit employment and public cost at 2,000 and 10,000 model firms: each mean inside the
    other's 95 % interval (8 seeds, 10 policy years, a package with realistic budgets)."""
    scenario = load_scenario("wg4_financing")
    seeds = range(11, 19)
    small = _summary(scenario, 2000, seeds, 10)
    large = _summary(scenario, 10000, seeds, 10)
    for name in small:
        lo_s, hi_s = _interval(small[name])
        lo_l, hi_l = _interval(large[name])
        assert lo_s <= large[name].mean() <= hi_s or lo_l <= small[name].mean() <= hi_l, (
            name, small[name].mean(), (lo_s, hi_s), large[name].mean(), (lo_l, hi_l))
