"""Fast tests of the workshop app's non-browser parts: controls generated from the catalogue and
the registry, settings -> validated scenarios, one-line error explanations, the lock-step pair
runner, the pictures, the per-session state and its player, and ``cluster-abm ui``.

The page itself is rendered headless with ``solara.render`` (no server, no browser) where a
test needs to see that a control exists; ``test_app.py`` drives the real thing in Chromium.
"""

from __future__ import annotations

import argparse
import math
import time

import ipyvuetify as v
import numpy as np
import pytest
import solara

from cluster_abm.errors import InputError
from cluster_abm.params import registry as params_mod
from cluster_abm.policy import levers as policies
from cluster_abm.specs.scenario import load_scenario
from cluster_abm.ui import controls
from cluster_abm.ui.controls import (
    LeverChoice,
    Settings,
    build_run_scenarios,
    effective_levers,
    explain,
    lever_controls,
    param_control,
    param_controls,
)
from cluster_abm.ui.runs import RunPair, Track

JPEG = b"\xff\xd8\xff"


@pytest.fixture(scope="module")
def baseline():
    return load_scenario("baseline")


def short(settings: Settings | None = None, **kw) -> Settings:
    """Settings for a 1-year (4-step) run, so a test can play to the end quickly."""
    s = settings or Settings(**kw)
    return Settings(s.scenario, s.seed, s.compare, dict(s.levers), {"sim.years": 1, **s.params})


# --- controls from the catalogue and the registry ---------------------------------------------
def test_lever_controls_mirror_the_catalogue():
    groups = lever_controls()
    assert [g.wg for g in groups] == list(policies.WG_NAMES)
    assert [g.title for g in groups] == list(policies.WG_NAMES.values())
    flat = [lc for g in groups for lc in g.levers]
    assert [lc.id for lc in flat] == [lv.id for lv in policies.LEVERS]
    for lc in flat:
        lever = policies.BY_ID[lc.id]
        assert lc.wg == lever.wg and lc.label == lever.name
        assert lever.seed in lc.help and lever.summary in lc.help
        assert lc.intensity_max == policies.INTENSITY_MAX
        assert [pc.name for pc in lc.params] == list(lever.params)
        assert lc.targets == lever.targets and lc.firm_groups == lever.firm_groups


def test_param_controls_mirror_the_registry():
    specs = param_controls()
    assert [pc.name for pc in specs] == [p.name for p in params_mod.REGISTRY]
    for pc in specs:
        p = params_mod.REGISTRY[pc.name]
        assert pc.default == p.default and pc.unit == p.unit and pc.doc == p.doc
        if pc.kind != "bool":
            assert pc.low <= pc.default <= pc.high
            assert p.low is None or pc.low >= p.low
            assert p.high is None or pc.high <= p.high
            assert pc.step > 0


def test_param_slider_spans_registry_bounds_unless_they_are_technical():
    P = params_mod.Param
    near = param_control(P("x.rate", 0.05, 0.0, 1.0, "1/yr", "doc"))
    assert (near.low, near.high, near.kind) == (0.0, 1.0, "float")
    budget = param_control(P("x.budget", 400.0, 0.0, 1e6, "k€/yr", "doc"))
    assert budget.high == pytest.approx(400.0 * controls.SLIDER_SPAN_OF_DEFAULT)
    count = param_control(P("x.count", 3, 2, 10, "regions", "doc", integer=True))
    assert (count.kind, count.low, count.high, count.step) == ("int", 2, 10, 1)
    flag = param_control(P("x.flag", True, None, None, "-", "doc"))
    assert flag.kind == "bool"
    assert budget.clamp(5e5) == budget.high and count.clamp(2.6) == 3


