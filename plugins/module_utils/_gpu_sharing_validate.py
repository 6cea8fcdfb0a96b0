# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils is PRIVATE to the edgeai.fleet collection. It may change or be
# removed without notice, even in a patch release. Do not import it from elsewhere.

"""Strict validation of device-plugin, mig-parted and vgpu-device-manager documents.

The device-plugin checks accept exactly what k8s-device-plugin v0.20.0 accepts (``api/config/v1``
decoded through sigs.k8s.io/yaml, ``cmd/nvidia-device-plugin/main.go`` validateFlags,
``cmd/mps-control-daemon/mps/device.go``) and refuse what it refuses, plus a short list of
deliberate refusals (``DELIBERATE``) for what the plugin parses and then silently ignores. Every error is ``"<field>: <rule>"`` so the caller knows what
to fix; functions return lists of errors and never raise.
"""

from __future__ import annotations

import re

from ansible_collections.edgeai.fleet.plugins.module_utils import _go_json as go
from ansible_collections.edgeai.fleet.plugins.module_utils._errors import malformed

STR, BOOL, DURATION, LIST_STRATEGY = "string", "boolean", "duration", "list strategy"

# api/config/v1/flags.go: every key of `flags`, with its Go type; tuples are the enums main.go validateFlags checks.
# Every flag is a pointer, so null leaves it unset (the command-line default applies).
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
        "deviceListStrategy": LIST_STRATEGY,
        "deviceIDStrategy": ("uuid", "index"),
        "cdiAnnotationPrefix": STR,
        "nvidiaCTKPath": STR,
        "containerDriverRoot": STR,
        "sharedDevicesAllocationPolicy": ("distributed", "packed"),
    },
    "gfd": {
        "oneshot": BOOL,
        "noTimestamp": BOOL,
        "sleepInterval": DURATION,
        "outputFile": STR,
        "machineTypeFile": STR,
    },
}
LIST_STRATEGIES = ("envvar", "volume-mounts", "cdi-annotations", "cdi-cri")
TOP_KEYS = ("version", "flags", "resources", "sharing", "imex")
REPLICATED_KEYS = ("renameByDefault", "failRequestsGreaterThanOne", "resources")
RESOURCE_KEYS = ("name", "rename", "devices", "replicas")
PREFIX = "nvidia.com/"
MAX_RESOURCE_NAME = 63  # consts.go MaxResourceNameLength, for the fully-qualified name
# k8s.io/apimachinery IsDNS1123Subdomain (at most 253 characters).
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_MIG_RESOURCE = re.compile(r"^mig-\d+g\.\d+gb([-.][a-z.]+)?$")
MPS_CLIENTS_LIMIT = 48          # compute capability >= 7.5
MPS_CLIENTS_LIMIT_OLD = 16      # below 7.5 (isAtLeastVolta really compares with 7.5)

# What this collection refuses although the device plugin accepts it, and why (docs/gpu-sharing.md lists the same).
# Each refusal's message ends with "(deliberate: <id>)" so a reader and the upstream suite can tell it apart.
DELIBERATE = {
    "unknown-key": "the plugin ignores unknown keys (k8s-device-plugin#1433), so a typo or misplaced key ships as "
                   "'no sharing'; Go's case-insensitive key match is not relied on either",
    "rename": "the plugin parses then discards `rename` (DisableResourceNamingInConfig); renameByDefault is the "
              "supported way to get <name>.shared",
    "devices": "the plugin parses then discards `devices` other than \"all\", sharing every GPU instead of the ones listed",
    "top-level-resources": "the plugin parses then discards `resources.gpus` / `resources.mig`",
    "not-shareable": "the only resources the plugin creates are nvidia.com/gpu and, with migStrategy mixed, "
                     "nvidia.com/mig-<profile>; MPS shares only nvidia.com/gpu. Any other name matches no device on any "
                     "node and is skipped silently",
    "duplicate-resource": "the same resource listed twice is replicated twice with no defined winner",
    "mps-and-time-slicing": "with both set the plugin silently uses mps (sharing.go); the README calls them exclusive",
}


def _deliberate(errors, field, rule, deviation):
    errors.append("%s: %s (deliberate: %s)" % (field, rule, deviation))


def _unknown(errors, field, valid):
    _deliberate(errors, field, "unknown key; the device plugin would silently ignore it (valid keys: %s)"
                % ", ".join(sorted(valid)), "unknown-key")


