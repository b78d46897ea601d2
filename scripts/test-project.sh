#!/usr/bin/env bash
# One project's tests, the nx `test` target: run from the project's folder after nx has built it and its
# dependencies. Runs its compiled dist/test/**/*.test.js against the shared stack, starting the stack if it is down
# and leaving it up (stop it with `npm run infra:down`).
set -euo pipefail
project_dir="$PWD"
repo_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ONNXRUNTIME_NODE_INSTALL=skip KAFKAJS_NO_PARTITIONER_WARNING=1

mapfile -t files < <(find "$project_dir/dist/test" -name '*.test.js' 2>/dev/null | sort)
if [ "${#files[@]}" -eq 0 ]; then
  echo "[test] ${project_dir#"$repo_dir"/}: no test files"
  exit 0
fi

state_dir="${MLOPS_STATE_DIR:-$repo_dir/.data}"
mkdir -p "$state_dir"
if ! bash "$repo_dir/infra/stack.sh" status >/dev/null 2>&1; then
  # Several projects' targets may find the stack down at once: one starts it, the others wait.
  flock "$state_dir/.stack-up.lock" bash "$repo_dir/infra/stack.sh" up
fi
# shellcheck disable=SC1091
source "$state_dir/stack.env"
cd "$repo_dir"
exec bash scripts/lib/run-test-files.sh "${files[@]}"
