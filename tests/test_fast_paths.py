"""Vectorised paths of the model give the figures of the plain numpy calls they replace (to the bit).

Some of the model's paths compute what a plainer call would (one sort per region for regional
medians, an inverse-CDF table for ``Generator.choice``, whole-number counts for sums of halves,
cached tie endpoints). These tests pin each one to the call it stands for, so a change in either
side shows up here rather than as a silent drift of results. The shared numeric helpers of
:mod:`cluster_abm.numerics` are pinned in ``tests/test_numerics.py``.
"""

from __future__ import annotations

import numpy as np
import pytest

from cluster_abm.mechanisms.demography import cluster_choice_table
from cluster_abm.model.cluster_model import ClusterModel
from cluster_abm.outputs.metrics import _median_by_region, _region_sums


@pytest.fixture(scope="module")
def model():
    m = ClusterModel("baseline", seed=3)
    m.run(2)
    return m


def test_region_reference_is_numpy_median_per_region(model):
    ft, R = model.firms, model.world.n_regions
    idx = ft.idx
    reg = ft.region[idx]
    model._update_region_reference()
    for name in ("quality", "productivity", "skill_share", "rd_intensity", "codification", "dyncap"):
        col = getattr(ft, name)[idx]
        expected = [np.median(col[reg == r]) for r in range(R)]
        assert model.region_reference[name].tolist() == expected, name
    home = model.sector_field[ft.sector[idx]]
    kh = ft.knowledge[idx, home]
    assert model.region_reference["knowledge"].tolist() == [np.median(kh[reg == r]) for r in range(R)]


def test_region_reference_of_a_region_without_firms_is_the_overall_median(model):
    ft = model.firms
    emptied = ft.idx[ft.region[ft.idx] == 0]
    saved = ft.alive[emptied].copy()
    try:
        ft.alive[emptied] = False
        ft.mark_changed()
        model._update_region_reference()
        assert model.region_reference["quality"][0] == np.median(ft.quality[ft.idx])
    finally:
        ft.alive[emptied] = saved
        ft.mark_changed()
        model._update_region_reference()


def test_denovo_cluster_choice_matches_generator_choice(model):
    cdf, choice = cluster_choice_table(model.world)
    w = model.world
    for r in range(w.n_regions):
        cl = [c.index for c in w.clusters if c.region == r]
        shares = [c["firm_share"] for c in w.specs[r]["clusters"]]
        probs = np.array(shares + [max(1.0 - sum(shares), 0.0)])
        for seed in range(5):
            expected = np.random.default_rng(seed).choice(len(probs), size=40, p=probs / probs.sum())
            u = np.random.default_rng(seed).random(40)
            pick = (u[:, None] >= cdf[np.full(40, r)]).sum(axis=1)
            assert pick.tolist() == expected.tolist()
            clusters = choice[r, pick]
            assert clusters.tolist() == [cl[p] if p < len(cl) else -1 for p in expected]


def test_region_sums_equal_one_bincount_per_column():
    rng = np.random.default_rng(0)
    region = rng.integers(0, 6, 500)
    cols = {"x": rng.random(500), "flag": rng.random(500) < 0.3, "count": rng.integers(0, 9, 500)}
    out = _region_sums(region, 6, cols)
    for name, col in cols.items():
        by = np.bincount(region, weights=np.asarray(col, dtype=float), minlength=6)
        assert out[name][:6].tolist() == by.tolist()
        assert out[name][6] == by.sum()


def test_median_by_region_equals_numpy_median():
    rng = np.random.default_rng(1)
    region = rng.integers(0, 4, 301)
    for values in (rng.integers(1, 50, 301).astype(float), rng.lognormal(size=301)):
        out = _median_by_region(region, values, 4)
        assert out[:4].tolist() == [np.median(values[region == r]) for r in range(4)]
        assert out[4] == np.median(values)