def test_a_new_lever_and_parameter_appear_without_touching_the_app(monkeypatch):
    """Add a parameter to the registry and a lever (in a new WG) to the catalogue: the app's
    control specs, and the rendered lever panel, show them."""
    new_param = params_mod.Param("policy.test_widget_rate", 0.25, 0.0, 2.0, "1/yr",
                                 "A parameter only this test declares.", per_year="hazard")
    monkeypatch.setitem(params_mod.REGISTRY.params, new_param.name, new_param)
    new_lever = policies.Lever(
        "test_widgets", "Widget vouchers for testers", "WG7", "9.9.9",
        "Testers get widget vouchers.", "mechanisms.none", ("policy.test_widget_rate",),
        "innovations", "+", "none", ("regions",))
    monkeypatch.setattr(policies, "LEVERS", policies.LEVERS + (new_lever,))
    monkeypatch.setitem(policies.BY_ID, new_lever.id, new_lever)

    assert "policy.test_widget_rate" in [pc.name for pc in param_controls()]
    groups = {g.wg: g for g in lever_controls()}
    assert [lc.id for lc in groups["WG7"].levers] == ["test_widgets"]
    lc = groups["WG7"].levers[0]
    assert lc.help == "seed 9.9.9 · Testers get widget vouchers."
    (pc,) = lc.params
    assert (pc.name, pc.low, pc.high, pc.default) == ("policy.test_widget_rate", 0.0, 2.0, 0.25)

    from cluster_abm.ui.app import LeverPanel
    from cluster_abm.ui.app_state import AppState

    state = AppState(short(Settings()))
    _, rc = solara.render(LeverPanel(state), handle_error=False)
    _open_panel(rc, "WG7 WG7")  # a new WG is titled by its code
    switch = rc.find(v.Switch, label="Widget vouchers for testers")
    switch.assert_single()
    switch.widget.v_model = True  # the user switches it on: a run with the new lever is built
    assert state.error.value is None
    assert state.pair.scenarios["policy"].levers["test_widgets"].intensity == 1.0
    # ...and, under "Fine-tune", its parameter's slider, with the registry's bounds
    _open_panel(rc, "Fine-tune")
    rc.find(v.Slider, label="Test widget rate (1/yr): 0.25", min=0.0, max=2.0).assert_single()
    state.close()


def _open_panel(rc, title: str) -> None:
    """Open the collapsible panel (a WG's levers, a lever's fine-tuning) with this title."""
    # (find() does not look inside a match, so nested panels are found by their own class)
    found = [*rc.find(v.ExpansionPanels, class_="cpl-group").widgets,
             *rc.find(v.ExpansionPanels, class_="cpl-finetune").widgets]
    for panels in found:
        header = panels.children[0].children[0]
        if title in header.children:
            panels.v_model = 0
            return
    raise AssertionError(f"no panel titled {title!r}")


# --- settings -> scenarios, and what goes wrong ----------------------------------------------------
def test_user_choices_override_the_scenarios_levers(baseline):
    with_lever = baseline.with_levers(
        effective_levers(baseline, {"glocal_support": LeverChoice(intensity=0.5)}))
    levers = effective_levers(with_lever, {"incubators": LeverChoice(intensity=2.0)})
    assert set(levers) == {"glocal_support", "incubators"}
    assert levers["glocal_support"].intensity == 0.5  # the scenario's own, untouched
    levers = effective_levers(with_lever, {"glocal_support": LeverChoice(on=False)})
    assert levers == {}


def test_a_target_the_scenario_lacks_is_one_readable_line(baseline):
    small = baseline.with_params({})
    small = type(baseline)(small.name, small.title, small.description, small.source,
                           small.params, small.sectors, small.regions[:2], {}, ())
    choice = LeverChoice(regions=("north_east_romania",))
    with pytest.raises(InputError) as err:
        effective_levers(small, {"glocal_support": choice})
    text = explain(err.value)
    assert "Glocal cluster support" in text and "north_east_romania" in text
    assert "switch it off" in text and "\n" not in text
    with pytest.raises(InputError, match="targets no regions"):
        effective_levers(baseline, {"glocal_support": LeverChoice(regions=())})
    with pytest.raises(InputError, match="cluster veneto.space"):
        effective_levers(baseline, {"incubators": LeverChoice(clusters=("veneto.space",))})


@pytest.mark.parametrize("bad", [2.5, -0.1, math.nan, "1"])
def test_an_intensity_out_of_range_is_explained(baseline, bad):
    with pytest.raises(InputError, match="intensity .* out of range"):
        effective_levers(baseline, {"incubators": LeverChoice(intensity=bad)})


