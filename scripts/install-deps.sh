#!/usr/bin/env bash
# Installs every Debian package the build, the tests and `make run` need.
# Idempotent: does nothing (and prints nothing) when all packages are present.
#   scripts/install-deps.sh        what `make run` and `make test` need
#   scripts/install-deps.sh fuzz   also clang-14 with libFuzzer (`make fuzz`)
set -euo pipefail

packages=(
    build-essential cmake ninja-build ccache mold pkg-config clang-format
    libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev libboost-system1.81-dev
    libboost-context1.81-dev
    libpq-dev libhiredis-dev librabbitmq-dev libvips-dev libsodium-dev libjwt-dev libutf8proc-dev
    libspdlog-dev libfmt-dev libhnswlib-dev libgtest-dev libbenchmark-dev
    postgresql-15 postgresql-client-15 redis-server rabbitmq-server
    python3 python3-websockets python3-boto3 python3-pika curl procps
)

if [[ "${1:-}" == fuzz ]]; then
    packages+=(clang-14 libclang-rt-14-dev)
fi

# Node.js + npm run s3rver (the tests' S3 server). A Node.js that is already there (e.g. from
# NodeSource, which bundles npm) is used as it is; otherwise Debian's.
if ! command -v npm >/dev/null 2>&1; then
    packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done

if ((${#missing[@]})); then
    echo "install-deps: installing ${missing[*]}"
    sudo_cmd=()
    [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
    export DEBIAN_FRONTEND=noninteractive
    "${sudo_cmd[@]}" apt-get update -qq
    "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
