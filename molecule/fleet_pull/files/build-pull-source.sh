#!/usr/bin/env bash
# Build, on the controller, what the fleet_pull scenario's node needs and cannot fetch (it has no network):
# a wheelhouse of ansible-core for the node's CPython 3.11 and a git repository holding local.yml plus just enough
# of edgeai.fleet (the fleet_report callback and module_utils) for the run's report, with signed and unsigned
# branches. Packs both, and the signer's public key, into one tar for one transfer.
# usage: build-pull-source.sh PYTHON COLLECTION_ROOT PLAYBOOK SCRATCH_DIR ARCHIVE
set -euo pipefail
python=$1 collection=$2 playbook=$3 scratch=$4/edgeai-pull-test archive=$5

"$python" -m pip download --quiet --disable-pip-version-check --only-binary=:all: --python-version=3.11 \
    --dest="$scratch/wheelhouse" 'ansible-core>=2.19,<2.20'

mkdir -p "$scratch/src"
# All of module_utils: the callback's imports change as the collection grows, and unused files cost nothing.
(cd "$collection" && cp --parents galaxy.yml meta/runtime.yml plugins/callback/fleet_report.py \
    plugins/module_utils/*.py "$scratch/src/")
cp "$playbook" "$scratch/src/local.yml"
# Two throw-away signing keys: the release key (exported as signer.asc for fleet_pull_gpg_public_keys) signs main;
# a stranger's key, which the device never gets, signs the branch "foreign"; the branch "unsigned" is not signed.
# Their local.yml writes a different proof file, so a test sees whether a refused commit ran anyway.
export GNUPGHOME="$scratch/../gnupg"
mkdir -m 0700 "$GNUPGHOME"
# Key generation and signing start a gpg-agent for this home; stop it with the script.
trap 'gpgconf --kill gpg-agent' EXIT
for who in release stranger; do
    gpg --batch --quiet --passphrase '' --quick-generate-key "$who <$who@example.invalid>" ed25519 sign never
done
gpg --batch --armor --export release@example.invalid >"$scratch/signer.asc"
commit() { # commit KEY|none MESSAGE
    local sign=(-c commit.gpgsign=false)
    [ "$1" = none ] || sign=(-c commit.gpgsign=true -c "user.signingkey=$1@example.invalid")
    git -C "$scratch/src" "${sign[@]}" -c user.name=molecule -c user.email=molecule@example.invalid \
        commit --quiet --message="$2"
}
git -C "$scratch/src" init --quiet --initial-branch=main
git -C "$scratch/src" add --all
commit release 'pull source'
for branch in unsigned foreign; do
    git -C "$scratch/src" checkout --quiet -b "$branch" main
    sed -i "s|/var/tmp/edgeai-pull-proof.txt|/var/tmp/edgeai-pull-$branch-ran.txt|" "$scratch/src/local.yml"
    git -C "$scratch/src" add local.yml
    commit "$([ "$branch" = foreign ] && echo stranger || echo none)" "$branch commit"
done
git -C "$scratch/src" checkout --quiet main

tar -C "$scratch/.." -cf "$archive" edgeai-pull-test
