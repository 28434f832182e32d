#!/usr/bin/env bash
# Sets up and runs every test: installs packages, checks format and lint, builds the debug
# preset (ASan + UBSan, -Werror), starts a private PostgreSQL and s3rver for the tests, runs
# ctest (unit, PostgreSQL, S3 and black-box tests), stops what it started. The last line is the
# summary.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

scripts/install-deps.sh

echo "== format and lint"
unformatted=$(find src tools fuzz -name '*.cpp' -o -name '*.hpp' 2>/dev/null |
    xargs clang-format --dry-run --Werror 2>&1 | grep -c 'error:' || true)
if [ "$unformatted" != "0" ]; then
    find src tools fuzz -name '*.cpp' -o -name '*.hpp' | xargs clang-format --dry-run --Werror 2>&1 | head -20
    echo "format: clang-format reports differences (run: make format)"
    echo "0 passed, 1 failed"
    exit 1
fi
python3 scripts/lint.py

test_var=$repo/var/test
pg_dir=$test_var/pg
pg_replica_dir=$test_var/pg-replica
pg_dedicated_dir=$test_var/pg-dedicated
s3_dir=$test_var/s3
mq_dir=$test_var/rabbitmq
cleanup() {
    scripts/pg-local.sh stop "$pg_replica_dir" >/dev/null 2>&1 || true
    scripts/pg-local.sh stop "$pg_dedicated_dir" >/dev/null 2>&1 || true
    scripts/pg-local.sh stop "$pg_dir" >/dev/null 2>&1 || true
    scripts/s3rver.sh stop "$s3_dir" >/dev/null 2>&1 || true
    scripts/rabbitmq-local.sh stop "$mq_dir" >/dev/null 2>&1 || true
}
trap cleanup EXIT

# RabbitMQ takes ~7 s to boot: once per run, started while the build runs (a broker left by an
# interrupted run is stopped first).
scripts/rabbitmq-local.sh stop "$mq_dir" >/dev/null 2>&1 || true
rm -rf "$mq_dir"
mkdir -p "$mq_dir"
scripts/rabbitmq-local.sh start "$mq_dir" >"$mq_dir/url" 2>"$mq_dir/start.err" &
mq_start=$!

echo "== build (debug: ASan + UBSan)"
cmake --preset debug -DMSG_WERROR=ON >/dev/null
cmake --build --preset debug

echo "== services"
rm -rf "$pg_dir"
PG_FAST=1 scripts/pg-local.sh start "$pg_dir" >/dev/null
dsn=$(scripts/pg-local.sh dsn "$pg_dir")
export MSG_TEST_POSTGRES_DSN="${dsn/dbname=msg/dbname=postgres}"
echo "postgres: $MSG_TEST_POSTGRES_DSN"
# A streaming replica of it (read/write split tests; they pause its replay).
scripts/pg-local.sh stop "$pg_replica_dir" >/dev/null 2>&1 || true
rm -rf "$pg_replica_dir"
PG_FAST=1 scripts/pg-local.sh replica "$pg_replica_dir" "$pg_dir" >/dev/null
replica_dsn=$(scripts/pg-local.sh dsn "$pg_replica_dir")
export MSG_TEST_POSTGRES_REPLICA_DSN="${replica_dsn/dbname=msg/dbname=postgres}"
echo "postgres replica: $MSG_TEST_POSTGRES_REPLICA_DSN"
# A second cluster for dedicated tenants, on loopback TCP (their DSNs may not name sockets).
scripts/pg-local.sh stop "$pg_dedicated_dir" >/dev/null 2>&1 || true
rm -rf "$pg_dedicated_dir"
dedicated_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
PG_TCP_PORT=$dedicated_port PG_FAST=1 scripts/pg-local.sh start "$pg_dedicated_dir" >/dev/null
dedicated_dsn=$(scripts/pg-local.sh tcp-dsn "$pg_dedicated_dir")
export MSG_TEST_POSTGRES_DEDICATED_DSN="${dedicated_dsn/dbname=msg/dbname=postgres}"
echo "postgres (dedicated tenants): $MSG_TEST_POSTGRES_DEDICATED_DSN"
rm -rf "$s3_dir"
MSG_TEST_S3_ENDPOINT=$(scripts/s3rver.sh start "$s3_dir")
export MSG_TEST_S3_ENDPOINT
echo "s3rver: $MSG_TEST_S3_ENDPOINT"
if ! wait "$mq_start"; then
    cat "$mq_dir/start.err"
    echo "0 passed, 1 failed"
    exit 1
fi
MSG_TEST_AMQP_URL=$(cat "$mq_dir/url")
export MSG_TEST_AMQP_URL
echo "rabbitmq: ${MSG_TEST_AMQP_URL/guest:guest@/}"

echo "== ctest"
# Undefined behaviour fails the test that caused it (UBSan's default is to report and go on:
# a unit test would still pass).
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
build_dir=$(dirname "$repo")/build-$(basename "$repo")/debug
log=$test_var/ctest.log
set +e
ctest --test-dir "$build_dir" --output-on-failure -j2 --timeout 600 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

summary=$(grep -E '[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -1)
if [ -n "$summary" ]; then
    failed=$(echo "$summary" | sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/')
    total=$(echo "$summary" | sed -E 's/.* failed out of ([0-9]+).*/\1/')
    echo "$((total - failed)) passed, $failed failed"
else
    echo "0 passed, 1 failed"
    status=1
fi
exit "$status"
