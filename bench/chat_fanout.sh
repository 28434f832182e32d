#!/usr/bin/env bash
# Chat fan-out numbers on one machine: release build, fresh local PostgreSQL (fsync on),
# msg_server all, then bench/chat_fanout.py for two shapes:
#   one room × 100 members, and 1000 rooms × 10 members (100 users, multi-room sockets).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release >/dev/null
bin=$(dirname "$repo")/build-$(basename "$repo")/release/src/app/msg_server
work=$(mktemp -d)
cleanup() {
    [ -n "${server_pid:-}" ] && kill "$server_pid" 2>/dev/null || true
    scripts/pg-local.sh stop "$work/pg" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
dsn=$(scripts/pg-local.sh start "$work/pg")
secret=$(head -c 32 /dev/urandom | base64 | tr -d '\n/+=')
export APP_ENV=test JWT_SECRET=$secret POSTGRES_DSN=$dsn PORT=18090 BIND_ADDRESS=127.0.0.1 \
    ADMIN_PASSWORD=bench-admin-1 MESSAGE_RATE_PER_USER=100000 LOGIN_RATE_PER_IP=100000 \
    PASSWORD_HASH_MEMORY_KIB=8192 PASSWORD_HASH_OPS=1 LOG_LEVEL=warn
"$bin" migrate >/dev/null
"$bin" seed-admin >/dev/null
"$bin" all >"$work/server.log" 2>&1 &
server_pid=$!
sleep 1.5
token=$(curl -s localhost:18090/api/v1/auth/login \
    -d '{"tenant_id":"default","email":"admin@example.com","password":"bench-admin-1"}' |
    /usr/bin/python3 -c 'import sys, json; print(json.load(sys.stdin)["access_token"])')
seconds=${SECONDS_PER_RUN:-20}
echo "== one room x 100 members, 10 senders"
/usr/bin/python3 bench/chat_fanout.py --url http://127.0.0.1:18090 --jwt-secret "$secret" \
    --token "$token" --users 100 --rooms 1 --members 100 --senders 10 --seconds "$seconds"
echo "== 1000 rooms x 10 members (100 users), 10 senders"
/usr/bin/python3 bench/chat_fanout.py --url http://127.0.0.1:18090 --jwt-secret "$secret" \
    --token "$token" --users 100 --rooms 1000 --members 10 --senders 10 --seconds "$seconds"
echo "server RSS: $(awk '/VmRSS/ {print $2}' /proc/$server_pid/status) KiB"
