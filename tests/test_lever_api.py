"""The lever API mechanisms use (:class:`cluster_abm.policy.lever_state.PolicyState`) cannot be
misused quietly: a lever id that is not in the catalogue raises, naming the closest known id,
from every accessor (a typo is never read as "lever off"); levels come back as fresh, writable
arrays; and :meth:`PolicyState.grant` never spends beyond a lever's budget and refuses the rest."""

from __future__ import annotations

import numpy as np
import pytest

from cluster_abm.model.cluster_model import ClusterModel
from cluster_abm.policy.lever_state import _SLACK, ALL, UnknownLeverError

TYPO, MEANT = "cooperation_suport", "cooperation_support"


@pytest.fixture(scope="module")
def model():
    m = ClusterModel("full_strategy", seed=2)
    m.step()
    return m


def _accessors(m):
    ps, idx = m.policy, m.firms.idx
    return {
        "on": lambda lid: ps.on(lid),
        "intensity": lambda lid: ps.intensity(lid),
        "level firms": lambda lid: ps.level(lid, firms=idx),
        "level regions": lambda lid: ps.level(lid, regions=ALL),
        "level one region": lambda lid: ps.level(lid, regions=0),
        "level clusters": lambda lid: ps.level(lid, clusters=ALL),
        "level cmo": lambda lid: ps.level(lid, cmo=m.cmos[0]),
        "grant": lambda lid: ps.grant(lid, idx[:5], 1.0),
        "allocate": lambda lid: ps.allocate(lid, idx[:3], 1.0),
        "charge": lambda lid: ps.charge(lid, 0, 1.0),
        "remaining": lambda lid: ps.remaining(lid, 0),
        "left": lambda lid: ps.left(lid),
        "yearly_cap": lambda lid: ps.yearly_cap(lid),
        "spent_by_year": lambda lid: ps.spent_by_year(lid),
    }


ACCESSORS = ("on", "intensity", "level firms", "level regions", "level one region", "level clusters",
             "level cmo", "grant", "allocate", "charge", "remaining", "left", "yearly_cap", "spent_by_year")


def test_every_accessor_is_checked(model):
    assert set(_accessors(model)) == set(ACCESSORS)


@pytest.mark.parametrize("accessor", ACCESSORS)
def test_a_typo_in_a_lever_id_raises_naming_the_closest_lever(model, accessor):
    call = _accessors(model)[accessor]
    spent = {lid: v.copy() for lid, v in model.policy.spent.items()}
    with pytest.raises(UnknownLeverError) as info:
        call(TYPO)
    err = info.value
    assert isinstance(err, KeyError) and isinstance(err, ValueError)
    assert TYPO in str(err) and MEANT in str(err), str(err)
    assert all((model.policy.spent[lid] == v).all() for lid, v in spent.items())  # nothing booked


def test_a_known_lever_that_is_off_reaches_nobody_and_costs_nothing():
    m = ClusterModel("baseline", seed=2)
    ps, idx, R, C = m.policy, m.firms.idx, m.world.n_regions, m.world.n_clusters
    lid = "cooperation_support"
    assert lid not in ps.settings
    assert ps.on(lid) is False and ps.intensity(lid) == 0.0
    assert ps.level(lid, firms=idx).tolist() == [0.0] * len(idx)
    assert ps.level(lid, regions=ALL).tolist() == [0.0] * R
    assert ps.level(lid, regions=1) == 0.0
    assert ps.level(lid, clusters=ALL).tolist() == [0.0] * C
    assert ps.level(lid, cmo=m.cmos[0]) == 0.0
    assert not ps.grant(lid, idx, 1.0).any()
    assert ps.charge(lid, 0, 10.0) == 0.0
    assert ps.left(lid).tolist() == [0.0] * R and ps.spent_by_year(lid).shape == (0, R)
    assert lid not in m.ledger.lever_cost


def test_level_takes_exactly_one_selector(model):
    ps = model.policy
    with pytest.raises(TypeError):
        ps.level(MEANT)
    with pytest.raises(TypeError):
        ps.level(MEANT, firms=model.firms.idx, regions=ALL)


