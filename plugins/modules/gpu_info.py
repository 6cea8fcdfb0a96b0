#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: gpu_info
short_description: NVIDIA GPU facts through NVML, with Jetson/Tegra detection
version_added: 0.1.0
description:
  - Reads the NVIDIA driver, CUDA driver and NVML versions and, per GPU, its name, UUID, PCI bus, device
    and subsystem ids, memory, compute capability, persistence, compute, MIG and virtualization modes, MIG
    devices and the number of running compute processes, through NVML (C(nvidia-ml-py)).
  - Reports what the GPU itself supports, for M(edgeai.fleet.gpu_sharing_config) to check layouts against
    the hardware rather than against tables - the GPU-instance (MIG) profiles the board offers and, on a vGPU
    host, the vGPU types its driver supports.
  - A value NVML hands back that no driver returns (wrong type, out of range, undecodable text) is V(null) and
    named in RV(ansible_facts.edgeai_gpu.reason), never a failure.
  - A value NVML refuses on a given GPU (not supported, no permission, a driver too old for the call)
    is V(null), never a failure; when data is partial RV(ansible_facts.edgeai_gpu.reason) says why.
  - Detects Jetson/Tegra boards from C(/etc/nv_tegra_release), C(/sys/devices/soc0/family), the device
    tree model and a C(-tegra) kernel, and reports them with RV(ansible_facts.edgeai_gpu.platform=tegra).
  - A host without the library, the driver or a GPU gets RV(ansible_facts.edgeai_gpu.gpus=[]), a
    reason and success, so one play can run across a mixed fleet and group hosts by GPU.
  - Returns C(ansible_facts.edgeai_gpu), so AWX constructed inventories can group hosts by
    C(edgeai_gpu.products) or C(edgeai_gpu.mig_capable).
options:
  require_nvml:
    description:
      - Fail instead of answering "no GPU" when NVML is unusable on the host.
      - With V(true), a missing C(nvidia-ml-py) fails with the standard missing-library message, and a
        library that cannot initialise (no driver, driver not loaded, no permission, library and kernel
        module versions differing) fails with the reason.
      - A working NVML that finds no GPU is not a failure either way.
    type: bool
    default: false
requirements:
  - C(nvidia-ml-py) (imported as C(pynvml); not the deprecated C(pynvml) package) on the managed host for NVML
    data; without it the module still succeeds unless O(require_nvml=true).
extends_documentation_fragment:
  - edgeai.fleet.attributes
  - edgeai.fleet.attributes.info_module
attributes:
  platform:
    platforms: posix
notes:
  - Memory figures use NVML's v2 memory struct when the driver has it, as C(nvidia-smi) does, so
    the C(memory_used_mib) of RV(ansible_facts.edgeai_gpu.gpus) excludes the driver's reservation.
seealso:
  - module: edgeai.fleet.nvidia_cdi
author:
  - edgeai.fleet contributors (@edgeai-fleet)
"""

EXAMPLES = r"""
- name: Read GPU facts (succeeds on hosts without a GPU)
  edgeai.fleet.gpu_info:

- name: Show the GPUs
  ansible.builtin.debug:
    msg: "{{ ansible_facts.edgeai_gpu.products }} MIG capable: {{ ansible_facts.edgeai_gpu.mig_capable }}"

- name: Insist on a working NVIDIA driver on GPU nodes
  edgeai.fleet.gpu_info:
    require_nvml: true
  when: "'gpu' in group_names"
