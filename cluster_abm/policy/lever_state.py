"""Levers at run time: who each switched-on lever reaches, at what intensity, within what budget.

Built once from a scenario's ``[levers]`` tables (validated against :mod:`cluster_abm.policy.levers`).
Mechanisms ask for a lever's intensity with one call, :meth:`PolicyState.level`, per firm (targets
and firm group applied), per region, per cluster or per CMO, and pay for its activity through
:meth:`PolicyState.grant` (per-firm requests: grant what the budget allows, refuse the rest) and
:meth:`PolicyState.charge` (a lump sum), which never spend beyond the lever's yearly budget in a
region (``policy.lever_budget`` x intensity): policies cost money and budgets are finite (seed 2.4).

Money is in real euros (k€ of the real region, DESIGN 2.1). A model firm is a super-individual
standing for real enterprises of its region (Scheffer et al. 1995), so a request of
``unit_cost`` k€ per firm costs ``unit_cost x`` the real firms of its region and size it stands
for (:meth:`weight`): what the lever pays
reaches model firms in proportion to what they represent, and 2,000 or 10,000 model firms spend
the same real budget on the same share of the economy. Where the money left in a region does not
cover a model firm's whole request, that request is granted with probability money left / cost
and the money left is spent (the share of the real firms behind the model firm the money reaches),
so spending never exceeds the budget and its effect is unbiased. Lump sums (:meth:`charge`: a
region's monitoring system, a CMO's programme) are real amounts already and are not scaled.
A lever of the catalogue that a scenario leaves off reaches nobody and costs nothing; a lever id
that is not in the catalogue at all is a typo in the code and raises :class:`UnknownLeverError`.

Timing: a lever runs in the policy years from its ``start_year`` to its ``end_year`` (exclusive),
and a lever of a programme (:mod:`cluster_abm.policy.programme`) only in the programme's years.
:meth:`PolicyState.set_year` is called at the start of every year; outside its years a lever is
off exactly as if the scenario left it off (reaches nobody, costs nothing), so costs and effects
are booked in the years they happen. The spin-up's years are negative: no lever runs in them.
"""

from __future__ import annotations

import numpy as np

from cluster_abm.errors import closest
from cluster_abm.numerics.keyed_random import PURPOSES, keyed_uniform
from cluster_abm.policy.levers import BY_ID
from cluster_abm.state import size_weights
from cluster_abm.state.firm_table import SIZE_CLASS_EDGES, SME_MAX_EMPLOYEES

_SLACK = 1e-9  # k€: rounding slack when a request's cost meets a region's remaining budget

ALL = slice(None)
"""``level(lid, regions=ALL)`` / ``level(lid, clusters=ALL)``: the lever's intensity in every
region / cluster, one entry each."""


class UnknownLeverError(KeyError, ValueError):
    """A lever id that is not in the catalogue (:data:`cluster_abm.policy.levers.BY_ID`): a typo in
    the code, never a lever that is merely off. Both a ``KeyError`` and a ``ValueError``."""

    def __init__(self, lid: str):
        super().__init__(f"unknown lever {lid!r}; {closest(str(lid), BY_ID)}")
        self.lever = lid

    def __str__(self) -> str:  # KeyError would show the message in quotes
        return str(self.args[0])


