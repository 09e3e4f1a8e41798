"""``levers`` and ``scenario show|check`` command functions, called directly; docs/policies.md."""

from __future__ import annotations

import argparse
import io
import json
import tomllib
from pathlib import Path

import pytest

from cluster_abm.cli import cmd_scenarios as cmd
from cluster_abm.errors import InputError
from cluster_abm.policy.levers import LEVERS, catalogue_markdown
from cluster_abm.specs.scenario import load_scenario

DOCS = Path(__file__).resolve().parent.parent / "docs" / "policies.md"


def parse(add, argv):
    p = argparse.ArgumentParser()
    add(p)
    return p.parse_args(argv)


def call(fn, args) -> tuple[int, str]:
    out = io.StringIO()
    code = fn(args, out=out)
    return code, out.getvalue()


def test_levers_table_lists_every_lever():
    code, text = call(cmd.cmd_levers, parse(cmd.add_levers_arguments, []))
    assert code == 0
    for lv in LEVERS:
        assert lv.id in text
    assert "3.4.3" in text and f"{len(LEVERS)} levers" in text


def test_levers_filter_by_wg_case_insensitive():
    code, text = call(cmd.cmd_levers, parse(cmd.add_levers_arguments, ["--wg", "wg3"]))
    assert code == 0
    assert "see_platform" in text and "incubators" not in text
    n = sum(lv.wg == "WG3" for lv in LEVERS)
    assert f"{n} levers of WG3" in text


def test_levers_unknown_wg_is_input_error():
    with pytest.raises(InputError, match="WG7.*allowed|did you mean"):
        cmd.cmd_levers(parse(cmd.add_levers_arguments, ["--wg", "WG7"]), out=io.StringIO())


def test_levers_markdown_is_the_docs_page():
    code, text = call(cmd.cmd_levers, parse(cmd.add_levers_arguments, ["--markdown"]))
    assert code == 0 and text == catalogue_markdown()
    code, text = call(cmd.cmd_levers, parse(cmd.add_levers_arguments, ["--markdown", "--wg", "WG5"]))
    assert text.startswith("## WG5") and "meta_clusters" in text and "incubators" not in text


def test_docs_policies_md_is_current():
    assert DOCS.read_text() == catalogue_markdown(), (
        "docs/policies.md is stale: regenerate with `cluster-abm levers --markdown > docs/policies.md`")


def test_scenario_show_toml_round_trips():
    code, text = call(cmd.cmd_scenario, parse(cmd.add_scenario_arguments, ["show", "wg1_innovation"]))
    assert code == 0
    data = tomllib.loads(text)
    assert data == load_scenario("wg1_innovation").to_dict()
    assert data["levers"]["incubators"]["clusters"][0] == "veneto.machinery"
    assert len(data["regions"]) == 6  # inherited from the baseline: fully resolved


def test_scenario_show_json():
    code, text = call(cmd.cmd_scenario, parse(cmd.add_scenario_arguments, ["show", "early_stage_region", "--json"]))
    assert code == 0
    data = json.loads(text)
    assert [r["id"] for r in data["regions"]] == ["north_east_romania"]
    assert data["params"]["sim.n_firms"] == 400


def test_scenario_check_summary_line():
    code, text = call(cmd.cmd_scenario, parse(cmd.add_scenario_arguments, ["check", "sme_networks"]))
    assert code == 0
    assert text.strip() == ("OK: sme_networks (6 regions, 13 clusters, levers: network_contracts, "
                            "contract_credit_lines, cooperation_support)")
    code, text = call(cmd.cmd_scenario, parse(cmd.add_scenario_arguments, ["check", "baseline"]))
    assert text.strip() == "OK: baseline (6 regions, 13 clusters, levers: none)"


def test_scenario_check_bad_file_raises_input_error(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('extends = "baseline"\n[levers.incubatorz]\n')
    with pytest.raises(InputError) as err:
        cmd.cmd_scenario(parse(cmd.add_scenario_arguments, ["check", str(bad)]), out=io.StringIO())
    assert "levers.incubatorz" in str(err.value) and "incubators" in str(err.value)
    with pytest.raises(InputError, match="not found"):
        cmd.cmd_scenario(parse(cmd.add_scenario_arguments, ["show", str(tmp_path / "missing.toml")]),
                         out=io.StringIO())


def test_scenario_needs_an_action():
    with pytest.raises(SystemExit):
        parse(cmd.add_scenario_arguments, [])
