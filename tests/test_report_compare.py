"""`cluster-abm compare` end to end at a reduced size (three packages x 3 replicates x 3 years, a
small world with a short spin-up): the HTML report a steering committee reads, checked by parsing
it, and the Excel workbook and CSV files beside it."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pandas as pd
import pytest

from cluster_abm.cli.main import main

EXPERIMENT = """
name = "mini"
description = "Incubators and new-venture finance, and SME networks, against the baseline."
scenarios = ["baseline", "new_ventures", "sme_networks"]
baseline = "baseline"
replicates = 3
seed = 5
years = 3

[params]
"sim.n_firms" = 300
"sim.spinup_years" = 2

[outputs]
series_every = 4

[execution]
executor = "serial"
"""
SCIENTIFIC = re.compile(r"\d(?:\.\d+)?[eE][+-]?\d")


class Page(HTMLParser):
    """The visible text of a page (no style, no image data), and its tables by data-table name."""

    def __init__(self):
        super().__init__()
        self.text: list[str] = []
        self.tables: dict[str, list[list[str]]] = {}
        self._skip = False
        self._table = None
        self._row = None
        self._cell = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("style", "script"):
            self._skip = True
        elif tag == "table":
            self._table = a.get("data-table")
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("style", "script"):
            self._skip = False
        elif tag in ("td", "th") and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._skip:
            return
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("compare")
    exp = tmp / "mini.toml"
    exp.write_text(EXPERIMENT)
    code = main(["compare", str(exp), "--results", str(tmp / "res"), "--quiet"])
    assert code == 0
    out = tmp / "res" / "mini" / "report"
    page = Page()
    page.feed((out / "report.html").read_text(encoding="utf-8"))
    return {"dir": out, "page": page, "text": " ".join(page.text), "exp": exp, "res": tmp / "res"}


def test_the_report_has_a_table_and_a_figure_per_region(report):
    tables = report["page"].tables
    regions = [t for t in tables if t.startswith("region_")]
    assert {"region_north_east_romania", "region_veneto"} <= set(regions)
    for name in regions:
        header, *rows = tables[name]
        assert "effect" in header and rows, name
        assert any("Jobs in the last year" in r[1] for r in rows)
    html = (report["dir"] / "report.html").read_text(encoding="utf-8")
    assert html.count("data:image/png;base64,") >= 9 + len(regions)
    assert (report["dir"] / "figures" / "region_north_east_romania_jobs.png").is_file()


def test_tables_fit_the_page(report):
    """At most nine columns a table and no unbreakable run of text over 40 characters, so every
    table wraps within the page's 1,100 px and nothing overflows a 1,400 px window."""
    for name, (header, *rows) in report["page"].tables.items():
        assert len(header) <= 9, name
        for row in rows:
            assert all(len(word) <= 40 for cell in row for word in cell.split()), (name, row)


def test_the_report_shows_per_lever_spending_against_its_cap(report):
    header, *rows = report["page"].tables["lever_spending"]
    assert header[:2] == ["package", "lever"] and "share of cap spent" in header
    assert "by region (share of its cap)" in header
    levers = " ".join(r[1] for r in rows)
    for name in ("Networked start-up incubators", "New-venture finance",
                 "Business network contracts", "Network-contract credit lines"):
        assert name in levers
    data = pd.read_csv(report["dir"] / "lever_spending.csv")
    total = data[data["region"] == "ALL"]
    assert (total["spent"] >= 0).all() and (total["spent"] > 0).any()
    assert ((data["share_of_cap"].dropna() >= 0) & (data["share_of_cap"].dropna() <= 1 + 1e-9)).all()
    # the money adds up: what the levers spent is the packages' lever spending over the run
    kpis = pd.read_csv(report["dir"] / "all_kpis.csv")
    spent = kpis[kpis["kpi"] == "public_cost_total"].set_index("arm")["package_mean"]
    by_arm = total.groupby("arm")["spent"].sum()
    assert set(by_arm.index) == {"new_ventures", "sme_networks"}
    for arm, value in by_arm.items():
        assert value == pytest.approx(spent[arm], rel=1e-9)


