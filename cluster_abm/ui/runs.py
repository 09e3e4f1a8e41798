"""Lock-step runs for the workshop app: a policy run and, side by side, its reference.

:class:`RunPair` holds one :class:`~cluster_abm.model.cluster_model.ClusterModel` (the policy run) or two (the
policy run and the same scenario with every lever off), built with the same seed, and steps
them together, so at every step both show the same quarter and the difference between them is
the effect of the levers (common random numbers, DESIGN 4). :class:`Track` keeps the few
series the app charts, appended once per step instead of re-reading the model's history.
Nothing here imports Solara or matplotlib: the pair is tested and benchmarked on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cluster_abm.model.cluster_model import ClusterModel
from cluster_abm.outputs.metrics import SERIES
from cluster_abm.policy import levers as policies
from cluster_abm.specs.scenario import Scenario

# series the app charts (totals over all regions; see cluster_abm.outputs.metrics.SERIES)
TRACKED = ("innovations", "employment", "skilled_emigrants_cum", "births", "deaths", "firms")
MAX_DIRECT = 2  # headline numbers for the direct outcomes of the levers switched on


@dataclass
class Track:
    """Per-step totals of some series of one model (index = step, 0 = the initial state)."""

    steps_per_year: int
    names: tuple[str, ...] = TRACKED
    values: dict[str, list[float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in self.names:
            self.values.setdefault(name, [])

    def append(self, model: ClusterModel) -> None:
        last = model.history[-1]
        for name in self.names:
            self.values[name].append(float(last[name][-1]))

    def __len__(self) -> int:
        return len(self.values[TRACKED[0]])

    def years(self) -> np.ndarray:
        return np.arange(len(self)) / self.steps_per_year

    def series(self, name: str) -> np.ndarray:
        return np.asarray(self.values[name], dtype=float)

    def per_year(self, name: str) -> np.ndarray:
        """A flow as a yearly rate: the sum over the last year (or the steps so far), annualised.

        Entry 0 (the initial state, no flow yet) is NaN.
        """
        v = self.series(name)
        out = np.full(len(v), np.nan)
        if len(v) < 2:
            return out
        flows = v[1:]
        c = np.concatenate([[0.0], np.cumsum(flows)])
        k = np.arange(1, len(flows) + 1)
        window = np.minimum(k, self.steps_per_year)
        out[1:] = (c[k] - c[k - window]) / window * self.steps_per_year
        return out

    def cumulative(self, name: str) -> float:
        """Total of a flow since the start."""
        return float(np.sum(self.values[name][1:]))

    def last(self, name: str) -> float:
        return float(self.values[name][-1])


@dataclass(frozen=True)
class Outcome:
    """One headline number of a run, or the policy-minus-reference difference of it."""

    key: str
    label: str
    unit: str
    better: str  # "higher" or "lower"
    policy: float
    reference: float | None = None
    note: str = ""  # e.g. which lever this is the direct outcome of

    @property
    def difference(self) -> float | None:
        return None if self.reference is None else self.policy - self.reference


# (key, label, unit, better, how to read it from a Track)
HEADLINES = (
    ("innovations", "Innovations so far", "", "higher", lambda tr: tr.cumulative("innovations")),
    ("employment", "Jobs now", "", "higher", lambda tr: tr.last("employment")),
    ("brain_drain", "Brain drain so far", "skilled emigrants", "lower",
     lambda tr: tr.last("skilled_emigrants_cum")),
    ("firms", "Firms now", "", "higher", lambda tr: tr.last("firms")),
)


def _series_label(name: str) -> str:
    words = name.replace("_", " ").split()
    fixed = {"ki": "KI", "cmo": "CMO", "cmos": "CMOs", "rd": "R&D", "qh": "QH"}
    text = " ".join(fixed.get(w, w) for w in words)
    return text[0].upper() + text[1:]


def lever_outcomes(scenario: Scenario) -> list[tuple[str, str, str]]:
    """(series, better, lever name) of the direct outcomes of the scenario's levers.

    Each lever of the catalogue names the outcome it moves directly and in which direction; with
    at most :data:`MAX_DIRECT` levers on, those that are per-step series become headline
    numbers, so the room sees a lever work even before jobs or innovations move. A package of
    more levers gets none: its story is the four headline numbers.
    """
    if len(scenario.levers) > MAX_DIRECT:  # a package: its story is in the headline numbers
        return []
    out: dict[str, tuple[str, str, str]] = {}
    for lid in scenario.levers:
        lever = policies.BY_ID.get(lid)
        if lever is None or lever.outcome not in SERIES or lever.outcome in TRACKED:
            continue
        better = "lower" if lever.direction == "-" else "higher"
        out.setdefault(lever.outcome, (lever.outcome, better, lever.name))
    return list(out.values())[:MAX_DIRECT]


class RunPair:
    """The policy run and (optionally) its reference, stepped together.

    Args:
        policy: the scenario with the user's levers.
        reference: the same world without levers, or None for a single run.
        seed: the seed of both runs.
        horizon: steps to run (default: the policy scenario's ``sim.years`` in steps).
    """

    def __init__(self, policy: Scenario, reference: Scenario | None, seed: int,
                 horizon: int | None = None):
        self.seed = int(seed)
        self.scenarios = {"policy": policy} | ({} if reference is None else {"reference": reference})
        self.policy = ClusterModel(policy, seed=self.seed)
        self.reference = None if reference is None else ClusterModel(reference, seed=self.seed)
        spy = self.policy.p.steps_per_year
        if self.reference is not None and self.reference.p.steps_per_year != spy:
            raise ValueError("policy and reference runs must have the same steps per year")
        self.steps_per_year = spy
        self.horizon = (int(round(self.policy.p.yearly.sim.years * spy)) if horizon is None
                        else int(horizon))
        self.direct = lever_outcomes(policy)
        names = TRACKED + tuple(name for name, _, _ in self.direct)
        self.tracks = {"policy": Track(spy, names)}
        self.tracks["policy"].append(self.policy)
        if self.reference is not None:
            self.tracks["reference"] = Track(spy, names)
            self.tracks["reference"].append(self.reference)

    @property
    def compare(self) -> bool:
        return self.reference is not None

    @property
    def t(self) -> int:
        """Steps run since policy year 0 (the end of the spin-up)."""
        return self.policy.t - self.policy.t0

    @property
    def done(self) -> bool:
        return self.t >= self.horizon

    @property
    def year(self) -> float:
        return self.t / self.steps_per_year

    def models(self) -> list[ClusterModel]:
        return [m for m in (self.policy, self.reference) if m is not None]

    def step(self) -> bool:
        """Advance every run by one step; False (and nothing done) at the horizon."""
        if self.done:
            return False
        self.policy.step()
        self.tracks["policy"].append(self.policy)
        if self.reference is not None:
            self.reference.step()
            self.tracks["reference"].append(self.reference)
            if self.reference.t != self.policy.t:  # pragma: no cover - a model bug, not a user's
                raise RuntimeError("policy and reference runs fell out of step")
        return True

    def outcomes(self) -> list[Outcome]:
        """The headline numbers now, with the reference's beside them when comparing: the four
        of :data:`HEADLINES`, then the direct outcomes of the levers switched on."""
        pol = self.tracks["policy"]
        ref = self.tracks.get("reference")
        out = [
            Outcome(key, label, unit, better, fn(pol), None if ref is None else fn(ref))
            for key, label, unit, better, fn in HEADLINES
        ]
        for name, better, lever in self.direct:
            series = SERIES[name]

            def read(tr, name=name, flow=series.kind == "flow"):
                return tr.cumulative(name) if flow else tr.last(name)

            label = _series_label(name) + (" so far" if series.kind == "flow" else "")
            out.append(Outcome(name, label, series.unit, better, read(pol),
                               None if ref is None else read(ref), note=lever))
        return out
