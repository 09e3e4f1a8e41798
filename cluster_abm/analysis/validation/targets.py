"""Calibration targets: published statistics and how the model measures each one.

A *target* is one published figure (``cluster_abm/data/targets.csv``, built from the project's
copy of ``see_targets.csv`` by :func:`targets_from_see`, so every row keeps its source and year)
paired with a *measure*: a function of a run that yields the model's counterpart of the figure.
Where the model's quantity is only a proxy of the published one, the measure's doc says so (and
``docs/calibration.md`` lists them all).

A target applies to a *scope*: ``EU`` is the model total (all regions of the scenario), a
country code (``IT``) is the region(s) of the scenario shaped after that country, and
``stage:early`` (``mature``, ``middle``) pools the regions of one development stage (seed 2.1).
A target whose scope names no region of the scenario is *not applicable* there.

Measures pool the regions of a scope before dividing (ratio of sums, never a mean of regional
ratios) and, for yearly figures, average the yearly values over a *window* of years
(``from_year`` to the end of the run): the first years are skipped because the initial firm
population is drawn from distributions, not grown by the model's own entry and exit, and the
labour market needs a few years to settle (the usual burn-in of simulated method of moments,
Gourieroux, Monfort & Renault 1993; Lee & Ingram 1991).

All the data a measure needs is collected once per run by :func:`observe` into a compact,
picklable :class:`Observation`, so worker processes return a few kilobytes, not a model.
"""

from __future__ import annotations

import csv
import difflib
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from cluster_abm.errors import InputError, closest
from cluster_abm.specs.scenario import STAGES, Scenario

DEFAULT_FROM_YEAR = 5
MICRO_MAX = 10  # "micro" firms have fewer than 10 employees (EU recommendation 2003/361/EC)
SME_MAX = 250  # SMEs have fewer than 250 employees (ibid.)
CIS_MIN = 10  # the Community Innovation Survey covers enterprises with 10+ employees
TARGET_COLUMNS = ("id", "measure", "scope", "value", "unit", "published_value",
                  "published_unit", "year", "source", "indicator", "note")
SURVIVAL_HORIZONS = (1, 2, 3, 4, 5)


# --- what one run leaves behind -------------------------------------------------------------------
@dataclass
class Observation:
    """What the measures need from one run (small and picklable).

    Yearly arrays have shape (years, regions) and hold the state at the end of each year, or
    the flow during it; firm-log arrays have one entry per firm that ever lived.
    """

    region_ids: tuple[str, ...]
    countries: tuple[str, ...]
    stages: tuple[str, ...]
    steps_per_year: int
    t_end: int
    firms_start: np.ndarray  # firms alive at the start of the year
    births: np.ndarray
    deaths: np.ndarray
    firms: np.ndarray  # at the end of the year
    firms_micro: np.ndarray  # fewer than MICRO_MAX employees
    firms_10plus: np.ndarray  # CIS_MIN+ employees
    innovative_10plus: np.ndarray  # of those, innovated within innovation.recent_years
    innovative: np.ndarray  # all firms that innovated within innovation.recent_years
    firms_10_49: np.ndarray  # CIS "small" enterprises
    innovative_10_49: np.ndarray
    firms_250plus: np.ndarray  # CIS "large" enterprises
    innovative_250plus: np.ndarray
    employment: np.ndarray
    sme_employment: np.ndarray
    labour_force: np.ndarray
    skilled_labour_force: np.ndarray
    diaspora: np.ndarray  # skilled citizens abroad
    log_uid: np.ndarray
    log_region: np.ndarray
    log_cluster: np.ndarray
    log_birth: np.ndarray  # step of birth (negative for the initial population)
    log_death: np.ndarray  # step of death, -1 alive at the end
    log_size_birth: np.ndarray
    open_posts: np.ndarray | None = None  # staff firms want beyond their staff, at the year end
    wage_bill: np.ndarray | None = None  # k€/yr at the year end (model units)
    value_added: np.ndarray | None = None  # k€/yr at the year end: revenue (no bought-in inputs)
    log_sector: np.ndarray | None = None  # sector of each logged firm (None: one sector)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def years(self) -> int:
        return int(self.firms.shape[0])

    def regions_of(self, scope: str) -> np.ndarray:
        """Region indices of a scope (see the module docstring); empty if none applies."""
        return _scope_regions(scope, self.region_ids, self.countries, self.stages)


