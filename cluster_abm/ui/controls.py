"""The workshop app's controls, derived from the lever catalogue and the parameter registry.

Nothing here re-declares a lever or a parameter: :func:`lever_controls` reads
:data:`cluster_abm.policy.levers.LEVERS` (grouped by working group, help text = seed section + one-line
summary, intensity bounds = ``policies.INTENSITY_MAX``) and :func:`param_controls` reads
:data:`cluster_abm.params.registry.REGISTRY` (default, bounds, unit, doc) *when called*, so a lever or a
parameter added to the catalogue or the registry shows up in the app without touching its code.

The rest turns what the user set into validated scenarios, with every problem as one line for an
on-screen banner (:func:`explain`): :class:`LeverChoice` is one lever as the user set it,
:func:`effective_levers` merges the user's choices over a scenario's own levers and validates
them against that scenario (a region it does not have, an intensity out of range, ...), and
:func:`build_run_scenarios` gives the policy scenario and its no-lever reference.

The app is a server other people's browsers talk to, so it opens only the scenario files of its
folders (:func:`picked_scenario`: a picker label or the path of one of those files; anything a
client sends beyond that is refused) and its banner never shows a server path
(:func:`hide_paths`: files of its folders by their label, any other path by its last part).
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cluster_abm.errors import InputError, closest
from cluster_abm.experiments import seeds
from cluster_abm.params import registry as params_mod
from cluster_abm.policy import levers as policies
from cluster_abm.specs.scenario import Scenario, load_scenario, scenario_dirs
from cluster_abm.ui.wording import Names, humanise, param_label

# A registry range wider than SLIDER_CAP_RATIO times the default is a technical bound (budgets
# up to 1e6 k€, which no workshop needs and no slider can resolve): such a slider stops at
# SLIDER_SPAN_OF_DEFAULT times the default. Other sliders span the registry's bounds.
SLIDER_CAP_RATIO = 20.0
SLIDER_SPAN_OF_DEFAULT = 5.0
SLIDER_STEPS = 100  # resolution of a float slider
INTENSITY_STEP = 0.1
SEED_CHOICES = (1, 4, 8, 16)  # seeds per run the app offers (1 = single-seed mode)
DEFAULT_SEEDS = 8


# --- control specs ---------------------------------------------------------------------------
@dataclass(frozen=True)
class ParamControl:
    """A slider (or switch, for booleans) for one registry parameter."""

    name: str
    label: str
    kind: str  # "float", "int" or "bool"
    default: Any
    low: float | None
    high: float | None
    step: float | None
    unit: str
    doc: str

    def clamp(self, value: Any) -> Any:
        """``value`` inside the slider's range (a scenario may set a value beyond the cap)."""
        if self.kind == "bool":
            return bool(value)
        v = min(max(value, self.low), self.high)
        return int(round(v)) if self.kind == "int" else float(v)


@dataclass(frozen=True)
class LeverControl:
    """Switch, intensity slider, targets and fine-tuning sliders of one lever."""

    id: str
    label: str
    wg: str
    seed: str
    summary: str
    help: str  # "seed 3.1.3 · summary": the one line shown under the switch
    intensity_max: float
    intensity_step: float
    targets: tuple[str, ...]  # subset of ("regions", "clusters", "firms")
    firm_groups: tuple[str, ...]  # allowed firm groups, the default first
    params: tuple[ParamControl, ...]
    condition: str = ""


@dataclass(frozen=True)
class LeverGroup:
    """The levers of one working group, in catalogue order."""

    wg: str
    title: str
    levers: tuple[LeverControl, ...]


def _nice_step(span: float) -> float:
    """A round slider step giving about SLIDER_STEPS positions over ``span``."""
    if span <= 0:
        return 1.0
    raw = span / SLIDER_STEPS
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag  # pragma: no cover - the loop always returns


def _label(name: str) -> str:
    return param_label(name)


