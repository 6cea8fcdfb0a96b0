# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The TensorRT target against a fake trtexec.

Simulated: trtexec and the GPU. The fake follows trtexec's contract as in NVIDIA/TensorRT
samples/common (sampleOptions.cpp, sampleReporting.cpp): the ``[TensorRT vNNNNNN]`` banner,
``--saveEngine`` writes the engine, ``--loadInputs`` reads raw tensors, ``--exportOutput`` writes
``[{name, dimensions, values}]`` and ``--exportTimes`` ``[{..., latencyMs, ...}]``. Its "engine"
computes y = 2x (+0.001 for FP16). Real: ONNX Runtime (FP32 reference and Q/DQ INT8), numpy.

DLA, as trtexec 8-10 does it (samples/common/sampleEngines.cpp: ``setDefaultDeviceType(kDLA)``, ``kFP16`` set
whenever ``--int8`` is not, ``kGPU_FALLBACK`` only with ``--allowGPUFallback``, DIRECT_IO without it): a DLA engine
is FP16 unless INT8, and a build without fallback whose FP32 input/output tensors need a reformat (which runs on
the GPU) fails with the builder's DIRECT_IO error, text as reported in NVIDIA-ISAAC-ROS/isaac_ros_depth_segmentation
issue 10 (Jetson AGX Orin, JetPack 5.1; fixed there by adding --allowGPUFallback) and explained in NVIDIA/TensorRT
issue 3438; the trailer lines as in NVIDIA-AI-IOT/cuDLA-samples issue 34.
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


DIRECT_IO_FAILURE = (
    "[E] Error[4]: [optimizer.cpp::checkIfDirectIOIsPossible::4316] Error Code 4: Internal Error "
    "(BuilderFlag::kDIRECT_IO specified but no conformant implementation exists)\n"
    "[E] Error[2]: [builder.cpp::buildSerializedNetwork::751] Error Code 2: Internal Error "
    "(Assertion engine != nullptr failed. )\n"
    "[E] Engine could not be created from network\n[E] Building engine failed\n"
    "[E] Failed to create engine from model or file.\n[E] Engine set up failed\n"
    "&&&& FAILED TensorRT.trtexec [TensorRT v%d]")


def _arg(argv, flag):
    return next((a.split("=", 1)[1] for a in argv if a.startswith(flag + "=")), None)


class FakeTrtexec(FakeRunCommand):
    def __init__(self, version=100800):
        super().__init__(default=(1, "", "unexpected trtexec call"))
        self.version = version
        self.add(lambda argv: "--help" in argv, (0, "&&&& RUNNING TensorRT.trtexec [TensorRT v%d] # trtexec --help" % version, ""))
        self.add(lambda argv: _arg(argv, "--saveEngine"), self.save)
        self.add(lambda argv: _arg(argv, "--loadEngine"), self.load)

    def save(self, argv, kwargs):
        flags = [a for a in argv if a in ("--fp16", "--int8", "--noTF32", "--allowGPUFallback") or a.startswith(
            "--useDLACore=")]
        dla = _arg(argv, "--useDLACore")
        if dla is not None and "--allowGPUFallback" not in argv and not _arg(argv, "--inputIOFormats"):
            return 1, "", DIRECT_IO_FAILURE % self.version
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
        dla_fp16 = any(f.startswith("--useDLACore=") for f in engine["flags"]) and "--int8" not in engine["flags"]
        y = x * 2 + (0.001 if "--fp16" in engine["flags"] or dla_fp16 else 0.0)
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


# --- DLA -------------------------------------------------------------------------------------------------------

ORIN = dict(GPU_FACTS, platform="tegra", driver_version="540.4.0", cuda_driver_version="12.6",
            products=["Orin (nvgpu)"], gpus=[{"index": 0, "name": "Orin (nvgpu)", "uuid": "GPU-o",
                                              "compute_capability": "8.7"}],
            tegra={"model": "NVIDIA Jetson AGX Orin Developer Kit", "l4t_release": "36.4.3"})
JETPACK6_TRT = 100300  # TensorRT 10.3, as JetPack 6 ships it


@pytest.mark.parametrize("major, precision, dla_core, flags", [
    (10, "fp32", None, ["--noTF32"]),
    (10, "fp16", None, ["--fp16"]),
    (10, "int8", None, ["--int8"]),
    (10, "fp16", 0, ["--useDLACore=0", "--allowGPUFallback", "--fp16"]),
    (10, "int8", 1, ["--useDLACore=1", "--allowGPUFallback", "--int8"]),
    (11, "fp32", None, []),
    (11, "fp32", 0, ["--useDLACore=0", "--allowGPUFallback"]),
    (11, "int8", 1, ["--useDLACore=1", "--allowGPUFallback"]),
], ids=["trt10-fp32-gpu", "trt10-fp16-gpu", "trt10-int8-gpu",
        "nvidia-trt-docs-10.x-dla-build-and-run-trtexec-useDLACore0-fp16-allowGPUFallback",
        "nvidia-trt-docs-10.x-dla-build-and-run-int8-core1",
        "trt11-strongly-typed-gpu",
        "nvidia-trt-docs-11.4-dla-build-and-run-trtexec-useDLACore0-allowGPUFallback-no-fp16",
        "nvidia-trt-docs-11.4-dla-build-and-run-qdq-int8-core1"])
