"""Validation against stylized facts: does the model reproduce what firm populations look like?

Calibration fits a handful of statistics; validation checks regularities the model was *not*
fitted to (Fagiolo, Guerini, Lamperti, Moneta & Roventini 2019; Dosi et al. 2010 for the facts
an industrial-dynamics model should reproduce). Each :class:`Fact` measures one regularity on
many seeds of a scenario and returns pass or fail against a stated criterion, with the model's
figures next to the published ones. A fact that fails is reported as failing; the criteria are
fixed here, before looking at the results, not tuned to the model.

Facts (each function below says why and cites its source):

* firm sizes are right-skewed with a Pareto upper tail (Axtell 2001);
* firm growth rates are tent-shaped (Laplace), not Gaussian (Stanley et al. 1996; Bottazzi &
  Secchi 2006);
* the exit hazard falls with age, the liability of newness (Stinchcombe 1965; Brüderl &
  Schüssler 1990 on its "adolescence" variant);
* cohort survival follows the published 1-5-year curves (Eurostat, Statistik Austria, ...);
* young firms create a larger share of jobs than they hold (Haltiwanger, Jarmin & Miranda 2013;
  Criscuolo, Gal & Menon 2014);
* the share of innovating firms rises with firm size, the 250+ share at least 1.4 times the
  10-49 one (Community Innovation Survey; reported by country too);
* firms in clusters survive longer (ISTAT on Italian industrial districts; Wennberg &
  Lindqvist 2010) and grow faster (Delgado, Porter & Stern 2014): premia that emerge from the
  location effects, never parameters;
* cooperation networks have skewed degrees, are local (denser within clusters than across) and
  clustered (Giuliani 2007; Watts & Strogatz 1998);
* the published bands of the core issue: yearly birth and death rates 3-15 %, 1-year survival
  70-95 %, mean firm size above the median, SME share of employment 50-90 %;
* young firms' levels: about a fifth of employment and half of gross job creation (OECD
  DynEmp: Criscuolo, Gal & Menon 2014);
* the firm-size tail exponent near Zipf's 1 (Axtell 2001; Fujiwara et al. 2004), band 0.9-1.3;
* the share of innovating 10+ firms by country within 15 points of the CIS, ranking preserved;
* early-stage regions against mature ones (seed 2.1): birth, death, innovation and emigration
  ratios on the data's side of 1 and within a factor 1.5 (Eurostat, CIS);
* the run itself: stationary after the spin-up (issue 16) and a small spread across seeds;

and a section (not a fact) with the policy effects that ``scripts/measure_policy_effects.py``
measured, beside published evaluations (:mod:`cluster_abm.analysis.validation.published_effects`).

Runs execute on the runner's executors with the runner's seeds (:mod:`cluster_abm.experiments.seeds`:
replicate ``r`` gets the common-random-numbers seed ``(0, r)`` of the root seed), so a
validation is reproducible from its root seed.
"""

from __future__ import annotations

import datetime as _dt
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cluster_abm.analysis.validation.facts import (
    SIZE_CLASSES,
    YOUNG_YEARS,
    Fact,
    bands_fact,
    cluster_growth_fact,
    cluster_survival_fact,
    exit_hazard,
    growth_fact,
    hazard_fact,
    innovation_fact,
    jobs_fact,
    market_strata,
    network_fact,
    pareto_alpha,
    size_fact,
    survival_fact,
    tail_fact,
    young_fact,
)
from cluster_abm.analysis.validation.facts_labour_share import labour_share_fact
from cluster_abm.analysis.validation.facts_money import money_fact
from cluster_abm.analysis.validation.facts_regions import (
    absorption_fact,
    innovation_country_fact,
    stage_fact,
)
from cluster_abm.analysis.validation.facts_runs import (
    regional_stationarity_fact,
    stationarity_fact,
    variability_fact,
    yearly_series,
)
from cluster_abm.analysis.validation.published_effects import policy_section
from cluster_abm.analysis.validation.targets import (
    DEFAULT_FROM_YEAR,
    SME_MAX,
    Observation,
    load_targets,
    observe,
)
from cluster_abm.errors import InputError
from cluster_abm.experiments import seeds as S
from cluster_abm.experiments.executors import make_executor
from cluster_abm.experiments.experiment_spec import EXECUTORS, default_workers
from cluster_abm.specs.scenario import Scenario, load_scenario
from cluster_abm.state import size_weights


