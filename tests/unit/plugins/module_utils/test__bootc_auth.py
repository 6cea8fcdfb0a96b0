# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""auth.json handling: merge, mode 0600, restore, and diffs that never show credentials."""

from __future__ import annotations

import json

import pytest

from ansible_collections.edgeai.fleet.plugins.module_utils import _bootc_auth
from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError

CREDS = {"username": "robot", "password": "s3cret"}


@pytest.fixture
def root(tmp_path, monkeypatch):
    monkeypatch.setattr(_bootc_auth, "FS_ROOT", str(tmp_path))
    return tmp_path


def test_new_file_is_0600_and_restore_removes_it(root):
    auth = _bootc_auth.AuthFile("/etc/ostree/auth.json")
    auth.prepare(CREDS, "registry.local:5000/edge/os:1")
    assert auth.pending and auth.registry == "registry.local:5000"
    auth.write()
    path = root / "etc" / "ostree" / "auth.json"
    assert path.stat().st_mode & 0o777 == 0o600
    assert json.loads(path.read_text()) == {"auths": {"registry.local:5000": {"auth": "cm9ib3Q6czNjcmV0"}}}
    auth.restore()
    assert not path.exists()


def test_merge_keeps_other_registries_and_restore_is_exact(root):
    path = root / "run" / "ostree" / "auth.json"
    path.parent.mkdir(parents=True)
    original = '{"auths": {"quay.io": {"auth": "b2xkOm9sZA=="}}}'
    path.write_text(original)
    path.chmod(0o644)
    auth = _bootc_auth.AuthFile("/run/ostree/auth.json")
    auth.prepare(dict(CREDS, registry="ghcr.io"), "quay.io/x/y:1")
    auth.write()
    assert set(json.loads(path.read_text())["auths"]) == {"quay.io", "ghcr.io"}
    assert path.stat().st_mode & 0o777 == 0o600
    diff = auth.diff()
    assert "s3cret" not in json.dumps(diff) and "cm9ib3Q6czNjcmV0" not in json.dumps(diff) and "b2xk" not in json.dumps(diff)
    auth.restore()
    assert path.read_text() == original and path.stat().st_mode & 0o777 == 0o644


def test_same_credentials_are_not_rewritten(root):
    first = _bootc_auth.AuthFile("/run/ostree/auth.json")
    first.prepare(CREDS, "quay.io/x/y:1")
    first.write()
    second = _bootc_auth.AuthFile("/run/ostree/auth.json")
    second.prepare(CREDS, "quay.io/x/y:1")
    assert second.pending is False


@pytest.mark.parametrize("content, fragment", [("{not json", "not valid JSON"), ('{"auths": []}', "auths")])
def test_broken_existing_file(root, content, fragment):
    path = root / "run" / "ostree" / "auth.json"
    path.parent.mkdir(parents=True)
    path.write_text(content)
    with pytest.raises(FleetError, match=fragment):
        _bootc_auth.AuthFile("/run/ostree/auth.json").prepare(CREDS, "quay.io/x/y")


def test_refuses_other_paths_and_missing_fields():
    with pytest.raises(FleetError, match="not a file bootc reads"):
        _bootc_auth.AuthFile("/root/.config/containers/auth.json")
    with pytest.raises(FleetError, match="username and password"):
        _bootc_auth.AuthFile("/run/ostree/auth.json").prepare({"username": "x"}, "quay.io/x")
    with pytest.raises(FleetError, match="auth.registry is required"):
        _bootc_auth.AuthFile("/run/ostree/auth.json").prepare(CREDS, None)
