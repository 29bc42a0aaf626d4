#!/usr/bin/env bash
# Installs the requirements (once), checks the code with ruff (pyproject.toml), and runs the whole test suite, the slow end-to-end tests included,
# on as many pytest-xdist workers as the machine has cores (2 at most: the tests run TensorFlow, which
# uses every core it gets), the longest files first (tests/conftest.py). Extra arguments go to pytest:
# `bash scripts/test.sh -m "not slow"`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/venv.sh
.venv/bin/ruff check --quiet .
workers=$(.venv/bin/python -c "import os; print(max(1, min(2, os.cpu_count() or 1)))")
exec .venv/bin/python -m pytest -q -n "$workers" --dist loadfile --no-loadscope-reorder "$@" tests
