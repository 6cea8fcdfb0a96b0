# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The TFLite target's pure parts: onnx2tf's CLI and layout rules, the tensor map, the refusals.

The layout rules are upstream facts: PINTO0309/onnx2tf 1.29.24 onnx2tf/ops/Input.py turns rank 3/4/5 inputs
channel-last (perm [0,2,1], [0,2,3,1], [0,2,3,4,1]) and keeps other ranks; README "-cind" says calibration
files are "in dimension order after conversion to TF"; onnx2tf.py names outputs
``<stem>_full_integer_quant.tflite`` and ``<stem>_float32.tflite``.
Simulated: onnx2tf itself (a FakeRunCommand) and the LiteRT interpreter (a stub with the details
``get_input_details`` returns). The real conversion runs in tests/system/test_tflite_compile.py.
"""

from __future__ import annotations

import os

import pytest

from ansible_collections.edgeai.fleet.plugins.module_utils import _model_tflite as tfl
from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError
from ansible_collections.edgeai.fleet.tests.unit.module_helpers import FakeRunCommand
from ansible_collections.edgeai.fleet.tests.unit.plugins.module_utils.model_compile_fakes import PARAMS

np = pytest.importorskip("numpy")
UPSTREAM = "PINTO0309/onnx2tf-1.29.24-onnx2tf/ops/Input.py"


@pytest.mark.parametrize("shape, layout, tflite_shape", [
    ([1, 2048], None, [1, 2048]),
    ([1, 3, 48], "NCW->NWC", [1, 48, 3]),
    ([1, 3, 48, 192], "NCHW->NHWC", [1, 48, 192, 3]),
    ([1, 2, 4, 6, 8], "NCDHW->NDHWC", [1, 4, 6, 8, 2]),
    ([], None, []),
], ids=["%s-rank%d" % (UPSTREAM, r) for r in (2, 3, 4, 5, 0)])
def test_input_layout_follows_onnx2tf(shape, layout, tflite_shape):
    assert tfl.input_layout(shape) == layout
    assert tfl.transposed(shape, layout) == tflite_shape
    if layout:
        array = np.zeros(shape)
        assert list(array.transpose(tfl.channel_last(len(shape))).shape) == tflite_shape
        assert list(array.transpose(tfl.channel_last(len(shape))).transpose(tfl.channel_first(len(shape))).shape) == shape


@pytest.mark.parametrize("onnx_shape, tflite_shape, inputs_moved, layout", [
    ([1, 2], [1, 2], True, None),
    ([1, 1, 128, 128], [1, 128, 128, 1], True, "NCHW->NHWC"),
    ([1, 1, 128, 128], [1, 1, 128, 128], True, None),
    ([1, 8, 8, 8], [1, 8, 8, 8], True, "NCHW->NHWC"),
    ([1, 8, 8, 8], [1, 8, 8, 8], False, None),
], ids=["rank2", "det-map-channel-last", "kept", "ambiguous-follows-inputs", "ambiguous-no-moved-input"])
def test_output_layout(onnx_shape, tflite_shape, inputs_moved, layout):
    assert tfl.output_layout(onnx_shape, tflite_shape, inputs_moved) == layout


def test_output_layout_refuses_unexplained_shapes():
    with pytest.raises(FleetError) as err:
        tfl.output_layout([1, 2, 3, 4], [1, 4, 3, 2], True)
    assert "neither the ONNX order nor the channel-last one" in err.value.msg


def test_convert_argv_int8_and_fp32():
    argv = tfl.convert_argv("/s/model.onnx", "/s/out", "int8", [("x", "/s/samples-0.npy")])
    assert argv == ["-i", "/s/model.onnx", "-o", "/s/out", "-n", "-oiqt", "-qt", "per-channel", "-iqd", "float32",
                    "-oqd", "float32", "-cind", "x", "/s/samples-0.npy", "[0.0]", "[1.0]"]
    # weight-only INT8 is the dynamic-range file of the same quantizing run
    assert tfl.convert_argv("/s/model.onnx", "/s/out", "int8-weights", [("x", "/s/samples-0.npy")]) == argv
    assert tfl.CONVERTED["int8-weights"] == "_dynamic_range_quant.tflite"
    # fp32 gets the samples too, without mean/std: onnx2tf infers the graph on them to choose layouts
    assert tfl.convert_argv("/s/model.onnx", "/s/out", "fp32", [("x", "/s/samples-0.npy")]) == [
        "-i", "/s/model.onnx", "-o", "/s/out", "-n", "-cind", "x", "/s/samples-0.npy"]


def test_calibration_arrays_stack_in_onnx2tf_layout_and_refuse_integer_inputs():
    inputs = [{"name": "x", "shape": [1, 3, 4, 5], "datatype": "FP32"}, {"name": "v", "shape": [1, 7], "datatype": "FP32"}]
    samples = [{"x": np.full((1, 3, 4, 5), i, dtype=np.float32), "v": np.ones((1, 7))} for i in range(3)]
    arrays = tfl.calibration_arrays(samples, inputs)
    assert arrays["x"].shape == (3, 4, 5, 3) and arrays["x"].dtype == np.float32 and arrays["x"][2, 0, 0, 0] == 2
    assert arrays["v"].shape == (3, 7)
    ids = tfl.calibration_arrays([{"bytes": np.ones((1, 4), dtype=np.int32)}] * 2,
                                 [{"name": "bytes", "shape": [1, 4], "datatype": "INT32"}], "fp32")
    assert ids["bytes"].shape == (2, 4) and ids["bytes"].dtype == np.int32
    with pytest.raises(FleetError) as err:
        tfl.calibration_arrays([{"bytes": np.zeros((1, 4), dtype=np.int32)}],
                               [{"name": "bytes", "shape": [1, 4], "datatype": "INT32"}])
    assert "float inputs only; input bytes is INT32: use precision fp32" in err.value.msg


def test_node_names_become_tensorflow_scopes():
    onnx = pytest.importorskip("onnx")
    from onnx import helper
    graph = helper.make_graph([helper.make_node("Softmax", ["a"], ["b"], name="Softmax@0")], "g", [], [])
    model = tfl.onnx_for_onnx2tf(helper.make_model(graph))
    assert model.graph.node[0].name == "Softmax_0"
    assert isinstance(model, onnx.ModelProto)


INPUTS = [{"name": "x", "shape": [1, 3, 8, 8], "datatype": "FP32"}, {"name": "sr", "shape": [1], "datatype": "FP32"}]
OUTPUTS = [{"name": "map", "shape": [1, 1, 8, 8], "datatype": "FP32"}, {"name": "score", "shape": [1, 2], "datatype": "FP32"}]
DETAILS_IN = [{"name": "serving_default_sr:0", "index": 1, "shape": [1]},
              {"name": "serving_default_x:0", "index": 0, "shape": [1, 8, 8, 3]}]
DETAILS_OUT = [{"name": "StatefulPartitionedCall:0", "index": 90, "shape": [1, 8, 8, 1]},
               {"name": "StatefulPartitionedCall:1", "index": 91, "shape": [1, 2]}]


def test_io_map_matches_inputs_by_signature_name_and_outputs_by_position():
    mapping = tfl.io_map(INPUTS, OUTPUTS, DETAILS_IN, DETAILS_OUT)
    assert mapping == {
        "inputs": [{"name": "x", "index": 0, "tflite_name": "serving_default_x:0", "layout": "NCHW->NHWC"},
                   {"name": "sr", "index": 1, "tflite_name": "serving_default_sr:0", "layout": None}],
        "outputs": [{"name": "map", "index": 90, "tflite_name": "StatefulPartitionedCall:0", "layout": "NCHW->NHWC"},
                    {"name": "score", "index": 91, "tflite_name": "StatefulPartitionedCall:1", "layout": None}]}


@pytest.mark.parametrize("details_in, details_out, words", [
    (DETAILS_IN[:1], DETAILS_OUT, "with 1 inputs and 2 outputs"),
    ([DETAILS_IN[0], dict(DETAILS_IN[1], shape=[1, 3, 8, 8])], DETAILS_OUT, "laid out input x as [1, 3, 8, 8]"),
], ids=["input-count", "input-not-channel-last"])
def test_io_map_refusals(details_in, details_out, words):
    with pytest.raises(FleetError) as err:
        tfl.io_map(INPUTS, OUTPUTS, details_in, details_out)
    assert words in err.value.msg


class StubInterpreter:
    """Records set_tensor; its "model" returns the NHWC input's channel sum as a [1, 8, 8, 1] map."""

    def __init__(self):
        self.tensors = {}

    def set_tensor(self, index, array):
        self.tensors[index] = array

    def invoke(self):
        self.tensors[90] = self.tensors[0].sum(axis=-1, keepdims=True)
        self.tensors[91] = np.array([[1.0, 2.0]], dtype=np.float32)

    def get_tensor(self, index):
        return self.tensors[index]


