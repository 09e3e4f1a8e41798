"""Outputs of a finished calibration: the calibrated scenario file and the fit report.

The report answers the questions a reader of a calibration should ask (Grazzini & Richiardi
2015; Fagiolo et al. 2019 on the validation of agent-based models):

* *how close is the fit?* -- every target against the model at the best parameters, re-run on
  ``check_seeds`` seeds that the optimiser never saw (so the fit is not an artefact of the
  fitting seeds), with the band over seeds and the defaults (the uncalibrated baseline) beside;
* *does it generalise?* -- the hold-out targets, not used in the loss, before and after;
* *what did the optimiser do?* -- parameter values and loss per trial;
* *is every parameter identified?* -- Optuna's parameter importance over the trials (fANOVA,
  Hutter et al. 2014, with scikit-learn installed; PED-ANOVA, Watanabe et al. 2023, without),
  and a one-at-a-time check at the optimum (the loss when one parameter moves by ``oat_step``
  of its range on the fitting seeds): a parameter that barely moves the loss is
  not identified by these targets, and its fitted value means little;
* *did the search box bind?* -- best values at a bound.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

from cluster_abm.analysis.calibration.calibration_spec import Calibration
from cluster_abm.analysis.calibration.trials import aggregate, best_trial, run_points, storage_url

FLAT_OAT = 0.01  # a move of oat_step of the range changing the loss by < 1 % is "flat"
AT_BOUND = 0.02  # a best value within 2 % of the range from a bound is "at the bound"


def _fmt(x: float | None, digits: int = 4) -> str:
    if x is None or not math.isfinite(x):
        return "n/a"
    return f"{x:.{digits}g}"


def _moved(p, value: float, step: float, sign: int) -> float:
    """``value`` moved by ``step`` of the parameter's range (log range if log), clipped."""
    if p.log:
        lo, hi = math.log(p.low), math.log(p.high)
        v = math.exp(min(max(math.log(value) + sign * step * (hi - lo), lo), hi))
    else:
        v = min(max(value + sign * step * (p.high - p.low), p.low), p.high)
    return int(round(v)) if p.param.integer else float(v)


def importance_method() -> str:
    """fANOVA (Hutter et al. 2014) where scikit-learn is installed, else PED-ANOVA."""
    import importlib.util

    return "fANOVA" if importlib.util.find_spec("sklearn") else "PED-ANOVA"


def _importance(cal: Calibration, study) -> dict[str, float]:
    """Parameter importance over the completed trials (shares summing to 1).

    fANOVA (Hutter, Hoos & Leyton-Brown 2014) fits a random forest to loss(params) and splits
    its variance by parameter; it needs scikit-learn, which the project does not require.
    Without it, Optuna's PED-ANOVA (Watanabe, Bansal & Hutter 2023) measures how much each
    parameter's distribution among the best 10 % of trials differs from the whole search:
    the importance *for reaching a good fit*, which is the question here.
    """
    import optuna

    if importance_method() == "fANOVA":
        ev = optuna.importance.FanovaImportanceEvaluator(seed=cal.seed % (2**31))
    else:
        ev = optuna.importance.PedAnovaImportanceEvaluator()
    try:
        return {k: float(v) for k, v in
                optuna.importance.get_param_importances(study, evaluator=ev).items()}
    except (RuntimeError, ValueError, ZeroDivisionError) as exc:  # too few trials
        print(f"note: no parameter importance ({exc})", file=sys.stderr)
        return {}


def _sessions_table(sessions: list[dict[str, Any]]) -> tuple[list[str], float, int]:
    rows = ["| session | started (UTC) | executor | trials run | wall time | trials/min | "
            "load (1 min avg) start -> end |", "|---|---|---|---|---|---|---|"]
    wall = 0.0
    n = 0
    for i, s in enumerate(sessions, start=1):
        w = float(s.get("wall_time", 0.0))
        k = int(s.get("trials_run", 0))
        wall += w
        n += k
        rate = k / (w / 60) if w > 0 else 0.0
        ls, le = s.get("load_start"), s.get("load_end")
        load = f"{ls[0]:.1f} -> {le[0]:.1f}" if ls and le else "n/a"
        rows.append(f"| {i} | {s.get('started', '?')} | {s.get('executor', '?')} | {k} | "
                    f"{w / 60:.1f} min | {rate:.1f} | {load} |")
    return rows, wall, n


