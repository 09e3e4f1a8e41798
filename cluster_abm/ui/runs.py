"""Ensembles for the workshop app: the policy and its baseline, each over several seeds, in lock-step.

:class:`RunSet` holds one :class:`~cluster_abm.model.cluster_model.ClusterModel` per run and seed:
the policy run (the user's levers) and, when comparing, the baseline (the same scenario with every
lever off) over the *same* seeds (common random numbers, DESIGN 4). All models advance one step
together, so at every step each seed's *policy − baseline* difference is the effect of the levers
in that seed's world, and their mean with its 95 % interval (:mod:`cluster_abm.ui.intervals`) is
what the room is shown: tiles turn green or red only when that interval excludes zero.

:class:`Track` keeps, per run, the few series the app shows (one column per seed), appended once
per step instead of re-reading each model's history. The model on the map (one run, one seed) is
also looked at firm by firm every step (:func:`~cluster_abm.ui.model_view.firm_view`) to spot large
firms closing and to colour firms that innovated in the last year.

Levers can be switched while the runs go on (:meth:`RunSet.switch_levers`, through
``ClusterModel.switch_levers``: a lever starts in the current policy year, the past stays as it
was, the baseline is untouched). Which levers run in the policy run is looked at after every step
and every switch, so :attr:`RunSet.marks` records when each lever really started or ended —
switched by the trainer, or planned by the scenario's ``start_year`` / ``end_year`` — for the
charts' markers and the narrative.

Models start warm: each restores its spun-up world from the model's spin-up cache
(``ClusterModel(..., spinup_cache=...)``, the default cache unless told otherwise); a world not
in the cache is spun up once and saved there (policy and baseline share it: they differ only in
levers). ``python -m cluster_abm.ui.warm`` (``make ui-assets``) fills the cache for the app's
default set-up ahead of time.

Nothing here imports Solara or matplotlib: the ensemble is tested and benchmarked on its own.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cluster_abm.model.cluster_model import DEFAULT_CACHE, ClusterModel
from cluster_abm.outputs.metrics import SERIES
from cluster_abm.policy import levers as policies
from cluster_abm.specs.scenario import Scenario
from cluster_abm.ui import model_view
from cluster_abm.ui.intervals import Estimate, estimate, summarise
from cluster_abm.ui.wording import sentence_case, unit_words

# series the app tracks in every model (totals over all regions)
TRACKED = ("innovations", "employment", "skilled_emigrants_cum", "firms", "public_cost",
           "births", "deaths")
REGIONAL = ("public_committed",)  # tracked by region too: a zero budget is a funding freeze
RUNS = ("policy", "reference")
RUN_NAMES = {"policy": "policy", "reference": "baseline"}


@dataclass
class Track:
    """Per-step values of some series of one run: one column per seed, row 0 the initial state."""

    steps_per_year: int
    n_seeds: int
    names: tuple[str, ...] = TRACKED
    rows: dict[str, list[np.ndarray]] = field(default_factory=dict)
    regional: dict[str, list[np.ndarray]] = field(default_factory=dict)  # (seeds, regions)
    _cache: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for name in self.names:
            self.rows.setdefault(name, [])
        for name in REGIONAL:
            self.regional.setdefault(name, [])

    def append(self, models: list) -> None:
        """The newest values of every model (one per seed, in seed order)."""
        latest = [model_view.latest(m, self.names + REGIONAL) for m in models]
        for name in self.names:
            self.rows[name].append(np.array([v[name][-1] for v in latest], dtype=float))
        for name in REGIONAL:
            self.regional[name].append(np.array([v[name][:-1] for v in latest], dtype=float))
        self._cache.clear()

    def add(self, name: str, models: list) -> None:
        """Track ``name`` from now on, its past filled in from the models' history."""
        if name in self.rows:
            return
        past = np.column_stack([model_view.totals_so_far(m, name) for m in models])
        if len(past) != len(self):  # pragma: no cover - a model whose history is not the run's
            raise RuntimeError(f"{name}: {len(past)} steps in the models, {len(self)} tracked")
        self.rows[name] = list(past)
        self.names = (*self.names, name)
        self._cache.clear()

    def __len__(self) -> int:
        return len(self.rows[self.names[0]])

    def years(self) -> np.ndarray:
        return np.arange(len(self)) / self.steps_per_year

    def matrix(self, name: str) -> np.ndarray:
        """(steps + 1) x seeds."""
        out = self._cache.get(name)
        if out is None:
            rows = self.rows[name]
            out = np.vstack(rows) if rows else np.zeros((0, self.n_seeds))
            self._cache[name] = out
        return out

    def cumulative(self, name: str) -> np.ndarray:
        """A flow summed since the start (row 0, the initial state, counts nothing)."""
        v = self.matrix(name).copy()
        if len(v):
            v[0] = 0.0
        return np.cumsum(v, axis=0)

    def per_year(self, name: str) -> np.ndarray:
        """A flow as a yearly rate: the sum over the last year (or the steps so far),
        annualised; row 0 (no flow yet) is NaN."""
        v = self.matrix(name)
        out = np.full(v.shape, np.nan)
        if len(v) < 2:
            return out
        c = np.vstack([np.zeros((1, v.shape[1])), np.cumsum(v[1:], axis=0)])
        k = np.arange(1, len(v))
        window = np.minimum(k, self.steps_per_year)
        out[1:] = (c[k] - c[k - window]) / window[:, None] * self.steps_per_year
        return out


