"""Bring your own region (issue 17, item 4): ``cluster-abm region build|check`` turns a file of a
region's published statistics into a scenario that checks and runs; every bad input is one line
naming the file and the key, never a traceback."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pytest

from cluster_abm.cli import main as cli
from cluster_abm.errors import InputError
from cluster_abm.model.cluster_model import ClusterModel
from cluster_abm.specs.region_stats import build_regions, read_stats
from cluster_abm.specs.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
TUTORIAL_STATS = ROOT / "cluster_abm" / "data" / "regions" / "central_macedonia.csv"
SMALL = {"sim.n_firms": 420, "sim.spinup_years": 1}


def _build(tmp_path, *extra: str, stats: Path = TUTORIAL_STATS, name: str = "cm.toml") -> Path:
    out = tmp_path / name
    assert cli.main(["region", "build", str(stats), "--out", str(out), *extra]) == 0
    return out


def _rows(path: Path = TUTORIAL_STATS) -> tuple[str, list[dict]]:
    text = path.read_text()
    body = "\n".join(ln for ln in text.splitlines() if not ln.startswith("#"))
    reader = csv.DictReader(io.StringIO(body))
    return ",".join(reader.fieldnames), list(reader)


def _write_rows(path: Path, header: str, rows: list[dict]) -> Path:
    cols = header.split(",")
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(cols)
    for r in rows:
        w.writerow([r.get(c, "") for c in cols])
    path.write_text(buf.getvalue())
    return path


def test_tutorial_statistics_build_a_scenario_that_checks_and_runs(tmp_path, capsys):
    out = _build(tmp_path)
    printed = capsys.readouterr().out
    assert f"wrote {out}" in printed and "note: central_macedonia: cluster fashion" in printed
    assert cli.main(["scenario", "check", str(out)]) == 0
    assert "OK: cm (7 regions, 15 clusters" in capsys.readouterr().out

    sc = load_scenario(out)
    base = load_scenario("baseline")
    assert sc.region_ids == base.region_ids + ["central_macedonia"]
    cm = sc.regions[-1]
    assert cm["enterprises"] == 120920 and cm["unemployment"] == pytest.approx(0.138)
    assert [cm[f"enterprises_{c}"] for c in ("micro", "small", "medium", "large")] == [117007, 3367, 442, 104]
    assert cm["cluster_budget"] == pytest.approx(18161.2)  # 127.1 M EUR ROP TO1+TO3 / 7 years
    assert cm["rd_intensity"] == pytest.approx(0.0112 * 0.459, rel=1e-3)
    assert cm["wage_skilled"] == pytest.approx(22.0 * 1.227, rel=1e-3)  # peer x labour-cost index
    assert [(c["sector"], c["cmo"]) for c in cm["clusters"]] == [("fashion", False), ("agrifood", True)]
    assert cm["clusters"][1]["firm_share"] == pytest.approx(2768 / 120920, rel=1e-3)
    # A model firm stands for as many enterprises as in the baseline, pooled; its regions keep
    # their model firms (sim.n_firms grows by the new region's weight).
    per_enterprise = sum(r["firm_share"] for r in base.regions) / sum(r["enterprises"] for r in base.regions)
    assert cm["firm_share"] == pytest.approx(120920 * per_enterprise, rel=1e-3)
    assert sc.param("sim.n_firms") == round(2000 * (1 + cm["firm_share"]))
    assert sc.sectors == base.sectors  # the rest is the parent's
    assert sc.params == base.params | {"sim.n_firms": sc.param("sim.n_firms")}

    m = ClusterModel(sc, seed=3, params=SMALL, spinup_cache=None)
    m.run(1)
    wide = m.series_wide()
    assert wide["firms"][-1, 6] > 0 and wide["employment"][-1, 6] > 0
    assert wide["firms_real"][0, 6] == pytest.approx(120920)  # real-region units from the file


def test_the_parent_regions_keep_their_model_firms(tmp_path):
    out = _build(tmp_path)
    built = ClusterModel(out, seed=1, params={"sim.spinup_years": 0}, spinup_cache=None)
    base = ClusterModel("baseline", seed=1, params={"sim.spinup_years": 0}, spinup_cache=None)
    counts = np.bincount(built.firms.region[built.firms.idx])
    base_counts = np.bincount(base.firms.region[base.firms.idx])
    assert np.abs(counts[:6] - base_counts).max() <= 1
    assert counts[6] == pytest.approx(2000 * 0.1782, abs=2)


def test_replace_builds_a_world_of_the_files_regions_only(tmp_path, capsys):
    out = _build(tmp_path, "--replace")
    sc = load_scenario(out)
    assert sc.region_ids == ["central_macedonia"]
    assert sc.regions[0]["firm_share"] == 1.0 and sc.param("sim.n_firms") == 2000
    assert "[[regions]]" in out.read_text() and "regions_add" not in out.read_text()
    m = ClusterModel(sc, seed=1, params={"sim.n_firms": 200, "sim.spinup_years": 1}, spinup_cache=None)
    m.run(1)
    assert m.series_wide()["firms"][-1, 0] > 0


def test_check_prints_every_field_and_its_origin_and_writes_nothing(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["region", "check", str(TUTORIAL_STATS)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"OK: {TUTORIAL_STATS} (1 region, 29 figures)")
    assert "knowledge_level        0.9" in out and "peer central_transdanubia" in out
    assert "sim.n_firms 2,000 -> 2,356" in out
    assert not (tmp_path / "scenarios").exists()


def test_a_toml_statistics_file_gives_the_same_region_as_the_csv(tmp_path):
    """The TOML form (``[regions.<id>]`` tables, categories as sub-tables) reads to the same
    figures as the CSV."""
    _, rows = _rows()
    lines = ["[regions.central_macedonia]"]
    tables: dict[str, list[str]] = {}
    for r in rows:
        v = r["value"]
        try:
            val = repr(float(v)) if "." in v or "e" in v else str(int(v))
        except ValueError:
            val = f'"{v}"'
        src = r["source"].replace('"', "'")
        if r["category"]:
            tables.setdefault(r["statistic"], []).append(
                f'"{r["category"]}" = {{ value = {val}, source = "{src}", year = "{r["year"]}" }}')
        elif r["source"]:
            lines.append(f'{r["statistic"]} = {{ value = {val}, source = "{src}", year = "{r["year"]}" }}')
        else:
            lines.append(f"{r['statistic']} = {val}")
    for stat, items in tables.items():
        lines += [f"[regions.central_macedonia.{stat}]", *items]
    toml = tmp_path / "cm.toml"
    toml.write_text("\n".join(lines) + "\n")
    base = load_scenario("baseline")
    sectors = [s["id"] for s in base.sectors]
    from_toml = build_regions(read_stats(toml, sectors), base, False).regions[0].table
    from_csv = build_regions(read_stats(TUTORIAL_STATS, sectors), base, False).regions[0].table
    assert from_toml == from_csv


def test_formulas_for_labour_cost_graduates_and_missing_budget(tmp_path):
    """labour_cost_per_employee splits into two wages by the skilled share and the premium;
    graduates without universities give the universities that add them; without a budget the
    peer's is scaled by enterprises (and said so)."""
    header, rows = _rows()
    drop = {"labour_cost_index", "universities", "rd_innovation_support_eur"}
    rows = [r for r in rows if r["statistic"] not in drop]
    add = [("labour_cost_per_employee", "24000"), ("skill_premium", "1.5"), ("graduates", "12000"),
           ("employment", "700000")]
    rows += [{"region": "central_macedonia", "statistic": s, "category": "", "value": v, "source": "test"}
             for s, v in add]
    path = _write_rows(tmp_path / "f.csv", header, rows)
    base = load_scenario("baseline")
    m = build_regions(read_stats(path, [s["id"] for s in base.sectors]), base, False).regions[0]
    wu = 24.0 / (0.256 * 1.5 + 1 - 0.256)
    assert m.table["wage_unskilled"] == pytest.approx(wu, rel=1e-3)
    assert m.table["wage_skilled"] == pytest.approx(1.5 * wu, rel=1e-3)
    cohort = 700000 / (1 - 0.138) * base.param("labour.cohort_rate")
    assert m.table["universities"] == round(12000 / (cohort * base.param("ki.graduates_per_university")))
    peer = base.regions[base.region_ids.index("central_transdanubia")]
    assert m.table["cluster_budget"] == pytest.approx(peer["cluster_budget"] * 120920 / peer["enterprises"], rel=1e-3)
    assert any("no rd_innovation_support_eur" in n for n in m.notes)