def write_outputs(cal: Calibration, study, *, results_dir: str | Path = "results",
                  scenarios_dir: str | Path = "scenarios",
                  quiet: bool = False) -> tuple[Path, Path]:
    """Write ``scenarios/calibrated_<name>.toml`` and ``results/<name>/report.md`` (+ PNGs)."""
    import optuna

    best = best_trial(study)
    if best is None:
        raise RuntimeError("the study has no completed trial")
    out = Path(results_dir) / cal.name
    out.mkdir(parents=True, exist_ok=True)
    best_params = {p.name: best.params[p.name] for p in cal.params}
    if not quiet:
        print(f"{cal.name}: re-running the best parameters and the defaults on "
              f"{cal.check_seeds} check seeds for the fit report", file=sys.stderr)
    checks = run_points(cal, {"calibrated": best_params, "default": {}},
                        cal.check_seed_list())
    stats = {k: _band(v) for k, v in checks.items()}
    importance = _importance(cal, study)
    oat = _oat(cal, best_params, float(best.value), quiet) if cal.oat else {}

    S = optuna.trial.TrialState
    trials = study.get_trials(deepcopy=False)
    complete = [t for t in trials if t.state == S.COMPLETE]
    interrupted = set(study.user_attrs.get("interrupted_trials", []))
    failed = [t for t in trials if t.state == S.FAIL and t.number not in interrupted]
    figs = _figures(cal, complete, stats, importance, oat, best, out)
    scenario_path = write_scenario(cal, best, stats["calibrated"], len(complete),
                                   Path(scenarios_dir), results_dir)
    report = _markdown(cal, study, best, stats, importance, oat, complete, failed, figs,
                       scenario_path, results_dir)
    path = out / "report.md"
    path.write_text(report, encoding="utf-8")
    data = {"calibration": cal.name, "written": _dt.datetime.now(_dt.UTC).isoformat(),
            "best_trial": best.number, "best_loss": best.value, "best_params": best_params,
            "importance": importance, "oat": oat,
            "targets": {t.id: {"published": t.target.value, "fitted": t in cal.targets,
                               "scale": t.scale,
                               **{f"{k}_{s}": stats[k][s].get(t.id) for k in stats
                                  for s in ("mean", "lo", "hi")}}
                        for t in cal.all_targets()}}
    (out / "report.json").write_text(json.dumps(data, indent=2, default=float) + "\n",
                                     encoding="utf-8")
    return scenario_path, path


def _band(values: list[dict[str, float]]) -> dict[str, dict[str, float]]:
    mean, sd = aggregate(values)
    ids = list(values[0])
    arr = np.array([[v[i] for i in ids] for v in values], dtype=float)
    lo = np.nanmin(np.where(np.isfinite(arr), arr, np.nan), axis=0) if len(arr) else arr
    hi = np.nanmax(np.where(np.isfinite(arr), arr, np.nan), axis=0) if len(arr) else arr
    return {"mean": mean, "sd": sd, "lo": dict(zip(ids, map(float, lo), strict=True)),
            "hi": dict(zip(ids, map(float, hi), strict=True))}


def _oat(cal: Calibration, best: dict[str, Any], best_loss: float,
         quiet: bool) -> dict[str, dict[str, float]]:
    """Loss with each parameter moved down and up by ``oat_step`` of its range (fitting seeds)."""
    points = {}
    for p in cal.params:
        for sign, tag in ((-1, "down"), (1, "up")):
            v = _moved(p, best[p.name], cal.oat_step, sign)
            if v != best[p.name]:
                points[(p.name, tag)] = best | {p.name: v}
    if not points:
        return {}
    if not quiet:
        print(f"{cal.name}: one-at-a-time check, {len(points)} moves x {cal.replicates} "
              "replicates", file=sys.stderr)
    runs = run_points(cal, points, cal.seeds)
    out: dict[str, dict[str, float]] = {p.name: {} for p in cal.params}
    for (name, tag), vals in runs.items():
        mean, _ = aggregate(vals)
        loss = cal.loss(mean)
        out[name][f"value_{tag}"] = float(points[(name, tag)][name])
        out[name][f"loss_{tag}"] = loss
    for d in out.values():
        moves = [abs(d[k] - best_loss) for k in ("loss_down", "loss_up") if k in d]
        d["max_change"] = max(moves) if moves else 0.0
        d["relative_change"] = d["max_change"] / best_loss if best_loss > 0 else math.inf
    return out


