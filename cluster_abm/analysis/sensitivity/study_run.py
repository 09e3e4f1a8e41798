"""Running and analysing a sensitivity study (:mod:`.study` defines and validates the study).

:func:`run_study` sends the design points through the experiment runner
(:func:`cluster_abm.experiments.runner.run_experiment`: same executors, result store, resume, progress bar,
failures recorded); :func:`analyze_study` reads the stored KPIs back, computes the indices on
replicate means (with the common-random-numbers noise share), the convergence check and the
time-resolved indices of one series, and writes tables, figures and ``report.html`` into
``results/<study>/sensitivity/``. A stopped study is analysed on the largest complete prefix of
its design, with a PARTIAL warning.
"""

from __future__ import annotations

import dataclasses
import io
import json
import math
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cluster_abm.analysis.sensitivity.atomic_io import atomic_write_bytes, atomic_write_text
from cluster_abm.analysis.sensitivity.convergence import _MIN_BASE as MIN_BASE
from cluster_abm.analysis.sensitivity.convergence import analyze_series, convergence
from cluster_abm.analysis.sensitivity.methods import analyze
from cluster_abm.analysis.sensitivity.sa_plots import (
    plot_convergence,
    plot_series,
    standard_figures,
)
from cluster_abm.analysis.sensitivity.sa_report import write_report
from cluster_abm.analysis.sensitivity.sa_results import DEFAULT_THRESHOLDS, RANK_BY, SAResult
from cluster_abm.analysis.sensitivity.sampling import block_size
from cluster_abm.analysis.sensitivity.study import (
    STUDY_TARGET,
    Study,
    design_table,
    load_study,
)
from cluster_abm.errors import InputError
from cluster_abm.params import registry as P

FIG_DIR = "figures"
PLOT_TOP = 20  # factors drawn in a bar chart or mu*-sigma plot (see _shown_factors)
PLOT_TOP_LINES = 8  # lines drawn in a convergence or time plot (one legend entry each)
CONVERGENCE_FRACTIONS = (1 / 16, 1 / 8, 1 / 4, 1 / 2, 1.0)


# --- running ----------------------------------------------------------------------------------
def run_study(study: Study | str | Path, *, results_dir: str | Path = "results",
              executor: str | None = None, workers: int | None = None,
              scheduler: str | None = None, overwrite: bool = False, quiet: bool = False,
              analyze_results: bool = True, window: int | None = None):
    """Run every design point not yet stored, then analyse; returns (SweepSummary, StudyReport).

    The runs go through :func:`cluster_abm.experiments.runner.run_experiment`, so a stopped study resumes
    where it stopped (runs stored ``ok`` are skipped; failed ones are tried again). The
    analysis is skipped (report None) when the sweep was interrupted or a worker was lost.
    """
    from cluster_abm.experiments.runner import run_experiment

    study = study if isinstance(study, Study) else load_study(study)
    study = study.with_execution(executor, workers, scheduler)
    summary = run_experiment(study.experiment, results_dir=results_dir, overwrite=overwrite,
                             quiet=quiet, window=window, simulate=STUDY_TARGET)
    if not summary.interrupted and not summary.worker_lost and not summary.failed:
        drop_spinup_snapshots(summary.store)
    report = None
    if analyze_results and not summary.interrupted and not summary.worker_lost:
        report = analyze_study(study, results_dir=results_dir, quiet=quiet)
    return summary, report


def drop_spinup_snapshots(store: Path) -> None:
    """Delete the spun-up worlds a complete study kept in its store (``snapshots/``).

    The runner keeps each run's spun-up world so that a run tried again starts warm, but every
    design point of a study has its own parameters, hence its own world, which no later run
    reuses (stored runs are skipped on resume); at about 2 MB each, a study of a few thousand
    runs would leave gigabytes behind. Kept while runs are missing or failed (they are retried).
    """
    from cluster_abm.experiments.runner import SNAPSHOTS

    folder = Path(store) / SNAPSHOTS
    if folder.is_dir():
        shutil.rmtree(folder, ignore_errors=True)


