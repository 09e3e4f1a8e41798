"""Benchmarks of the experiment runner (figures, not a test).

    python benchmarks/bench_runner.py                  # fake model, ~75 ms of numpy per run
    python benchmarks/bench_runner.py --simulate cluster_abm.model.simulate:simulate --runs 20 \
        --memory-runs 200                              # the same with the real model

Prints:

1. throughput of serial, processes and Dask LocalCluster execution: steady-state runs per
   second (first to last run finished, so worker start-up is excluded; the whole sweep's time
   is printed too), best of a few interleaved repeats. Targets on 2 cores: processes >= 1.7x
   serial; Dask within 15 % of processes. The machine must be otherwise idle: the load
   average is printed first. CPU accounting (the runs' own CPU vs everything the runner and
   its workers spent, start-up included) is printed too; it holds even on a busy machine.
2. memory of the runner process over a long sweep (default 2,000 runs, serial executor, so the
   model runs in that process too, the worst case): RSS sampled every 0.2 s after a warm-up
   sweep, peak RSS growth (target < 100 MB), and tracemalloc's peak of Python allocations
   during the same sweep on the processes executor;
3. bytes on disk per run, as shards and after consolidation.

The memory part runs in a fresh child process so earlier parts do not inflate its peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

FAKE = "tests.fakes:fake_simulate"
MB = 1024 * 1024


def _experiment(folder: Path, name: str, replicates: int, years: int) -> Path:
    path = folder / f"{name}.toml"
    path.write_text(f'name = "{name}"\nscenarios = ["baseline"]\nreplicates = {replicates}\n'
                    f"seed = 1\nyears = {years}\n")
    return path


def _sweep(path: Path, results: Path, executor: str, workers: int, simulate: str, **kw):
    from cluster_abm.experiments.runner import run_experiment

    summary = run_experiment(path, results_dir=results, executor=executor, workers=workers,
                             simulate=simulate, quiet=True, overwrite=True, **kw)
    if summary.exit_code:
        raise SystemExit(f"benchmark sweep failed: {summary.format()}")
    return summary


def _calibrate(target_ms: float, years: int) -> int:
    """CLUSTER_ABM_FAKE_WORK units that make one fake run last about ``target_ms``."""
    from cluster_abm.specs.scenario import load_scenario
    from tests.fakes import fake_simulate

    sc = load_scenario("baseline")

    def one(units: int) -> float:
        os.environ["CLUSTER_ABM_FAKE_WORK"] = str(units)
        t0 = time.perf_counter()
        for seed in range(5):
            fake_simulate(sc, seed, years)
        return (time.perf_counter() - t0) / 5 * 1000

    base = one(0)
    probe = one(100)
    per_unit = max((probe - base) / 100, 1e-3)
    units = max(0, round((target_ms - base) / per_unit))
    os.environ["CLUSTER_ABM_FAKE_WORK"] = str(units)
    return units


def _steady_rate(results: Path, name: str) -> float:
    """Runs per second between the first and the last run to finish (start-up excluded).

    Finish times come from the runs table (start time + wall time, both taken in the workers
    on this machine's clock), so no hook into the runner is needed.
    """
    import pandas as pd

    from cluster_abm.experiments.store import Store

    runs = Store(results / name).read("runs")
    end = (pd.to_datetime(runs["started"]) + pd.to_timedelta(runs["wall_time"], unit="s"))
    end = end.sort_values()
    span = (end.iloc[-1] - end.iloc[0]).total_seconds()
    return (len(end) - 1) / span if span > 0 else float("nan")


def bench_throughput(args, tmp: Path) -> None:
    print(f"\n== throughput: {args.runs} runs of {args.years} years, {args.workers} workers, "
          f"best of {args.repeat} (executors interleaved) ==")
    if args.simulate == FAKE:
        units = _calibrate(args.run_ms, args.years)
        print(f"fake model calibrated to ~{args.run_ms:.0f} ms per run "
              f"(CLUSTER_ABM_FAKE_WORK={units})")
    from cluster_abm.experiments.store import Store

    executors = ("serial", "processes", "dask")
    rates: dict[str, list[float]] = {e: [] for e in executors}
    walls: dict[str, list[float]] = {e: [] for e in executors}
    # per executor and size: [(CPU of everything, CPU of the runs themselves)]
    cpu: dict[tuple[str, int], list[tuple[float, float]]] = {}
    sizes = (args.runs // 2, args.runs)
    for rep in range(args.repeat):
        for executor in executors:
            for n in sizes:
                name = f"tp_{executor}_{n}_{rep}"
                path = _experiment(tmp, name, n, args.years)
                c0, t0 = os.times(), time.perf_counter()
                _sweep(path, tmp / "tp", executor, args.workers, args.simulate)
                wall = time.perf_counter() - t0
                c1 = os.times()
                # this process and its (joined) worker processes, vs the runs' own CPU
                total = sum(c1[i] - c0[i] for i in range(4))
                own = float(Store(tmp / "tp" / name).read("runs")["cpu_time"].sum())
                cpu.setdefault((executor, n), []).append((total, own))
                if n == args.runs:
                    walls[executor].append(wall)
                    rates[executor].append(_steady_rate(tmp / "tp", name))
    best = {e: max(r) for e, r in rates.items()}
    for e in executors:
        small = min(cpu[e, sizes[0]])
        big = min(cpu[e, sizes[1]])
        per_run = ((big[0] - big[1]) - (small[0] - small[1])) / (sizes[1] - sizes[0])
        startup = (small[0] - small[1]) - sizes[0] * per_run
        own = big[1] / sizes[1]
        print(f"{e:>10}: {best[e]:6.2f} runs/s steady state (all: "
              f"{', '.join(f'{r:.2f}' for r in rates[e])}); {args.runs} runs incl. start-up "
              f"{min(walls[e]):.1f} s")
        print(f"{'':>10}  CPU: {own * 1000:.0f} ms per run in the model, "
              f"{max(per_run, 0) * 1000:.0f} ms per run of runner/executor overhead, "
              f"{max(startup, 0):.1f} s to start")
    print(f"processes / serial speed-up: {best['processes'] / best['serial']:.2f}x "
          f"(target >= 1.7x on 2 cores)")
    gap = (best["processes"] - best["dask"]) / best["processes"] * 100
    print(f"Dask LocalCluster / processes: {best['dask'] / best['processes']:.2f}x "
          f"({gap:+.0f} % slower; target within 15 %)")
    os.environ.pop("CLUSTER_ABM_FAKE_WORK", None)


def _rss() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _maxrss() -> int:
    scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def memory_child(args) -> None:
    """Runs in a fresh process; prints one JSON line with the figures."""
    import tracemalloc

    import pyarrow.parquet as pq

    from cluster_abm.experiments.store import Store

    tmp = Path(args.tmp)
    # warm-up: imports, caches, a first consolidation
    _sweep(_experiment(tmp, "warm", 50, args.memory_years), tmp, "serial", 1, args.simulate)
    samples: list[tuple[float, int]] = []
    stop = threading.Event()

    def sample() -> None:
        t0 = time.perf_counter()
        while not stop.is_set():
            samples.append((time.perf_counter() - t0, _rss()))
            stop.wait(0.2)

    rss0 = _rss()
    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    path = _experiment(tmp, "mem", args.memory_runs, args.memory_years)
    t0 = time.perf_counter()
    _sweep(path, tmp, "serial", 1, args.simulate, consolidate=False)
    wall = time.perf_counter() - t0
    store = Store(tmp / "mem")
    shard_bytes = store.size_bytes()
    t1 = time.perf_counter()
    store.consolidate()
    consolidate_wall = time.perf_counter() - t1
    stop.set()
    thread.join()
    consolidated_bytes = store.size_bytes()
    peak = _maxrss()
    rows = pq.ParquetFile(store.consolidated_path("timeseries")).metadata.num_rows

    # Python-level allocations of the runner alone (model in worker processes)
    tracemalloc.start()
    _sweep(_experiment(tmp, "mem_tm", args.memory_runs, args.memory_years), tmp, "processes",
           args.workers, args.simulate)
    _, tm_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(json.dumps({"rss0": rss0, "peak": peak, "samples": samples, "wall": wall,
                      "consolidate_wall": consolidate_wall, "shard_bytes": shard_bytes,
                      "consolidated_bytes": consolidated_bytes, "ts_rows": rows,
                      "tracemalloc_peak": tm_peak}))


def bench_memory(args, tmp: Path) -> None:
    print(f"\n== memory and disk: {args.memory_runs} runs of {args.memory_years} years ==")
    cmd = [sys.executable, str(Path(__file__).resolve()), "--memory-child", "--tmp", str(tmp),
           "--simulate", args.simulate, "--memory-runs", str(args.memory_runs),
           "--memory-years", str(args.memory_years), "--workers", str(args.workers)]
    env = dict(os.environ)
    env.pop("CLUSTER_ABM_FAKE_WORK", None)
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if out.returncode:
        raise SystemExit(f"memory child failed:\n{out.stderr}")
    r = json.loads(out.stdout.strip().splitlines()[-1])
    samples = r["samples"]
    n = args.memory_runs
    print(f"serial sweep: {r['wall']:.1f} s ({n / r['wall']:.0f} runs/s), "
          f"consolidation {r['consolidate_wall']:.1f} s, {r['ts_rows']:,} time-series rows")
    print(f"runner RSS before the sweep: {r['rss0'] / MB:.0f} MB")
    if samples:
        picks = [samples[min(len(samples) - 1, round(q * (len(samples) - 1)))]
                 for q in (0, 0.25, 0.5, 0.75, 1)]
        print("RSS during the sweep (s: MB): " + ", ".join(f"{t:.0f}: {v / MB:.0f}"
                                                          for t, v in picks))
    during = [v for t, v in samples if t <= r["wall"]] or [r["rss0"]]
    after = [v for t, v in samples if t > r["wall"]] or [r["rss0"]]
    print(f"RSS growth, sampled: sweep {(max(during) - r['rss0']) / MB:.1f} MB, consolidation "
          f"{(max(after) - r['rss0']) / MB:.1f} MB")
    print(f"peak RSS growth (getrusage ru_maxrss - RSS before) over the sweep incl. "
          f"consolidation: {(r['peak'] - r['rss0']) / MB:.1f} MB (target < 100 MB)")
    print(f"tracemalloc peak of the runner (processes executor): "
          f"{r['tracemalloc_peak'] / MB:.1f} MB")
    print(f"disk per run: {r['shard_bytes'] / n / 1000:.1f} kB as shards, "
          f"{r['consolidated_bytes'] / n / 1000:.1f} kB consolidated")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--simulate", default=FAKE, help="model function (default: the fake)")
    p.add_argument("--runs", type=int, default=60, help="runs per throughput sweep")
    p.add_argument("--repeat", type=int, default=2, help="throughput repeats per executor")
    p.add_argument("--years", type=int, default=20)
    p.add_argument("--run-ms", type=float, default=75.0, help="target cost of one fake run")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--memory-runs", type=int, default=2000)
    p.add_argument("--memory-years", type=int, default=20)
    p.add_argument("--skip", choices=["throughput", "memory"], action="append", default=[])
    p.add_argument("--memory-child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--tmp", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.memory_child:
        memory_child(args)
        return
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"cores available: {cores}; load average (1 min): {load:.2f}"
          f"{'  WARNING: the machine is busy, figures will be low' if load > 0.5 else ''}; "
          f"simulate = {args.simulate}")
    with tempfile.TemporaryDirectory(prefix="bench_runner_") as d:
        tmp = Path(d)
        if "throughput" not in args.skip:
            bench_throughput(args, tmp)
        if "memory" not in args.skip:
            bench_memory(args, tmp)


if __name__ == "__main__":
    main()
