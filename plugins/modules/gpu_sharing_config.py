#!/usr/bin/python
# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
module: gpu_sharing_config
short_description: Choose, render and validate a host's GPU sharing (time-slicing, MPS, MIG, vGPU)
version_added: 0.1.0
description:
  - Turns a sharing policy plus the host's C(edgeai_gpu) facts (from M(edgeai.fleet.gpu_info)) into a strategy, the reason
    for it, and the upstream documents to apply it - the NVIDIA device-plugin config (version V(v1)) with its
    content-addressed ConfigMap key, the C(nvidia-mig-parted) config and the C(nvidia-vgpu-dm) config.
  - O(strategy=auto) follows a documented rule table (docs/gpu-sharing.md) and returns which rule matched and why.
  - Validates strictly before anything is applied, including what the device plugin would silently ignore (unknown keys,
    C(rename), C(devices), MPS beating time-slicing), what it would reject at start-up (replicas below 2, MPS with mixed MIG,
    MPS on MIG GPUs, MPS client limits per compute capability, invalid resource names) and MIG profiles the GPU model does
    not offer. All problems are reported at once, each naming the field and the rule.
  - Pure computation - it reads and changes nothing on the host, so it can run on the controller
    (C(delegate_to) V(localhost)) and always returns C(changed=false).
author: edgeai.fleet contributors (@edgeai-fleet)
extends_documentation_fragment:
  - edgeai.fleet.attributes
attributes:
  check_mode:
    support: full
    details: Renders only; identical in check mode.
  diff_mode:
    support: none
    details: Nothing is changed, so there is nothing to diff; the roles diff what they apply.
  idempotent:
    support: full
  platform:
    platforms: posix
options:
  gpu_facts:
    description: The host's C(ansible_facts.edgeai_gpu) as returned by M(edgeai.fleet.gpu_info).
    type: dict
    required: true
  strategy:
    description:
      - Sharing strategy. Omitted means V(auto). V(none) gives each pod a whole GPU (plain plugin config, no C(sharing)).
    type: str
    choices: [auto, none, time-slicing, mps, mig, vgpu]
  replicas:
    description: Pods per GPU for V(time-slicing) or V(mps) (at least 2; MPS at most 48, or 16 below compute capability 7.5).
    type: int
  memory_per_replica:
    description:
      - Memory each replica should get; replicas are derived per GPU model as GPU memory divided by this, and the smallest
        GPU of the host decides (one sharing setting covers a node). MiB as an integer, or a string such as V(10GiB).
    type: str
  rename_by_default:
    description: Advertise shared GPUs as C(nvidia.com/gpu.shared) (C(renameByDefault)). Omitted leaves the plugin default.
    type: bool
  fail_requests_greater_than_one:
    description: C(failRequestsGreaterThanOne). Omitted leaves the plugin default (false for time-slicing, true for MPS).
    type: bool
  mig_strategy:
    description: Device-plugin C(migStrategy). Omitted derives it from the (planned) MIG state - V(none) without MIG,
      V(single) for one profile on every GPU, else V(mixed).
    type: str
    choices: [none, single, mixed]
  mig_layout:
    description:
      - For O(strategy=mig), a named layout (V(all-disabled), V(all-enabled), V(all-balanced), V(all-<profile>) such as
        V(all-1g.10gb)) or a list of mig-parted entries (C(devices), C(mig-enabled), C(mig-devices), C(device-filter)).
      - Omitted means V(all-balanced), or the current layout when MIG is already enabled and O(strategy=auto).
    type: raw
  vgpu_type:
    description: vGPU type for O(strategy=vgpu) on a vGPU host, such as V(T4-1Q) or V(A100-1-5C).
    type: str
  vgpu_count:
    description: How many O(vgpu_type) vGPUs to create per GPU.
    type: int
  isolation:
    description: For V(auto) - V(strict) asks for memory and fault isolation (MIG, or a whole GPU when MIG is unavailable).
    type: str
    choices: [none, strict]
    default: none
  latency_sensitive:
    description: For V(auto) - concurrent latency-sensitive inference, which prefers MPS over time-slicing.
    type: bool
    default: false
  resource_name:
    description: The resource to share.
    type: str
    default: nvidia.com/gpu
  flags:
    description: Extra device-plugin C(flags) (for example C(plugin.deviceListStrategy)), validated against the v1 schema.
    type: dict
  mps_root:
    description:
      - For V(mps), the C(flags.mpsRoot) rendered into the device-plugin config, under which the MPS daemon keeps
        C(<resource>/pipe) and C(shm). Without it the plugin exits at start-up unless its deployment sets C(MPS_ROOT).
      - The default is the device-plugin Helm chart's C(mps.root); host mode puts its daemon's pipes at the same path.
    type: str
    default: /run/nvidia/mps
  config:
    description: A complete device-plugin config to validate and key instead of rendering one from the policy.
    type: dict
  current_config_data:
    description: The C(data) of the device-plugin ConfigMap as the cluster has it now; adds RV(rollout).
    type: dict
  current_node_key:
    description: The node's current C(nvidia.com/device-plugin.config) label value; adds RV(rollout).
    type: str