def test_a_firm_group_the_lever_does_not_allow_is_explained(baseline):
    with pytest.raises(InputError, match="Managerial training.*firm group 'nobody'"):
        effective_levers(baseline, {"managerial_training": LeverChoice(firms="nobody")})


def test_build_run_scenarios_pairs_policy_and_its_no_lever_reference(baseline):
    s = Settings(compare=True, levers={"incubators": LeverChoice()},
                 params={"policy.incubator_years": 2.0})
    policy, reference = build_run_scenarios(s, baseline)
    assert set(policy.levers) == {"incubators"} and reference.levers == {}
    assert policy.params == reference.params and policy.regions == reference.regions
    assert policy.param("policy.incubator_years") == 2.0
    assert build_run_scenarios(Settings(), baseline)[1] is None
    with pytest.raises(InputError, match=r"parameter policy.incubator_years: .*out of range"):
        build_run_scenarios(Settings(params={"policy.incubator_years": 99.0}), baseline)


def test_explain_is_one_short_line():
    assert explain(InputError("bad thing", source="x.toml", key="k")) == "x.toml: k: bad thing"
    assert explain(RuntimeError("boom\n  at line 3")) == "Unexpected error (RuntimeError): boom"
    assert explain(KeyError()) == "Unexpected error (KeyError)"
    long = explain(ValueError("x" * 1000))
    assert len(long) <= controls.MAX_MESSAGE and long.endswith("…")


def test_seed_is_checked():
    assert controls.check_seed(7) == 7
    for bad in (-1, 1.5, True, None, 2**63):
        with pytest.raises(InputError, match="seed"):
            controls.check_seed(bad)


def test_scenario_picker_lists_files_and_extra_folders(tmp_path, monkeypatch):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "mine.toml").write_text('extends = "baseline"\n')
    monkeypatch.setenv(controls.SCENARIOS_ENV, str(tmp_path))
    known = controls.list_scenarios()
    assert next(iter(known)) == "baseline"
    assert known["pkg/mine"] == str((tmp_path / "pkg" / "mine.toml").resolve())
    assert controls.scenario_label(known["pkg/mine"], known) == "pkg/mine"


# --- the lock-step runner ------------------------------------------------------------------------
def test_pair_without_levers_is_identical_step_by_step(baseline):
    pair = RunPair(baseline, baseline.with_levers({}), seed=3, horizon=5)
    while pair.step():
        assert pair.policy.t == pair.reference.t
    assert pair.done and pair.t == 5 and not pair.step() and pair.t == 5
    for o in pair.outcomes():
        assert o.difference == 0, o
    for name in ("innovations", "employment", "births"):
        assert np.array_equal(pair.tracks["policy"].series(name),
                              pair.tracks["reference"].series(name))


def test_pair_with_a_lever_runs_in_lock_step_and_differs(baseline):
    policy, reference = build_run_scenarios(
        Settings(compare=True, levers={"network_contracts": LeverChoice(intensity=2.0),
                                       "glocal_support": LeverChoice(intensity=2.0)}), baseline)
    pair = RunPair(policy, reference, seed=3, horizon=8)
    while pair.step():
        pass
    assert pair.policy.t == pair.reference.t == pair.policy.t0 + 8
    assert len(pair.tracks["policy"]) == len(pair.tracks["reference"]) == 9
    assert any(o.difference != 0 for o in pair.outcomes())


def test_levers_add_their_direct_outcome_to_the_headlines(baseline):
    from cluster_abm.outputs.metrics import SERIES
    from cluster_abm.ui.runs import HEADLINES, lever_outcomes

    policy, reference = build_run_scenarios(
        Settings(compare=True, levers={"glocal_support": LeverChoice(intensity=2.0)}), baseline)
    lever = policies.BY_ID["glocal_support"]
    assert lever_outcomes(policy) == [(lever.outcome, "higher", lever.name)]
    assert lever_outcomes(reference) == []
    pair = RunPair(policy, reference, seed=1, horizon=2)
    pair.step()
    direct = pair.outcomes()[len(HEADLINES):]
    assert [(o.key, o.note) for o in direct] == [(lever.outcome, lever.name)]
    assert lever.outcome in SERIES and direct[0].reference is not None
    package = {lid: LeverChoice() for lid in ("glocal_support", "incubators", "see_platform")}
    assert lever_outcomes(build_run_scenarios(Settings(levers=package), baseline)[0]) == []


