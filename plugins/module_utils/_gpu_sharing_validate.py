# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils is PRIVATE to the edgeai.fleet collection. It may change or be
# removed without notice, even in a patch release. Do not import it from elsewhere.

"""Strict validation of device-plugin, mig-parted and vgpu-device-manager documents.

The NVIDIA device plugin parses its config leniently (unknown keys ignored, ``rename`` and
``devices`` discarded, MPS silently beating time-slicing), so a typo ships as "no sharing".
These checks reject, before anything is applied, what the plugin would reject at start-up
(k8s-device-plugin v0.20.0 ``api/config/v1``, ``cmd/mps-control-daemon/mps/device.go``) and
what it would silently ignore. Every error is ``"<field>: <rule>"`` so the caller knows what
to fix; functions return lists of errors and never raise.
"""

from __future__ import annotations

import re

from ansible_collections.edgeai.fleet.plugins.module_utils import _gpu_profiles as profiles
from ansible_collections.edgeai.fleet.plugins.module_utils._errors import malformed

STR, BOOL, INT, DICT, LIST, ANY = "string", "boolean", "integer", "mapping", "list", "any"

# api/config/v1 {config,flags}.go: every key the v1 schema knows, with its type or enum.
FLAGS_SCHEMA = {
    "migStrategy": ("none", "single", "mixed"),
    "failOnInitError": BOOL,
    "mpsRoot": STR,
    "nvidiaDriverRoot": STR,
    "nvidiaDevRoot": STR,
    "gdrcopyEnabled": BOOL,
    "gdsEnabled": BOOL,
    "mofedEnabled": BOOL,
    "useNodeFeatureAPI": BOOL,
    "deviceDiscoveryStrategy": ("auto", "nvml", "tegra"),
    "plugin": {
        "passDeviceSpecs": BOOL,
        "deviceListStrategy": ANY,
        "deviceIDStrategy": ("uuid", "index"),
        "cdiAnnotationPrefix": STR,
        "nvidiaCTKPath": STR,
        "containerDriverRoot": STR,
        "sharedDevicesAllocationPolicy": ("distributed", "packed"),
    },
    "gfd": {
        "oneshot": BOOL,
        "noTimestamp": BOOL,
        "sleepInterval": STR,
        "outputFile": STR,
        "machineTypeFile": STR,
    },
}
LIST_STRATEGIES = ("envvar", "volume-mounts", "cdi-annotations", "cdi-cri")
TOP_KEYS = ("version", "flags", "resources", "sharing", "imex")
REPLICATED_KEYS = ("renameByDefault", "failRequestsGreaterThanOne", "resources")
RESOURCE_KEYS = ("name", "rename", "devices", "replicas")
# resources.go: the name part of nvidia.com/<name> is a DNS-1123 subdomain of at most 63 characters.
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_MIG_RESOURCE = re.compile(r"^mig-\d+g\.\d+gb(\+?[-+a-z.]*)?$")
MPS_CLIENTS_LIMIT = 48          # compute capability >= 7.5
MPS_CLIENTS_LIMIT_OLD = 16      # below 7.5 (isAtLeastVolta really compares with 7.5)


def _type_ok(value, kind):
    if kind == ANY:
        return True
    if kind == BOOL:
        return isinstance(value, bool)
    if kind == INT:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == STR:
        return isinstance(value, str)
    if kind == DICT:
        return isinstance(value, dict)
    return isinstance(value, list)


def _check_mapping(value, schema, path, errors):
    """Unknown keys, types and enums of a mapping against ``schema`` (nested dicts recurse)."""
    if not isinstance(value, dict):
        errors.append("%s: must be a mapping, got %s" % (path, type(value).__name__))
        return
    for key in sorted(value):
        field = "%s.%s" % (path, key)
        if key not in schema:
            errors.append("%s: unknown key; the device plugin would silently ignore it (valid keys: %s)"
                          % (field, ", ".join(sorted(schema))))
            continue
        kind = schema[key]
        if isinstance(kind, dict):
            _check_mapping(value[key], kind, field, errors)
        elif isinstance(kind, tuple):
            if value[key] not in kind:
                errors.append("%s: must be one of %s, got %r" % (field, ", ".join(kind), value[key]))
        elif not _type_ok(value[key], kind):
            errors.append("%s: must be a %s, got %r" % (field, kind, value[key]))


def resource_name_error(name):
    """Why ``name`` is not a valid device-plugin resource name, or None (resources.go)."""
    if not isinstance(name, str) or not name:
        return "must be a non-empty string"
    prefix, _sep, base = name.rpartition("/")
    if prefix and prefix != "nvidia.com":
        return "resource names live under nvidia.com/, got prefix %r" % prefix
    if len(base) > 63 or not _DNS_SUBDOMAIN.match(base):
        return "%r is not a DNS subdomain of at most 63 characters (lower-case letters, digits, '-', '.')" % base
    return None


