"""The firm table: every firm attribute as one numpy array (structure of arrays).

Mechanisms act on all firms at once through these arrays; each :class:`~cluster_abm.agents.firm.Firm`
Mesa agent holds a slot and reads its attributes from here, so notebooks, tests and the UI still
see ordinary agents. Slots of dead firms are reused (a free list); capacity doubles when full.

State table (units):

=================  =======  ===================================================================
column             dtype    meaning
=================  =======  ===================================================================
uid                int64    unique firm id (never reused), equals the Mesa agent's unique_id
alive              bool     slot holds a living firm
region, cluster    intp     region index; cluster index or -1 outside clusters (intp: they
                            index per-region and per-cluster tables every step, and numpy
                            casts narrower index arrays on every such lookup)
sector             intp     sector index
x, y               int16    grid cell
birth_step         int32    step of birth (negative for firms older than the run)
skilled            int32    skilled employees (persons)
unskilled          int32    unskilled employees (persons)
skill_share        float64  share of skilled workers the firm's technology needs
productivity       float64  revenue per employee at quality 1 (k€/yr per person)
quality            float64  product quality (relative; product innovations raise it)
share_reg          float64  share of its (sector, region) market
share_exp          float64  share of its sector's export market (0 for non-exporters)
reach              float64  customer base: share of the customers its market shares would
                            warrant that the firm reaches, in (0, 1] (Foster, Haltiwanger &
                            Syverson 2016; production.accumulate_customers)
exporter           bool     sells abroad
revenue            float64  annualised revenue this step (k€/yr)
revenue_exp        float64  of which export revenue (k€/yr)
cash               float64  cash (k€); negative = overdraft on the bank credit line
credit_line        float64  bank credit line this step (k€)
rd_intensity       float64  own R&D spend as a share of revenue
grant_rd           float64  grant-funded R&D spend (k€/yr) until grant_until
grant_until        int32    last step of the running grant (-1 none)
knowledge          float64  knowledge stock per technology field (ku), shape (n, K); last = green
codification       float64  knowledge-codification capability in [0, 1] (seed 3.6.2)
dyncap             float64  dynamic capabilities in [0, 1] (seed 3.6.1)
absorptive         float64  absorptive capacity in [0, 1], derived each step (seed 3.6.2)
emission           float64  emission intensity relative to the sector's (1 = no eco-innovation)
glocal             bool     global links: gatekeeper to the external knowledge pool (seed 3.3.3)
member             bool     member of its cluster's CMO
contract_share     float64  share of the real firms behind it in a business network contract (seed 3.3.1)
incubated_until    int32    last step in a networked incubator (-1 never) (seed 3.1.4)
ventured           bool     received venture finance (seed 3.4.2)
origin             int8     0 initial, 1 replicative spin-off, 2 innovative spin-off, 3 de novo
n_innov            int32    innovations so far (product + process)
last_innov         int32    step of the last innovation (-10**6 never)
n_eco              int32    eco-innovations so far
ki_until           int32    last step of a running firm-KI project (-1 none)
ki_index           int32    knowledge institution of that project (-1 none)
ki_cofunded        float64  share of that project's costs a science-industry instrument pays
qh_until           int32    last step in a demand-side (quadruple-helix) project (-1 none)
subsidy_base       int32    skilled staff when employment incentives first reached the firm
                            (-1 never): the state pays for skilled jobs above it (seed 3.6.4)
demand             float64  demand the firm faced this step (k€/yr); revenue is what it sold
desired_skilled    float64  skilled staff the firm wants at its last labour plan (persons)
desired_unskilled  float64  unskilled staff the firm wants at its last labour plan (persons)
belief             float64  owner's estimate of the firm's yearly earnings over the outside wage
                            (NaN until first observed; passive learning, Jovanovic 1982)
startup_credit     float64  bank loan granted at founding (k€), the floor of its credit line
                            while it is repaid (Evans & Jovanovic 1989)
env_until          int32    last step in a collective environmental project (-1 none)
span               float64  the owner-manager's span of control (persons): the staff at which
                            output per person equals the technology's (Lucas 1978;
                            mechanisms.span)
=================  =======  ===================================================================
"""

from __future__ import annotations

import heapq

import numpy as np

NEVER = -(10**6)

# EU definition used by the seed (footnote 1): an SME employs fewer than 250 persons.
SME_MAX_EMPLOYEES = 250
# Eurostat's size classes of enterprises by persons employed: 0-9, 10-49, 50-249, 250+.
SIZE_CLASS_EDGES = np.array([10, 50, SME_MAX_EMPLOYEES])


def size_class(employees: np.ndarray) -> np.ndarray:
    """Size class (0: 0-9, 1: 10-49, 2: 50-249, 3: 250+ persons employed) of each entry."""
    return np.searchsorted(SIZE_CLASS_EDGES, employees, side="right")


def open_posts(ft, slots: np.ndarray, skill: str) -> np.ndarray:
    """Posts of ``skill`` ("skilled" or "unskilled") firms ``slots`` plan for but have not filled:
    the staff wanted at the last labour plan (``desired_<skill>``) minus the staff employed, at
    least 0 (persons, not rounded)."""
    return np.maximum(getattr(ft, "desired_" + skill)[slots] - getattr(ft, skill)[slots], 0.0)


def wage_bill(ft, slots: np.ndarray, wage_s: np.ndarray, wage_u: np.ndarray) -> np.ndarray:
    """Yearly wages of firms ``slots`` (k€/yr): every person, the owner-manager included, at the
    regional wage of their skill (``wage_s``, ``wage_u``: per region)."""
    region = ft.region[slots]
    return ft.skilled[slots] * wage_s[region] + ft.unskilled[slots] * wage_u[region]


