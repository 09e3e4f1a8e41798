"""The command line's one error boundary (cluster_abm.cli.main.run_command): bad spec files of
every kind, OS errors on user-given paths, interrupts and closed pipes end in one line on
stderr and a fixed exit status, never a traceback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from cluster_abm.cli import main as cli
from cluster_abm.errors import InputError
from cluster_abm.experiments.store import Store
from tests.fakes import FAKE, start_sweep, wait_for_runs, write_experiment

ROOT = Path(__file__).resolve().parents[1]

# command line for each kind of spec file, with {file} where the file goes
COMMANDS = {
    "scenario check": ["scenario", "check", "{file}"],
    "run (scenario)": ["run", "{file}", "--quiet"],
    "sweep (experiment)": ["sweep", "{file}", "--quiet"],
    "compare (experiment)": ["compare", "{file}", "--quiet"],
    "sensitivity (study)": ["sensitivity", "{file}", "--quiet"],
    "calibrate (calibration)": ["calibrate", "{file}", "--quiet"],
}
PROBLEMS = {  # name -> (file contents or None for "no file", words the message must contain)
    "missing": (None, "not found"),
    "malformed": (b'name = "x"\nreplicates = [1, 2\n', "malformed TOML"),
    "not-utf8": (b'name = "caf\xe9"\n', "not UTF-8"),
    "folder": ("folder", "is a folder"),
}


def _one_line_error(capsys, command: str, path: Path, words: str) -> None:
    out, err = capsys.readouterr()
    assert err.count("\n") == 1, err
    assert err.startswith(f"cluster-abm {command}: error: "), err
    assert str(path) in err and words in err, err
    assert "Traceback" not in err and out == ""


@pytest.mark.parametrize("problem", list(PROBLEMS))
@pytest.mark.parametrize("kind", list(COMMANDS))
def test_bad_spec_file_is_one_line_and_status_2(tmp_path, capsys, monkeypatch, kind, problem):
    monkeypatch.chdir(tmp_path)  # results/ of a command that got further would land here
    content, words = PROBLEMS[problem]
    path = tmp_path / "spec.toml"
    if content == "folder":
        path.mkdir()
    elif content is not None:
        path.write_bytes(content)
    argv = [a.replace("{file}", str(path)) for a in COMMANDS[kind]]
    assert cli.main(argv) == 2
    _one_line_error(capsys, argv[0], path, words)
    assert not (tmp_path / "results").exists()


def test_os_error_on_a_user_given_path_is_one_line(tmp_path, capsys):
    path = write_experiment(tmp_path, 'scenarios = ["baseline"]\nreplicates = 1\nyears = 1\n')
    results = tmp_path / "results-is-a-file"
    results.write_text("not a folder\n")
    code = cli.main(["sweep", str(path), "--results", str(results), "--simulate", FAKE,
                     "--executor", "serial", "--quiet"])
    assert code == 2
    _one_line_error(capsys, "sweep", results, "")


@pytest.mark.parametrize("exc,status,words", [
    (InputError("must be a whole number", source="x.toml", key="replicates"), 2,
     "error: x.toml: replicates: must be a whole number"),
    (PermissionError(13, "Permission denied", "/root/results"), 2,
     "error: /root/results: Permission denied"),
    (IsADirectoryError(21, "Is a directory", "out"), 2, "error: out: Is a directory"),
    (OSError(28, "No space left on device", "results/x/runs.parquet"), 2,
     "error: results/x/runs.parquet: No space left on device"),
    (FileNotFoundError("no such file"), 2, "error: no such file"),
    (KeyboardInterrupt(), 130, "interrupted"),
])
def test_boundary_turns_errors_into_one_line(capsys, exc, status, words):
    def command(args):
        raise exc

    assert cli.run_command("demo", command, None) == status
    err = capsys.readouterr().err
    assert err == f"cluster-abm demo: {words}\n"


def test_boundary_keeps_the_traceback_of_a_bug():
    def command(args):
        raise OSError("an OS error about no path the user gave")

    with pytest.raises(OSError):
        cli.run_command("demo", command, None)
    with pytest.raises(ZeroDivisionError):
        cli.run_command("demo", lambda args: 1 / 0, None)


def _env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT),
                                                        os.environ.get("PYTHONPATH", "")]))


def test_closed_stdout_is_quiet():
    """``cluster-abm levers | head``: the reader leaves first; no error, no traceback."""
    proc = subprocess.Popen([sys.executable, "-m", "cluster_abm.cli.main", "levers"], cwd=ROOT,
                            env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # before the interpreter has even started: every write fails
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(timeout=120) == 0
    assert err == ""


def test_sigterm_stops_a_sweep_like_ctrl_c(tmp_path):
    """SIGTERM (scancel, a time limit) stops a sweep cleanly: status 130, resumable store."""
    path = write_experiment(tmp_path, 'name = "term"\nscenarios = ["baseline"]\n'
                                      'replicates = 40\nyears = 1\n')
    results = tmp_path / "res"
    store = Store(results / "term")
    proc = start_sweep(path, results, "serial", sleep="0.05")
    wait_for_runs(proc, store, 3)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err.decode()
    assert "Traceback" not in err.decode()
    assert store.read_manifest()["status"] == "interrupted"
