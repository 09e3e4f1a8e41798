"""The budget frontier: a multi-objective search over policy packages, and its Pareto set.

Each trial is one package (decision values from :class:`~.decision_spec.FrontierSpec`),
simulated on the same ``R`` replicate seeds as every other trial and as the reference package
(common random numbers), so differences between trials are differences between packages, not
seed luck. An objective marked ``effect`` is the paired difference to the reference, replicate by
replicate; its mean over the replicates is what the search sees and its standard error (sd /
sqrt(R)) is the replicate noise reported with every point.

The search is Optuna's (Akiba et al. 2019): the multi-objective TPE sampler (Ozaki et al. 2020;
the default, sample-efficient for expensive simulations), NSGA-II (Deb et al. 2002) or random
search; the first trials are a Latin hypercube over the decision space (McKay, Beckman & Conover
1979), enqueued when the study is created. Nothing of the search is written here. The study is
persistent -- SQLite at ``results/<name>/optuna.db`` by default -- so a search resumes after a
stop, and several processes (on several machines with a database server) can share it; within a
process the replicates of the trials in flight run on the runner's executors (serial, processes
or Dask). The storage, locking and recovery of interrupted trials are the calibration's
(:mod:`cluster_abm.analysis.calibration.fit`).

The Pareto set (Optuna's non-dominated completed trials) becomes scenario files a designer can
open (``results/<name>/frontier/<name>_pNN.toml``, written with the project's TOML writer) and a
table; :mod:`cluster_abm.reports.decision_report` draws the frontier and writes the report.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cluster_abm.analysis.calibration.fit import (  # the calibration's storage and recovery
    _interrupts_deferred,
    _owner,
    _study_lock,
    counted_trials,
    make_storage,
    recover_stale_trials,
    release_in_flight,
)
from cluster_abm.analysis.calibration.trials import storage_url
from cluster_abm.analysis.decisions.decision_spec import (
    SAMPLER_KEY,
    SHARE,
    FrontierSpec,
    Outcome,
    load_frontier_spec,
)
from cluster_abm.analysis.decisions.package_eval import (
    SPENT,
    EvalTask,
    ModelPayload,
    evaluate_task,
)
from cluster_abm.errors import InputError
from cluster_abm.experiments import seeds
from cluster_abm.experiments.executors import make_executor
from cluster_abm.experiments.experiment_spec import canonical_json, default_workers
from cluster_abm.experiments.run_summary import TrialSummary
from cluster_abm.specs.toml_spec import toml_key, toml_value

REFERENCE = "reference"
FRONTIER_DIR = "frontier"


# --- the study ------------------------------------------------------------------------------------
def directed(spec: FrontierSpec) -> list[Outcome]:
    """The objectives the search optimises (those with a direction), in the file's order."""
    return [o for o in spec.objectives if o.direction]


def _sampler(spec: FrontierSpec, salt: int):
    import optuna

    seed = int(np.random.SeedSequence(spec.seed, spawn_key=(SAMPLER_KEY, salt))
               .generate_state(1, dtype=np.uint32)[0])
    if spec.sampler == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if spec.sampler == "nsga2":
        return optuna.samplers.NSGAIISampler(population_size=spec.population, seed=seed)
    return optuna.samplers.TPESampler(seed=seed, multivariate=True, constant_liar=True,
                                      n_startup_trials=spec.startup_trials)


def startup_points(spec: FrontierSpec) -> list[dict[str, Any]]:
    """A Latin hypercube of ``startup_trials`` points over the decision space (encoded as the
    sampler stores them)."""
    from scipy.stats import qmc

    if spec.startup_trials == 0:
        return []
    lhs = qmc.LatinHypercube(d=len(spec.variables), rng=seeds.design_rng(spec.seed))
    return [{v.name: v.from_unit(float(u)) for v, u in zip(spec.variables, row, strict=True)}
            for row in lhs.random(spec.startup_trials)]


