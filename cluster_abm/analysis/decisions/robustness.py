"""Robustness of policy packages over an ensemble of plausible worlds: outcomes, regret,
satisficing and ranking stability.

The runs go through the experiment runner: every (package, world) pair -- and the reference in
each world -- is one scenario of a synthesised experiment, so the store, resume, progress,
executors (serial, processes, Dask) and dry run are the sweep's. Replicate *r* has the same seed
in every package and world (common random numbers), and a package's effect is its paired
difference to the reference in the same world with the same seed.

The measures follow robust decision making (Lempert, Popper & Bankes 2003; Lempert & Collins
2007) and its review by Kwakkel, Eker & Pruyt (2016):

* **regret** of a package in a world is how much worse it does there than the best of the
  packages in that world (Savage 1951), in the outcome's unit; the **minimax-regret** package
  has the smallest worst-case regret, and the distribution of regret over worlds (median, 90th
  percentile, maximum) shows how often a choice would be regretted;
* **satisficing** (Simon 1955; Starr 1963's domain criterion): the share of worlds in which a
  package meets every stated target;
* **ranking stability**: how often each package ranks first and its mean rank over worlds, and
  Kendall's coefficient of concordance W over worlds (Kendall & Babington Smith 1939): 1 when
  every world ranks the packages alike, 0 when the rankings share nothing.

The best package in a world is judged on replicate means, so where packages differ by less than
the replicate noise, regret partly measures noise; the cell table carries each mean's standard
error to read it against.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cluster_abm.analysis.decisions.ensemble_spec import EnsembleSpec, Target, load_ensemble_spec
from cluster_abm.analysis.decisions.package_eval import SPENT, outcome_value
from cluster_abm.experiments.experiment_spec import Experiment, Outputs


# --- pure measures on payoff matrices -------------------------------------------------------------
def regret_table(payoff: pd.DataFrame, direction: str) -> pd.DataFrame:
    """Regret of each package (columns) in each world (rows): the best package's value in the
    world minus the package's (``max``), or the package's minus the best's (``min``); >= 0."""
    if direction not in ("max", "min"):
        raise ValueError(f"direction must be 'max' or 'min', got {direction!r}")
    if direction == "max":
        return payoff.max(axis=1).to_numpy()[:, None] - payoff
    return payoff - payoff.min(axis=1).to_numpy()[:, None]


def regret_summary(regret: pd.DataFrame) -> pd.DataFrame:
    """Per package: worst-case (max), mean, median and 90th-percentile regret, the share of
    worlds where it is the best (zero regret), and ``minimax``: the package with the smallest
    worst-case regret (ties: the smaller mean regret)."""
    out = pd.DataFrame({
        "max_regret": regret.max(axis=0),
        "mean_regret": regret.mean(axis=0),
        "median_regret": regret.median(axis=0),
        "p90_regret": regret.quantile(0.9, axis=0),
        "best_share": (regret <= 0).mean(axis=0),
    })
    out.index.name = "package"
    order = out.sort_values(["max_regret", "mean_regret"], kind="stable").index
    out["minimax"] = out.index == order[0]
    out["minimax_rank"] = pd.Series(np.arange(1, len(order) + 1), index=order).reindex(out.index)
    return out.reset_index()


def satisficing(values: dict[str, pd.DataFrame], targets: list[Target] | tuple[Target, ...]
                ) -> pd.DataFrame:
    """Share of worlds in which each package meets each target and all of them.

    ``values``: {outcome: payoff matrix (worlds x packages)}; every target's outcome must be
    there. Returns one row per package: ``all`` and one column per target outcome.
    """
    if not targets:
        return pd.DataFrame()
    first = values[targets[0].outcome]
    every = np.ones(first.shape, dtype=bool)
    out = pd.DataFrame(index=first.columns)
    for t in targets:
        m = values[t.outcome]
        ok = t.met(m.to_numpy())
        every &= ok
        out[t.outcome] = ok.mean(axis=0)
    out["all"] = every.mean(axis=0)
    out.index.name = "package"
    return out.reset_index()


def ranks(payoff: pd.DataFrame, direction: str) -> pd.DataFrame:
    """Rank of each package in each world (1 = best; ties share the mean rank)."""
    return payoff.rank(axis=1, ascending=direction == "min", method="average")


def kendall_w(rank_table: pd.DataFrame) -> float:
    """Kendall's W of the worlds' rankings of the packages (rows: worlds as raters)."""
    m, n = rank_table.shape
    if m < 2 or n < 2:
        return float("nan")
    r = rank_table.sum(axis=0).to_numpy(dtype=float)
    s = float(((r - r.mean()) ** 2).sum())
    return 12.0 * s / (m ** 2 * (n ** 3 - n))


def ranking_stability(payoff: pd.DataFrame, direction: str) -> tuple[pd.DataFrame, float]:
    """Per package: share of worlds ranked first, mean and spread of its rank; and Kendall's W."""
    rk = ranks(payoff, direction)
    out = pd.DataFrame({"first_share": (rk == rk.min(axis=1).to_numpy()[:, None]).mean(axis=0),
                        "mean_rank": rk.mean(axis=0), "rank_sd": rk.std(axis=0, ddof=0)})
    out.index.name = "package"
    return out.reset_index(), kendall_w(rk)


