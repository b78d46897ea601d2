#!/usr/bin/env bash
# The one test command (npm test): installs what is missing, builds, checks contracts, starts the real
# stack (Kafka, Postgres; ClickHouse is embedded), runs every test file, and stops what it started.
set -euo pipefail
cd "$(dirname "$0")/.."
export ONNXRUNTIME_NODE_INSTALL=skip KAFKAJS_NO_PARTITIONER_WARNING=1 NX_DAEMON=false

[ -d node_modules/kafkajs ] || npm ci --no-audit --no-fund
# Lint first (ESLint with the module boundaries, Prettier check): a style or boundary error stops the run.
# LINT=0 skips it while iterating on one suite.
if [ "${LINT:-1}" = 1 ]; then
  echo "[test] lint"
  npm run --silent lint
fi
echo "[test] build"
npx tsc -b tsconfig.json
echo "[test] generated contracts are up to date"
node scripts/generate-contracts.mjs --check
echo "[test] schema compatibility against the last commit"
node scripts/check-schema-compat.mjs

# The monitor's report page is checked in a real browser: Debian's chromium, driven by puppeteer-core (its own
# browser download cannot reach the internet). Installed once per machine when missing and we may.
if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "[test] installing chromium (apt-get) for the report page test"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null) ||
      echo "[test] could not install chromium: the report page browser test will say so and skip" >&2
  fi
fi

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
[ "${#all[@]}" -gt 0 ] || { echo "[test] no test file matches '${1:-.}'" >&2; exit 1; }
bash scripts/lib/run-test-files.sh "${all[@]}"