def test_levels_are_fresh_writable_arrays(model):
    """Every kind of lever (on everywhere, targeted, with a firm group, off) and every selector
    gives an array the caller may write to without changing what the next call returns."""
    ps, idx = model.policy, model.firms.idx
    everywhere = [lid for lid, v in ps._everywhere.items() if v is not None]
    targeted = [lid for lid, v in ps._everywhere.items() if v is None]
    grouped = [lid for lid, s in ps.settings.items() if s.firms != "all"]
    assert everywhere and targeted and grouped
    for lid in {*everywhere, *targeted, *grouped, "quadruple_helix"}:
        for sel in ({"firms": idx}, {"firms": idx[:7]}, {"regions": ALL}, {"regions": np.array([0, 2])},
                    {"clusters": ALL}, {"clusters": [0, 1]}):
            first = ps.level(lid, **sel)
            before = first.copy()
            assert first.flags.writeable, (lid, sel)
            first[:] = -1.0
            again = ps.level(lid, **sel)
            assert again.tolist() == before.tolist(), (lid, sel)


def _budget_case(m, rng, lid):
    """Random spending so far, requests, costs, asks and levels for one grant call."""
    ps, idx = m.policy, m.firms.idx
    ps.spent[lid][:] = rng.random(m.world.n_regions) * ps._cap[lid] * rng.choice([0.5, 0.99, 1.0])
    slots = rng.permutation(idx)[: int(rng.integers(0, len(idx)))]
    n = len(slots)
    scalar = bool(rng.integers(0, 2))
    cost = float(rng.choice([0.05, 0.3, 2.5])) if scalar else rng.random(n) * float(rng.choice([0.1, 4.0]))
    level = rng.random(n) * (rng.random(n) < 0.7)
    asking = (level > 0) & (rng.random(n) < 0.8) if rng.integers(0, 2) else None
    return slots, cost, asking, level


def test_grant_never_exceeds_the_budget_and_refuses_the_rest(model):
    """A model firm's request costs the unit cost times the real firms it stands for; requests are
    served in order while the money lasts, the first that does not fit is a lottery on the money
    left (which is spent), and spending never exceeds the year's budget."""
    ps, ft, R = model.policy, model.firms, model.world.n_regions
    lid = MEANT
    assert lid in ps.settings
    assert (ps.real_firms[:, 0] > 1).all()  # the baseline regions give their enterprises
    rng = np.random.default_rng(5)
    saw_refusals = saw_all_granted = saw_lottery = False
    for trial in range(200):
        slots, cost, asking, level = _budget_case(model, rng, lid)
        n = len(slots)
        left0 = ps.left(lid).copy()
        spent0 = ps.spent[lid].copy()
        level0 = level.copy()
        granted = ps.grant(lid, slots, cost, asking=asking, level=level)
        asked = level0 > 0 if asking is None else asking
        region = ft.region[slots]
        costs = np.broadcast_to(np.asarray(cost, dtype=float), (n,)) * ps.weight(slots)
        assert granted.dtype == bool and granted.shape == (n,)
        assert not (granted & ~asked).any(), trial  # only those who asked
        spent = ps.spent[lid] - spent0
        assert (spent <= left0 + 1e-6).all(), trial  # never beyond the year's budget
        refused = asked & ~granted
        assert (level[refused] == 0).all(), trial  # the rest is zeroed ...
        assert (level[~refused] == level0[~refused]).all(), trial  # ... and nothing else
        # In each region the first askers that fit are granted and paid in full; the first that
        # does not fit is a lottery paid with the money left; the rest is refused.
        for r in range(R):
            pos = np.flatnonzero(asked & (region == r))
            fits = np.cumsum(costs[pos]) <= left0[r] + _SLACK
            k = int(fits.sum())
            assert fits[:k].all() and granted[pos[:k]].all(), (trial, r)
            assert not granted[pos[k + 1:]].any(), (trial, r)
            whole = costs[pos[:k]].sum()
            expected = whole if k == len(pos) else left0[r]
            assert np.isclose(spent[r], expected), (trial, r)
            saw_lottery |= bool(k < len(pos) and granted[pos[k]])
        saw_refusals |= bool(refused.any())
        saw_all_granted |= bool(n and granted.sum() == asked.sum())
    assert saw_refusals and saw_all_granted and saw_lottery  # every path ran


