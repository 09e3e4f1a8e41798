"""Figures and the HTML report: files exist, are PNGs, and the report embeds tables and images."""

from __future__ import annotations

import base64
import math
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cluster_abm.analysis.sensitivity import (
    SAProblem,
    analyze_series,
    convergence,
    plot_convergence,
    plot_indices,
    plot_morris,
    plot_second_order,
    plot_series,
    run_vectorized,
    sample,
    standard_figures,
    write_report,
)

PNG = b"\x89PNG\r\n\x1a\n"


def ishigami(X, rng):
    y = np.sin(X[:, 0]) + 7 * np.sin(X[:, 1]) ** 2 + 0.1 * X[:, 2] ** 4 * np.sin(X[:, 0])
    return np.column_stack([y + 4.0 * rng.standard_normal(len(X)), X[:, 0]])


@pytest.fixture(scope="module")
def problem():
    return SAProblem(["x1", "x2", "x3"], [(-math.pi, math.pi)] * 3)


@pytest.fixture(scope="module")
def sobol_results(problem):
    # strong noise (share ~ 0.37 with R = 2) so the report must show a warning
    return run_vectorized(
        ishigami, problem, "sobol", 128, replicates=2, seed=0, output_names=["noisy", "x1_copy"]
    )


class _Collector(HTMLParser):
    """Collects tables, embedded images and the warnings box of the report."""

    def __init__(self):
        super().__init__()
        self.tables = 0
        self.images: list[str] = []
        self.in_warnings = False
        self.warning_text = ""
        self.depth = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self.tables += 1
        if tag == "img":
            self.images.append(a.get("src", ""))
        if tag == "div" and a.get("id") == "warnings":
            self.in_warnings = True
        if self.in_warnings and tag == "div":
            self.depth += 1

    def handle_endtag(self, tag):
        if self.in_warnings and tag == "div":
            self.depth -= 1
            self.in_warnings = self.depth > 0

    def handle_data(self, data):
        if self.in_warnings:
            self.warning_text += data


def _is_png(path: Path) -> bool:
    return path.read_bytes().startswith(PNG)


def test_figures_are_pngs(tmp_path, problem, sobol_results):
    res = sobol_results["noisy"]
    assert _is_png(plot_indices(res, tmp_path / "i.png"))
    assert _is_png(plot_second_order(res, tmp_path / "s2.png"))
    X = sample(problem, "sobol", 64, seed=0)
    y = ishigami(X, np.random.default_rng(0))[:, 0]
    conv = convergence(problem, "sobol", X, y, 0, num_resamples=10)
    assert _is_png(plot_convergence(conv, tmp_path / "conv.png", method="sobol"))
    Yt = np.stack([y * w for w in (0.5, 1.0, 2.0)], axis=1)[:, None, :]
    series = analyze_series(problem, "sobol", X, Yt, 0, num_resamples=10)
    assert _is_png(plot_series(series, tmp_path / "series.png", method="sobol"))
    morris = run_vectorized(ishigami, problem, "morris", 20, seed=0)["y0"]
    assert _is_png(plot_morris(morris, tmp_path / "m.png"))
    with pytest.raises(ValueError):
        plot_morris(res, tmp_path / "bad.png")
    assert not list(tmp_path.glob("*.tmp"))  # atomic writes leave no temp files


def test_report_embeds_tables_images_and_warnings(tmp_path, sobol_results):
    figs = {}
    for res in sobol_results.values():
        figs.update(standard_figures(res, tmp_path / "fig"))
    out = tmp_path / "report"
    path = write_report(sobol_results, figs, out, "Ishigami <test>", {"commit": "abc123", "N": 128})
    assert path == out / "report.html"
    text = path.read_text(encoding="utf-8")
    parser = _Collector()
    parser.feed(text)
    # meta + per output: indices, second order, noise
    assert parser.tables == 1 + 3 * len(sobol_results)
    assert len(parser.images) == len(figs) == 4
    for src in parser.images:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1]).startswith(PNG)
    assert "noise share" in parser.warning_text  # shown in the warnings box at the top
    assert text.index('id="warnings"') < text.index("<h2>noisy</h2>")
    assert "Ishigami &lt;test&gt;" in text and "abc123" in text
    # the numbers in the report are the same as in the side tables
    csv = pd.read_csv(out / "indices.csv")
    parquet = pd.read_parquet(out / "indices.parquet")
    assert len(csv) == len(parquet) == 6
    noisy = sobol_results["noisy"].indices.set_index("param")
    got = csv[csv["output"] == "noisy"].set_index("param")
    np.testing.assert_allclose(got.loc[noisy.index, "ST"], noisy["ST"], rtol=1e-12)
    np.testing.assert_allclose(
        parquet[parquet["output"] == "noisy"].set_index("param").loc[noisy.index, "S1"],
        noisy["S1"],
    )
    assert f"{noisy.loc['x2', 'ST']:.4g}" in text
    assert not list(out.glob("*.tmp")) and not list(out.glob(".*"))


def test_report_without_warnings_says_so(tmp_path, problem):
    res = run_vectorized(lambda X, rng: X[:, 0] + X[:, 1], problem, "sobol", 512, seed=0)
    path = write_report(res, None, tmp_path, "clean", {})
    parser = _Collector()
    parser.feed(path.read_text(encoding="utf-8"))
    assert res["y"].warnings == []
    assert "No warnings" in parser.warning_text
    assert parser.images == []
