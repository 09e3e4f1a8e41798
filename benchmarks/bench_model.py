"""Model speed and memory: `python benchmarks/bench_model.py` prints the figures of the README's
table (history: ``benchmarks/PERFORMANCE.md``).

- baseline wall and CPU time (build + 20 years, 2,000 firms), median of several runs;
- firm-steps per second at 2k, 20k and 100k firms (should not fall as firms grow: no all-pairs);
- peak memory (RSS) of a process running 100k firms.
Each size runs in a fresh subprocess so peak memory is its own. The allocator is tuned in each as
in the runner's worker processes (``--no-malloc-tuning``: as a plain ``ClusterModel(...)``).

The development machine is a shared VM whose speed drifts from one minute to the next, so the
baseline is bracketed by a fixed reference workload (small numpy operations, the kind the model is
made of), timed just before and after it: "baseline / reference" is the model's cost in units of
the machine's speed at that moment, steadier than seconds when comparing runs. The CPU time of a
run is steadier than its wall time when other processes compete for the cores (the load average
is printed).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

CHILD = r"""
import json, resource, sys, time
from cluster_abm.model.cluster_model import ClusterModel
n, years, seed, tune = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1"
if tune:  # as the runner's worker processes do
    from cluster_abm.experiments.allocator import tune_allocator
    tune_allocator()
t0, c0 = time.perf_counter(), time.process_time()
m = ClusterModel("baseline", seed=seed, params={"sim.n_firms": n})
t1 = time.perf_counter()
m.run(years)
t2, c2 = time.perf_counter(), time.process_time()
print(json.dumps({"n": n, "years": years, "build_s": t1 - t0, "run_s": t2 - t1, "cpu_s": c2 - c0,
                  "steps": m.t,
                  "firms_end": m.n_firms,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


REFERENCE = r"""
import time
import numpy as np
rng = np.random.default_rng(0)
x = rng.random(2000)
idx = np.flatnonzero(x > 0.1)
t0 = time.perf_counter()
for _ in range(20000):
    y = x[idx] * 1.5 + 0.25
    np.bincount((y * 5).astype(np.int64), weights=y, minlength=16)
print(time.perf_counter() - t0)
"""


def reference_seconds() -> float:
    """Wall seconds of the fixed reference workload (in a fresh process, like the model runs)."""
    out = subprocess.run([sys.executable, "-c", REFERENCE], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def child(n: int, years: float, seed: int, tune: bool = True) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, str(n), str(years), str(seed), str(int(tune))],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="fewer repeats and no 100k run")
    ap.add_argument("--no-malloc-tuning", dest="tune", action="store_false",
                    help="leave glibc's allocator as a plain ClusterModel(...) does")
    args = ap.parse_args()
    reps = 2 if args.quick else args.repeats

    tuning = "on, as in the runner's worker processes" if args.tune else "off"
    print(f"allocator tuning: {tuning}; load average (1 min) {os.getloadavg()[0]:.2f} "
          f"on {os.cpu_count()} cores")
    print("Baseline (2,000 firms, 20 years), build + run, excluding imports:")
    refs = [reference_seconds()]
    runs = []
    for seed in range(reps):
        runs.append(child(2000, 20, seed, args.tune))
        refs.append(reference_seconds())
    walls = [r["build_s"] + r["run_s"] for r in runs]
    cpus = [r["cpu_s"] for r in runs]
    print(f"  wall: median {statistics.median(walls):.2f} s  (min {min(walls):.2f}, max {max(walls):.2f}; "
          f"build {statistics.median(r['build_s'] for r in runs):.3f} s)")
    print(f"  cpu:  median {statistics.median(cpus):.2f} s  (min {min(cpus):.2f}, max {max(cpus):.2f})")
    ref = statistics.median(refs)
    print(f"  reference workload {ref:.3f} s (min {min(refs):.3f}, max {max(refs):.3f}): "
          f"baseline / reference = {statistics.median(walls) / ref:.2f}")

    print("Scaling (firm-steps per second = initial firms x steps / run time):")
    sizes = [(2000, 20), (20000, 5)] + ([] if args.quick else [(100000, 2)])
    for n, years in sizes:
        r = child(n, years, 1, args.tune)
        rate = n * r["steps"] / r["run_s"]
        print(f"  {n:>7,} firms, {years:>4g} yr: build {r['build_s']:6.2f} s, run {r['run_s']:6.2f} s, "
              f"{rate:>10,.0f} firm-steps/s, {r['run_s'] / r['steps'] * 1e3:7.1f} ms/step, "
              f"peak RSS {r['peak_rss_mb']:6.0f} MB")
    print(f"(python {sys.version.split()[0]}, {time.strftime('%Y-%m-%d')})")


if __name__ == "__main__":
    main()