@pytest.mark.parametrize("scenario", ["baseline", "full_strategy"])
def test_tie_series_from_stored_classes_equal_a_recount(scenario):
    """Tie classes are stored when a tie forms; recounting from the firms' current region,
    cluster and sector must give the same series (firms never move, so classes cannot go stale)."""
    from cluster_abm.outputs.metrics import step_metrics
    from cluster_abm.space import DISTANCE_CLASSES

    m = ClusterModel(scenario, seed=5)
    m.run(3)
    ft, t, R = m.firms, m.ties, m.world.n_regions
    ti = t.idx
    a, b, kind = t.a[ti], t.b[ti], t.kind[ti]
    ra, rb = ft.region[a], ft.region[b]
    ca, cb = ft.cluster[a], ft.cluster[b]
    meta_a = np.where(ca >= 0, m.meta_of_cluster[np.maximum(ca, 0)], -1)
    meta_b = np.where(cb >= 0, m.meta_of_cluster[np.maximum(cb, 0)], -1)
    same_sector = ft.sector[a] == ft.sector[b]
    masks = {f"ties_{c}": kind == k for k, c in enumerate(DISTANCE_CLASSES)}
    masks["ties_total"] = np.ones(len(ti), dtype=bool)
    masks["ties_cross_sector"] = ~same_sector
    masks["meta_cluster_ties"] = (meta_a >= 0) & (meta_a == meta_b) & (ra != rb)
    masks["ties_sector_interregional"] = (ca >= 0) & (cb >= 0) & same_sector & (ra != rb)
    out = step_metrics(m)
    assert t.region_a[ti].tolist() == ra.tolist() and t.region_b[ti].tolist() == rb.tolist()
    for name, mask in masks.items():
        half = 0.5 * mask
        by = np.bincount(ra, weights=half, minlength=R) + np.bincount(rb, weights=half, minlength=R)
        assert out[name][:R].tolist() == by.tolist(), name
        assert out[name][R] == by.sum(), name
    assert out["meta_cluster_ties"][R] > 0 or scenario == "baseline"


def test_project_capacity_is_first_come_in_the_drawn_order():
    """_assign admits, per institution, its first free_capacity applicants in a random order: the
    vectorised ranking equals the plain loop over that order."""
    import copy

    from cluster_abm.mechanisms.knowledge_projects import _assign, ki_arrays

    m = ClusterModel("full_strategy", seed=5)
    m.run(1)
    inst = ki_arrays(m)
    rng = np.random.default_rng(11)
    for trial in range(30):
        firms = m.firms.idx[rng.choice(len(m.firms.idx), int(rng.integers(0, 300)), replace=False)]
        eligible = rng.random((len(firms), len(m.kis))) < 0.3
        inst.free = rng.integers(-1, 4, len(m.kis))
        free0, state = inst.free.copy(), copy.deepcopy(m.rngs.knowledge.bit_generator.state)
        got = _assign(m, inst, firms, eligible)
        # the reference: the same draws, then the loop
        m.rngs.knowledge.bit_generator.state = state
        quality = np.array([ki.quality for ki in m.kis])
        ok = eligible & (free0 > 0)[None, :]
        score = np.where(ok, m.rngs.knowledge.random(ok.shape) ** (1.0 / np.maximum(quality, 1e-6)), -1.0)
        choice = score.argmax(axis=1) if len(firms) else np.zeros(0, dtype=np.int64)
        if len(firms):
            choice[score.max(axis=1) < 0] = -1
        taken, expected = np.zeros(len(m.kis), dtype=np.int64), np.full(len(firms), -1)
        for i in m.rngs.knowledge.permutation(len(firms)):
            k = choice[i]
            if k >= 0 and taken[k] < free0[k]:
                expected[i] = k
                taken[k] += 1
        assert got.tolist() == expected.tolist(), trial
        assert inst.free.tolist() == (free0 - taken).tolist()


