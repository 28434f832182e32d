#!/usr/bin/env bash
# A private PostgreSQL 15 cluster for `make run` and the tests.
#
#   scripts/pg-local.sh start|stop|status|dsn|pid [DIR]
#
# DIR defaults to ./var/pg. The cluster listens only on a Unix socket inside DIR (no TCP port,
# so it never collides with anything and nobody else on the machine can reach it over the
# network). `dsn` prints a libpq key=value DSN for database `msg`; `pid` the postmaster's pid
# (benchmarks add up the CPU of it and its backends).
# PG_FAST=1 turns fsync off (test clusters only: a crash may lose their data).
set -euo pipefail

cmd=${1:-}
repo=$(cd "$(dirname "$0")/.." && pwd)
dir=${2:-$repo/var/pg}
bin=/usr/lib/postgresql/15/bin
port=5432

if [ ! -x "$bin/initdb" ]; then
    echo "pg-local: PostgreSQL 15 is not installed (run scripts/install-deps.sh)" >&2
    exit 1
fi

as_owner=()
if [ "$(id -u)" -eq 0 ]; then
    as_owner=(runuser -u postgres --)
fi

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
# Every path below is absolute; run from / so `runuser -u postgres` never starts in a directory
# the postgres user cannot enter.
cd /

# The postgres user must be able to reach the cluster directory; under a private home (e.g.
# /root) it cannot, so the cluster then lives under /var/tmp with a link from DIR.
data_root=$dir
if ((${#as_owner[@]})) && ! "${as_owner[@]}" test -x "$dir" 2>/dev/null; then
    key=$(printf '%s' "$dir" | sha1sum | cut -c1-12)
    data_root=/var/tmp/msg_server-pg-$key
    mkdir -p "$data_root"
fi
data=$data_root/data
run=$data_root/run
# A Unix socket path is limited to 107 bytes.
if [ ${#run} -gt 90 ]; then
    key=$(printf '%s' "$run" | sha1sum | cut -c1-12)
    run=/tmp/msg_server-pg-$key
fi
log=$data_root/postgres.log

own() {
    if ((${#as_owner[@]})); then chown -R postgres:postgres "$@"; fi
}

dsn() { echo "host=$run port=$port user=postgres dbname=msg"; }

running() { "${as_owner[@]}" "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; }

start() {
    mkdir -p "$run"
    chmod 0700 "$run"
    own "$data_root" "$run"
    if [ ! -s "$data/PG_VERSION" ]; then
        mkdir -p "$data"
        own "$data"
        "${as_owner[@]}" "$bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 \
            --locale=C.UTF-8 >"$data_root/initdb.log" 2>&1 ||
            { cat "$data_root/initdb.log" >&2; exit 1; }
    fi
    if ! running; then
        local extra=""
        if [ "${PG_FAST:-0}" = 1 ]; then
            extra="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        fi
        "${as_owner[@]}" "$bin/pg_ctl" -D "$data" -l "$log" -w -t 60 \
            -o "-c listen_addresses='' -c unix_socket_directories='$run' -c port=$port -c max_connections=300 $extra" \
            start >/dev/null || { tail -20 "$log" >&2; exit 1; }
    fi
    if ! "${as_owner[@]}" psql -h "$run" -p "$port" -U postgres -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = 'msg'" | grep -q 1; then
        "${as_owner[@]}" psql -h "$run" -p "$port" -U postgres -d postgres -qc "CREATE DATABASE msg" >/dev/null
    fi
}

stop() {
    if [ -s "$data/PG_VERSION" ] && running; then
        "${as_owner[@]}" "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null
    fi
}

case "$cmd" in
    start) start; dsn ;;
    stop) stop ;;
    status) if running; then echo running; else echo stopped; exit 3; fi ;;
    dsn) dsn ;;
    pid) head -1 "$data/postmaster.pid" ;;
    *) echo "usage: $0 start|stop|status|dsn|pid [DIR]" >&2; exit 2 ;;
esac
