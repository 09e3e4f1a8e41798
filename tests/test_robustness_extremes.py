"""Parameters at the edges of their declared bounds, and a region that empties, run without NaN,
inf or runaway growth (issue: the Morris screening at span 4, docs/calibration.md, emptied a region,
grew a labour force tenfold and two runs exhausted 18 GB of memory).

Small worlds, short runs, warnings turned into errors. An emptied region is a legitimate state:
its stocks and flows are zero, its ratios undefined (NaN by the metrics' definition), never inf.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from cluster_abm.model.cluster_model import ClusterModel
from cluster_abm.outputs.metrics import SERIES
from cluster_abm.params.registry import REGISTRY
from cluster_abm.specs.scenario import load_scenario

SMALL = {"sim.n_firms": 150, "sim.spinup_years": 0}
YEARS = 15
# A labour force whose entering cohort replaces its retirees is stationary (labour.labour_flows);
# at the edges of the flows' bounds it may drift, but not beyond a doubling or halving in 15
# years (about 5 % a year): more is a world the flows were never meant to describe.
MAX_GROWTH = 2.0

RETIRE, COHORT = "labour.retirement_rate", "labour.cohort_rate"


def _low(name: str) -> float:
    return REGISTRY[name].low


def _high(name: str) -> float:
    return REGISTRY[name].high


CASES = {
    # Retirement at its upper bound, inflows at their lower: regions shrink; with wages taking all
    # productivity growth, a region that loses its last firm must not read that as a fall to 0.
    "retirement_high_inflows_low": {RETIRE: _high(RETIRE), COHORT: _low(COHORT),
                                    "production.wage_pass_through": _high("production.wage_pass_through")},
    # Retirement at its lower bound, inflows at their upper: the labour force must stay bounded.
    "retirement_low_inflows_high": {RETIRE: _low(RETIRE), COHORT: _high(COHORT)},
    # The entering cohort alone at its upper bound.
    "cohort_high": {COHORT: _high(COHORT)},
}


def _check_outputs(model: ClusterModel, lf0: float) -> None:
    for name, values in model.series_wide().items():
        values = np.asarray(values, dtype=float)
        assert not np.isinf(values).any(), name
        if SERIES[name].kind != "ratio":  # ratios are NaN where their denominator is 0
            assert np.isfinite(values).all(), name
    for name in ("lf_s", "lf_u", "wage_s", "wage_u", "wage_drift", "diaspora"):
        value = getattr(model, name)
        assert np.isfinite(value).all() and (value >= 0).all(), (name, value)
    lf = float((model.lf_s + model.lf_u).sum())
    assert lf <= MAX_GROWTH * lf0, f"labour force {lf:.0f} against {lf0:.0f} at the start"
    for value in model.kpis().values():
        assert not np.isinf(value)


@pytest.mark.parametrize("case", sorted(CASES))
def test_extreme_labour_flows_stay_finite_and_bounded(case):
    model = ClusterModel(load_scenario("baseline").with_params({**SMALL, **CASES[case]}), seed=3)
    lf0 = float((model.lf_s + model.lf_u).sum())
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow, no invalid division, no NaN cast
        for _ in range(YEARS * model.p.steps_per_year):
            model.step()
    _check_outputs(model, lf0)


def test_a_region_without_firms_or_workers_runs_on():
    """A region loses every worker (and so, by brain retirement, every firm) after its wages have
    followed its productivity for a year; wages take all productivity growth."""
    params = {**SMALL, "production.wage_pass_through": _high("production.wage_pass_through")}
    model = ClusterModel(load_scenario("baseline").with_params(params), seed=3)
    lf0 = float((model.lf_s + model.lf_u).sum())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(6):
            model.step()
        ft = model.firms
        here = ft.idx[ft.region[ft.idx] == 0]
        ft.skilled[here] = 0
        ft.unskilled[here] = 0
        # Nobody left at all: the inactive too, or the participation margin brings them back
        # (with the technology frontier's defaults it did, at step 15 of seed 3).
        for name in ("lf_s", "lf_u", "grads", "grads_jobless", "diaspora", "inactive_s", "inactive_u"):
            getattr(model, name)[0] = 0.0
        for _ in range(10 * model.p.steps_per_year):
            model.step()
    ft = model.firms
    assert not (ft.region[ft.idx] == 0).any(), "region 0 came back: the test no longer covers the corner"
    assert model.lf_s[0] + model.lf_u[0] == 0
    _check_outputs(model, lf0)