# --- the ensemble on the runner -------------------------------------------------------------------
def arm_names(spec: EnsembleSpec) -> list[str]:
    """The reference first, then the packages."""
    return [spec.reference_name, *spec.packages]


def world_label(spec: EnsembleSpec, w: int) -> str:
    return f"w{w:0{max(3, len(str(spec.worlds - 1)))}d}"


def experiment_for(spec: EnsembleSpec) -> Experiment:
    """The ensemble as an experiment: one scenario per (world, package), world by world, the
    reference first in each, named ``<package>.<world>``."""
    scenarios = {}
    for w, world in enumerate(spec.world_table()):
        for arm in arm_names(spec):
            sc = spec.reference if arm == spec.reference_name else spec.packages[arm]
            name = f"{arm}.{world_label(spec, w)}"
            scenarios[name] = dataclasses.replace(spec.in_world(sc, world, name), name=name)
    kpis = tuple(dict.fromkeys([*(o.kpi for o in spec.outcomes if o.kpi), "public_cost_total"]))
    series = tuple(sorted({o.series for o in spec.outcomes if o.series}))
    regional = any(o.series and o.region != "ALL" for o in spec.outcomes)
    outputs = Outputs(kpis=kpis, series=series, series_every=1, regions=regional)
    return Experiment(spec.name, spec.description, spec.source, scenarios,
                      next(iter(scenarios)), None, spec.replicates, spec.seed, spec.years,
                      outputs, spec.execution, dict(spec.params))


@dataclass
class EnsembleResult:
    """Everything the robustness report shows (tables are long pandas frames)."""

    spec: EnsembleSpec
    worlds: pd.DataFrame  # world, factor values
    runs: pd.DataFrame  # package, world, replicate, outcome values (effects), spent
    cells: pd.DataFrame  # package, world, outcome, mean, se, n
    payoff: dict[str, pd.DataFrame]  # outcome -> worlds x packages (means)
    regret: dict[str, pd.DataFrame]  # outcome -> worlds x packages
    regret_summary: dict[str, pd.DataFrame]
    satisficing: pd.DataFrame
    ranking: dict[str, tuple[pd.DataFrame, float]]
    missing: int = 0  # runs not (yet) stored ok

    def outcome_summary(self) -> pd.DataFrame:
        """Per package and outcome: mean, 10th, 50th and 90th percentile, min and max over
        worlds of the replicate means."""
        rows = []
        for o in self.spec.outcomes:
            m = self.payoff[o.name]
            for p in m.columns:
                x = m[p].to_numpy(dtype=float)
                x = x[np.isfinite(x)]
                rows.append({"package": p, "outcome": o.name, "label": o.label,
                             "unit": o.unit, "effect": o.effect, "worlds": len(x),
                             "mean": float(np.mean(x)) if len(x) else math.nan,
                             "p10": float(np.quantile(x, 0.1)) if len(x) else math.nan,
                             "median": float(np.median(x)) if len(x) else math.nan,
                             "p90": float(np.quantile(x, 0.9)) if len(x) else math.nan,
                             "min": float(np.min(x)) if len(x) else math.nan,
                             "max": float(np.max(x)) if len(x) else math.nan,
                             "replicate_se": float(self.cells[(self.cells["package"] == p) & (
                                 self.cells["outcome"] == o.name)]["se"].mean())})
        return pd.DataFrame(rows)


def run_values(spec: EnsembleSpec, kpi_table: pd.DataFrame, ts: pd.DataFrame | None
               ) -> pd.DataFrame:
    """Outcome values of every stored run: arm, world, replicate, one column per outcome (levels),
    and ``_spent``."""
    spy = int(spec.reference.param("sim.steps_per_year"))
    by_run = {k: g for k, g in ts.groupby("run_id")} if ts is not None and len(ts) else {}
    empty = pd.DataFrame(columns=["step", "region", "metric", "value"])
    rows = []
    for _, r in kpi_table.iterrows():
        arm, world = str(r["scenario"]).rsplit(".", 1)
        kp = r.to_dict()
        row = {"package": arm, "world": world, "replicate": int(r["replicate"])}
        t = by_run.get(r["run_id"], empty)
        for o in spec.outcomes:
            row[o.name] = outcome_value(o, kp, t, spy)
        row[SPENT] = float(kp.get("public_cost_total", math.nan))
        rows.append(row)
    return pd.DataFrame(rows)


