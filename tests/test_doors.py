"""Doors closed (issue 20): what a file or a results folder someone sends you can make the program
do. Output stays under ``results/`` (or an explicit ``--out``); references written in a file
resolve only inside the scenario search path; replay imports only the project's simulate or one
named on the command line; the app opens only its own scenarios and shows no server path; a
calibration file cannot send its study to another machine; the README's Dask recipe binds an
interface and uses TLS.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import pytest

from cluster_abm.cli import main as cli
from cluster_abm.errors import InputError
from cluster_abm.experiments.experiment_spec import experiment_from_dict, load_experiment
from cluster_abm.specs import scenario as scenario_mod
from cluster_abm.specs.scenario import load_scenario, scenario_dirs
from tests.fakes import FAKE, write_experiment

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.toml"


@pytest.fixture
def reads(monkeypatch):
    """Every file the scenario loader opens, in order."""
    opened: list[str] = []
    real = scenario_mod.read_toml

    def spy(path):
        opened.append(str(Path(path).resolve()))
        return real(path)

    monkeypatch.setattr(scenario_mod, "read_toml", spy)
    return opened


@pytest.fixture
def outside(tmp_path_factory) -> Path:
    """A scenario file that is valid but lies outside every search path of the tests' files."""
    folder = tmp_path_factory.mktemp("elsewhere")
    path = folder / "secret.toml"
    path.write_text('extends = "baseline"\ntitle = "not yours"\n')
    return path


def one_line(text: str, *words: str) -> None:
    assert "\n" not in text.strip() and "Traceback" not in text, text
    for w in words:
        assert w in text, (w, text)


# --- output always under results/ ----------------------------------------------------------------
@pytest.mark.parametrize("name", ["../../x", "/tmp/abs", "a/b", "..", "x" * 300])
def test_a_scenario_name_cannot_lead_the_run_out_of_results(tmp_path, monkeypatch, capsys, name):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.toml").write_text(f'extends = "baseline"\nname = {json.dumps(name)}\n')
    assert cli.main(["run", "s.toml", "--years", "1", "--quiet"]) == 2
    one_line(capsys.readouterr().err, "s.toml", "name")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.toml"]


def test_a_file_name_is_made_safe_as_a_folder_name(tmp_path, monkeypatch):
    """A file called ``...toml`` (its name ``..``) still writes inside results/."""
    from cluster_abm.cli.cmd_run import output_folder

    monkeypatch.chdir(tmp_path)
    final, work = output_folder("results", None, "..")
    assert final.parent == Path("results") and final.name.startswith("scenario-")
    assert work.parent == Path("results") and work.is_dir()
    final, work = output_folder("results", None, "../../etc/x y")
    assert final.resolve().is_relative_to((tmp_path / "results").resolve())
    assert "/" not in final.name and " " not in final.name


# --- references stay inside the scenario search path ----------------------------------------------
@pytest.mark.parametrize("ref", ["/etc/passwd", "../../../../../../etc/passwd", "{outside}"])
@pytest.mark.parametrize("key", ["extends", "levers_from"])
def test_a_scenario_file_cannot_read_files_elsewhere(tmp_path, reads, outside, key, ref):
    ref = ref.format(outside=outside)
    child = tmp_path / "child.toml"
    value = json.dumps(ref) if key == "extends" else json.dumps([ref])
    child.write_text(f'{"" if key == "extends" else "extends = " + json.dumps("baseline") + chr(10)}'
                     f"{key} = {value}\n")
    with pytest.raises(InputError) as err:
        load_scenario(child)
    one_line(str(err.value), str(child), f": {key}: ", "leads outside")
    assert str(Path(ref).resolve()) not in reads and "/etc/passwd" not in reads


def test_a_symbolic_link_out_of_the_folder_is_refused(tmp_path, reads, outside):
    (tmp_path / "link.toml").symlink_to(outside)
    (tmp_path / "child.toml").write_text('extends = "link"\n')
    with pytest.raises(InputError, match="extends: 'link' leads outside"):
        load_scenario(tmp_path / "child.toml")
    assert str(outside.resolve()) not in reads


def test_references_inside_the_search_path_still_work(tmp_path, monkeypatch):
    """Siblings, sub-folders, project scenarios by name and by path, and any path given
    on the command line itself."""
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "part.toml").write_text('extends = "baseline"\n[levers.incubators]\n')
    (tmp_path / "a.toml").write_text(f'extends = {json.dumps(str(BASELINE))}\n')
    (tmp_path / "b.toml").write_text('extends = "a"\nlevers_from = ["sub/part.toml"]\n')
    assert "incubators" in load_scenario(tmp_path / "b.toml").levers
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "base.toml").write_text(BASELINE.read_text())
    (tmp_path / "c.toml").write_text('extends = "base"\n')
    with pytest.raises(InputError, match="cannot find 'base'"):  # not in this ./scenarios
        load_scenario(tmp_path / "c.toml")
    monkeypatch.chdir(tmp_path)  # now ./scenarios is tmp_path/scenarios: "base" is found there
    assert load_scenario("c.toml").chain[-1] == str(tmp_path / "scenarios" / "base.toml")