"""

EXAMPLES = r"""
- name: Plan GPU sharing from the gpu_info facts
  edgeai.fleet.gpu_sharing_config:
    gpu_facts: "{{ ansible_facts.edgeai_gpu }}"
    strategy: auto
    memory_per_replica: 10GiB
    latency_sensitive: true
  register: sharing

- name: Validate a hand-written device-plugin config
  edgeai.fleet.gpu_sharing_config:
    gpu_facts: "{{ ansible_facts.edgeai_gpu }}"
    config:
      version: v1
      sharing:
        timeSlicing:
          resources:
            - name: nvidia.com/gpu
              replicas: 4
  delegate_to: localhost
"""

RETURN = r"""
strategy:
  description: The chosen strategy.
  returned: success
  type: str
  sample: mps
rule:
  description: The rule that chose it (C(explicit) when the policy named the strategy); see docs/gpu-sharing.md.
  returned: success
  type: str
  sample: latency
reason:
  description: Why this strategy, in words.
  returned: success
  type: str
  sample: "latency-sensitive concurrent inference: MPS runs kernels of several processes at once ..."
replicas:
  description: Replicas per GPU, null unless time-slicing or MPS.
  returned: success
  type: int
  sample: 4
replicas_per_gpu:
  description: Replicas each GPU would allow from O(memory_per_replica) (empty when O(replicas) is given).
  returned: success
  type: list
  elements: dict
  sample: [{index: 0, name: NVIDIA A100-SXM4-40GB, memory_total_mib: 40960, replicas: 4}]
device_plugin_config:
  description: The device-plugin config document.
  returned: success
  type: dict
  sample: {version: v1, flags: {migStrategy: none}, sharing: {mps: {resources: [{name: nvidia.com/gpu, replicas: 4}]}}}
device_plugin_config_yaml:
  description: The same document as YAML, the value to store under RV(config_key).
  returned: success
  type: str
  sample: "version: v1\nflags:\n  migStrategy: none\n"
config_key:
  description: ConfigMap data key, C(<strategy>-<replicas>-<hash8>) (C(none-<hash8>), C(mig-<migStrategy>-<hash8>)); new content, new key.
  returned: success
  type: str
  sample: mps-4-6d517704
mig:
  description:
    - The mig-parted config name and document (version V(v1), C(mig-configs)), for O(strategy=mig).
    - The name is the layout name plus a content hash, so a changed layout is a new C(nvidia.com/mig.config) label value.
  returned: success
  type: dict
  sample: {name: all-1g.5gb-1a2b3c4d, config: {version: v1, mig-configs: {all-1g.5gb-1a2b3c4d: [{devices: all, mig-enabled: true, mig-devices: {1g.5gb: 7}}]}}}
mig_parted_config_yaml:
  description: The C(config) of RV(mig) as YAML, or null.
  returned: success
  type: str
