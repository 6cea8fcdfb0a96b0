# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Write the tiny TFLite models the model server's LiteRT tests load (run by hand; the output is committed).

    .venv/bin/python tests/generators/gen_tflite_fixtures.py

Writes ``tests/unit/roles/fixtures/tflite/*.tflite`` (a few hundred bytes each) with the flatbuffer schema that
``ai-edge-litert`` ships (``ai_edge_litert.schema_py_generated``, the LiteRT ``schema.fbs`` compiled for Python) and
``flatbuffers``, both in the test venv: no TensorFlow and no converter. They are real TFLite files that the real
LiteRT interpreter loads and runs; what they leave out is what a converter adds (signatures, metadata).

* ``float_nhwc.tflite``: what onnx2tf makes of a 4-D image input. Input ``serving_default_images:0`` float32
  [1, 4, 4, 3] (NHWC, batch dynamic: shape_signature [-1, 4, 4, 3]); outputs, in this order,
  ``StatefulPartitionedCall:0`` = images * 2 and ``StatefulPartitionedCall:1`` = images + [1, 10, 100] (per channel,
  so a wrong transpose shows). Tensor indices: images 0, scaled 4, sum 3.
* ``int8_add.tflite`` / ``uint8_add.tflite``: full-integer I/O as a calibrated converter writes it. Input ``x``
  [1, 8] and output ``y`` [1, 8] quantized with different (scale, zero_point); y = x + ADDEND.
"""

import os
import sys

import flatbuffers
import numpy as np
from ai_edge_litert import schema_py_generated as tfl

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "unit", "roles", "fixtures", "tflite")
PER_CHANNEL = np.array([1.0, 10.0, 100.0], dtype=np.float32)
ADDEND = np.linspace(-1.0, 1.0, 8, dtype=np.float32)
# (dtype, TensorType, input (scale, zero_point), output (scale, zero_point))
QUANTIZED = {
    "int8": (np.int8, tfl.TensorType.INT8, (0.05, -3), (0.1, 2)),
    "uint8": (np.uint8, tfl.TensorType.UINT8, (0.05, 125), (0.1, 130)),
}


def tensor(name, shape, dtype, buffer, signature=None, quant=None):
    t = tfl.TensorT()
    t.name, t.shape, t.type, t.buffer = name, list(shape), dtype, buffer
    t.shapeSignature = list(signature) if signature else None
    if quant:
        q = tfl.QuantizationParametersT()
        q.scale, q.zeroPoint = [float(quant[0])], [int(quant[1])]
        t.quantization = q
    return t


def buffer(array=None):
    b = tfl.BufferT()
    b.data = None if array is None else list(np.ascontiguousarray(array).tobytes())
    return b


def operator(opcode_index, inputs, outputs, options_type, options):
    op = tfl.OperatorT()
    op.opcodeIndex, op.inputs, op.outputs = opcode_index, list(inputs), list(outputs)
    op.builtinOptionsType, op.builtinOptions = options_type, options
    return op


def opcode(code):
    c = tfl.OperatorCodeT()
    c.builtinCode, c.deprecatedBuiltinCode, c.version = code, min(code, 127), 1
    return c


def model(tensors, buffers, operators, opcodes, inputs, outputs):
    graph = tfl.SubGraphT()
    graph.tensors, graph.operators, graph.inputs, graph.outputs, graph.name = tensors, operators, inputs, outputs, "main"
    m = tfl.ModelT()
    m.version, m.subgraphs, m.buffers, m.operatorCodes = 3, [graph], buffers, opcodes
    m.description = "edgeai.fleet test fixture (tests/generators/gen_tflite_fixtures.py)"
    builder = flatbuffers.Builder(1024)
    builder.Finish(m.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def add_options():
    o = tfl.AddOptionsT()
    o.fusedActivationFunction = tfl.ActivationFunctionType.NONE
    return o


def mul_options():
    o = tfl.MulOptionsT()
    o.fusedActivationFunction = tfl.ActivationFunctionType.NONE
    return o


def float_nhwc(per_channel=PER_CHANNEL):
    """The model bytes; tests/system/test_tflite_serving.py builds a wrong-output variant with another per_channel."""
    f32 = tfl.TensorType.FLOAT32
    tensors = [tensor("serving_default_images:0", [1, 4, 4, 3], f32, 0, signature=[-1, 4, 4, 3]),
               tensor("per_channel", [3], f32, 1), tensor("two", [1], f32, 2),
               tensor("StatefulPartitionedCall:1", [1, 4, 4, 3], f32, 0, signature=[-1, 4, 4, 3]),
               tensor("StatefulPartitionedCall:0", [1, 4, 4, 3], f32, 0, signature=[-1, 4, 4, 3])]
    buffers = [buffer(), buffer(np.asarray(per_channel, dtype=np.float32)), buffer(np.array([2.0], dtype=np.float32))]
    operators = [operator(0, [0, 1], [3], tfl.BuiltinOptions.AddOptions, add_options()),
                 operator(1, [0, 2], [4], tfl.BuiltinOptions.MulOptions, mul_options())]
    return model(tensors, buffers, operators, [opcode(tfl.BuiltinOperator.ADD), opcode(tfl.BuiltinOperator.MUL)],
                 [0], [4, 3])


def quantized_add(kind):
    dtype, ttype, q_in, q_out = QUANTIZED[kind]
    info = np.iinfo(dtype)
    addend = np.clip(np.round(ADDEND / q_in[0]) + q_in[1], info.min, info.max).astype(dtype)
    tensors = [tensor("x", [1, 8], ttype, 0, quant=q_in), tensor("addend", [1, 8], ttype, 1, quant=q_in),
               tensor("y", [1, 8], ttype, 0, quant=q_out)]
    operators = [operator(0, [0, 1], [2], tfl.BuiltinOptions.AddOptions, add_options())]
    return model(tensors, [buffer(), buffer(addend)], operators, [opcode(tfl.BuiltinOperator.ADD)], [0], [2])


def main():
    os.makedirs(OUT, exist_ok=True)
    files = {"float_nhwc.tflite": float_nhwc(), "int8_add.tflite": quantized_add("int8"),
             "uint8_add.tflite": quantized_add("uint8")}
    for name, data in files.items():
        with open(os.path.join(OUT, name), "wb") as handle:
            handle.write(data)
        sys.stdout.write("%s: %d bytes\n" % (name, len(data)))


if __name__ == "__main__":
    main()