@dataclass(frozen=True)
class Measure:
    """A quantity the app shows, read from a :class:`Track`.

    ``how`` is what a tile shows ("cumulative": the total since year 0; "level": the value now);
    ``chart_how`` what the level chart draws ("rate": per year, or the same as ``how``).
    ``better`` is "higher", "lower" or None (a cost: never called good or bad).
    """

    key: str
    label: str
    unit: str
    better: str | None
    series: str
    how: str
    chart: str = ""
    chart_unit: str = ""
    chart_how: str = ""
    note: str = ""

    def values(self, track: Track) -> np.ndarray:
        return track.cumulative(self.series) if self.how == "cumulative" else track.matrix(self.series)

    def chart_values(self, track: Track) -> np.ndarray:
        if self.chart_how == "rate":
            return track.per_year(self.series)
        return self.values(track)


HEADLINES = (
    Measure("innovations", "Innovations so far", "innovations", "higher", "innovations",
            "cumulative", "Innovations / year", "innovations / year", "rate"),
    Measure("employment", "Jobs now", "jobs", "higher", "employment", "level",
            "Jobs", "persons employed", "level"),
    Measure("brain_drain", "Brain drain so far", "skilled emigrants", "lower",
            "skilled_emigrants_cum", "level", "Brain drain", "skilled emigrants", "level"),
    Measure("firms", "Firms now", "firms", "higher", "firms", "level", "Firms", "firms", "level"),
)
# the levers' public money, in euros of the real regions (the model books it where it is spent,
# as the real programme would pay it: each model firm stands for the real firms it represents)
COST = Measure("public_cost", "Public cost so far", "k€", None, "public_cost", "cumulative",
               "Public cost so far", "k€", "cumulative")


def lever_measures(scenario: Scenario) -> list[Measure]:
    """The direct outcome of every lever switched on (one per series, levers named in ``note``),
    in catalogue order: what each lever moves first, before jobs or innovations do."""
    by_series: dict[str, list[policies.Lever]] = {}
    for lever in policies.LEVERS:
        if lever.id in scenario.levers and lever.outcome in SERIES and lever.outcome not in TRACKED:
            by_series.setdefault(lever.outcome, []).append(lever)
    out = []
    for name, levers in by_series.items():
        s = SERIES[name]
        flow = s.kind == "flow"
        label = sentence_case(name) + (" so far" if flow else " now")
        better = "lower" if levers[0].direction == "-" else "higher"
        unit = unit_words(s.unit) or ("count" if flow else "")
        out.append(Measure(name, label, unit, better, name, "cumulative" if flow else "level",
                           note=", ".join(lv.name for lv in levers)))
    return out


@dataclass(frozen=True)
class Outcome:
    """One tile: a measure's policy (and baseline) mean over seeds and their paired difference."""

    key: str
    label: str
    unit: str
    better: str | None
    policy: Estimate
    reference: Estimate | None = None
    difference: Estimate | None = None
    note: str = ""  # e.g. the levers this is the direct outcome of

    @property
    def tone(self) -> str:
        """"good" / "bad" when the interval excludes zero, "cost" for spending, else "neutral"."""
        d = self.difference
        if self.better is None:
            return "cost"
        if d is None or not d.excludes_zero:
            return "neutral"
        return "good" if (d.sign > 0) == (self.better == "higher") else "bad"


@dataclass(frozen=True)
class Closure:
    """A large firm of the model on the map closed."""

    step: int
    uid: int
    employees: float
    region: str
    sector: str
    run: str = "policy"


