"""What a worker runs for a search or an ensemble: one package, or one point of an analytic
problem, with one replicate seed, measured as the spec's outcomes.

A task names its evaluation *target* by import path (``"package.module:function"``), as the
experiment runner's tasks name the model (:mod:`cluster_abm.experiments.worker`): the model's
target is :func:`simulate_outcomes`, an analytic test problem's is a plain function
(:mod:`.decision_problems`). Everything else -- the search, the storage, the replicate means,
the Pareto set and the report -- is the same for both, so a test on a problem whose Pareto front
is known checks the path the model takes.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from cluster_abm.analysis.decisions.decision_spec import Outcome
from cluster_abm.specs.scenario import Scenario

SPENT = "_spent"  # every model evaluation also records what the levers spent (k€, real region)


@dataclass(frozen=True)
class EvalTask:
    """One evaluation of one decision (picklable: plain data and an import path)."""

    key: Any  # trial number, "reference", or a label
    replicate: int
    seed: int
    target: str
    payload: Any  # ModelPayload for the model; {variable: value} for an analytic target


@dataclass(frozen=True)
class ModelPayload:
    """A package to simulate and the outcomes to measure on it."""

    scenario: Scenario
    years: int | None
    outcomes: tuple[Outcome, ...]


def evaluate_task(task: EvalTask) -> dict[str, Any]:
    """Run one task: {"values": {outcome: value}, "wall": s, "cpu": s, "pid": ...}."""
    from cluster_abm.experiments.worker import resolve_target

    t0, c0 = time.perf_counter(), time.process_time()
    fn = resolve_target(task.target)
    raw = fn(task.payload, task.seed)
    values = {str(k): float(v) for k, v in dict(raw).items()}
    return {"values": values, "wall": time.perf_counter() - t0,
            "cpu": time.process_time() - c0, "pid": os.getpid()}


def simulate_outcomes(payload: ModelPayload, seed: int) -> dict[str, float]:
    """The model as an evaluation target: simulate the package with ``seed`` and measure each
    outcome (and :data:`SPENT`, what its levers spent). Only the series the outcomes need are
    recorded, by region only when one asks for a region."""
    from cluster_abm.model.simulate import simulate

    needed = sorted({o.series for o in payload.outcomes if o.series})
    regional = any(o.series and o.region != "ALL" for o in payload.outcomes)
    res = simulate(payload.scenario, seed, payload.years, series=needed or ["firms"],
                   series_every=1, regions=regional)
    spy = int(payload.scenario.param("sim.steps_per_year"))
    out = {o.name: outcome_value(o, res.kpis, res.timeseries, spy) for o in payload.outcomes}
    out[SPENT] = float(res.kpis["public_cost_total"])
    return out


def outcome_value(o: Outcome, kpis: dict[str, float], ts, spy: int) -> float:
    """One outcome of one run (see :class:`~.decision_spec.Outcome` for the statistics)."""
    if o.kpi is not None:
        return float(kpis[o.kpi])
    d = ts[(ts["metric"] == o.series) & (ts["region"] == o.region) & (ts["step"] > 0)]
    d = d.sort_values("step")
    steps, v = d["step"].to_numpy(), d["value"].to_numpy(dtype=float)
    if not len(v):
        return float("nan")
    if o.stat == "final":
        return float(np.nanmean(v[steps > steps.max() - spy]))
    if o.stat == "total":
        return float(np.nansum(v))
    if o.stat == "per_year":
        return float(np.nansum(v) / (len(v) / spy))
    return float(np.nanmean(v))