def param_control(p: params_mod.Param) -> ParamControl:
    """The control of one :class:`~cluster_abm.params.registry.Param` (bounds from the registry)."""
    if p.is_bool:
        return ParamControl(p.name, _label(p.name), "bool", p.default, None, None, None, p.unit, p.doc)
    d = float(p.default)
    low = p.low if p.low is not None else min(0.0, d)
    # the registry's bound, unless it is absent or a technical one far beyond the default
    if p.high is None:
        high = max(low + abs(d) * SLIDER_SPAN_OF_DEFAULT, low + 1.0, d)
    elif d != 0 and p.high - low > SLIDER_CAP_RATIO * abs(d):
        high = min(p.high, max(low + abs(d) * SLIDER_SPAN_OF_DEFAULT, d))
    else:
        high = p.high
    if p.integer:
        return ParamControl(p.name, _label(p.name), "int", int(p.default), int(math.floor(low)),
                            int(math.ceil(high)), 1, p.unit, p.doc)
    return ParamControl(p.name, _label(p.name), "float", float(p.default), float(low), float(high),
                        _nice_step(float(high) - float(low)), p.unit, p.doc)


def param_controls(names: list[str] | tuple[str, ...] | None = None) -> list[ParamControl]:
    """Controls for registry parameters: the named ones, or every parameter in the registry.

    Reads ``cluster_abm.params.registry.REGISTRY`` at call time.
    """
    registry = params_mod.REGISTRY
    if names is None:
        return [param_control(p) for p in registry]
    return [param_control(registry[n]) for n in names]


def lever_control(lever: policies.Lever) -> LeverControl:
    return LeverControl(
        id=lever.id,
        label=lever.name,
        wg=lever.wg,
        seed=lever.seed,
        summary=lever.summary,
        help=f"seed {lever.seed} · {lever.summary}",
        intensity_max=float(policies.INTENSITY_MAX),
        intensity_step=INTENSITY_STEP,
        targets=tuple(lever.targets),
        firm_groups=tuple(lever.firm_groups),
        params=tuple(param_controls(lever.params)),
        condition=lever.condition,
    )


def lever_controls() -> list[LeverGroup]:
    """Every lever of the catalogue as controls, grouped by working group (WG1 ... WG6).

    Reads ``cluster_abm.policy.levers.LEVERS`` and ``WG_NAMES`` at call time; a WG not in
    ``WG_NAMES`` gets its own group, titled by its code.
    """
    groups: dict[str, list[LeverControl]] = {wg: [] for wg in policies.WG_NAMES}
    for lever in policies.LEVERS:
        groups.setdefault(lever.wg, []).append(lever_control(lever))
    return [
        LeverGroup(wg, policies.WG_NAMES.get(wg, wg), tuple(levers))
        for wg, levers in groups.items()
        if levers
    ]


def lever_control_by_id(lid: str) -> LeverControl | None:
    for group in lever_controls():
        for lc in group.levers:
            if lc.id == lid:
                return lc
    return None


# --- the user's choices -> validated scenarios ------------------------------------------------
@dataclass(frozen=True)
class LeverChoice:
    """One lever as the user set it in the app (``on`` False = switched off)."""

    on: bool = True
    intensity: float = 1.0
    regions: tuple[str, ...] | None = None  # None = every region
    clusters: tuple[str, ...] | None = None  # None = every cluster
    firms: str | None = None  # None = the lever's default group
    start_year: int = 0  # the policy years the scenario file gives it (kept, not set in the app:
    end_year: int | None = None  # the app switches levers from the year reached instead)

    @classmethod
    def from_setting(cls, s: policies.LeverSetting) -> LeverChoice:
        return cls(True, s.intensity, s.regions, s.clusters, s.firms, s.start_year, s.end_year)


@dataclass(frozen=True)
class Settings:
    """Everything the user chose: what a run is built from."""

    scenario: str = "baseline"  # a name or path :func:`load_scenario` accepts
    seed: int = 1  # the first seed; an ensemble of n uses seed, seed + 1, ..., seed + n - 1
    compare: bool = True  # the policy and its no-lever baseline on the same seeds, in lock-step
    levers: dict[str, LeverChoice] = field(default_factory=dict)  # the user's, over the scenario's
    params: dict[str, Any] = field(default_factory=dict)  # the user's parameter overrides
    seeds: int = DEFAULT_SEEDS  # seeds per run (1 = single-seed mode)
    horizon: float | None = None  # years to run (None: the scenario's sim.years)

    def seed_list(self) -> list[int]:
        return [int(self.seed) + k for k in range(int(self.seeds))]


def lever_title(lid: str) -> str:
    lever = policies.BY_ID.get(lid)
    return lever.name if lever is not None else lid


