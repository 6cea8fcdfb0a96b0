# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""nvidia_runtime against secrets in the configs it copies and against malformed documents (issue 11).

Real files in a temporary directory; the configs follow containerd's and CRI-O's documented layouts
(registry credentials in ``plugins."io.containerd.grpc.v1.cri".registry.configs.<host>.auth``).
"""

from __future__ import annotations

import json
import os
import stat

import pytest

from ansible_collections.edgeai.fleet.plugins.module_utils import _nvidia_runtime as core
from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError
from ansible_collections.edgeai.fleet.tests.unit.plugins.module_utils.test__nvidia_runtime import params

SECRETS = ("s3cr3t-pass", "cm9ib3Q6czNjcmV0", "eyJhbGciOi-identity", "Bearer t0ken-value", "robot-user")

CONTAINERD_WITH_AUTH = '''version = 2

[plugins."io.containerd.grpc.v1.cri".containerd]
  default_runtime_name = "runc"

  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
    runtime_type = "io.containerd.runc.v2"

[plugins."io.containerd.grpc.v1.cri".registry.configs."registry.example.com".auth]
  username = "robot-user"
  password = "s3cr3t-pass"
  auth = "cm9ib3Q6czNjcmV0"
  identitytoken = "eyJhbGciOi-identity"

[plugins."io.containerd.grpc.v1.cri".registry.headers]
  Authorization = ["Bearer t0ken-value"]
'''


def write(path, text, mode=0o644):
    os.makedirs(os.path.dirname(str(path)), exist_ok=True)
    with open(str(path), "wb") as handle:
        handle.write(text.encode("utf-8") if isinstance(text, str) else text)
    os.chmod(str(path), mode)


def mode_of(path):
    return stat.S_IMODE(os.stat(str(path)).st_mode)


def snapshot(tmp_path):
    return {str(p): (p.read_bytes(), mode_of(p)) for p in tmp_path.rglob("*") if p.is_file()}


def drop_path(p):
    return os.path.join(p["drop_in_dir"], core.DROP_IN_FILES[p["runtime"]])


# ---- secrets: modes, diffs, results -------------------------------------------------------------

def test_containerd_drop_in_with_credentials_is_0600_and_diff_is_redacted(tmp_path):
    """Attack: a 0600 config.toml holds registry credentials; before the fix the copied CRI section landed in a
    0644 drop-in (readable by every local user) and in --diff output. Now the drop-in is 0600 and neither the
    diff nor any other result key carries a credential."""
    p = params(tmp_path)
    write(p["config_path"], CONTAINERD_WITH_AUTH, mode=0o600)
    result = core.run(p)
    assert result["changed"]
    assert mode_of(drop_path(p)) == 0o600
    assert "s3cr3t-pass" in open(drop_path(p)).read()   # containerd still gets its credentials
    text = json.dumps(result)
    assert not [s for s in SECRETS if s in text], text
    assert "<redacted>" in result["diff"][0]["after"] and "registry.example.com" in result["diff"][0]["after"]
    backup = result["backups"][p["config_path"]]
    assert mode_of(backup) == 0o600
    again = core.run(p)
    assert again["changed"] is False


def test_check_mode_diff_is_redacted_too(tmp_path):
    """Attack: --check --diff printed the credentials without writing anything."""
    p = params(tmp_path)
    write(p["config_path"], CONTAINERD_WITH_AUTH, mode=0o600)
    result = core.run(p, check_mode=True)
    assert result["changed"] and not [s for s in SECRETS if s in json.dumps(result)]


def test_drop_in_never_wider_than_its_source(tmp_path):
    """Secret exposure without credential keys: a 0640 config (group-readable only) must not be copied into a
    world-readable drop-in."""
    p = params(tmp_path)
    write(p["config_path"], 'version = 2\n[plugins."io.containerd.grpc.v1.cri"]\n  sandbox_image = "x"\n', mode=0o640)
    core.run(p)
    assert mode_of(drop_path(p)) == 0o640


def test_a_world_readable_drop_in_from_an_older_release_is_narrowed(tmp_path):
    """Attack: an earlier run left the credential-carrying drop-in at 0644. Same content, wrong mode: the
    module must report a change and narrow it, then be idempotent."""
    p = params(tmp_path)
    write(p["config_path"], CONTAINERD_WITH_AUTH, mode=0o600)
    core.run(p)
    os.chmod(drop_path(p), 0o644)
    result = core.run(p)
    assert result["changed"] and result["files"] == [drop_path(p)]
    assert mode_of(drop_path(p)) == 0o600
    assert core.run(p)["changed"] is False


def test_crio_drop_in_inherits_the_narrowest_source_mode(tmp_path):
    p = params(tmp_path, runtime="crio")
    write(p["config_path"], '[crio.runtime.runtimes.runc]\nruntime_path = "/usr/bin/runc"\n', mode=0o644)
    write(os.path.join(p["drop_in_dir"], "10-auth.conf"), '[crio.runtime.runtimes.runc]\nmonitor_path = "/m"\n',
          mode=0o600)
    core.run(p)
    assert mode_of(drop_path(p)) == 0o600


def test_failed_write_rolls_back_and_leaves_no_backup(tmp_path):
    """Fault: the main config's write fails after the drop-in was written; the drop-in is removed again and no
    backup stays behind as litter (before the fix the main config's ``*.edgeai.bak`` copy was left)."""
    p = params(tmp_path)
    write(p["config_path"], 'version = 2\n[plugins."io.containerd.grpc.v1.cri"]\n  sandbox_image = "x"\n')
    before = snapshot(tmp_path)

    def atomic_move(src, dest):
        if dest == p["config_path"]:
            raise OSError(28, "No space left on device")
        os.replace(src, dest)

    with pytest.raises(FleetError, match="No space left"):
        core.run(p, atomic_move=atomic_move)
    assert snapshot(tmp_path) == before


# ---- malformed documents: a FleetError naming the file and key ------------------------------------

V2 = '[plugins."io.containerd.grpc.v1.cri"]'
CONTAINERD_CASES = [
    ("version = [2]\n", "version"),
    ("version = 2\nplugins = 5\n", "`plugins`"),
    ('version = 2\nplugins = "x"\n', "`plugins`"),
    ('version = 2\n[plugins]\n"io.containerd.grpc.v1.cri" = [1]\n', '`plugins."io.containerd.grpc.v1.cri"`'),
    ("version = 2\n%s\ncontainerd = 5\n" % V2, '`plugins."io.containerd.grpc.v1.cri".containerd`'),
    ("version = 2\n%s\ncontainerd = {runtimes = [1, 2]}\n" % V2, "containerd.runtimes`"),
    ("version = 2\n%s\ncontainerd = {runtimes = {runc = {options = 5}}}\n" % V2, "options"),
    ("version = 0x%s\n" % ("f" * 5000), "version"),
    ("version = 100000000000000000000000000000\n", "version"),
    ('version = 2\n%s\nsandbox_image = "x"\nstarted = 2026-01-01\n' % V2, "Cannot copy"),
    ("version = 2\n%s\n" % V2 + "x = " + "[" * 50000 + "]" * 50000 + "\n", "nested too deeply"),
    (b"version = 2\n# \xff\xfe\n", "not UTF-8"),
]


@pytest.mark.parametrize("text, key", CONTAINERD_CASES)
@pytest.mark.parametrize("state", ["present", "absent"])
def test_containerd_wrong_types_are_named(tmp_path, text, key, state):
    """Malformed documents: before the fix `version = [2]` raised TypeError (unhashable), `plugins = 5`
    AttributeError, a date in the copied section TypeError from the writer, and huge integers ValueError;
    now each is a FleetError naming the file and the key, and nothing changes."""
    p = params(tmp_path, state=state)
    write(p["config_path"], text)
    write(drop_path(p), "# ours\n")
    before = snapshot(tmp_path)
    try:
        core.run(p)
    except FleetError as err:
        assert p["config_path"] in err.msg and (key in err.msg or key.strip("`") in err.msg), err.msg
    else:
        # state=absent only reads `imports`: a type problem elsewhere is not its business
        assert state == "absent"
    if state == "present":
        assert snapshot(tmp_path) == before


CRIO_CASES = [
    ("crio = 5\n", "`crio`"),
    ('[crio]\nruntime = "x"\n', "`crio.runtime`"),
    ("[crio.runtime]\nruntimes = [1]\n", "`crio.runtime.runtimes`"),
    ('[crio.runtime]\ndefault_runtime = [1]\n[crio.runtime.runtimes.runc]\nruntime_path = "/r"\n', None),
    ("[crio.runtime.runtimes]\nrunc = 5\n", None),
]


@pytest.mark.parametrize("where", ["main", "drop-in"])
@pytest.mark.parametrize("text, key", CRIO_CASES)
def test_crio_wrong_types_are_named(tmp_path, text, key, where):
    """Malformed documents in crio.conf or any crio.conf.d file: AttributeError/TypeError before the fix."""
    p = params(tmp_path, runtime="crio")
    path = p["config_path"] if where == "main" else os.path.join(p["drop_in_dir"], "10-user.conf")
    write(path, text)
    before = snapshot(tmp_path)
    if key is None:   # odd but harmless values are skipped, the way nvidia-ctk picks a runtime to copy
        assert core.run(p)["changed"]
        return
    with pytest.raises(FleetError) as info:
        core.run(p)
    assert path in info.value.msg and key in info.value.msg, info.value.msg
    assert snapshot(tmp_path) == before


def test_stray_directory_in_a_drop_in_dir_is_a_clear_error(tmp_path):
    """Malformed layout: a directory named like a config file inside crio.conf.d."""
    p = params(tmp_path, runtime="crio")
    os.makedirs(os.path.join(p["drop_in_dir"], "20-stray.conf"))
    with pytest.raises(FleetError, match="20-stray.conf"):
        core.run(p)


@pytest.mark.parametrize("runtime", ["containerd", "crio", "podman"])
def test_non_utf8_and_huge_configs(tmp_path, monkeypatch, runtime):
    """Malformed documents: non-UTF-8 bytes and an oversized file give a FleetError naming the file."""
    p = params(tmp_path, runtime=runtime)
    write(p["config_path"], b"\xff\xfe\x00garbage")
    with pytest.raises(FleetError, match="not UTF-8") as info:
        core.run(p)
    assert p["config_path"] in info.value.msg
    from ansible_collections.edgeai.fleet.plugins.module_utils import _files
    monkeypatch.setattr(_files, "MAX_READ_BYTES", 64)
    monkeypatch.setattr(core, "read_text", lambda path: _files.read_text(path, limit=64))
    write(p["config_path"], "#" * 65)
    with pytest.raises(FleetError, match="larger than 64 bytes"):
        core.run(p, read=core.read_text)


@pytest.mark.parametrize("field, value", [("runtime_path", None), ("runtime_name", 5), ("runtime", "lxc"),
                                          ("config_path", ["x"])])
def test_malformed_parameters_are_fleet_errors(tmp_path, field, value):
    """Malformed arguments to the core (as the property-based layer sends them): no TypeError/KeyError."""
    with pytest.raises(FleetError) as info:
        core.run(dict(params(tmp_path), **{field: value}))
    assert info.value.details.get("field") == field
