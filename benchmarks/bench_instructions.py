"""The model's cost in machine instructions: ``baseline`` and ``full_strategy``, free of VM noise.

Run as ``python benchmarks/bench_instructions.py [--years 20] [--seed 1]`` (needs ``valgrind``;
about 5 minutes on 2 cores at 20 years). Wall time on a shared VM swings with the host's load;
the number of instructions a run executes does not (two counts of one run agree to a few
thousand instructions in billions), so this is the figure to compare code changes with. Each
scenario runs under cachegrind without cache simulation, as does a model build alone, whose count
(imports, build) is subtracted. Hash seed, address-space randomisation and the BLAS thread count
are fixed, so repeated counts agree. The allocator is tuned as in the runner's worker processes.
The ratio full_strategy / baseline is reported, not a target. Instructions are not time: memory
traffic costs the full strategy a little more per instruction.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

RUN = ("import sys; from cluster_abm.experiments.allocator import tune_allocator; tune_allocator(); "
       "from cluster_abm.model.cluster_model import ClusterModel; "
       "ClusterModel(sys.argv[1], seed=int(sys.argv[2])).run(float(sys.argv[3]))")


def count(scenario: str, seed: int, years: float) -> int:
    """Instructions executed by one build-and-run (cachegrind's ``I refs``)."""
    cmd = ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
           sys.executable, "-c", RUN, scenario, str(seed), str(years)]
    if shutil.which("setarch"):
        cmd = ["setarch", "-R", *cmd]
    # One BLAS thread: OpenBLAS's idle worker threads spin, and valgrind counts their
    # instructions too (with them, repeated counts of one run differed by about 1 %).
    env = {**os.environ, "PYTHONHASHSEED": "0", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    found = re.search(r"I\s+refs:\s+([\d,]+)", out.stderr)
    if out.returncode != 0 or not found:
        raise SystemExit(f"bench_instructions: valgrind failed for {scenario}: {out.stderr.strip()[-300:]}")
    return int(found.group(1).replace(",", ""))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--years", type=float, default=20.0, help="horizon of each run (default 20)")
    ap.add_argument("--seed", type=int, default=1, help="seed of both runs (default 1)")
    args = ap.parse_args(argv)
    if not shutil.which("valgrind"):
        print("bench_instructions: valgrind is not installed (Debian: apt-get install valgrind)", file=sys.stderr)
        return 2
    jobs = {"build only": ("baseline", 0.0), "baseline": ("baseline", args.years),
            "full_strategy": ("full_strategy", args.years)}
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {name: pool.submit(count, sc, args.seed, years) for name, (sc, years) in jobs.items()}
        counts = {name: f.result() for name, f in futures.items()}
    base = counts["baseline"] - counts["build only"]
    full = counts["full_strategy"] - counts["build only"]
    ratio = full / base
    print(f"bench_instructions: seed {args.seed}, {args.years:g} years, instructions excluding imports and build")
    print(f"baseline        {base / 1e9:8.3f} G")
    print(f"full_strategy   {full / 1e9:8.3f} G")
    print(f"ratio full_strategy / baseline: {ratio:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
