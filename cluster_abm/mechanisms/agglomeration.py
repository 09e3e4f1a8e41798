"""Location effects: what a firm gains from the firms and institutions near it on the grid.

Two Marshallian externalities (Marshall 1890, book IV ch. X), both decaying with grid distance
(agglomeration economies attenuate within a few miles: Rosenthal & Strange 2003):

* **Localized knowledge spillovers.** Knowledge leaks to neighbours: patent citations are
  geographically localized (Jaffe, Trajtenberg & Henderson 1993) and innovative activity clusters
  where knowledge is created (Audretsch & Feldman 1996; Jaffe 1989 and Anselin, Varga & Acs 1997
  for universities). What a firm takes from the pool around it depends on its absorptive capacity
  (Cohen & Levinthal 1990; seed 3.6.2, where clusters are places of localised learning, Maskell &
  Malmberg 1999). The pool raises the innovation hazard
  (:func:`cluster_abm.mechanisms.innovation.innovation_rate`) with the elasticity of the
  Griliches-Jaffe knowledge production function.
* **Shared suppliers and inputs.** Firms of one sector that sit together share specialised
  suppliers, services and indivisible facilities (Duranton & Puga 2004, "sharing"; seed 3.2.2:
  co-located firms tackle common problems at lower cost, seed 3.6.1: clusters are "rich mines of
  skills and competences"); productivity rises with the size of the local industry with an
  elasticity of about 0.02-0.08 (Rosenthal & Strange 2004; Ciccone & Hall 1996 for density).
  Here it is a factor on the firm's effective productivity (:func:`sharing_gain`), so it
  reaches output capacity, labour demand, competitiveness in the replicator and its market's
  demand against outside suppliers (:mod:`cluster_abm.mechanisms.production`).

Nothing here knows about cluster ids: a firm in a dense cluster gains because its neighbours are
many and knowledgeable, so the cluster premium in survival and growth is an outcome (measured in
``cluster_abm/analysis/validation/facts.py``), and a firm moved away from its cluster loses it.

Kernel: weight exp(-d / L) at city-block distance d (cells), L = ``agglomeration.decay_cells``;
it is separable, so the pools are two small matrix products over each region's block of the
grid (aggregated per cell with ``np.bincount``: no loop over firm pairs). Spillovers stay within a
region's block: the model's regions are blocks side by side on the grid, not neighbours in fact.
A firm's own knowledge and employment are not part of its pools.
"""

from __future__ import annotations

import functools

import numpy as np

from cluster_abm.mechanisms.common import state_of_the_art


def decay_kernel(side: int, decay_cells: float) -> np.ndarray:
    """(side, side) one-dimensional weights exp(-|i - j| / L); the product of two is the
    separable city-block kernel exp(-(|dx| + |dy|) / L)."""
    d = np.abs(np.subtract.outer(np.arange(side), np.arange(side)))
    return np.exp(-d / decay_cells)


