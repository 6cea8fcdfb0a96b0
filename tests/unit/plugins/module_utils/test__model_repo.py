# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile

import pytest

from ansible_collections.edgeai.fleet.plugins.module_utils import _model_repo as mr
from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError
from ansible_collections.edgeai.fleet.plugins.module_utils._model_manifest import SCHEMA

GOLDEN = {"inputs": [{"name": "x", "shape": [1, 2], "datatype": "FP32", "data": [1.0, 2.0]}],
          "outputs": [{"name": "y", "shape": [1, 2], "datatype": "FP32", "data": [3.0, 5.0]}]}


def make_artifact(path, payload=b"model-bytes", target="onnxruntime", entrypoint="model.onnx", extra=None):
    """Write an artifact directory in the model_compile contract: model files + manifest.json + golden.json."""
    os.makedirs(path, exist_ok=True)
    files = {entrypoint: payload}
    files.update(extra or {})
    files["golden.json"] = json.dumps(GOLDEN).encode()
    for rel, data in files.items():
        with open(os.path.join(path, rel), "wb") as handle:
            handle.write(data)
    tensors = [{k: t[k] for k in ("name", "shape", "datatype")} for t in GOLDEN["inputs"]]
    manifest = {"schema": SCHEMA, "name": "det", "target": target, "precision": "fp32",
                "inference_precision": "f32", "device": "CPU", "entrypoint": entrypoint,
                "files": {rel: hashlib.sha256(data).hexdigest() for rel, data in files.items()},
                "inputs": tensors, "outputs": [dict(tensors[0], name="y")], "golden": "golden.json",
                "tolerance": {"max_abs": 0.01, "min_cosine": 0.999}, "toolchain": {}, "fingerprint": {"id": "f"},
                "fidelity": {}, "latency_ms": {"p50": 1.0, "p95": 2.0}, "source_sha256": "0" * 64,
                "created": "2026-01-01T00:00:00Z"}
    with open(os.path.join(path, "manifest.json"), "w") as handle:
        json.dump(manifest, handle)
    return manifest


def tar_artifact(path):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        tar.add(path, arcname="artifact")
    return buf.getvalue()


def snapshot(root):
    """Every path under ``root`` with its content or link target, to prove a failure changed nothing."""
    out = {}
    for base, dirs, files in os.walk(root):
        for name in dirs + files:
            full = os.path.join(base, name)
            rel = os.path.relpath(full, root)
            if os.path.islink(full):
                out[rel] = "-> " + os.readlink(full)
            elif os.path.isfile(full):
                with open(full, "rb") as handle:
                    out[rel] = handle.read()
            else:
                out[rel] = "dir"
    return out


@pytest.fixture
def repo(tmp_path):
    return mr.ModelRepo(str(tmp_path / "repo"), "det")


def test_load_manifest_rejects_wrong_schema_and_unsafe_paths(tmp_path):
    man = make_artifact(str(tmp_path / "a"))
    man["schema"] = "other"
    (tmp_path / "a" / "manifest.json").write_text(json.dumps(man))
    with pytest.raises(FleetError, match="schema is 'other'"):
        mr.load_manifest(str(tmp_path / "a"))
    man["schema"] = SCHEMA
    man["files"]["a/../../evil"] = "0" * 64
    (tmp_path / "a" / "manifest.json").write_text(json.dumps(man))
    with pytest.raises(FleetError, match="not a relative path"):
        mr.load_manifest(str(tmp_path / "a"))


def test_load_manifest_needs_entrypoint_among_files(tmp_path):
    man = make_artifact(str(tmp_path / "a"))
    man["entrypoint"] = "other.onnx"
    (tmp_path / "a" / "manifest.json").write_text(json.dumps(man))
    with pytest.raises(FleetError, match="entrypoint 'other.onnx' is not listed"):
        mr.load_manifest(str(tmp_path / "a"))


def test_verify_tree_names_the_corrupt_file(tmp_path):
    man = make_artifact(str(tmp_path / "a"))
    (tmp_path / "a" / "model.onnx").write_bytes(b"tampered")
    with pytest.raises(FleetError, match="sha256 mismatch for model.onnx"):
        mr.verify_tree(str(tmp_path / "a"), man)


def test_identity_depends_only_on_file_hashes(tmp_path):
    one = make_artifact(str(tmp_path / "a"))
    two = make_artifact(str(tmp_path / "b"))
    two["created"] = "later"
    assert mr.identity(one) == mr.identity(two)
    assert mr.identity(one) != mr.identity(make_artifact(str(tmp_path / "c"), payload=b"other"))


