"""What does a change save? Two git revisions of the model, run side by side (figures, not a test).

    python benchmarks/bench_compare.py REV_A REV_B [--scenario baseline] [--runs 10] [--instructions]

Each revision is exported (``git archive``) to a temporary folder. Then, for seeds 1..runs, one
20-year run of each revision in a fresh process, in turn first, so both share the machine's speed
of that moment; the CPU and wall time of build + run (imports excluded) are paired per seed, and
the median of the B / A ratios is printed with its quartiles. CPU time is the steadier figure when
other processes compete for the cores. ``--instructions`` also counts machine instructions of
seed 1 under valgrind (as ``bench_instructions.py``; a few minutes), which do not depend on the
machine's load at all. The allocator is tuned in every run, as in the runner's worker processes.

How a speed trick is judged (DESIGN 2.4b): its plain form is B, the trick A; it stays only if B is
more than about 5 % slower. Figures so far: ``benchmarks/PERFORMANCE.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Trees from before the allocator moved to the runner tune it when the model is built.
CHILD = r"""
import json, sys, time
try:
    from cluster_abm.experiments.allocator import tune_allocator
    tune_allocator()
except ImportError:
    pass
from cluster_abm.model.cluster_model import ClusterModel
w0, c0 = time.perf_counter(), time.process_time()
ClusterModel(sys.argv[1], seed=int(sys.argv[2])).run(float(sys.argv[3]))
print(json.dumps([time.process_time() - c0, time.perf_counter() - w0]))
"""


def export(rev: str, dest: Path) -> Path:
    """The tree of ``rev`` in ``dest`` (byte-compiled, so no run pays for compiling)."""
    dest.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", rev], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    subprocess.run([sys.executable, "-m", "compileall", "-q", "cluster_abm"], cwd=dest, check=True)
    return dest


def _env(tree: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(tree), "PYTHONHASHSEED": "0",
            "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}


def timed_run(tree: Path, scenario: str, seed: int, years: float) -> tuple[float, float]:
    """CPU and wall seconds of one build + run of ``tree``'s model in a fresh process."""
    out = subprocess.run([sys.executable, "-c", CHILD, scenario, str(seed), str(years)],
                         cwd=tree, env=_env(tree), capture_output=True, text=True, check=True)
    cpu, wall = json.loads(out.stdout.strip().splitlines()[-1])
    return cpu, wall


def instructions(tree: Path, scenario: str, years: float) -> int:
    """Instructions of a run of seed 1, build and imports excluded (cachegrind's I refs)."""
    def count(y: float) -> int:
        cmd = ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
               sys.executable, "-c", CHILD, scenario, "1", str(y)]
        if shutil.which("setarch"):
            cmd = ["setarch", "-R", *cmd]
        out = subprocess.run(cmd, cwd=tree, env=_env(tree), capture_output=True, text=True)
        found = re.search(r"I\s+refs:\s+([\d,]+)", out.stderr)
        if out.returncode != 0 or not found:
            raise SystemExit(f"bench_compare: valgrind failed: {out.stderr.strip()[-300:]}")
        return int(found.group(1).replace(",", ""))
    return count(years) - count(0.0)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("rev_a", help="the reference revision (e.g. the commit before a change)")
    ap.add_argument("rev_b", help="the revision compared with it")
    ap.add_argument("--scenario", default="baseline")
    ap.add_argument("--runs", type=int, default=10, help="paired runs, seeds 1..runs (default 10)")
    ap.add_argument("--years", type=float, default=20.0)
    ap.add_argument("--instructions", action="store_true", help="also count instructions (valgrind)")
    args = ap.parse_args(argv)
    if args.instructions and not shutil.which("valgrind"):
        print("bench_compare: valgrind is not installed (Debian: apt-get install valgrind)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="bench_compare_") as tmp:
        a, b = export(args.rev_a, Path(tmp) / "a"), export(args.rev_b, Path(tmp) / "b")
        times: dict[Path, list[tuple[float, float]]] = {a: [], b: []}
        for seed in range(1, args.runs + 1):
            for tree in (a, b) if seed % 2 else (b, a):
                times[tree].append(timed_run(tree, args.scenario, seed, args.years))
        print(f"bench_compare: {args.scenario}, {args.years:g} years, seeds 1-{args.runs}, "
              f"A = {args.rev_a}, B = {args.rev_b}; load average (1 min) {os.getloadavg()[0]:.2f}")
        med = statistics.median
        for k, what in enumerate(("cpu", "wall")):
            ta, tb = [t[k] for t in times[a]], [t[k] for t in times[b]]
            ratios = [y / x for x, y in zip(ta, tb, strict=True)]
            q = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else [ratios[0]] * 3
            print(f"  {what:4}: A median {med(ta):.3f} s, B median {med(tb):.3f} s; B / A paired "
                  f"median {med(ratios):.3f} (quartiles {q[0]:.3f}-{q[2]:.3f})")
        if args.instructions:
            ia, ib = instructions(a, args.scenario, args.years), instructions(b, args.scenario, args.years)
            print(f"  instructions (seed 1): A {ia / 1e9:.4f} G, B {ib / 1e9:.4f} G; "
                  f"B - A {(ib - ia) / 1e6:+.0f} M ({(ib - ia) / ia:+.2%})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
