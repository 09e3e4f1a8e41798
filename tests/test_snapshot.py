"""Snapshots (DESIGN 2.1): continuing from a snapshot equals running straight through, to the bit;
the files are data only (JSON + .npz, never pickle), deterministic, and a snapshot that is missing,
damaged, of another format version or written by other code is refused in one line."""

from __future__ import annotations

import functools
import hashlib
import io
import json
import math
import zipfile

import numpy as np
import pandas as pd
import pytest

from cluster_abm.agents import ClusterOrganisation, Firm, Funder, KnowledgeInstitution
from cluster_abm.errors import InputError
from cluster_abm.model import snapshot
from cluster_abm.model.cluster_model import ClusterModel
from cluster_abm.model.simulate import load_snapshot
from cluster_abm.model.snapshot import save_snapshot, snapshot_paths

N_STEPS = 20  # five years of quarters


@functools.lru_cache(maxsize=8)
def _straight(scenario: str, seed: int, steps: int) -> ClusterModel:
    m = ClusterModel(scenario, seed=seed)
    for _ in range(steps):
        m.step()
    return m


def _run(m: ClusterModel, steps: int) -> ClusterModel:
    for _ in range(steps):
        m.step()
    return m


def _same_number(a, b) -> bool:
    return a == b or (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b))


def assert_same_outputs(a: ClusterModel, b: ClusterModel) -> None:
    """Every output table equal to the bit (NaN equal to NaN)."""
    for table in ("timeseries", "firms_frame", "lever_costs"):
        pd.testing.assert_frame_equal(getattr(a, table)(), getattr(b, table)(), check_exact=True, obj=table)
    pd.testing.assert_frame_equal(a.log.frame(), b.log.frame(), check_exact=True, obj="firm log")
    pd.testing.assert_frame_equal(a.log.panel(), b.log.panel(), check_exact=True, obj="panel")
    ka, kb = a.kpis(), b.kpis()
    assert list(ka) == list(kb)
    moved = {k: (ka[k], kb[k]) for k in ka if not _same_number(ka[k], kb[k])}
    assert not moved, moved


def _agent_layout(m: ClusterModel):
    """Mesa's view of the agents: their order overall, per type, and in every occupied cell."""
    cells = {c.coordinate: [a.unique_id for a in c.agents] for c in m.world.grid.all_cells if c.agents}
    by_type = {t.__name__: [a.unique_id for a in s] for t, s in m.agents_by_type.items()}
    return [a.unique_id for a in m.agents], by_type, cells


def _files(path) -> tuple[bytes, bytes]:
    header, arrays = snapshot_paths(path)
    return header.read_bytes(), arrays.read_bytes()


@pytest.mark.parametrize(("scenario", "k"), [
    ("baseline", 0), ("baseline", 4), ("baseline", 7), ("baseline", 13),
    ("full_strategy", 4), ("full_strategy", 7),
])
def test_continuing_from_a_snapshot_equals_running_straight_through(tmp_path, scenario, k):
    straight = _straight(scenario, 1, N_STEPS)
    part = _straight(scenario, 1, k) if k == 0 else _run(ClusterModel(scenario, seed=1), k)
    save_snapshot(part, tmp_path / "part" / "snap")
    resumed = load_snapshot(tmp_path / "part" / "snap")
    assert resumed.t - resumed.t0 == k and type(resumed) is ClusterModel
    _run(resumed, N_STEPS - k)
    assert_same_outputs(straight, resumed)
    assert _agent_layout(resumed) == _agent_layout(straight)
    # The whole state, not only what the outputs show: the two models save to the same bytes.
    save_snapshot(straight, tmp_path / "a" / "end")
    save_snapshot(resumed, tmp_path / "b" / "end")
    assert _files(tmp_path / "a" / "end") == _files(tmp_path / "b" / "end")


def test_a_chain_of_snapshots_equals_running_straight_through(tmp_path):
    m = _run(ClusterModel("full_strategy", seed=2), 3)
    for k in (3, 9):  # mid-year, then two and a quarter years later
        save_snapshot(m, tmp_path / f"s{k}")
        m = _run(load_snapshot(tmp_path / f"s{k}"), 9 - k if k == 3 else N_STEPS - k)
    assert_same_outputs(_straight("full_strategy", 2, N_STEPS), m)