# --- analysis ---------------------------------------------------------------------------------
@dataclass
class StudyReport:
    """What the analysis wrote and found."""

    study: str
    out_dir: Path
    report: Path
    results: dict[str, SAResult]
    skipped: dict[str, str]
    tables: dict[str, Path]
    figures: dict[str, Path]
    wall_time: float
    n_base: int = 0  # base samples analysed (< the study's n for a partial study)
    partial: bool = False

    def top(self, k: int = 5) -> dict[str, list[tuple[str, float, float]]]:
        """Per KPI, the ``k`` most influential factors: (factor, index, CI half-width)."""
        out = {}
        for kpi, res in self.results.items():
            col = RANK_BY[res.method]
            df = res.indices.set_index("param")
            conf = f"{col}_conf"
            out[kpi] = [(p, float(df.at[p, col]),
                         float(df.at[p, conf]) if conf in df.columns else math.nan)
                        for p in res.ranking()[:k]]
        return out

    def format(self, k: int = 5) -> str:
        lines = [f"{self.study}: sensitivity report -> {self.report}"]
        if self.partial:
            lines.append(f"  PARTIAL: only the first {self.n_base} base samples are stored; "
                         "run the study again to complete it")
        for kpi, rows in self.top(k).items():
            res = self.results[kpi]
            col = RANK_BY[res.method]
            share = res.noise.get("noise_share", math.nan)
            crn = res.noise.get("noise_share_crn", math.nan)
            tops = ", ".join(f"{p} {v:.3g}±{c:.2g}" for p, v, c in rows)
            lines.append(f"  {kpi} [{col}; noise share {share:.2g}, CRN {crn:.2g}]: {tops}")
        for kpi, why in self.skipped.items():
            lines.append(f"  {kpi}: not analysed: {why}")
        n_warn = sum(len(r.warnings) for r in self.results.values())
        if n_warn:
            lines.append(f"  {n_warn} warning(s): see the report")
        return "\n".join(lines)


def replicate_matrix(kpis: pd.DataFrame, kpi: str, n_points: int,
                     replicates: int) -> tuple[np.ndarray, int]:
    """(n_points, replicates) values of ``kpi``, and how many entries were missing or NaN.

    Design point ``i`` (from 1) is row ``i - 1``. A missing entry (failed run, NaN KPI) is
    filled with the mean of the point's other replicates, which keeps that point's mean equal
    to the mean of its valid runs; a point without any valid run makes the KPI unanalysable
    (ValueError), since Sobol and Morris need every point of their design.
    """
    sub = kpis[kpis["kpi"] == kpi]
    Y = np.full((n_points, replicates), np.nan)
    pts = sub["point"].to_numpy(dtype=int) - 1
    reps = sub["replicate"].to_numpy(dtype=int)
    ok = (pts >= 0) & (pts < n_points) & (reps >= 0) & (reps < replicates)
    Y[pts[ok], reps[ok]] = sub["value"].to_numpy(dtype=float)[ok]
    bad = ~np.isfinite(Y)
    n_bad = int(bad.sum())
    if n_bad:
        empty = bad.all(axis=1)
        if empty.any():
            first = int(np.argmax(empty)) + 1
            raise ValueError(f"no valid run at {int(empty.sum())} design point(s) (first: "
                             f"p{first}): failed runs or an undefined KPI")
        means = np.nanmean(Y, axis=1)
        Y = np.where(bad, means[:, None], Y)
    return Y, n_bad


def crn_noise_share(Y: np.ndarray) -> float:
    """Noise share with the seed effect common to all points removed (two-way decomposition).

    Under common random numbers replicate ``r`` shifts every point alike; that shift does not
    change the variance across points, so only the residual (point x seed) variance, divided by
    R, blurs the indices. NaN for one replicate.
    """
    n, r = Y.shape
    if r < 2 or n < 2:
        return math.nan
    resid = Y - Y.mean(axis=1, keepdims=True) - Y.mean(axis=0, keepdims=True) + Y.mean()
    var_resid = float((resid ** 2).sum() / ((n - 1) * (r - 1)))
    var_between = float(np.var(Y.mean(axis=1), ddof=1))
    return var_resid / r / var_between if var_between > 0 else math.nan


