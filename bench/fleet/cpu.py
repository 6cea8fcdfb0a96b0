# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""CPU-seconds from the kernel's cgroup accounting: a run's whole process tree, and each lab node.

CPU-seconds, unlike wall time, do not grow when other jobs share the machine's cores, so they are the
figures that carry over to a real controller and real devices. Both come from cgroup v2 `cpu.stat`
(`usage_usec`), which the kernel keeps for every cgroup even where no controller is enabled: on this
project's hybrid hosts that is the `unified` mount, elsewhere `/sys/fs/cgroup` itself.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path


def unified_root():
    hybrid = Path("/sys/fs/cgroup/unified")
    return hybrid if (hybrid / "cgroup.procs").exists() else Path("/sys/fs/cgroup")


def cpu_seconds(cgroup):
    """usage, user and system CPU-seconds of a cgroup and its descendants."""
    stat = dict(line.split() for line in (Path(cgroup) / "cpu.stat").read_text().splitlines() if line.strip())
    return {key: int(stat[f"{key}_usec"]) / 1e6 for key in ("usage", "user", "system")}


class RunCgroup:
    """A cgroup of its own for one command and everything it starts, ssh ControlPersist masters included.

    The child joins it between fork and exec (`preexec`), so no descendant escapes. `close()` kills what is
    left (those masters outlive ansible-playbook by ControlPersist seconds), then reads the total: each run
    pays for its own connections, as a scheduled job on a real controller does.
    """

    def __init__(self, name):
        self.path = unified_root() / "edgeai-bench" / f"{name}-{os.getpid()}-{time.monotonic_ns()}"
        self.path.mkdir(parents=True)

    def preexec(self):
        with open(self.path / "cgroup.procs", "w", encoding="ascii") as handle:
            handle.write("0")

    def close(self):
        kill = self.path / "cgroup.kill"
        if kill.exists():
            kill.write_text("1", encoding="ascii")
        deadline = time.monotonic() + 10
        while (self.path / "cgroup.procs").read_text().strip() and time.monotonic() < deadline:
            time.sleep(0.05)
        used = cpu_seconds(self.path)
        try:
            self.path.rmdir()
        except OSError:
            pass
        return used


def container_cgroups(names, env=None):
    """{name: cgroup directory} of running containers: podman's own cgroup for each, which holds systemd
    (privileged nodes move it to a child init.scope), its services and every `podman exec`."""
    out = subprocess.run(["podman", "container", "inspect", "--format", "{{ .Name }} {{ .State.CgroupPath }}", *names],
                         capture_output=True, text=True, check=True, env=env).stdout
    return {name: unified_root() / path.lstrip("/") for name, path in (line.split() for line in out.splitlines())}


def snapshot(cgroups):
    return {name: cpu_seconds(path)["usage"] for name, path in cgroups.items()}


def delta(before, after):
    return {name: round(after[name] - before[name], 3) for name in before}


def idle_rates(cgroups, seconds):
    """Each node's CPU-seconds per second while nothing runs against it (systemd, daemons, the model server)."""
    before, started = snapshot(cgroups), time.monotonic()
    time.sleep(seconds)
    after, elapsed = snapshot(cgroups), time.monotonic() - started
    return {name: round((after[name] - before[name]) / elapsed, 4) for name in before}
