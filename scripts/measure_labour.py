"""Measure the labour market of the baseline and the employment effect of a lever (issue 21).

For ``--seeds`` seeds, runs the baseline and the baseline with ``--lever`` switched on (intensity
1, default targets) for ``--years`` policy years and prints:

- at the last year: the share of firms with under 80 % of their desired staff, the job vacancy
  rate (vacancies over occupied plus vacant posts, the Eurostat definition), employment and its
  coefficient of variation across seeds, the unemployment rate (seed means);
- the paired employment effect of the lever at years 1, 5 and the last (mean, t statistic);
- the wall time of a warm 20-year baseline (median over the seeds);
- where the model has a CES production function: the constant-output own-wage elasticities of
  skilled and unskilled labour demand at policy year 0 (a 1 % rise of one wage, every firm's
  desired staff for its output target recomputed; employment-weighted over firms and seeds).

Desired staff is read from the firm table's ``desired_skilled`` / ``desired_unskilled`` columns
where the model has them, else as revenue over productivity (the rule before issue 21)::

    CLUSTER_ABM_SPINUP_CACHE=/tmp/labour_cache .venv/bin/python scripts/measure_labour.py --seeds 10
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

from cluster_abm.model.cluster_model import ClusterModel
from cluster_abm.policy.levers import LeverSetting
from cluster_abm.specs.scenario import load_scenario


def desired_staff(m) -> np.ndarray:
    """Desired employees of every living firm (persons)."""
    ft = m.firms
    idx = ft.idx
    if hasattr(ft, "desired_skilled"):
        return ft.desired_skilled[idx] + ft.desired_unskilled[idx]
    return ft.revenue[idx] / np.maximum(ft.productivity[idx], 1e-9)


def state_measures(m) -> dict[str, float]:
    ft = m.firms
    idx = ft.idx
    emp = ft.employees[idx].astype(float)
    want = desired_staff(m)
    vac = np.maximum(want - emp, 0.0)
    wide = m.series_wide()
    return {
        "under80": float(np.mean(emp < 0.8 * want)),
        "vacancy_rate": float(vac.sum() / (emp.sum() + vac.sum())),
        "employment": float(emp.sum()),
        "unemployment": float(wide["unemployment_rate"][-1, -1]),
    }


def own_wage_elasticities(m) -> tuple[float, float] | None:
    """Constant-output own-wage elasticities of skilled and unskilled labour demand (a 1 % wage
    rise), employment-weighted over the living firms; None without a CES production function."""
    try:
        from cluster_abm.mechanisms import production as pr
        pr.cost_factor  # noqa: B018
    except AttributeError:
        return None
    idx = m.firms.idx
    s, pi = pr.technology(m, idx)
    sigma = m.p.production.skill_substitution
    r = pr.wage_ratio(m, idx, None)

    def demand(r):
        kappa = pr.cost_factor(r, pi, sigma)
        return s * (kappa / r) ** sigma, (1.0 - s) * kappa**sigma

    ls0, lu0 = demand(r)
    ls1, _ = demand(r * 1.01)  # skilled wage +1 %
    _, lu2 = demand(r / 1.01)  # unskilled wage +1 %
    d = np.log(1.01)
    e_s = np.log(ls1 / ls0) / d
    e_u = np.log(lu2 / lu0) / d
    ft = m.firms
    return (float(np.average(e_s, weights=ft.skilled[idx] + 1e-9)),
            float(np.average(e_u, weights=ft.unskilled[idx] + 1e-9)))


def t_stat(d: np.ndarray) -> float:
    d = np.asarray(d, dtype=float)
    sd = d.std(ddof=1)
    return math.inf * np.sign(d.mean()) if sd == 0 else float(d.mean() / (sd / math.sqrt(len(d))))


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--years", type=int, default=20)
    ap.add_argument("--lever", default="employment_incentives")
    ap.add_argument("--first-seed", type=int, default=1)
    args = ap.parse_args(argv)
    base = load_scenario("baseline")
    on = base.with_levers({args.lever: LeverSetting(args.lever, intensity=1.0)})
    horizons = sorted({1, 5, args.years})
    rows, diffs, times, firm_steps, elast = [], {h: [] for h in horizons}, [], [], []
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        e = own_wage_elasticities(ClusterModel(base, seed=seed))  # spun up (cached): timing below is warm
        if e is not None:
            elast.append(e)
        t0 = time.perf_counter()
        mb = ClusterModel(base, seed=seed).run(args.years)
        times.append(time.perf_counter() - t0)
        firm_steps.append(float(mb.series_wide()["firms"][1:, -1].sum()))
        rows.append(state_measures(mb))
        ml = ClusterModel(on, seed=seed).run(args.years)
        eb, el = mb.series_wide()["employment"][:, -1], ml.series_wide()["employment"][:, -1]
        spy = mb.p.steps_per_year
        for h in horizons:
            diffs[h].append(el[h * spy] - eb[h * spy])
        print(f"seed {seed}: " + ", ".join(f"{k} {v:.4g}" for k, v in rows[-1].items())
              + f"; {args.lever} - baseline employment " + ", ".join(f"y{h} {diffs[h][-1]:+.0f}" for h in horizons),
              flush=True)
    keys = rows[0]
    mean = {k: float(np.mean([r[k] for r in rows])) for k in keys}
    emp = np.array([r["employment"] for r in rows])
    print(f"\n{args.seeds} seeds, year {args.years} of the baseline (seed means):")
    print(f"  firms under 80 % of desired staff: {100 * mean['under80']:.1f} %")
    print(f"  job vacancy rate: {100 * mean['vacancy_rate']:.2f} %")
    print(f"  employment: {mean['employment']:.0f} (CV across seeds {emp.std(ddof=1) / emp.mean():.3f})")
    print(f"  unemployment rate: {100 * mean['unemployment']:.2f} %")
    for h in horizons:
        d = np.array(diffs[h])
        print(f"  {args.lever}: employment effect at year {h}: {d.mean():+.1f} jobs (t = {t_stat(d):+.2f})")
    if elast:
        es, eu = np.mean(elast, axis=0)
        print(f"  constant-output own-wage elasticity at year 0: skilled {es:+.3f}, unskilled {eu:+.3f}")
    print(f"  warm 20-year baseline: median {np.median(times):.3f} s wall "
          f"(min {min(times):.3f}, max {max(times):.3f}); "
          f"{1e6 * np.median(np.array(times) / np.array(firm_steps)):.2f} us per firm-step (median)")


if __name__ == "__main__":
    main()
