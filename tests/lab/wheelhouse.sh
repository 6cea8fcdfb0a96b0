#!/usr/bin/env bash
# The wheelhouse the lab nodes install the kserve model server from: they have no network, so
# the controller downloads the wheels once and every node (lab.sh, molecule) bind-mounts the
# directory read-only at /srv/edgeai-wheelhouse, where the model_serving role installs with
# pip --no-index --find-links (model_serving_kserve_wheelhouse).
#
# usage: tests/lab/wheelhouse.sh [--prune] [EXTRA_PACKAGE...]
#   Downloads model_serving_kserve_packages and every target's model_serving_kserve_runtime_packages (onnxruntime,
#   openvino, ai-edge-litert for tflite/edgetpu) from roles/model_serving/defaults/main.yml, so the wheelhouse always
#   holds what the role installs for any artifact, plus EXTRA_PACKAGEs; an EXTRA_PACKAGE replaces the role's package
#   of the same name (lab.sh pins the controller's openvino; list it in the hosts' model_serving_kserve_packages
#   too). Wheels are for the nodes' Python (Debian 12: CPython 3.11,
#   glibc 2.36, x86_64), whatever Python runs this script. The wheelhouse is the union of every package set asked
#   for, so callers with different extras do not undo each other; --prune keeps only this set's wheels. A set
#   already downloaded is not fetched again (no network). Prints the wheelhouse path.
#
# environment:
#   EDGEAI_LAB_CACHE     cache root (default /var/tmp/edgeai-lab); the wheelhouse is $EDGEAI_LAB_CACHE/wheelhouse
#   EDGEAI_LAB_PYTHON    Python with pip that downloads (default: python3 on PATH, the venv under make)
set -euo pipefail

src=${BASH_SOURCE[0]}
[[ $src == */* ]] || src=./$src
REPO_ROOT=$(cd "${src%/*}/../.." && pwd)
CACHE=${EDGEAI_LAB_CACHE:-/var/tmp/edgeai-lab}
DEST=$CACHE/wheelhouse
STAMP=$DEST/.edgeai-wheelhouse
PYTHON=${EDGEAI_LAB_PYTHON:-python3}
DEFAULTS=$REPO_ROOT/roles/model_serving/defaults/main.yml

log() { printf 'wheelhouse: %s\n' "$*" >&2; }
die() {
  log "$*"
  exit 1
}

# The "  - name==version" lines of the list model_serving_kserve_packages and of every target's list in the map
# model_serving_kserve_runtime_packages, each once.
role_packages() {
  awk '/^model_serving_kserve_(runtime_)?packages:/ { inside = 1; next }
       inside && /^ +- / { sub(/^ +- +/, ""); gsub(/["\047]/, ""); if (!seen[$0]++) print; next }
       inside && /^ +[A-Za-z0-9_]+:/ { next }
       { inside = 0 }' "$DEFAULTS"
}

# A requirement's project name, normalised (PEP 503): "OpenVINO==2026.4.1" -> openvino.
project() {
  local name=${1%%[<>=!~;[ @]*}
  name=${name//[_.]/-}
  echo "${name,,}"
}

prune=0
if [[ ${1:-} == --prune ]]; then
  prune=1
  shift
fi
mapfile -t role < <(role_packages)
((${#role[@]})) || die "no model_serving_kserve_packages list found in $DEFAULTS"
packages=()
for pkg in "${role[@]}"; do
  for extra in "$@"; do
    [[ $(project "$pkg") == "$(project "$extra")" ]] && continue 2
  done
  packages+=("$pkg")
done
packages+=("$@")

# Binary wheels only, for the node rather than for this machine. pip does not widen a
# manylinux_2_X tag to older glibc versions by itself, so every one the node accepts is listed.
PIP_TARGET=(--only-binary=:all: --implementation cp --python-version 3.11 --abi cp311 --abi abi3 --abi none
  --platform manylinux2014_x86_64)
for ((glibc = 36; glibc >= 17; glibc--)); do PIP_TARGET+=(--platform "manylinux_2_${glibc}_x86_64"); done

hash=$(printf '%s\n' "${packages[@]}" "${PIP_TARGET[@]}" | sha256sum | cut -c1-16)
mkdir -p "$CACHE"
exec 9>"$CACHE/wheelhouse.lock"
flock 9
# The stamp has one line per package set in the wheelhouse: "<hash> <packages>".
if ((!prune)) && [[ -f $STAMP ]] && grep -q "^$hash " "$STAMP"; then
  log "up to date ($hash): $DEST"
  echo "$DEST"
  exit 0
fi

"$PYTHON" -m pip --version >/dev/null 2>&1 || die "$PYTHON has no pip; set EDGEAI_LAB_PYTHON or activate the venv"
tmp=$(mktemp -d "$CACHE/wheelhouse.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
log "downloading ${packages[*]} for CPython 3.11 manylinux x86_64"
start=$SECONDS
# Wheels already in the wheelhouse are taken from it instead of the network.
find_links=()
[[ -d $DEST ]] && find_links=(--find-links "$DEST")
"$PYTHON" -m pip download --quiet --disable-pip-version-check --dest "$tmp" "${find_links[@]}" \
  "${PIP_TARGET[@]}" "${packages[@]}" ||
  die "pip download failed; the wheelhouse is unchanged"

# Update in place rather than replace the directory: running nodes bind-mount it.
mkdir -p "$DEST"
if ((prune)); then
  for old in "$DEST"/*; do
    [[ -e $old ]] || continue
    [[ -e $tmp/${old##*/} ]] || rm -f "$old"
  done
  : >"$STAMP"
fi
mv -f "$tmp"/* "$DEST"/
chmod -R a+rX "$DEST"
{
  [[ -f $STAMP ]] && grep -E '^[0-9a-f]{16} ' "$STAMP"
  echo "$hash ${packages[*]}"
} >"$STAMP.tmp"
mv "$STAMP.tmp" "$STAMP"
log "$(find "$DEST" -name '*.whl' | wc -l) wheels, $(du -sh "$DEST" | cut -f1), in $((SECONDS - start)) s: $DEST"
echo "$DEST"
