"""The regional grid: regions as rectangular blocks of a Mesa ``OrthogonalMooreGrid``, their
clusters with a sector and a spatial centre, and the distance classes that set interaction costs.

Seed 2.1 classifies SEE clusters by development stage (mature, middle, early); seed 3.3.1-3.3.2
and 3.5 distinguish intra-cluster, inter-cluster, inter-regional and transnational cooperation,
which :func:`distance_class` returns for any pair of firms (vectorised).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from mesa.discrete_space import OrthogonalMooreGrid

from cluster_abm.specs.scenario import STAGES, Scenario

# Distance classes, from near to far (seed 3.3): the order is the interaction-cost order.
INTRA_CLUSTER, INTER_CLUSTER, INTER_REGIONAL, TRANSNATIONAL = 0, 1, 2, 3
DISTANCE_CLASSES = ("intra_cluster", "inter_cluster", "inter_regional", "transnational")


@dataclass(frozen=True)
class Region:
    index: int
    id: str
    name: str
    country: str
    stage: str
    origin: tuple[int, int]  # lower-left cell of the block
    side: int

    def contains(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        ox, oy = self.origin
        return (x >= ox) & (x < ox + self.side) & (y >= oy) & (y < oy + self.side)


@dataclass(frozen=True)
class Cluster:
    index: int
    id: str  # "<region id>.<sector id>"
    region: int
    sector: int
    centre: tuple[int, int]
    has_cmo: bool


class World:
    """Regions, clusters, sectors and the grid they live on, with per-region lookup arrays."""

    def __init__(self, scenario: Scenario, side: int, cluster_spread: float, random=None):
        self.sectors = [dict(s) for s in scenario.sectors]
        self.sector_ids = [s["id"] for s in self.sectors]
        specs = list(scenario.regions)
        cols = math.ceil(math.sqrt(len(specs)))
        self.side = side
        self.cluster_spread = cluster_spread  # init.cluster_spread: sd around a centre, in sides
        self.width = cols * side
        self.height = math.ceil(len(specs) / cols) * side
        self.regions: list[Region] = []
        self.clusters: list[Cluster] = []
        countries: list[str] = []
        for i, r in enumerate(specs):
            origin = ((i % cols) * side, (i // cols) * side)
            self.regions.append(Region(i, r["id"], r["name"], r["country"], r["stage"], origin, side))
            if r["country"] not in countries:
                countries.append(r["country"])
            n_c = len(r["clusters"])
            for j, c in enumerate(r["clusters"]):
                # Cluster centres sit on a circle around the block centre, a third of a side out.
                angle = 2 * math.pi * j / max(n_c, 1)
                radius = side / 4 if n_c > 1 else 0
                cx = int(origin[0] + side / 2 + radius * math.cos(angle))
                cy = int(origin[1] + side / 2 + radius * math.sin(angle))
                self.clusters.append(Cluster(len(self.clusters), f"{r['id']}.{c['sector']}", i,
                                             self.sector_ids.index(c["sector"]), (cx, cy), c["cmo"]))
        self.specs = specs
        self._region_fields: dict[tuple, np.ndarray] = {}  # region_field's arrays
        self.countries = countries
        self.region_country = np.array([countries.index(r.country) for r in self.regions], dtype=np.int16)
        self.region_stage = np.array([STAGES.index(r.stage) for r in self.regions], dtype=np.int16)
        self.cluster_region = np.array([c.region for c in self.clusters], dtype=np.int16)
        self.cluster_sector = np.array([c.sector for c in self.clusters], dtype=np.int16)
        self.grid = OrthogonalMooreGrid((self.width, self.height), torus=False, random=random)

    @property
    def n_regions(self) -> int:
        return len(self.regions)

    @property
    def n_clusters(self) -> int:
        return len(self.clusters)

    @property
    def n_sectors(self) -> int:
        return len(self.sectors)

    def region_field(self, name: str, dtype=float) -> np.ndarray:
        """A per-region array of one scenario field (e.g. ``wage_skilled``): a fresh copy the
        caller may change. Mechanisms read some fields every step; each is collected once."""
        key = (name, dtype)
        field = self._region_fields.get(key)
        if field is None:
            field = self._region_fields[key] = np.array([r[name] for r in self.specs], dtype=dtype)
        return field.copy()

    def place(self, region: np.ndarray, cluster: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Cells for new firms: around their cluster's centre (normal, standard deviation
        ``init.cluster_spread`` of the region's side in each direction), or anywhere in their
        region (uniform). Clusters are geographically proximate groups of firms (Porter 1998);
        how close they sit sets what they gain from each other
        (:mod:`cluster_abm.mechanisms.agglomeration`). A draw beyond the region's border is
        mirrored back into it: clipping would put those firms on the border cells (7 % of
        cluster firms at the default spread, 30 % at twice it), away from their cluster's bulk."""
        n = len(region)
        side = self.side
        ox = np.array([r.origin[0] for r in self.regions])[region]
        oy = np.array([r.origin[1] for r in self.regions])[region]
        x = ox + rng.integers(0, side, n)
        y = oy + rng.integers(0, side, n)
        in_cluster = cluster >= 0
        if in_cluster.any():
            cx = np.array([c.centre[0] for c in self.clusters])[cluster[in_cluster]]
            cy = np.array([c.centre[1] for c in self.clusters])[cluster[in_cluster]]
            spread = side * self.cluster_spread
            x[in_cluster] = np.rint(cx + rng.normal(0, spread, in_cluster.sum()))
            y[in_cluster] = np.rint(cy + rng.normal(0, spread, in_cluster.sum()))
        return _mirror_into(x, ox, side).astype(np.int16), _mirror_into(y, oy, side).astype(np.int16)

    def distance_class(self, region_a, cluster_a, region_b, cluster_b) -> np.ndarray:
        """Distance class of firm pairs: 0 intra-cluster … 3 transnational (vectorised).

        A cluster lies in one region and a region in one country, so a pair in one cluster is
        in one region and one country: the class is 3 minus the number of levels shared.
        """
        same_cluster = (cluster_a >= 0) & (cluster_a == cluster_b)
        same_region = region_a == region_b
        same_country = self.region_country[region_a] == self.region_country[region_b]
        shared = same_country.view(np.int8) + same_region.view(np.int8)
        shared += same_cluster.view(np.int8)
        return np.subtract(TRANSNATIONAL, shared, dtype=np.int8)


def _mirror_into(v: np.ndarray, origin: np.ndarray, side: int) -> np.ndarray:
    """Cells ``v`` folded into ``[origin, origin + side)`` by mirroring at the borders, as
    often as needed (a spread wider than the region folds more than once): -1 -> 0, side -> side - 1."""
    t = np.mod(v - origin, 2 * side)
    return origin + np.where(t < side, t, 2 * side - 1 - t)
