"""Designs over policy: `[design.levers.<id>]` varies a lever's intensity, targets and timing (and
`[design.params]` its budget, a `policy.*` parameter), in a grid or a Latin hypercube; each run
simulates the base scenario with its point's lever settings; bad values are one-line errors."""

from __future__ import annotations

import pytest

from cluster_abm.cli.main import main
from cluster_abm.errors import InputError
from cluster_abm.experiments.experiment_spec import experiment_from_dict

BASE = {"name": "d", "scenarios": ["baseline"], "replicates": 2, "seed": 3, "years": 2}


def exp(design: dict, **top):
    return experiment_from_dict({**BASE, **top, "design": design}, source="d.toml")


def test_a_grid_over_a_levers_intensity_gives_runs_with_those_intensities():
    e = exp({"kind": "grid", "base": "new_ventures", "crn": True,
             "levers": {"incubators": {"intensity": [0.5, 1.0, 2.0]}}})
    points = [r for r in e.runs if r.point > 0]
    assert len(points) == 3 * 2  # 3 intensities x 2 replicates
    seen = {}
    for run in points:
        sc = e.scenario_for(run)
        seen[run.point] = sc.levers["incubators"].intensity
        # the rest of the base package is untouched: its other lever and its targets
        assert "new_venture_finance" in sc.levers
        assert sc.levers["incubators"].clusters == e.design.base.levers["incubators"].clusters
    assert seen == {1: 0.5, 2: 1.0, 3: 2.0}
    # common random numbers: a point's replicate r has the scenarios' seed of replicate r
    seeds = {(r.point, r.replicate): r.seed for r in e.runs}
    assert seeds[(1, 1)] == seeds[(0, 1)] == seeds[(3, 1)]


def test_targets_timing_and_budget_vary_together_and_a_lever_the_base_lacks_is_switched_on():
    e = exp({"kind": "grid", "crn": True,
             "params": {"policy.lever_budget": [500.0, 2000.0]},
             "levers": {"managerial_training": {"regions": [["north_east_romania"], "all"],
                                                "start_year": [0, 3], "end_year": [5]}}})
    assert len(e.design.points) == 2 * 2 * 2
    combos = set()
    for arm, sc in e.arms.items():
        if arm == "baseline":
            assert sc.levers == {}
            continue
        s = sc.levers["managerial_training"]
        assert s.end_year == 5 and s.intensity == 1.0
        combos.add((sc.param("policy.lever_budget"), s.regions, s.start_year))
    assert combos == {(b, r, y) for b in (500.0, 2000.0)
                      for r in (("north_east_romania",), None) for y in (0, 3)}


def test_a_latin_hypercube_samples_intensity_and_whole_policy_years():
    e = exp({"kind": "lhs", "samples": 16, "crn": True,
             "levers": {"incubators": {"intensity": {"low": 0.5, "high": 2.0},
                                       "start_year": {"low": 0, "high": 4}}}})
    intensities = [p["levers.incubators.intensity"] for p in e.design.points]
    years = [p["levers.incubators.start_year"] for p in e.design.points]
    assert all(0.5 <= x <= 2.0 for x in intensities) and len(set(intensities)) == 16
    assert all(isinstance(y, int) and 0 <= y <= 4 for y in years)
    run = next(r for r in e.runs if r.point == 5)
    assert e.scenario_for(run).levers["incubators"].start_year == years[4]


def test_parameter_designs_keep_their_spec_hash():
    """A design without levers hashes as before, so stored sweeps still resume."""
    e = exp({"kind": "grid", "params": {"funding.eu_budget": [1000.0, 2000.0]}})
    assert "levers" not in e.design.to_dict()


def test_shared_params_reach_every_scenario_and_the_design_base():
    e = exp({"kind": "grid", "base": "sme_networks", "crn": True,
             "levers": {"network_contracts": {"intensity": [0.5]}}},
            scenarios=["baseline", "new_ventures"], params={"sim": {"n_firms": 120}})
    assert {sc.param("sim.n_firms") for sc in e.arms.values()} == {120}


