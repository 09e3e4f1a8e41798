"""What do the levers cost in wall time? ``full_strategy`` (every lever on) against ``baseline``.

Run as ``python benchmarks/bench_levers.py [--years 20] [--seeds 3] [--rounds 3] [--profile]``.
Every run starts from a collected heap (see ``time_run``). Every (scenario, seed) run is
repeated ``--rounds`` times, keeping its fastest time: on a shared machine a run takes longer in
a busy minute, and the fastest of a few repeats is the figure least disturbed by others. Within a
round the two scenarios run back to back (in turn first), and the median ratio of these pairs is
printed too. The ratio full_strategy / baseline is reported, not a target: it shows what the
levers cost, and a jump in it is worth a look. Wall time and this process's CPU time are both
shown. The policies themselves make the world bigger (more firms survive, more ties), so the cost
per firm-step is shown too: that part of the ratio is the levers' code. ``--profile`` adds a
cProfile of one full_strategy run (the 25 most expensive functions). Figures and how they moved:
``benchmarks/PERFORMANCE.md``.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import pstats
import statistics
import time

import numpy as np

from cluster_abm.experiments.allocator import tune_allocator
from cluster_abm.model.cluster_model import ClusterModel
from cluster_abm.specs.scenario import load_scenario


class GcClock:
    """Seconds the interpreter spent in garbage collections since the last ``reset``."""

    def __init__(self):
        self.seconds, self._start = 0.0, 0.0
        gc.callbacks.append(self._tick)

    def _tick(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._start

    def reset(self) -> None:
        self.seconds = 0.0


GC_CLOCK = GcClock()


def median_interval(values: list[float], draws: int = 5000, seed: int = 0) -> tuple[float, float]:
    """95 % percentile-bootstrap interval of the median: how far the median of pair ratios
    could move with other draws of the host's load."""
    x = np.asarray(values)
    medians = np.median(np.random.default_rng(seed).choice(x, (draws, len(x))), axis=1)
    return float(np.percentile(medians, 2.5)), float(np.percentile(medians, 97.5))


def time_run(scenario, seed: int, years: float) -> tuple[float, float, ClusterModel]:
    """Wall and CPU seconds of one build-and-run, from a collected heap.

    Why collect first (untimed): a model is a web of reference cycles (agents and model, grid
    cells and neighbours), freed only by a full collection. Without it, the collection of the
    previous run's model falls inside whichever run next allocates enough to trigger it,
    mostly inside full_strategy runs since they allocate more.
    """
    gc.collect()
    GC_CLOCK.reset()
    wall, cpu = time.perf_counter(), time.process_time()
    model = ClusterModel(scenario, seed=seed).run(years)
    return time.perf_counter() - wall, time.process_time() - cpu, model


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--years", type=float, default=20.0, help="horizon of each run (default 20)")
    ap.add_argument("--seeds", type=int, default=3, help="runs per scenario (default 3)")
    ap.add_argument("--rounds", type=int, default=3, help="repeats of each run, fastest kept (default 3)")
    ap.add_argument("--profile", action="store_true", help="profile one full_strategy run")
    ap.add_argument("--no-malloc-tuning", dest="tune", action="store_false",
                    help="leave glibc's allocator as a plain ClusterModel(...) does")
    args = ap.parse_args(argv)
    if args.tune:
        tune_allocator()  # as the runner's worker processes do

    scenarios = {name: load_scenario(name) for name in ("baseline", "full_strategy")}
    time_run(scenarios["baseline"], 0, 1)  # warm-up: imports, caches
    walls: dict[str, list[float]] = {name: [] for name in scenarios}
    cpus: dict[str, list[float]] = {name: [] for name in scenarios}
    firm_steps: dict[str, list[float]] = {name: [] for name in scenarios}
    ties: dict[str, list[int]] = {name: [] for name in scenarios}
    gc_seconds: dict[str, list[float]] = {name: [] for name in scenarios}
    pair_ratios: list[float] = []  # full / baseline wall time of two back-to-back runs
    for seed in range(args.seeds):
        best_wall = dict.fromkeys(scenarios, float("inf"))
        best_cpu = dict.fromkeys(scenarios, float("inf"))
        for r in range(max(args.rounds, 1)):
            # The two scenarios run back to back, in turn first, so a pair shares the host's
            # speed of that moment: their ratio is the figure least moved by others' load.
            names = list(scenarios) if r % 2 == 0 else list(reversed(scenarios))
            pair = {}
            for name in names:
                wall, cpu, model = time_run(scenarios[name], seed, args.years)
                best_wall[name], best_cpu[name] = min(best_wall[name], wall), min(best_cpu[name], cpu)
                pair[name] = wall
                gc_seconds[name].append(GC_CLOCK.seconds)
                if r == 0:
                    firm_steps[name].append(float(model.series_wide()["firms"][1:, -1].sum()))
                    ties[name].append(len(model.ties))
            pair_ratios.append(pair["full_strategy"] / pair["baseline"])
        for name in scenarios:
            walls[name].append(best_wall[name])
            cpus[name].append(best_cpu[name])

    med = statistics.median
    print(f"bench_levers: {args.seeds} seeds x {args.years:g} years, fastest of {args.rounds}, "
          f"{scenarios['baseline'].param('sim.n_firms')} initial firms")
    print(f"{'scenario':<15}{'levers':>7}{'wall s':>9}{'cpu s':>8}{'us/firm-step':>14}"
          f"{'firms/step':>12}{'ties at end':>13}")
    per = {}
    for name, sc in scenarios.items():
        per[name] = med(c / fs * 1e6 for c, fs in zip(cpus[name], firm_steps[name], strict=True))
        steps = args.years * sc.param("sim.steps_per_year")
        print(f"{name:<15}{len(sc.levers):>7}{med(walls[name]):>9.3f}{med(cpus[name]):>8.3f}"
              f"{per[name]:>14.2f}{med(firm_steps[name]) / steps:>12.0f}{med(ties[name]):>13.0f}")
    wall_ratio = med(walls["full_strategy"]) / med(walls["baseline"])
    cpu_ratio = med(cpus["full_strategy"]) / med(cpus["baseline"])
    print(f"ratio full_strategy / baseline: wall {wall_ratio:.2f}, cpu {cpu_ratio:.2f}, "
          f"cpu per firm-step {per['full_strategy'] / per['baseline']:.2f}")
    print("garbage collection inside the timed runs (median ms per run): "
          + ", ".join(f"{name} {med(gc_seconds[name]) * 1e3:.1f}" for name in scenarios))
    if len(pair_ratios) >= 4:
        q1, _, q3 = statistics.quantiles(pair_ratios, n=4)
        lo, hi = median_interval(pair_ratios)
        print(f"back-to-back pairs: median ratio {med(pair_ratios):.3f} (95 % bootstrap interval "
              f"{lo:.3f}-{hi:.3f}; quartiles {q1:.2f}-{q3:.2f}; {len(pair_ratios)} pairs)")

    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        ClusterModel(scenarios["full_strategy"], seed=0).run(args.years)
        prof.disable()
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(25)
        print(out.getvalue())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
