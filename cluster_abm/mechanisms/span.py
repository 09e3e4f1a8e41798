"""The owner-manager's span of control: decreasing returns to a firm's scale (Lucas 1978).

A firm's output is its technology times a concave function of its staff: with the labour
composite X (persons, :func:`cluster_abm.mechanisms.production.labour_composite`) and the firm's
managerial span S (persons, ``span``), output per person of the composite is its technology
(``productivity``) times ``(X / S)^(gamma - 1)``, ``gamma`` = ``production.span_of_control``.
At its span a firm produces as its technology says; beyond it each extra person adds less, since
one manager's attention is spread over more of them; below it, more. The span is the manager's
talent in persons: Lucas's z, ``productivity x S^(1 - gamma)``, ranks firms by the size they can
run, so a firm more productive than its rivals grows to a larger size, not to its whole market,
and a market's firms keep sizes in proportion to their talents (the size distribution mirrors the
talent distribution, Lucas 1978). Span-of-control models put ``gamma`` at 0.80-0.85 (Guner,
Ventura & Xu 2008; Restuccia & Rogerson 2008, after Atkeson & Kehoe 2005); at 1 returns are
constant and the span does not matter.

A firm plans staff to serve the demand it faces, but not beyond the size at which one more
person's marginal product no longer pays the person's wage (:func:`profitable_staff`, Lucas
1978's optimal size): the orders beyond it are turned away, and go to its market's other firms
through the replicator (an unserved share lowers competitiveness). Without that bound a firm
facing more demand than its span can serve posted ever more vacancies at a loss: with the span
alone the job vacancy rate rose to 4.6 % over the first 20 policy years (20 seeds, parameters
of the calibration before the span), against 2.4 % with it.

Where the span comes from:

* the built world's firms are at their spans at policy year 0's start (``span`` = their persons):
  the register's sizes are the outcome of the managers' talents (Lucas 1978), so the built world
  starts in the span-of-control model's equilibrium;
* a founder's span is drawn from the register's law of firm sizes, the discrete Pareto law of
  ``init.size_pareto_alpha`` (the law the built world's sizes take): talent follows the law the
  sizes it produces follow (Lucas 1978). Whether a founder reaches it depends on the firm's
  technology, its customers and its survival.
"""

from __future__ import annotations

import numpy as np


def factor(staff: np.ndarray, span: np.ndarray, gamma: float) -> np.ndarray:
    """Output per person with ``staff`` (labour composite, persons) relative to the technology's,
    for managers of span ``span``: ``(max(staff, 1) / span)^(gamma - 1)``. A firm without staff
    is counted at one person, its owner."""
    return (np.maximum(staff, 1.0) / span) ** (gamma - 1.0)


def span_factor(m, idx: np.ndarray, staff: np.ndarray) -> np.ndarray:
    """:func:`factor` for firms ``idx`` with ``staff`` persons of the composite."""
    return factor(staff, m.firms.span[idx], m.p.production.span_of_control)


def staff_for_output(m, idx: np.ndarray, at_span: np.ndarray) -> np.ndarray:
    """The labour composite (persons) firms ``idx`` need for an output that would take
    ``at_span`` persons at their technology's output per person: ``S (at_span / S)^(1 / gamma)``,
    the inverse of output = technology x S (X / S)^gamma."""
    gamma = m.p.production.span_of_control
    span = m.firms.span[idx]
    return span * (np.maximum(at_span, 0.0) / span) ** (1.0 / gamma)


def pareto_sizes(u: np.ndarray, alpha: float, size_max: int) -> np.ndarray:
    """Persons from uniforms ``u`` under the register's discrete Pareto law of firm sizes with
    tail exponent ``alpha``, at least 1 and at most ``size_max``: the built world's sizes
    (:func:`cluster_abm.model.cluster_model.initial_sizes`, from stratified quantiles) and the
    founders' spans (from draws)."""
    u = np.clip(u, np.finfo(float).tiny, 1.0)
    return np.clip(np.floor(u ** (-1.0 / alpha)), 1.0, float(size_max))


def profitable_staff(m, idx: np.ndarray, at_span: np.ndarray, unit_cost: np.ndarray) -> np.ndarray:
    """The largest labour composite (persons) at which one more person still pays for itself:
    the marginal revenue product ``gamma x at_span x (X / S)^(gamma - 1)`` (k€/yr per person,
    output sold at its unit value) equals the unit labour cost, so
    ``X = S (gamma at_span / unit_cost)^(1 / (1 - gamma))`` (Lucas 1978's optimal size). Beyond it
    a firm turns demand away rather than serve it at a loss; unbounded at constant returns.

    ``at_span``: output per person at the span (k€/yr); ``unit_cost``: labour cost per person of
    the composite (k€/yr)."""
    gamma = m.p.production.span_of_control
    if gamma >= 1.0:
        return np.full(len(idx), np.inf)
    ratio = gamma * at_span / np.maximum(unit_cost, 1e-12)
    return m.firms.span[idx] * ratio ** (1.0 / (1.0 - gamma))