def open_search(spec: FrontierSpec, results_dir: str | Path = "results", *,
                overwrite: bool = False, create: bool = True):
    """Load the search's study or create it (with its start points); (study, url).

    A study made by a different search file (variables, objectives, seeds, horizon, package)
    is refused with a one-line error naming the first difference; ``overwrite`` deletes it.
    """
    url = storage_url(spec, results_dir)
    with _study_lock(url):
        return _open(spec, url, overwrite, create)


def _open(spec: FrontierSpec, url: str, overwrite: bool, create: bool):
    import optuna

    from cluster_abm.experiments.runner import _first_difference

    storage = make_storage(url)
    names = [s.study_name for s in optuna.get_all_study_summaries(storage,
                                                                  include_best_trial=False)]
    exists = spec.name in names
    if exists and overwrite:
        optuna.delete_study(study_name=spec.name, storage=storage)
        exists = False
    if exists:
        study = optuna.load_study(study_name=spec.name, storage=storage)
        if study.user_attrs.get("spec_hash") != spec.spec_hash:
            where = _first_difference(json.loads(study.user_attrs.get("spec", "{}")),
                                      json.loads(canonical_json(spec.to_dict())))
            raise InputError(f"the search {spec.name!r} in {url} was made by a different search "
                             f"file (first difference: {where}); pass --overwrite to start "
                             "over, or give the search another name", source=spec.source,
                             key="name")
        study.sampler = _sampler(spec, len(study.get_trials(deepcopy=False)) * 100_003
                                 + os.getpid())
        return study, url
    if not create:
        raise InputError(f"no search {spec.name!r} in {url}; run `cluster-abm optimize` first",
                         source=spec.source, key="name")
    directions = ["maximize" if o.direction == "max" else "minimize" for o in directed(spec)]
    study = optuna.create_study(study_name=spec.name, storage=storage, directions=directions,
                                sampler=_sampler(spec, 0), load_if_exists=True)
    if "spec_hash" not in study.user_attrs:
        study.set_user_attr("spec", canonical_json(spec.to_dict()))
        study.set_user_attr("spec_hash", spec.spec_hash)
        study.set_user_attr("created", _now())
        study.set_user_attr("interrupted_trials", [])
        study.set_user_attr("sessions", [])
        for point in startup_points(spec):
            study.enqueue_trial(point, user_attrs={"start_point": True})
    return study, url


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


# --- tasks ----------------------------------------------------------------------------------------
def decode(spec: FrontierSpec, params: dict[str, Any]) -> dict[str, Any]:
    """A trial's parameters as decision values (choices back from their JSON)."""
    return {v.name: v.decode(params[v.name]) for v in spec.variables}


def tasks_for(spec: FrontierSpec, key: Any, values: dict[str, Any] | None) -> list[EvalTask]:
    """The ``R`` tasks of one decision (``None``: the reference package)."""
    if spec.analytic:
        payload: Any = dict(values or {})
    else:
        scenario = spec.reference if values is None else spec.package(values)
        payload = ModelPayload(scenario, spec.years, spec.objectives)
    return [EvalTask(key, r, s, spec.target, payload) for r, s in enumerate(spec.seeds)]


def run_tasks(tasks: list[EvalTask], executor: str = "serial", workers: int | None = None,
              scheduler: str | None = None) -> dict[Any, list[dict[str, float]]]:
    """Evaluate tasks on an executor: {key: [values per replicate]}; a failure raises."""
    n = 1 if executor == "serial" else (workers or default_workers())
    if executor != "dask" or not scheduler:
        n = max(1, min(n, len(tasks)))
    out: dict[Any, list] = {}
    for t in tasks:
        out.setdefault(t.key, [None] * (t.replicate + 1))
        if len(out[t.key]) <= t.replicate:
            out[t.key] += [None] * (t.replicate + 1 - len(out[t.key]))
    with make_executor(executor, n, scheduler=scheduler, quiet=True) as ex:
        for task, value, exc in ex.map_unordered(evaluate_task, tasks, total=len(tasks)):
            if exc is not None:
                raise RuntimeError(f"evaluation {task.key} replicate {task.replicate} (seed "
                                   f"{task.seed}) failed: {type(exc).__name__}: {exc}") from exc
            out[task.key][task.replicate] = value["values"]
    return out


