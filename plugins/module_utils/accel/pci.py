# -*- coding: utf-8 -*-
# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Private to the edgeai.fleet collection: may change without notice.

"""PCIe accelerators found the way the kernel shows them: a PCI function, its bound driver, its class device.

A device is a candidate when its PCI ids are in the spec's table (so a card with no driver bound is still
found), or when it is the parent of a class device of the spec's classes (so a card whose ``vendor`` file
reads as garbage is still reported, unusable, instead of vanishing). sysfs layout
(Documentation/ABI/testing/sysfs-bus-pci, Documentation/driver-api/driver-model/):

    /sys/bus/pci/devices/0000:00:0b.0 -> ../../../devices/pci0000:00/0000:00:0b.0
    /sys/devices/pci0000:00/0000:00:0b.0/{vendor,device}       "0x8086", "0x7d1d"
    /sys/devices/pci0000:00/0000:00:0b.0/driver -> ../../../bus/pci/drivers/intel_vpu
    /sys/bus/pci/drivers/intel_vpu/module -> ../../../../module/intel_vpu   (version: MODULE_VERSION)
    /sys/devices/pci0000:00/0000:00:0b.0/accel/accel0/uevent   "DEVNAME=accel/accel0"
    /sys/class/accel/accel0 -> ../../devices/pci0000:00/0000:00:0b.0/accel/accel0
"""

from __future__ import annotations

import collections
import os

from ansible_collections.edgeai.fleet.plugins.module_utils.accel import sysfs
from ansible_collections.edgeai.fleet.plugins.module_utils.accel.device import device, node_verdict, unusable

# kind/vendor/targets: the fact values; pci_vendor: four hex digits; models: PCI device id -> model; any_device:
# every device of the vendor is one (else only those in models); classes: the sysfs classes the driver registers
# its node in; drivers: PCI driver names (the ``driver`` link); install: how to get a driver bound; group: who may
# open the node; check: a further verdict on a usable device, or None.
Spec = collections.namedtuple("Spec", "kind vendor targets pci_vendor models any_device classes drivers install group check")


def collect(root, spec, access):
    return [_evaluate(root, spec, access, pci_dir) for pci_dir in _candidates(root, spec)]


def _candidates(root, spec):
    found = set()
    bus = os.path.join(root, "sys/bus/pci/devices")
    for name in sysfs.entries(bus):
        pci_dir = sysfs.inside(root, os.path.join(bus, name))
        vendor_id, device_id = _ids(pci_dir) if pci_dir else (None, None)
        if vendor_id == spec.pci_vendor and device_id and (spec.any_device or device_id in spec.models):
            found.add(pci_dir)
    for cls in spec.classes:
        class_dir = os.path.join(root, "sys/class", cls)
        for name in sysfs.entries(class_dir):
            parent = sysfs.inside(root, os.path.join(class_dir, name, "device"))
            # The accel class is shared by every compute-accelerator driver: only this spec's drivers count.
            if parent and sysfs.link_name(os.path.join(parent, "driver")) in spec.drivers:
                found.add(parent)
    return sorted(found, key=os.path.basename)


def _ids(pci_dir):
    return (sysfs.hex_id(sysfs.read(os.path.join(pci_dir, "vendor")), prefixed=True),
            sysfs.hex_id(sysfs.read(os.path.join(pci_dir, "device")), prefixed=True))


def _evaluate(root, spec, access, pci_dir):
    address = os.path.basename(pci_dir)
    vendor_id, device_id = _ids(pci_dir)
    driver = sysfs.link_name(os.path.join(pci_dir, "driver"))
    entry = device(spec.kind, spec.vendor, "pci", spec.targets, driver=driver,
                   id="%s:%s" % (vendor_id, device_id) if vendor_id and device_id else None,
                   model=spec.models.get(device_id),
                   driver_version=sysfs.module_version(root, pci_dir) if driver else None)
    if entry["id"] is None:
        return unusable(entry, "PCI %s has an unreadable vendor or device file (%r, %r) under /sys/bus/pci/devices"
                        % (address, (sysfs.read(os.path.join(pci_dir, "vendor")) or "")[:32],
                           (sysfs.read(os.path.join(pci_dir, "device")) or "")[:32]))
    if driver is None:
        return unusable(entry, "no driver bound to PCI %s: %s" % (address, spec.install))
    if driver not in spec.drivers:
        return unusable(entry, "PCI %s is bound to %s, not %s: it is reserved for something else (a VM, with vfio-pci)"
                        % (address, driver, " or ".join(spec.drivers)))
    class_device = _class_device(pci_dir, spec.classes)
    name = sysfs.devname(class_device) if class_device else None
    if name is None:
        return unusable(entry, "driver %s is bound to PCI %s but registered no device node: check dmesg for a probe "
                               "or firmware error" % (driver, address))
    entry["path"] = "/dev/" + name
    node_verdict(entry, root, access, spec.group)
    if entry["usable"] and spec.check:
        spec.check(entry, class_device)
    return entry


def _class_device(pci_dir, classes):
    for cls in classes:
        names = sysfs.entries(os.path.join(pci_dir, cls))
        if names:
            return os.path.join(pci_dir, cls, names[0])
    return None