def _check_list_strategy(flags, errors):
    value = (flags.get("plugin") or {}).get("deviceListStrategy") if isinstance(flags.get("plugin"), dict) else None
    if value is None:
        return
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(i, str) and i in LIST_STRATEGIES for i in items):
        errors.append("flags.plugin.deviceListStrategy: must be one of %s (a string, comma list or list), got %r"
                      % (", ".join(LIST_STRATEGIES), value))


def _check_replicated(block, path, errors):
    if not isinstance(block, dict):
        errors.append("%s: must be a mapping, got %r" % (path, block))
        return
    for key in sorted(block):
        if key not in REPLICATED_KEYS:
            errors.append("%s.%s: unknown key; the device plugin would silently ignore it (valid keys: %s)"
                          % (path, key, ", ".join(REPLICATED_KEYS)))
    for key in ("renameByDefault", "failRequestsGreaterThanOne"):
        if key in block and not isinstance(block[key], bool):
            errors.append("%s.%s: must be a boolean, got %r" % (path, key, block[key]))
    resources = block.get("resources")
    if not isinstance(resources, list) or not resources:
        errors.append("%s.resources: no resources specified (the plugin refuses an empty list)" % path)
        return
    seen = set()
    for i, res in enumerate(resources):
        field = "%s.resources[%d]" % (path, i)
        if not isinstance(res, dict):
            errors.append("%s: must be a mapping with name and replicas" % field)
            continue
        for key in sorted(res):
            if key in ("rename", "devices"):
                errors.append("%s.%s: the device plugin parses then discards this field (not yet supported); remove it"
                              % (field, key))
            elif key not in RESOURCE_KEYS:
                errors.append("%s.%s: unknown key; the device plugin would silently ignore it" % (field, key))
        if "name" not in res:
            errors.append("%s.name: no resource name specified" % field)
        else:
            why = resource_name_error(res["name"])
            if why:
                errors.append("%s.name: %s" % (field, why))
            base = str(res["name"]).rpartition("/")[2]
            if base in seen:
                errors.append("%s.name: %s is listed twice" % (field, res["name"]))
            seen.add(base)
            if path.endswith(".mps") and base != "gpu":
                errors.append("%s.name: MPS shares only nvidia.com/gpu (full GPUs), got %s" % (field, res["name"]))
            elif not why and base != "gpu" and not _MIG_RESOURCE.match(base):
                errors.append("%s.name: time-slicing applies to nvidia.com/gpu or mixed-strategy nvidia.com/mig-<profile>, "
                              "got %s" % (field, res["name"]))
        replicas = res.get("replicas")
        if replicas is None:
            errors.append("%s.replicas: no replicas specified" % field)
        elif not _type_ok(replicas, INT):
            errors.append("%s.replicas: must be an integer, got %r" % (field, replicas))
        elif replicas < 2:
            errors.append("%s.replicas: number of replicas must be >= 2 (got %d); for no sharing omit `sharing`"
                          % (field, replicas))


@malformed("the device-plugin config document")
def device_plugin_errors(doc):
    """Schema errors of a device-plugin config document (no GPU knowledge needed)."""
    errors = []
    if not isinstance(doc, dict):
        return ["config: must be a mapping (the device-plugin config document), got %s" % type(doc).__name__]
    for key in sorted(doc):
        if key not in TOP_KEYS:
            errors.append("%s: unknown key; the device plugin would silently ignore it (valid keys: %s)"
                          % (key, ", ".join(TOP_KEYS)))
    if doc.get("version", "v1") != "v1":
        errors.append("version: unknown version %r; only v1 exists" % doc.get("version"))
    if "resources" in doc:
        errors.append("resources: top-level resources (gpus, mig) are parsed then ignored by the plugin; remove them")
    flags = doc.get("flags", {})
    _check_mapping(flags, FLAGS_SCHEMA, "flags", errors)
    if isinstance(flags, dict):
        _check_list_strategy(flags, errors)
    imex = doc.get("imex")
    if imex is not None:
        _check_mapping(imex, {"channelIDs": LIST, "required": BOOL}, "imex", errors)
        if isinstance(imex, dict) and imex.get("channelIDs", []) not in ([], [0]):
            errors.append("imex.channelIDs: must be [] or [0], got %r" % imex.get("channelIDs"))
    sharing = doc.get("sharing") or {}
    if not isinstance(sharing, dict):
        return errors + ["sharing: must be a mapping, got %r" % sharing]
    for key in sorted(sharing):
        if key not in ("timeSlicing", "mps"):
            errors.append("sharing.%s: unknown key; the device plugin would silently ignore it (valid keys: mps, timeSlicing)"
                          % key)
    if "timeSlicing" in sharing and "mps" in sharing:
        errors.append("sharing: timeSlicing and mps are both set; the plugin silently uses mps. Keep exactly one")
    for key in ("timeSlicing", "mps"):
        if key in sharing:
            _check_replicated(sharing[key], "sharing.%s" % key, errors)
    if "mps" in sharing and isinstance(flags, dict) and flags.get("migStrategy") == "mixed":
        errors.append("flags.migStrategy: mps cannot be combined with migStrategy mixed (the plugin exits at start-up)")
    return errors


