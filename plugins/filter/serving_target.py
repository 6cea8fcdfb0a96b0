# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

# Dedicated accelerators first (they free the CPU and GPU and draw the least power per inference), then the GPU,
# then the CPU runtimes. Hailo has no compile target: it is named in `why`, never chosen.
DEFAULT_PREFERENCE = ("tensorrt:dla", "tensorrt", "openvino:NPU", "edgetpu", "hailo", "openvino:GPU",
                      "openvino:CPU", "tflite", "onnxruntime")

# entry -> (model_compile target, device, precisions it can run; None: any)
ENTRIES = {
    "tensorrt:dla": ("tensorrt", "DLA", ("fp16", "int8", "auto")),
    "tensorrt": ("tensorrt", "GPU", None),
    "openvino:NPU": ("openvino", "NPU", ("fp16", "int8", "int8-weights", "auto")),
    "edgetpu": ("edgetpu", "EDGETPU", ("int8", "auto")),
    "hailo": (None, None, None),
    "openvino:GPU": ("openvino", "GPU", None),
    "openvino:CPU": ("openvino", "CPU", None),
    "tflite": ("tflite", "CPU", ("int8", "auto")),
    "onnxruntime": ("onnxruntime", "CPU", None),
}
# Every CPU runs these; the others need a device that lists the entry in its targets (or, for tensorrt, a GPU).
CPU_ENTRIES = ("openvino:CPU", "tflite", "onnxruntime")
KIND_LABELS = {"npu": "NPU", "edgetpu": "Edge TPU", "hailo": "Hailo", "dla": "DLA"}

# Facts come from the device: bound what the controller walks and prints.
MAX_DEVICES = 64
MAX_TARGETS = 16
MAX_PREFERENCE = 32
MAX_TEXT = 256


def _fail(message):
    raise AnsibleFilterError("serving_target: %s" % message)


def _text(where, value, required=False):
    if value is None and not required:
        return None
    if not isinstance(value, str) or len(value) > MAX_TEXT or (required and not value):
        _fail("%s must be a string of at most %d characters, got %r" % (where, MAX_TEXT, value if isinstance(
            value, (str, int, float, bool, type(None))) else type(value).__name__))
    return value


def _list(where, value, maximum):
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > maximum:
        _fail("%s must be a list of at most %d entries, got %s" % (
            where, maximum, "%d entries" % len(value) if isinstance(value, list) else type(value).__name__))
    return value


def _mapping(where, value):
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        _fail("%s must be a dict, got %s" % (where, type(value).__name__))
    return value


def _device(index, raw):
    where = "edgeai_accelerators.devices[%d]" % index
    if not isinstance(raw, Mapping):
        _fail("%s must be a dict, got %s" % (where, type(raw).__name__))
    if not isinstance(raw.get("usable"), bool):
        _fail("%s.usable must be true or false, got %r" % (where, raw.get("usable")))
    device = {key: _text("%s.%s" % (where, key), raw.get(key), required=key in ("kind", "vendor"))
              for key in ("kind", "vendor", "model", "path", "id", "reason")}
    device["usable"] = raw["usable"]
    device["targets"] = [_text("%s.targets[%d]" % (where, i), target, required=True)
                         for i, target in enumerate(_list(where + ".targets", raw.get("targets"), MAX_TARGETS))]
    label = KIND_LABELS.get(device["kind"], device["kind"])
    device["name"] = "%s %s %s" % (device["vendor"], label, device["path"] or device["id"] or "?")
    return device


def _gpu(gpu_facts):
    """'nvidia GPU <index>' when gpu_info found an NVIDIA GPU (a Jetson's integrated one included), else None."""
    gpu_facts = _mapping("edgeai_gpu", gpu_facts)
    gpus = _list("edgeai_gpu.gpus", gpu_facts.get("gpus"), MAX_DEVICES)
    tegra = _mapping("edgeai_gpu.tegra", gpu_facts.get("tegra"))
    indexes = []
    for i, gpu in enumerate(gpus):
        index = _mapping("edgeai_gpu.gpus[%d]" % i, gpu).get("index", i)
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < MAX_DEVICES:
            _fail("edgeai_gpu.gpus[%d].index must be an integer from 0 to %d, got %r" % (i, MAX_DEVICES - 1, index))
        indexes.append(index)
    if indexes:
        return min(indexes)
    return 0 if tegra else None


def _preference(preference):
    entries = list(DEFAULT_PREFERENCE) if preference is None else _list("preference", preference, MAX_PREFERENCE)
    for entry in entries:
        if entry not in ENTRIES:
            _fail("unknown preference entry %r; known: %s" % (entry, ", ".join(sorted(ENTRIES))))
    if not entries:
        _fail("preference is empty; list at least one of %s" % ", ".join(DEFAULT_PREFERENCE))
    return list(dict.fromkeys(entries))


def _candidate(entry, devices, gpu_index):
    """(device suffix, accelerator name) when this host can run entry, else None."""
    if entry in CPU_ENTRIES:
        return "", "cpu"
    for device in devices:
        if entry in device["targets"]:
            suffix = device["id"][3:] if entry == "tensorrt:dla" and (device["id"] or "").startswith("dla") else ""
            return suffix, device["name"]
    if entry == "tensorrt" and gpu_index is not None:
        return str(gpu_index), "nvidia GPU %d" % gpu_index
    return None


def serving_target(accel_facts, gpu_facts, preference=None, compile=None):
    """The first entry of the preference order this host can run: {target, device, accelerator, why}."""
    accel_facts = _mapping("edgeai_accelerators", accel_facts)
    raw_devices = _list("edgeai_accelerators.devices", accel_facts.get("devices"), MAX_DEVICES)
    devices = [_device(i, raw) for i, raw in enumerate(raw_devices)]
    gpu_index = _gpu(gpu_facts)
    precision = _mapping("compile", compile).get("precision")
    entries = _preference(preference)

    usable = [device for device in devices if device["usable"]]
    notes = ["%s is present but unusable: %s" % (device["name"], device["reason"] or "no reason given")
             for device in devices if not device["usable"]]
    notes += ["%s is present but no compile target exists for it" % device["name"]
              for device in usable if device["kind"] == "hailo"]
    for entry in entries:
        target, device, precisions = ENTRIES[entry]
        found = _candidate(entry, usable, gpu_index) if target else None
        if found is None:
            continue
        if precisions and precision is not None and precision not in precisions:
            notes.append("%s on %s passed over: precision %s asked, it runs %s" % (
                entry, found[1], precision, ", ".join(p for p in precisions if p != "auto")))
            continue
        why = "%s is the first entry of the preference order this host can run (on %s)" % (entry, found[1])
        return {"target": target, "device": device + found[0], "accelerator": found[1],
                "why": "; ".join([why] + notes)}
    _fail("this host can run none of the preference entries %s (%s)" % (
        ", ".join(entries), "; ".join(notes) or "no usable accelerator, GPU or CPU entry"))


class FilterModule:
    def filters(self):
        return {"serving_target": serving_target}
