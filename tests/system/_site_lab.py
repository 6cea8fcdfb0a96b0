# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Three lab nodes of a test's own (cpu, gpu, bootc) with the demo's lab settings, for site.yml tests.

What the lab simulates: the GPU (NVML, nvidia-ctk and nvidia-container-runtime are the nvidia double) and bootc
(the bootc double, whose reboot hook stands in for a reboot); containerd, dockerd, systemd and the files the
roles write are real (tests/lab/README.md).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LAB = REPO / "tests" / "lab" / "lab.sh"
SITE = REPO / "playbooks" / "site.yml"
CACHE = os.environ.get("EDGEAI_LAB_CACHE", "/var/tmp/edgeai-lab")

MARKS = [
    pytest.mark.lab,
    pytest.mark.slow,
    pytest.mark.skipif(os.geteuid() != 0, reason="the lab runs as root"),
    pytest.mark.skipif(not (shutil.which("podman") and shutil.which("debootstrap")),
                       reason="the lab needs podman and debootstrap (make deps)"),
]


def hosts(prefix):
    return [f"{prefix}-0{i}" for i in (1, 2, 3)]


@contextlib.contextmanager
def site_lab(tmp, prefix, **environ):
    """Nodes <prefix>-01..03 and their inventory under ``tmp``; yields the environment to run against them.

    The inventory mirrors inventories/lab's group_vars; the nodes (this prefix only) are removed whatever happens.
    """
    (tmp / "inventory").mkdir()
    for sub in ("group_vars", "host_vars"):
        if (REPO / "inventories" / "lab" / sub).is_dir():
            (tmp / "inventory" / sub).symlink_to(REPO / "inventories" / "lab" / sub)
    env = dict(
        os.environ,
        CONTAINERS_CONF=f"{CACHE}/containers.conf",
        EDGEAI_LAB_PREFIX=prefix,
        EDGEAI_LAB_INVENTORY=str(tmp / "inventory" / "hosts.yml"),
        ANSIBLE_COLLECTIONS_PATH=os.environ.get("ANSIBLE_COLLECTIONS_PATH", str(REPO / ".build" / "collections")),
        **environ,
    )
    try:
        up = subprocess.run(["/bin/bash", str(LAB), "up", "3"], cwd=REPO, env=env, capture_output=True, text=True,
                            timeout=600, check=False)
        assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-3000:]
        yield env
    finally:
        subprocess.run(["/bin/bash", str(LAB), "down"], cwd=REPO, env=env, capture_output=True, check=False)
