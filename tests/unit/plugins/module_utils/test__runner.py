# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError
from ansible_collections.edgeai.fleet.plugins.module_utils._runner import CliRunner, parse_json
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
