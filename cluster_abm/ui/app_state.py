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
:class:`Frame` (step counter, pictures, headline numbers) at most every
:data:`FRAME_INTERVAL` seconds — less often when the machine cannot keep the speed — so drawing
does not limit how fast the model runs.
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
from cluster_abm.specs.scenario import Scenario, load_scenario
from cluster_abm.ui.charts import ChartPlot, MapPlot
from cluster_abm.ui.controls import LeverChoice, Settings, build_run_scenarios, check_seed, explain
from cluster_abm.ui.runs import Outcome, RunPair

log = logging.getLogger(__name__)

SPEEDS = ("1", "2", "4", "8", "16", "max")  # steps per second ("max": as fast as it goes)
DEFAULT_SPEED = "8"
FRAME_INTERVAL = 0.25  # s between pictures while playing (<= 4 frames/s)...
MAX_FRAME_INTERVAL = 1.0  # ...or up to this when the machine cannot keep the chosen speed
MAP_WIDTH_PX = 600
CHART_SIZE_PX = (600, 480)


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

    @property
    def year(self) -> float:
        return self.step / self.steps_per_year

    @property
    def done(self) -> bool:
        return self.step >= self.horizon


class AppState:
    """One session's state. ``settings`` defaults to the baseline scenario, seed 1, one run."""

    def __init__(self, settings: Settings | None = None, *, build: bool = True):
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
        self.frame: solara.Reactive[Frame | None] = solara.reactive(None)
        self.pair: RunPair | None = None
        self._base: tuple[str, Scenario] | None = None
        self._map: MapPlot | None = None
        self._map_key: tuple | None = None
        self._charts: ChartPlot | None = None
        self._chart_key: tuple | None = None
        self._serial = 0
        self._thread: threading.Thread | None = None
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
        self.error.set(explain(exc))

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
        base = load_scenario(ref)
        self._base = (ref, base)
        return base

    def _apply(self, settings: Settings, fresh: bool = False) -> None:
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
            policy, reference = build_run_scenarios(settings, base)
        except Exception:
            self.invalid.set(True)
            raise
        pair = RunPair(policy, reference, seed)
        with self.lock:
            self.pair = pair
            if not settings.compare:
                self.map_run.set("policy")
            self.invalid.set(False)
            self.error.set(None)
            self._publish()

    def apply(self, settings: Settings, fresh: bool = False) -> bool:
        """Build new runs from ``settings`` (shown in the controls even if they do not validate).

        ``fresh`` re-reads the scenario file even if it is the one loaded.
        """
        return self._guard(self._apply, settings, fresh)

    def update(self, **changes: Any) -> bool:
        """Change some settings (``scenario``, ``seed``, ``compare``, ...) and rebuild the runs."""
        return self.apply(dataclasses.replace(self.settings.value, **changes))

    def set_lever(self, lid: str, choice: LeverChoice | None) -> bool:
        """The user's setting of one lever (None: back to the scenario's own)."""
        levers = dict(self.settings.value.levers)
        if choice is None:
            levers.pop(lid, None)
        else:
            levers[lid] = choice
        return self.update(levers=levers)

    def set_param(self, name: str, value: Any) -> bool:
        params = dict(self.settings.value.params)
        params[name] = value
        return self.update(params=params)

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

    def _step(self) -> None:
        with self.lock:
            if self.pair.step():
                self._publish()

    def step(self) -> bool:
        """One step of every run (the button). With invalid settings it does nothing: the
        button is disabled and the banner already says what to fix."""
        self.pause()
        if self.pair is None or self.invalid.value:
            return False
        return self._guard(self._step)

    def play(self) -> None:
        """Play from here; at the horizon, play the run again from year 0."""
        if self.closed or self.pair is None or self.invalid.value:
            return
        if self.pair.done and not self.reset():
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
        :data:`FRAME_INTERVAL` once it keeps up again.
        """
        next_due = time.monotonic()
        last_frame = 0.0
        interval = FRAME_INTERVAL
        dirty = False
        while not stop.is_set():
            with self.lock:
                pair = self.pair
                if pair is None or pair.done:
                    break
                pair.step()
                dirty = True
                now = time.monotonic()
                if now - last_frame >= interval or pair.done:
                    self._publish()
                    last_frame, dirty = time.monotonic(), False
            speed = self.speed.value
            if speed == "max":
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

    # --- pictures -----------------------------------------------------------------------------
    def set_show_ties(self, value: bool) -> None:
        self.show_ties.set(bool(value))
        self._guard(self.redraw)

    def set_map_run(self, run: str) -> None:
        self.map_run.set(run if run in ("policy", "reference") else "policy")
        self._guard(self.redraw)

    def set_speed(self, speed: str) -> None:
        self.speed.set(speed if speed in SPEEDS else DEFAULT_SPEED)

    def redraw(self) -> None:
        with self.lock:
            if self.pair is not None:
                self._publish()

    def _publish(self) -> None:
        """Draw the current state and hand it to the page (caller holds the lock)."""
        pair = self.pair
        run = self.map_run.value if pair.compare else "policy"
        model = pair.reference if run == "reference" and pair.compare else pair.policy
        # figures are kept across rebuilds while their background still fits: the same
        # regions for the map; the same scenario, horizon and runs for the charts (switching a
        # lever then costs no full redraw, and the y-ranges stay put so runs compare by eye)
        map_key = MapPlot.layout_key(model.world)
        if self._map is None or self._map_key != map_key:
            self._map, self._map_key = MapPlot(model.world, width_px=MAP_WIDTH_PX), map_key
        runs = ("policy", "reference") if pair.compare else ("policy",)
        chart_key = (self.settings.value.scenario, runs, pair.horizon, pair.steps_per_year)
        if self._charts is None or self._chart_key != chart_key:
            w, h = CHART_SIZE_PX
            self._charts = ChartPlot(pair.horizon / pair.steps_per_year, runs, w, h)
            self._chart_key = chart_key
        map_image = self._map.render(model, show_ties=self.show_ties.value)
        charts_image = self._charts.render(pair.tracks)
        self._serial += 1
        frame = Frame(self._serial, pair.t, pair.horizon, pair.steps_per_year, pair.compare, run,
                      map_image, charts_image, tuple(pair.outcomes()))
        with self.render_context or contextlib.nullcontext():  # one render for all subscribers
            self.frame.set(frame)

    def close(self) -> None:
        """The session ended: stop playing and drop the models."""
        self.closed = True
        self.pause(wait=True)
        with self.lock:
            self.pair = None
            self._map = self._charts = None
