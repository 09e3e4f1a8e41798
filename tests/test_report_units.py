"""The report's words and numbers: labels for every outcome, units that say "per year" for yearly
sums, numbers for people without scientific notation, numbers for spreadsheets without loss,
relative changes only where they mean something, missing values explained."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest

from cluster_abm.outputs.metrics import KPI_LABELS, KPIS, SERIES, SERIES_LABELS
from cluster_abm.reports import labels, numbers
from cluster_abm.reports.workbook import write_csv
from cluster_abm.reports.yearly import discount_factors, policy_year, yearly


def test_every_series_and_kpi_has_a_human_label():
    assert not [s for s in SERIES if s not in SERIES_LABELS]
    assert not [k for k in KPIS if k not in KPI_LABELS]
    assert SERIES["public_spent_total"].label == "All public money"
    assert KPIS["public_spent_total"].label == "All public money over the run"
    assert SERIES["employment_real"].label == "Employment"


@pytest.mark.parametrize("unit, words", [
    ("count/step", "per year"), ("k€/step (real region)", "€ per year"),
    ("persons/step (real region)", "persons per year"), ("persons (real region)", "persons"),
    ("t CO2e per k€", "t CO2e per €1,000 of revenue"), ("count/yr", "per year"),
])
def test_units_in_words_say_per_year_for_yearly_sums(unit, words):
    assert labels.unit_words(unit) == words
    assert "step" not in labels.unit_words(unit)


@pytest.mark.parametrize("x, text", [
    (0, "0"), (1234567, "1,230,000"), (12345.6, "12,300"), (456.2, "456"), (45.66, "45.7"),
    (7.844, "7.84"), (0.0345, "0.0345"), (0.000012345, "0.0000123"), (-2.5, "-2.5"),
    (float("nan"), numbers.MISSING), (None, numbers.MISSING),
])
def test_numbers_for_people(x, text):
    assert numbers.num(x) == text


def test_money_percent_and_points_for_people():
    nb = numbers.NBSP
    assert numbers.money(12345) == f"€12.3{nb}million"
    assert numbers.money(456) == f"€456{nb}thousand"
    assert numbers.money(3.2e6, signed=True) == f"+€3.2{nb}billion"
    assert numbers.money(-2500) == f"-€2.5{nb}million"
    assert numbers.money(1e-12) == "€0"
    assert numbers.percent(0.1234) == f"12.3{nb}%"
    assert numbers.points(-0.0123) == f"-1.23{nb}pp"
    assert numbers.interval(-12.3, 45.6, signed=True) == "-12.3 to +45.6"


def test_no_scientific_notation_for_any_magnitude():
    sci = re.compile(r"\d[eE][+-]?\d")
    for x in 10.0 ** np.arange(-12, 16) * 1.2345:
        for text in (numbers.num(x), numbers.num(-x, signed=True), numbers.money(x),
                     numbers.plain(x), numbers.plain(-x)):
            assert not sci.search(text), text
    assert numbers.plain(1.2e-05) == "0.000012"
    assert float(numbers.plain(0.1 + 0.2)) == 0.1 + 0.2  # every digit kept
    assert numbers.plain(float("nan")) == ""


def test_csv_has_a_bom_and_positional_numbers(tmp_path):
    path = tmp_path / "t.csv"
    write_csv(pd.DataFrame({"region": ["Észak-Alföld"], "value": [1.2e-05], "big": [3.2e9],
                            "missing": [math.nan]}), path)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert raw.decode("utf-8-sig").splitlines()[1] == "Észak-Alföld,0.000012,3200000000,"


def test_relative_changes_only_against_a_positive_level():
    assert labels.relative_meaningful("employment_final_real", 1000.0)
    assert not labels.relative_meaningful("employment_final_real", 0.0)
    assert not labels.relative_meaningful("jobs_net_real", 500.0)  # a change
    assert not labels.relative_meaningful("unemployment_final", 0.1)  # a share: in points
    assert not labels.relative_meaningful("cmo_excellence_final", 0.5)  # an index
    assert not labels.relative_meaningful("innovations_per_year", math.nan)


def test_a_missing_value_says_what_it_means_and_what_to_read_instead():
    why = labels.why_missing("incubated_survival_3y", 20, base_missing=True, package_missing=False)
    assert "baseline runs no incubators" in why
    assert labels.fallback("incubated_survival_3y") == "incubator_cluster_survival_2y"
    assert "3-year run" in labels.why_missing("survival_5y", 3, True, True)
    assert "enterprises" in labels.why_missing("employment_final_real", 20, True, True)


def test_years_flows_are_summed_and_stocks_averaged_whatever_the_cadence():
    spy = 4
    steps = np.arange(0, 9)  # quarterly, 2 years
    rows = [{"arm": "a", "seed": 1, "step": s, "region": "ALL", "metric": m, "value": v}
            for s in steps for m, v in (("innovations", float(s)), ("employment", 10.0 * s))]
    quarterly = yearly(pd.DataFrame(rows), spy)
    inn = quarterly[quarterly["metric"] == "innovations"].set_index("year")["value"]
    emp = quarterly[quarterly["metric"] == "employment"].set_index("year")["value"]
    assert inn.to_dict() == {0: 1 + 2 + 3 + 4, 1: 5 + 6 + 7 + 8}
    assert emp.to_dict() == {0: 25.0, 1: 65.0}
    # yearly cadence: flows already summed over the year, stocks at its end
    rows = [{"arm": "a", "seed": 1, "step": s, "region": "ALL", "metric": m, "value": v}
            for s in (0, 4, 8) for m, v in (("innovations", {0: 0, 4: 10, 8: 26}[s]),
                                            ("employment", 10.0 * s))]
    annual = yearly(pd.DataFrame(rows), spy)
    assert annual[annual["metric"] == "innovations"]["value"].tolist() == [10, 26]
    assert list(policy_year(np.array([0, 1, 4, 5, 8]), spy)) == [-1, 0, 0, 1, 1]
    assert discount_factors(np.array([0, 1, 2]), 0.03).tolist() == pytest.approx(
        [1.0, 1 / 1.03, 1 / 1.03 ** 2])
