"""The report's tables for spreadsheets: CSV files and one Excel workbook.

* **CSV** (one file per table): UTF-8 with a byte-order mark, so Excel and LibreOffice read
  "€" and accented region names right when the file is double-clicked; comma-separated, a dot
  for decimals; numbers written positionally with every digit a float holds (never ``1e-05``,
  which some spreadsheet programs read as text), missing values as empty cells.
* **Excel** (``report.xlsx``, written with openpyxl): a sheet "about" (the experiment and how to
  read the workbook), a sheet "columns" explaining every column of every table (label, unit,
  meaning), then one sheet per table of the report, numbers as numbers with a thousands format.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pandas as pd

from cluster_abm.reports.numbers import plain
from cluster_abm.reports.tables import ReportTable

CSV_ENCODING = "utf-8-sig"  # UTF-8 with a BOM: spreadsheet programs detect it
SHEET_MAX = 31  # Excel's limit on sheet names
_BAD_SHEET_CHARS = str.maketrans({c: "_" for c in "[]:*?/\\"})


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """``df`` as a spreadsheet-safe CSV (module docstring), written atomically."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype.kind in "fiub" or out[col].dtype == object:
            out[col] = out[col].map(_cell)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    out.to_csv(tmp, index=False, encoding=CSV_ENCODING)
    tmp.replace(path)


def _cell(v):
    if isinstance(v, float | np.floating | int | np.integer | bool | np.bool_) or v is None:
        return plain(v)
    if isinstance(v, list | tuple):
        return ", ".join(map(str, v))
    return v


def sheet_name(name: str, used: set[str]) -> str:
    """A valid, unique Excel sheet name for a table name."""
    base = name.translate(_BAD_SHEET_CHARS)[:SHEET_MAX]
    out, i = base, 2
    while out.lower() in {u.lower() for u in used}:
        suffix = f"~{i}"
        out = base[:SHEET_MAX - len(suffix)] + suffix
        i += 1
    used.add(out)
    return out


def write_workbook(tables: list[ReportTable], path: Path, about: list[tuple[str, str]]) -> dict[str, str]:
    """Write ``report.xlsx``; return {table name: sheet name}."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = "about"
    bold = Font(bold=True)
    for r, (key, value) in enumerate(about, start=1):
        ws.cell(r, 1, key).font = bold
        ws.cell(r, 2, value).alignment = Alignment(wrap_text=True, vertical="top")
    ws.column_dimensions["A"].width = 28
    ws.column_dimensions["B"].width = 110

    used = {"about", "columns"}
    sheets = {t.name: sheet_name(t.name, used) for t in tables}
    docs = pd.concat([t.column_docs().assign(sheet=sheets[t.name]) for t in tables],
                     ignore_index=True) if tables else pd.DataFrame()
    wc = wb.create_sheet("columns")
    _frame(wc, docs, bold, get_column_letter, widths={"meaning": 90, "label": 36})
    for t in tables:
        w = wb.create_sheet(sheets[t.name])
        _frame(w, t.data, bold, get_column_letter)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    wb.save(tmp)
    os.replace(tmp, path)
    return sheets


def _frame(ws, df: pd.DataFrame, bold, letter, widths: dict[str, int] | None = None) -> None:
    widths = widths or {}
    for j, col in enumerate(df.columns, start=1):
        ws.cell(1, j, str(col)).font = bold
        ws.column_dimensions[letter(j)].width = widths.get(col, max(10, min(40, len(str(col)) + 2)))
    for i, row in enumerate(df.itertuples(index=False), start=2):
        for j, v in enumerate(row, start=1):
            value = _excel(v)
            c = ws.cell(i, j, value)
            if isinstance(value, float):
                c.number_format = "#,##0.0#####" if abs(value) < 100 else "#,##0"
            elif isinstance(value, int) and not isinstance(value, bool):
                c.number_format = "#,##0"
    ws.freeze_panes = "A2"


def _excel(v):
    """A value openpyxl can store: numbers as numbers, NaN as an empty cell, lists as text."""
    if v is None:
        return None
    if isinstance(v, bool | np.bool_):
        return bool(v)
    if isinstance(v, int | np.integer):
        return int(v)
    if isinstance(v, float | np.floating):
        return None if not math.isfinite(float(v)) else float(v)
    if isinstance(v, list | tuple):
        return ", ".join(map(str, v))
    return str(v)
