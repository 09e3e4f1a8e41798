"""The workshop app's narrative: notable events, reported as they happen, in plain words.

:class:`Narrator` looks at a :class:`~cluster_abm.ui.runs.RunSet` after every step and reports:

- a **funding freeze**: a region's cluster budget committed at the start of a year is zero in
  the run on the map (no calls, no CMO funding that year; seed 3.4.1);
- a **large firm closing** (250 or more employees) in the run on the map;
- an **effect becoming distinguishable from chance**: the 95 % interval of a headline outcome's
  policy − baseline difference stops spanning zero (and, later, when it spans zero again);
- a **lever starting or ending** in the policy run (or its intensity or targets changing):
  switched by the trainer while the runs go on, or planned by the scenario's years
  (:attr:`~cluster_abm.ui.runs.RunSet.marks`, the same marks the charts draw).

The app adds its own events (a restart, a pause at the chosen year).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cluster_abm.ui.runs import RUN_NAMES, RunSet
from cluster_abm.ui.wording import fmt_number

MAX_EVENTS = 60


@dataclass(frozen=True)
class Event:
    step: int
    kind: str  # "freeze", "closure", "effect", "lever", "app"
    text: str


def year_text(step: int, steps_per_year: int) -> str:
    """Step 13 of a quarterly model -> "year 3¼" (step 2: "year ½")."""
    whole, part = divmod(int(step), int(steps_per_year))
    if part == 0:
        return f"year {whole}"
    if steps_per_year == 4:
        return f"year {whole or ''}{'¼½¾'[part - 1]}"
    return f"year {step / steps_per_year:.2f}".rstrip("0")


def signed(v: float, digits: int | None = None) -> str:
    if v == 0:
        return "±0"
    return ("+" if v > 0 else "−") + fmt_number(abs(v), digits)


def mark_text(mark, steps_per_year: int) -> str:
    """A :class:`~cluster_abm.ui.runs.LeverMark` in words: "Year 5: Business network contracts
    started in the policy run (switched on now; the baseline runs without it)."."""
    when = year_text(mark.step, steps_per_year).capitalize()
    verb = {"start": "started", "end": "ended", "change": "changed"}[mark.kind]
    if mark.kind == "change":
        verb += f" ({mark.detail})" if mark.detail else ""
    if mark.how == "switch":
        why = {"start": "switched on now; the baseline runs without it",
               "end": "switched off", "change": "changed now"}[mark.kind]
    else:
        why = "as the scenario plans"
    return f"{when}: {mark.name} {verb} in the policy run ({why})."


class Narrator:
    """Turns what happened in a :class:`RunSet` since the last look into :class:`Event` s."""

    def __init__(self, runs: RunSet):
        self.runs = runs
        self._step_seen = 0
        self._closures_seen = 0
        self._marks_seen = 0
        self._sign: dict[str, int] = {}
        self._regions = runs.region_names()

    def look(self) -> list[Event]:
        runs = self.runs
        out: list[Event] = []
        spy = runs.steps_per_year
        run, index = runs.watch
        where = f"(the {RUN_NAMES[run]} run on the map)"
        committed = runs.committed(run, index)
        for t in range(self._step_seen + 1, runs.t + 1):
            if (t - 1) % spy == 0 and t < len(committed):  # the step that opened a year
                frozen = [self._regions[r] for r in np.flatnonzero(committed[t] <= 0.0)]
                if frozen:
                    names = ", ".join(frozen)
                    out.append(Event(t, "freeze", f"{year_text(t - 1, spy).capitalize()}: "
                                     f"funding freeze in {names}: no regional cluster budget "
                                     f"this year {where}."))
        self._step_seen = runs.t
        for c in runs.closures[self._closures_seen:]:
            if c.run != run:
                continue  # the room sees one run on the map: its closures are told
            out.append(Event(c.step, "closure", f"{year_text(c.step, spy).capitalize()}: a large "
                             f"firm ({fmt_number(c.employees, 0)} jobs, {self._sector(c.sector)}) "
                             f"closed in {self._region(c.region)} {where}."))
        self._closures_seen = len(runs.closures)
        for mark in runs.marks[self._marks_seen:]:
            out.append(Event(mark.step, "lever", mark_text(mark, spy)))
        self._marks_seen = len(runs.marks)
        if runs.compare and runs.n_seeds >= 2:
            for m in runs.measures()[:4]:
                o = runs.outcome(m)
                sign = o.difference.sign
                if sign == self._sign.get(m.key, 0):
                    continue
                self._sign[m.key] = sign
                d = o.difference
                when = year_text(runs.t, spy).capitalize()
                if sign:
                    out.append(Event(runs.t, "effect", f"{when}: the effect on {m.label.lower()} "
                                     f"is now distinguishable from chance: {signed(d.mean)} "
                                     f"{m.unit} (95 % interval {signed(d.lo)} to {signed(d.hi)})."))
                else:
                    out.append(Event(runs.t, "effect", f"{when}: the effect on {m.label.lower()} "
                                     "is no longer distinguishable from chance."))
        return out

    def _region(self, rid: str) -> str:
        world = self.runs.watched.world
        return next((r.name for r in world.regions if r.id == rid), rid)

    def _sector(self, sid: str) -> str:
        world = self.runs.watched.world
        return next((s["name"] for s in world.sectors if s["id"] == sid), sid)