def test_parameter_overrides_and_seed_travel_with_the_snapshot(tmp_path):
    m = _run(ClusterModel("baseline", seed=5, params={"sim.n_firms": 300}), 5)
    save_snapshot(m, tmp_path / "small")
    loaded = load_snapshot(tmp_path / "small.json")
    assert loaded.cluster_scenario == m.cluster_scenario and loaded.seed == 5 and loaded.n_firms == m.n_firms
    assert_same_outputs(_run(m, 6), _run(loaded, 6))


def test_snapshots_of_one_state_are_byte_identical(tmp_path):
    m = _run(ClusterModel("full_strategy", seed=1), 6)
    save_snapshot(m, tmp_path / "one" / "s")
    save_snapshot(m, tmp_path / "two" / "s")
    assert _files(tmp_path / "one" / "s") == _files(tmp_path / "two" / "s")
    # Loading and saving again, without a step, gives the same bytes too.
    save_snapshot(load_snapshot(tmp_path / "one" / "s"), tmp_path / "three" / "s")
    assert _files(tmp_path / "three" / "s") == _files(tmp_path / "one" / "s")


def test_loaded_model_keeps_the_sharing_between_its_parts(tmp_path):
    m = _run(ClusterModel("full_strategy", seed=1), 5)
    save_snapshot(m, tmp_path / "s")
    loaded = load_snapshot(tmp_path / "s")
    assert loaded.policy.ledger is loaded.ledger and loaded.policy.p is loaded.p
    assert loaded.world.grid.random is loaded.random  # the grid draws from the restored Random
    for k, ki in enumerate(loaded.kis):  # each institution's knowledge is its row of ki_knowledge
        assert np.shares_memory(ki.knowledge, loaded.ki_knowledge[k])
        assert np.array_equal(ki.knowledge, m.kis[k].knowledge)
    assert loaded.ties.classify.__self__ is loaded
    assert loaded.rngs.market.bit_generator.state == m.rngs.market.bit_generator.state
    assert loaded.random.getstate() == m.random.getstate()
    assert loaded.rng.bit_generator.state == m.rng.bit_generator.state
    assert {type(a) for a in loaded.agents} == {Firm, ClusterOrganisation, KnowledgeInstitution, Funder}
    assert sorted(loaded.firm_agents) == loaded.firms.idx.tolist()
    assert all(loaded.firm_agents[s].unique_id == loaded.firms.uid[s] for s in loaded.firms.idx)


def test_the_array_file_is_an_npz_of_plain_arrays(tmp_path):
    m = _straight("baseline", 1, 4)
    save_snapshot(m, tmp_path / "s")
    header, arrays = snapshot_paths(tmp_path / "s")
    meta = json.loads(header.read_text())
    assert meta["t"] == m.t == m.t0 + 4 and meta["seed"] == 1 and meta["format_version"] == snapshot.FORMAT_VERSION
    assert meta["scenario"]["name"] == "baseline" and meta["arrays"]["file"] == "s.npz"
    with np.load(arrays, allow_pickle=False) as npz:
        assert "state" in npz.files and all(npz[f].dtype != object for f in npz.files)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary files left


# --- refusals: one line, naming the file ----------------------------------------------------------
def _refused(path, *words) -> str:
    with pytest.raises(InputError) as info:
        load_snapshot(path)
    msg = str(info.value)
    assert "\n" not in msg, msg
    for w in words:
        assert w in msg, msg
    return msg


@pytest.fixture
def saved(tmp_path):
    save_snapshot(_straight("baseline", 1, 4), tmp_path / "s")
    return tmp_path / "s"


def test_refuses_a_missing_snapshot(tmp_path, saved):
    _refused(tmp_path / "nothing", "nothing.json", "missing")
    snapshot_paths(saved)[1].unlink()
    _refused(saved, "s.npz", "missing")


def test_refuses_a_snapshot_written_by_other_code(saved, monkeypatch):
    monkeypatch.setattr(snapshot, "code_fingerprint", lambda: "0" * 64)
    _refused(saved, "s.json", "other code")


def test_refuses_another_format_version(saved, monkeypatch):
    monkeypatch.setattr(snapshot, "FORMAT_VERSION", snapshot.FORMAT_VERSION + 1)
    _refused(saved, "s.json", "format version")


