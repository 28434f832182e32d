#!/usr/bin/env bash
# Reproduces the published numbers on one machine:
#
#   bench/run.sh fanout|connections|history|pgbench|http|relay|all
#
# Builds release, starts a fresh local PostgreSQL (fsync on, as production) and `msg_server
# all`, runs tools/loadgen's scenario against it, and in the same run measures the physical
# limit it is compared with: raw pgbench single-row inserts into a message-shaped table on the
# same cluster (fanout), nginx serving a static file under the same wrk load (http). Reports
# land in var/bench/ (JSON + HTML per run). Knobs: SECONDS_PER_RUN (10), FANOUT_SENDERS (64),
# FANOUT_RATE (0 = closed loop), CONNECTIONS (19000 per server), SERVERS (1; more start that
# many `all` processes on one private Redis — scripts/redis-local.sh — sharing the database:
# the connections scenario spreads its sockets over them, one loadgen worker process each, and
# fanout puts member i on server i mod SERVERS, so senders and receivers sit on different
# nodes), HISTORY_WORKERS (32), PGBENCH_CLIENTS ("1 8 32": pgbench runs, the ratio is to the
# last). Each loadgen run also prints the CPU split: server, PostgreSQL, loadgen.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
scenario=${1:-all}
case "$scenario" in fanout | connections | history | pgbench | http | relay | all) ;;
*)
    echo "usage: bench/run.sh fanout|connections|history|pgbench|http|relay|all" >&2
    exit 2
    ;;
esac

scripts/install-deps.sh >/dev/null
cmake --preset release >/dev/null
cmake --build --preset release >/dev/null
build=$(dirname "$repo")/build-$(basename "$repo")/release
bin=$build/src/app/msg_server
loadgen=$build/tools/loadgen/msg_loadgen
out=$repo/var/bench
mkdir -p "$out"
seconds=${SECONDS_PER_RUN:-10}

if [ "$scenario" = http ] || [ "$scenario" = all ]; then
    bench/health_vs_nginx.sh
    [ "$scenario" = http ] && exit 0
fi
if [ "$scenario" = relay ] || [ "$scenario" = all ]; then
    bench/relay.sh  # the outbox relay with publisher confirms (RabbitMQ)
    [ "$scenario" = relay ] && exit 0
fi