def test_scenario_files_can_append_regions_and_a_child_can_patch_them(tmp_path, capsys):
    out = _build(tmp_path)
    child = tmp_path / "child.toml"
    child.write_text(f'extends = "{out.name}"\n[regions_patch.central_macedonia]\ncmo_competence = 0.7\n')
    sc = load_scenario(child)
    assert sc.regions[-1]["id"] == "central_macedonia" and sc.regions[-1]["cmo_competence"] == 0.7
    # The tutorial's policy package (docs/regional_tutorial.md, section 6) targets the new region.
    package = tmp_path / "cm_skills.toml"
    package.write_text(f'extends = "{out.name}"\n[levers.managerial_training]\nregions = ["central_macedonia"]\n'
                       '[levers.cluster_manager_training]\nclusters = ["central_macedonia.agrifood"]\n')
    levers = load_scenario(package).levers
    assert levers["managerial_training"].regions == ("central_macedonia",)
    assert levers["cluster_manager_training"].clusters == ("central_macedonia.agrifood",)
    again = tmp_path / "again.toml"
    again.write_text(f'extends = "{out.name}"\n[[regions_add]]\nid = "veneto"\nname = "x"\ncountry = "IT"\n'
                     'stage = "early"\nfirm_share = 0.1\nwage_skilled = 10.0\nwage_unskilled = 5.0\n'
                     'unemployment = 0.1\n')
    with pytest.raises(InputError, match=r"again.toml: regions_add\[0\].id: region 'veneto' exists"):
        load_scenario(again)


