"""``cluster-abm run SCENARIO``: one simulation with a progress bar, a headline table and a
results folder (time series as Parquet, KPIs, a JSON manifest and a PNG dashboard).

Everything the run needs is checked before it simulates: the scenario, ``--seed`` (a whole
number from 0 to 2**63 - 1, the range of every seed in the project), ``--years`` (a whole number
of years) and the output folder, which is created (hidden, ``.<name>-<time>.*.tmp``) before the
first step, so an unwritable or impossible folder is one line at once instead of a lost run. The
folder is ``<results>/<name>-<time>`` with the scenario's name made safe (no path separators,
at most 100 characters), or exactly ``--out``; it appears whole, by one rename, when the run
is done.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import math
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from tqdm import tqdm

from cluster_abm.errors import InputError
from cluster_abm.experiments.seeds import MAX_SEED
from cluster_abm.model.cluster_model import ClusterModel
from cluster_abm.params.registry import REGISTRY
from cluster_abm.reports.dashboard import draw_dashboard
from cluster_abm.space import DISTANCE_CLASSES
from cluster_abm.specs.scenario import load_scenario
from cluster_abm.specs.toml_spec import safe_name


def add_run_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenario", help="scenario file or name (e.g. scenarios/baseline.toml or baseline)")
    p.add_argument("--seed", default="0", metavar="N",
                   help="random seed, a whole number from 0 to 2**63 - 1 (same seed, same numbers; "
                        "default 0)")
    p.add_argument("--years", default=None, metavar="N",
                   help="years to simulate, a whole number (default: the scenario's sim.years)")
    p.add_argument("--results", default="results", metavar="DIR",
                   help="folder in which the run's folder <scenario>-<time> is made (default: results)")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="write the run's files into exactly this folder instead (new or empty)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def whole_number(text: str, key: str, low: int, high: int, what: str = "a whole number") -> int:
    """A command-line value that must be a whole number in [low, high], else a one-line error."""
    try:
        value = int(str(text).strip(), 10)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        shown = "2**63 - 1" if high == MAX_SEED - 1 else str(high)
        raise InputError(f"must be {what} from {low} to {shown}, got {str(text)[:40]!r}", key=key)
    return value


def parse_seed(text: str) -> int:
    """``--seed``: 0 to 2**63 - 1, as the seeds of sweeps, calibrations and the app."""
    return whole_number(text, "--seed", 0, MAX_SEED - 1)


def parse_years(text: str | None, default: int) -> int:
    """``--years`` (or the scenario's ``sim.years``): a whole number of years, at least 1."""
    if text is None:
        return int(default)
    return whole_number(text, "--years", 1, int(REGISTRY["sim.years"].high),
                        "a whole number of years")


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


def output_folder(results: str, out: str | None, name: str) -> tuple[Path, Path]:
    """(final folder, hidden work folder made now) of a run: ``<results>/<name>-<time>`` with
    ``name`` made safe, or exactly ``out``. Any problem (not a folder, not writable, a name the
    file system refuses) is a one-line error before the run starts."""
    if out is not None:
        final = Path(out)
        key, parent = "--out", final.parent
        if final.is_symlink() or (final.exists() and (not final.is_dir() or any(final.iterdir()))):
            raise InputError(f"{out} exists and is not an empty folder; give a new folder",
                             key="--out")
    else:
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        key, parent = "--results", Path(results)
        final = parent / f"{safe_name(name)}-{stamp}"
    try:
        parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".tmp", dir=parent))
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(work, 0o777 & ~umask)  # mkdtemp's 0700 would make the results private
    except OSError as exc:
        raise InputError(f"cannot write the run's folder in {parent}: "
                         f"{exc.strerror or exc}", key=key) from None
    return final, work


def check_writable_folder(folder: str | Path, key: str) -> None:
    """Create ``folder`` if needed and check a file can be made in it, before a long job
    writes there at its end; a one-line error naming the option ``key`` otherwise."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".write-check.", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise InputError(f"cannot write in {folder}: {exc.strerror or exc}", key=key) from None


def _unique(final: Path, explicit: bool) -> Path:
    """``final``, or ``final-2``, ``final-3``, ... if a run of the same second took it."""
    if explicit:
        return final
    out, n = final, 1
    while out.exists():
        n += 1
        out = final.with_name(f"{final.name}-{n}")
    return out


def cmd_run(args: argparse.Namespace) -> int:
    seed = parse_seed(args.seed)
    scenario = load_scenario(args.scenario)
    years = parse_years(args.years, scenario.param("sim.years"))
    out_arg = getattr(args, "out", None)
    final, tmp = output_folder(args.results, out_arg, scenario.name)
    try:
        out = _simulate_into(tmp, scenario, seed, years, args)
        final = _unique(final, out_arg is not None)
        os.replace(tmp, final)
    except BaseException:
        with contextlib.suppress(OSError):
            shutil.rmtree(tmp)
        raise
    out.print(final)
    return 0


class _Headline:
    """What the run prints when its folder is in place."""

    def __init__(self, title: str, rows: list[tuple[str, str]]):
        self.title, self.rows = title, rows

    def print(self, final: Path) -> None:
        width = max(len(r[0]) for r in self.rows)
        print(f"\n{self.title}")
        print("-" * (width + 14))
        for label, value in self.rows:
            print(f"{label:<{width}}  {value:>12}")
        print("-" * (width + 14))
        print(f"Outputs: {final}/ (timeseries.parquet, kpis.csv, manifest.json, dashboard.png)")


def _simulate_into(tmp: Path, scenario, seed: int, years: int, args) -> _Headline:
    start = time.perf_counter()
    model = ClusterModel(scenario, seed=seed)
    steps = int(round(years * model.p.steps_per_year))
    with tqdm(total=steps, desc=f"{scenario.name} seed {seed}", unit="step", disable=args.quiet,
              file=sys.stderr, dynamic_ncols=True) as bar:
        model.run(years, progress=lambda: bar.update(1))
    wall = time.perf_counter() - start
    kpis = model.kpis()

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
        "seed": seed,
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
    draw_dashboard(ts, f"{scenario.title} — seed {seed}, {years:g} years", tmp / "dashboard.png",
                   model.p.steps_per_year)
    return _Headline(f"{scenario.title} (seed {seed}, {years:g} years, {wall:.2f} s)",
                     headline(model, kpis))
