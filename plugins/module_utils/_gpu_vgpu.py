# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils is PRIVATE to the edgeai.fleet collection. It may change or be
# removed without notice, even in a patch release. Do not import it from elsewhere.

"""vgpu-device-manager ``version: v1`` documents: schema, vGPU type names, and the plan for a vGPU host.

Upstream: NVIDIA/vgpu-device-manager ``api/spec/v1/spec.go``, ``pkg/types/{vgpu_type,vgpu_config}.go``.
Which types a board takes comes from the driver first (``gpu_info``'s ``vgpu_types``), then from the
``default`` config of upstream's ``examples/config-example.yaml`` (device id -> type prefix), never from
the NVML product name: A100 80GB boards take ``A100D``/``A100DX`` types, not ``A100``.
"""

from __future__ import annotations

import re

from ansible_collections.edgeai.fleet.plugins.module_utils import _gpu_mig
from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError, malformed
from ansible_collections.edgeai.fleet.plugins.module_utils._gpu_vgpu_boards import BOARD_TYPE_PREFIXES

# pkg/types/vgpu_type.go timeSlicedRegex and migBackedRegex; \Z because Go's $ does not accept a trailing newline.
_TIME_SLICED = re.compile(r"^(?P<GPU>[A-Z0-9]+(-([a-zA-Z]+))*)-(?P<GB>0|[1-9][0-9]*)(?P<S>A|B|C|Q)\Z")
_MIG_BACKED = re.compile(r"^(?P<GPU>[A-Z0-9]+)-(?P<G>[1-9])-(?P<GB>0|[1-9][0-9]*)(?P<S>A|B|C|Q)(?P<ATTR>(ME|NOME|MEALL|GFX))?\Z")
# ToMigConfigSpecSlice: the mig-parted attribute each MIG-backed suffix stands for.
MIG_ATTRIBUTES = {"ME": "+me", "NOME": "-me", "MEALL": "+me.all", "GFX": "+gfx"}


def parse_vgpu_type(name):
    """``{gpu, g, gb, series, attribute}`` for a vGPU type name, or None when upstream's grammar refuses it.

    Time-sliced: ``<gpu>-<gb><series>`` (``A100D-80C``, ``RTX6000-Ada-2Q``, ``M60-0Q`` = 512 MB);
    MIG-backed: ``<gpu>-<g>-<gb><series>[ME|NOME|MEALL|GFX]`` (``A100-1-5CME``, ``DC-1-24CGFX``).
    """
    if not isinstance(name, str):
        return None
    match = _TIME_SLICED.match(name) or _MIG_BACKED.match(name)
    if not match:
        return None
    groups = match.groupdict()
    return {"gpu": groups["GPU"], "g": int(groups.get("G") or 0), "gb": int(groups["GB"]), "series": groups["S"],
            "attribute": groups.get("ATTR") or None}


def mig_profile_of(vgpu_type):
    """The mig-parted profile a MIG-backed vGPU type needs (``A100-1-5CME`` -> ``1g.5gb+me``), else None."""
    parsed = parse_vgpu_type(vgpu_type)
    if not parsed or not parsed["g"]:
        return None
    return "%dg.%dgb%s" % (parsed["g"], parsed["gb"], MIG_ATTRIBUTES.get(parsed["attribute"], ""))


def _vgpu_devices_errors(entry, where, errors):
    """types.VGPUConfig.AssertValid: valid names, positive counts, no time-sliced and MIG-backed mix."""
    if "vgpu-devices" not in entry:
        errors.append("%s.vgpu-devices: missing required field" % where)
        return
    devices = entry["vgpu-devices"]
    if devices is None:
        return
    if not isinstance(devices, dict):
        errors.append("%s.vgpu-devices: must be a mapping of vGPU type to count, got %r" % (where, devices))
        return
    kinds = set()
    for name, count in sorted(devices.items(), key=lambda kv: str(kv[0])):
        parsed = parse_vgpu_type(name)
        if parsed is None:
            errors.append("%s.vgpu-devices: invalid format for %r: not <gpu>-<gb><A|B|C|Q> or <gpu>-<g>-<gb><A|B|C|Q>"
                          "[ME|NOME|MEALL|GFX] (upper case, as nvidia-smi vgpu -s prints it)" % (where, name))
            continue
        kinds.add(bool(parsed["g"]))
        if not _gpu_mig._go_int(count) or count <= 0:  # pylint: disable=protected-access
            errors.append("%s.vgpu-devices.%s: must be a positive count (integer), got %r" % (where, name, count))
    if len(kinds) > 1:
        errors.append("%s.vgpu-devices: cannot mix time-sliced and MIG-backed vGPU devices on the same GPU" % where)