def test_an_explicit_path_on_the_command_line_is_the_users_choice(outside, capsys):
    assert cli.main(["scenario", "check", str(outside)]) == 0
    assert capsys.readouterr().out.startswith("OK: secret")


def test_the_working_folder_is_searched_only_for_files_inside_it(tmp_path, monkeypatch, outside):
    """A project's files may refer to each other (scenarios/x.toml extends ../study/y.toml);
    a downloaded file outside the working folder may not reach into it."""
    project = tmp_path / "project"
    (project / "study").mkdir(parents=True)
    (project / "scenarios").mkdir()
    (project / "study" / "y.toml").write_text('extends = "baseline"\n')
    (project / "scenarios" / "x.toml").write_text('extends = "../study/y.toml"\n')
    monkeypatch.chdir(project)
    assert load_scenario("scenarios/x.toml").chain[0].endswith("x.toml")
    download = outside.parent / "evil.toml"
    download.write_text(f'extends = {json.dumps(str(project / "study" / "y.toml"))}\n')
    with pytest.raises(InputError, match="leads outside"):
        load_scenario(download)


@pytest.mark.parametrize("where", ["scenarios", "design.base"])
def test_an_experiment_cannot_list_files_elsewhere(tmp_path, reads, outside, where):
    raw = {"scenarios": ["baseline"], "design": {"kind": "grid", "base": "baseline",
                                                 "params": {"funding.eu_budget": [500.0]}}}
    if where == "scenarios":
        raw["scenarios"] = ["baseline", str(outside)]
    else:
        raw["design"]["base"] = str(outside)
    with pytest.raises(InputError) as err:
        experiment_from_dict(raw, source=str(tmp_path / "e.toml"), base_dir=tmp_path)
    one_line(str(err.value), "e.toml", where, "leads outside")
    assert str(outside.resolve()) not in reads


def test_a_study_and_a_calibration_cannot_name_scenarios_elsewhere(tmp_path, outside):
    from cluster_abm.analysis.calibration.calibration_spec import calibration_from_dict
    from cluster_abm.analysis.sensitivity.study import study_from_dict

    study = {"base": str(outside), "method": "morris", "n": 2, "parameters": ["coop.tie_decay"]}
    with pytest.raises(InputError, match=r"s\.toml: base: .*leads outside"):
        study_from_dict(study, source=str(tmp_path / "s.toml"), base_dir=tmp_path)
    cal = {"scenario": str(outside), "params": {"coop.tie_decay": {"low": 0.01, "high": 0.2}},
           "targets": {"birth_rate.EU": {}}}
    with pytest.raises(InputError, match=r"c\.toml: scenario: .*leads outside"):
        calibration_from_dict(cal, source=str(tmp_path / "c.toml"), base_dir=tmp_path)
    cal = dict(cal, scenario="baseline", targets_file="../../etc/x.csv")
    with pytest.raises(InputError, match=r"c\.toml: targets_file: .*leads outside"):
        calibration_from_dict(cal, source=str(tmp_path / "c.toml"), base_dir=tmp_path)


def test_the_search_path_is_the_files_folder_and_the_scenario_folders(tmp_path):
    roots = scenario_mod.search_roots(tmp_path)
    assert roots[0] == tmp_path and roots[-len(scenario_dirs()):] == scenario_dirs()


# --- replay and resume import only the project's model or a named one -----------------------------
EVIL = """
from pathlib import Path
Path({marker!r}).write_text("imported")
def simulate(*a, **k):
    raise RuntimeError("never")
"""


@pytest.fixture
def sent_store(tmp_path, monkeypatch):
    """A store whose manifest names a module that, if imported, leaves a marker file."""
    from cluster_abm.experiments.runner import run_experiment
    from cluster_abm.experiments.store import Store

    path = write_experiment(tmp_path, 'name = "sent"\nscenarios = ["baseline"]\nreplicates = 2\n'
                                      'years = 1\n[execution]\nexecutor = "serial"\n')
    results = tmp_path / "res"
    run_experiment(path, results_dir=results, simulate=FAKE, quiet=True)
    marker = tmp_path / "imported.txt"
    (tmp_path / "evil_door_module.py").write_text(EVIL.format(marker=str(marker)))
    monkeypatch.syspath_prepend(str(tmp_path))
    store = Store(results / "sent")
    manifest = store.read_manifest()
    manifest["simulate"] = "evil_door_module:simulate"
    store.write_manifest(manifest)
    yield path, results, marker
    sys.modules.pop("evil_door_module", None)


