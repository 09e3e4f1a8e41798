"""Notebook API for an experiment's stored results.

    >>> from cluster_abm.experiments.results import load_results
    >>> res = load_results("policy_comparison")      # or a path to results/<name>/
    >>> res.kpi_table()                               # one row per run, one column per KPI
    >>> res.paired_effects()                          # each scenario vs the baseline, 95 % CI
    >>> res.timeseries_where(metrics=["employment"], regions=["ALL"])

Tables load lazily on first access and are cached; they read the same whether the store is
consolidated, still in shards (a sweep running or interrupted), or a mix of both. For large
time-series tables prefer :meth:`ExperimentResults.timeseries_where`, which filters while
reading instead of loading everything.

Paired effects: every scenario of an experiment runs replicate ``r`` with the same seed
(common random numbers, :mod:`cluster_abm.experiments.seeds`), so the difference scenario - baseline is
taken seed by seed and averaged; the seed-to-seed noise the two runs share cancels, giving
much tighter intervals than comparing two independent means.
"""

from __future__ import annotations

import json
import math
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from cluster_abm.errors import InputError, closest
from cluster_abm.experiments.store import Store

ID_COLUMNS = ["run_id", "scenario", "point", "replicate", "seed"]


def load_results(path_or_name: str | Path,
                 results_dir: str | Path = "results") -> ExperimentResults:
    """Open stored results: a store folder, an experiment name under ``results_dir``, or an
    experiment file (its ``name`` picks the folder)."""
    p = Path(path_or_name)
    candidates = [p, Path(results_dir) / str(path_or_name)]
    if p.suffix == ".toml" and p.is_file():
        from cluster_abm.experiments.experiment_spec import load_experiment

        candidates.insert(0, Path(results_dir) / load_experiment(p).name)
    for c in candidates:
        if (c / "manifest.json").is_file():
            return ExperimentResults(c)
    known = sorted(m.parent.name for m in Path(results_dir).glob("*/manifest.json"))
    raise InputError(f"no stored results; {closest(p.name, known) if known else 'none stored'}",
                     source=str(path_or_name))


