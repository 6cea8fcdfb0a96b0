# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""model_compile's orchestration with a fake backend (simulated: the runtime; see model_compile_fakes)."""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.edgeai.fleet.plugins.module_utils import _model_compile as mc
from ansible_collections.edgeai.fleet.plugins.module_utils import _model_fingerprint as fp
from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError
from ansible_collections.edgeai.fleet.tests.unit.plugins.module_utils.model_compile_fakes import (
    LATENCY, PARAMS, FakeBackend, write_calibration, write_source)

np = pytest.importorskip("numpy")
FINGERPRINT = fp.fingerprint({"arch": "x86_64", "cpu_model": "test cpu", "cpu_flags": ["avx2"]})


def _params(tmp_path, **over):
    params = dict(PARAMS, src=write_source(tmp_path), dest=str(tmp_path / "art" / "det"))
    params.update(over)
    return params


def _compile(params, backend=None):
    backend = backend or FakeBackend(params)
    planned = mc.plan(params, backend, FINGERPRINT)
    return mc.Compiler(params, backend, planned, now=lambda: "2026-11-27T00:00:00Z").run(params["dest"]), backend


def _snapshot(path):
    return dict((name, open(os.path.join(path, name), "rb").read()) for name in sorted(os.listdir(path)))


def test_compile_writes_artifact_manifest_and_golden(tmp_path):
    params = _params(tmp_path)
    doc, _backend = _compile(params)
    dest = params["dest"]
    assert sorted(os.listdir(dest)) == ["golden.json", "manifest.json", "model.xml"]
    on_disk = json.load(open(os.path.join(dest, "manifest.json")))
    assert on_disk == doc
    assert doc["precision"] == "fp32" and doc["inference_precision"] == "f32" and doc["device"] == "CPU"
    assert set(doc["files"]) == {"golden.json", "model.xml"}
    assert doc["fingerprint"] == FINGERPRINT and doc["toolchain"] == {"fake": "1.0"}
    assert doc["fidelity"]["cosine_min"] == 1.0 and doc["fidelity"]["passed"]
    assert doc["latency_ms"] == {"p50": 10.0, "p95": 10.0, "runs": 5}
    golden = json.load(open(os.path.join(dest, "golden.json")))
    assert golden["inputs"][0]["name"] == "x" and golden["inputs"][0]["datatype"] == "FP32"
    assert golden["outputs"][0]["data"] == pytest.approx([2 * v for v in golden["inputs"][0]["data"]])
    # nothing left behind next to dest
    assert os.listdir(os.path.dirname(dest)) == ["det"]


def test_decide_up_to_date_then_names_what_changed(tmp_path):
    params = _params(tmp_path)
    _compile(params)
    backend = FakeBackend(params)
    assert mc.decide(params["dest"], mc.plan(params, backend, FINGERPRINT))[:2] == (True, "artifact is up to date")
    newer = FakeBackend(params, version="2.0")
    reuse, reason, _doc = mc.decide(params["dest"], mc.plan(params, newer, FINGERPRINT))
    assert not reuse and reason == "inputs changed: toolchain"
    other_cpu = fp.fingerprint({"arch": "x86_64", "cpu_model": "test cpu", "cpu_flags": ["avx2", "avx512_vnni"]})
    assert mc.decide(params["dest"], mc.plan(params, backend, other_cpu))[1] == "inputs changed: fingerprint"
    changed_gate = dict(params, fidelity_gate={"min_cosine": 0.99, "max_abs_diff": None})
    assert mc.decide(params["dest"], mc.plan(changed_gate, backend, FINGERPRINT))[1] == "inputs changed: options"
    # latency_runs does not change the artifact
    assert mc.decide(params["dest"], mc.plan(dict(params, latency_runs=99), backend, FINGERPRINT))[0]