def test_allocate_with_one_unit_cost_equals_the_per_request_costs():
    """A scalar unit cost grants and books exactly what the same cost given per request does."""
    m = ClusterModel("full_strategy", seed=2)
    ps, lid = m.policy, "cooperation_support"
    ps.set_year(0)  # policy year 0: the levers run ...
    ps.new_year()  # ... with this year's budgets
    rng = np.random.default_rng(3)
    R = m.world.n_regions
    outcomes = set()
    for trial in range(300):
        spent0 = rng.random(R) * ps._cap[lid]
        n = int(rng.integers(1, rng.choice([20, 3000])))
        regions = rng.choice(m.firms.idx, n)  # firm slots: their regions and weights set the costs
        cost = float(rng.choice([0.1, 0.3, 1.7, 2.5, 1 / 3]) * rng.integers(1, 200)) / float(rng.choice([100, 10000]))
        ps.spent[lid][:] = spent0
        got = ps.allocate(lid, regions, cost)
        spent_got = ps.spent[lid].tolist()
        ps.spent[lid][:] = spent0
        expected = ps.allocate(lid, regions, np.full(n, cost))
        assert got.tolist() == expected.tolist(), trial
        assert spent_got == ps.spent[lid].tolist(), trial
        outcomes.add(bool(expected.all()))
    assert outcomes == {True, False}  # both the all-granted and the budget-bound paths ran


def test_tie_ends_are_the_living_ties_endpoints_through_every_change():
    """ties.ends() is cached between changes of the tie table; after adds, decays, dropped
    firms and compactions it must still be (a[idx], b[idx]), and callers cannot write to it."""
    m = ClusterModel("full_strategy", seed=3)
    t = m.ties
    for _ in range(12):
        m.step()
        a, b = t.ends()
        living = np.flatnonzero(t.alive[: t.n])  # a recount, not the cached idx
        assert t.idx.tolist() == living.tolist()
        assert a.tolist() == t.a[living].tolist() and b.tolist() == t.b[living].tolist()
        assert t.ends()[0] is a  # unchanged table: the same arrays
        with pytest.raises(ValueError):
            a[0] = 0
    t._compact()
    assert t.ends()[0].tolist() == t.a[t.idx].tolist()
    dead = np.zeros(m.firms.n, dtype=bool)
    dead[t.a[t.idx][:5]] = True
    t.drop_firms(dead)
    assert t.ends()[1].tolist() == t.b[t.idx].tolist()


def test_firm_level_of_a_lever_on_everywhere_equals_the_region_lookup():
    """A lever at one intensity in every region and cluster skips the per-firm table lookup;
    its levels must equal that lookup, firm group applied or not."""
    m = ClusterModel("full_strategy", seed=2)
    m.run(1)
    ps, ft = m.policy, m.firms
    idx = ft.idx
    uniform = [lid for lid, level in ps._everywhere.items() if level is not None]
    targeted = [lid for lid, level in ps._everywhere.items() if level is None]
    assert uniform and targeted  # full_strategy has both kinds
    for lid in uniform:
        got = ps.level(lid, firms=idx)
        expected = ps._region[lid][ft.region[idx]]
        if ps.settings[lid].firms != "all":
            expected = expected * ps.group_mask(ps.settings[lid].firms, idx, expected > 0)
        assert got.dtype == np.float64 and got.tolist() == expected.tolist(), lid


def test_tie_table_compacts_rarely_and_keeps_living_ties_in_order():
    """When the table fills, dead rows are squeezed out (order kept) and, if living ties then
    fill more than half of it, it grows: with steady churn a compaction is rare, not every step."""
    from cluster_abm.state.tie_table import TieTable

    rng = np.random.default_rng(7)
    t = TieTable(capacity=64)
    expected: dict[int, tuple[int, int]] = {}  # key -> pair, in insertion order
    compactions = 0
    original = t._compact

    def counted():
        nonlocal compactions
        compactions += 1
        original()

    t._compact = counted
    for step in range(200):
        a, b = rng.integers(0, 500, 40), rng.integers(0, 500, 40)
        added = t.add(a, b, np.zeros(40, dtype=np.int8), step)
        for x, y in zip(np.minimum(a, b)[added].tolist(), np.maximum(a, b)[added].tolist(), strict=True):
            expected[x * 2**32 + y] = (x, y)
        dropped = t.keys(t.idx[rng.random(len(t.idx)) < 0.1]).tolist()
        t._end(t.idx[np.isin(t.keys(), dropped)])
        for k in dropped:
            expected.pop(k)
        a_live, b_live = t.ends()
        assert list(zip(a_live.tolist(), b_live.tolist(), strict=True)) == list(expected.values())
    assert len(t) == len(expected)
    assert 0 < compactions <= 20, compactions  # 14 here; compacting whenever full made it 64