def _shown_factors(r: SAResult, top: int = PLOT_TOP) -> tuple[list[str], str]:
    """Factors drawn in a figure, and a caption suffix saying when it is not all of them.

    A screening of a hundred parameters makes bar charts a metre wide and legends taller than
    their plots; figures then show the ``top`` most influential factors (the tables keep
    every factor).
    """
    ranking = r.ranking()
    if len(ranking) <= top:
        return ranking, ""
    return ranking[:top], f" (top {top} of {len(ranking)} factors)"


def _top_result(r: SAResult, shown: list[str]) -> SAResult:
    """``r`` restricted to the factors ``shown``, most influential first (for figures only)."""
    if len(shown) == len(r.indices):
        return r
    idx = r.indices.set_index("param").loc[shown].reset_index()
    s2 = r.second_order
    if not s2.empty:
        s2 = s2[s2["param_i"].isin(shown) & s2["param_j"].isin(shown)]
    return dataclasses.replace(r, indices=idx, second_order=s2)


def _crn_noise_warning(r: SAResult) -> None:
    """Judge seed noise by the CRN share: the shared seed effect does not blur the indices.

    The pipeline's own warning uses the plain share, an upper bound under common random
    numbers; it is replaced by the same test on the CRN share, and both shares are noted.
    """
    plain, crn = r.noise["noise_share"], r.noise["noise_share_crn"]
    limit = DEFAULT_THRESHOLDS.noise_share_max
    r.warnings[:] = [w for w in r.warnings if not w.startswith(f"{r.output}: noise share ")]
    r.notes.append(f"common random numbers: the plain noise share {plain:.3g} counts the seed "
                   f"effect shared by all points; without it the share is {crn:.3g}")
    if math.isfinite(crn) and crn > limit:
        r.warnings.append(
            f"{r.output}: noise share {crn:.3g} > {limit:g} (seed noise left in the replicate "
            f"means after removing the seed effect common to all points, R="
            f"{r.n_replicates}); add replicates")


def convergence_fractions(study: Study, n: int | None = None) -> list[float]:
    """The sub-design sizes to check: the study's, else the nested halvings the design allows.

    ``n`` is the number of base samples analysed (default: the study's ``n``); fractions that
    would leave fewer than the method's minimum are dropped.
    """
    n = study.n if n is None else n
    need = MIN_BASE[study.method]
    wanted = study.options["convergence"] or CONVERGENCE_FRACTIONS
    return [f for f in wanted if round(f * n) >= need]


def complete_prefix(study: Study, runs: pd.DataFrame) -> int:
    """Base samples (Sobol blocks, Morris trajectories, rows) whose runs are all stored.

    Counts from the start of the design; for Sobol the count is rounded down to a power of two,
    where the truncated design is exactly SALib's design of that size (balanced Sobol' net).
    """
    stored = np.zeros(study.n_points, dtype=int)
    pts = runs["point"].to_numpy(dtype=int)
    pts = pts[(pts >= 1) & (pts <= study.n_points)]
    np.add.at(stored, pts - 1, 1)
    incomplete = np.flatnonzero(stored < study.replicates)
    m = int(incomplete[0]) if incomplete.size else study.n_points
    k = m // block_size(study.problem, study.method, study.options["calc_second_order"])
    if study.method == "sobol" and k >= 1:
        k = 1 << (k.bit_length() - 1)
    return k


def _series_cube(ts: pd.DataFrame, n_points: int, replicates: int) -> tuple[np.ndarray, list]:
    """(n_points, replicates, n_years) of one series from long time-series rows."""
    years = sorted(ts["year"].unique())
    pos = {y: i for i, y in enumerate(years)}
    cube = np.full((n_points, replicates, len(years)), np.nan)
    cube[ts["point"].to_numpy(dtype=int) - 1, ts["replicate"].to_numpy(dtype=int),
         ts["year"].map(pos).to_numpy(dtype=int)] = ts["value"].to_numpy(dtype=float)
    if not np.isfinite(cube).all():
        means = np.nanmean(cube, axis=1, keepdims=True)
        cube = np.where(np.isfinite(cube), cube, means)
    return cube, years


