#!/usr/bin/env bash
# Runs the given compiled test files with node's test runner: the others in parallel, then the
# *.serial.test.js files alone (they disturb the shared stack, e.g. a broker restart). Exit code: 0 if all pass.
set -euo pipefail
mapfile -t parallel < <(printf '%s\n' "$@" | grep -v '\.serial\.test\.js$' | grep . || true)
mapfile -t serial < <(printf '%s\n' "$@" | grep '\.serial\.test\.js$' | grep . || true)
echo "[test] ${#parallel[@]} test files in parallel, then ${#serial[@]} alone"
rc=0
if [ "${#parallel[@]}" -gt 0 ]; then
  node --test --test-force-exit --test-concurrency="${TEST_CONCURRENCY:-2}" --test-timeout="${TEST_TIMEOUT_MS:-300000}" "${parallel[@]}" || rc=$?
fi
if [ "${#serial[@]}" -gt 0 ]; then
  # Serial files run whole scenarios (a broker restart, the closed loop through `npm start`): a longer bound.
  node --test --test-force-exit --test-concurrency=1 --test-timeout="${TEST_SERIAL_TIMEOUT_MS:-1200000}" "${serial[@]}" || rc=$?
fi
exit "$rc"
