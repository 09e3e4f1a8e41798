"""Errors a user can cause with bad input.

Every problem a user can make in a scenario, experiment or command line is raised as
:class:`InputError`, whose message is one line naming the file, the key and what is allowed.
The CLI prints it and exits with status 2; library callers can catch it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class InputError(ValueError):
    """A user-facing, one-line input problem (file, key, what is allowed)."""

    def __init__(self, message: str, *, source: str | None = None, key: str | None = None):
        self.source = source
        self.key = key
        where = ": ".join(part for part in (source, key) if part)
        text = f"{where}: {message}" if where else message
        super().__init__(" ".join(text.split()))


class ModelDiverged(InputError):
    """The simulated economy left the numbers: a state quantity overflowed or became undefined.

    Only parameter sets far from the calibrated one do this (for example entrants more productive
    than their parents, which compounds through generations of spin-offs), so it is reported as
    a problem of the run's parameters, one line, instead of letting NaN reach every output."""


def closest(name: str, options: Iterable[str], n: int = 3) -> str:
    """Return a short 'did you mean' hint listing the options closest to ``name``."""
    options = list(options)
    near = difflib.get_close_matches(name, options, n=n, cutoff=0.5)
    if near:
        return "did you mean " + " or ".join(repr(o) for o in near) + "?"
    shown = ", ".join(sorted(options)[:12])
    more = "" if len(options) <= 12 else f", ... ({len(options)} in all)"
    return f"allowed: {shown}{more}"
