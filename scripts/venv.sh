#!/usr/bin/env bash
# Creates .venv with the pinned requirements and the project installed editable (once; again when a
# requirements file or pyproject.toml changes).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
stamp=.venv/.requirements
wanted=$(cat requirements.txt requirements-nodeps.txt requirements-dev.txt requirements-onnx.txt pyproject.toml | sha1sum | cut -d' ' -f1)
if [[ -f $stamp && $(cat "$stamp") == "$wanted" ]]; then
  exit 0
fi
echo "== installing the requirements into .venv"
"$PYTHON" -m venv .venv
# requirements-onnx.txt is optional for users (ONNX export and runtime); the tests cover it.
.venv/bin/python -m pip install --quiet -r requirements.txt -r requirements-dev.txt -r requirements-onnx.txt
# tf-keras's metadata asks for the full `tensorflow` wheel; tensorflow-cpu provides the same modules.
.venv/bin/python -m pip install --quiet --no-deps -r requirements-nodeps.txt
# The project itself, editable (pyproject.toml): its packages import from anywhere, tests need no sys.path edits.
.venv/bin/python -m pip install --quiet --no-deps --no-build-isolation -e .
echo "$wanted" > "$stamp"
