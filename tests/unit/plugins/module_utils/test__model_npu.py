# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""``target: openvino, device: NPU``: the NPU plugin's rules, enforced before anything compiles.

Simulated: the NPU. ``FakeNpuCore`` is the real ``openvino.Core`` that also lists an ``NPU`` device and compiles
for it on the CPU plugin, answering what the NPU plugin answers for a compiled model (EXECUTION_DEVICES ``NPU``,
INFERENCE_PRECISION_HINT as pinned) and keeping the config it was given. ``FakeCore`` answers only the queries
the device check makes. Real: OpenVINO's conversion, the CPU plugin, ONNX, and in the last test the installed
OpenVINO's own verdict on this NPU-less host. Upstream facts come from openvinotoolkit/openvino
``src/plugins/intel_npu`` (README.md "Dynamic shapes", "ov::intel_npu::compiler_type";
``src/al/include/intel_npu/config/options.hpp`` INFERENCE_PRECISION_HINT::parse).
"""

from __future__ import annotations

import pytest

from ansible_collections.edgeai.fleet.plugins.module_utils import _model_compile as mc
from ansible_collections.edgeai.fleet.plugins.module_utils import _model_npu as npu
from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError
from ansible_collections.edgeai.fleet.tests.unit.plugins.module_utils.model_compile_fakes import PARAMS

VCL_MISSING = ("Exception from src/inference/src/cpp/core.cpp:268:\nException from src/plugins/intel_npu/src/"
               "compiler_adapter/src/plugin_compiler_adapter.cpp:54:\nVCL compiler loading failed, aborting. Error: "
               "Cannot load library \"libopenvino_intel_npu_compiler_loader.so\": cannot open shared object file")


class FakeCore:
    """The two answers require_device reads: available_devices and NPU_COMPILER_VERSION (None: the library is
    missing, as in the OpenVINO 2026.4 wheel, which raises the VCL loading error above)."""

    def __init__(self, devices, compiler=None):
        self.available_devices = devices
        self.compiler = compiler

    def get_property(self, device, name):
        assert (device, name) == ("NPU", "NPU_COMPILER_VERSION")
        if self.compiler is None:
            raise RuntimeError(VCL_MISSING)
        return self.compiler


@pytest.mark.parametrize("requested, pinned", [
    (None, "f16"), ("auto", "f16"), ("f16", "f16"),
], ids=["openvino-intel_npu-options.hpp-INFERENCE_PRECISION_HINT-default-f16-unset",
        "openvino-intel_npu-options.hpp-INFERENCE_PRECISION_HINT-default-f16-auto",
        "openvino-intel_npu-options.hpp-INFERENCE_PRECISION_HINT-parse-f16"])
def test_npu_pins_f16(requested, pinned):
    assert npu.inference_precision(requested) == pinned


@pytest.mark.parametrize("requested", ["f32", "bf16"],
                         ids=["openvino-intel_npu-options.hpp-INFERENCE_PRECISION_HINT-parse-rejects-f32",
                              "openvino-intel_npu-options.hpp-INFERENCE_PRECISION_HINT-parse-rejects-bf16"])
def test_npu_refuses_hints_the_plugin_does_not_parse(requested):
    with pytest.raises(FleetError, match="accepts INFERENCE_PRECISION_HINT f16 or i8 only") as err:
        npu.inference_precision(requested)
    assert err.value.details["option"] == "inference_precision"


@pytest.mark.parametrize("precision, refused", [("fp32", True), ("fp16", False), ("int8", False),
                                                ("int8-weights", False)])
def test_npu_weights_precisions(precision, refused):
    assert bool(npu.unsupported(precision)) is refused


def test_device_names():
    assert npu.is_npu("NPU") and npu.is_npu("npu.0") and not npu.is_npu("CPU") and not npu.is_npu(None)


def test_static_shapes_refused_with_the_input_shapes_to_give():
    """The converted model says -1; the ONNX graph's symbolic names make the message say which dimension."""
    with pytest.raises(FleetError, match=r"static shapes only.*ids \[batch, 128\]") as err:
        npu.require_static([("ids", [-1, 128]), ("mask", [1, 128])], [("ids", ["batch", 128]), ("mask", [1, 128])])
    assert err.value.details["dynamic_inputs"] == {"ids": ["batch", 128]}
    assert err.value.details["input_shapes_to_start"] == {"ids": [1, 128]}
    assert err.value.details["option"] == "input_shapes"
    npu.require_static([("ids", [1, 128])], [("ids", ["batch", 128])])  # fixed by input_shapes: accepted


def test_no_npu_and_no_offline_compiler_is_refused_early():
    with pytest.raises(FleetError) as err:
        npu.require_device(FakeCore(["CPU"]), "2026.4.1")
    msg = err.value.msg
    assert "finds no NPU on this host (devices: CPU)" in msg and "no offline NPU compiler" in msg
    assert "libopenvino_intel_npu_compiler_loader.so" in msg and "choose device CPU" in msg
    assert err.value.details["available_devices"] == ["CPU"]


def test_no_npu_with_an_offline_compiler_is_still_refused_because_nothing_could_be_gated():
    with pytest.raises(FleetError, match="could not be load-tested or gated") as err:
        npu.require_device(FakeCore(["CPU"], compiler=(7 << 16) + 21), "2026.4.1")
    assert err.value.details["compiler"] is None


def test_an_npu_device_passes_and_cpu_execution_is_a_fallback():
    npu.require_device(FakeCore(["CPU", "GPU", "NPU"]), "2026.4.1")
    npu.require_executed_on_npu(["NPU"])
    with pytest.raises(FleetError, match="executes the model on CPU"):
        npu.require_executed_on_npu(["CPU"])


