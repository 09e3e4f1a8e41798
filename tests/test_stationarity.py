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


@pytest.mark.slow
def test_the_baseline_is_stationary_after_the_spin_up():
    firms, employment, unemployment = [], [], []
    for seed in SEEDS:
        m = ClusterModel("baseline", seed=seed).run(YEARS)
        wide, spy = m.series_wide(), m.p.steps_per_year
        firms.append(yearly_means(wide["firms"][:, -1], spy))
        employment.append(yearly_means(wide["employment"][:, -1], spy))
        unemployment.append(yearly_means(wide["unemployment_rate"][:, -1], spy))
    f, e, u = (np.mean(x, axis=0) for x in (firms, employment, unemployment))
    drift = {"firms %": 100 * drift_per_decade(f) / f.mean(),
             "employment %": 100 * drift_per_decade(e) / e.mean(),
             "unemployment pp": 100 * drift_per_decade(u)}
    assert abs(drift["firms %"]) < 5 and abs(drift["employment %"]) < 5, drift
    assert abs(drift["unemployment pp"]) < 1, drift


@pytest.mark.slow
def test_the_skill_mix_of_employment_is_stationary_after_the_spin_up():
    """The skilled share of employment drifts by under 1 percentage point per decade over 20
    policy years (the same bar as unemployment's), seed mean of 3 seeds."""
    shares = []
    for seed in SEEDS[:3]:
        m = ClusterModel("baseline", seed=seed).run(YEARS)
        wide, spy = m.series_wide(), m.p.steps_per_year
        skilled = yearly_means(wide["employment_skilled"][:, -1], spy)
        total = yearly_means(wide["employment"][:, -1], spy)
        shares.append(skilled / total)
    drift_pp = 100 * drift_per_decade(np.mean(shares, axis=0))
    assert abs(drift_pp) < 1, f"skilled share of employment drifts {drift_pp:+.2f} points a decade"