def _scope_regions(scope: str, region_ids, countries, stages) -> np.ndarray:
    if scope in ("EU", "ALL"):
        return np.arange(len(region_ids))
    if scope.startswith("stage:"):
        stage = scope.split(":", 1)[1]
        return np.array([i for i, s in enumerate(stages) if s == stage], dtype=np.int64)
    if scope.startswith("region:"):
        rid = scope.split(":", 1)[1]
        return np.array([i for i, r in enumerate(region_ids) if r == rid], dtype=np.int64)
    return np.array([i for i, c in enumerate(countries) if c == scope], dtype=np.int64)


def scope_regions(scope: str, scenario: Scenario) -> list[str]:
    """Region ids of ``scenario`` a scope covers (empty: the target is not applicable)."""
    regs = scenario.regions
    idx = _scope_regions(scope, [r["id"] for r in regs], [r["country"] for r in regs],
                         [r["stage"] for r in regs])
    return [regs[i]["id"] for i in idx]


def observe(scenario: Scenario, seed: int, years: int | None = None, *,
            keep_model: bool = False,
            on_year: Callable[[Any, int], None] | None = None,
            spinup_cache: Any = "default",
            ) -> Observation | tuple[Observation, Any]:
    """Run one model year by year and collect an :class:`Observation`.

    Stepping a year at a time gives the same run as stepping all at once (the model only
    steps); the year ends are where the size-dependent counts (micro firms, CIS-sized firms and
    their innovators) and the skilled diaspora are read from the model state. ``on_year(model,
    year)`` is called at every year end (validation reads firm-level state there); with
    ``keep_model`` the finished model is returned too (validation reads its ties).
    ``spinup_cache``: where the spun-up world is found and kept (``ClusterModel``'s argument;
    "default": the model's default cache; None spins up afresh and keeps nothing, as a
    calibration trial does: its parameters make a world no later run reuses).
    """
    from cluster_abm.model.cluster_model import (
        ClusterModel,  # the model is imported by workers, not by `import targets`
    )

    warm = {} if isinstance(spinup_cache, str) and spinup_cache == "default" else {
        "spinup_cache": spinup_cache}
    model = ClusterModel(scenario, seed=seed, **warm)
    spy = model.p.steps_per_year
    n_years = int(model.p.yearly.sim.years if years is None else years)
    if n_years < 1:
        raise ValueError(f"years must be at least 1, got {n_years}")
    window = model.p.yearly.innovation.recent_years * spy
    R = model.world.n_regions
    keys = ("firms_micro", "firms_10plus", "innovative_10plus", "innovative", "diaspora",
            "skilled_labour_force", "firms_10_49", "innovative_10_49", "firms_250plus",
            "innovative_250plus")
    snap = {k: np.zeros((n_years, R)) for k in keys}
    for y in range(n_years):
        model.run(1)
        ft = model.firms
        idx = ft.idx
        reg = ft.region[idx].astype(np.int64)
        emp = ft.employees[idx]
        recent = (model.t - ft.last_innov[idx]) < window
        big = emp >= CIS_MIN
        snap["firms_micro"][y] = np.bincount(reg, weights=emp < MICRO_MAX, minlength=R)
        snap["firms_10plus"][y] = np.bincount(reg, weights=big, minlength=R)
        snap["innovative_10plus"][y] = np.bincount(reg, weights=big & recent, minlength=R)
        snap["innovative"][y] = np.bincount(reg, weights=recent, minlength=R)
        small = big & (emp < 50)
        large = emp >= SME_MAX
        snap["firms_10_49"][y] = np.bincount(reg, weights=small, minlength=R)
        snap["innovative_10_49"][y] = np.bincount(reg, weights=small & recent, minlength=R)
        snap["firms_250plus"][y] = np.bincount(reg, weights=large, minlength=R)
        snap["innovative_250plus"][y] = np.bincount(reg, weights=large & recent, minlength=R)
        snap["diaspora"][y] = model.diaspora
        snap["skilled_labour_force"][y] = model.lf_s
        if on_year is not None:
            on_year(model, y + 1)
    wide = model.series_wide()  # (steps + 1) x (R + 1); index 0 is the initial state
    ends = np.arange(1, n_years + 1) * spy
    starts = ends - spy

    def flow(name: str) -> np.ndarray:
        v = wide[name][1:, :R]  # events of step t are at index t + 1
        return v[: n_years * spy].reshape(n_years, spy, R).sum(axis=1)

    emp_end = wide["employment"][ends, :R]
    log = model.log.frame()
    w = model.world
    obs = Observation(
        region_ids=tuple(r.id for r in w.regions),
        countries=tuple(r.country for r in w.regions),
        stages=tuple(r.stage for r in w.regions),
        steps_per_year=spy,
        t_end=model.t - model.t0,  # the firm log's steps count from policy year 0, not the spin-up
        firms_start=wide["firms"][starts, :R],
        births=flow("births"),
        deaths=flow("deaths"),
        firms=wide["firms"][ends, :R],
        employment=emp_end,
        sme_employment=emp_end * np.nan_to_num(wide["sme_employment_share"][ends, :R]),
        labour_force=wide["labour_force"][ends, :R],
        open_posts=wide["open_posts"][ends, :R],
        wage_bill=wide["wage_bill"][ends, :R],
        value_added=wide["value_added"][ends, :R],
        log_uid=log["uid"].to_numpy(np.int64),
        log_region=log["region"].to_numpy(np.int64),
        log_cluster=log["cluster"].to_numpy(np.int64),
        log_birth=log["birth_step"].to_numpy(np.int64),
        log_death=log["death_step"].to_numpy(np.int64),
        log_size_birth=log["size_birth"].to_numpy(np.int64),
        log_sector=log["sector"].to_numpy(np.int64),
        **snap,
    )
    return (obs, model) if keep_model else obs