def test_first_deploy_installs_version_1_and_links_current(repo, tmp_path):
    make_artifact(str(tmp_path / "a"))
    result = mr.deploy(repo, {"kind": "path", "path": str(tmp_path / "a")})
    assert result["changed"] and result["installed"] and result["version"] == 1
    assert os.readlink(os.path.join(repo.model_dir, "current")) == "1"
    assert sorted(os.listdir(repo.version_dir(1))) == ["golden.json", "manifest.json", "model.onnx"]
    assert not [n for n in os.listdir(repo.model_dir) if n.startswith(".incoming")]
    again = mr.deploy(repo, {"kind": "path", "path": str(tmp_path / "a")})
    assert not again["changed"] and again["version"] == 1 and not again["installed"]


def test_new_artifact_gets_next_number_and_keep_prunes_oldest(repo, tmp_path):
    for i, payload in enumerate([b"v1", b"v2", b"v3"], 1):
        make_artifact(str(tmp_path / str(i)), payload=payload)
        result = mr.deploy(repo, {"kind": "path", "path": str(tmp_path / str(i))}, keep=2)
        assert result["version"] == i
    assert result["removed_versions"] == [1] and result["versions"] == [2, 3]
    assert repo.disk_versions() == [2, 3]
    # Back to an older artifact that is still kept: switch only, no copy.
    back = mr.deploy(repo, {"kind": "path", "path": str(tmp_path / "2")}, keep=2)
    assert back["changed"] and not back["installed"] and back["version"] == 2 and back["switched"]


def test_numbers_are_never_reused_after_a_rollback(repo, tmp_path):
    make_artifact(str(tmp_path / "a"), payload=b"a")
    make_artifact(str(tmp_path / "b"), payload=b"b")
    make_artifact(str(tmp_path / "c"), payload=b"c")
    mr.deploy(repo, {"kind": "path", "path": str(tmp_path / "a")})
    mr.deploy(repo, {"kind": "path", "path": str(tmp_path / "b")})
    mr.roll_back(repo, 2)
    assert mr.deploy(repo, {"kind": "path", "path": str(tmp_path / "c")})["version"] == 3


def test_check_mode_predicts_and_writes_nothing(repo, tmp_path):
    make_artifact(str(tmp_path / "a"))
    result = mr.deploy(repo, {"kind": "path", "path": str(tmp_path / "a")}, check_mode=True)
    assert result["changed"] and result["version"] == 1
    assert not os.path.exists(repo.root) or snapshot(repo.root) == {"det": "dir"}


def test_roll_back_serves_previous_deletes_rejected_and_is_idempotent(repo, tmp_path):
    make_artifact(str(tmp_path / "a"), payload=b"a")
    make_artifact(str(tmp_path / "b"), payload=b"b")
    mr.deploy(repo, {"kind": "path", "path": str(tmp_path / "a")})
    mr.deploy(repo, {"kind": "path", "path": str(tmp_path / "b")})
    result = mr.roll_back(repo, 2)
    assert result["changed"] and result["version"] == 1 and result["rejected_version"] == 2
    assert os.readlink(os.path.join(repo.model_dir, "current")) == "1"
    assert repo.disk_versions() == [1]
    assert not mr.roll_back(repo, 2)["changed"]
    with pytest.raises(FleetError, match="rejected as version 2"):
        mr.deploy(repo, {"kind": "path", "path": str(tmp_path / "b")})
    assert mr.deploy(repo, {"kind": "path", "path": str(tmp_path / "b")}, allow_rejected=True)["version"] == 3


def test_roll_back_of_the_only_version_leaves_nothing_served(tmp_path):
    repo = mr.ModelRepo(str(tmp_path / "repo"), "det", backend="triton")
    make_artifact(str(tmp_path / "a"))
    mr.deploy(repo, {"kind": "path", "path": str(tmp_path / "a")})
    assert os.path.exists(os.path.join(repo.model_dir, "config.pbtxt"))
    result = mr.roll_back(repo)
    assert result["version"] is None
    assert not os.path.lexists(os.path.join(repo.model_dir, "current"))
    assert not os.path.exists(os.path.join(repo.model_dir, "config.pbtxt"))


def test_ovms_config_keeps_other_models_and_pins_the_version(tmp_path):
    root = tmp_path / "repo"
    root.mkdir()
    other = {"config": {"name": "other", "base_path": "/models/other"}}
    (root / "config.json").write_text(json.dumps({"model_config_list": [other]}))
    repo = mr.ModelRepo(str(root), "det", backend="ovms")
    make_artifact(str(tmp_path / "a"), target="openvino", entrypoint="model.xml", extra={"model.bin": b"w"})
    mr.deploy(repo, {"kind": "path", "path": str(tmp_path / "a")}, target_device="GPU")
    doc = json.loads((root / "config.json").read_text())
    assert doc["model_config_list"][1] == other
    assert doc["model_config_list"][0]["config"] == {
        "name": "det", "base_path": "/models/det", "target_device": "GPU",
        "model_version_policy": {"specific": {"versions": [1]}}}
    assert not [n for n in os.listdir(str(root)) if n.endswith(".bak")]


