"""Run one scenario with one seed and get tidy results: the entry point of notebooks and runners.

>>> from cluster_abm import run_scenario
>>> res = run_scenario("baseline", seed=7, years=5)
>>> res.kpis["employment_final"], res.timeseries.head()
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from cluster_abm.model.cluster_model import DEFAULT_CACHE, ClusterModel
from cluster_abm.outputs.metrics import SERIES
from cluster_abm.specs.scenario import Scenario, load_scenario


@dataclass
class SimulationResult:
    """Outputs of one run: long time series, KPIs, final firms, the firm log and yearly panel."""

    scenario: Scenario
    seed: int
    years: float
    timeseries: pd.DataFrame
    kpis: dict[str, float]
    firms: pd.DataFrame = field(repr=False, default=None)
    firm_log: pd.DataFrame = field(repr=False, default=None)
    panel: pd.DataFrame = field(repr=False, default=None)
    lever_costs: pd.DataFrame = field(repr=False, default=None)  # ClusterModel.lever_costs()
    wall_time: float = 0.0

    def series(self, metric: str, region: str = "ALL") -> pd.Series:
        """One series as a pandas Series indexed by year."""
        df = self.timeseries
        sel = df[(df["metric"] == metric) & (df["region"] == region)]
        return sel.set_index("year")["value"].rename(metric)

    def kpi_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"kpi": list(self.kpis), "value": list(self.kpis.values())})


def simulate(scenario: Scenario | str | Path, seed: int, years: float | None = None, *,
             series_every: int = 1, series: list[str] | None = None, regions: bool = True,
             firm_data: bool = False, progress=None, spinup_cache=DEFAULT_CACHE) -> SimulationResult:
    """Build and run one model; returns a :class:`SimulationResult`.

    ``series_every`` keeps every k-th step (the last step always), ``series`` restricts the
    metrics kept, ``regions=False`` keeps totals only, ``firm_data`` adds the final firm table,
    the firm log and the yearly size panel. ``progress`` is called after every step;
    ``spinup_cache`` is where spun-up worlds are kept (see :class:`ClusterModel`).
    """
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    if series is not None:
        unknown = [s for s in series if s not in SERIES]
        if unknown:
            raise ValueError(f"unknown series {unknown}")
    start = time.perf_counter()
    model = ClusterModel(scenario, seed=seed, spinup_cache=spinup_cache)
    model.run(years, progress=progress)
    ts = model.timeseries(every=series_every, names=series, regions=regions)
    kpis = model.kpis()
    res = SimulationResult(scenario, int(seed), model.years_run, ts, kpis)
    res.lever_costs = model.lever_costs()
    if firm_data:
        res.firms = model.firms_frame()
        res.firm_log = model.log.frame()
        res.panel = model.log.panel()
    res.wall_time = time.perf_counter() - start
    return res


def run_scenario(scenario: Scenario | str | Path = "baseline", seed: int = 0, years: float | None = None,
                 **kwargs) -> SimulationResult:
    """Notebook shortcut: ``run_scenario("baseline", seed=7, years=20)``."""
    return simulate(scenario, seed, years, **kwargs)


def load_snapshot(path: str | Path) -> ClusterModel:
    """A model saved by :func:`~cluster_abm.model.snapshot.save_snapshot`, at the step it was
    saved (``ClusterModel.from_snapshot``)."""
    return ClusterModel.from_snapshot(path)
