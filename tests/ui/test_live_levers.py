"""Levers switched while the workshop app's runs go on, and warm starts (issue 19), without a
browser: when a lever starts or ends in the policy run (:attr:`RunSet.marks`), the markers the
charts draw for it, the narrative's "lever started / ended", the saved set-up keeping the years,
the scenario's own lever years kept by the app, and the app's models starting from the model's
spin-up cache (``python -m cluster_abm.ui.warm`` fills it). ``test_app.py`` checks the same in
Chromium: a lever switched on at year 5 changes nothing before year 5, and its marker is drawn.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import numpy as np
import pytest

from cluster_abm.model import snapshot
from cluster_abm.policy.lever_state import ALL
from cluster_abm.policy.levers import LeverSetting
from cluster_abm.specs.scenario import load_scenario
from cluster_abm.ui.controls import LeverChoice, Settings, build_run_scenarios, effective_levers
from cluster_abm.ui.runs import LeverTimingError, RunSet

# A small world, and a lever budget large enough that a model firm's contract (its cost times the
# hundreds of real firms it stands for) is paid when founded, not by a lottery on a budget
# smaller than one model contract (as tests/test_levers.py's STRONG_BUDGET).
SMALL = {"sim.n_firms": 300, "policy.lever_budget": 150_000.0}
CONTRACTS = "network_contracts"


@pytest.fixture(scope="module")
def small():
    return load_scenario("baseline").with_params(SMALL)


def _on(scenario, **levers):
    return scenario.with_levers({lid: LeverSetting(lid, **kw) for lid, kw in levers.items()})


def test_a_switched_lever_is_marked_when_it_starts_and_ends(small):
    from cluster_abm.ui.narrative import Narrator

    runs = RunSet(small, small, seeds=[1, 2], horizon=16)
    narrator = Narrator(runs)
    for _ in range(9):  # to year 2¼
        runs.step()
    assert runs.marks == []
    (mark,) = runs.switch_levers(_on(small, network_contracts={"intensity": 2.0}))
    assert (mark.step, mark.lever, mark.kind, mark.how) == (9, CONTRACTS, "start", "switch")
    assert mark.name == "Business network contracts"
    # its direct outcome joins the tiles, its past (the baseline's, to the bit) filled in
    (direct,) = runs.direct
    assert direct.series == "firms_in_contracts" and direct.note == "Business network contracts"
    past = runs.tracks["policy"].matrix("firms_in_contracts")
    assert past.shape == (10, 2)
    assert np.array_equal(past, runs.tracks["reference"].matrix("firms_in_contracts"))
    assert "firms_in_contracts" in [o.key for o in runs.outcomes()]
    (event,) = [e for e in narrator.look() if e.kind == "lever"]
    assert event.text == ("Year 2¼: Business network contracts started in the policy run "
                          "(switched on now; the baseline runs without it).")
    runs.step()
    (change,) = runs.switch_levers(_on(small, network_contracts={"intensity": 1.0}))
    assert (change.kind, change.detail) == ("change", "intensity 2 → 1")
    for _ in range(3):
        runs.step()
    (end,) = runs.switch_levers(small.with_levers({}))
    assert (end.step, end.kind, end.how) == (13, "end", "switch")
    assert [e.text for e in narrator.look() if e.kind == "lever"][-1] == (
        "Year 3¼: Business network contracts ended in the policy run (switched off).")
    while runs.step():
        pass
    assert len(runs.marks) == 3  # nothing more: the lever stays off
    # the policy runs were the baseline to the bit up to the switch, and the lever acted after
    spent_on = 0.0
    for pol, ref in zip(runs.models["policy"], runs.models["reference"], strict=True):
        p, r = pol.series_wide(), ref.series_wide()
        for name in p:
            assert np.array_equal(p[name][:10], r[name][:10], equal_nan=True), name
        assert p["public_cost"][14:, -1].sum() == 0
        spent_on += p["public_cost"][10:14, -1].sum()
    # A contract is paid when one is founded: in a 300-firm world a seed may found none in a
    # year, so the spending is checked over the two seeds (when it stops is checked per seed).
    assert spent_on > 0


def test_a_switch_is_told_at_once_and_marked_where_it_takes_effect(small):
    """At a year's end (year 2 reached) a lever switched on acts from the next step: told and
    marked at once, at year 2, not again when it starts. Switched off in the year it started,
    it runs to that year's end (its budget year): marked there."""
    runs = RunSet(small, small, seeds=[1], horizon=16)
    for _ in range(8):
        runs.step()
    (start,) = runs.switch_levers(_on(small, network_contracts={}))
    assert (start.step, start.kind, start.how) == (8, "start", "switch")
    policy = runs.models["policy"][0]
    acting = []  # per step taken (9, 10, ...): whether the policy run had the lever on in it
    for _ in range(2):
        runs.step()
        acting.append(policy.policy.on(CONTRACTS))
    (end,) = runs.switch_levers(small.with_levers({}))  # at year 2½, in the year it started
    assert (end.step, end.kind, end.how) == (12, "end", "switch")
    while runs.step():
        acting.append(policy.policy.on(CONTRACTS))
    assert len(runs.marks) == 2  # told once each
    # the lever acts in steps 9-12 (the rest of its budget year), not after
    assert acting[:4] == [True] * 4 and not any(acting[4:8])
    p = policy.series_wide()
    assert p["public_cost"][13:, -1].sum() == 0


