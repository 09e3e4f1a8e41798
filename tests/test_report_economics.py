"""Present values, public cost per result and the minimum detectable effect, on data whose
answers are known."""

from __future__ import annotations

import math
import zlib

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from cluster_abm.reports import economics


def panel(arms: dict[str, dict[str, list[float]]], seeds=range(10), noise=None) -> pd.DataFrame:
    """A yearly panel: arm -> metric -> values by year, for each seed (plus optional noise)."""
    rows = []
    for arm, metrics in arms.items():
        for seed in seeds:
            for metric, values in metrics.items():
                for year, v in enumerate(values):
                    extra = noise(arm, seed, metric, year) if noise else 0.0
                    for region in ("r1", "ALL"):
                        rows.append({"arm": arm, "seed": seed, "region": region, "metric": metric,
                                     "year": year, "value": v + extra})
    return pd.DataFrame(rows)


def test_present_values_discount_policy_year_y_by_one_plus_r_to_the_minus_y():
    p = panel({"base": {"public_spent_total": [100.0, 100.0, 100.0], "employment": [10, 10, 10],
                        "public_cost": [0, 0, 0], "innovations": [1, 1, 1],
                        "skilled_emigrants": [5, 5, 5]}}, seeds=[1])
    m, units = economics.run_measures(p, 0.03)
    r = m[(m["region"] == "ALL")].iloc[0]
    assert r["money"] == 300.0
    assert r["money_pv"] == pytest.approx(100 * (1 + 1 / 1.03 + 1 / 1.03 ** 2))
    assert r["jobs_end"] == 10 and r["job_years"] == 30
    assert units == {"employment": "model firms", "innovations": "model firms",
                     "skilled_emigrants": "model firms"}


def test_real_region_counts_are_used_where_every_region_has_them():
    p = panel({"base": {"public_spent_total": [1.0], "public_cost": [0.0], "employment": [10.0],
                        "employment_real": [1000.0], "innovations": [1.0],
                        "innovations_real": [np.nan], "skilled_emigrants": [1.0]}}, seeds=[1])
    m, units = economics.run_measures(p, 0.03)
    assert m["jobs_end"].iloc[0] == 1000.0
    assert units["employment"] == "real region" and units["innovations"] == "model firms"


def _two_arms(extra_jobs: float, extra_money: float, jitter: float = 1.0) -> pd.DataFrame:
    def noise(arm, seed, metric, year):
        rng = np.random.default_rng(1000 * seed + year)
        shared = rng.normal(0, 50)  # the seed's luck, common to both arms
        own = np.random.default_rng(zlib.crc32(f"{arm}{seed}{metric}{year}".encode())).normal(0, jitter)
        return shared + own if metric == "employment" else 0.0
    base = {"public_spent_total": [1000.0] * 4, "public_cost": [0.0] * 4,
            "employment": [500.0] * 4, "innovations": [10.0] * 4, "skilled_emigrants": [5.0] * 4}
    pol = dict(base, public_spent_total=[1000.0 + extra_money] * 4, public_cost=[extra_money] * 4,
               employment=[500.0 + extra_jobs] * 4)
    return panel({"base": base, "pol": pol}, noise=noise)


def test_cost_per_job_is_extra_present_money_over_extra_jobs_with_an_interval():
    m, units = economics.run_measures(_two_arms(extra_jobs=20.0, extra_money=100.0), 0.03)
    cost = economics.cost_per_result(m, "base", 0.95, seed=1, units=units)
    job = cost[(cost["result"] == "job") & (cost["region"] == "ALL")].iloc[0]
    pv = 100.0 * sum(1.03 ** -y for y in range(4))
    assert job["extra_money_pv"] == pytest.approx(pv)
    assert job["extra_result"] == pytest.approx(20.0, abs=1.5)
    assert job["cost_per_result"] == pytest.approx(job["extra_money_pv"] / job["extra_result"])
    assert job["cost_low"] <= job["cost_per_result"] <= job["cost_high"]
    assert job["note"] == ""
    year = cost[(cost["result"] == "job_year") & (cost["region"] == "ALL")].iloc[0]
    assert year["cost_per_result"] == pytest.approx(pv / (20.0 * sum(1.03 ** -y for y in range(4))), rel=0.1)
    inn = cost[(cost["result"] == "innovation") & (cost["region"] == "ALL")].iloc[0]
    assert math.isnan(inn["cost_per_result"])
    assert inn["note"] == ("No cost per innovation: the package leaves innovations unchanged in "
                           "every one of 10 paired replicates.")


