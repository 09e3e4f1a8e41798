"""The regional study of docs/regional_study.md (experiments/regional_study.toml) at a reduced size:
its three 10 M€ programmes for North-East Romania run, spend within their budgets, and the report
a steering committee reads has a regional table, per-lever spending, cost per job with an interval
or a plain statement of why there is none, no "nan" and no number in scientific notation."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from cluster_abm.cli.main import main
from tests.test_report_compare import SCIENTIFIC, Page

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("ner_start_ups", "ner_networks", "ner_skills")


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    """The shipped experiment with 3 replicates of 5 years at 400 model firms, a 3-year spin-up."""
    tmp = tmp_path_factory.mktemp("study")
    spec = tomllib.loads((ROOT / "experiments" / "regional_study.toml").read_text(encoding="utf-8"))
    assert spec["scenarios"] == ["ner_baseline", *PACKAGES] and spec["replicates"] >= 20
    text = (ROOT / "experiments" / "regional_study.toml").read_text(encoding="utf-8")
    text = re.sub(r"(?m)^replicates = \d+", "replicates = 3", text)
    text = re.sub(r"(?m)^years = \d+", "years = 5", text)
    text = text.replace('executor = "processes"', 'executor = "serial"')
    text += '\n[params]\n"sim.n_firms" = 400\n"sim.spinup_years" = 3\n'
    exp = tmp / "regional_study.toml"
    exp.write_text(text, encoding="utf-8")
    assert main(["compare", str(exp), "--results", str(tmp / "res"), "--quiet"]) == 0
    out = tmp / "res" / "regional_study" / "report"
    page = Page()
    page.feed((out / "report.html").read_text(encoding="utf-8"))
    return {"page": page, "text": " ".join(page.text), "dir": out}


def test_the_report_has_the_regions_table(study):
    header, *rows = study["page"].tables["region_north_east_romania"]
    assert "effect" in header and any("Jobs in the last year" in r[1] for r in rows)


def test_each_programme_spends_within_its_ten_million(study):
    import pandas as pd

    data = pd.read_csv(study["dir"] / "lever_spending.csv")
    total = data[data["region"] == "ALL"].groupby("arm")["spent"].sum()
    assert set(total.index) == set(PACKAGES)
    assert (total <= 10_000 + 1e-6).all() and (total > 0).all(), total
    header, *rows = study["page"].tables["lever_spending"]
    levers = " ".join(r[1] for r in rows)
    assert "Networked start-up incubators" in levers and "Tax relief for returning skilled citizens" in levers


def test_cost_per_job_is_a_number_with_an_interval_or_says_why_not(study):
    header, *rows = study["page"].tables["cost_per_result"]
    jobs = [r for r in rows if r[1].startswith("extra job in the last year")]
    assert len(jobs) == len(PACKAGES)
    for r in jobs:
        cell = r[-1]
        assert (re.match(r"[-+]?€[\d,.]+", cell) and "(95 % CI" in cell) or cell.startswith("No cost per job"), cell


def test_no_nan_and_no_scientific_notation(study):
    text = study["text"]
    assert not re.search(r"\bnan\b", text, re.I)
    assert not SCIENTIFIC.search(text), SCIENTIFIC.search(text)
