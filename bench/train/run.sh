#!/usr/bin/env bash
# Builds, makes the cached scikit-learn virtualenv under .data/venvs/bench-train (once), runs bench/train.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=.data/venvs/bench-train
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import sklearn' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'scikit-learn>=1.4,<1.7'
fi
npx tsc -b bench
node bench/dist/train/main.js "${1:-100000}" "$venv/bin/python"
