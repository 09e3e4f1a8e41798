"""Human wording for the workshop app: names instead of ids, numbers with units, no list syntax.

A room reads "Automotive components, Upper Austria", not ``upper_austria.automotive``; "at least
30 firms", not ``policy.incubator_min_cluster_enterprises``; "Veneto, Upper Austria", not
``['veneto', 'upper_austria']``. :class:`Names` turns a scenario's ids into its display names and
:func:`humanise` rewrites any text the app shows (lever conditions and costs, error messages) with
them. :func:`lever_tip` is a lever's tooltip: seed section, mechanism, what to expect, cost.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from cluster_abm.params import registry as params_mod
from cluster_abm.policy import levers as policies

_DOTTED_ID = re.compile(r"(?<![\w.])[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*(?![\w.])")
_PY_LIST = re.compile(r"\[((?:\s*'[^'\[\]]*'\s*,?)+)\]")
_FIXED_WORDS = {"ki": "KI", "kis": "KIs", "cmo": "CMO", "cmos": "CMOs", "rd": "R&D", "qh": "QH",
                "kibs": "KIBS", "eu": "EU", "ict": "ICT", "sme": "SME", "smes": "SMEs",
                "kpi": "KPI", "co2e": "CO2e", "hhi": "HHI"}


def sentence_case(key: str, capital: bool = True) -> str:
    """``ki_projects_started`` -> "KI projects started" (``capital=False``: "KI projects ...")."""
    words = key.replace("_", " ").replace(".", " ").split()
    text = " ".join(_FIXED_WORDS.get(w, w) for w in words)
    return text[:1].upper() + text[1:] if capital else text


def param_label(name: str) -> str:
    """A registry parameter's display name: ``policy.incubator_years`` -> "Incubator years"."""
    return sentence_case(name.split(".", 1)[-1])


def fmt_number(v: float, digits: int | None = None) -> str:
    """10684 -> "10 684" (a narrow no-break space: a number never wraps), 0.125 -> "0.125";
    ``digits`` decimals if given."""
    if digits is None:
        a = abs(v)
        digits = 0 if a >= 100 or a == 0 or float(v).is_integer() else 1 if a >= 10 else 2 if a >= 1 else 3
    return f"{v:,.{digits}f}".replace(",", "\u202f")


def money(k_eur: float) -> tuple[str, str]:
    """An amount in k€ as a room reads it: 850 -> ("850", "k€"), 12 345 -> ("12.3", "M€"),
    2.5e6 -> ("2.50", "bn €") (three significant figures, at least)."""
    a = abs(k_eur)
    value, unit = (k_eur / 1e6, "bn €") if a >= 1e6 else (k_eur / 1e3, "M€") if a >= 1e3 else (k_eur, "k€")
    b = abs(value)
    digits = 0 if b >= 100 or b == 0 else 1 if b >= 10 else 2
    return fmt_number(value, digits), unit


def unit_words(unit: str) -> str:
    """A registry or series unit as words for a room: "k€/yr" -> "k€ a year", "-" -> ""."""
    u = (unit or "").strip()
    if u in ("-", "", "index"):
        return ""
    if u == "0-1":
        return "0 to 1"
    return (u.replace("/step", "").replace("/yr", " a year").replace("1 a year", "a year")
            .replace("count", "").strip())


