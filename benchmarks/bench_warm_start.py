"""Warm starts: a 20-year policy comparison from shared spun-up snapshots against the same
comparison where every run spins up itself (issue 16's bar: at least 1.5x faster).

    .venv/bin/python benchmarks/bench_warm_start.py [--seeds 8] [--years 20]

Prints the wall time of both, their ratio, the snapshot size and the time to load one. The two
comparisons give identical KPIs (checked here too).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from cluster_abm.model.cluster_model import ClusterModel
from cluster_abm.model.simulate import load_snapshot
from cluster_abm.model.snapshot import save_snapshot, snapshot_paths

SCENARIOS = ("baseline", "sme_networks", "new_ventures", "full_strategy")


def comparison(seeds: int, years: int, cache) -> tuple[float, list[dict]]:
    start = time.perf_counter()
    kpis = []
    for seed in range(1, seeds + 1):
        for scenario in SCENARIOS:
            kpis.append(ClusterModel(scenario, seed=seed, spinup_cache=cache).run(years).kpis())
    return time.perf_counter() - start, kpis


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--years", type=int, default=20)
    args = ap.parse_args()
    n = args.seeds * len(SCENARIOS)
    cold, k_cold = comparison(args.seeds, args.years, None)
    with tempfile.TemporaryDirectory() as cache:
        warm, k_warm = comparison(args.seeds, args.years, cache)
        same = all(a.keys() == b.keys() and all(a[k] == b[k] or a[k] != a[k] for k in a)
                   for a, b in zip(k_cold, k_warm, strict=True))
        model = ClusterModel("baseline", seed=1, spinup_cache=cache)
        path = save_snapshot(model, Path(cache) / "one")
        size = sum(p.stat().st_size for p in snapshot_paths(path))
        t0 = time.perf_counter()
        for _ in range(5):
            load_snapshot(path)
        load = (time.perf_counter() - t0) / 5
    print(f"{len(SCENARIOS)} scenarios x {args.seeds} replicates, {args.years} years ({n} runs)")
    print(f"  every run spins up itself : {cold:7.1f} s")
    print(f"  shared spun-up snapshots  : {warm:7.1f} s")
    print(f"  speed-up                  : {cold / warm:7.2f}x  (target >= 1.5x)")
    print(f"  identical KPIs            : {same}")
    print(f"  snapshot at policy year 0 : {size / 1e6:.1f} MB, loads in {1000 * load:.0f} ms")


if __name__ == "__main__":
    main()
