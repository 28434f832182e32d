#!/usr/bin/env bash
# Local blob store throughput: a SIZE_MB (100) MiB file through presign-upload → PUT /blobs
# (curl) → register → presign-download → GET /blobs (curl), on the release build with fsync;
# prints upload/download MB/s and the server's peak RSS (VmHWM) before and after.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
size_mb=${SIZE_MB:-100}
scripts/install-deps.sh >/dev/null
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
export APP_ENV=test JWT_SECRET=$(head -c 32 /dev/urandom | base64 | tr -d '\n/+=') \
    POSTGRES_DSN=$dsn PORT=18292 BIND_ADDRESS=127.0.0.1 LOG_LEVEL=warn DATA_DIR=$work/data \
    ADMIN_PASSWORD=bench-pass-123 MAX_UPLOAD_BYTES=$((2 * size_mb * 1024 * 1024))
"$bin" migrate >/dev/null
"$bin" seed-admin >/dev/null
"$bin" all >"$work/server.log" 2>&1 &
server_pid=$!
base=http://127.0.0.1:$PORT
for _ in $(seq 100); do curl -sf "$base/health/ready" >/dev/null && break; sleep 0.1; done
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
token=$(curl -sf -XPOST "$base/api/v1/auth/login" -H 'Content-Type: application/json' \
    -d '{"tenant_id":"default","email":"admin@example.com","password":"bench-pass-123"}' |
    json '["access_token"]')
auth=(-H "Authorization: Bearer $token" -H 'Content-Type: application/json')
room=$(curl -sf -XPOST "$base/api/v1/rooms" "${auth[@]}" -d '{"name":"bench","member_ids":[]}' |
    json '["id"]')
head -c "$((size_mb * 1024 * 1024))" /dev/urandom >"$work/blob.bin"
hwm() { awk '/VmHWM/ {print $2 / 1024 " MB"}' "/proc/$server_pid/status"; }
echo "server peak RSS before: $(hwm)"
key="rooms/$room/big.bin"
url=$(curl -sf -XPOST "$base/api/v1/files/presign-upload" "${auth[@]}" \
    -d "{\"object_key\":\"$key\"}" | json '["url"]')
curl -sf -o /dev/null -T "$work/blob.bin" -w "upload   ${size_mb} MiB: %{time_total} s, %{speed_upload} B/s\n" "$url"
curl -sf -XPOST "$base/api/v1/files/register" "${auth[@]}" -d "{\"room_id\":$room,\"object_key\":\"$key\",\"content_type\":\"application/octet-stream\",\"original_name\":\"big.bin\",\"size_bytes\":$((size_mb * 1024 * 1024))}" >/dev/null
url=$(curl -sf -XPOST "$base/api/v1/files/presign-download" "${auth[@]}" \
    -d "{\"object_key\":\"$key\"}" | json '["url"]')
curl -sf -o "$work/back.bin" -w "download ${size_mb} MiB: %{time_total} s, %{speed_download} B/s\n" "$url"
cmp -s "$work/blob.bin" "$work/back.bin" && echo "bytes identical"
echo "server peak RSS after: $(hwm)"
