"""Business network contracts' commercial channel (seed 3.3.1; Cisi, Devicienti, Manello & Vannoni
2020): members sell abroad together, so a member whose co-member exports may start exporting
without a transnational tie of its own; and their public support is paid for the expected real
foundings, within the year's budget."""

from __future__ import annotations

import numpy as np
import pytest

from cluster_abm.mechanisms import cooperation
from cluster_abm.model.cluster_model import ClusterModel
from cluster_abm.policy.levers import LeverSetting
from cluster_abm.specs.scenario import load_scenario

BASE = load_scenario("baseline")
BUILT = {"sim.spinup_years": 0}  # the built world, no spin-up: fast


def _model(**params):
    return ClusterModel(BASE, seed=5, params={**BUILT, **params})


def test_a_member_whose_co_member_exports_has_access_to_foreign_customers():
    """Three contracts: one with an exporter (its other members gain access), one without (no
    access), and a lone exporter's own access is not raised by itself. A transnational tie gives
    full access whatever the contract."""
    m = _model(**{"contract.export_pooling": 0.7})
    ft = m.firms
    idx = ft.idx[:9]
    ft.contract[ft.idx] = -1
    ft.exporter[ft.idx] = False
    ft.contract[idx[:3]] = 100  # idx[0] exports
    ft.contract[idx[3:6]] = 200  # nobody exports
    ft.contract[idx[6:7]] = 300  # a lone exporting member
    ft.exporter[idx[[0, 6]]] = True
    tie = np.zeros(ft.n, dtype=bool)
    tie[idx[4]] = True
    access = cooperation.export_access(m, tie)
    np.testing.assert_allclose(access[idx], [0.0, 0.7, 0.7, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0])
    others = np.setdiff1d(ft.idx, idx)
    assert (access[others] == tie[others]).all()


def test_without_pooling_only_transnational_ties_open_exports():
    m = _model(**{"contract.export_pooling": 0.0})
    ft = m.firms
    idx = ft.idx[:2]
    ft.contract[ft.idx] = -1
    ft.contract[idx] = 7
    ft.exporter[idx[0]] = True
    access = cooperation.export_access(m, np.zeros(ft.n, dtype=bool))
    assert (access == 0).all()


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason=(
    "finding (issue 21, measured 2026-12-06): since the labour force was made stationary (graduates "
    "out of the entering cohort) the lever's effect on the number of exporters is no longer "
    "resolved by 8 pairs at 5,000 built model firms: 3 years, differences -1, +1, 0, +1, 0, -2, ...; "
    "5 years, -3, +2, +3, -3, 0, -6, +1, +3 (mean -0.4) with pooling and mean -0.5 without. The "
    "members the lever brings in still export more (export share +1.7 pp [+0.4, +2.9] at year 5, "
    "docs/policy_effects.md), but economy-wide the count does not move: a channel to find"))
def test_network_contracts_raise_exporting_among_small_firms():
    """Paired seeds (8), 3 policy years: supporting network contracts raises the number of
    exporting firms (members reach foreign customers through co-members); with the commercial
    channel switched off (``contract.export_pooling`` 0) the lever no longer does. Built with
    5,000 model firms, about 2,000 at policy year 0 after the spin-up's consolidation, so enough
    firms join a contract for 8 pairs to resolve the effect."""
    lever = BASE.with_levers({"network_contracts": LeverSetting("network_contracts")})

    def exporters(scenario, seed, pooling):
        m = ClusterModel(scenario, seed=seed, params={"contract.export_pooling": pooling,
                                                      "sim.n_firms": 5000}).run(3)
        return float(m.firms.exporter[m.firms.idx].sum())

    on = [exporters(lever, s, 1.0) - exporters(BASE, s, 1.0) for s in range(1, 9)]
    off = [exporters(lever, s, 0.0) - exporters(BASE, s, 0.0) for s in range(1, 9)]
    se = np.std(on, ddof=1) / np.sqrt(len(on))
    assert np.mean(on) - 2.36 * se > 0, on  # t(7) 97.5 %
    assert np.mean(on) > np.mean(off), (on, off)
