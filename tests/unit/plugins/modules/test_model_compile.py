# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""edgeai.fleet.model_compile through AnsibleModule.

Simulated: the compile runtime (model_compile_fakes.FakeBackend stands in for OpenVINO); the
real OpenVINO compile of the PP-OCRv4 detector is in tests/system/test_model_compile.py.
"""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.edgeai.fleet.plugins.module_utils import _model_compile as mc
from ansible_collections.edgeai.fleet.plugins.modules import model_compile
from ansible_collections.edgeai.fleet.tests.unit.module_helpers import run_module
from ansible_collections.edgeai.fleet.tests.unit.plugins.module_utils.model_compile_fakes import (
    FakeBackend, write_calibration, write_source)

pytest.importorskip("numpy")


@pytest.fixture
def backends(monkeypatch):
    made = []

    def factory(params, run_command, get_bin_path):
        backend = FakeBackend(params)
        made.append(backend)
        return backend

    monkeypatch.setattr(mc, "make_backend", factory)
    return made


def _args(tmp_path, **over):
    args = {"name": "det", "src": write_source(tmp_path), "dest": str(tmp_path / "art" / "det")}
    args.update(over)
    return args


def _tree(path):
    if not os.path.isdir(path):
        return None
    return dict((n, open(os.path.join(path, n), "rb").read()) for n in sorted(os.listdir(path)))


def test_compile_then_idempotent(tmp_path, backends):
    args = _args(tmp_path, precision="int8", calibration=write_calibration(tmp_path))
    result, failed = run_module(model_compile, args)
    assert not failed and result["changed"]
    assert result["manifest"]["precision"] == "int8"
    assert result["manifest_path"] == os.path.join(args["dest"], "manifest.json")
    assert result["fingerprint"]["id"] == result["manifest"]["fingerprint"]["id"]
    first = _tree(args["dest"])
    result, failed = run_module(model_compile, args)
    assert not failed and not result["changed"] and result["reason"] == "artifact is up to date"
    assert backends[-1].builds == []
    assert _tree(args["dest"]) == first


def test_check_mode_predicts_without_compiling(tmp_path, backends):
    args = _args(tmp_path)
    result, failed = run_module(model_compile, args, check_mode=True, diff=True)
    assert not failed and result["changed"] and result["reason"].startswith("no artifact")
    assert backends[-1].builds == [] and not os.path.exists(os.path.dirname(args["dest"]))
    assert result["diff"]["before"] == "{}\n"
    assert json.loads(result["diff"]["after"])["inputs_sha256"] == result["manifest"]["inputs_sha256"]
    run_module(model_compile, args)
    result, failed = run_module(model_compile, args, check_mode=True)
    assert not failed and not result["changed"]
    result, failed = run_module(model_compile, dict(args, inference_precision="bf16"), check_mode=True)
    assert result["changed"] and result["reason"] == "inputs changed: options"


def test_diff_shows_the_manifest_change(tmp_path, backends):
    args = _args(tmp_path)
    run_module(model_compile, args)
    result, failed = run_module(model_compile, dict(args, precision="fp16"), diff=True)
    assert not failed and result["changed"]
    before, after = json.loads(result["diff"]["before"]), json.loads(result["diff"]["after"])
    assert before["precision"] == "fp32" and after["precision"] == "fp16"
    assert result["diff"]["before_header"] == result["manifest_path"]


def test_gate_failure_fails_and_keeps_previous(tmp_path, backends):
    args = _args(tmp_path)
    run_module(model_compile, args)
    before = _tree(args["dest"])
    result, failed = run_module(model_compile, dict(args, precision="int8", calibration=write_calibration(tmp_path),
                                                    fidelity_gate={"max_abs_diff": 0.001}))
    assert failed
    assert "fidelity gate failed: max_abs_diff 0.05 > 0.001" in result["msg"]
    assert result["candidates"][0]["passed"] is False
    assert _tree(args["dest"]) == before


def test_int8_requires_calibration(tmp_path, backends):
    result, failed = run_module(model_compile, _args(tmp_path, precision="int8"))
    assert failed and "calibration" in result["msg"]
    assert backends == []


def test_bad_input_shapes_fail_before_anything(tmp_path, backends):
    args = _args(tmp_path, input_shapes={"x": "1x3"})
    result, failed = run_module(model_compile, args)
    assert failed and "input_shapes[x]" in result["msg"]
    assert not os.path.exists(os.path.dirname(args["dest"]))


def test_missing_library_names_the_package(tmp_path, monkeypatch):
    def factory(params, run_command, get_bin_path):
        raise mc.MissingLibrary("openvino", "for target openvino", "Traceback: No module named 'openvino'")

    monkeypatch.setattr(mc, "make_backend", factory)
    args = _args(tmp_path)
    result, failed = run_module(model_compile, args)
    assert failed and "openvino" in result["msg"] and "for target openvino" in result["msg"]
    assert "No module named" in result["exception"]
    assert not os.path.exists(os.path.dirname(args["dest"]))


def test_missing_source_is_actionable(tmp_path, backends):
    result, failed = run_module(model_compile, {"name": "det", "src": str(tmp_path / "x.onnx"),
                                                "dest": str(tmp_path / "d")})
    assert failed and "does not exist" in result["msg"] and "src" in result["msg"]


def test_fingerprint_only_reads_nothing_else(tmp_path, backends):
    result, failed = run_module(model_compile, {"fingerprint_only": True})
    assert not failed and not result["changed"] and len(result["fingerprint"]["id"]) == 64
    assert result["fingerprint"]["gpu"] is None and backends == []
    result, failed = run_module(model_compile, {"name": "det"})
    assert failed and "src" in result["msg"]


def _pages(tmp_path, count=4):
    from PIL import Image
    import numpy as np
    folder = tmp_path / "pages"
    folder.mkdir()
    for i in range(count):
        rng = np.random.default_rng(i)
        Image.fromarray(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8), "RGB").save(str(folder / ("p%d.jpg" % i)))
    return str(folder)


def test_image_calibration_check_mode_compile_idempotent_and_preprocess_change(tmp_path, backends):
    pytest.importorskip("PIL")
    args = _args(tmp_path, precision="int8", calibration=_pages(tmp_path), input_shapes={"x": [1, 3, -1, -1]},
                 calibration_preprocess="ppocr_det", calibration_preprocess_options={"limit_side_len": 64, "limit_type": "max"})
    result, failed = run_module(model_compile, args, check_mode=True, diff=True)
    assert not failed and result["changed"] and not os.path.exists(os.path.dirname(args["dest"]))
    predicted = result["manifest"]["calibration_sha256"]
    result, failed = run_module(model_compile, args)
    assert not failed and result["changed"] and result["manifest"]["calibration_sha256"] == predicted
    assert result["manifest"]["fidelity"]["samples"] == 2
    first = _tree(args["dest"])
    result, failed = run_module(model_compile, args)
    assert not failed and not result["changed"] and _tree(args["dest"]) == first
    other = dict(args, calibration_preprocess_options={"limit_side_len": 96, "limit_type": "max"})
    result, failed = run_module(model_compile, other, check_mode=True)
    assert result["changed"] and result["reason"] == "inputs changed: calibration_sha256"


def test_image_calibration_that_does_not_fit_writes_nothing(tmp_path, backends):
    pytest.importorskip("PIL")
    args = _args(tmp_path, precision="int8", calibration=_pages(tmp_path), input_shapes={"x": [1, 3, 640, 640]},
                 calibration_preprocess="ppocr_det")
    result, failed = run_module(model_compile, args)
    assert failed and "calibration_preprocess ppocr_det but input x expects [1, 3, 640, 640]" in result["msg"]
    assert not os.path.exists(os.path.dirname(args["dest"])) and backends[-1].builds == []


def test_image_calibration_without_pillow_names_the_package(tmp_path, backends, monkeypatch):
    from ansible_collections.edgeai.fleet.plugins.module_utils import _model_images
    pytest.importorskip("PIL")
    pages = _pages(tmp_path)
    monkeypatch.setattr(_model_images, "Image", None)
    monkeypatch.setattr(_model_images, "PIL_IMPORT_ERROR", "Traceback: No module named 'PIL'")
    result, failed = run_module(model_compile, _args(tmp_path, calibration=pages, calibration_preprocess="imagenet"))
    assert failed and "Pillow" in result["msg"] and "calibration images" in result["msg"]
    assert "No module named 'PIL'" in result["exception"]


def test_preprocess_options_are_validated(tmp_path, backends):
    result, failed = run_module(model_compile, _args(tmp_path, calibration_preprocess="ppocr_det",
                                                     calibration_preprocess_options={"limit_type": "widest"}))
    assert failed and "limit_type" in result["msg"]
    result, failed = run_module(model_compile, _args(tmp_path, calibration_preprocess="imagenet",
                                                     calibration_preprocess_options={"limit_side_len": 640}))
    assert failed and "do not apply to calibration_preprocess imagenet" in result["msg"]
    assert backends == []
