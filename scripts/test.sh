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

# Optional argument: a regular expression selecting test files.
mapfile -t all < <(find libs services infra bench -path '*/node_modules' -prune -o -path '*/dist/test/*.test.js' -print | sort | grep -E "${1:-.}")
mapfile -t parallel < <(printf '%s\n' "${all[@]}" | grep -v '\.serial\.test\.js$' | grep . || true)
# Files that disturb the shared stack (a broker restart) run alone, after the others.
mapfile -t serial < <(printf '%s\n' "${all[@]}" | grep '\.serial\.test\.js$' | grep . || true)
echo "[test] ${#parallel[@]} test files in parallel, then ${#serial[@]} alone"
rc=0
if [ "${#parallel[@]}" -gt 0 ]; then
  node --test --test-concurrency="${TEST_CONCURRENCY:-2}" --test-timeout="${TEST_TIMEOUT_MS:-300000}" "${parallel[@]}" || rc=$?
fi
if [ "${#serial[@]}" -gt 0 ]; then
  node --test --test-concurrency=1 --test-timeout="${TEST_TIMEOUT_MS:-300000}" "${serial[@]}" || rc=$?
fi
exit "$rc"