# --- per-run data (worker side) -------------------------------------------------------------------
@dataclass(frozen=True)
class ValidationTask:
    scenario: Scenario
    seed: int
    years: int | None
    from_year: int


def _largest_share(employees: np.ndarray, region: np.ndarray, n_regions: int) -> np.ndarray:
    """Per region: the largest firm's share of the region's employment (0 without employment)."""
    total = np.bincount(region, weights=employees, minlength=n_regions)
    largest = np.zeros(n_regions)
    np.maximum.at(largest, region, employees.astype(float))
    return np.divide(largest, total, out=np.zeros(n_regions), where=total > 0)


def collect(task: ValidationTask) -> dict[str, Any]:
    """Run one replicate and extract what the facts need (compact, picklable)."""
    snaps: list[tuple[np.ndarray, np.ndarray]] = []
    tops: list[np.ndarray] = []  # per window year end: largest firm's share of regional jobs
    wages: list[np.ndarray] = []  # per year end after from_year: the regional skilled wages
    window = {}

    def on_year(model, year: int) -> None:
        if year > task.from_year:
            ft = model.firms
            idx = ft.idx
            recent = (model.t - ft.last_innov[idx]) < window.setdefault(
                "w", model.p.yearly.innovation.recent_years * model.p.steps_per_year)
            snaps.append((ft.employees[idx].astype(np.int64), recent,
                          model.world.region_country[ft.region[idx]].astype(np.int64)))
            tops.append(_largest_share(ft.employees[idx], ft.region[idx], model.world.n_regions))
            wages.append(model.wage_s.copy())

    t0 = time.perf_counter()
    obs, model = observe(task.scenario, task.seed, task.years, keep_model=True, on_year=on_year)
    panel = model.log.panel()
    out: dict[str, Any] = {"seed": task.seed, "obs": obs}
    out.update(_panel_facts(panel, obs, task.from_year, real_persons_of(model)))
    emp = np.concatenate([e for e, _, _ in snaps]) if snaps else np.zeros(0, np.int64)
    rec = np.concatenate([r for _, r, _ in snaps]) if snaps else np.zeros(0, bool)
    cty = np.concatenate([c for _, _, c in snaps]) if snaps else np.zeros(0, np.int64)
    out["innov_by_class"] = [(int(_in_class(emp, c).sum()), int((_in_class(emp, c) & rec).sum()))
                             for c in SIZE_CLASSES]
    out["countries"] = tuple(model.world.countries)
    out["innov_by_country_class"] = [
        [(int((_in_class(emp, c) & (cty == k)).sum()), int((_in_class(emp, c) & rec & (cty == k)).sum()))
         for c in SIZE_CLASSES] for k in range(len(model.world.countries))]
    out.update(_network(model))
    out["yearly"] = yearly_series(model.series_wide(), model.p.steps_per_year)
    out["top_share"] = np.array(tops) if tops else np.zeros((1, model.world.n_regions))
    out["region_names"] = tuple(r.name for r in model.world.regions)
    out["wage_skilled"] = np.array(wages) if wages else np.zeros((1, model.world.n_regions))
    out["wage_skilled_data"] = model.world.region_field("wage_skilled")
    out["wall"] = time.perf_counter() - t0
    return out


def _in_class(emp: np.ndarray, c: tuple[int, int | None]) -> np.ndarray:
    lo, hi = c
    return (emp >= lo) & (emp <= hi) if hi is not None else emp >= lo


def real_persons_of(model):
    """The real persons one person of a model firm stands for, by the firm's region and size:
    the real enterprises the firm stands for (its size weight, fixed at policy year 0:
    :mod:`cluster_abm.state.size_weights`) times the region's real persons per model person
    (0 where a region has no published enterprises)."""
    x, y, scale = model.size_anchor_x, model.size_anchor_y, model.employment_scale

    def real_persons(region: np.ndarray, employees: np.ndarray) -> np.ndarray:
        w = size_weights.weights(x, y, region, employees) * scale[region]
        return np.nan_to_num(w, nan=0.0)
    return real_persons


