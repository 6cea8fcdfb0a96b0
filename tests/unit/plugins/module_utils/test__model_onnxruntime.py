# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The ONNX Runtime target for real on a tiny MatMul model (nothing simulated)."""

from __future__ import annotations

import os

import pytest

from ansible_collections.edgeai.fleet.plugins.module_utils import _model_compile as mc
from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError
from ansible_collections.edgeai.fleet.tests.unit.plugins.module_utils.model_compile_fakes import PARAMS

np = pytest.importorskip("numpy")
onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")


@pytest.fixture
def src(tmp_path):
    from onnx import TensorProto, helper, numpy_helper
    weights = np.random.default_rng(0).standard_normal((16, 8)).astype(np.float32)
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 16])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 8])
    graph = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], "g", [x], [y],
                              [numpy_helper.from_array(weights, "w")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 12)])
    model.ir_version = 8
    path = str(tmp_path / "m.onnx")
    onnx.save(model, path)
    return path


def _params(tmp_path, src, **over):
    params = dict(PARAMS, name="m", src=src, dest=str(tmp_path / "art"), target="onnxruntime",
                  input_shapes={"x": [1, 16]})
    params.update(over)
    return params


def _run(params):
    return mc.run_job(params, None, None, False, False)


def test_fp32_fixes_shapes_and_matches_reference(tmp_path, src):
    doc = _run(_params(tmp_path, src))["manifest"]
    assert doc["entrypoint"] == "model.onnx" and doc["inputs"][0]["shape"] == [1, 16]
    assert doc["fidelity"]["max_abs_diff"] == 0.0 and doc["toolchain"]["onnxruntime"]


def test_auto_builds_static_and_dynamic_int8(tmp_path, src):
    calib = tmp_path / "calib"
    calib.mkdir()
    rng = np.random.default_rng(1)
    for i in range(6):
        np.save(str(calib / ("s%d.npy" % i)), rng.standard_normal((1, 16)).astype(np.float32))
    result = _run(_params(tmp_path, src, precision="auto", calibration=str(calib),
                          fidelity_gate={"min_cosine": 0.9, "max_abs_diff": None}))
    records = dict((c["precision"], c) for c in result["candidates"])
    assert sorted(records) == ["fp32", "int8", "int8-weights"]
    assert records["int8"]["passed"] and records["int8-weights"]["passed"] and records["fp32"]["passed"]
    assert records["int8"]["fidelity"]["cosine_min"] > 0.9
    assert os.listdir(str(tmp_path / "art")) and not [n for n in os.listdir(str(tmp_path)) if n.startswith(".")]


def test_rejects_other_devices_and_ir_sources(tmp_path, src):
    with pytest.raises(FleetError, match="no FP16 kernels"):
        _run(_params(tmp_path, src, precision="fp16"))
    with pytest.raises(FleetError, match="device CPU at inference_precision f32"):
        _run(_params(tmp_path, src, device="GPU"))
    ir = tmp_path / "m.xml"
    ir.write_text("<net/>")
    (tmp_path / "m.bin").write_bytes(b"")
    with pytest.raises(FleetError, match="needs an .onnx src"):
        _run(_params(tmp_path, str(ir)))
    with pytest.raises(FleetError, match="input_shapes names z"):
        _run(_params(tmp_path, src, input_shapes={"z": [1, 16]}))


def test_fixed_shapes_that_break_type_inference_say_to_leave_them_out(tmp_path, src, monkeypatch):
    """Simulated: ONNX Runtime refusing the graph once input_shapes are written into it, as it refuses silero_vad.onnx
    (its If's 8 kHz branch fails type inference with a fixed 16 kHz chunk; real in tests/system/test_real_models.py)."""
    from ansible_collections.edgeai.fleet.plugins.module_utils import _model_onnxruntime as ortb
    real = ortb.cpu_session

    def refuses_fixed(model_or_path):
        if not isinstance(model_or_path, str):
            raise FleetError("ONNX Runtime cannot load the model: [ShapeInferenceError] First input tensor must have "
                             "rank 3", traceback="...")
        return real(model_or_path)
    monkeypatch.setattr(ortb, "cpu_session", refuses_fixed)
    with pytest.raises(FleetError, match="First input tensor must have rank 3\nThat is with input_shapes fixed") as caught:
        _run(_params(tmp_path, src))
    assert "leave input_shapes out" in caught.value.msg and caught.value.details["option"] == "input_shapes"
    assert not os.path.exists(str(tmp_path / "art"))


def test_rank_zero_input_shape_is_fixed_in_the_graph(tmp_path):
    """A scalar input (silero's int64 sr) takes input_shapes [] and a dynamic one gets its size."""
    from onnx import TensorProto, helper
    from ansible_collections.edgeai.fleet.plugins.module_utils._model_onnxruntime import prepared_model
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "sequence"]),
              helper.make_tensor_value_info("sr", TensorProto.INT64, [])]
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g", inputs,
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", "sequence"])])
    path = str(tmp_path / "m.onnx")
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)
    model = prepared_model(path, {"x": [1, 512], "sr": []})
    assert [[d.dim_value for d in i.type.tensor_type.shape.dim] for i in model.graph.input] == [[1, 512], []]
    with pytest.raises(FleetError, match="input_shapes\\[sr\\] has 1 dimensions, the model input has 0"):
        prepared_model(path, {"sr": [1]})


def test_quantize_survives_symbolic_shape_inference_asserting(tmp_path):
    """ORT's symbolic shape inference asserts on a Concat of shape tensors along axis -1 (Paddle's exports of the
    PP-OCR classifier and Silero VAD have such nodes); quantisation retries without it."""
    from onnx import TensorProto, helper, numpy_helper
    from ansible_collections.edgeai.fleet.plugins.module_utils._model_onnxruntime import quantize
    weights = np.random.default_rng(0).standard_normal((16, 8)).astype(np.float32)
    nodes = [helper.make_node("MatMul", ["x", "w"], ["y"]), helper.make_node("Shape", ["x"], ["s"]),
             helper.make_node("Concat", ["s", "s"], ["z"], axis=-1)]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 16])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 8]),
                               helper.make_tensor_value_info("z", TensorProto.INT64, [4])],
                              [numpy_helper.from_array(weights, "w")])
    path = str(tmp_path / "concat.onnx")
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)
    out = str(tmp_path / "q.onnx")
    quantize(path, {"x": [1, 16]}, "int8-weights", [], out)
    assert os.path.getsize(out) > 0
