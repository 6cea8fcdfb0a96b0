#!/usr/bin/env bash
# The callback runs inside a real ansible-playbook: one host publishes values, one fails, and the report
# (table, JSON and Markdown) must say so. The playbook's own rc 2 (a host failed) is expected, not an error.
set -eux

report_dir=$(mktemp -d)
trap 'rm -rf "$report_dir"' EXIT

rc=0
ANSIBLE_CALLBACKS_ENABLED=edgeai.fleet.fleet_report EDGEAI_FLEET_REPORT_DIR="$report_dir" \
    EDGEAI_FLEET_REPORT_NAME=itest ansible-playbook -i inventory.ini publish.yml "$@" > "$report_dir/stdout.txt" || rc=$?
cat "$report_dir/stdout.txt"
[ "$rc" -eq 2 ]

ansible-playbook -i inventory.ini verify.yml -e "report_dir=$report_dir" "$@"