# --- figures --------------------------------------------------------------------------------------
def _figures(cal, complete, stats, importance, oat, best, out: Path) -> dict[str, str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figs = {}
    # 1. targets against simulated values (standardised deviations), fit and hold-out
    specs = list(cal.all_targets())
    fig, ax = plt.subplots(figsize=(8, 0.42 * len(specs) + 1.6))
    y = np.arange(len(specs))[::-1]
    for name, colour, dy in (("default", "0.6", -0.15), ("calibrated", "tab:blue", 0.15)):
        st = stats[name]
        z = [t.z(st["mean"][t.id]) for t in specs]
        lo = [t.z(st["lo"][t.id]) for t in specs]
        hi = [t.z(st["hi"][t.id]) for t in specs]
        ax.hlines(y + dy, lo, hi, color=colour, lw=3, alpha=0.6)
        ax.plot(z, y + dy, "o", color=colour,
                label=f"{name} (mean, band over {cal.check_seeds} seeds)")
    ax.axvline(0, color="k", lw=1)
    ax.axvspan(-1, 1, color="tab:green", alpha=0.08, label="within one scale of the target")
    labels = [f"{t.id}{'' if t in cal.targets else ' (hold-out)'}" for t in specs]
    ax.set_yticks(y, labels, fontsize=8)
    n_fit = len(cal.targets)
    if cal.holdout:
        ax.axhline(y[n_fit - 1] - 0.5, color="0.3", ls=":", lw=1)
    ax.set_xlabel("(simulated - published) / scale   (scale: the target's tolerance, else "
                  "|published|)")
    ax.set_title(f"{cal.name}: targets and simulated values")
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    figs["fit"] = _save(fig, out / "fit.png")

    # 2. loss per trial and best so far
    nums = np.array([t.number for t in complete])
    loss = np.array([t.value for t in complete])
    order = np.argsort(nums)
    nums, loss = nums[order], loss[order]
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.semilogy(nums, loss, ".", color="0.4", label="trial")
    ax.semilogy(nums, np.minimum.accumulate(loss), "-", color="tab:red", label="best so far")
    start = [t.number for t in complete if t.user_attrs.get("start_point")]
    if start:
        ax.axvspan(-0.5, max(start) + 0.5, color="tab:orange", alpha=0.08,
                   label="Latin-hypercube start points")
    ax.set_xlabel("trial")
    ax.set_ylabel("loss")
    ax.legend(fontsize=8)
    ax.set_title("Loss per trial")
    fig.tight_layout()
    figs["loss"] = _save(fig, out / "loss.png")

    # 3. parameter traces
    k = len(cal.params)
    cols = min(3, k)
    rows = math.ceil(k / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 2.8 * rows + 0.6), squeeze=False,
                             layout="constrained")
    rank = np.argsort(np.argsort(loss))
    for ax, p in zip(axes.ravel(), cal.params, strict=False):
        vals = np.array([t.params[p.name] for t in complete])[order]
        sc = ax.scatter(nums, vals, c=rank, cmap="viridis_r", s=10)
        ax.axhline(best.params[p.name], color="tab:red", lw=1)
        ax.set_ylim(p.low - 0.03 * (p.high - p.low), p.high + 0.03 * (p.high - p.low))
        if p.log:
            ax.set_yscale("log")
        ax.set_title(p.name, fontsize=9)
        ax.set_xlabel("trial", fontsize=8)
    for ax in axes.ravel()[k:]:
        ax.axis("off")
    fig.colorbar(sc, ax=axes.ravel().tolist(), label="loss rank (0 = best)", shrink=0.8)
    fig.suptitle("Parameter values per trial (red: best)")
    figs["traces"] = _save(fig, out / "traces.png")

    # 4. identification: importance and one-at-a-time
    names = [p.name for p in cal.params]
    fig, axes = plt.subplots(1, 2, figsize=(10, 0.4 * k + 1.8), sharey=True)
    yy = np.arange(k)[::-1]
    axes[0].barh(yy, [importance.get(n, 0.0) for n in names], color="tab:blue")
    axes[0].axvline(cal.importance_threshold, color="tab:red", ls="--", lw=1)
    axes[0].set_yticks(yy, names, fontsize=8)
    axes[0].set_xlabel(f"{importance_method()} importance")
    if oat:
        axes[1].barh(yy, [100 * oat.get(n, {}).get("relative_change", 0.0) for n in names],
                     color="tab:purple")
        axes[1].axvline(100 * FLAT_OAT, color="tab:red", ls="--", lw=1)
        axes[1].set_xscale("symlog", linthresh=1)
    axes[1].set_xlabel(f"loss change moving {cal.oat_step:.0%} of the range (% of best loss)")
    fig.suptitle("Does each parameter move the loss?")
    fig.tight_layout()
    figs["identification"] = _save(fig, out / "identification.png")
    return figs


