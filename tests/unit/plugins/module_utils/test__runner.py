# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from unittest import mock

import pytest

from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError
from ansible_collections.edgeai.fleet.plugins.module_utils._runner import MAX_OUTPUT, CliRunner, parse_json
from ansible_collections.edgeai.fleet.tests.unit.module_helpers import FakeRunCommand


def test_run_passes_argv_list_and_c_locale():
    fake = FakeRunCommand(default=(0, "ok", ""))
    runner = CliRunner(fake, "/usr/bin/tool", environ={"EXTRA": "1"})
    assert runner.run(["status", 3]) == (0, "ok", "")
    call = fake.calls[0]
    assert call["argv"] == ["/usr/bin/tool", "status", "3"]
    assert call["environ"]["LANG"] == "C" and call["environ"]["LC_ALL"] == "C"
    assert call["environ"]["EXTRA"] == "1"


def test_run_failure_names_command_rc_and_stderr():
    fake = FakeRunCommand(default=(1, "", "error: no such image\n"))
    with pytest.raises(FleetError) as caught:
        CliRunner(fake, "tool").run(["switch", "x"])
    err = caught.value
    assert "tool switch x failed (rc=1): error: no such image" == err.msg
    assert err.details["rc"] == 1 and err.details["cmd"] == ["tool", "switch", "x"]


def test_run_without_check_returns_failure():
    fake = FakeRunCommand(default=(2, "", "bad"))
    assert CliRunner(fake, "tool").run(["x"], check=False) == (2, "", "bad")


def test_secret_goes_to_stdin_not_argv():
    fake = FakeRunCommand()
    CliRunner(fake, "tool").run(["login", "--password-stdin"], data="s3cret")
    assert "s3cret" not in fake.calls[0]["argv"]
    assert fake.calls[0]["data"] == "s3cret"


def test_run_json_parses_document():
    fake = FakeRunCommand(default=(0, '{"a": 1}', ""))
    assert CliRunner(fake, "tool").run_json(["status"]) == {"a": 1}


@pytest.mark.parametrize("text, expected", [
    ('Waiting for sysroot lock...\n{"kind": "BootcHost"}', {"kind": "BootcHost"}),
    ('note\n[1, 2]', [1, 2]),
    ('{"x": [1]}', {"x": [1]}),
])
def test_parse_json_skips_leading_noise(text, expected):
    assert parse_json(text, ["tool"], skip_to_json=True) == expected


@pytest.mark.parametrize("text", ["", "not json", "{\"unterminated\": "])
def test_parse_json_error_is_actionable(text):
    with pytest.raises(FleetError) as caught:
        parse_json(text, ["tool", "status"], rc=0, stderr="warn")
    assert caught.value.msg.startswith("tool status printed output that is not valid JSON")
    assert "stderr: warn" in caught.value.msg


def _subprocess_run_command(argv, environ_update=None, data=None, binary_data=False, use_unsafe_shell=False,
                            check_rc=False):
    """A real run_command: the contract of AnsibleModule.run_command, minus its logging."""
    env = dict(os.environ, **(environ_update or {}))
    proc = subprocess.run(argv, input=data, env=env, capture_output=True, check=False)
    return proc.returncode, proc.stdout.decode("utf-8", "surrogateescape"), proc.stderr.decode("utf-8", "surrogateescape")


def test_hung_command_is_stopped_and_named():
    """Fault: a `bootc status` waiting forever on the sysroot lock blocked a rollout wave (no deadline at all).

    Runs the real coreutils `timeout` around a real `sleep` standing in for the hung tool.
    """
    runner = CliRunner(_subprocess_run_command, shutil.which("sleep"), timeout=1, timeout_bin=shutil.which("timeout"))
    start = time.monotonic()
    with pytest.raises(FleetError) as caught:
        runner.run(["30"], check=False, what="bootc status")
    assert time.monotonic() - start < 15
    assert caught.value.msg.startswith("bootc status timed out after 1 s and was stopped")
    assert caught.value.details["timeout"] == 1 and caught.value.details["cmd"] == [shutil.which("sleep"), "30"]


def test_sysroot_lock_hint_for_bootc():
    fake = FakeRunCommand(default=(124, "", ""))
    with pytest.raises(FleetError, match="sysroot lock"):
        CliRunner(fake, "/usr/bin/bootc", timeout=120, timeout_bin="/usr/bin/timeout").run(["status"], check=False)
    assert fake.calls[0]["argv"] == ["/usr/bin/timeout", "--kill-after=10", "120s", "/usr/bin/bootc", "status"]


def test_per_call_timeout_overrides_default():
    fake = FakeRunCommand()
    CliRunner(fake, "tool", timeout_bin="timeout").run(["x"], timeout=5)
    assert fake.calls[0]["argv"][:3] == ["timeout", "--kill-after=10", "5s"]


def test_fast_command_runs_under_real_timeout():
    runner = CliRunner(_subprocess_run_command, shutil.which("echo"), timeout=30, timeout_bin=shutil.which("timeout"))
    assert runner.run(["hello"]) == (0, "hello\n", "")


def test_for_module_finds_coreutils_timeout():
    module = mock.Mock()
    module.get_bin_path.return_value = "/usr/bin/timeout"
    runner = CliRunner.for_module(module, "/usr/bin/bootc", timeout=120)
    module.get_bin_path.assert_called_once_with("timeout")
    assert runner.timeout_bin == "/usr/bin/timeout" and runner.timeout == 120


def test_megabytes_of_output_are_clipped():
    """Fault: 5 MB of CLI garbage was echoed twice (msg and stdout) into the failed result."""
    garbage = "x" * (5 * 1024 * 1024) + "the real reason"
    fake = FakeRunCommand(default=(1, garbage, garbage))
    with pytest.raises(FleetError) as caught:
        CliRunner(fake, "tool").run(["x"])
    err = caught.value
    assert len(err.msg) < 2 * MAX_OUTPUT and err.msg.endswith("the real reason")
    assert len(err.details["stdout"]) < 2 * MAX_OUTPUT and len(err.details["stderr"]) < 2 * MAX_OUTPUT
    assert "characters cut" in err.details["stderr"]
    with pytest.raises(FleetError) as caught:
        parse_json(garbage, ["tool"])
    assert len(caught.value.details["stdout"]) < 2 * MAX_OUTPUT


@pytest.mark.parametrize("raw", [b"\xff\xfe boom: device busy", "\udcff\udcfe boom: device busy"])
def test_non_utf8_output_keeps_the_real_cause(raw):
    """Fault: non-UTF-8 stderr (bytes, or run_command's surrogate escapes) made the result unserialisable."""
    fake = FakeRunCommand(default=(1, "", raw))
    with pytest.raises(FleetError) as caught:
        CliRunner(fake, "tool").run(["x"])
    assert "boom: device busy" in caught.value.msg
    json.dumps({"msg": caught.value.msg, **caught.value.details}).encode("utf-8")


def test_empty_output_names_the_command():
    with pytest.raises(FleetError, match=r"^tool status printed output that is not valid JSON \(it printed nothing\)"):
        CliRunner(FakeRunCommand(default=(0, "  \n", "")), "tool").run_json(["status"])


@pytest.mark.parametrize("value", [0, -1, 1.5, "120", True, None])
def test_bad_timeout_is_refused(value):
    with pytest.raises(FleetError, match="timeout must be a positive whole number of seconds"):
        CliRunner(FakeRunCommand(), "tool", timeout=value)
