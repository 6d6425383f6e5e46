#!/usr/bin/env bash
# The production layout of docker-compose.yml, started natively without Docker: PostgreSQL,
# schema setup with temporal-sql-tool, Temporal server 1.29.1, then the namespace job.
#
# Kept in sync with docker-compose.yml and server/dev-server.ts (test/unit/compose.test.ts checks):
#   namespace default, retention 30d, frontend gRPC 7233,
#   search attributes LoopName=Keyword LoopPhase=Keyword LoopSession=Int LoopBest=Double,
#   dynamic config dynamicconfig/development-sql.yaml.
# The schema and namespace jobs are the very scripts compose runs: scripts/cluster/setup-schema.sh
# and scripts/cluster/create-namespace.sh.
# Not started here: the Web UI and the worker (run `loop-station worker --address <printed address>`).
#
# usage: scripts/cluster.sh up|down|status [--dir <state dir>] [--grpc-port <port>] [--pg-port <port>]
#   --dir        state: Postgres data, server config, logs, pid files (default .loop-station/cluster)
#   --grpc-port  frontend port; the other services use fixed offsets from it (default 7233)
#   --pg-port    PostgreSQL port (default: a free port, chosen once and remembered)
# Needs: Go 1.25+ (first run builds the server, ~1.5 min; cached in ~/.cache/loop-station/server-1.29.1),
# PostgreSQL binaries (initdb, pg_ctl; as root they run as the `postgres` user).
set -euo pipefail
shopt -s inherit_errexit

SERVER_VERSION=1.29.1
CLI_VERSION=1.5.1
NAMESPACE=default
RETENTION=30d
DB_USER=temporal
DB_PASSWORD=temporal

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/loop-station"
SERVER_CACHE="$CACHE_ROOT/server-$SERVER_VERSION"

say() { printf '[cluster] %s\n' "$*" >&2; }
die() { printf '[cluster] error: %s\n' "$1" >&2; [ $# -lt 2 ] || printf '  fix: %s\n' "$2" >&2; exit 1; }
now_ms() { date +%s%3N; }
since() { local ms=$(( $(now_ms) - $1 )); echo "$((ms / 1000)).$((ms % 1000 / 100))s"; }

usage() { sed -n '/^# usage:/,/^# Needs:/p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

# ---- arguments ------------------------------------------------------------------------------
COMMAND="${1:-}"; [ $# -gt 0 ] && shift
STATE_DIR=.loop-station/cluster; GRPC_PORT_ARG=; PG_PORT_ARG=
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) STATE_DIR="${2:?--dir needs a path}"; shift 2 ;;
    --grpc-port) GRPC_PORT_ARG="${2:?--grpc-port needs a number}"; shift 2 ;;
    --pg-port) PG_PORT_ARG="${2:?--pg-port needs a number}"; shift 2 ;;
    -h|--help) usage ;;
    *) say "unknown argument: $1"; usage ;;
  esac
done
mkdir -p "$STATE_DIR"
STATE_DIR=$(cd "$STATE_DIR" && pwd)
PG_DIR="$STATE_DIR/postgres"; PG_DATA="$PG_DIR/data"
SERVER_ROOT="$STATE_DIR/server"; SERVER_PID="$STATE_DIR/server.pid"; SERVER_LOG="$STATE_DIR/server.log"
PORTS_FILE="$STATE_DIR/ports.env"

# Ports chosen on the first `up` are remembered, so later commands need no flags.
GRPC_PORT=7233; PG_PORT=
# shellcheck disable=SC1090
[ -f "$PORTS_FILE" ] && . "$PORTS_FILE"
if [ -f "$SERVER_PID" ] && kill -0 "$(cat "$SERVER_PID")" 2>/dev/null; then
  for pair in "$GRPC_PORT_ARG:$GRPC_PORT:--grpc-port" "$PG_PORT_ARG:$PG_PORT:--pg-port"; do
    IFS=: read -r asked running flag <<<"$pair"
    [ -z "$asked" ] || [ "$asked" = "$running" ] || [ "$COMMAND" = down ] \
      || die "the cluster in $STATE_DIR already runs with $flag $running" "run \`$0 down --dir $STATE_DIR\` first, or drop $flag"
  done
