# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Asking a running engine whether it serves the NVIDIA runtime; the outputs follow each engine's format."""

from __future__ import annotations

import json

import pytest

from ansible_collections.edgeai.fleet.plugins.module_utils import _nvidia_engine_state as es

PATH = "/usr/bin/nvidia-container-runtime"

# Shape of `containerd config dump` (containerd 1.7, config version 2) after the drop-in was imported.
CONTAINERD_DUMP = """version = 2
[plugins]
  [plugins."io.containerd.grpc.v1.cri"]
    [plugins."io.containerd.grpc.v1.cri".containerd]
      default_runtime_name = "runc"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes]
        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia]
          runtime_type = "io.containerd.runc.v2"
          [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia.options]
            BinaryName = "/usr/bin/nvidia-container-runtime"
            SystemdCgroup = true
        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
          runtime_type = "io.containerd.runc.v2"
          [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
            SystemdCgroup = true
"""


def test_containerd_serves_the_runtime():
    assert es.containerd_active(CONTAINERD_DUMP, "nvidia", PATH)[0] is True


def test_containerd_2_table_name_is_accepted():
    dump = CONTAINERD_DUMP.replace("io.containerd.grpc.v1.cri", "io.containerd.cri.v1.runtime")
    assert es.containerd_active(dump, "nvidia", PATH)[0] is True


def test_containerd_2_literal_strings_are_accepted():
    """containerd 2.1's `config dump` quotes with single quotes (captured from Debian's 2.1.9, issue 15); the
    regex read only double quotes, so check_running reported a serving containerd 2.x as not restarted."""
    dump = CONTAINERD_DUMP.replace('"io.containerd.grpc.v1.cri"', "'io.containerd.cri.v1.runtime'").replace(
        '"/usr/bin/nvidia-container-runtime"', "'/usr/bin/nvidia-container-runtime'")
    assert "'" in dump and es.containerd_active(dump, "nvidia", PATH)[0] is True


def test_containerd_without_the_table_was_not_restarted():
    dump = CONTAINERD_DUMP.replace("runtimes.nvidia", "runtimes.other")
    active, detail = es.containerd_active(dump, "nvidia", PATH)
    assert active is False and "restarted" in detail


def test_containerd_binary_of_another_runtime_does_not_count():
    dump = CONTAINERD_DUMP.replace('BinaryName = "/usr/bin/nvidia-container-runtime"', "")
    dump += '        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.x.options]\n' \
            '            BinaryName = "/usr/bin/nvidia-container-runtime"\n'
    assert es.containerd_active(dump, "nvidia", PATH)[0] is False


@pytest.mark.parametrize("runtimes, active", [
    ({"runc": {"path": "runc"}, "nvidia": {"path": PATH}}, True),
    ({"runc": {"path": "runc"}}, False),
    ({"nvidia": {"path": "/opt/other"}}, False),
])
def test_docker_runtimes(runtimes, active):
    assert es.docker_active(json.dumps(runtimes), "nvidia", PATH)[0] is active


def test_docker_garbage_is_not_active():
    assert es.docker_active("Cannot connect", "nvidia", PATH)[0] is False


def test_crio_and_podman():
    assert es.crio_active("[crio.runtime.runtimes.nvidia]\nruntime_path = \"x\"\n", "nvidia", PATH)[0] is True
    assert es.crio_active("[crio.runtime.runtimes.runc]\n", "nvidia", PATH)[0] is False
    assert es.podman_active('{"host": {}}', "nvidia", PATH)[0] is True
    assert es.podman_active("", "nvidia", PATH)[0] is False


def test_running_state_asks_the_engine_with_an_argv_list():
    calls = []

    def run(argv):
        calls.append(argv)
        return 0, json.dumps({"nvidia": {"path": PATH}}), ""

    state = es.running_state("docker", "nvidia", PATH, lambda cli: "/usr/bin/" + cli, run)
    assert state["active"] is True
    assert calls == [["/usr/bin/docker", "info", "--format", "{{json .Runtimes}}"]]


def test_a_stopped_daemon_is_not_active():
    state = es.running_state("docker", "nvidia", PATH, lambda cli: "/usr/bin/docker",
                             lambda argv: (1, "", "Cannot connect to the Docker daemon"))
    assert state["active"] is False and "Cannot connect" in state["detail"]


def test_a_missing_cli_is_unknown_not_inactive():
    state = es.running_state("crio", "nvidia", PATH, lambda cli: None, lambda argv: pytest.fail("ran"))
    assert state["active"] is None


def test_a_failed_config_dump_never_echoes_stdout():
    """Secret exposure: `containerd config dump` failing with rc != 0 but a partial dump on stdout put the start of
    the merged config (registry credentials included) into the result's detail."""
    dump = '[plugins."io.containerd.grpc.v1.cri".registry.configs."r".auth]\n  password = "s3cr3t"\n'
    state = es.running_state("containerd", "nvidia", "/usr/bin/nvidia-container-runtime", lambda cli: "/bin/" + cli,
                             lambda argv: (1, dump, ""))
    assert state["active"] is False and "s3cr3t" not in state["detail"]


def test_containerd_dump_reads_the_config_the_module_edited():
    """Without --config, `containerd config dump` reads /etc/containerd/config.toml: check_running with another
    config_path judged the wrong file (found against a real containerd 2.1, issue 15)."""
    calls = []
    es.running_state("containerd", "nvidia", PATH, lambda cli: "/bin/" + cli,
                     lambda argv: calls.append(argv) or (0, "", ""), config_path="/srv/containerd.toml")
    es.running_state("containerd", "nvidia", PATH, lambda cli: "/bin/" + cli, lambda argv: calls.append(argv) or (0, "", ""))
    assert calls == [["/bin/containerd", "--config", "/srv/containerd.toml", "config", "dump"],
                     ["/bin/containerd", "config", "dump"]]