def test_replay_does_not_import_what_a_manifest_names(sent_store, capsys):
    path, results, marker = sent_store
    run_id = "baseline-r000"
    assert cli.main(["replay", run_id, "--results", str(results)]) == 2
    one_line(capsys.readouterr().err, "--simulate", "evil_door_module:simulate", "trust")
    assert not marker.exists() and "evil_door_module" not in sys.modules
    # the user names a model on the command line: that one is used (here the fake)
    assert cli.main(["replay", run_id, "--results", str(results), "--simulate", FAKE]) == 0
    assert not marker.exists()


def test_resume_does_not_import_what_a_manifest_names(sent_store, capsys):
    path, results, marker = sent_store
    assert cli.main(["sweep", str(path), "--results", str(results), "--quiet"]) == 2
    one_line(capsys.readouterr().err, "evil_door_module:simulate", "--overwrite")
    assert not marker.exists() and "evil_door_module" not in sys.modules


def test_the_projects_own_model_under_its_old_name_is_replayed():
    from cluster_abm.analysis.replay import replay_target
    from cluster_abm.experiments.worker import DEFAULT_TARGET

    class Store:
        path = Path("results/x")

        def __init__(self, target):
            self.target = target

        def read_manifest(self):
            return {} if self.target is None else {"simulate": self.target}

    for stored in (None, DEFAULT_TARGET, "cluster_abm.simulate:simulate"):
        assert replay_target(None, Store(stored)) == DEFAULT_TARGET
    assert replay_target("mine:run", Store("os:system")) == "mine:run"
    for bad in ("os:system", "cluster_abm.model.simulate:other", 5):
        with pytest.raises(InputError, match="--simulate"):
            replay_target(None, Store(bad))


# --- the app --------------------------------------------------------------------------------------
def test_the_app_opens_only_its_own_scenarios(tmp_path, monkeypatch, outside):
    from cluster_abm.ui import controls

    monkeypatch.setenv(controls.SCENARIOS_ENV, str(tmp_path))
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "mine.toml").write_text('extends = "baseline"\n')
    assert controls.picked_scenario("baseline") == str(BASELINE.resolve())
    assert controls.picked_scenario("pkg/mine").endswith("mine.toml")
    assert controls.picked_scenario(str(tmp_path / "pkg" / "mine.toml")).endswith("mine.toml")
    for sent in (str(outside), "/etc/passwd", "../" * 8 + "etc/passwd", "pkg/../../x",
                 str(tmp_path / "pkg" / ".." / ".." / "x.toml"), "", 5, None):
        with pytest.raises(InputError, match="scenario file not found") as err:
            controls.picked_scenario(sent)
        banner = controls.explain(err.value)
        assert str(tmp_path) not in banner and not re.search(r"(^|[\s'\"(])/\w", banner), banner


def test_the_app_banner_shows_no_server_path(tmp_path, monkeypatch):
    from cluster_abm.ui import controls
    from cluster_abm.ui.app_state import AppState

    monkeypatch.setenv(controls.SCENARIOS_ENV, str(tmp_path))
    bad = tmp_path / "broken.toml"
    bad.write_text('extends = "baseline"\n[regions_patch.veneto]\nunemployment = 0.9\n')
    state = AppState(controls.Settings(seeds=1, horizon=1), build=False)
    for ref, words in ((str(bad), "broken.toml: regions_patch.veneto.unemployment"),
                       ("/etc/passwd", "passwd"), (str(ROOT), "not found")):
        assert not state.update(scenario=ref)
        banner = state.error.value
        assert words in banner, banner
        assert str(tmp_path) not in banner and str(ROOT) not in banner and "/etc" not in banner
        assert not re.search(r"(^|[\s'\"(])/\w", banner), banner
    state.close()


def test_hide_paths_keeps_labels_and_last_parts():
    from cluster_abm.ui.controls import hide_paths

    text = (f"{BASELINE}: regions[0].x: bad; see /home/someone/secret/notes.txt or "
            "C:\\Users\\x\\y.toml (cannot read '/srv/app/data.csv')")
    shown = hide_paths(text)
    assert shown.startswith("baseline.toml: regions[0].x: bad")
    assert "notes.txt" in shown and "y.toml" in shown and "'data.csv'" in shown
    assert "/home" not in shown and "Users" not in shown and "/srv" not in shown


