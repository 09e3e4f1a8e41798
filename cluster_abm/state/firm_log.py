"""A record of every firm that ever lived (birth, death, origin, size) and a yearly size panel.

Business-demography outcomes (births, deaths, survival by cohort, exit hazard by age, growth-rate
distributions) are computed from this log after a run, never from hard-coded rates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

ALIVE = np.iinfo(np.int32).max


class FirmLog:
    FIELDS = {"uid": np.int64, "region": np.int16, "cluster": np.int16, "sector": np.int16,
              "origin": np.int8, "birth_step": np.int32, "death_step": np.int32,
              "size_birth": np.int32, "incubated": np.bool_, "ventured": np.bool_}

    def __init__(self, capacity: int = 4096):
        self.n = 0
        self.capacity = capacity
        for k, dt in self.FIELDS.items():
            setattr(self, k, np.zeros(capacity, dtype=dt))
        self.row_of_uid: dict[int, int] = {}
        self._panel: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.clock_start = 0  # the step where the run's clock starts (the end of the spin-up)

    def start_clock(self, step: int) -> None:
        """The run's clock starts at ``step`` (the end of the spin-up): frames count steps from
        there (firms born in the spin-up have negative birth steps, like the built world's firms),
        firms that left during the spin-up are dropped, and the yearly panel starts afresh."""
        self.clock_start = step
        self._panel = []

    def _grow(self, needed: int) -> None:
        cap = self.capacity
        while cap < needed:
            cap *= 2
        for k, dt in self.FIELDS.items():
            arr = np.zeros(cap, dtype=dt)
            arr[: self.n] = getattr(self, k)[: self.n]
            setattr(self, k, arr)
        self.capacity = cap

    def births(self, ft, slots: np.ndarray) -> None:
        m = len(slots)
        if self.n + m > self.capacity:
            self._grow(self.n + m)
        sl = slice(self.n, self.n + m)
        self.uid[sl] = ft.uid[slots]
        self.region[sl] = ft.region[slots]
        self.cluster[sl] = ft.cluster[slots]
        self.sector[sl] = ft.sector[slots]
        self.origin[sl] = ft.origin[slots]
        self.birth_step[sl] = ft.birth_step[slots]
        self.death_step[sl] = ALIVE
        self.size_birth[sl] = ft.skilled[slots] + ft.unskilled[slots]
        for i, u in enumerate(ft.uid[slots]):
            self.row_of_uid[int(u)] = self.n + i
        self.n += m

    def flag(self, field: str, uids: np.ndarray) -> None:
        rows = [self.row_of_uid[int(u)] for u in uids]
        getattr(self, field)[rows] = True

    def deaths(self, uids: np.ndarray, step: int) -> None:
        rows = [self.row_of_uid[int(u)] for u in uids]
        self.death_step[rows] = step

    def snapshot(self, year: int, uids: np.ndarray, employees: np.ndarray) -> None:
        self._panel.append((np.full(len(uids), year, dtype=np.int32), uids.copy(), employees.copy()))

    def frame(self) -> pd.DataFrame:
        """One row per firm alive at some time since the clock started; steps count from the
        clock's start (negative births: older firms); ``death_step`` is -1 for firms alive at the end."""
        keep = self.death_step[: self.n] >= self.clock_start  # ALIVE passes: alive at the end
        df = pd.DataFrame({k: getattr(self, k)[: self.n][keep] for k in self.FIELDS})
        df["birth_step"] -= self.clock_start
        df["death_step"] = df["death_step"].where(df["death_step"] == ALIVE, df["death_step"] - self.clock_start)
        df["death_step"] = df["death_step"].where(df["death_step"] != ALIVE, -1)
        return df.reset_index(drop=True)

    def panel(self) -> pd.DataFrame:
        """Employees of every living firm at the end of each year (year, uid, employees)."""
        if not self._panel:
            return pd.DataFrame({"year": [], "uid": [], "employees": []})
        y, u, e = (np.concatenate(parts) for parts in zip(*self._panel, strict=True))
        return pd.DataFrame({"year": y, "uid": u, "employees": e})