# --- measures -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Measure:
    """How the model measures one kind of published figure."""

    name: str
    unit: str
    doc: str
    fn: Callable[[Observation, np.ndarray, int], float]
    proxy: str = ""  # how the model's quantity differs from the published one ("" = same thing)


def _years_from(obs: Observation, from_year: int) -> slice:
    """Rows of the yearly arrays in the window: years from_year+1 .. end (1-based year ends)."""
    start = min(max(int(from_year), 0), max(obs.years - 1, 0))
    return slice(start, obs.years)


def _yearly_ratio(num: str, den: str) -> Callable[[Observation, np.ndarray, int], float]:
    def fn(obs: Observation, regs: np.ndarray, from_year: int) -> float:
        sl = _years_from(obs, from_year)
        n = getattr(obs, num)[sl][:, regs].sum(axis=1)
        d = getattr(obs, den)[sl][:, regs].sum(axis=1)
        ok = d > 0
        return float(np.mean(n[ok] / d[ok])) if ok.any() else math.nan
    return fn


def _unemployment(obs: Observation, regs: np.ndarray, from_year: int) -> float:
    sl = _years_from(obs, from_year)
    lf = obs.labour_force[sl][:, regs].sum(axis=1)
    emp = obs.employment[sl][:, regs].sum(axis=1)
    ok = lf > 0
    return float(np.mean((lf[ok] - emp[ok]) / lf[ok])) if ok.any() else math.nan


