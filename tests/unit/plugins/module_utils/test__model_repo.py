# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import tarfile
import time

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


# ---- issue 11: hostile documents, concurrent deploys, faults midway ----------------------------------

def _litter(repo):
    """Entries a finished deploy must not leave: staging directories, link temporaries, backups."""
    names = os.listdir(repo.model_dir) + (os.listdir(repo.root) if os.path.isdir(repo.root) else [])
    return [n for n in names if n.startswith((".incoming-", ".current.")) or ".edgeai.bak" in n]


def test_concurrent_deploys_are_serialised_by_the_model_lock(repo, tmp_path, monkeypatch):
    """Race: the pull timer and an AWX push deploy at once. Both read the bookkeeping before either wrote it,
    so before the fix both chose version 1 (one crashed) or one overwrote the other's record (an orphaned
    version). The lock makes the second wait; both succeed with distinct versions and no litter."""
    import threading
    make_artifact(str(tmp_path / "a"), payload=b"a")
    make_artifact(str(tmp_path / "b"), payload=b"b")
    install = mr.ModelRepo.install

    def slow_install(self, *args):
        time.sleep(0.3)  # widen the window between reading the bookkeeping and writing it
        return install(self, *args)
    monkeypatch.setattr(mr.ModelRepo, "install", slow_install)
    results, errors = [], []

    def run(path):
        try:
            results.append(mr.deploy(mr.ModelRepo(repo.root, "det"), {"kind": "path", "path": path}, keep=5))
        except Exception as exc:  # the test reports any failure of either deploy
            errors.append(exc)
    threads = [threading.Thread(target=run, args=(str(tmp_path / n),)) for n in "ab"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert sorted(r["version"] for r in results) == [1, 2]
    state = repo.read_state()
    assert sorted(state["versions"]) == ["1", "2"] and repo.disk_versions() == [1, 2]
    assert _litter(repo) == []


def test_lock_held_elsewhere_fails_with_a_clear_message_and_changes_nothing(repo, tmp_path):
    """Fault: another deploy holds the model's lock for longer than lock_timeout."""
    make_artifact(str(tmp_path / "a"))
    os.makedirs(repo.model_dir)
    before = snapshot(repo.root)
    impatient = mr.ModelRepo(repo.root, "det", lock_timeout=0)
    with mr.hold_lock(os.path.join(repo.model_dir, mr.LOCK_FILE), 1, "det"):
        with pytest.raises(FleetError, match=r"\(pid %d\) still held .* lock_timeout=0 s" % os.getpid()):
            mr.deploy(impatient, {"kind": "path", "path": str(tmp_path / "a")})
    after = snapshot(repo.root)
    after.pop(os.path.join("det", mr.LOCK_FILE))
    assert after == before


def test_symlinked_lock_file_is_refused(repo, tmp_path):
    """Attack: a lock file planted as a symlink to a file elsewhere (O_NOFOLLOW)."""
    make_artifact(str(tmp_path / "a"))
    os.makedirs(repo.model_dir)
    (tmp_path / "elsewhere").write_text("keep")
    os.symlink(str(tmp_path / "elsewhere"), os.path.join(repo.model_dir, mr.LOCK_FILE))
    with pytest.raises(FleetError, match="Cannot open the lock file"):
        mr.deploy(repo, {"kind": "path", "path": str(tmp_path / "a")})
    assert (tmp_path / "elsewhere").read_text() == "keep"


def test_stale_staging_from_a_killed_deploy_is_cleaned(repo, tmp_path):
    """Fault: a deploy killed mid-download left .incoming-* and a link temporary; the next deploy removes them."""
    make_artifact(str(tmp_path / "a"))
    os.makedirs(os.path.join(repo.model_dir, ".incoming-dead", "tree"))
    os.symlink("1", os.path.join(repo.model_dir, ".current.999.tmp"))
    mr.deploy(repo, {"kind": "path", "path": str(tmp_path / "a")})
    assert _litter(repo) == []


def test_malformed_ovms_config_is_refused_before_anything_is_installed(tmp_path):
    """Malformed document: OVMS config.json that is a list (before: AttributeError escaped and the freshly
    installed version directory stayed behind, orphaned)."""
    root = tmp_path / "repo"
    root.mkdir()
    (root / "config.json").write_text("[1, 2]")
    repo = mr.ModelRepo(str(root), "det", backend="ovms")
    make_artifact(str(tmp_path / "a"), target="openvino", entrypoint="model.xml", extra={"model.bin": b"w"})
    with pytest.raises(FleetError, match=r"config.json: the document must be a JSON object"):
        mr.deploy(repo, {"kind": "path", "path": str(tmp_path / "a")})
    assert repo.disk_versions() == [] and _litter(repo) == []
    assert not os.path.exists(repo.state_path)


@pytest.mark.parametrize("doc, field", [
    ({"model_config_list": {"a": 1}}, "model_config_list"),
    ({"model_config_list": ["x"]}, r"model_config_list\[0\]"),
    ({"model_config_list": [{"config": 5}]}, r"model_config_list\[0\]"),
])
def test_ovms_config_of_the_wrong_shape_names_the_field(doc, field):
    """Malformed document: OVMS config.json fields of the wrong type."""
    with pytest.raises(FleetError, match="config.json: %s must be" % field):
        mr.render_ovms_config(json.dumps(doc), "det", 1, "/models/det", "CPU")


def test_pbtxt_injection_through_the_entrypoint_is_refused(tmp_path):
    """Attack: a manifest whose entrypoint closes the pbtxt string and selects another Triton backend
    (the python backend runs code). Before the fix it was written into config.pbtxt verbatim."""
    repo = mr.ModelRepo(str(tmp_path / "repo"), "det", backend="triton")
    evil = 'm.onnx"\nbackend: "python'
    make_artifact(str(tmp_path / "a"), entrypoint=evil)
    with pytest.raises(FleetError, match="cannot be written into config.pbtxt"):
        mr.deploy(repo, {"kind": "path", "path": str(tmp_path / "a")})
    assert repo.disk_versions() == [] and not os.path.exists(os.path.join(repo.model_dir, "config.pbtxt"))


def test_failed_switch_removes_the_new_version_and_leaves_no_litter(tmp_path, monkeypatch):
    """Fault midway: the new version is installed, then writing the bookkeeping fails (ENOSPC). The old
    version stays current, the new version directory is removed, and no backup or temporary is left."""
    import errno
    repo = mr.ModelRepo(str(tmp_path / "repo"), "det", backend="ovms")
    make_artifact(str(tmp_path / "a"), payload=b"a", target="openvino", entrypoint="model.xml")
    make_artifact(str(tmp_path / "b"), payload=b"b", target="openvino", entrypoint="model.xml")
    mr.deploy(repo, {"kind": "path", "path": str(tmp_path / "a")})
    before = snapshot(repo.root)
    real = mr.atomic_write

    def full_disk(path, *args, **kwargs):
        if path == repo.state_path:
            raise FleetError("Cannot write %s: %s" % (path, os.strerror(errno.ENOSPC)))
        return real(path, *args, **kwargs)
    monkeypatch.setattr(mr, "atomic_write", full_disk)
    with pytest.raises(FleetError, match="failed and was undone"):
        mr.deploy(repo, {"kind": "path", "path": str(tmp_path / "b")})
    assert snapshot(repo.root) == before and _litter(repo) == []


def test_kept_version_modified_on_disk_is_not_served_again(repo, tmp_path):
    """Fault/attack: a kept version's model file changed after install. Before the fix a deploy by
    identity or a rollback switched to it unchecked; now it is refused and the served version stays."""
    make_artifact(str(tmp_path / "a"), payload=b"one")
    first = mr.deploy(repo, {"kind": "path", "path": str(tmp_path / "a")})
    make_artifact(str(tmp_path / "b"), payload=b"two")
    mr.deploy(repo, {"kind": "path", "path": str(tmp_path / "b")})
    with open(os.path.join(repo.version_dir(1), "model.onnx"), "wb") as handle:
        handle.write(b"tampered")
    before = snapshot(repo.root)
    with pytest.raises(FleetError, match="Kept version 1 of det was modified"):
        mr.deploy(repo, {"kind": "identity", "identity": first["identity"]})
    with pytest.raises(FleetError, match="Kept version 1 of det was modified"):
        mr.roll_back(repo, 2)
    assert snapshot(repo.root) == before


def test_kept_version_with_a_swapped_manifest_is_not_served_again(repo, tmp_path):
    """Attack: a kept version's files and manifest.json were replaced consistently by another artifact;
    the sha256s match the new manifest, but its identity is not the one recorded."""
    make_artifact(str(tmp_path / "a"), payload=b"one")
    first = mr.deploy(repo, {"kind": "path", "path": str(tmp_path / "a")})
    make_artifact(str(tmp_path / "b"), payload=b"two")
    mr.deploy(repo, {"kind": "path", "path": str(tmp_path / "b")})
    make_artifact(repo.version_dir(1), payload=b"other")
    with pytest.raises(FleetError, match="holds a different artifact"):
        mr.deploy(repo, {"kind": "identity", "identity": first["identity"]})


@pytest.mark.parametrize("content, field", [
    (b"[1, 2]", "the document"),
    (b'{"current": "1", "history": [], "versions": {}, "rejected": []}', "current"),
    (b'{"current": null, "history": {}, "versions": {}, "rejected": []}', "history"),
    (b'{"current": null, "history": [], "versions": [], "rejected": []}', "versions"),
    (b'{"current": null, "history": [], "versions": {"x": {}}, "rejected": []}', "versions key 'x'"),
    (b'{"current": null, "history": [], "versions": {"1": 5}, "rejected": []}', r"versions\[1\]"),
    (b'{"current": null, "history": [], "versions": {"1": {"identity": 5}}, "rejected": []}',
     r"versions\[1\].identity"),
    (b'{"current": null, "history": [], "versions": {}, "rejected": ["x"]}', r"rejected\[0\]"),
    (b'{"current": true, "history": [], "versions": {}, "rejected": []}', "current"),
])
def test_malformed_bookkeeping_names_the_file_and_field(repo, tmp_path, content, field):
    """Malformed document: .edgeai-model.json of the wrong shape (before: TypeError/AttributeError/KeyError)."""
    make_artifact(str(tmp_path / "a"))
    os.makedirs(repo.model_dir)
    with open(repo.state_path, "wb") as handle:
        handle.write(content)
    before = snapshot(repo.root)
    for call in (lambda: mr.deploy(repo, {"kind": "path", "path": str(tmp_path / "a")}),
                 lambda: mr.roll_back(repo)):
        with pytest.raises(FleetError, match="%s: %s must be" % (re.escape(repo.state_path), field)):
            call()
    after = snapshot(repo.root)
    after.pop(os.path.join("det", mr.LOCK_FILE), None)
    assert after == before


def test_non_utf8_bookkeeping_is_a_fleet_error(repo, tmp_path):
    """Malformed document: bookkeeping that is not UTF-8."""
    make_artifact(str(tmp_path / "a"))
    os.makedirs(repo.model_dir)
    with open(repo.state_path, "wb") as handle:
        handle.write(b"\xff\xfe{")
    with pytest.raises(FleetError, match=re.escape(repo.state_path)):
        mr.deploy(repo, {"kind": "path", "path": str(tmp_path / "a")})


def test_stray_entries_are_not_versions_and_block_their_number(repo, tmp_path):
    """Malformed repository: stray names ('²' passed isdigit() and made int() raise; a 200-digit name is no
    version) and a regular file named like the next version (install then failed on it)."""
    os.makedirs(repo.model_dir)
    for name in ("\u00b2", "\u0661", "0", "007", "1" * 200, "tmp"):
        os.makedirs(os.path.join(repo.model_dir, name))
    with open(os.path.join(repo.model_dir, "1"), "w") as handle:
        handle.write("not a version")
    assert repo.disk_versions() == []
    make_artifact(str(tmp_path / "a"))
    assert mr.deploy(repo, {"kind": "path", "path": str(tmp_path / "a")})["version"] == 2


def test_unwritable_repository_is_a_fleet_error(tmp_path, monkeypatch):
    """Fault: the repository is read-only (simulated, since the tests may run as root, where a 0555
    directory is still writable: mkdtemp raises EROFS as the kernel would) or is a file."""
    import errno
    make_artifact(str(tmp_path / "a"))
    (tmp_path / "file").write_text("x")
    with pytest.raises(FleetError, match="read-only"):
        mr.deploy(mr.ModelRepo(str(tmp_path / "file"), "det"), {"kind": "path", "path": str(tmp_path / "a")})
    repo = mr.ModelRepo(str(tmp_path / "repo"), "det")

    def erofs(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))
    monkeypatch.setattr(mr.tempfile, "mkdtemp", erofs)
    with pytest.raises(FleetError, match="Cannot create a staging directory"):
        repo.staging_dir()


