# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The target model_serving compiles for, per hardware class.

Inputs follow the documented shapes: edgeai_accelerators (accelerator_info, issue 17 interface 1) and edgeai_gpu
(gpu_info, plugins/module_utils/_gpu_info.py: empty_facts plus gpus/tegra as collect() fills them).
"""

from __future__ import annotations

import pathlib

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.edgeai.fleet.plugins.filter.serving_target import DEFAULT_PREFERENCE, ENTRIES, FilterModule
from ansible_collections.edgeai.fleet.plugins.module_utils._gpu_info import empty_facts

serving_target = FilterModule().filters()["serving_target"]

NO_ACCEL = {"count": 0, "devices": [], "targets": [], "reason": "no accelerator found"}
NO_GPU = empty_facts()
L4 = dict(empty_facts(), platform="nvml", count=1, present=True, products=["NVIDIA L4"],
          gpus=[{"index": 0, "name": "NVIDIA L4"}])
ORIN_GPU = empty_facts(tegra={"model": "NVIDIA Jetson AGX Orin Developer Kit", "l4t_release": "36.3.0"})


def device(kind, vendor, path, id_, targets, usable=True, reason=None, model=None):
    return {"kind": kind, "vendor": vendor, "model": model, "path": path, "bus": "pci", "id": id_, "driver": None,
            "driver_version": None, "firmware_version": None, "usable": usable, "reason": reason, "targets": targets}


def accel(*devices):
    usable = {t for d in devices if d["usable"] is True for t in d["targets"] if isinstance(t, str)}
    return {"count": len(devices), "devices": list(devices), "targets": sorted(usable), "reason": None}


NPU = device("npu", "intel", "/dev/accel/accel0", "8086:7d1d", ["openvino:NPU"], model="Meteor Lake NPU")
NPU_DENIED = dict(NPU, usable=False, targets=[],
                  reason="/dev/accel/accel0 is not readable and writable by this user (add it to the render group)")
CORAL_USB = dict(device("edgetpu", "google", None, "18d1:9302", ["edgetpu", "tflite"]), bus="usb")
CORAL_PCIE = device("edgetpu", "google", "/dev/apex_0", "1ac1:089a", ["edgetpu", "tflite"])
HAILO = device("hailo", "hailo", "/dev/hailo0", "1e60:2864", ["hailo"], model="Hailo-8")
DLA = [dict(device("dla", "nvidia", None, "dla%d" % core, ["tensorrt:dla"]), bus="platform") for core in (0, 1)]


def choice(target, device_, accelerator):
    return {"target": target, "device": device_, "accelerator": accelerator}


@pytest.mark.parametrize("accel_facts, gpu_facts, preference, compile_, expected, why", [
    pytest.param(NO_ACCEL, NO_GPU, None, None, choice("openvino", "CPU", "cpu"), ["openvino:CPU is the first"],
                 id="cpu-only-host"),
    pytest.param(None, None, None, None, choice("openvino", "CPU", "cpu"), [], id="facts-not-gathered-means-cpu"),
    pytest.param(NO_ACCEL, L4, None, None, choice("tensorrt", "GPU0", "nvidia GPU 0"), ["tensorrt is the first"],
                 id="nvidia-dgpu"),
    pytest.param(accel(*DLA), ORIN_GPU, None, None, choice("tensorrt", "DLA0", "nvidia DLA dla0"),
                 ["tensorrt:dla"], id="jetson-orin-with-dla"),
    pytest.param(accel(*DLA), ORIN_GPU, None, {"precision": "fp32"}, choice("tensorrt", "GPU0", "nvidia GPU 0"),
                 ["tensorrt:dla on nvidia DLA dla0 passed over: precision fp32 asked, it runs fp16, int8"],
                 id="jetson-orin-fp32-asked-dla-runs-no-fp32"),
    pytest.param(accel(NPU), NO_GPU, None, {"precision": "int8"},
                 choice("openvino", "NPU", "intel NPU /dev/accel/accel0"), ["openvino:NPU is the first"],
                 id="intel-npu-usable"),
    pytest.param(accel(NPU_DENIED), NO_GPU, None, None, choice("openvino", "CPU", "cpu"),
                 ["intel NPU /dev/accel/accel0 is present but unusable: /dev/accel/accel0 is not readable"],
                 id="intel-npu-unusable-permission"),
    pytest.param(accel(CORAL_USB), NO_GPU, None, None, choice("edgetpu", "EDGETPU", "google Edge TPU 18d1:9302"),
                 ["edgetpu is the first"], id="coral-usb"),
    pytest.param(accel(CORAL_PCIE), NO_GPU, None, {"precision": "auto"},
                 choice("edgetpu", "EDGETPU", "google Edge TPU /dev/apex_0"), [], id="coral-pcie"),
    pytest.param(accel(CORAL_USB), NO_GPU, None, {"precision": "fp16"}, choice("openvino", "CPU", "cpu"),
                 ["edgetpu on google Edge TPU 18d1:9302 passed over: precision fp16 asked, it runs int8"],
                 id="coral-usb-fp16-asked-edgetpu-is-int8-only"),
    pytest.param(accel(HAILO), NO_GPU, None, None, choice("openvino", "CPU", "cpu"),
                 ["hailo Hailo /dev/hailo0 is present but no compile target exists for it"], id="hailo-only"),
    pytest.param(accel(NPU, *DLA), L4, ["onnxruntime"], None, choice("onnxruntime", "CPU", "cpu"), [],
                 id="user-preference-overrides"),
    pytest.param(accel(NPU), L4, ["tflite", "tensorrt"], None, choice("tflite", "CPU", "cpu"), [],
                 id="user-preference-cpu-tflite-before-gpu"),
    pytest.param(accel(NPU), L4, ["openvino:GPU", "tensorrt", "tensorrt"], None,
                 choice("tensorrt", "GPU0", "nvidia GPU 0"), [],
                 id="openvino-gpu-needs-an-accelerator-that-lists-it"),
])
def test_choice_per_hardware_class(accel_facts, gpu_facts, preference, compile_, expected, why):
    result = serving_target(accel_facts, gpu_facts, preference, compile_)
    assert {key: result[key] for key in expected} == expected
    assert set(result) == {"target", "device", "accelerator", "why"}
    for part in why:
        assert part in result["why"]


@pytest.mark.parametrize("accel_facts, gpu_facts, preference, compile_, message", [
    pytest.param("npu", NO_GPU, None, None, "edgeai_accelerators must be a dict", id="facts-not-a-dict"),
    pytest.param({"devices": {"npu": NPU}}, NO_GPU, None, None, "devices must be a list", id="devices-not-a-list"),
    pytest.param({"devices": [NPU] * 65}, NO_GPU, None, None, "at most 64 entries", id="too-many-devices"),
    pytest.param({"devices": ["npu"]}, NO_GPU, None, None, r"devices\[0\] must be a dict", id="device-not-a-dict"),
    pytest.param(accel(dict(NPU, usable="yes")), NO_GPU, None, None, "usable must be true or false",
                 id="usable-not-a-bool"),
    pytest.param(accel(dict(NPU, kind=None)), NO_GPU, None, None, r"kind must be a string", id="kind-missing"),
    pytest.param(accel(dict(NPU, path="/dev/" + "a" * 300)), NO_GPU, None, None, "at most 256 characters",
                 id="path-too-long"),
    pytest.param(accel(dict(NPU, targets=["openvino:NPU"] * 17)), NO_GPU, None, None, "targets must be a list",
                 id="too-many-targets"),
    pytest.param(accel(dict(NPU, targets=[["x"]])), NO_GPU, None, None, r"targets\[0\] must be a string",
                 id="target-not-a-string"),
    pytest.param(NO_ACCEL, ["L4"], None, None, "edgeai_gpu must be a dict", id="gpu-facts-not-a-dict"),
    pytest.param(NO_ACCEL, dict(L4, gpus=[{"index": "0"}]), None, None, "index must be an integer",
                 id="gpu-index-not-an-int"),
    pytest.param(NO_ACCEL, dict(L4, gpus=[{"index": 0}] * 65), None, None, "at most 64 entries",
                 id="too-many-gpus"),
    pytest.param(NO_ACCEL, NO_GPU, "tensorrt", None, "preference must be a list", id="preference-not-a-list"),
    pytest.param(NO_ACCEL, NO_GPU, ["tensorrt:gpu"], None, "unknown preference entry 'tensorrt:gpu'",
                 id="preference-unknown-entry"),
    pytest.param(NO_ACCEL, NO_GPU, [], None, "preference is empty", id="preference-empty"),
    pytest.param(NO_ACCEL, NO_GPU, None, "int8", "compile must be a dict", id="compile-not-a-dict"),
    pytest.param(accel(NPU_DENIED), NO_GPU, ["openvino:NPU", "hailo"], None,
                 "can run none of the preference entries openvino:NPU, hailo .*unusable", id="nothing-runnable"),
])
def test_malformed_facts_and_arguments_are_clear_errors(accel_facts, gpu_facts, preference, compile_, message):
    with pytest.raises(AnsibleFilterError, match="serving_target: .*" + message):
        serving_target(accel_facts, gpu_facts, preference, compile_)


def test_role_default_and_argspec_are_the_filter_default():
    """The role documents the order in defaults/ and argument_specs; a drift would document one and run another."""
    role = pathlib.Path(__file__).resolve().parents[4] / "roles" / "model_serving"
    default = yaml.safe_load((role / "defaults" / "main.yml").read_text())["model_serving_target_preference"]
    spec = yaml.safe_load((role / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]["options"]
    option = spec["model_serving_target_preference"]
    assert default == option["default"] == list(DEFAULT_PREFERENCE)
    assert sorted(option["choices"]) == sorted(ENTRIES)
