#!/usr/bin/env bash
# A private PostgreSQL 15 cluster for `make run` and the tests.
#
#   scripts/pg-local.sh start|stop|status|dsn|pid [DIR]
#   scripts/pg-local.sh replica DIR PRIMARY_DIR
#
# DIR defaults to ./var/pg. The cluster listens only on a Unix socket inside DIR (no TCP port,
# so it never collides with anything and nobody else on the machine can reach it over the
# network). `dsn` prints a libpq key=value DSN for database `msg`; `pid` the postmaster's pid
# (benchmarks add up the CPU of it and its backends).
# PG_FAST=1 turns fsync off (test clusters only: a crash may lose their data).
# PG_TCP_PORT=N (at the first start of DIR) also listens on 127.0.0.1:N, remembered in DIR;
# `tcp-dsn` then prints a DSN over TCP (what a dedicated tenant's settings may name: they
# refuse socket paths).
# `replica` makes DIR a hot standby of the running cluster in PRIMARY_DIR (pg_basebackup -R:
# streaming replication over the primary's Unix socket), starts it and prints its DSN; `stop`
# and `dsn` then work on DIR as on any cluster.
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
primary_dir=""
if [ "$cmd" = replica ]; then
    primary_dir=$(cd "${3:?usage: $0 replica DIR PRIMARY_DIR}" && pwd)
fi
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
if [ -n "${PG_TCP_PORT:-}" ] && [ "$cmd" = start ]; then
    mkdir -p "$data_root"
    echo "$PG_TCP_PORT" >"$data_root/tcp_port"
fi
listen=""
if [ -s "$data_root/tcp_port" ]; then
    port=$(cat "$data_root/tcp_port")
    listen=127.0.0.1
fi

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
        [ -f "$data/standby.signal" ] && extra="-c hot_standby=on"
        if [ "${PG_FAST:-0}" = 1 ]; then
            extra="$extra -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        fi
        "${as_owner[@]}" "$bin/pg_ctl" -D "$data" -l "$log" -w -t 60 \
            -o "-c listen_addresses='$listen' -c unix_socket_directories='$run' -c port=$port -c max_connections=300 $extra" \
            start >/dev/null || { tail -20 "$log" >&2; exit 1; }
    fi
    [ -f "$data/standby.signal" ] && return  # a standby has the primary's databases
    if ! "${as_owner[@]}" psql -h "$run" -p "$port" -U postgres -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = 'msg'" | grep -q 1; then
        "${as_owner[@]}" psql -h "$run" -p "$port" -U postgres -d postgres -qc "CREATE DATABASE msg" >/dev/null
    fi
}

replica() {
    local primary_host
    primary_host=$("$repo/scripts/pg-local.sh" dsn "$primary_dir" | sed -E 's/^host=([^ ]+) .*/\1/')
    if [ ! -s "$data/PG_VERSION" ]; then
        mkdir -p "$data"
        chmod 0700 "$data"
        own "$data_root"
        "${as_owner[@]}" "$bin/pg_basebackup" -h "$primary_host" -p "$port" -U postgres \
            -D "$data" -R -X stream -c fast >"$data_root/basebackup.log" 2>&1 ||
            { cat "$data_root/basebackup.log" >&2; exit 1; }
    fi
    start
}

stop() {
    if [ -s "$data/PG_VERSION" ] && running; then
        "${as_owner[@]}" "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null
    fi
}

case "$cmd" in
    start) start; dsn ;;
    replica) replica; dsn ;;
    stop) stop ;;
    status) if running; then echo running; else echo stopped; exit 3; fi ;;
    dsn) dsn ;;
    tcp-dsn) echo "host=127.0.0.1 port=$port user=postgres dbname=msg" ;;
    pid) head -1 "$data/postmaster.pid" ;;
    *) echo "usage: $0 start|stop|status|dsn|tcp-dsn|pid [DIR] | replica DIR PRIMARY_DIR" >&2; exit 2 ;;
esac
