"""The model's numbers are pinned: short baseline and full_strategy runs must reproduce the stored
golden KPIs and output tables (floats to a relative 1e-9, everything else exactly:
``tests/golden_runs.py`` says why). Regenerate on purpose with ``make golden``."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from tests.golden_runs import (
    RUNS,
    golden_path,
    golden_record,
    moved_columns,
    moved_kpis,
    table_fingerprint,
)


@pytest.mark.parametrize(("scenario", "seed"), RUNS)
def test_golden_numbers(scenario, seed):
    stored = json.loads(golden_path(scenario, seed).read_text())
    new = golden_record(scenario, seed)
    moved = moved_kpis(stored["kpis"], new["kpis"])
    assert not moved, f"KPIs moved (stored, now); run `make golden` only if meant: {moved}"
    assert set(new["kpis"]) == set(stored["kpis"]), "the set of KPIs changed"
    columns = moved_columns(stored["tables"], new["tables"])
    assert not columns, f"output columns moved; run `make golden` only if meant: {columns}"


def test_a_last_bit_passes_and_a_real_change_fails():
    """The comparison forgives the last bits that differ between CPUs, nothing more."""
    x = np.random.default_rng(0).normal(size=1000)
    base = table_fingerprint(pd.DataFrame({"x": x, "k": np.arange(1000)}))
    last_bit = table_fingerprint(pd.DataFrame({"x": np.nextafter(x, np.inf), "k": np.arange(1000)}))
    assert moved_columns({"firms": base}, {"firms": last_bit}) == []
    assert moved_kpis({"a": 0.1 + 0.2}, {"a": 0.3}) == {}
    changed = x.copy()
    changed[17] += 1e-4  # one value of a thousand
    assert moved_columns({"firms": base}, {"firms": table_fingerprint(
        pd.DataFrame({"x": changed, "k": np.arange(1000)}))}) == ["firms.x"]
    one_int = np.arange(1000)
    one_int[3] = 4
    assert moved_columns({"firms": base}, {"firms": table_fingerprint(
        pd.DataFrame({"x": x, "k": one_int}))}) == ["firms.k"]
    assert moved_kpis({"a": 1.0}, {"a": 1.0 + 1e-6}) == {"a": (1.0, 1.0 + 1e-6)}
