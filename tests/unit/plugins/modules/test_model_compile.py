# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""edgeai.fleet.model_compile through AnsibleModule.

Simulated: the compile runtime (model_compile_fakes.FakeBackend stands in for OpenVINO); the
real OpenVINO compile of the PP-OCRv4 detector is in tests/integration/test_model_compile.py.
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
