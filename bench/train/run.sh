#!/usr/bin/env bash
# Builds, makes the cached scikit-learn virtualenv (once, under ~/.cache/mlops; reused while it imports the pinned
# version), runs bench/train. Usage: bench/train/run.sh [rows=100000]
set -euo pipefail
cd "$(dirname "$0")/../.."
sklearn_version=1.6.1
venv="${MLOPS_VENV_SKLEARN:-$HOME/.cache/mlops/venv-sklearn}"
if ! "$venv/bin/python" -c "import sklearn, sys; sys.exit(sklearn.__version__ != '$sklearn_version')" 2>/dev/null; then
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "scikit-learn==$sklearn_version"
fi
# scikit-learn fits with an OpenMP pool; size it to the cores this machine grants (nproc) unless told otherwise.
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-$(nproc)}"
npx tsc -b bench
node bench/dist/train/main.js "${1:-100000}" "$venv/bin/python"
