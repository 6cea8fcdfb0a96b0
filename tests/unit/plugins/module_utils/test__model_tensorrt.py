# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The TensorRT target against a fake trtexec.

Simulated: trtexec and the GPU. The fake follows trtexec's contract as in NVIDIA/TensorRT
samples/common (sampleOptions.cpp, sampleReporting.cpp): the ``[TensorRT vNNNNNN]`` banner,
``--saveEngine`` writes the engine, ``--loadInputs`` reads raw tensors, ``--exportOutput`` writes
``[{name, dimensions, values}]`` and ``--exportTimes`` ``[{..., latencyMs, ...}]``. Its "engine"
computes y = 2x (+0.001 for FP16). Real: ONNX Runtime (FP32 reference and Q/DQ INT8), numpy.
"""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.edgeai.fleet.plugins.module_utils import _model_compile as mc
from ansible_collections.edgeai.fleet.plugins.module_utils import _model_tensorrt as trt
from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError
from ansible_collections.edgeai.fleet.tests.unit.module_helpers import FakeRunCommand
from ansible_collections.edgeai.fleet.tests.unit.plugins.module_utils.model_compile_fakes import PARAMS
from ansible_collections.edgeai.fleet.tests.unit.plugins.module_utils.test__model_fingerprint import GPU_FACTS

np = pytest.importorskip("numpy")
onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")


def _arg(argv, flag):
    return next((a.split("=", 1)[1] for a in argv if a.startswith(flag + "=")), None)


class FakeTrtexec(FakeRunCommand):
    def __init__(self, version=100800):
        super().__init__(default=(1, "", "unexpected trtexec call"))
        self.add(lambda argv: "--help" in argv, (0, "&&&& RUNNING TensorRT.trtexec [TensorRT v%d] # trtexec --help" % version, ""))
        self.add(lambda argv: _arg(argv, "--saveEngine"), self.save)
        self.add(lambda argv: _arg(argv, "--loadEngine"), self.load)

    def save(self, argv, kwargs):
        flags = [a for a in argv if a in ("--fp16", "--int8", "--noTF32")]
        with open(_arg(argv, "--saveEngine"), "w") as handle:
            json.dump({"flags": flags, "onnx": os.path.basename(_arg(argv, "--onnx"))}, handle)
        cache = _arg(argv, "--timingCacheFile")
        if cache:
            open(cache, "a").close()
        return 0, "&&&& PASSED", ""

    def load(self, argv, kwargs):
        engine = json.load(open(_arg(argv, "--loadEngine")))
        name, path = _arg(argv, "--loadInputs").split(":", 1)
        x = np.fromfile(path, dtype=np.float32)
        y = x * 2 + (0.001 if "--fp16" in engine["flags"] else 0.0)
        if _arg(argv, "--exportOutput"):
            with open(_arg(argv, "--exportOutput"), "w") as handle:
                json.dump([{"name": "y", "dimensions": "1x4", "values": y.tolist()}], handle)
        if _arg(argv, "--exportTimes"):
            runs = int(_arg(argv, "--iterations"))
            with open(_arg(argv, "--exportTimes"), "w") as handle:
                json.dump([{"startEnqMs": 0, "latencyMs": 1.5, "computeMs": 1.0} for _i in range(runs)], handle)
        return 0, "&&&& PASSED", ""


@pytest.fixture
def src(tmp_path):
    from onnx import TensorProto, helper
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 4])
    two = helper.make_tensor("two", TensorProto.FLOAT, [1], [2.0])
    graph = helper.make_graph([helper.make_node("Mul", ["x", "two"], ["y"])], "g", [x], [y], [two])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    path = str(tmp_path / "m.onnx")
    onnx.save(model, path)
    return path


def _params(tmp_path, src, **over):
    params = dict(PARAMS, name="m", src=src, dest=str(tmp_path / "art"), target="tensorrt", precision="fp16",
                  input_shapes={"x": [1, 4]}, gpu_facts=GPU_FACTS, cache_dir=str(tmp_path / "cache"))
    params.update(over)
    return params


def _run(params, fake):
    return mc.run_job(params, fake, lambda name: "/usr/bin/trtexec", False, False)


def _calls(fake, flag):
    return [c["argv"] for c in fake.calls if any(a.startswith(flag) for a in c["argv"])]


def test_fp16_engine_manifest_and_timing_cache(tmp_path, src):
    fake = FakeTrtexec()
    result = _run(_params(tmp_path, src), fake)
    doc = result["manifest"]
    assert result["changed"] and doc["target"] == "tensorrt" and doc["entrypoint"] == "model.plan"
    assert doc["precision"] == "fp16" and doc["inference_precision"] == "f16" and doc["device"] == "GPU0"
    assert doc["toolchain"]["tensorrt"] == "10.8.0"
    assert doc["fingerprint"]["gpu"]["compute_capability"] == "8.0"
    assert doc["fingerprint"]["gpu"]["driver_version"] == "550.54.15"
    assert doc["latency_ms"]["p50"] == 1.5
    assert doc["fidelity"]["max_abs_diff"] == pytest.approx(0.001, abs=1e-6)
    build = _calls(fake, "--saveEngine")[0]
    assert build[0] == "/usr/bin/trtexec" and "--fp16" in build and "--skipInference" in build
    assert "--minShapes=x:1x4" in build and "--optShapes=x:1x4" in build and "--maxShapes=x:1x4" in build
    cache = _arg(build, "--timingCacheFile")
    assert cache == str(tmp_path / "cache" / "tensorrt-10.8.0-sm80" / "timing.cache") and os.path.exists(cache)
    assert not any(n.startswith(".") for n in os.listdir(str(tmp_path / "art")))


def test_same_host_reuses_engine_and_new_driver_rebuilds_before_loading(tmp_path, src):
    params = _params(tmp_path, src)
    _run(params, FakeTrtexec())
    again = FakeTrtexec()
    result = _run(params, again)
    assert not result["changed"] and _calls(again, "--loadEngine") == [] and _calls(again, "--saveEngine") == []

    upgraded = dict(GPU_FACTS, driver_version="560.35.03")
    fresh = FakeTrtexec()
    result = _run(dict(params, gpu_facts=upgraded), fresh)
    assert result["changed"] and result["reason"] == "inputs changed: fingerprint"
    engine_calls = [c["argv"] for c in fresh.calls if "--help" not in c["argv"]]
    assert _arg(engine_calls[0], "--saveEngine"), "the old engine must never be loaded before a rebuild"
    assert result["manifest"]["fingerprint"]["gpu"]["driver_version"] == "560.35.03"

    newer_trt = FakeTrtexec(version=100900)
    assert _run(dict(params, gpu_facts=upgraded), newer_trt)["reason"] == "inputs changed: toolchain"


def test_tensorrt_11_is_strongly_typed(tmp_path, src):
    with pytest.raises(FleetError, match="TensorRT 11.0.0 removed --fp16"):
        _run(_params(tmp_path, src), FakeTrtexec(version=110000))
    fake = FakeTrtexec(version=110000)
    _run(_params(tmp_path, src, precision="fp32"), fake)
    build = _calls(fake, "--saveEngine")[0]
    assert not [a for a in build if a in ("--fp16", "--int8", "--noTF32")]


def test_int8_builds_from_a_qdq_model(tmp_path, src):
    calib = tmp_path / "calib"
    calib.mkdir()
    for i in range(4):
        np.save(str(calib / ("s%d.npy" % i)), np.linspace(-1, 1, 4, dtype=np.float32).reshape(1, 4) * (i + 1))
    fake = FakeTrtexec()
    result = _run(_params(tmp_path, src, precision="int8", calibration=str(calib),
                          fidelity_gate={"min_cosine": 0.9, "max_abs_diff": None}), fake)
    build = _calls(fake, "--saveEngine")[0]
    assert "--int8" in build and _arg(build, "--onnx").endswith(".qdq.onnx")
    assert result["manifest"]["inference_precision"] == "i8"
    assert sorted(os.listdir(str(tmp_path / "art"))) == ["golden.json", "manifest.json", "model.plan"]


def test_failed_build_keeps_previous_engine(tmp_path, src):
    params = _params(tmp_path, src)
    _run(params, FakeTrtexec())
    before = open(str(tmp_path / "art" / "model.plan")).read()
    broken = FakeTrtexec(version=100900)
    broken.responses.insert(1, (lambda argv: _arg(argv, "--saveEngine"), (1, "", "[E] Error Code 4: out of memory")))
    with pytest.raises(FleetError, match="out of memory"):
        _run(params, broken)
    assert open(str(tmp_path / "art" / "model.plan")).read() == before


def test_missing_trtexec_and_helpers(tmp_path, src):
    with pytest.raises(FleetError, match="trtexec not found"):
        mc.run_job(_params(tmp_path, src), FakeTrtexec(), lambda name: None, False, False)
    assert trt.parse_version("x [TensorRT v100800] y") == "10.8.0"
    assert trt.parse_version("no banner") is None
    with pytest.raises(FleetError, match="fixed shapes"):
        trt.shape_spec({"x": [1, -1]})
    assert trt.shape_spec({"in:0": [1, 3]}) == "'in:0':1x3"


def test_hung_engine_build_times_out_and_keeps_previous_engine(tmp_path, src):
    """Fault: a trtexec wedged on a hung GPU driver blocked the play forever (no deadline).

    Double: rc 124 is what coreutils `timeout` returns when it stopped the command.
    """
    params = _params(tmp_path, src)
    _run(params, FakeTrtexec())
    before = open(str(tmp_path / "art" / "model.plan")).read()
    hung = FakeTrtexec(version=100900)
    hung.responses.insert(1, (lambda argv: _arg(argv, "--saveEngine"), (124, "", "")))
    bins = {"trtexec": "/usr/bin/trtexec", "timeout": "/usr/bin/timeout"}
    with pytest.raises(FleetError, match="timed out after 7 s"):
        mc.run_job(dict(params, trtexec_timeout=7), hung, bins.get, False, False)
    assert all(call["argv"][:3] == ["/usr/bin/timeout", "--kill-after=10", "7s"] for call in hung.calls)
    assert open(str(tmp_path / "art" / "model.plan")).read() == before
