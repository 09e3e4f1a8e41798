"""Owners who do not seek growth (issue 21, the size distribution; Hurst & Pugsley 2011): about a
quarter of founders want their firm as large as possible, the others stay at a size they manage
themselves. Each test fails without the mechanism."""

from __future__ import annotations

import numpy as np

from cluster_abm.analysis.validation.targets import load_targets, measure, observe
from cluster_abm.mechanisms import demography, production
from cluster_abm.model.cluster_model import ClusterModel
from cluster_abm.specs.scenario import load_scenario

BUILT = {"sim.spinup_years": 0}  # the built world


def test_founders_seek_growth_at_the_published_share_and_grown_firms_do():
    """New firms seek growth with probability ``demography.growth_seeking_share`` (a keyed draw
    per firm); firms of the built world already larger than their owners manage seek growth.
    The size an owner manages is log-normal around ``demography.manageable_staff``."""
    m = ClusterModel("baseline", seed=3, params=BUILT)
    ft, d = m.firms, m.p.demography
    idx = ft.idx
    size = ft.skilled[idx] + ft.unskilled[idx]
    assert ft.growth_seeking[idx[size > ft.manageable[idx]]].all()
    small = idx[size <= ft.manageable[idx]]
    assert abs(ft.growth_seeking[small].mean() - d.growth_seeking_share) < 0.04, ft.growth_seeking[small].mean()
    born = []
    for _ in range(12):
        m.step()
        born.append(ft.idx[ft.birth_step[ft.idx] == m.t - 1])
    born = np.concatenate(born)
    assert len(born) > 150
    sizes = ft.manageable[born]
    assert sizes.min() >= 1 and abs(np.median(sizes) - d.manageable_staff) <= 1, np.median(sizes)
    spread = np.log(sizes[sizes > 1]).std()
    assert 0.6 * d.manageable_staff_sd < spread < 1.4 * d.manageable_staff_sd, spread
    assert abs(ft.growth_seeking[born].mean() - d.growth_seeking_share) < 0.07, ft.growth_seeking[born].mean()



def test_owners_who_do_not_seek_growth_hire_up_to_a_size_they_manage():
    """Desired staff of a firm that does not seek growth are capped at the whole persons its
    owner manages, in its technology's mix; growth-seeking firms and firms that want fewer are
    untouched."""
    m = ClusterModel("baseline", seed=1, params=BUILT)
    ft = m.firms
    cap = 7
    idx = ft.idx[:4]
    ft.manageable[idx] = cap
    ft.growth_seeking[idx] = [False, False, True, False]
    want_s = np.array([6.0, 1.0, 30.0, 0.4])
    want_u = np.array([14.0, 2.0, 70.0, 0.6])
    s, u = production.manageable_staff(m, idx, want_s, want_u)
    assert s[0] + u[0] == cap and s[0] == np.round(cap * 0.3)
    np.testing.assert_array_equal([s[1], u[1], s[2], u[2], s[3], u[3]], [1.0, 2.0, 30.0, 70.0, 0.4, 0.6])
    assert want_s[0] == 6.0  # the caller's arrays are not changed


def test_owners_who_keep_their_firms_small_keep_micro_firms_common():
    """Micro firms are the larger share of firms when three quarters of founders keep their
    firms at a manageable size than when every owner seeks growth (paired seeds, built world,
    10 years)."""
    target = load_targets()["micro_share_of_firms.EU"]
    micro = {}
    for share in (0.25, 1.0):
        scen = load_scenario("baseline").with_params({**BUILT, "demography.growth_seeking_share": share})
        micro[share] = np.array([measure(observe(scen, seed, 10), target.measure, target.scope, 0)
                                 for seed in (1, 2)])
    assert (micro[0.25] - micro[1.0]).min() > 0.015, micro  # measured: +2.4 and +2.8 points


def test_orders_an_owner_turns_away_go_to_the_market_s_other_firms():
    """A firm whose owner does not seek growth takes on no more orders than its manageable staff
    serve; the rest go to its market's firms that take orders, in proportion to their orders, and
    its share of the market moves with them: market orders and shares are conserved."""
    from cluster_abm.mechanisms import agglomeration
    from cluster_abm.model.step_state import StepState

    m = ClusterModel("baseline", seed=2, params=BUILT)
    ft, R = m.firms, m.world.n_regions
    s = StepState(t=m.t)
    agglomeration.local_pools(m, s)
    s.subsidy_rate = np.zeros(ft.n)
    idx = ft.idx
    market = ft.sector[idx] * R + ft.region[idx]
    k = np.bincount(market).argmax()  # the largest market
    ft.growth_seeking[idx] = True
    small = np.flatnonzero(market == k)[:3]
    ft.growth_seeking[idx[small]] = False
    ft.manageable[idx[small]] = 1
    most = production.manageable_demand(m, s, idx)
    rev_reg = np.where(market == k, 10.0 * np.where(np.isfinite(most), most, 1.0), 1.0)
    rev_exp = np.zeros(len(idx))
    share_before = ft.share_reg[idx].copy()
    n_markets = m.world.n_sectors * R
    reg, exp = production.turn_away(m, s, idx, rev_reg, rev_exp, market, n_markets, ft.sector[idx], m.world.n_sectors)
    np.testing.assert_allclose(reg[small], most[small])  # booked out: no more than the staff serve
    inside = market == k
    np.testing.assert_allclose(reg[inside].sum(), rev_reg[inside].sum())  # the market's orders stay
    np.testing.assert_array_equal(reg[~inside], rev_reg[~inside])  # other markets untouched
    takers = inside.copy()
    takers[small] = False
    np.testing.assert_allclose(reg[takers] / rev_reg[takers], reg[takers][0] / rev_reg[takers][0])  # pro rata
    assert (reg[takers] > rev_reg[takers]).all()
    share = ft.share_reg[idx]
    np.testing.assert_allclose(share[inside].sum(), share_before[inside].sum())
    assert (share[small] < share_before[small]).all() and (share[takers] > share_before[takers]).all()
    np.testing.assert_array_equal(exp, rev_exp)


def test_only_firms_their_owners_run_alone_close_for_want_of_a_successor(monkeypatch):
    """The non-economic closure (the owner leaves, nobody takes over) ends firms no larger than
    their owner manages alone; a firm grown past that has a management and is handed on."""
    from cluster_abm.model.step_state import StepState

    m = ClusterModel("baseline", seed=6, params={**BUILT, "demography.closure_rate": 0.3})
    ft = m.firms
    monkeypatch.setattr(demography, "learn_viability", lambda m, step, idx: np.zeros(len(idx), dtype=bool))
    monkeypatch.setattr(demography, "liquidate", lambda m, idx: np.zeros(len(idx), dtype=bool))
    idx = ft.idx
    grown = idx[ft.skilled[idx] + ft.unskilled[idx] > ft.manageable[idx]]
    run_alone = np.setdiff1d(idx, grown)
    assert len(grown) > 50 and len(run_alone) > 500
    for _ in range(8):
        step = StepState(t=m.t)
        step.insolvent = np.zeros(0, dtype=np.int64)
        step.degree = np.zeros(ft.n, dtype=np.int64)
        demography.remove_firms(m, step)
        m.t += 1
    closed = ~ft.alive[run_alone]
    assert ft.alive[grown].all()
    assert 0.3 < closed.mean() < 0.6, closed.mean()  # two years at 30 % a year: about 51 %
