#!/usr/bin/env bash
# Runs one benchmark against the real local stack: builds, starts the stack if needed (and stops it after).
set -euo pipefail
cd "$(dirname "$0")/.."
name="${1:?usage: bench/run.sh <messaging|...|loop>}"
export ONNXRUNTIME_NODE_INSTALL=skip KAFKAJS_NO_PARTITIONER_WARNING=1
# loop: the closed loop of `npm start` (scripts/demo.mjs, DEMO_SIZE=small unless set): seconds from the population
# shift to v2 serving, broken down by step (printed by the demo's closing lines).
if [ "$name" = loop ]; then
  DEMO_SIZE="${DEMO_SIZE:-small}" exec bash scripts/start.sh --exit-after-demo
fi
[ -d node_modules/kafkajs ] || npm ci --no-audit --no-fund
npx tsc -b tsconfig.json
# The snapshot and monitor benches run the embedded ClickHouse only; the others need Kafka and Postgres.
[ "$name" = snapshot ] || [ "$name" = monitor ] && exec node "bench/dist/$name/main.js"
stack_was_up=0
bash infra/stack.sh status >/dev/null 2>&1 && stack_was_up=1
trap '[ "$stack_was_up" = 0 ] && bash infra/stack.sh down' EXIT
bash infra/stack.sh up
# shellcheck disable=SC1091
source "${MLOPS_STATE_DIR:-.data}/stack.env"
node "bench/dist/$name/main.js"
