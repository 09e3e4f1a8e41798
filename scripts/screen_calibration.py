"""One-at-a-time screen of candidate calibration parameters on the current baseline (issue 21).

Runs the baseline with its defaults and with each candidate parameter at the low and the high
end of a plausible range (the rest at their defaults), over the same seeds (common random
numbers: each difference compares runs that differ only in that parameter), and measures the
calibration targets the way ``cluster-abm calibrate`` does (``targets.observe`` / ``measure``,
after the model's spin-up). Prints, per parameter, each target at the low and the high value
and the effect (high - low) in units of the target's tolerance in
``experiments/calibrate_see.toml``; an effect is starred where it exceeds twice its standard
error over the paired seeds. A parameter earns its place in the calibration when it moves a
fitted target by a tolerance or more; two parameters that move the same targets the same way
cannot both be identified.

    nice -n 10 .venv/bin/python scripts/screen_calibration.py --seeds 4 --years 15

The ranges are about half and twice the default (``RANGES``), inside the registry's bounds; the
registry's bounds themselves are validity limits (e.g. ``labour.matching_rate`` 0.05-5), too wide
for a screen of plausible values.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from cluster_abm.analysis.validation.targets import load_targets, measure, observe
from cluster_abm.experiments.executors import make_executor
from cluster_abm.params.registry import REGISTRY
from cluster_abm.specs.scenario import load_scenario_ref

# Candidate -> (low, high): about half and twice the default, or a plausible span for a
# parameter whose default is 0 or negative. Comments: the channel it acts through.
RANGES: dict[str, tuple[float, float]] = {
    "demography.spinoff_rate": (0.01, 0.04),          # births (spin-offs of employees)
    "demography.denovo_rate": (0.01, 0.04),           # births from unemployment
    "demography.closure_rate": (0.0, 0.05),           # non-economic deaths
    "demography.entry_demand_mean": (-1.0, 0.2),      # early exits (market acceptance)
    "demography.entry_demand_sd": (0.4, 1.4),         # dispersion of early exits
    "demography.founder_expectation": (0.6, 1.5),     # passive-learning exit threshold
    "demography.plan_error_sd": (0.4, 1.6),           # pre-entry selection of ventures
    "demography.prior_years": (0.25, 2.0),            # how fast owners learn their viability
    "demography.founder_savings": (0.25, 1.0),        # start-up capital, liquidity exits
    "market.selection_strength": (0.3, 1.2),          # exits of incumbents
    "production.fixed_cost": (0.1, 0.5),              # break-even size, exits
    "production.labour_adjust_rate": (0.25, 1.0),     # firing, unemployment
    "market.share_volatility": (0.12, 0.5),           # idiosyncratic demand shocks
    "market.volatility_size_exponent": (0.0, 0.4),    # shocks falling with size
    "market.reach_growth": (0.1, 0.4),                # customer-capital accumulation
    "production.imitation_rate": (0.075, 0.3),        # laggards catching up
    "innovation.base_rate": (0.006, 0.024),           # informal innovation (small firms)
    "innovation.rd_rate": (0.05, 0.2),                # formal R&D innovation (large firms)
    "learning.rd_return": (0.5, 2.0),                 # knowledge from R&D
    "labour.matching_rate": (0.6, 2.4),               # unemployment (matching function)
    "labour.matching_elasticity": (0.35, 0.7),        # unemployment
    "labour.wage_tightness": (0.25, 1.0),             # wages against unemployment
    "labour.retirement_rate": (0.015, 0.04),          # labour turnover
    "labour.cohort_rate": (0.015, 0.04),              # labour supply
    "migration.max_rate": (0.04, 0.16),               # emigration ceiling
    "migration.intercept": (-4.0, -2.0),              # emigration hazard level
    "migration.return_rate": (0.015, 0.06),           # return of the diaspora
}

# Targets measured (fitted ones first) and the tolerance that counts as one unit of effect
# (experiments/calibrate_see.toml).
TARGETS: dict[str, float] = {
    "birth_rate.EU": 0.01,
    "death_rate.EU": 0.01,
    "survival_1y.EU": 0.03,
    "survival_3y.AT": 0.03,
    "survival_5y.EU": 0.03,
    "innovative_share_10plus.EU": 0.05,
    "innovative_share_10_49.EU": 0.05,
    "innovative_share_250plus.EU": 0.05,
    "unemployment_rate.EU": 0.01,
    "emigrant_share.RO": 0.03,
    "emigrant_share.BG": 0.03,
    "sme_employment_share.EU": 0.05,
    "micro_share_of_firms.EU": 0.03,
}


def run_one(task: tuple) -> dict[str, float]:
    """Simulate one (label, params, seed) and measure every target (a worker process)."""
    _label, params, seed, years, from_year, scenario_ref = task
    scenario = load_scenario_ref(scenario_ref, "screen", "scenario")
    if params:
        scenario = scenario.with_params(params, source="screen")
    obs = observe(scenario, seed, years, spinup_cache=None)
    targets = load_targets()
    return {tid: measure(obs, targets[tid].measure, targets[tid].scope, from_year)
            for tid in TARGETS}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="baseline")
    ap.add_argument("--seeds", type=int, default=4)
    ap.add_argument("--years", type=int, default=15)
    ap.add_argument("--from-year", type=int, default=0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--only", nargs="*", help="screen only these parameters")
    args = ap.parse_args(argv)
    reg = {p.name: p for p in REGISTRY}
    names = args.only or list(RANGES)
    for n in names:
        lo, hi = RANGES[n]
        p = reg[n]
        if not p.low <= lo < hi <= p.high:
            raise SystemExit(f"{n}: range {lo}-{hi} outside the registry's {p.low}-{p.high}")
    seeds = list(range(1, args.seeds + 1))
    points = {("baseline", None): {}}
    for n in names:
        points[(n, "low")] = {n: RANGES[n][0]}
        points[(n, "high")] = {n: RANGES[n][1]}
    tasks = [(key, pv, s, args.years, args.from_year, args.scenario)
             for key, pv in points.items() for s in seeds]
    out: dict = {key: {} for key in points}
    t0 = time.perf_counter()
    with make_executor("processes" if args.workers > 1 else "serial", args.workers) as ex:
        for task, value, exc in ex.map_unordered(run_one, tasks, total=len(tasks)):
            if exc is not None:
                raise exc
            out[task[0]][task[2]] = value
    wall = time.perf_counter() - t0
    print(f"{args.scenario}: {len(tasks)} runs ({args.seeds} seeds, 30-year spin-up + "
          f"{args.years} years, measured over years {args.from_year + 1}-{args.years}) in "
          f"{wall:.0f} s with {args.workers} workers ({wall * args.workers / len(tasks):.2f} "
          "worker-s per run)\n")

    def arr(key, tid):
        return np.array([out[key][s][tid] for s in seeds], dtype=float)

    cols = list(TARGETS)
    print("| parameter (low -> high) | " + " | ".join(cols) + " |")
    print("|---" * (len(cols) + 1) + "|")
    print("| baseline | " + " | ".join(f"{100 * np.nanmean(arr(('baseline', None), t)):.1f}"
                                        for t in cols) + " |")
    effects = {}
    for n in names:
        cells = []
        for t in cols:
            lo, hi = arr((n, "low"), t), arr((n, "high"), t)
            d = hi - lo
            ok = np.isfinite(d)
            mean = float(np.mean(d[ok])) if ok.any() else math.nan
            se = float(np.std(d[ok], ddof=1) / math.sqrt(ok.sum())) if ok.sum() > 1 else math.nan
            eff = mean / TARGETS[t]
            star = "*" if abs(mean) > 2 * se else ""
            effects[(n, t)] = (eff, star)
            cells.append(f"{100 * np.nanmean(lo):.1f}->{100 * np.nanmean(hi):.1f} "
                         f"({eff:+.1f}{star})")
        lo_v, hi_v = RANGES[n]
        print(f"| `{n}` {lo_v:g} -> {hi_v:g} | " + " | ".join(cells) + " |")
    print("\nValues in percent (means over seeds); in brackets the effect high - low in "
          "tolerances; * = more than two standard errors of the paired difference.\n")
    print("Largest effects per target (tolerances, starred only):")
    for t in cols:
        ranked = sorted(((abs(e), n, e) for (n, tt), (e, s) in effects.items()
                         if tt == t and s and np.isfinite(e)), reverse=True)[:5]
        print(f"  {t}: " + ", ".join(f"{n} {e:+.1f}" for _, n, e in ranked))


if __name__ == "__main__":
    main()