def test_single_run_has_no_reference(baseline):
    pair = RunPair(baseline, None, seed=1, horizon=2)
    assert not pair.compare and pair.horizon == 2
    assert all(o.reference is None and o.difference is None for o in pair.outcomes())
    assert RunPair(baseline, None, seed=1).horizon == 20 * 4  # the scenario's horizon


def test_track_annualises_flows_over_the_last_year():
    tr = Track(steps_per_year=4)
    tr.values = {k: [0.0] * 7 for k in tr.values}
    tr.values["births"] = [0.0, 1, 2, 3, 4, 5, 6]
    rate = tr.per_year("births")
    assert math.isnan(rate[0])
    assert rate[1] == 4.0  # one quarter with 1 -> 4 a year
    assert rate[2] == pytest.approx((1 + 2) / 2 * 4)
    assert rate[4] == 1 + 2 + 3 + 4 and rate[6] == 3 + 4 + 5 + 6
    assert tr.cumulative("births") == 21 and tr.last("births") == 6


# --- pictures ----------------------------------------------------------------------------------------
def test_map_and_charts_change_as_the_runs_step(baseline):
    from cluster_abm.ui.charts import ChartPlot, MapPlot

    pair = RunPair(baseline, baseline.with_levers({}), seed=2, horizon=6)
    map_plot = MapPlot(pair.policy.world)
    charts = ChartPlot(pair.horizon / pair.steps_per_year, ("policy", "reference"))
    first = map_plot.render(pair.policy), charts.render(pair.tracks)
    pair.step()
    pair.step()
    second = map_plot.render(pair.policy, show_ties=True), charts.render(pair.tracks)
    for a, b in zip(first, second, strict=True):
        assert a.startswith(JPEG) and b.startswith(JPEG) and a != b


def test_firm_state_precedence(baseline):
    from cluster_abm.ui.charts import FIRM_STATES, firm_states

    pair = RunPair(baseline, None, seed=2, horizon=1)
    m = pair.policy
    ft, idx = m.firms, m.firms.idx
    keys = [s.key for s in FIRM_STATES]
    ft.glocal[idx[0]] = True
    ft.incubated_until[idx[0]] = m.t + 3  # incubated wins over glocal
    ft.glocal[idx[1]] = True
    ft.contract[idx[1]] = 5  # glocal wins over contract
    ft.glocal[idx[2]], ft.contract[idx[2]], ft.incubated_until[idx[2]] = False, -1, -1
    ft.last_innov[idx[2]] = -(10**6)
    state = firm_states(m)
    assert keys[state[0]] == "incubated" and keys[state[1]] == "glocal"
    assert keys[state[2]] == "other"


# --- one session's state and its player -----------------------------------------------------------
def test_state_steps_and_publishes_frames():
    from cluster_abm.ui.app_state import AppState

    state = AppState(short(Settings()))
    frame = state.frame.value
    assert frame.step == 0 and frame.horizon == 4 and frame.map_image.startswith(JPEG)
    assert state.step() and state.frame.value.step == 1
    assert state.frame.value.map_image != frame.map_image
    assert state.update(compare=True) and state.frame.value.step == 0 and state.frame.value.compare
    state.set_map_run("reference")
    assert state.frame.value.map_run == "reference"
    state.close()


def test_invalid_settings_block_play_and_step_with_one_line():
    from cluster_abm.ui.app_state import AppState

    state = AppState(short(Settings()))
    assert not state.set_lever("glocal_support", LeverChoice(intensity=7.0))
    assert state.invalid.value and "out of range" in state.error.value
    assert state.settings.value.levers["glocal_support"].intensity == 7.0  # kept, to be fixed
    old, message = state.frame.value, state.error.value
    assert not state.step()
    assert state.error.value == message and state.frame.value is old  # the reason stays shown
    state.play()
    assert not state.playing.value
    assert not state.update(seed=-4) and "seed" in state.error.value
    assert not state.clear_choices() and "seed" in state.error.value  # the seed is still bad
    assert state.update(seed=4)
    assert not state.invalid.value and state.error.value is None
    assert not state.update(scenario="no_such_scenario")
    assert "scenario file not found" in state.error.value and state.invalid.value
    state.close()