def paired_effects(spec: EnsembleSpec, runs: pd.DataFrame) -> pd.DataFrame:
    """Runs of the packages with effect outcomes as differences to the reference's run in the
    same world with the same replicate (pairs with a missing reference run are dropped)."""
    ref = runs[runs["package"] == spec.reference_name].set_index(["world", "replicate"])
    pk = runs[runs["package"] != spec.reference_name].copy()
    key = list(zip(pk["world"], pk["replicate"], strict=True))
    have = np.array([k in ref.index for k in key], dtype=bool)
    pk = pk[have].copy()
    key = [k for k, h in zip(key, have, strict=True) if h]
    for o in spec.outcomes:
        if o.effect:
            pk[o.name] = pk[o.name].to_numpy(dtype=float) - ref.loc[key, o.name].to_numpy(
                dtype=float)
    return pk.reset_index(drop=True)


def cell_table(spec: EnsembleSpec, effects: pd.DataFrame) -> pd.DataFrame:
    """Per package, world and outcome: mean over replicates, its standard error, replicates."""
    rows = []
    for (p, w), g in effects.groupby(["package", "world"], sort=False):
        for o in [*spec.outcomes]:
            x = g[o.name].to_numpy(dtype=float)
            x = x[np.isfinite(x)]
            rows.append({"package": p, "world": w, "outcome": o.name,
                         "mean": float(x.mean()) if len(x) else math.nan,
                         "se": float(x.std(ddof=1) / math.sqrt(len(x))) if len(x) > 1
                         else math.nan, "n": len(x)})
    return pd.DataFrame(rows)


def analyse(spec: EnsembleSpec, runs: pd.DataFrame, missing: int = 0) -> EnsembleResult:
    """Every measure of the report from the runs' outcome values (:func:`run_values`)."""
    worlds = pd.DataFrame(spec.world_table())
    worlds.insert(0, "world", [world_label(spec, w) for w in range(len(worlds))])
    effects = paired_effects(spec, runs)
    cells = cell_table(spec, effects)
    packages = list(spec.packages)
    payoff = {}
    for o in spec.outcomes:
        m = cells[cells["outcome"] == o.name].pivot(index="world", columns="package",
                                                    values="mean")
        payoff[o.name] = m.reindex(columns=[p for p in packages if p in m.columns])
    complete = {o: m.dropna(axis=0, how="any") for o, m in payoff.items()}
    regret, summaries, ranking = {}, {}, {}
    for name in spec.regret:
        o = spec.outcome(name)
        m = complete[name]
        if m.empty:
            continue
        regret[name] = regret_table(m, o.direction)
        summaries[name] = regret_summary(regret[name])
        ranking[name] = ranking_stability(m, o.direction)
    sat = satisficing(complete, spec.targets) if spec.targets else pd.DataFrame()
    return EnsembleResult(spec, worlds, effects, cells, payoff, regret, summaries, sat, ranking,
                          missing)


def load_ensemble(spec: EnsembleSpec, results_dir: str | Path = "results") -> EnsembleResult:
    """Analyse what the ensemble's store holds."""
    from cluster_abm.experiments.results import load_results

    exp = experiment_for(spec)
    res = load_results(Path(results_dir) / spec.name)
    kt = res.kpi_table()
    series = sorted({o.series for o in spec.outcomes if o.series})
    ts = res.timeseries_where(metrics=series) if series else None
    runs = run_values(spec, kt, ts)
    return analyse(spec, runs, missing=len(exp.runs) - len(kt))


def run_ensemble(spec: EnsembleSpec | str | Path, *, results_dir: str | Path = "results",
                 executor: str | None = None, workers: int | None = None,
                 scheduler: str | None = None, overwrite: bool = False, quiet: bool = False):
    """Run (or resume) every (package, world, replicate); return (sweep summary, result)."""
    from cluster_abm.experiments.runner import run_experiment

    spec = spec if isinstance(spec, EnsembleSpec) else load_ensemble_spec(spec, results_dir)
    exp = experiment_for(spec)
    summary = run_experiment(exp, results_dir=results_dir, executor=executor, workers=workers,
                             scheduler=scheduler, overwrite=overwrite, quiet=quiet)
    result = None if summary.interrupted else load_ensemble(spec, results_dir)
    return summary, result


def dry_run_ensemble(spec: EnsembleSpec, **options: Any):
    """The runner's dry run of the ensemble (run count, one timed pilot run, estimate)."""
    from cluster_abm.experiments.runner import dry_run

    return dry_run(experiment_for(spec), **options)


def discoveries(result: EnsembleResult, box: int | None = None) -> list[tuple[Any, Any]]:
    """Answer the file's discovery questions on the ensemble: [(question, Discovery)].
    ``box`` (the command line's ``--box``) overrides every question's box."""
    from cluster_abm.analysis.decisions.discovery import discover

    spec = result.spec
    labels = {f.name: (f.label, f.unit) for f in spec.factors}
    out = []
    for q in spec.questions:
        m = result.payoff[q.target.outcome]
        if q.package not in m.columns:
            continue
        y = m[q.package].dropna()
        x = result.worlds.set_index("world").loc[y.index, [f.name for f in spec.factors]]
        cases = ~q.target.met(y.to_numpy())
        chosen = q.box if box is None else box
        out.append((q, discover(x, cases, labels=labels, threshold=q.threshold,
                                peel_alpha=q.peel_alpha, box=chosen)))
    return out
