#!/usr/bin/env bash
# Redis stopped under load (issue 14): 3 `all` nodes on one private Redis
# (scripts/redis-local.sh) and a fresh local PostgreSQL, msg_loadgen fanout with --resilient
# (ROOMS x MEMBERS sockets spread over the nodes, RATE msgs/s for DURATION s); Redis is killed
# at OUTAGE_AT s and started again on the same port OUTAGE s later. The oracle must stay clean:
# every acked message reaches every member once, in seq order, after the sockets resync.
# Defaults: 100 x 10, 500 msgs/s, 60 s, outage at 12 s for 30 s.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
scripts/install-deps.sh >/dev/null
cmake --preset release >/dev/null
cmake --build --preset release >/dev/null
build=$(dirname "$repo")/build-$(basename "$repo")/release
work=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    scripts/redis-local.sh stop "$work/redis" >/dev/null 2>&1 || true
    scripts/pg-local.sh stop "$work/pg" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
dsn=$(scripts/pg-local.sh start "$work/pg")
secret=$(head -c 48 /dev/urandom | base64 | tr -d '\n/+=' | head -c 40)
redis_addr=$(scripts/redis-local.sh start "$work/redis")  # the same port again after the kill
export APP_ENV=test JWT_SECRET=$secret POSTGRES_DSN=$dsn BIND_ADDRESS=127.0.0.1 LOG_LEVEL=warn \
    REDIS_ADDR=$redis_addr MESSAGE_RATE_PER_USER=1000000 WS_FRAMES_PER_SECOND=0 \
    WS_BYTES_PER_SECOND=0 MAX_CONNECTIONS_PER_ADDRESS=0
"$build/src/app/msg_server" migrate >/dev/null
ports=(18391 18392 18393)
for p in "${ports[@]}"; do
    PORT=$p "$build/src/app/msg_server" all >"$work/node-$p.log" 2>&1 &
    pids+=($!)
done
sleep 3
(
    sleep "${OUTAGE_AT:-12}"
    kill -9 "$(cat "$work/redis/pid")"
    echo "== redis killed at $(date +%T)"
    sleep "${OUTAGE:-30}"
    scripts/redis-local.sh start "$work/redis" >/dev/null
    echo "== redis back at $(date +%T)"
) &
"$build/tools/loadgen/msg_loadgen" fanout --rooms "${ROOMS:-100}" --members "${MEMBERS:-10}" \
    --senders 50 --rate "${RATE:-500}" --duration "${DURATION:-60}" --warmup 2 --drain 60 \
    --resilient 1 --port "$(IFS=,; echo "${ports[*]}")" --dsn "$dsn" --jwt-secret "$secret" \
    --server-pid "$(IFS=,; echo "${pids[*]}")"
