"""Property-based test (Hypothesis) of the scenario and experiment loaders (issue 20).

The property: every generated file either loads into a scenario (or experiment) whose model
builds and runs a step, or gives the project's one-line input error naming the file -- never
another exception, never a traceback. Files are generated from valid ones by random edits of
their values (NaN, infinities, huge or negative numbers, fractions where whole numbers belong,
wrong types, empty lists and tables, unknown keys, deleted keys, references that leave the
scenario search path) and of their bytes (non-UTF-8, deep nesting, truncation).

Examples are derandomised (the same 1,000+ files every run, so CI is stable); to explore new
ones, run with ``CLUSTER_ABM_FUZZ_SEED=<n>``. Models are built small (at most 60 firms, no
spin-up), so a step takes some 50 ms.
"""

from __future__ import annotations

import copy
import math
import os
from pathlib import Path
from typing import Any

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, seed, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from cluster_abm.errors import InputError  # noqa: E402
from cluster_abm.experiments.experiment_spec import load_experiment  # noqa: E402
from cluster_abm.model.cluster_model import ClusterModel  # noqa: E402
from cluster_abm.specs.scenario import load_scenario  # noqa: E402
from cluster_abm.specs.toml_spec import toml_key, toml_value  # noqa: E402

SCENARIO_EXAMPLES = 700
EXPERIMENT_EXAMPLES = 300  # 1,000 generated files in all
SMALL = {"sim.n_firms": 60, "sim.spinup_years": 0, "sim.years": 1}
MAX_RUNS_LISTED = 5_000  # experiments larger than this are checked without listing their runs
FUZZ_SEED = int(os.environ.get("CLUSTER_ABM_FUZZ_SEED", "20"))

FUZZ = settings(deadline=None, database=None, derandomize="CLUSTER_ABM_FUZZ_SEED" not in os.environ,
                suppress_health_check=list(HealthCheck), print_blob=True)


# --- valid starting points ------------------------------------------------------------------------
def _resolved(name: str) -> dict[str, Any]:
    """A project scenario, fully resolved, as the raw tables of a file (small, no spin-up)."""
    raw = load_scenario(name).to_dict()
    raw.pop("extends_chain")
    raw["name"] = f"{name}_small"
    raw["params"] = {**raw["params"], **SMALL}
    return raw


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    """A folder with two small scenarios the generated files extend or list."""
    folder = tmp_path_factory.mktemp("fuzz")
    (folder / "small_a.toml").write_text(
        'extends = "baseline"\n[simulation]\nn_firms = 60\nspinup_years = 0\nyears = 1\n')
    (folder / "small_b.toml").write_text(
        'extends = "small_a"\n[levers.incubators]\nintensity = 1.0\n')
    return folder


BASES = {
    "baseline": lambda: _resolved("baseline"),
    "full_strategy": lambda: _resolved("full_strategy"),
    "patch": lambda: {
        "extends": "small_a",
        "simulation": {"regions": ["veneto", "north_east_romania"], "n_firms": 40},
        "regions_patch": {"veneto": {"firm_share": 0.3, "unemployment": 0.05,
                                     "clusters": [{"sector": "machinery", "firm_share": 0.4}]}},
        "levers": {"managerial_training": {"intensity": 1.5, "regions": ["veneto"]},
                   "incubators": True},
        "params": {"coop": {"tie_decay": 0.1}},
    },
    "levers_from": lambda: {"extends": "small_a", "levers_from": ["small_b"],
                            "title": "packages", "description": "x"},
    "regions_add": lambda: {
        "extends": "small_a",
        "regions_add": [dict(_resolved("baseline")["regions"][0], id="new_region", name="New",
                             enterprises=0.0, firm_share=0.2)],
    },
    "programme": lambda: {
        "extends": "small_a",
        "programme": {"budget_keur_per_year": 2000, "years": 3, "regions": ["north_east_romania"],
                      "split": "priority", "priority": ["cooperation_support", "managerial_training"]},
        "levers": {"cooperation_support": {}, "managerial_training": {"intensity": 1.0}},
    },
}
_BASE_CACHE: dict[str, dict] = {}


def base(name: str) -> dict:
    if name not in _BASE_CACHE:
        _BASE_CACHE[name] = BASES[name]()
    return copy.deepcopy(_BASE_CACHE[name])


