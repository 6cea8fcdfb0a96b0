# -*- coding: utf-8 -*-
# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Private to the edgeai.fleet collection: may change without notice.

"""Intel NPU (Core Ultra): the ``intel_vpu`` accel driver, drivers/accel/ivpu in the kernel tree.

PCI ids from drivers/accel/ivpu/ivpu_drv.h (PCI_DEVICE_ID_*); the driver's pci_driver name is its module name
(KBUILD_MODNAME, ``intel_vpu``) and it sets MODULE_VERSION; its node is /dev/accel/accelN
(drivers/accel/drm_accel.c, accel_devnode). The firmware version is only in dmesg and debugfs, so it is not read.
"""

from __future__ import annotations

from ansible_collections.edgeai.fleet.plugins.module_utils.accel.pci import Spec

MODELS = {
    "7d1d": "Intel NPU (Meteor Lake)",
    "ad1d": "Intel NPU (Arrow Lake)",
    "643e": "Intel NPU (Lunar Lake)",
    "b03e": "Intel NPU (Panther Lake)",
    "fd3e": "Intel NPU (Wildcat Lake)",
    "d71d": "Intel NPU (Nova Lake)",
}

SPEC = Spec(
    kind="npu", vendor="intel", targets=("openvino:NPU",), pci_vendor="8086", models=MODELS, any_device=False,
    classes=("accel",),
    drivers=("intel_vpu",),
    install="load the intel_vpu kernel module (Linux 6.3+, CONFIG_DRM_ACCEL_IVPU) with the NPU firmware "
            "(linux-firmware intel/vpu) installed",
    group="add it to the render group, which the udev rule of Intel's NPU driver packages "
          "(SUBSYSTEM==\"accel\", GROUP=\"render\", MODE=\"0660\") gives /dev/accel/* nodes",
    check=None,
)
