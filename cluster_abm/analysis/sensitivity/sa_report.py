"""A self-contained HTML report plus machine-readable index tables.

One ``report.html`` with figures embedded as base64 PNG (it can be mailed or archived alone),
warnings first so they cannot be missed, and ``indices.csv`` / ``indices.parquet`` next to it
holding the same numbers for further analysis.
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from cluster_abm.analysis.sensitivity.atomic_io import atomic_write_bytes, atomic_write_text
from cluster_abm.analysis.sensitivity.sa_results import SAResult

_CSS = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}
h1{margin-bottom:0.2em} h2{border-bottom:1px solid #ccc;padding-bottom:0.2em;margin-top:1.6em}
table.tbl{border-collapse:collapse;margin:0.6em 0;font-size:0.9em}
table.tbl th,table.tbl td{border:1px solid #ccc;padding:3px 8px;text-align:right}
table.tbl th{background:#f2f2f2}
.warnings{border:2px solid #c0392b;background:#fdecea;padding:0.6em 1.2em;margin:1em 0}
.warnings h2{color:#c0392b;border:none;margin-top:0.2em}
.ok{border:2px solid #27ae60;background:#eafaf1;padding:0.6em 1.2em;margin:1em 0}
.notes{color:#555;font-size:0.9em} figure{margin:1em 0} figcaption{color:#555}
img{max-width:100%}
"""


def indices_table(results: Mapping[str, SAResult]) -> pd.DataFrame:
    """All outputs' indices in one table with the context needed to interpret each row."""
    frames = []
    for name, res in results.items():
        df = res.indices.copy()
        df.insert(0, "method", res.method)
        df.insert(0, "output", name)
        df["n_base"] = res.n_base
        df["n_replicates"] = res.n_replicates
        df["conf_level"] = res.conf_level
        df["seed"] = res.seed
        df["noise_share"] = res.noise.get("noise_share", math.nan)
        frames.append(df)
    if not frames:
        raise ValueError("results is empty: nothing to report")
    return pd.concat(frames, ignore_index=True)


def _table_html(df: pd.DataFrame) -> str:
    """HTML table with escaped cells and compact numbers."""
    return df.to_html(
        index=False,
        border=0,
        classes="tbl",
        na_rep="\u2013",
        float_format=lambda x: f"{x:.4g}",
        escape=True,
    )


def _img_html(caption: str, path: str | Path) -> str:
    """A figure with the PNG embedded as base64, so the report needs no side files."""
    data = Path(path).read_bytes()
    if not data.startswith(b"\x89PNG"):
        raise ValueError(f"figure {str(path)!r} is not a PNG file")
    b64 = base64.b64encode(data).decode("ascii")
    cap = html.escape(caption)
    return (
        f'<figure><img alt="{cap}" src="data:image/png;base64,{b64}">'
        f"<figcaption>{cap}</figcaption></figure>"
    )


def _figure_items(figures: Mapping[str, str | Path] | Sequence[str | Path] | None):
    """(caption, path) pairs from a mapping, a list of paths, or nothing."""
    if figures is None:
        return []
    if isinstance(figures, Mapping):
        return [(str(k), v) for k, v in figures.items()]
    return [(Path(p).stem, p) for p in figures]


def _noise_html(res: SAResult) -> str:
    """The replicate-noise decomposition as a one-row table."""
    keys = [
        "n_replicates",
        "var_between",
        "var_within",
        "var_noise_of_mean",
        "noise_share",
        "noise_share_single_run",
    ]
    return _table_html(pd.DataFrame([{k: res.noise.get(k, math.nan) for k in keys}]))


def _result_html(name: str, res: SAResult) -> list[str]:
    """Section for one output: sizes, indices, second order, noise, notes."""
    parts = [
        f"<h2>{html.escape(name)}</h2>",
        f"<p>method <b>{html.escape(res.method)}</b>, {res.n_base} base samples, "
        f"{res.n_points} design points \u00d7 {res.n_replicates} replicate(s), "
        f"{int(round(res.conf_level * 100))}% CIs (\u00b1 half-width), seed {res.seed}</p>",
        _table_html(res.indices),
    ]
    if not res.second_order.empty:
        parts += ["<h3>Second-order indices</h3>", _table_html(res.second_order)]
    parts += ["<h3>Seed noise</h3>", _noise_html(res)]
    if res.notes:
        items = "".join(f"<li>{html.escape(n)}</li>" for n in res.notes)
        parts.append(f'<div class="notes"><b>Notes</b><ul>{items}</ul></div>')
    return parts


def write_report(
    results: Mapping[str, SAResult],
    figures: Mapping[str, str | Path] | Sequence[str | Path] | None,
    out_dir: str | Path,
    title: str,
    meta: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``report.html``, ``indices.csv`` and ``indices.parquet`` into ``out_dir``.

    ``figures`` maps captions to PNG paths (or is a list of paths); ``meta`` (e.g. git commit,
    scenario, runtime) is shown as a table. Returns the path of ``report.html``.
    """
    out = Path(out_dir)
    table = indices_table(results)
    warnings = [w for res in results.values() for w in res.warnings]
    meta_rows = {"generated (UTC)": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")}
    meta_rows.update({str(k): str(v) for k, v in (meta or {}).items()})
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    if warnings:
        items = "".join(f"<li>{html.escape(w)}</li>" for w in warnings)
        parts.append(
            f'<div class="warnings" id="warnings"><h2>\u26a0 Warnings '
            f"({len(warnings)})</h2><ul>{items}</ul></div>"
        )
    else:
        parts.append('<div class="ok" id="warnings">No warnings.</div>')
    parts.append(
        _table_html(pd.DataFrame({"key": list(meta_rows), "value": list(meta_rows.values())}))
    )
    for name, res in results.items():
        parts += _result_html(name, res)
    items = _figure_items(figures)
    if items:
        parts.append("<h2>Figures</h2>")
        parts += [_img_html(cap, p) for cap, p in items]
    parts.append("</body></html>")

    atomic_write_text(out / "indices.csv", table.to_csv(index=False))
    buf = io.BytesIO()
    table.to_parquet(buf, index=False)
    atomic_write_bytes(out / "indices.parquet", buf.getvalue())
    return atomic_write_text(out / "report.html", "\n".join(parts))
