#!/usr/bin/env bash
# The one test command (npm test): installs what is missing, builds, checks contracts, starts the real
# stack (Kafka, Postgres; ClickHouse is embedded), runs every test file, and stops what it started.
set -euo pipefail
cd "$(dirname "$0")/.."
export ONNXRUNTIME_NODE_INSTALL=skip KAFKAJS_NO_PARTITIONER_WARNING=1

[ -d node_modules/kafkajs ] || npm ci --no-audit --no-fund
echo "[test] build"
npx tsc -b tsconfig.json
echo "[test] generated contracts are up to date"
node scripts/generate-contracts.mjs --check
echo "[test] schema compatibility against the last commit"
node scripts/check-schema-compat.mjs

stack_was_up=0
bash infra/stack.sh status >/dev/null 2>&1 && stack_was_up=1
cleanup() {
  local rc=$?
  if [ "$stack_was_up" = 0 ]; then bash infra/stack.sh down || true; fi
  exit "$rc"
}
trap cleanup EXIT INT TERM
bash infra/stack.sh up
# shellcheck disable=SC1091
source "${MLOPS_STATE_DIR:-.data}/stack.env"

mapfile -t files < <(find libs services infra bench -path '*/node_modules' -prune -o -path '*/dist/test/*.test.js' -print | sort)
[ "$#" -gt 0 ] && mapfile -t files < <(printf '%s\n' "${files[@]}" | grep -E "$1")
echo "[test] ${#files[@]} test files"
node --test --test-concurrency="${TEST_CONCURRENCY:-2}" --test-timeout="${TEST_TIMEOUT_MS:-300000}" "${files[@]}"
