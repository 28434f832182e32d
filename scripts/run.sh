#!/usr/bin/env bash
# Sets up and runs the server on one machine: installs packages, builds the release preset,
# starts a private PostgreSQL under ./var/pg when POSTGRES_DSN is unset, applies migrations,
# seeds the admin (password from ADMIN_PASSWORD, or generated and printed once) and runs
# `msg_server all` on :8080 (PORT). Ctrl-C stops the server; the local database keeps running
# for the next start (scripts/pg-local.sh stop stops it). REDIS=1 also starts a private Redis
# under ./var/redis and sets REDIS_ADDR (the bus between nodes; unset, one node runs with an
# in-process bus). MQ=1 starts a private RabbitMQ under ./var/rabbitmq and sets LAVINMQ_URL
# (events go to the exchange chat.events; docs/events.md).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release
bin=$(dirname "$repo")/build-$(basename "$repo")/release/src/app/msg_server

export APP_ENV=${APP_ENV:-dev}
mkdir -p var/secrets var/data
chmod 700 var/secrets
if [ -z "${JWT_SECRET:-}" ]; then
    # A random secret kept under ./var, so tokens survive a restart and nobody can forge them
    # with the well-known default.
    [ -s var/secrets/jwt_secret ] || head -c 48 /dev/urandom | base64 | tr -d '\n/+=' >var/secrets/jwt_secret
    JWT_SECRET=$(cat var/secrets/jwt_secret)
    export JWT_SECRET
fi
if [ -z "${TENANT_SECRETS_KEY:-}" ]; then
    # Dedicated tenants' credentials are stored encrypted with it (kept, or they are lost).
    [ -s var/secrets/tenant_secrets_key ] || head -c 48 /dev/urandom | base64 | tr -d '\n/+=' >var/secrets/tenant_secrets_key
    TENANT_SECRETS_KEY=$(cat var/secrets/tenant_secrets_key)
    export TENANT_SECRETS_KEY
fi
export DATA_DIR=${DATA_DIR:-$repo/var/data}

if [ -z "${POSTGRES_DSN:-}" ]; then
    POSTGRES_DSN=$(scripts/pg-local.sh start)
    export POSTGRES_DSN
    echo "run: local PostgreSQL at $POSTGRES_DSN"
fi

if [ "${REDIS:-}" = 1 ] && [ -z "${REDIS_ADDR:-}" ]; then
    REDIS_ADDR=$(scripts/redis-local.sh start)
    export REDIS_ADDR
    echo "run: local Redis at $REDIS_ADDR"
fi
if [ "${MQ:-}" = 1 ] && [ -z "${LAVINMQ_URL:-}" ]; then
    LAVINMQ_URL=$(scripts/rabbitmq-local.sh start)
    export LAVINMQ_URL
    echo "run: local RabbitMQ at ${LAVINMQ_URL/guest:guest@/} (stop: scripts/rabbitmq-local.sh stop)"
fi

"$bin" migrate
"$bin" seed-admin
exec "$bin" all
