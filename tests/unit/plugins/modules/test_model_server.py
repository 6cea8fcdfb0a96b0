# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""edgeai.fleet.model_server in-process. The host (python, venv, pip, systemctl, journalctl) is simulated by the
``Host`` of the core's tests (see its docstring for what each command answers); files are real under tmp_path."""

from __future__ import annotations

import os

import pytest

from ansible_collections.edgeai.fleet.plugins.modules import model_server
from ansible_collections.edgeai.fleet.tests.unit.module_helpers import run_module
from ansible_collections.edgeai.fleet.tests.unit.plugins.module_utils import test__model_server as core_tests

BINS = {"systemctl": core_tests.SYSTEMCTL, "journalctl": core_tests.JOURNALCTL}


@pytest.fixture
def host(tmp_path):
    return core_tests.Host(tmp_path)


def run(host, check_mode=False, diff=False, bins=None, **overrides):
    args = {k: v for k, v in host.params(**overrides).items() if v is not None}
    return run_module(model_server, args, run_command=host.run_command, check_mode=check_mode, diff=diff,
                      get_bin_path=bins if bins is not None else BINS)


def test_installs_and_starts(host):
    result, failed = run(host)
    assert not failed and result["changed"] and result["started"] and result["venv_created"]
    assert "diff" not in result and host.active and host.enabled


def test_idempotent(host):
    run(host)
    host.run_command.calls.clear()
    result, failed = run(host, diff=True)
    assert not failed and result["changed"] is False and result["diff"] == []
    assert host.commands() == [("python", "-I"), ("systemctl", "is-enabled"), ("systemctl", "is-active")]


def test_check_mode_predicts_and_changes_nothing(host):
    result, failed = run(host, check_mode=True)
    assert not failed and result["changed"] and result["packages_installed"] == core_tests.PACKAGES
    assert not os.path.exists(host.venv) and not os.path.exists(host.unit_path) and not host.enabled


def test_diff_shows_the_unit_and_the_program(host):
    run(host)
    result, failed = run(host, diff=True, unit=core_tests.UNIT + "# v2\n",
                         files=[{"path": host.program, "content": "import kserve  # v2\n"}])
    assert not failed and result["restarted"]
    assert {d["after_header"]: d["after"] for d in result["diff"]} == {
        host.program: "import kserve  # v2\n", host.unit_path: core_tests.UNIT + "# v2\n"}


def test_default_file_mode_and_yaml_int_mode(host):
    result, failed = run(host, files=[{"path": host.program, "content": "a\n"},
                                      {"path": host.program + ".cfg", "content": "b\n", "mode": 0o600}])
    assert not failed and os.stat(host.program).st_mode & 0o7777 == 0o644
    assert os.stat(host.program + ".cfg").st_mode & 0o7777 == 0o600


def test_index_url_is_not_logged_nor_in_argv(host):
    url = "https://user:s3cret@pypi.example.com/simple"
    result, failed = run(host, index_url=url)
    assert not failed and "s3cret" not in repr(result)
    assert not any("s3cret" in arg for call in host.run_command.calls for arg in call["argv"])


def test_missing_ensurepip_fails_and_changes_nothing(tmp_path):
    host = core_tests.Host(tmp_path, ensurepip=False)
    result, failed = run(host)
    assert failed and result["venv_support"] is False and "python3-venv" in result["msg"]
    assert not os.path.exists(host.venv) and not os.path.exists(host.unit_dir)


def test_failed_restart_reports_restore(host):
    run(host)
    host.broken_unit = core_tests.UNIT + "# broken\n"
    result, failed = run(host, unit=host.broken_unit)
    assert failed and result["previous_running"] is True and result["restored"] == [host.unit_path]
    assert core_tests.read(host.unit_path) == core_tests.UNIT and result["journal"]


def test_bad_service_name_fails_before_anything_runs(host):
    result, failed = run(host, service="edgeai-model-ocr_det.service")
    assert failed and "without '.service'" in result["msg"] and host.run_command.calls == []


def test_systemctl_missing_fails_clearly(host):
    result, failed = run(host, bins={"systemctl": None, "journalctl": None})
    assert failed and "systemctl" in result["msg"] and host.run_command.calls == []


def test_pip_index_abbreviation_fails_and_runs_nothing(host):
    """Attack: ``--index`` (pip's optparse abbreviation of ``--index-url``) slipped past the old exact-match check."""
    result, failed = run(host, pip_args=["--index", "https://user:s3cret@evil.example/simple"])
    assert failed and result["field"] == "pip_args" and "--index-url" in result["msg"]
    assert host.run_command.calls == [] and "s3cret" not in repr(result)


def test_failed_pip_result_carries_no_credentials(host):
    """Fault: pip fails echoing a URL with credentials; the module's failed result (msg, cmd, stderr) is redacted."""
    host.run_command.responses.insert(0, (lambda argv: argv[1:4] == ["-m", "pip", "install"], (
        1, "", "ERROR: Could not fetch https://bob:s3cret@mirror.example/simple/kserve/?token=s3cret\n")))
    result, failed = run(host, pip_args=["--find-links", "/srv/wheelhouse"])
    assert failed and result["rc"] == 1 and "s3cret" not in repr(result)
    assert result["stderr"].endswith("https://mirror.example/simple/kserve/")