def test_refuses_a_flipped_byte_in_the_array_file(saved):
    arrays = snapshot_paths(saved)[1]
    data = bytearray(arrays.read_bytes())
    data[len(data) // 2] ^= 0x01
    arrays.write_bytes(bytes(data))
    _refused(saved, "s.npz", "damaged")


def test_refuses_a_truncated_array_file(saved):
    arrays = snapshot_paths(saved)[1]
    arrays.write_bytes(arrays.read_bytes()[:-1000])
    _refused(saved, "s.npz", "truncated")


def test_refuses_an_edited_header(saved):
    header = snapshot_paths(saved)[0]
    header.write_text(header.read_text().replace('"seed": 1', '"seed": 2'))
    _refused(saved, "s.json", "damaged snapshot header")
    header.write_text("{not json")
    _refused(saved, "s.json", "damaged snapshot header")


def test_refuses_a_header_pointing_outside_its_folder(saved):
    header_path = snapshot_paths(saved)[0]
    header = json.loads(header_path.read_text())
    header["arrays"]["file"] = "../elsewhere.npz"
    del header["header_sha256"]
    header["header_sha256"] = hashlib.sha256(snapshot._canonical(header)).hexdigest()
    header_path.write_text(json.dumps(header))
    _refused(saved, "s.json", "damaged snapshot header")


def _rewrite_arrays(path, entries: dict[str, np.ndarray], pickle: bool = False) -> None:
    """Replace the array file and make the header agree with it (checksums), as a forger would."""
    header_path, arrays_path = snapshot_paths(path)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, arr in entries.items():
            with zf.open(f"{name}.npy", "w") as f:
                np.lib.format.write_array(f, arr, allow_pickle=pickle)
    data = buf.getvalue()
    arrays_path.write_bytes(data)
    header = json.loads(header_path.read_text())
    header["arrays"].update(bytes=len(data), sha256=hashlib.sha256(data).hexdigest())
    del header["header_sha256"]
    header["header_sha256"] = hashlib.sha256(snapshot._canonical(header)).hexdigest()
    header_path.write_text(json.dumps(header))


def test_never_unpickles(saved, monkeypatch):
    with np.load(snapshot_paths(saved)[1], allow_pickle=False) as npz:
        entries = {f: npz[f] for f in npz.files}
    entries["g0"] = np.array([print, "code"], dtype=object)  # would run code if unpickled
    _rewrite_arrays(saved, entries, pickle=True)
    _refused(saved, "s.npz", "pickle")

    calls = []
    real_load = np.load

    def spy(*args, **kwargs):
        calls.append(kwargs.get("allow_pickle"))
        return real_load(*args, **kwargs)

    monkeypatch.setattr(np, "load", spy)
    with pytest.raises(InputError):
        load_snapshot(saved)
    assert calls == [False]


def test_refuses_a_forged_view_as_objects(saved):
    """A state entry asking for an object view of raw bytes is refused, not built."""
    with np.load(snapshot_paths(saved)[1], allow_pickle=False) as npz:
        entries = {f: npz[f] for f in npz.files}
    state = json.loads(bytes(entries["state"]))
    attrs = state["model"]["attrs"]
    k = next(i for i, (name, _) in enumerate(attrs) if name == "frontier")
    slot = attrs[k][1]["__array__"]
    attrs[k][1] = {"__view__": slot, "dtype": "|O", "shape": [1], "strides": [8], "offset": 0}
    entries["state"] = np.frombuffer(json.dumps(state).encode(), dtype=np.uint8)
    _rewrite_arrays(saved, entries)
    _refused(saved, "s.json", "malformed state")


# --- saving refuses what it cannot keep -------------------------------------------------------------
class _Unknown:
    pass


def test_an_attribute_of_an_unknown_type_stops_the_save(tmp_path):
    m = ClusterModel("baseline", seed=1, params={"sim.n_firms": 200})
    m.gadget = _Unknown()
    with pytest.raises(TypeError, match=r"model\.gadget: .*_Unknown"):
        save_snapshot(m, tmp_path / "s")
    del m.gadget
    m.cmos[0].favourite = m.firm_agents[int(m.firms.idx[0])]
    with pytest.raises(TypeError, match=r"model\.cmos\[0\]\.favourite: a Firm agent"):
        save_snapshot(m, tmp_path / "s")
    assert not list(tmp_path.iterdir())  # nothing written


def test_a_new_plain_attribute_is_saved_without_a_change_here(tmp_path):
    m = ClusterModel("baseline", seed=1, params={"sim.n_firms": 200})
    m.firms.note = {"a": [1, 2.5, None], ("x", 1): np.arange(3), "s": {3, 1, 2}}
    save_snapshot(m, tmp_path / "s")
    note = load_snapshot(tmp_path / "s").firms.note
    assert note["a"] == [1, 2.5, None] and note["s"] == {1, 2, 3}
    assert np.array_equal(note[("x", 1)], np.arange(3))


def test_overwriting_a_snapshot_replaces_both_files(tmp_path):
    m = ClusterModel("baseline", seed=1, params={"sim.n_firms": 200})
    save_snapshot(m, tmp_path / "s")
    _run(m, 2)
    save_snapshot(m, tmp_path / "s")
    assert load_snapshot(tmp_path / "s").years_run == 0.5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.json", "s.npz"]


def test_fingerprint_covers_the_model_code_only(tmp_path):
    pkg = tmp_path / "pkg"
    for rel in ("model/a.py", "state/b.py", "ui/c.py", "space.py"):
        (pkg / rel).parent.mkdir(parents=True, exist_ok=True)
        (pkg / rel).write_text(f"# {rel}\n")
    first = snapshot._fingerprint(pkg)
    snapshot._fingerprint.cache_clear()
    (pkg / "ui/c.py").write_text("# changed\n")
    assert snapshot._fingerprint(pkg) == first
    snapshot._fingerprint.cache_clear()
    (pkg / "state/b.py").write_text("# changed\n")
    assert snapshot._fingerprint(pkg) != first
    snapshot._fingerprint.cache_clear()
    assert len(snapshot.code_fingerprint()) == 64


# --- warm starts from the spun-up world ----------------------------------------------------------------
def _outputs(m):
    return (m.timeseries(), m.firms_frame(), m.log.frame(), m.lever_costs())


@pytest.mark.parametrize("scenario", ["full_strategy", "full_strategy+policy_params"])
def test_warm_start_from_another_scenarios_spinup_equals_spinning_up(tmp_path, scenario):
    """The baseline's spun-up world, cached, starts a policy scenario (levers and policy.*
    parameters differ): every output equals the run that spins up itself, to the bit."""
    from cluster_abm.specs.scenario import load_scenario

    sc = load_scenario("full_strategy")
    if scenario.endswith("policy_params"):
        sc = sc.with_params({"policy.lever_budget": 900.0, "policy.incubator_min_cluster_enterprises": 5000})
    small = {"sim.spinup_years": 3, "sim.n_firms": 400}
    ClusterModel(load_scenario("baseline").with_params(small), seed=4, spinup_cache=tmp_path)
    assert len(list(tmp_path.glob("*.json"))) == 1
    sc = sc.with_params(small)
    warm = ClusterModel(sc, seed=4, spinup_cache=tmp_path).run(3)
    cold = ClusterModel(sc, seed=4, spinup_cache=None).run(3)
    assert len(list(tmp_path.glob("*.json"))) == 1  # the policy scenario reused the baseline's
    for a, b in zip(_outputs(warm), _outputs(cold), strict=True):
        pd.testing.assert_frame_equal(a, b)
    assert warm.kpis().keys() == cold.kpis().keys()


def test_spinup_of_another_world_is_not_reused(tmp_path):
    """Another seed or a non-policy parameter gives another spin-up; a damaged cache entry is
    spun up again, not trusted."""
    from cluster_abm.specs.scenario import load_scenario

    small = load_scenario("baseline").with_params({"sim.spinup_years": 2, "sim.n_firms": 300})
    ClusterModel(small, seed=1, spinup_cache=tmp_path)
    ClusterModel(small, seed=2, spinup_cache=tmp_path)
    ClusterModel(small.with_params({"innovation.base_rate": 0.5}), seed=1, spinup_cache=tmp_path)
    assert len(list(tmp_path.glob("*.json"))) == 3
    header = next(iter(sorted(tmp_path.glob("*.npz"))))
    data = bytearray(header.read_bytes())
    data[len(data) // 2] ^= 0xFF
    header.write_bytes(bytes(data))
    fresh = ClusterModel(small, seed=1, spinup_cache=None).run(1)
    for seed in (1, 2):
        again = ClusterModel(small, seed=seed, spinup_cache=tmp_path).run(1)
        ref = fresh if seed == 1 else ClusterModel(small, seed=2, spinup_cache=None).run(1)
        pd.testing.assert_frame_equal(again.timeseries(), ref.timeseries())
