"""Business network contracts (seed 3.3.1): membership as a share of each model firm's real firms,
founders and recruits; dissolution; ties among co-members and their longer life; and the
commercial channel (Cisi, Devicienti, Manello & Vannoni 2020): members sell abroad together, so a
member whose partner exports may start exporting without a transnational tie of its own."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from cluster_abm.mechanisms import cooperation
from cluster_abm.model.cluster_model import ClusterModel
from cluster_abm.policy.levers import LeverSetting
from cluster_abm.specs.scenario import load_scenario

BASE = load_scenario("baseline")
BUILT = {"sim.spinup_years": 0}  # the built world, no spin-up: fast


def _model(**params):
    return ClusterModel(BASE, seed=5, params={**BUILT, **params})


def _clear(m) -> None:
    """No ties and no contract members: each test builds its own."""
    ft = m.firms
    m.ties.end(m.ties.idx)
    ft.contract_share[ft.idx] = 0.0
    ft.exporter[ft.idx] = False


def _tie(m, a, b) -> None:
    ft = m.firms
    a, b = np.atleast_1d(a), np.atleast_1d(b)
    kind = m.world.distance_class(ft.region[a], ft.cluster[a], ft.region[b], ft.cluster[b])
    assert m.ties.add(a, b, kind, m.t).all()


def test_a_member_whose_partner_exports_gains_access_by_the_share_inside_a_contract():
    """A member tied to an exporting member gains access in proportion to the share of their
    relation inside a contract (the smaller of the two member shares); a non-member partner of
    an exporter gains none, nor does an exporter by itself. A transnational tie gives full access
    whatever the contract."""
    m = _model(**{"contract.export_pooling": 0.7})
    ft = m.firms
    _clear(m)
    i = ft.idx[:7]
    _tie(m, [i[0], i[0], i[3]], [i[1], i[2], i[4]])  # i0 exports to partners i1, i2; i3-i4 no exporter
    ft.exporter[i[0]] = True
    ft.contract_share[i[[0, 1, 2, 3, 4, 6]]] = [0.5, 0.4, 0.0, 1.0, 1.0, 1.0]
    tie = np.zeros(ft.n, dtype=bool)
    tie[i[4]] = True
    access = cooperation.export_access(m, tie)
    np.testing.assert_allclose(access[i], [0.0, 0.7 * 0.4, 0.0, 0.0, 1.0, 0.0, 0.0])
    others = np.setdiff1d(ft.idx, i)
    assert (access[others] == tie[others]).all()


def test_without_pooling_only_transnational_ties_open_exports():
    m = _model(**{"contract.export_pooling": 0.0})
    ft = m.firms
    _clear(m)
    i = ft.idx[:2]
    _tie(m, i[0], i[1])
    ft.contract_share[i] = 1.0
    ft.exporter[i[0]] = True
    access = cooperation.export_access(m, np.zeros(ft.n, dtype=bool))
    assert (access == 0).all()


def _networked_smes(m, k: int, law: bool = True) -> np.ndarray:
    """``k`` SMEs of regions with (or without) a contract law, for hand-built networks."""
    ft = m.firms
    idx = ft.idx
    small = (ft.skilled[idx] + ft.unskilled[idx]) < 50
    return idx[small & (m.contract_law[ft.region[idx]] == law)][:k]


def test_membership_is_a_share_of_the_real_firms_founders_and_recruits_alike():
    """A founding model firm's share rises by the founding hazard's share of its real non-members;
    its SME partners' shares by the real firms the foundings recruit (up to max_members - 1 per
    founding, one behind each partner); shares never pass 1; firms without partners do not found
    and are not recruited. The region's stock of real contracts grows by the real foundings.
    The partners are in regions without a contract law (the law admits foreign partners), so
    only the founder founds."""
    m = _model(**{"contract.formation_rate": 1.0, "contract.max_members": 3})
    ft = m.firms
    _clear(m)
    f, alone = _networked_smes(m, 2)
    p1, p2, p3 = _networked_smes(m, 3, law=False)
    _tie(m, [f, f, f], [p1, p2, p3])
    step = m.step_state
    step.degree = m.ties.degree(ft.n)
    stock0 = m.contract_stock.copy()
    cooperation.form_contracts(m, step)
    s = ft.contract_share
    assert 0 < s[f] < 1 and s[alone] == 0.0
    assert (s[[p1, p2, p3]] > 0).all() and (s[[p1, p2, p3]] <= 1.0).all()
    # The founder's share is its real firms' founding probability this step.
    rate = m.p.contract.formation_rate
    np.testing.assert_allclose(s[f], -np.expm1(-rate), rtol=1e-12)
    # Each real founding recruits min(3 partners, max_members - 1 = 2) partners: 2/3 of the
    # foundings reach each partner.
    w = m.policy.weight(np.array([f, p1]))
    arriving = s[f] * w[0] * 2 / 3
    np.testing.assert_allclose(s[p1], 1.0 - np.exp(-arriving / w[1]), rtol=1e-12)
    founded = m.contract_stock - stock0
    np.testing.assert_allclose(founded.sum(), s[f] * w[0], rtol=1e-12)


def test_contracts_dissolve_as_shares_and_stock():
    m = _model(**{"contract.dissolution_rate": 0.5})
    ft = m.firms
    ft.contract_share[ft.idx] = 0.8
    m.contract_stock[:] = 100.0
    cooperation.dissolve_contracts(m)
    keep = 1.0 - m.p.contract.dissolution_rate  # per step
    np.testing.assert_allclose(ft.contract_share[ft.idx], 0.8 * keep)
    np.testing.assert_allclose(m.contract_stock, 100.0 * keep)


def test_co_members_of_a_founding_are_tied_to_each_other():
    """Seed 3.3.1: a founding model firm's partners in its contract (up to max_members - 1) tie with
    each other, not only with the founder."""
    m = _model(**{"contract.max_members": 4, "coop.max_partners": 10})
    ft = m.firms
    _clear(m)
    f, p1, p2, p3, p4 = _networked_smes(m, 5)
    _tie(m, [f, f, f, f], [p1, p2, p3, p4])
    step = m.step_state
    step.degree = m.ties.degree(ft.n)
    cooperation._tie_co_members(m, step, np.array([f]))
    tied = set(m.ties.keys().tolist())

    def key(a, b):
        return int(min(a, b)) * (1 << 32) + int(max(a, b))

    partners = [p for p in (p1, p2, p3, p4) if sum(key(p, q) in tied for q in (p1, p2, p3, p4) if q != p) > 0]
    assert len(partners) == 3  # max_members - 1 partners joined the founding
    assert all(key(a, b) in tied for a in partners for b in partners if a < b)
    assert step.degree[partners].tolist() == [3, 3, 3]


def test_ties_inside_contracts_outlast_others():
    """Tie decay spares the share of a relation inside a contract: with both ends full members,
    no tie decays; with no members, all do at a decay hazard of 1."""
    m = _model(**{"coop.tie_decay": 1.0})
    ft = m.firms
    _clear(m)
    i = _networked_smes(m, 4)
    _tie(m, [i[0], i[2]], [i[1], i[3]])
    ft.contract_share[i[:2]] = 1.0
    cooperation.decay_ties(m, m.step_state)
    left = m.ties.keys().tolist()
    assert left == [int(min(i[0], i[1])) * (1 << 32) + int(max(i[0], i[1]))]


@pytest.mark.slow
def test_network_contracts_raise_exporting_among_small_firms():
    """Paired seeds (32), 3 policy years: supporting network contracts raises the number of
    exporting firms (members reach foreign customers through co-members); with the commercial
    channel switched off (``contract.export_pooling`` 0) the lever no longer does. Built with
    5,000 model firms, about 2,000 at policy year 0 after the spin-up's consolidation, so enough
    firms join a contract for the pairs to resolve the effect.

    A strict expected failure from 2026-12-06 (membership as shares, the founding hazard fitted to
    Italy's registry: mean +0.0 exporters, standard error 0.60) until the owner-managers' span of
    control (2026-12-07), with which it passes (full suite of 2026-12-07). 16 pairs since the
    mirrored placement (2026-12-07, afternoon): about 1.75 more exporters (se 0.57), which seeds
    1-8 alone (+1.1, se 0.87) could not tell from zero. 32 pairs since wages return to the
    labour share (2026-12-07, evening): +0.94 exporters (se 0.36; without the commercial channel
    +0.12); seeds 1-16 alone gave +1.25 (se 0.61), an interval reaching -0.05."""
    lever = BASE.with_levers({"network_contracts": LeverSetting("network_contracts")})

    def exporters(scenario, seed, pooling):
        m = ClusterModel(scenario, seed=seed, params={"contract.export_pooling": pooling,
                                                      "sim.n_firms": 5000}).run(3)
        return float(m.firms.exporter[m.firms.idx].sum())

    seeds = range(1, 33)
    on = [exporters(lever, s, 1.0) - exporters(BASE, s, 1.0) for s in seeds]
    off = [exporters(lever, s, 0.0) - exporters(BASE, s, 0.0) for s in seeds]
    se = np.std(on, ddof=1) / np.sqrt(len(on))
    assert np.mean(on) - stats.t.ppf(0.975, len(on) - 1) * se > 0, on
    assert np.mean(on) > np.mean(off), (on, off)
