"""The model's cost in machine instructions: ``baseline`` and ``full_strategy``, free of VM noise.

Run as ``python benchmarks/bench_instructions.py [--years 20] [--seed 1] [--n-firms N]
[--scenarios baseline]`` (needs ``valgrind``; about 5 minutes on 2 cores at 20 years and the
scenarios' own 2,000 built firms). ``--n-firms`` sets ``sim.n_firms`` (the built world's firms). Wall time on a shared VM swings with the host's load;
the number of instructions a run executes does not (two counts of one run agree to a few
thousand instructions in billions), so this is the figure to compare code changes with. Each
scenario runs under cachegrind without cache simulation, started warm from its spun-up snapshot
(spun up once, natively, into a temporary cache), as does a warm build alone, whose count
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
import tempfile
from concurrent.futures import ThreadPoolExecutor

RUN = ("import sys; from cluster_abm.experiments.allocator import tune_allocator; tune_allocator(); "
       "from cluster_abm.model.cluster_model import ClusterModel; "
       "n = int(sys.argv[4]); params = {'sim.n_firms': n} if n > 0 else None; "
       "ClusterModel(sys.argv[1], seed=int(sys.argv[2]), params=params).run(float(sys.argv[3]))")


def count(scenario: str, seed: int, years: float, cache: str, n_firms: int = 0) -> int:
    """Instructions executed by one build-and-run (cachegrind's ``I refs``), the model started
    warm from the spun-up snapshot in ``cache``; ``n_firms`` > 0 sets ``sim.n_firms``."""
    cmd = ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
           sys.executable, "-c", RUN, scenario, str(seed), str(years), str(n_firms)]
    if shutil.which("setarch"):
        cmd = ["setarch", "-R", *cmd]
    # One BLAS thread: OpenBLAS's idle worker threads spin, and valgrind counts their
    # instructions too (with them, repeated counts of one run differed by about 1 %).
    env = {**os.environ, "PYTHONHASHSEED": "0", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
           "CLUSTER_ABM_SPINUP_CACHE": cache}
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    found = re.search(r"I\s+refs:\s+([\d,]+)", out.stderr)
    if out.returncode != 0 or not found:
        raise SystemExit(f"bench_instructions: valgrind failed for {scenario}: {out.stderr.strip()[-300:]}")
    return int(found.group(1).replace(",", ""))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--years", type=float, default=20.0, help="horizon of each run (default 20)")
    ap.add_argument("--seed", type=int, default=1, help="seed of both runs (default 1)")
    ap.add_argument("--n-firms", type=int, default=0,
                    help="sim.n_firms, the built world's firms (default: the scenarios' own)")
    ap.add_argument("--scenarios", nargs="+", default=["baseline", "full_strategy"],
                    help="scenarios to count (default: baseline full_strategy)")
    args = ap.parse_args(argv)
    if not shutil.which("valgrind"):
        print("bench_instructions: valgrind is not installed (Debian: apt-get install valgrind)", file=sys.stderr)
        return 2
    scenarios = tuple(args.scenarios)
    with tempfile.TemporaryDirectory(prefix="bench_instructions_spinup_") as cache:
        # Spin each world up once, natively: every counted run then starts warm from its
        # snapshot, as scenarios and sweeps do, and the counts cover the policy years only.
        for sc in scenarios:
            subprocess.run([sys.executable, "-c", RUN, sc, str(args.seed), "0", str(args.n_firms)], check=True,
                           env={**os.environ, "CLUSTER_ABM_SPINUP_CACHE": cache})
        jobs = [(sc, years) for sc in scenarios for years in (0.0, args.years)]
        with ThreadPoolExecutor(max_workers=2) as pool:
            futures = {job: pool.submit(count, job[0], args.seed, job[1], cache, args.n_firms) for job in jobs}
            counts = {job: f.result() for job, f in futures.items()}
    from cluster_abm.specs.scenario import load_scenario

    runs = {sc: counts[(sc, args.years)] - counts[(sc, 0.0)] for sc in scenarios}
    built = f"{args.n_firms:,} built firms" if args.n_firms > 0 else "the scenarios' built firms"
    print(f"bench_instructions: seed {args.seed}, {args.years:g} policy years, {built}, instructions "
          f"excluding imports and the (warm) build")
    for sc, n in runs.items():
        steps = args.years * int(load_scenario(sc).params["sim.steps_per_year"])
        print(f"{sc:<15} {n / 1e9:8.3f} G   {n / steps / 1e6:8.1f} M a step")
    if "baseline" in runs and "full_strategy" in runs:
        print(f"ratio full_strategy / baseline: {runs['full_strategy'] / runs['baseline']:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