def summarise(spec: FrontierSpec, values: list[dict[str, float]],
              reference: dict[str, list[float]] | None) -> dict[str, Any]:
    """Per-replicate outcome values -> {"reps": {name: [...]}, "mean": {...}, "se": {...}}:
    effects are paired differences to the reference's same replicate."""
    names = [o.name for o in spec.objectives] + ([SPENT] if SPENT in values[0] else [])
    effect = {o.name: o.effect for o in spec.objectives}
    reps, mean, se = {}, {}, {}
    for name in names:
        x = np.array([v[name] for v in values], dtype=float)
        if effect.get(name) and reference is not None:
            x = x - np.asarray(reference[name], dtype=float)
        reps[name] = [float(v) for v in x]
        mean[name] = float(np.mean(x))
        se[name] = float(np.std(x, ddof=1) / math.sqrt(len(x))) if len(x) > 1 else float("nan")
    return {"reps": reps, "mean": mean, "se": se}


# --- the search loop ------------------------------------------------------------------------------
@dataclass
class SearchSummary(TrialSummary):
    """What a search call did; :attr:`exit_code` is what the command returns."""

    name: str
    storage: str
    requested: int
    before: int = 0
    completed: int = 0
    pareto: int = 0
    simulations: int = 0
    sim_time: float = 0.0  # s, summed over evaluations
    outputs: list[Path] = field(default_factory=list)

    def headline(self) -> str:
        rate = self.run / (self.wall_time / 3600) if self.wall_time > 0 and self.run else 0.0
        return (f"{self.name}: {self.run} trials evaluated ({self.completed} ok, "
                f"{len(self.failed)} failed) after {self.before} stored, of {self.requested}; "
                f"{self.simulations} evaluations in {self.wall_time:.1f} s ({rate:.0f} trials/h) "
                f"on {self.executor}; {self.pareto} packages on the frontier; study in "
                f"{self.storage}")

    def closing_lines(self) -> list[str]:
        return [f"  wrote {p}" for p in self.outputs]


