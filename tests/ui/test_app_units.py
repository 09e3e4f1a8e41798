"""Fast tests of the workshop app's non-browser parts: controls generated from the catalogue and
the registry, settings -> validated scenarios, one-line error explanations, the ensemble
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
from cluster_abm.ui.runs import HEADLINES, RunSet, Track

JPEG = b"\xff\xd8\xff"
PNG = b"\x89PNG\r\n\x1a\n"
SMALL = {"sim.n_firms": 300}  # a small world: the ensemble tests stay fast


@pytest.fixture(scope="module")
def baseline():
    return load_scenario("baseline")


def short(settings: Settings | None = None, **kw) -> Settings:
    """Settings for a 1-year (4-step) run of a small world over 4 seeds, so a test can play to
    the end quickly."""
    s = settings or Settings(**kw)
    seeds = 4 if s.seeds == controls.DEFAULT_SEEDS else s.seeds
    return Settings(s.scenario, s.seed, s.compare, dict(s.levers),
                    {"sim.years": 1, **SMALL, **s.params}, seeds, s.horizon)


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
    assert state.runs.scenarios["policy"].levers["test_widgets"].intensity == 1.0
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
    assert build_run_scenarios(Settings(compare=False), baseline)[1] is None
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


# --- the ensemble --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small(baseline):
    return baseline.with_params(SMALL)


def test_ensemble_without_levers_is_identical_step_by_step(small):
    runs = RunSet(small, small.with_levers({}), seeds=[3, 4], horizon=5)
    while runs.step():
        assert {m.t - m.t0 for m in runs.all_models()} == {runs.t}
    assert runs.done and runs.t == 5 and not runs.step() and runs.t == 5
    for o in runs.outcomes():
        assert o.difference.mean == 0 and o.difference.lo == o.difference.hi == 0, o
        assert not o.difference.excludes_zero and o.tone in ("neutral", "cost")
    for name in ("innovations", "employment", "births"):
        assert np.array_equal(runs.tracks["policy"].matrix(name),
                              runs.tracks["reference"].matrix(name))
    assert runs.tracks["policy"].matrix("employment").shape == (6, 2)


def test_ensemble_seeds_are_the_single_runs(small):
    """Each column of the ensemble is the run of that seed alone (common random numbers)."""
    from cluster_abm.model.cluster_model import ClusterModel

    runs = RunSet(small, None, seeds=[5, 6], horizon=3)
    while runs.step():
        pass
    alone = ClusterModel(small, seed=6)
    for _ in range(3):
        alone.step()
    series = alone.series_wide()
    assert np.array_equal(runs.tracks["policy"].matrix("employment")[:, 1],
                          series["employment"][:, -1])
    assert not runs.compare and all(o.difference is None for o in runs.outcomes())


def test_ensemble_with_levers_differs_and_intervals_follow_the_seeds(small):
    from cluster_abm.ui.intervals import estimate

    # A budget that pays a model firm's contract whole (it stands for hundreds of real ones; at
    # the default 1 M€ a region a 300-firm world's contract is paid by a lottery of about 8 %).
    strong = small.with_params({"policy.lever_budget": 150_000.0})
    policy, reference = build_run_scenarios(
        Settings(levers={"network_contracts": LeverChoice(intensity=2.0),
                         "glocal_support": LeverChoice(intensity=2.0)}), strong)
    runs = RunSet(policy, reference, seeds=[1, 2, 3, 4, 5, 6, 7, 8], horizon=12)
    while runs.step():
        pass
    by_key = {o.key: o for o in runs.outcomes()}
    direct = by_key["firms_in_contracts"]  # the contracts lever's direct outcome
    pol = runs.tracks["policy"].matrix("firms_in_contracts")[-1]
    ref = runs.tracks["reference"].matrix("firms_in_contracts")[-1]
    expect = estimate(pol - ref)
    assert direct.difference == expect and expect.n == 8
    assert direct.difference.excludes_zero and direct.tone == "good"
    assert direct.note == "Business network contracts"
    cost = by_key["public_cost"]
    assert cost.policy.mean > 0 and cost.tone == "cost"
    bands = runs.bands(HEADLINES[1])
    assert set(bands) == {"policy", "reference", "difference"}
    d = bands["difference"]
    assert np.all(d.lo <= d.mean) and np.all(d.mean <= d.hi) and len(d.mean) == 13


def test_intervals_match_students_t():
    from scipy import stats

    from cluster_abm.ui.intervals import estimate, summarise

    v = np.array([3.0, -1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0])
    e = estimate(v)
    lo, hi = stats.t.interval(0.95, len(v) - 1, loc=v.mean(), scale=stats.sem(v))
    assert e.mean == pytest.approx(v.mean()) and (e.lo, e.hi) == pytest.approx((lo, hi))
    assert e.excludes_zero and e.sign == 1
    spans = estimate(np.array([-2.0, 1.0, 3.0, -1.0]))
    assert spans.has_interval and not spans.excludes_zero and spans.sign == 0
    one = estimate(np.array([5.0]))
    assert not one.has_interval and not one.excludes_zero and one.lo == one.hi == 5.0
    mean, lo, hi = summarise(np.array([[1.0, np.nan], [1.0, 3.0]]))
    assert np.isnan(mean[0]) and mean[1] == 2.0 and lo[1] < 2.0 < hi[1]


def test_tile_tone_needs_an_interval_that_excludes_zero():
    from cluster_abm.ui.intervals import Estimate
    from cluster_abm.ui.runs import Outcome

    pol = Estimate(10.0, 9.0, 11.0, 8)
    up = Outcome("jobs", "Jobs", "jobs", "higher", pol, pol, Estimate(5.0, 1.0, 9.0, 8))
    spans = Outcome("jobs", "Jobs", "jobs", "higher", pol, pol, Estimate(5.0, -1.0, 11.0, 8))
    bad = Outcome("bd", "Brain drain", "", "lower", pol, pol, Estimate(5.0, 1.0, 9.0, 8))
    one = Outcome("jobs", "Jobs", "jobs", "higher", pol, pol, Estimate(50.0, 50.0, 50.0, 1))
    assert (up.tone, spans.tone, bad.tone, one.tone) == ("good", "neutral", "bad", "neutral")


def test_track_annualises_flows_over_the_last_year():
    tr = Track(steps_per_year=4, n_seeds=1)
    tr.rows = {k: [np.zeros(1) for _ in range(7)] for k in tr.names}
    tr.rows["births"] = [np.array([v], float) for v in (0.0, 1, 2, 3, 4, 5, 6)]
    rate = tr.per_year("births")[:, 0]
    assert math.isnan(rate[0])
    assert rate[1] == 4.0  # one quarter with 1 -> 4 a year
    assert rate[2] == pytest.approx((1 + 2) / 2 * 4)
    assert rate[4] == 1 + 2 + 3 + 4 and rate[6] == 3 + 4 + 5 + 6
    assert tr.cumulative("births")[-1, 0] == 21 and tr.matrix("births")[-1, 0] == 6


def test_narrative_reports_freezes_closures_and_effects(small):
    from cluster_abm.ui.narrative import Narrator
    from cluster_abm.ui.runs import Closure

    policy = small.with_params({"funding.freeze_probability": 1.0}).with_levers(
        effective_levers(small, {"network_contracts": LeverChoice(intensity=2.0)}))
    runs = RunSet(policy, policy.with_levers({}), seeds=[1, 2, 3, 4], horizon=12)
    narrator = Narrator(runs)
    events = []
    while runs.step():
        events += narrator.look()
    freezes = [e for e in events if e.kind == "freeze"]
    assert [e.step for e in freezes] == [1, 5, 9]  # every year opens frozen everywhere
    assert freezes[0].text.startswith("Year 0: funding freeze in Veneto (IT)")
    runs.closures.append(Closure(12, 7, 312.0, "veneto", "machinery"))
    (closure,) = narrator.look()
    assert closure.text == ("Year 3: a large firm (312 jobs, Machinery and mechatronics) closed "
                            "in Veneto (IT) (the policy run on the map).")
    # (effects: with every budget frozen, contracts still form; none reported twice)
    effects = [e.text for e in events if e.kind == "effect"]
    assert len(effects) == len(set(effects))


def test_a_lever_switched_on_mid_run_changes_nothing_before_it(small):
    """The trainer's "now we introduce network contracts" at year 2: the policy runs equal the
    baseline to the bit up to then (paired seeds), then the lever acts and spends."""
    from cluster_abm.policy.levers import LeverSetting

    runs = RunSet(small, small, seeds=[1, 2], horizon=20)
    for _ in range(8):  # two years
        runs.step()
    switched = small.with_levers({"network_contracts": LeverSetting("network_contracts", intensity=2.0)})
    (mark,) = runs.switch_levers(switched)
    assert (mark.lever, mark.kind, mark.how, mark.step) == ("network_contracts", "start", "switch", 8)
    while runs.step():
        pass
    moved = []
    for pol_model, ref_model in zip(runs.models["policy"], runs.models["reference"], strict=True):
        pol, ref = pol_model.series_wide(), ref_model.series_wide()
        for name in pol:  # steps 0-8: before the switch, to the bit
            assert np.array_equal(pol[name][:9], ref[name][:9], equal_nan=True), name
        assert pol["public_cost"][9:, -1].sum() > 0
        moved.append(not np.array_equal(pol["firms_in_contracts"], ref["firms_in_contracts"]))
    # The lever pays for every contract founded, also those that would have been founded anyway
    # (deadweight): in a 300-firm world one seed's members may not change in three years.
    assert any(moved)
    model = runs.models["policy"][0]
    assert model.cluster_scenario.levers["network_contracts"].start_year == 2


# --- pictures ----------------------------------------------------------------------------------------
def test_map_and_charts_change_as_the_runs_step(small):
    from cluster_abm.ui import model_view
    from cluster_abm.ui.app_state import CHART_SPECS
    from cluster_abm.ui.charts import ChartPlot, MapPlot

    runs = RunSet(small, small.with_levers({}), seeds=[2, 3], horizon=6)
    map_plot = MapPlot(runs.watched.world)
    charts = ChartPlot(runs.horizon / runs.steps_per_year, CHART_SPECS, True)

    def draw(fmt="jpeg", ties=None):
        bands = {m.key: runs.bands(m) for m in HEADLINES}
        return (map_plot.render(runs.firm_view(), runs.innovated_last_year(),
                                model_view.static_sites(runs.watched), ties, fmt=fmt),
                charts.render(bands, fmt=fmt))

    first = draw()
    runs.step()
    runs.step()
    second = draw(ties=model_view.tie_segments(runs.watched, 300))
    for a, b in zip(first, second, strict=True):
        assert a.startswith(JPEG) and b.startswith(JPEG) and a != b
    assert all(img.startswith(PNG) for img in draw("png"))


def test_run_colours_are_not_map_colours():
    from matplotlib.colors import to_hex

    from cluster_abm.ui.charts import FIRM_STATES, MARKERS, RUN_COLOURS, STAGE_FILL, TIE_KINDS

    runs = {to_hex(c) for c in RUN_COLOURS.values()}
    on_map = {to_hex(sw.colour) for sw in (*FIRM_STATES, *MARKERS, *TIE_KINDS)}
    on_map |= {to_hex(c) for c in STAGE_FILL.values()}
    assert len(runs) == 3 and not runs & on_map
    assert len({to_hex(sw.colour) for sw in FIRM_STATES}) == len(FIRM_STATES)


def test_firm_state_precedence():
    from cluster_abm.ui.charts import FIRM_STATES, firm_states
    from cluster_abm.ui.model_view import FirmView

    n = 4
    view = FirmView(0, np.arange(n), np.zeros(n), np.zeros(n), np.ones(n),
                    young=np.array([True, True, False, False]),
                    glocal=np.array([True, False, False, False]),
                    contract=np.array([True, True, False, False]),
                    innovations=np.zeros(n), region=np.array(["a"] * n, object),
                    sector=np.array(["s"] * n, object))
    keys = [s.key for s in FIRM_STATES]
    state = firm_states(view, np.array([False, False, True, False]))
    assert [keys[k] for k in state] == ["glocal", "contract", "innovating", "other"]


def test_wording_has_no_ids_or_list_syntax(baseline):
    from cluster_abm.ui.wording import Names, humanise, lever_tip

    names = Names.of(baseline)
    text = humanise("clusters ['upper_austria.automotive', 'veneto.wood'] lie outside; "
                    "policy.incubator_min_cluster_enterprises firms; region north_east_romania", names)
    assert "[" not in text and "'" not in text and "_" not in text, text
    assert "Automotive components, Upper Austria (AT)" in text and "North-East Romania" in text
    for lever in policies.LEVERS:
        tip = lever_tip(lever, names)
        assert lever.seed in tip and "What to expect" in tip and "Acts through" in tip
        assert "policy." not in tip and "mechanisms." not in tip, tip


# --- one session's state and its player -----------------------------------------------------------
def test_state_steps_and_publishes_frames():
    from cluster_abm.ui.app_state import AppState

    state = AppState(short(Settings()))
    frame = state.frame.value
    assert frame.step == 0 and frame.horizon == 4 and frame.map_image.startswith(JPEG)
    assert frame.compare and frame.n_seeds == 4
    assert state.step() and state.frame.value.step == 1
    assert state.frame.value.map_image != frame.map_image
    assert state.update(seeds=1) and state.frame.value.n_seeds == 1 and state.frame.value.step == 0
    assert state.update(compare=False) and not state.frame.value.compare
    assert state.update(compare=True)
    state.set_map_run("reference")
    assert state.frame.value.map_run == "reference"
    state.close()


def test_lever_change_mid_run_applies_from_this_year_and_says_so():
    from cluster_abm.ui.app_state import AppState

    state = AppState(short(Settings()))
    state.step()
    state.step()
    assert state.set_lever("incubators", LeverChoice())
    frame = state.frame.value
    assert frame.step == 2 and frame.events[0].kind == "lever"
    assert frame.events[0].text == ("Year ½: Networked start-up incubators started in the policy "
                                    "run (switched on now; the baseline runs without it).")
    assert frame.marks == ((1, "year ½: Networked start-up incubators on"),)
    assert "incubators" in state.runs.models["policy"][0].policy.configured
    state.close()


def test_horizon_grows_in_place_and_pause_at_year_stops_the_player():
    from cluster_abm.ui.app_state import AppState

    state = AppState(short(Settings()))
    state.step()
    assert state.set_horizon(3) and state.frame.value.step == 1
    assert state.frame.value.horizon == 12
    state.set_pause_at(2)
    state.set_speed("max")
    state.play()
    deadline = time.monotonic() + 60
    while state.playing.value and time.monotonic() < deadline:
        time.sleep(0.02)
    assert state.frame.value.step == 8 and "Paused at year 2" in state.frame.value.events[0].text
    assert state.set_horizon(1) and state.frame.value.step == 0  # before the year reached
    state.close()


def test_exports_are_valid_files(tmp_path):
    import io
    import subprocess
    import sys

    import pandas as pd

    from cluster_abm.ui.app_state import AppState

    state = AppState(short(Settings(levers={"quadruple_helix": LeverChoice(
        intensity=1.5, regions=("veneto",), firms="smes")}, params={"policy.qh_rate": 0.05})))
    state.step()
    assert state.charts_png().startswith(PNG) and state.map_png().startswith(PNG)
    df = pd.read_csv(io.StringIO(state.data_csv()))
    assert set(df["run"]) == {"policy", "baseline"} and set(df["seed"]) == {1, 2, 3, 4}
    assert len(df) == 2 * 4 * 2 and "employment" in df
    path = tmp_path / "setup.toml"
    path.write_text(state.scenario_toml())
    out = subprocess.run([sys.executable, "-m", "cluster_abm.cli.main", "scenario", "check",
                          str(path)], capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("OK: setup") and "quadruple_helix" in out.stdout
    saved = load_scenario(str(path))
    lever = saved.levers["quadruple_helix"]
    assert (lever.intensity, lever.regions, lever.firms) == (1.5, ("veneto",), "smes")
    assert saved.param("policy.qh_rate") == 0.05 and saved.param("sim.years") == 1
    assert saved.param("sim.n_firms") == 300
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

    monkeypatch.setattr(state.runs, "step", broken)
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

    state = AppState(Settings(seeds=4, params=SMALL))  # the full 80 steps
    state.set_speed("2")
    state.play()
    assert state.playing.value
    time.sleep(0.3)
    state.pause()
    assert not state.playing.value and not state._thread.is_alive()
    reached = state.runs.t
    time.sleep(0.6)
    assert state.runs.t == reached
    state.play()
    state.set_param("innovation.base_rate", 0.2)  # a new world: the runs are rebuilt
    assert not state.playing.value and state.frame.value.step == 0
    state.close()
    assert state.runs is None


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


def test_page_renders_headless_and_its_buttons_work(monkeypatch):
    from cluster_abm.ui import app

    monkeypatch.setattr(app, "_new_state", lambda: __import__(
        "cluster_abm.ui.app_state", fromlist=["AppState"]).AppState(
            Settings(params=SMALL)))
    _, rc = solara.render(app.Page(), handle_error=False)
    assert _texts(rc, "cpl-clock-year") == ["Year 0 of 20"]
    _button(rc, "Step").click()
    assert _texts(rc, "cpl-clock-step") == ["step 1 / 80"]
    subs = _texts(rc, "cpl-tile-sub")  # "policy 10 684 vs baseline 10 684" (+ the cost tile)
    assert sum(" vs baseline " in t for t in subs) == 4
    assert _texts(rc, "cpl-tile-chance") == [app.NO_CHANCE] * 4  # no lever: no effect
    rc.find(v.Switch, label="Policy vs baseline").widget.v_model = False
    assert _texts(rc, "cpl-clock-step") == ["step 0 / 80"]
    assert not any(" vs baseline " in t for t in _texts(rc, "cpl-tile-sub"))
    _button(rc, "Present").click()
    assert not rc.find(v.Sheet, class_="cpl-panel").widgets  # the lever panel folds away
    assert _texts(rc, "cpl-strip-head") == ["No lever on: the policy run is the baseline."]
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


def test_port_check_ignores_time_wait_but_not_a_listener():
    """Ctrl-C with a tab open leaves the server's side of its connections in TIME-WAIT: a
    restart must not be refused for that (it was, for about a minute), while a server still
    listening must be detected."""
    import socket

    from cluster_abm.cli import cmd_ui as ui

    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn's
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    assert not ui._port_free("127.0.0.1", port)
    client = socket.create_connection(("127.0.0.1", port))
    served, _ = listener.accept()
    served.close()  # the server closes first: its side (the port) enters TIME-WAIT
    time.sleep(0.1)
    client.close()
    listener.close()
    with socket.socket() as plain, pytest.raises(OSError):
        plain.bind(("127.0.0.1", port))  # what the old check did: refused
    assert ui._port_free("127.0.0.1", port)