"""

RETURN = r"""
ansible_facts:
  description: Facts to add to ansible_facts.
  returned: always
  type: dict
  contains:
    edgeai_gpu:
      description: The GPU facts; every key is always present.
      returned: always
      type: dict
      contains:
        platform:
          description: V(nvml) when NVML found GPUs, V(tegra) on Jetson/Tegra boards, V(none) otherwise.
          type: str
          sample: nvml
        reason:
          description: Why there are no GPUs, or why some values are null; V(null) when the data is complete.
          type: str
          sample: nvidia-ml-py (pynvml) is not installed
        driver_version:
          description: NVIDIA driver version, or V(null).
          type: str
          sample: "550.54.15"
        cuda_driver_version:
          description: Highest CUDA version the driver supports, C(major.minor), or V(null).
          type: str
          sample: "12.4"
        nvml_version:
          description: NVML library version, or V(null).
          type: str
          sample: "12.550.54.15"
        count:
          description: Number of GPUs listed in RV(ansible_facts.edgeai_gpu.gpus).
          type: int
          sample: 1
        products:
          description: Distinct GPU names, sorted; the key for constructed-inventory grouping.
          type: list
          elements: str
          sample: ["NVIDIA A100-SXM4-40GB"]
        mig_capable:
          description: Whether any GPU reports a MIG mode (NVML answers V(NotSupported) on GPUs without MIG).
          type: bool
          sample: true
        gpus:
          description:
            - One entry per GPU. Each value is V(null) when NVML refuses it on that GPU.
            - C(index), C(name), C(uuid), C(pci_bus_id) (text, C(00000000:07:00.0)), C(pci_device_id)
              (C(0x20B010DE), the mig-parted C(device-filter) encoding), C(pci_subsystem_id) (C(0x134F10DE), the
              optional second part of a C(device-filter)), C(memory_total_mib), C(memory_used_mib),
              C(compute_capability) (C(8.0)), C(persistence_mode) (bool), C(compute_mode) (V(default),
              V(exclusive_process), V(prohibited), V(exclusive_thread)), C(mig_mode) (C({current, pending}),
              each bool or V(null)), C(mig_devices) (list of C({index, profile, uuid, memory_total_mib,
              gpu_instance_id, compute_instance_id})), C(virtualization_mode) (V(none), V(passthrough), V(vgpu),
              V(host_vgpu), V(host_vsga)) and C(processes) (running compute processes).
            - C(mig_profiles) on MIG-capable GPUs, whatever the MIG mode, else V(null) - the GPU-instance profiles
              NVML lists for the board (C(nvmlDeviceGetGpuInstanceProfileInfo) for every
              C(NVML_GPU_INSTANCE_PROFILE_*) id; a profile the board lacks is left out), each
              C({name, profile_id, slices, memory_mib, instance_count}); C(name) is spelled as mig-parted spells it
              (C(1g.10gb), C(1g.10gb+me), C(1g.24gb+gfx), C(1g.24gb-me), C(1g.24gb+me.all)).
            - C(vgpu_types) on a vGPU host, else V(null) - the vGPU types the driver supports on the GPU
              (C(nvmlDeviceGetSupportedVgpus)), each C({name, type_id, class, framebuffer_mib, max_instances}); C(name)
              is the type as vgpu-device-manager configs spell it (C(A100-4C), from NVML's C(NVIDIA A100-4C)).
          type: list
          elements: dict
          sample:
            - index: 0
              name: NVIDIA A100-SXM4-40GB
              uuid: GPU-5bf3a1e2-8c1d-4f6a-9e27-0d3c4b5a6f71
              pci_bus_id: "00000000:07:00.0"
              pci_device_id: "0x20B010DE"
              pci_subsystem_id: "0x134F10DE"
              memory_total_mib: 40960
              memory_used_mib: 0
              compute_capability: "8.0"
              persistence_mode: true
              compute_mode: default
              mig_mode: {current: true, pending: true}
              mig_devices:
                - {index: 0, profile: 1g.5gb, uuid: MIG-11111111-2222-3333-4444-555555555555, memory_total_mib: 4864,
                   gpu_instance_id: 7, compute_instance_id: 0}
              mig_profiles:
                - {name: 1g.5gb, profile_id: 0, slices: 1, memory_mib: 4864, instance_count: 7}
                - {name: 7g.40gb, profile_id: 4, slices: 7, memory_mib: 40192, instance_count: 1}
              virtualization_mode: none
              vgpu_types: null
              processes: 0
        tegra:
          description: On Jetson/Tegra, C({model, l4t_release}) (either may be V(null)); otherwise V(null).
          type: dict
          sample: {model: NVIDIA Jetson AGX Orin Developer Kit, l4t_release: "36.3.0"}
        present:
          description:
            - Whether this host has an NVIDIA GPU to prepare for containers, that is NVML lists one or the host is a
              Jetson/Tegra (whose integrated GPU NVML may not list). The stages of C(edgeai.fleet.site) that need a GPU run where
              this is true.
          type: bool
          sample: true
        container_engines:
          description:
            - The container engines installed on the host (their daemon or, for Podman, its binary found in
              C(/usr/bin), C(/usr/sbin) or C(/usr/local/bin)), among V(containerd), V(crio), V(docker) and
              V(podman); the engines M(edgeai.fleet.nvidia_runtime) can register the NVIDIA runtime with.
          type: list
          elements: str
          sample: [containerd, docker]
"""

import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError, fail_from_error
from ansible_collections.edgeai.fleet.plugins.module_utils._gpu_info import collect

try:
    import pynvml
except ImportError:
    pynvml = None
    PYNVML_IMPORT_ERROR = traceback.format_exc()
else:
    PYNVML_IMPORT_ERROR = None


def main():
    module = AnsibleModule(
        argument_spec=dict(require_nvml=dict(type="bool", default=False)),
        supports_check_mode=True,
    )
    require = module.params["require_nvml"]
    if pynvml is None and require:
        module.fail_json(msg=missing_required_lib("nvidia-ml-py", reason="to read GPU facts through NVML (require_nvml=true)"),
                         exception=PYNVML_IMPORT_ERROR)
    try:
        facts, nvml_ready = collect(pynvml)
    except FleetError as err:
        fail_from_error(module, err)
    if require and not nvml_ready:
        module.fail_json(msg="NVML is required (require_nvml=true) but cannot be used: %s" % facts["reason"],
                         ansible_facts={"edgeai_gpu": facts})
    module.exit_json(changed=False, ansible_facts={"edgeai_gpu": facts})


if __name__ == "__main__":
    main()
