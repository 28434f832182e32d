#!/usr/bin/env bash
# GET /health on msg_server vs nginx serving a 15-byte static file, same machine, same load:
#   wrk -t2 -c100 -d10s (3 rounds each, alternating). Prints requests/s and the ratio, plus the
# server's idle RSS. Needs wrk and nginx-light (installed here if missing; benchmark-only).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
rounds=${ROUNDS:-3}
duration=${DURATION:-10s}

for p in wrk nginx-light; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        { apt-get update -qq && apt-get install -y -qq --no-install-recommends wrk nginx-light >/dev/null; }
done
scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release >/dev/null
bin=$(dirname "$repo")/build-$(basename "$repo")/release/src/app/msg_server

work=$(mktemp -d)
pg_dir=$work/pg
cleanup() {
    [ -n "${server_pid:-}" ] && kill "$server_pid" 2>/dev/null || true
    [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
    scripts/pg-local.sh stop "$pg_dir" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

dsn=$(scripts/pg-local.sh start "$pg_dir")
APP_ENV=dev POSTGRES_DSN="$dsn" PORT=18080 BIND_ADDRESS=127.0.0.1 "$bin" all >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do grep -q listening "$work/server.log" && break; sleep 0.1; done
sleep 1
idle_rss=$(awk '/VmRSS/ {print $2}' "/proc/$server_pid/status")

mkdir -p "$work/www"
printf 'ok: healthy!!\r\n' >"$work/www/health"   # 15 bytes
cat >"$work/nginx.conf" <<NGINX
worker_processes auto;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 4096; }
http {
    access_log off;
    server {
        listen 127.0.0.1:18081;
        root $work/www;
        location / { default_type text/plain; }
    }
}
NGINX
nginx -c "$work/nginx.conf"
sleep 0.5

rate() { wrk -t2 -c100 -d"$duration" "$1" | awk '/Requests\/sec/ {print $2}'; }
ours=() theirs=()
for _ in $(seq 1 "$rounds"); do
    ours+=("$(rate http://127.0.0.1:18080/health)")
    theirs+=("$(rate http://127.0.0.1:18081/health)")
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
m_ours=$(median "${ours[@]}")
m_nginx=$(median "${theirs[@]}")
busy_rss=$(awk '/VmRSS/ {print $2}' "/proc/$server_pid/status")
echo "msg_server /health req/s: ${ours[*]} (median $m_ours)"
echo "nginx static 15 B req/s:  ${theirs[*]} (median $m_nginx)"
awk -v a="$m_ours" -v b="$m_nginx" 'BEGIN {printf "ratio msg_server/nginx: %.2f\n", a / b}'
echo "msg_server RSS: idle ${idle_rss} KiB, after load ${busy_rss} KiB"
