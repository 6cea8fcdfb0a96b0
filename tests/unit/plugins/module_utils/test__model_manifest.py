# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import hashlib
import json

import pytest

from ansible_collections.edgeai.fleet.plugins.module_utils import _model_manifest as mf
from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError

SHA = "a" * 64


def _doc(**over):
    args = dict(name="det", target="openvino", precision="int8", inference_precision="f32", device="CPU",
                entrypoint="model.xml", files={"model.xml": SHA, "model.bin": SHA, "golden.json": SHA},
                inputs=[{"name": "x", "shape": [1, 3, 640, 640], "datatype": "FP32"}],
                outputs=[{"name": "y", "shape": [1, 1, 640, 640], "datatype": "FP32"}],
                toolchain={"openvino": "2026.4.1"}, fingerprint={"id": "f" * 64, "cpu_flags": []},
                fidelity={"cosine_min": 0.99}, latency_ms={"p50": 1.0, "p95": 2.0},
                tolerance={"max_abs": 0.05, "min_cosine": 0.999}, source_sha256=SHA, created="2026-11-27T00:00:00Z")
    args.update(over)
    return mf.build(**args)


def test_build_gives_the_shared_contract():
    doc = _doc(calibration_sha256=SHA)
    assert doc["schema"] == "edgeai.fleet/model-manifest/v1"
    assert doc["golden"] == "golden.json"
    for key in ("name", "target", "precision", "inference_precision", "device", "entrypoint", "files", "inputs",
                "outputs", "toolchain", "fingerprint", "calibration_sha256", "fidelity", "latency_ms", "tolerance",
                "source_sha256", "created"):
        assert key in doc
    assert mf.validate(doc) == []


@pytest.mark.parametrize("over, needle", [
    ({"target": "coreml"}, "target"),  # tflite and edgetpu are targets since issue 17
    ({"precision": "int4"}, "precision"),
    ({"entrypoint": "other.xml"}, "entrypoint"),
    ({"files": {"/etc/passwd": SHA, "model.xml": SHA, "golden.json": SHA}}, "relative path"),
    ({"files": {"model.xml": "short", "golden.json": SHA}}, "sha256"),
    ({"tolerance": {"max_abs": 1}}, "tolerance"),
    ({"latency_ms": {}}, "latency_ms"),
    ({"inputs": [{"name": "x"}]}, "inputs"),
    ({"fingerprint": {}}, "fingerprint"),
    # issue 14: the server pins this hint as it is; "auto" is a compile option, never an artifact's precision
    ({"inference_precision": "auto"}, "inference_precision 'auto' is not one of f32, bf16, f16, i8"),
])
def test_build_refuses_an_invalid_manifest(over, needle):
    with pytest.raises(FleetError) as caught:
        _doc(**over)
    assert needle in caught.value.msg


def test_validate_reports_missing_keys_and_schema():
    errors = mf.validate({"schema": "other"})
    assert any("missing key 'files'" in e for e in errors)
    assert any("schema" in e for e in errors)
    assert mf.validate([]) == ["manifest is not a JSON object"]


def test_sha256_and_set_digest_do_not_depend_on_location(tmp_path):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "m.onnx").write_bytes(b"weights")
    assert mf.sha256_file(str(tmp_path / "a" / "m.onnx")) == hashlib.sha256(b"weights").hexdigest()
    assert mf.set_sha256([str(tmp_path / "a" / "m.onnx")]) == mf.set_sha256([str(tmp_path / "b" / "m.onnx")])
    (tmp_path / "b" / "m.onnx").write_bytes(b"other")
    assert mf.set_sha256([str(tmp_path / "a" / "m.onnx")]) != mf.set_sha256([str(tmp_path / "b" / "m.onnx")])
    assert mf.set_sha256([]) is None


def test_sha256_of_a_missing_file_names_it(tmp_path):
    with pytest.raises(FleetError, match="nope"):
        mf.sha256_file(str(tmp_path / "nope"))


def test_list_hash_and_verify_files(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "model.xml").write_text("x")
    (tmp_path / "sub" / "w.bin").write_text("w")
    (tmp_path / "manifest.json").write_text("{}")
    files = mf.list_files(str(tmp_path))
    assert files == ["model.xml", "sub/w.bin"]
    doc = {"files": mf.hash_files(str(tmp_path), files)}
    assert mf.verify_files(str(tmp_path), doc) == []
    (tmp_path / "sub" / "w.bin").write_text("tampered")
    (tmp_path / "model.xml").unlink()
    assert mf.verify_files(str(tmp_path), doc) == ["model.xml", "sub/w.bin"]


def test_read_absent_valid_and_corrupt(tmp_path):
    assert mf.read(str(tmp_path)) is None
    (tmp_path / "manifest.json").write_text(json.dumps({"a": 1}))
    assert mf.read(str(tmp_path)) == {"a": 1}
    (tmp_path / "manifest.json").write_text("{broken")
    with pytest.raises(FleetError, match="Cannot read manifest"):
        mf.read(str(tmp_path))


def test_canonical_digest_is_order_independent():
    assert mf.sha256_doc({"a": 1, "b": [1, 2]}) == mf.sha256_doc({"b": [1, 2], "a": 1})
    assert mf.dumps({"b": 1, "a": 2}).startswith('{\n  "a": 2')