def strategy_of(doc):
    """The sharing strategy the plugin derives from ``doc`` (sharing.go): mps, time-slicing or none."""
    sharing = (doc or {}).get("sharing") or {}
    for key, name in (("mps", "mps"), ("timeSlicing", "time-slicing")):
        block = sharing.get(key)
        if isinstance(block, dict) and any(isinstance(r, dict) and isinstance(r.get("replicas"), int) and r["replicas"] > 1
                                           for r in block.get("resources") or []):
            return name
    return "none"


def mps_limit(gpus):
    """Most MPS clients per GPU that every GPU of ``gpus`` accepts, and the capability that sets it."""
    lowest = None
    for gpu in gpus:
        cc = _cc(gpu.get("compute_capability"))
        if cc is not None and (lowest is None or cc < lowest):
            lowest = cc
    if lowest is None:
        return MPS_CLIENTS_LIMIT, None
    return (MPS_CLIENTS_LIMIT if lowest >= (7, 5) else MPS_CLIENTS_LIMIT_OLD), "%d.%d" % lowest


def _cc(text):
    try:
        major, minor = str(text).split(".", 1)
        return int(major), int(minor)
    except (TypeError, ValueError):
        return None


def mig_enabled(gpu):
    mode = gpu.get("mig_mode") or {}
    return bool(mode.get("current")) or bool(mode.get("pending"))


def single_strategy_error(mig_states):
    """Why migStrategy single cannot work over ``mig_states`` ([(index, enabled, {profile: n})]), or None."""
    enabled = {bool(state[1]) for state in mig_states}
    if len(enabled) > 1:
        on = [str(s[0]) for s in mig_states if s[1]]
        off = [str(s[0]) for s in mig_states if not s[1]]
        return ("single needs the same MIG mode on every GPU; MIG is on for GPU %s and off for GPU %s. "
                "Use mig_strategy mixed or the same layout on every GPU" % (",".join(on), ",".join(off)))
    kinds = set()
    for index, on, devices in mig_states:
        if on and not any(devices.values()):
            return "single does not allow a MIG-enabled GPU without MIG devices (GPU %s)" % index
        kinds.update(p for p, n in devices.items() if n)
    if len(kinds) > 1:
        return "single needs one MIG profile on every GPU, the layout has %s; use mig_strategy mixed" % ", ".join(sorted(kinds))
    return None


@malformed("the device-plugin config or the GPU facts (edgeai_gpu.gpus)")
def gpu_errors(doc, gpus):
    """Errors of a device-plugin document on this host's GPUs (facts ``edgeai_gpu.gpus``)."""
    errors = []
    sharing = (doc or {}).get("sharing") or {}
    mps = sharing.get("mps") if isinstance(sharing, dict) else None
    if isinstance(mps, dict):
        for gpu in gpus:
            if mig_enabled(gpu):
                errors.append("sharing.mps: GPU %s (%s) has MIG enabled; MPS is not supported on MIG devices "
                              "(no daemon starts and GFD never sets nvidia.com/mps.capable)" % (gpu.get("index"), gpu.get("name")))
        limit, cc = mps_limit(gpus)
        for i, res in enumerate(mps.get("resources") or []):
            replicas = res.get("replicas") if isinstance(res, dict) else None
            if isinstance(replicas, int) and replicas > limit:
                errors.append("sharing.mps.resources[%d].replicas: %d exceeds the MPS client limit of %d per GPU at compute "
                              "capability %s (48 from 7.5 up, 16 below)" % (i, replicas, limit, cc))
    return errors


_MIG_ENTRY_KEYS = ("device-filter", "devices", "mig-enabled", "mig-devices")


def _devices_ok(devices):
    if devices == "all":
        return True
    if not isinstance(devices, list) or not devices:
        return False
    return all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in devices)