def _scalar_error(value, kind):
    """Why ``value`` does not decode into the Go flag type ``kind``, or None (null is always unset)."""
    if value is None:
        return None
    if isinstance(kind, tuple):
        text = go.as_string(value)
        return None if text in kind else "must be one of %s, got %r" % (", ".join(kind), value)
    if kind == BOOL:
        return None if isinstance(value, bool) else "must be a boolean, got %r" % (value,)
    if kind == STR:
        return None if go.as_string(value) is not None else "must be a string, got %r" % (value,)
    if kind == DURATION:
        return go.duration_error(value)
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(i, str) and i in LIST_STRATEGIES for i in items):
        return ("must be one strategy or a list of them (%s); a comma-joined string is one unknown strategy, got %r"
                % (", ".join(LIST_STRATEGIES), value))
    return None


def _check_flags(value, schema, path, errors):
    if value is None:
        return
    if not isinstance(value, dict):
        errors.append("%s: must be a mapping, got %r" % (path, value))
        return
    for key in sorted(value):
        field = "%s.%s" % (path, key)
        if key not in schema:
            _unknown(errors, field, schema)
        elif isinstance(schema[key], dict):
            _check_flags(value[key], schema[key], field, errors)
        else:
            why = _scalar_error(value[key], schema[key])
            if why:
                errors.append("%s: %s" % (field, why))


def full_resource_name(name):
    """The resource name the plugin stores (resources.go NewResourceName prefixes ``nvidia.com/``)."""
    text = go.as_string(name) or ""
    return text if text.startswith(PREFIX) else PREFIX + text


def resource_name_error(name):
    """Why ``name`` is not a valid device-plugin resource name, or None (resources.go NewResourceName)."""
    if go.as_string(name) is None:
        return "must be a string, got %r" % (name,)
    full = full_resource_name(name)
    if len(full) > MAX_RESOURCE_NAME:
        return "fully-qualified resource name %s must be %d characters or less" % (full, MAX_RESOURCE_NAME)
    base = full[len(PREFIX):]
    if "/" in base:
        return "resource names live under nvidia.com/ (the plugin prefixes it), got %r" % (name,)
    if not _DNS_SUBDOMAIN.match(base):
        return "%r is not a DNS subdomain (lower-case letters, digits, '-', '.')" % base
    return None


def mixed_resource_name(profile):
    """The resource a MIG profile gets under migStrategy mixed (rm.go AddDefaultResourcesToConfig)."""
    return PREFIX + ("mig-" + str(profile)).replace("+", ".")


def _devices_error(devices):
    """Why ``devices`` is not a ReplicatedDevices value (replicas.go), or None."""
    if isinstance(devices, str):
        return None if devices == "all" else "the only valid string is \"all\", got %r" % devices
    if go.is_int(devices):
        return None if devices > 0 else "a count of devices must be > 0, got %r" % (devices,)
    if not isinstance(devices, list):
        return "must be \"all\", a count or a list of GPU indexes, MIG indexes or UUIDs, got %r" % (devices,)
    for item in devices:
        if go.is_int(item, low=0, high=2 ** 64 - 1):
            continue
        if isinstance(item, str) and (go.is_uint(item) or _is_mig_index(item) or _is_device_uuid(item)):
            continue
        return "unsupported device %r in the list (a GPU index, a MIG index i:j, or a GPU-/MIG- UUID)" % (item,)
    return None


def _is_mig_index(text):
    parts = text.split(":", 1)
    return len(parts) == 2 and all(go.is_uint(p) for p in parts)


def _is_device_uuid(text):
    if text.startswith("GPU-"):
        return go.is_uuid(text[4:])
    if not text.startswith("MIG-"):
        return False
    if go.is_uuid(text[4:]):
        return True
    parts = text[4:].split("/", 2)
    return len(parts) == 3 and _is_device_uuid(parts[0]) and parts[0].startswith("GPU-") and all(go.is_uint(p) for p in parts[1:])


