#!/usr/bin/env bash
# Generates the compose secrets once into <repo>/.secrets (never committed): random passwords for the Kafka
# admin (topic provisioner) and the Postgres admin, and per service its Kafka password, its Postgres role's
# password and its DATABASE_URL. Existing files are kept; delete one (and see infra/README.md "Rotating") to rotate.
#   bash infra/docker/secrets.sh && docker compose up -d --build --wait
set -euo pipefail
REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DIR="${MLOPS_SECRETS_DIR:-$REPO_DIR/.secrets}"
SCHEMAS=(ingestion feature_store trainer registry deployer monitor)
mkdir -p "$DIR" && chmod 700 "$DIR"
# Files are 644 inside the 700 dir: compose bind-mounts each file into containers whose users differ.
new() { [[ -s "$DIR/$1" ]] || { head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$DIR/$1"; chmod 644 "$DIR/$1"; }; }
new kafka_admin_password
new pg_admin_password
new admin_token # the bootstrap admin bearer token of every service's HTTP API
for schema in "${SCHEMAS[@]}"; do
  new "${schema}_kafka_password"
  new "${schema}_pg_password"
  printf 'postgres://mlops_%s:%s@postgres:5432/mlops' "$schema" "$(cat "$DIR/${schema}_pg_password")" >"$DIR/${schema}_database_url"
  chmod 644 "$DIR/${schema}_database_url"
done
echo "[secrets] compose secrets ready in $DIR"
