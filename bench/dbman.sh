#!/usr/bin/env bash
# The cost of the dbman hop (issue 17): the same loadgen runs against `msg_server all` (data
# operations in process) and against `msg_server chat` whose operations go over HTTP to
# `msg_server dbman` (DBMAN_ENDPOINTS), on one fresh PostgreSQL (fsync on):
#
#   bench/dbman.sh            # release build (as bench/run.sh)
#   BUILD=debug bench/dbman.sh  # the ASan test build: absolute numbers inflated, same hop
#
# history: HISTORY_WORKERS (8) closed-loop clients reading room history; sends: fanout over
# 100 rooms x 10 members at SEND_RATE (500) messages/s, send->ack latency. SECONDS_PER_RUN
# (10). The loadgen prints p50/p90/p99 of each; reports land in var/bench/dbman-*.json.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
build_type=${BUILD:-release}
scripts/install-deps.sh >/dev/null
if [ "$build_type" = release ]; then
    cmake --preset release >/dev/null
    cmake --build --preset release >/dev/null
fi
build=$(dirname "$repo")/build-$(basename "$repo")/$build_type
bin=$build/src/app/msg_server
loadgen=$build/tools/loadgen/msg_loadgen
out=$repo/var/bench
mkdir -p "$out"
seconds=${SECONDS_PER_RUN:-10}

work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    scripts/pg-local.sh stop "$work/pg" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
dsn=$(scripts/pg-local.sh start "$work/pg")
pg_pid=$(scripts/pg-local.sh pid "$work/pg")
secret=$(head -c 32 /dev/urandom | base64 | tr -d '\n/+=')
token=$(head -c 48 /dev/urandom | base64 | tr -d '\n/+=')
common=(APP_ENV=test JWT_SECRET="$secret" INTERNAL_API_TOKEN="$token" BIND_ADDRESS=127.0.0.1
    MESSAGE_RATE_PER_USER=1000000 WS_FRAMES_PER_SECOND=0 WS_BYTES_PER_SECOND=0
    MAX_CONNECTIONS_PER_ADDRESS=0 LOG_LEVEL=warn PG_POOL_SIZE=32)

start() { # start <name> <port> <role> [VAR=value...]
    local name=$1 port=$2 role=$3
    shift 3
    env "${common[@]}" "$@" "$bin" "$role" >"$work/$name.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 150); do
        curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null && return 0
        sleep 0.1
    done
    echo "$name did not become ready" >&2
    cat "$work/$name.log" >&2
    exit 1
}

run() { # run <label> <port> <server pids>
    local label=$1 port=$2 server_pids=$3
    echo "== $label: history, ${HISTORY_WORKERS:-8} clients"
    "$loadgen" history --workers "${HISTORY_WORKERS:-8}" --rooms 100 --members 10 \
        --history-messages 200 --duration "$seconds" --warmup 2 --port "$port" --dsn "$dsn" \
        --jwt-secret "$secret" --server-pid "$server_pids" --db-pid "$pg_pid" \
        --json "$out/dbman-$label-history.json" --html "$out/dbman-$label-history.html"
    echo "== $label: sends, 100 rooms x 10 members at ${SEND_RATE:-500}/s"
    "$loadgen" fanout --rooms 100 --members 10 --senders 32 --rate "${SEND_RATE:-500}" \
        --duration "$seconds" --warmup 2 --port "$port" --dsn "$dsn" --jwt-secret "$secret" \
        --server-pid "$server_pids" --db-pid "$pg_pid" \
        --json "$out/dbman-$label-sends.json" --html "$out/dbman-$label-sends.html"
}

start all 18290 all POSTGRES_DSN="$dsn" PORT=18290
run local 18290 "${pids[0]}"
kill "${pids[0]}"
wait "${pids[0]}" 2>/dev/null || true
pids=()

start dbman 18291 dbman POSTGRES_DSN="$dsn" DBMAN_PORT=18291
start chat 18292 chat POSTGRES_DSN= DBMAN_ENDPOINTS=http://127.0.0.1:18291 PORT=18292
run remote 18292 "${pids[1]},${pids[0]}"
