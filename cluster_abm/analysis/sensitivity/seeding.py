"""Seed handling: one integer seed reproduces the design, every model replicate and every bootstrap.

Streams derived from ``seed`` (all via :class:`numpy.random.SeedSequence`, never the global RNG):

* the design: the seed is passed unchanged to SALib's samplers (scipy's scrambled Sobol',
  Morris trajectories, Latin hypercube), so ``sample(..., seed=s)`` equals calling SALib with
  ``seed=s``;
* replicate ``r`` of design point ``i``: ``SeedSequence(seed, spawn_key=(i, r))``, which is
  exactly ``SeedSequence(seed).spawn(i + 1)[i].spawn(r + 1)[r]`` but costs O(1), and does not
  depend on how many points or replicates there are (adding replicates keeps old ones);
* whole-design replicate ``r`` of a vectorised function: ``SeedSequence(seed, spawn_key=(r,))``;
* bootstraps: :func:`salib_seed`, a non-zero 32-bit integer.

SALib 1.6's ``sobol``, ``pawn`` and ``delta`` analysers test ``if seed:``, so ``seed=0`` would
silently fall back to unseeded global state, and ``pawn``/``delta`` call ``np.random.seed`` and
draw from the global legacy RNG. :func:`salib_seed` avoids the first trap and
:func:`isolated_salib` restores the global state afterwards, so running an analysis never
changes the random stream of anything else in the process (e.g. a Mesa model).
"""

from __future__ import annotations

import contextlib
import numbers
import warnings
from collections.abc import Iterator

import numpy as np


def check_seed(seed: object) -> int:
    """Return ``seed`` as a Python int >= 0; SALib's ``handle_seed`` rejects numpy integers."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or int(seed) < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def replicate_seed_sequence(seed: int, point: int, replicate: int) -> np.random.SeedSequence:
    """Seed sequence of replicate ``replicate`` at design point ``point`` (see module doc)."""
    return np.random.SeedSequence(check_seed(seed), spawn_key=(int(point), int(replicate)))


def replicate_rng(seed: int, point: int, replicate: int) -> np.random.Generator:
    """Independent generator for one model run; reproducible from (seed, point, replicate)."""
    return np.random.default_rng(replicate_seed_sequence(seed, point, replicate))


def replicate_seed(seed: int, point: int, replicate: int) -> int:
    """Integer seed for one model run, for models that take an int (e.g. ``mesa.Model(seed=)``)."""
    state = replicate_seed_sequence(seed, point, replicate).generate_state(2, dtype=np.uint32)
    return int(state[0]) << 32 | int(state[1])


def design_rng(seed: int, replicate: int) -> np.random.Generator:
    """Generator for replicate ``replicate`` of a whole design evaluated by a vectorised function."""
    return np.random.default_rng(np.random.SeedSequence(check_seed(seed), spawn_key=(replicate,)))


def salib_seed(seed: int) -> int:
    """Non-zero 32-bit seed for SALib analysers, which treat 0 as "no seed" (``if seed:``)."""
    value = int(np.random.SeedSequence(check_seed(seed)).generate_state(1, dtype=np.uint32)[0])
    return value or 1


@contextlib.contextmanager
def isolated_salib() -> Iterator[list[warnings.WarningMessage]]:
    """Run SALib code without leaking its global side effects; yield the warnings it raised.

    Saves and restores numpy's legacy global RNG state (``pawn``/``delta`` reseed it), the warning
    filters (``delta`` calls ``warnings.simplefilter("once")``) and ``warnings.formatwarning``
    (``delta`` replaces it). Not thread-safe, like the global state it protects.
    """
    rng_state = np.random.get_state()
    formatwarning = warnings.formatwarning
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield caught
    finally:
        warnings.formatwarning = formatwarning
        np.random.set_state(rng_state)
