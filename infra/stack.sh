#!/usr/bin/env bash
# Local infrastructure for the MLOps platform: a real single-node Kafka (KRaft), a local
# PostgreSQL (or the one in DATABASE_URL) and, when CLICKHOUSE_URL is set, a ClickHouse check.
#
#   bash infra/stack.sh up            start what is not running, wait until everything answers
#   bash infra/stack.sh down [--purge] stop what this script started (--purge: delete the state dir)
#   bash infra/stack.sh status        print each part and whether it answers (exit 3 if one does not)
#   bash infra/stack.sh env           print <state>/stack.env (export lines for KAFKA_BROKERS, ...)
#   bash infra/stack.sh stop-kafka|start-kafka|restart-kafka|pause-kafka <s>         (fault tests)
#   bash infra/stack.sh stop-postgres|start-postgres|pause-postgres <s>                (fault tests)
#
# Credentials: Kafka listens with SASL_PLAINTEXT/SCRAM-SHA-512 only (one user per service plus the
# provisioner user mlops-admin); Postgres asks every client for a scram-sha-256 password, and each
# service has a role owning only its schema. Passwords are generated once into <state>/secrets (mode 700)
# and written to <state>/stack.env (mode 600).
#
# See infra/README.md for the environment keys.
set -euo pipefail

INFRA_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(dirname "$INFRA_DIR")"

KAFKA_VERSION=3.9.1
KAFKA_PORT="${KAFKA_PORT:-19092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-19093}"
PG_PORT="${PG_PORT:-55432}"
STATE_DIR="${MLOPS_STATE_DIR:-$REPO_DIR/.data}"
CACHE_DIR="${MLOPS_CACHE_DIR:-$HOME/.cache/mlops-platform}"
UP_TIMEOUT="${MLOPS_UP_TIMEOUT:-60}"

KAFKA_HOME="$CACHE_DIR/kafka-$KAFKA_VERSION"
LIBS="$KAFKA_HOME/libs"
LIBS_MARKER="$KAFKA_HOME/.libs-complete"

KAFKA_DIR="$STATE_DIR/kafka"
KAFKA_DATA="$KAFKA_DIR/data"
KAFKA_PID="$KAFKA_DIR/kafka.pid"
KAFKA_LOG="$KAFKA_DIR/logs/server.log"
KAFKA_OUT="$KAFKA_DIR/kafka.out"
KAFKA_BROKERS="127.0.0.1:$KAFKA_PORT"

# Postgres refuses to run as root, and its user must reach its data dir. When the state dir lies behind
# a directory that user cannot traverse (a private temp clone in CI), its files go under /var/tmp instead,
# keyed by the state dir so that every clone keeps its own.
state_reachable_by_postgres() {
  local d="$STATE_DIR"
  while [[ ! -e "$d" ]]; do d=$(dirname "$d"); done
  runuser -u postgres -- test -x "$d" 2>/dev/null
}
if [[ -n "${MLOPS_PG_DIR:-}" ]]; then
  PG_BASE="$MLOPS_PG_DIR"
elif [[ "$(id -u)" -eq 0 ]] && id -u postgres >/dev/null 2>&1 && ! state_reachable_by_postgres; then
  PG_BASE="/var/tmp/mlops-platform-pg-$(printf '%s' "$STATE_DIR" | sha1sum | cut -c1-12)"
  mkdir -p "$PG_BASE" && chmod 755 "$PG_BASE"
else
  PG_BASE="$STATE_DIR"
fi
PGDATA_DIR="$PG_BASE/postgres"
PG_RUN_DIR="$PG_BASE/postgres-run" # unix socket + server log; owned by the server's user
PG_LOG="$PG_RUN_DIR/postgres.log"

