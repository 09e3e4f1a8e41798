"""A region's published statistics (CSV or TOML) -> checked figures -> the region tables of a
scenario (issue 17, item 4: bring your own region).

A *statistics file* holds one figure per row (CSV) or per key (TOML), each with its source:
enterprises by size class and sector, persons employed, unemployment, labour costs, R&D,
graduates, emigration, clusters with their sizes, the public R&D and innovation support budget
in euros. :func:`read_stats` reads and checks it; :func:`map_region` turns one region's figures
into the fields of a ``[[regions]]`` table of :mod:`cluster_abm.specs.scenario` by the formulas
documented in :data:`STATISTICS` (and in ``docs/regional_tutorial.md``), and says for every field
where its value came from; :func:`build_scenario_text` writes the scenario that extends a parent
scenario (adds the regions) or replaces its regions.

Fields no published statistic covers (knowledge level, green share, CMO competence, policy
awareness, ...) come from a *peer* region of the parent scenario, by default the first one of the
same development stage (seed 2.1); the statistics file can name the peer or give such a field
directly, with its source. Nothing is filled in silently: every field's origin is written next
to it in the scenario and printed by ``cluster-abm region build``.

Every problem is an :class:`~cluster_abm.errors.InputError` of one line naming the statistics
file and the key (a CSV column, ``row 7 (central_macedonia.enterprises[10-49])``, or a TOML key
``regions.central_macedonia.enterprises.10-49``) and what is allowed.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cluster_abm.errors import InputError, closest
from cluster_abm.specs.scenario import REGION_FIELDS, SIZE_CLASS_NAMES, STAGES, Scenario
from cluster_abm.specs.toml_spec import read_toml, toml_value

SIZE_CLASSES = ("0-9", "10-49", "50-249", "250+")
OTHER_SECTOR = "other"
CSV_REQUIRED = ("region", "statistic", "category", "value", "source")
CSV_OPTIONAL = ("unit", "year", "note")
META_KEYS = ("source", "year", "unit", "note")  # of a TOML statistic table
REGION_ID = re.compile(r"^[a-z][a-z0-9_]*$")
# Relative tolerance of sums that must agree (size classes with their total, sectors with
# the size classes): published tables are rounded, and sector tables often leave out a few
# unclassified enterprises.
SUM_TOLERANCE = 0.01
SMALL_CLUSTER = 10  # model firms below which ``region build`` warns that a cluster is tiny

FIELD = {f.name: f for f in REGION_FIELDS}


@dataclass(frozen=True)
class Stat:
    """A statistic a region file may give: its kind, unit and what it becomes in the model."""

    name: str
    kind: str  # text, choice, count, share, ratio, money, flag, field
    unit: str
    doc: str
    categories: str = ""  # "", "size" (SIZE_CLASSES) or "sector" (the parent's sector ids)
    required: bool = False
    sourced: bool = True
    high: float | None = None


STATISTICS: tuple[Stat, ...] = (
    Stat("name", "text", "-", "Display name of the region (field `name`).", required=True, sourced=False),
    Stat("country", "text", "-", "ISO 3166 alpha-2 code (Eurostat's EL for Greece) (field `country`).",
         required=True, sourced=False),
    Stat("stage", "choice", "-", "Development stage of the region's clusters, mature, middle or early "
         "(seed 2.1) (field `stage`); the source says why.", required=True),
    Stat("peer", "text", "-", "A region of the parent scenario whose values the fields without a "
         "statistic take (default: the first parent region of the same stage).", sourced=False),
    Stat("enterprises", "count", "enterprises", "Active enterprises by size class (persons employed "
         "0-9, 10-49, 50-249, 250+; optional `total`). Fields `enterprises_micro` ... `enterprises_large` "
         "= the classes (each model firm stands for the enterprises of its region and class) and "
         "`enterprises` = their sum; `firm_share` "
         "= enterprises x the parent's firm_share per enterprise (extends) or the region's share of "
         "the file's enterprises (replace).", categories="size", required=True),
    Stat("persons_employed", "count", "persons", "Persons employed by size class. Field "
         "`persons_employed` = their sum, to which real-unit employment is calibrated at policy "
         "year 0 (the model draws firm sizes from init.size_pareto_alpha in every region).",
         categories="size"),
    Stat("enterprises_by_sector", "count", "enterprises", "Enterprises by sector of the parent "
         "scenario (and `other`); must add up to the size classes. Checked and used to bound the "
         "clusters (the model draws the sectors of firms outside clusters uniformly).",
         categories="sector"),
    Stat("employment", "count", "persons", "Persons employed in the region (labour force survey); "
         "used with graduates to derive universities."),
    Stat("unemployment_rate", "share", "-", "Unemployment rate (field `unemployment`).", required=True),
    Stat("labour_cost_per_employee", "money", "EUR/yr", "Yearly labour cost per employee. Fields "
         "`wage_unskilled` = mean / (s x premium + 1 - s) / 1000 and `wage_skilled` = premium x "
         "wage_unskilled (k EUR/yr), s the skilled share."),
    Stat("labour_cost_index", "ratio", "-", "Labour cost relative to the peer region's (e.g. two "
         "hourly labour costs of one Eurostat release); wages = the peer's x index.", high=10.0),
    Stat("skill_premium", "ratio", "-", "Labour cost of a skilled (tertiary) worker over an "
         "unskilled one; with labour_cost_per_employee (default: the peer's ratio).", high=5.0),
    Stat("tertiary_share", "share", "-", "Share of the labour force with tertiary education "
         "(field `skilled_share`)."),
    Stat("berd_share_gdp", "share", "-", "Business R&D expenditure over GDP (field `rd_intensity`, "
         "the baseline's convention: firms' R&D spend relative to output)."),
    Stat("gerd_share_gdp", "share", "-", "R&D expenditure of all sectors over GDP; with "
         "business_share_of_gerd, `rd_intensity` = their product."),
    Stat("business_share_of_gerd", "share", "-", "Business enterprise sector's share of R&D "
         "expenditure (with gerd_share_gdp)."),
    Stat("graduates", "count", "persons/yr", "Tertiary graduates a year. Without `universities`: "
         "universities = graduates / (entering cohort x ki.graduates_per_university), the cohort "
         "being employment / (1 - unemployment) x labour.cohort_rate; with it, "
         "a check of the model's graduate inflow."),
    Stat("emigrant_share", "share", "-", "Citizens (of working age) living in another country, "
         "share of those at home and abroad (field `diaspora`)."),
    Stat("cluster_enterprises", "count", "enterprises", "Enterprises of a cluster, by its sector; "
         "the cluster's `firm_share` = cluster enterprises / the region's enterprises.",
         categories="sector"),
    Stat("cluster_organisation", "flag", "-", "1 (true) if the cluster has a cluster management "
         "organisation, else 0 (the cluster's `cmo`); one for every cluster.", categories="sector"),
    Stat("rd_innovation_support_eur", "money", "EUR/yr", "Public R&D and innovation support to "
         "firms a year, in euros (field `cluster_budget` = value / 1000, k EUR/yr; as "
         "cluster_abm/data/public_budgets.csv). Default: the peer's, scaled by enterprises."),
    Stat("universities", "count", "count", "Universities in the region (field `universities`)."),
    Stat("research_centres", "count", "count", "Public research centres (field `research_centres`)."),
    Stat("kibs", "count", "count", "Institutional knowledge-intensive business services (field `kibs`)."),
) + tuple(
    Stat(f.name, "field", f.unit, f"Field `{f.name}` given directly (an assumption, with its "
         f"source): {f.doc}")
    for f in REGION_FIELDS
    if f.name in ("firm_share", "wage_skilled", "wage_unskilled", "skilled_share", "knowledge_level",
                  "rd_intensity", "demand_growth", "green_share", "cmo_competence", "policy_awareness",
                  "network_contract_law", "cluster_budget", "diaspora", "ki_quality")
)
BY_NAME = {s.name: s for s in STATISTICS}

# Statistics that each set a field, and the direct field they would clash with.
CLASHES = {
    "skilled_share": ("tertiary_share",),
    "rd_intensity": ("berd_share_gdp", "gerd_share_gdp"),
    "diaspora": ("emigrant_share",),
    "cluster_budget": ("rd_innovation_support_eur",),
    "wage_skilled": ("labour_cost_per_employee", "labour_cost_index"),
    "wage_unskilled": ("labour_cost_per_employee", "labour_cost_index"),
}


@dataclass(frozen=True)
class Figure:
    """One checked figure of a statistics file."""

    region: str
    statistic: str
    category: str
    value: Any
    source: str
    year: str = ""
    unit: str = ""
    note: str = ""
    where: str = ""  # the place in the file: "row 7" (CSV) or a dotted TOML key

    @property
    def label(self) -> str:
        return f"{self.statistic}[{self.category}]" if self.category else self.statistic


@dataclass
class RegionStats:
    """The figures of one region of a statistics file."""

    id: str
    source: str  # the file
    figures: dict[tuple[str, str], Figure] = field(default_factory=dict)

    def get(self, statistic: str, category: str = "") -> Figure | None:
        return self.figures.get((statistic, category))

    def value(self, statistic: str, category: str = "") -> Any:
        fig = self.get(statistic, category)
        return None if fig is None else fig.value

    def by_category(self, statistic: str) -> dict[str, Figure]:
        return {c: f for (s, c), f in self.figures.items() if s == statistic and c}

    def has(self, statistic: str) -> bool:
        return any(s == statistic for s, _ in self.figures)

    def key(self, statistic: str, category: str = "") -> str:
        """The key an error about a whole statistic names: ``<region>.<statistic>[<category>]``."""
        fig = self.get(statistic, category)
        if fig is not None and fig.where:
            return fig.where
        return f"{self.id}.{statistic}" + (f"[{category}]" if category else "")


# --- reading --------------------------------------------------------------------------------------
def read_stats(path: str | Path, sector_ids: list[str]) -> list[RegionStats]:
    """The regions of a statistics file (``.csv`` or ``.toml``), every figure checked.

    ``sector_ids`` are the sectors a cluster or a sector breakdown may name (the parent
    scenario's).
    """
    path = Path(path)
    source = str(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".toml"):
        raise InputError("must be a .csv or .toml statistics file (see docs/regional_tutorial.md)",
                         source=source)
    rows = _csv_rows(path) if suffix == ".csv" else _toml_rows(path)
    regions: dict[str, RegionStats] = {}
    for raw in rows:
        fig = _check_figure(raw, source, sector_ids)
        reg = regions.setdefault(fig.region, RegionStats(fig.region, source))
        k = (fig.statistic, fig.category)
        if k in reg.figures:
            raise InputError(f"is given twice (also at {reg.figures[k].where})", source=source,
                             key=fig.where)
        reg.figures[k] = fig
    if not regions:
        raise InputError("holds no figures", source=source)
    for reg in regions.values():
        _check_region(reg)
    return list(regions.values())


def _read_text(path: Path) -> str:
    source = str(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError("file not found", source=source) from None
    except IsADirectoryError:
        raise InputError("is a folder, not a statistics file", source=source) from None
    except PermissionError:
        raise InputError("cannot read the file: permission denied", source=source) from None
    except OSError as exc:
        raise InputError(f"cannot read the file: {exc.strerror or exc}", source=source) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise InputError(f"is not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line}); "
                         "save it as UTF-8", source=source) from None


def _csv_rows(path: Path) -> list[dict]:
    """Rows of a statistics CSV as dicts with ``where`` = ``row <n> (<region>.<label>)``, ``n``
    the line of the file. Blank lines and lines starting with ``#`` are skipped."""
    source = str(path)
    text = _read_text(path)
    # Comment lines become blank lines, so line numbers stay those of the file.
    text = "\n".join("" if ln.lstrip().startswith("#") else ln for ln in text.splitlines())
    reader = csv.reader(io.StringIO(text), strict=True)
    numbered = []
    try:
        for cells in reader:
            if any(c.strip() for c in cells):
                numbered.append((reader.line_num, cells))
    except csv.Error as exc:
        raise InputError(f"malformed CSV on line {reader.line_num}: {exc}", source=source) from None
    if not numbered:
        raise InputError("is empty; the first line must name the columns "
                         f"{', '.join(CSV_REQUIRED)} (optional {', '.join(CSV_OPTIONAL)})", source=source)
    line_no, header = numbered[0]
    header = [h.strip() for h in header]
    allowed = CSV_REQUIRED + CSV_OPTIONAL
    for col in header:
        if col not in allowed:
            raise InputError(f"unknown column {col!r} on line {line_no}; {closest(col, allowed)}",
                             source=source, key=col or "(empty column name)")
    if len(set(header)) != len(header):
        raise InputError(f"a column is named twice on line {line_no}", source=source,
                         key=next(c for c in header if header.count(c) > 1))
    for col in CSV_REQUIRED:
        if col not in header:
            raise InputError(f"missing column (line {line_no} has {', '.join(header)}; needs "
                             f"{', '.join(CSV_REQUIRED)})", source=source, key=col)
    rows = []
    for n, cells in numbered[1:]:
        if len(cells) != len(header):
            raise InputError(f"has {len(cells)} fields, the header {len(header)} (a comma inside a "
                             "value needs double quotes)", source=source, key=f"row {n}")
        row = {h: c.strip() for h, c in zip(header, cells, strict=True)}
        label = f"{row['region']}.{row['statistic']}" + (f"[{row['category']}]" if row["category"] else "")
        row["where"] = f"row {n} ({label})"
        rows.append(row)
    return rows


def _toml_rows(path: Path) -> list[dict]:
    """Figures of a statistics TOML (``[regions.<id>]`` tables) as row dicts."""
    source = str(path)
    data = read_toml(path)
    for k in data:
        if k != "regions":
            raise InputError(f"unknown key; the file holds [regions.<id>] tables ({closest(k, ['regions'])})",
                             source=source, key=k)
    regions = data.get("regions")
    if not isinstance(regions, dict) or not regions:
        raise InputError("needs at least one [regions.<id>] table", source=source, key="regions")
    rows = []
    for rid, table in regions.items():
        where_r = f"regions.{rid}"
        if not isinstance(table, dict):
            raise InputError("must be a table of statistics", source=source, key=where_r)
        for stat, value in table.items():
            where = f"{where_r}.{stat}"
            st = BY_NAME.get(stat)
            if st is not None and st.categories:
                if not isinstance(value, dict):
                    raise InputError(f"must be a table of {_category_text(st)} with a source",
                                     source=source, key=where)
                meta = {m: value[m] for m in META_KEYS if m in value}
                for cat, v in value.items():
                    if cat in META_KEYS:
                        continue
                    rows.append(_toml_row(rid, stat, cat, v, meta, f"{where}.{cat}", source))
            else:
                rows.append(_toml_row(rid, stat, "", value, {}, where, source))
    return rows


def _toml_row(rid: str, stat: str, cat: str, value: Any, meta: dict, where: str, source: str) -> dict:
    row = {"region": rid, "statistic": stat, "category": cat, "where": where}
    row.update({m: meta[m] for m in meta})
    if isinstance(value, dict):
        for k in value:
            if k not in ("value",) + META_KEYS:
                raise InputError(f"unknown key; {closest(k, ('value',) + META_KEYS)}", source=source,
                                 key=f"{where}.{k}")
        if "value" not in value:
            raise InputError("needs a value", source=source, key=f"{where}.value")
        row.update(value)
    else:
        row["value"] = value
    return row


def _category_text(st: Stat) -> str:
    return "size classes (" + ", ".join(SIZE_CLASSES) + ")" if st.categories == "size" else "sectors"


# --- one figure -----------------------------------------------------------------------------------
def _check_figure(row: dict, source: str, sector_ids: list[str]) -> Figure:
    where = row["where"]
    rid = str(row.get("region", "")).strip()
    if not REGION_ID.match(rid):
        raise InputError(f"region id {rid!r} must be lower-case letters, digits and _ , starting "
                         "with a letter (it names the region in scenarios)", source=source, key=where)
    name = str(row.get("statistic", "")).strip()
    st = BY_NAME.get(name)
    if st is None:
        raise InputError(f"unknown statistic {name!r}; {closest(name, BY_NAME)}", source=source, key=where)
    cat = str(row.get("category", "") or "").strip()
    if st.categories == "size":
        allowed = SIZE_CLASSES + ("total",)
        if cat not in allowed:
            raise InputError(f"unknown size class {cat!r}; allowed: {', '.join(allowed)}",
                             source=source, key=where)
    elif st.categories == "sector":
        allowed = list(sector_ids) + ([OTHER_SECTOR] if st.name == "enterprises_by_sector" else [])
        if cat not in allowed:
            raise InputError(f"unknown sector {cat!r}; {closest(cat, allowed)} (the sectors of the "
                             "parent scenario)", source=source, key=where)
    elif cat:
        raise InputError(f"{name} has no categories; leave category empty", source=source, key=where)
    src = str(row.get("source", "") or "").strip()
    if st.sourced and not src:
        raise InputError("needs a source (where the figure was published, or how it was derived)",
                         source=source, key=where)
    value = _check_value(st, row.get("value"), source, where)
    return Figure(rid, name, cat, value, src, str(row.get("year", "") or "").strip(),
                  str(row.get("unit", "") or "").strip(), str(row.get("note", "") or "").strip(), where)


def _number(value: Any, source: str, where: str) -> float:
    if isinstance(value, str):
        text = value.strip()
        if not text:
            raise InputError("has no value", source=source, key=where)
        try:
            value = float(text)
        except ValueError:
            hint = " (write 1234.5: no thousands separators, a point for decimals)" if any(
                c in text for c in ",' ") else ""
            raise InputError(f"must be a number, got {text!r}{hint}", source=source, key=where) from None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InputError(f"must be a finite number, got {value!r}", source=source, key=where)
    return float(value)


def _check_value(st: Stat, value: Any, source: str, where: str) -> Any:
    if st.kind in ("text", "choice"):
        if not isinstance(value, str) or not value.strip():
            raise InputError("must be a non-empty text", source=source, key=where)
        value = value.strip()
        if st.kind == "choice" and value not in STAGES:
            raise InputError(f"unknown stage {value!r}; allowed: {', '.join(STAGES)}", source=source,
                             key=where)
        if st.name == "country" and not re.match(r"^[A-Z]{2}$", value):
            raise InputError(f"must be a two-letter country code such as EL or HR, got {value!r}",
                             source=source, key=where)
        return value
    if st.kind == "flag" or (st.kind == "field" and FIELD[st.name].kind is bool):
        text = str(value).strip().lower()
        if text in ("1", "1.0", "true", "yes"):
            return True
        if text in ("0", "0.0", "false", "no"):
            return False
        raise InputError(f"must be 1 or 0 (true or false), got {value!r}", source=source, key=where)
    x = _number(value, source, where)
    if st.kind == "count":
        if x < 0:
            raise InputError(f"must be a count of 0 or more, got {x:g}", source=source, key=where)
        return x
    if st.kind == "money":
        if x < 0:
            raise InputError(f"must be an amount of 0 or more ({st.unit}), got {x:g}", source=source,
                             key=where)
        return x
    if st.kind == "share":
        if not 0.0 <= x <= 1.0:
            hint = f" (write {x / 100:g} for {x:g} %)" if 1.0 < x <= 100.0 else ""
            raise InputError(f"must be a share between 0 and 1, got {x:g}{hint}", source=source, key=where)
        return x
    if st.kind == "ratio":
        if not 0.0 < x <= (st.high or math.inf):
            raise InputError(f"must be a ratio above 0 and at most {st.high:g}, got {x:g}",
                             source=source, key=where)
        return x
    f = FIELD[st.name]  # a field given directly
    return f.check(int(x) if f.kind is int and x.is_integer() else x, source, where)


# --- one region, as a whole -------------------------------------------------------------------------
def _close(a: float, b: float) -> bool:
    return abs(a - b) <= max(1.0, SUM_TOLERANCE * max(abs(a), abs(b)))


def _check_region(reg: RegionStats) -> None:
    src = reg.source
    for st in STATISTICS:
        if st.required and not reg.has(st.name):
            raise InputError(f"missing statistic {st.name} (required): {st.doc}", source=src,
                             key=f"{reg.id}.{st.name}")
    ent = reg.by_category("enterprises")
    for c in SIZE_CLASSES:
        if c not in ent:
            raise InputError(f"missing size class {c} of enterprises (give 0 if there is none)",
                             source=src, key=f"{reg.id}.enterprises[{c}]")
    for stat in ("enterprises", "persons_employed"):
        cats = reg.by_category(stat)
        if not cats:
            continue
        missing = [c for c in SIZE_CLASSES if c not in cats]
        if missing:
            raise InputError(f"missing size class {missing[0]} (give all of {', '.join(SIZE_CLASSES)})",
                             source=src, key=f"{reg.id}.{stat}[{missing[0]}]")
        total = sum(cats[c].value for c in SIZE_CLASSES)
        if "total" in cats and not _close(total, cats["total"].value):
            raise InputError(f"size classes add up to {total:,.0f}, not to the total {cats['total'].value:,.0f}",
                             source=src, key=cats["total"].where)
    n_ent = sum(ent[c].value for c in SIZE_CLASSES)
    if n_ent <= 0:
        raise InputError("enterprises add up to 0; a region needs enterprises", source=src,
                         key=f"{reg.id}.enterprises")
    sectors = reg.by_category("enterprises_by_sector")
    if sectors:
        s_total = sum(f.value for f in sectors.values())
        if not _close(s_total, n_ent):
            raise InputError(f"sectors add up to {s_total:,.0f} enterprises but the size classes to "
                             f"{n_ent:,.0f}; the shares do not add up (put the rest under '{OTHER_SECTOR}')",
                             source=src, key=f"{reg.id}.enterprises_by_sector")
    clusters = reg.by_category("cluster_enterprises")
    orgs = reg.by_category("cluster_organisation")
    for s, f in clusters.items():
        if s not in orgs:
            raise InputError(f"the cluster has no cluster_organisation[{s}] (1 if it has a cluster "
                             "management organisation, else 0)", source=src, key=f.where)
        if s in sectors and f.value > sectors[s].value * (1 + SUM_TOLERANCE):
            raise InputError(f"the cluster has {f.value:,.0f} enterprises, more than its sector "
                             f"({sectors[s].value:,.0f})", source=src, key=f.where)
    for s, f in orgs.items():
        if s not in clusters:
            raise InputError(f"names no cluster; give cluster_enterprises[{s}] too", source=src, key=f.where)
    c_total = sum(f.value for f in clusters.values())
    if c_total > n_ent * (1 + SUM_TOLERANCE):
        raise InputError(f"clusters hold {c_total:,.0f} enterprises, more than the region's "
                         f"{n_ent:,.0f}; the shares do not add up", source=src,
                         key=f"{reg.id}.cluster_enterprises")
    for direct, stats in CLASHES.items():
        given = [s for s in stats if reg.has(s)]
        if reg.has(direct) and given:
            raise InputError(f"give either {direct} or {given[0]}, not both", source=src,
                             key=reg.key(direct))
    if reg.has("labour_cost_per_employee") and reg.has("labour_cost_index"):
        raise InputError("give either labour_cost_per_employee or labour_cost_index, not both",
                         source=src, key=reg.key("labour_cost_index"))
    if reg.has("skill_premium") and not reg.has("labour_cost_per_employee"):
        raise InputError("skill_premium goes with labour_cost_per_employee", source=src,
                         key=reg.key("skill_premium"))
    if reg.has("wage_skilled") != reg.has("wage_unskilled"):
        missing = "wage_unskilled" if reg.has("wage_skilled") else "wage_skilled"
        raise InputError(f"give wage_skilled and wage_unskilled together ({missing} is missing)",
                         source=src, key=f"{reg.id}.{missing}")
    if reg.has("gerd_share_gdp") != reg.has("business_share_of_gerd"):
        missing = "business_share_of_gerd" if reg.has("gerd_share_gdp") else "gerd_share_gdp"
        raise InputError(f"gerd_share_gdp and business_share_of_gerd go together ({missing} is "
                         "missing)", source=src, key=f"{reg.id}.{missing}")
    if reg.has("berd_share_gdp") and reg.has("gerd_share_gdp"):
        raise InputError("give either berd_share_gdp or gerd_share_gdp, not both", source=src,
                         key=reg.key("gerd_share_gdp"))
    if reg.has("graduates") and not reg.has("universities") and not reg.has("employment"):
        raise InputError("graduates without universities needs employment (to derive the "
                         "universities), or give universities", source=src,
                         key=reg.key("graduates"))


# --- mapping onto the scenario's region fields -------------------------------------------------------
@dataclass
class MappedRegion:
    """A region table for a scenario, with each field's origin."""

    table: dict[str, Any]
    origin: dict[str, str]  # field -> how its value was obtained
    notes: list[str]
    cluster_origin: list[str]


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.4g}"