def run_search(spec: FrontierSpec | str | Path, *, results_dir: str | Path = "results",
               trials: int | None = None, executor: str | None = None,
               workers: int | None = None, scheduler: str | None = None,
               storage: str | None = None, overwrite: bool = False,
               quiet: bool = False) -> SearchSummary:
    """Run the search until its study holds ``trials`` trials (resuming what it holds)."""

    spec = spec if isinstance(spec, FrontierSpec) else load_frontier_spec(spec)
    spec = spec.with_overrides(trials=trials, executor=executor, workers=workers,
                               scheduler=scheduler, storage=storage)
    study, url = open_search(spec, results_dir, overwrite=overwrite)
    recover_stale_trials(study)
    summary = SearchSummary(spec.name, url, spec.trials, before=counted_trials(study))
    distributions = {v.name: v.distribution() for v in spec.variables}
    R = spec.replicates
    pending: dict[int, dict[str, Any]] = {}
    owner = _owner()
    t0 = time.perf_counter()
    session: dict[str, Any] = {"started": _now(), "owner": owner}
    kind = spec.execution.executor
    n_workers = 1 if kind == "serial" else (spec.execution.workers or default_workers())

    def jobs() -> Iterator[EvalTask]:
        while True:
            with _interrupts_deferred(), _study_lock(url):
                if counted_trials(study) >= spec.trials:
                    return
                trial = study.ask(distributions)
                trial.set_user_attr("owner", owner)
                params = {v.name: trial.params[v.name] for v in spec.variables}
                pending[trial.number] = {"trial": trial, "values": [None] * R, "left": R,
                                         "error": "", "wall": 0.0, "params": params}
            try:
                tasks = tasks_for(spec, trial.number, decode(spec, params))
            except InputError as exc:  # a package the model refuses: a failed trial
                pending[trial.number]["error"] = str(exc)
                with _interrupts_deferred():
                    _finish(study, spec, pending.pop(trial.number), summary, None)
                continue
            yield from tasks

    remaining = max(0, spec.trials - summary.before)
    bar = None
    try:
        need_ref = spec.needs_reference and REFERENCE not in study.user_attrs
        if remaining or need_ref:
            if kind != "dask" or not spec.execution.scheduler:
                n_workers = max(1, min(n_workers, max(remaining, 1) * R))
            with make_executor(kind, n_workers, scheduler=spec.execution.scheduler,
                               window=max(2 * n_workers, 2), quiet=quiet) as ex:
                summary.executor = ex.describe()
                with summary.stopping(ex):
                    if need_ref:
                        if not quiet:
                            print(f"{spec.name}: the reference package, {R} replicates",
                                  file=sys.stderr)
                        ref: list[Any] = [None] * R
                        for task, value, exc in ex.map_unordered(
                                evaluate_task, tasks_for(spec, REFERENCE, None), total=R):
                            if exc is not None:
                                raise RuntimeError(f"the reference package failed (replicate "
                                                   f"{task.replicate}): {type(exc).__name__}: "
                                                   f"{exc}") from exc
                            ref[task.replicate] = value["values"]
                            summary.simulations += 1
                            summary.sim_time += value["wall"]
                        study.set_user_attr(REFERENCE, {k: [r[k] for r in ref] for k in ref[0]})
                    reference = study.user_attrs.get(REFERENCE)
                    if remaining and not quiet:
                        print(f"{spec.name}: {remaining} trials to run ({summary.before} stored "
                              f"of {spec.trials}) x {R} replicates on {summary.executor}; "
                              f"study in {url}", file=sys.stderr)
                    bar = _progress(spec.name, spec.trials, summary.before, quiet)
                    for task, value, exc in ex.map_unordered(evaluate_task, jobs(),
                                                             total=remaining * R):
                        rec = pending[task.key]
                        if exc is not None:
                            rec["error"] = rec["error"] or f"{type(exc).__name__}: {exc}"
                        else:
                            rec["values"][task.replicate] = value["values"]
                            rec["wall"] += value["wall"]
                            summary.simulations += 1
                            summary.sim_time += value["wall"]
                        rec["left"] -= 1
                        if rec["left"] == 0:
                            with _interrupts_deferred():
                                _finish(study, spec, pending.pop(task.key), summary, reference)
                            bar.update(1)
        else:
            summary.executor = "nothing to run"
    except KeyboardInterrupt:
        summary.interrupted = True
    finally:
        if bar is not None:
            bar.close()
        release_in_flight(study, pending, owner)
        summary.wall_time = time.perf_counter() - t0
        session.update(finished=_now(), wall_time=round(summary.wall_time, 3),
                       trials_run=summary.run, trials_ok=summary.completed,
                       simulations=summary.simulations, sim_time=round(summary.sim_time, 3),
                       executor=summary.executor, interrupted=summary.interrupted,
                       workers=n_workers, cpus=os.cpu_count())
        if summary.run or summary.interrupted or summary.simulations:
            study.set_user_attr("sessions", [*study.user_attrs.get("sessions", []), session])
    summary.pareto = len(pareto_trials(study))
    return summary


def _finish(study, spec: FrontierSpec, rec: dict[str, Any], summary: SearchSummary,
            reference: dict[str, list[float]] | None) -> None:
    import optuna

    trial = rec["trial"]
    if rec["error"] or any(v is None for v in rec["values"]):
        trial.set_user_attr("error", rec["error"][:2000])
        study.tell(trial, state=optuna.trial.TrialState.FAIL)
        summary.failed.append((trial.number, rec["error"]))
        return
    s = summarise(spec, rec["values"], reference)
    values = [s["mean"][o.name] for o in directed(spec)]
    if not all(math.isfinite(v) for v in values):
        msg = "an objective is not defined (NaN) in this package"
        trial.set_user_attr("error", msg)
        study.tell(trial, state=optuna.trial.TrialState.FAIL)
        summary.failed.append((trial.number, msg))
        return
    trial.set_user_attr("reps", s["reps"])
    trial.set_user_attr("mean", s["mean"])
    trial.set_user_attr("se", s["se"])
    trial.set_user_attr("wall", round(rec["wall"], 3))
    study.tell(trial, values)
    summary.completed += 1


