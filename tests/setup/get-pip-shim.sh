#!/usr/bin/env bash
# ansible-test --venv downloads a get-pip bootstrap script, which cannot be reached from here; put an
# offline one in its cache under the names core 2.19 (pip 24.2) and 2.21 (pip 25.2) look for.
set -euo pipefail
cache="$HOME/.ansible/test/cache"
mkdir -p "$cache"
for name in get_pip_24_2.py get_pip_25_2.py; do
    cat > "$cache/$name" <<'PY'
import ensurepip
import importlib
import os
import runpy
import sys

args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
env = dict(os.environ)
ensurepip.bootstrap(upgrade=True)
# ensurepip sets PIP_CONFIG_FILE=/dev/null; restoring the environment keeps /etc/pip.conf's cert= in effect.
os.environ.clear()
os.environ.update(env)
importlib.invalidate_caches()
sys.argv = ["pip", "install", *args]
runpy.run_module("pip", run_name="__main__", alter_sys=True)
PY
done
