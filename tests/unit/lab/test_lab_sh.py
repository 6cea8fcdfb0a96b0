# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""tests/lab/lab.sh's inventory and clean-up, with podman replaced by a script.

Simulated: podman. The double answers the calls lab.sh makes (`ps -a`, `container inspect` for a node's address,
`network exists`, `network rm`) from fixed data and records every call; no container runs.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml

LAB = Path(__file__).resolve().parents[2] / "lab" / "lab.sh"
NODES = "lab-01 cpu\nlab-02 gpu\n"
FAKE_PODMAN = """#!/bin/sh
echo "$*" >> "$PODMAN_CALLS"
case "$1 $2" in
  "ps -a") printf '%s' "$PODMAN_NODES" ;;
  "ps -aq") printf '%s' "$PODMAN_ATTACHED" ;;
  "container inspect") echo 10.89.0.7 ;;
  "network exists") exit 0 ;;
esac
"""

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="lab.sh refuses to run unless root")


@pytest.fixture
def lab(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "podman").write_text(FAKE_PODMAN)
    (bin_dir / "podman").chmod(0o755)
    node_keys = tmp_path / "cache" / "ssh" / "lab" / "node"
    node_keys.mkdir(parents=True)
    (node_keys / "ssh_host_ed25519_key.pub").write_text("ssh-ed25519 AAAAC3Nza lab-host\n")
    calls = tmp_path / "calls"
    calls.touch()

    def run(command, connection, nodes=NODES, attached=""):
        inventory = tmp_path / connection / "hosts.yml"
        env = dict(os.environ, PATH="%s:%s" % (bin_dir, os.environ["PATH"]), EDGEAI_LAB_CACHE=str(tmp_path / "cache"),
                   EDGEAI_LAB_PREFIX="lab", EDGEAI_LAB_INVENTORY=str(inventory), EDGEAI_LAB_CONNECTION=connection,
                   PODMAN_CALLS=str(calls), PODMAN_NODES=nodes, PODMAN_ATTACHED=attached)
        subprocess.run(["bash", str(LAB), command], env=env, check=True, capture_output=True, text=True)
        return inventory

    run.known_hosts = node_keys.parent / "known_hosts"
    run.calls = calls
    return run


def _hosts(inventory):
    doc = yaml.safe_load(inventory.read_text())["lab"]
    hosts = {}
    for group in doc["children"].values():
        hosts.update(group["hosts"] or {})
    return doc["vars"], hosts


def test_podman_inventory_addresses_nodes_by_container_name(lab):
    """An ansible_host address made every podman exec fail with exit 125 (install_double in lab.sh up)."""
    lab("inventory", "ssh")
    known = lab.known_hosts.read_text()
    group_vars, hosts = _hosts(lab("inventory", "podman"))
    assert group_vars["ansible_connection"] == "containers.podman.podman"
    assert sorted(hosts) == ["lab-01", "lab-02"]
    assert all("ansible_host" not in host for host in hosts.values())
    # written beside the ssh inventory of the same lab, it leaves the pinned host keys alone
    assert lab.known_hosts.read_text() == known


def test_ssh_inventory_pins_each_address(lab):
    group_vars, hosts = _hosts(lab("inventory", "ssh"))
    assert group_vars["ansible_connection"] == "ansible.builtin.ssh"
    assert hosts["lab-02"] == {"lab_doubles": ["nvidia"], "ansible_host": "10.89.0.7", "ansible_podman_host": "lab-02"}
    assert lab.known_hosts.read_text().splitlines() == ["10.89.0.7 ssh-ed25519 AAAAC3Nza"] * 2


@pytest.mark.parametrize("attached, removed", [("", True), ("abc123", False)], ids=["unused", "in-use"])
def test_down_removes_the_network_only_when_unused(lab, attached, removed):
    """The bridge outlived every lab before (a known leftover); another lab's container keeps it."""
    lab("down", "ssh", nodes="", attached=attached)
    assert ("network rm edgeai-lab" in lab.calls.read_text()) is removed