def test_a_partly_funded_request_is_granted_with_the_funded_share():
    """The lottery on the last request is unbiased: over many draws, a request of cost c with
    money m < c left is granted with frequency m / c."""
    from cluster_abm.policy.lever_state import fill_budget
    rng = np.random.default_rng(1)
    cost = np.array([4.0, 10.0, 10.0])
    regions = np.zeros(3, dtype=np.intp)
    hits = 0
    for _ in range(20000):
        granted, paid = fill_budget(cost, regions, np.array([7.0]), rng.random(3))
        assert granted[0] and not granted[2] and np.isclose(paid.sum(), 7.0)
        hits += granted[1]
    assert abs(hits / 20000 - 0.3) < 0.015


def test_grant_equals_the_allocation_it_replaces(model):
    """grant(slots, asking=mask) = allocate over the askers, spread back over slots."""
    ps = model.policy
    lid = MEANT
    rng = np.random.default_rng(9)
    for trial in range(50):
        slots, cost, asking, level = _budget_case(model, rng, lid)
        asked = level > 0 if asking is None else asking
        spent0 = ps.spent[lid].copy()
        pos = asked.nonzero()[0]
        expected = np.zeros(len(slots), dtype=bool)
        expected[pos[ps.allocate(lid, slots[pos], cost if np.ndim(cost) == 0 else cost[pos])]] = True
        spent_expected = ps.spent[lid].copy()
        ps.spent[lid][:] = spent0
        got = ps.grant(lid, slots, cost, asking=asking, level=level)
        assert got.tolist() == expected.tolist(), trial
        assert ps.spent[lid].tolist() == spent_expected.tolist(), trial


def test_unspent_money_stays_available_for_the_carry_years_oldest_first():
    """The n+2 rule (policy.budget_carry_years = 2): a lever on its own yearly budget may spend
    this year's money plus what it left unspent in the two years before, oldest money first."""
    m = ClusterModel("full_strategy", seed=2, params={"sim.spinup_years": 0})
    ps = m.policy
    planned, R = np.array([100.0, 100.0]), 2
    none = np.zeros((0, R))
    # Year 1 spends nothing, year 2 spends 150 (the 50 beyond its own money come from year 1).
    after1 = ps._carry_over(none, planned, np.zeros(R))
    np.testing.assert_allclose(after1, [[100.0, 100.0]])
    after2 = ps._carry_over(after1, planned, np.array([150.0, 0.0]))  # year 1's 100 first
    np.testing.assert_allclose(after2, [[50.0, 100.0], [0.0, 100.0]])
    # Year 3 spends 20 in region 0, from year 2's rest; year 1's money has run out (region 1:
    # its 100 expire unspent after two years).
    after3 = ps._carry_over(after2, planned, np.array([20.0, 0.0]))
    np.testing.assert_allclose(after3, [[100.0, 100.0], [30.0, 100.0]])
    # In a run: a lever's committed money is its plan plus what earlier years left.
    m.run(3)
    bt = m.policy.budget_table()
    row = bt.groupby(["lever", "year"])[["planned_keur", "committed_keur", "spent_keur"]].sum()
    for lid in m.policy.settings:
        if m.policy.programme is not None and lid in m.policy.programme.levers:
            continue
        p = row.loc[lid]
        np.testing.assert_allclose(p.committed_keur[0], p.planned_keur[0])
        left0 = p.planned_keur[0] - p.spent_keur[0]
        np.testing.assert_allclose(p.committed_keur[1], p.planned_keur[1] + left0, rtol=1e-9)
