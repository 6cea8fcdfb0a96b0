# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""edgeai.fleet.model_compile targets tflite and edgetpu for real, bar the Edge TPU compiler.

Real: onnx2tf 1.29.24 in its own venv (``.venv-tflite``, built by ``make venv``; EDGEAI_ONNX2TF names
another), full-integer INT8 calibration, LiteRT (ai-edge-litert) on the CPU, ONNX Runtime FP32 as the
reference, the PP-OCRv4 detector and the PP-OCR orientation classifier from rapidocr-onnxruntime, the
module run in-process.
Simulated: ``edgetpu_compiler`` (tests/lab/doubles/edgetpu: Coral's documented CLI, console and log format;
its "_edgetpu.tflite" is a copy of the input). The edgetpu case uses a small two-convolution ONNX model made
here, so the suite pays for one onnx2tf run per real model only.
"""

from __future__ import annotations

import json
import os
import sys

import pytest

from ansible_collections.edgeai.fleet.plugins.module_utils._kserve_v2 import check_golden
from ansible_collections.edgeai.fleet.plugins.module_utils._model_manifest import validate
from ansible_collections.edgeai.fleet.plugins.module_utils._model_tflite import channel_first, channel_last
from ansible_collections.edgeai.fleet.plugins.modules import model_compile
from ansible_collections.edgeai.fleet.tests.system.test_real_models import (
    FULL, MODELS, _package_file, ort_fp32, pages, text_lines)
from ansible_collections.edgeai.fleet.tests.unit.module_helpers import run_module

np = pytest.importorskip("numpy")
onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
Interpreter = pytest.importorskip("ai_edge_litert.interpreter").Interpreter

pytestmark = pytest.mark.slow
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FAKE_COMPILER = os.path.join(ROOT, "tests", "lab", "doubles", "edgetpu", "rootfs", "usr", "bin", "edgetpu_compiler")
GATE = 0.95  # quantized candidates, as in test_real_models.py
# model -> (calibration set, the precision make test builds). TensorFlow's full-integer INT8 of the detector misses the
# gate (cosine 0.86-0.88 with 3 to 16 rendered pages; the FP32 TFLite matches ONNX Runtime at cosine 1.0000), as ONNX
# Runtime's static INT8 does (0.888, test_real_models.py); its weight-only INT8 (onnx2tf's dynamic-range model, 0.994)
# passes. The full-integer refusal is pinned under EDGEAI_REAL_MODELS_FULL=1 (one more onnx2tf run, about 80 CPU-s).
CASES = {"ppocr_det": (pages, "int8-weights"), "ppocr_cls": (lambda d: text_lines(d, 192), "int8")}


@pytest.fixture(scope="module")
def onnx2tf():
    path = os.environ.get("EDGEAI_ONNX2TF") or os.path.join(ROOT, ".venv-tflite", "bin", "onnx2tf")
    if not os.access(path, os.X_OK):
        pytest.skip("onnx2tf is not installed at %s (make venv builds .venv-tflite)" % path)
    return path


def litert_golden(dest, manifest, golden):
    """golden.json's input through LiteRT with the manifest's tensor map, as the model server does."""
    interpreter = Interpreter(model_path=os.path.join(dest, "model.tflite"))
    interpreter.allocate_tensors()
    tensors = dict((t["name"], t) for t in golden["inputs"])
    for item in manifest["tflite"]["inputs"]:
        array = np.array(tensors[item["name"]]["data"], dtype=np.float32).reshape(tensors[item["name"]]["shape"])
        interpreter.set_tensor(item["index"], array.transpose(channel_last(array.ndim)) if item["layout"] else array)
    interpreter.invoke()
    outputs = []
    for item in manifest["tflite"]["outputs"]:
        array = interpreter.get_tensor(item["index"])
        array = array.transpose(channel_first(array.ndim)) if item["layout"] else array
        outputs.append({"name": item["name"], "shape": list(array.shape), "data": array.ravel().tolist()})
    return {"outputs": outputs}


def ort_p50(src, golden, runs=10):
    """ONNX Runtime FP32's median latency on golden.json's input, for the docs' comparison."""
    import time
    import onnxruntime
    session = onnxruntime.InferenceSession(src, providers=["CPUExecutionProvider"])
    feed = dict((t["name"], np.array(t["data"], dtype=np.float32).reshape(t["shape"])) for t in golden["inputs"])
    session.run(None, feed)
    timings = []
    for _i in range(runs):
        started = time.perf_counter()
        session.run(None, feed)
        timings.append((time.perf_counter() - started) * 1000.0)
    return sorted(timings)[runs // 2]


def _case(model, onnx2tf, tmp_path, precision):
    parts, _license, _family, shapes, _maker, extra = MODELS[model]
    src = _package_file(*parts)
    calibration = tmp_path / "calib"
    calibration.mkdir()
    CASES[model][0](str(calibration))
    return src, shapes, dict(extra, name=model, src=src, dest=str(tmp_path / model), target="tflite",
                             precision=precision, input_shapes=shapes, calibration=str(calibration), holdout=2,
                             latency_runs=4, fidelity_gate={"min_cosine": GATE}, tflite_converter=onnx2tf)


@pytest.mark.parametrize("model", sorted(CASES))
def test_tflite_quantized_golden_and_noop(model, onnx2tf, tmp_path):
    kept = CASES[model][1]
    src, shapes, args = _case(model, onnx2tf, tmp_path, kept)
    dest = args["dest"]
    result, failed = run_module(model_compile, args)
    assert not failed, result.get("msg")
    manifest = result["manifest"]
    assert result["changed"] and validate(manifest) == []
    assert (manifest["target"], manifest["precision"], manifest["device"], manifest["inference_precision"]) == (
        "tflite", kept, "CPU", "i8" if kept == "int8" else "f32")
    assert manifest["entrypoint"] == "model.tflite" and set(manifest["files"]) == {"model.tflite", "golden.json"}
    assert manifest["toolchain"]["onnx2tf"] == "1.29.24" and manifest["toolchain"]["ai_edge_litert"]
    assert [t["name"] for t in manifest["inputs"]] == list(shapes)
    assert manifest["tflite"]["inputs"][0]["layout"] == "NCHW->NHWC"

    golden = json.load(open(os.path.join(dest, "golden.json")))
    reference = ort_fp32(src, golden)
    figures, failures = check_golden(reference, golden, {"min_cosine": GATE})
    assert failures == [], figures
    # the manifest's tensor map is enough to reproduce golden.json: what the server's LiteRT runner relies on
    figures, failures = check_golden(litert_golden(dest, manifest, golden), golden, manifest["tolerance"])
    assert failures == [], figures
    sys.stderr.write("\n%s tflite %s: cosine_min %.4f, p50 %.2f ms; ONNX Runtime FP32 p50 %.2f ms\n" % (
        model, kept, manifest["fidelity"]["cosine_min"], manifest["latency_ms"]["p50"], ort_p50(src, golden)))

    again, failed = run_module(model_compile, args)
    assert not failed and not again["changed"] and again["reason"] == "artifact is up to date"


@pytest.mark.skipif(not FULL, reason="one more onnx2tf run of the detector: EDGEAI_REAL_MODELS_FULL=1")
def test_detector_full_integer_int8_misses_the_gate_and_writes_nothing(onnx2tf, tmp_path):
    _src, _shapes, args = _case("ppocr_det", onnx2tf, tmp_path, "int8")
    result, failed = run_module(model_compile, args)
    assert failed and "int8: fidelity gate failed: cosine_min" in result["msg"], result.get("msg")
    assert "Traceback" not in result["msg"] and not os.path.exists(args["dest"])


def _small_cnn(path):
    """Conv 3->8 3x3, ReLU, Conv 8->4 1x1: an image model the Edge TPU maps whole."""
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(7)
    weights = [numpy_helper.from_array(rng.normal(0, 0.3, (8, 3, 3, 3)).astype(np.float32), "w1"),
               numpy_helper.from_array(rng.normal(0, 0.3, (4, 8, 1, 1)).astype(np.float32), "w2")]
    nodes = [helper.make_node("Conv", ["x", "w1"], ["h"], pads=[1, 1, 1, 1]), helper.make_node("Relu", ["h"], ["r"]),
             helper.make_node("Conv", ["r", "w2"], ["y"])]
    graph = helper.make_graph(nodes, "small", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 16, 16])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 16, 16])], weights)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), path)