vgpu:
  description: The vgpu-device-manager config name and document, for O(strategy=vgpu).
  returned: success
  type: dict
  sample: {name: T4-1Q, config: {version: v1, vgpu-configs: {T4-1Q: [{devices: all, vgpu-devices: {T4-1Q: 16}}]}}}
vgpu_config_yaml:
  description: The C(config) of RV(vgpu) as YAML, or null.
  returned: success
  type: str
mps:
  description:
    - Per-client limits the MPS control daemon sets (total memory / replicas, 100 / replicas), for O(strategy=mps).
    - C(root) is the rendered C(flags.mpsRoot); C(pipe_directory) is C(<root>/<shared resource>/pipe), where the daemon's
      pipes are, in Kubernetes and in host mode alike.
  returned: success
  type: dict
  sample: {root: /run/nvidia/mps, pipe_directory: /run/nvidia/mps/nvidia.com/gpu/pipe, active_thread_percentage: 25,
           pinned_memory_limits: [{index: 0, uuid: GPU-0, limit_mib: 10240}]}
expected:
  description:
    - Node capacity and GPU feature discovery labels to wait for once applied, computed the way the device plugin builds
      its device map (MIG strategy, replicas, C(<name>.shared) with C(renameByDefault); a shared resource the node lacks is skipped).
    - C(fail_requests_greater_than_one) is what the plugin enforces for a container asking for more than one shared
      device (unset means false for time-slicing, true for MPS), null without sharing.
  returned: success
  type: dict
  sample: {capacity: {nvidia.com/gpu: "8"}, labels: {nvidia.com/gpu.sharing-strategy: mps, nvidia.com/gpu.replicas: "4"},
           fail_requests_greater_than_one: true}
rollout:
  description:
    - Kubernetes decision for this node when O(current_config_data) or O(current_node_key) is given - C(write_key),
      C(relabel) (only after the key is written), C(restart) (same key, new content - the plugin would never notice) and C(reason).
  returned: when O(current_config_data) or O(current_node_key) is set
  type: dict
  sample: {write_key: true, relabel: true, restart: false, reason: "node label none-1 -> mps-4-6d517704 ..."}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError, fail_from_error
from ansible_collections.edgeai.fleet.plugins.module_utils._gpu_sharing_plan import plan

_RENDER_ONLY = ("strategy", "replicas", "memory_per_replica", "rename_by_default", "fail_requests_greater_than_one",
                "mig_layout", "flags", "vgpu_type")


def main():
    module = AnsibleModule(
        argument_spec=dict(
            gpu_facts=dict(type="dict", required=True),
            strategy=dict(type="str", choices=["auto", "none", "time-slicing", "mps", "mig", "vgpu"]),
            replicas=dict(type="int"),
            memory_per_replica=dict(type="str"),
            rename_by_default=dict(type="bool"),
            fail_requests_greater_than_one=dict(type="bool"),
            mig_strategy=dict(type="str", choices=["none", "single", "mixed"]),
            mig_layout=dict(type="raw"),
            vgpu_type=dict(type="str"),
            vgpu_count=dict(type="int"),
            isolation=dict(type="str", choices=["none", "strict"], default="none"),
            latency_sensitive=dict(type="bool", default=False),
            resource_name=dict(type="str", default="nvidia.com/gpu"),
            flags=dict(type="dict"),
            mps_root=dict(type="str", default="/run/nvidia/mps"),
            config=dict(type="dict"),
            current_config_data=dict(type="dict"),
            current_node_key=dict(type="str", no_log=False),
        ),
        mutually_exclusive=[("replicas", "memory_per_replica")] + [("config", name) for name in _RENDER_ONLY],
        required_if=[("strategy", "vgpu", ("vgpu_type", "vgpu_count"))],
        required_together=[("vgpu_type", "vgpu_count")],
        supports_check_mode=True,
    )
    try:
        result = plan(module.params, module.params["gpu_facts"])
    except FleetError as err:
        fail_from_error(module, err)
    for warning in result.pop("warnings"):
        module.warn(warning)  # version-dependent caveats of the rendered config
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