def _entries_errors(configs, path, entry_keys, errors, mig):
    if not isinstance(configs, dict) or not configs:
        errors.append("%s: at least one named config is required" % path)
        return
    for name, entries in sorted(configs.items()):
        field = "%s.%s" % (path, name)
        if not isinstance(entries, list) or not entries:
            errors.append("%s: needs at least one entry" % field)
            continue
        for i, entry in enumerate(entries):
            where = "%s[%d]" % (field, i)
            if not isinstance(entry, dict):
                errors.append("%s: must be a mapping" % where)
                continue
            for key in sorted(entry):
                if key not in entry_keys:
                    errors.append("%s.%s: unexpected field (valid: %s)" % (where, key, ", ".join(entry_keys)))
            if not _devices_ok(entry.get("devices")):
                errors.append("%s.devices: required, \"all\" or a list of GPU indexes, got %r" % (where, entry.get("devices")))
            if not mig:
                continue
            enabled = entry.get("mig-enabled")
            if not isinstance(enabled, bool):
                errors.append("%s.mig-enabled: required boolean" % where)
            elif enabled and not isinstance(entry.get("mig-devices"), dict):
                errors.append("%s.mig-devices: required when mig-enabled is true ({} allowed)" % where)
            elif not enabled and entry.get("mig-devices"):
                errors.append("%s.mig-devices: must be empty when mig-enabled is false" % where)


@malformed("the mig-parted config document")
def mig_parted_errors(doc):
    """mig-parted ``version: v1`` schema errors (api/spec/v1/spec.go)."""
    errors = []
    if not isinstance(doc, dict):
        return ["mig_parted_config: must be a mapping"]
    if doc.get("version") != "v1":
        errors.append("version: mig-parted needs version v1, got %r" % doc.get("version"))
    for key in sorted(doc):
        if key not in ("version", "mig-configs"):
            errors.append("%s: unexpected field (valid: version, mig-configs)" % key)
    _entries_errors(doc.get("mig-configs"), "mig-configs", _MIG_ENTRY_KEYS, errors, mig=True)
    return errors


@malformed("the vGPU config document")
def vgpu_errors(doc):
    """vgpu-device-manager ``version: v1`` schema errors (api/spec/v1/spec.go)."""
    errors = []
    if not isinstance(doc, dict):
        return ["vgpu_config: must be a mapping"]
    if doc.get("version") != "v1":
        errors.append("version: vgpu-device-manager needs version v1, got %r" % doc.get("version"))
    for key in sorted(doc):
        if key not in ("version", "vgpu-configs"):
            errors.append("%s: unexpected field (valid: version, vgpu-configs)" % key)
    configs = doc.get("vgpu-configs")
    _entries_errors(configs, "vgpu-configs", ("device-filter", "devices", "vgpu-devices"), errors, mig=False)
    for name, entries in sorted((configs or {}).items() if isinstance(configs, dict) else []):
        for i, entry in enumerate(entries if isinstance(entries, list) else []):
            counts = entry.get("vgpu-devices") if isinstance(entry, dict) else None
            if not isinstance(counts, dict) or not all(isinstance(n, int) and not isinstance(n, bool) and n > 0
                                                       for n in counts.values()):
                errors.append("vgpu-configs.%s[%d].vgpu-devices: required mapping of vGPU type to a positive count" % (name, i))
    return errors


@malformed("the MIG layout or the GPU facts (edgeai_gpu.gpus)")
def mig_layout_errors(entries, gpus, field="mig_layout"):
    """Errors of mig-parted entries against this host's GPUs: index exists, MIG-capable, profiles offered and fit."""
    errors = []
    by_index = {gpu.get("index"): gpu for gpu in gpus}
    for i, entry in enumerate(entries):
        devices = entry.get("devices")
        wanted = sorted(by_index) if devices == "all" else devices if isinstance(devices, list) else []
        filters = entry.get("device-filter")
        filters = [filters] if isinstance(filters, str) else filters or []
        for index in wanted:
            gpu = by_index.get(index)
            if gpu is None:
                errors.append("%s[%d].devices: GPU %s does not exist on this host (indexes: %s)"
                              % (field, i, index, ", ".join(str(k) for k in sorted(by_index))))
                continue
            if filters and str(gpu.get("pci_device_id") or "").lower() not in [str(f).lower() for f in filters]:
                continue
            if not entry.get("mig-enabled"):
                continue
            if (gpu.get("mig_mode") or {}).get("current") is None:
                errors.append("%s[%d]: GPU %s (%s) is not MIG-capable" % (field, i, index, gpu.get("name")))
                continue
            table = profiles.table_for(gpu)
            if table is None:
                errors.append("%s[%d]: no MIG profile table for GPU %s (%s); known models: %s"
                              % (field, i, index, gpu.get("name"), ", ".join(profiles.known_models())))
                continue
            why = profiles.check_layout(entry.get("mig-devices") or {}, table)
            if why:
                errors.append("%s[%d].mig-devices: GPU %s: %s" % (field, i, index, why))
    return errors