def test_decide_tampered_files_and_source_change(tmp_path):
    params = _params(tmp_path)
    _compile(params)
    backend = FakeBackend(params)
    with open(os.path.join(params["dest"], "model.xml"), "a") as handle:
        handle.write("tampered")
    assert mc.decide(params["dest"], mc.plan(params, backend, FINGERPRINT))[1] == \
        "artifact files differ from the manifest: model.xml"
    with open(params["src"], "ab") as handle:
        handle.write(b"new weights")
    assert mc.decide(params["dest"], mc.plan(params, backend, FINGERPRINT))[1] == "inputs changed: source_sha256"


def test_decide_refuses_a_foreign_directory(tmp_path):
    params = _params(tmp_path)
    os.makedirs(params["dest"])
    open(os.path.join(params["dest"], "notes.txt"), "w").close()
    with pytest.raises(FleetError, match="refusing to replace"):
        mc.decide(params["dest"], mc.plan(params, FakeBackend(params), FINGERPRINT))


def test_decide_refuses_a_file(tmp_path):
    params = _params(tmp_path)
    os.makedirs(os.path.dirname(params["dest"]))
    open(params["dest"], "w").close()
    with pytest.raises(FleetError, match="not a directory"):
        mc.decide(params["dest"], mc.plan(params, FakeBackend(params), FINGERPRINT))


def test_decide_rebuilds_over_an_invalid_manifest(tmp_path):
    params = _params(tmp_path)
    os.makedirs(params["dest"])
    with open(os.path.join(params["dest"], "manifest.json"), "w") as handle:
        handle.write("{}")
    reuse, reason, _doc = mc.decide(params["dest"], mc.plan(params, FakeBackend(params), FINGERPRINT))
    assert not reuse and reason.startswith("existing manifest is invalid")


def test_int8_uses_calibration_and_holds_back_samples(tmp_path):
    params = _params(tmp_path, precision="int8", calibration=write_calibration(tmp_path, 5))
    doc, backend = _compile(params)
    assert backend.builds == ["int8"]
    assert "calibrated='3'" in open(os.path.join(params["dest"], "model.xml")).read()
    assert doc["calibration_sha256"] and doc["fidelity"]["samples"] == 2
    golden = json.load(open(os.path.join(params["dest"], "golden.json")))
    assert golden["inputs"][0]["data"] == [4.0, -4.0, 2.0, 8.0]  # the first held-back sample (s03)


def test_gate_failure_keeps_the_previous_artifact_and_says_by_how_much(tmp_path):
    params = _params(tmp_path)
    _compile(params)
    before = _snapshot(params["dest"])
    strict = dict(params, precision="int8", calibration=write_calibration(tmp_path),
                  fidelity_gate={"min_cosine": 0.98, "max_abs_diff": 0.01})
    with pytest.raises(FleetError) as caught:
        _compile(strict)
    assert "int8: fidelity gate failed: max_abs_diff 0.05 > 0.01 (over by 0.04)" in caught.value.msg
    assert caught.value.details["candidates"][0]["failures"][0]["metric"] == "max_abs_diff"
    assert _snapshot(params["dest"]) == before
    assert os.listdir(os.path.dirname(params["dest"])) == ["det"]


@pytest.mark.parametrize("fail", [{"fail_build": ("fp32",)}, {"fail_load": ("fp32",)}])
def test_build_or_load_failure_keeps_nothing(tmp_path, fail):
    params = _params(tmp_path)
    with pytest.raises(FleetError, match="fp32: (build|load test) failed"):
        _compile(params, FakeBackend(params, **fail))
    assert os.listdir(os.path.dirname(params["dest"])) == []


def test_auto_keeps_the_fastest_passing_candidate(tmp_path):
    params = _params(tmp_path, precision="auto", calibration=write_calibration(tmp_path),
                     fidelity_gate={"min_cosine": 0.98, "max_abs_diff": 0.02})
    doc, backend = _compile(params)
    assert backend.builds == ["int8", "int8-weights", "fp16", "fp32"]
    assert doc["precision"] == "int8-weights"  # int8 is faster but misses max_abs_diff
    by_precision = dict((c["precision"], c) for c in doc["candidates"])
    assert not by_precision["int8"]["passed"] and by_precision["int8-weights"]["chosen"]
    assert [c["chosen"] for c in doc["candidates"] if c["passed"]] == [True, False, False]