EXPERIMENT = {
    "name": "fz",
    "description": "fuzzed",
    "scenarios": ["small_a", "small_b"],
    "baseline": "small_a",
    "replicates": 2,
    "seed": 3,
    "years": 1,
    "outputs": {"series_every": 4, "kpis": ["jobs_net", "firms_final"], "regions": True},
    "execution": {"executor": "serial", "workers": 1},
    "design": {"kind": "grid", "base": "small_a", "crn": False,
               "params": {"funding.eu_budget": [500.0, 900.0], "coop.tie_decay": [0.05]}},
}
LHS = {"kind": "lhs", "base": "small_b", "samples": 3,
       "params": {"funding.eu_budget": {"low": 100.0, "high": 900.0}}}


# --- edits ------------------------------------------------------------------------------------------
REFERENCES = ["baseline", "small_a", "small_b", "fuzz", "no_such", "", "/etc/passwd",
              "../../etc/passwd", "../small_a.toml", "small_a.toml", "/", ".", "..",
              "scenarios/baseline.toml", "a" * 300, "C:\\x.toml"]
ODD = st.one_of(
    st.sampled_from([math.nan, math.inf, -math.inf, 0, -1, 0.5, 1e308, -1e308, 2**63, 2**70,
                     -(2**63), True, False, "", "x", "nan", [], {}, [[]], [{}], {"a": {}},
                     "../x", "/etc/passwd", "a" * 300, "\u00e9\u4e2d", [1, "a"], ["veneto"]]),
    st.integers(), st.floats(), st.text(max_size=8), st.sampled_from(REFERENCES),
    st.lists(st.integers(-3, 3), max_size=3), st.lists(st.text(max_size=4), max_size=3),
)


def paths(tree: Any, prefix: tuple = ()) -> list[tuple]:
    """Every place in a nested table (keys and list indices), the top excluded."""
    out = []
    items = tree.items() if isinstance(tree, dict) else enumerate(tree) if isinstance(tree, list) else ()
    for k, v in items:
        out.append(prefix + (k,))
        out += paths(v, prefix + (k,))
    return out


def _get(tree: Any, path: tuple) -> Any:
    for k in path:
        tree = tree[k]
    return tree


def near(value: Any, data) -> Any:
    """A value close to ``value`` that may or may not still be allowed."""
    if isinstance(value, bool):
        return data.draw(st.sampled_from([not value, 1, "true"]))
    if isinstance(value, int | float):
        f = data.draw(st.sampled_from([0, -1, 0.5, 2, 10, 1000, 1e9]))
        return data.draw(st.sampled_from([value * f, value + 0.5, int(value * f) if math.isfinite(value * f) else 0,
                                          float(value)]))
    if isinstance(value, str):
        return data.draw(st.sampled_from(["", value + "x", value.upper(), value + "/..", " " + value]))
    if isinstance(value, list):
        return copy.deepcopy(data.draw(st.sampled_from([[], value[:1] * 2, value[1:], value + value[:1]])))
    if isinstance(value, dict):
        return copy.deepcopy(data.draw(st.sampled_from([{}, {"unknown_key": 1}, {**value, "extra": True}])))
    return value


def mutate(tree: dict, data, n_max: int = 4) -> dict:
    """Up to ``n_max`` random edits of a nested table (a value replaced, nudged or deleted, a
    key added, a table emptied)."""
    for _ in range(data.draw(st.sampled_from([0, 1, 1, 1, 2, 2, 3, n_max]))):
        places = paths(tree)
        op = data.draw(st.sampled_from(["replace", "near", "near", "delete", "add"]))
        if op == "add" or not places:
            parent = data.draw(st.sampled_from([()] + [p for p in places if isinstance(_get(tree, p), dict)]))
            key = data.draw(st.sampled_from(["unknown", "extends", "name", "regions_patch", "levers",
                                             "simulation", "firm_share", "clusters", "intensity", "seed",
                                             "years", "kind", "samples"]))
            _get(tree, parent)[key] = copy.deepcopy(data.draw(ODD))  # a fresh [] or {} each time
            continue
        place = data.draw(st.sampled_from(places))
        parent, key = _get(tree, place[:-1]), place[-1]
        if op == "delete":
            del parent[key]
        elif op == "near":
            parent[key] = near(parent[key], data)
        else:
            parent[key] = copy.deepcopy(data.draw(ODD))
    return tree


