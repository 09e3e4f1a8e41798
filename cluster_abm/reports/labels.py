"""How the report names outcomes and their units, formats their values, and says why a value is
missing.

Labels come from :mod:`cluster_abm.outputs.metrics` (``SERIES[...].label``, ``KPIS[...].label``);
this module turns the catalogue's units into words (``count/step`` recorded yearly is "per year"),
picks the formatter a unit needs (money in euros, shares in per cent and their changes in
percentage points), decides where a relative change means something (a positive level, not a
share, not a change), and explains a missing value with what it means and a measure to read
instead.
"""

from __future__ import annotations

import re

from cluster_abm.outputs.metrics import KPIS, SERIES
from cluster_abm.reports import numbers

SHARE_UNITS = ("share",)
INDEX_UNITS = ("0-1", "HHI 0-1")
MONEY_UNITS = ("k€", "k€ (real region)", "k€/yr", "k€/firm")
# KPIs that are changes (can be negative in the baseline): no relative change of a change.
CHANGE_KPIS = ("jobs_net", "jobs_net_real")

UNIT_WORDS = {
    "persons": "persons", "persons (real region)": "persons", "share": "%", "0-1": "index, 0 to 1",
    "HHI 0-1": "index, 0 to 1", "count/yr": "per year", "k€ (real region)": "€", "k€": "€",
    "ties": "ties", "firms": "firms", "enterprises (real region)": "enterprises",
    "1/yr": "per firm and year", "per 1000/yr": "per 1,000 skilled workers and year",
    "t CO2e per k€": "t CO2e per €1,000 of revenue", "ku/firm": "knowledge units per firm",
    "ku": "knowledge units", "count": "count", "kt CO2e/yr": "kt CO2e per year",
    "1/yr (hazard)": "per year",
}

# A KPI that can be undefined, why, and the measure to read instead.
FALLBACK = {
    "incubated_survival_3y": "incubator_cluster_survival_2y",
    "survival_5y": "survival_3y",
    "survival_3y": "survival_1y",
    "employment_final_real": "employment_final",
    "jobs_net_real": "jobs_net",
    "skilled_emigrants_total_real": "skilled_emigrants_total",
    "firms_final_real": "firms_final",
}
_SURVIVAL = re.compile(r"^survival_(\d+)y$")


def kpi_label(name: str) -> str:
    return KPIS[name].label if name in KPIS else name.replace("_", " ")


def series_label(name: str) -> str:
    return SERIES[name].label if name in SERIES else name.replace("_", " ")


def kpi_unit(name: str) -> str:
    return KPIS[name].unit if name in KPIS else ""


def unit_words(unit: str | None, yearly: bool = True) -> str:
    """A catalogue unit in words; per-step flows recorded (or summed) by year are per year."""
    unit = unit or ""
    if "/step" in unit:
        base = unit.replace("/step", "").replace(" (real region)", "")
        base = {"count": "", "k€": "€", "persons": "persons", "ku": "knowledge units"}.get(base, base)
        per = "per year" if yearly else "per quarter"
        return f"{base} {per}".strip()
    return UNIT_WORDS.get(unit, unit.replace(" (real region)", ""))


def is_share(unit: str | None) -> bool:
    return (unit or "") in SHARE_UNITS


def is_money(unit: str | None) -> bool:
    return (unit or "").split("/")[0].replace(" (real region)", "") in ("k€",)


def value_text(x, unit: str | None, signed: bool = False) -> str:
    """A value (``signed``: a change) in its unit's format: money in euros, shares in per cent
    (changes in percentage points), the rest as numbers."""
    if is_money(unit):
        return numbers.money(x, signed=signed)
    if is_share(unit):
        return numbers.points(x, signed=True) if signed else numbers.percent(x)
    return numbers.num(x, signed=signed)


def unit_column(unit: str | None) -> str:
    """What a table's unit column says: money and shares carry their unit in the value."""
    if is_money(unit):
        return "€"
    if is_share(unit):
        return "%; changes in pp"
    return unit_words(unit)


def relative_meaningful(kpi: str, baseline_mean) -> bool:
    """A relative change only of a positive level: not of a share or index (their change is
    shown in points), not of a change (jobs_net can be negative), not of a level near zero."""
    unit = kpi_unit(kpi)
    return (numbers.finite(baseline_mean) and float(baseline_mean) > 0
            and unit not in SHARE_UNITS + INDEX_UNITS and kpi not in CHANGE_KPIS)


def why_missing(kpi: str, years: float, base_missing: bool, package_missing: bool) -> str:
    """What a missing (NaN) effect on ``kpi`` means, in words."""
    where = ("in the baseline" if base_missing and not package_missing
             else "with the package" if package_missing and not base_missing
             else "in these runs")
    m = _SURVIVAL.match(kpi)
    if m:
        n = int(m.group(1))
        if years <= n:
            return (f"not defined {where}: no firm born during a {years:g}-year run can have "
                    f"lived {n} years by its end")
        return f"not defined {where}: no firm born during the run had reached {n} years by its end"
    if kpi == "incubated_survival_3y":
        if base_missing and not package_missing:
            return ("not comparable: the baseline runs no incubators, so it has no incubated "
                    "ventures to compare with")
        return ("not defined " + where + ": no incubated venture had reached 3 years by the end "
                "of the run (no incubators run, or the run is too short)")
    if kpi == "incubator_cluster_survival_2y":
        return (f"not defined {where}: no cluster had the policy.incubator_min_cluster_enterprises "
                "real enterprises an incubator needs at the start (a small world?), or no firm born in "
                "one reached 2 years by the end of the run")
    if kpi.endswith("_real"):
        return ("not defined " + where + ": a region gives no number of enterprises, so there "
                "are no real-region units")
    return f"not defined {where}"


def fallback(kpi: str) -> str | None:
    """The KPI to read where ``kpi`` is not defined (None if there is none)."""
    return FALLBACK.get(kpi)
