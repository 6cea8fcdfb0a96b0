# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""edgeai.fleet.nvidia_runtime against a real dockerd 20.10 (Debian 12) started on temporary paths.

Real: dockerd's validation of daemon.json at start, `docker info`, the SIGHUP reload of runtimes.
Simulated: nvidia-container-runtime is a shell script that logs its argv and execs runc (no GPU here).
dockerd uses its own containerd namespaces so it never touches another dockerd's containers.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess

import pytest

from _nvidia_runtime_helpers import Daemon, ansible_module, fake_runtime, wait_for

pytestmark = pytest.mark.skipif(not shutil.which("dockerd") or not shutil.which("docker") or os.geteuid() != 0,
                                reason="needs dockerd, the docker CLI and root")


def user_daemon_json(work):
    """The operator's daemon.json: private roots, no networking, and keys this module must keep."""
    return json.dumps({
        "data-root": work + "/data",
        "exec-root": work + "/exec",
        "pidfile": work + "/docker.pid",
        "hosts": ["unix://%s/docker.sock" % work],
        "containerd-namespace": "it-nvrt",
        "containerd-plugins-namespace": "it-nvrt-plugins",
        "bridge": "none",
        "iptables": False,
        "ip6tables": False,
        "log-level": "warn",
        "log-opts": {"max-size": "10m"},
    }, indent=4) + "\n"


def docker_info(work):
    out = subprocess.run(["docker", "-H", "unix://%s/docker.sock" % work, "info", "--format", "{{json .}}"],
                         capture_output=True, text=True, timeout=30, check=True).stdout
    return json.loads(out)


def start_dockerd(work, config):
    daemon = Daemon(["dockerd", "--config-file", config], os.path.join(work, "dockerd-%d.log" % len(os.listdir(work))))
    sock = os.path.join(work, "docker.sock")
    try:
        wait_for(lambda: not daemon.alive() or subprocess.run(
            ["docker", "-H", "unix://" + sock, "version"], capture_output=True, check=False).returncode == 0,
            30, "dockerd to answer")
        assert daemon.alive(), daemon.output()
    except AssertionError:
        daemon.stop()
        raise
    return daemon


def test_docker_daemon_json_merge_reload_and_removal(work):
    runtime = fake_runtime(work)[0]
    config = os.path.join(work, "daemon.json")
    original = user_daemon_json(work)
    with open(config, "w", encoding="utf-8") as handle:
        handle.write(original)
    args = {"runtime": "docker", "config_path": config, "runtime_path": runtime}

    predicted = ansible_module(args, check=True)
    assert predicted["changed"] and predicted["restart_required"]
    with open(config, encoding="utf-8") as handle:
        assert handle.read() == original

    applied = ansible_module(args)
    assert applied["changed"] and list(applied["backups"]) == [config]
    assert applied["diff"][0]["after"] == predicted["diff"][0]["after"]
    with open(config, encoding="utf-8") as handle:
        merged = json.load(handle)
    assert list(merged) == list(json.loads(original)) + ["runtimes"]
    assert ansible_module(args)["changed"] is False

    daemon = start_dockerd(work, config)
    try:
        info = docker_info(work)
        assert info["Runtimes"]["nvidia"]["path"] == runtime
        assert info["DefaultRuntime"] == "runc"

        # Default runtime plus CDI, then a reload: dockerd re-reads runtimes and default-runtime on SIGHUP.
        changed = ansible_module(dict(args, set_as_default=True, cdi_enabled=True))
        assert changed["changed"]
        daemon.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: docker_info(work)["DefaultRuntime"] == "nvidia", 20, "the reloaded default runtime")

        # A hand edit afterwards is kept: the module sees nothing to do and leaves the file byte for byte.
        with open(config, encoding="utf-8") as handle:
            edited = json.load(handle)
        edited["debug"] = True
        text = json.dumps(edited, indent=4)
        with open(config, "w", encoding="utf-8") as handle:
            handle.write(text)
        assert ansible_module(dict(args, set_as_default=True, cdi_enabled=True))["changed"] is False
        with open(config, encoding="utf-8") as handle:
            assert handle.read() == text

        removed = ansible_module(dict(args, state="absent"))
        assert removed["changed"] and removed["restart_required"]
        with open(config, encoding="utf-8") as handle:
            left = json.load(handle)
        assert left == dict(json.loads(original), debug=True, features={"cdi": True})
    finally:
        daemon.stop()
    # SIGHUP only reloads keys present in the file, and the emptied `runtimes` key is gone: restart.
    daemon = start_dockerd(work, config)
    try:
        info = docker_info(work)
        assert "nvidia" not in info["Runtimes"] and info["DefaultRuntime"] == "runc"
    finally:
        daemon.stop()


def test_dockerd_refuses_what_the_module_refuses(work):
    """A truncated daemon.json stops dockerd at start (testing.md §4); the module refuses it and writes nothing."""
    config = os.path.join(work, "daemon.json")
    with open(config, "w", encoding="utf-8") as handle:
        handle.write('{"runtimes": {')
    result = ansible_module({"runtime": "docker", "config_path": config})
    assert result.get("failed") and "not valid JSON" in result["msg"]
    assert os.listdir(work) == ["daemon.json"]
