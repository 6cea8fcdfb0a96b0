# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Which runtime the NVIDIA runtime copies its options from, replayed from nvidia-container-toolkit's own tables.

Upstream: NVIDIA/nvidia-container-toolkit at d34b304 (2026-08-21). The rule is GetLowLevelRuntimes
(pkg/config/engine/engine.go): the default runtime unless it is empty or ``nvidia*``, then ``runc``, then
``crun``; the first that exists is copied whole. Inputs are upstream's test configs; each id names the
upstream file and test case. Where this module deliberately differs (docs/nvidia-runtime.md) the case says so.
"""

from __future__ import annotations

import os

import pytest

from ansible_collections.edgeai.fleet.plugins.module_utils import _nvidia_runtime as core
from ansible_collections.edgeai.fleet.plugins.module_utils._toml_lite import loads
from ansible_collections.edgeai.fleet.tests.unit.plugins.module_utils.nvidia_runtime_files import params, write

V2 = "io.containerd.grpc.v1.cri"
CTRD_TEST = "containerd/config_test.go::TestAddRuntime/"
CRIO_TEST = "crio/crio_test.go::TestAddRuntime/"


def dropped(p, name="99-nvidia.toml"):
    with open(os.path.join(p["drop_in_dir"], name), encoding="utf-8") as handle:
        return loads(handle.read())


def ctrd_runtimes(**runtimes):
    """An upstream-shaped version 2 config (config_test.go's layout) with these runtimes; ``default`` names one."""
    default = runtimes.pop("default_name", None)
    lines = ['version = 2', '[plugins]', '[plugins."io.containerd.grpc.v1.cri"]',
             '\t[plugins."io.containerd.grpc.v1.cri".containerd]']
    if default:
        lines.append('\tdefault_runtime_name = "%s"' % default)
    lines.append('\t[plugins."io.containerd.grpc.v1.cri".containerd.runtimes]')
    for name, (runtime_type, binary, systemd) in runtimes.items():
        table = '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.%s]' % name.replace("_", "-")
        lines += ['\t\t' + table, '\t\tprivileged_without_host_devices = false', '\t\truntime_engine = ""',
                  '\t\truntime_root = ""', '\t\truntime_type = "%s"' % runtime_type,
                  '\t\t' + table[:-1] + '.options]', '\t\t\tBinaryName = "%s"' % binary,
                  '\t\t\tSystemdCgroup = %s' % str(systemd).lower()]
    return "\n".join(lines) + "\n"


# config, expected (runtime_type, SystemdCgroup) of the nvidia runtime
CONTAINERD_CASES = [
    pytest.param(ctrd_runtimes(runc=("io.containerd.runc.v2", "/usr/bin/runc", True)),
                 ("io.containerd.runc.v2", True), id=CTRD_TEST + "options from runc are imported"),
    pytest.param(ctrd_runtimes(runc=("", "/usr/bin/runc", True)), ("io.containerd.runc.v2", True),
                 id=CTRD_TEST + "empty runtime_type copied from runc options is replaced with default"),
    pytest.param(ctrd_runtimes(default_name="default", default=("io.containerd.runc.v2", "/usr/bin/default", True)),
                 ("io.containerd.runc.v2", True), id=CTRD_TEST + "options from default runtime are imported"),
    pytest.param(ctrd_runtimes(default_name="default", runc=("io.containerd.runc.v2", "/usr/bin/runc", True),
                               default=("io.containerd.runc.v2", "/usr/bin/default", False)),
                 ("io.containerd.runc.v2", False), id=CTRD_TEST + "options from the default runtime take precedence over runc"),
    # Upstream copies `runc` whatever its runtime_type ("type" in its table): so do we, io.containerd.runc.v1 included.
    pytest.param(ctrd_runtimes(runc=("type", "/usr/bin/runc", True)), ("type", True),
                 id=CTRD_TEST + "options from runc are imported (runtime_type = type)"),
    pytest.param(ctrd_runtimes(runc=("io.containerd.runc.v1", "/usr/bin/runc", True)), ("io.containerd.runc.v1", True),
                 id="issue15: runc on the io.containerd.runc.v1 shim keeps SystemdCgroup"),
    pytest.param(ctrd_runtimes(default_name="default", runc=("io.containerd.runc.v2", "/usr/bin/runc", True),
                               default=("io.containerd.runc.v1", "/usr/bin/default", False)),
                 ("io.containerd.runc.v1", False), id="issue15: a default on the io.containerd.runc.v1 shim is copied"),
    pytest.param(ctrd_runtimes(crun=("io.containerd.runc.v2", "/usr/bin/crun", True)), ("io.containerd.runc.v2", True),
                 id="engine.go::GetLowLevelRuntimes: crun when there is no runc"),
    # engine.go::GetLowLevelRuntimes ignores an nvidia* default: options come from runc.
    pytest.param(ctrd_runtimes(default_name="nvidia", runc=("io.containerd.runc.v2", "/usr/bin/runc", True),
                               nvidia=("io.containerd.runc.v2", "/usr/bin/nvidia-container-runtime", False)),
                 ("io.containerd.runc.v2", True), id="engine.go::GetLowLevelRuntimes: nvidia default ignored"),
    pytest.param(ctrd_runtimes(default_name="nvidia-cdi", runc=("io.containerd.runc.v2", "/usr/bin/runc", True),
                               nvidia_cdi=("io.containerd.runc.v2", "/usr/bin/nvidia-container-runtime.cdi", False)),
                 ("io.containerd.runc.v2", True), id="engine.go::GetLowLevelRuntimes: nvidia-cdi default ignored"),
    # Deliberate difference: upstream copies a default whatever its shim ("defaulttype"); a kata or gVisor
    # default would make the NVIDIA runtime that shim, so this module passes over it to runc.
    pytest.param(ctrd_runtimes(default_name="default", runc=("io.containerd.runc.v2", "/usr/bin/runc", True),
                               default=("io.containerd.kata.v2", "/usr/bin/default", False)),
                 ("io.containerd.runc.v2", True), id=CTRD_TEST + "default takes precedence: DIFFERS for a non-runc shim"),
]


@pytest.mark.parametrize("config, expected", CONTAINERD_CASES)
def test_containerd_options_source(tmp_path, config, expected):
    p = params(tmp_path)
    write(p["config_path"], config)
    core.run(p)
    nvidia = dropped(p)["plugins"][V2]["containerd"]["runtimes"]["nvidia"]
    assert (nvidia["runtime_type"], nvidia["options"]["SystemdCgroup"]) == expected
    assert nvidia["options"]["BinaryName"] == "/usr/bin/nvidia-container-runtime"


def crio_config(default_name=None, **runtimes):
    lines = ["[crio]", "[crio.runtime]"] + (['default_runtime = "%s"' % default_name] if default_name else [])
    for name, (path, monitor) in runtimes.items():
        lines += ["", "[crio.runtime.runtimes.%s]" % name.replace("_", "-"), 'runtime_path = "%s"' % path,
                  'runtime_type = "oci"', 'monitor_path = "%s"' % monitor]
    return "\n".join(lines) + "\n"


CRIO_CASES = [
    pytest.param(crio_config(runc=("/usr/bin/runc", "/usr/libexec/crio/conmon-runc")), "/usr/libexec/crio/conmon-runc",
                 id=CRIO_TEST + "options from runc are imported"),
    pytest.param(crio_config("default", default=("/usr/bin/default", "/usr/libexec/crio/conmon-default")),
                 "/usr/libexec/crio/conmon-default", id=CRIO_TEST + "options from default runtime are imported"),
    pytest.param(crio_config("default", runc=("/usr/bin/runc", "/usr/libexec/crio/conmon-runc"),
                             default=("/usr/bin/default", "/usr/libexec/crio/conmon-default")),
                 "/usr/libexec/crio/conmon-default", id=CRIO_TEST + "options from the default runtime take precedence over runc"),
    pytest.param(crio_config("nvidia-legacy", runc=("/usr/bin/runc", "/usr/libexec/crio/conmon-runc"),
                             nvidia_legacy=("/usr/bin/nvidia-container-runtime.legacy", "/usr/libexec/crio/conmon-nv")),
                 "/usr/libexec/crio/conmon-runc", id="engine.go::GetLowLevelRuntimes: crio nvidia-legacy default ignored"),
]


@pytest.mark.parametrize("config, monitor", CRIO_CASES)
def test_crio_options_source(tmp_path, config, monitor):
    p = params(tmp_path, runtime="crio")
    write(p["config_path"], config)
    core.run(p)
    nvidia = dropped(p)["crio"]["runtime"]["runtimes"]["nvidia"]
    assert nvidia["monitor_path"] == monitor
    assert (nvidia["runtime_path"], nvidia["runtime_type"]) == ("/usr/bin/nvidia-container-runtime", "oci")


def test_low_level_runtimes_matches_upstream():
    """engine.go::GetLowLevelRuntimes, case by case."""
    assert core.low_level_runtimes(None) == ["runc", "crun"]
    assert core.low_level_runtimes("") == ["runc", "crun"]
    assert core.low_level_runtimes("nvidia-experimental") == ["runc", "crun"]
    assert core.low_level_runtimes("crun") == ["crun", "runc", "crun"]
    assert core.low_level_runtimes(5) == ["runc", "crun"]


@pytest.mark.parametrize("version, expected", [
    pytest.param(2, {"runtime_type": "io.containerd.runc.v2", "runtime_root": "", "runtime_engine": "",
                     "privileged_without_host_devices": False,
                     "options": {"BinaryName": "/usr/bin/nvidia-container-runtime"}},
                 id=CTRD_TEST + "empty config not default runtime"),
    # Deliberate difference: upstream writes runtime_root/runtime_engine into version 3 too; containerd 2.1 logs
    # "Ignoring unknown key in TOML for plugin ... runtime_root" for them at every start (tests/system).
    pytest.param(3, {"runtime_type": "io.containerd.runc.v2", "privileged_without_host_devices": False,
                     "options": {"BinaryName": "/usr/bin/nvidia-container-runtime"}},
                 id=CTRD_TEST + "empty v3 spec is supported: DIFFERS, no keys containerd 2.x ignores"),
])
def test_containerd_fallback_runtime(tmp_path, version, expected):
    p = params(tmp_path)
    write(p["config_path"], "version = %d\n" % version)
    core.run(p)
    plugin = core.CRI_PLUGINS[version]
    assert dropped(p)["plugins"][plugin]["containerd"]["runtimes"]["nvidia"] == expected
