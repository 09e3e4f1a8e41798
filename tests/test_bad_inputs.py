"""Bad input, tried as a hostile or unlucky user would (issue 20, "Tracebacks instead of one
line" and "Accepted nonsense"): every case below ends in one line on stderr naming the file and
the key and what is allowed, exit status 2, before anything is simulated or written.

The pattern is :mod:`tests.test_cli_errors`'s: the command runs in-process through the CLI's
boundary (:func:`cluster_abm.cli.main.main`), in an empty working folder, and the test checks
stderr, the status and that no ``results/`` folder appeared. ``run`` commands also check that no
model was built (:class:`ClusterModel` is replaced by one that fails the test).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import pytest

from cluster_abm.cli import cmd_run
from cluster_abm.cli import main as cli
from cluster_abm.specs.scenario import CLUSTER_FIELDS, REGION_FIELDS, SECTOR_FIELDS, load_scenario
from cluster_abm.specs.toml_spec import toml_key, toml_value

NUMERIC = (float, int)


def numeric(fields) -> list[str]:
    return [f.name for f in fields if f.kind in NUMERIC]


def resolved_baseline(**edit) -> str:
    """The baseline, fully resolved, as one TOML file; ``edit``: ``(table, index, field) -> value``."""
    raw = load_scenario("baseline").to_dict()
    raw.pop("extends_chain")
    for (table, index, fld), value in edit.get("cells", {}).items():
        raw[table][index][fld] = value
    return "".join(f"{toml_key(k)} = {toml_value(v)}\n" for k, v in raw.items())


class NoModel:
    def __init__(self, *a, **k):
        raise AssertionError("a model was built for bad input")


@pytest.fixture
def here(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cmd_run, "ClusterModel", NoModel)
    return tmp_path


def one_line(capsys, command: str, *words: str) -> str:
    out, err = capsys.readouterr()
    assert err.count("\n") == 1, err
    assert err.startswith(f"cluster-abm {command}: error: "), err
    assert "Traceback" not in err
    for w in words:
        assert w in err, (w, err)
    return err


def check(here, capsys, argv: list[str], *words: str) -> str:
    assert cli.main(argv) == 2
    err = one_line(capsys, argv[0], *words)
    assert not (here / "results").exists()
    return err


# --- NaN and infinities in every numeric field of regions, clusters and sectors --------------------
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize("field", numeric(REGION_FIELDS))
def test_non_finite_region_field(here, capsys, field, value):
    path = here / "s.toml"
    path.write_text(f'extends = "baseline"\n[regions_patch.veneto]\n{field} = {toml_value(value)}\n')
    for argv in (["scenario", "check", str(path)], ["run", str(path), "--quiet"]):
        check(here, capsys, argv, str(path), f"regions_patch.veneto.{field}")


@pytest.mark.parametrize("value", [math.nan, math.inf])
@pytest.mark.parametrize("field", numeric(SECTOR_FIELDS))
def test_non_finite_sector_field(here, capsys, field, value):
    path = here / "s.toml"
    path.write_text(resolved_baseline(cells={("sectors", 1, field): value}))
    check(here, capsys, ["run", str(path), "--quiet"], str(path), f"sectors[1].{field}")


@pytest.mark.parametrize("value", [math.nan, -math.inf])
@pytest.mark.parametrize("field", numeric(CLUSTER_FIELDS))
def test_non_finite_cluster_field(here, capsys, field, value):
    path = here / "s.toml"
    path.write_text('extends = "baseline"\n[regions_patch.veneto]\nclusters = [{ sector = '
                    f'"wood", {field} = {toml_value(value)} }}]\n')
    check(here, capsys, ["run", str(path), "--quiet"], str(path),
          f"regions_patch.veneto.clusters[0].{field}")


# --- one case per kind of nonsense ----------------------------------------------------------------
SCENARIOS = {  # name -> (file text or bytes, words the one line must hold)
    "int field 2.5": ('extends = "baseline"\n[regions_patch.veneto]\nuniversities = 2.5\n',
                      "regions_patch.veneto.universities", "whole number"),
    "sector field 1.5": (resolved_baseline(cells={("sectors", 0, "field"): 1.5}),
                         "sectors[0].field", "whole number"),
    "years 2.5": ('extends = "baseline"\n[simulation]\nyears = 2.5\n', "sim.years", "whole number"),
    "n_firms nan": ('extends = "baseline"\n[simulation]\nn_firms = nan\n', "sim.n_firms", "finite"),
    "lever start 1.5": ('extends = "baseline"\n[levers.incubators]\nstart_year = 1.5\n',
                        "levers.incubators.start_year"),
    "lever intensity nan": ('extends = "baseline"\n[levers.incubators]\nintensity = nan\n',
                            "levers.incubators.intensity"),
    "firm_share 0": ('extends = "baseline"\n[regions_patch.veneto]\nfirm_share = 0.0\n',
                     "regions_patch.veneto.firm_share", "above 0"),
    "clusters []": ('extends = "baseline"\n[regions_patch.veneto]\nclusters = []\n',
                    "regions_patch.veneto.clusters", "at least one cluster"),
    "patch = 5": ('extends = "baseline"\n[regions_patch]\nveneto = 5\n', "regions_patch.veneto",
                  "must be a table"),
    "patches = 5": ('extends = "baseline"\nregions_patch = 5\n', "regions_patch", "table"),
    "patch changes id": ('extends = "baseline"\n[regions_patch.veneto]\nid = "x"\n',
                         "regions_patch.veneto.id"),
    "deep arrays": ('extends = "baseline"\nx = ' + "[" * 3000 + "]" * 3000 + "\n", "nested"),
    "deep tables": ('extends = "baseline"\n[params.' + ".".join(["a"] * 3000) + "]\nb = 1\n",
                    "params.a.a", "nested"),
    "not utf-8": (b'extends = "baseline"\ntitle = "caf\xe9"\n', "not UTF-8"),
    "name ../../x": ('extends = "baseline"\nname = "../../x"\n', "name", "letters, digits"),
    "name absolute": ('extends = "baseline"\nname = "/tmp/x"\n', "name", "letters, digits"),
    "name 300 chars": (f'extends = "baseline"\nname = "{"a" * 300}"\n', "name", "at most 100"),
    "title a number": ('extends = "baseline"\ntitle = 5\n', "title", "string"),
    "levers_from a string": ('extends = "baseline"\nlevers_from = "wg1_innovation"\n',
                             "levers_from", "list"),
    "levers a number": ('extends = "baseline"\nlevers = 3\n', "levers", "table"),
    "extends empty": ('extends = ""\n', "extends"),
    "extends 300 chars": (f'extends = "{"a" * 300}"\n', "extends", "cannot find"),
    "extends with a NUL": ('extends = "base\\u0000line"\n', "extends", "cannot find"),
}


@pytest.mark.parametrize("case", sorted(SCENARIOS))
def test_bad_scenario(here, capsys, case):
    content, *words = SCENARIOS[case]
    path = here / "s.toml"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    for argv in (["scenario", "check", str(path)], ["run", str(path), "--quiet"]):
        check(here, capsys, argv, str(path), *words)


EXPERIMENTS = {
    "seed 2**70": ("seed = 1180591620717411303424\n", "seed", "2**63 - 1"),
    "seed -1": ("seed = -1\n", "seed"),
    "replicates nan": ("replicates = nan\n", "replicates"),
    "replicates 1.5": ("replicates = 1.5\n", "replicates", "whole number"),
    "years 0.5": ("years = 0.5\n", "years"),
    "name 300 chars": (f'name = "{"b" * 300}"\n', "name", "at most 100"),
    "name with a slash": ('name = "../x"\n', "name"),
    "deep": ("x = " + "[" * 600 + "]" * 600 + "\n", "nested"),
    "scenario name 300 chars": (f'scenarios = ["{"c" * 300}"]\n', "scenarios[0]", "unknown scenario"),
}


@pytest.mark.parametrize("case", sorted(EXPERIMENTS))
@pytest.mark.parametrize("command", ["sweep", "compare"])
def test_bad_experiment(here, capsys, case, command):
    text, *words = EXPERIMENTS[case]
    path = here / "e.toml"
    path.write_text(("" if text.startswith("scenarios") else 'scenarios = ["baseline"]\n') + text)
    check(here, capsys, [command, str(path), "--quiet"], str(path), *words)


# --- the command line ---------------------------------------------------------------------------------
@pytest.mark.parametrize("option,value,words", [
    ("--years", "0.1", "whole number"),
    ("--years", "0", "from 1 to 100"),
    ("--years", "101", "from 1 to 100"),
    ("--years", "nan", "whole number"),
    ("--years", "1e3", "whole number"),
    ("--seed", str(2**70), "2**63 - 1"),
    ("--seed", str(2**63), "2**63 - 1"),
    ("--seed", "-1", "from 0"),
    ("--seed", "1.5", "whole number"),
    ("--seed", "seven", "whole number"),
])
def test_bad_run_option(here, capsys, option, value, words):
    check(here, capsys, ["run", "baseline", option, value, "--quiet"], option, words)


def test_seed_range_is_the_same_everywhere(here, capsys):
    """The largest seed run accepts is the largest a sweep or the app accepts, and one more is
    refused by all three."""
    from cluster_abm.experiments import seeds
    from cluster_abm.ui.controls import check_seed

    top = 2**63 - 1
    assert cmd_run.parse_seed(str(top)) == seeds.check_seed(top) == check_seed(top) == top
    for refuse in (lambda: cmd_run.parse_seed(str(top + 1)), lambda: seeds.check_seed(top + 1),
                   lambda: check_seed(top + 1)):
        with pytest.raises(ValueError):
            refuse()
    path = here / "e.toml"
    path.write_text(f'scenarios = ["baseline"]\nseed = {top + 1}\n')
    check(here, capsys, ["sweep", str(path), "--quiet"], "seed")


def test_unknown_option_is_one_line(here, capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["run", "baseline", "--yeers", "3"])
    assert stop.value.code == 2
    _, err = capsys.readouterr()
    assert err.count("\n") == 1 and "--yeers" in err and "Traceback" not in err


# --- output folders: checked before anything is simulated -------------------------------------------
def unwritable(tmp_path: Path) -> Path:
    """A folder nobody may create files in: read-only permission bits, or for root (who ignores
    them) a folder of /sys, where not even root creates files."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    if os.access(folder, os.W_OK):
        if not Path("/sys/kernel").is_dir():
            pytest.skip("running as root without /sys: no folder is read-only here")
        return Path("/sys/kernel")
    return folder