# --- bad input: one line naming the file and the key, status 2, no traceback -------------------
def _edit(rows: list[dict], stat: str, cat: str = "", **changes) -> list[dict]:
    out = []
    for r in rows:
        if r["statistic"] == stat and r["category"] == cat:
            if changes.get("drop"):
                continue
            r = {**r, **{k: v for k, v in changes.items() if k != "drop"}}
        out.append(r)
    return out


def _bad_csv(tmp_path: Path, problem: str) -> tuple[Path, str, str]:
    """(file, key the message must name, words it must contain) for one bad input."""
    header, rows = _rows()
    path = tmp_path / "stats.csv"
    if problem == "missing column":
        header = header.replace(",source", "")
        return _write_rows(path, header, rows), "source", "missing column"
    if problem == "unknown column":
        return _write_rows(path, header.replace("note", "notes"), rows), "notes", "did you mean 'note'"
    if problem == "negative count":
        return (_write_rows(path, header, _edit(rows, "enterprises", "10-49", value="-3367")),
                "central_macedonia.enterprises[10-49]", "count of 0 or more")
    if problem == "share above 1":
        return (_write_rows(path, header, _edit(rows, "unemployment_rate", value="13.8")),
                "central_macedonia.unemployment_rate", "write 0.138 for 13.8 %")
    if problem == "sectors do not add up":
        return (_write_rows(path, header, _edit(rows, "enterprises_by_sector", "other", drop=True)),
                "central_macedonia.enterprises_by_sector", "do not add up")
    if problem == "size total does not add up":
        return (_write_rows(path, header, _edit(rows, "enterprises", "total", value="150000")),
                "central_macedonia.enterprises[total]", "add up to 120,920")
    if problem == "unknown sector":
        return (_write_rows(path, header, _edit(rows, "cluster_enterprises", "fashion", category="textiles")),
                "central_macedonia.cluster_enterprises[textiles]", "unknown sector 'textiles'")
    if problem == "unknown statistic":
        return (_write_rows(path, header, _edit(rows, "unemployment_rate", statistic="unemployment")),
                "central_macedonia.unemployment)", "'unemployment_rate'")
    if problem == "not a number":
        return (_write_rows(path, header, _edit(rows, "enterprises", "0-9", value="117.007,5")),
                "central_macedonia.enterprises[0-9]", "no thousands separators")
    if problem == "missing source":
        return (_write_rows(path, header, _edit(rows, "gerd_share_gdp", source="")),
                "central_macedonia.gerd_share_gdp", "needs a source")
    if problem == "missing statistic":
        return (_write_rows(path, header, _edit(rows, "unemployment_rate", drop=True)),
                "central_macedonia.unemployment_rate", "missing statistic")
    if problem == "missing size class":
        return (_write_rows(path, header, _edit(rows, "enterprises", "250+", drop=True)),
                "central_macedonia.enterprises[250+]", "missing size class")
    if problem == "cluster without organisation":
        return (_write_rows(path, header, _edit(rows, "cluster_organisation", "fashion", drop=True)),
                "central_macedonia.cluster_enterprises[fashion]", "cluster_organisation[fashion]")
    if problem == "cluster larger than its sector":
        return (_write_rows(path, header, _edit(rows, "cluster_enterprises", "fashion", value="5000")),
                "central_macedonia.cluster_enterprises[fashion]", "more than its sector")
    if problem == "given twice":
        return (_write_rows(path, header, rows + [r for r in rows if r["statistic"] == "kibs"] +
                            _edit([r for r in rows if r["statistic"] == "universities"], "universities")),
                "central_macedonia.universities", "given twice")
    if problem == "bad stage":
        return (_write_rows(path, header, _edit(rows, "stage", value="emerging")),
                "central_macedonia.stage", "allowed: mature, middle, early")
    if problem == "region in the parent":
        return (_write_rows(path, header, [{**r, "region": "veneto"} for r in rows]),
                "veneto.name", "in the parent scenario")
    if problem == "field and its statistic":
        extra = {"region": "central_macedonia", "statistic": "skilled_share", "category": "",
                 "value": "0.3", "source": "assumption"}
        return (_write_rows(path, header, rows + [extra]), "central_macedonia.skilled_share",
                "give either skilled_share or tertiary_share")
    if problem == "outside the model's bounds":
        return (_write_rows(path, header, _edit(rows, "labour_cost_index", value="9.5")),
                "central_macedonia.labour_cost_index", "gives wage_skilled = 209")
    if problem == "ragged row":
        path.write_text(f"{header}\ncentral_macedonia,name,,x,,,src\n")
        return path, "row 2", "has 7 fields, the header 8"
    if problem == "malformed CSV":
        path.write_text(f'{header}\ncentral_macedonia,name,,"x,,,,src\n')
        return path, "", "malformed CSV"
    if problem == "empty file":
        path.write_text("# only a comment\n\n")
        return path, "", "is empty"
    if problem == "not UTF-8":
        path.write_bytes(b"region,statistic,category,value,source\ncm,name,,Thessalon\xedki,x\n")
        return path, "", "not UTF-8"
    if problem == "missing file":
        return tmp_path / "nowhere.csv", "", "file not found"
    if problem == "a folder":
        (tmp_path / "dir.csv").mkdir()
        return tmp_path / "dir.csv", "", "is a folder"
    if problem == "wrong kind of file":
        p = tmp_path / "stats.xlsx"
        p.write_text("x")
        return p, "", "must be a .csv or .toml"
    if problem == "malformed TOML":
        p = tmp_path / "stats.toml"
        p.write_text("[regions.cm\nname = 1\n")
        return p, "", "malformed TOML"
    if problem == "TOML negative count":
        p = tmp_path / "stats.toml"
        p.write_text('[regions.cm.enterprises]\nsource = "x"\n"0-9" = -1\n')
        return p, "regions.cm.enterprises.0-9", "count of 0 or more"
    if problem == "TOML unknown key":
        p = tmp_path / "stats.toml"
        p.write_text('title = "x"\n[regions.cm]\nname = "x"\n')
        return p, "title", "unknown key"
    if problem == "TOML figure without source":
        p = tmp_path / "stats.toml"
        p.write_text("[regions.cm]\nunemployment_rate = 0.1\n")
        return p, "regions.cm.unemployment_rate", "needs a source"
    raise AssertionError(problem)


