# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""accel.facts over fake sysfs/devfs trees (fixtures/sysfs_tree.py says what is simulated).

Ids name the upstream file each layout or id comes from, so a change there can be traced:
torvalds/linux drivers/accel/ivpu/ivpu_drv.h, google/gasket-driver src/apex_driver.c and src/gasket_core.c,
hailo-ai/hailort-drivers common/pcie_common.h and linux/pcie/src/pcie.c (tags v4.23.0 and v5.3.0).
"""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError
from ansible_collections.edgeai.fleet.plugins.module_utils.accel.facts import collect
from ansible_collections.edgeai.fleet.tests.unit.plugins.module_utils.accel.fixtures.sysfs_tree import Tree

NPU = "0000:00:0b.0"
APEX = "0000:03:00.0"
HAILO = "0000:04:00.0"


def granted(_path, _mode):
    return True


def denied(name):
    """os.access as it answers for a user outside the node's group (root would bypass a real chmod 000)."""
    return lambda path, _mode: os.path.basename(path) != name


def facts(tree, **kwargs):
    kwargs.setdefault("access", granted)
    kwargs.setdefault("tegra", {})
    result = collect(tree.root, **kwargs)
    json.dumps(result)
    assert result["count"] == len(result["devices"])
    return result


@pytest.fixture
def tree(tmp_path):
    return Tree(tmp_path)


def intel_npu(tree, device="0x7d1d", **overrides):
    args = dict(driver="intel_vpu", module="intel_vpu", version="1.0.", cls="accel", devname="accel/accel0")
    args.update(overrides)
    return tree.pci(NPU, "0x8086", device, **args)


@pytest.mark.parametrize("device, model", [
    ("0x7d1d", "Intel NPU (Meteor Lake)"),
    ("0xad1d", "Intel NPU (Arrow Lake)"),
    ("0x643e", "Intel NPU (Lunar Lake)"),
    ("0xb03e", "Intel NPU (Panther Lake)"),
    ("0xfd3e", "Intel NPU (Wildcat Lake)"),
    ("0xd71d", "Intel NPU (Nova Lake)"),
], ids=["torvalds/linux:drivers/accel/ivpu/ivpu_drv.h:PCI_DEVICE_ID_" + n
        for n in ("MTL", "ARL", "LNL", "PTL_P", "WCL", "NVL")])
def test_intel_npu_present_and_usable(tree, device, model):
    intel_npu(tree, device)
    result = facts(tree)
    assert result["devices"] == [{
        "kind": "npu", "vendor": "intel", "model": model, "path": "/dev/accel/accel0", "bus": "pci",
        "id": "8086:" + device[2:], "driver": "intel_vpu", "driver_version": "1.0.", "firmware_version": None,
        "usable": True, "reason": None, "targets": ["openvino:NPU"]}]
    assert (result["count"], result["targets"], result["reason"]) == (1, ["openvino:NPU"], None)


UNUSABLE = [
    ("npu-no-driver", lambda t: t.pci(NPU, "0x8086", "0x7d1d"),
     "no driver bound to PCI 0000:00:0b.0: load the intel_vpu kernel module"),
    ("npu-bound-to-vfio", lambda t: t.pci(NPU, "0x8086", "0x7d1d", driver="vfio-pci"),
     "PCI 0000:00:0b.0 is bound to vfio-pci, not intel_vpu"),
    ("npu-probe-failed-no-class-device", lambda t: t.pci(NPU, "0x8086", "0x7d1d", driver="intel_vpu"),
     "driver intel_vpu is bound to PCI 0000:00:0b.0 but registered no device node"),
    ("npu-node-missing", lambda t: intel_npu(t, node=False),
     "device node /dev/accel/accel0 is missing"),
    ("npu-garbage-vendor-file", lambda t: intel_npu(t, device="\xff\xfegarbage"),
     "PCI 0000:00:0b.0 has an unreadable vendor or device file"),
    ("apex-no-driver", lambda t: t.pci(APEX, "0x1ac1", "0x089a"),
     "no driver bound to PCI 0000:03:00.0: install the gasket-dkms package"),
    ("google/gasket-driver:src/gasket_core.c:ATTR_STATUS-lamed",
     lambda t: t.pci(APEX, "0x1ac1", "0x089a", driver="apex", cls="apex", devname="apex_0", status="LAMED"),
     "the apex driver reports the Edge TPU status as 'LAMED', not ALIVE"),
    ("hailo-no-driver", lambda t: t.pci(HAILO, "0x1e60", "0x2864"),
     "no driver bound to PCI 0000:04:00.0: install HailoRT's PCIe driver"),
]


