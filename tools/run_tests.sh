#!/usr/bin/env bash
# The test suite, from a fresh clone: installs the pinned stack into .venv
# (tools/setup_env.sh) and runs pytest (unit tests and docstring examples).
# Usage: bash tools/run_tests.sh [pytest options]
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup_env.sh
exec .venv/bin/python -m pytest "$@"
