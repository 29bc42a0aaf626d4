#!/usr/bin/env bash
# Installs the requirements (once) and runs the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/venv.sh
exec .venv/bin/python -m pytest -q "$@" tests