def test_session_transposes_in_and_out_as_the_manifest_says():
    mapping = tfl.io_map(INPUTS, OUTPUTS, DETAILS_IN, DETAILS_OUT)
    session = tfl.Session(StubInterpreter(), mapping, {0: np.float32, 1: np.float32}, {"device": "CPU"})
    x = np.arange(192, dtype=np.float32).reshape(1, 3, 8, 8)
    out_map, score = session.infer({"x": x, "sr": np.array([16000.0])})
    assert session.interpreter.tensors[0].shape == (1, 8, 8, 3)
    assert out_map.shape == (1, 1, 8, 8) and np.allclose(out_map, x.sum(axis=1, keepdims=True))
    assert score.tolist() == [[1.0, 2.0]]
    assert len(session.time({"x": x, "sr": np.array([1.0])}, 3)) == 3


def test_venv_version_reads_dist_info_without_running_onnx2tf(tmp_path):
    bin_dir = tmp_path / "venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "onnx2tf").write_text("#!/bin/sh\n")
    (tmp_path / "venv" / "lib" / "python3.11" / "site-packages" / "onnx2tf-1.29.24.dist-info").mkdir(parents=True)
    assert tfl.venv_version(str(bin_dir / "onnx2tf")) == "1.29.24"
    assert tfl.venv_version(str(tmp_path / "elsewhere" / "onnx2tf")) is None


