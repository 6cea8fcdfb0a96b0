# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""edgeai.fleet.model_compile for real: OpenVINO + NNCF compile the PP-OCRv4 text detector.

Real: the detector shipped in the PyPI ``rapidocr-onnxruntime`` wheel, OpenVINO, NNCF post-training
INT8, the module (run in-process through AnsibleModule), the files on disk. Nothing is simulated.
The calibration set is six synthetic 256x256 "document" pages drawn here with Pillow (seeded) and
preprocessed like rapidocr does (BGR, (x/255 - 0.5) / 0.5, NCHW), saved as .npy; the input is fixed
to 256x256 to keep the test short on two cores.
"""

from __future__ import annotations

import importlib.util
import json
import os
import random
import time

import pytest

from ansible_collections.edgeai.fleet.plugins.module_utils._model_manifest import sha256_file, validate
from ansible_collections.edgeai.fleet.plugins.modules import model_compile
from ansible_collections.edgeai.fleet.tests.unit.module_helpers import run_module

np = pytest.importorskip("numpy")
ov = pytest.importorskip("openvino")
pytest.importorskip("nncf")
Image = pytest.importorskip("PIL.Image")
ImageDraw = pytest.importorskip("PIL.ImageDraw")
ImageFont = pytest.importorskip("PIL.ImageFont")

pytestmark = pytest.mark.slow
SIDE = 256
WORDS = ["INVOICE", "Total", "12.50", "2026-11-27", "ID 4471", "edge", "fleet", "Qty", "EUR", "Ref#889", "Net"]


def _detector():
    spec = importlib.util.find_spec("rapidocr_onnxruntime")
    if spec is None:
        pytest.skip("rapidocr-onnxruntime is not installed (see test-requirements.txt)")
    return os.path.join(os.path.dirname(spec.origin), "models", "ch_PP-OCRv4_det_infer.onnx")


def _page(seed):
    rng = random.Random(seed)
    img = Image.new("RGB", (SIDE, SIDE), (rng.randint(225, 255),) * 3)
    draw = ImageDraw.Draw(img)
    y = 6
    while y < SIDE - 20:
        x, size = rng.randint(2, 30), rng.randint(12, 22)
        font = ImageFont.load_default(size=size)
        while x < SIDE - 40:
            word = rng.choice(WORDS)
            draw.text((x, y), word, fill=(rng.randint(0, 60),) * 3, font=font)
            x += int(size * 0.6 * len(word)) + rng.randint(8, 30)
        y += size + rng.randint(4, 14)
    bgr = np.asarray(img, dtype=np.float32)[:, :, ::-1]
    return ((bgr / 255.0 - 0.5) / 0.5).transpose(2, 0, 1)[None].astype(np.float32)


@pytest.fixture(scope="module")
def calibration(tmp_path_factory):
    folder = tmp_path_factory.mktemp("calib")
    for i in range(6):
        np.save(str(folder / ("page%02d.npy" % i)), _page(i))
    return str(folder)


@pytest.fixture(scope="module")
def base_args(calibration):
    return {"name": "ocr_det", "src": _detector(), "calibration": calibration, "holdout": 2, "latency_runs": 10}


def _mtimes(path):
    return dict((n, os.stat(os.path.join(path, n)).st_mtime_ns) for n in sorted(os.listdir(path)))


def test_int8_compile_manifest_and_idempotence(base_args, tmp_path):
    dest = str(tmp_path / "ocr_det" / "int8")
    args = dict(base_args, dest=dest, precision="int8", input_shapes={"x": [1, 3, SIDE, SIDE]},
                fidelity_gate={"min_cosine": 0.9}, cache_dir=str(tmp_path / "cache"))
    result, failed = run_module(model_compile, args, check_mode=True)
    assert not failed and result["changed"] and not os.path.exists(dest)

    started = time.monotonic()
    result, failed = run_module(model_compile, args)
    compile_s = time.monotonic() - started
    assert not failed, result.get("msg")
    assert result["changed"]
    manifest = json.load(open(os.path.join(dest, "manifest.json")))
    assert manifest == result["manifest"] and validate(manifest) == []
    assert manifest["target"] == "openvino" and manifest["precision"] == "int8"
    assert manifest["inference_precision"] == "f32" and manifest["device"] == "CPU"
    assert manifest["entrypoint"] == "model.xml"
    assert set(manifest["files"]) == {"model.xml", "model.bin", "golden.json"}
    for rel, digest in manifest["files"].items():
        assert sha256_file(os.path.join(dest, rel)) == digest
    assert manifest["inputs"] == [{"name": "x", "shape": [1, 3, SIDE, SIDE], "datatype": "FP32"}]
    assert manifest["outputs"][0]["shape"] == [1, 1, SIDE, SIDE]
    # the package version (no build suffix): what the up-to-date check reads without importing openvino
    assert manifest["toolchain"]["openvino"] == ov.get_version().split("-")[0] and manifest["toolchain"]["nncf"]
    assert manifest["fingerprint"] == result["fingerprint"] and len(manifest["fingerprint"]["id"]) == 64
    assert manifest["calibration_sha256"] and manifest["source_sha256"]
    assert 0.9 <= manifest["fidelity"]["cosine_min"] < 1.0 and manifest["fidelity"]["samples"] == 2
    assert manifest["latency_ms"]["p50"] > 0
    # INT8 weights: the IR is much smaller than the 4.7 MB FP32 source
    assert os.path.getsize(os.path.join(dest, "model.bin")) < 0.6 * os.path.getsize(base_args["src"])

    # golden.json replays on the artifact within the recorded tolerance
    golden = json.load(open(os.path.join(dest, "golden.json")))
    feed = np.array(golden["inputs"][0]["data"], dtype=np.float32).reshape(golden["inputs"][0]["shape"])
    compiled = ov.Core().compile_model(os.path.join(dest, "model.xml"), "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    out = compiled(feed)[compiled.outputs[0]].ravel()
    assert np.max(np.abs(out - np.array(golden["outputs"][0]["data"]))) <= manifest["tolerance"]["max_abs"]

    before = _mtimes(dest)
    started = time.monotonic()
    again, failed = run_module(model_compile, args)
    assert not failed and not again["changed"] and again["reason"] == "artifact is up to date"
    assert _mtimes(dest) == before
    assert time.monotonic() - started < compile_s


def test_fp32_dynamic_shape_small_golden(base_args, tmp_path):
    dest = str(tmp_path / "fp32")
    args = dict(base_args, dest=dest, precision="fp32", input_shapes={"x": [1, 3, -1, -1]},
                golden_shapes={"x": [1, 3, 64, 64]}, fidelity_gate={"min_cosine": 0.9999, "max_abs_diff": 1e-4})
    result, failed = run_module(model_compile, args, diff=True)
    assert not failed, result.get("msg")
    manifest = result["manifest"]
    assert manifest["precision"] == "fp32" and manifest["inputs"][0]["shape"] == [1, 3, -1, -1]
    assert manifest["fidelity"]["max_abs_diff"] <= 1e-4
    golden = json.load(open(os.path.join(dest, "golden.json")))
    assert golden["inputs"][0]["shape"] == [1, 3, 64, 64] and golden["outputs"][0]["shape"] == [1, 1, 64, 64]
    assert json.loads(result["diff"]["after"])["precision"] == "fp32"


def test_impossible_gate_fails_and_keeps_nothing(base_args, tmp_path):
    fresh = str(tmp_path / "fresh")
    args = dict(base_args, dest=fresh, precision="int8", input_shapes={"x": [1, 3, SIDE, SIDE]},
                fidelity_gate={"min_cosine": 0.999999})
    result, failed = run_module(model_compile, args)
    assert failed
    assert "int8: fidelity gate failed: cosine_min" in result["msg"] and "short by" in result["msg"]
    assert not os.path.exists(fresh) and os.listdir(str(tmp_path)) == []

    kept = str(tmp_path / "kept")
    ok, failed = run_module(model_compile, dict(base_args, dest=kept, input_shapes={"x": [1, 3, SIDE, SIDE]}))
    assert not failed
    before = dict((n, sha256_file(os.path.join(kept, n))) for n in os.listdir(kept))
    result, failed = run_module(model_compile, dict(args, dest=kept))
    assert failed
    assert dict((n, sha256_file(os.path.join(kept, n))) for n in os.listdir(kept)) == before
    assert sorted(os.listdir(str(tmp_path))) == ["kept"]