@pytest.mark.parametrize("field, value", [("entrypoint", ["model.onnx"]), ("golden", {"a": 1}),
                                          ("device", 5), ("name", None)])
def test_manifest_with_wrong_types_is_a_fleet_error(tmp_path, field, value):
    """Malformed document: manifest.json fields of the wrong type (before: TypeError, unhashable list)."""
    man = make_artifact(str(tmp_path / "a"))
    man[field] = value
    (tmp_path / "a" / "manifest.json").write_text(json.dumps(man))
    with pytest.raises(FleetError, match="%s must be a string" % field):
        mr.load_manifest(str(tmp_path / "a"))


def test_bookkeeping_never_stores_url_credentials(repo, tmp_path):
    """Secret leak: a URL with user:password@ and a signed query was stored whole in the 0644 bookkeeping."""
    make_artifact(str(tmp_path / "a"))
    blob = tar_artifact(str(tmp_path / "a"))

    class Response(io.BytesIO):
        headers = {"Content-Length": str(len(blob))}
    url = "https://bob:hunter2@models.example/det.tar.gz?X-Amz-Signature=abcdef&sig=s1g#tok"
    result = mr.deploy(repo, {"kind": "url", "url": url, "sha256": hashlib.sha256(blob).hexdigest(),
                              "opener": lambda u, t: Response(blob)})
    assert result["installed"]
    with open(repo.state_path) as handle:
        text = handle.read()
    for secret in ("hunter2", "bob", "abcdef", "s1g", "tok", "X-Amz"):
        assert secret not in text
    assert "https://models.example/det.tar.gz" in text


def test_credentials_recorded_by_an_older_release_are_scrubbed(repo, tmp_path):
    """Secret leak: bookkeeping written before the fix still holds a URL with a password; the next run rewrites it."""
    make_artifact(str(tmp_path / "a"))
    mr.deploy(repo, {"kind": "path", "path": str(tmp_path / "a")})
    state = json.loads(open(repo.state_path).read())
    state["versions"]["1"]["source"] = {"type": "url", "ref": "https://u:pw@h/x.tar?token=t"}
    with open(repo.state_path, "w") as handle:
        json.dump(state, handle)
    result = mr.deploy(repo, {"kind": "path", "path": str(tmp_path / "a")})
    assert result["changed"] and result["version"] == 1
    text = open(repo.state_path).read()
    assert "pw" not in text and "token" not in text and "https://h/x.tar" in text
    assert not mr.deploy(repo, {"kind": "path", "path": str(tmp_path / "a")})["changed"]
