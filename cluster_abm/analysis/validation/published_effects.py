"""The model's policy effects beside published evaluations (issue 21), for ``cluster-abm validate``.

``scripts/measure_policy_effects.py`` runs the treatments (paired seeds, each treated firm against
itself in the baseline run) and writes a machine-readable file, by default
``docs/figures/policy_effects.csv``: one row per treatment, outcome and horizon with the mean,
the 95 % interval and the number of seeds, and on every row when and on which model it was
measured (git revision, the fingerprint of the model code, that of the baseline scenario).
``validate`` does not run those experiments: it renders the file beside the published effects
of :data:`PUBLISHED` (the one declarative table of published figures; sources in
``docs/policy_evidence.md``, discussion in ``docs/policy_effects.md``), and says plainly when the
file is missing or was measured on other model code than the current one.

The comparison is of sign (and order of magnitude, read by eye): each row says whether the
model's effect at the evaluation's horizon has the published sign ("none" published: the
model's interval includes zero).
"""

from __future__ import annotations

import csv
import datetime as _dt
import hashlib
import json
import math
import subprocess
from dataclasses import dataclass
from pathlib import Path

CSV_COLUMNS = ("treatment", "outcome", "horizon", "mean", "lo", "hi", "seeds", "first_seed",
               "measured", "git_revision", "model_code", "scenario")


def default_csv_path() -> Path:
    """``docs/figures/policy_effects.csv`` of the source tree the package runs from."""
    return Path(__file__).resolve().parents[3] / "docs" / "figures" / "policy_effects.csv"


@dataclass(frozen=True)
class Published:
    """One published effect beside one of the script's outcomes.

    ``direction``: +1 or -1 (the published sign), 0 (no effect found). ``horizon``: the policy
    year at which the model is read for the sign (the evaluation's horizon, or the nearest the
    script measures).
    """

    treatment: str
    outcome: str
    programme: str
    effect: str
    direction: int
    horizon: int
    source: str
    note: str = ""


PUBLISHED = (
    Published("network_contracts", "turnover, log points",
              "Business network contracts, Italy (PSM)",
              "all members: turnover +14.4 % after 3 years", +1, 3,
              "Istat, Centro Studi Confindustria & RetImpresa (2017), Reti d'impresa: gli effetti "
              "del contratto di rete (Costa, Luchetti & Romano)"),
    Published("network_contracts", "turnover, log points (micro)",
              "Business network contracts, Italy (PSM)",
              "micro and small members: turnover growth +12.6 pp (year 1) to +24.7 pp (year 3)",
              +1, 3, "Istat, Centro Studi Confindustria & RetImpresa (2017)"),
    Published("network_contracts", "employment, log points",
              "Business network contracts, Italy (PSM)", "employment +11.2 % after 3 years", +1,
              3, "Istat, Centro Studi Confindustria & RetImpresa (2017)"),
    Published("network_contracts", "export share, pp", "Business network contracts, Italy "
              "(panel)", "exports up (short run)", +1, 3,
              "Cisi, Devicienti, Manello & Vannoni (2020), Small Business Economics, doi "
              "10.1007/s11187-018-0127-0"),
    Published("cluster_programme", "probability of innovating in the year, pp",
              "Bavarian cluster initiative (DiD)", "+4.6 to +5.7 pp", +1, 3,
              "Falck, Heblich & Kipar (2010), Regional Science and Urban Economics 40: 574-582"),
    Published("cluster_programme", "employment, log points",
              "French local productive systems (DiD)", "no robust effect on employment", 0, 3,
              "Martin, Mayer & Mayneris (2011), Regional Science and Urban Economics 41: 108-123"),
    Published("rd_grants", "extra R&D per extra grant euro, small (< 50)",
              "R&D grants, Emilia-Romagna (RDD)", "small firms: about EUR 1 per EUR 1 of grant", +1,
              3, "Bronzini & Iachini (2014), AEJ: Economic Policy 6(4): 100-134"),
    Published("rd_grants", "extra R&D per extra grant euro, larger (50+)",
              "R&D grants, Emilia-Romagna and Czech ALFA (RDD)",
              "larger firms: no additional effect", 0, 3,
              "Bronzini & Iachini (2014); IDEA CERGE-EI Studie 7/2023 (TA CR ALFA)"),
    Published("returnee_tax_relief", "return probability in the year, %",
              "Returnee tax relief, Italy's Controesodo (triple differences)",
              "+27 % (27-34 %)", +1, 1,
              "Bassetto & Ippedico (2023), CESifo WP 10271",
              "agrees by construction: the lever's size is taken from this evaluation"),
    Published("incubators", "survival of year-1 births in incubator clusters to year 3, pp",
              "Business incubators, Germany (matched controls)",
              "no higher survival at any of 5 sites (lower at 3)", 0, 3,
              "Schwartz (2013), Journal of Technology Transfer 38: 302-331"),
    Published("graduate_first_jobs", "recent graduates without a first job, pp",
              "Hiring subsidies for young workers, Sweden (DiD)",
              "youth employment +2 to +3 pp (non-employment down)", -1, 3,
              "Saez, Schoefer & Seim (2019), AER 109: 1717-1763"),
)