def smooth(world, x: np.ndarray, y: np.ndarray, weights: np.ndarray, kernel: np.ndarray,
           layers: np.ndarray | None = None, n_layers: int = 1) -> np.ndarray:
    """Kernel-weighted sums of ``weights`` placed at cells (x, y), by region block.

    Returns (n_layers, width, height): cell (x, y) of layer l holds the sum over items j of
    layer l (``layers``; all in layer 0 if None) in the same region block of
    ``weights[j] * kernel[x, x_j] * kernel[y, y_j]``.
    """
    W, H, side = world.width, world.height, world.side
    lay = np.zeros(len(x), dtype=np.int64) if layers is None else np.asarray(layers, dtype=np.int64)
    cell = (lay * W + x.astype(np.int64)) * H + y.astype(np.int64)
    grid = np.bincount(cell, weights=weights, minlength=n_layers * W * H)
    blocks = grid.reshape(n_layers, W // side, side, H // side, side)
    out = np.einsum(_SMOOTH, kernel, blocks, kernel, optimize=_contraction_path(kernel.shape, blocks.shape))
    return out.reshape(n_layers, W, H)


_SMOOTH = "ip,lapbq,jq->laibj"


@functools.lru_cache(maxsize=16)
def _contraction_path(kernel_shape: tuple, blocks_shape: tuple) -> list:
    """The contraction order ``optimize=True`` picks for :func:`smooth` (two matrix products).
    It depends on the shapes only, so it is planned once per shape instead of at every call."""
    k, b = np.empty(kernel_shape), np.empty(blocks_shape)
    return np.einsum_path(_SMOOTH, k, b, k, optimize=True)[0]


def local_pools(m, step) -> None:
    """Per firm: the knowledge pool and the own-sector employment around it (seed 3.6.2, 3.2.2).

    Knowledge pool (ku): the kernel-weighted total knowledge of the other firms and of the
    knowledge institutions of its region block (Jaffe, Trajtenberg & Henderson 1993; Audretsch &
    Feldman 1996). Local industry (persons): the kernel-weighted employees of the other firms of
    its sector (Rosenthal & Strange 2004). Both as at the start of phase 3; from the local
    industry, each firm's productivity gain from shared inputs (:func:`sharing_gain`).

    Step state: writes ``knowledge_pool``, ``local_industry``, ``sharing_gain``.
    """
    ft, w, p = m.firms, m.world, m.p.agglomeration
    n = ft.n
    idx = ft.idx
    kernel = decay_kernel(w.side, p.decay_cells)
    x, y = ft.x[idx], ft.y[idx]
    k = ft.knowledge[idx].sum(axis=1)
    pool = np.zeros(n)
    industry = np.zeros(n)
    if len(idx):
        kx, ky, kk = x, y, k
        if len(m.kis):
            coords = np.array([ki.cell.coordinate for ki in m.kis], dtype=np.int64)
            kx = np.concatenate([x, coords[:, 0]])
            ky = np.concatenate([y, coords[:, 1]])
            kk = np.concatenate([k, m.ki_knowledge.sum(axis=1)])
        here = smooth(w, kx, ky, kk, kernel)[0]
        pool[idx] = np.maximum(here[x, y] - k, 0.0)  # the own stock sits at distance 0, weight 1
        emp = ft.employees[idx].astype(float)
        sector = ft.sector[idx]
        by_sector = smooth(w, x, y, emp, kernel, layers=sector, n_layers=w.n_sectors)
        industry[idx] = np.maximum(by_sector[sector, x, y] - emp, 0.0)
    step.knowledge_pool = pool
    step.local_industry = industry
    step.sharing_gain = sharing_gain(m, industry, idx)


def spillover_factor(m, step, idx: np.ndarray) -> np.ndarray:
    """Relative rise of the innovation hazard from the local knowledge pool,
    (1 + absorptive capacity x pool / innovation.knowledge_ref) ^ agglomeration.spillover_elasticity:
    1 for a firm with nobody near it or no absorptive capacity (Cohen & Levinthal 1990); the
    pool is counted in reference firms' stocks of the current state of the art
    (:func:`~cluster_abm.mechanisms.common.state_of_the_art`), and the elasticity is that of innovation output
    to the local knowledge pool in the knowledge production function (Jaffe 1989; Anselin,
    Varga & Acs 1997).

    Step state: reads ``knowledge_pool``.
    """
    p = m.p
    reference = p.innovation.knowledge_ref * state_of_the_art(m)
    absorbed = m.firms.absorptive[idx] * step.knowledge_pool[idx] / reference
    return (1.0 + absorbed) ** p.agglomeration.spillover_elasticity


def sharing_gain(m, industry: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Factor on each firm's effective productivity from shared suppliers and inputs
    (Marshall 1890; Duranton & Puga 2004, "sharing"; seed 3.2.2, 3.6.1), (n,) over the firm
    table (1 in dead slots):

        gain_i = [(1 + L_i) / (1 + L_ref)] ^ agglomeration.sharing_elasticity

    with L_i the local industry of firm i (kernel-weighted persons of its sector near it, the
    firm left out: ``local_industry``) and 1 + L_ref the employment-weighted geometric mean of
    1 + L over all firms. The elasticity is that of productivity to the size of the local
    industry (Rosenthal & Strange 2004: 0.02-0.08; Ciccone & Hall 1996 for density).

    The reference is the location of the outside suppliers the firms compete with
    (:func:`cluster_abm.mechanisms.production.compete`): they share the firms' technology
    (``productivity``) and its pass-through to wages, but not their location, and sit as dense
    as the typical job of the economy. So a firm whose sector crowds around it produces more
    per person than its technology alone says, and one alone in a corner less; the economy's
    mean gain stays near 1 (levels of employment and demand are those the technology sets) and
    the gain moves demand towards markets whose firms sit in dense local industries (Porter
    1998; Delgado, Porter & Stern 2014: strong clusters' industries grow faster). Nothing here
    reads cluster ids: a firm moved away from its neighbours loses the gain.

    The gain replaces the earlier saving on overhead: the elasticity Rosenthal & Strange (2004)
    report is of output per input, which already contains the shared overhead, so counting it
    on overhead too would count it twice.
    """
    gain = np.ones(m.firms.n)
    if len(idx) == 0:
        return gain
    emp = m.firms.employees[idx].astype(float)
    log_size = np.log1p(industry[idx])
    weight = emp.sum()
    # numpy's own sum, not a BLAS dot: above about 10,000 firms OpenBLAS splits a dot over
    # threads, and the last bit then depends on the machine's core count.
    ref = np.sum(emp * log_size) / weight if weight > 0 else log_size.mean()
    gain[idx] = np.exp(m.p.agglomeration.sharing_elasticity * (log_size - ref))
    return gain
