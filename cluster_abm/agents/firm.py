"""The firm agent: a Mesa agent that is the identity and face of one row of the firm table.

Mechanisms never loop over these objects; they act on :class:`~cluster_abm.state.firm_table.FirmTable`
arrays. A ``Firm`` exposes its row as read-only properties so notebooks, tests and the UI can treat
firms as ordinary agents (``model.agents_by_type[Firm]``). The state table is documented in
:mod:`cluster_abm.state.firm_table`.

Kinds (seed 1, 3.3.3, 3.1.4): SME (< 250 employees), large, glocal (global links), new venture
(younger than 3 years).
"""

from __future__ import annotations

from mesa.discrete_space import FixedAgent

from cluster_abm.agents.ids import ModelScopedIds
from cluster_abm.state.firm_table import SME_MAX_EMPLOYEES

ORIGINS = ("initial", "replicative spin-off", "innovative spin-off", "de novo")


class Firm(ModelScopedIds, FixedAgent):
    """One firm; its state lives in ``model.firms`` at index ``slot``."""

    def __init__(self, model, slot: int, cell):
        super().__init__(model)
        self.slot = int(slot)
        self.cell = cell

    # Read-only views of the firm's row -------------------------------------------------------
    def _col(self, name):
        return getattr(self.model.firms, name)[self.slot]

    @property
    def region(self) -> str:
        return self.model.world.regions[int(self._col("region"))].id

    @property
    def cluster(self) -> str | None:
        c = int(self._col("cluster"))
        return None if c < 0 else self.model.world.clusters[c].id

    @property
    def sector(self) -> str:
        return self.model.world.sector_ids[int(self._col("sector"))]

    @property
    def employees(self) -> int:
        return int(self._col("skilled") + self._col("unskilled"))

    @property
    def skilled(self) -> int:
        return int(self._col("skilled"))

    @property
    def cash(self) -> float:
        return float(self._col("cash"))

    @property
    def revenue(self) -> float:
        return float(self._col("revenue"))

    @property
    def knowledge_stock(self) -> float:
        return float(self.model.firms.knowledge[self.slot].sum())

    @property
    def green_knowledge(self) -> float:
        return float(self.model.firms.knowledge[self.slot, -1])

    @property
    def absorptive_capacity(self) -> float:
        return float(self._col("absorptive"))

    @property
    def age_years(self) -> float:
        return (self.model.t - int(self._col("birth_step"))) / self.model.p.steps_per_year

    @property
    def innovations(self) -> int:
        return int(self._col("n_innov"))

    @property
    def glocal(self) -> bool:
        return bool(self._col("glocal"))

    @property
    def network_contract_share(self) -> float:
        """Share of the real firms behind this model firm in a business network contract."""
        return float(self._col("contract_share"))

    @property
    def kind(self) -> str:
        if self.age_years < 3:
            return "new venture"
        if self.glocal:
            return "glocal"
        return "SME" if self.employees < SME_MAX_EMPLOYEES else "large"

    @property
    def partners(self) -> list[int]:
        """Unique ids of the firm's current cooperation partners."""
        ties = self.model.ties
        idx = ties.idx
        s = self.slot
        other = list(ties.b[idx][ties.a[idx] == s]) + list(ties.a[idx][ties.b[idx] == s])
        return sorted(int(self.model.firms.uid[o]) for o in other)

    def __repr__(self) -> str:
        return f"Firm(uid={self.unique_id}, {self.sector} in {self.region}, {self.employees} employees)"
