"""``cluster-abm verify RESULTS``: check a result store against its checksums.

Reads every table file of the store (shards and consolidated tables) and compares it with the
checksums the sweep recorded as it wrote them (:mod:`cluster_abm.experiments.integrity`), then
says what a damaged store has lost, run by run. Nothing is changed: running the sweep again
repairs the store and re-runs exactly the lost runs.

Exit status: 0 the store is intact; 1 damaged (each damaged file and the runs it held are
listed); 2 not a store, or its manifest is damaged (one line).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from cluster_abm.errors import InputError

DEFAULT_RESULTS = "results"


def add_verify_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``cluster-abm verify``."""
    parser.add_argument("store", metavar="RESULTS",
                        help="a result store (results/<experiment>), or an experiment name under "
                             "--results")
    parser.add_argument("--results", dest="results_dir", default=DEFAULT_RESULTS, metavar="DIR",
                        help="folder of result stores (default: results)")
    parser.add_argument("--quiet", action="store_true", help="print only the verdict")


def _find(ref: str, results_dir: str) -> Path:
    for path in (Path(ref), Path(results_dir) / ref):
        if (path / "manifest.json").is_file():
            return path
    raise InputError("not a result store (no manifest.json here or under --results)",
                     source=ref)


def cmd_verify(args: argparse.Namespace) -> int:
    from cluster_abm.experiments.store import Store
    from cluster_abm.experiments.store_lock import describe, holder

    store = Store(_find(args.store, getattr(args, "results_dir", DEFAULT_RESULTS)))
    manifest = store.read_manifest()
    quiet = getattr(args, "quiet", False)
    busy = holder(store.path)
    report = store.verify()
    status = manifest.get("status", "?")
    where = f"{store.path} ({manifest.get('experiment', '?')}, status {status}"
    if manifest.get("stopped"):
        where += f": {manifest['stopped']}"
    where += ")"
    if busy is not None and not quiet:
        print(f"note: a sweep is writing this store now ({describe(busy)}); files it writes "
              "after this check are not covered")
    if not report.recorded:
        print(f"{where}: no checksums: the store was written before they were kept; nothing to "
              "verify against")
        return 0
    size = f"{report.files} files, {report.bytes / 1e6:.1f} MB"
    if report.ok:
        left = f"; {len(report.leftovers)} merged shard(s) left over" if report.leftovers else ""
        print(f"{where}: intact: {size} match their checksums{left}")
        return 0
    try:
        known = set(store.run_status())
    except Exception:  # the runs table itself is damaged
        known = None
    print(f"{where}: DAMAGED: {len(report.problems)} of {size} do not match their checksums")
    if not quiet:
        for p in report.problems:
            lost = (", ".join(p.runs) if p.runs else
                    "; ".join(f"runs {lo} to {hi}" if hi < "\U0010ffff" else "every run it held"
                              for lo, hi in p.ranges) or "nothing")
            print(f"  {p.path} {p.what}: loses {lost}")
    print(f"lost: {report.describe_lost(known, limit=20)}; run the sweep again to re-run them "
          "(it repairs the store first)")
    return 1


def main(argv: list[str] | None = None) -> int:
    """``python -m cluster_abm.cli.cmd_verify verify RESULTS``: the same as ``cluster-abm``."""
    from cluster_abm.cli.main import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    raise SystemExit(main())
