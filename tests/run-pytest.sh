#!/usr/bin/env bash
# Run pytest and refuse to pass when it collected nothing (its exit code 5): a green run must have run tests.
set -uo pipefail
python=$1
shift
"$python" -m pytest "$@"
rc=$?
if [ "$rc" -eq 5 ]; then
    echo "pytest collected no tests for: $*" >&2
    exit 1
fi
exit "$rc"