@pytest.mark.parametrize("where", ["the folder", "a sub-folder"])
def test_read_only_results_folder_is_refused_before_simulating(here, capsys, where):
    folder = unwritable(here)
    results = folder if where == "the folder" else folder / "results"
    check(here, capsys, ["run", "baseline", "--years", "1", "--results", str(results), "--quiet"],
          "--results", str(folder), "cannot write")


def test_impossible_results_folder_is_refused_before_simulating(here, capsys):
    (here / "a-file").write_text("not a folder\n")
    check(here, capsys, ["run", "baseline", "--results", str(here / "a-file" / "r"), "--quiet"],
          "--results", "Not a directory")


def test_out_must_be_new_or_empty(here, capsys):
    (here / "full").mkdir()
    (here / "full" / "x").write_text("")
    check(here, capsys, ["run", "baseline", "--out", str(here / "full"), "--quiet"], "--out",
          "not an empty folder")
    (here / "f").write_text("")
    check(here, capsys, ["run", "baseline", "--out", str(here / "f"), "--quiet"], "--out")


def test_a_long_scenario_file_name_is_made_safe_before_simulating(here, capsys, monkeypatch):
    """A scenario whose file name (its default name) is long or odd gets a safe folder name:
    at most 100 characters, no spaces; the folder is made before the model is built."""
    made = []

    class Stop(Exception):
        pass

    def no_model(tmp, scenario, seed, years, args):
        made.append(tmp)
        raise Stop

    monkeypatch.setattr(cmd_run, "_simulate_into", no_model)
    path = here / f"{'x y' * 70}.toml"
    path.write_text('extends = "baseline"\n')
    with pytest.raises(Stop):
        cli.main(["run", str(path), "--quiet"])
    (tmp,) = made
    assert tmp.parent.resolve() == (here / "results").resolve()
    assert len(tmp.name) < 140 and " " not in tmp.name and "x_yx_y" in tmp.name
    assert not tmp.exists(), "the hidden work folder is removed when the run does not finish"


def test_validate_checks_its_report_folder_first(here, capsys, monkeypatch):
    import cluster_abm.analysis.validation.validate as validate

    monkeypatch.setattr(validate, "run_validation", NoModel)
    (here / "a-file").write_text("")
    check(here, capsys, ["validate", "baseline", "--seeds", "1", "--out",
                         str(here / "a-file" / "v.md"), "--quiet"], "--out", "cannot write")
