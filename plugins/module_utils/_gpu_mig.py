# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils is PRIVATE to the edgeai.fleet collection. It may change or be
# removed without notice, even in a patch release. Do not import it from elsewhere.

"""mig-parted ``version: v1`` documents: schema, device selection, and layouts against a GPU.

Upstream: NVIDIA/mig-parted ``api/spec/v1/spec.go`` (the schema and ``MigConfigSpec.MatchesDeviceFilter``),
``pkg/types/device_id.go`` (device-filter ids) and ``pkg/types/mig_profile.go`` (profile names).
Functions returning lists of errors never raise; every error is ``"<field>: <rule>"``.
"""

from __future__ import annotations

import re

from ansible_collections.edgeai.fleet.plugins.module_utils import _go_json
from ansible_collections.edgeai.fleet.plugins.module_utils import _gpu_profiles as profiles
from ansible_collections.edgeai.fleet.plugins.module_utils._errors import malformed

_MIG_ENTRY_KEYS = ("device-filter", "devices", "mig-enabled", "mig-devices")
_UINT32_MAX = 2 ** 32 - 1
# strconv.ParseUint(s, 0, 32): an optional base prefix, digits, and underscores only between digits.
_GO_UINT = re.compile(r"^(0[xX](_?[0-9a-fA-F])+|0[bB](_?[01])+|0[oO]?(_?[0-7])+|[1-9](_?[0-9])*|0)$")
_ATTRIBUTE = re.compile(r"^[a-zA-Z][a-zA-Z0-9.]*$")


def _go_int(value):
    """True when ``value`` decodes into a Go ``int``: mig-parted and vgpu-dm read YAML through sigs.k8s.io/yaml,
    which turns ``2.0`` into the JSON number 2 (accepted) and keeps bools non-numbers (refused)."""
    return _go_json.is_int(value)


def _go_atoi(text):
    """strconv.Atoi: optional sign, decimal digits only; None when Go refuses it."""
    return int(text) if re.match(r"^[+-]?[0-9]+$", text) else None


def mig_profile_error(profile):
    """Why ``profile`` is not a MIG profile name, or None (go-nvlib ``parseMigProfile``, which mig-parted calls)."""
    if not isinstance(profile, str) or profile == "":
        return "profile is the empty string"
    plus, minus = profile.split("+", 1), profile.split("-", 1)
    if len(plus) == 2 and len(minus) == 2:
        return "profile %r contains both '+/-' attributes" % profile
    parts = plus if len(plus) == 2 else minus
    fields = parts[0].split(".", 2)
    if len(fields) not in (2, 3):
        return "cannot parse fields of %r: parsed wrong number of fields, expected 2 or 3" % profile
    for text, unit in zip(fields, ("c", "g", "gb")[3 - len(fields):]):
        if text.strip() != text or not text.endswith(unit) or _go_atoi(text[:-len(unit)]) is None:
            return "cannot parse fields of %r: expected %%d%s, got %r" % (profile, unit, text)
    if len(parts) == 1:
        return None
    attributes = parts[1].split(",")
    if len(set(attributes)) != len(attributes):
        return "cannot parse attributes of %r: non unique attribute in list" % profile
    for attribute in attributes:
        if not _ATTRIBUTE.match(attribute) or attribute.endswith("."):
            return "cannot parse attributes of %r: %r is not letters, digits and inner dots" % (profile, attribute)
    return None


def _mig_devices_errors(devices, where, errors):
    """types.MigConfig.AssertValidFormat: valid names, no negative count, and not every count zero."""
    if devices is None:
        return
    if not isinstance(devices, dict):
        errors.append("%s.mig-devices: must be a mapping of MIG profile to count, got %r" % (where, devices))
        return
    for profile, count in sorted(devices.items(), key=lambda kv: str(kv[0])):
        why = mig_profile_error(profile)
        if why:
            errors.append("%s.mig-devices: invalid format for %r: %s" % (where, profile, why))
        elif not _go_int(count):
            errors.append("%s.mig-devices.%s: count must be an integer, got %r" % (where, profile, count))
        elif count < 0:
            errors.append("%s.mig-devices.%s: count must not be negative, got %d" % (where, profile, count))
    if devices and all(_go_int(n) and n == 0 for n in devices.values()):
        errors.append("%s.mig-devices: all counts for all MigProfiles are 0 (mig-parted refuses it; use {} for MIG "
                      "enabled without devices)" % where)