def _panel_facts(panel, obs: Observation, from_year: int, real_persons=None) -> dict[str, Any]:
    """Sizes, growth rates and job creation from the yearly panel of living firms; with
    ``real_persons`` (:func:`real_persons_of`) job creation and employment in real-region units
    too."""
    year = panel["year"].to_numpy(np.int64)
    uid = panel["uid"].to_numpy(np.int64)
    emp = panel["employees"].to_numpy(np.int64)
    spy = obs.steps_per_year
    birth = dict(zip(obs.log_uid.tolist(), obs.log_birth.tolist(), strict=True))
    in_cluster = dict(zip(obs.log_uid.tolist(), (obs.log_cluster >= 0).tolist(), strict=True))
    stratum_of = dict(zip(obs.log_uid.tolist(), market_strata(obs).tolist(), strict=True))
    region_of = dict(zip(obs.log_uid.tolist(), obs.log_region.tolist(), strict=True))
    last = int(year.max()) if len(year) else 0
    out: dict[str, Any] = {"sizes_final": emp[year == last], "sizes_first": emp[year == 1]}
    growth, base, gyear, gcluster, gstratum = [], [], [], [], []
    jc_young = jc_all = emp_young = emp_all = 0.0
    real = {"created": 0.0, "created_young": 0.0, "employment": 0.0, "employment_young": 0.0}
    for y in range(max(from_year, 1), last):
        a, b = year == y, year == y + 1
        prev = dict(zip(uid[a].tolist(), emp[a].tolist(), strict=True))
        cur_u, cur_e = uid[b], emp[b]
        cont = np.array([u in prev for u in cur_u.tolist()], dtype=bool)
        s0 = np.array([prev[u] for u in cur_u[cont].tolist()], dtype=float)
        s1 = cur_e[cont].astype(float)
        ok = (s0 > 0) & (s1 > 0)
        growth.append(np.log(s1[ok]) - np.log(s0[ok]))
        base.append(s0[ok])
        gyear.append(np.full(int(ok.sum()), y))
        gcluster.append(np.array([in_cluster[u] for u in cur_u[cont].tolist()], dtype=bool)[ok])
        gstratum.append(np.array([stratum_of[u] for u in cur_u[cont].tolist()], dtype=np.int64)[ok])
        age = (y + 1) * spy - np.array([birth[u] for u in cur_u.tolist()], dtype=float)
        young = age <= YOUNG_YEARS * spy
        created = np.where(cont, 0.0, cur_e.astype(float))  # entrants' jobs
        created[cont] = np.maximum(s1 - s0, 0.0)
        jc_all += created.sum()
        jc_young += created[young].sum()
        emp_all += cur_e.sum()
        emp_young += cur_e[young].sum()
        if real_persons is not None:
            factor = real_persons(np.array([region_of[u] for u in cur_u.tolist()], dtype=np.int64), cur_e)
            real["created"] += (created * factor).sum()
            real["created_young"] += (created * factor)[young].sum()
            real["employment"] += (cur_e * factor).sum()
            real["employment_young"] += (cur_e * factor)[young].sum()
    out["growth"] = np.concatenate(growth) if growth else np.zeros(0)
    out["growth_base"] = np.concatenate(base) if base else np.zeros(0)
    out["growth_year"] = np.concatenate(gyear) if gyear else np.zeros(0, np.int64)
    out["growth_cluster"] = np.concatenate(gcluster) if gcluster else np.zeros(0, bool)
    out["growth_stratum"] = np.concatenate(gstratum) if gstratum else np.zeros(0, np.int64)
    out["jobs"] = {"created": jc_all, "created_young": jc_young, "employment": emp_all,
                   "employment_young": emp_young}
    if real_persons is not None:
        out["jobs_real"] = real
    return out


