# -*- coding: utf-8 -*-
# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Private to the edgeai.fleet collection: may change without notice.

"""Hailo-8 / Hailo-10H / Hailo-15L on PCIe: Hailo's out-of-tree driver, github.com/hailo-ai/hailort-drivers.

Two generations, both read: ``hailo_pci`` (4.x to 5.0, PCI driver name ``hailo``) and ``hailo1x_pci`` (5.1+,
``hailo1x``, no Hailo-8). Their class is ``hailo_chardev`` with nodes /dev/hailoN, except 5.3+ whose class is
``hailo1x`` with nodes /dev/h1x-N (linux/pcie/src/pcie.c class_create_compat/device_create_with_groups). Ids from
common/pcie_common.h PCI_DEVICE_ID_HAILO_*; 0x45C4 was called Hailo-15 before 4.20. The driver's udev rule
(linux/pcie/51-hailo-udev.rules) makes the node mode 0666. Firmware is loaded by the driver and its version is
only readable through HailoRT, so it is not reported.
"""

from __future__ import annotations

from ansible_collections.edgeai.fleet.plugins.module_utils.accel.pci import Spec

MODELS = {
    "2864": "Hailo-8",
    "45c4": "Hailo-10H",
    "43a2": "Hailo-15L",
}

SPEC = Spec(
    kind="hailo", vendor="hailo", targets=("hailo",), pci_vendor="1e60", models=MODELS, any_device=True,
    classes=("hailo_chardev", "hailo1x"), drivers=("hailo", "hailo1x"),
    install="install HailoRT's PCIe driver (hailort-pcie-driver: module hailo_pci for Hailo-8, hailo1x_pci for "
            "Hailo-10H/15) and its firmware",
    group="install the driver's udev rule (51-hailo-udev.rules, MODE 0666) or run as root",
    check=None,
)
