"""Policy effects of chosen levers, measured as published evaluations measure them (issue 21).

Each treatment (a lever, a package of levers, or a funding change) runs from the spun-up world of
a seed next to the baseline run of the same seed (paired seeds, common random numbers). Where the
published evaluations compare treated firms with comparable untreated ones (difference in
differences, matching, regression discontinuity), the model compares each treated firm with
itself in the baseline run: firms alive at policy year 0 are the same firms in both runs, so
the paired difference is the effect on the treated with an exact counterfactual. The effect is
averaged over seeds and printed with a 95 % t-interval at horizons of 1, 2, 3 and 5 years.

    .venv/bin/python scripts/measure_policy_effects.py                 # 10 seeds, all treatments
    .venv/bin/python scripts/measure_policy_effects.py --seeds 20 --treatments network_contracts
    .venv/bin/python scripts/measure_policy_effects.py --markdown /tmp/effects.md

Every run writes ``docs/figures/policy_effects.csv`` (``--csv`` elsewhere): treatment, outcome,
horizon, mean, 95 % interval, seeds, and on every row when it was measured, the git revision and
the fingerprints of the model code and the baseline scenario. ``cluster-abm validate`` renders it
beside the published effects (``cluster_abm/analysis/validation/published_effects.py``, the one
table of published figures; sources in ``docs/policy_evidence.md``) and flags it when the model
has changed since; ``docs/policy_effects.md`` discusses them.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cluster_abm.analysis.validation.published_effects import (  # noqa: E402
    default_csv_path,
    write_effects_csv,
)
from cluster_abm.mechanisms.learning import rd_spend  # noqa: E402
from cluster_abm.model.cluster_model import ClusterModel  # noqa: E402
from cluster_abm.policy.levers import LeverSetting  # noqa: E402
from cluster_abm.specs.scenario import load_scenario  # noqa: E402

HORIZONS = (1, 2, 3, 5)
FIRST_SEED = 9001
MICRO = 10  # employees: micro firms (EU definition)
SMALL = 50  # employees: small firms (EU definition), the "small" of the R&D-grant evaluations


@dataclass
class Snapshot:
    """Per-firm values at the end of a policy year, keyed by firm uid (firms alive then)."""

    uid: np.ndarray
    revenue: np.ndarray
    revenue_exp: np.ndarray
    employees: np.ndarray
    contract: np.ndarray  # members' share of each model firm's real firms
    cluster: np.ndarray
    innovated: np.ndarray  # innovated during the year
    rd: np.ndarray  # cumulative R&D spend since year 0 (k€)
    grants: np.ndarray  # cumulative R&D grant money received since year 0 (k€)


@dataclass
class Trace:
    """What one run leaves for the measures: year-0 and yearly firm snapshots, regional flows."""

    year0: Snapshot
    years: dict[int, Snapshot] = field(default_factory=dict)
    flows: dict[str, np.ndarray] = field(default_factory=dict)  # series -> per-year totals
    cohort: dict[str, float] = field(default_factory=dict)


def _snapshot(m: ClusterModel, innov0: dict, rd: dict, grants: dict) -> Snapshot:
    ft = m.firms
    idx = ft.idx
    uid = ft.uid[idx]
    before = np.array([innov0.get(u, 0) for u in uid.tolist()])
    return Snapshot(uid, ft.revenue[idx].copy(), ft.revenue_exp[idx].copy(), ft.employees[idx].copy(),
                    ft.contract_share[idx].copy(), ft.cluster[idx].copy(), ft.n_innov[idx] > before,
                    np.array([rd.get(u, 0.0) for u in uid.tolist()]),
                    np.array([grants.get(u, 0.0) for u in uid.tolist()]))


def trace(model: ClusterModel, years: int) -> Trace:
    """Run ``model`` for ``years`` policy years, recording firm snapshots and yearly flows."""
    m = model
    spy = m.p.steps_per_year
    G = m.p.yearly.funding.grant_size
    ft = m.firms
    rd: dict[int, float] = defaultdict(float)
    grants: dict[int, float] = defaultdict(float)
    innov0 = dict(zip(ft.uid[ft.idx].tolist(), ft.n_innov[ft.idx].tolist(), strict=True))
    out = Trace(_snapshot(m, innov0, rd, grants))
    born: set[int] = set()
    diaspora = []  # skilled citizens abroad at the start of each policy year
    for year in range(1, years + 1):
        diaspora.append(float(m.diaspora.sum()))
        for _ in range(spy):
            idx = ft.idx
            before = dict(zip(ft.uid[idx].tolist(), ft.grant_until[idx].tolist(), strict=True))
            m.step()
            idx = ft.idx
            for u, r, gu in zip(ft.uid[idx].tolist(), (rd_spend(m, idx) / spy).tolist(),
                                ft.grant_until[idx].tolist(), strict=True):
                rd[u] += r
                if gu > before.get(u, -1) and gu >= m.t - 1:
                    grants[u] += G
        out.years[year] = _snapshot(m, innov0, rd, grants)
        innov0 = dict(zip(ft.uid[ft.idx].tolist(), ft.n_innov[ft.idx].tolist(), strict=True))
        if year == 1:  # the first policy year's births in incubator-size clusters, for survival
            log = m.log.frame()  # birth steps count from policy year 0
            first = log[(log["birth_step"] >= 0) & (log["birth_step"] < spy)]
            born = set(first.loc[first["cluster"].isin(m.incubator_clusters), "uid"].tolist())
        if year == 3 and born:  # alive at the end of year 3: two to three years after birth
            out.cohort["survival_first_cohort"] = len(born & set(ft.uid[ft.idx].tolist())) / len(born)
    out.flows["diaspora"] = np.array(diaspora)
    wide = m.series_wide()
    for name in ("skilled_returnees", "skilled_emigrants", "graduate_unemployment_rate",
                 "skilled_emigrants_graduates", "employment"):
        col = wide[name][1:, -1]
        out.flows[name] = col.reshape(years, spy).sum(axis=1) if name != "graduate_unemployment_rate" \
            else col.reshape(years, spy).mean(axis=1)
    return out


# --- treatments ----------------------------------------------------------------------------------
CLUSTER_PROGRAMME = ("multiannual_funding", "activity_financing", "cmo_ki_brokering", "entrepreneurial_cmos")
TREATMENTS = {
    "network_contracts": "lever network_contracts in every region (Veneto has the law already)",
    "cluster_programme": "levers " + ", ".join(CLUSTER_PROGRAMME) + " together (a Bavarian-style cluster initiative)",
    "rd_grants": "the EU programme's R&D grant budget raised by half (funding.eu_budget x 1.5) from policy year 0",
    "returnee_tax_relief": "lever returnee_tax_relief in every region",
    "incubators": "lever incubators in every region",
    "graduate_first_jobs": "lever graduate_first_jobs in every region",
}


def make_model(treatment: str | None, seed: int) -> ClusterModel:
    base = load_scenario("baseline")
    if treatment is None:
        return ClusterModel(base, seed=seed)
    if treatment == "rd_grants":  # same spun-up world, then a larger EU grant budget
        m = ClusterModel(base, seed=seed)
        m.eu_funder.planned *= 1.5
        return m
    levers = CLUSTER_PROGRAMME if treatment == "cluster_programme" else (treatment,)
    return ClusterModel(base.with_levers({lid: LeverSetting(lid) for lid in levers}), seed=seed)


def _pair(y0: Snapshot, a: Snapshot, b: Snapshot):
    """Positions in ``y0``, ``a`` and ``b`` of the firms alive at year 0 and in both runs at the
    horizon (the same uids, in the same order)."""
    common = np.intersect1d(np.intersect1d(y0.uid, a.uid), b.uid)
    return (np.searchsorted(y0.uid, common, sorter=np.argsort(y0.uid)),
            np.argsort(a.uid)[np.searchsorted(a.uid, common, sorter=np.argsort(a.uid))],
            np.argsort(b.uid)[np.searchsorted(b.uid, common, sorter=np.argsort(b.uid))])


def _log_diff(x, y) -> np.ndarray:
    return np.log(np.maximum(x, 1e-9) / np.maximum(y, 1e-9))


def _per_member(diff: np.ndarray, extra: np.ndarray, mask: np.ndarray) -> float:
    """Sum of the outcome differences over the sum of the extra member shares, over ``mask``."""
    return float(diff[mask].sum() / extra[mask].sum()) if extra[mask].sum() > 0 else math.nan


def _log_ratio(x, y):
    return float(np.mean(np.log(np.maximum(x, 1e-9) / np.maximum(y, 1e-9)))) if len(x) else math.nan


def measures(treatment: str, on: Trace, off: Trace, h: int) -> dict[str, float]:
    """The treatment's effects at horizon ``h`` for one seed (NaN where undefined)."""
    a, b = on.years[h], off.years[h]
    i0, ia, ib = _pair(on.year0, a, b)
    size0 = on.year0.employees[np.argsort(on.year0.uid)[i0]]  # both runs share year 0
    out: dict[str, float] = {}
    if treatment == "network_contracts":
        # Membership is a share of each model firm's real firms: the effect on a member is the
        # Wald ratio of a firm's outcome difference to its extra member share (the lever as the
        # instrument), over the firms whose share the lever raised.
        extra = a.contract[ia] - b.contract[ib]
        treated = extra > 0
        for label, mask in (("", treated), (" (micro)", treated & (size0 < MICRO))):
            out["turnover, log points" + label] = 100 * _per_member(_log_diff(a.revenue[ia], b.revenue[ib]), extra, mask)
        out["employment, log points"] = 100 * _per_member(_log_diff(a.employees[ia], b.employees[ib]), extra, treated)
        share_a = np.divide(a.revenue_exp[ia], a.revenue[ia], out=np.zeros(len(ia)), where=a.revenue[ia] > 0)
        share_b = np.divide(b.revenue_exp[ib], b.revenue[ib], out=np.zeros(len(ib)), where=b.revenue[ib] > 0)
        out["export share, pp"] = 100 * _per_member(share_a - share_b, extra, treated)
        out["treated firms"] = float(extra[treated].sum())  # extra members, in model firms' equivalents
    elif treatment == "cluster_programme":
        inside = a.cluster[ia] >= 0
        out["probability of innovating in the year, pp"] = 100 * float(np.mean(a.innovated[ia][inside].astype(float)
                                                                              - b.innovated[ib][inside]))
        out["employment, log points"] = 100 * _log_ratio(a.employees[ia][inside], b.employees[ib][inside])
    elif treatment == "rd_grants":
        d_rd, d_grant = a.rd[ia] - b.rd[ib], a.grants[ia] - b.grants[ib]
        for label, mask in (("small (< 50)", size0 < SMALL), ("larger (50+)", size0 >= SMALL)):
            g = d_grant[mask].sum()
            out[f"extra R&D per extra grant euro, {label}"] = float(d_rd[mask].sum() / g) if g > 0 else math.nan
    elif treatment == "returnee_tax_relief":
        # Return probability in year h: returnees over the diaspora at the start of the year.
        p_a = on.flows["skilled_returnees"][h - 1] / on.flows["diaspora"][h - 1]
        p_b = off.flows["skilled_returnees"][h - 1] / off.flows["diaspora"][h - 1]
        out["return probability in the year, %"] = 100 * (p_a / p_b - 1.0) if p_b > 0 else math.nan
        net = lambda t: t.flows["skilled_emigrants"][:h].sum() - t.flows["skilled_returnees"][:h].sum()  # noqa: E731
        out["net skilled emigration to date, persons"] = float(net(on) - net(off))
    elif treatment == "incubators":
        if h == 3:  # survival to the end of year 3 of the first policy year's births
            out["survival of year-1 births in incubator clusters to year 3, pp"] = 100 * (
                on.cohort.get("survival_first_cohort", math.nan) - off.cohort.get("survival_first_cohort", math.nan))
        out["employment of firms alive at year 0, log points"] = 100 * _log_ratio(a.employees[ia], b.employees[ib])
    elif treatment == "graduate_first_jobs":
        out["recent graduates without a first job, pp"] = 100 * float(
            on.flows["graduate_unemployment_rate"][h - 1] - off.flows["graduate_unemployment_rate"][h - 1])
        out["graduates emigrating to date, persons"] = float(
            on.flows["skilled_emigrants_graduates"][:h].sum() - off.flows["skilled_emigrants_graduates"][:h].sum())
        out["skilled emigrants to date, persons"] = float(
            on.flows["skilled_emigrants"][:h].sum() - off.flows["skilled_emigrants"][:h].sum())
    return out