def _network(model) -> dict[str, Any]:
    """Degree distribution, locality and clustering of the cooperation network at the end."""
    import networkx as nx

    ft, ties = model.firms, model.ties
    idx = ft.idx
    ti = ties.idx
    a, b = ties.a[ti], ties.b[ti]
    deg = np.bincount(np.concatenate([a, b]), minlength=ft.n)[idx]
    cl = ft.cluster[: ft.n].astype(np.int64)
    same = (cl[a] >= 0) & (cl[a] == cl[b])
    sizes = np.bincount(cl[idx][cl[idx] >= 0])
    n = len(idx)
    pairs_all = n * (n - 1) / 2
    pairs_intra = float((sizes * (sizes - 1) / 2).sum())
    g = nx.Graph()
    g.add_nodes_from(idx.tolist())
    g.add_edges_from(zip(a.tolist(), b.tolist(), strict=True))
    return {"degree": deg, "ties_intra": int(same.sum()), "ties_cross": int((~same).sum()),
            "pairs_intra": pairs_intra, "pairs_cross": pairs_all - pairs_intra,
            "clustering": float(nx.average_clustering(g)) if n else math.nan,
            "density": len(ti) / pairs_all if pairs_all else math.nan}


@dataclass
class ValidationResult:
    scenario: str
    seeds: int
    years: float
    facts: list[Fact]
    out: Path
    figures: Path
    wall_time: float
    policy: list[str] = field(default_factory=list)  # markdown of the policy-effects section

    @property
    def failed(self) -> list[Fact]:
        return [f for f in self.facts if not f.passed]

    def format(self) -> str:
        lines = [f"validate {self.scenario}: {len(self.facts) - len(self.failed)} of "
                 f"{len(self.facts)} facts pass ({self.seeds} seeds, {self.years:g} years, "
                 f"{self.wall_time:.0f} s) -> {self.out}"]
        lines += [f"  {f.verdict}  {f.title}" for f in self.facts]
        return "\n".join(lines)


