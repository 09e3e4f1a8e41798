"""The world's technology frontier (mechanisms.technology): innovations close a share of the gap
to it, the frontier moves on, entrants start inside it, and the model's money keeps the value the
build gave it.

Before the frontier, quality and productivity grew with every innovation without a level to close
on: over the 50-year spin-up the regions' skilled wages rose 3- to 12-fold and their ratio went
from 3.5 to 14.5 (seed 1), so the levers' real euros met firms' accounts far from the data's.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

from cluster_abm.analysis.validation.facts_money import money_fact
from cluster_abm.mechanisms import labour, technology
from cluster_abm.model.cluster_model import ClusterModel

BUILT = {"sim.spinup_years": 0}


@pytest.fixture(scope="module")
def built():
    return ClusterModel("baseline", seed=4, params=BUILT)


def test_an_innovation_closes_its_share_of_the_log_gap():
    level = np.array([1.0, 2.0, 4.0, 8.0])
    frontier = 4.0
    factor = technology.adoption_factor(level, frontier, np.full(4, 0.25))
    gap_before = np.log(frontier / level[:2])
    gap_after = np.log(frontier / (level[:2] * factor[:2]))
    np.testing.assert_allclose(gap_after, 0.75 * gap_before)
    # At or above the frontier there is nothing left to adopt.
    np.testing.assert_array_equal(factor[2:], [1.0, 1.0])
    # Further behind, a larger gain (the advantage of backwardness), never past the frontier.
    assert factor[0] > factor[1] > 1.0
    after = level * technology.adoption_factor(level, frontier, np.ones(4))
    np.testing.assert_allclose(after, [4.0, 4.0, 4.0, 8.0])  # a full share reaches it; above stays


def test_the_frontier_sits_leader_gap_above_the_best_region(built):
    ft = built.firms
    idx = ft.idx
    level = np.log(ft.productivity[idx] / technology.skill_cost_index(built, ft.skill_share[idx], ft.region[idx]))
    best = max(level[ft.region[idx] == r].mean() for r in range(built.world.n_regions))
    gap = built.p.technology.leader_gap
    assert np.log(built.frontier_productivity) == pytest.approx(best + gap)
    assert np.log(built.frontier_quality) == pytest.approx(gap)  # quality is 1 at the build


def test_firms_fall_behind_the_frontier_at_its_growth(built):
    m = copy.deepcopy(built)
    ft = m.firms
    idx = ft.idx
    before = ft.quality[idx] * ft.productivity[idx]
    for _ in range(m.p.steps_per_year):
        technology.fall_behind(m)
    g = m.p.technology.frontier_growth
    share = m.p.innovation.product_share
    np.testing.assert_allclose(ft.quality[idx] * ft.productivity[idx] / before,
                               1.0 / ((1 + g * share) * (1 + g * (1 - share))), rtol=1e-12)


def test_entrants_start_at_most_at_the_frontier(built):
    region = np.array([0, 1, 4, 5])
    share = np.array([0.2, 0.3, 0.4, 0.5])
    best = built.frontier_productivity * technology.skill_cost_index(built, share, region)
    attrs = {"quality": np.array([0.5, 10.0, 1.0, 100.0]), "productivity": best * [0.5, 2.0, 1.0, 0.9],
             "skill_share": share, "region": region}
    technology.within_frontier(built, attrs)
    np.testing.assert_allclose(attrs["quality"], [0.5, built.frontier_quality, 1.0, built.frontier_quality])
    np.testing.assert_allclose(attrs["productivity"], best * [0.5, 1.0, 1.0, 0.9])


def test_money_grows_at_real_growth_less_the_frontiers():
    """Demand and the foreign wage, in money measured against the frontier: real growth divided
    by the frontier's; wages abroad growing as fast as the frontier stay level."""
    m = ClusterModel("baseline", seed=4, params={**BUILT, "technology.frontier_growth": 0.02,
                                                 "labour.foreign_wage_growth": 0.02})
    spy = m.p.steps_per_year
    g_sector = np.array([s["demand_growth"] for s in m.world.sectors])
    g_region = m.world.region_field("demand_growth")
    np.testing.assert_allclose(m.demand_growth_reg ** spy, (1 + g_sector[:, None] + g_region) / 1.02)
    np.testing.assert_allclose(m.demand_growth_exp ** spy, (1 + g_sector) / 1.02)
    before = m.foreign_wage.copy()
    m.t = 1
    labour.update_wages(m)
    np.testing.assert_allclose(m.foreign_wage, before, rtol=1e-12)
    m.p.yearly.labour.foreign_wage_growth = 0.05
    labour.update_wages(m)
    np.testing.assert_allclose(m.foreign_wage / before, (1.05 / 1.02) ** (1 / spy), rtol=1e-12)


def _fake_run(wages: np.ndarray, data: np.ndarray) -> dict:
    return {"region_names": tuple(f"r{j}" for j in range(len(data))), "wage_skilled": wages,
            "wage_skilled_data": data}


def test_the_money_fact_fails_drifting_money_and_passes_steady_money():
    data = np.array([40.0, 50.0, 15.0])
    years = np.arange(15)[:, None]
    steady = [_fake_run(data * (1 + 0.02 * rng.standard_normal((15, 3))), data)
              for rng in (np.random.default_rng(s) for s in range(3))]
    assert money_fact(steady, 5).passed
    drifting = [_fake_run(data * 1.06 ** (years + 50) * [1.0, 1.5, 0.4], data) for _ in range(3)]
    fact = money_fact(drifting, 5)
    assert not fact.passed
    assert fact.model.startswith("0 of 3 regions"), fact.model


@pytest.mark.slow
def test_the_baseline_keeps_the_datas_euros_after_the_spin_up():
    """Four seeds, 20 policy years after the 50-year spin-up: every region's skilled wage stays
    within validation fact 26's factor 1.5 of its published wage; before the frontier it was 3 to
    12 times it at policy year 0 already. Measured with money re-anchored at policy year 0 and
    its refit (2026-12-08): IT / AT / SI / HU / RO / BG 1.02 / 0.99 / 1.07 / 1.06 / 1.20 / 1.07,
    North-East Romania catching up; the late night before the re-anchoring 1.17 / 0.93 / 1.00 /
    1.11 / 1.63 / 1.33, when this test asked only a factor 2."""
    ratios = []
    for seed in range(1, 5):
        m = ClusterModel("baseline", seed=seed)
        wages = []
        for _ in range(20):
            m.run(1)
            wages.append(m.wage_s.copy())
        ratios.append(np.mean(wages, axis=0) / m.world.region_field("wage_skilled"))
    ratio = np.mean(ratios, axis=0)
    assert np.all((ratio > 1 / 1.5) & (ratio < 1.5)), ratio
