#!/usr/bin/env bash
# Build, on the controller, what the fleet_pull scenario's node needs and cannot fetch (it has no network):
# a wheelhouse of ansible-core for the node's CPython 3.11 and a git repository holding local.yml plus just enough
# of edgeai.fleet (the fleet_report callback) for the run's report. Packs both into one tar for one transfer.
# usage: build-pull-source.sh PYTHON COLLECTION_ROOT PLAYBOOK SCRATCH_DIR ARCHIVE
set -euo pipefail
python=$1 collection=$2 playbook=$3 scratch=$4/edgeai-pull-test archive=$5

"$python" -m pip download --quiet --disable-pip-version-check --only-binary=:all: --python-version=3.11 \
    --dest="$scratch/wheelhouse" 'ansible-core>=2.19,<2.20'

mkdir -p "$scratch/src"
(cd "$collection" && cp --parents galaxy.yml meta/runtime.yml plugins/callback/fleet_report.py \
    plugins/module_utils/_report.py "$scratch/src/")
cp "$playbook" "$scratch/src/local.yml"
git -C "$scratch/src" init --quiet --initial-branch=main
git -C "$scratch/src" add --all
git -C "$scratch/src" -c commit.gpgsign=false -c user.name=molecule -c user.email=molecule@example.invalid commit --quiet --message='pull source'

tar -C "$scratch/.." -cf "$archive" edgeai-pull-test
