# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Write two artifacts of a tiny ONNX model (y = relu(x W + b), 16 -> 8) under DEST: ``good`` and ``broken``.

Both follow the model manifest contract (manifest.json built and validated by the collection's
``_model_manifest`` helpers, golden.json in KServe V2 shape). ``broken`` has W negated: it loads and reports
ready, and only its golden comparison fails. Both ship the good model's golden outputs. The model and golden
files are the same bytes every run; the manifest's latency figures are measured here.

usage: make_artifact.py DEST   (needs onnx, onnxruntime, numpy and ansible_collections on PYTHONPATH)
"""
from __future__ import annotations

import json
import os
import sys
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper

from ansible_collections.edgeai.fleet.plugins.module_utils import _model_manifest as manifest_lib

RNG = np.random.default_rng(20260101)
WEIGHTS = RNG.standard_normal((16, 8)).astype(np.float32)
BIAS = RNG.standard_normal(8).astype(np.float32)
SAMPLE = RNG.standard_normal((1, 16)).astype(np.float32)


def model(weights):
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "W"], ["xw"]), helper.make_node("Add", ["xw", "b"], ["z"]),
         helper.make_node("Relu", ["z"], ["y"])],
        "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8])],
        [helper.make_tensor("W", TensorProto.FLOAT, [16, 8], weights.flatten().tolist()),
         helper.make_tensor("b", TensorProto.FLOAT, [8], BIAS.tolist())])
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="edgeai.fleet molecule")
    proto.ir_version = 8  # loadable by any onnxruntime >= 1.10
    onnx.checker.check_model(proto)
    return proto


def tensor(name, array):
    return {"name": name, "shape": list(array.shape), "datatype": "FP32", "data": array.flatten().tolist()}


def latency(session, runs=50):
    times = []
    for dummy in range(runs):
        start = time.perf_counter()
        session.run(None, {"x": SAMPLE})
        times.append((time.perf_counter() - start) * 1000.0)
    times.sort()
    return {"p50": round(times[runs // 2], 4), "p95": round(times[int(runs * 0.95)], 4)}


def write(dest, weights, golden_outputs):
    os.makedirs(dest, exist_ok=True)
    path = os.path.join(dest, "model.onnx")
    onnx.save(model(weights), path)
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    outputs = golden_outputs if golden_outputs is not None else session.run(None, {"x": SAMPLE})[0]
    with open(os.path.join(dest, manifest_lib.GOLDEN), "w", encoding="utf-8") as handle:
        json.dump({"inputs": [tensor("x", SAMPLE)], "outputs": [tensor("y", outputs)]}, handle)
    doc = manifest_lib.build(
        name="tiny", target="onnxruntime", precision="fp32", inference_precision="f32", device="CPU",
        entrypoint="model.onnx", files=manifest_lib.hash_files(dest, ["model.onnx", manifest_lib.GOLDEN]),
        inputs=[{"name": "x", "shape": [1, 16], "datatype": "FP32"}],
        outputs=[{"name": "y", "shape": [1, 8], "datatype": "FP32"}],
        toolchain={"onnx": onnx.__version__, "onnxruntime": ort.__version__},
        fingerprint={"id": "molecule-model-serving", "cpu_model": None, "cpu_flags": [], "gpu": None},
        fidelity={"reference": "self (fp32)"}, latency_ms=latency(session),
        tolerance={"max_abs": 1e-4, "min_cosine": 0.9999}, source_sha256=manifest_lib.sha256_file(path),
        created="2026-01-01T00:00:00Z")
    with open(os.path.join(dest, manifest_lib.MANIFEST), "w", encoding="utf-8") as handle:
        handle.write(manifest_lib.dumps(doc))
    return outputs


def main(dest):
    golden = write(os.path.join(dest, "good"), WEIGHTS, None)
    write(os.path.join(dest, "broken"), -WEIGHTS, golden)


if __name__ == "__main__":
    main(sys.argv[1])
