"""A table of the report, once: its numbers for spreadsheets, its text for people, its columns'
meaning and units.

A :class:`ReportTable` holds ``data`` (machine values: the CSV file and the Excel sheet) and
``view`` (the same rows formatted for people: the HTML table), and documents every column of
``data`` (:class:`Column`: label, unit, meaning), so the workbook's "columns" sheet explains each
sheet. HTML tables are laid out to fit the page: fixed width, cells that wrap, no column of
unbroken text.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import pandas as pd

TEXT_CELL = 40  # a cell longer than this is a sentence: aligned left, like text


@dataclass(frozen=True)
class Column:
    """One column of a table's ``data``: its label, unit and meaning."""

    name: str
    label: str
    unit: str = ""
    meaning: str = ""


@dataclass
class ReportTable:
    """A table of the report (module docstring). ``name`` names its CSV file and Excel sheet."""

    name: str
    title: str
    data: pd.DataFrame
    view: pd.DataFrame
    columns: list[Column] = field(default_factory=list)
    note: str = ""
    group: str = ""  # the report section (e.g. a region) the table belongs to
    row_classes: list[str] | None = None  # "good" / "bad" / "" per row of the view
    grouped: int = 1  # leading view columns whose repeats are left blank (read as groups)
    left: tuple[str, ...] = ()  # view columns of text, aligned left (the first two always are)

    def column_docs(self) -> pd.DataFrame:
        known = {c.name: c for c in self.columns}
        rows = []
        for col in self.data.columns:
            c = known.get(col, Column(col, col.replace("_", " ")))
            rows.append({"sheet": self.name, "column": col, "label": c.label, "unit": c.unit,
                         "meaning": c.meaning})
        return pd.DataFrame(rows)

    def html(self) -> str:
        """The view as an HTML table (escaped text; rows coloured by ``row_classes``)."""
        if self.view.empty:
            return f"<p class='note' data-table='{self.name}'>No rows.</p>"
        head = "".join(f"<th>{html.escape(str(c))}</th>" for c in self.view.columns)
        classes = self.row_classes or [""] * len(self.view)
        body = []
        previous: list[str] = []
        for cls, (_, row) in zip(classes, self.view.iterrows(), strict=True):
            values = [str(v) for v in row.to_numpy()]
            shown = list(values)
            for j in range(min(self.grouped, len(values))):
                if previous[:j + 1] == values[:j + 1]:
                    shown[j] = ""
            previous = values
            cells = "".join(f"<td class='l'>{html.escape(v)}</td>"
                            if c in self.left or len(v) > TEXT_CELL else f"<td>{html.escape(v)}</td>"
                            for c, v in zip(self.view.columns, shown, strict=True))
            body.append(f"<tr class='{cls}'>{cells}</tr>" if cls else f"<tr>{cells}</tr>")
        return (f"<div class='tw'><table class='t' data-table='{self.name}'>"
                f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>")


CSS = """
body{font-family:Helvetica,Arial,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em} h2{border-bottom:2px solid #ddd;padding-bottom:.2em;margin-top:1.6em} h3{margin-top:1.2em}
.tw{max-width:100%}
table.t{border-collapse:collapse;font-size:.82em;margin:.6em 0;width:100%;table-layout:auto}
.t td,.t th{padding:.25em .5em;border-bottom:1px solid #e5e5e5;text-align:right;vertical-align:top;
  overflow-wrap:break-word;word-break:normal;white-space:normal;hyphens:auto}
.t th{background:#f4f4f4}
.t td:first-child,.t th:first-child,.t td.l{text-align:left}
.t td:nth-child(2),.t th:nth-child(2){text-align:left}
tr.good td{background:#e9f5ea} tr.bad td{background:#fbe9e9}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:10px} img{max-width:100%;height:auto}
.note{color:#555;font-size:.9em} p.sc{margin:.7em 0}
"""
