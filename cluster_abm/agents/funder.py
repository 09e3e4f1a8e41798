"""Funders: regional governments, the EU programme, the venture fund and the bank (seed 2.4, 3.4).

A funder has a yearly budget (planned, then realised with the volatility and freezes of
year-to-year budgeting, seed 3.4.1), the instruments it offers and what it has committed and spent
this year. Budgets are hard limits: :meth:`can_spend` / :meth:`spend` refuse money that is not
there, and the invariant "no funder spends more than its budget" is tested.

State table:

=============  ======  =========================================================================
attribute      unit    meaning
=============  ======  =========================================================================
kind           -       "regional", "eu", "venture" or "bank"
region         index   region of a regional government (-1 otherwise)
planned        k€/yr   the yearly budget in the plan
budget         k€      this year's realised budget
spent          k€      spent this year
frozen         bool    this year's regional cluster budget is frozen (no calls, no CMO funding)
instruments    -       names of the instruments offered
total_spent    k€      spent since the start
=============  ======  =========================================================================

The bank has no grant budget: it opens credit lines (see :mod:`cluster_abm.mechanisms.finance`),
and ``spent`` records the credit it has outstanding.
"""

from __future__ import annotations

from mesa import Agent

from cluster_abm.agents.ids import ModelScopedIds

KINDS = ("regional", "eu", "venture", "bank")


class Funder(ModelScopedIds, Agent):
    def __init__(self, model, kind: str, region: int, planned: float, instruments: tuple[str, ...]):
        super().__init__(model)
        if kind not in KINDS:
            raise ValueError(f"unknown funder kind {kind!r}")
        self.kind = kind
        self.region = int(region)
        self.planned = float(planned)
        self.budget = float(planned)
        self.spent = 0.0
        self.frozen = False
        self.instruments = tuple(instruments)
        self.total_spent = 0.0

    def open_year(self, budget: float, frozen: bool = False) -> None:
        self.budget = max(float(budget), 0.0)
        self.frozen = frozen
        self.spent = 0.0

    @property
    def available(self) -> float:
        return max(self.budget - self.spent, 0.0)

    def can_spend(self, amount: float) -> bool:
        return amount <= self.available + 1e-9

    def spend(self, amount: float) -> None:
        if not self.can_spend(amount):
            raise RuntimeError(f"{self} would overspend: {amount:.1f} > {self.available:.1f}")
        self.spent += amount
        self.total_spent += amount

    def __repr__(self) -> str:
        where = "" if self.region < 0 else f" of {self.model.world.regions[self.region].id}"
        return f"Funder({self.kind}{where}, budget={self.budget:.0f} k€)"