@pytest.mark.parametrize("design, key, words", [
    ({"levers": {"incubator": {"intensity": [1.0]}}}, "design.levers.incubator", "did you mean 'incubators'"),
    ({"levers": {"incubators": {"intensty": [1.0]}}}, "design.levers.incubators.intensty", "allowed: intensity"),
    ({"levers": {"incubators": {"firms": ["smes"]}}}, "design.levers.incubators.firms", "untargetable"),
    ({"levers": {"incubators": {"intensity": [3.0]}}}, "design.levers.incubators.intensity", "allowed 0 to 2"),
    ({"levers": {"incubators": {"intensity": []}}}, "design.levers.incubators.intensity", "non-empty list"),
    ({"levers": {"incubators": {"intensity": [1.0, 1]}}}, "design.levers.incubators.intensity", "twice"),
    ({"levers": {"incubators": {"start_year": [-1]}}}, "design.levers.incubators.start_year", "not a policy year"),
    ({"levers": {"incubators": {"start_year": [4], "end_year": [2, 6]}}}, "design.levers.incubators", "end_year 2 is not after start_year 4"),
    ({"levers": {"managerial_training": {"regions": [["atlantis"]]}}}, "design.levers.managerial_training.regions", "names no region"),
    ({"levers": {"incubators": {}}}, "design.levers.incubators", "must be a table"),
    ({"kind": "lhs", "samples": 4, "levers": {"incubators": {"regions": {"low": 0, "high": 1}}}}, "design.levers.incubators.regions", "cannot be sampled"),
    ({"kind": "lhs", "samples": 4, "levers": {"incubators": {"intensity": [0.5, 1.0]}}}, "design.levers.incubators.intensity", "{ low = ..., high = ... }"),
    ({"kind": "lhs", "samples": 4, "levers": {"incubators": {"start_year": {"low": 0.5, "high": 3}}}}, "design.levers.incubators.start_year", "whole numbers"),
    ({"levers": {}, "params": {}}, "design.params", "[design.levers.<id>]"),
    ({"params": {"policy.lever_budget": [-5.0]}}, "design.params.policy.lever_budget", ""),
])
def test_bad_design_values_are_one_line_errors_naming_file_and_key(design, key, words):
    with pytest.raises(InputError) as info:
        exp({"kind": "grid", **design})
    msg = str(info.value)
    assert msg.startswith(f"d.toml: {key}: ") and words in msg and "\n" not in msg


@pytest.mark.parametrize("table, key", [
    ({"report": {"discount_rate": 0.9}}, "report.discount_rate"),
    ({"report": {"discount": 0.03}}, "report.discount"),
    ({"report": {"level": 1.0}}, "report.level"),
    ({"params": {"sim.n_firm": 100}}, "params.sim.n_firm"),
    ({"params": {"sim.n_firms": 5}}, "params.sim.n_firms"),
])
def test_bad_report_and_shared_params_are_one_line_errors(table, key):
    with pytest.raises(InputError, match=rf"^d\.toml: {key}: "):
        experiment_from_dict({**BASE, **table}, source="d.toml")


def test_the_command_line_says_it_in_one_line(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text('scenarios = ["baseline"]\n[design]\nkind = "grid"\ncrn = true\n'
                    "[design.levers.incubators]\nintensity = [0.5, 9.0]\n")
    assert main(["compare", str(path), "--results", str(tmp_path / "res")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "bad.toml: design.levers.incubators.intensity: intensity 9.0 is out of range" in err


def test_compare_pairs_design_points_only_with_common_random_numbers(tmp_path, capsys):
    path = tmp_path / "nocrn.toml"
    path.write_text('scenarios = ["baseline"]\n[design]\nkind = "grid"\n'
                    "[design.levers.incubators]\nintensity = [0.5]\n")
    assert main(["compare", str(path), "--results", str(tmp_path / "res")]) == 2
    assert "design.crn: compare pairs every design point" in capsys.readouterr().err


def test_design_points_are_packages_of_the_report_titled_by_their_settings():
    from cluster_abm.reports.comparison_report import ReportInputs, arm_titles, describe_point

    e = exp({"kind": "grid", "base": "sme_networks", "crn": True,
             "levers": {"network_contracts": {"intensity": [0.5, 2.0], "start_year": [0, 3]}}},
            scenarios=["baseline", "sme_networks"])
    assert list(e.arms) == ["baseline", "sme_networks", "p0001", "p0002", "p0003", "p0004"]
    inputs = ReportInputs("t", "", {n: s.title for n, s in e.scenarios.items()}, "baseline", 2,
                          2, experiment=e)
    titles = arm_titles(inputs, list(e.arms))
    assert titles["p0004"].endswith(": business network contracts at intensity 2 from year 3")
    assert describe_point({"policy.lever_budget": 500.0,
                           "levers.managerial_training.regions": ["north_east_romania"]}) == (
        "managerial training for dynamic capabilities in north_east_romania; "
        "policy.lever_budget = 500")