@pytest.mark.parametrize("countries", ["own", "shared"])
def test_distance_class_counts_shared_levels_as_the_masks_did(model, countries):
    """World.distance_class (3 minus the levels a pair shares) against the masks it replaced,
    with every region its own country and with regions sharing countries."""
    from cluster_abm.space import INTER_CLUSTER, INTER_REGIONAL, INTRA_CLUSTER, TRANSNATIONAL, World

    w, ft = model.world, model.firms
    rc = w.region_country.copy() if countries == "own" else (np.arange(w.n_regions) // 2).astype(np.int16)
    probe = object.__new__(World)  # only region_country is read
    probe.region_country = rc
    rng = np.random.default_rng(4)
    a, b = rng.choice(ft.idx, (2, 300, 7))
    b[:, :3] = a[:, :3]  # some pairs of one firm: intra-cluster or, outside clusters, inter-cluster
    ra, rb, ca, cb = ft.region[a], ft.region[b], ft.cluster[a], ft.cluster[b]
    want = np.full(a.shape, TRANSNATIONAL, dtype=np.int8)
    want[rc[ra] == rc[rb]] = INTER_REGIONAL
    want[ra == rb] = INTER_CLUSTER
    want[(ca >= 0) & (ca == cb)] = INTRA_CLUSTER
    got = probe.distance_class(ra, ca, rb, cb)
    assert got.dtype == np.int8 and np.array_equal(got, want)
    assert set(np.unique(want)) >= ({0, 1, 3} if countries == "own" else {0, 1, 2, 3})


def test_tie_caches_follow_adds_and_ends_as_fresh_gathers_would():
    """TieTable's cached living rows and ends (kept between changes of the table) equal a fresh
    gather through adds, decays, firm deaths and compactions, whether or not ends() was asked
    for in between."""
    from cluster_abm.state.tie_table import TieTable

    rng = np.random.default_rng(11)
    t = TieTable(capacity=64)
    for step in range(300):
        if rng.random() < 0.7:
            t.ends()  # warm the caches (mechanisms read ends between changes)
        n_new = int(rng.integers(0, 40))
        t.add(rng.integers(0, 300, n_new), rng.integers(0, 300, n_new), np.zeros(n_new, dtype=np.int8), step)
        if rng.random() < 0.5:
            t.ends()
        action = rng.integers(0, 3)
        if action == 0:
            t.decay(rng, 0.08)
        elif action == 1:
            t.drop_firms(rng.random(300) < 0.03)
        fresh_idx = t.alive[: t.n].nonzero()[0]
        assert t.idx.tolist() == fresh_idx.tolist()
        a, b = t.ends()
        assert a.tolist() == t.a[fresh_idx].tolist() and b.tolist() == t.b[fresh_idx].tolist()
        assert not a.flags.writeable and not b.flags.writeable
        assert len(t) == len(fresh_idx)


def test_size_weight_table_is_the_interpolated_weight(model):
    from cluster_abm.state.size_weights import weight_table, weights
    x, y = model.size_anchor_x, model.size_anchor_y
    R = len(x)
    table = weight_table(x, y, 3000)
    region = np.repeat(np.arange(R), 3001)
    employees = np.tile(np.arange(3001), R)
    expected = weights(x, y, region, employees)
    assert np.array_equal(table[region, employees], expected, equal_nan=True)
    ft = model.firms
    idx = ft.idx
    emp = ft.skilled[idx] + ft.unskilled[idx]
    plain = weights(x, y, ft.region[idx], emp)
    assert np.array_equal(model.policy.weight(idx), np.where(np.isfinite(plain) & (plain > 0), plain, 1.0))