# --- through the OpenVINO backend and the compile job ---------------------------------------------------------

ov = pytest.importorskip("openvino")
onnx = pytest.importorskip("onnx")
np = pytest.importorskip("numpy")
ovb = pytest.importorskip("ansible_collections.edgeai.fleet.plugins.module_utils._model_openvino")


class _Hint:
    def __init__(self, value):
        self.value = value

    def to_string(self):
        return self.value


class FakeNpuCompiled:
    """A CPU-compiled model answering the NPU plugin's properties."""

    def __init__(self, compiled, config, devices):
        self.compiled = compiled
        self.config = config
        self.devices = devices
        self.outputs = compiled.outputs

    def create_infer_request(self):
        return self.compiled.create_infer_request()

    def get_property(self, name):
        if name == "EXECUTION_DEVICES":
            return self.devices
        if name == "INFERENCE_PRECISION_HINT":
            return _Hint(self.config.get("INFERENCE_PRECISION_HINT", npu.DEFAULT_HINT))
        return self.compiled.get_property(name)


class FakeNpuCore(ov.Core):
    npu_configs = []
    executes_on = ["NPU"]

    @property
    def available_devices(self):
        return ["CPU", "NPU"]

    def compile_model(self, model, device_name=None, config=None):
        if device_name != "NPU":
            return super().compile_model(model, device_name, config)
        type(self).npu_configs.append(dict(config or {}))
        compiled = super().compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
        return FakeNpuCompiled(compiled, dict(config or {}), self.executes_on)


@pytest.fixture
def fake_npu(monkeypatch):
    monkeypatch.setattr(FakeNpuCore, "npu_configs", [])
    monkeypatch.setattr(ovb.ov, "Core", FakeNpuCore)
    return FakeNpuCore


@pytest.fixture
def dynamic_src(tmp_path):
    from onnx import TensorProto, helper
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 4])
    two = helper.make_tensor("two", TensorProto.FLOAT, [1], [2.0])
    graph = helper.make_graph([helper.make_node("Mul", ["x", "two"], ["y"])], "g", [x], [y], [two])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    path = str(tmp_path / "dyn.onnx")
    onnx.save(model, path)
    return path


def _npu_params(tmp_path, src, **over):
    params = dict(PARAMS, name="m", src=src, dest=str(tmp_path / "art"), device="NPU", precision="auto",
                  candidates=["fp32", "fp16"], inference_precision=None, cache_dir=str(tmp_path / "cache"),
                  latency_runs=1, holdout=1)
    params.update(over)
    return params


def test_dynamic_model_is_refused_before_anything_is_written(tmp_path, dynamic_src, fake_npu):
    with pytest.raises(FleetError, match=r"(?s)static shapes only.*x \[batch, 4\].*\{\"x\": \[1, 4\]\}"):
        mc.run_job(_npu_params(tmp_path, dynamic_src), None, lambda name: None, False, False)
    assert not (tmp_path / "art").exists() and fake_npu.npu_configs == []


def test_npu_compile_pins_f16_skips_fp32_and_uses_the_versioned_cache(tmp_path, dynamic_src, fake_npu):
    result = mc.run_job(_npu_params(tmp_path, dynamic_src, input_shapes={"x": [1, 4]}), None,
                        lambda name: None, False, False)
    doc = result["manifest"]
    assert doc["device"] == "NPU" and doc["precision"] == "fp16" and doc["inference_precision"] == "f16"
    skipped = [c for c in doc["candidates"] if c.get("skipped")]
    assert [c["precision"] for c in skipped] == ["fp32"] and "no FP32" in skipped[0]["skipped"]
    version = ov.get_version().split("-")[0]
    cache = str(tmp_path / "cache" / ("openvino-%s" % version))
    assert fake_npu.npu_configs
    assert all((c["CACHE_DIR"], c["INFERENCE_PRECISION_HINT"]) == (cache, "f16") for c in fake_npu.npu_configs)


def test_f32_pinned_on_npu_is_refused_before_compiling(tmp_path, dynamic_src, fake_npu):
    with pytest.raises(FleetError, match="cannot run inference_precision f32"):
        mc.run_job(_npu_params(tmp_path, dynamic_src, precision="fp16", candidates=None, inference_precision="f32",
                               input_shapes={"x": [1, 4]}), None, lambda name: None, False, False)
    assert fake_npu.npu_configs == []


def test_a_plugin_that_runs_the_model_on_the_cpu_is_not_accepted(tmp_path, fake_npu, monkeypatch):
    monkeypatch.setattr(FakeNpuCore, "executes_on", ["CPU"])
    x = ov.opset13.parameter([1, 4], ov.Type.f32, name="x")
    ov.save_model(ov.Model([ov.opset13.relu(x)], [x], "m"), str(tmp_path / "model.xml"))
    backend = ovb.Backend(mc.validate_params(_npu_params(tmp_path, "unused.onnx")))
    with pytest.raises(FleetError, match="executes the model on CPU"):
        backend.load(str(tmp_path), "model.xml")


def test_this_npu_less_host_is_refused_by_the_real_openvino():
    """Real: the installed OpenVINO. On this build host it lists no NPU and its wheel lacks the compiler library."""
    if any(npu.is_npu(d) for d in ov.Core().available_devices):
        pytest.skip("this host has an NPU")
    with pytest.raises(FleetError, match="finds no NPU on this host") as err:
        ovb.Backend(dict(PARAMS, device="NPU"))
    assert "NPU" not in err.value.details["available_devices"]
