# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the nvidia_toolkit role left on the lab node, asked of the real containerd and dockerd.

The GPU, nvidia-ctk and nvidia-container-runtime are the lab's nvidia double; the engines are real.
"""

from __future__ import annotations

import json


def test_engines_run(host):
    assert host.service("containerd").is_running
    assert host.service("docker").is_running


def test_containerd_merged_config_has_the_nvidia_runtime_with_systemd_cgroup(host):
    dump = host.check_output("containerd config dump")
    assert '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia]' in dump
    assert 'BinaryName = "/usr/bin/nvidia-container-runtime"' in dump
    nvidia = dump.split('[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia.options]')[1].split("[")[0]
    assert "SystemdCgroup = true" in nvidia, "runc's options are carried into the nvidia runtime"


def test_containerd_drop_in_asks_for_cdi(host):
    # containerd 1.6 has no CDI support (enable_cdi arrived in 1.7), so its dump does not show the key; 1.7+ reads it.
    assert "enable_cdi = true" in host.file("/etc/containerd/conf.d/99-nvidia.toml").content_string


def test_containerd_user_config_kept(host):
    config = host.file("/etc/containerd/config.toml").content_string
    assert config.startswith("# user config: the role must keep this comment")
    assert "/etc/containerd/conf.d/*.toml" in config


def test_docker_lists_the_nvidia_runtime_and_keeps_user_keys(host):
    runtimes = json.loads(host.check_output("docker info --format '{{json .Runtimes}}'"))
    assert runtimes["nvidia"]["path"] == "/usr/bin/nvidia-container-runtime"
    daemon = json.loads(host.file("/etc/docker/daemon.json").content_string)
    assert daemon["log-opts"] == {"max-size": "10m"} and daemon["features"] == {"cdi": True}


def test_cdi_spec_generated_and_refresh_units_enabled(host):
    listed = host.check_output("nvidia-ctk cdi list").splitlines()
    assert "nvidia.com/gpu=0" in listed and "nvidia.com/gpu=all" in listed
    assert host.file("/var/run/cdi/nvidia.yaml").is_file
    assert not host.file("/etc/cdi/nvidia.yaml").exists
    assert host.service("nvidia-cdi-refresh.path").is_enabled
    assert host.service("nvidia-cdi-refresh.service").is_enabled