def test_auto_without_calibration_skips_int8(tmp_path):
    params = _params(tmp_path, precision="auto", candidates=["int8", "fp16"])
    doc, backend = _compile(params)
    assert backend.builds == ["fp16"]
    assert doc["candidates"][0] == {"precision": "int8", "skipped": "int8 needs a calibration set (the calibration option)"}


# OPTIMIZATION_CAPABILITIES as OpenVINO's plugins build them: openvinotoolkit/openvino
# src/plugins/intel_cpu/src/plugin.cpp (get_ro_property, ov::device::capabilities: BF16 on avx512_core_bf16 or
# avx2_vnni_2, FP16 when utils/precision_support.cpp hasHardwareSupport(f16): avx512_core_fp16, avx2_vnni_2 or Arm
# NEON fp16) and src/plugins/intel_gpu/src/plugin/plugin.cpp (FP16 on GPUs that support it).
CPU_AVX2 = ("FP32", "INT8", "BIN", "EXPORT_IMPORT")  # read from this project's AMD EPYC (avx2, no AVX-512)
CPU_ZEN4 = ("BF16", "WINOGRAD", "FP32", "INT8", "BIN", "EXPORT_IMPORT")  # avx512_bf16, no avx512_fp16
CPU_SPR = ("BF16", "WINOGRAD", "FP32", "FP16", "INT8", "BIN", "EXPORT_IMPORT")  # AMX Xeon: avx512_fp16 too
GPU_ARC = ("FP32", "BIN", "FP16", "INT8", "GPU_HW_MATMUL", "EXPORT_IMPORT")


@pytest.mark.parametrize("requested, capabilities, flags, device, hints, skipped", [
    pytest.param("auto", CPU_AVX2, ["avx2", "fma"], "CPU", ["f32"], ["bf16", "f16"], id="openvino/intel_cpu/plugin.cpp-avx2-only-cpu"),
    pytest.param("auto", CPU_ZEN4, ["avx2", "avx512f", "avx512_bf16"], "CPU", ["f32", "bf16"], ["f16"],
                 id="openvino/intel_cpu/plugin.cpp-avx512_bf16-cpu"),
    pytest.param("auto", CPU_SPR, ["avx512_bf16", "avx512_fp16", "amx_bf16"], "CPU", ["f32", "bf16", "f16"], [],
                 id="openvino/intel_cpu/plugin.cpp-amx-xeon"),
    pytest.param("auto", GPU_ARC, ["avx2"], "GPU", ["f32", "f16"], ["bf16"], id="openvino/intel_gpu/plugin.cpp-gpu-fp16"),
    # the runtime's answer wins over the flags: an AVX-512 BF16 CPU whose plugin does not list BF16
    pytest.param("auto", CPU_AVX2, ["avx512_bf16", "amx_bf16"], "CPU", ["f32"], ["bf16", "f16"],
                 id="runtime-over-flags"),
    # the runtime cannot tell: only a CPU's ISA flags stand in
    pytest.param("auto", None, ["avx512_bf16", "amx_bf16"], "CPU", ["f32", "bf16"], ["f16"], id="no-caps-amx-cpu"),
    pytest.param("auto", None, ["avx_ne_convert", "avx_vnni_int8"], "CPU", ["f32", "bf16", "f16"], [],
                 id="no-caps-avx2_vnni_2-cpu"),
    pytest.param("auto", None, ["avx2"], "CPU", ["f32"], ["bf16", "f16"], id="no-caps-avx2-cpu"),
    pytest.param("auto", None, ["avx512_bf16"], "NPU", ["f32"], ["bf16", "f16"], id="no-caps-npu"),
    pytest.param("f32", CPU_SPR, ["amx_bf16"], "CPU", [None], [], id="pinned-f32"),
    pytest.param("bf16", CPU_AVX2, ["avx2"], "CPU", [None], [], id="pinned-bf16-left-to-the-load-check"),
])
def test_hint_candidates_per_isa(requested, capabilities, flags, device, hints, skipped):
    got, why = mc.hint_candidates(requested, capabilities, flags, device)
    assert got == hints
    assert [s["inference_precision"] for s in why] == skipped
    assert all(s["skipped"] for s in why)


