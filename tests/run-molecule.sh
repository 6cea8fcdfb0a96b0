#!/usr/bin/env bash
# Run `molecule test` for one scenario ($1) or for every scenario under molecule/; fail if none ran.
set -uo pipefail
if [ -n "${1:-}" ]; then
    scenarios=("$1")
else
    mapfile -t scenarios < <(find molecule -mindepth 2 -maxdepth 2 -name molecule.yml -printf '%h\n' | xargs -rn1 basename | sort)
fi
[ ${#scenarios[@]} -gt 0 ] || { echo "no molecule scenarios found" >&2; exit 1; }
passed=0
failed=()
for scenario in "${scenarios[@]}"; do
    start=$SECONDS
    if molecule test -s "$scenario"; then
        passed=$((passed + 1))
        echo "molecule scenario $scenario passed in $((SECONDS - start)) s"
    else
        failed+=("$scenario")
        echo "molecule scenario $scenario FAILED in $((SECONDS - start)) s" >&2
    fi
done
echo "molecule: $passed passed, ${#failed[@]} failed"
[ ${#failed[@]} -eq 0 ]