def test_triton_config_names_backend_and_non_default_file(tmp_path):
    text = mr.render_triton_config("det", 4, {"target": "onnxruntime", "entrypoint": "det.onnx"})
    assert 'backend: "onnxruntime"' in text and 'default_model_filename: "det.onnx"' in text
    assert "version_policy: { specific: { versions: [4] } }" in text
    openvino = mr.render_triton_config("det", 1, {"target": "openvino", "entrypoint": "model.xml"})
    assert "default_model_filename" not in openvino
    with pytest.raises(FleetError, match="Triton cannot serve"):
        mr.render_triton_config("det", 1, {"target": "tflite", "entrypoint": "m"})


def test_failed_switch_is_undone(tmp_path, monkeypatch):
    repo = mr.ModelRepo(str(tmp_path / "repo"), "det", backend="ovms")
    make_artifact(str(tmp_path / "a"), payload=b"a")
    make_artifact(str(tmp_path / "b"), payload=b"b")
    mr.deploy(repo, {"kind": "path", "path": str(tmp_path / "a")})
    before = snapshot(repo.root)

    def broken_link(version):
        raise OSError("disk full")
    monkeypatch.setattr(repo, "_set_link", broken_link)
    with pytest.raises(FleetError, match="failed and was undone"):
        mr.deploy(repo, {"kind": "path", "path": str(tmp_path / "b")})
    monkeypatch.undo()
    assert snapshot(repo.root) == before


def test_corrupt_source_changes_nothing(repo, tmp_path):
    make_artifact(str(tmp_path / "a"), payload=b"a")
    mr.deploy(repo, {"kind": "path", "path": str(tmp_path / "a")})
    before = snapshot(repo.root)
    make_artifact(str(tmp_path / "b"), payload=b"b")
    (tmp_path / "b" / "model.onnx").write_bytes(b"bit rot")
    with pytest.raises(FleetError, match="sha256 mismatch"):
        mr.deploy(repo, {"kind": "path", "path": str(tmp_path / "b")})
    assert snapshot(repo.root) == before


def test_prune_plan_never_drops_current():
    state = {"current": 1, "versions": {"1": {}, "2": {}, "3": {}}}
    assert mr.ModelRepo.prune_plan(state, 2) == [2]
    assert mr.ModelRepo.prune_plan(state, 1) == [2, 3]


# ---- deploying by identity (the controller already knows the artifact) -------------------------------

def test_identity_of_a_kept_version_switches_without_an_artifact(repo, tmp_path):
    make_artifact(str(tmp_path / "a"), payload=b"one")
    first = mr.deploy(repo, {"kind": "path", "path": str(tmp_path / "a")})
    make_artifact(str(tmp_path / "b"), payload=b"two")
    mr.deploy(repo, {"kind": "path", "path": str(tmp_path / "b")})
    again = mr.deploy(repo, {"kind": "identity", "identity": first["identity"]})
    assert again["changed"] and again["switched"] and again["version"] == first["version"]
    assert not again["artifact_needed"] and not again["installed"]
    same = mr.deploy(repo, {"kind": "identity", "identity": first["identity"]})
    assert not same["changed"] and not same["artifact_needed"]


def test_unknown_identity_changes_nothing_and_asks_for_the_artifact(repo, tmp_path):
    make_artifact(str(tmp_path / "a"))
    mr.deploy(repo, {"kind": "path", "path": str(tmp_path / "a")})
    before = snapshot(repo.root)
    result = mr.deploy(repo, {"kind": "identity", "identity": "0" * 64})
    assert result["artifact_needed"] and not result["changed"] and snapshot(repo.root) == before


def test_rejected_identity_is_refused(repo, tmp_path):
    make_artifact(str(tmp_path / "a"), payload=b"one")
    mr.deploy(repo, {"kind": "path", "path": str(tmp_path / "a")})
    make_artifact(str(tmp_path / "b"), payload=b"two")
    bad = mr.deploy(repo, {"kind": "path", "path": str(tmp_path / "b")})
    mr.roll_back(repo, bad["version"])
    with pytest.raises(FleetError, match="rejected"):
        mr.deploy(repo, {"kind": "identity", "identity": bad["identity"]})