class HintBackend(FakeBackend):
    """FakeBackend with a runtime precision hint per load (simulated: OpenVINO's OPTIMIZATION_CAPABILITIES and
    INFERENCE_PRECISION_HINT; a hint scales the latency and adds its own error, as bf16 does on an AMX Xeon)."""

    SPEED = {"f32": 1.0, "bf16": 0.5, "f16": 0.8}

    def __init__(self, params, capabilities=CPU_SPR, hint_noise=None, **kwargs):
        super().__init__(params, **kwargs)
        self.caps = capabilities
        self.hint_noise = dict({"f32": 0.0, "bf16": 0.004, "f16": 0.002}, **(hint_noise or {}))
        self.loads = []
        self.capability_queries = 0

    def capabilities(self):
        self.capability_queries += 1
        return self.caps

    def load(self, out_dir, entrypoint, hint=None):
        session = FakeBackend.load(self, out_dir, entrypoint)
        hint = hint or self.params["inference_precision"]
        self.loads.append((session.precision, hint))
        session.effective = dict(session.effective, inference_precision=hint)
        session.noise = dict((p, n + self.hint_noise[hint]) for p, n in session.noise.items())
        session.time = lambda sample, runs: [LATENCY[session.precision] * self.SPEED[hint]] * runs
        return session


def test_auto_hint_is_a_candidate_dimension_and_the_manifest_pins_the_winner(tmp_path):
    params = _params(tmp_path, precision="auto", inference_precision="auto", calibration=write_calibration(tmp_path),
                     fidelity_gate={"min_cosine": 0.98, "max_abs_diff": 0.02})
    backend = HintBackend(params)
    doc, _backend = _compile(params, backend)
    # each weights precision is built once and loaded at every hint the device lists
    assert backend.builds == ["int8", "int8-weights", "fp16", "fp32"]
    assert backend.loads == [(p, h) for p in ("int8", "int8-weights", "fp16", "fp32") for h in ("f32", "bf16", "f16")]
    # int8 misses max_abs_diff at every hint; int8-weights at bf16 (0.01 + 0.004) is the fastest that passes
    assert (doc["precision"], doc["inference_precision"]) == ("int8-weights", "bf16")
    chosen = [c for c in doc["candidates"] if c.get("chosen")]
    assert [(c["precision"], c["inference_precision"]) for c in chosen] == [("int8-weights", "bf16")]
    assert chosen[0]["latency_ms"]["p50"] == 3.0 and chosen[0]["effective"]["inference_precision"] == "bf16"
    assert doc["options"]["inference_precision"] == "auto"


def test_auto_hint_failing_the_gate_is_not_chosen(tmp_path):
    params = _params(tmp_path, precision="auto", candidates=["fp32"], inference_precision="auto",
                     fidelity_gate={"min_cosine": 0.98, "max_abs_diff": 0.02})
    doc, _backend = _compile(params, HintBackend(params, hint_noise={"bf16": 0.5}))
    assert (doc["precision"], doc["inference_precision"]) == ("fp32", "f16")
    bf16 = [c for c in doc["candidates"] if c.get("inference_precision") == "bf16"][0]
    assert not bf16["passed"] and "max_abs_diff" in bf16["error"] and "latency_ms" in bf16


def test_auto_on_an_avx2_cpu_records_why_bf16_and_f16_were_skipped(tmp_path):
    params = _params(tmp_path, precision="fp32", inference_precision="auto")
    doc, backend = _compile(params, HintBackend(params, capabilities=CPU_AVX2))
    assert backend.loads == [("fp32", "f32")] and doc["inference_precision"] == "f32"
    skipped = [c for c in doc["candidates"] if "skipped" in c]
    assert [c["inference_precision"] for c in skipped] == ["bf16", "f16"]
    assert "does not list BF16 in OPTIMIZATION_CAPABILITIES (FP32, INT8, BIN, EXPORT_IMPORT)" in skipped[0]["skipped"]


