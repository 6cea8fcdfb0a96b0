# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Shared by the nvidia_runtime real-daemon tests: run the module through `ansible`, a fake NVIDIA runtime,
a daemon started on temporary paths and stopped by PID."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)


def ansible_module(module_args, check=False, diff=True, path_first=None):
    """Run edgeai.fleet.nvidia_runtime on localhost through the ansible CLI; return the task result.
    ``path_first``: a directory searched before PATH (the module finds engine CLIs there)."""
    # Not the repository's ansible.cfg: its report callback would write the lab's run report.
    env = {k: v for k, v in os.environ.items() if k != "ANSIBLE_CONFIG"}
    if path_first:
        env["PATH"] = path_first + os.pathsep + env.get("PATH", "")
    env.update(ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
               ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0")
    env.setdefault("ANSIBLE_COLLECTIONS_PATH", os.path.join(REPO, ".build", "collections"))
    argv = [os.path.join(BIN, "ansible"), "localhost", "-m", "edgeai.fleet.nvidia_runtime", "-a", json.dumps(module_args)]
    argv += ["--check"] * check + ["--diff"] * diff
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, cwd="/", timeout=120, check=False)
    try:
        doc = json.loads(proc.stdout)
    except ValueError:
        raise AssertionError("ansible printed no JSON (rc=%d): %s %s" % (proc.returncode, proc.stdout, proc.stderr))
    return doc["plays"][0]["tasks"][0]["hosts"]["localhost"]


def fake_runtime(directory):
    """A stand-in for nvidia-container-runtime: logs its argv, then runs runc (testing.md §3)."""
    path = os.path.join(directory, "nvidia-container-runtime")
    log = os.path.join(directory, "nvidia-runtime.log")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write('#!/bin/sh\necho "$*" >> %s\nexec /usr/sbin/runc "$@"\n' % log)
    os.chmod(path, 0o755)
    return path, log


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("timed out after %ss waiting for %s" % (timeout, what))


class Daemon:
    """A daemon process started by a test; stopped by its PID (then its children, by PID)."""

    def __init__(self, argv, log_path, env=None):
        self.log_path = log_path
        self.log = open(log_path, "wb")   # pylint: disable=consider-using-with
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, env=env,  # pylint: disable=consider-using-with
                                     start_new_session=True)

    def output(self):
        with open(self.log_path, encoding="utf-8", errors="replace") as handle:
            return handle.read()

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.log.close()


def kill_processes_under(path):
    """Kill leftover processes (shims) whose command line names ``path``: only what our test started."""
    me = os.getpid()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as handle:
                cmdline = handle.read().decode(errors="replace")
        except OSError:
            continue
        if path in cmdline and int(pid) != me:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except OSError:
                pass


def unmount_under(path):
    """Unmount what a daemon left mounted below ``path`` (deepest first), so the temp dir can be removed."""
    with open("/proc/self/mounts", encoding="utf-8") as handle:
        points = [line.split()[1] for line in handle if line.split()[1].startswith(path)]
    for point in sorted(points, key=len, reverse=True):
        subprocess.run(["umount", "-l", point], check=False, capture_output=True)


# containerd 2.x for Debian 12 hosts: Debian 12 has 1.6.20 and Debian 13 "trixie" 1.7.24, so it comes from
# unstable ("sid": 2.1.9 when written), whose binaries need only glibc 2.34 (Debian 12 has 2.36).
CONTAINERD2_CACHE = "/var/tmp/edgeai-fleet-containerd2"
CONTAINERD2_SOURCE = "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian unstable main\n"


def _containerd_major(binary):
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"\sv?(\d+)\.\d+\.\d+", out)
    return int(match.group(1)) if match else None


def containerd2_bin():
    """A directory holding containerd 2.x and its runc shim, unpacked once from Debian's .deb (cached under
    /var/tmp: about 10 s the first time, nothing afterwards). apt runs on a private state directory, so the
    host's package lists and installed packages are never touched; nothing is installed."""
    bindir = os.path.join(CONTAINERD2_CACHE, "bin")
    if _containerd_major(os.path.join(bindir, "containerd")) == 2:
        return bindir
    os.makedirs(CONTAINERD2_CACHE, exist_ok=True)
    work = tempfile.mkdtemp(dir=CONTAINERD2_CACHE)
    try:
        os.makedirs(os.path.join(work, "lists", "partial"))
        os.makedirs(os.path.join(work, "cache", "archives", "partial"))
        with open(os.path.join(work, "sources.list"), "w", encoding="utf-8") as handle:
            handle.write(CONTAINERD2_SOURCE)
        apt = ["-o", "Dir::Etc::SourceList=" + os.path.join(work, "sources.list"), "-o", "Dir::Etc::SourceParts=/nonexistent",
               "-o", "Dir::State::Lists=" + os.path.join(work, "lists"), "-o", "Dir::Cache=" + os.path.join(work, "cache"),
               "-o", "Debug::NoLocking=1", "-o", "APT::Sandbox::User=root", "-qq"]
        subprocess.run(["apt-get"] + apt + ["update"], check=True, capture_output=True, timeout=300)
        subprocess.run(["apt-get"] + apt + ["download", "containerd"], check=True, capture_output=True, timeout=300, cwd=work)
        deb = [name for name in os.listdir(work) if name.startswith("containerd_") and name.endswith(".deb")][0]
        subprocess.run(["dpkg-deb", "-x", os.path.join(work, deb), os.path.join(work, "root")], check=True, timeout=120)
        staged = os.path.join(work, "bin")
        os.makedirs(staged)
        for name in ("containerd", "containerd-shim-runc-v2"):
            shutil.move(os.path.join(work, "root", "usr", "bin", name), staged)
        major = _containerd_major(os.path.join(staged, "containerd"))
        if major != 2:
            raise AssertionError("Debian unstable's containerd is major version %s, not 2: pin another source in "
                                 "CONTAINERD2_SOURCE" % major)
        shutil.rmtree(bindir, ignore_errors=True)
        os.rename(staged, bindir)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return bindir
