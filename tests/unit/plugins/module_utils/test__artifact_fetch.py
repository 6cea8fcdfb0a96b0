# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Attack tables for the controller side of sharing a device-compiled artifact (issue 11, hole 1).

The attacker is a compromised compile leader: it controls its manifest.json, its file listing and the bytes it sends.
The old role looped ansible.builtin.fetch over manifest.files.keys(), so a key such as
``../../roles/model_serving/files/x`` wrote anywhere the controller user can write.
"""

from __future__ import annotations

import hashlib
import json
import os

import pytest

from ansible_collections.edgeai.fleet.plugins.module_utils import _artifact_fetch as af
from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError
from ansible_collections.edgeai.fleet.tests.unit.plugins.module_utils.test__model_repo import make_artifact

SRC = "leader:/var/lib/edgeai/artifacts/det/manifest.json"


def manifest_bytes(tmp_path, **changes):
    doc = make_artifact(str(tmp_path / "device"))
    doc.update(changes)
    return json.dumps(doc).encode()


def with_files(tmp_path, files):
    doc = make_artifact(str(tmp_path / "device"))
    doc["files"] = dict(files)
    return json.dumps(doc).encode()


DIGEST = "a" * 64

# Every row is a files key a hostile leader could send; each would place a file outside the staging directory,
# replace a file the controller relies on, or make the paths ambiguous.
HOSTILE_PATHS = [
    ("../../roles/model_serving/files/x", "'..'"),
    ("..", "'..'"),
    ("a/../../b", "'..'"),
    ("a/..", "'..'"),
    ("/etc/cron.d/x", "absolute"),
    ("//etc/passwd", "absolute"),
    ("./model.onnx", "'.'"),
    ("a//b", "empty"),
    ("a/", "empty"),
    ("", "non-empty"),
    ("a\x00b", "control"),
    ("a\nb", "control"),
    ("model\u202egnp.onnx", "format"),
    ("..\\..\\x", "backslash"),
    ("x" * 256, "255 bytes"),
    ("/".join(["d"] * 600), "1024 characters"),
    ("\udcff", "UTF-8"),
    ("manifest.json", "manifest itself"),
]


@pytest.mark.parametrize("rel, why", HOSTILE_PATHS)
def test_hostile_relative_paths_are_refused(rel, why):
    """Path traversal and odd names in manifest.files: refused before anything is fetched."""
    with pytest.raises(FleetError, match="files entry .* is refused: .*" + why.replace("'", "'")):
        af.check_relpath(rel, SRC)


@pytest.mark.parametrize("rel", ["model.onnx", "1/model.plan", "openvino/model.xml", "weights data.bin"])
def test_ordinary_relative_paths_pass(rel):
    assert af.check_relpath(rel, SRC) == rel


@pytest.mark.parametrize("rel, _why", HOSTILE_PATHS[:-3])
def test_a_hostile_key_fails_the_whole_manifest(tmp_path, rel, _why):
    """The same keys inside a manifest that is otherwise valid: the error names the file and the entry."""
    data = with_files(tmp_path, {"model.onnx": DIGEST, "golden.json": DIGEST, rel: DIGEST})
    with pytest.raises(FleetError, match=r"leader:.*manifest\.json: files entry"):
        af.parse_manifest(data, SRC, "det")


@pytest.mark.parametrize("data, match", [
    (b"x" * (af.MAX_MANIFEST_BYTES + 1), "more than"),
    (b"\xff\xfe", "not UTF-8 JSON"),
    (b"{", "not UTF-8 JSON"),
    (b"[" * 100000 + b"]" * 100000, "not UTF-8 JSON"),
    (b"[]", "not a JSON object"),
    (b'{"files": ["model.onnx"]}', "'files' must map"),
    (b'{"files": {}}', "'files' must map"),
    (b'{"files": {"model.onnx": 5}}', "64 lowercase hex"),
    (b'{"files": {"model.onnx": "' + b"A" * 64 + b'"}}', "64 lowercase hex"),
])
def test_malformed_manifests_are_refused(data, match):
    """Huge, non-UTF-8, non-JSON, deeply nested and wrongly typed manifests: FleetError naming the file."""
    with pytest.raises(FleetError, match=match) as err:
        af.parse_manifest(data, SRC, "det")
    assert SRC in err.value.msg


def test_too_many_files_are_refused(tmp_path):
    data = with_files(tmp_path, {"f%d" % i: DIGEST for i in range(af.MAX_FILES + 1)})
    with pytest.raises(FleetError, match="more than 1000"):
        af.parse_manifest(data, SRC, "det")


def test_a_file_that_is_also_a_directory_is_refused(tmp_path):
    data = with_files(tmp_path, {"model.onnx": DIGEST, "golden.json": DIGEST, "model.onnx/x": DIGEST})
    with pytest.raises(FleetError, match="also the directory"):
        af.parse_manifest(data, SRC, "det")


@pytest.mark.parametrize("changes, match", [
    ({"entrypoint": ["model.onnx"]}, "'entrypoint' must be a string"),
    ({"golden": {"a": 1}}, "'golden' must be a string"),
    ({"entrypoint": "other.onnx"}, "not listed in files"),
    ({"schema": "evil/v9"}, "schema is"),
    ({"name": "other"}, "manifest of model 'other'"),
])
def test_manifest_schema_and_model_name_are_checked(tmp_path, changes, match):
    with pytest.raises(FleetError, match=match):
        af.parse_manifest(manifest_bytes(tmp_path, **changes), SRC, "det")


@pytest.mark.parametrize("changes", [{"target": "x" * 900000}, {"name": "x" * 900000}])
def test_errors_quote_device_values_briefly(tmp_path, changes):
    """A 900 kB string where a short field belongs: the error names it without echoing it whole."""
    with pytest.raises(FleetError) as err:
        af.parse_manifest(manifest_bytes(tmp_path, **changes), SRC, "det")
    assert len(err.value.msg) < 1000 and "characters)" in err.value.msg


def test_a_valid_manifest_parses(tmp_path):
    doc = af.parse_manifest(manifest_bytes(tmp_path), SRC, "det")
    assert sorted(doc["files"]) == ["golden.json", "model.onnx"]


def listing_for(doc, **overrides):
    listing = {rel: {"isreg": True, "islnk": False, "size": 10} for rel in doc["files"]}
    listing.update(overrides)
    return listing


@pytest.mark.parametrize("entry, match", [
    (None, "missing on the device"),
    ({"isreg": False, "islnk": True, "size": 10}, "symlink"),
    ({"isreg": False, "islnk": False, "size": 0}, "not a regular file"),
    ({"isreg": True, "islnk": False, "size": "10"}, "reported size"),
    ({"isreg": True, "islnk": False, "size": -1}, "reported size"),
    ({"isreg": True, "islnk": False, "size": 10 ** 30}, "larger than"),
])
def test_the_device_listing_is_checked_before_fetching(tmp_path, entry, match):
    """A listed file that is missing, a symlink (e.g. to /etc/shadow on the device) or absurdly large."""
    doc = json.loads(manifest_bytes(tmp_path))
    with pytest.raises(FleetError, match=match):
        af.check_listing(doc, listing_for(doc, **{"model.onnx": entry}), SRC, 1 << 30)


@pytest.mark.parametrize("entry, match", [
    (None, "missing"),
    ({"isreg": True, "islnk": True, "size": 10}, "symlink"),
    ({"isreg": True, "islnk": False, "size": af.MAX_MANIFEST_BYTES + 1}, "at most"),
])
def test_the_manifest_entry_is_checked_before_reading(entry, match):
    with pytest.raises(FleetError, match=match):
        af.check_manifest_entry(entry, SRC)


def staged_copy(tmp_path):
    """A staging directory as the action plugin leaves it after fetching an honest artifact."""
    device = tmp_path / "device"
    data = manifest_bytes(tmp_path)
    doc = json.loads(data)
    staged = tmp_path / "cache" / "cls" / ".incoming-x"
    staged.mkdir(parents=True)
    for rel in list(doc["files"]) + ["manifest.json"]:
        (staged / rel).write_bytes((device / rel).read_bytes())
    return staged, doc, data


def test_an_honest_staged_tree_verifies(tmp_path):
    staged, doc, data = staged_copy(tmp_path)
    af.verify_tree(str(staged), doc, data, 1 << 30)


@pytest.mark.parametrize("fault, match", [
    ("wrong_sha", "sha256 mismatch for model.onnx"),
    ("missing", "model.onnx listed in manifest.json was not fetched"),
    ("extra", "extra.bin in the fetched artifact is not listed"),
    ("symlink", "golden.json in the fetched artifact is a symlink"),
    ("dir_symlink", "sub in the fetched artifact is a symlink"),
    ("manifest", "differs from the manifest that was checked"),
    ("too_big", "larger than the 10 bytes"),
])
def test_a_staged_tree_that_differs_from_the_manifest_is_refused(tmp_path, fault, match):
    """Bytes that do not match the checked manifest never reach the cache: wrong sha256, missing or extra files,
    symlinks (a file or a directory), a swapped manifest, more bytes than allowed."""
    staged, doc, data = staged_copy(tmp_path)
    limit = 1 << 30
    if fault == "wrong_sha":
        (staged / "model.onnx").write_bytes(b"evil")
    elif fault == "missing":
        (staged / "model.onnx").unlink()
    elif fault == "extra":
        (staged / "extra.bin").write_bytes(b"x")
    elif fault == "symlink":
        (staged / "golden.json").unlink()
        (staged / "golden.json").symlink_to("/etc/passwd")
    elif fault == "dir_symlink":
        (staged / "sub").symlink_to("/etc")
    elif fault == "manifest":
        (staged / "manifest.json").write_bytes(data + b" ")
    else:
        limit = 10
    with pytest.raises(FleetError, match=match):
        af.verify_tree(str(staged), doc, data, limit)


@pytest.mark.parametrize("hardware_class, name", [
    ("..", "det"), ("../../etc", "det"), ("a/b", "det"), (".incoming-x", "det"), ("", "det"), ("-x", "det"),
    ("cls", ".."), ("cls", "a/../../b"), ("cls", "/abs"), ("cls", "x" * 129), ("cls", "d\x00"), (5, "det"),
])
def test_the_cache_directory_takes_only_plain_components(hardware_class, name):
    """A device's facts that reached the class or the name cannot steer the cache path."""
    with pytest.raises(FleetError, match="cannot name a directory"):
        af.cache_dir("/srv/cache", hardware_class, name)