def test_pinned_hint_does_not_ask_the_device(tmp_path):
    params = _params(tmp_path, precision="auto", candidates=["fp32", "fp16"], inference_precision="f32")
    doc, backend = _compile(params, HintBackend(params))
    assert backend.capability_queries == 0 and backend.loads == [("fp32", "f32"), ("fp16", "f32")]
    assert doc["inference_precision"] == "f32" and "inference_precision" not in doc["candidates"][0]


def test_no_candidate_message_names_precision_and_hint(tmp_path):
    params = _params(tmp_path, precision="fp32", inference_precision="auto",
                     fidelity_gate={"min_cosine": 0.98, "max_abs_diff": 0.001})
    with pytest.raises(FleetError) as caught:
        _compile(params, HintBackend(params, capabilities=CPU_ZEN4, hint_noise={"f32": 0.01}))
    assert "fp32 at bf16: fidelity gate failed" in caught.value.msg
    assert "f16 hint: device CPU does not list FP16" in caught.value.msg


@pytest.mark.parametrize("over, expected", [
    ({"precision": "auto", "inference_precision": None}, "auto"),
    ({"precision": "int8", "inference_precision": None}, "f32"),
    ({"precision": "auto", "inference_precision": "f32"}, "f32"),
    ({"precision": "fp32", "inference_precision": "auto"}, "auto"),
    ({"precision": "auto", "inference_precision": None, "target": "onnxruntime"}, "f32"),
    ({"precision": "auto", "inference_precision": "auto", "target": "tensorrt"}, "f32"),
])
def test_inference_precision_default_follows_precision(tmp_path, over, expected):
    assert mc.validate_params(_params(tmp_path, **over))["inference_precision"] == expected


def test_candidates_are_timed_round_robin():
    calls = []

    class Session:
        def __init__(self, name):
            self.name = name

        def time(self, sample, runs):
            calls.append((self.name, runs))
            return [1.0] * runs

    timings = mc.time_round_robin([Session("a"), Session("b")], None, 10)
    assert calls == [("a", 3), ("b", 3), ("a", 3), ("b", 3), ("a", 2), ("b", 2), ("a", 2), ("b", 2)]
    assert [len(t) for t in timings] == [10, 10]
    calls[:] = []
    mc.time_round_robin([Session("a")], None, 1)
    assert calls == [("a", 1)]


def test_explicit_unbuildable_precision_is_an_error(tmp_path):
    params = _params(tmp_path, precision="int8")
    backend = FakeBackend(params)
    with pytest.raises(FleetError, match="needs a calibration set"):
        mc.candidates_for(params, backend, False)
    backend.unsupported = lambda precision: "not on this runtime"
    with pytest.raises(FleetError, match="No candidate precision"):
        mc.candidates_for(dict(params, precision="auto"), backend, True)


def test_calibration_errors(tmp_path):
    params = _params(tmp_path, precision="int8", calibration=write_calibration(tmp_path, 2))
    with pytest.raises(FleetError, match="holds 2 samples but holdout is 2"):
        _compile(params)
    with pytest.raises(FleetError, match="not a directory"):
        mc.plan(dict(params, calibration=str(tmp_path / "none")), FakeBackend(params), FINGERPRINT)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FleetError, match="no .npy or .npz"):
        mc.plan(dict(params, calibration=str(empty)), FakeBackend(params), FINGERPRINT)
    wrong = tmp_path / "wrong"
    wrong.mkdir()
    for i in range(3):
        np.save(str(wrong / ("s%d.npy" % i)), np.zeros((1, 5), dtype=np.float32))
    with pytest.raises(FleetError, match=r"has shape \[1, 5\] but input x expects \[1, 4\]"):
        _compile(dict(params, calibration=str(wrong)))