@dataclass(frozen=True)
class LeverMark:
    """A lever of the policy run starting, ending or changing.

    ``step``: steps since policy year 0 after which it happened (the lever acts, or stops, from
    the next step on: up to ``step`` the policy run is what it would have been without the
    change). ``kind``: "start", "end" or "change" (intensity or targets); ``how``: "switch" (the
    trainer, in the app) or "scenario" (the scenario's years or its programme's).
    """

    step: int
    lever: str  # id
    name: str  # the lever's human name
    kind: str
    how: str
    detail: str = ""  # a change: what changed, in words ("intensity 1 → 2")


class LeverTimingError(ValueError):
    """A lever change the model's ``switch_levers`` cannot express from the current year (a lever
    the scenario plans for a later year, switched off or changed before it starts)."""


def _running(model: ClusterModel) -> dict:
    """The levers running in a model now: id -> setting."""
    return dict(model.policy.settings)


def _change_words(old, new) -> str:
    parts = []
    if old.intensity != new.intensity:
        parts.append(f"intensity {old.intensity:g} → {new.intensity:g}")
    if (old.regions, old.clusters, old.firms) != (new.regions, new.clusters, new.firms):
        parts.append("targets changed")
    return ", ".join(parts)


@dataclass(frozen=True)
class Band:
    """A chart line: the mean over seeds and its 95 % interval, per step."""

    years: np.ndarray
    mean: np.ndarray
    lo: np.ndarray
    hi: np.ndarray