STACK_ENV="$STATE_DIR/stack.env"
# DATABASE_URL names an external server, except when it is this stack's own admin URL (a shell that sourced
# stack.env, or one from before password auth): then the local server is managed as usual.
if [[ "${DATABASE_URL:-}" =~ ^postgres(ql)?://mlops(:[^@]*)?@127\.0\.0\.1:$PG_PORT/mlops$ ]]; then unset DATABASE_URL; fi
SECRETS_DIR="$STATE_DIR/secrets"

# Services and the Postgres schema each owns (services/<svc>/src/tokens.ts PG_SCHEMA).
SERVICES=(ingestion feature-store trainer registry deployer monitor)
declare -A PG_SCHEMAS=([ingestion]=ingestion [feature-store]=feature_store [trainer]=trainer [registry]=registry [deployer]=deployer [monitor]=monitor)
KAFKA_ADMIN_USER=mlops-admin
KAFKA_SCRAM=SCRAM-SHA-512
PG_ADMIN_ROLE=mlops

JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"

log() { printf '[infra] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# Print the last lines of one or more log files, prefixed, to stderr.
show_tail() {
  local f
  for f in "$@"; do
    [[ -s "$f" ]] || continue
    log "---- last 40 lines of $f ----"
    tail -n 40 "$f" | sed 's/^/[infra]   /' >&2
  done
}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# Alive and not a zombie (an unreaped exited child still passes kill -0).
proc_alive() {
  local st
  st=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
  [[ -n "$st" && "$st" != "Z" && "$st" != "X" ]]
}

port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

# ---------------------------------------------------------------------------------------------
# Secrets: one generated password per Kafka user and Postgres role, kept in <state>/secrets
# ---------------------------------------------------------------------------------------------
# Prints the password of <name>, generating it on first use (hex: safe in URLs, JAAS and SCRAM specs).
secret() {
  local f="$SECRETS_DIR/$1"
  if [[ ! -s "$f" ]]; then
    mkdir -p "$SECRETS_DIR" && chmod 700 "$SECRETS_DIR"
    (umask 077 && head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$f.tmp.$$" && mv "$f.tmp.$$" "$f")
  fi
  cat "$f"
}

kafka_user_of() { echo "mlops-$1"; }
pg_role_of() { echo "mlops_${PG_SCHEMAS[$1]}"; }
env_prefix_of() { echo "$1" | tr 'a-z-' 'A-Z_'; }
pg_url() { echo "postgres://$1:$2@127.0.0.1:$PG_PORT/${3:-mlops}"; } # role password [database]
admin_db_url() { pg_url "$PG_ADMIN_ROLE" "$(secret "pg-$PG_ADMIN_ROLE")" "${1:-mlops}"; }

# ---------------------------------------------------------------------------------------------
# State dir and locking
# ---------------------------------------------------------------------------------------------
ensure_state_dir() {
  mkdir -p "$STATE_DIR"
  chmod 755 "$STATE_DIR"
}

# Serialise up/down on one state dir (two `up`s at once would start two brokers).
take_lock() {
  ensure_state_dir
  exec 9>"$STATE_DIR/.lock"
  if ! flock -w 300 9; then die "another stack.sh holds $STATE_DIR/.lock"; fi
}

# ---------------------------------------------------------------------------------------------
# Kafka
# ---------------------------------------------------------------------------------------------
ensure_kafka_libs() {
  if [[ -f "$LIBS_MARKER" && -d "$LIBS" ]]; then return 0; fi
  command -v mvn >/dev/null || die "mvn not found; it is needed once to fetch the Kafka jars into $LIBS"
  mkdir -p "$KAFKA_HOME"
  # Several clones may share the cache: only one of them downloads.
  exec 8>"$KAFKA_HOME/.lock"
  flock -w 600 8 || die "timed out waiting for $KAFKA_HOME/.lock"
  if [[ -f "$LIBS_MARKER" && -d "$LIBS" ]]; then exec 8>&-; return 0; fi
  local t0 tmp; t0=$(now); tmp="$KAFKA_HOME/libs.partial.$$"
  log "fetching Kafka $KAFKA_VERSION jars with Maven into $LIBS (once) ..."
  rm -rf "$LIBS" "$KAFKA_HOME"/libs.partial.*
  # Output goes to a file (Maven 3.8's jansi prints stray colour resets even with -B -q).
  if ! mvn -B -q -Dstyle.color=never -f "$INFRA_DIR/kafka/pom.xml" dependency:copy-dependencies \
        -DincludeScope=runtime -DoutputDirectory="$tmp" >"$KAFKA_HOME/maven.log" 2>&1 8>&- 9>&-; then
    rm -rf "$tmp"
    show_tail "$KAFKA_HOME/maven.log"
    die "Maven could not fetch the Kafka jars (log: $KAFKA_HOME/maven.log)"
  fi
  ls "$tmp"/kafka_2.13-"$KAFKA_VERSION".jar >/dev/null 2>&1 || { rm -rf "$tmp"; die "kafka_2.13-$KAFKA_VERSION.jar missing after Maven copy"; }
  mv "$tmp" "$LIBS"
  date -u +%FT%TZ >"$LIBS_MARKER" # written only after a complete copy
  exec 8>&-
  log "Kafka jars ready ($(ls "$LIBS" | wc -l) jars, $(elapsed "$t0")s)"
}

kafka_pid_alive() {
  [[ -f "$KAFKA_PID" ]] || return 1
  local pid; pid=$(cat "$KAFKA_PID" 2>/dev/null) || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  proc_alive "$pid" || return 1
  # Guard against pid reuse: the process must be our broker.
  grep -qa 'kafka\.Kafka' "/proc/$pid/cmdline" 2>/dev/null || return 1
  echo "$pid"
}

kafkajs_available() {
  REPO_DIR="$REPO_DIR" node -e "require.resolve('kafkajs', { paths: [process.env.REPO_DIR] })" >/dev/null 2>&1
}

# A metadata round trip through kafkajs' admin client (listTopics + describeCluster).
kafka_probe() {
  command -v node >/dev/null || return 2
  REPO_DIR="$REPO_DIR" PROBE_BROKER="$KAFKA_BROKERS" PROBE_USER="$KAFKA_ADMIN_USER" \
    PROBE_PASSWORD="$(secret "kafka-$KAFKA_ADMIN_USER")" timeout 10 node -e '
    let kafkajs;
    try { kafkajs = require(require.resolve("kafkajs", { paths: [process.env.REPO_DIR] })); }
    catch { process.exit(2); }
    const { Kafka, logLevel } = kafkajs;
    const sasl = { mechanism: "scram-sha-512", username: process.env.PROBE_USER, password: process.env.PROBE_PASSWORD };
    const kafka = new Kafka({ clientId: "stack-probe", brokers: [process.env.PROBE_BROKER], sasl,
      logLevel: logLevel.NOTHING, connectionTimeout: 2000, requestTimeout: 3000, retry: { retries: 0 } });
    const admin = kafka.admin();
    setTimeout(() => process.exit(1), 8000).unref();
    (async () => {
      await admin.connect();
      await admin.listTopics();
      const c = await admin.describeCluster();
      if (!c.brokers.length || c.controller == null) throw new Error("no brokers/controller yet");
      await admin.disconnect();
    })().then(() => process.exit(0), () => process.exit(1));
  ' >/dev/null 2>&1
}

# Does Kafka answer? Uses kafkajs when installed; otherwise (before npm install) port + log line.
kafka_answers() {
  port_open "$KAFKA_PORT" || return 1
  local rc=0
  kafka_probe || rc=$?
  if [[ $rc -eq 2 ]]; then
    [[ -f "$KAFKA_LOG" ]] && grep -q 'Kafka Server started' "$KAFKA_LOG" 2>/dev/null && return 0
    return 1
  fi
  return $rc
}

# Every Kafka user: the provisioner (topics, tests, scripts) and one per service.
kafka_users() {
  echo "$KAFKA_ADMIN_USER"
  local svc
  for svc in "${SERVICES[@]}"; do kafka_user_of "$svc"; done
}

# ACLs (MLOPS_KAFKA_ACLS=0 turns them off): each service user may use only its own topics and groups, as
# infra/kafka-acls.mjs grants them after the topics exist; mlops-admin (provisioner, tests, scripts) is a super
# user. ANONYMOUS is one too: it is the principal of the PLAINTEXT controller listener, which the broker itself uses
# to reach the controller (KRaft needs that principal to be a super user); that listener is bound to 127.0.0.1.
kafka_acls_on() { [[ "${MLOPS_KAFKA_ACLS:-1}" != 0 ]]; }
kafka_acl_config() {
  kafka_acls_on || { echo "# ACLs off (MLOPS_KAFKA_ACLS=0): every authenticated user may do anything"; return; }
  printf '%s\n' "# Authorization: only what infra/kafka-acls.mjs grants; super users bypass it." \
    "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer" \
    "allow.everyone.if.no.acl.found=false" \
    "super.users=User:$KAFKA_ADMIN_USER;User:ANONYMOUS"
}

write_kafka_config() {
  mkdir -p "$KAFKA_DATA" "$KAFKA_DIR/logs"
  touch "$KAFKA_DIR/server.properties" && chmod 600 "$KAFKA_DIR/server.properties" # holds the admin password
  cat >"$KAFKA_DIR/server.properties" <<EOF
# Generated by infra/stack.sh on every start; edit the script, not this file.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
# Clients authenticate with SASL/SCRAM-SHA-512 (users created at format time, see format_kafka_storage);
# the controller listener (KRaft quorum, this node only) stays PLAINTEXT on 127.0.0.1.
listeners=SASL_PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=SASL_PLAINTEXT://127.0.0.1:$KAFKA_PORT
inter.broker.listener.name=SASL_PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT
sasl.enabled.mechanisms=$KAFKA_SCRAM
sasl.mechanism.inter.broker.protocol=$KAFKA_SCRAM
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="$KAFKA_ADMIN_USER" password="$(secret "kafka-$KAFKA_ADMIN_USER")";
$(kafka_acl_config)
log.dirs=$KAFKA_DATA

num.partitions=3
auto.create.topics.enable=false
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0

# Small machine (2 cores): few threads.
num.network.threads=2
num.io.threads=2
background.threads=2
num.recovery.threads.per.data.dir=1
num.replica.fetchers=1
log.cleaner.threads=1
EOF
  cat >"$KAFKA_DIR/log4j.properties" <<EOF
# Generated by infra/stack.sh: all broker logging goes to one rolling file in the state dir.
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.RollingFileAppender
log4j.appender.file.File=$KAFKA_LOG
log4j.appender.file.MaxFileSize=20MB
log4j.appender.file.MaxBackupIndex=2
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.kafka.network.RequestChannel\$=WARN
log4j.logger.org.apache.kafka.clients=WARN
EOF
}

format_kafka_storage() {
  if [[ -f "$KAFKA_DATA/meta.properties" ]]; then
    # A log formatted before SASL has no SCRAM users, and no client could reach the broker to add them.
    [[ -f "$KAFKA_DIR/scram-users" ]] || die "kafka: $KAFKA_DATA was formatted before the stack used SASL/SCRAM (it has no users).
[infra] Run 'bash infra/stack.sh down --purge' (deletes the local Kafka and Postgres data in $STATE_DIR), then 'bash infra/stack.sh up'."
    return 0
  fi
  local cid
  if [[ -s "$KAFKA_DIR/cluster-id" ]]; then
    cid=$(cat "$KAFKA_DIR/cluster-id")
  else
    cid=$("$JAVA" -cp "$LIBS/*" -Dlog4j.configuration="file:$KAFKA_DIR/log4j.properties" \
      kafka.tools.StorageTool random-uuid 2>>"$KAFKA_OUT" | tail -n 1)
    [[ "$cid" =~ ^[A-Za-z0-9_-]{22}$ ]] || { show_tail "$KAFKA_OUT"; die "could not generate a Kafka cluster id (got '$cid')"; }
    echo "$cid" >"$KAFKA_DIR/cluster-id"
  fi
  log "formatting Kafka storage (cluster id $cid) with SCRAM users $(kafka_users | tr '\n' ' ')"
  local user scram=()
  while read -r user; do
    scram+=(--add-scram "$KAFKA_SCRAM=[name=$user,password=$(secret "kafka-$user")]")
  done < <(kafka_users)
  if ! "$JAVA" -cp "$LIBS/*" -Dlog4j.configuration="file:$KAFKA_DIR/log4j.properties" \
      kafka.tools.StorageTool format -t "$cid" -c "$KAFKA_DIR/server.properties" "${scram[@]}" >>"$KAFKA_OUT" 2>&1; then
    show_tail "$KAFKA_OUT"
    die "kafka storage format failed"
  fi
  kafka_users >"$KAFKA_DIR/scram-users"
}

# Users added to the stack after its log was formatted: created through the broker (ConfigCommand, as admin).
kafka_add_missing_users() {
  local user missing=()
  while read -r user; do
    grep -qx "$user" "$KAFKA_DIR/scram-users" 2>/dev/null || missing+=("$user")
  done < <(kafka_users)
  ((${#missing[@]})) || return 0
  local admin_props="$SECRETS_DIR/kafka-admin.properties"
  (umask 077 && printf '%s\n' "security.protocol=SASL_PLAINTEXT" "sasl.mechanism=$KAFKA_SCRAM" \
    "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"$KAFKA_ADMIN_USER\" password=\"$(secret "kafka-$KAFKA_ADMIN_USER")\";" >"$admin_props")
  for user in "${missing[@]}"; do
    log "kafka: creating SCRAM user $user"
    "$JAVA" -cp "$LIBS/*" -Dlog4j.configuration="file:$KAFKA_DIR/log4j.properties" kafka.admin.ConfigCommand \
      --bootstrap-server "$KAFKA_BROKERS" --command-config "$admin_props" --alter --entity-type users \
      --entity-name "$user" --add-config "$KAFKA_SCRAM=[password=$(secret "kafka-$user")]" >>"$KAFKA_OUT" 2>&1 ||
      { show_tail "$KAFKA_OUT"; die "kafka: could not create SCRAM user $user"; }
    echo "$user" >>"$KAFKA_DIR/scram-users"
  done
}

kafka_up() {
  local t0 pid; t0=$(now)
  if pid=$(kafka_pid_alive) && kafka_answers; then
    log "kafka: already running (pid $pid) and answering on $KAFKA_BROKERS"
    return 0
  fi
  if ! pid=$(kafka_pid_alive); then
    if kafka_answers; then
      log "kafka: something not started by this script answers on $KAFKA_BROKERS; using it"
      return 0
    fi
    if port_open "$KAFKA_PORT" || port_open "$KAFKA_CONTROLLER_PORT"; then
      die "kafka: port $KAFKA_PORT or $KAFKA_CONTROLLER_PORT is in use by something that is not our broker (set KAFKA_PORT / KAFKA_CONTROLLER_PORT)"
    fi
    ensure_kafka_libs
    command -v "$JAVA" >/dev/null || die "java not found (Java 17 is needed for Kafka)"
    write_kafka_config
    format_kafka_storage
    log "kafka: starting broker+controller on $KAFKA_BROKERS (controller 127.0.0.1:$KAFKA_CONTROLLER_PORT)"
    rm -f "$KAFKA_PID"
    printf '\n==== %s start ====\n' "$(date -u +%FT%TZ)" >>"$KAFKA_OUT"
    # setsid: own session, so a Ctrl-C in the calling terminal does not reach the broker.
    # In a non-interactive shell the background child is no group leader, so setsid and nohup
    # exec in place and $! is the JVM's pid.
    (cd "$KAFKA_DIR" && exec setsid nohup "$JAVA" -Xms256m -Xmx768m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
      -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true \
      -Dlog4j.configuration="file:$KAFKA_DIR/log4j.properties" \
      -cp "$LIBS/*" kafka.Kafka "$KAFKA_DIR/server.properties" >>"$KAFKA_OUT" 2>&1 </dev/null 8>&- 9>&-) &
    pid=$!
    echo "$pid" >"$KAFKA_PID"
  else
    log "kafka: running (pid $pid) but not answering yet; waiting"
  fi

  local deadline=$((SECONDS + UP_TIMEOUT))
  kafkajs_available || log "kafka: kafkajs not installed yet (run npm install); readiness = port + 'Kafka Server started' in the log"
  while :; do
    if ! proc_alive "$pid"; then
      rm -f "$KAFKA_PID"
      show_tail "$KAFKA_OUT" "$KAFKA_LOG"
      die "kafka: broker process $pid exited during startup"
    fi
    if kafka_answers; then break; fi
    if ((SECONDS >= deadline)); then
      show_tail "$KAFKA_OUT" "$KAFKA_LOG"
      die "kafka: no metadata answer on $KAFKA_BROKERS within ${UP_TIMEOUT}s (pid $pid still running; 'stack.sh down' stops it)"
    fi
    sleep 0.5
  done
  log "kafka: answering on $KAFKA_BROKERS (pid $pid, $(elapsed "$t0")s)"
  kafka_add_missing_users
}

kafka_down() {
  local pid
  if ! pid=$(kafka_pid_alive); then
    [[ -f "$KAFKA_PID" ]] && log "kafka: stale pid file removed"
    rm -f "$KAFKA_PID"
    log "kafka: not running (nothing to stop)"
    return 0
  fi
  log "kafka: stopping pid $pid (SIGTERM)"
  kill -TERM "$pid" 2>/dev/null || true
  local i
  for ((i = 0; i < 60; i++)); do
    proc_alive "$pid" || break
    sleep 0.5
  done
  if proc_alive "$pid"; then
    log "kafka: still running after 30s; SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 20; i++)); do proc_alive "$pid" || break; sleep 0.25; done
  fi
  if proc_alive "$pid"; then die "kafka: pid $pid survived SIGKILL"; fi
  rm -f "$KAFKA_PID"
  log "kafka: stopped"
}

# ---------------------------------------------------------------------------------------------
# PostgreSQL
# ---------------------------------------------------------------------------------------------
pg_bindir() {
  if [[ -n "${PG_BIN:-}" ]]; then echo "$PG_BIN"; return; fi
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [[ -n "$d" && -x "$d/initdb" ]]; then echo "$d"; return; fi
  if command -v initdb >/dev/null; then dirname "$(command -v initdb)"; return; fi
  die "PostgreSQL server binaries (initdb, pg_ctl) not found; install PostgreSQL, set PG_BIN, or set DATABASE_URL"
}

# The OS user that runs the local server: postgres refuses to run as root.
pg_os_user() {
  if [[ -d "$PGDATA_DIR" ]]; then stat -c %U "$PGDATA_DIR"; return; fi
  if [[ $(id -u) -eq 0 ]]; then
    id -u postgres >/dev/null 2>&1 || die "running as root and there is no 'postgres' user to run the server as"
    echo postgres
  else
    id -un
  fi
}

# Run a command as the server's user (from /, so an unreadable cwd such as /root does not matter).
# The lock fds are closed so a server started here does not hold our locks for its lifetime.
as_pg() {
  local user="$1"; shift
  if [[ "$user" == "$(id -un)" ]]; then
    (cd / && exec "$@" 8>&- 9>&-)
  else
    (cd / && exec runuser -u "$user" -- "$@" 8>&- 9>&-)
  fi
}

pg_local_answers() {
  PGCONNECT_TIMEOUT=3 psql "$(admin_db_url postgres)" -XAtqc 'select 1' 2>/dev/null | grep -qx 1
}

# Every client gives a scram-sha-256 password: no trust, no peer (the admin's password is in <state>/secrets).
write_pg_hba() { # dir user
  cat >"$1/pg_hba.conf" <<EOF
# Generated by infra/stack.sh: every client authenticates with a scram-sha-256 password.
# TYPE  DATABASE  USER  ADDRESS        METHOD
local   all       all                  scram-sha-256
host    all       all   127.0.0.1/32   scram-sha-256
host    all       all   ::1/128        scram-sha-256
EOF
  chown "$2" "$1/pg_hba.conf" 2>/dev/null || true
  chmod 600 "$1/pg_hba.conf"
}
pg_hba_is_ours() { grep -q '^# Generated by infra/stack.sh' "$PGDATA_DIR/pg_hba.conf" 2>/dev/null; }

# One role per service owning only its schema (infra/postgres/service-role.sql), idempotently.
pg_provision_roles() {
  local svc role
  {
    echo "REVOKE ALL ON DATABASE mlops FROM PUBLIC;"
    echo "REVOKE CREATE ON SCHEMA public FROM PUBLIC;"
    for svc in "${SERVICES[@]}"; do
      role=$(pg_role_of "$svc")
      printf '\\set role %s\n\\set schema %s\n\\set pw %s\n' "$role" "${PG_SCHEMAS[$svc]}" "$(secret "pg-$role")"
      cat "$INFRA_DIR/postgres/service-role.sql"
    done
  } | psql "$(admin_db_url)" -X -q -v ON_ERROR_STOP=1 -f - >"$STATE_DIR/pg-roles.log" 2>&1 ||
    { show_tail "$STATE_DIR/pg-roles.log"; die "postgres: could not create the service roles"; }
  log "postgres: roles $(for svc in "${SERVICES[@]}"; do printf '%s ' "$(pg_role_of "$svc")"; done)own their schemas"
}

pg_running() { # our server (by its data dir) is running
  [[ -f "$PGDATA_DIR/PG_VERSION" ]] || return 1
  local bin user; bin=$(pg_bindir); user=$(pg_os_user)
  as_pg "$user" "$bin/pg_ctl" status -D "$PGDATA_DIR" >/dev/null 2>&1
}

write_pg_config() {
  local user="$1" sockdir="$PG_RUN_DIR"
  # Unix socket paths are limited to 107 bytes; with a very deep state dir, go TCP-only.
  if (( ${#sockdir} + 20 > 107 )); then
    log "postgres: state dir too deep for a unix socket; TCP only"
    sockdir=""
  fi
  cat >"$PGDATA_DIR/mlops-stack.conf" <<EOF
# Generated by infra/stack.sh on every start (included from postgresql.conf).
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$sockdir'
max_connections = 200
# Dev stack only: no crash safety. A power loss / OS crash can corrupt this database;
# the trade is much faster tests on slow disks. Never use these settings for real data.
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
  chown "$user" "$PGDATA_DIR/mlops-stack.conf" 2>/dev/null || true
}

pg_up_local() {
  local t0 bin user; t0=$(now); bin=$(pg_bindir)
  command -v psql >/dev/null || die "psql not found (needed to check and create the database)"
  if [[ -f "$PGDATA_DIR/PG_VERSION" ]] && pg_hba_is_ours && [[ ! -s "$SECRETS_DIR/pg-$PG_ADMIN_ROLE" ]]; then
    die "postgres: $PGDATA_DIR asks for passwords but $SECRETS_DIR/pg-$PG_ADMIN_ROLE is gone; run 'bash infra/stack.sh down --purge' (deletes the local data), then up"
  fi
  if pg_running && pg_local_answers; then
    log "postgres: already running and answering on 127.0.0.1:$PG_PORT"
  elif ! pg_running && pg_local_answers; then
    log "postgres: a server not started by this script (not $PGDATA_DIR) answers on 127.0.0.1:$PG_PORT; using it"
  elif ! pg_running && port_open "$PG_PORT"; then
    die "postgres: port $PG_PORT is in use by something that does not answer as postgres user mlops with the password in $SECRETS_DIR (set PG_PORT)"
  else
    user=$(pg_os_user)
    if [[ "$user" != "$(id -un)" ]]; then
      # Every parent of the Postgres dir must be traversable by the server's user.
      if ! runuser -u "$user" -- test -x "$PG_BASE"; then
        # Name the first directory (from / down) that blocks the way.
        local p="" part bad="$PG_BASE"
        IFS=/ read -ra parts <<<"${PG_BASE#/}"
        for part in "${parts[@]}"; do
          p="$p/$part"
          if ! runuser -u "$user" -- test -x "$p" 2>/dev/null; then bad="$p"; break; fi
        done
        die "postgres: user '$user' cannot traverse $bad (on the way to $PG_BASE); chmod o+x it or set MLOPS_PG_DIR elsewhere"
      fi
    fi
    mkdir -p "$PG_RUN_DIR"
    chown "$user" "$PG_RUN_DIR"
    chmod 755 "$PG_RUN_DIR"
    if [[ ! -f "$PGDATA_DIR/PG_VERSION" ]]; then
      [[ -e "$PGDATA_DIR" ]] && die "postgres: $PGDATA_DIR exists but is no data directory; remove it (or 'stack.sh down --purge')"
      log "postgres: initdb into $PGDATA_DIR (as $user)"
      # initdb into a scratch dir and rename, so a failed initdb never leaves a half data dir.
      local tmp="$PG_BASE/postgres.initdb"
      rm -rf "$tmp" "$tmp.pw"; mkdir -p "$tmp"; chown "$user" "$tmp"
      (umask 077 && secret "pg-$PG_ADMIN_ROLE" >"$tmp.pw") && chown "$user" "$tmp.pw"
      if ! as_pg "$user" "$bin/initdb" -D "$tmp" --auth=scram-sha-256 --pwfile="$tmp.pw" -U "$PG_ADMIN_ROLE" -E UTF8 --locale=C >"$STATE_DIR/initdb.log" 2>&1; then
        show_tail "$STATE_DIR/initdb.log"
        rm -rf "$tmp" "$tmp.pw"
        die "postgres: initdb failed"
      fi
      rm -f "$tmp.pw"
      echo "include_if_exists = 'mlops-stack.conf'" >>"$tmp/postgresql.conf"
      write_pg_hba "$tmp" "$user"
      mv "$tmp" "$PGDATA_DIR"
    fi
    write_pg_config "$user"
    if ! pg_hba_is_ours; then
      # A data dir from before password auth (trust): start as it is, give the admin its password, then switch.
      log "postgres: $PGDATA_DIR still trusts every local client; migrating it to scram-sha-256 passwords"
    fi
    if pg_running; then
      log "postgres: running but not answering yet; waiting"
    else
      log "postgres: starting on 127.0.0.1:$PG_PORT (as $user)"
      if ! as_pg "$user" "$bin/pg_ctl" -D "$PGDATA_DIR" -l "$PG_LOG" -w -t "$UP_TIMEOUT" start >/dev/null 2>&1; then
        show_tail "$PG_LOG"
        die "postgres: pg_ctl start failed (or was not ready within ${UP_TIMEOUT}s)"
      fi
    fi
    local deadline=$((SECONDS + UP_TIMEOUT))
    until pg_local_answers; do
      if ((SECONDS >= deadline)); then
        show_tail "$PG_LOG"
        die "postgres: no answer on 127.0.0.1:$PG_PORT within ${UP_TIMEOUT}s"
      fi
      sleep 0.5
    done
  fi
  if pg_running && ! pg_hba_is_ours; then
    printf '\\set pw %s\nALTER ROLE %s PASSWORD :%s;\n' "$(secret "pg-$PG_ADMIN_ROLE")" "$PG_ADMIN_ROLE" "'pw'" |
      psql "$(admin_db_url postgres)" -X -q -v ON_ERROR_STOP=1 -f - >/dev/null || die "postgres: could not set the admin password"
    write_pg_hba "$PGDATA_DIR" "$(pg_os_user)"
    psql "$(admin_db_url postgres)" -XAtqc 'select pg_reload_conf()' >/dev/null
    log "postgres: password auth on (pg_hba.conf rewritten and reloaded)"
  fi
  local has
  has=$(psql "$(admin_db_url postgres)" -XAtqc "select 1 from pg_database where datname = 'mlops'")
  if [[ "$has" != "1" ]]; then
    log "postgres: creating database mlops"
    psql "$(admin_db_url postgres)" -XqAtc 'create database mlops' >/dev/null
  fi
  pg_provision_roles
  log "postgres: answering at postgres://$PG_ADMIN_ROLE:***@127.0.0.1:$PG_PORT/mlops ($(elapsed "$t0")s)"
}

pg_external_answers() {
  PGCONNECT_TIMEOUT=3 psql "$DATABASE_URL" -XAtqc 'select 1' 2>/dev/null | grep -qx 1
}

pg_up_external() {
  local t0; t0=$(now)
  command -v psql >/dev/null || die "psql not found (needed to check DATABASE_URL)"
  local deadline=$((SECONDS + UP_TIMEOUT))
  until pg_external_answers; do
    if ((SECONDS >= deadline)); then
      PGCONNECT_TIMEOUT=3 psql "$DATABASE_URL" -XAtqc 'select 1' 2>&1 | tail -n 5 | sed 's/^/[infra]   /' >&2 || true
      die "postgres: DATABASE_URL does not answer within ${UP_TIMEOUT}s"
    fi
    sleep 1
  done
  log "postgres: DATABASE_URL answers ($(elapsed "$t0")s)"
}

pg_down() {
  if [[ ! -f "$PGDATA_DIR/PG_VERSION" ]]; then
    log "postgres: no local data dir (nothing to stop)"
    return 0
  fi
  if ! pg_running; then
    log "postgres: not running (nothing to stop)"
    return 0
  fi
  local bin user; bin=$(pg_bindir); user=$(pg_os_user)
  log "postgres: stopping (pg_ctl stop -m fast)"
  if ! as_pg "$user" "$bin/pg_ctl" -D "$PGDATA_DIR" -m fast -w -t 60 stop >/dev/null 2>&1; then
    show_tail "$PG_LOG"
    die "postgres: pg_ctl stop failed"
  fi
  log "postgres: stopped"
}

# ---------------------------------------------------------------------------------------------
# ClickHouse (embedded chdb unless CLICKHOUSE_URL is set)
# ---------------------------------------------------------------------------------------------
ch_answers() { curl -fsS --max-time 3 "${CLICKHOUSE_URL%/}/ping" 2>/dev/null | grep -q 'Ok'; }

ch_up() {
  if [[ -z "${CLICKHOUSE_URL:-}" ]]; then
    log "clickhouse: embedded (chdb, in-process); nothing to start"
    return 0
  fi
  local t0 deadline; t0=$(now); deadline=$((SECONDS + UP_TIMEOUT))
  until ch_answers; do
    if ((SECONDS >= deadline)); then die "clickhouse: ${CLICKHOUSE_URL%/}/ping does not answer within ${UP_TIMEOUT}s"; fi
    sleep 1
  done
  log "clickhouse: CLICKHOUSE_URL answers ($(elapsed "$t0")s)"
}

# ---------------------------------------------------------------------------------------------
# Subcommands
# ---------------------------------------------------------------------------------------------
write_stack_env() {
  local tmp="$STACK_ENV.tmp.$$" svc prefix role
  (umask 077 && : >"$tmp")
  {
    echo "# Written by infra/stack.sh up (mode 600: it holds passwords); source it or: eval \"\$(bash infra/stack.sh env)\""
    echo "# The generic keys are the provisioner's/admin's: tests, scripts (create-topics, dlq, demo, bench)."
    printf 'export KAFKA_BROKERS=%q\n' "$KAFKA_BROKERS"
    printf 'export KAFKA_SASL_MECHANISM=scram-sha-512\n'
    printf 'export KAFKA_SASL_USERNAME=%q\n' "$KAFKA_ADMIN_USER"
    printf 'export KAFKA_SASL_PASSWORD=%q\n' "$(secret "kafka-$KAFKA_ADMIN_USER")"
    if kafka_acls_on; then echo "export KAFKA_ACLS=on"; else echo "export KAFKA_ACLS=off"; fi
    printf 'export DATABASE_URL=%q\n' "${DATABASE_URL:-$(admin_db_url)}"
    if [[ -n "${CLICKHOUSE_URL:-}" ]]; then printf 'export CLICKHOUSE_URL=%q\n' "$CLICKHOUSE_URL"; fi
    echo "# Per service: its own Kafka user and Postgres role (scripts/start.sh gives each service only its own)."
    for svc in "${SERVICES[@]}"; do
      prefix=$(env_prefix_of "$svc"); role=$(pg_role_of "$svc")
      printf 'export %s_KAFKA_SASL_USERNAME=%q\n' "$prefix" "$(kafka_user_of "$svc")"
      printf 'export %s_KAFKA_SASL_PASSWORD=%q\n' "$prefix" "$(secret "kafka-$(kafka_user_of "$svc")")"
      # With an external DATABASE_URL the stack creates no roles: every service gets that URL.
      printf 'export %s_DATABASE_URL=%q\n' "$prefix" "${DATABASE_URL:-$(pg_url "$role" "$(secret "pg-$role")")}"
    done
  } >>"$tmp"
  mv "$tmp" "$STACK_ENV"
}

cmd_up() {
  local t0; t0=$(now)
  take_lock
  kafka_up
  if [[ -n "${DATABASE_URL:-}" ]]; then pg_up_external; else pg_up_local; fi
  ch_up
  write_stack_env
  log "wrote $STACK_ENV"
  if [[ -f "$INFRA_DIR/create-topics.mjs" ]]; then
    log "running infra/create-topics.mjs"
    (
      # shellcheck disable=SC1090
      source "$STACK_ENV"
      cd "$REPO_DIR" && node "$INFRA_DIR/create-topics.mjs"
    ) || die "infra/create-topics.mjs failed (exit $?); Kafka and Postgres are up, the topics may be missing"
  fi
  if kafka_acls_on && [[ -f "$INFRA_DIR/kafka-acls.mjs" ]]; then
    log "running infra/kafka-acls.mjs"
    (
      # shellcheck disable=SC1090
      source "$STACK_ENV"
      cd "$REPO_DIR" && node "$INFRA_DIR/kafka-acls.mjs"
    ) || die "infra/kafka-acls.mjs failed (exit $?); the service users may be refused what they need"
  fi
  log "stack up ($(elapsed "$t0")s)"
}

cmd_down() {
  local purge=0
  for a in "$@"; do
    case "$a" in
      --purge) purge=1 ;;
      *) die "down: unknown option '$a' (only --purge)" ;;
    esac
  done
  if [[ ! -d "$STATE_DIR" ]]; then
    log "nothing to stop (no state dir $STATE_DIR)"
    return 0
  fi
  take_lock
  kafka_down
  pg_down
  rm -f "$STACK_ENV"
  if ((purge)); then
    case "$(cd "$STATE_DIR" && pwd -P)" in
      / | "$HOME" | "$REPO_DIR" | "$INFRA_DIR") die "refusing to purge $STATE_DIR" ;;
    esac
    rm -rf "$STATE_DIR"
    [[ "$PG_BASE" != "$STATE_DIR" ]] && rm -rf "$PG_BASE"
    log "purged $STATE_DIR (the jar cache $KAFKA_HOME is kept)"
  fi
  log "stack down"
}

cmd_status() {
  local ok=0 pid
  if kafka_answers; then
    if pid=$(kafka_pid_alive); then echo "[infra] kafka      up    $KAFKA_BROKERS (pid $pid)"
    else echo "[infra] kafka      up    $KAFKA_BROKERS (not started by this script)"; fi
  else
    if pid=$(kafka_pid_alive); then echo "[infra] kafka      DOWN  $KAFKA_BROKERS (pid $pid running but not answering)"
    else echo "[infra] kafka      DOWN  $KAFKA_BROKERS"; fi
    ok=1
  fi
  if [[ -n "${DATABASE_URL:-}" ]]; then
    if pg_external_answers; then echo "[infra] postgres   up    DATABASE_URL (external)"
    else echo "[infra] postgres   DOWN  DATABASE_URL (external)"; ok=1; fi
  else
    if pg_local_answers; then echo "[infra] postgres   up    127.0.0.1:$PG_PORT/mlops"
    else echo "[infra] postgres   DOWN  127.0.0.1:$PG_PORT/mlops"; ok=1; fi
  fi
  if [[ -n "${CLICKHOUSE_URL:-}" ]]; then
    if ch_answers; then echo "[infra] clickhouse up    $CLICKHOUSE_URL"
    else echo "[infra] clickhouse DOWN  $CLICKHOUSE_URL"; ok=1; fi
  else
    echo "[infra] clickhouse embedded (chdb, in-process)"
  fi
  return $((ok ? 3 : 0))
}

# Stops and starts only the broker (its data kept): the broker-restart tests use it.
cmd_restart_kafka() {
  take_lock
  kafka_down
  kafka_up
}

# Fault tests: stop or start one part (its data kept), or stop it for N seconds and start it again.
pause_seconds() {
  [[ "${1:-}" =~ ^[0-9]+$ ]] || die "pause: give the seconds, e.g. 'pause-postgres 15'"
  echo "$1"
}
cmd_part() { # action part [seconds]
  local action="$1" part="$2" seconds=0
  [[ "$action" == pause ]] && seconds=$(pause_seconds "${3:-}")
  take_lock
  if [[ "$part" == postgres && -n "${DATABASE_URL:-}" ]]; then die "postgres: DATABASE_URL is external; this script does not stop it"; fi
  if [[ "$action" == stop || "$action" == pause ]]; then
    if [[ "$part" == kafka ]]; then kafka_down; else pg_down; fi
  fi
  if [[ "$action" == pause ]]; then
    log "$part: stopped for ${seconds}s"
    sleep "$seconds"
  fi
  if [[ "$action" == start || "$action" == pause ]]; then
    if [[ "$part" == kafka ]]; then kafka_up; else pg_up_local; fi
  fi
}

cmd_env() {
  [[ -f "$STACK_ENV" ]] || die "no $STACK_ENV; run 'bash infra/stack.sh up' first"
  cat "$STACK_ENV"
}

usage() {
  cat >&2 <<EOF
usage: bash infra/stack.sh <command>
  up              start Kafka and Postgres unless running; wait until they answer; write stack.env
  down [--purge]  stop what this script started; --purge also deletes $STATE_DIR
  status          print each part and whether it answers (exit 3 if one does not)
  env             print $STACK_ENV
  restart-kafka   stop and start the broker only, keeping its data
  stop-kafka | start-kafka | pause-kafka <seconds>           the broker only (fault tests)
  stop-postgres | start-postgres | pause-postgres <seconds>  the local Postgres only (fault tests)
EOF
}

main() {
  local cmd="${1:-}"
  [[ $# -gt 0 ]] && shift
  case "$cmd" in
    up) cmd_up "$@" ;;
    down) cmd_down "$@" ;;
    status) cmd_status "$@" ;;
    env) cmd_env "$@" ;;
    restart-kafka) cmd_restart_kafka "$@" ;;
    stop-kafka | start-kafka | pause-kafka | stop-postgres | start-postgres | pause-postgres)
      cmd_part "${cmd%%-*}" "${cmd#*-}" "$@" ;;
    -h | --help | help) usage ;;
    *) usage; exit 2 ;;
  esac
}

main "$@"
