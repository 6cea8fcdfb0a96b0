# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""bootc_info with a fake bootc CLI replaying captured status documents (no real bootc runs here)."""

from __future__ import annotations

import os

import pytest

from ansible_collections.edgeai.fleet.plugins.modules import bootc_info
from ansible_collections.edgeai.fleet.tests.unit.module_helpers import FakeRunCommand, run_module

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "module_utils", "fixtures", "bootc")
BOOTC = "/usr/bin/bootc"


def fixture_text(name):
    with open(os.path.join(FIXTURES, name), encoding="utf-8") as handle:
        return handle.read()


def fake_bootc(status_name, version="bootc 1.16.9\n"):
    return FakeRunCommand([
        ((BOOTC, "--version"), (0, version, "")),
        ((BOOTC, "status"), (0, fixture_text(status_name), "")),
    ])


@pytest.mark.parametrize("check_mode", [False, True])
def test_booted_host(check_mode):
    fake = fake_bootc("v1.16.9-cached-update.json")
    result, failed = run_module(bootc_info, {}, run_command=fake, check_mode=check_mode, get_bin_path={"bootc": BOOTC})
    assert not failed and result["changed"] is False
    facts = result["ansible_facts"]["edgeai_bootc"]
    assert facts["is_bootc"] is True and facts["update_available"] is True
    assert facts["bootc_version"] == "1.16.9"
    assert facts["booted"]["digest"].startswith("sha256:")
    # read-only: only --version and status ran
    assert [c["argv"][1] for c in fake.calls] == ["--version", "status"]


def test_idempotent_and_diff_free():
    fake = fake_bootc("v1.1.6-lock-polluted.txt", "bootc 1.1.6\n")
    first = run_module(bootc_info, {}, run_command=fake, diff=True, get_bin_path={"bootc": BOOTC})[0]
    second = run_module(bootc_info, {}, run_command=fake, diff=True, get_bin_path={"bootc": BOOTC})[0]
    assert first == second and first["changed"] is False and "diff" not in first
    assert first["ansible_facts"]["edgeai_bootc"]["features"]["soft_reboot"] is False


def test_bootc_absent_is_not_a_failure():
    fake = FakeRunCommand()
    result, failed = run_module(bootc_info, {}, run_command=fake, get_bin_path={"bootc": None})
    assert not failed
    facts = result["ansible_facts"]["edgeai_bootc"]
    assert facts["is_bootc"] is False and "not installed" in facts["reason"]
    assert fake.calls == []


def test_not_booted_via_bootc():
    result, failed = run_module(bootc_info, {}, run_command=fake_bootc("spec-v1-null.json"), get_bin_path={"bootc": BOOTC})
    assert not failed
    assert result["ansible_facts"]["edgeai_bootc"]["is_bootc"] is False


def test_executable_option(tmp_path):
    exe = tmp_path / "bootc"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    fake = FakeRunCommand([((str(exe), "--version"), (0, "bootc 1.7.0", "")),
                           ((str(exe), "status"), (0, fixture_text("v1.7.0-rollback-queued.json"), ""))])
    # No coreutils timeout on this fake host, so argv reaches the fake unwrapped.
    result, failed = run_module(bootc_info, {"executable": str(exe)}, run_command=fake, get_bin_path={"timeout": None})
    assert not failed and result["ansible_facts"]["edgeai_bootc"]["rollback_queued"] is True


def test_missing_executable_option_fails_clearly(tmp_path):
    result, failed = run_module(bootc_info, {"executable": str(tmp_path / "nope")}, run_command=FakeRunCommand())
    assert failed and "executable=" in result["msg"]


def test_status_error_fails_with_fix():
    fake = FakeRunCommand([((BOOTC, "--version"), (0, "bootc 1.16.9", "")),
                           ((BOOTC, "status"), (1, "", "error: This command must be executed as the root user"))])
    result, failed = run_module(bootc_info, {}, run_command=fake, get_bin_path={"bootc": BOOTC})
    assert failed and "become: true" in result["msg"] and result["rc"] == 1


def test_status_held_on_sysroot_lock_times_out():
    """Fault: `bootc status` waiting on a sysroot lock held by another bootc/rpm-ostree blocked forever.

    Double: the fake answers rc 124 the way coreutils `timeout` does when it stops the command.
    """
    def answer(argv, _kw):
        return (124, "Waiting for sysroot lock...\n", "") if "status" in argv else (0, "bootc 1.16.9\n", "")

    fake = FakeRunCommand([(lambda argv: True, answer)])
    result, failed = run_module(bootc_info, {"timeout": 30}, run_command=fake,
                                get_bin_path={"bootc": BOOTC, "timeout": "/usr/bin/timeout"})
    assert failed and "timed out after 30 s" in result["msg"] and "sysroot lock" in result["msg"]
    assert all(call["argv"][:3] == ["/usr/bin/timeout", "--kill-after=10", "30s"] for call in fake.calls)


@pytest.mark.parametrize("timeout", [0, -5])
def test_negative_timeout_is_refused(timeout):
    result, failed = run_module(bootc_info, {"timeout": timeout}, run_command=fake_bootc("v1.16.9-cached-update.json"),
                                get_bin_path={"bootc": BOOTC, "timeout": "/usr/bin/timeout"})
    assert failed and "timeout must be a positive whole number" in result["msg"]


def test_directory_as_executable_fails_clearly(tmp_path):
    """Malformed input: a directory passes os.access(X_OK) and used to reach run_command."""
    result, failed = run_module(bootc_info, {"executable": str(tmp_path)}, run_command=FakeRunCommand())
    assert failed and "is not an executable file" in result["msg"]
