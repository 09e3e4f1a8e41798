"""A fake model for runner tests and benchmarks: deterministic numpy in (scenario params, seed).

``fake_simulate`` has the signature of ``cluster_abm.model.simulate.simulate`` and returns a
``SimulationResult``-like object, so the runner can be tested before (and independently of) the
real model. Behaviour is steered by environment variables, which spawned workers and Dask
LocalCluster workers inherit:

* ``CLUSTER_ABM_FAKE_FAIL``: comma-separated seeds for which it raises ``RuntimeError``;
* ``CLUSTER_ABM_FAKE_CRASH``: comma-separated seeds for which the process dies (``os._exit``),
  as after a segfault or the OOM killer;
* ``CLUSTER_ABM_FAKE_SLEEP``: seconds to sleep per run (to kill a sweep mid-way);
* ``CLUSTER_ABM_FAKE_WORK``: CPU work per run, in units of a fraction of a millisecond of
  single-threaded numpy (benchmarks calibrate it).
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
    """About ``units`` ms of single-threaded numpy work (element-wise, so no BLAS threads)."""
    x = rng.random(64_000)
    for _ in range(units):
        x = np.sin(x) + 0.5
    return float(x[0])


def fake_simulate(scenario, seed: int, years: int | None = None, *, series_every: int = 1,
                  series: list[str] | None = None, regions: bool = True) -> FakeResult:
    t0 = time.perf_counter()
    fail = {int(s) for s in os.environ.get("CLUSTER_ABM_FAKE_FAIL", "").split(",") if s.strip()}
    if seed in fail:
        raise RuntimeError(f"fake model told to fail for seed {seed}")
    crash = {int(s) for s in os.environ.get("CLUSTER_ABM_FAKE_CRASH", "").split(",") if s.strip()}
    if seed in crash:
        os._exit(3)
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
        "mean_employment": float(5.0 + draws[1] * (1.0 + budget / 10000.0) + budget / 5000.0),
        "green_share_end": float(1.0 / (1.0 + np.exp(-draws[2]))),
    }
    return FakeResult(ts, kpis, time.perf_counter() - t0)


# --- helpers shared by the runner tests ------------------------------------------------------
FAKE = "tests.fakes:fake_simulate"

GREEN_SCENARIO = """
extends = "baseline"
name = "green"
[params.funding]
eu_budget = 4000.0
"""


def write_experiment(folder, text: str, name: str = "exp.toml", green: bool = True):
    """Write an experiment file (and a 'green' scenario next to it); return its path."""
    from pathlib import Path

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if green:
        (folder / "green.toml").write_text(GREEN_SCENARIO)
    path = folder / name
    path.write_text(text)
    return path


def read_tables(store_path) -> dict[str, pd.DataFrame]:
    """The three tables of a store, without the columns that record timing and worker."""
    from cluster_abm.experiments.store import TABLES, TIMING_COLUMNS, Store

    store = Store(store_path)
    out = {t: store.read(t) for t in TABLES}
    out["runs"] = out["runs"].drop(columns=list(TIMING_COLUMNS))
    return out


def assert_same_tables(a, b) -> None:
    """Exact equality of two stores' tables (timing columns aside)."""
    import pandas.testing as pdt

    ta, tb = read_tables(a), read_tables(b)
    for name in ta:
        pdt.assert_frame_equal(ta[name], tb[name], check_exact=True, obj=name)


def start_sweep(path, results, executor: str, sleep: str = "0.04"):
    """``python -m cluster_abm.cli.cmd_sweep sweep`` on the fake model in a child process, each
    run sleeping ``sleep`` seconds so the test can stop it mid-way; stderr is piped."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    env = dict(os.environ, CLUSTER_ABM_FAKE_SLEEP=sleep,
               PYTHONPATH=os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]))
    cmd = [sys.executable, "-m", "cluster_abm.cli.cmd_sweep", "sweep", str(path),
           "--results", str(results), "--simulate", FAKE, "--executor", executor,
           "--workers", "2", "--quiet"]
    return subprocess.Popen(cmd, cwd=root, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)


def wait_for_runs(proc, store, n: int, timeout: float = 60.0) -> None:
    """Wait until ``store`` holds ``n`` run shards, failing if ``proc`` ends first."""
    deadline = time.monotonic() + timeout
    while len(store.shards("runs")) < n:
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < deadline, "no shards appeared"
        time.sleep(0.02)
