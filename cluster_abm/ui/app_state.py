"""What one browser session of the workshop app owns: settings, runs, pictures, the player.

Solara builds one :class:`AppState` per session (``solara.use_memo`` in the page component), so
every browser tab has its own models; nothing here is module-level state. The Solara reactive
variables it holds are what the components read; the models, figures and the play thread are
plain attributes guarded by one lock, because the play thread and the user's clicks (Solara
handler threads) touch them concurrently.

Every user action goes through a method that catches exceptions and puts a one-line
explanation (:func:`~cluster_abm.ui.controls.explain`) in :attr:`AppState.error`, which the page
shows as a banner: no combination of controls ends in a traceback on screen. Settings that do
not validate (say, a lever targeting a region the picked scenario lacks) leave the last valid
run on screen, disable Play and Step, and say what to change.

Playing is a daemon thread stepping the runs at the chosen speed and publishing a new
:class:`Frame` (step counter, pictures, headline numbers, narrative) at most every
:data:`FRAME_INTERVAL` seconds — less often when the machine cannot keep the speed — so drawing
does not limit how fast the model runs. It stops by itself at the horizon and at the year the
trainer chose to pause at.

The runs are an ensemble (:class:`~cluster_abm.ui.runs.RunSet`): the policy and its baseline over
``Settings.seeds`` common seeds. A lever change goes through :meth:`AppState.set_lever`: once
the runs have started it applies from the current year (``RunSet.switch_levers``; the past stays
as it was), is marked on every chart (a vertical line and a numbered badge, explained under the
charts) and told in the narrative; before the first step the runs are simply rebuilt. Only a
change the model cannot say from the current year (a lever the scenario plans for later,
switched off before it starts) restarts the runs at year 0, and the narrative says so.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

import solara

from cluster_abm.errors import InputError
from cluster_abm.model.cluster_model import DEFAULT_CACHE
from cluster_abm.specs.scenario import Scenario, load_scenario
from cluster_abm.ui import model_view
from cluster_abm.ui.charts import MAX_TIES_DRAWN, ChartMark, ChartPlot, ChartSpec, MapPlot
from cluster_abm.ui.controls import (
    SEED_CHOICES,
    LeverChoice,
    Settings,
    build_run_scenarios,
    check_seed,
    explain,
    picked_scenario,
)
from cluster_abm.ui.exports import setup_toml
from cluster_abm.ui.narrative import MAX_EVENTS, Event, Narrator, year_text
from cluster_abm.ui.runs import HEADLINES, LeverMark, LeverTimingError, Outcome, RunSet
from cluster_abm.ui.wording import Names

log = logging.getLogger(__name__)

SPEEDS = ("1", "2", "4", "8", "16", "max")  # steps per second ("max": as fast as it goes)
DEFAULT_SPEED = "4"  # one simulated year a second: a 20-year run takes 20 s
FRAME_INTERVAL = 0.25  # s between pictures while playing (<= 4 frames/s)...
MAX_FRAME_INTERVAL = 1.0  # ...or up to this when the machine cannot keep the chosen speed
MAX_SPEED_FRAME_INTERVAL = 0.3  # at speed "max": stepping first, the page refreshed twice a second
HORIZONS = (5, 10, 15, 20, 25, 30)  # years the horizon control offers (plus the scenario's)
MAP_WIDTH_PX = 560  # pictures made for a 1600x1000 screen with the lever panel hidden
CHART_SIZE_PX = (1000, 560)  # policy vs baseline: levels and effects
CHART_SINGLE_SIZE_PX = (1000, 330)  # the policy alone: levels only
CHART_SPECS = tuple(
    ChartSpec(m.key, m.chart, m.chart_unit,
              m.unit + (" (total)" if m.how == "cumulative" or m.key == "brain_drain" else ""),
              m.key != "employment")
    for m in HEADLINES)


@dataclass(frozen=True)
class Frame:
    """What the page shows of the runs at one moment (immutable; replaced, never edited)."""

    serial: int
    step: int
    horizon: int
    steps_per_year: int
    compare: bool
    map_run: str
    map_image: bytes
    charts_image: bytes
    outcomes: tuple[Outcome, ...]
    n_seeds: int = 1
    events: tuple[Event, ...] = ()  # newest first
    marks: tuple[tuple[int, str], ...] = ()  # the charts' lever badges: (number, what happened)

    @property
    def year(self) -> float:
        return self.step / self.steps_per_year

    @property
    def done(self) -> bool:
        return self.step >= self.horizon


MARK_VERBS = {"start": "on", "end": "off"}


def mark_label(mark: LeverMark) -> str:
    """What a chart's marker legend says of a lever mark: "Business network contracts on"."""
    if mark.kind == "change":
        return f"{mark.name}: {mark.detail or 'changed'}"
    return f"{mark.name} {MARK_VERBS[mark.kind]}"


