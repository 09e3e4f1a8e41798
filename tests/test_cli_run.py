"""`cluster-abm run` end to end, and one-line errors with exit status 2 for bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from cluster_abm.cli.main import main


def run_cli(*args, cwd=None):
    proc = subprocess.run([sys.executable, "-m", "cluster_abm.cli.main", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=300)
    return proc.returncode, proc.stdout, proc.stderr


def test_run_writes_results_folder(tmp_path):
    code = main(["run", "baseline", "--seed", "7", "--years", "2", "--results", str(tmp_path), "--quiet"])
    assert code == 0
    (out,) = list(tmp_path.iterdir())
    assert out.name.startswith("baseline-")
    for f in ("timeseries.parquet", "kpis.csv", "manifest.json", "dashboard.png", "firm_log.parquet"):
        assert (out / f).stat().st_size > 0, f
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 7 and manifest["years"] == 2
    assert manifest["scenario"]["name"] == "baseline" and len(manifest["scenario"]["regions"]) == 6
    assert manifest["packages"]["mesa"] and manifest["code_version"]["commit"]
    assert manifest["wall_time_s"] > 0
    ts = pd.read_parquet(out / "timeseries.parquet")
    assert ts["step"].max() == 8 and "ALL" in set(ts["region"])
    assert (out / "dashboard.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_run_prints_headline_table(tmp_path, capsys):
    assert main(["run", "baseline", "--seed", "1", "--years", "1", "--results", str(tmp_path), "--quiet"]) == 0
    out = capsys.readouterr().out
    for label in ("Employment, final year", "Innovations per year", "Eco-innovations per year",
                  "Skilled emigrants", "Firm births per year", "Firm deaths per year",
                  "3-year survival of new firms", "Cooperation ties, intra-cluster",
                  "Cooperation ties, transnational"):
        assert label in out


BAD = {
    "unknown_key": ('extends = "baseline"\n[params.innovation]\nbase_rat = 0.1\n', "params.innovation.base_rat", "innovation.base_rate"),
    "out_of_range": ('extends = "baseline"\n[params]\n"coop.tie_decay" = 3.0\n', "coop.tie_decay", "allowed 0.0 to 1.0"),
    "malformed": ('extends = "baseline"\n[params\n', "malformed TOML", None),
    "top_level_typo": ('extend = "baseline"\n', "extend", "extends"),
    "bad_region_field": ('extends = "baseline"\n[regions_patch.veneto]\nunemployment = 0.9\n', "unemployment", "allowed 0.0 to 0.6"),
    "unknown_region": ('extends = "baseline"\n[regions_patch.venetto]\nunemployment = 0.1\n', "regions_patch.venetto", "veneto"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_scenario_gives_one_line_error(tmp_path, case):
    text, key, allowed = BAD[case]
    f = tmp_path / f"{case}.toml"
    f.write_text(text)
    code, out, err = run_cli("run", str(f), "--years", "1", "--results", str(tmp_path / "r"))
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert str(f) in lines[0] and key in lines[0]
    if allowed:
        assert allowed in lines[0]
    assert not (tmp_path / "r").exists(), "nothing runs half-configured"


def test_missing_file_gives_one_line_error(tmp_path):
    code, out, err = run_cli("run", str(tmp_path / "nope.toml"))
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "nope.toml" in err and "not found" in err


def test_bad_command_line_values(tmp_path):
    code, _, err = run_cli("run", "baseline", "--years", "0", "--results", str(tmp_path))
    assert code == 2 and "--years" in err and len(err.strip().splitlines()) == 1
