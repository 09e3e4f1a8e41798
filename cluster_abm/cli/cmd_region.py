"""``cluster-abm region build|check STATS``: a region's world tables from its published statistics
(issue 17, item 4).

``region check STATS`` reads and checks a statistics file (CSV or TOML) and prints, for every
field of the region tables it would make, the value and where it came from. ``region build STATS
--out FILE`` also writes the scenario: it extends the parent scenario (default ``baseline``) with
``[[regions_add]]``, or with ``--replace`` its ``[[regions]]`` replace the parent's. The written
file is loaded back and checked before the command reports success. The formats, formulas and a
worked example (Central Macedonia, EL) are in ``docs/regional_tutorial.md``.

Bad input is an :class:`~cluster_abm.errors.InputError` (one line naming the file and key) that
the CLI's boundary prints with status 2.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import textwrap
from pathlib import Path
from typing import TextIO

from cluster_abm.errors import InputError
from cluster_abm.specs.region_stats import (
    BY_NAME,
    Built,
    build_regions,
    build_scenario_text,
    mapping_table,
    read_stats,
)
from cluster_abm.specs.scenario import Scenario, find_scenario, load_scenario, scenario_dirs
from cluster_abm.specs.toml_spec import spec_names

EPILOG = """\
The statistics file has one figure per row (CSV: columns region, statistic, category, value,
source; optional unit, year, note) or per key (TOML: [regions.<id>] tables), every figure with
its source.

{stats}

See docs/regional_tutorial.md for the formulas and a worked example
(cluster_abm/data/regions/central_macedonia.csv)."""


def add_region_arguments(parser: argparse.ArgumentParser) -> None:
    """Sub-commands of ``cluster-abm region``: ``build`` and ``check``."""
    sub = parser.add_subparsers(dest="region_command", metavar="ACTION", required=True)
    epilog = EPILOG.format(stats=textwrap.fill("Statistics: " + ", ".join(BY_NAME) + ".", width=95))
    for name, text in (("build", "write a scenario with the regions of a statistics file"),
                       ("check", "check a statistics file and show the fields it gives (writes nothing)")):
        p = sub.add_parser(name, help=text, description=text, epilog=epilog,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        p.add_argument("stats", help="statistics file (.csv or .toml)")
        p.add_argument("--extends", default="baseline", metavar="SCENARIO",
                       help="parent scenario: its sectors, parameters and peer regions "
                            "(default: baseline)")
        p.add_argument("--replace", action="store_true",
                       help="replace the parent's regions instead of adding to them")
        if name == "build":
            p.add_argument("--out", default=None, metavar="FILE",
                           help="scenario file to write (default: scenarios/<first region id>.toml)")
            p.add_argument("--force", action="store_true", help="overwrite --out if it exists")
            p.add_argument("--title", default=None, help="the scenario's title (default: made up "
                           "from the parent and the regions)")


def _parent(ref: str) -> Scenario:
    try:
        return load_scenario(ref)
    except InputError as exc:
        if "not found" in str(exc):
            raise InputError(f"unknown scenario {ref!r}; allowed: {', '.join(spec_names(scenario_dirs()))}",
                             key="--extends") from None
        raise InputError(f"the parent scenario is invalid: {exc}", key="--extends") from None


def _extends_ref(ref: str, out: Path) -> str:
    """How the written file names its parent: a bare name stays a name, a path becomes relative
    to the written file's folder."""
    if "/" not in ref and os.sep not in ref and not ref.endswith(".toml"):
        return ref
    return os.path.relpath(find_scenario(ref), out.resolve().parent)


def _build(args: argparse.Namespace) -> tuple[Scenario, list, Built]:
    parent = _parent(args.extends)
    regions = read_stats(args.stats, [s["id"] for s in parent.sectors])
    return parent, regions, build_regions(regions, parent, args.replace)


def cmd_region(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Run ``region check`` or ``region build``; bad files raise InputError."""
    out = out or sys.stdout
    action = getattr(args, "region_command", None)
    if action not in ("build", "check"):
        raise InputError(f"unknown action {action!r}; allowed: build, check", key="region")
    parent, regions, built = _build(args)
    notes = [n for m in built.regions for n in m.notes]
    if action == "check":
        out.write(f"OK: {args.stats} ({len(regions)} region{'s' if len(regions) > 1 else ''}, "
                  f"{sum(len(r.figures) for r in regions)} figures)\n")
        out.write(mapping_table(built) + "\n")
        out.writelines(f"note: {n}\n" for n in notes)
        return 0
    target = Path(args.out) if args.out else Path("scenarios") / f"{regions[0].id}.toml"
    if target.suffix != ".toml":
        raise InputError("must end in .toml (a scenario file)", source=str(target), key="--out")
    if target.exists() and not args.force:
        raise InputError("exists already; add --force to overwrite it", source=str(target), key="--out")
    command = "cluster-abm region build " + " ".join(shlex.quote(a) for a in (
        [str(args.stats), "--extends", args.extends] + (["--replace"] if args.replace else [])
        + ["--out", str(target)]))
    text = build_scenario_text(built, str(args.stats), _extends_ref(args.extends, target), parent.name,
                               command, args.title)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    try:
        scenario = load_scenario(tmp)
    except InputError as exc:
        tmp.unlink(missing_ok=True)
        raise InputError(f"the scenario made from it does not check ({exc})", source=str(args.stats)) from None
    tmp.replace(target)
    out.write(f"wrote {target}: {scenario.title} ({len(scenario.regions)} regions, "
              f"{len(scenario.cluster_ids)} clusters, sim.n_firms = {int(scenario.param('sim.n_firms')):,})\n")
    out.writelines(f"note: {n}\n" for n in notes)
    out.write(f"next: cluster-abm scenario check {target}; cluster-abm run {target}\n")
    return 0