@pytest.mark.parametrize("build, reason", [case[1:] for case in UNUSABLE], ids=[case[0] for case in UNUSABLE])
def test_present_but_unusable_says_why(tree, build, reason):
    build(tree)
    result = facts(tree)
    (device,) = result["devices"]
    assert device["usable"] is False and device["reason"].startswith(reason), device["reason"]
    assert result["targets"] == [] and result["reason"] == "1 of 1 accelerators not usable: " + device["reason"]


@pytest.mark.parametrize("build, node, group", [
    (intel_npu, "accel0", "render group"),
    (lambda t: t.pci(APEX, "0x1ac1", "0x089a", driver="apex", cls="apex", devname="apex_0"), "apex_0", "apex group"),
    (lambda t: t.usb("1-2", "18d1", "9302", 1, 4), "004", "plugdev group"),
], ids=["accel-render", "google/gasket-driver:debian/gasket-dkms.udev", "coral-usb-plugdev"])
def test_no_permission_names_the_group_that_grants_it(tree, build, node, group):
    build(tree)
    (device,) = facts(tree, access=denied(node))["devices"]
    assert device["usable"] is False
    assert device["reason"].startswith("no read/write permission on %s" % device["path"]) and group in device["reason"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root bypasses file modes; the injected-access test covers it")
def test_real_chmod_000_node_is_not_usable(tree):
    intel_npu(tree, mode=0o000)
    (device,) = collect(tree.root, tegra={})["devices"]
    assert device["usable"] is False and "render group" in device["reason"]


def test_coral_pcie_present_and_usable(tree):
    tree.pci(APEX, "0x1ac1", "0x089a", driver="apex", module="apex", version="1.2", cls="apex", devname="apex_0",
             status="ALIVE")
    (device,) = facts(tree)["devices"]
    assert device == {
        "kind": "edgetpu", "vendor": "google", "model": "Coral Edge TPU (PCIe)", "path": "/dev/apex_0", "bus": "pci",
        "id": "1ac1:089a", "driver": "apex", "driver_version": "1.2", "firmware_version": None, "usable": True,
        "reason": None, "targets": ["edgetpu"]}


@pytest.mark.parametrize("device_id, driver, module, cls, devname, model", [
    ("0x2864", "hailo", "hailo_pci", "hailo_chardev", "hailo0", "Hailo-8"),
    ("0x45c4", "hailo1x", "hailo1x_pci", "hailo_chardev", "hailo0", "Hailo-10H"),
    ("0x45c4", "hailo1x", "hailo1x_pci", "hailo1x", "h1x-0", "Hailo-10H"),
    ("0x26a2", "hailo1x", "hailo1x_pci", "hailo1x", "h1x-0", None),
], ids=["hailo-ai/hailort-drivers@v4.23.0:linux/pcie/src/pcie.c:hailo_chardev",
        "hailo-ai/hailort-drivers@v5.2.0:linux/pcie/src/pcie.c:hailo_chardev",
        "hailo-ai/hailort-drivers@v5.3.0:linux/pcie/src/pcie.c:hailo1x",
        "hailo-ai/hailort-drivers@v5.3.0:common/pcie_common.h:PCI_DEVICE_ID_HAILO_MARS-unnamed"])
def test_hailo_both_driver_generations(tree, device_id, driver, module, cls, devname, model):
    tree.pci(HAILO, "0x1e60", device_id, driver=driver, module=module, version="4.23.0", cls=cls, devname=devname,
             mode=0o666)
    (device,) = facts(tree)["devices"]
    assert (device["kind"], device["vendor"], device["path"], device["id"], device["driver"]) == (
        "hailo", "hailo", "/dev/" + devname, "1e60:" + device_id[2:], driver)
    assert (device["model"], device["driver_version"], device["usable"], device["targets"]) == (
        model, "4.23.0", True, ["hailo"])


def test_coral_usb_after_firmware_load_is_usable(tree):
    tree.usb("2-1", "18d1", "9302", 2, 3)
    (device,) = facts(tree)["devices"]
    assert device == {
        "kind": "edgetpu", "vendor": "google", "model": "Coral USB Accelerator", "path": "/dev/bus/usb/002/003",
        "bus": "usb", "id": "18d1:9302", "driver": None, "driver_version": None, "firmware_version": None,
        "usable": True, "reason": None, "targets": ["edgetpu"]}


def test_coral_usb_before_firmware_load_is_usable_once_libedgetpu_is_installed(tree):
    tree.usb("1-2", "1a6e", "089a", 1, 4)
    (before,) = facts(tree)["devices"]
    assert before["usable"] is False and before["id"] == "1a6e:089a"
    assert "libedgetpu.so.1 not found" in before["reason"] and "libedgetpu1-std" in before["reason"]

    tree.file("usr/lib/aarch64-linux-gnu/libedgetpu.so.1", b"\x7fELF")
    (ready,) = facts(tree)["devices"]
    assert ready["usable"] is True and ready["reason"].startswith("firmware not loaded yet: libedgetpu loads it")
    assert facts(tree)["targets"] == ["edgetpu"]


def test_include_usb_false_skips_usb(tree):
    tree.usb("1-2", "18d1", "9302", 1, 4)
    assert facts(tree, include_usb=False)["count"] == 0


def test_jetson_orin_has_two_dla_cores(tree):
    tree.jetson()
    tree.platform("15880000.nvdla0", driver="nvdla")
    tree.platform("158c0000.nvdla1", driver="nvdla")
    tree.platform("17000000.gpu", driver="gk20a")
    result = collect(tree.root, access=granted, kernel_release="5.15.136-tegra")
    assert [(d["kind"], d["id"], d["bus"], d["path"], d["driver"], d["usable"]) for d in result["devices"]] == [
        ("dla", "dla0", "platform", None, "nvdla", True), ("dla", "dla1", "platform", None, "nvdla", True)]
    assert {d["model"] for d in result["devices"]} == {"NVIDIA Jetson AGX Orin Developer Kit"}
    assert (result["targets"], result["reason"]) == (["tensorrt:dla"], None)


def test_dla_model_comes_from_the_tegra_facts_given(tree):
    tree.platform("15880000.nvdla0", driver="nvdla", parent="sys/devices/platform/13e10000.host1x")
    (core,) = facts(tree, tegra={"model": "Jetson AGX Xavier", "l4t_release": "35.5.0"})["devices"]
    assert (core["id"], core["model"]) == ("dla0", "Jetson AGX Xavier")


def test_dla_core_without_driver(tree):
    tree.platform("15880000.nvdla0")
    (core,) = facts(tree)["devices"]
    assert core["usable"] is False and core["reason"].startswith("no driver bound to 15880000.nvdla0")


def test_nothing_at_all(tree):
    tree.pci("0000:00:02.0", "0x8086", "0x7d55", driver="i915", cls="drm", devname="dri/card0")
    tree.usb("1-1", "046d", "c52b", 1, 2)
    assert facts(tree) == {"count": 0, "devices": [], "targets": [], "reason": "no accelerators found"}


def test_empty_root(tree):
    assert facts(tree)["reason"] == "no accelerators found"


def test_other_accel_drivers_are_not_npus(tree):
    """/sys/class/accel is shared: a Habana Gaudi (habanalabs) there is not an Intel NPU."""
    tree.pci("0000:17:00.0", "0x1da3", "0x1020", driver="habanalabs", cls="accel", devname="accel/accel0")
    assert facts(tree)["count"] == 0


def test_garbage_vendor_on_an_unknown_pci_device_is_ignored(tree):
    tree.pci("0000:00:1f.0", "garbage", "0x\xff")
    assert facts(tree)["count"] == 0


def test_garbage_usb_files_make_the_device_unusable(tree):
    tree.usb("1-2", "18d1", "9302", 1, 4)
    tree.file("sys/devices/pci0000:00/0000:00:14.0/usb1/1-2/devnum", b"\xff\xfe" * 5000)
    (device,) = facts(tree)["devices"]
    assert device["usable"] is False and device["reason"] == "USB device 1-2 has an unreadable busnum or devnum"


def test_links_escaping_the_root_are_not_followed(tree, tmp_path_factory):
    outside = Tree(tmp_path_factory.mktemp("host"))
    outside.pci(NPU, "0x8086", "0x7d1d")
    os.makedirs(tree.path("sys/bus/pci/devices"))
    os.symlink(outside.path("sys/devices/pci0000:00/" + NPU), tree.path("sys/bus/pci/devices/" + NPU))
    assert facts(tree)["count"] == 0


def test_devices_of_every_kind_together(tree):
    intel_npu(tree)
    tree.pci(APEX, "0x1ac1", "0x089a")
    tree.pci(HAILO, "0x1e60", "0x2864", driver="hailo", cls="hailo_chardev", devname="hailo0")
    tree.usb("1-2", "18d1", "9302", 1, 4)
    tree.platform("15880000.nvdla0", driver="nvdla")
    result = facts(tree)
    assert [d["kind"] for d in result["devices"]] == ["npu", "edgetpu", "edgetpu", "hailo", "dla"]
    assert result["targets"] == ["edgetpu", "hailo", "openvino:NPU", "tensorrt:dla"]
    assert result["reason"].startswith("1 of 5 accelerators not usable: no driver bound to PCI 0000:03:00.0")


@pytest.mark.parametrize("root", ["/nonexistent/edgeai", "/etc/hostname"])
def test_a_root_that_is_not_a_directory_is_the_only_error(root):
    with pytest.raises(FleetError, match="is not a directory"):
        collect(root)
