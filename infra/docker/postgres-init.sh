#!/bin/sh
# First start of the Postgres container (official postgres image, /docker-entrypoint-initdb.d): one role per
# service owning only its schema, with the password from /run/secrets/<schema>_pg_password. The same SQL as the
# local stack (infra/postgres/service-role.sql).
set -eu
for schema in ingestion feature_store trainer registry deployer monitor; do
  {
    printf '\\set role mlops_%s\n\\set schema %s\n\\set pw %s\n' "$schema" "$schema" "$(cat "/run/secrets/${schema}_pg_password")"
    cat /mlops/service-role.sql
  } | psql -v ON_ERROR_STOP=1 -q --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" -f -
done
psql -v ON_ERROR_STOP=1 -q --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -c "REVOKE ALL ON DATABASE $POSTGRES_DB FROM PUBLIC" -c 'REVOKE CREATE ON SCHEMA public FROM PUBLIC'
