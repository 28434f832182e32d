#!/usr/bin/env bash
# A private S3 server for the tests: s3rver (npm, installed under var/npm on first use) on
# loopback with a free port. Credentials S3RVER / S3RVER.
#   scripts/s3rver.sh start DIR   → prints the endpoint (http://127.0.0.1:<port>)
#   scripts/s3rver.sh stop DIR
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cmd=${1:?start|stop}
dir=${2:?directory}
npm_dir=$repo/var/npm
bin=$npm_dir/node_modules/.bin/s3rver

case "$cmd" in
start)
    if [ ! -x "$bin" ]; then
        mkdir -p "$npm_dir"
        npm install --no-audit --no-fund --silent --prefix "$npm_dir" s3rver@3.7.1 >/dev/null
    fi
    mkdir -p "$dir/data"
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    nohup "$bin" -d "$dir/data" -a 127.0.0.1 -p "$port" --silent >"$dir/log" 2>&1 &
    echo $! >"$dir/pid"
    for _ in $(seq 100); do
        if curl -s -o /dev/null "http://127.0.0.1:$port/"; then
            echo "http://127.0.0.1:$port"
            exit 0
        fi
        sleep 0.1
    done
    echo "s3rver did not start: $(cat "$dir/log")" >&2
    exit 1
    ;;
stop)
    if [ -f "$dir/pid" ]; then
        kill "$(cat "$dir/pid")" 2>/dev/null || true
        rm -f "$dir/pid"
    fi
    ;;
*)
    echo "usage: $0 start|stop DIR" >&2
    exit 2
    ;;
esac
