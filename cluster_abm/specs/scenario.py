"""Scenario files (TOML) → validated :class:`Scenario` objects.

A scenario describes a world (sectors, regions with their clusters and knowledge institutions),
parameter overrides (checked against :mod:`cluster_abm.params.registry`) and the policy levers that are on
(checked against :mod:`cluster_abm.policy.levers`). Scenarios inherit with ``extends = "baseline"``:
tables merge key by key, arrays (``regions``, ``sectors``) are replaced whole, and
``[regions_patch.<id>]`` edits single fields of an inherited region and ``[[regions_add]]``
appends regions to the inherited ones (``cluster-abm region build`` writes it).

Every problem is raised as an :class:`~cluster_abm.errors.InputError` naming the file, the key and
what is allowed, before anything runs.

References written in a file (``extends``, ``levers_from``, an experiment's ``scenarios``) resolve
only inside the *scenario search path* (:func:`search_roots`): the folder of the file given on
the command line (and its sub-folders; the whole working folder when the file lies in it),
``./scenarios`` and the project's scenarios. A path that
leads elsewhere (``/etc/passwd``, ``../../secret.toml``) is refused naming the referring file and
key; any path may still be given on the command line itself.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cluster_abm.errors import InputError, closest
from cluster_abm.params import registry as P
from cluster_abm.policy.levers import BY_ID, LeverSetting, validate_lever
from cluster_abm.policy.programme import Programme, programme_to_dict, validate_programme
from cluster_abm.specs.toml_spec import (
    OutsideSearchPath,
    Table,
    check_bool,
    check_choice,
    check_int,
    check_keys,
    check_name,
    check_number,
    check_str,
    find_spec_file,
    flatten,
    inside,
    read_toml,
    spec_names,
)

STAGES = ("mature", "middle", "early")
SIZE_CLASS_NAMES = ("micro", "small", "medium", "large")  # 0-9, 10-49, 50-249, 250+ persons employed
TOP_KEYS = ("name", "title", "description", "extends", "levers_from", "simulation", "params", "programme", "sectors",
            "regions", "regions_add", "regions_patch", "levers")


@dataclass(frozen=True)
class Field:
    """A declared field of a region, cluster or sector table: type, default, bounds, unit, doc."""

    name: str
    kind: type
    default: Any
    low: float | None = None
    high: float | None = None
    unit: str = "-"
    doc: str = ""
    choices: tuple = ()

    def check(self, value: Any, source: str, key: str) -> Any:
        if self.kind is bool:
            return check_bool(value, source, key)
        if self.kind is str:
            if self.choices:
                return check_choice(value, self.choices, source, key, what=self.name)
            return check_str(value, source, key)
        if self.kind is int:
            if isinstance(value, float) and value.is_integer():
                value = int(value)  # 3.0 is 3, as in the parameter registry
            return check_int(value, source, key, self.low, self.high)
        return check_number(value, source, key, self.low, self.high, unit=self.unit)


SECTOR_FIELDS = (
    Field("id", str, None, doc="Short identifier."),
    Field("name", str, None, doc="Display name."),
    Field("field", int, None, 0, 30, "index", "Home technology field of the sector's knowledge profile."),
    Field("demand_growth", float, 0.02, -0.1, 0.2, "1/yr", "Real growth of the sector's demand."),
    Field("emission_intensity", float, 0.15, 0.0, 10.0, "t CO2e per k€", "Emissions per unit of revenue of a firm that has not eco-innovated."),
    Field("export_intensity", float, 0.4, 0.0, 1.0, "-", "Share of an exporter's revenue sold abroad at the start."),
    Field("manufacturing", bool, True, doc="Manufacturing (true) or services; bridges to excellence centres target manufacturing (seed 3.5.3)."),
)

CLUSTER_FIELDS = (
    Field("sector", str, None, doc="Sector id of the cluster's specialisation."),
    Field("firm_share", float, None, 0.0, 1.0, "-", "Share of the region's firms located in the cluster."),
    Field("cmo", bool, True, doc="Whether the cluster has a cluster management organisation."),
)

REGION_FIELDS = (
    Field("id", str, None, doc="Short identifier (used for targeting)."),
    Field("name", str, None, doc="Display name."),
    Field("country", str, None, doc="ISO 3166 alpha-2 country code."),
    Field("stage", str, None, doc="Development stage of the region's clusters (seed 2.1).", choices=STAGES),
    Field("firm_share", float, None, 0.0, 1.0, "-", "Weight of the region in the initial firm population."),
    Field("enterprises", float, 0.0, 0.0, 1e8, "enterprises", "Active enterprises of the real region's business economy (cluster_abm/data/enterprises.csv); each model firm of the region stands for enterprises / model firms at policy year 0 of them (by size class when the four class counts below are given). 0: unknown, outputs stay in model units."),
    Field("enterprises_micro", float, 0.0, 0.0, 1e8, "enterprises", "Active enterprises with 0-9 persons employed (0 with the other classes: no size classes)."),
    Field("enterprises_small", float, 0.0, 0.0, 1e8, "enterprises", "Active enterprises with 10-49 persons employed."),
    Field("enterprises_medium", float, 0.0, 0.0, 1e8, "enterprises", "Active enterprises with 50-249 persons employed."),
    Field("enterprises_large", float, 0.0, 0.0, 1e8, "enterprises", "Active enterprises with 250 or more persons employed."),
    Field("persons_employed", float, 0.0, 0.0, 1e9, "persons", "Persons employed by the real region's enterprises (the sum of the size classes in cluster_abm/data/enterprises.csv). Real-unit employment is calibrated to it at policy year 0 (one factor per region on the persons each model person stands for). 0: unknown, real employment is the model firms' weights times their staff."),
    Field("wage_skilled", float, None, 3.0, 200.0, "k€/yr", "Yearly labour cost of a skilled worker."),
    Field("wage_unskilled", float, None, 2.0, 150.0, "k€/yr", "Yearly labour cost of an unskilled worker."),
    Field("unemployment", float, None, 0.0, 0.6, "-", "Initial unemployment rate."),
    Field("skilled_share", float, 0.3, 0.02, 0.9, "-", "Share of skilled workers in the labour force and in firms."),
    Field("knowledge_level", float, 1.0, 0.05, 20.0, "-", "Multiplier of firms' initial knowledge stock."),
    Field("rd_intensity", float, 0.01, 0.0, 0.2, "-", "Mean R&D spend of firms as a share of revenue."),
    Field("demand_growth", float, 0.015, -0.1, 0.2, "1/yr", "Real growth of regional demand (added to the sector's)."),
    Field("green_share", float, 0.04, 0.0, 0.5, "-", "Initial share of firms' knowledge in the green field."),
    Field("cmo_competence", float, 0.4, 0.0, 1.0, "-", "Initial staff competence of the region's CMOs (seed 2.6)."),
    Field("policy_awareness", float, 0.3, 0.0, 1.0, "-", "Policy makers' awareness of the firm-knowledge-institution interaction gap (seed 3.1.1)."),
    Field("network_contract_law", bool, False, doc="Whether business network contracts exist in law (Italy since Law 99/2009, seed 3.3.1)."),
    Field("private_credit", float, 78.0, 0.0, 400.0, "% of GDP", "Domestic credit to the private sector (World Bank WDI FS.AST.PRVT.GD.ZS; cluster_abm/data/private_credit.csv): the bank finance firms and founders can draw on; default the EU-27 mean of 2020."),
    Field("cluster_budget", float, 500.0, 0.0, 1e7, "k€/yr", "Regional government's yearly R&D and innovation grant budget, in real euros of the region (baseline: public R&D and SME-innovation support per year, cluster_abm/data/public_budgets.csv); a grant to a model firm costs funding.grant_size times the real firms it stands for."),
    Field("diaspora", float, 0.03, 0.0, 0.6, "-", "Share of skilled citizens already working abroad (peers abroad)."),
    Field("universities", int, 1, 0, 50, "count", "Universities in the region."),
    Field("research_centres", int, 0, 0, 50, "count", "Public research centres in the region."),
    Field("kibs", int, 0, 0, 50, "count", "Institutional knowledge-intensive business services."),
    Field("ki_quality", float, 0.5, 0.0, 1.0, "-", "Quality of the region's knowledge institutions."),
    Field("clusters", list, (), doc="The region's clusters: tables with sector, firm_share, cmo."),
)


@dataclass(frozen=True)
class Scenario:
    """A fully resolved, validated scenario."""

    name: str
    title: str
    description: str
    source: str
    params: dict[str, Any]
    sectors: tuple[dict, ...]
    regions: tuple[dict, ...]
    levers: dict[str, LeverSetting] = field(default_factory=dict)
    chain: tuple[str, ...] = ()
    programme: Programme | None = None

    def param(self, name: str) -> Any:
        return self.params.get(name, P.REGISTRY[name].default)

    def with_params(self, overrides: dict[str, Any], source: str = "overrides") -> Scenario:
        """A copy with extra parameter overrides (validated)."""
        merged = dict(self.params) | P.validate(overrides, source=source)
        return Scenario(self.name, self.title, self.description, self.source, merged, self.sectors,
                        self.regions, dict(self.levers), self.chain, self.programme)

    def with_levers(self, levers: dict[str, LeverSetting]) -> Scenario:
        return Scenario(self.name, self.title, self.description, self.source, dict(self.params),
                        self.sectors, self.regions, dict(levers), self.chain, self.programme)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (TOML/JSON-able) of the resolved scenario, for manifests and `scenario show`."""
        levers = {}
        for lid, s in self.levers.items():
            entry = {"intensity": s.intensity}
            if "firms" in BY_ID[lid].targets:  # a key the lever accepts, so to_dict round-trips
                entry["firms"] = s.firms
            if s.start_year != 0:
                entry["start_year"] = s.start_year
            if s.end_year is not None:
                entry["end_year"] = s.end_year
            if s.regions is not None:
                entry["regions"] = list(s.regions)
            if s.clusters is not None:
                entry["clusters"] = list(s.clusters)
            levers[lid] = entry
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "extends_chain": list(self.chain),
            "params": {k: self.params[k] for k in sorted(self.params)},
            "sectors": [dict(s) for s in self.sectors],
            "regions": [dict(r, clusters=[dict(c) for c in r["clusters"]]) for r in self.regions],
            "levers": levers,
            **({"programme": programme_to_dict(self.programme)} if self.programme else {}),
        }

    @property
    def region_ids(self) -> list[str]:
        return [r["id"] for r in self.regions]

    @property
    def cluster_ids(self) -> list[str]:
        return [f"{r['id']}.{c['sector']}" for r in self.regions for c in r["clusters"]]