class PolicyState:
    """The levers of one run: their reach (:meth:`level`) and their spending (:meth:`grant`,
    :meth:`charge`) within each lever's yearly budget per region.

    Args:
        scenario: the scenario whose ``levers`` are switched on.
        world: regions and clusters (targets are resolved against their ids).
        p: per-step parameters (``policy.lever_budget`` and the firm groups' thresholds).
        ledger: the step ledger that records every lever's cost (``public_cost``).
        firms: the firm table (per-firm levels and grants read firms' regions, clusters, groups).
    """

    def __init__(self, scenario, world, p, ledger, firms):
        self.world = world
        self.p = p
        self.ledger = ledger
        self.firms = firms
        self.configured = dict(scenario.levers)
        """Every lever the scenario switches on, with its years (``LeverSetting``)."""
        self.settings: dict = {}
        """The levers running in the current policy year (:meth:`set_year`): the others are off."""
        self.year: int | None = None
        R, C = world.n_regions, world.n_clusters
        self.year_of_record = 0
        self._region = {}
        self._cluster = {}
        self._explicit_clusters = {}
        region_ids = [r.id for r in world.regions]
        cluster_ids = [c.id for c in world.clusters]
        for lid, s in self.configured.items():
            self._known(lid)
            reg = np.zeros(R)
            if s.regions is None:
                reg[:] = s.intensity
            else:
                reg[[region_ids.index(r) for r in s.regions]] = s.intensity
            clu = reg[world.cluster_region].copy() if C else np.zeros(0)
            if s.clusters is not None:
                clu[:] = 0.0
                clu[[cluster_ids.index(c) for c in s.clusters]] = s.intensity
                if s.regions is None:
                    # Cluster targeting alone reaches those clusters' regions for region-level effects.
                    reg[:] = 0.0
                    reg[np.unique(world.cluster_region[clu > 0])] = s.intensity
            self._region[lid] = reg
            self._cluster[lid] = clu
            self._explicit_clusters[lid] = s.clusters is not None
        # Levers at one intensity in every region and cluster: that intensity, else None.
        self._everywhere = {lid: float(s.intensity)
                            if s.regions is None and s.clusters is None else None
                            for lid, s in self.configured.items()}
        # Per cluster, then a last entry 0 that firms outside clusters (cluster -1) read.
        self._cluster_or_none = {lid: np.append(clu, 0.0) for lid, clu in self._cluster.items()}
        self._no_region, self._no_cluster = np.zeros(R), np.zeros(C)  # a lever that is off
        self.spent = {lid: np.zeros(R) for lid in self.configured}
        self.asked = {lid: np.zeros(R) for lid in self.configured}
        """What the lever's requests this year would have cost, granted or not (k€ by region)."""
        self.programme = getattr(scenario, "programme", None)
        self._region_share = (self.programme.region_shares(region_ids, world.region_field("enterprises"))
                              if self.programme is not None else None)
        self._cap = {lid: self._default_cap(lid) for lid in self.configured}
        self._planned = {lid: np.zeros(R) for lid in self.configured}
        self._carried = {lid: np.zeros((0, R)) for lid in self.configured}
        """Unspent money of earlier years still available, one row per year of origin (the most
        recent first), for levers on their own yearly budget (:meth:`new_year`)."""
        self._past_years: dict[str, list[np.ndarray]] = {lid: [] for lid in self.configured}
        self._records: list[tuple[int, str, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        self._cmo_levels: dict[tuple, float] = {}  # (lever, CMO clusters) -> level (level(cmo=))
        self._manufacturing = np.array([s["manufacturing"] for s in world.sectors], dtype=bool)
        self._year_open = False
        self._now = None  # the step state firm groups read (begin_step)
        self._size_anchors: tuple[np.ndarray, np.ndarray] | None = None  # (:meth:`set_real_firms`)
        self._size_table = np.ones((len(region_ids), 0))  # weights by region and size (:meth:`weight`)
        self.key: int | None = None
        """The run's key of keyed draws (:meth:`draw`); the model sets it."""

    def draw(self, slots: np.ndarray) -> np.ndarray:
        """Keyed uniforms of firms ``slots`` for the lottery of a partly funded request: fixed by
        (run, firm, step), so the same firm meets the same luck in every scenario of a seed."""
        if self.key is None or self._now is None:
            return np.zeros(len(slots))
        return keyed_uniform(self.key, self.firms.uid[slots], self._now.t, PURPOSES["partial_grant"])

    def set_real_firms(self, anchor_x: np.ndarray, anchor_y: np.ndarray) -> None:
        """Real enterprises per model firm as a function of its region and size: the anchors of
        :func:`cluster_abm.state.size_weights.fit_anchors` (a region without them: 1, model units)."""
        self._size_anchors = (anchor_x, anchor_y)
        self._size_table = np.ones((len(anchor_x), 0))

    @property
    def real_firms(self) -> np.ndarray:
        """Real enterprises a model firm stands for at each size class's anchor, by region and
        class (1 where unknown: model units)."""
        if self._size_anchors is None:
            return np.ones((self.world.n_regions, len(SIZE_CLASS_EDGES) + 1))
        return _known_or_one(size_weights.anchor_weights(*self._size_anchors))

    def weight(self, slots: np.ndarray) -> np.ndarray:
        """Real enterprises each of firms ``slots`` stands for, by its region and current size."""
        ft = self.firms
        if self._size_anchors is None:
            return np.ones(len(slots))
        employees = ft.skilled[slots] + ft.unskilled[slots]
        if len(employees) and employees.max() >= self._size_table.shape[1]:  # a size not yet in the table
            self._size_table = _known_or_one(size_weights.weight_table(*self._size_anchors,
                                                                       2 * int(employees.max())))
        return self._size_table[ft.region[slots], employees]

    @staticmethod
    def _known(lid: str) -> None:
        """Raise :class:`UnknownLeverError` unless ``lid`` is a lever of the catalogue."""
        if lid not in BY_ID:
            raise UnknownLeverError(lid)

    def begin_step(self, state) -> None:
        """Firm groups that depend on the moment read this step's state: ``state.t`` (the step:
        the age of new ventures) and ``state.degree`` (partners per firm slot: the promising
        group), see :class:`cluster_abm.model.step_state.StepState`. The model calls this once at
        the start of every step (and once when it is built)."""
        self._now = state

    def set_year(self, year: int) -> list[str]:
        """Enter policy year ``year``: the levers whose years include it run, the others are off.
        Returns the levers that start running this year (their one-off effects are the model's)."""
        before = set(self.settings)
        prog = self.programme
        self.settings = {lid: s for lid, s in self.configured.items() if s.runs_in(year)
                         and (prog is None or lid not in prog.levers or prog.runs_in(year))}
        self.year = year
        return [lid for lid in self.settings if lid not in before]

    def runs(self, lid: str) -> bool:
        """Whether lever ``lid`` runs this year (switched on by the scenario and within its years)."""
        if lid not in self.settings:
            self._known(lid)
            return False
        return True

    def continue_from(self, old: PolicyState, year: int) -> None:
        """Take over ``old``'s budget year and the spending records of the levers both know (a
        lever switch mid-run: the past stays as it was), then enter ``old``'s year (``year`` if
        it had none)."""
        for lid in self.configured:
            if lid in old.configured:
                self.spent[lid][:] = old.spent[lid]
                self.asked[lid][:] = old.asked[lid]
                self._cap[lid], self._planned[lid] = old._cap[lid].copy(), old._planned[lid].copy()
                self._carried[lid] = old._carried[lid].copy()
                self._past_years[lid] = list(old._past_years[lid])
        self._records = [r for r in old._records if r[1] in self.configured]
        self.year_of_record = getattr(old, "year_of_record", 0)
        self._year_open = old._year_open
        self._size_anchors, self._size_table, self.key = old._size_anchors, old._size_table, old.key
        self.set_year(old.year if old.year is not None else year)

    def start_clock(self) -> None:
        """Policy year 0 begins (the end of the spin-up): budget years are counted from here."""
        for lid in self.configured:
            self._past_years[lid] = []
            self.spent[lid][:] = 0.0
            self.asked[lid][:] = 0.0
        self._records = []
        self._year_open = False
        self.year = None

    # --- who a lever reaches ------------------------------------------------------------------
    def on(self, lid: str) -> bool:
        """Whether the scenario switches ``lid`` on at an intensity above 0."""
        s = self.settings.get(lid)
        if s is None:
            self._known(lid)
            return False
        return s.intensity > 0

    def intensity(self, lid: str) -> float:
        """The scenario's intensity of ``lid`` (0 when off), whatever its targets."""
        s = self.settings.get(lid)
        if s is None:
            self._known(lid)
            return 0.0
        return s.intensity

    def level(self, lid: str, *, firms: np.ndarray | None = None, regions=None, clusters=None,
              cmo=None) -> np.ndarray | float:
        """Intensity of lever ``lid`` where it reaches, 0 where it does not; name exactly one of:

        - ``firms``: firm slots -> one level per firm, the lever's targets (regions, clusters) and
          firm group applied; a fresh array the caller may change (e.g. :meth:`grant` zeroes it
          where a request is refused);
        - ``regions``: region indices (an array, one index, or :data:`ALL`) -> their levels;
        - ``clusters``: cluster indices (an array, one index, or :data:`ALL`) -> their levels;
        - ``cmo``: a cluster organisation -> the highest level among the clusters it serves.

        Arrays returned are always fresh and writable; one index gives a float.
        """
        if (firms is None) + (regions is None) + (clusters is None) + (cmo is None) != 3:
            raise TypeError("level() takes exactly one of firms=, regions=, clusters=, cmo=")
        on = lid in self.settings
        if not on:
            self._known(lid)
        if firms is not None:
            return self._firm_level(lid, firms) if on else np.zeros(len(firms))
        if regions is not None:
            return _pick(self._region[lid] if on else self._no_region, regions)
        if clusters is not None:
            return _pick(self._cluster[lid] if on else self._no_cluster, clusters)
        if not on:
            return 0.0
        # Targets are fixed for a run, so each (lever, CMO clusters) pair is looked up once.
        key = (lid, tuple(cmo.clusters))
        level = self._cmo_levels.get(key)
        if level is None:
            level = self._cmo_levels[key] = float(self._cluster[lid][cmo.clusters].max())
        return level

    def _firm_level(self, lid: str, slots: np.ndarray) -> np.ndarray:
        ft = self.firms
        everywhere = self._everywhere[lid]
        if everywhere is not None:  # one intensity in every region: no per-firm lookup needed
            level = np.full(len(slots), everywhere)
        elif self._explicit_clusters[lid]:
            level = self._cluster_or_none[lid][ft.cluster[slots]]  # cluster -1 reads the last 0
        else:
            level = self._region[lid][ft.region[slots]]
        group = self.settings[lid].firms
        if group != "all":
            level = level * self.group_mask(group, slots, level > 0)
        return level

    def group_mask(self, group: str, slots: np.ndarray, reached: np.ndarray) -> np.ndarray:
        """Which firms ``slots`` belong to firm ``group`` (see policy.levers.FIRM_GROUPS);
        ``reached``: the firms the lever's targets reach (the promising group ranks among them)."""
        ft = self.firms
        if group == "smes":  # over the table's contiguous columns, then one lookup, not two
            return (ft.skilled[: ft.n] + ft.unskilled[: ft.n] < SME_MAX_EMPLOYEES)[slots]
        if group == "new_ventures":
            return (self._step_state("new_ventures").t - ft.birth_step[slots]) < 3 * self.p.steps_per_year
        if group == "cmo_members":
            return ft.member[slots]
        if group == "manufacturing":
            return self._manufacturing[ft.sector[slots]]
        if group == "promising":
            # Seed 3.6.1: the most promising firms with a good level of networking in the cluster.
            degree = self._step_state("promising").degree
            if degree is None:
                raise RuntimeError("the promising firm group reads partners per firm, which this "
                                   "step has not counted yet (StepState.degree)")
            score = ft.quality[slots] * ft.productivity[slots] * (1.0 + degree[slots])
            mask = np.zeros(len(slots), dtype=bool)
            if reached.any():
                cut = np.quantile(score[reached], 0.75)
                mask = reached & (score >= cut)
            return mask
        raise ValueError(f"unknown firm group {group}")

    def _step_state(self, group: str):
        if self._now is None:
            raise RuntimeError(f"the {group} firm group needs the step state: call begin_step first")
        return self._now

    # --- what a lever spends ------------------------------------------------------------------
    def _default_cap(self, lid: str) -> np.ndarray:
        """A lever's yearly cap without a programme: ``policy.lever_budget`` x its intensity."""
        return self.p.yearly.policy.lever_budget * self._region[lid]

    def new_year(self) -> None:
        """Start a budget year: what each lever planned, committed, asked and spent last year is
        kept, the counters reset, and a programme commits this year's money to its levers.

        A lever on its own yearly budget keeps what it did not spend for
        ``policy.budget_carry_years`` more years, as EU cohesion funds do (n+2 rule, Regulation
        (EU) 2021/1060 Art. 105): its cap is this year's budget plus that money, and spending
        uses the oldest money first. Besides realism, this keeps the number of model firms a
        precision choice: with few model firms a lever's requests come in lumps (one model firm
        stands for hundreds of real requests), and a strictly yearly cap then spends less,
        E[min(budget, asked)] < min(budget, E[asked]), than the smooth flow of real requests."""
        asked_last = {lid: a.copy() for lid, a in self.asked.items()} if self._year_open else None
        for lid, arr in self.spent.items():
            if self._year_open:
                self._past_years[lid].append(arr.copy())
                self._records.append((self.year_of_record, lid, self._planned[lid].copy(), self._cap[lid].copy(),
                                      self.asked[lid].copy(), arr.copy()))
                self._carried[lid] = self._carry_over(self._carried[lid], self._planned[lid], arr)
            arr[:] = 0.0
            self.asked[lid][:] = 0.0
        self._year_open = True
        self.year_of_record = self.year if self.year is not None else 0
        prog = self.programme
        if prog is None:
            for lid in self.configured:
                self._own_budget(lid)
            return
        share = self._region_share
        planned = prog.planned(self.year_of_record, share)
        committed = prog.commit(self.year_of_record, share, set(self.settings), asked_last)
        for lid in self.configured:
            if lid in committed:  # the programme's money follows its own commitments
                self._planned[lid], self._cap[lid] = planned[lid], committed[lid]
                self._carried[lid] = self._carried[lid][:0]
            else:  # a lever outside the programme keeps its own budget
                self._own_budget(lid)

    def _own_budget(self, lid: str) -> None:
        """This year's plan of a lever on its own budget (policy.lever_budget x intensity) and
        its cap: the plan plus the unspent money of earlier years still available."""
        running = lid in self.settings
        self._planned[lid] = self._default_cap(lid) * running
        self._cap[lid] = self._planned[lid] + self._carried[lid].sum(axis=0) * running

    def _carry_over(self, carried: np.ndarray, planned: np.ndarray, spent: np.ndarray) -> np.ndarray:
        """The unspent money still available after a year: ``carried`` (rows: years of origin,
        the most recent first) and the year's ``planned`` money, ``spent`` paid from the oldest
        money first; a year's money lasts ``policy.budget_carry_years`` years after its own."""
        keep = int(self.p.policy.budget_carry_years)
        pots = np.vstack([planned[None, :], carried])  # the most recent first
        left = spent.astype(float).copy()
        for row in range(len(pots) - 1, -1, -1):  # oldest first
            used = np.minimum(pots[row], left)
            pots[row] -= used
            left -= used
        return pots[:keep]

    def budget_table(self):
        """Planned, committed, asked and spent money (k€, real euros) of every lever switched on,
        per policy year and region, the running year last: what a steering committee reads
        beside the effects. ``committed`` is what the lever could spend that year: its plan, plus
        for a lever on its own budget the unspent money of the ``policy.budget_carry_years``
        years before. ``asked`` is what the lever's requests would have cost (granted or
        not): below ``committed``, the money could not be absorbed for lack of eligible requests
        (no eligible firms, institutions' capacity); at or above it, the cap bound."""
        import pandas as pd

        rows = list(self._records)
        if self._year_open:
            rows += [(self.year_of_record, lid, self._planned[lid], self._cap[lid], self.asked[lid], self.spent[lid])
                     for lid in self.configured]
        region_ids = [r.id for r in self.world.regions]
        out = [(year, lid, region_ids[r], float(pl[r]), float(cm[r]), float(ak[r]), float(sp[r]))
               for year, lid, pl, cm, ak, sp in rows for r in range(len(region_ids))]
        df = pd.DataFrame(out, columns=["year", "lever", "region", "planned_keur", "committed_keur",
                                        "asked_keur", "spent_keur"])
        df["not_absorbed_keur"] = (df["committed_keur"] - df["spent_keur"]).clip(lower=0.0)
        df["why"] = np.select(
            [df["committed_keur"] <= 0, df["not_absorbed_keur"] <= 1e-6 * df["committed_keur"].clip(lower=1.0),
             df["asked_keur"] < df["committed_keur"]],
            ["no money committed", "absorbed", "too few eligible requests (eligible firms, institutions' capacity)"],
            default="requests refused by the lottery on the last partly funded request")
        return df

    def spent_by_year(self, lid: str) -> np.ndarray:
        """What lever ``lid`` spent (k€), one row per policy year so far (the running year last),
        one column per region; no rows for a lever the scenario does not switch on."""
        if lid not in self.configured:
            self._known(lid)
            return np.zeros((0, self.world.n_regions))
        rows = self._past_years[lid] + ([self.spent[lid].copy()] if self._year_open else [])
        return np.array(rows).reshape(len(rows), self.world.n_regions)

    def yearly_cap(self, lid: str) -> np.ndarray:
        """Most lever ``lid`` may spend this year, per region: its programme's commitment, else
        policy.lever_budget x intensity."""
        if lid not in self.settings:
            self._known(lid)
            return np.zeros(self.world.n_regions)
        return self._cap[lid].copy()

    def remaining(self, lid: str, region: int) -> float:
        """What lever ``lid`` may still spend this year in ``region`` (k€)."""
        if lid not in self.settings:
            self._known(lid)
            return 0.0
        return max(self._cap[lid][region] - self.spent[lid][region], 0.0)

    def left(self, lid: str) -> np.ndarray:
        """:meth:`remaining` of every region."""
        if lid not in self.settings:
            self._known(lid)
            return np.zeros(self.world.n_regions)
        return np.maximum(self._cap[lid] - self.spent[lid], 0.0)

    def charge(self, lid: str, region: int, amount: float, asked: float | None = None) -> float:
        """Spend up to ``amount`` of the lever's remaining yearly budget in ``region``; returns
        what was actually spent (0 when the lever is off or its budget is used up). ``asked``:
        what the requests behind it would have cost in full (default ``amount``), for
        :meth:`budget_table`."""
        if lid in self.settings:
            self.asked[lid][region] += max(float(amount if asked is None else asked), 0.0)
        amount = min(max(float(amount), 0.0), self.remaining(lid, region))
        if amount > 0:
            self.spent[lid][region] += amount
            self.ledger.add_cost(lid, region, amount)
        return amount

    def grant(self, lid: str, slots: np.ndarray, unit_cost: float | np.ndarray, *,
              asking: np.ndarray | None = None, level: np.ndarray | None = None,
              limit: np.ndarray | None = None) -> np.ndarray:
        """Grant firms' requests for lever ``lid`` while each region's yearly budget lasts; refuse
        the rest. Returns a mask over ``slots``: True where the firm asked and was granted.

        Args:
            slots: firm slots, in priority order (earlier requests are served first).
            unit_cost: k€ per real firm: one figure, or one per entry of ``slots``; a model
                firm's request costs this times the real firms it stands for.
            asking: mask over ``slots`` of the firms that ask (default: ``level > 0`` when a
                level is given, else every firm).
            level: the firms' levels of the lever (from :meth:`level`); set to 0, in place, where
                a firm asked and was refused, so the lever reaches only the granted.
            limit: most this call may spend per region (k€), below what is left of the year's
                budget (a fund that paces its yearly budget over the steps).

        The granted requests' cost is booked (:meth:`allocate`, which this wraps).
        """
        if level is not None and asking is None:
            asking = level > 0
        if asking is None:
            return self.allocate(lid, slots, unit_cost, limit=limit)
        pos = asking.nonzero()[0]
        cost = unit_cost if np.ndim(unit_cost) == 0 else np.asarray(unit_cost)[pos]
        ok = self.allocate(lid, slots[pos], cost, limit=limit)
        granted = np.zeros(len(slots), dtype=bool)
        granted[pos[ok]] = True
        if level is not None:
            level[pos[~ok]] = 0.0
        return granted

    def allocate(self, lid: str, slots: np.ndarray, unit_cost: float | np.ndarray, *,
                 limit: np.ndarray | None = None) -> np.ndarray:
        """Grant the requests of firm ``slots`` in order (callers order them by priority) while
        each region's budget lasts; returns the mask of granted requests and books their cost.
        Mechanisms call :meth:`grant`. A model firm's request costs ``unit_cost`` times the real
        firms it stands for; the first request of a region that its money left does not cover is
        granted by lottery (:func:`fill_budget`).
        """
        n = len(slots)
        if lid not in self.settings:
            self._known(lid)
            return np.zeros(n, dtype=bool)
        if n == 0:
            return np.zeros(n, dtype=bool)
        regions = self.firms.region[slots].astype(np.intp)
        cost = np.broadcast_to(np.asarray(unit_cost, dtype=float), (n,)) * self.weight(slots)
        self.asked[lid] += np.bincount(regions, weights=cost, minlength=len(self.asked[lid]))
        cap = self.left(lid) if limit is None else np.minimum(self.left(lid), limit)
        granted, paid = fill_budget(cost, regions, cap, self.draw(slots))
        spend = np.minimum(np.bincount(regions, weights=paid, minlength=len(cap)), np.where(cap > 0, cap + _SLACK, 0.0))
        self.spent[lid] += spend
        self.ledger.add_costs(lid, spend)
        return granted


def _known_or_one(weights: np.ndarray) -> np.ndarray:
    """Weights with 1 (model units) where a region's enterprises are unknown."""
    return np.where(np.isfinite(weights) & (weights > 0), weights, 1.0)


def covered_share(money: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Per region: the share of the requests ``wanted`` (k€) that ``money`` (k€) pays for, the
    same share of each request, in [0, 1] (0 where nothing is wanted). For levers whose requests
    are expected flows of real people or firms rather than model firms' discrete requests."""
    return np.minimum(np.divide(money, wanted, out=np.zeros_like(wanted, dtype=float), where=wanted > 0), 1.0)


def fill_budget(cost: np.ndarray, regions: np.ndarray, cap: np.ndarray,
                draw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Serve requests in order while each region's money ``cap[r]`` lasts.

    Whole requests are granted while their running cost fits; the first request of a region that
    does not fit is granted when ``draw < money left / its cost`` (a uniform in [0, 1) per request)
    and the money left is paid either way: the share of the real firms behind that model firm the
    money reaches (super-individuals, Scheffer et al. 1995). Later requests are refused. Returns the
    granted mask and what each request paid (per region, never more than ``cap``).

    Vectorised: one stable sort by region and a running sum within each region, O(n log n).
    """
    n, R = len(cost), len(cap)
    if (np.bincount(regions, weights=cost, minlength=R) <= np.where(cap > 0, cap + _SLACK, 0.0)).all():
        return np.ones(n, dtype=bool), cost.copy()  # the usual case: every request fits
    order = np.argsort(regions, kind="stable")
    reg, c = regions[order], cost[order]
    cum = np.cumsum(c)
    start = np.searchsorted(reg, np.arange(R))
    before = np.concatenate([[0.0], cum])[start]  # running sum before each region's first
    within = cum - before[reg]
    ok = (within <= cap[reg] + _SLACK) & (cap[reg] > 0)  # no money: nothing fits, however cheap
    # The first request that does not fit: the money left before it, and the lottery on it.
    first_out = ~ok & np.concatenate([[True], (reg[1:] != reg[:-1]) | ok[:-1]])
    left = np.maximum(cap[reg] - (within - c), 0.0)
    share = np.divide(left, c, out=np.zeros(n), where=c > 0)
    granted = np.zeros(n, dtype=bool)
    granted[order] = ok | (first_out & (draw[order] < share))
    paid = np.zeros(n)
    paid[order] = np.where(ok, c, np.where(first_out, left, 0.0))
    return granted, paid


def _pick(table: np.ndarray, where) -> np.ndarray | float:
    """Entries ``where`` of a per-region or per-cluster table: a fresh array, or a float for one index."""
    if isinstance(where, slice):
        return table[where].copy()
    if np.ndim(where) == 0:
        return float(table[where])
    return table[np.asarray(where, dtype=np.intp)]