def _round(x: float, digits: int = 4) -> float:
    """A value for the scenario file: 4 significant digits (the statistics are rougher)."""
    return 0.0 if x == 0 else float(f"{x:.{digits}g}")


def peer_region(reg: RegionStats, parent: Scenario) -> dict:
    """The parent region whose values fill the fields without a statistic."""
    ids = [r["id"] for r in parent.regions]
    name = reg.value("peer")
    if name is not None:
        if name not in ids:
            raise InputError(f"names no region of the parent scenario {parent.name!r}; {closest(name, ids)}",
                             source=reg.source, key=reg.key("peer"))
        return parent.regions[ids.index(name)]
    stage = reg.value("stage")
    same = [r for r in parent.regions if r["stage"] == stage]
    return (same or list(parent.regions))[0]


def enterprises_total(reg: RegionStats) -> float:
    return float(sum(f.value for c, f in reg.by_category("enterprises").items() if c in SIZE_CLASSES))


def _cohort(reg, unemployment: float, parent) -> float:
    """The region's entering cohort a year: its labour force (employment / (1 - unemployment))
    times ``labour.cohort_rate`` (cluster_abm.mechanisms.labour._entrants)."""
    return reg.value("employment") / (1.0 - unemployment) * parent.param("labour.cohort_rate")


