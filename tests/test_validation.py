"""Validation: the command writes a verdict per stylized fact, and the facts' tests can fail."""

from __future__ import annotations

import dataclasses
import math
import re
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from cluster_abm.analysis.validation import facts as F  # noqa: E402
from cluster_abm.analysis.validation import validate as V  # noqa: E402
from cluster_abm.analysis.validation.targets import Observation  # noqa: E402
from cluster_abm.cli import main as cli  # noqa: E402
from cluster_abm.errors import InputError  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.toml"


def test_validate_writes_a_pass_or_fail_line_per_fact(tmp_path, capsys):
    small = tmp_path / "small.toml"
    small.write_text(f'extends = "{BASELINE.as_posix()}"\nname = "small"\n'
                     "[simulation]\nn_firms = 400\n")
    out = tmp_path / "docs" / "validation.md"
    code = cli.main(["validate", str(small), "--seeds", "2", "--years", "7", "--from-year", "1",
                     "--executor", "serial", "--out", str(out), "--quiet"])
    assert code == 0
    printed = capsys.readouterr().out
    text = out.read_text()
    rows = [line for line in text.splitlines() if re.match(r"\| \d+ \| \[", line)]
    assert len(rows) == 26
    assert all(re.search(r"\| \*\*(PASS|FAIL)\*\* \|", r) for r in rows)
    for fact in ("Firm sizes", "Growth rates", "Liability of newness", "Survival curve",
                 "job creation", "Innovation rises with firm size", "Cluster firms survive longer",
                 "Cluster firms grow faster", "Cooperation network",
                 "birth rate", "death rate", "1-year survival", "SME share", "Micro firms", "Job vacancy rate",
                 "Mean firm size",
                 "fifth of employment", "tail exponent", "Innovation share by country",
                 "Early-stage regions", "absorbed mostly by the labour force", "stationary",
                 "Each region's firm count", "Seed variability", "The labour share"):
        assert fact in text and fact in printed
    assert "## Policy effects beside published evaluations" in text
    figs = out.parent / "figures" / "validation"
    for png in ("size_distribution.png", "growth_rates.png", "exit_hazard.png", "survival.png",
                "job_creation.png", "innovation_by_size.png", "cluster_survival.png",
                "cluster_growth.png", "network.png", "bands.png", "stationarity.png",
                "labour_share.png"):
        assert (figs / png).stat().st_size > 1000
        assert f"figures/validation/{png}" in text


def test_validate_rejects_a_bad_window(tmp_path):
    with pytest.raises(InputError, match="--from-year"):
        V.run_validation("baseline", seeds=1, years=3, from_year=3, out=tmp_path / "v.md")


def _growth_runs(draw) -> list[dict]:
    rng = np.random.default_rng(1)
    g = draw(rng, 4000)
    return [{"growth": g, "growth_base": np.full(len(g), 20.0),
             "growth_year": np.repeat(np.arange(8), 500)}]


def test_growth_fact_tells_a_tent_from_a_bell(tmp_path):
    lap = F.growth_fact(_growth_runs(lambda r, n: r.laplace(0, 0.1, n)), tmp_path, plt)
    gau = F.growth_fact(_growth_runs(lambda r, n: r.normal(0, 0.1, n)), tmp_path, plt)
    assert lap.passed and not gau.passed
    # micro firms (below GROWTH_MIN) are left out: a Laplace sample of micro firms only fails
    runs = _growth_runs(lambda r, n: r.laplace(0, 0.1, n))
    runs[0]["growth_base"][:] = 1.0
    assert not F.growth_fact(runs, tmp_path, plt).passed


def test_pareto_alpha_recovers_a_known_tail():
    rng = np.random.default_rng(2)
    sizes = np.floor((1 - rng.random(200_000)) ** (-1 / 1.2)).astype(int)  # as model.py draws
    alpha, n = F.pareto_alpha(sizes, 10)
    assert n > 10_000 and alpha == pytest.approx(1.2, abs=0.04)
    assert F.pareto_alpha(sizes, 1)[0] == pytest.approx(1.2, abs=0.02)
    assert math.isnan(F.pareto_alpha(np.ones(5, int), 10)[0])