def test_source_files(tmp_path):
    ir = tmp_path / "m.xml"
    ir.write_text("<net/>")
    with pytest.raises(FleetError, match="m.bin is missing"):
        mc.source_files(str(ir))
    (tmp_path / "m.bin").write_bytes(b"w")
    assert mc.source_files(str(ir)) == [str(ir), str(tmp_path / "m.bin")]
    onnx = tmp_path / "e.onnx"
    onnx.write_bytes(b"g")
    (tmp_path / "e.onnx.data").write_bytes(b"d")
    assert mc.source_files(str(onnx)) == [str(onnx), str(onnx) + ".data"]
    with pytest.raises(FleetError, match="must end in .onnx or .xml"):
        mc.source_files(str(tmp_path / "m.bin"))
    with pytest.raises(FleetError, match="does not exist"):
        mc.source_files(str(tmp_path / "absent.onnx"))


def test_golden_shapes_crop(tmp_path):
    params = _params(tmp_path, input_shapes={"x": [1, -1]}, golden_shapes={"x": [1, 2]},
                     calibration=write_calibration(tmp_path))
    _compile(params)
    golden = json.load(open(os.path.join(params["dest"], "golden.json")))
    assert golden["inputs"][0]["shape"] == [1, 2] and golden["outputs"][0]["shape"] == [1, 2]
    with pytest.raises(FleetError, match="golden_shapes names input z"):
        _compile(dict(params, golden_shapes={"z": [1]}, dest=str(tmp_path / "other")))


def test_swap_failure_restores_the_previous_artifact(tmp_path, monkeypatch):
    dest = tmp_path / "det"
    dest.mkdir()
    (dest / "manifest.json").write_text("old")
    ready = tmp_path / "ready"
    ready.mkdir()
    real_rename = os.rename

    def rename(a, b):
        if a == str(ready):
            raise OSError("simulated cross-device rename")
        return real_rename(a, b)

    monkeypatch.setattr(mc.os, "rename", rename)
    with pytest.raises(FleetError, match="previous artifact is unchanged"):
        mc.swap_into_place(str(ready), str(dest))
    assert (dest / "manifest.json").read_text() == "old"


def test_prune_cache_keeps_only_the_current_runtime(tmp_path):
    for name in ("openvino-2025.1", "openvino-2026.4.1", "tensorrt-10.8"):
        (tmp_path / name).mkdir()
    path, removed = mc.prune_cache(str(tmp_path), "openvino", "openvino-2026.4.1")
    assert path == str(tmp_path / "openvino-2026.4.1") and removed == ["openvino-2025.1"]
    assert sorted(os.listdir(tmp_path)) == ["openvino-2026.4.1", "tensorrt-10.8"]


@pytest.mark.parametrize("over, needle", [
    ({"holdout": 0}, "holdout must be at least 1"),
    ({"latency_runs": 0}, "latency_runs must be at least 1"),
    ({"input_shapes": {"x": ["a"]}}, r"input_shapes\[x\] must be a list of integers"),
    # Malformed input (issue 11): YAML's .inf as a dimension raised OverflowError, a scalar shape TypeError.
    ({"input_shapes": {"x": [float("inf")]}}, r"input_shapes\[x\] must be a list of integers"),
    ({"golden_shapes": {"x": 5}}, r"golden_shapes\[x\] must be a list of integers"),
    ({"candidates": ["fp16"]}, "only used with precision: auto"),
])
def test_validate_params(tmp_path, over, needle):
    with pytest.raises(FleetError, match=needle):
        mc.validate_params(_params(tmp_path, **over))


def test_host_fingerprint_gpu_part_only_for_gpu_targets(tmp_path):
    from ansible_collections.edgeai.fleet.tests.unit.plugins.module_utils.test__model_fingerprint import GPU_FACTS, X86
    cpu_only = mc.host_fingerprint(_params(tmp_path, gpu_facts=GPU_FACTS), X86)
    assert cpu_only["gpu"] is None
    trt = mc.host_fingerprint(_params(tmp_path, target="tensorrt", gpu_facts=GPU_FACTS), X86)
    assert trt["gpu"]["compute_capability"] == "8.0"
    with pytest.raises(FleetError, match="needs a GPU"):
        mc.host_fingerprint(_params(tmp_path, target="tensorrt", gpu_facts={"gpus": [], "reason": "no driver"}), X86)