BAD = ["missing column", "unknown column", "negative count", "share above 1", "sectors do not add up",
       "size total does not add up", "unknown sector", "unknown statistic", "not a number",
       "missing source", "missing statistic", "missing size class", "cluster without organisation",
       "cluster larger than its sector", "given twice", "bad stage", "region in the parent",
       "field and its statistic", "outside the model's bounds", "TOML unknown key",
       "ragged row", "malformed CSV", "empty file", "not UTF-8", "missing file", "a folder",
       "wrong kind of file", "malformed TOML", "TOML negative count", "TOML figure without source"]


@pytest.mark.parametrize("action", ["build", "check"])
@pytest.mark.parametrize("problem", BAD)
def test_bad_statistics_are_one_line_naming_file_and_key(tmp_path, capsys, monkeypatch, problem, action):
    monkeypatch.chdir(tmp_path)
    path, key, words = _bad_csv(tmp_path, problem)
    argv = ["region", action, str(path)] + (["--out", str(tmp_path / "out.toml")] if action == "build" else [])
    assert cli.main(argv) == 2
    out, err = capsys.readouterr()
    assert err.count("\n") == 1 and err.startswith(f"cluster-abm region: error: {path}: "), err
    assert key in err and words in err, err
    assert "Traceback" not in err and out == ""
    assert not (tmp_path / "out.toml").exists() and not (tmp_path / "scenarios").exists()


def test_bad_command_line_options_are_one_line(tmp_path, capsys):
    out = _build(tmp_path)
    capsys.readouterr()
    assert cli.main(["region", "build", str(TUTORIAL_STATS), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == f"cluster-abm region: error: {out}: --out: exists already; add --force to overwrite it\n"
    assert cli.main(["region", "build", str(TUTORIAL_STATS), "--out", str(tmp_path / "x.txt")]) == 2
    assert "--out: must end in .toml" in capsys.readouterr().err
    assert cli.main(["region", "check", str(TUTORIAL_STATS), "--extends", "baselin"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("cluster-abm region: error: --extends: unknown scenario 'baselin'") and err.count("\n") == 1


def test_help_describes_the_command(capsys):
    with pytest.raises(SystemExit):
        cli.main(["region", "build", "--help"])
    text = capsys.readouterr().out
    assert "--extends" in text and "--replace" in text and "docs/regional_tutorial.md" in text
    assert "enterprises_by_sector" in text and "rd_innovation_support_eur" in text
