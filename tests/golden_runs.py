"""Golden numbers: the KPIs and output tables of short baseline and ``full_strategy`` runs.

``tests/test_golden.py`` re-runs them in ``make test`` and compares with ``tests/golden/*.json``,
so a change that moves any number fails loudly. When a change is *meant* to move numbers (work on
the economy), regenerate on purpose and say why in the commit::

    make golden          # = python -m tests.golden_runs --write

The command prints, per run, how far each KPI moved, for the commit message.

What is pinned: every KPI, and every column of the output tables (time series, firms, firm log):
columns of integers, booleans and text by a hash of their values, float columns by their count,
NaN count, sum, sum of absolute values, sum of squares, minimum and maximum. Floats agree to a
relative 1e-9, not to the bit: numpy's reductions and transcendental functions take different
SIMD paths on different CPUs (AVX2 against AVX-512), which move the last bits of a sum (on
2026-12-07 four KPIs of these runs differed in their last bits between two machines while every
firm's history was identical). Any change to the model moves its numbers by far more than 1e-9.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd

GOLDEN_DIR = Path(__file__).parent / "golden"
RUNS = [("baseline", 1), ("baseline", 2), ("full_strategy", 1), ("full_strategy", 2)]
YEARS = 6.0
TABLES = ("timeseries", "firms", "firm_log")
REL_TOL = 1e-9  # floats: the last bits differ between CPUs, a model change moves far more


def _column_fingerprint(values: np.ndarray) -> dict:
    """A float column's statistics, or a hash of any other column's values."""
    if values.dtype.kind != "f":
        h = hashlib.sha256()
        if values.dtype == object:
            h.update("\x1f".join(map(str, values)).encode())
        else:
            h.update(str(values.dtype).encode())
            h.update(np.ascontiguousarray(values).tobytes())
        return {"sha256": h.hexdigest()}
    x = values.astype(float)
    finite = x[np.isfinite(x)]
    return {"n": int(len(x)), "nan": int(len(x) - len(finite)),
            "sum": float(finite.sum()), "abs_sum": float(np.abs(finite).sum()),
            "sq_sum": float((finite ** 2).sum()),
            "min": float(finite.min()) if len(finite) else 0.0,
            "max": float(finite.max()) if len(finite) else 0.0}


def table_fingerprint(df: pd.DataFrame) -> dict:
    """Column name -> fingerprint (:func:`_column_fingerprint`), in the table's column order."""
    return {str(col): _column_fingerprint(df[col].to_numpy()) for col in df.columns}


def golden_record(scenario: str, seed: int) -> dict:
    """What is pinned for one run: every KPI and a fingerprint of every output table's columns."""
    from cluster_abm.model.simulate import simulate

    r = simulate(scenario, seed, YEARS, firm_data=True)
    return {
        "scenario": scenario, "seed": seed, "years": YEARS,
        "kpis": {k: float(v) for k, v in sorted(r.kpis.items())},
        "tables": {name: table_fingerprint(getattr(r, name)) for name in TABLES},
    }


def close(a, b, scale: float = 0.0) -> bool:
    """Equal to a relative REL_TOL (NaN equal to NaN: a KPI with nothing to measure is NaN in
    both); ``scale`` bounds the absolute error of a sum whose terms cancel."""
    if isinstance(a, float) and isinstance(b, float) and a != a and b != b:
        return True
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=REL_TOL * scale)


def moved_kpis(old: dict, new: dict) -> dict:
    """KPIs whose value differs: name -> (old, new)."""
    return {k: (old.get(k), v) for k, v in new.items() if not close(old.get(k), v)}


def moved_columns(old: dict, new: dict) -> list[str]:
    """``table.column`` of every column whose fingerprint differs (or that came or went)."""
    moved = []
    for table in TABLES:
        a, b = old.get(table, {}), new.get(table, {})
        for col in sorted(set(a) | set(b)):
            fa, fb = a.get(col), b.get(col)
            if fa is None or fb is None or set(fa) != set(fb):
                moved.append(f"{table}.{col}")
            elif "sha256" in fa:
                if fa["sha256"] != fb["sha256"]:
                    moved.append(f"{table}.{col}")
            elif (fa["n"], fa["nan"]) != (fb["n"], fb["nan"]) or not all(
                    close(fa[k], fb[k], scale) for k, scale in (
                        ("sum", fa["abs_sum"]), ("abs_sum", 0.0), ("sq_sum", 0.0),
                        ("min", max(abs(fa["min"]), abs(fa["max"]))),
                        ("max", max(abs(fa["min"]), abs(fa["max"]))))):
                moved.append(f"{table}.{col}")
    return moved


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
        columns = moved_columns((old or {}).get("tables", {}), new["tables"])
        if moved or columns:
            changed += 1
            shown = ", ".join(columns[:8]) + (f" and {len(columns) - 8} more" if len(columns) > 8 else "")
            print(f"{path.name}: changed ({len(columns)} table columns moved{': ' + shown if columns else ''})")
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
