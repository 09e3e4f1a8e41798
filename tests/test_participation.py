"""The participation margin (labour.participation): flows between inactivity and the labour force
that absorb regional labour-demand shocks (Decressin & Fatas 1995), so that jobs a shock cuts or a
policy adds do not move unemployment one for one."""

from __future__ import annotations

import numpy as np
import pytest

from cluster_abm.mechanisms import labour
from cluster_abm.model.cluster_model import ClusterModel

BUILT = {"sim.spinup_years": 0}


def _built(**params):
    return ClusterModel("baseline", seed=4, params={**BUILT, **params})


def _unemployment(m):
    return (m.unemployed_s() + m.unemployed_u()) / (m.lf_s + m.lf_u)


def test_the_inactive_pool_is_built_at_the_activity_rate():
    m = _built()
    lf = m.lf_s + m.lf_u
    np.testing.assert_allclose(lf / (lf + m.inactive_s + m.inactive_u), m.p.labour.activity_rate, atol=1e-3)


@pytest.mark.parametrize("shift, direction", [(-0.05, -1), (+0.05, +1)])
def test_the_labour_force_moves_toward_its_target(shift, direction):
    """Unemployment above its initial level: discouraged unemployed leave the labour force (shift
    -0.05 lowers u0 below u); below it: inactive people enter as searchers. The working-age
    population is conserved and only the unemployed leave."""
    m = _built()
    m.u0 = _unemployment(m) + shift
    lf0, pop0 = m.lf_s + m.lf_u, m.lf_s + m.lf_u + m.inactive_s + m.inactive_u
    employed = lf0 - m.unemployed_s() - m.unemployed_u()
    labour.participation(m)
    lf1 = m.lf_s + m.lf_u
    np.testing.assert_allclose(lf1 + m.inactive_s + m.inactive_u, pop0)
    assert (np.sign(lf1 - lf0) == direction).all(), lf1 - lf0
    assert (m.unemployed_s() >= 0).all() and (m.unemployed_u() >= 0).all()
    assert (lf1 - m.unemployed_s() - m.unemployed_u() == employed).all()
    # The flow closes the year's share of the gap, spread over the year's steps.
    target = m.p.labour.activity_rate * (1.0 + m.p.labour.participation_response * shift)  # u - u0 = -shift
    gap = m.p.labour.participation_adjust * (target * pop0 - lf0)
    assert np.abs(lf1 - lf0 - gap).max() <= 2.0 + 1e-9  # keyed rounding, one step per skill


def test_no_flow_without_a_response_at_the_activity_rate():
    m = _built(**{"labour.participation_response": 0.0})
    lf0 = m.lf_s + m.lf_u
    labour.participation(m)
    assert np.abs(m.lf_s + m.lf_u - lf0).max() <= 2.0  # rounding of the built pools only


# 12 paired seeds: the unemployment rates' comparison varies a lot by seed (margin / fixed 0.47-1.67
# on the mirrored placement; seeds 1-4 alone gave 0.95, seeds 1-12 0.72).
SHOCK_SEEDS = tuple(range(1, 13))


def _demand_shock(response: float, years: float = 1.0):
    """Region 0 loses 30 % of its regional demand at policy year 0: per seed, the change in its
    employment, labour force and unemployment rate after ``years`` against the same run without
    the shock (paired seeds)."""
    params = {"labour.participation_response": response}
    out = []
    for seed in SHOCK_SEEDS:
        pair = []
        for shock in (False, True):
            m = ClusterModel("baseline", seed=seed, params=params)
            if shock:
                m.demand_reg[:, 0] *= 0.7
            m.run(years)
            lf = (m.lf_s + m.lf_u)[0]
            unemployed = m.unemployed_s()[0] + m.unemployed_u()[0]
            pair.append(np.array([lf - unemployed, lf, unemployed / lf]))
        out.append(pair[1] - pair[0])
    return np.array(out)


@pytest.mark.slow
def test_participation_absorbs_a_regional_demand_shock():
    """Decressin & Fatas (1995): in European regions a labour-demand shock is absorbed mostly by
    participation in the first three years, little by unemployment. A year after the shocked
    region lost 30 % of its regional demand (12 paired seeds), the jobs it lost come mostly out of
    its labour force with the margin, and all out of employment into unemployment without it
    (``labour.participation_response`` 0); its unemployment rate rises by less."""
    fixed = _demand_shock(0.0).mean(axis=0)
    margin = _demand_shock(2.0).mean(axis=0)
    assert fixed[0] < -50 and margin[0] < -50, (fixed, margin)  # the shock cuts jobs
    assert abs(fixed[1] / fixed[0]) < 0.05, fixed
    assert margin[1] / margin[0] > 0.4, margin  # the share of lost jobs that left the labour force
    assert margin[2] < 0.8 * fixed[2], (margin[2], fixed[2])
