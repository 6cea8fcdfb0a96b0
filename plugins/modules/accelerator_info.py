#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: accelerator_info
short_description: Facts about NPUs, Edge TPUs, Hailo accelerators and Jetson DLA cores, from sysfs and devfs
version_added: 0.1.0
description:
  - Reports the AI accelerators the kernel shows, with no library or CLI - Intel NPUs (C(intel_vpu),
    C(/dev/accel/accel*)), Google Coral Edge TPUs on PCIe (C(apex), C(/dev/apex_*)) and USB (before and after
    the runtime loads their firmware), Hailo PCIe accelerators (C(/dev/hailo*), C(/dev/h1x-*)) and the DLA
    cores of Jetson boards.
  - Each device says whether this user can use it now and, when not, why - no driver bound, a missing
    device node, or no permission on it (with the group that usually grants it).
  - A device whose sysfs files are missing or garbage is reported as not usable with a reason, never a failure,
    so one play can run across a mixed fleet.
  - A sibling of M(edgeai.fleet.gpu_info), not part of it - gpu_info is built around NVML and needs
    C(nvidia-ml-py); these devices are found from sysfs alone. The Jetson model comes from the same files
    gpu_info reads.
options:
  root:
    description:
      - The root of the system to read, V(/) for the running one; another path reads a mounted image or a
        copied tree (its C(/sys) and C(/dev) then decide).
    type: path
    default: /
  include_usb:
    description:
      - Look for USB accelerators (the Coral USB Accelerator) as well.
    type: bool
    default: true
extends_documentation_fragment:
  - edgeai.fleet.attributes
  - edgeai.fleet.attributes.info_module
attributes:
  platform:
    platforms: posix
notes:
  - Firmware versions are not in sysfs for any of these devices (the NPU and Hailo drivers log them, the runtimes
    read them), so C(firmware_version) is V(null) today.
seealso:
  - module: edgeai.fleet.gpu_info
author:
  - edgeai.fleet contributors (@edgeai-fleet)
"""

EXAMPLES = r"""
- name: Read accelerator facts (succeeds on hosts without any)
  edgeai.fleet.accelerator_info:

- name: Say which compile targets the accelerators allow
  ansible.builtin.debug:
    msg: "{{ ansible_facts.edgeai_accelerators.targets }} ({{ ansible_facts.edgeai_accelerators.reason | default('all usable', true) }})"

- name: Read the accelerators a mounted image's tree would show, without USB
  edgeai.fleet.accelerator_info:
    root: /mnt/sysroot
    include_usb: false
"""

RETURN = r"""
ansible_facts:
  description: Facts to add to ansible_facts.
  returned: always
  type: dict
  contains:
    edgeai_accelerators:
      description: The accelerator facts; every key is always present.
      returned: always
      type: dict
      contains:
        count:
          description: Number of entries in RV(ansible_facts.edgeai_accelerators.devices), usable or not.
          type: int
          sample: 1
        devices:
          description:
            - One entry per accelerator (per DLA core on Jetson), each with every key present.
            - C(kind) (V(npu), V(edgetpu), V(hailo), V(dla)), C(vendor) (V(intel), V(google), V(hailo), V(nvidia)),
              C(model) (or V(null) for an id the tables do not name), C(path) (the device node, V(null) when there
              is none yet or, for DLA, none at all), C(bus) (V(pci), V(usb), V(platform)), C(id) (C(vendor:device)
              in hex, C(dla0)/C(dla1) for DLA cores, V(null) when sysfs shows garbage), C(driver) and
              C(driver_version) (the bound driver and its module version, or V(null)), C(firmware_version) (V(null), as
              no sysfs file shows it), C(usable), C(reason) (why not usable; on a usable device a note, or V(null))
              and C(targets) (the compile targets the device runs - V(openvino:NPU), V(edgetpu), V(hailo),
              V(tensorrt:dla)).
          type: list
          elements: dict
          sample:
            - kind: npu
              vendor: intel
              model: Intel NPU (Meteor Lake)
              path: /dev/accel/accel0
              bus: pci
              id: "8086:7d1d"
              driver: intel_vpu
              driver_version: "1.0."
              firmware_version: null
              usable: true
              reason: null
              targets: ["openvino:NPU"]
        targets:
          description: The sorted union of the usable devices' C(targets).
          type: list
          elements: str
          sample: ["openvino:NPU"]
        reason:
          description: V(no accelerators found), which devices are not usable and why, or V(null) when all are usable.
          type: str
          sample: no accelerators found
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError, fail_from_error
from ansible_collections.edgeai.fleet.plugins.module_utils.accel.facts import collect


def main():
    module = AnsibleModule(
        argument_spec=dict(
            root=dict(type="path", default="/"),
            include_usb=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    try:
        facts = collect(module.params["root"], module.params["include_usb"])
    except FleetError as err:
        fail_from_error(module, err)
    module.exit_json(changed=False, ansible_facts={"edgeai_accelerators": facts})


if __name__ == "__main__":
    main()