def test_edgetpu_with_the_compiler_double(onnx2tf, tmp_path):
    src = str(tmp_path / "small.onnx")
    _small_cnn(src)
    calibration = tmp_path / "calib"
    calibration.mkdir()
    rng = np.random.default_rng(1)
    for i in range(5):
        np.save(str(calibration / ("s%d.npy" % i)), rng.uniform(-1, 1, (1, 3, 16, 16)).astype(np.float32))
    # the double's shebang would pick the system python; run it with this one, which has ai_edge_litert
    compiler = tmp_path / "edgetpu_compiler"
    compiler.write_text("#!/bin/sh\nexec '%s' '%s' \"$@\"\n" % (sys.executable, FAKE_COMPILER))
    compiler.chmod(0o755)
    dest = str(tmp_path / "small")
    args = dict(name="small", src=src, dest=dest, target="edgetpu", precision="int8", calibration=str(calibration),
                latency_runs=4, tflite_converter=onnx2tf, edgetpu_compiler=str(compiler))
    result, failed = run_module(model_compile, args)
    assert not failed, result.get("msg")
    manifest = result["manifest"]
    assert validate(manifest) == []
    assert (manifest["target"], manifest["device"], manifest["entrypoint"], manifest["verified_on"]) == (
        "edgetpu", "EDGETPU", "model_edgetpu.tflite", "cpu-tflite")
    assert set(manifest["files"]) == {"model.tflite", "model_edgetpu.tflite", "golden.json"}
    report = manifest["edgetpu"]
    assert report["compiler_version"] == "16.0.384591198" and report["ops_total"] == report["ops_tpu"] + report["ops_cpu"]
    assert report["ops_tpu"] >= 2 and [o["op"] for o in report["cpu_ops"]] == ["DEQUANTIZE"]
    assert manifest["toolchain"]["edgetpu_compiler"] == "16.0.384591198"

    again, failed = run_module(model_compile, args)
    assert not failed and not again["changed"]


def test_dynamic_shapes_are_refused_before_converting(onnx2tf, tmp_path):
    src = _package_file(*MODELS["ppocr_det"][0])
    dest = str(tmp_path / "det")
    result, failed = run_module(model_compile, dict(name="det", src=src, dest=dest, target="tflite", precision="fp32",
                                                    tflite_converter=onnx2tf))
    assert failed and "target tflite builds for fixed shapes" in result["msg"] and "input_shapes" in result["msg"]
    assert "Traceback" not in result["msg"] and not os.path.exists(dest)
