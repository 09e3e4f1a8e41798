"""`cluster-abm compare`: runs a comparison and writes the HTML report, CSVs and figures."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from cluster_abm.cli.main import main
from cluster_abm.reports.comparison_report import cost_effectiveness


def test_compare_end_to_end(tmp_path):
    exp = tmp_path / "mini.toml"
    exp.write_text(
        'name = "mini"\ndescription = "two packages"\n'
        'scenarios = ["baseline", "sme_networks"]\nbaseline = "baseline"\n'
        "replicates = 3\nseed = 5\nyears = 2\n[outputs]\nseries_every = 4\n"
        '[execution]\nexecutor = "serial"\n')
    code = main(["compare", str(exp), "--results", str(tmp_path / "res"), "--quiet"])
    assert code == 0
    report = tmp_path / "res" / "mini" / "report"
    html = (report / "report.html").read_text()
    for section in ("What each policy package does", "Effects on the headline outcomes",
                    "Public cost per job and per innovation", "Trajectories"):
        assert section in html
    assert html.count("data:image/png;base64,") >= 8, "self-contained: figures embedded"
    eff = pd.read_csv(report / "effects.csv")
    assert set(eff["scenario"]) == {"sme_networks"}
    assert (eff["n"] == 3).all()
    finite = eff.dropna(subset=["ci_low", "ci_high"])  # e.g. 5-year survival is n/a in a 2-year run
    assert len(finite) > 20
    assert (finite["ci_low"] <= finite["mean_diff"]).all() and (finite["mean_diff"] <= finite["ci_high"]).all()
    cost = pd.read_csv(report / "cost_effectiveness.csv")
    assert cost.loc[0, "lever_spending_keur"] > 0
    assert len(list((report / "figures").glob("*.png"))) >= 9
    # Re-running resumes: nothing is simulated again and the report is rewritten.
    assert main(["compare", str(exp), "--results", str(tmp_path / "res"), "--quiet"]) == 0


def test_cost_per_job_only_where_jobs_rise_with_confidence():
    rows = []
    for seed in range(10):
        rows.append({"scenario": "baseline", "seed": seed, "public_spent_total": 1000.0,
                     "public_cost_total": 0.0, "employment_final": 100.0 + seed,
                     "innovations_per_year": 10.0})
        rows.append({"scenario": "jobs", "seed": seed, "public_spent_total": 1500.0 + seed,
                     "public_cost_total": 500.0, "employment_final": 110.0 + seed + 0.1 * (seed % 3),
                     "innovations_per_year": 10.0 + (1 if seed % 2 else -1)})
    cost = cost_effectiveness(pd.DataFrame(rows), "baseline", years=20, level=0.95, seed=1)
    r = cost.iloc[0]
    assert r["extra_public_money_keur"] == np.mean([500 + s for s in range(10)])
    assert math.isclose(r["cost_per_job_keur"], r["extra_public_money_keur"] / r["extra_jobs"])
    assert r["cost_per_job_ci_low"] <= r["cost_per_job_keur"] <= r["cost_per_job_ci_high"]
    assert math.isnan(r["cost_per_innovation_keur"]), "innovations do not rise: no cost per innovation"
