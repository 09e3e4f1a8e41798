"""Generated documentation pages are current (regenerate with `python -m cluster_abm.reports.docgen`)."""

from pathlib import Path

import pytest

from cluster_abm.reports import docgen

DOCS = Path(__file__).resolve().parent.parent / "docs"


@pytest.mark.parametrize("name", sorted(docgen.PAGES))
def test_generated_page_is_current(name):
    assert (DOCS / name).read_text() == docgen.PAGES[name](), f"run: python -m cluster_abm.reports.docgen ({name})"


def test_odd_points_to_existing_code():
    text = (DOCS / "ODD.md").read_text()
    import re

    root = DOCS.parent
    paths = set(re.findall(r"`(cluster_abm/[\w/]+\.py)", text))
    assert len(paths) > 10
    for p in paths:
        assert (root / p).is_file(), p