def _check_resource(res, field, mps, errors):
    """One ``sharing.*.resources[i]`` entry, in the order ReplicatedResource.UnmarshalJSON checks it."""
    if res is None:
        res = {}
    if not isinstance(res, dict):
        errors.append("%s: must be a mapping with name and replicas, got %r" % (field, res))
        return None
    for key in sorted(set(res) - set(RESOURCE_KEYS)):
        _unknown(errors, "%s.%s" % (field, key), RESOURCE_KEYS)
    name = None
    if "name" not in res:
        errors.append("%s.name: no resource name specified" % field)
    else:
        why = resource_name_error(res["name"])
        if why:
            errors.append("%s.name: %s" % (field, why))
        else:
            name = full_resource_name(res["name"])
            base = name[len(PREFIX):]
            if mps and base != "gpu":
                _deliberate(errors, field + ".name", "MPS shares only nvidia.com/gpu (full GPUs), got %s" % name,
                            "not-shareable")
            elif base != "gpu" and not _MIG_RESOURCE.match(base):
                _deliberate(errors, field + ".name", "no device is ever advertised as %s; time-slicing applies to "
                            "nvidia.com/gpu or, with migStrategy mixed, nvidia.com/mig-<profile>" % name, "not-shareable")
    if "devices" in res:
        why = _devices_error(res["devices"])
        if why:
            errors.append("%s.devices: %s" % (field, why))
        elif res["devices"] != "all":
            _deliberate(errors, field + ".devices", "the device plugin parses then discards this field and shares every "
                        "device; remove it or use \"all\"", "devices")
    replicas = res.get("replicas")
    if "replicas" not in res:
        errors.append("%s.replicas: no replicas specified" % field)
    elif replicas is not None and not go.is_int(replicas):
        errors.append("%s.replicas: must be an integer the plugin's Go int holds (-2^63 .. 2^63-1, no fraction, "
                      "not a boolean), got %r" % (field, replicas))
    elif replicas is None or replicas < 2:
        errors.append("%s.replicas: number of replicas must be >= 2 (got %r); for no sharing omit `sharing`"
                      % (field, replicas))
    if "rename" in res:
        why = resource_name_error(res["rename"])
        if why:
            errors.append("%s.rename: %s" % (field, why))
        _deliberate(errors, field + ".rename", "the device plugin parses then discards this field (not yet supported); "
                    "use renameByDefault for <name>.shared", "rename")
    return name


def _check_replicated(block, path, errors):
    """``sharing.timeSlicing`` / ``sharing.mps`` as ReplicatedResources.UnmarshalJSON reads it."""
    if block is None:
        block = {}
    if not isinstance(block, dict):
        errors.append("%s: must be a mapping, got %r" % (path, block))
        return
    for key in sorted(set(block) - set(REPLICATED_KEYS)):
        _unknown(errors, "%s.%s" % (path, key), REPLICATED_KEYS)
    for key in ("renameByDefault", "failRequestsGreaterThanOne"):
        if block.get(key) is not None and not isinstance(block[key], bool):
            errors.append("%s.%s: must be a boolean, got %r" % (path, key, block[key]))
    resources = block.get("resources")
    if resources is not None and not isinstance(resources, list):
        errors.append("%s.resources: must be a list, got %r" % (path, resources))
        return
    if not resources:
        errors.append("%s.resources: no resources specified (the plugin refuses a missing or empty list)" % path)
        return
    seen = set()
    for i, res in enumerate(resources):
        field = "%s.resources[%d]" % (path, i)
        name = _check_resource(res, field, path.endswith(".mps"), errors)
        if name in seen:
            _deliberate(errors, field + ".name", "%s is listed twice" % name, "duplicate-resource")
        seen.add(name)


def _check_top_resources(value, errors):
    """Top-level ``resources`` (resources.go Resource.UnmarshalJSON), which the plugin then discards."""
    if value is None:
        return
    if not isinstance(value, dict):
        errors.append("resources: must be a mapping, got %r" % (value,))
        return
    for key in sorted(value):
        if key not in ("gpus", "mig"):
            _unknown(errors, "resources.%s" % key, ("gpus", "mig"))
            continue
        items = value[key]
        if items is not None and not isinstance(items, list):
            errors.append("resources.%s: must be a list, got %r" % (key, items))
            continue
        for i, item in enumerate(items or []):
            if not isinstance(item, dict) or "pattern" not in item or "name" not in item:
                errors.append("resources.%s[%d]: resources must have a 'pattern' and a 'name' field set" % (key, i))
                continue
            why = resource_name_error(item["name"])
            if why:
                errors.append("resources.%s[%d].name: %s" % (key, i, why))
        if items:
            _deliberate(errors, "resources.%s" % key, "the plugin parses then ignores top-level resources; remove them",
                        "top-level-resources")


def _check_imex(imex, errors):
    if imex is None:
        return
    if not isinstance(imex, dict):
        errors.append("imex: must be a mapping, got %r" % (imex,))
        return
    for key in sorted(set(imex) - {"channelIDs", "required"}):
        _unknown(errors, "imex.%s" % key, ("channelIDs", "required"))
    if imex.get("required") is not None and not isinstance(imex["required"], bool):
        errors.append("imex.required: must be a boolean, got %r" % (imex["required"],))
    ids = imex.get("channelIDs")
    if ids is None:
        return
    if not isinstance(ids, list) or not all(go.is_int(i) for i in ids):
        errors.append("imex.channelIDs: must be a list of integers (not booleans), got %r" % (ids,))
    elif [go.as_int(i) for i in ids] not in ([], [0]):
        errors.append("imex.channelIDs: invalid IMEX config: channelIDs must be [] or [0], got %r" % (ids,))


def _version_error(version):
    text = go.as_string(version) if version is not None else ""
    if text is None:
        return "version: must be a string, got %r" % (version,)
    if text not in ("", "v1"):
        return "version: unknown version %r; only v1 exists (empty means v1)" % (version,)
    return None


