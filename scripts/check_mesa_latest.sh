#!/usr/bin/env bash
# Check the model against the newest Mesa, which needs Python >= 3.12 (Mesa >= 3.4), in a separate
# virtual environment (.venv-latest). Skipped, with a message, when no Python >= 3.12 is found.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=""
for cand in python3.13 python3.12 /root/.pyenv/versions/3.12*/bin/python3.12; do
    if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
        PY=$(command -v "$cand"); break
    fi
done
if [ -z "$PY" ]; then
    echo "check_mesa_latest: no Python >= 3.12 found; skipped"
    exit 0
fi
VENV=.venv-latest
if [ ! -x "$VENV/bin/python" ]; then
    "$PY" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet --upgrade -e . "mesa[rec]" pytest
echo "check_mesa_latest: $("$VENV/bin/python" -c 'import sys, mesa; print("Python", sys.version.split()[0], "Mesa", mesa.__version__)')"
"$VENV/bin/python" -m pytest -q -p no:cacheprovider -m "not slow" tests/test_model_core.py tests/test_cli_run.py tests/test_golden.py tests/test_snapshot.py
