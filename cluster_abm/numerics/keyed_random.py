"""Random numbers for common random numbers (CRN): keyed draws and per-family streams.

Policy comparisons pair a scenario with the baseline seed by seed. Pairs are tightest when a
firm's random events do not shift just because some *other* random number was drawn in one run
and not in the other (a lever's draw, one more firm). So firm-level events draw *keyed* uniforms:
a deterministic hash of (run key, firm uid, step, purpose) — counter-based randomness in the
spirit of Salmon et al. (2011, "Parallel random numbers: as easy as 1, 2, 3") — and the same
firm meets the same luck at the same step in every scenario. Other draws come from one numpy
generator per mechanism family, spawned from the run's seed, so a lever's draws never shift a
baseline mechanism's stream.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

# One code per purpose of a keyed draw (append only: codes are part of the random stream).
PURPOSES = {name: i for i, name in enumerate((
    "innovate", "innovation_type", "eco", "closure", "spinoff", "founder_skill", "search",
    "accept", "ki_project", "apply_regional", "apply_eu", "merit_noise", "first_come",
    "export_entry", "glocal", "contract", "share_shock", "round_skilled", "round_unskilled",
    "training", "venture_screen", "entry_demand", "quality_draw", "partial_grant", "partial_award",
    "hire_skilled", "hire_unskilled",
    "productivity_draw", "founder_wealth",
    # per firm: partner candidates (scope, place, firm), collective environmental projects,
    # green-cooperation projects, retirements and emigration of employees; per tie (ids from
    # its ends' uids): tie decay; per region (ids = region index): the labour pools' flows
    "candidates", "env_project", "green_project", "retire", "emigrate", "tie_decay",
    "region_labour", "introductions", "qh_candidates",
    # per region (ids = region index): job-to-job moves (production.job_to_job)
    "job_to_job",
    # per parent firm: the error of its spin-off founder's business plan (demography.plan_venture)
    "entry_plan",
    # per parent firm: its spin-off founder's span of control (mechanisms.span)
    "founder_span",
))}
FAMILIES = ("init", "finance", "knowledge", "capabilities", "innovation", "cooperation", "market",
            "labour", "demography", "policy")

_M1 = np.array([0xBF58476D1CE4E5B9], dtype=np.uint64)
_M2 = np.array([0x94D049BB133111EB], dtype=np.uint64)
_GOLD = np.array([0x9E3779B97F4A7C15], dtype=np.uint64)
_S30, _S27, _S31, _S11 = (np.uint64(s) for s in (30, 27, 31, 11))


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser (Steele et al. 2014): a bijective avalanche on uint64 arrays.

    Works in place on ``x`` (callers pass a fresh array): at 2,000 firms the cost of a keyed
    draw is mostly temporaries, and a step makes some thirty of them.
    """
    y = x >> _S30
    x ^= y
    x *= _M1
    np.right_shift(x, _S27, out=y)
    x ^= y
    x *= _M2
    np.right_shift(x, _S31, out=y)
    x ^= y
    return x


def _to_unit(x: np.ndarray) -> np.ndarray:
    """The top 53 bits of mixed uint64s as uniforms in [0, 1) (consumes ``x``)."""
    x >>= _S11
    out = x.astype(np.float64)
    out *= 1.0 / 9007199254740992.0
    return out


_MASK64 = (1 << 64) - 1


def _mix_int(x: int) -> int:
    """:func:`_mix` of one 64-bit Python int (the same bits; no numpy call overhead)."""
    x ^= x >> 30
    x = (x * 0xBF58476D1CE4E5B9) & _MASK64
    x ^= x >> 27
    x = (x * 0x94D049BB133111EB) & _MASK64
    return x ^ (x >> 31)


def keyed_uniform(key: int, ids: np.ndarray, step: int, purpose: int, sub: int = 0) -> np.ndarray:
    """Uniforms in [0, 1), one per id, fixed by (key, id, step, purpose, sub)."""
    head = np.uint64(_mix_int(key ^ _mix_int(((step << 24) ^ (purpose << 12) ^ sub) & _MASK64)))
    x = np.asarray(ids).astype(np.uint64)  # a fresh array: mixed in place
    x *= _GOLD
    x += head
    return _to_unit(_mix(x))  # SplitMix64: one mix per id


def keyed_uniform_columns(key: int, ids: np.ndarray, step: int, purpose: int, k: int) -> np.ndarray:
    """(len(ids), k) uniforms: column j equals ``keyed_uniform(key, ids, step, purpose, j)``."""
    heads = np.array([_mix_int(key ^ _mix_int(((step << 24) ^ (purpose << 12) ^ j) & _MASK64))
                      for j in range(k)], dtype=np.uint64)
    x = np.asarray(ids).astype(np.uint64)[:, None] * _GOLD + heads[None, :]
    return _to_unit(_mix(x))


def keyed_normal(key: int, ids: np.ndarray, step: int, purpose: int) -> np.ndarray:
    """Standard normals by Box-Muller from two keyed uniforms."""
    u1 = keyed_uniform(key, ids, step, purpose, 1)
    u2 = keyed_uniform(key, ids, step, purpose, 2)
    return np.sqrt(-2.0 * np.log1p(-u1)) * np.cos(2.0 * np.pi * u2)


def family_streams(seed: int) -> SimpleNamespace:
    """One numpy Generator per mechanism family, spawned from the run's seed."""
    children = np.random.SeedSequence(seed).spawn(len(FAMILIES) + 1)
    ns = SimpleNamespace(**{f: np.random.default_rng(c) for f, c in zip(FAMILIES, children, strict=False)})
    ns.key = int(children[-1].generate_state(1, dtype=np.uint64)[0])
    return ns