def _obs(birth, death, t_end=40, spy=4) -> Observation:
    n = len(birth)
    yearly = {f.name: np.zeros((1, 1)) for f in dataclasses.fields(Observation)
              if f.name not in ("region_ids", "countries", "stages", "steps_per_year", "t_end",
                                "extra") and not f.name.startswith("log_")}
    return Observation(("r",), ("XX",), ("early",), spy, t_end, **yearly,
                       log_uid=np.arange(n), log_region=np.zeros(n, int),
                       log_cluster=np.zeros(n, int), log_birth=np.asarray(birth),
                       log_death=np.asarray(death), log_size_birth=np.ones(n, int))


def test_exit_hazard_counts_deaths_over_years_at_risk():
    # Five firms born at step 0 (4 steps a year): deaths at ages 0.5, 1.5 and 1.75 years and at
    # step 4, in the exits of phase 4 that come before that step's births, so before the firm's
    # first birthday (year 0); one survives to the end (10 years). An initial firm aged 2 enters
    # at age 2 and dies at 3.5.
    obs = _obs([0, 0, 0, 0, -8, 0], [2, 6, 7, -1, 6, 4])
    deaths, expo = F.exit_hazard(obs, max_age=3)
    np.testing.assert_allclose(deaths, [2, 2, 0, 1])
    # age 0-1: 0.5 + 1 + 1 + 1 + 1; age 1-2: 0.5 + 0.75 + 1; age 2-3: 1 (survivor) + 1 (initial);
    # age 3+: 7 (survivor) + 0.5 (initial)
    np.testing.assert_allclose(expo, [4.5, 2.25, 2.0, 7.5])


def test_a_firm_leaving_a_year_of_steps_after_its_birth_did_not_survive_the_year():
    """Exits precede births within a step, so a death ``spy`` steps after the birth step comes
    before the first birthday: 1-year survival counts it as dead (validation and the KPI alike)."""
    from cluster_abm.analysis.validation.targets import cohort_survival
    from cluster_abm.outputs.metrics import _cohort_survival

    obs = _obs([0, 0, 0, 0], [4, 5, 3, -1])
    assert cohort_survival(obs, np.array([0]), 0, 1) == pytest.approx(0.5)
    log = pd.DataFrame({"birth_step": obs.log_birth, "death_step": obs.log_death})
    assert _cohort_survival(log, 1, 4, 40) == pytest.approx(0.5)
    counts = F.cluster_survival_counts(obs, 0, 1)
    assert counts[0].tolist() == [4, 2]


def test_hazard_fact_fails_when_old_firms_die_more(tmp_path):
    targets = {}
    young_die = _obs([0] * 20, [2] * 10 + [-1] * 10)  # half die in their first year
    old_die = _obs([0] * 20, [36] * 10 + [-1] * 10)  # half die at age 9
    assert F.hazard_fact([{"obs": young_die}], targets, tmp_path, plt).passed
    assert not F.hazard_fact([{"obs": old_die}], targets, tmp_path, plt).passed


def test_the_cluster_premia_compare_firms_of_the_same_market(tmp_path):
    """In each of two markets (region x sector) cluster firms survive and grow as much as outside
    ones, but the market with more cluster firms is the better one: pooled, clusters look far
    better (odds ratio (0.56 / 0.44)^2 = 1.62); within markets there is no premium (Mantel-Haenszel
    1.0)."""
    n = 400
    region = np.r_[np.zeros(200, int), np.ones(200, int)]
    inside = np.r_[np.arange(200) < 160, np.arange(200) < 40]  # market 0: 80 % in clusters
    alive = np.r_[np.arange(200) % 10 < 6, np.arange(200) % 10 < 4]  # 60 % and 40 % survive
    death = np.where(alive, -1, 30)
    obs = dataclasses.replace(_obs(np.zeros(n, int) + 20, death, t_end=80),
                              log_region=region, log_cluster=np.where(inside, 0, -1),
                              log_sector=np.zeros(n, int))
    strata = F.cluster_survival_strata(obs, 5, 5)
    assert strata.shape == (2, 2, 2)
    assert F.mantel_haenszel_odds_ratio(strata) == pytest.approx(1.0)
    pooled = F.cluster_survival_counts(obs, 5, 5)
    p_in, p_out = pooled[:, 1] / pooled[:, 0]
    assert F._odds_ratio(p_in, p_out) == pytest.approx((0.56 / 0.44) ** 2)
    growth = np.where(region == 0, 0.05, -0.05)
    assert F._stratified_difference(growth, inside, region) == pytest.approx(0.0)
    assert growth[inside].mean() - growth[~inside].mean() == pytest.approx(0.06)