def _vacancy_rate(obs: Observation, regs: np.ndarray, from_year: int) -> float:
    if obs.open_posts is None:
        return math.nan
    sl = _years_from(obs, from_year)
    v = obs.open_posts[sl][:, regs].sum(axis=1)
    posts = v + obs.employment[sl][:, regs].sum(axis=1)
    ok = posts > 0
    return float(np.mean(v[ok] / posts[ok])) if ok.any() else math.nan


def _labour_share(obs: Observation, regs: np.ndarray, from_year: int) -> float:
    if obs.wage_bill is None or obs.value_added is None:
        return math.nan
    return _yearly_ratio("wage_bill", "value_added")(obs, regs, from_year)


def _emigrants(obs: Observation, regs: np.ndarray, from_year: int) -> float:
    sl = _years_from(obs, from_year)
    dia = obs.diaspora[sl][:, regs].sum(axis=1)
    lfs = obs.skilled_labour_force[sl][:, regs].sum(axis=1)
    ok = (dia + lfs) > 0
    return float(np.mean(dia[ok] / (dia[ok] + lfs[ok]))) if ok.any() else math.nan


def followed_cohort(obs: Observation, from_year: int, years: float) -> tuple[np.ndarray, np.ndarray]:
    """Masks over the firm log: the firms born from ``from_year`` on that can be followed for
    ``years`` (born at least ``years`` before the end of the run), and the logged firms alive
    ``years`` after their birth. Exits come before births in a step, so a firm that leaves in
    the step ``years`` after its birth step did not survive them."""
    spy = obs.steps_per_year
    horizon = int(round(years * spy))
    born = (obs.log_birth >= int(from_year) * spy) & (obs.log_birth + horizon <= obs.t_end)
    alive = ~((obs.log_death >= 0) & (obs.log_death <= obs.log_birth + horizon))
    return born, alive


def cohort_survival(obs: Observation, regs: np.ndarray, from_year: int, years: float,
                    cluster: str | None = None) -> float:
    """Share of firms born from ``from_year`` on (in the scope) alive ``years`` after birth
    (:func:`followed_cohort`). ``cluster``: "in" (firms in a cluster) or "out" (outside)."""
    born, alive = followed_cohort(obs, from_year, years)
    mask = born & np.isin(obs.log_region, regs)
    if cluster == "in":
        mask &= obs.log_cluster >= 0
    elif cluster == "out":
        mask &= obs.log_cluster < 0
    if not mask.any():
        return math.nan
    return float(alive[mask].mean())


def _survival(years: int, cluster: str | None = None):
    def fn(obs: Observation, regs: np.ndarray, from_year: int) -> float:
        return cohort_survival(obs, regs, from_year, years, cluster)
    return fn


def _newborn_size(obs: Observation, regs: np.ndarray, from_year: int) -> float:
    mask = (obs.log_birth >= int(from_year) * obs.steps_per_year) & np.isin(obs.log_region, regs)
    return float(obs.log_size_birth[mask].mean()) if mask.any() else math.nan


_CIS_PROXY = ("CIS counts enterprises with 10+ employees that were innovation-active over three "
              "years, including ongoing and abandoned activities and business-process "
              "innovation; the model counts firms with 10+ employees that introduced a product "
              "or process innovation in the last innovation.recent_years (3) years: a narrower "
              "concept, so with the same behaviour the model's share would be the lower one")

