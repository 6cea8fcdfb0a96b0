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
