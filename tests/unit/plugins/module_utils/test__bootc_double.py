# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Contract tests for the lab's bootc double: its output must look like real bootc's per version.

Simulated: everything (see the double's docstring); these tests keep it honest against the
upstream fixtures and the reference's version matrix, so lab results mean something.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import os
import subprocess

import pytest

from ansible_collections.edgeai.fleet.plugins.module_utils import _bootc_status as st

USR = os.path.join(os.path.dirname(__file__), "..", "..", "..", "lab", "doubles", "bootc", "rootfs", "usr")
FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "bootc")


def _load_double():
    spec = importlib.util.spec_from_file_location("bootc_double", os.path.join(USR, "lib", "bootc-double", "bootc_double.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BOOTC_DOUBLE = _load_double()
MODES = {"bin/bootc": "bootc", "libexec/bootc-double/ctl": "ctl", "libexec/bootc-double/reboot": "reboot",
         "libexec/bootc-double/health-check": "health"}


def sh(env, *argv, check=True):
    """Run one of the double's entry points in-process (the shell wrappers are exercised once, below)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = BOOTC_DOUBLE.main(list(argv[1:]), MODES[argv[0]])
    if check and rc != 0:
        raise AssertionError("%s failed: %s" % (argv, err.getvalue()))
    return subprocess.CompletedProcess(argv, rc, out.getvalue(), err.getvalue())


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("BOOTC_DOUBLE_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("BOOTC_DOUBLE_ALLOW_NONROOT", "1")
    env = dict(os.environ)
    sh(env, "libexec/bootc-double/ctl", "init", "quay.io/x/os:1", "1.0")
    sh(env, "libexec/bootc-double/ctl", "push", "quay.io/x/os:2", "2.0")
    return env


def status(env):
    return json.loads(sh(env, "bin/bootc", "status", "--format=json", "--format-version=1").stdout)


def keys(obj, prefix=""):
    """Every key path of a document, lists and values ignored."""
    out = set()
    if isinstance(obj, dict):
        for key, value in obj.items():
            out.add(prefix + key)
            out |= keys(value, prefix + key + ".")
    return out


def test_booted_keys_match_the_upstream_v1_16_shape(env):
    sh(env, "bin/bootc", "switch", "quay.io/x/os:2")
    doc = status(env)
    upstream = json.load(open(os.path.join(FIXTURES, "v1.16.9-usr-overlay-oci.json"), encoding="utf-8"))
    # The double prints every key a live 1.16 prints except composefs (experimental backend).
    missing = keys(upstream["status"]["booted"]) - keys(doc["status"]["booted"]) - {"composefs", "image.image.signature"}
    assert not missing
    assert st.normalise(doc)["staged"]["version"] == "2.0"


@pytest.mark.parametrize("version, present, absent", [
    ("1.1.6", set(), {"architecture", "softRebootCapable", "downloadOnly"}),
    ("1.7.0", {"architecture", "softRebootCapable"}, {"downloadOnly"}),
    ("1.12.0", {"architecture", "softRebootCapable", "downloadOnly"}, set()),
])
def test_fields_follow_the_version(env, version, present, absent):
    sh(env, "libexec/bootc-double/ctl", "set", "version", json.dumps(version))
    booted = keys(status(env)["status"]["booted"])
    flat = {k.rsplit(".", 1)[-1] for k in booted}
    assert present <= flat and not absent & flat


def test_flags_newer_than_the_version_are_clap_errors(env):
    sh(env, "libexec/bootc-double/ctl", "set", "version", '"1.1.6"')
    proc = sh(env, "bin/bootc", "upgrade", "--download-only", check=False)
    assert proc.returncode == 2 and "unexpected argument" in proc.stderr


def test_rollback_is_a_toggle_and_discards_staged(env):
    sh(env, "bin/bootc", "switch", "quay.io/x/os:2")
    sh(env, "libexec/bootc-double/reboot")
    sh(env, "bin/bootc", "upgrade")  # no update: nothing staged
    assert status(env)["status"]["rollbackQueued"] is False
    sh(env, "bin/bootc", "rollback")
    assert status(env)["spec"]["bootOrder"] == "rollback"
    sh(env, "bin/bootc", "rollback")
    assert status(env)["status"]["rollbackQueued"] is False


def test_reboot_moves_staged_to_booted_and_drops_download_only(env):
    first = status(env)["status"]["booted"]["image"]["imageDigest"]
    boot_id = open(os.path.join(env["BOOTC_DOUBLE_STATE_DIR"], "boot_id"), encoding="utf-8").read()
    sh(env, "bin/bootc", "switch", "quay.io/x/os:2")
    sh(env, "libexec/bootc-double/reboot")
    doc = status(env)["status"]
    assert doc["rollback"]["image"]["imageDigest"] == first and doc["staged"] is None
    assert open(os.path.join(env["BOOTC_DOUBLE_STATE_DIR"], "boot_id"), encoding="utf-8").read() != boot_id
    sh(env, "libexec/bootc-double/ctl", "push", "quay.io/x/os:2", "2.1")
    sh(env, "bin/bootc", "upgrade", "--download-only")
    sh(env, "libexec/bootc-double/reboot")
    assert status(env)["status"]["booted"]["image"]["version"] == "2.0"


def test_failure_injection(env):
    sh(env, "libexec/bootc-double/ctl", "fail-pull", "quay.io/x/os:2")
    proc = sh(env, "bin/bootc", "switch", "quay.io/x/os:2", check=False)
    assert proc.returncode == 1 and proc.stderr.startswith("error:")
    digest = sh(env, "libexec/bootc-double/ctl", "show").stdout
    bad = json.loads(digest)["catalogue"]["quay.io/x/os:1"]["digest"]
    sh(env, "libexec/bootc-double/ctl", "unhealthy", bad)
    assert sh(env, "libexec/bootc-double/health-check", check=False).returncode == 1


def test_finalize_failure_keeps_the_old_deployment(env):
    first = status(env)["status"]["booted"]["image"]["imageDigest"]
    pushed = json.loads(sh(env, "libexec/bootc-double/ctl", "show").stdout)["catalogue"]["quay.io/x/os:2"]["digest"]
    sh(env, "libexec/bootc-double/ctl", "finalize-fail", pushed)
    sh(env, "bin/bootc", "switch", "quay.io/x/os:2")
    sh(env, "libexec/bootc-double/reboot")
    doc = status(env)["status"]
    assert doc["booted"]["image"]["imageDigest"] == first and doc["staged"] is None


def test_apply_is_refused(env):
    assert sh(env, "bin/bootc", "upgrade", "--apply", check=False).returncode == 1


def test_shell_wrappers(env):
    """The executables installed on lab nodes reach the same code."""
    proc = subprocess.run([os.path.join(USR, "bin", "bootc"), "--version"], env=env, capture_output=True, text=True,
                          check=True)
    assert proc.stdout == "bootc 1.16.9\n"
    proc = subprocess.run([os.path.join(USR, "libexec", "bootc-double", "health-check")], env=env, capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 0 and proc.stdout.startswith("healthy: sha256:")


def test_incompatible_booted_matches_upstream(env):
    """bootc status.rs boot_entry_from_deployment nulls an incompatible deployment's image; get_status then has no
    spec image and no type (fixture v1.3.0-incompatible-other-deployments.json, corrected for issue 15)."""
    sh(env, "libexec/bootc-double/ctl", "set", "incompatible", "true")
    doc = status(env)
    booted = doc["status"]["booted"]
    assert booted["incompatible"] is True and booted["image"] is None and booted["cachedUpdate"] is None
    assert doc["status"]["type"] is None and doc["spec"]["image"] is None
    assert st.normalise(doc)["is_bootc"] is False


def test_cached_update_has_an_architecture(env):
    """ImageStatus.architecture is a String (spec.rs): a cachedUpdate never carries null there."""
    sh(env, "libexec/bootc-double/ctl", "push", "quay.io/x/os:1", "1.1")
    sh(env, "bin/bootc", "upgrade", "--check")
    cached = status(env)["status"]["booted"]["cachedUpdate"]
    assert cached["version"] == "1.1" and cached["architecture"] == "amd64"
