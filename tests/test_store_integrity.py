"""A store that knows what it holds (issue 20): the spec hash covers the resolved parameters and
the model code; every table file has a checksum; damage is found, named and re-run; a full disk
leaves a manifest that says so and a store that resumes. Faults are injected into real stores
of the fake model (tests/fakes.py); each test compares the repaired store with an undamaged
sweep, table by table, to the bit."""

from __future__ import annotations

import errno
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cluster_abm.cli.main import main
from cluster_abm.experiments import experiment_spec
from cluster_abm.experiments import store as store_mod
from cluster_abm.experiments.experiment_spec import load_experiment
from cluster_abm.experiments.results import load_results
from cluster_abm.experiments.runner import run_experiment
from cluster_abm.experiments.store import Store, StoreDamaged
from tests.fakes import FAKE, assert_same_tables, write_experiment

ROOT = Path(__file__).resolve().parents[1]
EXP = """
name = "intact"
scenarios = ["baseline", "green"]
replicates = 6
seed = 31
years = 2
[execution]
executor = "serial"
"""
N_RUNS = 12


def sweep(path, results, **kw):
    kw.setdefault("quiet", True)
    return run_experiment(path, results_dir=results, simulate=FAKE, **kw)


@pytest.fixture
def reference(tmp_path):
    """An undamaged sweep of EXP (consolidated) and the experiment file."""
    path = write_experiment(tmp_path / "exp", EXP)
    sweep(path, tmp_path / "ref")
    return path, tmp_path / "ref" / "intact"


def flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x10
    path.write_bytes(bytes(data))


def record(store: Store, rel: str) -> dict:
    return store.read_manifest()["checksums"][rel]


def one_line(text: str, *needles: str) -> None:
    assert text.count("\n") == 1 and text.endswith("\n"), text
    for n in needles:
        assert n in text, (n, text)


# --- the spec hash: resolved parameters and model code ----------------------------------------
def test_spec_hash_covers_every_default_and_the_model_code(tmp_path, monkeypatch):
    path = write_experiment(tmp_path, EXP)
    d = load_experiment(path).to_dict()
    from cluster_abm.model.snapshot import code_fingerprint
    from cluster_abm.params import registry as P

    assert d["defaults"] == P.REGISTRY.defaults() and len(d["defaults"]) == len(P.REGISTRY)
    assert d["code"]["source"] == code_fingerprint() and d["code"]["version"]
    base = load_experiment(path).spec_hash
    monkeypatch.setattr(experiment_spec, "code_identity",
                        lambda: {"version": "0.1.0", "source": "0" * 64})
    assert load_experiment(path).spec_hash != base


def test_code_changed_between_sweep_and_resume_is_refused(tmp_path, monkeypatch, capsys):
    path = write_experiment(tmp_path, EXP)
    sweep(path, tmp_path / "res")
    real = experiment_spec.code_identity()
    monkeypatch.setattr(experiment_spec, "code_identity",
                        lambda: {"version": real["version"], "source": "f" * 64})
    argv = ["sweep", str(path), "--results", str(tmp_path / "res"), "--simulate", FAKE, "--quiet"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    one_line(err, "holds results of other model code", real["source"][:12], "ffffffffffff",
             "--overwrite")
    assert len(load_results(tmp_path / "res" / "intact").runs) == N_RUNS  # reading still works
    assert main([*argv, "--overwrite"]) == 0
    assert Store(tmp_path / "res" / "intact").read_manifest()["code"]["source"] == "f" * 64


def _copy_project(dest: Path) -> Path:
    """The package and its scenarios in ``dest`` (a checkout someone edits)."""
    shutil.copytree(ROOT / "cluster_abm", dest / "cluster_abm",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "scenarios", dest / "scenarios")
    return dest


def _cli(copy: Path, *argv: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(copy), str(ROOT)]))
    return subprocess.run([sys.executable, "-m", "cluster_abm.cli.main", *argv], cwd=copy,
                          env=env, capture_output=True, text=True, timeout=300)


