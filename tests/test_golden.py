"""The model's numbers are pinned: short baseline and full_strategy runs must reproduce the stored
golden KPIs and output hashes to the bit. Regenerate on purpose with ``make golden``."""

from __future__ import annotations

import json

import pytest

from tests.golden_runs import RUNS, golden_path, golden_record, moved_kpis


@pytest.mark.parametrize(("scenario", "seed"), RUNS)
def test_golden_numbers(scenario, seed):
    stored = json.loads(golden_path(scenario, seed).read_text())
    new = golden_record(scenario, seed)
    moved = moved_kpis(stored["kpis"], new["kpis"])
    assert not moved, f"KPIs moved (stored, now); run `make golden` only if meant: {moved}"
    assert set(new["kpis"]) == set(stored["kpis"]), "the set of KPIs changed"
    for table in ("timeseries_sha256", "firms_sha256", "firm_log_sha256"):
        assert new[table] == stored[table], f"{table} differs from the golden file"
