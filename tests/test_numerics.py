"""The numeric helpers of :mod:`cluster_abm.numerics` against their textbook or plain forms (to the
bit): keyed draws against SplitMix64 written out, unbiased rounding against floor plus a
Bernoulli draw, ranks and top items per group against plain Python loops."""

from __future__ import annotations

import numpy as np
import pytest

from cluster_abm.numerics.grouping import rank_in_groups, top_per_group
from cluster_abm.numerics.keyed_random import (
    _GOLD,
    _M1,
    _M2,
    _MASK64,
    _mix_int,
    keyed_normal,
    keyed_uniform,
    keyed_uniform_columns,
)
from cluster_abm.numerics.rounding import keyed_round, stochastic_round


def _splitmix_reference(ids, head):
    """SplitMix64 written out without in-place operations (the textbook form)."""
    x = np.asarray(ids).astype(np.uint64) * _GOLD + np.uint64(head)
    x = x ^ (x >> np.uint64(30))
    x = x * _M1
    x = x ^ (x >> np.uint64(27))
    x = x * _M2
    x = x ^ (x >> np.uint64(31))
    return (x >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)


def test_keyed_draws_equal_the_textbook_splitmix():
    ids = np.array([1, 2, 3, 10_000, 2**40 + 7], dtype=np.int64)
    key, step, purpose = 123456789, 17, 5
    for sub in range(3):
        head = _mix_int(key ^ _mix_int(((step << 24) ^ (purpose << 12) ^ sub) & _MASK64))
        expected = _splitmix_reference(ids, head)
        assert keyed_uniform(key, ids, step, purpose, sub).tolist() == expected.tolist()
        assert keyed_uniform_columns(key, ids, step, purpose, 3)[:, sub].tolist() == expected.tolist()
    assert ids.tolist() == [1, 2, 3, 10_000, 2**40 + 7]  # the caller's ids are not touched


def test_keyed_normal_is_box_muller_of_two_keyed_uniforms():
    ids = np.arange(1, 2001)
    u1, u2 = (keyed_uniform(99, ids, 3, 4, sub) for sub in (1, 2))
    expected = np.sqrt(-2.0 * np.log1p(-u1)) * np.cos(2.0 * np.pi * u2)
    z = keyed_normal(99, ids, 3, 4)
    assert z.tolist() == expected.tolist()
    assert abs(z.mean()) < 0.1 and abs(z.std() - 1.0) < 0.1


def test_keyed_round_is_floor_plus_a_draw_below_the_fraction():
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.random(500) * 20.0, [0.0, 3.0, 2.5, 7.999999]])
    u = rng.random(len(x))
    got = keyed_round(u, x)
    assert got.dtype == np.int64
    assert got.tolist() == [int(np.floor(a)) + int(b < a - np.floor(a)) for a, b in zip(x, u, strict=True)]
    # unbiased: on average x
    many = np.full(200_000, 2.3)
    assert abs(keyed_round(rng.random(len(many)), many).mean() - 2.3) < 0.01


def test_stochastic_round_is_keyed_round_with_the_generators_next_uniforms():
    x = np.random.default_rng(2).random((7, 3)) * 5.0
    got = stochastic_round(np.random.default_rng(3), x)
    assert got.shape == x.shape
    assert got.tolist() == keyed_round(np.random.default_rng(3).random(x.shape), x).tolist()


def _rank_loop(sorted_keys):
    seen: dict[int, int] = {}
    out = []
    for key in sorted_keys.tolist():
        out.append(seen.get(key, 0))
        seen[key] = out[-1] + 1
    return out


def test_rank_in_groups_counts_the_equal_keys_before():
    rng = np.random.default_rng(3)
    for n in (0, 1, 2, 50, 2000):
        keys = np.sort(rng.integers(-1, 7, n))
        assert rank_in_groups(keys).tolist() == _rank_loop(keys)


def _top_per_group_loop(groups, priority, k):
    """Per group in turn: its items by priority, highest first, earlier first among equals (a
    stable sort), cut to the group's places."""
    out = []
    for g in range(len(k)):
        items = [i for i in range(len(groups)) if groups[i] == g]
        items.sort(key=lambda i: -priority[i])
        out += items[: max(int(k[g]), 0)]
    return out


@pytest.mark.parametrize("kind", ["continuous", "few_values", "signed_zeros", "all_equal"])
def test_top_per_group_takes_each_groups_highest_priorities(kind):
    rng = np.random.default_rng(len(kind))
    for _ in range(1000):
        n, n_groups = int(rng.integers(0, 80)), int(rng.integers(1, 8))
        groups = rng.integers(0, n_groups, n).astype(np.intp)
        priority = {"continuous": rng.random(n), "few_values": rng.integers(0, 4, n) * -0.1,
                    "signed_zeros": np.where(rng.random(n) < 0.5, 0.0, -0.0),
                    "all_equal": np.ones(n)}[kind]
        k = rng.integers(0, 10, n_groups)
        assert top_per_group(groups, priority, k).tolist() == _top_per_group_loop(groups, priority, k)


def test_training_selection_in_a_running_model_is_the_top_per_region():
    from cluster_abm.mechanisms.capabilities import _select
    from cluster_abm.model.cluster_model import ClusterModel

    model = ClusterModel("baseline", seed=3, params={"sim.n_firms": 400})
    model.run(1)
    ft = model.firms
    idx = ft.idx
    reg = ft.region[idx]
    for priority in (-ft.codification[idx], model.uniform("training", idx), -ft.knowledge[idx, -1]):
        for places in (np.full(model.world.n_regions, 3), np.arange(model.world.n_regions) * 50):
            expected = idx[_top_per_group_loop(reg, priority, places)]
            assert _select(model, idx, places, priority).tolist() == expected.tolist()