def test_a_scenarios_lever_years_are_marked_as_planned(small):
    from cluster_abm.ui.narrative import Narrator

    planned = _on(small, network_contracts={"start_year": 1, "end_year": 2})
    runs = RunSet(planned, small, seeds=[1], horizon=12)
    narrator = Narrator(runs)
    events, acting = [], []
    while runs.step():
        events += [e.text for e in narrator.look() if e.kind == "lever"]
        acting.append(runs.models["policy"][0].policy.level(CONTRACTS, regions=ALL).max() > 0)
    assert [(m.step, m.kind, m.how) for m in runs.marks] == [(4, "start", "scenario"),
                                                              (8, "end", "scenario")]
    assert events == [
        "Year 1: Business network contracts started in the policy run (as the scenario plans).",
        "Year 2: Business network contracts ended in the policy run (as the scenario plans)."]
    # and the policy run is the baseline up to year 1, to the bit
    p, r = runs.models["policy"][0].series_wide(), runs.models["reference"][0].series_wide()
    assert np.array_equal(p["public_cost"][:5], r["public_cost"][:5])
    # it acts in the steps of year 2 (5-8) only: whether a 300-firm world founds a contract in
    # them is the model's luck, so the lever's reach is checked, not its spending
    assert acting == [False] * 4 + [True] * 4 + [False] * 4
    assert p["public_cost"][9:, -1].sum() == 0


def test_levers_on_from_year_0_are_no_marks(small):
    runs = RunSet(_on(small, network_contracts={}), small, seeds=[1], horizon=6)
    while runs.step():
        pass
    assert runs.marks == []


def test_a_planned_lever_cannot_be_cancelled_mid_run_but_stays_planned_untouched(small):
    planned = _on(small, network_contracts={"start_year": 3}, incubators={})
    runs = RunSet(planned, small, seeds=[1], horizon=20)
    for _ in range(5):
        runs.step()
    with pytest.raises(LeverTimingError, match="Business network contracts is planned for year 3"):
        runs.switch_levers(_on(small, incubators={}))  # switched off before it starts
    assert runs.marks == []
    # switching another lever leaves the planned one planned (it does not start now)
    runs.switch_levers(planned.with_levers({CONTRACTS: planned.levers[CONTRACTS]}))
    assert [(m.lever, m.kind, m.step) for m in runs.marks] == [("incubators", "end", 5)]
    while runs.t < 13:
        runs.step()
    assert [(m.lever, m.kind, m.step) for m in runs.marks][-1] == (CONTRACTS, "start", 12)