MEASURE_LIST = [
    Measure("birth_rate", "1/yr", "Firm births in a year over firms alive at its start, pooled "
            "over the scope's regions, mean over the window's years.",
            _yearly_ratio("births", "firms_start"),
            "Eurostat counts births of enterprises with any activity (employer or not); the "
            "model's firms all employ at least their founder"),
    Measure("death_rate", "1/yr", "Firm deaths in a year over firms alive at its start, pooled, "
            "mean over the window's years.", _yearly_ratio("deaths", "firms_start"),
            "Eurostat's latest death rates are preliminary (a death is confirmed after two "
            "years of inactivity); the model counts exits when they happen"),
    *[Measure(f"survival_{k}y", "share", f"Share of firms born in the window (in the scope) "
              f"still alive {k} year{'s' if k > 1 else ''} after birth; cohorts that cannot be "
              f"followed {k} year{'s' if k > 1 else ''} before the end are left out.", _survival(k),
              "published rates follow one cohort (e.g. 2013); the model pools every cohort born "
              "in the window") for k in SURVIVAL_HORIZONS],
    Measure("survival_4y_in_cluster", "share", "4-year survival of firms born in the window in "
            "a cluster of the scope's regions.", _survival(4, "in"),
            "ISTAT's 'industrial districts' are whole local labour systems; the model's "
            "clusters are its firms with a cluster id"),
    Measure("survival_4y_outside_cluster", "share", "4-year survival of firms born in the "
            "window outside clusters.", _survival(4, "out"),
            "as survival_4y_in_cluster"),
    Measure("sme_employment_share", "share", "Employment in firms with fewer than 250 employees "
            "over all employment at each year end, pooled, mean over the window.",
            _yearly_ratio("sme_employment", "employment"),
            "published shares cover the whole non-financial business economy; the model covers "
            "its cluster sectors, with one large firm able to move a small region's share"),
    Measure("micro_share_of_firms", "share", "Firms with fewer than 10 employees over all firms "
            "at each year end, pooled, mean over the window.",
            _yearly_ratio("firms_micro", "firms")),
    Measure("innovative_share_10plus", "share", "Firms with 10+ employees that innovated in "
            "the last innovation.recent_years years over all firms with 10+ employees, at each "
            "year end, pooled, mean over the window.",
            _yearly_ratio("innovative_10plus", "firms_10plus"), _CIS_PROXY),
    Measure("innovative_share_10_49", "share", "As innovative_share_10plus for firms with 10-49 "
            "employees (the CIS 'small' class).",
            _yearly_ratio("innovative_10_49", "firms_10_49"), _CIS_PROXY),
    Measure("innovative_share_250plus", "share", "As innovative_share_10plus for firms with 250+ "
            "employees (the CIS 'large' class; few firms, so noisy).",
            _yearly_ratio("innovative_250plus", "firms_250plus"), _CIS_PROXY),
    Measure("innovative_firm_share", "share", "Firms (any size) that innovated in the last "
            "innovation.recent_years years over all firms, at each year end, pooled, mean over "
            "the window (the model's innovative_firm_share series).",
            _yearly_ratio("innovative", "firms"),
            _CIS_PROXY.replace("firms with 10+ employees", "firms of any size")),
    Measure("unemployment_rate", "share", "Unemployed over the labour force at each year end, "
            "pooled, mean over the window.", _unemployment,
            "the published rates are national (ILO definition); the model's labour force is "
            "the workers its regions' cluster firms can hire. The baseline starts each region "
            "at its country's published rate, so this target checks that the labour market "
            "stays there, not that it gets there"),
    Measure("job_vacancy_rate", "share", "Open posts (staff firms want beyond the staff they "
            "have) over occupied plus open posts at each year end, pooled, mean over the window.",
            _vacancy_rate,
            "Eurostat counts posts employers are actively recruiting for (industry, construction "
            "and services, firms of every size); the model's open posts are its firms' planned "
            "staff not yet hired"),
    Measure("labour_share", "share", "Wage bill (every person at the region's wage of their "
            "skill, owner-managers included) over value added (revenue: the model has no "
            "bought-in inputs) at each year end, pooled, mean over the window.", _labour_share,
            "Eurostat's structural business statistics divide average personnel costs per "
            "employee by value added per person employed (the non-financial business economy), "
            "which costs the self-employed at employees' pay as the model costs owner-managers"),
    Measure("emigrant_share", "share", "Skilled citizens abroad over skilled citizens (abroad "
            "plus the skilled labour force) at each year end, pooled, mean over the window "
            "(the diaspora_share series).", _emigrants,
            "Eurostat counts citizens aged 20-64 of every skill living in another EU state; "
            "the model tracks the stock of skilled emigrants only. The baseline starts each "
            "region at its country's published share, so the target checks the drift"),
    Measure("newborn_mean_size", "persons", "Mean employees at birth of firms born in the "
            "window.", _newborn_size,
            "an input of the model (demography.startup_employees), so a check, not a fit"),
]
MEASURES: dict[str, Measure] = {m.name: m for m in MEASURE_LIST}


