#!/usr/bin/env bash
# One user's WebSocket flood vs another user's latency (issue 12): builds release, starts a
# private PostgreSQL, runs bench/ws_flood.py (three fresh servers: no flood, flood under the
# default per-socket budget, flood with the budget off). Knob: FLOOD_SECONDS (10).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
scripts/install-deps.sh >/dev/null
cmake --preset release >/dev/null
cmake --build --preset release >/dev/null
build=$(dirname "$repo")/build-$(basename "$repo")/release
work=$(mktemp -d)
trap 'scripts/pg-local.sh stop "$work/pg" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
dsn=$(scripts/pg-local.sh start "$work/pg")
MSG_SERVER_BIN=$build/src/app/msg_server MSG_TEST_POSTGRES_DSN="${dsn/dbname=msg/dbname=postgres}" \
    /usr/bin/python3 bench/ws_flood.py
