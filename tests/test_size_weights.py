"""Real enterprises per model firm as a smooth function of size (issue 16,
cluster_abm.state.size_weights): class totals kept at policy year 0, no jumps at class boundaries."""

from __future__ import annotations

import numpy as np
import pytest

from cluster_abm.model.cluster_model import ClusterModel
from cluster_abm.specs.scenario import SIZE_CLASS_NAMES
from cluster_abm.state import size_weights
from cluster_abm.state.firm_table import SIZE_CLASS_EDGES, size_class


def _toy():
    """Two regions: one publishing enterprises by class, one only its total; a third unknown."""
    rng = np.random.default_rng(3)
    emp = np.concatenate([rng.integers(1, 10, 60), rng.integers(10, 50, 25), rng.integers(50, 250, 10),
                          rng.integers(250, 900, 5), rng.integers(1, 40, 30), rng.integers(1, 9, 4)])
    region = np.repeat([0, 0, 0, 0, 1, 2], [60, 25, 10, 5, 30, 4])
    enterprises = np.array([[60000.0, 5000.0, 900.0, 120.0], [0.0] * 4, [0.0] * 4])
    total = np.array([66020.0, 9000.0, 0.0])
    return region, emp, enterprises, total


def test_each_class_adds_up_to_its_published_enterprises():
    region, emp, enterprises, total = _toy()
    x, y = size_weights.fit_anchors(region, emp, enterprises, total)
    w = size_weights.weights(x, y, region, emp)
    mine = region == 0
    by_class = np.bincount(size_class(emp[mine]), weights=w[mine], minlength=4)
    np.testing.assert_allclose(by_class, enterprises[0], rtol=1e-9)
    # Only a total: one weight at every size, adding up to it; unknown: NaN.
    np.testing.assert_allclose(w[region == 1], total[1] / 30)
    assert np.isnan(w[region == 2]).all()


def test_a_class_without_model_firms_lends_its_enterprises_to_the_nearest():
    region, emp, enterprises, total = _toy()
    keep = ~((region == 0) & (emp >= 250))  # no large model firm in region 0
    x, y = size_weights.fit_anchors(region[keep], emp[keep], enterprises, total)
    w = size_weights.weights(x, y, region[keep], emp[keep])
    mine = region[keep] == 0
    by_class = np.bincount(size_class(emp[keep][mine]), weights=w[mine], minlength=4)
    assert by_class[3] == 0 and by_class[2] == pytest.approx(900 + 120)
    # A firm that later grows past 250 takes the weight of the last anchor.
    big = size_weights.weights(x, y, np.array([0, 0]), np.array([400, 4000]))
    assert big[0] == big[1] == pytest.approx(size_weights.anchor_weights(x, y)[0, 3])


def test_real_employment_does_not_jump_at_class_boundaries():
    """One person more changes a firm's real employment by at most twice the largest weight of its
    region (the class-by-class weights made it jump by tens of thousands of persons, 2026-12-05)."""
    m = ClusterModel("baseline", seed=1)
    ft = m.firms
    for r in range(m.world.n_regions):
        w_max = np.nanmax(m.size_weight[r])
        sizes = np.concatenate([[e - 1, e] for e in SIZE_CLASS_EDGES])
        w = size_weights.weights(m.size_anchor_x, m.size_anchor_y, np.full(len(sizes), r), sizes)
        real = w * sizes
        steps = np.abs(real[1::2] - real[::2])
        assert (steps <= 2 * w_max).all(), (m.world.regions[r].id, steps, w_max)
    # The model's real outputs read these weights: its year-0 firms add up to the published ones.
    published = np.column_stack([m.world.region_field(f"enterprises_{c}") for c in SIZE_CLASS_NAMES])
    idx = ft.idx
    w = size_weights.weights(m.size_anchor_x, m.size_anchor_y, ft.region[idx], ft.employees[idx])
    assert m.series_wide()["firms_real"][-1, -1] == pytest.approx(w.sum())
    assert w.sum() == pytest.approx(published.sum(), rel=1e-9)


def test_real_employment_is_calibrated_to_the_published_persons_employed(tmp_path):
    """Second margin (Deville & Särndal 1992): at policy year 0 each region's real employment is
    its published persons employed, at any number of model firms; without the figure, the
    weights times the staff."""
    published = None
    for n_firms in (600, 1500):
        m = ClusterModel("baseline", seed=2, params={"sim.n_firms": n_firms, "sim.spinup_years": 2})
        published = m.world.region_field("persons_employed")
        np.testing.assert_allclose(m.series_wide()["employment_real"][0, :-1], published, rtol=1e-9)
    assert (published > 0).all()
    f = tmp_path / "no_persons.toml"
    f.write_text('extends = "baseline"\n[simulation]\nregions = ["north_east_romania"]\nn_firms = 200\n'
                 'spinup_years = 0\n[regions_patch.north_east_romania]\npersons_employed = 0\n')
    m = ClusterModel(str(f), seed=1)
    ft, idx = m.firms, m.firms.idx
    assert m.employment_scale[0] == 1.0
    assert m.series_wide()["employment_real"][0, 0] == pytest.approx((m.firm_weight(idx) * ft.employees[idx]).sum())
