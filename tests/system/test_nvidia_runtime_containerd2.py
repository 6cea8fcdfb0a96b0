# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""edgeai.fleet.nvidia_runtime against a real containerd 2.x (issue 15).

Real: containerd 2.x and its runc shim from Debian's own package (unstable; Debian 12 has 1.6 and Debian 13 1.7,
see ``containerd2_bin``), run straight from a cache under /var/tmp; its config loading, version 2 -> 3 migration,
strict-mode key checks and the CRI plugin answering over gRPC. Simulated: nothing runs a container, so the NVIDIA
runtime binary is never executed; it only has to be what the CRI plugin serves.

The decision under test: with no main config, the module asks `containerd --version` and writes config version 3
on containerd 2.x, where nvidia-ctk always writes 2. containerd 2.x also reads a version 2 file (it migrates it
in memory at every start); 3 is its native format, so nothing is migrated and no key of ours is ignored.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from _nvidia_runtime_helpers import Daemon, ansible_module, containerd2_bin, wait_for

tomllib = pytest.importorskip("tomllib")
grpc = pytest.importorskip("grpc")
cri = pytest.importorskip("cri_api.v1.api_pb2")
cri_grpc = pytest.importorskip("cri_api.v1.api_pb2_grpc")

pytestmark = pytest.mark.skipif(not shutil.which("apt-get") or not shutil.which("runc") or os.geteuid() != 0,
                                reason="needs apt-get, runc and root")

V3 = "io.containerd.cri.v1.runtime"
RUNTIME = "/usr/bin/nvidia-container-runtime"


@pytest.fixture(scope="module")
def bindir():
    return containerd2_bin()


def config_dump(bindir, main):
    proc = subprocess.run([os.path.join(bindir, "containerd"), "--config", main, "config", "dump"],
                          capture_output=True, text=True, check=True, timeout=30)
    return tomllib.loads(proc.stdout), proc.stdout


def test_no_main_config_gives_version_3_which_containerd_2_serves(bindir, work):
    main, drop_dir = os.path.join(work, "config.toml"), os.path.join(work, "conf.d")
    args = {"runtime": "containerd", "config_path": main, "drop_in_dir": drop_dir, "runtime_path": RUNTIME,
            "check_running": False}
    result = ansible_module(args, path_first=bindir)
    assert result["changed"] and result["runtime_config_version"] == 3, result
    with open(main, encoding="utf-8") as handle:
        assert handle.read() == 'version = 3\nimports = ["%s/*.toml"]\n' % drop_dir

    merged = config_dump(bindir, main)[0]
    runtimes = merged["plugins"][V3]["containerd"]["runtimes"]
    assert runtimes["nvidia"]["options"]["BinaryName"] == RUNTIME
    assert runtimes["nvidia"]["runtime_type"] == "io.containerd.runc.v2"
    assert runtimes["runc"]["runtime_type"] == "io.containerd.runc.v2"
    assert merged["plugins"][V3]["containerd"]["default_runtime_name"] == "runc"

    # The daemon: its CRI plugin serves the handler, and it ignores no key of ours (strict mode logs each one).
    sock = os.path.join(work, "containerd.sock")
    daemon = Daemon([os.path.join(bindir, "containerd"), "--config", main, "--root", os.path.join(work, "root"),
                     "--state", os.path.join(work, "state"), "--address", sock], os.path.join(work, "containerd.log"))
    try:
        wait_for(lambda: os.path.exists(sock) or not daemon.alive(), 20, "containerd's socket")
        assert daemon.alive(), daemon.output()
        channel = grpc.insecure_channel("unix://" + sock)
        status = cri_grpc.RuntimeServiceStub(channel).Status(cri.StatusRequest(verbose=True), timeout=10)
        channel.close()
        handlers = json.loads(status.info["config"])["containerd"]["runtimes"]
        assert handlers["nvidia"]["options"]["BinaryName"] == RUNTIME
        assert "Ignoring unknown key" not in daemon.output(), daemon.output()
        assert "migrat" not in daemon.output().lower(), daemon.output()

        # Idempotent; check_running reads containerd 2.x's dump, which quotes with single quotes, of this config.
        again = ansible_module(dict(args, check_running=True), path_first=bindir)
        assert again["changed"] is False and again["running"]["active"] is True, again
    finally:
        daemon.stop()


def test_nvidia_ctk_version_2_output_is_migrated_by_containerd_2(bindir, work):
    """What nvidia-ctk writes with no main config (version 2 files) works too, through the 2 -> 3 migration:
    the module's version 3 is a choice, not a fix. config_source=command follows the dump's version, as nvidia-ctk."""
    main, drop_dir = os.path.join(work, "config.toml"), os.path.join(work, "conf.d")
    with open(main, "w", encoding="utf-8") as handle:
        handle.write("version = 2\n")
    args = {"runtime": "containerd", "config_path": main, "drop_in_dir": drop_dir, "runtime_path": RUNTIME}
    result = ansible_module(dict(args, config_source="command"), path_first=bindir)
    assert result["runtime_config_version"] == 3, result
    merged = config_dump(bindir, main)[0]
    assert merged["version"] == 3
    assert merged["plugins"][V3]["containerd"]["runtimes"]["nvidia"]["options"]["BinaryName"] == RUNTIME
    assert ansible_module(dict(args, config_source="command"), path_first=bindir)["changed"] is False
