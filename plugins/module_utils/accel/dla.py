# -*- coding: utf-8 -*-
# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Private to the edgeai.fleet collection: may change without notice.

"""Jetson DLA cores (Xavier, AGX Orin, Orin NX 16GB): platform devices named ``<unit address>.nvdla<N>``.

The device tree gives each DLA core a node under host1x (``nvdla0@15880000``, ``nvdla1@158c0000`` on Xavier and
Orin); the kernel names the platform device ``15880000.nvdla0`` and lists it in /sys/bus/platform/devices
(the same directories NVIDIA's jetson_clocks probes under the host1x node). A core disabled in the device tree
(Orin Nano has none) gets no platform device. The driver (``nvdla``, from the Jetson Linux BSP) binds there;
its device nodes differ between Jetson Linux releases, so ``path`` stays null and no node is checked.
"""

from __future__ import annotations

import os
import re

from ansible_collections.edgeai.fleet.plugins.module_utils.accel import sysfs
from ansible_collections.edgeai.fleet.plugins.module_utils.accel.device import device, unusable

_NAME = re.compile(r"^[0-9a-f]{1,16}\.nvdla([0-9])$")


def collect(root, tegra):
    bus = os.path.join(root, "sys/bus/platform/devices")
    cores = []
    for name in sysfs.entries(bus):
        match = _NAME.match(name)
        if match:
            cores.append((int(match.group(1)), name))
    return [_core(root, os.path.join(bus, name), name, index, tegra) for index, name in sorted(cores)]


def _core(root, path, name, index, tegra):
    driver = sysfs.link_name(os.path.join(path, "driver"))
    entry = device("dla", "nvidia", "platform", ("tensorrt:dla",), id="dla%d" % index, driver=driver,
                   model=(tegra or {}).get("model"),
                   driver_version=sysfs.module_version(root, path) if driver else None)
    if driver is None:
        unusable(entry, "no driver bound to %s: the DLA driver (nvdla, part of the Jetson Linux BSP's kernel modules) "
                        "is not loaded" % name)
    return entry
