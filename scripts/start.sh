#!/usr/bin/env bash
# The main command (npm start): installs what is missing, builds, starts the real stack and the six
# services (each its own process), waits until every one is ready, runs the demo, and keeps the platform
# up until Ctrl-C (or exits after the demo with --exit-after-demo). Stops everything it started.
# The admin token of every service's HTTP API is made once per local state ($state/admin-token, mode 600).
# HTTP_PORT_BASE (default 3000) moves the six HTTP ports (base+1 .. base+6).
set -euo pipefail
cd "$(dirname "$0")/.."
export ONNXRUNTIME_NODE_INSTALL=skip KAFKAJS_NO_PARTITIONER_WARNING=1
state="${MLOPS_STATE_DIR:-$PWD/.data}"
exit_after_demo=0
[ "${1:-}" = "--exit-after-demo" ] && exit_after_demo=1

[ -d node_modules/kafkajs ] || npm ci --no-audit --no-fund
npx tsc -b tsconfig.json

stack_was_up=0
bash infra/stack.sh status >/dev/null 2>&1 && stack_was_up=1
pids=()
cleanup() {
  local rc=$?
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "$stack_was_up" = 0 ]; then bash infra/stack.sh down || true; fi
  exit "$rc"
}
trap cleanup EXIT INT TERM
bash infra/stack.sh up
# shellcheck disable=SC1091
source "$state/stack.env"

mkdir -p "$state/logs"
# One random admin token per local state, readable by this user only; every service reads it from the file.
admin_token_file="$state/admin-token"
if [ ! -s "$admin_token_file" ]; then
  (umask 077 && node -e "process.stdout.write(require('node:crypto').randomBytes(32).toString('base64url'))" >"$admin_token_file")
  echo "[start] created the admin token in $admin_token_file"
fi
chmod 600 "$admin_token_file"
base="${HTTP_PORT_BASE:-3000}"
declare -A ports=([ingestion]=$((base + 1)) [feature-store]=$((base + 2)) [trainer]=$((base + 3)) [registry]=$((base + 4)) [deployer]=$((base + 5)) [monitor]=$((base + 6)))
services=(ingestion feature-store trainer registry deployer monitor)
# Each service gets only its own credentials (stack.env: <SVC>_DATABASE_URL, <SVC>_KAFKA_SASL_*), never the
# admin's or another service's.
per_service_keys=()
for svc in "${services[@]}"; do
  p=$(echo "$svc" | tr 'a-z-' 'A-Z_')
  per_service_keys+=("${p}_DATABASE_URL" "${p}_KAFKA_SASL_USERNAME" "${p}_KAFKA_SASL_PASSWORD")
done
for svc in "${services[@]}"; do
  p=$(echo "$svc" | tr 'a-z-' 'A-Z_')
  own_db="${p}_DATABASE_URL" own_user="${p}_KAFKA_SASL_USERNAME" own_password="${p}_KAFKA_SASL_PASSWORD"
  unset_others=()
  for key in "${per_service_keys[@]}"; do unset_others+=(-u "$key"); done
  env "${unset_others[@]}" DATABASE_URL="${!own_db:-$DATABASE_URL}" \
    KAFKA_SASL_USERNAME="${!own_user:-${KAFKA_SASL_USERNAME:-}}" KAFKA_SASL_PASSWORD="${!own_password:-${KAFKA_SASL_PASSWORD:-}}" \
    HTTP_PORT="${ports[$svc]}" CLICKHOUSE_DATA_DIR="$state/clickhouse/$svc" AUTH_ADMIN_TOKEN_FILE="$admin_token_file" \
    node "services/$svc/dist/src/main.js" >"$state/logs/$svc.log" 2>&1 &
  pids+=($!)
  echo "[start] $svc pid $! -> http://127.0.0.1:${ports[$svc]} (log $state/logs/$svc.log)"
done
for svc in "${!ports[@]}"; do
  url="http://127.0.0.1:${ports[$svc]}/health/ready"
  for _ in $(seq 1 120); do
    curl -fsS "$url" >/dev/null 2>&1 && break
    sleep 0.5
  done
  curl -fsS "$url" >/dev/null || { echo "[start] $svc is not ready; last log lines:"; tail -20 "$state/logs/$svc.log"; exit 1; }
done
echo "[start] all six services are ready"
if [ -f scripts/demo.mjs ]; then
  INGESTION_URL="http://127.0.0.1:${ports[ingestion]}" FEATURE_STORE_URL="http://127.0.0.1:${ports[feature-store]}" \
    TRAINER_URL="http://127.0.0.1:${ports[trainer]}" REGISTRY_URL="http://127.0.0.1:${ports[registry]}" \
    DEPLOYER_URL="http://127.0.0.1:${ports[deployer]}" MONITOR_URL="http://127.0.0.1:${ports[monitor]}" \
    MLOPS_ADMIN_TOKEN_FILE="$admin_token_file" node scripts/demo.mjs
fi
[ "$exit_after_demo" = 1 ] && exit 0
echo "[start] platform running; Ctrl-C stops it"
wait
