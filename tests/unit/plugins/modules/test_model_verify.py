# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""model_verify against the fake KServe V2 server of test__kserve_v2 (simulates OVMS/Triton/KServe REST)."""

from __future__ import annotations

import json

import pytest

from ansible_collections.edgeai.fleet.plugins.modules import model_verify
from ansible_collections.edgeai.fleet.tests.unit.module_helpers import run_module
from ansible_collections.edgeai.fleet.tests.unit.plugins.module_utils.test__kserve_v2 import GOLDEN, FakeV2Server


@pytest.fixture
def artifact(tmp_path):
    (tmp_path / "golden.json").write_text(json.dumps(GOLDEN))
    (tmp_path / "manifest.json").write_text(json.dumps({"golden": "golden.json",
                                                        "tolerance": {"max_abs": 0.001, "min_cosine": 0.9999}}))
    return tmp_path


@pytest.fixture
def server():
    servers = []

    def start(**kwargs):
        servers.append(FakeV2Server(**kwargs))
        return servers[-1]
    yield start
    for srv in servers:
        srv.close()


def test_pass_in_check_mode_returns_figures_unchanged(artifact, server):
    srv = server()
    result, failed = run_module(model_verify, {"name": "det", "url": srv.url, "manifest": str(artifact / "manifest.json"),
                                               "requests": 5, "latency_budget_ms": 10000, "expect_precision": "f32"},
                                check_mode=True, diff=True)
    assert not failed and not result["changed"], result
    assert result["golden_ok"] and result["within_budget"] and result["failures"] == []
    assert result["tolerance"] == {"max_abs": 0.001, "min_cosine": 0.9999}
    assert result["device"] == "CPU" and "diff" not in result
    # Idempotent by nature: a second run answers the same way.
    again, failed = run_module(model_verify, {"name": "det", "url": srv.url, "manifest": str(artifact / "manifest.json"),
                                              "requests": 5})
    assert not failed and not again["changed"] and again["outputs"] == result["outputs"]


def test_wrong_outputs_fail_with_all_figures(artifact, server):
    srv = server(scale=3.0)
    result, failed = run_module(model_verify, {"name": "det", "url": srv.url, "manifest": str(artifact / "manifest.json"),
                                               "requests": 2})
    assert failed and "failed verification" in result["msg"] and "max_abs" in result["msg"]
    assert result["golden_ok"] is False and result["outputs"]["y"]["max_abs"] == 3.0
    assert "p50_ms" in result


def test_parameters_override_manifest_tolerance(artifact, server):
    srv = server(scale=2.001)
    result, failed = run_module(model_verify, {"name": "det", "url": srv.url, "manifest": str(artifact / "manifest.json"),
                                               "max_abs": 0.01, "requests": 1})
    assert not failed and result["tolerance"]["max_abs"] == 0.01


def test_model_never_ready_fails(artifact, server):
    srv = server(ready_after=10 ** 6)
    result, failed = run_module(model_verify, {"name": "det", "url": srv.url, "golden": str(artifact / "golden.json"),
                                               "max_abs": 0.1, "ready_timeout": 0.5})
    assert failed and result["ready"] is False and "not ready" in result["msg"]


def test_missing_golden_and_tolerance_are_explained(tmp_path):
    result, failed = run_module(model_verify, {"name": "det", "golden": str(tmp_path / "nope.json"), "max_abs": 1})
    assert failed and "does not exist" in result["msg"]
    (tmp_path / "g.json").write_text(json.dumps(GOLDEN))
    result, failed = run_module(model_verify, {"name": "det", "golden": str(tmp_path / "g.json")})
    assert failed and "No tolerance" in result["msg"]


def test_needs_manifest_or_golden():
    result, failed = run_module(model_verify, {"name": "det"})
    assert failed and "manifest" in result["msg"]


@pytest.mark.parametrize("manifest, golden, field", [
    ([1, 2], None, "must hold a JSON object"),
    ({"golden": 5}, None, "golden must be a file name"),
    ({"tolerance": [0.1]}, None, "tolerance must be an object"),
    ({"tolerance": {"max_abs": "0.1"}}, None, "tolerance.max_abs must be a number"),
    ({}, [], "must hold a JSON object with 'inputs' and 'outputs'"),
    ({}, {"inputs": [5], "outputs": [5]}, "inputs[0] must be an object"),
    ({}, {"inputs": [{"name": "x", "shape": "1x2", "datatype": "FP32", "data": [1]}], "outputs": [{}]},
     "inputs[0].shape must be a list"),
    ({}, {"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": [1]}], "outputs": [{"name": 3}]},
     "outputs[0].name must be a str"),
])
def test_malformed_manifest_or_golden_names_file_and_field(tmp_path, manifest, golden, field):
    """Malformed documents: a manifest or golden file of the wrong shape crashed with AttributeError/KeyError."""
    manifest_path = tmp_path / "manifest.json"
    manifest_path.write_text(json.dumps(dict(manifest, tolerance=manifest.get("tolerance", {"max_abs": 0.1}))
                                        if isinstance(manifest, dict) else manifest))
    (tmp_path / "golden.json").write_text(json.dumps(GOLDEN if golden is None else golden))
    result, failed = run_module(model_verify, {"name": "det", "url": "http://127.0.0.1:9", "manifest": str(manifest_path)})
    assert failed and field in result["msg"], result["msg"]
    assert str(tmp_path) in result["msg"]


@pytest.mark.parametrize("ready_timeout", [float("nan"), float("inf"), -1.0])
def test_ready_timeout_must_be_finite(artifact, ready_timeout):
    """Fault: ready_timeout=nan made the readiness poll compare false with its deadline and never end."""
    result, failed = run_module(model_verify, {"name": "det", "url": "http://127.0.0.1:9", "ready_timeout": ready_timeout,
                                               "manifest": str(artifact / "manifest.json")})
    assert failed and "ready_timeout must be a finite number" in result["msg"]