def test_build_argv_per_major_precision_and_dla_core(major, precision, dla_core, flags):
    argv = trt.build_argv("m.onnx", "model.plan", precision, major, None, None, dla_core)
    assert argv[:3] == ["--onnx=m.onnx", "--saveEngine=model.plan", "--skipInference"]
    assert argv[3:] == flags


def test_build_argv_refuses_an_fp32_dla_engine_on_trt10():
    """trtexec 10 would build it as FP16 anyway (sampleEngines.cpp sets kFP16 when --int8 is not given)."""
    with pytest.raises(FleetError, match="DLA runs FP16 or INT8 only"):
        trt.build_argv("m.onnx", "model.plan", "fp32", 10, None, None, 0)


@pytest.mark.parametrize("version, supported", [
    ("8.5.2", True), ("10.3.0", True), ("10.7.0", True), ("10.8.0", False), ("11.0.0", False), ("11.3.1", False),
    ("11.4.0", False), ("11.4.1", True), ("11.5.0", True),
], ids=lambda v: "nvidia-trt-docs-11.4.1-work-with-dla-%s" % v if isinstance(v, str) else str(v))
def test_dla_support_per_tensorrt_release(version, supported):
    assert (trt.dla_release_problem(version) is None) is supported


@pytest.mark.parametrize("facts, dla_core, error", [
    (ORIN, 0, None),
    (ORIN, 1, None),
    (dict(ORIN, tegra={"model": "NVIDIA Jetson Xavier NX Developer Kit", "l4t_release": "35.5.0"}), 1, None),
    (ORIN, 2, "has DLA cores 0 and 1"),
    (GPU_FACTS, 0, "shows no Jetson/Tegra board"),
    (None, 0, "shows no Jetson/Tegra board"),
    (dict(ORIN, tegra={"model": "NVIDIA Jetson Orin Nano Developer Kit", "l4t_release": "36.4.3"}), 0, "no DLA core"),
    (dict(ORIN, tegra={"model": "NVIDIA Jetson AGX Thor Developer Kit", "l4t_release": "38.2.0"}), 0, "no DLA core"),
], ids=["agx-orin-core0", "agx-orin-core1", "xavier-nx", "orin-core2", "a100", "no-facts", "orin-nano", "thor"])
def test_dla_needs_a_jetson_with_that_core(facts, dla_core, error):
    if error is None:
        trt.check_dla_host(facts, dla_core)
    else:
        with pytest.raises(FleetError, match=error):
            trt.check_dla_host(facts, dla_core)


def test_fake_trtexec_fails_a_dla_build_without_gpu_fallback_like_trtexec(tmp_path):
    fake = FakeTrtexec(version=JETPACK6_TRT)
    rc, _out, err = fake(["/usr/bin/trtexec", "--onnx=m.onnx", "--saveEngine=%s" % (tmp_path / "e.plan"),
                          "--useDLACore=0", "--fp16"])
    assert rc == 1 and "kDIRECT_IO specified but no conformant implementation exists" in err
    assert err.endswith("&&&& FAILED TensorRT.trtexec [TensorRT v100300]") and not (tmp_path / "e.plan").exists()


def test_dla_engine_built_loaded_and_recorded_on_its_core(tmp_path, src):
    fake = FakeTrtexec(version=JETPACK6_TRT)
    result = _run(_params(tmp_path, src, gpu_facts=ORIN, dla_core=1, precision="auto", candidates=["fp32", "fp16"]),
                  fake)
    doc = result["manifest"]
    assert doc["dla_core"] == 1 and doc["fingerprint"]["dla_core"] == 1 and doc["precision"] == "fp16"
    assert [c["precision"] for c in doc["candidates"] if c.get("skipped")] == ["fp32"]
    build = _calls(fake, "--saveEngine")[0]
    assert "--useDLACore=1" in build and "--allowGPUFallback" in build and "--fp16" in build
    assert all("--useDLACore=1" in argv for argv in _calls(fake, "--loadEngine"))

    other_core = FakeTrtexec(version=JETPACK6_TRT)
    again = _run(_params(tmp_path, src, gpu_facts=ORIN, dla_core=0, precision="auto", candidates=["fp32", "fp16"]),
                 other_core)
    assert again["changed"] and again["reason"] == "inputs changed: fingerprint"


@pytest.mark.parametrize("over, error", [
    (dict(gpu_facts=GPU_FACTS), "shows no Jetson/Tegra board"),
    (dict(gpu_facts=ORIN, trtexec_version=100800), "TensorRT 10.8.0 builds no DLA engines"),
    (dict(gpu_facts=ORIN, target="openvino"), "dla_core is only used with target: tensorrt"),
], ids=["a100", "trt-10.8", "openvino"])
def test_dla_refused_before_any_engine_is_built(tmp_path, src, over, error):
    over = dict(over)
    fake = FakeTrtexec(version=over.pop("trtexec_version", JETPACK6_TRT))
    with pytest.raises(FleetError, match=error):
        _run(_params(tmp_path, src, dla_core=0, **over), fake)
    assert _calls(fake, "--saveEngine") == [] and not os.path.exists(str(tmp_path / "art"))
