#!/bin/sh
# Namespace job, shared by docker-compose.yml (service temporal-create-namespace) and
# scripts/cluster.sh: waits until the frontend is SERVING, creates the namespace with its
# retention (or sets the retention on an existing one), registers loop-station's search
# attributes. Idempotent. Kept in sync with SEARCH_ATTRIBUTES and NAMESPACE_RETENTION in
# server/dev-server.ts (test/unit/compose.test.ts checks).
# Environment: TEMPORAL_ADDRESS=temporal:7233, NAMESPACE=default, RETENTION=30d,
# TEMPORAL_BIN=temporal, TEMPORAL_FLAGS (extra CLI flags), HEALTH_TIMEOUT=180 (seconds).
set -eu

address=${TEMPORAL_ADDRESS:-temporal:7233}
namespace=${NAMESPACE:-default}
retention=${RETENTION:-30d}
bin=${TEMPORAL_BIN:-temporal}

# The server binds IPv4 (BIND_ON_IP=0.0.0.0): give the CLI the service's IPv4 address, not an IPv6 one.
host=${address%:*}
if command -v getent >/dev/null 2>&1; then
  ipv4=$(getent ahostsv4 "$host" 2>/dev/null | awk 'NR == 1 { print $1 }')
  [ -z "$ipv4" ] || address="$ipv4:${address##*:}"
fi

# shellcheck disable=SC2086 # TEMPORAL_FLAGS is a list of flags
t() { "$bin" "$@" --address "$address" ${TEMPORAL_FLAGS:-}; }

# An open port is not a ready server: poll the health check against a deadline.
deadline=$(( $(date +%s) + ${HEALTH_TIMEOUT:-180} ))
until t operator cluster health 2>/dev/null | grep -q SERVING; do
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "namespace: $address was not SERVING within ${HEALTH_TIMEOUT:-180}s" >&2
    exit 1
  fi
  sleep 2
done

if t operator namespace describe -n "$namespace" >/dev/null 2>&1; then
  t operator namespace update -n "$namespace" --retention "$retention"
else
  t operator namespace create -n "$namespace" --retention "$retention"
fi

# A new namespace reaches the frontend's namespace cache within ~10 s: retry while it is unknown.
tries=0
until out=$(t operator search-attribute create -n "$namespace" \
  --name LoopName --type Keyword \
  --name LoopPhase --type Keyword \
  --name LoopSession --type Int \
  --name LoopBest --type Double 2>&1); do
  tries=$((tries + 1))
  case $out in *"different type"*) echo "namespace: $out" >&2; exit 1 ;; esac
  if [ "$tries" -ge 30 ]; then echo "namespace: search attributes: $out" >&2; exit 1; fi
  sleep 1
done
echo "namespace: $namespace ready (retention $retention, search attributes LoopName LoopPhase LoopSession LoopBest)"
