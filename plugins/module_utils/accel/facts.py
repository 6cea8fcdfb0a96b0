# -*- coding: utf-8 -*-
# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Private to the edgeai.fleet collection: may change without notice.

"""The ``edgeai_accelerators`` facts: every accelerator the kernel shows, each with a usable verdict."""

from __future__ import annotations

import os

from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError
from ansible_collections.edgeai.fleet.plugins.module_utils._gpu_info import detect_tegra
from ansible_collections.edgeai.fleet.plugins.module_utils.accel import dla, edgetpu, hailo, npu, pci

NOTHING = "no accelerators found"


def collect(root="/", include_usb=True, tegra=None, access=os.access, kernel_release=None):
    """Facts for the system (or mounted image) at ``root``.

    ``tegra`` is gpu_info's ``{model, l4t_release}`` when the caller has it; otherwise it is detected from the
    same files. Only a ``root`` that is not a directory raises (FleetError).
    """
    if not os.path.isdir(root):
        raise FleetError("root %r is not a directory: give the root of the system (or mounted image) to read" % root)
    if tegra is None:
        # The running kernel says nothing about an image mounted elsewhere.
        tegra = detect_tegra(root, kernel_release if kernel_release is not None or root == "/" else "")
    devices = pci.collect(root, npu.SPEC, access) + pci.collect(root, edgetpu.SPEC, access)
    if include_usb:
        devices += edgetpu.collect_usb(root, access)
    devices += pci.collect(root, hailo.SPEC, access) + dla.collect(root, tegra)
    usable = [entry for entry in devices if entry["usable"]]
    return {
        "count": len(devices),
        "devices": devices,
        "targets": sorted({target for entry in usable for target in entry["targets"]}),
        "reason": _reason(devices, usable),
    }


def _reason(devices, usable):
    if not devices:
        return NOTHING
    if len(usable) == len(devices):
        return None
    return "%d of %d accelerators not usable: %s" % (
        len(devices) - len(usable), len(devices),
        "; ".join(entry["reason"] for entry in devices if not entry["usable"]))