def _progress(name: str, total: int, initial: int, quiet: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, desc=name, unit="trial", file=sys.stderr,
                disable=quiet, dynamic_ncols=True, smoothing=0.1)


# --- the Pareto set -------------------------------------------------------------------------------
def pareto_trials(study) -> list:
    """The completed trials no other completed trial dominates (Optuna's ``best_trials``)."""
    import optuna

    done = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    return list(study.best_trials) if done else []


def trial_table(spec: FrontierSpec, study) -> pd.DataFrame:
    """One row per completed trial: its decision values, each outcome's mean and replicate
    standard error, what it spent, and whether it is on the frontier (``pareto``)."""
    import optuna

    done = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    front = {t.number for t in pareto_trials(study)}
    rows = []
    for t in done:
        row: dict[str, Any] = {"trial": t.number, "pareto": t.number in front}
        for v in spec.variables:
            value = v.decode(t.params[v.name])
            row[v.name] = ", ".join(map(str, value)) if isinstance(value, list) else value
        if not spec.analytic:
            programme, levers = spec.settings(decode(spec, t.params))
            if programme is not None and "shares" in programme:
                for lid in spec.levers:
                    row[f"share_of_{lid}"] = programme["shares"].get(lid, 0.0)
        for name, m in t.user_attrs.get("mean", {}).items():
            row[name] = m
            row[f"{name}_se"] = t.user_attrs.get("se", {}).get(name, float("nan"))
        rows.append(row)
    df = pd.DataFrame(rows)
    if len(df):
        df = df.sort_values("trial").reset_index(drop=True)
    return df


def frontier_table(spec: FrontierSpec, study) -> pd.DataFrame:
    """The Pareto set, numbered ``p01``, ``p02`` ... by what it spends (or its first
    objective), with a ``package`` column naming its scenario file."""
    df = trial_table(spec, study)
    if not len(df):
        return df
    front = df[df["pareto"]].copy()
    order = SPENT if SPENT in front else directed(spec)[0].name
    front = front.sort_values([order, "trial"], kind="stable").reset_index(drop=True)
    width = max(2, len(str(len(front))))
    front.insert(0, "package", [f"{spec.name}_p{i + 1:0{width}d}" for i in range(len(front))])
    by_number = {t.number: t for t in pareto_trials(study)}
    n = len(front)
    front["paragraph"] = [paragraph(spec, decode(spec, by_number[int(r["trial"])].params), r,
                                    i + 1, n) for i, (_, r) in enumerate(front.iterrows())]
    return front


def budget_keur(spec: FrontierSpec, values: dict[str, Any]) -> tuple[float | None, int | None]:
    """The package's programme money (k€, in total) and its years, where it has a programme."""
    programme, _ = spec.settings(values)
    if programme is None:
        return None, None
    years = programme.get("years")
    if "budget_keur" in programme:
        return float(programme["budget_keur"]), years
    if years is None:
        return None, None
    return float(programme["budget_keur_per_year"]) * years, years


# --- words ----------------------------------------------------------------------------------------
def _num(x: float, signed: bool = False) -> str:
    if x is None or not math.isfinite(x):
        return "n/a"
    a = abs(x)
    digits = 0 if a >= 100 else 1 if a >= 10 else 2 if a >= 1 else 3
    text = f"{x:+,.{digits}f}" if signed else f"{x:,.{digits}f}"
    return text


def _money(keur: float) -> str:
    if keur is None or not math.isfinite(keur):
        return "n/a"
    if abs(keur) >= 1000:
        return f"€{keur / 1000:,.2f} million"
    return f"€{keur:,.0f} thousand"


def _lever_name(lid: str) -> str:
    from cluster_abm.policy.levers import BY_ID

    return BY_ID[lid].name if lid in BY_ID else lid