def _write_table(df: pd.DataFrame, out: Path, stem: str) -> Path:
    """``<stem>.csv`` and ``<stem>.parquet`` (the same table), written atomically."""
    atomic_write_text(out / f"{stem}.csv", df.to_csv(index=False))
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    return atomic_write_bytes(out / f"{stem}.parquet", buf.getvalue())


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)


def analyze_study(study: Study | str | Path, *, results_dir: str | Path = "results",
                  quiet: bool = False) -> StudyReport:
    """Indices, convergence, time-resolved indices, figures and the report of a stored study."""
    from cluster_abm.experiments.results import ExperimentResults
    from cluster_abm.experiments.runner import open_store

    t0 = time.perf_counter()
    study = study if isinstance(study, Study) else load_study(study)
    exp = study.experiment
    store, manifest = open_store(exp, results_dir, STUDY_TARGET, create=False)
    if manifest is None:
        raise InputError(f"no stored runs in {store.path}; run the study first",
                         source=study.source, key="name")
    res = ExperimentResults(store.path)
    kpis = res.kpis
    kpis = kpis[kpis["point"] > 0]
    runs = res.store.read("runs", columns=["run_id", "point", "replicate", "status", "error"])
    n_failed = int((runs["status"] != "ok").sum())
    n_base = complete_prefix(study, runs)
    if n_base < MIN_BASE[study.method]:
        raise InputError(f"only {len(runs)} of {study.n_runs} runs are stored, too few for a "
                         f"first {study.method} analysis; run the study again to continue it",
                         source=study.source, key="name")
    n_rows = n_base * block_size(study.problem, study.method, study.options["calc_second_order"])
    partial = n_base < study.n
    out = study.out_dir(results_dir)
    figdir = out / FIG_DIR
    for old in figdir.glob("*.png") if figdir.is_dir() else ():
        old.unlink()  # figures of an earlier analysis (e.g. of KPIs no longer in the study)
    opts = study.options
    common = dict(conf_level=opts["conf_level"], num_resamples=opts["num_resamples"],
                  calc_second_order=opts["calc_second_order"], num_levels=opts["num_levels"],
                  pawn_slices=opts["pawn_slices"])
    X = study.X[:n_rows]
    results: dict[str, SAResult] = {}
    skipped: dict[str, str] = {}
    figures: dict[str, Path] = {}
    conv_frames, noise_rows = [], []
    fractions = convergence_fractions(study, n_base)
    for kpi in study.kpis:
        try:
            Y, n_bad = replicate_matrix(kpis, kpi, n_rows, study.replicates)
        except ValueError as exc:
            skipped[kpi] = str(exc)
            continue
        r = analyze(study.problem, study.method, X, Y, study.seed, output=kpi, **common)
        r.noise["noise_share_crn"] = crn_noise_share(Y) if study.crn else r.noise["noise_share"]
        if study.crn and study.replicates > 1:
            _crn_noise_warning(r)
        if partial:
            r.warnings.append(
                f"{kpi}: partial study: analysed the first {n_base} of {study.n} base samples "
                f"({n_rows} of {study.n_points} design points), the runs stored so far; run "
                "the study again to complete it")
        if n_bad:
            r.warnings.append(f"{kpi}: {n_bad} of {Y.size} runs failed or gave NaN; each was "
                              "replaced by the mean of its point's other replicates")
        results[kpi] = r
        noise_rows.append({"output": kpi, **r.noise, "runs_imputed": n_bad})
        shown, suffix = _shown_factors(r)
        for caption, path in standard_figures(_top_result(r, shown), figdir).items():
            figures[caption + suffix] = path
        if len(fractions) > 1 and not r.indices[list(r.headline)].isna().all().all():
            c = convergence(study.problem, study.method, X, Y, study.seed, fractions, **common)
            c.insert(0, "output", kpi)
            conv_frames.append(c)
            lines, lsuffix = _shown_factors(r, PLOT_TOP_LINES)
            figures[f"{kpi}: convergence{lsuffix}"] = plot_convergence(
                c[c["param"].isin(lines)].drop(columns="output"),
                figdir / f"{_safe(kpi)}_convergence.png", method=study.method,
                title=f"{kpi}: indices vs sample size")
    if not results:
        why = "; ".join(f"{k}: {v}" for k, v in skipped.items())
        if n_failed:
            first = runs.loc[runs["status"] != "ok"].iloc[0]
            why += f" ({n_failed} runs failed; {first['run_id']}: {first['error']})"
        raise InputError(f"no KPI could be analysed: {why}", source=study.source, key="kpis")
    tables: dict[str, Path] = {}
    if conv_frames:
        tables["convergence"] = _write_table(pd.concat(conv_frames, ignore_index=True), out,
                                             "convergence")
    tables["noise"] = _write_table(pd.DataFrame(noise_rows), out, "noise")
    s2 = [r.second_order.assign(output=k) for k, r in results.items()
          if not r.second_order.empty]
    if s2:
        tables["second_order"] = _write_table(pd.concat(s2, ignore_index=True), out,
                                              "second_order")
    if study.series:
        ts = res.timeseries_where(metrics=[study.series], regions=["ALL"])
        ts = ts[(ts["point"] > 0) & (ts["point"] <= n_rows)]
        if len(ts):
            cube, years = _series_cube(ts, n_rows, study.replicates)
            sdf = analyze_series(study.problem, study.method, X, cube, study.seed, times=years,
                                 **common)
            sdf.insert(0, "output", study.series)
            tables["series"] = _write_table(sdf, out, "series_indices")
            rank = sdf[sdf["index"] == RANK_BY[study.method]].groupby("param")["value"].max()
            shown = list(rank.sort_values(ascending=False).index[:PLOT_TOP_LINES])
            suffix = (f" (top {PLOT_TOP_LINES} of {len(rank)} factors)"
                      if len(rank) > PLOT_TOP_LINES else "")
            figures[f"{study.series}: indices over time{suffix}"] = plot_series(
                sdf[sdf["param"].isin(shown)].drop(columns="output"),
                figdir / f"{_safe(study.series)}_series.png",
                method=study.method,
                title=f"{study.series}: time-resolved {study.method} indices (by year)")
    tables["design"] = _write_table(design_table(study), out, "design")
    for kpi, why in skipped.items():
        first = next(iter(results.values()))
        first.warnings.append(f"{kpi}: not analysed: {why}")
    meta = _report_meta(study, manifest, n_failed, store.path)
    meta["base samples analysed"] = (f"{n_base} of {study.n}" + (" (PARTIAL: runs still "
                                     "missing)" if partial else ""))
    report = write_report(results, figures, out, f"Sensitivity study {study.name}", meta)
    wall = time.perf_counter() - t0
    if not quiet:
        print(f"{study.name}: analysis in {wall:.1f} s -> {out}", file=sys.stderr)
    return StudyReport(study.name, out, report, results, skipped, tables, figures, wall,
                       n_base, partial)