@pytest.mark.slow
def test_every_scenario_in_the_picker_opens_and_steps_side_by_side():
    from cluster_abm.ui.app_state import AppState

    state = AppState(Settings(compare=True))
    for label, path in controls.list_scenarios().items():
        assert state.update(scenario=path), f"{label}: {state.error.value}"
        assert state.step() and state.frame.value.step == 1, label
        on = {lid for lid, s in state.scenario.value.levers.items()}
        shown = {lc.id for g in lever_controls() for lc in g.levers if state.lever_choice(lc.id).on}
        assert shown == on, label  # the panel shows the file's levers as switched on
    state.close()


def test_unexpected_errors_become_a_banner_not_a_traceback(monkeypatch, caplog):
    from cluster_abm.ui.app_state import AppState

    state = AppState(short(Settings()))

    def broken():
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(state.pair, "step", broken)
    assert not state.step()
    assert state.error.value == "Unexpected error (ZeroDivisionError): division by zero"
    assert "workshop app: unexpected error" in caplog.text  # the details go to the log
    state.dismiss_error()
    assert state.error.value is None
    state.close()


def test_player_plays_to_the_end_and_stops():
    from cluster_abm.ui.app_state import AppState

    state = AppState(short(Settings(compare=True)))
    state.set_speed("max")
    state.play()
    deadline = time.monotonic() + 30
    while state.playing.value and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not state.playing.value
    assert state.frame.value.step == state.frame.value.horizon == 4
    first = state.frame.value.outcomes
    state.play()  # at the horizon: play again from year 0 (same settings, same numbers)
    while state.playing.value and time.monotonic() < deadline + 30:
        time.sleep(0.02)
    assert state.frame.value.step == 4 and state.frame.value.outcomes == first
    assert state.reset() and state.frame.value.step == 0
    state.close()


def test_pause_stops_the_player_and_a_rebuild_pauses():
    from cluster_abm.ui.app_state import AppState

    state = AppState(Settings())  # the full 80 steps
    state.set_speed("2")
    state.play()
    assert state.playing.value
    time.sleep(0.3)
    state.pause()
    assert not state.playing.value and not state._thread.is_alive()
    reached = state.pair.t
    time.sleep(0.6)
    assert state.pair.t == reached
    state.play()
    state.set_lever("incubators", LeverChoice())
    assert not state.playing.value and state.frame.value.step == 0
    state.close()
    assert state.pair is None


def _texts(rc, css_class: str) -> list[str]:
    return ["".join(map(str, w.children)) for w in rc.find(v.Html, class_=css_class).widgets]


def _button(rc, label: str):
    (button,) = [w for w in rc.find(v.Btn).widgets if label in w.children]
    return button


def test_no_sequence_of_actions_escapes_as_an_exception(tmp_path, monkeypatch):
    """Random clicks, good and bad, on two scenarios with different regions: every action
    returns, the banner holds at most one line, and the state stays usable."""
    import random

    from cluster_abm.ui.app_state import SPEEDS, AppState

    (tmp_path / "two.toml").write_text(
        'extends = "baseline"\n[simulation]\nregions = ["veneto", "upper_austria"]\n'
        'years = 1\n')
    monkeypatch.setenv(controls.SCENARIOS_ENV, str(tmp_path))
    scenarios = [str(tmp_path / "two.toml"), "baseline", "missing_scenario"]
    rng = random.Random(7)
    state = AppState(short(Settings()))
    regions = ["veneto", "north_east_romania", "atlantis"]
    levers = [lc for g in lever_controls() for lc in g.levers]
    for _ in range(40):
        lc = rng.choice(levers)
        action = rng.randrange(9)
        if action == 0:
            state.update(scenario=rng.choice(scenarios))
        elif action in (1, 2):
            picked = tuple(rng.sample(regions, rng.randrange(0, 3)))
            state.set_lever(lc.id, LeverChoice(
                on=rng.random() < 0.8, intensity=rng.choice([0.0, 0.5, 2.0, 2.5, -1.0]),
                regions=rng.choice([None, picked]),
                firms=rng.choice([None, *lc.firm_groups, "nobody"])))
        elif action == 3:
            pc = rng.choice(lc.params) if lc.params else None
            if pc is not None and pc.kind != "bool":
                state.set_param(pc.name, rng.choice([pc.low, pc.high, pc.high * 10 + 1]))
        elif action == 4:
            state.update(seed=rng.choice([0, 3, -2]), compare=rng.random() < 0.5)
        elif action == 5:
            state.step()
        elif action == 6:
            state.set_speed(rng.choice([*SPEEDS, "warp"]))
            state.play()
            time.sleep(0.05)
            state.pause()
        elif action == 7:
            state.set_show_ties(rng.random() < 0.5)
            state.set_map_run(rng.choice(["policy", "reference", "nonsense"]))
        else:
            state.clear_choices()
        message = state.error.value
        assert message is None or ("\n" not in message and len(message) <= controls.MAX_MESSAGE)
        assert not (message or "").startswith("Unexpected error"), message
    state.update(scenario="baseline", seed=1)
    state.clear_choices()
    assert state.error.value is None and not state.invalid.value and state.step()
    state.close()


