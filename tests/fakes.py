"""A fake model for runner tests and benchmarks: deterministic numpy in (scenario params, seed).

``fake_simulate`` has the signature of ``cluster_abm.simulate.simulate`` and returns a
``SimulationResult``-like object, so the runner can be tested before (and independently of) the
real model. Behaviour is steered by environment variables, which spawned workers and Dask
LocalCluster workers inherit:

* ``CLUSTER_ABM_FAKE_FAIL``: comma-separated seeds for which it raises ``RuntimeError``;
* ``CLUSTER_ABM_FAKE_SLEEP``: seconds to sleep per run (to kill a sweep mid-way);
* ``CLUSTER_ABM_FAKE_WORK``: CPU work per run, in units of about 1 ms of numpy (benchmarks).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

METRICS = ("firms", "employment", "green_share")
KPIS = ("final_firms", "mean_employment", "green_share_end")


@dataclass
class FakeResult:
    timeseries: pd.DataFrame
    kpis: dict[str, float]
    wall_time: float


def _burn(units: int, rng: np.random.Generator) -> float:
    """About ``units`` ms of single-threaded numpy work (small matrices: no BLAS threading)."""
    acc = 0.0
    m = rng.standard_normal((64, 64))
    for _ in range(units * 6):
        m = np.tanh(m @ m.T / 64.0)
        acc += float(m[0, 0])
    return acc


def fake_simulate(scenario, seed: int, years: int | None = None, *, series_every: int = 1,
                  series: list[str] | None = None, regions: bool = True) -> FakeResult:
    t0 = time.perf_counter()
    fail = {int(s) for s in os.environ.get("CLUSTER_ABM_FAKE_FAIL", "").split(",") if s.strip()}
    if seed in fail:
        raise RuntimeError(f"fake model told to fail for seed {seed}")
    sleep = float(os.environ.get("CLUSTER_ABM_FAKE_SLEEP", "0") or 0)
    if sleep:
        time.sleep(sleep)
    rng = np.random.default_rng(seed)
    work = int(os.environ.get("CLUSTER_ABM_FAKE_WORK", "0") or 0)
    if work:
        _burn(work, rng)
    years = years or scenario.param("sim.years")
    spy = scenario.param("sim.steps_per_year")
    budget = scenario.param("funding.eu_budget")
    spin = scenario.param("demography.spinoff_rate")
    steps = np.arange(0, years * spy + 1, series_every)
    region_ids = (list(scenario.region_ids) if regions else []) + ["ALL"]
    metrics = [m for m in METRICS if series is None or m in series]
    rows = []
    for metric in metrics:
        for region in region_ids:
            drift = 1e-4 * budget / 1000.0 + spin
            walk = np.cumsum(rng.normal(drift, 0.05, size=len(steps)))
            values = 100.0 * np.exp(walk)
            rows.append(pd.DataFrame({"step": steps, "year": steps / spy, "region": region,
                                      "metric": metric, "value": values}))
    ts = (pd.concat(rows, ignore_index=True) if rows else
          pd.DataFrame({"step": [], "year": [], "region": [], "metric": [], "value": []}))
    draws = rng.normal(size=3)
    kpis = {
        "final_firms": float(2000 * np.exp(0.1 * draws[0] + spin)),
        "mean_employment": float(5.0 + draws[1] + budget / 5000.0),
        "green_share_end": float(1.0 / (1.0 + np.exp(-draws[2]))),
    }
    return FakeResult(ts, kpis, time.perf_counter() - t0)