def test_an_uncommitted_edit_and_a_changed_default_are_refused_on_resume(tmp_path):
    """The issue's case: a parameter default changed in the working tree (nothing committed),
    the same sweep command run again. It used to resume and mix 480-503 with 2,007-2,122
    innovations a year in one table, with exit status 0."""
    copy = _copy_project(tmp_path / "checkout")
    exp = write_experiment(tmp_path, EXP)
    argv = ["sweep", str(exp), "--results", str(tmp_path / "res"), "--simulate", FAKE, "--quiet"]
    first = _cli(copy, *argv)
    assert first.returncode == 0, first.stderr
    store = Store(tmp_path / "res" / "intact")
    runs_before = store.read("runs")
    # an edit that changes nothing but a comment is still other code
    mech = copy / "cluster_abm" / "mechanisms" / "innovation.py"
    mech.write_text(mech.read_text() + "\n# an uncommitted edit\n")
    again = _cli(copy, *argv)
    assert again.returncode == 2
    one_line(again.stderr, "other model code", "--overwrite")
    # a changed default: named in the same one line
    mech.write_text(mech.read_text().replace("\n# an uncommitted edit\n", ""))
    reg = copy / "cluster_abm" / "params" / "registry.py"
    text = reg.read_text()
    old = '_p("funding.eu_budget", '
    assert text.count(old) == 1
    start = text.index(old) + len(old)
    value = text[start:text.index(",", start)]
    reg.write_text(text[:start] + repr(float(value) * 2) + text[text.index(",", start):])
    changed = _cli(copy, *argv)
    assert changed.returncode == 2
    one_line(changed.stderr, "other model code",
             f"the default of funding.eu_budget was {float(value)}, is {float(value) * 2}")
    assert store.read("runs").equals(runs_before)  # refused before touching anything


def test_a_store_written_before_checksums_is_read_but_not_resumed(reference, tmp_path, capsys):
    """A store of the previous format (no defaults or code in its spec, no checksums): readable,
    `verify` says it has nothing to check against, a resume is refused once (other code)."""
    path, ref = reference
    old = tmp_path / "old" / "intact"
    shutil.copytree(ref, old)
    spec = json.loads((old / "spec.json").read_text())
    del spec["defaults"], spec["code"]
    text = experiment_spec.canonical_json(spec)
    (old / "spec.json").write_text(text + "\n")
    manifest = json.loads((old / "manifest.json").read_text())
    del manifest["checksums"], manifest["code"]
    manifest["format"], manifest["spec_hash"] = 1, experiment_spec.hashlib.sha256(
        text.encode()).hexdigest()
    (old / "manifest.json").write_text(json.dumps(manifest))
    assert len(load_results(old).kpi_table()) == N_RUNS
    assert main(["verify", str(old)]) == 0
    assert "no checksums" in capsys.readouterr().out
    argv = ["sweep", str(path), "--results", str(old.parent), "--simulate", FAKE, "--quiet"]
    assert main(argv) == 2
    one_line(capsys.readouterr().err, "other model code (code older than the stores that record "
                                      "it", "--overwrite")


