# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""edgeai.fleet.nvidia_runtime against real podman 4.3 (Debian 12).

podman reads drop-ins only from /etc/containers/containers.conf.d (and not at all when CONTAINERS_CONF is
set), so each podman call runs in a private mount namespace where a temporary copy of /etc/containers is
bind-mounted over the real one, with its own storage: the host's podman configuration is never touched.
Real: podman's config loading and OCI runtime resolution. Simulated: nvidia-container-runtime is a script that
logs its argv and execs runc. Debian's podman 4.3 has no `cdi_spec_dirs` setting (it always reads /etc/cdi and
/var/run/cdi, the same directories); this test proves it accepts the drop-in that sets it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile

import pytest

from _nvidia_runtime_helpers import ansible_module, fake_runtime

pytestmark = pytest.mark.skipif(not shutil.which("podman") or not shutil.which("unshare") or os.geteuid() != 0,
                                reason="needs podman, unshare and root")

BASE = """[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"
"""


@pytest.fixture
def etc():
    work = tempfile.mkdtemp(prefix="it-nvrt-")   # short: podman refuses a runroot over 50 characters
    path = os.path.join(work, "etc-containers")
    shutil.copytree("/etc/containers", path, symlinks=True)
    shutil.rmtree(os.path.join(path, "containers.conf.d"), ignore_errors=True)
    with open(os.path.join(path, "containers.conf"), "w", encoding="utf-8") as handle:
        handle.write(BASE)
    yield path
    shutil.rmtree(work, ignore_errors=True)


def podman_info(etc, *args):
    work = os.path.dirname(etc)
    script = 'mount --bind "$1" /etc/containers && shift && exec podman "$@"'
    argv = ["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh", etc,
            "--root", work + "/storage", "--runroot", work + "/run", *args, "info", "--format", "json"]
    env = {k: v for k, v in os.environ.items() if k not in ("CONTAINERS_CONF", "CONTAINERS_CONF_OVERRIDE")}
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)["host"]["ociRuntime"]


def test_podman_named_and_default_runtime(etc, tmp_path):
    runtime, log = fake_runtime(str(tmp_path))
    args = {"runtime": "podman", "config_path": etc + "/containers.conf", "drop_in_dir": etc + "/containers.conf.d",
            "runtime_path": runtime, "podman_named_runtime": True}
    assert podman_info(etc)["name"] == "runc"

    predicted = ansible_module(args, check=True)
    assert predicted["changed"] and not predicted["restart_required"]
    assert not os.path.exists(args["drop_in_dir"])

    applied = ansible_module(args)
    assert applied["changed"] and applied["files"] == [args["drop_in_dir"] + "/99-nvidia.conf"]
    assert ansible_module(args)["changed"] is False
    assert podman_info(etc)["name"] == "runc"            # named only: the default is unchanged
    named = podman_info(etc, "--runtime", "nvidia")
    assert named["path"] == runtime
    with open(log, encoding="utf-8") as handle:
        assert "--version" in handle.read()              # podman asked the (fake) NVIDIA runtime

    # The operator edits containers.conf afterwards: the module leaves it alone and stays idempotent.
    with open(args["config_path"], "a", encoding="utf-8") as handle:
        handle.write('\n[network]\ndefault_network = "podman"\n')
    edited = open(args["config_path"], encoding="utf-8").read()   # pylint: disable=consider-using-with
    default = ansible_module(dict(args, set_as_default=True))
    assert default["changed"] and open(args["config_path"], encoding="utf-8").read() == edited  # pylint: disable=consider-using-with
    info = podman_info(etc)
    assert info["name"] == "nvidia" and info["path"] == runtime

    removed = ansible_module(dict(args, state="absent"))
    assert removed["changed"] and os.listdir(args["drop_in_dir"]) == []
    assert podman_info(etc)["name"] == "runc"
