"""After the spin-up the baseline is stationary (issue 16): over 20 policy years and 10 seeds, the
mean firm count and employment drift by under 5 % per decade and the unemployment rate by under
1 percentage point per decade (slopes of least-squares lines through the yearly means)."""

from __future__ import annotations

import numpy as np
import pytest

from cluster_abm.analysis.validation.facts_runs import drift_per_decade, yearly_means
from cluster_abm.model.cluster_model import ClusterModel

SEEDS = range(101, 111)
YEARS = 20


def test_drift_per_decade_of_a_straight_line():
    assert drift_per_decade(np.arange(20) * 0.5 + 3.0) == pytest.approx(5.0)


@pytest.fixture(scope="module")
def yearly():
    """Per seed, the yearly means (all regions) of the series these tests read, 20 policy years."""
    out = []
    for seed in SEEDS:
        m = ClusterModel("baseline", seed=seed).run(YEARS)
        wide, spy = m.series_wide(), m.p.steps_per_year
        out.append({k: yearly_means(wide[k][:, -1], spy)
                    for k in ("firms", "employment", "unemployment_rate", "employment_skilled")})
    return out


@pytest.mark.slow
def test_the_baseline_is_stationary_after_the_spin_up(yearly):
    f, e, u = (np.mean([y[k] for y in yearly], axis=0) for k in ("firms", "employment", "unemployment_rate"))
    drift = {"firms %": 100 * drift_per_decade(f) / f.mean(),
             "employment %": 100 * drift_per_decade(e) / e.mean(),
             "unemployment pp": 100 * drift_per_decade(u)}
    assert abs(drift["firms %"]) < 5 and abs(drift["employment %"]) < 5, drift
    assert abs(drift["unemployment pp"]) < 1, drift


@pytest.mark.slow
def test_the_skill_mix_of_employment_is_stationary_after_the_spin_up(yearly):
    """The skilled share of employment drifts by under 1 percentage point per decade over 20
    policy years (the same bar as unemployment's), seed mean of 3 seeds."""
    shares = [y["employment_skilled"] / y["employment"] for y in yearly[:3]]
    drift_pp = 100 * drift_per_decade(np.mean(shares, axis=0))
    assert abs(drift_pp) < 1, f"skilled share of employment drifts {drift_pp:+.2f} points a decade"