def test_the_cache_directory_needs_an_absolute_root():
    with pytest.raises(FleetError, match="absolute"):
        af.cache_dir("cache", "cls", "det")
    assert af.cache_dir("/srv/cache/", "0a1b2c3d4e5f", "det") == "/srv/cache/0a1b2c3d4e5f/det"


def test_safe_join_refuses_a_symlinked_parent(tmp_path):
    """Belt and braces: even a checked path is refused when a symlink inside the staging directory leads out."""
    (tmp_path / "staged").mkdir()
    (tmp_path / "staged" / "sub").symlink_to(tmp_path)
    with pytest.raises(FleetError, match="would leave"):
        af.safe_join(str(tmp_path / "staged"), "sub/x")
    assert af.safe_join(str(tmp_path / "staged"), "a/b") == str(tmp_path / "staged" / "a" / "b")


def test_promote_replaces_the_previous_tree_and_leaves_no_litter(tmp_path):
    staged, doc, data = staged_copy(tmp_path)
    dest = tmp_path / "cache" / "cls" / "det"
    dest.mkdir()
    (dest / "stale").write_bytes(b"old")
    af.promote(str(staged), str(dest))
    assert sorted(os.listdir(dest)) == ["golden.json", "manifest.json", "model.onnx"]
    assert os.listdir(dest.parent) == ["det"]
    assert af.cache_matches(str(dest), doc, data, 1 << 30)