def scenario_dirs() -> list[Path]:
    """Folders searched for a scenario given by name: ./scenarios, then the project's own."""
    here = Path(__file__).resolve().parents[2] / "scenarios"
    return [Path.cwd() / "scenarios", here]


def search_roots(base_dir: Path | None) -> list[Path]:
    """The scenario search path of a file in ``base_dir`` (the folder of the file named on the
    command line): that folder, the working folder if the file lies inside it (a project's
    files refer to each other: ``scenarios/calibrated_x.toml`` extends ``../study/x.toml``),
    then :func:`scenario_dirs`. A file from elsewhere (a download) reaches only its own folder
    and the scenarios."""
    if base_dir is None:
        return scenario_dirs()
    cwd = [Path.cwd()] if inside(Path(base_dir), [Path.cwd()]) else []
    return [Path(base_dir), *cwd, *scenario_dirs()]


def find_scenario(ref: str | Path, relative_to: Path | None = None,
                  roots: list[Path] | None = None) -> Path:
    """Resolve a scenario reference (a path, or a name such as ``baseline``) to a file;
    ``roots``: the reference was written in a file and must stay inside these folders."""
    return find_spec_file(ref, scenario_dirs(), "scenario", relative_to, roots)


def known_scenarios() -> list[str]:
    """Names of the scenario files in the folders :func:`scenario_dirs` searches."""
    return spec_names(scenario_dirs())


