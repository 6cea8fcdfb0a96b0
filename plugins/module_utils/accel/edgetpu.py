# -*- coding: utf-8 -*-
# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Private to the edgeai.fleet collection: may change without notice.

"""Google Coral Edge TPU: PCIe/M.2 through the gasket ``apex`` driver, USB through libedgetpu over libusb.

PCIe (github.com/google/gasket-driver, src/apex_driver.c and src/gasket_core.c): PCI 1ac1:089a, PCI driver and
module ``apex`` with MODULE_VERSION, class ``apex`` whose devices are named ``apex_N`` (gasket_core.c
"%s_%u") and carry gasket's ``status`` attribute (ALIVE when the chip works); debian/gasket-dkms.udev gives the
nodes to group ``apex`` (MODE 0660). The PCIe Edge TPU needs no firmware load.

USB (the Coral USB Accelerator) has no kernel driver: libedgetpu claims it from user space. It enumerates as
1a6e:089a (Global Unichip) until libedgetpu downloads the firmware it carries, on the first open, after which
it re-enumerates as 18d1:9302 (Google). So a 1a6e:089a device is ready to use when libedgetpu is installed.
Its node is /dev/bus/usb/BBB/DDD (``busnum``/``devnum`` in sysfs); Coral's udev rules give it to plugdev.
"""

from __future__ import annotations

import glob
import os

from ansible_collections.edgeai.fleet.plugins.module_utils.accel import sysfs
from ansible_collections.edgeai.fleet.plugins.module_utils.accel.device import device, node_verdict, unusable
from ansible_collections.edgeai.fleet.plugins.module_utils.accel.pci import Spec

TARGETS = ("edgetpu",)
USB_MODEL = "Coral USB Accelerator"
USB_BEFORE_FIRMWARE = ("1a6e", "089a")
USB_AFTER_FIRMWARE = ("18d1", "9302")
# Where Debian/Ubuntu (libedgetpu1-std/-max), Fedora and source installs put the runtime.
LIBEDGETPU = ("usr/lib/*/libedgetpu.so.1", "usr/lib/libedgetpu.so.1", "usr/lib64/libedgetpu.so.1",
              "usr/local/lib/libedgetpu.so.1")
INSTALL_RUNTIME = "install the Edge TPU runtime (libedgetpu1-std or libedgetpu1-max from Coral's apt repository)"


def _apex_status(entry, class_device):
    status = sysfs.read(os.path.join(class_device, "status"))
    if status is not None and status != "ALIVE":
        unusable(entry, "the apex driver reports the Edge TPU status as %r, not ALIVE: reload the apex module or "
                        "check dmesg" % status[:32])


SPEC = Spec(
    kind="edgetpu", vendor="google", targets=TARGETS, pci_vendor="1ac1", models={"089a": "Coral Edge TPU (PCIe)"},
    any_device=False, classes=("apex",), drivers=("apex",),
    install="install the gasket-dkms package (modules gasket and apex) from Coral's apt repository",
    group="add it to the apex group, which gasket-dkms's udev rule gives /dev/apex_* nodes",
    check=_apex_status,
)


def collect_usb(root, access):
    bus = os.path.join(root, "sys/bus/usb/devices")
    found = []
    for name in sysfs.entries(bus):
        if ":" in name:  # interfaces (1-2:1.0), not devices
            continue
        usb_dir = os.path.join(bus, name)
        ids = (sysfs.hex_id(sysfs.read(os.path.join(usb_dir, "idVendor")), prefixed=False),
               sysfs.hex_id(sysfs.read(os.path.join(usb_dir, "idProduct")), prefixed=False))
        if ids in (USB_BEFORE_FIRMWARE, USB_AFTER_FIRMWARE):
            found.append(_usb_device(root, access, usb_dir, ids))
    return found


def _usb_device(root, access, usb_dir, ids):
    entry = device("edgetpu", "google", "usb", TARGETS, model=USB_MODEL, id="%s:%s" % ids)
    busnum = sysfs.decimal(sysfs.read(os.path.join(usb_dir, "busnum")), 999)
    devnum = sysfs.decimal(sysfs.read(os.path.join(usb_dir, "devnum")), 999)
    if busnum is None or devnum is None:
        return unusable(entry, "USB device %s has an unreadable busnum or devnum" % os.path.basename(usb_dir))
    entry["path"] = "/dev/bus/usb/%03d/%03d" % (busnum, devnum)
    node_verdict(entry, root, access, "add it to the plugdev group, which Coral's udev rule "
                                      "(99-edgetpu-accelerator.rules) gives the Edge TPU")
    if entry["usable"] and ids == USB_BEFORE_FIRMWARE:
        if _has_runtime(root):
            entry["reason"] = ("firmware not loaded yet: libedgetpu loads it when a model is first opened, and the "
                               "device then re-enumerates as %s:%s" % USB_AFTER_FIRMWARE)
        else:
            unusable(entry, "firmware not loaded and libedgetpu.so.1 not found; libedgetpu carries the firmware and "
                            "loads it on first use: " + INSTALL_RUNTIME)
    return entry


def _has_runtime(root):
    return any(glob.glob(os.path.join(glob.escape(root), pattern)) for pattern in LIBEDGETPU)
