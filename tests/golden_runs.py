"""Golden numbers: the KPIs and output hashes of short baseline and ``full_strategy`` runs.

``tests/test_golden.py`` re-runs them in ``make test`` and compares with ``tests/golden/*.json``,
so a change that moves any number fails loudly. When a change is *meant* to move numbers (work on
the economy), regenerate on purpose and say why in the commit::

    make golden          # = python -m tests.golden_runs --write

The command prints, per run, how far each KPI moved, for the commit message.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

GOLDEN_DIR = Path(__file__).parent / "golden"
RUNS = [("baseline", 1), ("baseline", 2), ("full_strategy", 1), ("full_strategy", 2)]
YEARS = 6.0


def _frame_hash(df: pd.DataFrame) -> str:
    """SHA-256 over every column's name and raw values, independent of pandas' own hashing."""
    h = hashlib.sha256()
    for col in df.columns:
        h.update(str(col).encode())
        values = df[col].to_numpy()
        if values.dtype == object:
            h.update("\x1f".join(map(str, values)).encode())
        else:
            h.update(np.ascontiguousarray(values).tobytes())
    return h.hexdigest()


def golden_record(scenario: str, seed: int) -> dict:
    """What is pinned for one run: every KPI (exact floats) and hashes of the output tables."""
    from cluster_abm.model.simulate import simulate

    r = simulate(scenario, seed, YEARS, firm_data=True)
    return {
        "scenario": scenario, "seed": seed, "years": YEARS,
        "kpis": {k: float(v) for k, v in sorted(r.kpis.items())},
        "timeseries_sha256": _frame_hash(r.timeseries),
        "firms_sha256": _frame_hash(r.firms),
        "firm_log_sha256": _frame_hash(r.firm_log),
    }


def same(a, b) -> bool:
    """Equal to the bit, NaN equal to NaN (a KPI with nothing to measure is NaN in both)."""
    return a == b or (isinstance(a, float) and isinstance(b, float) and a != a and b != b)


def moved_kpis(old: dict, new: dict) -> dict:
    """KPIs whose value differs: name -> (old, new)."""
    return {k: (old.get(k), v) for k, v in new.items() if not same(old.get(k), v)}


def golden_path(scenario: str, seed: int) -> Path:
    return GOLDEN_DIR / f"{scenario}_seed{seed}.json"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="overwrite the stored golden files")
    args = ap.parse_args(argv)
    changed = 0
    for scenario, seed in RUNS:
        new = golden_record(scenario, seed)
        path = golden_path(scenario, seed)
        old = json.loads(path.read_text()) if path.exists() else None
        moved = moved_kpis({} if old is None else old["kpis"], new["kpis"])
        hashes = [k for k in new if k.endswith("_sha256") and (old or {}).get(k) != new[k]]
        if moved or hashes:
            changed += 1
            print(f"{path.name}: changed ({', '.join(hashes) or 'no table hash'})")
            for k, (before, v) in moved.items():
                rel = "" if not before else f" ({(v - before) / abs(before):+.2%})"
                print(f"  {k}: {before} -> {v}{rel}")
        else:
            print(f"{path.name}: unchanged")
        if args.write:
            GOLDEN_DIR.mkdir(exist_ok=True)
            path.write_text(json.dumps(new, indent=1) + "\n")
    return 1 if changed and not args.write else 0


if __name__ == "__main__":
    sys.exit(main())
