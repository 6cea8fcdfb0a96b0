#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: nvidia_cdi
short_description: Generate or refresh the NVIDIA CDI spec idempotently
version_added: 0.1.0
description:
  - Runs C(nvidia-ctk cdi generate) into a private temporary directory, compares the result with the
    spec at O(output) and replaces it atomically only when it differs, so a second run changes nothing.
  - Lists the fully-qualified CDI device names the spec provides (C(nvidia.com/gpu=0), C(nvidia.com/gpu=all),
    UUIDs), read from the JSON form of the generated spec.
  - Where the toolkit's C(nvidia-cdi-refresh.path) and C(nvidia-cdi-refresh.service) units are installed
    (nvidia-container-toolkit 1.18 and later), enables them so every boot and driver change rewrites the
    spec in C(/var/run/cdi). With O(image_mode=true) it only enables them and generates nothing.
  - Removes stale copies in C(/etc/cdi) that would duplicate every device of the live spec.
  - Regenerate after every MIG layout change; the refresh units do not notice MIG changes.
options:
  output:
    description:
      - Path of the spec. The format follows the extension (C(.json) or YAML), as C(nvidia-ctk) does.
      - The default is the file C(nvidia-cdi-refresh.service) writes, so both keep one spec.
    type: path
    default: /var/run/cdi/nvidia.yaml
  mode:
    description:
      - C(nvidia-ctk) discovery mode. V(csv) is for Jetson/Tegra boards without NVML.
    type: str
    choices: [auto, nvml, csv, wsl, management]
    default: auto
  device_name_strategy:
    description:
      - How devices are named; V(index) gives C(nvidia.com/gpu=0) and C(=0:1) for MIG, V(uuid) gives C(=GPU-...)
        and C(=MIG-...), V(type-index) gives C(=gpu0) and C(=mig0:1). An C(all) device is always added.
    type: list
    elements: str
    choices: [index, uuid, type-index]
    default: [index, uuid]
  refresh_units:
    description:
      - V(auto) enables the C(nvidia-cdi-refresh) units when they are installed; V(enable) also fails when they are not;
        V(ignore) leaves them alone.
    type: str
    choices: [auto, enable, ignore]
    default: auto
  image_mode:
    description:
      - Set while building a bootable container image. No spec is generated (the GPUs of the booted host are not
        known at build time); the refresh units are enabled instead, and the module fails when they are missing.
    type: bool
    default: false
  remove_stale:
    description:
      - Remove C(/etc/cdi/nvidia.yaml) and C(/etc/cdi/nvidia.json) when O(output) is another file.
    type: bool
    default: true
  backup:
    description:
      - Keep a timestamped copy of the spec it replaces. The spec is generated data, so this is off by default.
    type: bool
    default: false
  nvidia_ctk_path:
    description:
      - Path of C(nvidia-ctk); found on E(PATH) when omitted.
    type: path
extends_documentation_fragment:
  - edgeai.fleet.attributes
attributes:
  check_mode:
    support: full
    details:
      - The spec is still generated, into a private temporary directory, to predict the change exactly.
  diff_mode:
    support: full
  idempotent:
    support: full
  platform:
    platforms: posix
requirements:
  - nvidia-container-toolkit (C(nvidia-ctk)) on the managed host, except with O(image_mode=true).
seealso:
  - module: edgeai.fleet.gpu_info
author:
  - edgeai.fleet contributors (@edgeai-fleet)
"""

EXAMPLES = r"""
- name: Generate the CDI spec and enable the boot-time refresh when the toolkit has it
  edgeai.fleet.nvidia_cdi:
  register: cdi

- name: Show the CDI devices
  ansible.builtin.debug:
    var: cdi.devices

- name: Jetson without NVML, devices named gpu0
  edgeai.fleet.nvidia_cdi:
    mode: csv
    device_name_strategy: [type-index]

- name: In a bootc image build, rely on nvidia-cdi-refresh at boot
  edgeai.fleet.nvidia_cdi:
    image_mode: true
"""

RETURN = r"""
devices:
  description: Fully-qualified CDI device names in the spec; empty with O(image_mode=true).
  returned: always
  type: list
  elements: str
  sample: ["nvidia.com/gpu=0", "nvidia.com/gpu=GPU-5bf3a1e2-8c1d-4f6a-9e27-0d3c4b5a6f71", "nvidia.com/gpu=all"]
kind:
  description: The spec's CDI kind, or V(null) with O(image_mode=true).
  returned: always
  type: str
  sample: nvidia.com/gpu
spec_path:
  description: The spec file, or V(null) with O(image_mode=true).
  returned: always
  type: str
  sample: /var/run/cdi/nvidia.yaml
files:
  description: Files written or removed (or that would be, in check mode).
  returned: always
  type: list
  elements: str
  sample: [/var/run/cdi/nvidia.yaml, /etc/cdi/nvidia.yaml]
refresh_units:
  description: Whether the C(nvidia-cdi-refresh) units are installed, and the units this module keeps enabled.
  returned: always
  type: dict
  sample: {present: true, enabled: [nvidia-cdi-refresh.path, nvidia-cdi-refresh.service]}
backup_file:
  description: Copy of the replaced spec, with O(backup=true).
  returned: when a backup was made
  type: str
  sample: /var/run/cdi/nvidia.yaml.20260101T000000.edgeai.bak
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError, fail_from_error
from ansible_collections.edgeai.fleet.plugins.module_utils._nvidia_cdi import CdiSpec
from ansible_collections.edgeai.fleet.plugins.module_utils._runner import CliRunner

# Deadlines for commands that finish in seconds on a healthy host: `cdi generate` stalls only on a
# wedged driver, systemctl only behind a stuck job queue.
CTK_TIMEOUT = 120
SYSTEMCTL_TIMEOUT = 90


def main():
    module = AnsibleModule(
        argument_spec=dict(
            output=dict(type="path", default="/var/run/cdi/nvidia.yaml"),
            mode=dict(type="str", default="auto", choices=["auto", "nvml", "csv", "wsl", "management"]),
            device_name_strategy=dict(type="list", elements="str", default=["index", "uuid"],
                                      choices=["index", "uuid", "type-index"]),
            refresh_units=dict(type="str", default="auto", choices=["auto", "enable", "ignore"]),
            image_mode=dict(type="bool", default=False),
            remove_stale=dict(type="bool", default=True),
            backup=dict(type="bool", default=False),
            nvidia_ctk_path=dict(type="path"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    if not params["device_name_strategy"]:
        module.fail_json(msg="device_name_strategy must name at least one of index, uuid, type-index")
    ctk_path = params["nvidia_ctk_path"]
    if ctk_path and not (os.path.isfile(ctk_path) and os.access(ctk_path, os.X_OK)):
        module.fail_json(msg="nvidia_ctk_path %s is not an executable file; point it at nvidia-ctk or omit it to search PATH" % ctk_path)
    ctk_path = ctk_path or module.get_bin_path("nvidia-ctk")
    systemctl_path = module.get_bin_path("systemctl")
    core = CdiSpec(
        params,
        ctk=CliRunner.for_module(module, ctk_path, timeout=CTK_TIMEOUT) if ctk_path else None,
        systemctl=CliRunner.for_module(module, systemctl_path, timeout=SYSTEMCTL_TIMEOUT) if systemctl_path else None,
        tmpdir=module.tmpdir,
        atomic_move=module.atomic_move,
    )
    try:
        result = core.run(check_mode=module.check_mode)
    except FleetError as err:
        fail_from_error(module, err)
    if not module._diff:
        result.pop("diff")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