fi
[ -n "$GRPC_PORT_ARG" ] && GRPC_PORT=$GRPC_PORT_ARG
[ -n "$PG_PORT_ARG" ] && PG_PORT=$PG_PORT_ARG
ADDRESS="127.0.0.1:$GRPC_PORT"

# ---- helpers --------------------------------------------------------------------------------
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
  if command -v node >/dev/null; then
    node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
  else
    local p=15432; while port_busy "$p"; do p=$((p + 1)); done; echo "$p"
  fi
}
# Alive and not a zombie: a SIGKILLed server whose parent does not reap it still answers kill -0.
pid_alive() {
  [ -f "$1" ] || return 1
  local pid; pid=$(cat "$1")
  kill -0 "$pid" 2>/dev/null || return 1
  [ "$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)" != Z ]
}

# PostgreSQL refuses to run as root: then its commands run as the `postgres` user.
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
pg_bin() {
  if [ -n "${PG_BIN:-}" ]; then echo "$PG_BIN"; return; fi
  if command -v pg_ctl >/dev/null; then dirname "$(command -v pg_ctl)"; return; fi
  local dir; dir=$(printf '%s\n' /usr/lib/postgresql/*/bin | grep -v '\*' | sort -V | tail -n1)
  [ -n "$dir" ] || die "PostgreSQL binaries (initdb, pg_ctl) not found" \
    "install PostgreSQL (Debian: apt-get install postgresql) or set PG_BIN=/path/to/postgres/bin"
  echo "$dir"
}

# The Temporal CLI, for health, namespace and search attributes: same lookup as server/temporal-binary.ts.
temporal_cli() {
  local cached="$CACHE_ROOT/temporal-$CLI_VERSION/temporal"
  if [ -n "${LOOP_STATION_TEMPORAL_BIN:-}" ]; then echo "$LOOP_STATION_TEMPORAL_BIN"; return; fi
  if command -v temporal >/dev/null; then
    local have; have=$(temporal --version 2>/dev/null | sed -n 's/^temporal version \([0-9.]*\).*/\1/p')
    if [ -n "$have" ] && [ "$(printf '%s\n%s\n' "$CLI_VERSION" "$have" | sort -V | head -n1)" = "$CLI_VERSION" ]; then
      command -v temporal; return
    fi
  fi
  if ! "$cached" --version 2>/dev/null | grep -q "^temporal version $CLI_VERSION "; then
    command -v go >/dev/null || die "no Temporal CLI $CLI_VERSION and no Go to build it" \
      "install Go 1.25+, or set LOOP_STATION_TEMPORAL_BIN=/path/to/temporal"
    say "building the Temporal CLI $CLI_VERSION (once, ~3 min)"
    mkdir -p "$(dirname "$cached")"
    (
      flock 9
      "$cached" --version 2>/dev/null | grep -q "^temporal version $CLI_VERSION " && exit 0
      tmp=$(mktemp -d "$(dirname "$cached")/.build-XXXXXX")
      GOBIN="$tmp" CGO_ENABLED=0 go install -trimpath \
        -ldflags "-s -w -X github.com/temporalio/cli/temporalcli.Version=$CLI_VERSION" \
        "github.com/temporalio/cli/cmd/temporal@v$CLI_VERSION"
      mv "$tmp/temporal" "$cached"; rm -rf "$tmp"
    ) 9>"$(dirname "$cached")/.build.lock"
  fi
  echo "$cached"
}
# Our own cluster: ignore the user's TEMPORAL_* variables and CLI profiles (TLS, API keys).
CLIENT_FLAGS=(--disable-config-file --disable-config-env --color never)
tcli() { "$TEMPORAL" "$@" --address "$ADDRESS" "${CLIENT_FLAGS[@]}"; }

# ---- build (once, cached) -------------------------------------------------------------------
ensure_server_build() {
  [ -x "$SERVER_CACHE/server" ] && [ -x "$SERVER_CACHE/sql" ] && return
  command -v go >/dev/null || die "the Temporal server $SERVER_VERSION is not built and Go is not on PATH" \
    "install Go 1.25+ and run this again (it builds once into $SERVER_CACHE)"
  mkdir -p "$CACHE_ROOT"
  local started; started=$(now_ms)
  (
    flock 9 # a second `up` waits here, then finds the build done
    [ -x "$SERVER_CACHE/server" ] && [ -x "$SERVER_CACHE/sql" ] && exit 0
    say "building Temporal server $SERVER_VERSION and temporal-sql-tool (once, ~1.5 min on 2 cores)"
    tmp=$(mktemp -d "$CACHE_ROOT/.server-build-XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
    GOBIN="$tmp" CGO_ENABLED=0 go install -trimpath -ldflags "-s -w" \
      "go.temporal.io/server/cmd/server@v$SERVER_VERSION" "go.temporal.io/server/cmd/tools/sql@v$SERVER_VERSION"
    # Schemas and the config template ship with the module: keep a copy beside the binaries.
    module="$(go env GOMODCACHE)/go.temporal.io/server@v$SERVER_VERSION"
    mkdir -p "$tmp/schema" "$tmp/config"
    cp -R "$module/schema/postgresql" "$tmp/schema/"
    cp "$module/config/development-postgres12.yaml" "$tmp/config/"
    chmod -R u+w "$tmp"
    rm -rf "$SERVER_CACHE"; mv "$tmp" "$SERVER_CACHE"
  ) 9>"$CACHE_ROOT/server-$SERVER_VERSION.lock"
  say "server build ready in $(since "$started")"
}

# ---- PostgreSQL -----------------------------------------------------------------------------
start_postgres() {
  local bin; bin=$(pg_bin)
  if [ -z "$PG_PORT" ]; then PG_PORT=$(free_port); fi
  mkdir -p "$PG_DIR"
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || die "running as root but there is no postgres user" "create one (useradd postgres) or run as a normal user"
    chown postgres: "$PG_DIR"
    as_pg test -w "$PG_DIR" || die "the postgres user cannot write $PG_DIR (a parent directory is not traversable)" \
      "pass --dir under a world-traversable path, e.g. --dir /tmp/loop-station-cluster"
  fi
  if [ ! -f "$PG_DATA/PG_VERSION" ]; then
    local pwfile="$PG_DIR/.pwfile"
    echo "$DB_PASSWORD" > "$pwfile"; [ "$(id -u)" = 0 ] && chown postgres: "$pwfile"
    as_pg "$bin/initdb" -D "$PG_DATA" -U "$DB_USER" --pwfile="$pwfile" --auth=scram-sha-256 -E UTF8 --locale=C >"$PG_DIR/initdb.log" 2>&1 \
      || die "initdb failed; see $PG_DIR/initdb.log"
    rm -f "$pwfile"
    # Four services at up to 20 connections each, plus tools.
    echo "max_connections = 200" | as_pg tee -a "$PG_DATA/postgresql.conf" >/dev/null
  fi
  if as_pg "$bin/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; then
    PG_PORT=$(sed -n 4p "$PG_DATA/postmaster.pid") # the port it really listens on
    say "PostgreSQL already running"
  else
    port_busy "$PG_PORT" && die "PostgreSQL port $PG_PORT is in use" "pass --pg-port <free port>"
    as_pg "$bin/pg_ctl" -D "$PG_DATA" -l "$PG_DIR/postgres.log" -w -t 60 \
      -o "-p $PG_PORT -h 127.0.0.1 -k $PG_DIR" start >/dev/null || die "PostgreSQL did not start; see $PG_DIR/postgres.log"
  fi
  printf 'GRPC_PORT=%s\nPG_PORT=%s\n' "$GRPC_PORT" "$PG_PORT" > "$PORTS_FILE"
}

setup_schema() {
  SQL_TOOL="$SERVER_CACHE/sql" SCHEMA_DIR="$SERVER_CACHE/schema/postgresql/v12" POSTGRES_SEEDS=127.0.0.1 \
    DB_PORT="$PG_PORT" POSTGRES_USER="$DB_USER" POSTGRES_PWD="$DB_PASSWORD" \
    sh "$REPO_ROOT/scripts/cluster/setup-schema.sh" >>"$STATE_DIR/schema.log" 2>&1 \
    || die "schema setup failed; see $STATE_DIR/schema.log"
}

# ---- Temporal server ------------------------------------------------------------------------
# Port layout, offsets from the frontend gRPC port G (defaults in brackets): frontend G [7233],
# history G+1 [7234], matching G+2 [7235], worker G+6 [7239], HTTP G+10 [7243], membership G-300..G-294
# [6933-6939], pprof G+703 [7936], metrics G+767 [8000].
render_server_config() {
  local g=$GRPC_PORT template="$SERVER_CACHE/config/development-postgres12.yaml"
  local out="$SERVER_ROOT/config/development-postgres12.yaml" dyn="$SERVER_ROOT/config/dynamicconfig/development-sql.yaml"
  mkdir -p "$(dirname "$dyn")"
  local pairs=(
    "grpcPort: 7233" "grpcPort: $g"          "membershipPort: 6933" "membershipPort: $((g - 300))"
    "grpcPort: 7234" "grpcPort: $((g + 1))"  "membershipPort: 6934" "membershipPort: $((g - 299))"
    "grpcPort: 7235" "grpcPort: $((g + 2))"  "membershipPort: 6935" "membershipPort: $((g - 298))"
    "grpcPort: 7239" "grpcPort: $((g + 6))"  "membershipPort: 6939" "membershipPort: $((g - 294))"
    "httpPort: 7243" "httpPort: $((g + 10))" "port: 7936" "port: $((g + 703))"
    '"127.0.0.1:8000"' "\"127.0.0.1:$((g + 767))\""   '"localhost:7233"' "\"127.0.0.1:$g\""
    '"127.0.0.1:5432"' "\"127.0.0.1:$PG_PORT\""
    '"config/dynamicconfig/development-sql.yaml"' "\"$dyn\""
  )
  local text i; text=$(cat "$template")
  for ((i = 0; i < ${#pairs[@]}; i += 2)); do
    # Fail loudly if a newer template moved a port: a silent miss would collide with a dev server.
    grep -qF -- "${pairs[i]}" <<<"$text" || die "server config template has no '${pairs[i]}'" "update render_server_config in $0"
    text=${text//"${pairs[i]}"/"${pairs[i + 1]}"}
  done
  printf '%s\n' "$text" > "$out"
  cp "$REPO_ROOT/dynamicconfig/development-sql.yaml" "$dyn"
}

start_server() {
  if pid_alive "$SERVER_PID"; then say "Temporal server already running (pid $(cat "$SERVER_PID"))"; return; fi
  local busy="" p
  for p in "$GRPC_PORT" $((GRPC_PORT + 1)) $((GRPC_PORT + 2)) $((GRPC_PORT + 6)) $((GRPC_PORT + 10)) \
    $((GRPC_PORT - 300)) $((GRPC_PORT - 299)) $((GRPC_PORT - 298)) $((GRPC_PORT - 294)) $((GRPC_PORT + 703)) $((GRPC_PORT + 767)); do
    port_busy "$p" && busy="$busy $p"
  done
  [ -z "$busy" ] || die "ports in use:$busy (the server needs gRPC port $GRPC_PORT and fixed offsets from it)" \
    "stop what listens there (a dev server on $GRPC_PORT?) or pass another --grpc-port, e.g. --grpc-port 17233"
  render_server_config
  # setsid: its own session, so it outlives this script and a Ctrl-C in this terminal.
  ( cd "$SERVER_ROOT" && exec setsid "$SERVER_CACHE/server" --root "$SERVER_ROOT" --config config \
      --env development-postgres12 --allow-no-auth start >>"$SERVER_LOG" 2>&1 </dev/null ) &
  echo $! > "$SERVER_PID"
}

wait_serving() {
  local deadline=$(( $(date +%s) + ${HEALTH_TIMEOUT:-120} ))
  until tcli operator cluster health 2>/dev/null | grep -q SERVING; do
    pid_alive "$SERVER_PID" || { tail -n 20 "$SERVER_LOG" >&2; die "the Temporal server exited; see $SERVER_LOG"; }
    [ "$(date +%s)" -lt "$deadline" ] || die "the Temporal server was not SERVING within ${HEALTH_TIMEOUT:-120}s; see $SERVER_LOG" \
      "rerun with HEALTH_TIMEOUT=300 on a loaded machine"
    sleep 0.5
  done
}

setup_namespace() {
  TEMPORAL_ADDRESS="$ADDRESS" NAMESPACE="$NAMESPACE" RETENTION="$RETENTION" TEMPORAL_BIN="$TEMPORAL" \
    TEMPORAL_FLAGS="${CLIENT_FLAGS[*]}" sh "$REPO_ROOT/scripts/cluster/create-namespace.sh" >>"$STATE_DIR/namespace.log" 2>&1 \
    || { tail -n 5 "$STATE_DIR/namespace.log" >&2; die "namespace setup failed; see $STATE_DIR/namespace.log"; }
}

# ---- commands -------------------------------------------------------------------------------
cmd_up() {
  local t0 t; t0=$(now_ms)
  t=$(now_ms); ensure_server_build;  say "build: $(since "$t")"
  TEMPORAL=$(temporal_cli)
  t=$(now_ms); start_postgres;       say "postgres on 127.0.0.1:$PG_PORT: $(since "$t")"
  t=$(now_ms); setup_schema;         say "schema: $(since "$t")"
  t=$(now_ms); start_server; wait_serving; say "server SERVING: $(since "$t")"
  t=$(now_ms); setup_namespace;      say "namespace $NAMESPACE (retention $RETENTION, 4 search attributes): $(since "$t")"
  printf 'TEMPORAL_ADDRESS=%s\nTEMPORAL_NAMESPACE=%s\n' "$ADDRESS" "$NAMESPACE" > "$STATE_DIR/cluster.env"
  say "up in $(since "$t0"); logs in $STATE_DIR"
  echo "$ADDRESS"
}

cmd_down() {
  if pid_alive "$SERVER_PID"; then
    local pid i; pid=$(cat "$SERVER_PID")
    kill -TERM "$pid"
    for ((i = 0; i < 300; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && { say "server did not stop in 30s: SIGKILL"; kill -KILL "$pid"; }
    say "Temporal server stopped"
  fi
  rm -f "$SERVER_PID"
  if [ -f "$PG_DATA/PG_VERSION" ] && as_pg "$(pg_bin)/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; then
    as_pg "$(pg_bin)/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null
    say "PostgreSQL stopped"
  fi
  say "down (data kept in $STATE_DIR; delete it for a fresh cluster)"
}

cmd_status() {
  local ok=0
  if [ -f "$PG_DATA/PG_VERSION" ] && as_pg "$(pg_bin)/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; then
    say "PostgreSQL: running on 127.0.0.1:$PG_PORT"
  else say "PostgreSQL: stopped"; ok=1; fi
  if pid_alive "$SERVER_PID"; then
    TEMPORAL=$(temporal_cli)
    if tcli operator cluster health 2>/dev/null | grep -q SERVING; then say "Temporal server: SERVING at $ADDRESS (pid $(cat "$SERVER_PID"))"
    else say "Temporal server: running (pid $(cat "$SERVER_PID")) but not SERVING"; ok=1; fi
  else say "Temporal server: stopped"; ok=1; fi
  [ $ok = 0 ] && echo "$ADDRESS"
  return $ok
}

case "$COMMAND" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  *) usage ;;
esac
