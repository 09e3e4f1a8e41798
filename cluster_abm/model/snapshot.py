"""Snapshots: a model's complete state between two steps, saved as data and loaded back.

DESIGN 2.1 (spin-up and warm starts): the spun-up state of a seed is saved once and every scenario,
sweep and the app start from it; continuing from a snapshot is identical to the bit to running
straight through.

>>> save_snapshot(model, "spinup/seed7")          # writes seed7.json and seed7.npz
>>> model = ClusterModel.from_snapshot("spinup/seed7")   # a ClusterModel at the same step

Files (side by side; result folders are shared, so no pickle anywhere):

* ``<name>.json`` — the header, for people and for the checks: format and its version, the code
  fingerprint (sha256 of the model's source files), the scenario as plain data, the seed, the step,
  the size and sha256 of the array file, and a sha256 of the header itself;
* ``<name>.npz`` — every array of the state (arrays of one dtype and shape stacked into one entry)
  and an entry ``state``: the state tree as UTF-8 JSON, which names each array by its entry and row.
  Read with ``allow_pickle=False``; written with fixed zip timestamps, so the same state gives the
  same bytes.

What is saved: the model and its components are walked attribute by attribute (their ``__dict__``),
so an attribute added later is saved without a change here. Numbers, strings, ``None``, numpy
arrays (with the sharing between them: the same array under two names, views such as each
knowledge institution's row of ``ki_knowledge``), lists, tuples, dicts (their order kept), sets,
numpy scalars, the random generators' states (numpy ``Generator``s, ``random.Random``), bound
methods of saved objects, and the objects of :data:`WALKED` (the model, its tables, the policy
state, CMOs, knowledge institutions, funders, namespaces), restored in place into the model rebuilt
from the scenario and seed. An attribute of any other type stops the save with an error naming it.

What is rebuilt instead (the build is deterministic): the world and its Mesa grid and the scenario
(:data:`REBUILT_TYPES`, checked to be there), the firms' Mesa agents (from the firm table: slot,
uid, cell), Mesa's agent registries and id counter, put back in unique_id order as a run straight
through has them, and Mesa's step counter and event clock, replayed to the saved step with a no-op
step (:data:`REBUILT_ATTRS`); frozen dataclasses (lever settings) are checked equal to the rebuilt
ones. The keyed draws need only the run key (saved with the generators) and the step.

Loading refuses, in one line (:class:`~cluster_abm.errors.InputError` naming the file), a missing
file, another format version, a damaged header, a snapshot written by other code (fingerprint),
a damaged or truncated array file (sha256), and any array file that would need pickle.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import io
import itertools
import json
import os
import platform
import random
import re
import tempfile
import types
import zipfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import mesa
import numpy as np
from mesa.discrete_space import Cell

from cluster_abm.agents.firm import Firm
from cluster_abm.agents.ids import ModelScopedIds
from cluster_abm.errors import InputError
from cluster_abm.policy.levers import BY_ID
from cluster_abm.specs.scenario import Scenario, scenario_from_dict

FORMAT = "cluster_abm snapshot"
FORMAT_VERSION = 1
# Source files whose content the snapshot's state depends on (the code fingerprint).
FINGERPRINT_DIRS = ("model", "state", "policy", "mechanisms", "agents", "numerics", "params", "specs", "outputs")
FINGERPRINT_FILES = ("space.py",)

# Classes whose instances are saved attribute by attribute and restored in place (by name, so a
# class that moves shows up as an unknown type at the next save, not as a silent gap).
WALKED = frozenset({
    "cluster_abm.model.cluster_model.ClusterModel",
    "cluster_abm.state.firm_table.FirmTable",
    "cluster_abm.state.tie_table.TieTable",
    "cluster_abm.state.firm_log.FirmLog",
    "cluster_abm.state.ledger.Ledger",
    "cluster_abm.policy.lever_state.PolicyState",
    "cluster_abm.mechanisms.cooperation.Buckets",
    "cluster_abm.model.step_state.StepState",
    "cluster_abm.agents.cmo.ClusterOrganisation",
    "cluster_abm.agents.knowledge.KnowledgeInstitution",
    "cluster_abm.agents.funder.Funder",
    "types.SimpleNamespace",
})
# The model's attributes that belong to its scenario's levers, not to the world: a warm start
# (restore_snapshot(keep_policy=True)) keeps the loading model's own.
POLICY_ATTRS = ("p", "policy")
# Types rebuilt from the scenario wherever they occur (the loaded model keeps its own, checked).
REBUILT_TYPES = {
    "cluster_abm.space.World": "built from the scenario: regions, clusters, sectors, the Mesa grid",
    "cluster_abm.specs.scenario.Scenario": "kept in the snapshot's header and rebuilt from it",
}
# Attributes rebuilt instead of saved, per class.
REBUILT_ATTRS = {
    "cluster_abm.model.cluster_model.ClusterModel": {
        "firm_agents": "Firm agents are recreated from the firm table (slot, uid, cell)",
        "_agents": "Mesa's agent registry, refilled as the agents are recreated",
        "_agents_by_type": "Mesa's agent registry, refilled as the agents are recreated",
        "_all_agents": "Mesa's agent registry, refilled as the agents are recreated",
        "agent_id_counter": "Mesa >= 3.4's id counter, saved as next_agent_id",
        "_event_list": "Mesa >= 3.5's event clock, replayed to the saved step",
        "_event_generators": "Mesa >= 3.5's event clock, replayed to the saved step",
        "_default_schedule": "Mesa >= 3.5's event clock, replayed to the saved step",
        "_scenario": "Mesa >= 3.5's own scenario (its seed), rebuilt with the model",
        "data_registry": "Mesa >= 3.5's data registry, unused by this model",
    },
}
_FIRM_ATTRS = {"model", "unique_id", "pos", "slot", "_mesa_cell"}  # all a Firm agent holds
_BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")
_COMPACT = 8  # lists, sets and dicts of at least this many Python ints are stored as arrays
_MISSING = object()
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed timestamps: the same state gives the same file


def _int64s(values) -> bool:
    return all(type(v) is int and -(2**63) <= v < 2**63 for v in values)


def _qualname(obj_or_type) -> str:
    t = obj_or_type if isinstance(obj_or_type, type) else type(obj_or_type)
    return f"{t.__module__}.{t.__qualname__}"


# ------------------------------------------------------------------------------------------------
# Files, fingerprint
# ------------------------------------------------------------------------------------------------
def snapshot_paths(path: str | Path) -> tuple[Path, Path]:
    """The header and array files of snapshot ``path`` (given with or without .json / .npz)."""
    path = Path(path)
    if path.suffix in (".json", ".npz"):
        path = path.with_suffix("")
    return path.with_name(path.name + ".json"), path.with_name(path.name + ".npz")


def code_fingerprint() -> str:
    """sha256 over the model-relevant source files (relative path and content, sorted by path)."""
    return _fingerprint(Path(__file__).resolve().parents[1])


@functools.lru_cache(maxsize=4)
def _fingerprint(package: Path) -> str:
    files = [p for d in FINGERPRINT_DIRS for p in (package / d).rglob("*.py")]
    files += [package / f for f in FINGERPRINT_FILES]
    h = hashlib.sha256()
    for rel, f in sorted((f.relative_to(package).as_posix(), f) for f in files):
        data = f.read_bytes()
        h.update(rel.encode() + b"\0" + len(data).to_bytes(8, "big") + data)
    return h.hexdigest()


def spinup_key(scenario: Scenario, seed: int) -> str:
    """What a spun-up world depends on: the code, the seed, the world tables and every parameter
    but the policy group's. Scenarios that differ only in their levers and ``policy.*`` parameters
    share it, since no lever runs in the spin-up (a lever's other parameters stay in the key)."""
    data = scenario.to_dict()
    world = {"params": {k: v for k, v in data["params"].items() if not k.startswith("policy.")},
             "sectors": data["sectors"], "regions": data["regions"]}
    h = hashlib.sha256(_canonical({"code": code_fingerprint(), "seed": int(seed), "world": world}))
    return h.hexdigest()


def _canonical(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def _scenario_record(scenario: Scenario) -> dict:
    """The scenario as plain data that :func:`scenario_from_dict` reads back to the same scenario:
    ``Scenario.to_dict`` without a lever's firm group where the lever takes no firm targets."""
    data = scenario.to_dict()
    for lid, entry in data["levers"].items():
        if "firms" not in BY_ID[lid].targets:
            entry.pop("firms", None)
    data["source"] = scenario.source
    return data


def _rebuild_scenario(record: dict, where: str) -> Scenario:
    raw = {k: v for k, v in record.items() if k not in ("extends_chain", "source")}
    try:
        scenario = scenario_from_dict(raw, source=record.get("source", where), chain=tuple(record.get("extends_chain", ())))
    except InputError as err:
        raise InputError(f"its scenario no longer validates ({err})", source=where) from None
    if json.dumps(_scenario_record(scenario)) != json.dumps(record):  # order included (levers)
        raise InputError("its scenario does not rebuild to the same scenario", source=where)
    return scenario


# ------------------------------------------------------------------------------------------------
# Save
# ------------------------------------------------------------------------------------------------
class _Encoder:
    """Turns the model's object graph into a JSON tree plus arrays grouped by (dtype, shape)."""

    def __init__(self, model):
        self.model = model
        self.memo: dict[int, tuple[int, dict]] = {}  # id(object) -> (number, its node)
        self.keep: list = []  # objects behind memo numbers, kept alive while encoding
        self.refs: set[int] = set()
        self.slot_of: dict[int, list] = {}  # id(array root) -> [group, row]
        self.groups: dict[tuple, int] = {}  # (dtype, shape, layout) -> group number
        self.members: list[list[np.ndarray]] = []
        self.layouts: list[str] = []

    # --- arrays --------------------------------------------------------------------------------
    def _store(self, arr: np.ndarray, path: str) -> list:
        """Row of ``arr``'s data in its (dtype, shape, layout) group: [group, row]."""
        if arr.dtype.hasobject:
            raise TypeError(f"{path}: an object array cannot be saved without pickle")
        if arr.flags.c_contiguous:
            stored, layout = arr, "C"
        elif arr.flags.f_contiguous:
            stored, layout = arr.T, "F"
        else:
            raise TypeError(f"{path}: an array owning non-contiguous memory cannot be saved")
        key = (stored.dtype, stored.shape, layout)
        g = self.groups.get(key)
        if g is None:
            g = self.groups[key] = len(self.members)
            self.members.append([])
            self.layouts.append(layout)
        self.members[g].append(stored)
        return [g, len(self.members[g]) - 1]

    def _slot(self, root: np.ndarray, path: str) -> list:
        slot = self.slot_of.get(id(root))
        if slot is None:
            slot = self.slot_of[id(root)] = self._store(root, path)
            self.keep.append(root)
        return slot

    def _array(self, arr: np.ndarray, path: str) -> dict:
        if type(arr) is not np.ndarray:
            raise TypeError(f"{path}: cannot save a {_qualname(arr)} (plain numpy arrays only)")
        root = arr
        while isinstance(root.base, np.ndarray):
            root = root.base
        if root is arr:
            node = {"__array__": self._slot(arr, path)}
        else:
            offset = arr.__array_interface__["data"][0] - root.__array_interface__["data"][0]
            node = {"__view__": self._slot(root, path), "dtype": np.lib.format.dtype_to_descr(arr.dtype),
                    "shape": list(arr.shape), "strides": list(arr.strides), "offset": offset}
        if not arr.flags.writeable:
            node["readonly"] = True
        return node

    def _ints(self, values, kind: str) -> dict | None:
        """Many Python ints as one int64 array (None if they are not all ints in range)."""
        if len(values) < _COMPACT or not _int64s(values):
            return None
        arr = np.array(values, dtype=np.int64)
        self.keep.append(arr)
        return {"__ints__": self._store(arr, kind), "as": kind}

    # --- the walk -----------------------------------------------------------------------------
    def encode(self, value: Any, path: str) -> Any:
        t = type(value)
        if value is None or t in (bool, int, float, str):
            return value
        if isinstance(value, np.generic):
            if value.dtype.kind not in "biuf" or value.dtype.itemsize > 8:
                raise TypeError(f"{path}: cannot save a numpy {value.dtype} scalar")
            return {"__scalar__": value.dtype.str, "value": value.item()}
        if t is tuple:
            return {"__tuple__": [self.encode(v, f"{path}[{i}]") for i, v in enumerate(value)]}
        if t is frozenset:
            return {"__frozenset__": sorted((self._plain(v, path) for v in value), key=_canonical)}
        if isinstance(value, types.MethodType):
            if _qualname(value.__self__) not in WALKED:
                raise TypeError(f"{path}: a method of a {_qualname(value.__self__)} cannot be saved")
            name = value.__func__.__name__
            if getattr(type(value.__self__), name, None) is not value.__func__:
                raise TypeError(f"{path}: method {name} is not its class's own")
            return {"__method__": name, "of": self.encode(value.__self__, f"{path}.__self__")}
        if isinstance(value, Cell):
            return {"__cell__": list(value.coordinate)}
        name = _qualname(value)
        if name in REBUILT_TYPES:
            return {"__rebuilt__": name}
        if dataclasses.is_dataclass(value) and value.__dataclass_params__.frozen:
            return {"__frozen__": name, "fields": [[f.name, self._plain(getattr(value, f.name), f"{path}.{f.name}")]
                                                  for f in dataclasses.fields(value)]}
        # Mutable or shareable: one node per object, later occurrences refer to it.
        seen = self.memo.get(id(value))
        if seen is not None:
            self.refs.add(seen[0])
            return {"__ref__": seen[0]}
        node: dict = {}
        number = len(self.keep)
        self.keep.append(value)
        self.memo[id(value)] = (number, node)
        node.update(self._mutable(value, name, path))
        node["id"] = number
        return node

    def _plain(self, value: Any, path: str) -> Any:
        """Encode a value that may hold no mutable objects (set items, frozen dataclass fields)."""
        if value is None or type(value) in (bool, int, float, str):
            return value
        if type(value) is tuple:
            return {"__tuple__": [self._plain(v, path) for v in value]}
        raise TypeError(f"{path}: cannot save a {_qualname(value)} here (plain values only)")

    def _mutable(self, value: Any, name: str, path: str) -> dict:
        t = type(value)
        if t is np.ndarray or isinstance(value, np.ndarray):
            return self._array(value, path)
        if t is list:
            return self._ints(value, "list") or {"__list__": [self.encode(v, f"{path}[{i}]") for i, v in enumerate(value)]}
        if t is set:  # sorted: a set's order is no part of the state
            compact = self._ints(sorted(value), "set") if _int64s(value) else None
            return compact or {"__set__": sorted((self._plain(v, path) for v in value), key=_canonical)}
        if t in (dict, defaultdict):
            tag = "__dict__" if t is dict else "__defaultdict__"
            if len(value) >= _COMPACT and _int64s(value) and _int64s(value.values()):
                return {tag: {"keys": self._ints(list(value), "list"),
                              "values": self._ints(list(value.values()), "list")}}
            return {tag: [[self.encode(k, f"{path}{{key}}"), self.encode(v, f"{path}[{k!r}]")] for k, v in value.items()]}
        if t is np.random.Generator:
            bg = type(value.bit_generator).__name__
            if bg not in _BIT_GENERATORS:
                raise TypeError(f"{path}: cannot save a Generator over a {bg}")
            return {"__generator__": bg, "state": self.encode(value.bit_generator.state, f"{path}.state")}
        if t is random.Random:
            version, internal, gauss = value.getstate()
            return {"__random__": [version, self._ints(list(internal), "tuple"), self._plain(gauss, path)]}
        if isinstance(value, Firm):
            raise TypeError(f"{path}: a Firm agent cannot be saved: firm agents are rebuilt from the "
                            "firm table, so refer to firms by slot or uid")
        if name in WALKED:
            skip = REBUILT_ATTRS.get(name, {})
            # The model's lever state and parameters last: a warm start keeps its own and skips
            # them, so nothing saved after them may refer into them.
            items = sorted(vars(value).items(), key=lambda kv: (kv[0] in POLICY_ATTRS, kv[0]))
            attrs = [[k, self.encode(v, f"{path}.{k}")] for k, v in items
                     if k not in skip and not (isinstance(value, mesa.Agent) and k == "unique_id")]
            if isinstance(value, mesa.Agent):
                return {"__agent__": name, "uid": int(value.unique_id), "attrs": attrs}
            return {"__object__": name, "attrs": attrs}
        raise TypeError(f"{path}: the snapshot does not know how to save a {name}; add its class "
                        "to snapshot.WALKED (saved attribute by attribute) or say how it is rebuilt")

    def finish(self) -> None:
        """Drop the object numbers nothing refers to (smaller, still deterministic files)."""
        for number, node in self.memo.values():
            if number not in self.refs:
                node.pop("id", None)

    def entries(self) -> list[tuple[str, np.ndarray]]:
        return [(f"g{g}", np.stack(m)) for g, m in enumerate(self.members)]


def _check_firm_agents(model) -> None:
    """Firm agents hold nothing but their slot and cell; anything else would be lost."""
    ft = model.firms
    idx = ft.idx
    if sorted(model.firm_agents) != idx.tolist():
        raise TypeError("model.firm_agents: the firm agents do not match the living slots of the firm table")
    for slot, agent in model.firm_agents.items():
        extra = set(vars(agent)) - _FIRM_ATTRS
        if extra or agent.pos is not None or agent.slot != slot:
            raise TypeError(f"model.firm_agents[{slot}]: a Firm agent holds {sorted(extra) or 'a position'}, "
                            "which the snapshot would not keep (firm state belongs in the firm table)")
        if agent.unique_id != ft.uid[slot] or agent.cell.coordinate != (ft.x[slot], ft.y[slot]):
            raise TypeError(f"model.firm_agents[{slot}]: the agent's uid or cell differs from the firm table")


def _next_agent_id(model) -> int:
    """The unique_id Mesa gives the next agent of ``model``."""
    if "agent_id_counter" in vars(model):  # Mesa >= 3.4
        return int(model.agent_id_counter)
    counter = ModelScopedIds._ids.get(model)  # Mesa 3.3: our per-model itertools.count
    match = re.fullmatch(r"count\((\d+)\)", repr(counter))
    if match is None:
        raise TypeError(f"cannot read Mesa {mesa.__version__}'s agent id counter")
    return int(match.group(1))


def _set_next_agent_id(model, n: int) -> None:
    if "agent_id_counter" in vars(model):
        model.agent_id_counter = n
    else:
        ModelScopedIds._ids[model] = itertools.count(n)


def _write_zip(path: Path, entries: list[tuple[str, np.ndarray]]) -> None:
    """An .npz (a zip of .npy files, as np.savez writes) with fixed timestamps."""
    with open(path, "wb") as f:
        with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
            for name, arr in entries:
                info = zipfile.ZipInfo(f"{name}.npy", date_time=_ZIP_TIME)
                with zf.open(info, "w", force_zip64=True) as out:
                    np.lib.format.write_array(out, np.ascontiguousarray(arr), allow_pickle=False)
        f.flush()
        os.fsync(f.fileno())


def _temp_beside(path: Path) -> Path:
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    return Path(name)


def save_snapshot(model, path: str | Path) -> Path:
    """Save ``model``'s complete state (between steps) to ``<path>.json`` and ``<path>.npz``;
    returns the header's path. Both files are written to temporary names first and then moved
    into place (array file first), so a reader never sees a half-written snapshot."""
    if _qualname(model) != "cluster_abm.model.cluster_model.ClusterModel":
        raise TypeError(f"save_snapshot saves a ClusterModel, not a {_qualname(model)}")
    header_path, arrays_path = snapshot_paths(path)
    _check_firm_agents(model)
    enc = _Encoder(model)
    root = enc.encode(model, "model")
    enc.finish()
    state = {"model": root, "next_agent_id": _next_agent_id(model), "mesa_steps": model.steps,
             "layouts": enc.layouts}
    state_bytes = json.dumps(state, separators=(",", ":"), ensure_ascii=True).encode()
    entries = [("state", np.frombuffer(state_bytes, dtype=np.uint8)), *enc.entries()]

    header_path.parent.mkdir(parents=True, exist_ok=True)
    tmp_arrays, tmp_header = _temp_beside(arrays_path), _temp_beside(header_path)
    try:
        _write_zip(tmp_arrays, entries)
        data = tmp_arrays.read_bytes()
        header = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "code_fingerprint": code_fingerprint(),
            "seed": model.seed,
            "t": model.t,
            "steps_per_year": model.p.steps_per_year,
            "years": model.years_run,
            "firms": model.n_firms,
            "arrays": {"file": arrays_path.name, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()},
            "written_with": {"python": platform.python_version(), "numpy": np.__version__, "mesa": mesa.__version__},
            "scenario": _scenario_record(model.cluster_scenario),
            "spinup_key": spinup_key(model.cluster_scenario, model.seed),
        }
        header["header_sha256"] = hashlib.sha256(_canonical(header)).hexdigest()
        with open(tmp_header, "w", encoding="utf-8") as f:  # key order kept: the scenario's is meant
            f.write(json.dumps(header, indent=1, ensure_ascii=True) + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp_arrays, arrays_path)
        os.replace(tmp_header, header_path)
    finally:
        for tmp in (tmp_arrays, tmp_header):
            tmp.unlink(missing_ok=True)
    return header_path


# ------------------------------------------------------------------------------------------------
# Load
# ------------------------------------------------------------------------------------------------
def read_header(path: str | Path) -> dict:
    """The checked header of snapshot ``path`` (InputError if missing, damaged, of another format
    version or written by other code)."""
    header_path, _ = snapshot_paths(path)
    where = str(header_path)
    if not header_path.is_file():
        raise InputError("no snapshot here (file missing)", source=where)
    try:
        header = json.loads(header_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InputError(f"damaged snapshot header (not JSON: {err})", source=where) from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise InputError(f"not a {FORMAT} header", source=where)
    if header.get("format_version") != FORMAT_VERSION:
        raise InputError(f"snapshot format version {header.get('format_version')!r}; this code reads "
                         f"version {FORMAT_VERSION}: make the snapshot again with this code", source=where)
    body = {k: v for k, v in header.items() if k != "header_sha256"}
    if hashlib.sha256(_canonical(body)).hexdigest() != header.get("header_sha256"):
        raise InputError("damaged snapshot header (its sha256 does not match)", source=where)
    arrays = header.get("arrays")
    if (not isinstance(arrays, dict) or not {"file", "bytes", "sha256"} <= set(arrays)
            or not isinstance(arrays["file"], str) or Path(arrays["file"]).name != arrays["file"]
            or not isinstance(header.get("scenario"), dict) or not isinstance(header.get("seed"), int)):
        raise InputError("damaged snapshot header (arrays, scenario or seed missing)", source=where)
    ours = code_fingerprint()
    if header.get("code_fingerprint") != ours:
        raise InputError(f"written by other code (fingerprint {str(header.get('code_fingerprint'))[:12]}, "
                         f"this code {ours[:12]}): make the snapshot again with this code", source=where)
    return header


def _read_arrays(header_path: Path, header: dict) -> dict[str, np.ndarray]:
    arrays_path = header_path.with_name(header["arrays"]["file"])
    where = str(arrays_path)
    if not arrays_path.is_file():
        raise InputError("the snapshot's array file is missing", source=where)
    data = arrays_path.read_bytes()
    expected = header["arrays"]
    if len(data) != expected["bytes"] or hashlib.sha256(data).hexdigest() != expected["sha256"]:
        raise InputError(f"damaged or truncated array file ({len(data)} bytes, expected {expected['bytes']}; "
                         "sha256 does not match the header)", source=where)
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            return {name: npz[name] for name in npz.files}
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as err:
        raise InputError(f"unreadable array file ({' '.join(str(err).split())})", source=where) from None


class _Decoder:
    """Restores a state tree into the model rebuilt from the snapshot's scenario and seed."""

    def __init__(self, model, arrays: dict[str, np.ndarray], layouts: list[str], agents: dict, where: str,
                 keep: tuple[str, ...] = ()):
        self.model = model
        self.arrays = arrays
        self.layouts = layouts
        self.agents = agents  # unique_id -> rebuilt agent (firms excluded)
        self.reached: dict[int, mesa.Agent] = {}
        self.where = where
        self.keep = keep
        self.memo: dict[int, Any] = {}
        self.slots: dict[tuple[int, int], np.ndarray] = {}
        self.readonly: list[np.ndarray] = []

    def fail(self, path: str, what: str):
        return InputError(f"state {path}: {what}", source=self.where)

    def _slot(self, slot: list) -> np.ndarray:
        key = (int(slot[0]), int(slot[1]))
        arr = self.slots.get(key)
        if arr is None:
            stack = self.arrays[f"g{key[0]}"]
            row = stack[key[1], ...]
            arr = row.T.copy(order="K") if self.layouts[key[0]] == "F" else row.copy()
            self.slots[key] = arr
        return arr

    def _array(self, node: dict) -> np.ndarray:
        if "__array__" in node:
            arr = self._slot(node["__array__"])
        else:
            root = self._slot(node["__view__"])
            dtype = np.lib.format.descr_to_dtype(node["dtype"])
            if dtype.hasobject:  # never read Python objects out of raw bytes
                raise ValueError("a view as an object array")
            flat = root.reshape(-1, order="A").view(np.uint8)
            arr = np.ndarray(tuple(node["shape"]), dtype=dtype, buffer=flat,
                             offset=node["offset"], strides=tuple(node["strides"]))
        if node.get("readonly"):
            self.readonly.append(arr)  # at the end: views of it may still be made writeable
        return arr

    def _ints(self, node: dict) -> Any:
        values = self.arrays[f"g{node['__ints__'][0]}"][node["__ints__"][1]].tolist()
        return {"list": list, "tuple": tuple, "set": set}[node["as"]](values)

    def restore(self, current: Any, node: Any, path: str) -> Any:
        if not isinstance(node, dict):
            return node
        value = self._restore(current, node, path)
        if "id" in node:
            self.memo[node["id"]] = value
        return value

    def _restore(self, current: Any, node: dict, path: str) -> Any:
        tag = next(iter(node))
        if tag == "__ref__":
            return self.memo[node["__ref__"]]
        if tag in ("__array__", "__view__"):
            return self._array(node)
        if tag == "__ints__":
            return self._ints(node)
        if tag == "__scalar__":
            dtype = np.dtype(node["__scalar__"])
            if dtype.kind not in "biuf":
                raise self.fail(path, f"no numpy scalar of dtype {dtype}")
            return dtype.type(node["value"])
        if tag == "__tuple__":
            cur = current if isinstance(current, tuple) and len(current) == len(node[tag]) else None
            return tuple(self.restore(cur[i] if cur else _MISSING, v, f"{path}[{i}]") for i, v in enumerate(node[tag]))
        if tag == "__list__":
            cur = current if isinstance(current, list) and len(current) == len(node[tag]) else None
            return [self.restore(cur[i] if cur else _MISSING, v, f"{path}[{i}]") for i, v in enumerate(node[tag])]
        if tag in ("__set__", "__frozenset__"):
            items = (self.restore(_MISSING, v, path) for v in node[tag])
            return set(items) if tag == "__set__" else frozenset(items)
        if tag in ("__dict__", "__defaultdict__"):
            return self._dict(current, node, tag, path)
        if tag in ("__object__", "__agent__"):
            return self._object(current, node, tag, path)
        if tag == "__generator__":
            return self._generator(current, node, path)
        if tag == "__random__":
            version, internal, gauss = node["__random__"]
            rnd = current if type(current) is random.Random else random.Random()
            rnd.setstate((version, self._ints(internal), gauss))
            return rnd
        if tag == "__method__":
            owner = self.restore(_MISSING, node["of"], f"{path}.__self__")
            func = getattr(type(owner), node["__method__"], None)
            if _qualname(owner) not in WALKED or not isinstance(func, types.FunctionType):
                raise self.fail(path, f"{node['__method__']!r} is no method of a {_qualname(owner)}")
            return types.MethodType(func, owner)
        if tag == "__cell__":
            return self.model.world.grid[tuple(node["__cell__"])]
        if tag == "__rebuilt__":
            if current is _MISSING or _qualname(current) != node[tag]:
                raise self.fail(path, f"the rebuilt model has no {node[tag]} here")
            return current
        if tag == "__frozen__":
            fields = {name: self.restore(_MISSING, v, path) for name, v in node["fields"]}
            if (current is _MISSING or _qualname(current) != node[tag]
                    or {f.name: getattr(current, f.name) for f in dataclasses.fields(current)} != fields):
                raise self.fail(path, f"differs from the {node[tag]} rebuilt from the scenario")
            return current
        raise self.fail(path, f"unknown entry {tag!r}")

    def _dict(self, current, node, tag, path):
        body = node[tag]
        if isinstance(body, dict):  # int -> int, stored as two arrays
            pairs = zip(self._ints(body["keys"]), self._ints(body["values"]), strict=True)
        else:
            pairs = ((self.restore(_MISSING, k, f"{path}{{key}}"), v) for k, v in body)
        cur = current if isinstance(current, dict) else {}
        out: dict = {}
        for k, v in pairs:
            out[k] = self.restore(cur.get(k, _MISSING), v, f"{path}[{k!r}]")
        if tag == "__dict__":
            return out
        if type(current) is not defaultdict:
            raise self.fail(path, "the rebuilt model has no defaultdict here (its default factory cannot be saved)")
        current.clear()
        current.update(out)
        return current

    def _object(self, current, node, tag, path):
        name = node[tag]
        if tag == "__agent__":
            current = self.agents.get(node["uid"], _MISSING)
            if current is _MISSING or _qualname(current) != name:
                raise self.fail(path, f"the rebuilt model has no {name} with unique_id {node['uid']}")
            self.reached[node["uid"]] = current
        elif current is _MISSING or _qualname(current) != name:
            raise self.fail(path, f"the rebuilt model has no {name} here")
        if "id" in node:
            self.memo[node["id"]] = current  # before its attributes, which may refer back to it
        saved = set()
        for attr, value in node["attrs"]:
            if not isinstance(attr, str) or attr.startswith("__"):
                raise self.fail(path, f"attribute {attr!r} cannot be restored")
            saved.add(attr)
            if path == "model" and attr in self.keep:
                continue
            setattr(current, attr, self.restore(getattr(current, attr, _MISSING), value, f"{path}.{attr}"))
        keep = set(REBUILT_ATTRS.get(name, ())) | ({"unique_id"} if tag == "__agent__" else set())
        for attr in set(vars(current)) - saved - keep:
            delattr(current, attr)  # built at construction, absent from the saved model
        return current

    def _generator(self, current, node, path):
        bg = node["__generator__"]
        if bg not in _BIT_GENERATORS:
            raise self.fail(path, f"unknown bit generator {bg!r}")
        state = self.restore(_MISSING, node["state"], f"{path}.state")
        gen = current
        if type(gen) is not np.random.Generator or type(gen.bit_generator).__name__ != bg:
            gen = np.random.Generator(getattr(np.random, bg)())
        gen.bit_generator.state = state
        return gen


def load_header_and_scenario(path: str | Path) -> tuple[dict, Scenario]:
    """The checked header of snapshot ``path`` and the scenario it was saved with."""
    header_path, _ = snapshot_paths(path)
    header = read_header(header_path)
    return header, _rebuild_scenario(header["scenario"], str(header_path))


class PartlyRestored(InputError):
    """A snapshot that passed every check before the model was written, then failed: the model
    is half overwritten and must not be used (a caller falling back to a fresh spin-up must not
    catch this one)."""


def restore_snapshot(model, path: str | Path, *, keep_policy: bool = False) -> None:
    """Overwrite every piece of ``model``'s mutable state with the state saved in ``path``;
    ``model`` must be freshly built from the snapshot's scenario and seed (see
    ``ClusterModel.from_snapshot``). Stepping it on gives, to the bit, what the saved model would
    have given.

    ``keep_policy``: a warm start. ``model`` was built from another scenario with the same spin-up
    key (:func:`spinup_key`: it differs only in levers and ``policy.*`` parameters); it keeps its
    own levers and parameters and takes everything else from the snapshot.
    """
    header_path, _ = snapshot_paths(path)
    header = read_header(header_path)
    where = str(header_path)
    if keep_policy and header.get("spinup_key") != spinup_key(model.cluster_scenario, model.seed):
        raise InputError("it is the spun-up world of another scenario, seed or code version",
                         source=where)
    arrays = _read_arrays(header_path, header)
    try:
        state = json.loads(bytes(arrays.pop("state")).decode("utf-8"))
        root, layouts = state["model"], list(state["layouts"])
        mesa_steps, next_id = int(state["mesa_steps"]), int(state["next_agent_id"])
    except (KeyError, TypeError, ValueError):  # JSONDecodeError and UnicodeDecodeError included
        raise InputError("the array file holds no readable state", source=where) from None
    _replay_mesa_clock(model, mesa_steps)

    # Take every agent off the registries and the grid; they come back in unique_id order.
    agents = {}
    for agent in sorted(model.agents, key=lambda a: a.unique_id):
        if isinstance(agent, Firm):
            agent.remove()
        else:
            agents[agent.unique_id] = agent
            model.deregister_agent(agent)
            cell = getattr(agent, "_mesa_cell", None)
            if cell is not None:
                cell.remove_agent(agent)
    dec = _Decoder(model, arrays, layouts, agents, where, POLICY_ATTRS if keep_policy else ())
    try:
        dec.restore(model, root, "model")
        for arr in dec.readonly:
            arr.flags.writeable = False
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as err:
        what = str(err) if isinstance(err, InputError) else \
            f"malformed state ({type(err).__name__}: {' '.join(str(err).split())})"
        raise PartlyRestored(what.removeprefix(f"{where}: "), source=where) from err
    _attach_agents(model, dec.reached)
    _set_next_agent_id(model, next_id)
    if keep_policy:
        model.policy.begin_step(model.step_state)


def _replay_mesa_clock(model, steps: int) -> None:
    """Bring Mesa's step counter and (Mesa >= 3.5) its event clock to ``steps`` through Mesa's own
    ``step``, with the model's step swapped for a no-op: no Mesa internals are written."""
    user_step = model._user_step
    model._user_step = lambda: None
    try:
        for _ in range(steps - model.steps):
            model.step()
    finally:
        model._user_step = user_step


def _attach_agents(model, others: dict[int, mesa.Agent]) -> None:
    """Register the agents and put them in their cells in unique_id (= creation) order, as a run
    straight through has them: Firm agents made anew from the firm table, the others as restored."""
    ft, grid = model.firms, model.world.grid
    idx = ft.idx
    items = [(int(ft.uid[s]), int(s), None) for s in idx] + [(uid, -1, a) for uid, a in others.items()]
    model.firm_agents = {}
    for uid, slot, agent in sorted(items, key=lambda item: item[0]):
        if agent is None:
            firm = Firm(model, slot, grid[(int(ft.x[slot]), int(ft.y[slot]))])
            firm.unique_id = uid
            model.firm_agents[slot] = firm
        else:
            model.register_agent(agent)
            agent.unique_id = uid
            cell = getattr(agent, "_mesa_cell", None)
            if cell is not None:
                cell.add_agent(agent)