@malformed("the device-plugin config document")
def device_plugin_errors(doc):
    """Everything wrong with a device-plugin config document, without GPU knowledge.

    The errors the plugin itself raises (config parsing and main.go validateFlags) come first; the refusals this
    collection adds on purpose end with ``(deliberate: <id>)``, an id of ``DELIBERATE``.
    """
    errors = []
    if not isinstance(doc, dict):
        return ["config: must be a mapping (the device-plugin config document), got %s" % type(doc).__name__]
    for key in sorted(set(doc) - set(TOP_KEYS)):
        _unknown(errors, key, TOP_KEYS)
    why = _version_error(doc.get("version"))
    if why:
        errors.append(why)
    _check_flags(doc.get("flags"), FLAGS_SCHEMA, "flags", errors)
    _check_top_resources(doc.get("resources"), errors)
    _check_imex(doc.get("imex"), errors)
    sharing = doc.get("sharing")
    if sharing is not None and not isinstance(sharing, dict):
        return errors + ["sharing: must be a mapping, got %r" % (sharing,)]
    sharing = sharing or {}
    for key in sorted(set(sharing) - {"timeSlicing", "mps"}):
        _unknown(errors, "sharing.%s" % key, ("mps", "timeSlicing"))
    # timeSlicing is a struct in Go, so null still reaches its decoder; mps is a pointer, and null leaves it unset.
    if "timeSlicing" in sharing:
        _check_replicated(sharing["timeSlicing"], "sharing.timeSlicing", errors)
    if sharing.get("mps") is not None:
        _check_replicated(sharing["mps"], "sharing.mps", errors)
        if "timeSlicing" in sharing:
            _deliberate(errors, "sharing", "timeSlicing and mps are both set; the plugin silently uses mps. Keep exactly one",
                        "mps-and-time-slicing")
        if _mig_strategy(doc) == "mixed":
            errors.append("flags.migStrategy: using mixed is not supported with MPS (the plugin exits at start-up)")
    return errors


def _mig_strategy(doc):
    flags = doc.get("flags") if isinstance(doc, dict) else None
    value = flags.get("migStrategy") if isinstance(flags, dict) else None
    return "none" if value is None else go.as_string(value)


def normalize(doc):
    """A valid document as the plugin reads it: version v1, unset (null) flags dropped, migStrategy defaulted,
    replicas as integers. Meaning is unchanged; only the spelling is canonical."""
    out = {key: value for key, value in doc.items() if value is not None or key == "flags"}
    out["version"] = "v1"
    out["flags"] = _without_nulls(doc.get("flags") or {})
    out["flags"]["migStrategy"] = _mig_strategy(doc)
    sharing = {}
    for key, block in (doc.get("sharing") or {}).items():
        if block is None:
            continue
        block = {k: v for k, v in block.items() if v is not None}
        block["resources"] = [dict(r, replicas=go.as_int(r["replicas"])) for r in block["resources"]]
        sharing[key] = block
    if sharing:
        out["sharing"] = sharing
    else:
        out.pop("sharing", None)
    return out


def _without_nulls(mapping):
    return {key: _without_nulls(value) if isinstance(value, dict) else value
            for key, value in mapping.items() if value is not None}


def sharing_block(doc):
    """``(strategy, block)`` as sharing.go decides: mps when set, else timeSlicing, else none."""
    sharing = (doc or {}).get("sharing") or {}
    for key, name in (("mps", "mps"), ("timeSlicing", "time-slicing")):
        block = sharing.get(key)
        if isinstance(block, dict) and any(isinstance(r, dict) and go.is_int(r.get("replicas")) and r["replicas"] > 1
                                           for r in block.get("resources") or []):
            return name, block
    return "none", None


def fail_requests_greater_than_one(doc):
    """Whether the plugin refuses a container asking for more than one shared device (rm.go ValidateRequest).

    The block's value when set; unset means false for time-slicing and true for MPS (config.go NewConfig);
    None when nothing is shared.
    """
    strategy, block = sharing_block(doc)
    if block is None:
        return None
    value = block.get("failRequestsGreaterThanOne")
    return (strategy == "mps") if value is None else value


def strategy_of(doc):
    """The sharing strategy the plugin derives from ``doc`` (sharing.go): mps, time-slicing or none."""
    return sharing_block(doc)[0]


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
        # device.go isAtLeastVolta ignores a leading "v".
        major, minor = str(text).lstrip("v").split(".", 1)
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
            if go.is_int(replicas) and replicas > limit:
                errors.append("sharing.mps.resources[%d].replicas: %d exceeds the MPS client limit of %d per GPU at compute "
                              "capability %s (48 from 7.5 up, 16 below)" % (i, replicas, limit, cc))
    return errors