def map_region(reg: RegionStats, parent: Scenario, firm_share: float, firm_share_how: str,
               n_firms: int, model_share: float) -> MappedRegion:
    """The scenario fields of one region (see :data:`STATISTICS` for the formulas).

    ``firm_share`` and its explanation come from :func:`firm_shares`; ``model_share`` is the
    region's share of the scenario's model firms (for the notes on small clusters).
    """
    src = reg.source
    peer = peer_region(reg, parent)
    pid = peer["id"]
    t: dict[str, Any] = {}
    how: dict[str, str] = {}
    notes: list[str] = []

    def fig(stat: str) -> str:
        """``statistic (year)``, how an origin names the figure it used."""
        f = reg.get(stat)
        return stat + (f" ({f.year})" if f is not None and f.year else "")

    def put(name: str, value: Any, origin: str, key: str, digits: int | None = None) -> None:
        """Set a field, checked against its bounds; ``digits``: significant digits of a value
        computed by a formula (the statistics are rougher than that)."""
        f = FIELD[name]
        if f.kind is int:
            value = int(round(value))
        elif f.kind is float:
            value = float(value)
            if digits is not None:
                value = _round(value, digits)
            if value.is_integer() and abs(value) < 1e15:
                value = int(value)
        try:
            checked = f.check(value, src, key)
            t[name] = value if type(value) is int and f.kind is float else checked
        except InputError as exc:
            raise InputError(f"gives {name} = {value!r}, outside what the model allows: "
                             f"{str(exc).split(': ')[-1]}", source=src, key=key) from None
        how[name] = origin

    def direct_or_peer(name: str) -> None:
        if reg.has(name):
            put(name, reg.value(name), f"given: {fig(name)}", reg.key(name))
        else:
            put(name, peer[name], f"peer {pid}", reg.key(name))

    t["id"], how["id"] = reg.id, "region id of the statistics file"
    for name in ("name", "country", "stage"):
        t[name], how[name] = reg.value(name), f"given: {fig(name)}"
    n_ent = enterprises_total(reg)
    put("firm_share", firm_share, firm_share_how, reg.key("firm_share") if reg.has("firm_share")
        else f"{reg.id}.enterprises", digits=4)
    put("enterprises", n_ent, "enterprises, sum of the size classes", f"{reg.id}.enterprises")
    ent = reg.by_category("enterprises")
    for cls, name in zip(SIZE_CLASSES, SIZE_CLASS_NAMES, strict=True):
        put(f"enterprises_{name}", ent[cls].value, f"enterprises[{cls}]", ent[cls].where)
    persons = {c: f for c, f in reg.by_category("persons_employed").items() if c in SIZE_CLASSES}
    if persons:
        put("persons_employed", sum(f.value for f in persons.values()),
            "persons employed, sum of the size classes", f"{reg.id}.persons_employed")

    # Labour: skilled share first (the wage formula uses it).
    if reg.has("tertiary_share"):
        put("skilled_share", reg.value("tertiary_share"), fig("tertiary_share"),
            reg.key("tertiary_share"))
    else:
        direct_or_peer("skilled_share")
    s = t["skilled_share"]
    if reg.has("labour_cost_index"):
        idx = reg.value("labour_cost_index")
        k = reg.key("labour_cost_index")
        put("wage_skilled", peer["wage_skilled"] * idx, f"peer {pid} {peer['wage_skilled']:g} x "
            f"labour_cost_index {idx:.4g}", k, digits=4)
        put("wage_unskilled", peer["wage_unskilled"] * idx, f"peer {pid} {peer['wage_unskilled']:g} x "
            f"labour_cost_index {idx:.4g}", k, digits=4)
    elif reg.has("labour_cost_per_employee"):
        mean = reg.value("labour_cost_per_employee") / 1000.0
        k = reg.key("labour_cost_per_employee")
        if reg.has("skill_premium"):
            prem, prem_how = reg.value("skill_premium"), "skill_premium"
        else:
            prem, prem_how = peer["wage_skilled"] / peer["wage_unskilled"], f"peer {pid}'s ratio"
        wu = mean / (s * prem + 1.0 - s)
        put("wage_unskilled", wu, f"labour_cost_per_employee {mean:.4g} k / ({s:g} x {prem:.3g} + "
            f"{1 - s:g}), premium: {prem_how}", k, digits=4)
        put("wage_skilled", wu * prem, f"wage_unskilled x {prem:.3g} ({prem_how})", k, digits=4)
    else:
        direct_or_peer("wage_skilled")
        direct_or_peer("wage_unskilled")
    if t["wage_unskilled"] > t["wage_skilled"]:
        raise InputError("gives an unskilled wage above the skilled one (a premium below 1)", source=src,
                         key=reg.key("labour_cost_per_employee"))
    put("unemployment", reg.value("unemployment_rate"), fig("unemployment_rate"),
        reg.key("unemployment_rate"))
    direct_or_peer("knowledge_level")

    if reg.has("berd_share_gdp"):
        put("rd_intensity", reg.value("berd_share_gdp"), fig("berd_share_gdp"),
            reg.key("berd_share_gdp"))
    elif reg.has("gerd_share_gdp"):
        g, b = reg.value("gerd_share_gdp"), reg.value("business_share_of_gerd")
        put("rd_intensity", g * b, f"gerd_share_gdp {g:g} x business_share_of_gerd {b:g}",
            reg.key("gerd_share_gdp"), digits=4)
    else:
        direct_or_peer("rd_intensity")
    for name in ("demand_growth", "green_share", "cmo_competence", "policy_awareness",
                 "network_contract_law"):
        direct_or_peer(name)

    if reg.has("rd_innovation_support_eur"):
        eur = reg.value("rd_innovation_support_eur")
        put("cluster_budget", eur / 1000.0, f"{fig('rd_innovation_support_eur')} / 1000", reg.key("rd_innovation_support_eur"), digits=6)
    elif reg.has("cluster_budget"):
        direct_or_peer("cluster_budget")
    elif peer["enterprises"] > 0:
        put("cluster_budget", peer["cluster_budget"] * n_ent / peer["enterprises"],
            f"peer {pid} {peer['cluster_budget']:g} k x enterprises {_fmt(n_ent)} / "
            f"{_fmt(peer['enterprises'])}", f"{reg.id}.rd_innovation_support_eur", digits=4)
        notes.append(f"{reg.id}: no rd_innovation_support_eur; cluster_budget scaled from peer {pid} "
                     "by enterprises")
    else:
        direct_or_peer("cluster_budget")

    if reg.has("emigrant_share"):
        put("diaspora", reg.value("emigrant_share"), fig("emigrant_share"),
            reg.key("emigrant_share"))
    else:
        direct_or_peer("diaspora")

    gpu = parent.param("ki.graduates_per_university")
    u = t["unemployment"]
    if reg.has("universities"):
        put("universities", reg.value("universities"), fig("universities"),
            reg.key("universities"))
    elif reg.has("graduates"):
        cohort = _cohort(reg, u, parent)
        derived = max(1, round(reg.value("graduates") / max(cohort * gpu, 1e-9)))
        put("universities", derived, f"graduates {_fmt(reg.value('graduates'))} / (entering cohort "
            f"{_fmt(cohort)} x ki.graduates_per_university {gpu:g})", reg.key("graduates"))
    else:
        put("universities", peer["universities"], f"peer {pid}", f"{reg.id}.universities")
    if reg.has("graduates") and reg.has("universities") and reg.has("employment"):
        cohort = _cohort(reg, u, parent)
        model = t["universities"] * gpu * cohort
        notes.append(f"{reg.id}: the model's universities graduate about {_fmt(model)} a year "
                     f"({t['universities']} universities x ki.graduates_per_university {gpu:g} x "
                     f"entering cohort {_fmt(cohort)}); published: {_fmt(reg.value('graduates'))}")
    for name in ("research_centres", "kibs"):
        if reg.has(name):
            put(name, reg.value(name), fig(name), reg.key(name))
        else:
            put(name, peer[name], f"peer {pid}", f"{reg.id}.{name}")
    direct_or_peer("ki_quality")

    clusters, c_how = [], []
    orgs = reg.by_category("cluster_organisation")
    for sector, f in reg.by_category("cluster_enterprises").items():
        share = f.value / n_ent
        clusters.append({"sector": sector, "firm_share": _round(share), "cmo": bool(orgs[sector].value)})
        c_how.append(f"cluster_enterprises[{sector}] {_fmt(f.value)} / enterprises {_fmt(n_ent)}; "
                     f"cmo: cluster_organisation[{sector}]")
        expected = n_firms * model_share * share
        if expected < SMALL_CLUSTER:
            notes.append(f"{reg.id}: cluster {sector} holds {share:.2%} of the region's enterprises, "
                         f"about {expected:.0f} model firms at sim.n_firms = {n_firms:,}; raise "
                         "sim.n_firms for cluster dynamics worth reading")
    t["clusters"] = clusters
    how["clusters"] = "cluster_enterprises and cluster_organisation" if clusters else "none given"
    if reg.by_category("persons_employed"):
        pe = sum(f.value for c, f in reg.by_category("persons_employed").items() if c in SIZE_CLASSES)
        notes.append(f"{reg.id}: {pe / n_ent:.1f} persons employed per enterprise (checked; the model "
                     "draws firm sizes from init.size_pareto_alpha in every region)")
    if reg.by_category("enterprises_by_sector"):
        notes.append(f"{reg.id}: enterprises by sector checked against the size classes and the "
                     "clusters (the model draws the sectors of firms outside clusters uniformly)")
    return MappedRegion(t, how, notes, c_how)