def measure(obs: Observation, name: str, scope: str, from_year: int = DEFAULT_FROM_YEAR) -> float:
    """The model's value of measure ``name`` over ``scope`` (NaN if the scope has no region)."""
    regs = obs.regions_of(scope)
    if len(regs) == 0:
        return math.nan
    return MEASURES[name].fn(obs, regs, from_year)


# --- targets --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Target:
    """One published figure and the measure the model compares it with."""

    id: str
    measure: str
    scope: str
    value: float  # in the measure's unit (shares, not percent)
    unit: str
    published_value: float
    published_unit: str
    year: int
    source: str
    indicator: str
    note: str = ""

    def citation(self) -> str:
        return f"{self.source}, {self.year} ({self.indicator}, {self.scope})"

    def simulated(self, obs: Observation, from_year: int = DEFAULT_FROM_YEAR) -> float:
        return measure(obs, self.measure, self.scope, from_year)


def default_targets_path() -> Path:
    return Path(str(resources.files("cluster_abm") / "data" / "targets.csv"))


def load_targets(path: str | Path | None = None) -> dict[str, Target]:
    """Read a targets table (default: the project's ``data/targets.csv``), checked."""
    path = Path(path) if path is not None else default_targets_path()
    src = str(path)
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    except FileNotFoundError:
        raise InputError("file not found", source=src) from None
    if not rows:
        raise InputError("holds no targets", source=src)
    missing = [c for c in TARGET_COLUMNS if c not in rows[0]]
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)}", source=src)
    out: dict[str, Target] = {}
    for i, row in enumerate(rows, start=2):
        key = f"line {i}"
        if row["measure"] not in MEASURES:
            raise InputError(f"unknown measure {row['measure']!r}; "
                             f"{closest(row['measure'], MEASURES)}", source=src, key=key)
        if row["id"] in out:
            raise InputError(f"target id {row['id']!r} appears twice", source=src, key=key)
        try:
            value, pub, year = float(row["value"]), float(row["published_value"]), int(row["year"])
        except ValueError:
            raise InputError("value, published_value and year must be numbers", source=src,
                             key=key) from None
        if not (row["source"] and row["year"]):
            raise InputError("every target needs its source and year", source=src, key=key)
        out[row["id"]] = Target(row["id"], row["measure"], row["scope"], value, row["unit"], pub,
                                row["published_unit"], year, row["source"], row["indicator"],
                                row["note"])
    return out


def check_scope(scope: str, source: str, key: str) -> None:
    if scope.startswith("stage:") and scope.split(":", 1)[1] not in STAGES:
        raise InputError(f"unknown stage in scope {scope!r}; allowed: "
                         f"{', '.join('stage:' + s for s in STAGES)}", source=source, key=key)


