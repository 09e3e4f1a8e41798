"""scripts/adopt_calibration.py: a calibration's fitted values become the registry's defaults."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _script():
    spec = importlib.util.spec_from_file_location("adopt_calibration", ROOT / "scripts" / "adopt_calibration.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_fitted_values_become_defaults_with_their_source(tmp_path):
    registry = tmp_path / "registry.py"
    shutil.copy(ROOT / "cluster_abm" / "params" / "registry.py", registry)
    scenario = tmp_path / "calibrated_demo.toml"
    scenario.write_text('extends = "baseline"\n[params]\n"demography.spinoff_rate" = 0.0312345\n'
                        '"labour.wage_tightness" = 1.5\n')
    changes = dict((name, new) for name, _, new in _script().adopt(scenario, registry))
    assert changes == {"demography.spinoff_rate": "0.03123", "labour.wage_tightness": "1.5"}
    text = registry.read_text()
    line = next(row for row in text.splitlines() if '_p("demography.spinoff_rate"' in row)
    assert line.startswith('    _p("demography.spinoff_rate", 0.03123, 0.0, 0.2,')
    assert "Klepper 2007; default fitted by the calibration demo" in line  # source kept, note added
    again = dict((name, new) for name, _, new in _script().adopt(scenario, registry))
    assert again == changes and registry.read_text() == text  # idempotent: the note is added once


def test_an_unknown_parameter_stops_with_one_line(tmp_path):
    registry = tmp_path / "registry.py"
    shutil.copy(ROOT / "cluster_abm" / "params" / "registry.py", registry)
    scenario = tmp_path / "calibrated_bad.toml"
    scenario.write_text('[params]\n"demography.spinof_rate" = 0.03\n')
    with pytest.raises(SystemExit, match="demography.spinof_rate.*not declared"):
        _script().adopt(scenario, registry)