def _names_ok(lid: str, field_name: str, chosen: tuple[str, ...] | None, known: list[str],
              scenario: Scenario) -> None:
    if chosen is None:
        return
    if not chosen:
        raise InputError(f"'{lever_title(lid)}' targets no {field_name}: pick at least one or "
                         "switch it off")
    missing = [c for c in chosen if c not in known]
    if missing:
        what = field_name[:-1] if len(missing) == 1 else field_name
        raise InputError(
            f"'{lever_title(lid)}' targets {what} {', '.join(missing)}, not in the scenario "
            f"“{scenario.title or scenario.name}”: change its targets or switch it off"
        )


def effective_levers(scenario: Scenario, choices: dict[str, LeverChoice]) -> dict[str, policies.LeverSetting]:
    """The scenario's own levers with the user's choices on top, validated against the scenario.

    Raises :class:`InputError` with a one-line, user-facing message.
    """
    merged: dict[str, LeverChoice] = {
        lid: LeverChoice.from_setting(s) for lid, s in scenario.levers.items()
    }
    merged.update(choices)
    out: dict[str, policies.LeverSetting] = {}
    for lid, choice in merged.items():
        if not choice.on:
            continue
        lever = policies.BY_ID.get(lid)
        if lever is None:
            raise InputError(f"lever '{lid}' is not in the catalogue")
        intensity = choice.intensity
        top = policies.INTENSITY_MAX
        if (isinstance(intensity, bool) or not isinstance(intensity, int | float)
                or not math.isfinite(intensity) or not 0.0 <= intensity <= top):
            raise InputError(f"'{lever.name}': intensity {intensity!r} is out of range "
                             f"(0 to {top:g})")
        _names_ok(lid, "regions", choice.regions, scenario.region_ids, scenario)
        _names_ok(lid, "clusters", choice.clusters, scenario.cluster_ids, scenario)
        # targets the lever cannot take are ignored (a LeverSetting always names a firm group)
        table: dict[str, Any] = {"intensity": float(intensity)}
        if choice.regions is not None and "regions" in lever.targets:
            table["regions"] = list(choice.regions)
        if choice.clusters is not None and "clusters" in lever.targets:
            table["clusters"] = list(choice.clusters)
        if choice.firms is not None and "firms" in lever.targets:
            table["firms"] = choice.firms
        if choice.start_year:
            table["start_year"] = int(choice.start_year)
        if choice.end_year is not None:
            table["end_year"] = int(choice.end_year)
        try:
            out[lid] = policies.validate_lever(lid, table, "app", scenario.region_ids,
                                               scenario.cluster_ids)
        except InputError as exc:
            raise InputError(f"'{lever.name}': {_strip_where(exc)}") from None
    return out


def _strip_where(exc: InputError) -> str:
    """An InputError's message without its 'source: key:' prefix."""
    text = str(exc)
    where = ": ".join(p for p in (exc.source, exc.key) if p)
    if where and text.startswith(where + ": "):
        return text[len(where) + 2:]
    return text


def build_run_scenarios(settings: Settings, base: Scenario | None = None) -> tuple[Scenario, Scenario | None]:
    """(policy scenario, reference scenario or None) for the user's settings.

    The reference is the same scenario (same world, same parameters) with every lever off, so
    the side-by-side difference is the effect of the levers alone. Raises :class:`InputError`.
    """
    base = load_scenario(picked_scenario(settings.scenario)) if base is None else base
    if settings.params:
        try:
            base = base.with_params(dict(settings.params), source="app")
        except InputError as exc:
            raise InputError(f"parameter {exc.key}: {_strip_where(exc)}") from None
    policy = base.with_levers(effective_levers(base, settings.levers))
    reference = base.with_levers({}) if settings.compare else None
    return policy, reference


def check_seed(value: Any) -> int:
    """The seed box's value as the runner's seeds are checked (:func:`.seeds.check_seed`); a
    number field may give ``7.0`` for 7."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    try:
        return seeds.check_seed(value, "seed")
    except ValueError as exc:
        raise InputError(str(exc)) from None


# --- scenarios on disk -----------------------------------------------------------------------
SCENARIOS_ENV = "CLUSTER_ABM_UI_SCENARIOS"  # extra folders (os.pathsep-separated) for the picker


def scenario_folders() -> list[Path]:
    """Folders the picker lists: ``./scenarios``, the project's, then ``$CLUSTER_ABM_UI_SCENARIOS``."""
    extra = [Path(p) for p in os.environ.get(SCENARIOS_ENV, "").split(os.pathsep) if p]
    return [*scenario_dirs(), *extra]


