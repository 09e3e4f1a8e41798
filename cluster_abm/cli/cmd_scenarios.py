"""``cluster-abm levers`` and ``cluster-abm scenario show|check``: the lever catalogue and
scenario files, from the command line.

Each ``cmd_*`` returns an exit status (0 success); an
:class:`~cluster_abm.errors.InputError` (a bad scenario file, an unknown WG) propagates, and the
CLI's boundary (:func:`cluster_abm.cli.main.run_command`) prints it as one line with status 2.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import textwrap
from typing import Any, TextIO

from cluster_abm.errors import InputError, closest
from cluster_abm.policy.levers import LEVERS, WG_NAMES, catalogue_markdown
from cluster_abm.specs.scenario import Scenario, load_scenario
from cluster_abm.specs.toml_spec import toml_key, toml_value


# --- cluster-abm levers ----------------------------------------------------------------------------
def add_levers_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``cluster-abm levers``."""
    parser.add_argument("--wg", metavar="WG", default=None,
                        help=f"only one working-group area: {', '.join(WG_NAMES)}")
    parser.add_argument("--markdown", action="store_true",
                        help="print the docs/policies.md page (the full catalogue) instead")


def _wg(value: str | None) -> str | None:
    if value is None:
        return None
    wg = value.strip().upper()
    if wg not in WG_NAMES:
        raise InputError(f"unknown working group {value!r}; {closest(wg, WG_NAMES)}", key="--wg")
    return wg


def lever_table(wg: str | None = None, width: int | None = None) -> str:
    """The lever list as plain text: id, WG, seed section and the one-line effect."""
    rows = [lv for lv in LEVERS if wg is None or lv.wg == wg]
    width = width or shutil.get_terminal_size((120, 20)).columns
    w_id = max(len(lv.id) for lv in LEVERS)
    w_seed = max(len(lv.seed) for lv in LEVERS)
    indent = w_id + 2 + 3 + 2 + w_seed + 2
    lines = [f"{'lever':<{w_id}}  WG   {'seed':<{w_seed}}  effect", "-" * min(width, 120)]
    for lv in rows:
        effect = textwrap.wrap(lv.summary, width=max(width - indent, 30)) or [""]
        lines.append(f"{lv.id:<{w_id}}  {lv.wg}  {lv.seed:<{w_seed}}  {effect[0]}")
        lines += [" " * indent + more for more in effect[1:]]
    lines.append(f"{len(rows)} levers" + ("" if wg is None else f" of {wg} ({WG_NAMES[wg]})")
                 + "; switch one on in a scenario with [levers.<id>] (see docs/policies.md)")
    return "\n".join(lines)


def cmd_levers(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Print the lever table (or, with ``--markdown``, the documentation page)."""
    out = out or sys.stdout
    wg = _wg(getattr(args, "wg", None))
    if getattr(args, "markdown", False):
        text = catalogue_markdown()
        if wg is not None:
            text = _markdown_section(text, wg)
        out.write(text if text.endswith("\n") else text + "\n")
        return 0
    out.write(lever_table(wg) + "\n")
    return 0


def _markdown_section(text: str, wg: str) -> str:
    """Only one WG's section of the generated page."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"## {wg} "))
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    return "\n".join(lines[start:end]).rstrip() + "\n"


# --- cluster-abm scenario show|check ---------------------------------------------------------------
def add_scenario_arguments(parser: argparse.ArgumentParser) -> None:
    """Sub-commands of ``cluster-abm scenario``: ``show FILE [--json]`` and ``check FILE``."""
    sub = parser.add_subparsers(dest="scenario_command", metavar="ACTION", required=True)
    show = sub.add_parser("show", help="print the fully resolved scenario (extends applied)")
    show.add_argument("file", help="scenario file, or a name in ./scenarios (e.g. baseline)")
    show.add_argument("--json", action="store_true", help="JSON instead of TOML")
    check = sub.add_parser("check", help="validate a scenario file and summarise it")
    check.add_argument("file", help="scenario file, or a name in ./scenarios (e.g. baseline)")


def cmd_scenario(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Run ``scenario show`` or ``scenario check``; bad files raise InputError."""
    out = out or sys.stdout
    action = getattr(args, "scenario_command", None)
    if action not in ("show", "check"):
        raise InputError(f"unknown action {action!r}; allowed: show, check", key="scenario")
    scenario = load_scenario(args.file)
    if action == "show":
        data = scenario.to_dict()
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n" if args.json else to_toml(data)
        out.write(text)
        return 0
    out.write(check_line(scenario) + "\n")
    return 0


def check_line(scenario: Scenario) -> str:
    """``OK: <name> (<n> regions, <n> clusters, levers: ...)``."""
    levers = ", ".join(scenario.levers) if scenario.levers else "none"
    return (f"OK: {scenario.name} ({len(scenario.regions)} regions, {len(scenario.cluster_ids)} "
            f"clusters, levers: {levers})")


def to_toml(data: dict[str, Any]) -> str:
    """A resolved scenario (``Scenario.to_dict()``) as TOML that ``tomllib`` reads back to the
    same data: scalars first, then the parameter table, sectors, regions and levers."""
    lines = []
    tables = {k: v for k, v in data.items() if isinstance(v, dict)}
    arrays = {k: v for k, v in data.items() if isinstance(v, list) and v and all(isinstance(x, dict) for x in v)}
    for k, v in data.items():
        if k in tables or k in arrays or v is None:
            continue
        if isinstance(v, str) and "\n" in v and "\\" not in v and '"""' not in v and not v.endswith('"'):
            lines.append(f'{toml_key(k)} = """\n{v}"""')
        else:
            lines.append(f"{toml_key(k)} = {toml_value(v)}")
    for name, table in tables.items():
        nested = {k: v for k, v in table.items() if isinstance(v, dict)}
        flat = {k: v for k, v in table.items() if k not in nested and v is not None}
        if flat or not nested:
            lines += ["", f"[{name}]"] + [f"{toml_key(k)} = {toml_value(v)}" for k, v in flat.items()]
        for sub, inner in nested.items():
            lines += ["", f"[{name}.{toml_key(sub)}]"]
            lines += [f"{toml_key(k)} = {toml_value(v)}" for k, v in inner.items() if v is not None]
    for name, items in arrays.items():
        for item in items:
            lines += ["", f"[[{name}]]"]
            lines += [f"{toml_key(k)} = {toml_value(v)}" for k, v in item.items() if v is not None]
    return "\n".join(lines) + "\n"