def funds_text(spec: FrontierSpec, values: dict[str, Any]) -> str:
    """What a package funds, in words: money, regions, years, shares, intensity and timing."""
    programme, levers = spec.settings(values)
    parts = []
    for lid, t in levers.items():
        bits = []
        if programme is not None and "shares" in programme:
            bits.append(f"{100 * programme['shares'].get(lid, 0):.0f} %")
        bits.append(f"{_lever_name(lid)}")
        if "intensity" in t:
            bits.append(f"at intensity {float(t['intensity']):.2f}")
        if "start_year" in t or "end_year" in t:
            start = t.get("start_year", 0)
            bits.append(f"from policy year {start}" + (f" to {t['end_year'] - 1}"
                                                       if "end_year" in t else ""))
        if "firms" in t:
            bits.append(f"for {t['firms']} firms")
        if "regions" in t:
            bits.append("in " + ", ".join(_region_name(spec, r) for r in t["regions"]))
        if "clusters" in t:
            bits.append("in the clusters " + ", ".join(t["clusters"]))
        parts.append(" ".join(bits))
    text = "; ".join(parts)
    money, years = budget_keur(spec, values)
    if money is not None:
        where = ""
        if programme.get("regions"):
            where = " in " + ", ".join(_region_name(spec, r) for r in programme["regions"])
        start = programme.get("start_year", 0)
        return (f"It budgets {_money(money)}{where} over {years} year"
                f"{'s' if years != 1 else ''} from policy year {start}: {text}.")
    return f"It funds {text}."


def _region_name(spec: FrontierSpec, rid: str) -> str:
    if spec.base is None:
        return rid
    for r in spec.base.regions:
        if r["id"] == rid:
            return r["name"]
    return rid


def outcome_text(o: Outcome, mean: float, se: float) -> str:
    if o.unit.startswith("k€"):
        noise = f" (± {_money(se)} replicate standard error)" if math.isfinite(se) else ""
        return f"{o.label} {'changes by' if o.effect else 'is'} {_money(mean)}{noise}"
    what = "changes" if o.effect else "reaches"
    return (f"{o.label} {what} by {_num(mean, signed=True)}" if o.effect
            else f"{o.label} {what} {_num(mean)}") + (
        f" (± {_num(se)} replicate standard error)" if math.isfinite(se) else "")


def paragraph(spec: FrontierSpec, values: dict[str, Any], row: pd.Series, index: int,
              n: int) -> str:
    """A plain-language paragraph on one frontier package (decision ``values``, its row of the
    trial table): what it funds, what it buys (each objective with its replicate noise), and at
    what cost."""
    head = f"Package {index} of {n} on the frontier (trial {int(row['trial'])})."
    if spec.analytic:
        vals = ", ".join(f"{v.name} = {_num(float(values[v.name]))}" for v in spec.variables
                         if not v.choices)
        buys = "; ".join(outcome_text(o, row[o.name], row.get(f"{o.name}_se", float("nan")))
                         for o in spec.objectives)
        return f"{head} At {vals}: {buys}."
    funds = funds_text(spec, values)
    ref = spec.reference.title if spec.reference is not None else "the reference"
    buys = "; ".join(outcome_text(o, row[o.name], row.get(f"{o.name}_se", float("nan")))
                     for o in spec.objectives  # the levers' spending is said below
                     if not (o.kpi == "public_cost_total" and not o.effect))
    spent = row.get(SPENT, float("nan"))
    money, _ = budget_keur(spec, values)
    cost = f"Its levers spend {_money(spent)} over the run"
    if money is not None and money > 0 and math.isfinite(spent):
        cost += f" ({100 * spent / money:.0f} % of the budget; the rest is not absorbed)" \
            if spent < 0.95 * money else f" ({100 * spent / money:.0f} % of the budget)"
    cost += "."
    per = ""
    for o in spec.objectives:
        if o.direction == "max" and o.effect and o.kpi != "public_cost_total":
            m, se = row[o.name], row.get(f"{o.name}_se", float("nan"))
            if math.isfinite(se) and m > 2 * se and m > 0 and math.isfinite(spent):
                per = (f" That is {_money(spent / m)} of lever spending per unit of "
                       f"{o.label} (effects against {ref}, same seeds).")
            else:
                per = (f" Its effect on {o.label} cannot be told from zero with "
                       f"{spec.replicates} replicates, so no cost per unit is given.")
            break
    return f"{head} {funds} Against {ref}, with the same seeds: {buys}. {cost}{per}"


