"""Measure the baseline's start-up transient, to choose ``sim.spinup_years``.

Runs the baseline from the built world (no spin-up) for ``--years`` over ``--seeds`` seeds and
prints, for each candidate spin-up length, the drift per decade of the seed-mean firm count and
employment (percent) and of unemployment (percentage points) over the decade that follows it,
and the largest drift over any later decade. The spin-up is long enough where every later
decade drifts less than the bounds of issue 16 (5 % a decade; 1 point a decade)::

    .venv/bin/python scripts/measure_spinup.py --seeds 10 --years 60
"""

from __future__ import annotations

import argparse

import numpy as np

from cluster_abm.model.cluster_model import ClusterModel

SERIES = ("firms", "employment", "unemployment_rate")


def yearly_paths(scenario: str, seeds: int, years: int, params: dict) -> dict[str, np.ndarray]:
    """Seed x year arrays (all regions) of each series, year 0 = the built world."""
    out = {k: [] for k in SERIES}
    for seed in range(1, seeds + 1):
        model = ClusterModel(scenario, seed=seed, params={"sim.spinup_years": 0, **params}
                             if "sim.spinup_years" in _registry() else params)
        model.run(years)
        wide = model.series_wide()
        spy = model.p.steps_per_year
        for k in SERIES:
            out[k].append(wide[k][::spy, -1])
    return {k: np.array(v) for k, v in out.items()}


def _registry():
    from cluster_abm.params.registry import REGISTRY

    return {p.name for p in REGISTRY}


def decade_drift(mean: np.ndarray, start: int, relative: bool) -> float:
    """Change of a seed-mean path over the decade after ``start`` (percent or points)."""
    a, b = mean[start], mean[start + 10]
    return 100.0 * (b - a) / a if relative else 100.0 * (b - a)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="baseline")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--years", type=int, default=60)
    args = ap.parse_args(argv)
    paths = yearly_paths(args.scenario, args.seeds, args.years, {})
    means = {k: v.mean(axis=0) for k, v in paths.items()}
    print(f"{args.scenario}: {args.seeds} seeds, {args.years} years from the built world")
    print("year  firms  employment  unemployment %   CV(employment)")
    for y in range(0, args.years + 1, 5):
        cv = paths["employment"][:, y].std() / paths["employment"][:, y].mean()
        print(f"{y:4d} {means['firms'][y]:6.0f} {means['employment'][y]:11.0f} "
              f"{100 * means['unemployment_rate'][y]:15.2f} {cv:16.3f}")
    print("\nspin-up  next decade: firms %  employment %  unemployment pts   worst later decade")
    for s in range(0, args.years - 9, 5):
        nxt = [decade_drift(means["firms"], s, True), decade_drift(means["employment"], s, True),
               decade_drift(means["unemployment_rate"], s, False)]
        later = [max(abs(decade_drift(means[k], t, k != "unemployment_rate"))
                     for t in range(s, args.years - 9)) for k in SERIES]
        print(f"{s:7d} {nxt[0]:+18.1f} {nxt[1]:+13.1f} {nxt[2]:+17.2f}   "
              f"{later[0]:.1f} % / {later[1]:.1f} % / {later[2]:.2f} pts")


if __name__ == "__main__":
    main()