@dataclass
class Names:
    """Display names of one scenario's regions, clusters and sectors (ids as the fallback)."""

    regions: dict[str, str] = field(default_factory=dict)
    clusters: dict[str, str] = field(default_factory=dict)
    sectors: dict[str, str] = field(default_factory=dict)
    params: dict[str, float] = field(default_factory=dict)  # values in force, for conditions

    @classmethod
    def of(cls, *scenarios) -> Names:
        """Names from one or more scenarios (the first naming an id wins)."""
        out = cls()
        for sc in scenarios:
            if sc is None:
                continue
            for s in sc.sectors:
                out.sectors.setdefault(s["id"], s["name"])
            for r in sc.regions:
                out.regions.setdefault(r["id"], r["name"])
                for c in r["clusters"]:
                    sector = out.sectors.get(c["sector"], sentence_case(c["sector"]))
                    out.clusters.setdefault(f"{r['id']}.{c['sector']}", f"{sector}, {r['name']}")
            for name in params_mod.REGISTRY.params:
                out.params.setdefault(name, sc.param(name))
        return out

    def region(self, rid: str) -> str:
        return self.regions.get(rid, sentence_case(rid))

    def cluster(self, cid: str) -> str:
        if cid in self.clusters:
            return self.clusters[cid]
        region, _, sector = cid.partition(".")
        return f"{self.sectors.get(sector, sentence_case(sector))}, {self.region(region)}"

    def any_id(self, token: str) -> str | None:
        """The display name of a region, cluster or parameter id, or None."""
        if token in self.regions:
            return self.regions[token]
        if token in self.clusters:
            return self.clusters[token]
        if token in params_mod.REGISTRY.params:
            p = params_mod.REGISTRY[token]
            value = self.params.get(token, p.default)
            if isinstance(value, bool):
                return param_label(token) + (" (on)" if value else " (off)")
            shown = fmt_number(float(value))
            if "€" in p.unit:  # money: "20 k€" (the text says "per year" itself)
                return f"{shown} {p.unit.split('/')[0]}"
            return shown
        return None


def humanise(text: str, names: Names | None = None) -> str:
    """``text`` with Python list syntax flattened and ids replaced by display names."""
    names = names or Names()

    def flat_list(m: re.Match) -> str:
        items = [names.any_id(i) or i for i in re.findall(r"'([^']*)'", m.group(1))]
        return ("; " if any(", " in i for i in items) else ", ").join(items)

    text = _PY_LIST.sub(flat_list, text)

    def replace_id(m: re.Match) -> str:
        shown = names.any_id(m.group(0))
        return m.group(0) if shown is None else shown

    text = _DOTTED_ID.sub(replace_id, text)
    # bare region ids (one word with underscores, e.g. north_east_romania) and quoted ids
    for rid, rname in sorted(names.regions.items(), key=lambda kv: -len(kv[0])):
        text = re.sub(rf"(?<![\w.]){re.escape(rid)}(?![\w.])", rname, text)
    text = re.sub(r"'([^'\s]+)'", lambda m: f"“{m.group(1)}”", text)
    return text


def mechanism_words(mechanism: str) -> str:
    """``mechanisms.cooperation.become_glocal`` -> "cooperation: become glocal"."""
    parts = [p for p in mechanism.split(".") if p not in ("mechanisms", "agents", "model")]
    if not parts:
        return mechanism
    what = sentence_case(parts[-1], capital=False)
    if len(parts) >= 2 and parts[-2][:1].isupper():  # a class: ClusterOrganisation.plan_services
        owner = re.sub(r"(?<!^)([A-Z])", r" \1", parts[-2]).lower()
        return f"{owner}: {what}"
    if len(parts) >= 2:
        return f"{sentence_case(parts[-2], capital=False)}: {what}"
    return what


def outcome_words(series: str) -> str:
    """A series id as words, e.g. ``glocal_firms`` -> "glocal firms"."""
    return sentence_case(series, capital=False)


def lever_tip(lever: policies.Lever, names: Names | None = None) -> str:
    """The lever's tooltip: seed section, mechanism, what to expect, cost (one short paragraph
    per line)."""
    from cluster_abm.outputs.metrics import SERIES  # (imports the model's grid: lazily)

    verb = "raises" if lever.direction == "+" else "lowers"
    series = SERIES.get(lever.outcome)
    what = outcome_words(lever.outcome)
    if series is not None:
        doc = series.doc.rstrip(".")
        what = doc[:1].lower() + doc[1:] if not doc[:2].isupper() else doc
        unit = unit_words(series.unit)
        what += f" ({unit})" if unit else ""
    lines = [
        f"Seed section {lever.seed} · {policies.WG_NAMES.get(lever.wg, lever.wg)}",
        f"Acts through {mechanism_words(lever.mechanism)}.",
        f"What to expect: it {verb} {what}.",
        f"Cost: {humanise(lever.cost, names)}.",
    ]
    if lever.condition:
        lines.append(f"Condition: {humanise(lever.condition, names)}.")
    return "\n".join(lines)