def firm_shares(regions: list[RegionStats], parent: Scenario, replace: bool) -> tuple[list[float], list[str], int]:
    """``firm_share`` of each region, how it was obtained, and the scenario's ``sim.n_firms``.

    Extending, a region gets the parent's firm_share per enterprise (its regions that give
    enterprises, pooled), so a model firm stands for about as many real enterprises as in the
    parent, and ``sim.n_firms`` grows so the parent's regions keep their model firms. Replacing,
    the shares are the regions' shares of the file's enterprises and ``sim.n_firms`` stays.
    """
    n_parent = int(parent.param("sim.n_firms"))
    totals = [enterprises_total(r) for r in regions]
    shares, hows = [], []
    if replace:
        all_ent = sum(totals)
        for r, e in zip(regions, totals, strict=True):
            if r.has("firm_share"):
                shares.append(r.value("firm_share"))
                hows.append("given: firm_share")
            else:
                shares.append(e / all_ent)
                hows.append(f"enterprises {_fmt(e)} / all the file's regions' {_fmt(all_ent)}")
        return shares, hows, n_parent
    known = [r for r in parent.regions if r["enterprises"] > 0]
    parent_share = sum(r["firm_share"] for r in parent.regions)
    per_ent = sum(r["firm_share"] for r in known) / sum(r["enterprises"] for r in known) if known else None
    for r, e in zip(regions, totals, strict=True):
        if r.has("firm_share"):
            shares.append(r.value("firm_share"))
            hows.append("given: firm_share")
        elif per_ent is None:
            raise InputError(f"the parent scenario {parent.name!r} gives no region's enterprises, so "
                             "firm_share cannot be scaled; give firm_share", source=r.source,
                             key=f"{r.id}.firm_share")
        else:
            shares.append(e * per_ent)
            hows.append(f"enterprises {_fmt(e)} x the parent's firm_share per enterprise "
                        f"({sum(k['firm_share'] for k in known):g} / {_fmt(sum(k['enterprises'] for k in known))})")
    n_firms = int(round(n_parent * (parent_share + sum(shares)) / parent_share))
    return shares, hows, n_firms


