"""The package's architecture, checked: unique module names, no import cycles, imports that flow
one way through the layers (CONTRIBUTING.md, "Where things live")."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "cluster_abm"

# Lowest first: a module may import from its own layer and from the layers before it.
LAYERS = [
    ("errors", "numerics"),
    ("params",),
    ("state",),
    ("policy",),
    ("specs",),
    ("space",),
    ("agents",),
    ("mechanisms",),
    ("outputs",),
    ("model",),
    ("experiments",),
    ("analysis",),
    ("reports",),
    ("ui",),
    ("cli",),
]
RANK = {name: i for i, names in enumerate(LAYERS) for name in names}


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _imports(path: Path, name: str, modules: dict[str, Path]) -> set[str]:
    """Modules of the package that ``name`` imports anywhere (functions included)."""
    found = set()
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(up + ([node.module] if node.module else []))
            found.add(base)
            found |= {f"{base}.{a.name}" for a in node.names}
    return {m for m in found if m in modules and m != name and m != "cluster_abm"}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(path, name, modules) for name, path in modules.items()}


def _layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def test_module_names_are_unique():
    by_name = defaultdict(list)
    for name in _modules():
        if name.count(".") >= 1:
            by_name[name.rsplit(".", 1)[1]].append(name)
    clashes = {k: v for k, v in by_name.items() if len(v) > 1}
    assert not clashes, f"module names used twice: {clashes}"


def test_every_subpackage_has_a_layer():
    missing = {_layer(m) for m in _modules()} - set(RANK) - {None, "__version__"}
    assert not missing, f"add these to LAYERS: {sorted(missing)}"


def test_imports_flow_down_the_layers():
    upward = []
    for module, deps in _graph().items():
        here = _layer(module)
        if here is None:  # the package's own __init__ may name anything (lazily)
            continue
        for dep in deps:
            there = _layer(dep)
            if there is not None and RANK[there] > RANK[here]:
                upward.append(f"{module} -> {dep}")
    assert not upward, "imports against the layers:\n" + "\n".join(sorted(upward))


def test_no_import_cycles():
    graph = _graph()
    colour: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(node: str) -> None:
        colour[node] = 1
        stack.append(node)
        for dep in sorted(graph[node]):
            if colour.get(dep) == 1:
                cycles.append(stack[stack.index(dep):] + [dep])
            elif dep not in colour:
                visit(dep)
        stack.pop()
        colour[node] = 2

    for node in sorted(graph):
        if node not in colour:
            visit(node)
    # A package's __init__ re-exporting its own modules is not a cycle of meaning.
    real = [c for c in cycles if not all(x == c[0] or x.startswith(c[0] + ".") or c[0].startswith(x + ".")
                                         for x in c)]
    assert not real, "import cycles:\n" + "\n".join(" -> ".join(c) for c in real)


def test_legacy_simulate_target_still_resolves():
    """Result manifests written before the layout change name cluster_abm.simulate:simulate."""
    from cluster_abm.experiments.worker import canonical_target, resolve_target
    from cluster_abm.model.simulate import simulate

    assert resolve_target("cluster_abm.simulate:simulate") is simulate
    assert canonical_target("cluster_abm.simulate:simulate") == "cluster_abm.model.simulate:simulate"


def test_outputs_do_not_import_mechanisms():
    """Outcomes are measured from the model's state, never by calling a behaviour rule."""
    wrong = sorted(f"{module} -> {dep}" for module, deps in _graph().items() if _layer(module) == "outputs"
                   for dep in deps if _layer(dep) == "mechanisms")
    assert not wrong, "\n".join(wrong)
