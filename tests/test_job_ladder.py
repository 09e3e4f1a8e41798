"""On-the-job search up a job ladder (Burdett & Mortensen 1998; Haltiwanger, Hyatt, Kahn &
McEntarfer 2018): employees meet vacancies of their region and move to more productive firms.
Each test fails without the mechanism (``production.job_to_job`` gone or
``labour.on_the_job_search`` 0)."""

from __future__ import annotations

import numpy as np

from cluster_abm.mechanisms import production
from cluster_abm.model.cluster_model import ClusterModel
from cluster_abm.numerics.rounding import systematic_round

BUILT = {"sim.spinup_years": 0}  # the built world, no spin-up: fast


def test_systematic_round_keeps_group_totals_and_is_unbiased():
    rng = np.random.default_rng(3)
    x = rng.random(200) * 1.5
    g = rng.integers(0, 5, 200)
    tot = np.bincount(g, weights=x, minlength=5)
    x *= (np.round(tot) / tot)[g]  # whole-number totals per group
    for _ in range(50):
        r = systematic_round(rng.random(5), x, g)
        np.testing.assert_array_equal(np.bincount(g, weights=r, minlength=5), np.round(tot))
        assert np.all((r == np.floor(x)) | (r == np.floor(x) + 1))
    mean = np.mean([systematic_round(rng.random(5), x, g) for _ in range(4000)], axis=0)
    assert np.abs(mean - x).max() < 0.05


def _one_step_of_moves(seed: int, params: dict | None = None):
    """Staff before and after job_to_job in one step of a built world, with its inputs."""
    m = ClusterModel("baseline", seed=seed, params=BUILT | (params or {}))
    m.run(1)  # a year: vacancies open as demand grows
    seen = {}
    orig = production.job_to_job

    def spy(m_, step, idx, want_s, want_u):
        ft = m_.firms
        before = (ft.skilled[idx].copy(), ft.unskilled[idx].copy())
        orig(m_, step, idx, want_s, want_u)
        seen.update(idx=idx.copy(), before=before, after=(ft.skilled[idx].copy(), ft.unskilled[idx].copy()),
                    ladder=ft.quality[idx] * production.effective_productivity(m_, step, idx),
                    region=ft.region[idx].copy(), want=(want_s.copy(), want_u.copy()))

    production.job_to_job = spy
    try:
        m.step()
    finally:
        production.job_to_job = orig
    return m, seen


def test_moves_conserve_workers_keep_owners_and_go_up_the_ladder():
    moved_any = False
    for seed in (1, 2, 3):
        m, s = _one_step_of_moves(seed)
        for k in (0, 1):
            d = s["after"][k].astype(np.int64) - s["before"][k]
            # Every joiner has a leaver in the same region.
            for r in range(m.world.n_regions):
                assert d[s["region"] == r].sum() == 0
            gain, loss = d > 0, d < 0
            moved_any |= bool(gain.any())
            # No firm hires beyond its open vacancies (rounded up).
            assert np.all(d[gain] <= np.ceil(np.maximum(s["want"][k] - s["before"][k], 0.0))[gain])
            # Up the ladder: in each region, joiners' firms are on average above leavers' firms.
            for r in range(m.world.n_regions):
                g, lo = gain & (s["region"] == r), loss & (s["region"] == r)
                if g.any() and lo.any():
                    assert s["ladder"][g].max() > s["ladder"][lo].min()
        total_after = s["after"][0] + s["after"][1]
        assert np.all(total_after >= 1)  # the owner-manager never leaves
    assert moved_any


def test_no_moves_when_on_the_job_search_is_off():
    _, s = _one_step_of_moves(1, {"labour.on_the_job_search": 0.0})
    for k in (0, 1):
        np.testing.assert_array_equal(s["after"][k], s["before"][k])


def test_ladder_shifts_employment_to_more_productive_firms():
    """Paired seeds: with on-the-job search, employment in each region moves towards its more
    productive firms (the firms above their region's median rung gain share of employment)."""
    gains = []
    for seed in (4, 5, 6):
        shares = []
        for rate in (0.0, 0.6):
            m = ClusterModel("baseline", seed=seed, params=BUILT | {"labour.on_the_job_search": rate})
            m.run(3)
            ft = m.firms
            idx = ft.idx
            rung = ft.quality[idx] * ft.productivity[idx]
            emp = (ft.skilled[idx] + ft.unskilled[idx]).astype(float)
            top = np.zeros(len(idx), dtype=bool)
            for r in np.unique(ft.region[idx]):
                here = ft.region[idx] == r
                top[here] = rung[here] > np.median(rung[here])
            shares.append(emp[top].sum() / emp.sum())
        gains.append(shares[1] - shares[0])
    assert np.mean(gains) > 0.0
