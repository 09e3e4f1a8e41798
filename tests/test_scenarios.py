"""The scenario library (smoke: every file runs) and bad lever input (one-line errors, nothing
runs half-configured)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cluster_abm.errors import InputError
from cluster_abm.model.cluster_model import ClusterModel
from cluster_abm.policy.levers import BY_ID, LEVERS, WG_NAMES
from cluster_abm.specs.scenario import load_scenario

SCENARIOS = sorted((Path(__file__).resolve().parent.parent / "scenarios").glob("*.toml"))
PACKAGES = ("wg1_innovation", "wg2_sustainability", "wg3_cooperation", "wg4_financing",
            "wg5_specialisation", "wg6_skills_jobs", "full_strategy", "new_ventures", "sme_networks",
            "entrepreneurial_cmos", "early_stage_region")


def test_library_is_complete():
    names = {p.stem for p in SCENARIOS}
    assert {"baseline", *PACKAGES} <= names


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_every_scenario_runs_a_year(path):
    sc = load_scenario(path)
    if sc.name != "baseline":
        assert sc.chain[-1].endswith("baseline.toml"), "library scenarios extend the baseline"
        assert sc.title != sc.name and len(sc.description) > 80, "title and description"
        assert "seed" in sc.description
    m = ClusterModel(sc, seed=3).run(1)
    w = m.series_wide()
    assert w["firms"][-1, -1] > 0 and np.isfinite(w["employment"]).all()
    costly = [lid for lid in sc.levers if not BY_ID[lid].cost.startswith("no extra cost")]
    if costly:
        assert w["public_cost"][1:, -1].sum() > 0
    else:
        assert w["public_cost"][1:, -1].sum() == 0


@pytest.mark.parametrize("wg", list(WG_NAMES))
def test_wg_package_switches_on_exactly_its_levers(wg):
    path = next(p for p in SCENARIOS if p.stem.startswith(wg.lower() + "_"))
    assert set(load_scenario(path).levers) == {lv.id for lv in LEVERS if lv.wg == wg}


def test_full_strategy_and_packages():
    assert set(load_scenario("full_strategy").levers) == set(BY_ID)
    assert set(load_scenario("new_ventures").levers) == {"incubators", "new_venture_finance"}
    assert set(load_scenario("sme_networks").levers) == {"network_contracts", "contract_credit_lines", "cooperation_support"}
    assert set(load_scenario("entrepreneurial_cmos").levers) == {
        "entrepreneurial_cmos", "cmo_ki_brokering", "cluster_manager_training", "see_platform"}
    # Targets where the seed says so: incubators in large clusters, glocal support where a gap is.
    inc = load_scenario("wg1_innovation").levers["incubators"]
    assert inc.clusters and "veneto.machinery" in inc.clusters
    glocal = load_scenario("wg3_cooperation").levers["glocal_support"]
    assert glocal.regions and "veneto" not in glocal.regions


def test_levers_from_takes_the_packages_levers_and_own_levers_win(tmp_path):
    (tmp_path / "both.toml").write_text(
        'extends = "baseline"\nlevers_from = ["new_ventures", "sme_networks"]\n'
        '[levers.incubators]\nintensity = 0.5\n')
    sc = load_scenario(tmp_path / "both.toml")
    parts = set(load_scenario("new_ventures").levers) | set(load_scenario("sme_networks").levers)
    assert set(sc.levers) == parts
    assert sc.levers["incubators"].intensity == 0.5
    (tmp_path / "bad.toml").write_text('extends = "baseline"\nlevers_from = ["no_such_package"]\n')
    with pytest.raises(InputError, match="levers_from"):
        load_scenario(tmp_path / "bad.toml")


def test_early_stage_region_is_one_region_scaled():
    sc = load_scenario("early_stage_region")
    assert [r["id"] for r in sc.regions] == ["north_east_romania"]
    assert sc.regions[0]["stage"] == "early"
    base = load_scenario("baseline")
    share = next(r["firm_share"] for r in base.regions if r["id"] == "north_east_romania")
    total = sum(r["firm_share"] for r in base.regions)
    assert sc.param("sim.n_firms") == round(base.param("sim.n_firms") * share / total)


# --- bad lever input ------------------------------------------------------------------------------
def _write(tmp_path, body: str) -> Path:
    path = tmp_path / "bad.toml"
    path.write_text('extends = "baseline"\n' + body)
    return path


BAD = {
    "unknown_lever": ("[levers.incubator]\nintensity = 1.0\n", "levers.incubator", "did you mean 'incubators'"),
    "typo_lever": ("[levers.see_platfrom]\n", "levers.see_platfrom", "'see_platform'"),
    "intensity_high": ("[levers.incubators]\nintensity = 3.5\n", "levers.incubators.intensity", "out of range"),
    "intensity_negative": ("[levers.kpi_monitoring]\nintensity = -0.1\n", "levers.kpi_monitoring.intensity", "out of range"),
    "intensity_text": ("[levers.kpi_monitoring]\nintensity = \"high\"\n", "levers.kpi_monitoring.intensity", "out of range"),
    "unknown_region": ("[levers.glocal_support]\nregions = [\"venetto\"]\n", "levers.glocal_support.regions", "'veneto'"),
    "unknown_cluster": ("[levers.incubators]\nclusters = [\"veneto.machines\"]\n", "levers.incubators.clusters", "'veneto.machinery'"),
    "empty_targets": ("[levers.incubators]\nregions = []\n", "levers.incubators.regions", "non-empty"),
    "cluster_outside_regions": ("[levers.incubators]\nregions = [\"veneto\"]\nclusters = [\"upper_austria.automotive\"]\n",
                                "levers.incubators.clusters", "outside the targeted regions"),
    "group_not_allowed": ("[levers.managerial_training]\nfirms = \"new_ventures\"\n", "levers.managerial_training.firms",
                          "allowed: promising, all, smes, cmo_members"),
    "untargetable_firms": ("[levers.incubators]\nfirms = \"smes\"\n", "levers.incubators.firms", "allowed: intensity, regions, clusters"),
    "not_a_table": ("[levers]\nincubators = 1\n", "levers.incubators", "must be a table"),
}


@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
def test_bad_lever_input_is_one_line_naming_file_and_key(tmp_path, case):
    body, key, hint = BAD[case]
    path = _write(tmp_path, body)
    with pytest.raises(InputError) as err:
        load_scenario(path)
    msg = str(err.value)
    assert "\n" not in msg
    assert str(path) in msg and key in msg, msg
    assert hint in msg, msg
    assert err.value.key == key


def test_bad_lever_input_stops_before_a_model_exists(tmp_path, monkeypatch):
    """Validation happens when the file is read: no world is built, nothing runs half-configured."""
    built = []
    monkeypatch.setattr(ClusterModel, "_build_firms", lambda self: built.append(self))
    path = _write(tmp_path, "[levers.incubators]\nintensity = 9\n")
    with pytest.raises(InputError):
        ClusterModel(path, seed=1)
    assert not built


def test_lever_can_be_switched_with_true_or_false(tmp_path):
    path = _write(tmp_path, "[levers]\nincubators = true\nkpi_monitoring = false\n")
    sc = load_scenario(path)
    assert set(sc.levers) == {"incubators"} and sc.levers["incubators"].intensity == 1.0
