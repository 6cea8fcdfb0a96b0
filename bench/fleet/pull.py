# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One converged ansible-pull on a lab node: the device's CPU-seconds and the bytes it exchanged with the source.

    python bench/fleet/pull.py                 # as root, venv active; one node of prefix `pullbench`

What runs is the command edgeai-pull.service runs (docs/pull-mode.md), by hand so the source can be a local
`git daemon`: ansible-pull from a venv on the node checks out this repository's HEAD (shallow) into the
collection path and runs playbooks/site.yml against the node with a local connection. The lab compiles models
on a controller, which a pull device does not have, so the model stage is off (`edgeai_site_models=false`): add
the model stage's device cost from the push benchmark's per-role table. The first pull clones and converges;
the second, measured one finds nothing new. Bytes are the node's network-namespace counters (eth0), so they are
what the source server and the network carry; CPU is the node's cgroup, less its idle rate.
Writes bench/results/pull-<UTC time>.json.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cpu

REPO = Path(__file__).resolve().parents[2]
LAB = REPO / "tests" / "lab" / "lab.sh"
RESULTS = REPO / "bench" / "results"
VENV = "/var/lib/edgeai-pull/venv"
CHECKOUT = "/var/lib/edgeai-pull/collections/ansible_collections/edgeai/fleet"


def sh(*argv, **kwargs):
    return subprocess.run(argv, check=True, text=True, capture_output=True, **kwargs).stdout


def net_bytes(pid):
    """rx, tx bytes of eth0 in the network namespace of process `pid`."""
    for line in Path(f"/proc/{pid}/net/dev").read_text().splitlines():
        name, _sep, data = line.partition(":")
        if name.strip() == "eth0":
            fields = data.split()
            return int(fields[0]), int(fields[8])
    raise SystemExit(f"no eth0 in the network namespace of {pid}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--prefix", default="pullbench")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--output-dir", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="edgeai-pull-"))
    env = dict(os.environ, EDGEAI_LAB_PREFIX=args.prefix, EDGEAI_LAB_INVENTORY=str(tmp / "hosts.yml"),
               EDGEAI_FLEET_REPORT_DIR=str(tmp / "report"),
               CONTAINERS_CONF=os.environ.get("EDGEAI_LAB_CACHE", "/var/tmp/edgeai-lab") + "/containers.conf")
    node = f"{args.prefix}-01"
    daemon = None
    try:
        subprocess.run(["/bin/bash", str(LAB), "up", "1"], env=env, check=True, capture_output=True)
        pid = sh("podman", "inspect", "--format", "{{ .State.Pid }}", node, env=env).strip()
        gateway = sh("podman", "inspect", "--format", "{{ range .NetworkSettings.Networks }}{{ .Gateway }}{{ end }}",
                     node, env=env).strip()
        # The source: this repository's HEAD, bare, behind git daemon on the lab bridge.
        sh("git", "clone", "--quiet", "--bare", str(REPO), str(tmp / "src" / "fleet.git"))
        branch = sh("git", "-C", str(REPO), "rev-parse", "--abbrev-ref", "HEAD").strip()
        daemon = subprocess.Popen(["git", "daemon", "--reuseaddr", "--export-all", f"--base-path={tmp / 'src'}",
                                   f"--listen={gateway}", "--port=9418"])
        # ansible-core for the node, from the controller's index (the nodes' own route to PyPI may be filtered).
        wheels = tmp / "wheels"
        version = sh(sys.executable, "-c", "import ansible.release as r; print(r.__version__)").strip()
        sh(sys.executable, "-m", "pip", "download", "--quiet", "-d", str(wheels), f"ansible-core=={version}")
        sh("podman", "cp", str(wheels), f"{node}:/tmp/wheels", env=env)
        sh("podman", "exec", node, "sh", "-c", f"python3 -m venv {VENV} && {VENV}/bin/pip install --quiet --no-index "
           f"--find-links /tmp/wheels ansible-core=={version}", env=env)
        # The device is `localhost` here: ansible-pull's checkout step targets localhost and the host names,
        # and two inventory entries for one machine would clone into the same directory at once.
        inventory = ("all:\n  children:\n    cpu:\n      hosts:\n        localhost:\n"
                     "          ansible_connection: local\n          ansible_python_interpreter: /usr/bin/python3\n")
        sh("podman", "exec", "-i", node, "sh", "-c", "mkdir -p /etc/edgeai-pull && cat >/etc/edgeai-pull/inventory.yml",
           input=inventory, env=env)
        pull = ["podman", "exec", "-w", "/var/lib/edgeai-pull",
                "-e", "ANSIBLE_COLLECTIONS_PATH=/var/lib/edgeai-pull/collections", "-e", "ANSIBLE_NOCOLOR=1",
                node, f"{VENV}/bin/ansible-pull", "--url", f"git://{gateway}/fleet.git", "--checkout", branch,
                "--directory", CHECKOUT, "--inventory", "/etc/edgeai-pull/inventory.yml", "--limit", "localhost",
                "--clean", "-e", "edgeai_site_models=false", "playbooks/site.yml"]
        first = subprocess.run(pull, env=env, capture_output=True, text=True, check=False)
        if first.returncode:
            raise SystemExit(f"first ansible-pull failed:\n{first.stdout[-3000:]}\n{first.stderr[-2000:]}")
        cgroups = cpu.container_cgroups([node], env=env)
        idle = cpu.idle_rates(cgroups, 10)[node]
        rx0, tx0 = net_bytes(pid)
        before, started = cpu.snapshot(cgroups), time.monotonic()
        second = subprocess.run(pull, env=env, capture_output=True, text=True, check=False)
        wall = time.monotonic() - started
        used = cpu.delta(before, cpu.snapshot(cgroups))[node]
        rx1, tx1 = net_bytes(pid)
        result = {
            "started": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "rc": second.returncode,
            "ansible_core": version,
            "wall_s": round(wall, 2),
            "load1": round(os.getloadavg()[0], 2),
            "device_cpu_raw_s": used,
            "idle_cpu_per_s": idle,
            "device_cpu_s": round(max(0.0, used - idle * wall), 3),
            "bytes_rx": rx1 - rx0,
            "bytes_tx": tx1 - tx0,
            "bytes_total": rx1 - rx0 + tx1 - tx0,
            "recap": [line for line in second.stdout.splitlines() if "ok=" in line],
        }
    finally:
        if daemon:
            daemon.terminate()
            daemon.wait()
        if not args.keep:
            subprocess.run(["/bin/bash", str(LAB), "down"], env=env, capture_output=True, check=False)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    out = args.output_dir / f"pull-{datetime.datetime.now(datetime.timezone.utc).strftime('%Y%m%dT%H%M%S')}.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    print(f"wrote {out}")
    return 0 if result["rc"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