work=$(mktemp -d)
server_pids=()
ports=()
redis_env=()
cleanup() {
    for pid in "${server_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    scripts/redis-local.sh stop "$work/redis" >/dev/null 2>&1 || true
    scripts/pg-local.sh stop "$work/pg" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
dsn=$(scripts/pg-local.sh start "$work/pg")
pg_pid=$(scripts/pg-local.sh pid "$work/pg")
secret=$(head -c 32 /dev/urandom | base64 | tr -d '\n/+=')

start_servers() { # N `msg_server all` processes on ports 18190.., sharing the database
    local i port
    for ((i = 0; i < $1; i++)); do
        port=$((18190 + i))
        APP_ENV=test JWT_SECRET=$secret POSTGRES_DSN=$dsn PORT=$port BIND_ADDRESS=127.0.0.1 \
            MESSAGE_RATE_PER_USER=1000000 WS_FRAMES_PER_SECOND=0 WS_BYTES_PER_SECOND=0 \
            MAX_CONNECTIONS=19900 MAX_CONNECTIONS_PER_ADDRESS=0 LOG_LEVEL=warn \
            PG_POOL_SIZE=${PG_POOL_SIZE:-32} env "${redis_env[@]}" "$bin" all >"$work/server-$i.log" 2>&1 &
        server_pids+=($!)
        ports+=("$port")
        for _ in $(seq 100); do
            curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null && continue 2
            sleep 0.1
        done
        echo "server $i did not become ready" >&2
        cat "$work/server-$i.log" >&2
        exit 1
    done
}

lg() { # loadgen reports the CPU of server, PostgreSQL (postmaster + backends) and itself
    local name=$1
    shift
    "$loadgen" "$@" --port "$(IFS=,; echo "${ports[*]}")" --dsn "$dsn" --jwt-secret "$secret" \
        --server-pid "$(IFS=,; echo "${server_pids[*]}")" --db-pid "$pg_pid" \
        --json "$out/$name.json" --html "$out/$name.html"
}

# Raw single-row inserts into a table shaped like `messages` (same columns, same unique key,
# autocommit with fsync): the ceiling a durable send is compared with.
pgbench_tps=""
run_pgbench() {
    psql "$dsn" -qc "DROP TABLE IF EXISTS bench_messages" -qc "CREATE TABLE bench_messages (
        tenant_id TEXT NOT NULL, id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        room_id BIGINT NOT NULL, seq BIGINT NOT NULL, sender_id BIGINT NOT NULL,
        body TEXT NOT NULL, meta_json JSONB NOT NULL DEFAULT '{}', client_msg_id TEXT,
        created_at TIMESTAMPTZ NOT NULL DEFAULT now(), UNIQUE (tenant_id, room_id, seq))"
    cat >"$work/insert.sql" <<'SQL'
\set room random(1, 1000)
INSERT INTO bench_messages (tenant_id, room_id, seq, sender_id, body, client_msg_id)
VALUES ('bench', :room, nextval('bench_seq'), :client_id, 'pgbench message', 'pg-' || :client_id);
SQL
    psql "$dsn" -qc "DROP SEQUENCE IF EXISTS bench_seq" -qc "CREATE SEQUENCE bench_seq"
    local clients tps
    for clients in ${PGBENCH_CLIENTS:-1 8 32}; do
        pgbench -n -f "$work/insert.sql" -c "$clients" -j 2 -T "$seconds" "$dsn" >"$work/pgbench.txt" 2>&1
        tps=$(awk '/^tps = / {print $3}' "$work/pgbench.txt" | head -1)
        echo "== pgbench raw insert ($clients clients, ${seconds}s): $tps tps"
        pgbench_tps=$tps pgbench_clients=$clients  # the ratio is to the last (32 clients)
    done
}

ratio() { # persisted/s of a report ÷ pgbench tps
    /usr/bin/python3 -c "import json,sys; r=json.load(open('$1')); t=float('$pgbench_tps' or 0)
print(f\"   ratio to raw pgbench inserts at $pgbench_clients clients: {r['persisted_per_s']/t:.2f}x\" if t else '')"
}

if [ "$scenario" = pgbench ]; then
    run_pgbench
    exit 0
fi

servers=${SERVERS:-1}
if [ "$servers" -gt 1 ]; then
    redis_env=("REDIS_ADDR=$(scripts/redis-local.sh start "$work/redis")")
    echo "== $servers nodes on one Redis (${redis_env[0]})"
fi
start_servers "$servers"
senders=${FANOUT_SENDERS:-64}
rate=${FANOUT_RATE:-0}
if [ "$scenario" = fanout ] || [ "$scenario" = all ]; then
    run_pgbench
    echo "== fanout: 1 room x 100 members, $senders senders, rate $rate"
    lg fanout-1x100 fanout --rooms 1 --members 100 --senders "$senders" --rate "$rate" \
        --duration "$seconds" --warmup 2
    ratio "$out/fanout-1x100.json"
    echo "== fanout: 1000 rooms x 10 members, $senders senders, rate $rate"
    lg fanout-1000x10 fanout --rooms 1000 --members 10 --senders "$senders" --rate "$rate" \
        --duration "$seconds" --warmup 2
    ratio "$out/fanout-1000x10.json"
fi
if [ "$scenario" = history ] || [ "$scenario" = all ]; then
    echo "== history: ${HISTORY_WORKERS:-32} closed-loop clients"
    lg history history --rooms 100 --members 10 --history-messages 200 \
        --workers "${HISTORY_WORKERS:-32}" --duration "$seconds" --warmup 2
fi
if [ "$scenario" = connections ] || [ "$scenario" = all ]; then
    total=${CONNECTIONS:-$((19000 * servers))}
    sources=$(seq -s, -f '127.0.0.%g' 1 "$servers")
    echo "== connections: $total idle sockets over $servers server process(es)"
    lg connections connections --connections "$total" --members 10 --procs "$servers" \
        --source "$sources" --duration "$seconds" --warmup 0
fi
echo "reports: $out"