def mark_words(mark: LeverMark, steps_per_year: int) -> str:
    """A mark for the saved set-up's comments: "year 5¼: Business network contracts on"."""
    return f"{year_text(mark.step, steps_per_year)}: {mark_label(mark)}"


def chart_marks(marks: list[LeverMark], steps_per_year: int) -> list[ChartMark]:
    return [ChartMark(m.step / steps_per_year, mark_label(m), m.kind) for m in marks]


class AppState:
    """One session's state. ``settings`` defaults to the baseline scenario, policy vs baseline
    over 8 seeds."""

    def __init__(self, settings: Settings | None = None, *, build: bool = True,
                 spinup_cache: Any = DEFAULT_CACHE):
        self.lock = threading.RLock()
        self.settings = solara.reactive(settings or Settings())
        self.scenario: solara.Reactive[Scenario | None] = solara.reactive(None)
        self.error: solara.Reactive[str | None] = solara.reactive(None)
        self.invalid = solara.reactive(False)  # settings do not validate: Play/Step disabled
        self.playing = solara.reactive(False)
        self.speed = solara.reactive(DEFAULT_SPEED)
        self.show_ties = solara.reactive(False)
        self.map_run = solara.reactive("policy")  # which run the map shows when comparing
        self.panel_open = solara.reactive(True)
        self.present = solara.reactive(False)  # presentation mode: pictures fill the screen
        self.pause_at: solara.Reactive[int | None] = solara.reactive(None)  # a year, or None
        self.frame: solara.Reactive[Frame | None] = solara.reactive(None)
        self.runs: RunSet | None = None
        self.spinup_cache = spinup_cache  # the runs start from spun-up worlds kept here
        self.narrator: Narrator | None = None
        self.events: list[Event] = []
        self.names = Names()  # display names of every scenario seen (for messages)
        self.policy: Scenario | None = None  # the policy scenario as run
        self._base: tuple[str, Scenario] | None = None
        self._map: MapPlot | None = None
        self._map_key: tuple | None = None
        self._charts: ChartPlot | None = None
        self._chart_key: tuple | None = None
        self._serial = 0
        self._thread: threading.Thread | None = None
        self._names_seen: dict[str, str] = {}
        self._stop = threading.Event()
        self.closed = False
        # the page's reacton render context, if any: a frame changes what two components show
        # (the clock and the pictures), and in one batch that is one render instead of two
        self.render_context = None
        if build:
            self.apply(self.settings.value)

    # --- guarded actions ---------------------------------------------------------------------
    def _fail(self, exc: BaseException) -> None:
        if not isinstance(exc, InputError):
            log.exception("workshop app: unexpected error", exc_info=exc)
        self.error.set(explain(exc, self.names))

    def _guard(self, fn, *args, **kwargs) -> bool:
        """Run an action; on any exception show it in the banner. True if it succeeded."""
        try:
            fn(*args, **kwargs)
        except Exception as exc:  # every callback ends here rather than in a traceback
            self._fail(exc)
            return False
        return True

    def dismiss_error(self) -> None:
        self.error.set(None)

    # --- settings -----------------------------------------------------------------------------
    def _load_base(self, ref: str, fresh: bool) -> Scenario:
        """The scenario file ``ref`` (re-read on Reset or when another is picked)."""
        if not fresh and self._base is not None and self._base[0] == ref:
            return self._base[1]
        self._base = None
        base = load_scenario(picked_scenario(ref))  # only the picker's files
        self._base = (ref, base)
        self.names = Names.of(base, *(() if self.policy is None else (self.policy,)))
        for rid, name in self._names_seen.items():
            self.names.regions.setdefault(rid, name)
        self._names_seen.update(self.names.regions)
        return base

    def _apply(self, settings: Settings, fresh: bool = False, note: str | None = None) -> None:
        self.pause()
        self.settings.set(settings)
        try:
            base = self._load_base(settings.scenario, fresh)
        except Exception:
            self.scenario.set(None)
            self.invalid.set(True)
            raise
        self.scenario.set(base)
        try:
            seed = check_seed(settings.seed)
            if settings.seeds not in SEED_CHOICES:
                raise InputError(f"seeds per run must be one of "
                                 f"{', '.join(map(str, SEED_CHOICES))}, got {settings.seeds!r}")
            check_seed(seed + settings.seeds - 1)
            policy, reference = build_run_scenarios(settings, base)
            horizon = self._horizon_steps(settings, policy)
        except Exception:
            self.invalid.set(True)
            raise
        runs = RunSet(policy, reference, settings.seed_list(), horizon,
                      watch=(self.map_run.value if settings.compare else "policy", 0),
                      spinup_cache=self.spinup_cache)
        with self.lock:
            self.runs = runs
            self.policy = policy
            self.narrator = Narrator(runs)
            self.events = [] if note is None else [Event(0, "app", note)]
            if not settings.compare:
                self.map_run.set("policy")
            self.invalid.set(False)
            self.error.set(None)
            self._publish()

    @staticmethod
    def _horizon_steps(settings: Settings, policy: Scenario) -> int:
        spy = int(policy.param("sim.steps_per_year"))
        years = policy.param("sim.years") if settings.horizon is None else settings.horizon
        if (isinstance(years, bool) or not isinstance(years, int | float)
                or not 0 < years <= 100):
            raise InputError(f"the horizon must be between 0 and 100 years, got {years!r}")
        return int(round(float(years) * spy))

    def apply(self, settings: Settings, fresh: bool = False) -> bool:
        """Build new runs from ``settings`` (shown in the controls even if they do not validate).

        ``fresh`` re-reads the scenario file even if it is the one loaded.
        """
        return self._guard(self._apply, settings, fresh)

    def update(self, **changes: Any) -> bool:
        """Change some settings (``scenario``, ``seed``, ``compare``, ...) and rebuild the runs."""
        return self.apply(dataclasses.replace(self.settings.value, **changes))

    def set_lever(self, lid: str, choice: LeverChoice | None) -> bool:
        """The user's setting of one lever (None: back to the scenario's own).

        Applied from the current year once the runs have started (``ClusterModel.switch_levers``:
        the past stays as it was); before the first step the runs are simply rebuilt.
        """
        levers = dict(self.settings.value.levers)
        if choice is None:
            levers.pop(lid, None)
        else:
            levers[lid] = choice
        return self._guard(self._change_levers, levers)

    def _change_levers(self, levers: dict[str, LeverChoice]) -> None:
        settings = dataclasses.replace(self.settings.value, levers=levers)
        runs = self.runs
        note = None
        if runs is not None and runs.supports_live_levers and runs.t > 0 and not self.invalid.value:
            base = self._load_base(settings.scenario, False)
            policy, _ = build_run_scenarios(settings, base)
            with self.lock:  # between two steps of a playing run
                try:
                    runs.switch_levers(policy)  # from now on; marked on the charts
                except LeverTimingError as exc:
                    note = (f"{exc} ({year_text(runs.t, runs.steps_per_year)}): the runs "
                            "restarted at year 0.")
                else:
                    self.settings.set(settings)
                    self.policy = policy
                    for event in self.narrator.look():  # "lever started", "lever ended"
                        self.events.insert(0, event)
                    self._publish()
                    return
        self._apply(settings, note=note)

    def set_param(self, name: str, value: Any) -> bool:
        """A parameter changed: the runs restart at year 0 (a parameter may shape the world
        itself), and the narrative says so when they had started."""
        params = dict(self.settings.value.params)
        params[name] = value
        runs = self.runs
        note = None if runs is None or runs.t == 0 else (
            f"A parameter changed at {year_text(runs.t, runs.steps_per_year)}: the runs "
            "restarted at year 0.")
        return self._guard(self._apply, dataclasses.replace(self.settings.value, params=params),
                           False, note)

    def clear_choices(self) -> bool:
        """Forget the user's lever and parameter changes: back to the scenario as written."""
        return self.update(levers={}, params={})

    def lever_choice(self, lid: str) -> LeverChoice:
        """What the lever panel shows: the user's choice, else the scenario's, else off."""
        user = self.settings.value.levers.get(lid)
        if user is not None:
            return user
        base = self.scenario.value
        if base is not None and lid in base.levers:
            return LeverChoice.from_setting(base.levers[lid])
        return LeverChoice(on=False)

    def param_value(self, name: str, default: Any) -> Any:
        if name in self.settings.value.params:
            return self.settings.value.params[name]
        base = self.scenario.value
        return default if base is None else base.param(name)

    # --- running ------------------------------------------------------------------------------
    def reset(self) -> bool:
        """Rebuild the runs from the current settings and file (back to year 0, paused)."""
        return self.apply(self.settings.value, fresh=True)

    def _advance(self) -> bool:
        """One step of every run and the narrative's look at it (caller holds the lock)."""
        if not self.runs.step():
            return False
        for event in self.narrator.look():
            self.events.insert(0, event)
        del self.events[MAX_EVENTS:]
        return True

    def _pause_due(self) -> bool:
        at = self.pause_at.value
        return at is not None and self.runs.t == int(round(at * self.runs.steps_per_year))

    def _step(self) -> None:
        with self.lock:
            if self._advance():
                self._publish()

    def step(self) -> bool:
        """One step of every run (the button). With invalid settings it does nothing: the
        button is disabled and the banner already says what to fix."""
        self.pause()
        if self.runs is None or self.invalid.value:
            return False
        return self._guard(self._step)

    def play(self) -> None:
        """Play from here; at the horizon, play the run again from year 0."""
        if self.closed or self.runs is None or self.invalid.value:
            return
        if self.runs.done and not self.reset():
            return
        with self.lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stop = threading.Event()
            self.playing.set(True)
            self._thread = threading.Thread(target=self._play_loop, args=(self._stop,),
                                            name="cluster-abm-player", daemon=True)
            self._thread.start()

    def pause(self, wait: bool = True) -> None:
        self._stop.set()
        thread = self._thread
        if wait and thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5.0)
        self.playing.set(False)

    def toggle_play(self) -> None:
        if self.playing.value:
            self.pause()
        else:
            self.play()

    def _play_loop(self, stop: threading.Event) -> None:
        try:
            self._run_until(stop)
        except Exception as exc:
            self._fail(exc)
        finally:
            if self._thread is threading.current_thread():  # not superseded by a newer Play
                self.playing.set(False)

    def _run_until(self, stop: threading.Event) -> None:
        """Step at the chosen speed; draw at most every ``interval`` seconds.

        Stepping has priority over drawing: when the runs fall behind the chosen speed (a busy
        machine, several sessions on one server), pictures come less often (up to
        :data:`MAX_FRAME_INTERVAL` apart) and the model keeps its pace; they come back to
        :data:`FRAME_INTERVAL` once it keeps up again. At speed "max" the runs are always
        "behind": pictures come every :data:`MAX_SPEED_FRAME_INTERVAL` (a picture costs about
        as much as a step, so at the 4 a second of :data:`FRAME_INTERVAL` "max" stepped slower
        than speed 4; ``benchmarks/PERFORMANCE.md``).
        """
        next_due = time.monotonic()
        last_frame = 0.0
        interval = FRAME_INTERVAL
        dirty = False
        while not stop.is_set():
            with self.lock:
                runs = self.runs
                if runs is None or runs.done:
                    break
                self._advance()
                dirty = True
                paused = self._pause_due()
                if paused:
                    self.events.insert(0, Event(runs.t, "app", f"Paused at {year_text(runs.t, runs.steps_per_year)}, as set."))
                now = time.monotonic()
                if now - last_frame >= interval or runs.done or paused:
                    self._publish()
                    last_frame, dirty = time.monotonic(), False
                if paused:
                    break
            speed = self.speed.value
            if speed == "max":  # as fast as it goes: pictures twice a second, no more
                interval = MAX_SPEED_FRAME_INTERVAL
                stop.wait(0.001)  # let the user's clicks in
                continue
            next_due += 1.0 / float(speed)
            delay = next_due - time.monotonic()
            if delay > 0:
                interval = max(FRAME_INTERVAL, interval / 1.25)
                stop.wait(delay)
            else:
                interval = min(MAX_FRAME_INTERVAL, interval * 1.25)
                if delay < -1.0:  # far behind: do not try to catch up in a burst
                    next_due = time.monotonic()
        if dirty:
            with self.lock:
                self._publish()

    # --- horizon, pause, presentation ------------------------------------------------------------
    def set_horizon(self, years: float | None) -> bool:
        """Run to ``years`` (None: the scenario's). Longer than the year reached: the runs go on
        where they are; shorter: they restart at year 0."""
        return self._guard(self._set_horizon, years)

    def _set_horizon(self, years: float | None) -> None:
        settings = dataclasses.replace(self.settings.value, horizon=years)
        runs = self.runs
        if runs is None or self.invalid.value:
            self._apply(settings)
            return
        steps = self._horizon_steps(settings, self.policy)
        if steps < runs.t:
            self._apply(settings, note=f"The horizon of {years:g} years lies before "
                        f"{year_text(runs.t, runs.steps_per_year)}: the runs restarted at year 0.")
            return
        self.pause(wait=True)
        with self.lock:
            runs.set_horizon(steps)
            self.settings.set(settings)
            self._publish()

    def set_pause_at(self, year: int | None) -> None:
        """Pause by itself on reaching ``year`` (None: only at the horizon)."""
        if year is not None and (isinstance(year, bool) or not isinstance(year, int | float)
                                 or year <= 0):
            self.error.set(f"pause at a year after year 0, got {year!r}")
            return
        self.pause_at.set(None if year is None else int(year))

    def set_present(self, on: bool) -> None:
        """Presentation mode: the lever panel folds away and the pictures fill the screen."""
        self.present.set(bool(on))
        self.panel_open.set(not on)

    # --- pictures -----------------------------------------------------------------------------
    def set_show_ties(self, value: bool) -> None:
        self.show_ties.set(bool(value))
        self._guard(self.redraw)

    def set_map_run(self, run: str) -> None:
        self.map_run.set(run if run in ("policy", "reference") else "policy")
        self._guard(self._watch)

    def _watch(self) -> None:
        with self.lock:
            if self.runs is not None:
                self.runs.set_watch(self.map_run.value if self.runs.compare else "policy", 0)
                self._publish()

    def set_speed(self, speed: str) -> None:
        self.speed.set(speed if speed in SPEEDS else DEFAULT_SPEED)

    def redraw(self) -> None:
        with self.lock:
            if self.runs is not None:
                self._publish()

    def _pictures(self, fmt: str = "jpeg") -> tuple[bytes, bytes]:
        """The map and the charts now (caller holds the lock)."""
        runs = self.runs
        model = runs.watched
        # figures are kept across rebuilds while their background still fits: the same
        # regions for the map; the same horizon and runs for the charts (switching a lever then
        # costs no full redraw, and the y-ranges stay put so runs compare by eye)
        map_key = MapPlot.layout_key(model.world)
        if self._map is None or self._map_key != map_key:
            self._map, self._map_key = MapPlot(model.world, width_px=MAP_WIDTH_PX), map_key
        chart_key = (self.settings.value.scenario, runs.compare, runs.horizon, runs.steps_per_year,
                     runs.n_seeds)
        if self._charts is None or self._chart_key != chart_key:
            w, h = CHART_SIZE_PX if runs.compare else CHART_SINGLE_SIZE_PX
            self._charts = ChartPlot(runs.horizon / runs.steps_per_year, CHART_SPECS,
                                     runs.compare, w, h)
            self._chart_key = chart_key
        self._charts.set_marks(chart_marks(runs.marks, runs.steps_per_year))
        ties = model_view.tie_segments(model, MAX_TIES_DRAWN) if self.show_ties.value else None
        map_image = self._map.render(runs.firm_view(), runs.innovated_last_year(),
                                     model_view.static_sites(model), ties, fmt=fmt)
        bands = {m.key: runs.bands(m) for m in HEADLINES}
        charts_image = (self._charts.render_export(bands) if fmt == "png" else
                        self._charts.render(bands, fmt=fmt))
        return map_image, charts_image

    def _publish(self) -> None:
        """Draw the current state and hand it to the page (caller holds the lock)."""
        runs = self.runs
        map_image, charts_image = self._pictures()
        self._serial += 1
        frame = Frame(self._serial, runs.t, runs.horizon, runs.steps_per_year, runs.compare,
                      runs.watch[0], map_image, charts_image, tuple(runs.outcomes()),
                      runs.n_seeds, tuple(self.events), tuple(self._charts.legend()))
        with self.render_context or contextlib.nullcontext():  # one render for all subscribers
            self.frame.set(frame)

    # --- exports --------------------------------------------------------------------------------
    def charts_png(self) -> bytes:
        """The charts now, as PNG."""
        with self.lock:
            return self._pictures(fmt="png")[1]

    def map_png(self) -> bytes:
        with self.lock:
            return self._pictures(fmt="png")[0]

    def data_csv(self) -> str:
        """Every tracked series of every run and seed, step by step (CSV text)."""
        with self.lock:
            if self.runs is None:
                return ""
            return self.runs.data_frame().to_csv(index=False)

    def scenario_toml(self) -> str:
        """The set-up on screen as a scenario file (TOML text for ``cluster-abm scenario check``)."""
        with self.lock:
            base = self.scenario.value
            if base is None or self.policy is None or self.runs is None:
                return ""
            s = self.settings.value
            runs = self.runs
            return setup_toml(base, runs.timed_policy, dict(s.params),
                              runs.horizon / runs.steps_per_year,
                              history=[mark_words(m, runs.steps_per_year) for m in runs.marks])

    def close(self) -> None:
        """The session ended: stop playing and drop the models."""
        self.closed = True
        self.pause(wait=True)
        with self.lock:
            self.runs = None
            self.narrator = None
            self._map = self._charts = None