class ExperimentResults:
    """The tables of one experiment's store, as pandas DataFrames (see the module docstring)."""

    def __init__(self, path: str | Path):
        self.store = Store(path)
        if not self.store.exists():
            raise InputError("not a result store (no manifest.json)", source=str(path))

    def __repr__(self) -> str:
        m = self.manifest
        return (f"<ExperimentResults {m.get('experiment')!r}: {m.get('runs_ok', '?')} ok / "
                f"{m.get('run_count')} runs, status {m.get('status')}, {self.store.path}>")

    @property
    def path(self) -> Path:
        return self.store.path

    @cached_property
    def manifest(self) -> dict[str, Any]:
        return self.store.read_manifest()

    @property
    def baseline(self) -> str | None:
        return self.manifest.get("baseline")

    # --- tables -------------------------------------------------------------------------------
    @cached_property
    def runs(self) -> pd.DataFrame:
        """One row per run; design parameters are expanded into one column per parameter."""
        df = self.store.read("runs")
        params = [json.loads(s) if s else {} for s in df["params"]]
        self._param_names = list(dict.fromkeys(k for p in params for k in p))
        for name in self._param_names:
            df[name] = [p.get(name, np.nan) for p in params]
        return df

    @property
    def param_names(self) -> list[str]:
        """Parameters a design varied (columns of :attr:`runs` and :meth:`kpi_table`)."""
        _ = self.runs
        return self._param_names

    def refresh(self) -> ExperimentResults:
        """Forget cached tables, e.g. to see runs a sweep stored since they were read."""
        for name in ("manifest", "runs", "kpis", "timeseries", "lever_costs"):
            self.__dict__.pop(name, None)
        return self

    @cached_property
    def kpis(self) -> pd.DataFrame:
        """Long KPI table: run_id, scenario, point, replicate, seed, kpi, value (ok runs)."""
        return self.store.read("kpis")

    @cached_property
    def timeseries(self) -> pd.DataFrame:
        """Long time-series table (may be large; see :meth:`timeseries_where`)."""
        return self.store.read("timeseries")

    @cached_property
    def lever_costs(self) -> pd.DataFrame:
        """What each lever spent: run_id, scenario, point, replicate, seed, step, year, lever,
        region, cost (k€ of the real region; empty for stores written before it was kept)."""
        return self.store.read("lever_costs")

    def timeseries_where(self, *, metrics: list[str] | None = None,
                         regions: list[str] | None = None, scenarios: list[str] | None = None,
                         run_ids: list[str] | None = None) -> pd.DataFrame:
        """Time-series rows matching every given filter, filtered while reading."""
        expr = None
        for col, values in (("metric", metrics), ("region", regions), ("scenario", scenarios),
                            ("run_id", run_ids)):
            if values is not None:
                e = pc.field(col).isin(list(values))
                expr = e if expr is None else expr & e
        return self.store.read("timeseries", filter=expr)

    def failures(self) -> pd.DataFrame:
        """Failed runs with their error and traceback."""
        r = self.runs
        return r.loc[r["status"] != "ok", ["run_id", "scenario", "point", "replicate", "seed",
                                            "error", "traceback"]].reset_index(drop=True)

    def kpi_table(self) -> pd.DataFrame:
        """Wide KPIs: one row per ok run (id columns, design parameters), one column per KPI."""
        k = self.kpis
        if k.empty:
            return pd.DataFrame(columns=ID_COLUMNS)
        order = list(dict.fromkeys(k["kpi"]))
        wide = k.pivot(index="run_id", columns="kpi", values="value")[order]
        wide.columns.name = None
        runs = self.runs
        meta = runs.loc[runs["status"] == "ok", ID_COLUMNS + self.param_names].set_index("run_id")
        return meta.join(wide, how="inner").reset_index()

    # --- analysis -----------------------------------------------------------------------------
    def paired_effects(self, baseline: str | None = None, level: float = 0.95,
                       kpis: list[str] | None = None) -> pd.DataFrame:
        """Per scenario and KPI: mean paired difference to ``baseline`` with a t-based CI.

        Pairs are runs of the two scenarios with the same seed (both ok). Columns: scenario,
        kpi, n (pairs), baseline_mean, scenario_mean, mean_diff, sd_diff, ci_low, ci_high
        (``level`` confidence, Student t with n - 1 degrees of freedom; NaN when n < 2),
        rel_effect = mean_diff / |baseline_mean| (NaN when that is 0), significant (the
        interval excludes 0), and the KPI's unit and ``better`` direction ("higher", "lower"
        or None) from :data:`cluster_abm.outputs.metrics.KPIS` where known. ``baseline`` defaults to the experiment's baseline. Design
        points are not scenarios and are left out (analyse them with :meth:`kpi_table`).
        """
        from scipy import stats

        if not 0 < level < 1:
            raise ValueError(f"level must be between 0 and 1, got {level}")
        baseline = baseline or self.baseline
        k = self.kpis[self.kpis["point"] == 0]
        scenarios = list(dict.fromkeys(self.manifest.get("scenario_names") or k["scenario"]))
        if baseline not in scenarios:
            raise InputError(f"{baseline!r} is not a scenario of this experiment; "
                             f"{closest(str(baseline), scenarios)}", key="baseline")
        if kpis is not None:
            k = k[k["kpi"].isin(kpis)]
        base = k[k["scenario"] == baseline][["seed", "kpi", "value"]]
        rows = []
        for sc in scenarios:
            if sc == baseline:
                continue
            s = k[k["scenario"] == sc][["seed", "kpi", "value"]]
            pairs = s.merge(base, on=["seed", "kpi"], suffixes=("", "_base"))
            for kpi in dict.fromkeys(k["kpi"]):
                p = pairs[pairs["kpi"] == kpi]
                d = (p["value"] - p["value_base"]).to_numpy(dtype=float)
                n = len(d)
                mean = float(d.mean()) if n else math.nan
                sd = float(d.std(ddof=1)) if n > 1 else math.nan
                half = (float(stats.t.ppf(0.5 + level / 2, n - 1)) * sd / math.sqrt(n)
                        if n > 1 else math.nan)
                bmean = float(p["value_base"].mean()) if n else math.nan
                rows.append({
                    "scenario": sc, "kpi": kpi, "n": n, "baseline_mean": bmean,
                    "scenario_mean": float(p["value"].mean()) if n else math.nan,
                    "mean_diff": mean, "sd_diff": sd, "ci_low": mean - half,
                    "ci_high": mean + half,
                    "rel_effect": mean / abs(bmean) if n and bmean != 0 else math.nan,
                    "significant": bool(n > 1 and (mean - half > 0 or mean + half < 0)),
                })
        cols = ["scenario", "kpi", "n", "baseline_mean", "scenario_mean", "mean_diff", "sd_diff",
                "ci_low", "ci_high", "rel_effect", "significant", "unit", "better"]
        meta = _kpi_meta()
        for row in rows:
            info = meta.get(row["kpi"])
            row["unit"] = getattr(info, "unit", None)
            row["better"] = getattr(info, "better", None)
        return pd.DataFrame(rows, columns=cols)


def _kpi_meta() -> dict[str, Any]:
    """cluster_abm.outputs.metrics.KPIS when the model's metrics import, else {} (units unknown)."""
    try:
        from cluster_abm.outputs.metrics import KPIS
    except Exception:  # the results of a fake model, or the model mid-edit
        return {}
    return KPIS
