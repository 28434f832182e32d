#!/usr/bin/env bash
# clang-tidy with the project's .clang-tidy over the debug build's compile_commands.json.
#   scripts/tidy.sh              every .cpp under src/ (slow on two cores: `make lint`)
#   scripts/tidy.sh FILE...      just those files
# Exit 1 when clang-tidy reports a warning.
set -euo pipefail
cd "$(dirname "$0")/.."
build="../build-$(basename "$PWD")/debug"
if [[ ! -f "$build/compile_commands.json" ]]; then
    cmake --preset debug >/dev/null
fi
if (($#)); then
    files=("$@")
else
    mapfile -t files < <(find src -name '*.cpp' | sort)
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
# Two files at a time (two cores); each clang-tidy parses its file's headers once.
printf '%s\n' "${files[@]}" |
    xargs -P 2 -n 1 clang-tidy-14 -p "$build" --quiet 2>/dev/null >"$out" || true
if grep -q "warning:" "$out"; then
    grep -A3 "warning:" "$out"
    echo "clang-tidy: $(grep -c 'warning:' "$out") warning(s)"
    exit 1
fi
echo "clang-tidy: ${#files[@]} file(s) clean"
