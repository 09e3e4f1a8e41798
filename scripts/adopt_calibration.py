"""Make a calibration's fitted values the model's defaults.

    python scripts/adopt_calibration.py scenarios/calibrated_calibrate_see.toml

Reads the ``[params]`` of the scenario ``cluster-abm calibrate`` wrote and rewrites, in
``cluster_abm/params/registry.py``, each parameter's default to the fitted value (rounded to 4
significant digits) and its source to say where the default comes from. Every scenario then runs
the calibrated model; regenerate the golden files afterwards (``python -m tests.golden_runs
--write``) and say by how much they moved.
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from pathlib import Path

REGISTRY = Path(__file__).resolve().parents[1] / "cluster_abm" / "params" / "registry.py"


def adopt(scenario: Path, registry: Path = REGISTRY) -> list[tuple[str, str, str]]:
    """Rewrite the defaults; returns (name, old default, new default) per parameter."""
    fitted = tomllib.loads(scenario.read_text())["params"]
    text = registry.read_text()
    note = f"default fitted by the calibration {scenario.stem.removeprefix('calibrated_')} (docs/calibration.md)"
    changes = []
    for name, value in fitted.items():
        head = re.compile(r'_p\("' + re.escape(name) + r'", ([^,]+), ')
        m = head.search(text)
        if m is None:
            sys.exit(f"{scenario}: parameter {name!r} is not declared in {registry}")
        new = f"{float(value):.4g}"
        text = text[:m.start(1)] + new + text[m.end(1):]
        # the line's source: append the note (or add one) once
        end = text.index("\n", m.start())
        line = text[m.start():end]
        if note not in line:
            # an earlier calibration's note gives way to this one
            line = re.sub(r'(; )?default fitted by the calibration [^"(]*\(docs/calibration\.md\)', "", line)
            line = line.replace(', source=""', "")
            src = re.search(r'source="([^"]*)"', line)
            if src:
                sep = "; " if src.group(1) else ""
                line = line[:src.end(1)] + f"{sep}{note}" + line[src.end(1):]
            else:
                line = line[:line.rindex(")")] + f', source="{note}"' + line[line.rindex(")"):]
            text = text[:m.start()] + line + text[end:]
        changes.append((name, m.group(1), new))
    registry.write_text(text)
    return changes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenario", type=Path, help="scenarios/calibrated_<name>.toml")
    args = ap.parse_args()
    if not args.scenario.is_file():
        sys.exit(f"{args.scenario}: no such file")
    for name, old, new in adopt(args.scenario):
        print(f"{name}: {old} -> {new}")


if __name__ == "__main__":
    main()
