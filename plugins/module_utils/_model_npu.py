# -*- coding: utf-8 -*-
# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Private to the edgeai.fleet collection: may change without notice.

"""The rules of OpenVINO's NPU plugin (Intel Core Ultra NPU) that model_compile enforces before compiling.

From openvinotoolkit/openvino ``src/plugins/intel_npu``: the plugin has no dynamic shapes (README, "Dynamic
shapes"); its INFERENCE_PRECISION_HINT parses only ``f16`` (the default) and ``i8`` (``config/options.hpp``,
"Supported values: f16, i8"); its OPTIMIZATION_CAPABILITIES are FP16, INT8 and EXPORT_IMPORT, no FP32.
Compiling needs either the device (Compiler-In-Driver) or the compiler library shipped in the OpenVINO package
(Compiler-In-Plugin, ``libopenvino_intel_npu_compiler_loader.so``) with NPU_PLATFORM set for offline use. The
PyPI wheel of OpenVINO 2026.4 ships the plugin without that library, so an NPU-less build host cannot compile
for the NPU; model_compile refuses there instead of compiling for the CPU.
"""

from __future__ import annotations

from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError
from ansible_collections.edgeai.fleet.plugins.module_utils import _model_shapes as shapes_

DEVICE = "NPU"
# The plugin's INFERENCE_PRECISION_HINT values that model_compile's inference_precision can name.
HINTS = ("f16",)
DEFAULT_HINT = "f16"


def is_npu(device):
    """True for ``NPU`` and ``NPU.<id>``: the NPU plugin, whatever device id follows."""
    return (device or "").upper().split(".")[0] == DEVICE


def inference_precision(requested):
    """The hint to pin on the NPU: unset and ``auto`` mean f16, the plugin's default and only float hint."""
    if requested in (None, "auto") or requested in HINTS:
        return DEFAULT_HINT
    raise FleetError("device NPU cannot run inference_precision %s: the NPU plugin accepts INFERENCE_PRECISION_HINT "
                     "f16 or i8 only (openvino src/plugins/intel_npu config/options.hpp); set inference_precision "
                     "f16 or leave it unset" % requested, option="inference_precision")


def unsupported(precision):
    """Why the NPU cannot take weights of ``precision`` (None when it can)."""
    if precision == "fp32":
        return ("the NPU computes in FP16 or INT8 (its OPTIMIZATION_CAPABILITIES list FP16, INT8, no FP32): "
                "build fp16, int8 or int8-weights")
    return None


def require_static(inputs, declared=None):
    """Refuse a model whose inputs keep a dynamic dimension after input_shapes: the NPU compiles fixed shapes only.

    ``inputs``: ``[(name, dims)]`` of the converted model, -1 for a dynamic dimension; ``declared``: the ONNX
    graph's ``[(name, dims)]`` when readable, whose symbolic names (``batch``) make the message clearer.
    """
    named = dict(declared or [])
    shown = []
    for name, dims in inputs:
        source = named.get(name)
        if source is not None and len(source) == len(dims):
            dims = [orig if d < 0 else d for d, orig in zip(dims, source)]
        shown.append((name, dims))
    open_inputs = shapes_.dynamic(shown)
    if not open_inputs:
        return
    raise FleetError("device NPU compiles static shapes only (the NPU plugin has no dynamic shapes): %s"
                     % shapes_.describe_dynamic(shown), option="input_shapes", dynamic_inputs=dict(open_inputs),
                     input_shapes_to_start=shapes_.suggestion(shown))


def _compiler_missing(core):
    """Why the NPU plugin cannot compile without a device here, or None when its compiler library answers."""
    try:
        core.get_property(DEVICE, "NPU_COMPILER_VERSION")
    except RuntimeError as exc:  # the plugin raises RuntimeError for a missing library or an unregistered device
        return shapes_.clip_reason(exc)
    return None


def require_device(core, version):
    """Refuse early on a host without an NPU: never compile for it blind, never fall back to the CPU.

    With the compiler library present an offline blob could be built (NPU_PLATFORM), but no load test or
    fidelity gate could run on it, and model_compile installs only gated artifacts.
    """
    devices = list(core.available_devices)
    if any(is_npu(d) for d in devices):
        return
    missing = _compiler_missing(core)
    if missing:
        why = ("and this OpenVINO has no offline NPU compiler (Compiler-In-Plugin library "
               "libopenvino_intel_npu_compiler_loader.so is not in the package: %s)" % missing)
    else:
        why = ("and an offline NPU blob (NPU_PLATFORM) could not be load-tested or gated against the reference "
               "without the device")
    raise FleetError("device NPU: OpenVINO %s finds no NPU on this host (devices: %s) %s. Compile on a host of the "
                     "target class with the NPU and its driver (intel_vpu, /dev/accel/accel0), or choose device CPU"
                     % (version, ", ".join(devices) or "none", why),
                     option="device", available_devices=devices, compiler=missing)


def require_executed_on_npu(devices):
    """The compiled model's EXECUTION_DEVICES must name the NPU: a CPU there would be a silent fallback."""
    if not any(is_npu(d) for d in devices):
        shown = ", ".join(devices) or "nothing"
        raise FleetError("device NPU was asked for but OpenVINO executes the model on %s" % shown,
                         execution_devices=list(devices))
