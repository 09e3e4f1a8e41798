"""Seeds of an experiment: one root seed reproduces every run, whatever ran it and in what order.

Each run's seed is derived from the experiment's root seed and a *spawn key*
``(point_key, replicate)`` through :class:`numpy.random.SeedSequence`, so it depends only on
those three integers -- not on how many runs there are, which worker ran it or when. Adding
replicates or design points later leaves the existing runs' seeds unchanged.

Keys:

* ``point_key = 0`` is the *common random numbers* key: every scenario of a comparison uses
  ``(0, r)`` for replicate ``r``, so replicate ``r`` of each scenario sees the same seed and
  differences between scenarios are not drowned in seed noise (paired comparisons);
* design point ``i`` (numbered from 1) uses ``(i, r)``, independent streams per point, unless the
  design asks for ``crn = true``, in which case it uses ``(0, r)`` like the scenarios;
* the Latin-hypercube design itself draws from :func:`design_rng`, whose one-element key cannot
  collide with a two-element run key.

The seed handed to the model is a Python ``int`` in ``[0, 2**63)`` (64 random bits shifted right
by one), so it fits a signed 64-bit Parquet column and any ``seed=`` argument.
"""

from __future__ import annotations

import numbers

import numpy as np

CRN_KEY = 0
DESIGN_KEY = 2**32 - 1  # spawn key of the design sampler's stream (one element, see module doc)
MAX_SEED = 2**63


def check_seed(value: object, what: str = "seed") -> int:
    """Return ``value`` as a Python int in [0, 2**63); raise ``ValueError`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{what} must be a whole number, got {value!r}")
    value = int(value)
    if not 0 <= value < MAX_SEED:
        raise ValueError(f"{what} must be between 0 and 2**63 - 1, got {value}")
    return value


def spawn_key(point_key: int, replicate: int) -> tuple[int, int]:
    """The spawn key of one run (see the module docstring)."""
    return (int(point_key), int(replicate))


def run_seed(root: int, point_key: int, replicate: int) -> int:
    """Seed of one run: 64 bits of ``SeedSequence(root, spawn_key=(point_key, replicate))`` >> 1."""
    ss = np.random.SeedSequence(check_seed(root, "root seed"),
                                spawn_key=spawn_key(point_key, replicate))
    return int(ss.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def design_rng(root: int) -> np.random.Generator:
    """Generator for sampling a design (e.g. a Latin hypercube), independent of every run seed."""
    return np.random.default_rng(
        np.random.SeedSequence(check_seed(root, "root seed"), spawn_key=(DESIGN_KEY,)))