def test_no_cost_per_job_where_jobs_do_not_rise_with_confidence_and_the_note_says_why():
    m, units = economics.run_measures(_two_arms(extra_jobs=0.5, extra_money=100.0, jitter=5.0), 0.03)
    job = economics.cost_per_result(m, "base", 0.95, 1, units)
    job = job[(job["result"] == "job") & (job["region"] == "ALL")].iloc[0]
    assert math.isnan(job["cost_per_result"])
    assert job["note"].startswith("No cost per job in the last year: with 10 paired replicates "
                                  "the effect on jobs")
    assert "cannot be told from zero" in job["note"]
    m, units = economics.run_measures(_two_arms(extra_jobs=-30.0, extra_money=100.0), 0.03)
    job = economics.cost_per_result(m, "base", 0.95, 1, units)
    assert "the package lowers jobs" in job[job["result"] == "job"].iloc[0]["note"]


def test_the_minimum_detectable_effect_has_the_power_it_claims():
    sd, n = 10.0, 12
    effect = economics.mde(sd, n)
    expected = (stats.t.ppf(0.975, n - 1) + stats.t.ppf(0.8, n - 1)) * sd / math.sqrt(n)
    assert effect == pytest.approx(expected)
    # simulated: a paired t-test of n pairs rejects about 80 % of the time at that effect
    rng = np.random.default_rng(7)
    d = rng.normal(effect, sd, size=(20_000, n))
    t = d.mean(axis=1) / (d.std(axis=1, ddof=1) / math.sqrt(n))
    power = np.mean(np.abs(t) > stats.t.ppf(0.975, n - 1))
    assert 0.77 < power < 0.83
    assert math.isnan(economics.mde(sd, 1))
    assert economics.mde(sd, 4 * n) < 0.55 * effect  # four times the pairs: about half
    need = economics.replicates_for(effect, sd)
    assert need == n


def test_paired_effects_per_region_and_measure():
    m, _ = economics.run_measures(_two_arms(extra_jobs=20.0, extra_money=100.0), 0.0)
    p = economics.paired(m, "base", 0.95)
    assert set(p["region"]) == {"r1", "ALL"} and set(p["arm"]) == {"pol"}
    lev = p[(p["measure"] == "levers") & (p["region"] == "ALL")].iloc[0]
    assert lev["mean"] == pytest.approx(400.0) and lev["n"] == 10 and lev["sd"] == pytest.approx(0)


def test_a_cost_whose_interval_reaches_below_zero_is_read_by_its_upper_end():
    from cluster_abm.reports.comparison_tables import cost_text

    nb = "\u00a0"
    row = {"cost_per_result": 119.0, "cost_low": -142.0, "cost_high": 309.0, "note": ""}
    assert cost_text(row) == (f"€119{nb}thousand (95 % CI: at most €309{nb}thousand; the extra "
                              "public money itself cannot be told from zero)")
    row = {"cost_per_result": 50.0, "cost_low": 40.0, "cost_high": math.inf, "note": ""}
    assert cost_text(row) == f"€50{nb}thousand (95 % CI €40{nb}thousand or more (no upper bound))"
    assert cost_text({"cost_per_result": math.nan, "note": "No cost per job: why."}) == "No cost per job: why."


def test_jobs_in_the_total_come_from_the_kpi_the_headline_reads():
    """The total's jobs in the last year are the runs' KPI (the last year's mean), not the stored
    year-end value, so the cost per job and the headline effect agree; regions keep theirs."""
    m, units = economics.run_measures(_two_arms(extra_jobs=40.0, extra_money=100.0), 0.03)
    total = m["region"] == "ALL"
    kpi = economics.JOBS_KPI[units["employment"]]
    kpis = m.loc[total, ["arm", "seed"]].assign(**{kpi: m.loc[total, "jobs_end"].to_numpy() + 1000.0})
    out = economics.jobs_from_kpis(m, kpis, units)
    np.testing.assert_allclose(out.loc[total, "jobs_end"], m.loc[total, "jobs_end"] + 1000.0)
    np.testing.assert_array_equal(out.loc[~total, "jobs_end"], m.loc[~total, "jobs_end"])
    # without the KPI (an older store) the year-end values stay
    assert economics.jobs_from_kpis(m, kpis.drop(columns=[kpi]), units).equals(m)
