# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/os_rollout.yml over five lab nodes where the third wave fails.

Real: five systemd containers (localhost/edgeai-node:bookworm, podman connection), Ansible, the
role, the modules, serial waves and max_fail_percentage. Simulated: bootc (the lab double from
tests/lab/doubles/bootc, one state per node), the registry (the double's catalogue) and reboots
(the double's reboot hook, which ansible.builtin.reboot runs as reboot_command).

Set-up: every node boots edge-os:1.0. The canary resolves edge-os:2.0 to digest GOOD; on the other
nodes the tag has since moved to MOVED (GOOD is still pullable by digest), so digest pinning is
what keeps them on GOOD. GOOD fails its health check on it-bootc-03 only (a node-local fault).
Waves for 5 hosts with [1, "10%", "50%", "100%"]: [01], [02], [03, 04], [05].
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
ROOTFS = os.path.join(REPO, "tests", "lab", "doubles", "bootc", "rootfs")
IMAGE = "localhost/edgeai-node:bookworm"
NODES = ["it-bootc-%02d" % i for i in range(1, 6)]
TAG = "registry.example.com/edgeai/edge-os:2.0"
OLD = "registry.example.com/edgeai/edge-os:1.0"
GOOD = "sha256:" + "6" * 64
MOVED = "sha256:" + "7" * 64


def podman(*args, check=True):
    return subprocess.run(["podman"] + list(args), capture_output=True, text=True, check=check)


def ctl(node, *args):
    return json.loads(podman("exec", node, "/usr/libexec/bootc-double/ctl", *args).stdout)


def wait_for_systemd(node, deadline):
    while time.monotonic() < deadline:
        state = podman("exec", node, "systemctl", "is-system-running", check=False).stdout.strip()
        if state in ("running", "degraded"):
            return
        time.sleep(1)
    raise AssertionError("%s: systemd did not come up" % node)


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    if shutil.which("podman") is None or podman("image", "exists", IMAGE, check=False).returncode != 0:
        pytest.skip("needs podman and %s (make integration builds it with tests/lab/lab.sh build)" % IMAGE)
    for node in NODES:
        podman("rm", "-f", node, check=False)
    try:
        for node in NODES:
            podman("run", "-d", "--name", node, "--hostname", node, "--network", "none", "--systemd", "always",
                   "--ulimit", "nofile=20000:20000", "--ulimit", "nproc=32768:32768", IMAGE, "/sbin/init")
        deadline = time.monotonic() + 90
        for node in NODES:
            wait_for_systemd(node, deadline)
            podman("cp", ROOTFS + "/.", node + ":/")
            ctl(node, "init", OLD, "1.0")
            if node == NODES[0]:
                ctl(node, "push", TAG, "2.0", GOOD)
            else:
                ctl(node, "push", TAG, "2.1", MOVED)
                ctl(node, "push", TAG + "-build-42", "2.0", GOOD)
        ctl(NODES[2], "unhealthy", GOOD)
        inventory = tmp_path_factory.mktemp("bootc-rollout") / "hosts.yml"
        inventory.write_text(json.dumps({"bootc": {
            "hosts": {node: {} for node in NODES},
            "vars": {
                "ansible_connection": "containers.podman.podman",
                "ansible_python_interpreter": "/usr/bin/python3",
                "ansible_become": False,
                "bootc_update_reboot_command": "/usr/libexec/bootc-double/reboot",
                "bootc_update_boot_time_command": "cat /var/lib/bootc-double/boot_id",
                "bootc_update_health_checks": [{"name": "lab double health",
                                                "command": "/usr/libexec/bootc-double/health-check"}],
                "bootc_update_health_retries": 1,
                "bootc_update_health_delay": 1,
            }}}))
        yield str(inventory)
    finally:
        for node in NODES:
            podman("rm", "-f", "-t", "0", node, check=False)


def run_rollout(inventory, *extra):
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"),
               ANSIBLE_COLLECTIONS_PATH=os.environ.get("ANSIBLE_COLLECTIONS_PATH", os.path.join(REPO, ".build", "collections")),
               ANSIBLE_CACHE_PLUGIN="memory", ANSIBLE_NOCOLOR="1")
    playbook = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    return subprocess.run([playbook, "-i", inventory, "edgeai.fleet.os_rollout", "-e", "os_rollout_image=" + TAG] + list(extra),
                          cwd=REPO, env=env, capture_output=True, text=True, check=False)


def booted(node):
    state = ctl(node, "show")
    return state["booted"]["digest"], state


def test_rollout_stops_at_the_failing_wave(fleet):
    proc = run_rollout(fleet)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output
    old_digest = ctl(NODES[4], "show")["catalogue"][OLD]["digest"]
    # Canary and wave 2 run the canary's digest, not the moved tag.
    assert booted("it-bootc-01")[0] == GOOD
    assert booted("it-bootc-02")[0] == GOOD, output
    # Wave 3: it-bootc-03 failed its health check and was rolled back automatically; it-bootc-04 succeeded.
    digest, state = booted("it-bootc-03")
    assert digest == old_digest and state["staged"] is None and state["rollback_queued"] is False
    assert state["rollback"]["digest"] == GOOD
    assert "lab double health" in output and "Rolled back: " + old_digest in output
    assert booted("it-bootc-04")[0] == GOOD
    # Wave 4 never started: it-bootc-05 was not touched at all.
    digest, state = booted("it-bootc-05")
    assert digest == old_digest and state["staged"] is None
    assert [entry for entry in state["log"] if entry[0] == "bootc"] == []
    # No host ever got --apply.
    for node in NODES:
        assert not any("--apply" in entry for entry in ctl(node, "show")["log"])


def test_rerun_is_unchanged_on_updated_hosts(fleet):
    """A re-run of the pinned image changes nothing on the hosts already on it (runs after the rollout above)."""
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"), ANSIBLE_CACHE_PLUGIN="memory")
    playbook = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    proc = subprocess.run([playbook, "-i", fleet, "edgeai.fleet.os_rollout", "--limit", "it-bootc-01,it-bootc-02",
                           "-e", "os_rollout_image=registry.example.com/edgeai/edge-os@" + GOOD,
                           "-e", '{"os_rollout_waves": [2]}'],
                          cwd=REPO, env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "changed=0" in proc.stdout.split("PLAY RECAP")[-1]