def _save(fig, path: Path) -> str:
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path.name


# --- the calibrated scenario ----------------------------------------------------------------------
def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    return repr(float(v))


def write_scenario(cal: Calibration, best, calibrated: dict[str, dict[str, float]],
                   n_complete: int, scenarios_dir: Path,
                   results_dir: str | Path = "results") -> Path:
    """``calibrated_<name>.toml``: ``extends`` the base scenario, sets the fitted parameters."""
    from cluster_abm.specs.scenario import load_scenario

    scenarios_dir.mkdir(parents=True, exist_ok=True)
    path = scenarios_dir / f"calibrated_{cal.name}.toml"
    base = Path(cal.scenario.source)
    if base.parent.resolve() == scenarios_dir.resolve():
        extends = base.stem
    else:
        extends = os.path.relpath(base.resolve(), scenarios_dir.resolve())
    today = _dt.date.today().isoformat()
    lines = [
        f"# Calibrated by `cluster-abm calibrate` ({cal.name}, {Path(cal.source).name}) on "
        f"{today}.",
        f"# Best of {n_complete} completed trials: trial {best.number}, loss {best.value:.4g} "
        "(weighted sum of squared",
        f"# standardised deviations; {cal.replicates} replicates, measured over years "
        f"{cal.from_year + 1}-{cal.years}).",
        f"# Targets (published -> simulated mean over {cal.check_seeds} check seeds):",
    ]
    for t in cal.targets:
        lines.append(f"#   {t.id} = {_fmt(t.target.value)} -> "
                     f"{_fmt(calibrated['mean'].get(t.id))}  (weight {t.weight:g}; "
                     f"{t.target.source}, {t.target.year})")
    if cal.holdout:
        lines.append("# Held out (not fitted):")
        for t in cal.holdout:
            lines.append(f"#   {t.id} = {_fmt(t.target.value)} -> "
                         f"{_fmt(calibrated['mean'].get(t.id))}  ({t.target.source}, "
                         f"{t.target.year})")
    lines.append(f"# Fit report: {Path(results_dir) / cal.name / 'report.md'}")
    lines += [
        f"extends = {json.dumps(extends)}",
        f"name = {json.dumps('calibrated_' + cal.name)}",
        f"title = {json.dumps(cal.scenario.title + ' - calibrated (' + cal.name + ')')}",
        'description = """',
        f"The {cal.scenario.name} world (its regions, shaped after seed 2.1's development "
        f"stages, and levers) with {len(cal.params)} behavioural parameters fitted to published",
        f"statistics by `cluster-abm calibrate` ({cal.name}, {today}): "
        + ", ".join(t.id for t in cal.targets) + ".",
        '"""',
        "",
        "[params]",
    ]
    for p in cal.params:
        lines.append(f'"{p.name}" = {_toml_value(best.params[p.name])}  '
                     f"# search [{p.low:g}, {p.high:g}], default {p.param.default}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    load_scenario(path)  # the file must load: fail here, not in the user's next run
    return path


# --- the markdown report --------------------------------------------------------------------------
def _convergence(complete, cal) -> list[str]:
    """A note when the best loss was still falling in the last tenth of the trials."""
    if len(complete) < 20:
        return []
    ordered = sorted(complete, key=lambda t: t.number)
    cut = ordered[int(0.9 * len(ordered))].number
    before = min(t.value for t in ordered if t.number < cut)
    after = min(t.value for t in ordered)
    if after < 0.95 * before:
        return [f"* still improving: the best loss fell {100 * (1 - after / before):.0f} % in the "
                f"last tenth of the trials; more trials (`--trials N` continues the study) may "
                "lower it further"]
    return []


def _markdown(cal, study, best, stats, importance, oat, complete, failed, figs, scenario_path,
              results_dir) -> str:
    cs, ds = stats["calibrated"], stats["default"]
    method = importance_method()
    sessions = list(study.user_attrs.get("sessions", []))
    srows, wall, n_run = _sessions_table(sessions)
    today = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    L = [f"# Fit report: {cal.name}", "",
         f"{cal.description}" if cal.description else "", "",
         f"Written {today} from the study `{cal.name}` in `{storage_url(cal, results_dir)}`. "
         f"Calibration file: `{cal.source}`; base scenario `{cal.scenario.name}`; calibrated "
         f"scenario: `{scenario_path}`.", "",
         "## Summary", "",
         f"* trials: {len(complete)} completed, {len(failed)} failed (of {cal.trials} "
         f"requested); {cal.replicates} replicates each on the same seeds (common random "
         f"numbers), {cal.years} years, measured over years {cal.from_year + 1}-{cal.years}",
         f"* best: trial {best.number}, loss {best.value:.4g} on the fitting seeds; on "
         f"{cal.check_seeds} fresh check seeds the calibrated loss is "
         f"{cal.loss(cs['mean']):.4g} (defaults: {cal.loss(ds['mean']):.4g})"
         + (" - higher than on the fitting seeds: part of the best trial's edge is the luck "
            "of those seeds (the optimiser picks the minimum of noisy evaluations); more "
            "replicates shrink it" if cal.loss(cs["mean"]) > 1.5 * best.value else ""),
         *_convergence(complete, cal),
         f"* time: {wall / 60:.1f} min over {len(sessions)} session(s), {n_run} trials, "
         f"{(n_run / (wall / 60)) if wall else 0:.1f} trials/min", "",
         *srows, "",
         "## Fitted parameters", "",
         f"| parameter | default | search bounds | best | {method} importance | one-at-a-time: "
         "loss change | note |", "|---|---|---|---|---|---|---|"]
    warnings = []
    for p in cal.params:
        v = best.params[p.name]
        imp = importance.get(p.name)
        o = oat.get(p.name, {})
        notes = []
        if imp is not None and imp < cal.importance_threshold:
            notes.append("low importance")
        if o and o.get("relative_change", math.inf) < FLAT_OAT:
            notes.append("flat at the optimum")
        span = p.high - p.low
        if v - p.low <= AT_BOUND * span or p.high - v <= AT_BOUND * span:
            notes.append("at a bound")
            warnings.append(f"`{p.name}` = {_fmt(v)} sits at a bound of its search range "
                            f"[{p.low:g}, {p.high:g}]: the fit wants a value outside it (widen "
                            "the range if the registry allows, or the targets pull against "
                            "the model's structure).")
        if notes and ("low importance" in notes or "flat at the optimum" in notes):
            warnings.append(f"`{p.name}` barely moves the loss ({method} importance "
                            f"{_fmt(imp, 2)}, loss change "
                            f"{_fmt(100 * o.get('relative_change', math.nan), 2)} % "
                            f"for a {cal.oat_step:.0%} move): the targets do not identify it; "
                            "its fitted value is arbitrary within the range. Consider fixing it "
                            "at its default or adding a target it affects.")
        oat_txt = (f"{100 * o['relative_change']:.1f} %" if o and math.isfinite(
            o.get("relative_change", math.nan)) else "n/a")
        L.append(f"| `{p.name}` | {p.param.default} | [{p.low:g}, {p.high:g}]"
                 f"{' log' if p.log else ''} | {_fmt(v)} | {_fmt(imp, 2)} | {oat_txt} | "
                 f"{', '.join(notes)} |")
    L += ["", f"{method} importance (`optuna.importance`; "
          + ("the share of the loss's variance over the trials explained by the parameter, "
             "Hutter et al. 2014" if method == "fANOVA" else "how much the parameter's "
             "distribution among the best 10 % of trials differs from the whole search, "
             "Watanabe et al. 2023")
          + f"); below {cal.importance_threshold:g} is flagged. The one-at-a-time check moves each "
          f"parameter by {cal.oat_step:.0%} of its range down and up from the optimum (fitting "
          f"seeds) and reports the larger change of the loss, as a share of the best loss; "
          f"below {FLAT_OAT:.0%} is flagged.", ""]

    def table(specs, title, fitted):
        rows = [f"## {title}", "",
                "| target | published | source (year) | default: mean [min, max] | "
                "calibrated: mean [min, max] | z default | z calibrated |"
                + (" weight | loss term |" if fitted else ""),
                "|---|---|---|---|---|---|---|" + ("---|---|" if fitted else "")]
        for t in specs:
            tid = t.id
            zd, zc = t.z(ds["mean"][tid]), t.z(cs["mean"][tid])
            row = (f"| `{tid}` | {_fmt(t.target.value)} | {t.target.source} "
                   f"({t.target.year}) | {_fmt(ds['mean'][tid])} [{_fmt(ds['lo'][tid])}, "
                   f"{_fmt(ds['hi'][tid])}] | {_fmt(cs['mean'][tid])} [{_fmt(cs['lo'][tid])}, "
                   f"{_fmt(cs['hi'][tid])}] | {zd:+.2f} | {zc:+.2f} |")
            if fitted:
                row += f" {t.weight:g} | {t.weight * zc ** 2:.3g} |"
            rows.append(row)
            if abs(zc) > 2:
                warnings.append(
                    f"{'target' if fitted else 'hold-out target'} `{tid}` is {abs(zc):.1f} "
                    f"scales from the published value after calibration "
                    f"({_fmt(cs['mean'][tid])} vs {_fmt(t.target.value)}): "
                    + ("the fitted parameters cannot reach it within their bounds while "
                       "fitting the other targets." if fitted else
                       "the calibrated model does not reproduce it."))
        return rows

    L += table(cal.targets, "Fitted targets", True)
    L += ["", "z = (simulated - published) / scale, the scale being the target's tolerance "
          "where the calibration sets one, else |published| (a relative deviation); the loss is "
          "the weighted sum of z^2 on the fitting seeds. Simulated values are means over "
          f"{cal.check_seeds} check seeds independent of the fitting seeds; [min, max] is the "
          "range over those seeds.", ""]
    if cal.holdout:
        L += table(cal.holdout, "Hold-out targets (not fitted)", False)
        better = sum(abs(t.z(cs["mean"][t.id])) < abs(t.z(ds["mean"][t.id]))
                     for t in cal.holdout)
        L += ["", f"{better} of {len(cal.holdout)} hold-out targets are closer to the "
              "published value after calibration than with the defaults.", ""]
    L += ["## Warnings", ""]
    L += [f"* {w}" for w in warnings] or ["* none"]
    L += ["", "## Figures", "",
          f"![targets and simulated values]({figs['fit']})", "",
          f"![loss per trial]({figs['loss']})", "",
          f"![parameter traces]({figs['traces']})", "",
          f"![identification]({figs['identification']})", "",
          "## Reproduce", "",
          "```", f"cluster-abm calibrate {cal.source}", "```", "",
          "The study is resumable: the same command continues it; `--trials N` raises the "
          "budget; `--overwrite` starts over. Targets and how the model measures them: "
          "docs/calibration.md.", ""]
    return "\n".join(L)