def scenario_fingerprint(name: str = "baseline") -> str:
    """sha256 of a scenario's plain data (its parameters, sectors and regions)."""
    from cluster_abm.specs.scenario import load_scenario

    data = json.dumps(load_scenario(name).to_dict(), sort_keys=True, separators=(",", ":"),
                      default=str)
    return hashlib.sha256(data.encode()).hexdigest()


def model_fingerprints() -> dict[str, str]:
    """The current model code's and baseline scenario's fingerprints."""
    from cluster_abm.model.snapshot import code_fingerprint

    return {"model_code": code_fingerprint(), "scenario": scenario_fingerprint()}


def git_revision(root: Path | None = None) -> str:
    """Short commit of the source tree (``+dirty`` if the model code, the scenarios or the
    measuring script differ from it), or ``unknown`` outside a git checkout."""
    root = root or Path(__file__).resolve().parents[3]
    try:
        rev = subprocess.run(["git", "rev-parse", "--short=10", "HEAD"], cwd=root,
                             capture_output=True, text=True, check=True).stdout.strip()
        from cluster_abm.model.snapshot import FINGERPRINT_DIRS, FINGERPRINT_FILES

        paths = [f"cluster_abm/{p}" for p in (*FINGERPRINT_DIRS, *FINGERPRINT_FILES)]
        dirty = subprocess.run(["git", "status", "--porcelain", "--", *paths, "scenarios",
                                "scripts/measure_policy_effects.py"], cwd=root,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return rev + ("+dirty" if dirty else "")


def write_effects_csv(path: Path, results: dict[tuple[str, str, int], tuple[float, float, float,
                                                                            int]],
                      first_seed: int, meta: dict[str, str] | None = None) -> None:
    """Write ``results`` ((treatment, outcome, horizon) -> (mean, lo, hi, seeds)) with the
    measurement's provenance on every row."""
    meta = dict(meta or {})
    meta.setdefault("measured", _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    meta.setdefault("git_revision", git_revision())
    for k, v in model_fingerprints().items():
        meta.setdefault(k, v)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=CSV_COLUMNS, lineterminator="\n")
        w.writeheader()
        for (tr, outcome, h), (mean, lo, hi, n) in results.items():
            w.writerow({"treatment": tr, "outcome": outcome, "horizon": h,
                        "mean": _num(mean), "lo": _num(lo), "hi": _num(hi), "seeds": n,
                        "first_seed": first_seed, **{k: meta[k] for k in CSV_COLUMNS[8:]}})


def _num(x: float) -> str:
    return "" if x is None or not math.isfinite(x) else f"{x:.6g}"


@dataclass(frozen=True)
class Effect:
    mean: float
    lo: float
    hi: float
    seeds: int


def read_effects_csv(path: Path) -> tuple[dict[tuple[str, str, int], Effect], dict[str, str]]:
    """The file's effects and its provenance (from its first row)."""
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    if not rows or any(c not in rows[0] for c in CSV_COLUMNS):
        raise ValueError(f"{path}: not a policy-effects file (columns {', '.join(CSV_COLUMNS)})")

    def f(s: str) -> float:
        return float(s) if s not in ("", None) else math.nan

    eff = {(r["treatment"], r["outcome"], int(r["horizon"])):
           Effect(f(r["mean"]), f(r["lo"]), f(r["hi"]), int(r["seeds"])) for r in rows}
    meta = {k: rows[0][k] for k in ("measured", "git_revision", "model_code", "scenario",
                                    "first_seed")}
    return eff, meta


def sign_verdict(e: Effect | None, direction: int) -> str:
    """Does the model's effect have the published sign? ``yes`` (and the 95 % interval excludes
    zero, or includes it where no effect was published), ``sign only`` (mean of the right sign,
    interval includes zero), ``no``, or ``n/a``."""
    if e is None or not math.isfinite(e.mean):
        return "n/a"
    has_ci = math.isfinite(e.lo) and math.isfinite(e.hi)
    if direction == 0:
        if not has_ci:
            return "n/a"
        return "yes" if e.lo <= 0 <= e.hi else "no"
    if e.mean * direction <= 0:
        return "no"
    if has_ci and (e.lo * direction > 0 and e.hi * direction > 0):
        return "yes"
    return "sign only"


def _fmt(e: Effect | None) -> str:
    if e is None or not math.isfinite(e.mean):
        return ""
    if not (math.isfinite(e.lo) and math.isfinite(e.hi)):
        return f"{e.mean:+.3g}"
    return f"{e.mean:+.3g} [{e.lo:+.3g}, {e.hi:+.3g}]"


def policy_section(path: Path | None = None, current: dict[str, str] | None = None
                   ) -> list[str]:
    """Markdown lines of the validation report's policy section, from the file at ``path``
    (default :func:`default_csv_path`); ``current``: the model's fingerprints (default: of the
    code running now)."""
    path = Path(path) if path is not None else default_csv_path()
    L = ["## Policy effects beside published evaluations", "",
         "Not a pass/fail fact: the model's effects of six treatments, measured as the "
         "evaluations measure them (`scripts/measure_policy_effects.py`: paired seeds, each "
         "treated firm against itself in the baseline run; mean and 95 % interval over seeds), "
         "beside the published effect. 'Sign agrees' is read at the evaluation's horizon; "
         "'sign only' means the interval includes zero. Discussion: "
         "[policy_effects.md](policy_effects.md); sources: "
         "[policy_evidence.md](policy_evidence.md).", ""]
    if not path.exists():
        return L + [f"**The file of measured effects (`{_rel(path)}`) is missing**: run "
                    "`python scripts/measure_policy_effects.py` to write it; no model effects "
                    "are shown.", ""]
    try:
        eff, meta = read_effects_csv(path)
    except (ValueError, KeyError, OSError) as exc:
        return L + [f"**The file of measured effects cannot be read** ({exc}).", ""]
    current = current or model_fingerprints()
    stale = [what for key, what in (("model_code", "the model code"),
                                    ("scenario", "the baseline scenario"))
             if meta.get(key) != current.get(key)]
    seeds = max((e.seeds for e in eff.values()), default=0)
    L.append(f"Measured {meta['measured']} on revision `{meta['git_revision']}` with {seeds} "
             f"paired seeds (from {meta['first_seed']}), file `{_rel(path)}`.")
    if stale:
        L += ["", f"**Out of date: {' and '.join(stale)} changed since the file was measured**"
              " (its fingerprints differ from the current ones); the effects below are those "
              "of an older model. Rerun `python scripts/measure_policy_effects.py`."]
    else:
        L += ["", "The file matches the current model code and baseline scenario."]
    horizons = sorted({h for _, _, h in eff})
    L += ["", "| treatment | outcome | " + " | ".join(f"model, year {h}" for h in horizons)
          + " | published (programme, method) | source | sign agrees |",
          "|---|---|" + "---|" * len(horizons) + "---|---|---|"]
    pub = {(p.treatment, p.outcome): p for p in PUBLISHED}
    outcomes = list(dict.fromkeys((t, o) for t, o, _ in eff))
    outcomes += [k for k in pub if k not in outcomes]
    for t, o in outcomes:
        p = pub.get((t, o))
        cells = [_fmt(eff.get((t, o, h))) for h in horizons]
        if p is None:
            tail = "- | - | -"
        else:
            e = eff.get((t, o, p.horizon))
            v = sign_verdict(e, p.direction)
            v = f"{v} (year {p.horizon})" if v != "n/a" else f"n/a (no model value at year {p.horizon})"
            note = f"; {p.note}" if p.note else ""
            tail = f"{p.effect} ({p.programme}) | {p.source} | {v}{note}"
        L.append(f"| `{t}` | {o} | " + " | ".join(cells) + f" | {tail} |")
    L.append("")
    return L


def _rel(path: Path) -> str:
    try:
        return path.resolve().relative_to(Path(__file__).resolve().parents[3]).as_posix()
    except ValueError:
        return str(path)
