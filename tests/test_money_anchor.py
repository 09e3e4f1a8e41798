"""Money re-anchored to the data at policy year 0 (cluster_abm.model.money_anchor): after the
spin-up each region's euros return to its published wage, and nothing the spin-up shaped within
a region changes.

Without it a region's skilled wage at policy year 0 was 0.89-2.0 times its published wage
(baseline, seeds 101-108, 2026-12-08), different in every seed.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

from cluster_abm.mechanisms import labour
from cluster_abm.model import money_anchor
from cluster_abm.model.cluster_model import ClusterModel


@pytest.fixture(scope="module")
def built():
    return ClusterModel("baseline", seed=4, params={"sim.spinup_years": 0, "sim.n_firms": 600})


@pytest.fixture(scope="module")
def spun_up():
    return ClusterModel("baseline", seed=4, params={"sim.n_firms": 600})


def test_policy_year_0_starts_at_the_published_wages(spun_up):
    published = spun_up.world.region_field("wage_skilled")
    np.testing.assert_allclose(spun_up.wage_s, published, rtol=1e-12)
    # The spin-up had moved them: the factors applied are not all one.
    assert np.abs(np.log(spun_up.money_anchor)).max() > 0.01, spun_up.money_anchor


def test_a_world_without_spin_up_is_not_touched(built):
    np.testing.assert_array_equal(built.money_anchor, np.ones(built.world.n_regions))
    np.testing.assert_array_equal(built.wage_s, built.world.region_field("wage_skilled"))


def _drifted(m, drift):
    """A copy of ``m`` whose regions' wages drifted by ``drift`` (the firms' money unchanged)."""
    d = copy.deepcopy(m)
    d.wage_s = d.wage_s * drift
    d.wage_u = d.wage_u * drift
    return d


def test_anchoring_scales_each_regions_money_by_one_factor(spun_up):
    R = spun_up.world.n_regions
    drift = np.linspace(0.6, 1.8, R)
    m = _drifted(spun_up, drift)
    before = copy.deepcopy(m)
    k = money_anchor.anchor_money(m)
    np.testing.assert_allclose(k, 1.0 / drift, rtol=1e-12)
    np.testing.assert_allclose(m.wage_s, spun_up.wage_s, rtol=1e-12)
    ft, fb = m.firms, before.firms
    idx = ft.idx
    k_firm = k[ft.region[idx]]
    for col in money_anchor.MONEY_COLUMNS:
        np.testing.assert_allclose(getattr(ft, col)[idx], getattr(fb, col)[idx] * k_firm, rtol=1e-12, err_msg=col)
    np.testing.assert_allclose(m.demand_reg, before.demand_reg * k[None, :], rtol=1e-12)
    # Within a region nothing moves: market shares, the skill premium, the labour share.
    np.testing.assert_array_equal(ft.share_reg[idx], fb.share_reg[idx])
    np.testing.assert_allclose(m.wage_u / m.wage_s, before.wage_u / before.wage_s, rtol=1e-12)
    np.testing.assert_allclose(labour.labour_share(m), labour.labour_share(before), rtol=1e-12)


def test_every_exporters_orders_move_with_its_own_regions_euros(spun_up):
    R = spun_up.world.n_regions
    m = _drifted(spun_up, np.linspace(1.8, 0.6, R))
    before = copy.deepcopy(m)
    k = money_anchor.anchor_money(m)
    ft, fb = m.firms, before.firms
    idx = ft.idx
    exporting = ft.exporter[idx]
    assert exporting.sum() > 10
    sector = ft.sector[idx]
    orders = ft.share_exp[idx] * m.demand_exp[sector]
    orders_before = fb.share_exp[idx] * before.demand_exp[sector]
    np.testing.assert_allclose(orders[exporting], orders_before[exporting] * k[ft.region[idx]][exporting], rtol=1e-10)
    sums = np.bincount(sector[exporting], weights=ft.share_exp[idx][exporting], minlength=m.world.n_sectors)
    np.testing.assert_allclose(sums[sums > 0], 1.0, rtol=1e-12)


def test_anchoring_an_anchored_world_changes_nothing(spun_up):
    m = copy.deepcopy(spun_up)
    k = money_anchor.anchor_money(m)
    np.testing.assert_allclose(k, 1.0, rtol=1e-12)
    idx = m.firms.idx
    np.testing.assert_allclose(m.firms.revenue[idx], spun_up.firms.revenue[idx], rtol=1e-12)