def _backend(run, params=None, converter="/opt/tflite/bin/onnx2tf"):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("ai_edge_litert")
    paths = {"onnx2tf": converter, "timeout": None, "env": "/usr/bin/env"}
    return tfl.Backend(dict(PARAMS, target="tflite", tflite_converter=None, **(params or {})), run,
                       paths.get)


def test_backend_refusals_before_anything_runs():
    run = FakeRunCommand(default=(0, "1.29.24\n", ""))
    with pytest.raises(FleetError) as err:
        _backend(run, converter=None)
    assert "onnx2tf not found on PATH" in err.value.msg and err.value.details["option"] == "tflite_converter"
    with pytest.raises(FleetError) as err:
        _backend(run, params={"device": "GPU"})
    assert "target tflite builds for the CPU" in err.value.msg
    target = _backend(run)
    assert target.version == "1.29.24" and run.calls[-1]["argv"][-1] == "-V"
    assert "FP32" in target.unsupported("fp16")
    assert [target.unsupported(p) for p in ("int8", "int8-weights", "fp32")] == [None, None, None]


def _dynamic_model(path):
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3, "h", "w"])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 3, "h", "w"])])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)


def test_dynamic_shapes_are_refused_with_the_input_shapes_to_give(tmp_path):
    src = str(tmp_path / "dyn.onnx")
    _dynamic_model(src)
    target = _backend(FakeRunCommand(default=(0, "1.29.24\n", "")))
    with pytest.raises(FleetError) as err:
        target.describe(src, None)
    assert "target tflite builds for fixed shapes" in err.value.msg and '"x": [1, 3, 1, 1]' in err.value.msg
    inputs, _outputs = target.describe(src, {"x": [1, 3, 8, 8]})
    assert inputs[0]["shape"] == [1, 3, 8, 8]


def test_conversion_failure_is_one_clear_line_and_leaves_no_scratch(tmp_path):
    src = str(tmp_path / "dyn.onnx")
    _dynamic_model(src)
    log = "INFO: lots of progress\n\x1b[31mERROR:\x1b[0m onnx_op_name: Softmax@0\nValueError: unsupported thing\n"
    run = FakeRunCommand(default=(0, "1.29.24\n", ""))
    run.add(lambda argv: "-C" in argv, (1, "", log))
    target = _backend(run, params={"input_shapes": {"x": [1, 3, 8, 8]}})
    out_dir = str(tmp_path / "fp32")
    os.makedirs(out_dir)
    with pytest.raises(FleetError) as err:
        target.build(src, "fp32", out_dir, [])
    assert err.value.msg.startswith("onnx2tf could not convert dyn.onnx to fp32 TFLite (rc 1): ")
    assert err.value.msg.endswith("onnx_op_name: Softmax@0 / ValueError: unsupported thing")
    assert os.listdir(out_dir) == []
    argv = run.calls[-1]["argv"]
    # run in its scratch directory, where the offline test data lies (no download from GitHub)
    assert argv[:3] == ["/usr/bin/env", "-C", os.path.join(out_dir, ".onnx2tf")] and argv[3] == "/opt/tflite/bin/onnx2tf"


def test_make_backend_builds_tflite_and_edgetpu_backends():
    pytest.importorskip("onnxruntime")
    pytest.importorskip("ai_edge_litert")
    from ansible_collections.edgeai.fleet.plugins.module_utils import _model_compile as mc
    from ansible_collections.edgeai.fleet.plugins.module_utils import _model_edgetpu as etpu
    run = FakeRunCommand(default=(0, "1.29.24\n", ""))
    run.add(lambda argv: "--version" in argv, (0, "Edge TPU Compiler version 16.0.384591198\n", ""))
    paths = {"onnx2tf": "/opt/tflite/bin/onnx2tf", "edgetpu_compiler": "/usr/bin/edgetpu_compiler"}
    params = dict(PARAMS, tflite_converter=None, edgetpu_compiler=None)
    assert isinstance(mc.make_backend(dict(params, target="tflite"), run, paths.get), tfl.Backend)
    edgetpu = mc.make_backend(dict(params, target="edgetpu"), run, paths.get)
    assert isinstance(edgetpu, etpu.Backend) and isinstance(edgetpu.tflite, tfl.Backend)
    assert edgetpu.toolchain()["onnx2tf"] == "1.29.24" and edgetpu.toolchain()["edgetpu_compiler"] == "16.0.384591198"