def test_promote_refuses_a_symlinked_cache_directory(tmp_path):
    staged, _doc, _data = staged_copy(tmp_path)
    (tmp_path / "elsewhere").mkdir()
    dest = tmp_path / "cache" / "cls" / "det"
    dest.symlink_to(tmp_path / "elsewhere")
    with pytest.raises(FleetError, match="symlink"):
        af.promote(str(staged), str(dest))
    assert os.listdir(tmp_path / "elsewhere") == []


def test_promote_keeps_the_previous_tree_when_the_rename_fails(tmp_path, monkeypatch):
    """Fault: the final rename fails (e.g. EXDEV, EACCES); the previous cache tree is put back."""
    staged, _doc, _data = staged_copy(tmp_path)
    dest = tmp_path / "cache" / "cls" / "det"
    dest.mkdir()
    (dest / "model.onnx").write_bytes(b"previous")
    real_rename = os.rename

    def rename(src, dst):
        if src == str(staged):
            raise OSError(18, "Invalid cross-device link")
        real_rename(src, dst)

    monkeypatch.setattr(os, "rename", rename)
    with pytest.raises(FleetError, match="Cannot move the fetched artifact"):
        af.promote(str(staged), str(dest))
    assert (dest / "model.onnx").read_bytes() == b"previous"
    assert sorted(os.listdir(dest.parent)) == [".incoming-x", "det"]


def test_cache_matches_is_false_for_a_tampered_cache(tmp_path):
    staged, doc, data = staged_copy(tmp_path)
    assert af.cache_matches(str(staged), doc, data, 1 << 30)
    (staged / "model.onnx").write_bytes(b"tampered")
    assert not af.cache_matches(str(staged), doc, data, 1 << 30)
    assert not af.cache_matches(str(tmp_path / "absent"), doc, data, 1 << 30)


def test_identity_is_what_the_manifest_promises(tmp_path):
    """The sha256 in the manifest is the identity; a staged file is accepted only with exactly those bytes."""
    staged, doc, _data = staged_copy(tmp_path)
    assert doc["files"]["model.onnx"] == hashlib.sha256((staged / "model.onnx").read_bytes()).hexdigest()
