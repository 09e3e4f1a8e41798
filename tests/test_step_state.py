"""What one phase of a step computes for a later phase travels in the explicit step state
(:class:`cluster_abm.model.step_state.StepState`, DESIGN 2.4b), not as loose model attributes:
every field is documented, the model carries none of them, and every mechanism that touches the
step state takes it as a parameter and says in its docstring which fields it reads and writes."""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
import pkgutil
import re

import pytest

import cluster_abm.mechanisms
from cluster_abm.model import step_state as step_state_module
from cluster_abm.model.cluster_model import ClusterModel
from cluster_abm.model.step_state import StepState

FIELDS = [f.name for f in dataclasses.fields(StepState)]
# Within-step values that used to live on the model under another name.
OLD_NAMES = ("graduates_step", "ki_free", "ki_region", "ki_kind", "ki_cluster", "ki_accredited")


def _field_docs() -> dict[str, str]:
    tree = ast.parse(inspect.getsource(step_state_module))
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "StepState")
    docs = {}
    for node, after in zip(cls.body, cls.body[1:], strict=False):
        if isinstance(node, ast.AnnAssign) and isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant):
            docs[node.target.id] = after.value.value
    return docs


def test_every_field_says_who_reads_it():
    docs = _field_docs()
    assert set(docs) == set(FIELDS), f"undocumented fields: {sorted(set(FIELDS) - set(docs))}"
    for name, doc in docs.items():
        assert re.search(r"\bread\b", doc, re.IGNORECASE), f"{name}: say which mechanism reads it"


@pytest.fixture(scope="module")
def stepped():
    m = ClusterModel("full_strategy", seed=3)
    m.run(1.25)  # a year and a step: the yearly phase ran too
    return m


def test_within_step_values_are_not_model_attributes(stepped):
    loose = [name for name in (*FIELDS, *OLD_NAMES) if name != "t" and name in vars(stepped)]
    assert not loose, f"within-step values left on the model: {loose}"


def test_the_last_step_state_stays_readable(stepped):
    s = stepped.step_state
    assert isinstance(s, StepState) and s.t == stepped.t - 1
    n = stepped.firms.n
    for name in ("svc_matchmaking", "eco_awareness", "novelty", "green_partner", "degree"):
        assert len(getattr(s, name)) <= n, name
    assert len(s.cluster_reach) == stepped.world.n_clusters
    assert len(s.graduates) == stepped.world.n_regions


def _mechanism_functions():
    for info in pkgutil.iter_modules(cluster_abm.mechanisms.__path__):
        module = importlib.import_module(f"cluster_abm.mechanisms.{info.name}")
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if fn.__module__ == module.__name__:
                yield f"{info.name}.{name}", fn


def test_mechanisms_take_the_step_state_they_use_and_say_what_they_read_and_write():
    names = "|".join(f for f in FIELDS if f != "t")  # m.t is the model's clock
    touching = re.compile(rf"\bstep\.({names})\b")
    old = re.compile(rf"\bm\.({names})\b")
    checked = 0
    for name, fn in _mechanism_functions():
        source = inspect.getsource(fn)
        assert not old.search(source), f"{name} reads a within-step value from the model"
        takes = "step" in inspect.signature(fn).parameters
        if touching.search(source):
            assert takes, f"{name} uses the step state without taking it"
        if takes and not name.split(".")[1].startswith("_"):
            assert "Step state" in (fn.__doc__ or ""), f"{name}: say which step-state fields it reads and writes"
            checked += 1
    assert checked >= 15
