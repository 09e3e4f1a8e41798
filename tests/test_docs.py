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


def _toml_blocks(text: str) -> dict[str, list[str]]:
    """The ```toml blocks of a markdown page, by the ``## `` section they stand in."""
    import re

    out: dict[str, list[str]] = {}
    for section in re.split(r"^## ", text, flags=re.M)[1:]:
        title = section.splitlines()[0].split(" (")[0].strip()
        out[title] = re.findall(r"```toml\n(.*?)```", section, flags=re.S)
    return out


def test_experiments_page_lists_every_key_the_loaders_accept():
    """docs/experiments.md names every key the validation code allows (so it stays complete)."""
    from cluster_abm.analysis.calibration import calibration_spec as cal
    from cluster_abm.analysis.sensitivity import study
    from cluster_abm.experiments import experiment_spec as exp

    text = (DOCS / "experiments.md").read_text()
    keys = {*exp.TOP_KEYS, *exp.DESIGN_KEYS, *exp.OUTPUT_KEYS, *exp.EXECUTION_KEYS,
            *exp.REPORT_KEYS, *exp.LEVER_FIELDS,
            *study.TOP_KEYS, *study.OPTION_KEYS, *cal.TOP_KEYS, *cal.PARAM_KEYS,
            *cal.TARGET_KEYS, *cal.OPTIMIZER_KEYS, *cal.REPORT_KEYS, *cal.STORAGE_KEYS}
    missing = sorted(k for k in keys if f"`{k}`" not in text and f"`[{k}]`" not in text)
    assert not missing, f"docs/experiments.md does not document: {missing}"


def test_experiments_page_examples_are_valid(tmp_path):
    """Every TOML example of docs/experiments.md passes the loader of its section."""
    import tomllib

    from cluster_abm.analysis.calibration.calibration_spec import calibration_from_dict
    from cluster_abm.analysis.sensitivity.study import study_from_dict
    from cluster_abm.experiments.experiment_spec import experiment_from_dict

    loaders = {"Experiment files": experiment_from_dict, "Study files": study_from_dict,
               "Calibration files": calibration_from_dict}
    blocks = _toml_blocks((DOCS / "experiments.md").read_text())
    checked = 0
    for section, load in loaders.items():
        assert blocks.get(section), f"no TOML example under '## {section}'"
        for text in blocks[section]:
            load(tomllib.loads(text), source=str(tmp_path / "example.toml"),
                 base_dir=DOCS.parent / "experiments")
            checked += 1
    assert checked >= 4
