"""Business demography of the baseline from firm logs (issue 21): exit hazard by age, cohort
survival, young firms' shares of employment and job creation, micro share, tail exponent, birth
and death rates by region and stage, and the spread of outcomes across seeds.

    python scripts/measure_demography.py --seeds 10 --years 20 [--scenario baseline] [--json out.json]

Every figure is measured from the run's firm log and yearly panel (years 6-20 for rates and
survival, as ``cluster-abm validate``), never from parameters.
"""

from __future__ import annotations

import argparse
import json
import math

import numpy as np

from cluster_abm.analysis.validation.facts import exit_hazard, pareto_alpha
from cluster_abm.analysis.validation.targets import cohort_survival, observe
from cluster_abm.analysis.validation.validate import _panel_facts
from cluster_abm.specs.scenario import load_scenario

FROM_YEAR = 5


def one(scenario, seed: int, years: int) -> dict:
    obs, m = observe(scenario, seed, years, keep_model=True)
    R = len(obs.region_ids)
    panel = m.log.panel()
    pf = _panel_facts(panel, obs, FROM_YEAR)
    d, e = exit_hazard(obs)
    hz = np.divide(d, e, out=np.full(len(d), np.nan), where=e > 0)
    surv = [cohort_survival(obs, np.arange(R), FROM_YEAR, k) for k in range(1, 6)]
    final = pf["sizes_final"]
    sl = slice(FROM_YEAR, obs.years)
    births = obs.births[sl].sum(axis=0) / obs.firms_start[sl].sum(axis=0)
    deaths = obs.deaths[sl].sum(axis=0) / obs.firms_start[sl].sum(axis=0)
    wide = m.series_wide()
    spy = m.p.steps_per_year
    last = slice(-spy, None)
    # Jobs held by the firms of the built world (drawn at step 0, before the spin-up).
    ft = m.firms
    idx = ft.idx
    emp = ft.employees[idx]
    initial = ft.birth_step[idx] < 0
    age = (m.t - ft.birth_step[idx]) / spy
    med_by_age = {a: float(np.median(emp[(age >= a) & (age < a + 1)])) if ((age >= a) & (age < a + 1)).any()
                  else math.nan for a in (0, 1, 2, 3, 5, 10)}
    return {
        "seed": seed,
        "hazard": hz[:11].tolist(),
        "survival": surv,
        "young_emp_share": pf["jobs"]["employment_young"] / pf["jobs"]["employment"],
        "young_jc_share": pf["jobs"]["created_young"] / pf["jobs"]["created"],
        "micro_share": float((final < 10).mean()),
        "alpha": pareto_alpha(final, 10)[0],
        "birth_rate": births.tolist(),
        "death_rate": deaths.tolist(),
        "stages": list(obs.stages),
        "regions": list(obs.region_ids),
        "employment": float(wide["employment"][last, -1].mean()),
        "firms": float(wide["firms"][last, -1].mean()),
        "innovations": float(wide["innovations"][-spy:, -1].sum()),
        "innovations_total": float(wide["innovations"][1:, -1].sum()),
        "emigrants": float(wide["skilled_emigrants"][-spy:, -1].sum()),
        "emigrants_total": float(wide["skilled_emigrants"][1:, -1].sum()),
        "employment_by_region": wide["employment"][last, :-1].mean(axis=0).tolist(),
        "innovations_per_firm": (wide["innovations"][1:, :-1].sum(axis=0)
                                 / (wide["firms"][1:, :-1].mean(axis=0) * years)).tolist(),
        "emigration_rate": (wide["skilled_emigrants"][1:, :-1].sum(axis=0)
                            / (obs.skilled_labour_force.mean(axis=0) * years)).tolist(),
        "initial_firm_share": float(initial.mean()),
        "initial_job_share": float(emp[initial].sum() / emp.sum()),
        "median_size_by_age": med_by_age,
        "max_size": int(final.max()),
    }


def stage_ratio(rate: np.ndarray, stages: list[str], firms: np.ndarray | None = None) -> float:
    st = np.array(stages)
    return float(rate[st == "early"].mean() / rate[st == "mature"].mean())


def summary(rows: list[dict]) -> str:
    out = []
    hz = np.nanmean([r["hazard"] for r in rows], axis=0)
    out.append("exit hazard by age 0-10: " + " ".join(f"{100 * h:.1f}" for h in hz))
    sv = np.mean([r["survival"] for r in rows], axis=0)
    out.append("survival 1-5y: " + " ".join(f"{100 * s:.1f}" for s in sv))
    for k in ("young_emp_share", "young_jc_share", "micro_share", "alpha", "initial_firm_share",
              "initial_job_share", "max_size"):
        v = np.array([r[k] for r in rows], dtype=float)
        out.append(f"{k}: {v.mean():.3f} [{v.min():.3f}, {v.max():.3f}]")
    mba = {a: np.nanmean([r["median_size_by_age"][a] for r in rows]) for a in rows[0]["median_size_by_age"]}
    out.append("median size by age: " + " ".join(f"{a}:{v:.1f}" for a, v in mba.items()))
    regions, stages = rows[0]["regions"], rows[0]["stages"]
    b = np.mean([r["birth_rate"] for r in rows], axis=0)
    d = np.mean([r["death_rate"] for r in rows], axis=0)
    for i, reg in enumerate(regions):
        out.append(f"  {reg:24s} {stages[i]:7s} birth {100 * b[i]:.1f} % death {100 * d[i]:.1f} %")
    inn = np.mean([r["innovations_per_firm"] for r in rows], axis=0)
    emi = np.mean([r["emigration_rate"] for r in rows], axis=0)
    out.append(f"early/mature: birth {stage_ratio(b, stages):.2f}, death {stage_ratio(d, stages):.2f}, "
               f"innovations per firm {stage_ratio(inn, stages):.2f}, skilled emigration {stage_ratio(emi, stages):.2f}")
    st = np.array(stages)
    out.append(f"middle/mature: birth {b[st == 'middle'].mean() / b[st == 'mature'].mean():.2f}, "
               f"death {d[st == 'middle'].mean() / d[st == 'mature'].mean():.2f}")
    for k in ("employment", "firms", "innovations", "innovations_total", "emigrants", "emigrants_total"):
        v = np.array([r[k] for r in rows], dtype=float)
        out.append(f"{k} at end: mean {v.mean():.1f} sd {v.std(ddof=1):.1f} CV {v.std(ddof=1) / v.mean():.3f} "
                   f"range [{v.min():.0f}, {v.max():.0f}]")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--first-seed", type=int, default=1)
    ap.add_argument("--years", type=int, default=20)
    ap.add_argument("--scenario", default="baseline")
    ap.add_argument("--param", action="append", default=[], help="name=value override")
    ap.add_argument("--json")
    a = ap.parse_args()
    sc = load_scenario(a.scenario)
    if a.param:
        sc = sc.with_params({k: (v.lower() == "true" if v.lower() in ("true", "false") else float(v))
                             for k, v in (p.split("=", 1) for p in a.param)})
    rows = [one(sc, s, a.years) for s in range(a.first_seed, a.first_seed + a.seeds)]
    print(summary(rows))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f, default=float)


if __name__ == "__main__":
    main()