def test_the_app_keeps_a_scenarios_lever_years(small):
    planned = _on(small, network_contracts={"start_year": 2, "end_year": 5})
    levers = effective_levers(planned, {})
    assert (levers[CONTRACTS].start_year, levers[CONTRACTS].end_year) == (2, 5)
    choice = LeverChoice.from_setting(planned.levers[CONTRACTS])
    levers = effective_levers(planned, {CONTRACTS: dataclasses.replace(choice, intensity=2.0)})
    assert (levers[CONTRACTS].intensity, levers[CONTRACTS].start_year) == (2.0, 2)


def test_the_app_state_marks_charts_and_saves_the_years(tmp_path):
    from PIL import Image

    from cluster_abm.ui.app_state import AppState
    from cluster_abm.ui.charts import MARK_COLOUR

    settings = Settings(params={"sim.years": 3, **SMALL}, seeds=1)
    state = AppState(settings)
    for _ in range(4):
        state.step()
    assert state.set_lever(CONTRACTS, LeverChoice())
    state.step()
    frame = state.frame.value
    assert frame.marks == ((1, "year 1: Business network contracts on"),)
    # the lever's event (other events, such as a funding freeze, may come before it)
    assert [e.kind for e in frame.events].count("lever") == 1
    # the exported charts carry the marker and its legend beneath
    png = state.charts_png()
    path = tmp_path / "charts.png"
    path.write_bytes(png)
    img = np.asarray(Image.open(path).convert("RGB")).astype(int)
    olive = np.array([int(MARK_COLOUR[i:i + 2], 16) for i in (1, 3, 5)])
    near = (np.abs(img - olive) <= 12).all(axis=2)
    assert img.shape[0] > 560 and near[:560].sum() > 300 and near[560:].sum() > 20
    text = state.scenario_toml()
    assert "start_year = 1" in text and "#   year 1: Business network contracts on" in text
    saved = tmp_path / "setup.toml"
    saved.write_text(text)
    out = subprocess.run([sys.executable, "-m", "cluster_abm.cli.main", "scenario", "check",
                          str(saved)], capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert load_scenario(str(saved)).levers[CONTRACTS].start_year == 1
    state.close()


def test_chart_markers_are_drawn_at_their_year_on_every_chart():
    from cluster_abm.ui.app_state import CHART_SIZE_PX, CHART_SPECS
    from cluster_abm.ui.charts import MARK_COLOUR, ChartMark, ChartPlot, encode_image

    charts = ChartPlot(20, CHART_SPECS, True, *CHART_SIZE_PX)

    def olive_columns():
        canvas = charts.draw({})
        img = np.asarray(canvas.buffer_rgba())[..., :3].astype(int)
        olive = np.array([int(MARK_COLOUR[i:i + 2], 16) for i in (1, 3, 5)])
        return np.flatnonzero(((np.abs(img - olive) <= 8).all(axis=2)).sum(axis=0) > 60)

    assert olive_columns().size == 0
    charts.set_marks([ChartMark(5.0, "Business network contracts on")])
    cols = olive_columns()
    expected = [ax.transData.transform((5.0, 0.0))[0] for (key, row), ax in charts.axes.items()
                if row == "level"]
    assert len(expected) == 4
    for x in expected:  # one line per column of charts, at year 5
        assert np.min(np.abs(cols - x)) <= 2, (x, cols)
    assert charts.legend() == [(1, "year 5: Business network contracts on")]
    assert encode_image(charts.draw({}), "png")[:4] == b"\x89PNG"


def test_the_app_starts_from_the_spinup_cache(tmp_path, monkeypatch):
    """The app's models restore their spun-up worlds from the model's cache (the default one,
    from the environment here), and ``python -m cluster_abm.ui.warm`` fills it ahead of time."""
    from cluster_abm.ui import warm
    from cluster_abm.ui.app_state import AppState

    small = {"sim.n_firms": 200, "sim.spinup_years": 2}
    settings = Settings(params={"sim.years": 1, **small}, seeds=4)
    policy, _ = build_run_scenarios(settings)
    monkeypatch.setenv("CLUSTER_ABM_SPINUP_CACHE", str(tmp_path))
    assert warm.missing(policy, [1, 2, 3, 4]) == [1, 2, 3, 4]
    assert warm.prepare(policy, [1, 2], jobs=2) == [1, 2]  # two worker processes
    assert warm.missing(policy, [1, 2, 3, 4]) == [3, 4]
    before = {p: p.stat().st_mtime_ns for p in tmp_path.iterdir()}
    state = AppState(settings)  # seeds 3, 4 spun up here and saved; 1, 2 restored
    assert warm.missing(policy, [1, 2, 3, 4]) == []
    assert all(p.stat().st_mtime_ns == t for p, t in before.items())
    key = snapshot.spinup_key(state.runs.models["policy"][0].cluster_scenario, 1)
    assert snapshot.snapshot_paths(tmp_path / key)[0].is_file()
    # warm starts are the cold start to the bit
    cold = RunSet(policy, None, [1, 2], horizon=2, spinup_cache=None)
    for _ in range(2):
        state.step()
        cold.step()
    for name in ("employment", "firms", "innovations"):
        assert np.array_equal(state.runs.tracks["policy"].matrix(name)[:, :2],
                              cold.tracks["policy"].matrix(name)), name
    state.close()
    # the command line: nothing to do for a warm cache, one line either way
    monkeypatch.setenv("CLUSTER_ABM_SPINUP_CACHE", "off")
    assert warm.missing(policy, [1]) == [] and warm.prepare(policy, [1, 2]) == []


def test_cluster_abm_ui_says_when_the_default_worlds_are_cold(tmp_path, monkeypatch, capsys):
    """``cluster-abm ui`` says, once the server answers, that the first page will spin up the
    default worlds (and how to prepare them); nothing when they are ready."""
    import socket

    from cluster_abm.ui import warm

    monkeypatch.setenv("CLUSTER_ABM_SPINUP_CACHE", str(tmp_path))
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        warm.note_when_serving("127.0.0.1", server.getsockname()[1]).join(timeout=30)
    err = capsys.readouterr().err
    assert err.startswith("note: 8 of the app's 8 default worlds are not spun up yet")
    assert "python -m cluster_abm.ui.warm" in err and err[-1] == "\n" and err.count("\n") == 1
    monkeypatch.setattr(warm, "missing", lambda *a, **k: [])
    assert warm.cold_note() is None


def test_a_parameter_changed_mid_run_restarts_and_says_so():
    from cluster_abm.ui.app_state import AppState

    state = AppState(Settings(params={"sim.years": 1, **SMALL}, seeds=1))
    state.step()
    assert state.set_param("policy.qh_rate", 0.05)
    frame = state.frame.value
    assert frame.step == 0
    assert frame.events[0].text == "A parameter changed at year ¼: the runs restarted at year 0."
    state.close()


def test_a_small_effect_of_a_large_total_keeps_its_decimals():
    """Innovations so far: 199 in both runs, the effect −0.125 (interval −0.4 to +0.15) is shown
    as such, not as "±0" with an interval "±0 to ±0"."""
    import ipyvuetify as v
    import solara
    from solara.widgets.widgets import HTML

    from cluster_abm.ui.app import Tile
    from cluster_abm.ui.app_state import Frame
    from cluster_abm.ui.intervals import Estimate
    from cluster_abm.ui.runs import Outcome

    o = Outcome("innovations", "Innovations so far", "innovations", "higher",
                Estimate(199.0, 190.0, 208.0, 8), Estimate(199.125, 190.0, 208.0, 8),
                Estimate(-0.125, -0.4, 0.15, 8))
    frame = Frame(1, 8, 80, 4, True, "policy", b"", b"", (o,), 8)
    _, rc = solara.render(Tile(o, frame), handle_error=False)
    value = [w.unsafe_innerHTML for w in rc.find(HTML).widgets]
    (ci,) = ["".join(map(str, w.children)) for w in rc.find(v.Html, class_="cpl-tile-ci").widgets]
    assert ">−0.125<" in value[0], value
    assert ci == "95 % interval −0.400 to +0.150", ci
    rc.close()
