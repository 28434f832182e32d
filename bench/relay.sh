#!/usr/bin/env bash
# Outbox relay throughput with publisher confirms (issue 16): a private RabbitMQ and a fresh
# PostgreSQL (fsync on), `msg_server all` with LAVINMQ_URL, a durable queue bound to every
# event (so the broker really enqueues and persists them), then RELAY_EVENTS (100000) outbox rows
# inserted at once; reports how long the relay takes to publish them all (events/s).
#   bench/relay.sh            (release build; run by bench/run.sh relay)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
build=$(dirname "$repo")/build-$(basename "$repo")/release
bin=$build/src/app/msg_server
events=${RELAY_EVENTS:-100000}
work=$(mktemp -d)
server_pid=""
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
    wait 2>/dev/null || true
    scripts/rabbitmq-local.sh stop "$work/mq" >/dev/null 2>&1 || true
    scripts/pg-local.sh stop "$work/pg" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
dsn=$(scripts/pg-local.sh start "$work/pg")
url=$(scripts/rabbitmq-local.sh start "$work/mq")
/usr/bin/python3 - "$url" <<'PY'
import sys, pika
ch = pika.BlockingConnection(pika.URLParameters(sys.argv[1])).channel()
ch.exchange_declare("chat.events", exchange_type="topic", durable=True)
ch.queue_declare("bench.events", durable=True)
ch.queue_bind("bench.events", "chat.events", routing_key="#")
PY
export APP_ENV=test JWT_SECRET=$(head -c 32 /dev/urandom | base64 | tr -d '\n/+=') \
    POSTGRES_DSN=$dsn PORT=18490 BIND_ADDRESS=127.0.0.1 LAVINMQ_URL=$url LOG_LEVEL=warn
"$bin" migrate >/dev/null
"$bin" all >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do curl -fs localhost:18490/health/ready >/dev/null && break; sleep 0.1; done
psql "$dsn" -qc "INSERT INTO tenants (tenant_id, name) VALUES ('bench', 'bench') ON CONFLICT DO NOTHING"
psql "$dsn" -qc "INSERT INTO outbox (tenant_id, topic, payload)
    SELECT 'bench', 'message.created', jsonb_build_object('id', g, 'room_id', g % 1000,
        'seq', g, 'sender_id', 1, 'body', 'relay bench message ' || g)
    FROM generate_series(1, $events) g"
start=$(date +%s.%N)
while :; do
    left=$(psql "$dsn" -Atqc "SELECT count(*) FROM outbox WHERE published_at IS NULL")
    [ "$left" = 0 ] && break
    sleep 0.2
done
end=$(date +%s.%N)
queued=$(/usr/bin/python3 - "$url" <<'PY'
import sys, pika
ch = pika.BlockingConnection(pika.URLParameters(sys.argv[1])).channel()
print(ch.queue_declare("bench.events", passive=True).method.message_count)
PY
)
/usr/bin/python3 -c "
s = $end - $start
print(f'== relay: $events events published with confirms in {s:.2f} s = {$events / s:,.0f} events/s; '
      f'{int(\"$queued\"):,} in the bound durable queue')"