# --- scenario files -------------------------------------------------------------------------------
def _extends_ref(base_source: str, folder: Path) -> str:
    from cluster_abm.specs.scenario import find_scenario

    source = Path(base_source)
    try:
        if find_scenario(source.stem) == source.resolve():
            return source.stem
    except InputError:
        pass
    return os.path.relpath(source.resolve(), folder.resolve())


def scenario_text(spec: FrontierSpec, values: dict[str, Any], name: str, title: str,
                  description: str, folder: Path, comments: list[str]) -> str:
    """A frontier package as a scenario file (TOML text) that extends the search's base."""
    programme, levers = spec.settings(values)
    lines = [f"# {c}" for c in comments]
    lines += [f"extends = {toml_value(_extends_ref(spec.base.source, folder))}",
              f"name = {toml_value(name)}", f"title = {toml_value(title)}",
              f"description = {toml_value(description)}"]
    sim = {k[4:]: v for k, v in spec.params.items() if k.startswith("sim.")}
    if spec.years is not None:
        sim["years"] = float(spec.years)
    if sim:
        lines += ["", "[simulation]"] + [f"{toml_key(k)} = {toml_value(v)}"
                                         for k, v in sorted(sim.items())]
    other = {k: v for k, v in spec.params.items() if not k.startswith("sim.")}
    if other:
        lines += ["", "[params]"] + [f"{toml_key(k)} = {toml_value(v)}"
                                     for k, v in sorted(other.items())]
    if programme is not None:
        lines += ["", "[programme]"] + [f"{toml_key(k)} = {toml_value(v)}"
                                        for k, v in programme.items()]
    for lid, t in levers.items():
        lines += ["", f"[levers.{lid}]"] + [f"{toml_key(k)} = {toml_value(v)}"
                                            for k, v in t.items()]
    return "\n".join(lines) + "\n"


def write_frontier(spec: FrontierSpec, study, results_dir: str | Path = "results") -> tuple[
        pd.DataFrame, list[Path]]:
    """The frontier table with a paragraph per package, and (for the model) each package as a
    scenario file in ``results/<name>/frontier/``; (table, files written)."""
    front = frontier_table(spec, study)
    if not len(front):
        return front, []
    n = len(front)
    folder = Path(results_dir) / spec.name / FRONTIER_DIR
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob(f"{spec.name}_p*.toml"):
        old.unlink()
    written = []
    if not spec.analytic:
        today = _dt.date.today().isoformat()
        by_number = {t.number: t for t in pareto_trials(study)}
        for i, (_, r) in enumerate(front.iterrows()):
            t = by_number[int(r["trial"])]
            values = decode(spec, t.params)
            noise = "; ".join(f"{o.label} {_num(r[o.name], signed=o.effect)} ± "
                              f"{_num(r[f'{o.name}_se'])}" for o in spec.objectives)
            comments = [f"Frontier package {i + 1} of {n} of `cluster-abm optimize` "
                        f"({spec.name}, {Path(spec.source).name}) on {today}, trial {t.number}.",
                        f"Means over {spec.replicates} replicates (± replicate standard error): "
                        f"{noise}."]
            title = f"{spec.name}: frontier package {i + 1} of {n}"
            path = folder / f"{r['package']}.toml"
            text = scenario_text(spec, values, r["package"], title, r["paragraph"], folder,
                                 comments)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(path)
            written.append(path)
    return front, written


