#!/usr/bin/env bash
# `make fuzz`: builds the libFuzzer targets of fuzz/ (preset `fuzz`, clang-14, ASan + UBSan)
# and runs each for FUZZ_SECONDS (default 60), FUZZ_PARALLEL (default 2) at a time, starting
# from its committed corpus (fuzz/corpus/<target>) plus what earlier runs found
# (var/fuzz/<target>/corpus). Prints one line per target: executions, new corpus size, crashes
# (the inputs are kept in var/fuzz/crashes/). Exit 1 when any target crashed.
#   scripts/fuzz.sh [target...]     (default: every target)
#   FUZZ_MERGE=1 scripts/fuzz.sh    afterwards merges the inputs that add coverage into
#                                   fuzz/corpus/<target> (review and commit them)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh fuzz
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz
bin="../build-$(basename "$PWD")/fuzz/fuzz"
seconds=${FUZZ_SECONDS:-60}
parallel=${FUZZ_PARALLEL:-2}
work=var/fuzz
mkdir -p "$work/crashes"
if (($#)); then
    targets=("$@")
else
    mapfile -t targets < <(ls fuzz/corpus)
fi

run_one() {
    local t=$1
    mkdir -p "$work/$t/corpus"
    # -timeout: one input taking over 10 s is a hang; -rss_limit_mb bounds memory growth.
    "$bin/fuzz_$t" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 \
        -rss_limit_mb=2048 -max_len=16384 -artifact_prefix="$work/crashes/$t-" \
        "$work/$t/corpus" "fuzz/corpus/$t" >"$work/$t/log" 2>&1 || true
}

for t in "${targets[@]}"; do
    [[ -x "$bin/fuzz_$t" ]] || { echo "fuzz: no target $t" >&2; exit 2; }
    while (($(jobs -rp | wc -l) >= parallel)); do wait -n || true; done
    run_one "$t" &
done
wait

failed=0
printf '%-14s %14s %8s %8s\n' target execs corpus crashes
for t in "${targets[@]}"; do
    execs=$(awk '/stat::number_of_executed_units/ {print $2}' "$work/$t/log" | tail -1)
    corpus=$(find "$work/$t/corpus" -type f | wc -l)
    crashes=$(find "$work/crashes" -name "$t-*" -type f | wc -l)
    printf '%-14s %14s %8s %8s\n' "$t" "${execs:-?}" "$corpus" "$crashes"
    if ((crashes > 0)) || [[ -z "$execs" ]]; then
        failed=1
        grep -m1 -E "ERROR|invariant failed|deadly signal" "$work/$t/log" || tail -5 "$work/$t/log"
    fi
    if [[ "${FUZZ_MERGE:-0}" == 1 ]]; then
        "$bin/fuzz_$t" -merge=1 -max_len=16384 "fuzz/corpus/$t" "$work/$t/corpus" \
            >>"$work/$t/log" 2>&1
    fi
done
exit "$failed"