@dataclass
class Built:
    """What :func:`build_regions` made: the region tables and what to say about them."""

    regions: list[MappedRegion]
    n_firms: int
    n_parent: int
    replace: bool


def build_regions(regions: list[RegionStats], parent: Scenario, replace: bool) -> Built:
    """Map every region of a statistics file onto scenario fields (see :func:`map_region`)."""
    if not replace:
        ids = parent.region_ids
        for r in regions:
            if r.id in ids:
                raise InputError(f"region {r.id!r} is in the parent scenario {parent.name!r} already; "
                                 "rename it or use --replace", source=r.source, key=r.key("name"))
    shares, hows, n_firms = firm_shares(regions, parent, replace)
    total = sum(shares) + (0.0 if replace else sum(r["firm_share"] for r in parent.regions))
    mapped = [map_region(r, parent, sh, hw, n_firms, sh / total)
              for r, sh, hw in zip(regions, shares, hows, strict=True)]
    return Built(mapped, n_firms, int(parent.param("sim.n_firms")), replace)


# --- writing the scenario --------------------------------------------------------------------------
def build_scenario_text(built: Built, stats_path: str, extends: str, parent_name: str, command: str,
                        title: str | None = None) -> str:
    """The scenario file: ``extends`` the parent, then ``[[regions_add]]`` (extends) or
    ``[[regions]]`` (replace) with each field's origin as a comment."""
    names = ", ".join(m.table["name"] for m in built.regions)
    if title is None:
        title = (f"{names} alone (the regions of {parent_name} replaced)" if built.replace
                 else f"{names} added to {parent_name}")
    what = "replacing the parent's regions" if built.replace else "added to the parent's regions"
    lines = [
        f"# Built by `{command}`",
        f"# from the published statistics in {stats_path} ({what}).",
        "# Each field says where its value came from (the statistics file names every source;",
        "# 'peer' fields are the parent region's values, for what no statistic measures).",
        f"extends = {toml_value(extends)}",
        f"title = {toml_value(title)}",
        'description = """',
        f"The world of {parent_name} with {names} {'instead of its regions' if built.replace else 'added'},",
        f"built from published statistics ({Path(stats_path).name}; see docs/regional_tutorial.md).",
        "Fields no statistic measures are a peer region's; the development stage follows seed 2.1.",
        '"""',
    ]
    if not built.replace and built.n_firms != built.n_parent:
        lines += ["", "[simulation]",
                  f"n_firms = {built.n_firms}  # the parent's {built.n_parent:,} model firms, scaled so "
                  "its regions keep theirs"]
    table = "regions" if built.replace else "regions_add"
    for m in built.regions:
        lines += ["", f"[[{table}]]"]
        width = max(len(f"{k} = {toml_value(v)}") for k, v in m.table.items() if k != "clusters")
        for k, v in m.table.items():
            if k == "clusters":
                continue
            text = f"{k} = {toml_value(v)}"
            lines.append(f"{text:<{width}}  # {m.origin[k]}")
        if m.table["clusters"]:
            lines.append("clusters = [")
            for c, origin in zip(m.table["clusters"], m.cluster_origin, strict=True):
                lines.append(f"  {toml_value(c)},  # {origin}")
            lines.append("]")
        else:
            lines.append("clusters = []  # no cluster_enterprises given")
    return "\n".join(lines) + "\n"


def mapping_table(built: Built) -> str:
    """Plain text: every field of every region, its value and where it came from."""
    out = []
    for m in built.regions:
        out.append(f"{m.table['id']} ({m.table['name']}):")
        for k, v in m.table.items():
            if k == "clusters":
                continue
            out.append(f"  {k:<22} {toml_value(v):<28} {m.origin[k]}")
        for c, origin in zip(m.table["clusters"], m.cluster_origin, strict=True):
            out.append(f"  cluster {c['sector']:<14} firm_share {c['firm_share']:<12g} cmo {str(c['cmo']).lower():<5}  {origin}")
    if not built.replace and built.n_firms != built.n_parent:
        out.append(f"sim.n_firms {built.n_parent:,} -> {built.n_firms:,} (the parent's regions keep their model firms)")
    return "\n".join(out)
