"""Small helpers shared by mechanisms: hazards, knowledge profiles, cognitive distance, paying
for expected real events."""

from __future__ import annotations

import numpy as np

from cluster_abm.policy.lever_state import covered_share


def pay_expected(m, lid: str, region: np.ndarray, expected: np.ndarray, unit_cost: float) -> np.ndarray:
    """Pay lever ``lid`` for the expected real events behind model firms; returns, per entry of
    ``region``, the share of its region's events the money covers.

    Each model firm stands for real firms (super-individuals, Scheffer et al. 1995), so a rare
    event (a contract founded, a co-financed project started) is paid for as the expected number
    of real events behind each model firm (``expected``), at ``unit_cost`` k€ each, rather than
    as the model's drawn events: spending then does not depend on how many model firms describe a
    region. Each region's budget, paced over the year's remaining steps, pays for as many as it
    covers, the same share of each (:func:`cluster_abm.policy.lever_state.covered_share`); the
    full cost is recorded as asked."""
    p = m.p
    wanted = np.bincount(region, weights=expected, minlength=m.world.n_regions) * unit_cost
    # The call paces the year's money over its remaining steps (first come within a step).
    allowance = m.policy.left(lid) / max(p.steps_per_year - m.step_in_year, 1)
    cover = covered_share(allowance, wanted)
    for r in np.flatnonzero(wanted > 0):
        m.policy.charge(lid, int(r), wanted[r] * cover[r], asked=wanted[r])
    return cover[region]


def hazard_draw(rng: np.random.Generator, rate: np.ndarray) -> np.ndarray:
    """Bernoulli draws for per-step hazards ``rate`` (P = 1 - exp(-rate))."""
    rate = np.asarray(rate, dtype=float)
    return rng.random(rate.shape) < -np.expm1(-rate)


def hazard(u: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """Events for per-step hazards ``rate`` given uniforms ``u`` (keyed draws, see randomness)."""
    return u < -np.expm1(-np.asarray(rate, dtype=float))


def profiles(knowledge: np.ndarray) -> np.ndarray:
    """Knowledge profiles: each row's shares over technology fields (rows of zeros stay zero)."""
    total = knowledge.sum(axis=1, keepdims=True)
    return np.divide(knowledge, total, out=np.zeros_like(knowledge), where=total > 0)


def cognitive_distance(p_a: np.ndarray, p_b: np.ndarray) -> np.ndarray:
    """Half the L1 distance between knowledge profiles: 0 identical, 1 disjoint."""
    return 0.5 * np.abs(p_a - p_b).sum(axis=-1)


def novelty_value(distance: np.ndarray, optimum: float) -> np.ndarray:
    """Inverted U in cognitive distance (Nooteboom et al. 2007): (d/d*) exp(1 - d/d*), peak 1 at d*.

    Too close a partner teaches nothing new; too far a partner cannot be understood.
    """
    r = np.asarray(distance) / optimum
    return r * np.exp(1.0 - r)


def state_of_the_art(m) -> float:
    """How far the external knowledge frontier has advanced since the world was built (1 at the
    build; ``learning.frontier_growth`` a year after it): the unit in which the rules that read a
    firm's knowledge stock as a level measure it.

    Knowledge a firm holds counts for less as the state of the art moves on: ideas get harder to
    find, so the same research effort yields fewer innovations as the frontier advances (Jones
    1995; Kortum 1997; Bloom, Jones, Van Reenen & Webb 2020), and what a firm can absorb depends on
    its prior knowledge relative to the knowledge it meets (Cohen & Levinthal 1990). Firms' stocks
    track the frontier through what they learn from institutions, partners and the global pool,
    so a rule reading the absolute stock would see innovation and absorptive capacity rise
    without end (innovations a year rose 3.7-fold over 70 years after the spin-up, seed 1)."""
    return float(m.frontier[0] / m.frontier_built[0])


def reference_wage_ratio(m) -> np.ndarray:
    """Per region: the skilled over unskilled wage of the scenario (the technology's reference)."""
    w = m.world
    return w.region_field("wage_skilled") / w.region_field("wage_unskilled")