def test_page_renders_headless_and_its_buttons_work():
    from cluster_abm.ui.app import Page

    _, rc = solara.render(Page(), handle_error=False)
    assert _texts(rc, "cpl-clock-year") == ["Year 0"]
    _button(rc, "Step").click()
    assert _texts(rc, "cpl-clock-step") == ["step 1 / 80"]
    rc.find(v.Switch, label="Policy vs baseline").widget.v_model = True
    assert _texts(rc, "cpl-clock-step") == ["step 0 / 80"]
    subs = _texts(rc, "cpl-tile-sub")  # "10 684 vs 10 684": policy vs baseline
    assert len(subs) == 4 and all(" vs " in t for t in subs)
    rc.close()


# --- cluster-abm ui ------------------------------------------------------------------------------
def _ui_args(*argv):
    from cluster_abm.cli import cmd_ui as ui
    parser = argparse.ArgumentParser()
    ui.add_ui_arguments(parser)
    return parser.parse_args(list(argv))


def test_ui_arguments_and_command_line():
    from cluster_abm.cli import cmd_ui as ui
    args = _ui_args()
    assert (args.host, args.port, args.scenarios) == ("127.0.0.1", 8765, [])
    cmd = ui.server_command("0.0.0.0", 9000)
    assert cmd[1:5] == ["-m", "solara", "run", "cluster_abm.ui.app"]
    for flag in ("--production", "--no-open", "--no-check-version"):
        assert flag in cmd
    assert cmd[cmd.index("--host") + 1] == "0.0.0.0" and cmd[cmd.index("--port") + 1] == "9000"
    assert ui.server_env()["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "False"
    with pytest.raises(SystemExit):
        _ui_args("--port", "70000")


def test_cmd_ui_prints_the_address_and_returns_the_servers_status(monkeypatch, capsys, tmp_path):
    from cluster_abm.cli import cmd_ui as ui
    from cluster_abm.ui import offline

    calls = {}

    class FakeServer:
        def __init__(self, cmd, env):
            calls["cmd"], calls["env"] = cmd, env

        def wait(self, timeout=None):
            return 3

    monkeypatch.setattr(offline, "ensure_cdn_cache", lambda verbose=True: calls.setdefault(
        "quiet", not verbose))
    monkeypatch.setattr(ui.subprocess, "Popen", FakeServer)
    port = _free_port()
    assert ui.cmd_ui(_ui_args("--port", str(port), "--scenarios", str(tmp_path))) == 3
    assert capsys.readouterr().out == f"cluster-abm workshop app: http://127.0.0.1:{port}\n"
    assert calls["quiet"] is True and "cluster_abm.ui.app" in calls["cmd"]
    assert calls["env"][controls.SCENARIOS_ENV].startswith(str(tmp_path.resolve()))


def test_cmd_ui_refuses_a_taken_port(monkeypatch, capsys):
    import socket

    from cluster_abm.cli.main import main
    from cluster_abm.ui import offline

    monkeypatch.setattr(offline, "ensure_cdn_cache", lambda verbose=True: [])
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert main(["ui", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("cluster-abm ui: error: --port: ") and "in use" in err


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
