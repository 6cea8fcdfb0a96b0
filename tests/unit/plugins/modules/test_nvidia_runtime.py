# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""edgeai.fleet.nvidia_runtime through AnsibleModule: check mode, diff, idempotence, errors, version probing."""

from __future__ import annotations

import json
import os
from unittest import mock

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.edgeai.fleet.plugins.modules import nvidia_runtime
from ansible_collections.edgeai.fleet.tests.unit.module_helpers import FakeRunCommand, run_module


def args(tmp_path, runtime="containerd", **kw):
    base = {"runtime": runtime, "config_path": str(tmp_path / "main"), "drop_in_dir": str(tmp_path / "conf.d")}
    if runtime == "docker":
        del base["drop_in_dir"]
    base.update(kw)
    return base


def files(tmp_path):
    return {str(p): p.read_text() for p in tmp_path.rglob("*") if p.is_file()}


def no_containerd(name):
    return None


def test_check_mode_then_apply_then_idempotent(tmp_path):
    (tmp_path / "main").write_text("version = 2\n")
    result, failed = run_module(nvidia_runtime, args(tmp_path), check_mode=True, diff=True)
    assert not failed and result["changed"] and result["restart_required"]
    assert files(tmp_path) == {str(tmp_path / "main"): "version = 2\n"}
    assert [d["after_header"] for d in result["diff"]] == [str(tmp_path / "conf.d" / "99-nvidia.toml"),
                                                           str(tmp_path / "main")]
    assert "imports" in result["diff"][1]["after"]

    applied, failed = run_module(nvidia_runtime, args(tmp_path), diff=True)
    assert not failed and applied["files"] == result["files"]
    assert [d["after"] for d in applied["diff"]] == [d["after"] for d in result["diff"]]
    assert list(applied["backups"]) == [str(tmp_path / "main")]

    again, failed = run_module(nvidia_runtime, args(tmp_path), diff=True)
    assert not failed and again["changed"] is False and again["restart_required"] is False
    assert again["files"] == [] and again["diff"] == []


def test_no_diff_key_without_diff_mode(tmp_path):
    result, failed = run_module(nvidia_runtime, args(tmp_path, runtime="podman"), get_bin_path=no_containerd)
    assert not failed and "diff" not in result and result["runtime_config_version"] is None
    assert result["restart_required"] is False


def test_containerd_version_probed_from_the_binary(tmp_path):
    runner = FakeRunCommand([(("/usr/bin/containerd", "--version"),
                              (0, "containerd containerd.io v2.1.3 c787fb98911740dd3ff2d0e45ce88cdf01410486\n", ""))])
    result, failed = run_module(nvidia_runtime, args(tmp_path), run_command=runner,
                                get_bin_path={"containerd": "/usr/bin/containerd"})
    assert not failed and result["runtime_config_version"] == 3
    assert runner.calls[0]["argv"] == ["/usr/bin/containerd", "--version"]
    assert (tmp_path / "main").read_text().startswith("version = 3\n")


def test_containerd_probe_failure_changes_nothing(tmp_path):
    runner = FakeRunCommand(default=(1, "", "boom"))
    result, failed = run_module(nvidia_runtime, args(tmp_path), run_command=runner,
                                get_bin_path={"containerd": "/usr/bin/containerd"})
    assert failed and "containerd --version failed" in result["msg"] and result["rc"] == 1
    assert files(tmp_path) == {}


def test_corrupt_config_fails_and_changes_nothing(tmp_path):
    (tmp_path / "main").write_text("version = 2\n[plugins\n")
    before = files(tmp_path)
    result, failed = run_module(nvidia_runtime, args(tmp_path), get_bin_path=no_containerd)
    assert failed and "is not valid TOML" in result["msg"] and result["path"] == str(tmp_path / "main")
    assert files(tmp_path) == before


def test_docker_invalid_json_fails_and_changes_nothing(tmp_path):
    (tmp_path / "main").write_text('{"runtimes": ')
    result, failed = run_module(nvidia_runtime, args(tmp_path, runtime="docker"))
    assert failed and "not valid JSON" in result["msg"]
    assert files(tmp_path) == {str(tmp_path / "main"): '{"runtimes": '}


def test_docker_absent_warns_about_a_foreign_runtime(tmp_path):
    (tmp_path / "main").write_text(json.dumps({"runtimes": {"nvidia": {"path": "/opt/x"}}}))
    with mock.patch.object(AnsibleModule, "warn") as warn:
        result, failed = run_module(nvidia_runtime, args(tmp_path, runtime="docker", state="absent"))
    assert not failed and not result["changed"]
    assert "left as it is" in warn.call_args[0][0]


def test_bad_parameter_names_the_field(tmp_path):
    result, failed = run_module(nvidia_runtime, args(tmp_path, runtime_name="runc"), get_bin_path=no_containerd)
    assert failed and "runtime_name" in result["msg"] and result["field"] == "runtime_name"
    assert not os.listdir(tmp_path)


def test_crio_cdi_warning(tmp_path):
    with mock.patch.object(AnsibleModule, "warn") as warn:
        result, failed = run_module(nvidia_runtime, args(tmp_path, runtime="crio", cdi_enabled=True))
    assert not failed and result["changed"]
    assert "CRI-O always resolves CDI" in warn.call_args[0][0]


def test_backup_false_keeps_no_copy(tmp_path):
    (tmp_path / "main").write_text('{"debug": true}\n')
    result, failed = run_module(nvidia_runtime, args(tmp_path, runtime="docker", backup=False))
    assert not failed and result["backups"] == {}
    assert sorted(os.listdir(tmp_path)) == ["main"]


def test_check_running_restarts_a_daemon_still_on_the_old_config(tmp_path):
    """Simulated: dockerd, through `docker info --format '{{json .Runtimes}}'` output as Docker prints it."""
    (tmp_path / "main").write_text("{}\n")
    run_module(nvidia_runtime, args(tmp_path, runtime="docker"), get_bin_path=no_containerd)
    old = FakeRunCommand([(("/usr/bin/docker", "info"), (0, '{"runc":{"path":"runc"}}\n', ""))])
    result, failed = run_module(nvidia_runtime, args(tmp_path, runtime="docker", check_running=True),
                                run_command=old, get_bin_path=lambda name: "/usr/bin/" + name)
    assert not failed and result["changed"] is False and result["restart_required"] is True
    assert result["running"]["active"] is False
    # Under coreutils timeout: a wedged dockerd socket fails the task instead of hanging it.
    assert old.calls[-1]["argv"] == ["/usr/bin/timeout", "--kill-after=10", "60s",
                                     "/usr/bin/docker", "info", "--format", "{{json .Runtimes}}"]
    assert old.calls[-1]["environ"]["LC_ALL"] == "C"

    new = FakeRunCommand([(("/usr/bin/docker", "info"),
                           (0, '{"nvidia":{"path":"/usr/bin/nvidia-container-runtime"},"runc":{"path":"runc"}}', ""))])
    result, failed = run_module(nvidia_runtime, args(tmp_path, runtime="docker", check_running=True),
                                run_command=new, get_bin_path=lambda name: "/usr/bin/" + name)
    assert not failed and result["restart_required"] is False and result["running"]["active"] is True