def _report_meta(study: Study, manifest: dict[str, Any], n_failed: int,
                 store: Path) -> dict[str, Any]:
    """The facts a reader needs to trust and reproduce the numbers."""
    m = manifest or {}
    timings = m.get("timings", {})
    p = study.problem
    params = "; ".join(
        f"{n} [{b[0]:g}, {b[1]:g}] {P.REGISTRY[n].unit}"
        + (f" ({d})" if p.dists and d != "unif" else "")
        + (" (integer)" if P.REGISTRY[n].integer else "")
        for n, b, d in zip(p.names, p.bounds, p.dists or ["unif"] * p.num_vars, strict=True))
    return {
        "study file": study.source,
        "description": study.description,
        "base scenario": study.base.name,
        "method": study.method,
        "n (base samples / trajectories)": study.n,
        "design points x replicates": f"{study.n_points} x {study.replicates} = {study.n_runs}",
        "horizon (years)": study.years or study.base.param("sim.years"),
        "root seed": study.seed,
        "common random numbers": study.crn,
        "factors": len(p.factor_names),
        "parameters": params,
        "groups": json.dumps(dict(zip(p.names, p.groups, strict=True))) if p.groups else "none",
        "indices on": "replicate means; integers mapped to equal-width bins "
                      "(cluster_abm.analysis.sensitivity.sa_factors)",
        "failed runs": n_failed,
        "run store": str(store),
        "runs wall time (s, all sessions)": timings.get("wall_time"),
        "runs per second": timings.get("runs_per_second"),
        "code version": m.get("code_version"),
    }