@malformed("the vGPU config document")
def vgpu_errors(doc):
    """vgpu-device-manager ``version: v1`` schema errors: what ``nvidia-vgpu-dm`` refuses to load."""
    return _gpu_mig.spec_errors(doc, "vgpu-configs", ("device-filter", "devices", "vgpu-devices"),
                                _vgpu_devices_errors, empty_ok=True)


# MIG attribute suffixes a config name may carry beyond the driver's type name; MEALL before ME (it ends in ME).
_CONFIG_SUFFIXES = ("MEALL", "NOME", "ME", "GFX")


def strip_config_suffix(config_type):
    """``stripVGPUConfigSuffix`` (pkg/vgpu/config.go): ``DC-1-24QGFX`` is created as the driver's ``DC-1-24Q``."""
    for suffix in _CONFIG_SUFFIXES:
        if config_type.endswith(suffix):
            return config_type[:-len(suffix)]
    return config_type


def board_error(vgpu_type, gpu):
    """Why ``gpu`` cannot host ``vgpu_type``, or None; the driver's list first, then upstream's default table."""
    supported = gpu.get("vgpu_types")
    if isinstance(supported, list) and supported:
        names = [t.get("name") if isinstance(t, dict) else t for t in supported]
        if vgpu_type not in names and strip_config_suffix(vgpu_type) not in names:
            listed = ", ".join(sorted(str(n) for n in names))
            return "the driver of GPU %s (%s) supports %s, not %s" % (gpu.get("index"), gpu.get("name"), listed, vgpu_type)
        return None
    parsed = _gpu_mig.device_id(gpu.get("pci_device_id")) if gpu.get("pci_device_id") else None
    prefixes = BOARD_TYPE_PREFIXES.get("0x%08X" % parsed[0]) if parsed else None
    if prefixes and parse_vgpu_type(vgpu_type)["gpu"] not in prefixes:
        return ("GPU %s is %s (%s), which takes %s vGPU types (vgpu-device-manager examples/config-example.yaml), "
                "not %s" % (gpu.get("index"), gpu.get("name"), gpu.get("pci_device_id"), "/".join(prefixes), vgpu_type))
    return None


def vgpu_plan(policy, gpus):
    """``(config_name, document)`` for vgpu-device-manager: every GPU gets ``vgpu_count`` x ``vgpu_type``."""
    vtype, count = policy.get("vgpu_type"), policy.get("vgpu_count")
    parsed = parse_vgpu_type(vtype)
    if parsed is None:
        raise FleetError("vgpu_type: %r is not a vGPU type name as vgpu-device-manager parses it: <gpu>-<gb><A|B|C|Q> "
                         "such as T4-1Q or A100D-80C, or MIG-backed <gpu>-<g>-<gb><series>[ME|NOME|MEALL|GFX] such as "
                         "A100-1-5C (upper case, as nvidia-smi vgpu -s prints it)" % (vtype,))
    if not _gpu_mig._go_int(count) or count < 1:  # pylint: disable=protected-access
        raise FleetError("vgpu_count: the number of %s vGPUs per GPU is required (a positive integer, see "
                         "nvidia-smi vgpu -s on the host)" % vtype)
    for gpu in gpus:
        if gpu.get("virtualization_mode") != "host_vgpu":
            raise FleetError("vgpu_type: GPU %s runs in virtualization mode %s; vGPU types are created on a vGPU host "
                             "(host_vgpu)" % (gpu.get("index"), gpu.get("virtualization_mode")))
        why = board_error(vtype, gpu)
        if why:
            raise FleetError("vgpu_type: " + why)
    return vtype, {"version": "v1", "vgpu-configs": {vtype: [{"devices": "all", "vgpu-devices": {vtype: count}}]}}
