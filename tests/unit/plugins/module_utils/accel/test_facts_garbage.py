# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Whatever bytes sysfs files hold (or a directory where a file belongs), accel.facts answers and never raises."""

from __future__ import annotations

import json
import os

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from ansible_collections.edgeai.fleet.plugins.module_utils.accel.facts import collect
from ansible_collections.edgeai.fleet.tests.unit.plugins.module_utils.accel.fixtures.sysfs_tree import Tree

NPU = "sys/devices/pci0000:00/0000:00:0b.0"
APEX = "sys/devices/pci0000:00/0000:03:00.0"
USB = "sys/devices/pci0000:00/0000:00:14.0/usb1/1-2"
FILES = [NPU + "/vendor", NPU + "/device", NPU + "/accel/accel0/uevent", APEX + "/apex/apex_0/status",
         "sys/module/intel_vpu/version", USB + "/idVendor", USB + "/busnum", USB + "/devnum",
         "proc/device-tree/model", "etc/nv_tegra_release"]
GARBAGE = st.one_of(st.binary(max_size=64), st.sampled_from([b"", b"\xff" * 5000, b"0x", b"0x80866", b"DEVNAME=../../etc",
                                                             b"DEVNAME=/abs", b"1" * 9, b"-1", b"\x00\x00"]))


def _full_tree(root):
    tree = Tree(root)
    tree.pci("0000:00:0b.0", "0x8086", "0x7d1d", driver="intel_vpu", module="intel_vpu", version="1.0.", cls="accel",
             devname="accel/accel0")
    tree.pci("0000:03:00.0", "0x1ac1", "0x089a", driver="apex", cls="apex", devname="apex_0", status="ALIVE")
    tree.usb("1-2", "18d1", "9302", 1, 4)
    tree.platform("15880000.nvdla0", driver="nvdla")
    tree.jetson()
    return tree


def _bytes(path):
    with open(path, "rb") as handle:
        return handle.read()


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    return _full_tree(tmp_path_factory.mktemp("sysroot"))


@settings(max_examples=30, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(damage=st.dictionaries(st.sampled_from(FILES), st.one_of(GARBAGE, st.just(None)), min_size=1))
def test_garbage_in_any_file_never_raises(tree, damage):
    """Each example damages some files (garbage bytes, or a directory in the file's place) and restores them after."""
    originals = {rel: _bytes(tree.path(rel)) for rel in damage}
    try:
        for rel, data in damage.items():
            os.remove(tree.path(rel))
            if data is None:
                os.makedirs(tree.path(rel))
            else:
                tree.file(rel, data)
        result = collect(tree.root, access=lambda _p, _m: True, kernel_release="")
    finally:
        for rel, data in originals.items():
            if os.path.isdir(tree.path(rel)):
                os.rmdir(tree.path(rel))
            tree.file(rel, data)
    json.dumps(result)
    assert result["count"] == len(result["devices"]) >= 3
    for device in result["devices"]:
        assert device["usable"] or device["reason"]
        assert device["path"] is None or (device["path"].startswith("/dev/") and ".." not in device["path"])
