# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""edgeai.fleet.nvidia_runtime's nvidia-ctk modes through AnsibleModule (issue 15): the argv of
config_source=command, check mode and diff of drop_in=false and config_mode=oci-hook, failures that change nothing.
Simulated: `containerd config dump`, as FakeRunCommand output in the shape containerd 2.1 prints."""

from __future__ import annotations

import os
from unittest import mock

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.edgeai.fleet.plugins.modules import nvidia_runtime
from ansible_collections.edgeai.fleet.tests.unit.module_helpers import FakeRunCommand, run_module

DUMP = """version = 3
[plugins.'io.containerd.cri.v1.runtime'.containerd]
  default_runtime_name = 'runc'
[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
  runtime_type = 'io.containerd.runc.v2'
[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
  SystemdCgroup = true
"""


def args(tmp_path, runtime="containerd", **kw):
    base = {"runtime": runtime, "config_path": str(tmp_path / "main"), "drop_in_dir": str(tmp_path / "conf.d")}
    base.update(kw)
    return base


def files(tmp_path):
    return {str(p): p.read_text() for p in tmp_path.rglob("*") if p.is_file()}


def test_config_source_command_runs_config_dump_on_the_edited_config(tmp_path):
    (tmp_path / "main").write_text("version = 2\n")
    runner = FakeRunCommand([(("/usr/bin/containerd", "--config"), (0, DUMP, ""))])
    result, failed = run_module(nvidia_runtime, args(tmp_path, config_source="command"), run_command=runner,
                                get_bin_path=lambda name: "/usr/bin/" + name, diff=True)
    assert not failed and result["changed"] and result["runtime_config_version"] == 3
    assert runner.calls[0]["argv"] == ["/usr/bin/timeout", "--kill-after=10", "60s", "/usr/bin/containerd",
                                       "--config", str(tmp_path / "main"), "config", "dump"]
    assert "SystemdCgroup = true" in result["diff"][0]["after"]


def test_config_source_command_without_the_cli_fails_and_changes_nothing(tmp_path):
    (tmp_path / "main").write_text("version = 2\n")
    result, failed = run_module(nvidia_runtime, args(tmp_path, config_source="command"), get_bin_path=lambda name: None)
    assert failed and "needs `containerd` on the PATH" in result["msg"] and result["field"] == "config_source"
    assert files(tmp_path) == {str(tmp_path / "main"): "version = 2\n"}


def test_config_dump_failure_changes_nothing(tmp_path):
    runner = FakeRunCommand(default=(1, "", "containerd: invalid config"))
    result, failed = run_module(nvidia_runtime, args(tmp_path, config_source="command"), run_command=runner,
                                get_bin_path=lambda name: "/usr/bin/" + name)
    assert failed and "containerd config dump failed" in result["msg"]
    assert files(tmp_path) == {}


def test_in_place_check_mode_diff_apply_idempotent(tmp_path):
    text = '# my CRI-O\n[crio.runtime]\ndefault_runtime = "crun"\n[crio.runtime.runtimes.crun]\nruntime_path = "/usr/bin/crun"\n'
    (tmp_path / "main").write_text(text)
    checked, failed = run_module(nvidia_runtime, args(tmp_path, runtime="crio", drop_in=False), check_mode=True, diff=True)
    assert not failed and checked["changed"] and checked["files"] == [str(tmp_path / "main")]
    assert files(tmp_path) == {str(tmp_path / "main"): text}
    applied, failed = run_module(nvidia_runtime, args(tmp_path, runtime="crio", drop_in=False), diff=True)
    assert not failed and applied["diff"][0]["after"] == checked["diff"][0]["after"]
    assert list(applied["backups"]) == [str(tmp_path / "main")]
    again, failed = run_module(nvidia_runtime, args(tmp_path, runtime="crio", drop_in=False))
    assert not failed and again["changed"] is False


def test_oci_hook_check_mode_and_no_restart(tmp_path):
    hook = str(tmp_path / "hooks.d" / "oci-nvidia-hook.json")
    with mock.patch.object(AnsibleModule, "warn") as warn:
        result, failed = run_module(nvidia_runtime, args(tmp_path, runtime="podman", config_mode="oci-hook",
                                                         oci_hook_path=hook, check_running=True),
                                    check_mode=True, diff=True, get_bin_path=pytest_never)
    assert not failed and result["changed"] and result["restart_required"] is False and result["running"] is None
    assert result["files"] == [hook] and '"prestart"' in result["diff"][0]["after"]
    assert not os.path.exists(hook) and not warn.called


def pytest_never(name):
    raise AssertionError("oci-hook mode must ask no engine (%s)" % name)