class RunSet:
    """The policy run and (optionally) its baseline, each over ``seeds``, stepped together.

    Args:
        policy: the scenario with the user's levers.
        reference: the same world without levers, or None for the policy alone.
        seeds: the seeds of both runs (the same for both: common random numbers).
        horizon: steps to run (default: the policy scenario's ``sim.years`` in steps).
        watch: (run, seed index) of the model on the map.
        spinup_cache: where the models find and keep their spun-up worlds (default: the
            model's cache; None: every model spins up itself).
    """

    supports_live_levers = True  # levers switched mid-run apply from the current year (switch_levers)

    def __init__(self, policy: Scenario, reference: Scenario | None, seeds, horizon: int | None = None,
                 watch: tuple[str, int] = ("policy", 0), *,
                 spinup_cache: str | Path | None | object = DEFAULT_CACHE):
        self.seeds = tuple(int(s) for s in seeds)
        if not self.seeds:
            raise ValueError("at least one seed")
        self.scenarios = {"policy": policy} | ({} if reference is None else {"reference": reference})
        self.spinup_cache = spinup_cache
        self.models = {run: [ClusterModel(sc, seed=s, spinup_cache=spinup_cache) for s in self.seeds]
                       for run, sc in self.scenarios.items()}
        spy = self.models["policy"][0].p.steps_per_year
        if any(m.p.steps_per_year != spy for ms in self.models.values() for m in ms):
            raise ValueError("policy and baseline runs must have the same steps per year")
        self.steps_per_year = spy
        self.horizon = (int(round(policy.param("sim.years") * spy)) if horizon is None
                        else int(horizon))
        self.direct = lever_measures(policy)
        names = TRACKED + tuple(m.series for m in self.direct)
        self.tracks = {run: Track(spy, len(self.seeds), names) for run in self.models}
        for run, track in self.tracks.items():
            track.append(self.models[run])
        self.closures: list[Closure] = []
        self.marks: list[LeverMark] = []  # levers starting, ending, changing in the policy run
        # what runs now (nothing before the first step opens year 0: the levers of year 0 are
        # on from the start, no marks)
        self._running = _running(self.models["policy"][0])
        self._told_start: set[str] = set()  # switched by the trainer, told before taking effect
        self._told_end: set[str] = set()
        self._views: dict[tuple[str, int], deque] = {}
        for run in self.models:
            self.set_watch(run, 0)
        self.set_watch(*watch)

    # --- shape ---------------------------------------------------------------------------------
    @property
    def compare(self) -> bool:
        return "reference" in self.models

    @property
    def n_seeds(self) -> int:
        return len(self.seeds)

    @property
    def t(self) -> int:
        """Steps run since policy year 0 (the end of the spin-up)."""
        first = self.models["policy"][0]
        return first.t - first.t0

    @property
    def done(self) -> bool:
        return self.t >= self.horizon

    @property
    def year(self) -> float:
        return self.t / self.steps_per_year

    def all_models(self) -> list[ClusterModel]:
        return [m for ms in self.models.values() for m in ms]

    def set_horizon(self, steps: int) -> None:
        """Run to ``steps`` (not below the step reached: that needs a restart)."""
        steps = int(steps)
        if steps < self.t:
            raise ValueError(f"already at step {self.t}, past a horizon of {steps} steps")
        self.horizon = steps

    # --- the model on the map ------------------------------------------------------------------
    # Each run's first seed is looked at firm by firm every step (~3 ms a model), so the map can
    # switch between policy and baseline without losing "innovated in the last year", and large
    # firms closing are spotted in both (:attr:`closures`, by run).
    def set_watch(self, run: str, index: int = 0) -> None:
        """Show ``run``'s model of seed ``index`` on the map (only index 0 keeps a history)."""
        run = run if run in self.models else "policy"
        index = min(max(int(index), 0), self.n_seeds - 1)
        self.watch = (run, index)
        if (run, index) not in self._views:
            self._views[(run, index)] = deque([model_view.firm_view(self.watched)],
                                              maxlen=self.steps_per_year + 1)

    @property
    def watched(self) -> ClusterModel:
        run, index = self.watch
        return self.models[run][index]

    def firm_view(self) -> model_view.FirmView:
        return self._views[self.watch][-1]

    def innovated_last_year(self) -> np.ndarray:
        """Per firm of :meth:`firm_view`: innovated in the last year (or since the view began)."""
        views = self._views[self.watch]
        now, then = views[-1], views[0]
        if len(then.uid) == 0:
            return now.innovations > 0
        order = np.argsort(then.uid)
        sorted_uid = then.uid[order]
        pos = np.clip(np.searchsorted(sorted_uid, now.uid), 0, len(sorted_uid) - 1)
        before = np.where(sorted_uid[pos] == now.uid, then.innovations[order][pos], 0.0)
        return now.innovations > before

    def _look(self) -> None:
        for (run, index), views in self._views.items():
            view = model_view.firm_view(self.models[run][index])
            prev = views[-1]
            large = prev.employees >= model_view.LARGE_FIRM
            gone = large & ~np.isin(prev.uid, view.uid)
            for i in np.flatnonzero(gone):
                self.closures.append(Closure(view.t, int(prev.uid[i]), float(prev.employees[i]),
                                             str(prev.region[i]), str(prev.sector[i]), run))
            views.append(view)

    # --- running -------------------------------------------------------------------------------
    def step(self) -> bool:
        """Advance every model by one step; False (and nothing done) at the horizon."""
        if self.done:
            return False
        for run, models in self.models.items():
            for m in models:
                m.step()
            self.tracks[run].append(models)
        t = self.t
        if any(m.t - m.t0 != t for m in self.all_models()):  # pragma: no cover - a model bug
            raise RuntimeError("the runs fell out of step")
        self._look()
        self._observe_levers(t - 1)  # a year opened in this step: the levers acted in it
        return True

    def switch_levers(self, policy: Scenario) -> list[LeverMark]:
        """Apply ``policy``'s levers to every policy model from the current step on (levers that
        start run from the current policy year; the past stays as it was), the baseline untouched.
        Returns the marks of what started, ended or changed now.

        A lever the scenario plans for a later year stays planned when ``policy`` has it
        unchanged; switching it off or changing it before it starts cannot be said from the
        current year (``ClusterModel.switch_levers`` would start it now) and raises
        :class:`LeverTimingError` before any model is touched.
        """
        levers = self._switchable(policy)
        first = self.models["policy"][0]
        running, t, spy = _running(first), self.t, self.steps_per_year
        for model in self.models["policy"]:
            model.switch_levers(levers)
        self.scenarios["policy"] = policy
        self._show_direct(policy)
        timed = first.cluster_scenario.levers
        before = len(self.marks)
        # told at once, where the change takes effect: now, or (a lever switched off in the
        # year it started runs to that year's end) at its end year
        for lid, old in running.items():
            if lid not in policy.levers:
                end = timed[lid].end_year
                self._mark(max(t, (end or 0) * spy), lid, "end", "switch")
                self._told_end.add(lid)
            elif (words := _change_words(old, timed[lid])):
                self._mark(t, lid, "change", "switch", words)
        for lid in levers:
            if lid not in running:
                self._mark(max(t, timed[lid].start_year * spy), lid, "start", "switch")
                self._told_start.add(lid)
        self._observe_levers(t)  # what took effect at once is told already
        return self.marks[before:]

    def _show_direct(self, policy: Scenario) -> None:
        """The direct outcomes of levers switched on mid-run join the tiles (their past filled
        in); those of levers switched off stay (the effect so far)."""
        known = {m.key for m in self.direct}
        new = [m for m in lever_measures(policy) if m.key not in known]
        if not new:
            return
        for run, track in self.tracks.items():
            for m in new:
                track.add(m.series, self.models[run])
        order = {lever.outcome: k for k, lever in enumerate(policies.LEVERS)}
        self.direct = sorted([*self.direct, *new], key=lambda m: order.get(m.series, 0))

    def _switchable(self, policy: Scenario) -> dict:
        """``policy``'s levers as ``ClusterModel.switch_levers`` takes them (see
        :meth:`switch_levers`)."""
        model = self.models["policy"][0]
        configured = model.cluster_scenario.levers
        running = _running(model)
        year = max(model.policy_year, 0)
        out = {}
        for lid, s in policy.levers.items():
            old = configured.get(lid)
            if lid in running or old is None:
                out[lid] = s
            elif old == s:
                continue  # planned for later, or ended: stays as it is
            elif old.start_year > year:
                raise LeverTimingError(f"{policies.BY_ID[lid].name} is planned for year "
                                       f"{old.start_year} and cannot be changed before it starts")
            else:
                out[lid] = s  # an ended lever switched on again: from now on
        for lid, old in configured.items():
            if lid not in policy.levers and lid not in running and old.start_year > year:
                raise LeverTimingError(f"{policies.BY_ID[lid].name} is planned for year "
                                       f"{old.start_year} and cannot be switched off before it "
                                       "starts")
        return out

    def _observe_levers(self, step: int) -> None:
        """Record the levers that started or ended in the policy run since the last look, as
        the scenario plans them (what a switch told already is not told again when it takes
        effect)."""
        now = _running(self.models["policy"][0])
        for lid in self._running:
            if lid not in now and not self._told(self._told_end, lid):
                self._mark(step, lid, "end", "scenario")
        for lid in now:
            if lid not in self._running and not self._told(self._told_start, lid):
                self._mark(step, lid, "start", "scenario")
        self._running = now

    @staticmethod
    def _told(told: set[str], lid: str) -> bool:
        if lid in told:
            told.discard(lid)
            return True
        return False

    def _mark(self, step: int, lid: str, kind: str, how: str, detail: str = "") -> None:
        if step <= 0 and how == "scenario":
            return  # year 0 opening: the scenario's levers are on from the start, no mark
        lever = policies.BY_ID.get(lid)
        self.marks.append(LeverMark(max(step, 0), lid, lever.name if lever else lid, kind, how,
                                    detail))

    @property
    def timed_policy(self) -> Scenario:
        """The policy scenario as it runs, with each lever's years (switches included)."""
        return self.models["policy"][0].cluster_scenario

    # --- what the page shows -------------------------------------------------------------------
    def measures(self) -> list[Measure]:
        return [*HEADLINES, COST, *self.direct]

    def outcome(self, m: Measure) -> Outcome:
        pol = m.values(self.tracks["policy"])[-1]
        ref = diff = None
        if self.compare:
            r = m.values(self.tracks["reference"])[-1]
            ref, diff = estimate(r), estimate(pol - r)
        return Outcome(m.key, m.label, m.unit, m.better, estimate(pol), ref, diff, m.note)

    def outcomes(self) -> list[Outcome]:
        """The tiles now: the headline numbers, the levers' spending, their direct outcomes."""
        return [self.outcome(m) for m in self.measures()]

    def bands(self, m: Measure) -> dict[str, Band]:
        """Chart lines of one measure: "policy", "reference" (level charts, ``chart_how``) and
        "difference" (policy − baseline paired by seed, ``how``, the tile's quantity)."""
        years = self.tracks["policy"].years()
        out = {}
        for run, track in self.tracks.items():
            out[run] = Band(years, *summarise(m.chart_values(track)))
        if self.compare:
            d = m.values(self.tracks["policy"]) - m.values(self.tracks["reference"])
            out["difference"] = Band(years, *summarise(d))
        return out

    def committed(self, run: str, index: int) -> np.ndarray:
        """Regional cluster budgets committed per step and region in one model: (steps + 1) x regions."""
        rows = self.tracks[run].regional["public_committed"]
        return np.array([r[index] for r in rows])

    def region_names(self) -> list[str]:
        return [r.name for r in self.models["policy"][0].world.regions]

    def data_frame(self):
        """Every tracked value of every model, one row per step, run and seed (for the CSV)."""
        import pandas as pd

        frames = []
        for run, track in self.tracks.items():
            n = len(track)
            for k, seed in enumerate(self.seeds):
                cols = {"step": np.arange(n), "year": track.years(), "run": RUN_NAMES[run],
                        "seed": seed}
                for name in track.names:
                    cols[name] = track.matrix(name)[:, k]
                frames.append(pd.DataFrame(cols))
        return pd.concat(frames, ignore_index=True)