def interval(values) -> tuple[float, float, float, int]:
    """Mean, 95 % t-interval and the number of seeds with a value."""
    v = np.asarray([x for x in values if math.isfinite(x)], dtype=float)
    if len(v) == 0:
        return math.nan, math.nan, math.nan, 0
    if len(v) == 1:
        return float(v[0]), math.nan, math.nan, 1
    from scipy import stats  # scipy comes with SALib; only this script needs it

    half = float(stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / math.sqrt(len(v)))
    return float(v.mean()), float(v.mean()) - half, float(v.mean()) + half, len(v)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=10, help="paired seeds (default 10)")
    ap.add_argument("--first-seed", type=int, default=FIRST_SEED)
    ap.add_argument("--treatments", nargs="+", choices=sorted(TREATMENTS), default=list(TREATMENTS))
    ap.add_argument("--horizons", type=int, nargs="+", default=list(HORIZONS), help="policy years (default 1 2 3 5)")
    ap.add_argument("--markdown", type=Path, help="also write the table as markdown to this file")
    ap.add_argument("--csv", type=Path, default=default_csv_path(),
                    help="machine-readable effects for `cluster-abm validate` (default: "
                         "docs/figures/policy_effects.csv)")
    args = ap.parse_args(argv)
    years = max(args.horizons)
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    results: dict[tuple[str, str, int], list[float]] = defaultdict(list)
    t0 = time.time()
    for seed in seeds:
        off = trace(make_model(None, seed), years)
        for tr in args.treatments:
            on = trace(make_model(tr, seed), years)
            for h in args.horizons:
                for name, value in measures(tr, on, off, h).items():
                    results[(tr, name, h)].append(value)
        print(f"seed {seed} done ({time.time() - t0:.0f} s)", file=sys.stderr, flush=True)
    lines = [f"Model effects, {args.seeds} paired seeds (from {args.first_seed}), mean [95 % interval]:", "",
             "| treatment | measure | " + " | ".join(f"year {h}" for h in args.horizons) + " |",
             "|---|---|" + "---|" * len(args.horizons)]
    keys = list(dict.fromkeys((tr, name) for tr, name, _ in results))
    for tr, name in keys:
        cells = []
        for h in args.horizons:
            mean, lo, hi, n = interval(results.get((tr, name, h), []))
            cells.append("" if n == 0 else f"{mean:+.3g}" if n == 1 or not math.isfinite(lo)
                         else f"{mean:+.3g} [{lo:+.3g}, {hi:+.3g}]")
        lines.append(f"| {tr} | {name} | " + " | ".join(cells) + " |")
    lines += ["", "Treatments: " + "; ".join(f"`{k}`: {TREATMENTS[k]}" for k in args.treatments) + "."]
    text = "\n".join(lines)
    print(text)
    if args.markdown:
        args.markdown.write_text(text + "\n")
    write_effects_csv(args.csv, {k: interval(v) for k, v in results.items()}, args.first_seed)
    print(f"wrote {args.csv}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