# --- calibration storage -----------------------------------------------------------------------------
@pytest.mark.parametrize("url,words", [
    ("postgresql://attacker.example/study", "command line only"),
    ("mysql+pymysql://u:p@h/db", "command line only"),
    ("sqlite:////etc/cluster.db", "leaves the working folder"),
    ("sqlite:///../../x.db", "leaves the working folder"),
    ("journal:/tmp/j.log", "leaves the working folder"),
    ("sqlite:///:memory:", "keeps nothing"),
    ("sqlite://", "unknown storage"),
    ("oracle://h/db", "unknown storage"),
    ("file:///etc/passwd", "unknown storage"),
    ("sqlite:///a b.db", "without spaces"),
    ("journal:", "names no file"),
])
def test_a_calibration_file_names_only_a_local_storage(tmp_path, url, words):
    from cluster_abm.analysis.calibration.calibration_spec import calibration_from_dict

    cal = {"params": {"coop.tie_decay": {"low": 0.01, "high": 0.2}},
           "targets": {"birth_rate.EU": {}}, "storage": {"url": url}}
    with pytest.raises(InputError) as err:
        calibration_from_dict(cal, source=str(tmp_path / "c.toml"), base_dir=tmp_path)
    one_line(str(err.value), "c.toml", "storage.url", words)


def test_the_command_line_may_name_any_database(tmp_path):
    from cluster_abm.analysis.calibration.calibration_spec import calibration_from_dict

    cal = calibration_from_dict({"params": {"coop.tie_decay": {"low": 0.01, "high": 0.2}},
                                 "targets": {"birth_rate.EU": {}},
                                 "storage": {"url": "sqlite:///results/c/optuna.db"}},
                                source=str(tmp_path / "c.toml"), base_dir=tmp_path)
    for url in ("postgresql://db.example/study", "sqlite:////abs/o.db", "journal:/tmp/x",
                "journal"):
        assert cal.with_overrides(storage=url).storage == url
    with pytest.raises(InputError, match="--storage: unknown storage"):
        cal.with_overrides(storage="oracle://x")


# --- the Dask recipe ---------------------------------------------------------------------------------
def test_the_readme_runs_dask_with_tls_on_a_bound_interface():
    text = (ROOT / "README.md").read_text()
    start = text.index("**Dask with an existing scheduler.**")
    section = text[start:text.index("**A SLURM cluster", start)]
    for needle in ("--protocol tls", "--tls-ca-file", "--tls-cert", "--tls-key", "--host",
                   "--dashboard-address 127.0.0.1", "tls://", "no authentication",
                   "DASK_DISTRIBUTED__COMM__TLS__CA_FILE", "require-encryption"):
        assert needle in section, needle
    assert not re.search(r"dask scheduler --port \d+ &", section), "a scheduler on all interfaces"


@pytest.mark.skipif(os.name == "nt", reason="POSIX paths")
def test_experiment_by_name_from_the_project_still_loads():
    assert load_experiment("smoke").scenarios


# --- Dask schedulers named in files -----------------------------------------------------------------
@pytest.mark.parametrize("command", ["sweep", "compare"])
def test_a_file_cannot_send_the_runs_to_another_machine(tmp_path, capsys, command):
    path = write_experiment(tmp_path, 'scenarios = ["baseline"]\n[execution]\nexecutor = "dask"\n'
                                      'scheduler = "tcp://attacker.example:8786"\n')
    argv = [command, str(path), "--results", str(tmp_path / "res"), "--simulate", FAKE, "--quiet"]
    assert cli.main(argv) == 2
    one_line(capsys.readouterr().err, str(path), "execution.scheduler",
             "--scheduler tcp://attacker.example:8786")
    assert not (tmp_path / "res").exists()


def test_a_local_scheduler_in_a_file_is_fine_and_the_command_line_decides():
    from types import SimpleNamespace

    from cluster_abm.cli.cmd_sweep import check_file_scheduler

    for address in ("tcp://127.0.0.1:8786", "tls://localhost:1", "tcp://[::1]:8786"):
        check_file_scheduler(SimpleNamespace(scheduler=address), None, "e.toml")
    check_file_scheduler(SimpleNamespace(scheduler="tcp://10.0.0.5:8786"), "tcp://10.0.0.5:8786",
                         "e.toml")
    with pytest.raises(InputError, match="e.toml: execution.scheduler"):
        check_file_scheduler(SimpleNamespace(scheduler="10.0.0.5:8786"), None, "e.toml")


def test_a_tls_scheduler_without_a_client_certificate_is_one_line(tmp_path, capsys, monkeypatch):
    for var in ("CA_FILE", "CLIENT__CERT", "CLIENT__KEY"):
        monkeypatch.delenv(f"DASK_DISTRIBUTED__COMM__TLS__{var}", raising=False)
    path = write_experiment(tmp_path, 'scenarios = ["baseline"]\n')
    argv = ["sweep", str(path), "--scheduler", "tls://127.0.0.1:1", "--simulate", FAKE, "--quiet",
            "--results", str(tmp_path / "res")]
    assert cli.main(argv) == 2
    one_line(capsys.readouterr().err, "--scheduler", "DASK_DISTRIBUTED__COMM__TLS__CA_FILE")
