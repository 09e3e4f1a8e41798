"""Binomial draws from given uniforms (inverse CDF), for common random numbers.

Why: ``Generator.binomial`` consumes a varying number of draws from its stream, so a run in
which one count differs (a lever kept a few people at home) shifts every later draw of that
stream, and a paired comparison with the baseline measures that noise rather than the lever.
Drawing a binomial as the inverse of its CDF at a keyed uniform (one uniform per count, see
:mod:`cluster_abm.numerics.keyed_random`) keeps the draws of two runs coupled: the same uniform
gives the same count where n and p agree, and a count that moves monotonically with p where
they do not (the plain form is ``Generator.binomial``; ``tests/test_retention.py`` checks this
one against ``scipy.stats.binom.ppf``).
"""

from __future__ import annotations

import math

import numpy as np

_START_SDS = 12.0  # the CDF below mean - 12 sd is below 1e-30: start the recursion there


def binomial_from_uniform(u, n, p) -> np.ndarray:
    """The smallest k with P(Binomial(n, p) <= k) > u, elementwise (int64).

    ``u`` in [0, 1), ``n`` >= 0 whole numbers, ``p`` in [0, 1] (broadcast together). The
    recursion pmf(k + 1) = pmf(k) (n - k) / (k + 1) p / (1 - p) runs over k, never over the
    entries; it starts at 0, or a dozen standard deviations below the mean where the mean is
    large (pmf(0) would underflow), from a log-gamma pmf of those few entries.
    """
    u, n, p = np.broadcast_arrays(np.asarray(u, dtype=float), np.asarray(n, dtype=np.int64),
                                  np.clip(np.asarray(p, dtype=float), 0.0, 1.0))
    shape = u.shape
    u, n, p = u.ravel(), n.ravel(), p.ravel()
    out = np.zeros(len(u), dtype=np.int64)
    certain = (p >= 1.0) & (n > 0)
    out[certain] = n[certain]
    live = ((n > 0) & (p > 0.0) & ~certain).nonzero()[0]
    if len(live) == 0:
        return out.reshape(shape)
    nn, pp, uu = n[live].astype(float), p[live], u[live]
    q = 1.0 - pp
    ratio = pp / q
    k = np.maximum(np.floor(nn * pp - _START_SDS * np.sqrt(nn * pp * q)), 0.0)
    pmf = np.exp(nn * np.log(q))  # k = 0
    far = (k > 0).nonzero()[0]
    if len(far):
        lg = np.vectorize(math.lgamma, otypes=[float])
        kf, nf = k[far], nn[far]
        pmf[far] = np.exp(lg(nf + 1.0) - lg(kf + 1.0) - lg(nf - kf + 1.0)
                          + kf * np.log(pp[far]) + (nf - kf) * np.log(q[far]))
    cdf = pmf.copy()
    # The entries still searching, kept compact: a pass costs a few operations on them alone.
    while True:
        done = (uu < cdf) | (k >= nn)
        if done.any():
            out[live[done]] = k[done].astype(np.int64)
            going = ~done
            live, nn, uu, ratio, k, pmf, cdf = (a[going] for a in (live, nn, uu, ratio, k, pmf, cdf))
            if len(live) == 0:
                break
        pmf *= (nn - k) / (k + 1.0) * ratio
        k += 1.0
        cdf += pmf
    return out.reshape(shape)