def load_scenario_ref(ref: Any, source: str, key: str, base_dir: Path | None = None) -> Scenario:
    """The scenario a spec file names at ``key`` (a name or a path relative to ``base_dir``).

    A missing or invalid scenario is an error about the spec file's key, with the scenario's
    own problem inside, so the user sees which line of which file to fix.
    """
    check_str(ref, source, key, "a scenario name or path")
    roots = search_roots(base_dir)
    try:
        path = find_scenario(ref, relative_to=base_dir, roots=roots)
    except OutsideSearchPath as exc:
        raise InputError(_reason(exc), source=source, key=key) from None
    except InputError:
        raise InputError(f"unknown scenario {ref!r} (no such file next to this file or in "
                         f"./scenarios); {closest(Path(ref).stem, known_scenarios())}",
                         source=source, key=key) from None
    try:
        return _load_file(path, roots)
    except InputError as exc:
        raise InputError(f"scenario {ref!r} is invalid: {exc}", source=source, key=key) from None


def _merge(base: dict, child: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in child.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def _reason(exc: InputError) -> str:
    """An error's message without the file it was about (the caller names its own file)."""
    text = str(exc)
    return text.removeprefix(f"{exc.source}: ") if exc.source else text


def _find_ref(ref: str, path: Path, key: str, roots: list[Path]) -> Path:
    """The file a reference ``ref`` at ``key`` of the scenario file ``path`` names, inside the
    search path ``roots``; any problem is an error about ``path`` and ``key``."""
    try:
        return find_scenario(ref, relative_to=path.parent, roots=roots)
    except OutsideSearchPath as exc:
        raise InputError(_reason(exc), source=str(path), key=key) from None
    except InputError as exc:
        raise InputError(f"cannot find {ref!r} ({exc})", source=str(path), key=key) from None


def _load_raw(path: Path, seen: tuple[str, ...], roots: list[Path]) -> tuple[dict, tuple[str, ...]]:
    if str(path) in seen:
        raise InputError(f"extends forms a cycle: {' -> '.join(seen + (str(path),))}", source=str(path), key="extends")
    raw = check_keys(read_toml(path), TOP_KEYS, str(path))
    if "name" in raw:  # a name the file gives must be safe; a file name is made safe where it
        # names a folder (cluster-abm run), and experiments check it as a run id
        check_name(raw["name"], str(path), "name", "output folders and run ids")
    parent = raw.pop("extends", None)
    chain = seen + (str(path),)
    if parent is None:
        return _add_regions(_with_levers_from(raw, path, chain, roots), str(path)), chain
    if not isinstance(parent, str) or not parent:
        raise InputError(f"must be a scenario name or path, got {parent!r:.60}", source=str(path), key="extends")
    parent_path = _find_ref(parent, path, "extends", roots)
    try:
        base, chain = _load_raw(parent_path, chain, roots)
    except InputError as exc:
        if "extends forms a cycle" in str(exc):
            raise
        raise InputError(f"scenario {parent!r} is invalid: {exc}", source=str(path), key="extends") from None
    base.pop("name", None)
    added = raw.pop("regions_add", None)
    merged = _merge(base, _with_levers_from(raw, path, chain, roots))
    if added is not None:
        merged["regions_add"] = added
    return _add_regions(merged, str(path)), chain


def _add_regions(raw: dict, source: str) -> dict:
    """``[[regions_add]]``: region tables appended to the file's (or the inherited) regions, each
    checked here so that an error names its own key (``regions_add[0].unemployment``)."""
    added = raw.pop("regions_add", None)
    if added is None:
        return raw
    if not isinstance(added, list) or not added:
        raise InputError("must be an array of region tables ([[regions_add]])", source=source,
                         key="regions_add")
    tables = [_check_table(t, REGION_FIELDS, source, f"regions_add[{i}]") for i, t in enumerate(added)]
    ids = [r.get("id") for r in raw.get("regions") or [] if isinstance(r, dict)]
    for i, t in enumerate(tables):
        if t["id"] in ids:
            raise InputError(f"region {t['id']!r} exists already; use [regions_patch.{t['id']}] to "
                             "change it", source=source, key=f"regions_add[{i}].id")
        ids.append(t["id"])
    return {**raw, "regions": list(raw.get("regions") or []) + tables}


def _with_levers_from(raw: dict, path: Path, chain: tuple[str, ...], roots: list[Path]) -> dict:
    """``levers_from = ["wg1_innovation", ...]``: the levers (with their settings) of the named
    scenarios, in order, then the file's own ``[levers]`` (which win), so a package of packages
    follows its parts when a lever is added to one of them."""
    names = raw.pop("levers_from", None)
    if names is None:
        return raw
    if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
        raise InputError("must be a list of scenario names", source=str(path), key="levers_from")
    levers: dict = {}
    for name in names:
        part_path = _find_ref(name, path, "levers_from", roots)
        try:
            part, _ = _load_raw(part_path, (str(path),), roots)
            levers.update(copy.deepcopy(_a_table(part.get("levers", {}), str(part_path), "levers")))
        except InputError as exc:
            raise InputError(f"cannot use {name!r} ({exc})", source=str(path), key="levers_from") from None
    levers.update(_a_table(raw.get("levers", {}), str(path), "levers"))
    return {**raw, "levers": levers}


def _a_table(value: Any, source: str, key: str) -> dict:
    """``value`` if it is a table (any keys), else a one-line error."""
    return check_keys(value, value if isinstance(value, dict) else (), source, key)


def _check_table(table: Any, fields: tuple[Field, ...], source: str, where: str) -> dict:
    check_keys(table, [f.name for f in fields], source, where)
    out = {}
    for f in fields:
        if f.name not in table:
            if f.default is None:
                raise InputError("missing required key", source=source, key=f"{where}.{f.name}")
            out[f.name] = f.default
        elif f.kind is list:
            out[f.name] = table[f.name]
        else:
            out[f.name] = f.check(table[f.name], source, f"{where}.{f.name}")
    return out


def _check_tables(raw: dict, name: str, fields: tuple[Field, ...], source: str) -> list[dict]:
    """The array of tables ``[[name]]``: at least one, each checked, their ids unique."""
    items = raw.get(name)
    if not isinstance(items, list) or not items:
        raise InputError(f"needs at least one [[{name}]] table", source=source, key=name)
    tables = [_check_table(t, fields, source, f"{name}[{i}]") for i, t in enumerate(items)]
    ids = [t["id"] for t in tables]
    if len(set(ids)) != len(ids):
        raise InputError(f"{name[:-1]} ids must be unique", source=source, key=name)
    return tables


def _validate_world(raw: dict, source: str, n_fields: int) -> tuple[tuple[dict, ...], tuple[dict, ...], dict[str, str]]:
    """Sectors and regions, checked; and the dotted key of each region's firm_share (for messages)."""
    sectors = _check_tables(raw, "sectors", SECTOR_FIELDS, source)
    sector_ids = [s["id"] for s in sectors]
    for i, s in enumerate(sectors):
        if s["field"] >= n_fields - 1:
            raise InputError(f"must be below {n_fields - 1} (the last field is the green field)", source=source, key=f"sectors[{i}].field")

    regions = _check_tables(raw, "regions", REGION_FIELDS, source)
    ids = [r["id"] for r in regions]

    patches = raw.get("regions_patch", {})
    if not isinstance(patches, dict):
        raise InputError("must be a table of region ids", source=source, key="regions_patch")
    where = {r["id"]: f"regions[{i}]" for i, r in enumerate(regions)}  # for messages

    def at(rid: str, key: str) -> str:
        """The dotted key of a region's field: its patch's, if the patch set it."""
        return f"regions_patch.{rid}.{key}" if key in patches.get(rid, {}) else f"{where[rid]}.{key}"
    for rid, patch in patches.items():
        if rid not in ids:
            raise InputError(f"names no region; {closest(rid, ids)}", source=source, key=f"regions_patch.{rid}")
        if not isinstance(patch, dict):
            raise InputError(f"must be a table of the region's fields (regions_patch.{rid}.<field> = ...), "
                             f"got {patch!r:.60}", source=source, key=f"regions_patch.{rid}")
        if "id" in patch and patch["id"] != rid:
            raise InputError("a patch cannot change a region's id", source=source, key=f"regions_patch.{rid}.id")
        region = regions[ids.index(rid)]
        merged = dict(region) | patch
        regions[ids.index(rid)] = _check_table(merged, REGION_FIELDS, source, f"regions_patch.{rid}")

    for r in regions:
        rid = r["id"]
        by_size = sum(r[f"enterprises_{c}"] for c in SIZE_CLASS_NAMES)
        if by_size > 0 and r["enterprises"] > 0 and abs(by_size - r["enterprises"]) > 1.0:
            raise InputError(f"the four size classes sum to {by_size:,.0f}, not {r['enterprises']:,.0f}; "
                             "give consistent counts (or only the classes)", source=source, key=at(rid, "enterprises"))
        if by_size > 0:
            r["enterprises"] = by_size
        if r["wage_unskilled"] > r["wage_skilled"]:
            raise InputError("must not exceed wage_skilled", source=source, key=at(rid, "wage_unskilled"))
        if not isinstance(r["clusters"], list | tuple) or not r["clusters"]:
            raise InputError("needs at least one cluster: an array of tables { sector = ..., firm_share = ... }",
                             source=source, key=at(rid, "clusters"))
        clusters = [_check_table(c, CLUSTER_FIELDS, source, f"{at(rid, 'clusters')}[{j}]") for j, c in enumerate(r["clusters"])]
        for j, c in enumerate(clusters):
            if c["sector"] not in sector_ids:
                raise InputError(f"unknown sector; {closest(c['sector'], sector_ids)}", source=source, key=f"{at(rid, 'clusters')}[{j}].sector")
        if len({c["sector"] for c in clusters}) != len(clusters):
            raise InputError("a region has at most one cluster per sector", source=source, key=at(rid, "clusters"))
        if sum(c["firm_share"] for c in clusters) > 1.0 + 1e-9:
            raise InputError("cluster firm_share values sum above 1", source=source, key=at(rid, "clusters"))
        r["clusters"] = tuple(clusters)
    if sum(r["firm_share"] for r in regions) <= 0:
        raise InputError("firm_share values must not all be 0", source=source, key="regions")
    return tuple(sectors), tuple(regions), {r["id"]: at(r["id"], "firm_share") for r in regions}


def _validate_levers(raw: Any, source: str, regions: tuple[dict, ...]) -> dict[str, LeverSetting]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise InputError("must be a table of lever ids", source=source, key="levers")
    region_ids = [r["id"] for r in regions]
    cluster_ids = [f"{r['id']}.{c['sector']}" for r in regions for c in r["clusters"]]
    out = {}
    for lid, setting in raw.items():
        if setting is False:
            continue
        if setting is True:
            setting = {}
        out[lid] = validate_lever(lid, setting, source, region_ids, cluster_ids)
    return out


def scenario_from_dict(raw: dict, source: str = "<dict>", chain: tuple[str, ...] = ()) -> Scenario:
    """Validate an already-merged raw scenario table."""
    raw = _add_regions(dict(raw), source)
    top = Table(raw, source, TOP_KEYS)
    name = top.str("name", Path(source).stem, what="a scenario name")
    sim = dict(top.table("simulation").raw)
    include = sim.pop("regions", None)
    flat = {f"sim.{k}": v for k, v in sim.items()}
    flat.update(flatten(top.table("params").raw))
    for k in flat:
        if k not in P.REGISTRY:
            shown = k[4:] if k.startswith("sim.") and k[4:] in sim else k
            key = f"simulation.{shown}" if k.startswith("sim.") and shown in sim else f"params.{k}"
            raise InputError(f"unknown parameter; {closest(k, P.REGISTRY.params)}", source=source, key=key)
    params = P.validate(flat, source=source)
    n_fields = params.get("sim.knowledge_fields", P.REGISTRY["sim.knowledge_fields"].default)
    sectors, regions, share_key = _validate_world(raw, source, n_fields)
    if include is not None:
        ids = [r["id"] for r in regions]
        if not isinstance(include, list) or not include:
            raise InputError("must be a non-empty list of region ids", source=source, key="simulation.regions")
        for rid in include:
            if rid not in ids:
                raise InputError(f"names no region; {closest(str(rid), ids)}", source=source, key="simulation.regions")
        regions = tuple(r for r in regions if r["id"] in include)
    for r in regions:  # every region that takes part gets firms
        if r["firm_share"] <= 0:
            raise InputError("must be above 0 for a region the run includes (leave the region out "
                             "with [simulation] regions instead)", source=source, key=share_key[r["id"]])
    levers = _validate_levers(raw.get("levers"), source, regions)
    programme = validate_programme(raw.get("programme"), source, [r["id"] for r in regions], list(levers))
    return Scenario(
        name=name,
        title=top.text("title", name) or name,
        description=top.text("description"),
        source=source,
        params=params,
        sectors=sectors,
        regions=regions,
        levers=levers,
        chain=chain,
        programme=programme,
    )


def load_scenario(ref: str | Path = "baseline") -> Scenario:
    """Load, merge (``extends``) and validate a scenario file or a scenario name.

    ``ref`` is the user's own choice (a command-line argument): any path. The references inside
    the file resolve in its search path (:func:`search_roots` of its folder).
    """
    path = find_scenario(ref)
    return _load_file(path, search_roots(path.parent))


def _load_file(path: Path, roots: list[Path]) -> Scenario:
    raw, chain = _load_raw(path, (), roots)
    raw.setdefault("name", path.stem)
    return scenario_from_dict(raw, source=str(path), chain=chain)
