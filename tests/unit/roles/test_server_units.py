# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The systemd units of the model servers and the MPS daemon, rendered from the roles' templates.

Attack reproduced: the KServe server binds 0.0.0.0 (hard-coded upstream), serves ``/v2/repository/models/*/unload``
without authentication and ran as root with only ``NoNewPrivileges``: anyone on the LAN could unload the model, and a
bug in the server was root on the device. The unit must keep the network out by itself (IPAddressDeny/Allow) and run
unprivileged and sandboxed. ``systemd-analyze security --offline`` scores the rendered file the way it scores a loaded
unit (systemd >= 250); the lab proves enforcement on a running node (molecule/model_serving).

Rendered with plain Jinja2 plus the few Ansible filters the templates use, so no play is needed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import jinja2
import pytest

from ansible.module_utils.parsing.convert_bool import boolean

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
EXPOSURE_TARGET = 3.0

KSERVE_VARS = {
    "ansible_managed": "Ansible managed", "model_serving_model_name": "tiny", "model_serving_port": 8000,
    "model_serving_kserve_venv": "/var/lib/edgeai/kserve", "model_serving_repository": "/var/lib/edgeai/models",
    "model_serving_cache_dir": "/var/cache/edgeai/model-cache", "model_serving_kserve_threads": 0,
    "model_serving_listen_allow": [], "__model_serving_kserve_cache_rel": "edgeai/model-cache",
    "__model_serving_kserve_gpu": False, "model_serving_backend": "ovms", "__model_serving_service": "edgeai-ovms",
    "__model_serving_container_images": {"ovms": "docker.io/openvino/model_server:2025.3", "triton": "nvcr.io/x:1"},
    "model_serving_container_gpu": False,
}
MPS_VARS = {
    "ansible_managed": "Ansible managed", "__gpu_sharing_plan": {"replicas": 4},
    "__gpu_sharing_mps_pipe_dir": "/run/nvidia-mps", "__gpu_sharing_mps_log_dir": "/var/log/nvidia-mps",
    "__gpu_sharing_mps_state": "/var/lib/edgeai-mps/compute-modes", "__gpu_sharing_mps_helper": "/usr/local/libexec/edgeai-mps-control",
}


def render(relpath, variables, **overrides):
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(ROOT), undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    env.filters.update(comment=lambda text: "#\n# %s\n#" % text, bool=boolean, basename=os.path.basename, dirname=os.path.dirname)
    return env.get_template(relpath).render(dict(variables, **overrides))


def directives(unit):
    """Every ``Key=value`` of a unit as {key: [values]} (repeated keys keep their order)."""
    found = {}
    for line in unit.splitlines():
        match = re.match(r"^([A-Za-z]+)=(.*)$", line)
        if match:
            found.setdefault(match.group(1), []).append(match.group(2))
    return found


def exposure(unit, tmp_path, name):
    """The overall exposure score systemd-analyze gives the unit file (lower is safer)."""
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        pytest.skip("systemd-analyze is not installed")
    path = tmp_path / name
    path.write_text(unit)
    proc = subprocess.run([analyze, "security", "--offline=true", "--no-pager", str(path)], capture_output=True, text=True,
                          check=False, timeout=60)
    match = re.search(r"Overall exposure level for \S+: ([0-9.]+)", proc.stdout)
    if not match:
        pytest.skip("systemd-analyze has no --offline security scoring (systemd < 250): %s" % proc.stderr.strip())
    return float(match.group(1))


def kserve(**overrides):
    return render("roles/model_serving/templates/edgeai-model.service.j2", KSERVE_VARS, **overrides)


def test_kserve_unit_is_loopback_only_unprivileged_and_sandboxed(tmp_path):
    keys = directives(kserve())
    assert keys["IPAddressDeny"] == ["any"] and keys["IPAddressAllow"] == ["localhost"]
    assert keys["DynamicUser"] == ["yes"] and "User" not in keys
    assert keys["CapabilityBoundingSet"] == [""] and keys["AmbientCapabilities"] == [""]
    assert keys["ProtectSystem"] == ["strict"] and keys["ProtectHome"] == ["yes"] and keys["PrivateTmp"] == ["yes"]
    assert keys["PrivateDevices"] == ["yes"] and "DeviceAllow" not in keys
    assert keys["RestrictAddressFamilies"] == ["AF_INET AF_INET6 AF_UNIX"]
    assert keys["SystemCallFilter"][0] == "@system-service" and keys["NoNewPrivileges"] == ["yes"]
    assert keys["ReadOnlyPaths"] == ["/var/lib/edgeai/models /var/lib/edgeai/kserve"]
    # The cache the server writes is the one systemd hands to the dynamic user.
    assert keys["CacheDirectory"] == ["edgeai/model-cache/tiny"]
    assert "--cache_dir /var/cache/edgeai/model-cache/tiny" in keys["ExecStart"][0]
    # A dynamic user has no home, and OpenVINO's import-time telemetry check dies on Path.home() without one
    # (the lab's OpenVINO artifact crash-looped before HOME pointed at the cache).
    assert "HOME=%C/edgeai/model-cache/tiny" in keys["Environment"]


def test_kserve_unit_exposure_score(tmp_path):
    score = exposure(kserve(), tmp_path, "edgeai-model-tiny.service")
    assert score <= EXPOSURE_TARGET, score


def test_kserve_unit_with_a_gpu_artifact_gets_only_gpu_device_nodes(tmp_path):
    keys = directives(kserve(__model_serving_kserve_gpu=True))
    assert "PrivateDevices" not in keys and keys["DevicePolicy"] == ["closed"]
    assert keys["DeviceAllow"] == ["char-nvidia-frontend rw", "char-nvidia-uvm rw", "char-nvidia-caps rw", "char-drm rw"]
    assert exposure(kserve(__model_serving_kserve_gpu=True), tmp_path, "gpu.service") <= EXPOSURE_TARGET


def test_kserve_unit_lan_exposure_is_an_explicit_allow_list():
    keys = directives(kserve(model_serving_listen_allow=["192.0.2.0/24", "fd00::/8"]))
    assert keys["IPAddressDeny"] == ["any"] and keys["IPAddressAllow"] == ["localhost 192.0.2.0/24 fd00::/8"]


def test_quadlet_publishes_on_loopback_read_only_without_privilege():
    unit = render("roles/model_serving/templates/model-server.container.j2", KSERVE_VARS)
    keys = directives(unit)
    assert keys["PublishPort"] == ["127.0.0.1:8000:8000"]
    assert keys["DropCapability"] == ["ALL"] and keys["NoNewPrivileges"] == ["true"] and keys["ReadOnly"] == ["true"]
    assert [v for v in keys["Volume"] if v.endswith(":/models:ro,Z")] and "privileged" not in unit.lower().replace(
        "need no privilege", "")
    lan = directives(render("roles/model_serving/templates/model-server.container.j2", KSERVE_VARS,
                            model_serving_listen_allow=["192.0.2.0/24"]))
    assert lan["PublishPort"] == ["8000:8000"]


def test_mps_daemon_unit_is_sandboxed_and_off_the_network(tmp_path):
    unit = render("roles/gpu_sharing/templates/edgeai-mps.service.j2", MPS_VARS)
    keys = directives(unit)
    assert keys["RestrictAddressFamilies"] == ["AF_UNIX AF_NETLINK"] and keys["IPAddressDeny"] == ["any"]
    assert keys["NoNewPrivileges"] == ["yes"] and keys["ProtectSystem"] == ["full"] and keys["ProtectHome"] == ["yes"]
    # Root with the GPU nodes stays: it sets compute modes and starts the MPS server as the client's user.
    assert "PrivateDevices" not in keys and "DynamicUser" not in keys
    assert exposure(unit, tmp_path, "edgeai-mps.service") < 9.0