def frontier_files(results_dir: str | Path, name: str) -> list[Path]:
    """The scenario files of a search's frontier (written by :func:`write_frontier`)."""
    folder = Path(results_dir) / name / FRONTIER_DIR
    return sorted(folder.glob(f"{name}_p*.toml"))


# --- dry run --------------------------------------------------------------------------------------
@dataclass
class SearchDryRun:
    """What a search would do, from one timed pilot evaluation (nothing is written)."""

    name: str
    storage: str
    trials: int
    stored: int
    replicates: int
    reference: int  # evaluations of the reference still to run
    executor: str
    workers: int | None
    pilot_time: float = 0.0  # s, a warm evaluation (the world spun up already)
    spinup_time: float = 0.0  # s, what the first evaluation of a seed adds (its spin-up)
    pilot_error: str = ""
    startup_time: float = 0.0

    @property
    def evaluations(self) -> int:
        return max(0, self.trials - self.stored) * self.replicates + self.reference

    def format(self) -> str:
        from cluster_abm.experiments.runner import _human_time

        lines = [f"{self.name}: {self.trials} trials ({self.stored} already stored) x "
                 f"{self.replicates} replicates + {self.reference} reference runs = "
                 f"{self.evaluations} evaluations to run; study in {self.storage}",
                 f"executor: {self.executor}, "
                 f"{self.workers if self.workers else 'as many as the scheduler has'} worker(s)"]
        if self.pilot_error:
            lines.append(f"pilot evaluation FAILED: {self.pilot_error}")
        else:
            lines.append(f"pilot evaluation (the package in the middle of every range): "
                         f"{self.pilot_time:.2f} s, and {self.spinup_time:.2f} s more the first "
                         "time a seed's world is spun up")
            if self.workers:
                work = self.pilot_time * self.evaluations + self.spinup_time * self.replicates
                est = self.startup_time + work / self.workers
                lines.append(f"estimated wall time: {_human_time(est)} ({self.evaluations} "
                             f"evaluations x {self.pilot_time:.2f} s + {self.replicates} spin-ups"
                             f" x {self.spinup_time:.2f} s, over {self.workers} workers, + "
                             f"{self.startup_time:.1f} s to start a worker); the search itself "
                             "adds about 0.1 s a trial")
        lines.append("dry run: nothing was written")
        return "\n".join(lines)


def dry_run_search(spec: FrontierSpec, results_dir: str | Path = "results") -> SearchDryRun:
    """Count what is left to run and time one evaluation in this process."""
    from cluster_abm.experiments.runner import _import_time

    url = storage_url(spec, results_dir)
    stored, has_ref = 0, False
    path = url.removeprefix("sqlite:///").removeprefix("journal:")
    if path != url and Path(path).is_file():
        study, _ = open_search(spec, results_dir, create=False)
        stored, has_ref = counted_trials(study), REFERENCE in study.user_attrs
    ex = spec.execution
    workers = 1 if ex.executor == "serial" else (ex.workers or (None if ex.scheduler
                                                                else default_workers()))
    ref = spec.replicates if spec.needs_reference and not has_ref else 0
    report = SearchDryRun(spec.name, url, spec.trials, stored, spec.replicates, ref,
                          ex.executor, workers)
    from cluster_abm.analysis.decisions.decision_spec import corner_values

    try:
        task = tasks_for(spec, "pilot", corner_values(spec, 0.5))[0]
        first = evaluate_task(task)["wall"]  # spins the seed's world up unless cached
        report.pilot_time = evaluate_task(task)["wall"]
        report.spinup_time = max(0.0, first - report.pilot_time)
    except Exception as exc:  # noqa: BLE001 - the pilot's failure is the finding
        report.pilot_error = f"{type(exc).__name__}: {exc}"
    if ex.executor != "serial":
        report.startup_time = _import_time(spec.target)
    return report


__all__ = ["REFERENCE", "SearchSummary", "SHARE", "decode", "directed", "frontier_files",
           "frontier_table", "open_search", "pareto_trials", "run_search", "storage_url",
           "summarise", "tasks_for", "trial_table", "write_frontier"]
