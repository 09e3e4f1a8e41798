"""``cluster-abm run SCENARIO``: one simulation with a progress bar, a headline table and a
results folder (time series as Parquet, KPIs, a JSON manifest and a PNG dashboard)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import shutil
import sys
import time
from pathlib import Path

from tqdm import tqdm

from cluster_abm.errors import InputError
from cluster_abm.model.cluster_model import ClusterModel
from cluster_abm.params.registry import REGISTRY
from cluster_abm.reports.dashboard import draw_dashboard
from cluster_abm.space import DISTANCE_CLASSES
from cluster_abm.specs.scenario import load_scenario


def add_run_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenario", help="scenario file or name (e.g. scenarios/baseline.toml or baseline)")
    p.add_argument("--seed", type=int, default=0, help="random seed (same seed, same numbers; default 0)")
    p.add_argument("--years", type=float, default=None, help="years to simulate (default: the scenario's sim.years)")
    p.add_argument("--results", default="results", help="folder for outputs (default: results)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def headline(model: ClusterModel, kpis: dict[str, float]) -> list[tuple[str, str]]:
    """The rows of the headline table: final-year employment, innovation, brain drain, demography
    and cooperation ties by distance class."""
    w = model.series_wide()
    spy = model.p.steps_per_year
    last = slice(-spy, None)

    def total(name):
        return w[name][:, -1]

    rows = [
        ("Employment, final year (persons)", f"{total('employment')[last].mean():,.0f}"),
        ("  change since start (persons)", f"{kpis['jobs_net']:+,.0f}"),
        ("Unemployment rate, final year", f"{kpis['unemployment_final']:.1%}"),
        ("Innovations per year (product + process)", f"{kpis['innovations_per_year']:,.1f}"),
        ("Eco-innovations per year", f"{kpis['eco_innovations_per_year']:,.1f}"),
        ("Skilled emigrants, whole run (brain drain)", f"{kpis['skilled_emigrants_total']:,.0f}"),
        ("Firm births per year", f"{total('births')[1:].sum() / model.years_run:,.1f}"),
        ("Firm deaths per year", f"{total('deaths')[1:].sum() / model.years_run:,.1f}"),
        ("3-year survival of new firms", "n/a" if math.isnan(kpis["survival_3y"]) else f"{kpis['survival_3y']:.1%}"),
        ("Firms, final year", f"{kpis['firms_final']:,.0f}"),
    ]
    for c in DISTANCE_CLASSES:
        rows.append((f"Cooperation ties, {c.replace('_', '-')}", f"{total('ties_' + c)[last].mean():,.0f}"))
    return rows


def _atomic_dir(final: Path) -> Path:
    tmp = final.with_name(f".{final.name}.tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    return tmp


def cmd_run(args: argparse.Namespace) -> int:
    scenario = load_scenario(args.scenario)
    years = args.years if args.years is not None else scenario.param("sim.years")
    if not (0 < years <= REGISTRY["sim.years"].high):
        raise InputError(f"{years!r} is out of range; allowed above 0 up to {REGISTRY['sim.years'].high} yr", key="--years")
    if args.seed < 0:
        raise InputError("must be a non-negative integer", key="--seed")
    start = time.perf_counter()
    model = ClusterModel(scenario, seed=args.seed)
    steps = int(round(years * model.p.steps_per_year))
    with tqdm(total=steps, desc=f"{scenario.name} seed {args.seed}", unit="step", disable=args.quiet,
              file=sys.stderr, dynamic_ncols=True) as bar:
        model.run(years, progress=lambda: bar.update(1))
    wall = time.perf_counter() - start
    kpis = model.kpis()

    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = Path(args.results) / f"{scenario.name}-{stamp}"
    n = 1
    while out.exists():
        n += 1
        out = Path(args.results) / f"{scenario.name}-{stamp}-{n}"
    tmp = _atomic_dir(out)
    ts = model.timeseries()
    ts.to_parquet(tmp / "timeseries.parquet", index=False)
    import pandas as pd

    pd.DataFrame({"kpi": list(kpis), "value": list(kpis.values())}).to_csv(tmp / "kpis.csv", index=False)
    model.firms_frame().to_parquet(tmp / "firms_final.parquet", index=False)
    model.log.frame().to_parquet(tmp / "firm_log.parquet", index=False)
    from cluster_abm.experiments.runner import code_version, package_versions, platform_info

    manifest = {
        "kind": "run",
        "scenario": scenario.to_dict(),
        "scenario_source": scenario.source,
        "seed": args.seed,
        "years": years,
        "steps": model.t,
        "code_version": code_version(),
        "packages": package_versions(),
        "platform": platform_info(),
        "wall_time_s": round(wall, 3),
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "files": ["timeseries.parquet", "kpis.csv", "firms_final.parquet", "firm_log.parquet", "dashboard.png"],
        "kpis": kpis,
    }
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n")
    draw_dashboard(ts, f"{scenario.title} — seed {args.seed}, {years:g} years", tmp / "dashboard.png",
                   model.p.steps_per_year)
    os.replace(tmp, out)

    rows = headline(model, kpis)
    width = max(len(r[0]) for r in rows)
    print(f"\n{scenario.title} (seed {args.seed}, {years:g} years, {wall:.2f} s)")
    print("-" * (width + 14))
    for label, value in rows:
        print(f"{label:<{width}}  {value:>12}")
    print("-" * (width + 14))
    print(f"Outputs: {out}/ (timeseries.parquet, kpis.csv, manifest.json, dashboard.png)")
    return 0