def _selector_errors(entry, where, errors):
    """``device-filter`` (a string or a list of strings) and ``devices`` (\"all\" or a list of indexes)."""
    if "device-filter" in entry:
        dfilter = entry["device-filter"]
        strings = isinstance(dfilter, list) and all(isinstance(f, str) for f in dfilter)
        if not (dfilter is None or isinstance(dfilter, str) or strings):
            errors.append("%s.device-filter: must be a PCI id string (0x20B010DE, or 0x233010DE:0x16C010DE with the "
                          "subsystem) or a list of them, got %r" % (where, dfilter))
    if "devices" not in entry:
        errors.append("%s.devices: missing required field (\"all\" or a list of GPU indexes)" % where)
        return
    devices = entry["devices"]
    if isinstance(devices, list) and all(_go_int(d) for d in devices) or devices == "all":
        return
    if isinstance(devices, str) or devices is None:
        errors.append("%s.devices: invalid string input %r; only \"all\" or a list of GPU indexes" % (where, devices))
    else:
        errors.append("%s.devices: must be \"all\" or a list of integer GPU indexes, got %r" % (where, devices))


def entries_errors(configs, path, entry_keys, errors, check_entry):
    """The ``<path>: {name: [entry, ...]}`` shape shared by mig-parted and vgpu-device-manager specs."""
    if not isinstance(configs, dict) or not configs:
        errors.append("%s: at least one entry in '%s' is required" % (path, path))
        return
    for name, entries in sorted(configs.items(), key=lambda kv: str(kv[0])):
        field = "%s.%s" % (path, name)
        if not isinstance(entries, list) or not entries:
            errors.append("%s: at least one entry in '%s' is required" % (field, name))
            continue
        for i, entry in enumerate(entries):
            where = "%s[%d]" % (field, i)
            if not isinstance(entry, dict):
                errors.append("%s: must be a mapping with %s" % (where, ", ".join(entry_keys)))
                continue
            for key in sorted(entry, key=str):
                if key not in entry_keys:
                    errors.append("%s.%s: unexpected field (valid: %s)" % (where, key, ", ".join(entry_keys)))
            _selector_errors(entry, where, errors)
            check_entry(entry, where, errors)


def _mig_entry_errors(entry, where, errors):
    if "mig-enabled" not in entry:
        errors.append("%s.mig-enabled: missing required field" % where)
    elif entry["mig-enabled"] is not None and not isinstance(entry["mig-enabled"], bool):
        errors.append("%s.mig-enabled: must be a boolean, got %r" % (where, entry["mig-enabled"]))
    devices = entry.get("mig-devices")
    _mig_devices_errors(devices, where, errors)
    # null mig-enabled unmarshals to false in Go, so it is false here too.
    if entry.get("mig-enabled") and devices is None:
        errors.append("%s.mig-devices: missing required field, required when mig-enabled is true ({} allowed)" % where)
    elif not entry.get("mig-enabled") and isinstance(devices, dict) and devices:
        errors.append("%s.mig-devices: must be empty when mig-enabled is false (mig-parted refuses MIG devices there)" % where)


def spec_errors(doc, configs_key, entry_keys, check_entry, empty_ok=False):
    """A ``version: v1`` spec as ``Spec.UnmarshalJSON`` reads it; ``None`` is the empty document, which loads.

    ``empty_ok``: vgpu-device-manager checks the version only when some key is present, mig-parted always.
    """
    if doc is None:
        return []
    if not isinstance(doc, dict):
        return ["config: must be a mapping with version and %s, got %s" % (configs_key, type(doc).__name__)]
    errors = []
    if doc and "version" not in doc:
        errors.append("version: missing; mig-parted and vgpu-device-manager need version v1")
    elif (doc or not empty_ok) and doc.get("version") != "v1":
        errors.append("version: unknown version %r; only v1 exists" % (doc.get("version"),))
    for key in sorted(doc, key=str):
        if key not in ("version", configs_key):
            errors.append("%s: unexpected field (valid: version, %s)" % (key, configs_key))
    if configs_key in doc:
        entries_errors(doc[configs_key], configs_key, entry_keys, errors, check_entry)
    return errors


