"""Everything the workshop app reads from a running model, in one place.

The app uses the model's public API: ``ClusterModel(scenario, seed)``, ``.step()``, ``.t``,
``.p.steps_per_year``, ``.world``, the per-step series (:data:`cluster_abm.outputs.metrics.SERIES`)
and ``.firms_frame()``. Two reads go a little further and are kept here, each with a fallback,
so a change of the model's insides touches this module only:

- :func:`latest` reads the newest row of the series from ``model.history`` (one dict per step)
  instead of ``series_wide()``, which stacks the whole history (~4 ms, too slow for 16 models a
  step); without ``history`` it falls back to ``series_wide()``;
- :func:`static_sites` and :func:`tie_segments` read the CMO and knowledge-institution agents'
  cells and the tie table for the map; without them the map shows firms only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LARGE_FIRM = 250  # employees: a large firm (the EU's size class)


def latest(model, names) -> dict[str, np.ndarray]:
    """The newest values (by region, then the total last) of the named series."""
    history = getattr(model, "history", None)
    if history:
        row = history[-1]
        return {n: np.asarray(row[n], dtype=float) for n in names}
    wide = model.series_wide()
    return {n: np.asarray(wide[n][-1], dtype=float) for n in names}


def totals_so_far(model, name: str) -> np.ndarray:
    """A series' total (over regions) at every step so far, step 0 first (a series the app
    starts showing mid-run: a lever switched on brings its direct outcome)."""
    history = getattr(model, "history", None)
    if history:
        return np.array([float(np.asarray(row[name])[-1]) for row in history])
    return np.asarray(model.series_wide()[name], dtype=float)[:, -1]


@dataclass(frozen=True)
class FirmView:
    """The living firms of one model at one step, as the map draws them."""

    t: int
    uid: np.ndarray
    x: np.ndarray
    y: np.ndarray
    employees: np.ndarray
    young: np.ndarray  # younger than 3 years
    glocal: np.ndarray
    contract: np.ndarray  # most of the real firms it stands for in a business network contract
    innovations: np.ndarray  # cumulative count per firm
    region: np.ndarray  # region ids
    sector: np.ndarray  # sector ids


def firm_view(model) -> FirmView:
    f = model.firms_frame()
    return FirmView(
        t=int(model.t - model.t0),  # steps since policy year 0
        uid=f["uid"].to_numpy(np.int64),
        x=f["x"].to_numpy(float),
        y=f["y"].to_numpy(float),
        employees=f["employees"].to_numpy(float),
        young=f["age_years"].to_numpy(float) < 3.0,
        glocal=f["glocal"].to_numpy(bool),
        contract=f["network_contract_share"].to_numpy(float) >= 0.5,
        innovations=f["innovations"].to_numpy(float),
        region=f["region"].to_numpy(object),
        sector=f["sector"].to_numpy(object),
    )


def static_sites(model) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Cells of the CMOs and of the knowledge institutions by kind (empty when unavailable)."""
    try:
        cmo = np.array([c.cell.coordinate for c in model.cmos], dtype=float).reshape(-1, 2)
        kis: dict[str, list] = {}
        for k in model.kis:
            kis.setdefault(k.kind, []).append(np.array(k.cell.coordinate, float))
    except AttributeError:
        return np.zeros((0, 2)), {}
    return cmo, {kind: np.array(xy).reshape(-1, 2) for kind, xy in kis.items()}


def tie_segments(model, max_ties: int) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(uid a, uid b, kind index) of up to ``max_ties`` ties, a stable sample; None if the
    model does not expose its tie table."""
    try:
        ties, ft = model.ties, model.firms
        ti = ties.idx
        if len(ti) > max_ties:
            # a stable sample (by the pair's key), so drawn ties do not flicker between frames
            keys = ties.keys(ti).astype(np.uint64)
            score = (keys * np.uint64(11400714819323198485)) >> np.uint64(40)
            ti = ti[np.argsort(score, kind="stable")[:max_ties]]
        return ft.uid[ties.a[ti]], ft.uid[ties.b[ti]], ties.kind[ti].astype(int)
    except AttributeError:
        return None