# --- building targets.csv from the published statistics -------------------------------------------
# indicator of see_targets.csv -> measure. Rows of other indicators (R&D intensity, graduate
# employment, network contracts, cluster labels) have no model measure yet and are left out.
SEE_INDICATORS = {
    "enterprise_birth_rate": "birth_rate",
    "employer_enterprise_birth_rate": "birth_rate",
    "enterprise_death_rate": "death_rate",
    "employer_enterprise_death_rate": "death_rate",
    "enterprise_1y_survival": "survival_1y",
    "employer_enterprise_1y_survival": "survival_1y",
    "enterprise_2y_survival": "survival_2y",
    "enterprise_3y_survival": "survival_3y",
    "employer_enterprise_3y_survival": "survival_3y",
    "enterprise_4y_survival": "survival_4y",
    "enterprise_5y_survival": "survival_5y",
    "employer_enterprise_5y_survival": "survival_5y",
    "enterprise_4y_survival_in_district": "survival_4y_in_cluster",
    "enterprise_4y_survival_outside_district": "survival_4y_outside_cluster",
    "sme_share_of_employment": "sme_employment_share",
    "micro_share_of_enterprises": "micro_share_of_firms",
    "innovation_active_enterprises": "innovative_share_10plus",
    "innovation_active_enterprises_small": "innovative_share_10_49",
    "innovation_active_enterprises_large": "innovative_share_250plus",
    "working_age_citizens_living_in_other_eu_state": "emigrant_share",
    "unemployment_rate": "unemployment_rate",
    "job_vacancy_rate": "job_vacancy_rate",
    "newborn_enterprise_mean_size": "newborn_mean_size",
    "labour_share_business_economy": "labour_share",
}
# Where one country has several figures for one measure, the *primary* one gets the plain id
# (measure.scope) and the others id.year: figures the source calls secondary last, Eurostat's
# harmonised releases before national ones, then the most recent.
_PRIMARY_SOURCE_HINT = "Eurostat"


def targets_from_see(see_csv: str | Path) -> list[dict[str, str]]:
    """Rows of targets.csv from a see_targets.csv (published statistics, one figure a row)."""
    with open(see_csv, newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["indicator"] in SEE_INDICATORS]
    groups: dict[tuple[str, str], list[dict[str, str]]] = {}
    for r in rows:
        groups.setdefault((SEE_INDICATORS[r["indicator"]], r["country"]), []).append(r)
    out = []
    for (meas, scope), group in groups.items():
        ranked = sorted(group, key=lambda r: ("secondary" in r["note"],
                                              _PRIMARY_SOURCE_HINT not in r["source"],
                                              -int(r["year"])))
        seen_years: set[str] = set()
        for rank, r in enumerate(ranked):
            tid = f"{meas}.{scope}" if rank == 0 else f"{meas}.{scope}.{r['year']}"
            if rank and r["year"] in seen_years:
                tid = f"{tid}.{rank}"
            seen_years.add(r["year"])
            pub = float(r["value"])
            unit = MEASURES[meas].unit
            value = pub / 100.0 if r["unit"] == "percent" else pub
            note = r["note"]
            if r["indicator"].startswith("employer_") and "employer" not in note:
                note = "; ".join(x for x in (note, "employer enterprises only") if x)
            out.append({"id": tid, "measure": meas, "scope": scope, "value": f"{value:.6g}",
                        "unit": unit, "published_value": r["value"], "published_unit": r["unit"],
                        "year": r["year"], "source": r["source"], "indicator": r["indicator"],
                        "note": note})
    order = {m.name: i for i, m in enumerate(MEASURE_LIST)}
    out.sort(key=lambda t: (order[t["measure"]], t["scope"] != "EU", t["scope"], t["id"]))
    return out


def write_targets_csv(rows: Iterable[dict[str, str]], path: str | Path) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=TARGET_COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def suggest_target(name: str, targets: Iterable[str]) -> str:
    """A 'did you mean' hint for a target id (ids are long and dotted: compare case-blind)."""
    targets = list(targets)
    lower = {t.lower(): t for t in targets}
    near = difflib.get_close_matches(name.lower(), list(lower), n=3, cutoff=0.6)
    if near:
        return "did you mean " + " or ".join(repr(lower[n]) for n in near) + "?"
    return closest(name, targets)


if __name__ == "__main__":  # python -m cluster_abm.analysis.validation.targets SEE_CSV OUT_CSV: rebuild targets.csv
    import sys

    if len(sys.argv) != 3:
        print("usage: python -m cluster_abm.analysis.validation.targets see_targets.csv targets.csv", file=sys.stderr)
        sys.exit(2)
    write_targets_csv(targets_from_see(sys.argv[1]), sys.argv[2])