def test_cost_per_job_has_an_interval_or_says_why_not(report):
    header, *rows = report["page"].tables["cost_per_result"]
    jobs = [r for r in rows if r[1].startswith("extra job in the last year")]
    assert len(jobs) == 2  # one per package
    for r in jobs:
        cell = r[-1]
        has_interval = re.match(r"[-+]?€[\d,.]+", cell) and "(95 % CI" in cell
        assert has_interval or cell.startswith("No cost per job"), cell
    for what in ("job-year", "innovation", "avoided skilled emigrant"):
        assert any(what in r[1] for r in rows), what
    data = pd.read_csv(report["dir"] / "cost_per_result.csv")
    assert set(data["result"]) == {"job", "job_year", "innovation", "avoided_emigrant"}
    none = data[data["cost_per_result"].isna()]
    assert none["note"].str.startswith("No cost per").all()


def test_no_nan_and_no_scientific_notation_anywhere_people_read(report):
    text = report["text"]
    assert not re.search(r"\bnan\b", text, re.I), "a missing value says what it means"
    assert not re.search(r"\binf\b", text, re.I)
    assert not SCIENTIFIC.search(text), SCIENTIFIC.search(text)
    assert "per step" not in text
    # a value that is not defined says why and what to read instead
    assert "not defined" in text and "read instead" in text


def test_headline_effects_state_the_smallest_detectable_effect(report):
    header, *rows = report["page"].tables["headline_effects"]
    assert "smallest detectable" in header
    col = header.index("smallest detectable")
    jobs = [r for r in rows if r[1] == "Jobs in the last year"]
    assert jobs and all(r[col] for r in jobs)
    data = pd.read_csv(report["dir"] / "headline_effects.csv")
    assert {"mde", "sd_of_pairs", "ci_low", "ci_high"} <= set(data.columns)
    # relative changes only against a positive level: never for shares or net changes
    assert data.loc[data["unit"] == "share", "relative_effect"].isna().all()
    assert data.loc[data["kpi"] == "jobs_net_real", "relative_effect"].isna().all()


def test_the_workbook_opens_and_holds_every_table_of_the_report(report):
    from openpyxl import load_workbook

    wb = load_workbook(report["dir"] / "report.xlsx", read_only=True)
    sheets = set(wb.sheetnames)
    assert {"about", "columns"} <= sheets
    for name in report["page"].tables:
        assert name in sheets, f"table {name} has no sheet"
    columns = pd.read_excel(report["dir"] / "report.xlsx", sheet_name="columns")
    for name in report["page"].tables:
        sheet = pd.read_excel(report["dir"] / "report.xlsx", sheet_name=name)
        documented = set(columns.loc[columns["sheet"] == name, "column"])
        assert set(sheet.columns) == documented, name
    wb.close()


def test_csv_files_open_in_spreadsheet_programs(report):
    for path in report["dir"].glob("*.csv"):
        raw = path.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf"), f"{path.name}: UTF-8 with a byte-order mark"
        assert not SCIENTIFIC.search(raw.decode("utf-8-sig")), path.name
        pd.read_csv(path, encoding="utf-8-sig")


def test_a_second_compare_resumes_and_rewrites_the_report(report, capsys):
    assert main(["compare", str(report["exp"]), "--results", str(report["res"])]) == 0
    out = capsys.readouterr().out
    assert "9 already stored" in out and "0 done" in out


def test_every_lever_shows_its_own_outcome_or_why_it_has_none(report):
    header, *rows = report["page"].tables["direct_outcomes"]
    levers = {r[1]: r for r in rows}
    assert {"Networked start-up incubators", "New-venture finance", "Business network contracts",
            "Inter-firm and intra-cluster cooperation across regions"} <= set(levers)
    incubators = levers["Networked start-up incubators"]  # its outcome: partners of new ventures
    assert incubators[2] == "Partners per new venture in the last year"
    effect = incubators[header.index("effect (CI)")]
    assert re.match(r"[-+]?\d", effect) or effect.startswith("not defined"), effect