@malformed("the mig-parted config document")
def mig_parted_errors(doc):
    """mig-parted ``version: v1`` schema errors (api/spec/v1/spec.go): what ``nvidia-mig-parted`` refuses to load."""
    return spec_errors(doc, "mig-configs", _MIG_ENTRY_KEYS, _mig_entry_errors)


def device_id(text):
    """``(device_vendor, subsystem or None)`` from a device-filter string, or None when mig-parted cannot parse it.

    ``types.NewDeviceIDFromString``: ``<devicevendor>[:<subdevicevendor>]``, each a 32-bit ``strconv.ParseUint``
    with base prefix (``0x20B010DE``). An unparsable filter is not an error upstream; it matches no GPU.
    """
    parts = str(text).split(":")
    if len(parts) > 2 or not all(_GO_UINT.match(p) for p in parts):
        return None
    values = [int(p.replace("_", ""), 8) if re.match(r"^0_?[0-7]", p) else int(p.replace("_", ""), 0) for p in parts]
    if any(v > _UINT32_MAX for v in values):
        return None
    return values[0], (values[1] if len(values) == 2 else None)


def _hex_id(value):
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    parsed = device_id(value) if value is not None else None
    return parsed[0] if parsed else None


def filter_matches(dfilter, gpu):
    """``MigConfigSpec.MatchesDeviceFilter`` for a GPU fact (``pci_device_id``, ``pci_subsystem_id``).

    No filter (or "") matches every GPU; a filter with a subsystem needs the subsystem to match too.
    """
    filters = [dfilter] if isinstance(dfilter, str) else list(dfilter or [])
    filters = [f for f in filters if f != ""]
    if not filters:
        return True
    device, subsystem = _hex_id(gpu.get("pci_device_id")), _hex_id(gpu.get("pci_subsystem_id"))
    for text in filters:
        parsed = device_id(text)
        if parsed is None:
            parsed = (0, None)  # upstream ignores the parse error and compares a zero DeviceID
        if parsed[0] == (device or 0) and (parsed[1] is None or parsed[1] == (subsystem or 0)):
            return True
    return False


def selects(entry, gpu):
    """Whether a mig-parted (or vGPU) entry applies to ``gpu``: its filter matches and ``devices`` names it."""
    devices = entry.get("devices")
    chosen = devices == "all" or isinstance(devices, list) and gpu.get("index") in devices
    return chosen and filter_matches(entry.get("device-filter"), gpu)


@malformed("the MIG layout or the GPU facts (edgeai_gpu.gpus)")
def mig_layout_errors(entries, gpus, field="mig_layout"):
    """Errors of mig-parted entries against this host's GPUs: index exists, MIG-capable, profiles offered and fit."""
    errors = []
    by_index = {gpu.get("index"): gpu for gpu in gpus}
    for i, entry in enumerate(entries):
        devices = entry.get("devices")
        wanted = sorted(by_index) if devices == "all" else devices if isinstance(devices, list) else []
        for index in wanted:
            gpu = by_index.get(index)
            if gpu is None:
                errors.append("%s[%d].devices: GPU %s does not exist on this host (indexes: %s)"
                              % (field, i, index, ", ".join(str(k) for k in sorted(by_index))))
                continue
            if not filter_matches(entry.get("device-filter"), gpu):
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


def pci_id(value):
    """mig-parted's device-filter spelling of a PCI device id: ``0x20B010DE``."""
    text = str(value or "")
    return "0x" + text[2:].upper() if text.lower().startswith("0x") else text.upper()


def planned_mig_states(entries, gpus):
    """[(index, enabled, {profile: n})] after applying ``entries`` (later entries win, like mig-parted)."""
    state = {g.get("index"): (False, {}) for g in gpus}
    for entry in entries:
        for gpu in gpus:
            if selects(entry, gpu):
                state[gpu.get("index")] = (bool(entry.get("mig-enabled")), dict(entry.get("mig-devices") or {}))
    return [(index, on, devices) for index, (on, devices) in sorted(state.items(), key=lambda kv: str(kv[0]))]
