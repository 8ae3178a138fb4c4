#!/bin/sh
# scripts/fuzz.sh - `make fuzz`: runs the libFuzzer targets for as long as
# asked. Arguments: the build directory (already built with QUN_FUZZ=ON).
# Environment: FUZZ (one target, e.g. fuzz_config or config; default every
# fuzz/fuzz_*.c), FUZZ_SECONDS (per target, default 300), FUZZ_SAVE=1 to
# add new inputs to the seed corpus in fuzz/corpus/<target>/ (otherwise
# they go to <build>/fuzz-scratch/<target>/, and the repository is only
# read). A crash, leak or timeout leaves its input as
# <build>/fuzz-artifacts/<target>/crash-* (leak-*, timeout-*) and makes
# the whole run fail after every target has had its turn.
set -u
build=${1:-build-fuzz}
seconds=${FUZZ_SECONDS:-300}
root=$(cd "$(dirname "$0")/.." && pwd)
case $build in /*) ;; *) build=$root/$build ;; esac

if [ -n "${FUZZ:-}" ]; then
    case $FUZZ in fuzz_*) targets=$FUZZ ;; *) targets=fuzz_$FUZZ ;; esac
    [ -f "$root/fuzz/$targets.c" ] || { echo "fuzz: no target fuzz/$targets.c" >&2; exit 2; }
else
    targets=$(cd "$root/fuzz" && ls fuzz_*.c | sed 's/\.c$//')
fi

failed=0
summary=""
for t in $targets; do
    seeds=$root/fuzz/corpus/$t
    art=$build/fuzz-artifacts/$t
    mkdir -p "$seeds" "$art"
    if [ "${FUZZ_SAVE:-0}" = 1 ]; then
        dirs="$seeds"
    else
        scratch=$build/fuzz-scratch/$t
        mkdir -p "$scratch"
        dirs="$scratch $seeds"
    fi
    log=$art/run.log
    echo "fuzz: $t for ${seconds}s (log $log)"
    # shellcheck disable=SC2086 # dirs is a list of directories
    "$build/$t" -max_total_time="$seconds" -timeout=5 -max_len=10000 -print_final_stats=1 \
        -artifact_prefix="$art/" $dirs >"$log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | sed 's/cov: //')
    if [ $rc -eq 0 ]; then
        status=ok
    else
        status="FAILED (rc $rc; $(grep -m1 -E 'ERROR|check failed' "$log" | cut -c1-100))"
        failed=1
    fi
    line=$(printf '%-24s %10s runs %8s/s  cov %6s  %s' "$t" "${runs:-?}" "${rate:-?}" "${cov:-?}" "$status")
    echo "$line"
    summary="$summary$line
"
done
echo "---- fuzz summary (${seconds}s each) ----"
printf '%s' "$summary"
exit $failed
