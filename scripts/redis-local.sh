#!/usr/bin/env bash
# A private Redis for `REDIS=1 make run` (and by hand, for several local nodes):
#
#   scripts/redis-local.sh start|stop [DIR]   start prints REDIS_ADDR (127.0.0.1:<port>)
#
# DIR defaults to ./var/redis. Loopback only, a free port kept in DIR/port (the same one on the
# next start), snapshots in DIR.
set -euo pipefail
cmd=${1:-}
repo=$(cd "$(dirname "$0")/.." && pwd)
dir=${2:-$repo/var/redis}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

running() { [ -f "$dir/pid" ] && kill -0 "$(cat "$dir/pid")" 2>/dev/null; }

case "$cmd" in
start)
    if ! command -v redis-server >/dev/null; then
        echo "redis-local: redis-server is not installed (run scripts/install-deps.sh)" >&2
        exit 1
    fi
    [ -s "$dir/port" ] || python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' >"$dir/port"
    port=$(cat "$dir/port")
    if ! running; then
        redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --daemonize yes \
            --pidfile "$dir/pid" --logfile "$dir/redis.log" >/dev/null
        for _ in $(seq 100); do
            redis-cli -p "$port" ping >/dev/null 2>&1 && break
            sleep 0.05
        done
    fi
    echo "127.0.0.1:$port"
    ;;
stop)
    if running; then kill "$(cat "$dir/pid")"; fi
    ;;
*)
    echo "usage: $0 start|stop [DIR]" >&2
    exit 2
    ;;
esac
