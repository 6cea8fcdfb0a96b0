#!/usr/bin/env bash
# Run each `make` stage named on the command line, keep going after a failure, time every stage,
# and end with a pytest-style summary line. Exits non-zero when any stage failed.
set -uo pipefail
mkdir -p tests/output
times=tests/output/stage-times.txt
: > "$times"
passed=0
failed=()
for stage in "$@"; do
    echo "===== stage: $stage ====="
    start=$SECONDS
    if make --no-print-directory "$stage"; then
        status=passed
        passed=$((passed + 1))
    else
        status=FAILED
        failed+=("$stage")
    fi
    printf '%-14s %-7s %5d s\n' "$stage" "$status" "$((SECONDS - start))" | tee -a "$times"
done
echo "===== stage times ====="
cat "$times"
echo "total: $SECONDS s"
[ ${#failed[@]} -eq 0 ] || echo "failed stages: ${failed[*]}"
echo "stages: $passed passed, ${#failed[@]} failed"
[ ${#failed[@]} -eq 0 ]