# Values of the ``origin`` column.
ORIGIN_INITIAL, ORIGIN_REPLICATIVE, ORIGIN_INNOVATIVE, ORIGIN_DENOVO = 0, 1, 2, 3

# name -> (dtype, default); knowledge has a second dimension set at construction.
COLUMNS: dict[str, tuple[type, object]] = {
    "uid": (np.int64, -1),
    "alive": (np.bool_, False),
    "region": (np.intp, -1),
    "cluster": (np.intp, -1),
    "sector": (np.intp, -1),
    "x": (np.int16, 0),
    "y": (np.int16, 0),
    "birth_step": (np.int32, 0),
    "skilled": (np.int32, 0),
    "unskilled": (np.int32, 0),
    "skill_share": (np.float64, 0.0),
    "productivity": (np.float64, 0.0),
    "quality": (np.float64, 1.0),
    "share_reg": (np.float64, 0.0),
    "share_exp": (np.float64, 0.0),
    "reach": (np.float64, 1.0),
    "exporter": (np.bool_, False),
    "revenue": (np.float64, 0.0),
    "revenue_exp": (np.float64, 0.0),
    "cash": (np.float64, 0.0),
    "credit_line": (np.float64, 0.0),
    "rd_intensity": (np.float64, 0.0),
    "grant_rd": (np.float64, 0.0),
    "grant_until": (np.int32, -1),
    "codification": (np.float64, 0.0),
    "dyncap": (np.float64, 0.0),
    "absorptive": (np.float64, 0.0),
    "emission": (np.float64, 1.0),
    "glocal": (np.bool_, False),
    "member": (np.bool_, False),
    "contract_share": (np.float64, 0.0),
    "incubated_until": (np.int32, -1),
    "ventured": (np.bool_, False),
    "origin": (np.int8, 0),
    "n_innov": (np.int32, 0),
    "last_innov": (np.int32, NEVER),
    "n_eco": (np.int32, 0),
    "ki_until": (np.int32, -1),
    "ki_index": (np.int32, -1),
    "ki_cofunded": (np.float64, 0.0),
    "qh_until": (np.int32, -1),
    "subsidy_base": (np.int32, -1),
    "demand": (np.float64, 0.0),
    "desired_skilled": (np.float64, 0.0),
    "desired_unskilled": (np.float64, 0.0),
    "belief": (np.float64, np.nan),
    "startup_credit": (np.float64, 0.0),
    "env_until": (np.int32, -1),
    "span": (np.float64, 1.0),
}


class FirmTable:
    """Structure-of-arrays store of firm state with slot reuse and doubling capacity."""

    def __init__(self, capacity: int, n_fields: int):
        self.n_fields = n_fields
        self.capacity = max(int(capacity), 16)
        self.n = 0  # high-water mark: slots [0, n) have been used
        self._free: list[int] = []  # dead slots, a heap (heapq): the lowest is reused first
        for name, (dtype, default) in COLUMNS.items():
            setattr(self, name, np.full(self.capacity, default, dtype=dtype))
        self.knowledge = np.zeros((self.capacity, n_fields), dtype=np.float64)
        self._alive_idx: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.alive[: self.n].sum())

    def _grow(self, needed: int) -> None:
        new_cap = self.capacity
        while new_cap < needed:
            new_cap *= 2
        for name, (dtype, default) in COLUMNS.items():
            old = getattr(self, name)
            arr = np.full(new_cap, default, dtype=dtype)
            arr[: self.capacity] = old
            setattr(self, name, arr)
        k = np.zeros((new_cap, self.n_fields), dtype=np.float64)
        k[: self.capacity] = self.knowledge
        self.knowledge = k
        self.capacity = new_cap

    def allocate(self, count: int) -> np.ndarray:
        """Reserve ``count`` slots (free slots first, lowest first) reset to defaults."""
        reuse = [heapq.heappop(self._free) for _ in range(min(count, len(self._free)))]
        fresh = count - len(reuse)
        if self.n + fresh > self.capacity:
            self._grow(self.n + fresh)
        slots = np.array(reuse + list(range(self.n, self.n + fresh)), dtype=np.int64)
        self.n += fresh
        for name, (_dtype, default) in COLUMNS.items():
            getattr(self, name)[slots] = default
        self.knowledge[slots] = 0.0
        self._alive_idx = None
        return slots

    def release(self, slots: np.ndarray) -> None:
        """Mark slots dead and return them to the free list."""
        self.alive[slots] = False
        for s in slots.tolist():
            heapq.heappush(self._free, s)
        self._alive_idx = None

    def mark_changed(self) -> None:
        self._alive_idx = None

    @property
    def idx(self) -> np.ndarray:
        """Slots of living firms, ascending (cached until the population changes)."""
        if self._alive_idx is None:
            self._alive_idx = self.alive[: self.n].nonzero()[0]
        return self._alive_idx

    def living(self, mask: np.ndarray) -> np.ndarray:
        """Living slots where ``mask`` (one entry per slot in [0, n)) holds, ascending: the same
        as ``idx[mask[idx]]``, from contiguous columns instead of a gather through ``idx``."""
        return (mask & self.alive[: self.n]).nonzero()[0]

    @property
    def employees(self) -> np.ndarray:
        """Employees per slot (skilled + unskilled), over slots [0, n)."""
        return self.skilled[: self.n] + self.unskilled[: self.n]

    def nbytes(self) -> int:
        return sum(getattr(self, name).nbytes for name in COLUMNS) + self.knowledge.nbytes