# --- checksums: a flipped byte, a deleted shard, a deleted table ------------------------------
@pytest.mark.parametrize("table", ["kpis", "timeseries", "runs"])
def test_a_flipped_byte_in_a_table_is_found_named_and_rerun(reference, tmp_path, table, capsys):
    path, ref = reference
    sweep(path, tmp_path / "res")
    store = Store(tmp_path / "res" / "intact")
    rec = record(store, f"{table}.parquet")
    offset, length = rec["groups"][0][:2]
    flip(store.consolidated_path(table), offset + length // 2)
    assert main(["verify", str(store.path)]) == 1
    out = capsys.readouterr().out
    assert f"{table}.parquet differs from its checksum" in out and "baseline-r000" in out
    with pytest.raises(StoreDamaged, match=f"{table}.parquet differs from its checksum.*"
                                           "baseline-r000"):
        load_results(store.path)
    summary = sweep(path, tmp_path / "res")
    assert summary.exit_code == 0 and len(summary.repaired) == summary.ok == N_RUNS
    assert_same_tables(store.path, ref)
    assert store.verify().ok and load_results(store.path).kpi_table().shape[0] == N_RUNS
    session = store.read_manifest()["sessions"][-1]
    assert session["repaired"]["runs"] == summary.repaired


def test_a_flipped_byte_costs_only_the_runs_of_its_row_group(reference, tmp_path, monkeypatch):
    path, ref = reference
    monkeypatch.setattr(store_mod, "ROW_GROUP_ROWS", 9)  # 3 KPIs a run: 3 runs a row group
    sweep(path, tmp_path / "res")
    store = Store(tmp_path / "res" / "intact")
    groups = record(store, "kpis.parquet")["groups"]
    assert len(groups) == N_RUNS // 3
    offset, length, _, first, last = groups[2]
    flip(store.consolidated_path("kpis"), offset + length // 2)
    report = store.verify()
    assert [p.path for p in report.problems] == ["kpis.parquet"]
    assert report.lost_ranges == [(first, last)]
    summary = sweep(path, tmp_path / "res")
    lost = sorted(r for r in store.read("runs")["run_id"] if first <= r <= last)
    assert summary.repaired == lost and len(lost) == 3 and summary.ok == 3
    assert summary.skipped == N_RUNS - 3
    assert_same_tables(store.path, ref)


def test_a_damaged_footer_loses_the_whole_table(reference, tmp_path):
    path, ref = reference
    sweep(path, tmp_path / "res")
    store = Store(tmp_path / "res" / "intact")
    target = store.consolidated_path("timeseries")
    flip(target, target.stat().st_size - 7)  # the Parquet footer's length
    report = store.verify()
    assert "footer" in report.problems[0].what
    with pytest.raises(StoreDamaged, match="timeseries.parquet"):
        store.read("timeseries")  # readers that skip the checksums still name the file
    summary = sweep(path, tmp_path / "res")
    assert summary.ok == N_RUNS and len(summary.repaired) == N_RUNS
    assert_same_tables(store.path, ref)


def test_a_flipped_byte_in_a_shard_and_a_deleted_shard_cost_their_runs(reference, tmp_path):
    path, ref = reference
    sweep(path, tmp_path / "res", consolidate=False)
    store = Store(tmp_path / "res" / "intact")
    flip(store.shard_path("timeseries", "green-r002"), 100)
    store.shard_path("kpis", "baseline-r004").unlink()  # used to leave a run ok without KPIs
    report = store.verify()
    assert report.lost_runs == {"green-r002", "baseline-r004"}
    assert {p.what for p in report.problems} == {"differs from its checksum", "is missing"}
    with pytest.raises(StoreDamaged, match="loses 2 runs: baseline-r004, green-r002"):
        load_results(store.path)
    summary = sweep(path, tmp_path / "res")
    assert summary.repaired == ["baseline-r004", "green-r002"] and summary.ok == 2
    assert summary.skipped == N_RUNS - 2
    assert_same_tables(store.path, ref)


def test_a_deleted_table_and_a_planted_shard(reference, tmp_path):
    path, ref = reference
    sweep(path, tmp_path / "res")
    store = Store(tmp_path / "res" / "intact")
    store.consolidated_path("kpis").unlink()  # used to leave every run ok without KPIs
    planted = store.shard_path("kpis", "green-r001")
    planted.parent.mkdir()
    shutil.copy(ref / "kpis.parquet", planted)  # a file the sweep never wrote
    report = store.verify()
    assert {(p.path, p.what) for p in report.problems} == {
        ("kpis.parquet", "is missing"),
        ("kpis/part-green-r001.parquet", "has no checksum (not written by this store)")}
    summary = sweep(path, tmp_path / "res")
    assert summary.ok == N_RUNS and len(summary.repaired) == N_RUNS
    assert_same_tables(store.path, ref)


def test_a_truncated_shard_or_manifest_is_one_line_naming_the_file(reference, tmp_path, capsys):
    path, _ = reference
    sweep(path, tmp_path / "res", consolidate=False)
    store = Store(tmp_path / "res" / "intact")
    shard = store.shard_path("kpis", "baseline-r001")
    shard.write_bytes(shard.read_bytes()[:50])
    with pytest.raises(StoreDamaged, match=r"part-baseline-r001\.parquet: damaged"):
        store.read("kpis")
    assert store.verify().lost_runs == {"baseline-r001"}
    manifest = store.manifest_path
    manifest.write_bytes(manifest.read_bytes()[:200])
    argv = ["sweep", str(path), "--results", str(tmp_path / "res"), "--simulate", FAKE, "--quiet"]
    for command in (argv, ["verify", str(store.path)]):
        assert main(command) == 2
        one_line(capsys.readouterr().err, "manifest.json: damaged", "--overwrite")
    assert main([*argv, "--overwrite"]) == 0
    assert store.verify().ok


def test_merged_shards_left_by_a_kill_are_not_damage(reference, tmp_path):
    """A consolidation killed after the table was renamed into place but before its shards were
    deleted leaves shards identical to rows of the table: leftovers, not damage."""
    path, ref = reference
    sweep(path, tmp_path / "res", consolidate=False)
    store = Store(tmp_path / "res" / "intact")
    saved = {p: p.read_bytes() for t in ("kpis", "runs") for p in store.shards(t).values()}
    store.consolidate()
    for p, data in saved.items():  # as if the process died before deleting them
        p.parent.mkdir(exist_ok=True)
        p.write_bytes(data)
    report = store.verify()
    assert report.ok and len(report.leftovers) == len(saved)
    summary = sweep(path, tmp_path / "res")
    assert summary.skipped == N_RUNS and summary.ok == 0
    assert_same_tables(store.path, ref)


def test_a_record_written_before_a_kill_leaves_the_previous_file_valid(reference, tmp_path):
    """Killed between recording a new table and renaming it into place: the old file stays,
    and it is as good as before (its record is kept as the new one's alternative)."""
    path, _ = reference
    sweep(path, tmp_path / "res", consolidate=False)
    store = Store(tmp_path / "res" / "intact")
    saved = {p: p.read_bytes() for t in ("runs", "kpis", "timeseries")
             for p in store.shards(t).values()}
    store.consolidate()
    old = store.consolidated_path("kpis").read_bytes()
    for p, data in saved.items():
        p.parent.mkdir(exist_ok=True)
        p.write_bytes(data)
    real_replace = os.replace

    def dies_before_rename(src, dst):
        if str(dst).endswith(("kpis.parquet", "r099.parquet")):
            raise KeyboardInterrupt  # as a kill at this very moment
        real_replace(src, dst)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(store_mod.os, "replace", dies_before_rename)
        with pytest.raises(KeyboardInterrupt):
            store.consolidate()
    assert store.consolidated_path("kpis").read_bytes() == old
    assert store.verify().ok
    # the same for a run's shards: recorded, never renamed into place -- a write that did not
    # finish, not a run that was lost
    shard = store.shard_path("kpis", "baseline-r000")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(store_mod.os, "replace", dies_before_rename)
        with pytest.raises(KeyboardInterrupt):
            store.write_run("baseline-r099", b"runs", b"kpis", None)
    assert not store.shard_path("runs", "baseline-r099").exists() and shard.exists()
    assert store.verify().ok and not list(store.path.rglob("*.tmp"))
    assert "runs/part-baseline-r099.parquet" not in store.settled_checksums()


# --- a full disk ------------------------------------------------------------------------------
class Disk:
    """A disk of ``capacity`` bytes under ``root``: a write that would overflow it raises ENOSPC
    (the bytes already on disk counted from the real files)."""

    def __init__(self, root: Path, capacity: int):
        self.root, self.capacity, self.refusals = root, capacity, 0

    def used(self) -> int:
        return sum(p.stat().st_size for p in self.root.rglob("*") if p.is_file())

    def open(self, path, mode="wb"):
        return _DiskFile(self, open(path, mode), path)


class _DiskFile:
    def __init__(self, disk: Disk, fh, path):
        self.disk, self.fh, self.path = disk, fh, path

    def write(self, data) -> int:
        self.fh.flush()
        if self.disk.used() + len(data) > self.disk.capacity:
            self.disk.refusals += 1
            raise OSError(errno.ENOSPC, "No space left on device", str(self.path))
        return self.fh.write(data)

    def __getattr__(self, name):
        return getattr(self.fh, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.fh.close()


@pytest.mark.parametrize("when", ["runs", "consolidation"])
def test_a_full_disk_leaves_a_manifest_that_says_so_and_a_store_that_resumes(
        reference, tmp_path, monkeypatch, when, capsys):
    path, ref = reference
    results = tmp_path / "res"
    sweep(path, tmp_path / "probe", consolidate=False)
    probe = Store(tmp_path / "probe" / "intact")
    total = sum(p.stat().st_size for p in probe.path.rglob("*") if p.is_file())
    shards = sum(p.stat().st_size for p in probe.table_files().values())
    # room for the store as it starts (with its reserve) and about half the runs, or for every
    # run but not the consolidated copy of the tables
    capacity = total + store_mod.RESERVE_MIN + (-shards // 2 if when == "runs" else 2_000)
    disk = Disk(results, capacity)
    monkeypatch.setattr(store_mod, "_open_write", disk.open)
    argv = ["sweep", str(path), "--results", str(results), "--simulate", FAKE, "--quiet"]
    assert main(argv) == 1
    out = capsys.readouterr().out
    assert "stopped: the disk is full" in out and "No space left on device" in out
    assert disk.refusals >= 1
    store = Store(results / "intact")
    manifest = store.read_manifest()
    assert manifest["status"] == "disk_full" and "disk is full" in manifest["stopped"]
    assert manifest["sessions"][-1]["stopped"] == manifest["stopped"]
    assert not list(store.path.rglob("*.tmp")) and not (store.path / ".reserve").exists()
    stored = sum(v == "ok" for v in store.run_status().values())
    assert (0 < stored < N_RUNS) if when == "runs" else stored == N_RUNS
    assert store.verify().ok and store.layout() == "shards"
    disk.capacity = 10**9  # space freed: the same command finishes the sweep
    assert main(argv) == 0
    assert store.read_manifest()["status"] == "complete"
    assert_same_tables(store.path, ref)


def test_a_full_disk_on_a_real_file_system(reference, tmp_path):
    """The same on a real 512 kB tmpfs (needs root; skipped elsewhere)."""
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a tmpfs needs root")
    path, ref = reference
    mnt = tmp_path / "small"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(mnt)],
                      capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        text = EXP.replace("replicates = 6", "replicates = 40")
        path = write_experiment(tmp_path / "big", text)
        summary = sweep(path, mnt)
        store = Store(mnt / "intact")
        manifest = store.read_manifest()
        assert summary.exit_code == 1 and "disk is full" in summary.stopped
        assert manifest["status"] == "disk_full" and store.verify().ok
        subprocess.run(["mount", "-o", "remount,size=8m", str(mnt)], check=True)
        again = sweep(path, mnt)
        assert again.exit_code == 0 and again.skipped == manifest["runs_ok"]
        sweep(path, tmp_path / "ref40")
        assert_same_tables(store.path, tmp_path / "ref40" / "intact")
    finally:
        subprocess.run(["umount", str(mnt)], capture_output=True)


def test_manifest_lists_a_checksum_for_every_table_file(reference):
    _, ref = reference
    store = Store(ref)
    checksums = store.read_manifest()["checksums"]
    assert set(checksums) == set(store.table_files()) == {"runs.parquet", "kpis.parquet",
                                                          "timeseries.parquet"}
    assert not store.journal_path.exists()  # folded into the manifest
    for rel, rec in checksums.items():
        assert rec["bytes"] == (ref / rel).stat().st_size
        assert rec["groups"] and json.dumps(rec)


# --- campaigns: random flips, kills during consolidation ---------------------------------------
FLIPS = int(os.environ.get("CLUSTER_ABM_FLIPS", "10"))
KILLS = int(os.environ.get("CLUSTER_ABM_KILLS", "3"))
CAMPAIGN_SEED = int(os.environ.get("CLUSTER_ABM_CAMPAIGN_SEED", "0"))


@pytest.mark.slow
def test_random_flipped_bytes_are_all_found_and_repaired(reference, tmp_path):
    """One byte flipped at a random place of a random table file, in a consolidated store and in
    a store of shards (CLUSTER_ABM_FLIPS of them; CLUSTER_ABM_CAMPAIGN_SEED picks the places)."""
    rng = random.Random(CAMPAIGN_SEED)
    path, ref = reference
    sweep(path, tmp_path / "consolidated")
    sweep(path, tmp_path / "shards", consolidate=False)
    for i in range(FLIPS):
        work = tmp_path / f"flip{i}"
        shutil.copytree(tmp_path / ("consolidated", "shards")[i % 2], work)
        store = Store(work / "intact")
        target = rng.choice(sorted(store.table_files().values()))
        offset = rng.randrange(target.stat().st_size)
        flip(target, offset)
        report = store.verify()
        assert not report.ok, (target, offset)
        summary = sweep(path, work)
        assert summary.exit_code == 0 and summary.repaired, (target, offset)
        assert summary.repaired == report.lost_among(summary.repaired)
        assert_same_tables(store.path, ref)
        assert store.verify().ok


@pytest.mark.slow
def test_kills_during_consolidation_leave_a_store_that_verifies_and_resumes(tmp_path):
    """SIGKILL at a random moment while the tables are being merged (CLUSTER_ABM_KILLS times):
    the store verifies intact (nothing lost, nothing falsely called damaged) and resumes to the
    tables of an uninterrupted sweep."""
    rng = random.Random(CAMPAIGN_SEED)
    path = write_experiment(tmp_path, EXP.replace("replicates = 6", "replicates = 100"))
    hit = 0
    sweep(path, tmp_path / "ref")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    for i in range(KILLS):
        results = tmp_path / f"kill{i}"
        store = Store(results / "intact")
        proc = subprocess.Popen(
            [sys.executable, "-m", "cluster_abm.cli.main", "sweep", str(path), "--results",
             str(results), "--simulate", FAKE, "--quiet"], cwd=ROOT, env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while proc.poll() is None and not list(store.path.glob(".*.parquet.*.tmp")):
                time.sleep(0.001)  # until the first consolidated table is being written
            time.sleep(rng.uniform(0.0, 0.2))
            proc.kill()
        finally:
            proc.wait(timeout=60)
        hit += proc.returncode == -signal.SIGKILL
        report = store.verify()
        assert report.ok, report.summary()
        summary = sweep(path, results)
        assert summary.exit_code == 0 and not summary.repaired
        assert_same_tables(store.path, tmp_path / "ref" / "intact")
        assert store.verify().ok and store.layout() == "consolidated"
    print(f"{hit} of {KILLS} sweeps killed while merging their tables")