def list_scenarios() -> dict[str, str]:
    """``{label: path}`` of the scenario files in :func:`scenario_folders`.

    Labels are paths relative to their folder without ``.toml`` (``baseline``,
    ``packages/full``); the first folder wins when a label appears in several.
    """
    found: dict[str, str] = {}
    for folder in scenario_folders():
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*.toml")):
            label = path.relative_to(folder).with_suffix("").as_posix()
            found.setdefault(label, str(path.resolve()))
    return dict(sorted(found.items(), key=lambda kv: (kv[0] != "baseline", kv[0])))


_TITLES: dict[tuple[str, float], str] = {}


def scenario_title(path: str) -> str:
    """A scenario file's title (its ``title``; the file name if it does not load), cached by
    file and modification time."""
    try:
        key = (path, Path(path).stat().st_mtime)
    except OSError:
        return Path(path).stem
    if key not in _TITLES:
        try:
            _TITLES[key] = load_scenario(path).title or Path(path).stem
        except Exception:  # a broken file is listed by name; picking it explains the problem
            _TITLES[key] = Path(path).stem.replace("_", " ")
    return _TITLES[key]


def picked_scenario(ref: Any) -> str:
    """The file of the scenario ``ref`` names: a picker label (``baseline``, ``pkg/mine``) or
    the path of a file the picker lists. Anything else (another path on the server, a name
    with ``..``) is refused: a browser may send any value, the app opens only its own files."""
    known = list_scenarios()
    if isinstance(ref, str) and ref in known:
        return known[ref]
    if isinstance(ref, str) and ref:
        try:
            resolved = str(Path(ref).resolve())
        except (OSError, ValueError):  # pragma: no cover - a path the OS cannot even resolve
            resolved = ""
        if resolved in known.values():
            return resolved
    shown = ref if isinstance(ref, str) else repr(ref)
    raise InputError(f"scenario file not found among the app's scenarios: "
                     f"'{Path(shown).name[:60]}'; {closest(Path(shown).stem, known)}")


_PATH_CHARS = r"[^\s'\"`:,;()\[\]{}<>|]"
_ABS_PATH = re.compile(rf"(?<![\w.~-])(?:/|[A-Za-z]:\\){_PATH_CHARS}*")


def hide_paths(text: str) -> str:
    """``text`` without server paths: a file of the app's scenario folders by its label
    (``pkg/mine.toml``), any other absolute path by its last part (``x.toml``)."""
    folders = sorted({str(f.resolve()) for f in scenario_folders()}, key=len, reverse=True)
    for folder in folders:
        text = text.replace(folder.rstrip(os.sep) + os.sep, "")

    def last_part(m: re.Match) -> str:
        parts = [p for p in re.split(r"[\\/]", m.group(0)) if p]
        return parts[-1] if parts else m.group(0)

    return _ABS_PATH.sub(last_part, text)


def scenario_label(ref: str, known: dict[str, str]) -> str:
    """The picker label of a scenario reference (a label already, or a path)."""
    if ref in known:
        return ref
    try:
        resolved = str(Path(ref).resolve())
    except OSError:  # pragma: no cover
        return ref
    for label, path in known.items():
        if path == resolved:
            return label
    return ref


# --- errors as one line -------------------------------------------------------------------------
MAX_MESSAGE = 240


def explain(exc: BaseException, names: Names | None = None) -> str:
    """One line for the error banner: what is wrong and, where we know, what to do.

    Input problems (:class:`InputError`) are the user's to fix and are shown in the room's words
    (display names for ids, no list syntax; ``names`` from the scenarios in play); any other
    exception is a bug, shown by its type and first line (the server log has the rest).
    """
    if isinstance(exc, InputError):
        text = humanise(hide_paths(str(exc)), names)
    else:
        first = hide_paths(str(exc).strip().splitlines()[0]) if str(exc).strip() else ""
        text = f"Unexpected error ({type(exc).__name__}){': ' + first if first else ''}"
    text = " ".join(text.split())
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"
