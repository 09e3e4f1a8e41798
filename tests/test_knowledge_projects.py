"""Science-industry co-financing (seed 3.4.1) of firm-knowledge-institution projects: the
instrument commits its share of a project's costs when the project starts, for the expected real
projects behind every model firm (super-individuals), within each region's yearly budget paced
over its steps; a firm then bears only the rest of its project's costs."""

from __future__ import annotations

import numpy as np
import pytest

from cluster_abm.mechanisms import knowledge_projects as kp
from cluster_abm.model.cluster_model import ClusterModel
from cluster_abm.policy.levers import LeverSetting
from cluster_abm.specs.scenario import load_scenario

BUILT = {"sim.spinup_years": 0}


def _model(budget: float) -> ClusterModel:
    scenario = load_scenario("baseline").with_levers(
        {"science_industry_finance": LeverSetting("science_industry_finance")})
    return ClusterModel(scenario.with_params({"policy.lever_budget": budget}), seed=4, params=BUILT)


@pytest.mark.parametrize("budget", [1.0, 1e6])
def test_the_instrument_pays_its_share_of_the_expected_real_projects_within_the_budget(budget):
    """A tight budget pays the same share of every region's expected projects and is spent to
    its step's allowance; an ample one pays all of them. The full cost of the requests is
    recorded as asked either way."""
    m = _model(budget)
    ft, p = m.firms, m.p
    idx = ft.idx
    rate = np.full(len(idx), 0.05)
    supported = np.ones(len(idx), dtype=bool)
    left = m.policy.left("science_industry_finance").copy()
    cover = kp._science_industry_cover(m, idx, supported, rate)
    R = m.world.n_regions
    commitment = p.policy.science_industry_share * p.yearly.ki.project_cost * p.yearly.ki.project_years
    wanted = np.bincount(ft.region[idx], weights=m.policy.weight(idx) * -np.expm1(-rate), minlength=R) * commitment
    allowance = left / (p.steps_per_year - m.step_in_year)
    paid = np.minimum(wanted, allowance)
    np.testing.assert_allclose(m.policy.spent["science_industry_finance"], paid, rtol=1e-9)
    np.testing.assert_allclose(cover, (paid / wanted)[ft.region[idx]], rtol=1e-9)
    np.testing.assert_allclose(m.policy.asked["science_industry_finance"], wanted, rtol=1e-9)
    assert (cover < 1).all() if budget == 1.0 else (cover == 1).all()


def test_a_co_financed_project_costs_the_firm_only_the_rest():
    m = _model(1e6)
    ft, p = m.firms, m.p
    i = ft.idx[:3]
    ft.ki_until[ft.idx] = -1
    ft.ki_until[i] = m.t + 4
    ft.ki_cofunded[i] = [0.0, 0.35, 0.7]
    spent = m.policy.spent["science_industry_finance"].copy()
    cost = kp.project_costs(m)
    np.testing.assert_allclose(cost[:3], p.ki.project_cost * np.array([1.0, 0.65, 0.3]))
    assert (cost[3:] == 0).all()
    np.testing.assert_array_equal(m.policy.spent["science_industry_finance"], spent)  # paid at the start