def run_validation(scenario: str | Path | Scenario = "baseline", *, seeds: int = 20,
                   years: int | None = None, root_seed: int = 0, from_year: int | None = None,
                   executor: str | None = None, workers: int | None = None,
                   scheduler: str | None = None, out: str | Path = "docs/validation.md",
                   figures: str | Path | None = None, quiet: bool = False,
                   policy_effects: str | Path | None = None) -> ValidationResult:
    """Run ``seeds`` replicates of a scenario, check every fact, write the markdown report.

    ``policy_effects``: the file ``scripts/measure_policy_effects.py`` wrote (default
    ``docs/figures/policy_effects.csv`` of the source tree), rendered beside the published
    evaluations; validation runs no policy experiment itself."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
        raise InputError(f"must be a whole number >= 1, got {seeds!r}", key="--seeds")
    try:
        root = S.check_seed(root_seed, "the root seed")
    except ValueError as exc:
        raise InputError(str(exc), key="--seed") from None
    n_years = int(years if years is not None else sc.param("sim.years"))
    if from_year is None:
        from_year = min(DEFAULT_FROM_YEAR, max(n_years - 6, 0))
    if not 0 <= from_year < n_years:
        raise InputError(f"must be from 0 to {n_years - 1} (the horizon is {n_years} years), "
                         f"got {from_year}", key="--from-year")
    kind = executor or ("dask" if scheduler else "processes")
    if kind not in EXECUTORS:
        raise InputError(f"unknown executor {kind!r}; allowed: {', '.join(EXECUTORS)}",
                         key="--executor")
    n_workers = 1 if kind == "serial" else max(1, min(workers or default_workers(), seeds))
    out = Path(out)
    figdir = Path(figures) if figures is not None else out.parent / "figures" / "validation"
    tasks = [ValidationTask(sc, S.run_seed(root, S.CRN_KEY, r), n_years, from_year)
             for r in range(seeds)]
    t0 = time.perf_counter()
    if not quiet:
        print(f"validate {sc.name}: {seeds} seeds x {n_years} years on {kind} "
              f"({n_workers} worker{'s' if n_workers > 1 else ''})", file=sys.stderr)
    runs: list[dict[str, Any] | None] = [None] * seeds
    by_seed = {t.seed: i for i, t in enumerate(tasks)}
    with make_executor(kind, n_workers, scheduler=scheduler, quiet=True) as ex:
        for task, value, exc in ex.map_unordered(collect, tasks, total=len(tasks)):
            if exc is not None:
                raise RuntimeError(f"validation run with seed {task.seed} failed: "
                                   f"{type(exc).__name__}: {exc}") from exc
            runs[by_seed[task.seed]] = value
    wall = time.perf_counter() - t0
    targets = load_targets()
    facts = [size_fact(runs, figdir, plt), growth_fact(runs, figdir, plt),
             hazard_fact(runs, targets, figdir, plt),
             survival_fact(runs, targets, from_year, figdir, plt), jobs_fact(runs, figdir, plt),
             innovation_fact(runs, targets, figdir, plt),
             cluster_survival_fact(runs, targets, from_year, figdir, plt),
             cluster_growth_fact(runs, figdir, plt), network_fact(runs, figdir, plt),
             *bands_fact(runs, targets, from_year, figdir, plt),
             young_fact(runs), tail_fact(runs), innovation_country_fact(runs, targets),
             stage_fact(runs, targets, from_year), absorption_fact(runs, from_year),
             stationarity_fact(runs, from_year, figdir, plt), regional_stationarity_fact(runs, from_year),
             variability_fact(runs, from_year),
             labour_share_fact(runs, targets, from_year, figdir, plt),
             money_fact(runs, from_year, figdir, plt)]
    result = ValidationResult(sc.name, seeds, n_years, facts, out, figdir,
                              time.perf_counter() - t0,
                              policy_section(Path(policy_effects) if policy_effects else None))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(markdown(result, sc, root, from_year, wall), encoding="utf-8")
    return result


def markdown(res: ValidationResult, sc: Scenario, root: int, from_year: int,
             run_wall: float) -> str:
    """The validation report: a verdict table, then one section per fact."""
    import os

    rel = Path(os.path.relpath(res.figures, res.out.parent))
    today = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d")
    n_pass = len(res.facts) - len(res.failed)
    L = ["# Validation: stylized facts", "",
         "<!-- generated by `cluster-abm validate`; do not edit by hand -->", "",
         f"Scenario `{sc.name}` ({sc.title}); {res.seeds} seeds (root seed {root}, replicate "
         f"seeds from `cluster_abm.experiments.seeds`), {res.years:g} years each; yearly measures over "
         f"years {from_year + 1}-{res.years:g}. Generated {today} by `cluster-abm validate "
         f"{sc.name} --seeds {res.seeds}` in {run_wall:.0f} s of simulation.", "",
         f"**{n_pass} of {len(res.facts)} facts pass.** The criteria are fixed in "
         "`cluster_abm/analysis/validation/facts.py`, `facts_regions.py`, `facts_runs.py`, "
         "`facts_labour_share.py` and `facts_money.py`; a failing fact is a finding about the model, reported "
         "as such. A pass says the qualitative fact or the broad band holds, not that levels "
         "match: read the model's figures against the published ones beside them (fitting "
         "levels is the calibration's job, [calibration.md](calibration.md)); each section "
         "notes where the model differs.", "",
         "| # | fact | verdict | model | published |", "|---|---|---|---|---|"]
    for i, f in enumerate(res.facts, start=1):
        L.append(f"| {i} | [{f.title}](#{i}-{_anchor(f.title)}) | **{f.verdict}** | {f.model} | "
                 f"{f.published} |")
    L.append("")
    for i, f in enumerate(res.facts, start=1):
        L += [f"## {i}. {f.title}", "",
              f"**{f.verdict}** - criterion: {f.criterion}.", "",
              f"* model: {f.model}", f"* published: {f.published}",
              "* sources: " + "; ".join(f.sources)]
        if f.detail:
            L += ["", f.detail]
        if f.table:
            L += ["", *f.table]
        if f.figure:
            L += ["", f"![{f.title}]({(rel / f.figure).as_posix()})"]
        L.append("")
    L += res.policy
    return "\n".join(L)


def _anchor(title: str) -> str:
    keep = "".join(c.lower() if c.isalnum() or c in " -" else "" for c in title)
    return keep.strip().replace(" ", "-")


__all__ = ["Fact", "SME_MAX", "ValidationResult", "collect", "exit_hazard", "pareto_alpha",
           "run_validation"]
