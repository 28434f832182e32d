#!/usr/bin/env bash
# A private RabbitMQ node (AMQP 0-9-1, our stand-in for LavinMQ) for the tests and by hand:
#
#   scripts/rabbitmq-local.sh start|stop|url [DIR]   start prints LAVINMQ_URL (amqp://…)
#
# DIR defaults to ./var/rabbitmq. Loopback only: the AMQP port, the Erlang distribution port and
# a private epmd port are free ports kept in DIR (the same ones on the next start); the node's
# data, logs, config and Erlang cookie live in DIR. Startup takes ~7 s: start it once per test
# run, not per test. `stop` ends the broker and its epmd.
set -euo pipefail
cmd=${1:-}
repo=$(cd "$(dirname "$0")/.." && pwd)
dir=${2:-$repo/var/rabbitmq}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
server=/usr/lib/rabbitmq/bin/rabbitmq-server

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
port_of() { # name: a free port chosen once and kept
    [ -s "$dir/$1" ] || free_port >"$dir/$1"
    cat "$dir/$1"
}
# Ours when the recorded pid is alive and still the broker started for this directory (a pid
# left by a crash or a reboot may have been reused by something else).
running() {
    [ -s "$dir/pgid" ] || return 1
    local pid
    pid=$(cat "$dir/pgid")
    kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q rabbitmq
}
listening() { python3 -c "import socket; socket.create_connection(('127.0.0.1', $1), 0.5)" 2>/dev/null; }

case "$cmd" in
start)
    if [ ! -x "$server" ]; then
        echo "rabbitmq-local: rabbitmq-server is not installed (run scripts/install-deps.sh)" >&2
        exit 1
    fi
    port=$(port_of port)
    dist=$(port_of dist_port)
    epmd=$(port_of epmd_port)
    if ! running; then
        mkdir -p "$dir/mnesia" "$dir/log" "$dir/home"
        cat >"$dir/rabbitmq.conf" <<EOF
listeners.tcp.default = 127.0.0.1:$port
log.console = false
log.file.level = warning
EOF
        echo '[].' >"$dir/enabled_plugins"
        : >"$dir/rabbitmq-env.conf"
        (
            export HOME=$dir/home RABBITMQ_NODENAME=msg$port@localhost \
                RABBITMQ_MNESIA_BASE=$dir/mnesia RABBITMQ_LOG_BASE=$dir/log \
                RABBITMQ_CONFIG_FILE=$dir/rabbitmq.conf RABBITMQ_CONF_ENV_FILE=$dir/rabbitmq-env.conf \
                RABBITMQ_ENABLED_PLUGINS_FILE=$dir/enabled_plugins RABBITMQ_DIST_PORT=$dist \
                ERL_EPMD_PORT=$epmd ERL_EPMD_ADDRESS=127.0.0.1 \
                RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
            exec setsid "$server" >"$dir/server.out" 2>&1
        ) &
        echo $! >"$dir/pgid"  # setsid execs in place: the pid leads its own process group
        deadline=$((SECONDS + 60))
        until listening "$port"; do
            if ! kill -0 "$(cat "$dir/pgid")" 2>/dev/null; then
                echo "rabbitmq-local: the broker exited; see $dir/server.out and $dir/log" >&2
                tail -20 "$dir/server.out" >&2
                "$0" stop "$dir"
                exit 1
            fi
            if ((SECONDS >= deadline)); then
                echo "rabbitmq-local: no AMQP listener after 60 s; see $dir/log" >&2
                "$0" stop "$dir"
                exit 1
            fi
            sleep 0.2
        done
    fi
    echo "amqp://guest:guest@127.0.0.1:$port/"
    ;;
url)
    echo "amqp://guest:guest@127.0.0.1:$(port_of port)/"
    ;;
stop)
    if running; then
        kill -- "-$(cat "$dir/pgid")" 2>/dev/null || true
        for _ in $(seq 100); do running || break; sleep 0.1; done
        running && kill -9 -- "-$(cat "$dir/pgid")" 2>/dev/null || true
    fi
    rm -f "$dir/pgid"
    # epmd daemonizes out of the broker's process group; ask the one on our port to end.
    if [ -s "$dir/epmd_port" ]; then
        ERL_EPMD_PORT=$(cat "$dir/epmd_port") /usr/lib/erlang/bin/epmd -kill >/dev/null 2>&1 || true
    fi
    ;;
*)
    echo "usage: $0 start|stop|url [DIR]" >&2
    exit 2
    ;;
esac