def render(tree: dict) -> str:
    """A table as TOML text: every top-level key one line (inline tables and arrays)."""
    return "".join(f"{toml_key(str(k))} = {toml_value(v)}\n" for k, v in tree.items())


def damage(text: str, data) -> bytes:
    """The file's bytes, mostly as they are, sometimes damaged."""
    raw = text.encode("utf-8")
    kind = data.draw(st.sampled_from(["none"] * 20 + ["latin1", "nul", "truncate", "deep", "deep_table",
                                                       "bom", "garbage"]))
    if kind == "latin1":
        at = data.draw(st.integers(0, len(raw)))
        return raw[:at] + b"\xe9\xff" + raw[at:]
    if kind == "nul":
        return raw + b'title = "a\x00b"\n'
    if kind == "truncate":
        return raw[:data.draw(st.integers(0, len(raw)))]
    if kind == "deep":
        n = data.draw(st.sampled_from([31, 33, 400, 3000]))
        return raw + b"deep = " + b"[" * n + b"]" * n + b"\n"
    if kind == "deep_table":
        n = data.draw(st.sampled_from([30, 40, 2000]))
        return raw + b"[params." + b".".join([b"a"] * n) + b"]\nb = 1\n"
    if kind == "bom":
        return b"\xef\xbb\xbf" + raw
    if kind == "garbage":
        return data.draw(st.binary(max_size=64))
    return raw


# --- the property -------------------------------------------------------------------------------------
def one_line_error(exc: InputError, path: Path) -> None:
    text = str(exc)
    assert "\n" not in text and text.strip() == text, text
    assert str(path) in text, f"the error does not name the file: {text}"


def steps(scenario) -> None:
    """The scenario's model, made small, builds and runs one step."""
    small = {"sim.n_firms": min(int(scenario.param("sim.n_firms")), 60), "sim.spinup_years": 0,
             "sim.region_cells": min(int(scenario.param("sim.region_cells")), 16)}
    model = ClusterModel(scenario.with_params(small), seed=1, spinup_cache=None)
    model.step()
    assert model.firms.n > 0


STATS = {"scenario": {"loaded": 0, "refused": 0}, "experiment": {"loaded": 0, "refused": 0}}


@seed(FUZZ_SEED)
@settings(FUZZ, max_examples=SCENARIO_EXAMPLES)
@given(data=st.data())
def test_a_generated_scenario_file_runs_or_gives_one_line(world, data):
    tree = mutate(base(data.draw(st.sampled_from(sorted(BASES)))), data)
    path = world / "fuzz.toml"
    path.write_bytes(damage(render(tree), data))
    try:
        scenario = load_scenario(path)
    except InputError as exc:
        STATS["scenario"]["refused"] += 1
        one_line_error(exc, path)
        return
    STATS["scenario"]["loaded"] += 1
    steps(scenario)


@seed(FUZZ_SEED)
@settings(FUZZ, max_examples=EXPERIMENT_EXAMPLES)
@given(data=st.data())
def test_a_generated_experiment_file_runs_or_gives_one_line(world, data):
    tree = copy.deepcopy(EXPERIMENT)
    if data.draw(st.booleans()):
        tree["design"] = copy.deepcopy(LHS)
    tree = mutate(tree, data)
    path = world / "fuzz_experiment.toml"
    path.write_bytes(damage(render(tree), data))
    try:
        exp = load_experiment(path)
    except InputError as exc:
        STATS["experiment"]["refused"] += 1
        one_line_error(exc, path)
        return
    STATS["experiment"]["loaded"] += 1
    points = len(exp.design.points) if exp.design else 0
    if exp.replicates * (len(exp.scenarios) + points) > MAX_RUNS_LISTED:
        return  # a big experiment is valid input; listing millions of runs is not the point
    runs = exp.runs
    run = next((r for r in runs if r.point), runs[0])  # a design point if there is one
    steps(exp.scenario_for(run))


def test_zz_the_fuzzer_both_loads_and_refuses():
    """The generated files are neither all valid nor all broken (else the property is empty).
    Runs after the two properties in this module (pytest keeps the file's order)."""
    print(f"fuzzed files: {STATS}")
    for kind, counts in STATS.items():
        if sum(counts.values()) == 0:
            pytest.skip("the fuzz tests did not run in this session")
        assert counts["loaded"] >= 0.05 * sum(counts.values()), (kind, counts)
        assert counts["refused"] >= 0.05 * sum(counts.values()), (kind, counts)
