# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""edgeai.fleet.nvidia_cdi in-process. nvidia-ctk is simulated by FakeRunCommand, or (last test)
by the lab's nvidia-ctk double run for real over the pynvml double's simulated A100."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from ansible_collections.edgeai.fleet.plugins.module_utils import _nvidia_cdi
from ansible_collections.edgeai.fleet.plugins.modules import nvidia_cdi
from ansible_collections.edgeai.fleet.tests.unit.module_helpers import FakeRunCommand, run_module

CTK = "/usr/bin/nvidia-ctk"
SYSTEMCTL = "/usr/bin/systemctl"
SPEC = {"cdiVersion": "0.5.0", "kind": "nvidia.com/gpu", "devices": [{"name": "0"}, {"name": "all"}], "containerEdits": {}}
YAML = "---\ncdiVersion: \"0.5.0\"\nkind: nvidia.com/gpu\n"
DOUBLE = os.path.join(os.path.dirname(__file__), "..", "..", "..", "lab", "doubles", "nvidia", "rootfs")


def generate(argv, kwargs):
    output, fmt = argv[argv.index("--output") + 1], argv[argv.index("--format") + 1]
    with open(output, "w") as handle:
        handle.write(json.dumps(SPEC) if fmt == "json" else YAML)
    return 0, "", ""


@pytest.fixture
def host(tmp_path, monkeypatch):
    units = tmp_path / "units"
    units.mkdir()
    monkeypatch.setattr(_nvidia_cdi, "UNIT_DIRS", (str(units),))
    monkeypatch.setattr(_nvidia_cdi, "STALE_SPECS", (str(tmp_path / "etc-cdi" / "nvidia.yaml"),))
    commands = FakeRunCommand([((CTK, "cdi", "generate"), generate), ((SYSTEMCTL, "is-enabled"), (1, "disabled\n", ""))])
    return {"output": str(tmp_path / "run" / "cdi" / "nvidia.yaml"), "commands": commands, "units": units, "tmp": tmp_path}


def run(host, args=None, bins=None, **kwargs):
    args = dict({"output": host["output"]}, **(args or {}))
    return run_module(nvidia_cdi, args, run_command=host["commands"],
                      get_bin_path=bins if bins is not None else {"nvidia-ctk": CTK, "systemctl": SYSTEMCTL}, **kwargs)


def test_generates_and_lists_devices(host):
    result, failed = run(host)
    assert not failed and result["changed"] and result["devices"] == ["nvidia.com/gpu=0", "nvidia.com/gpu=all"]
    assert open(host["output"]).read() == YAML and "diff" not in result


def test_idempotent(host):
    run(host)
    result, failed = run(host)
    assert not failed and result["changed"] is False and result["files"] == []


def test_check_mode_with_diff(host):
    result, failed = run(host, check_mode=True, diff=True)
    assert not failed and result["changed"] and not os.path.exists(host["output"])
    assert result["diff"][0]["after"] == YAML and result["diff"][0]["before"] == ""


def test_diff_on_a_real_run(host):
    result = run(host, diff=True)[0]
    assert result["diff"][0]["after_header"] == host["output"]


def test_generation_failure_fails_with_stderr_and_changes_nothing(host):
    host["commands"].responses.insert(0, ((CTK, "cdi", "generate"), (1, "", "failed to initialize NVML: Driver Not Loaded")))
    result, failed = run(host)
    assert failed and "Driver Not Loaded" in result["msg"] and result["rc"] == 1 and "exception" in result
    assert not os.path.exists(host["output"])


def test_nvidia_ctk_not_installed(host):
    result, failed = run(host, bins={"systemctl": SYSTEMCTL})
    assert failed and "nvidia-ctk is needed" in result["msg"] and host["commands"].calls == []


def test_nvidia_ctk_path_must_be_executable(host):
    result, failed = run(host, {"nvidia_ctk_path": str(host["tmp"] / "missing")})
    assert failed and "nvidia_ctk_path" in result["msg"] and host["commands"].calls == []


def test_empty_name_strategy_is_refused(host):
    result, failed = run(host, {"device_name_strategy": []})
    assert failed and "device_name_strategy" in result["msg"]


def test_bad_choice_is_refused(host):
    result, failed = run(host, {"mode": "cdi"})
    assert failed and "mode" in result["msg"] and host["commands"].calls == []


def test_image_mode_enables_refresh_units(host):
    for unit in _nvidia_cdi.REFRESH_UNITS:
        (host["units"] / unit).write_text("[Unit]\n")
    result, failed = run(host, {"image_mode": True}, bins={"systemctl": SYSTEMCTL})
    assert not failed and result["changed"] and result["devices"] == []
    assert [c["argv"] for c in host["commands"].calls][-1] == [SYSTEMCTL, "enable"] + list(_nvidia_cdi.REFRESH_UNITS)


def test_image_mode_without_units_fails_clearly(host):
    result, failed = run(host, {"image_mode": True})
    assert failed and "nvidia-cdi-refresh" in result["msg"] and host["commands"].calls == []


def test_against_the_lab_nvidia_ctk_double(host, monkeypatch):
    """The module over the real lab double (a subprocess), proving both follow the same contract."""
    ctk = os.path.join(DOUBLE, "usr", "bin", "nvidia-ctk")
    environ = dict(os.environ, PYTHONPATH=os.path.join(DOUBLE, "usr", "local", "lib", "python3.11", "dist-packages"),
                   EDGEAI_FAKE_NVML_STATE=str(host["tmp"] / "absent.json"))

    def execute(argv, **kwargs):
        done = subprocess.run(list(argv), env=dict(environ, **(kwargs.get("environ_update") or {})), capture_output=True, text=True,
                              check=False)
        return done.returncode, done.stdout, done.stderr

    host["commands"] = execute
    result, failed = run(host, {"nvidia_ctk_path": ctk}, bins={})
    assert not failed, result
    assert result["devices"] == ["nvidia.com/gpu=0", "nvidia.com/gpu=GPU-5bf3a1e2-8c1d-4f6a-9e27-0d3c4b5a6f71",
                                 "nvidia.com/gpu=all"]
    assert open(host["output"]).read().startswith("---\ncdiVersion:")
    assert run(host, {"nvidia_ctk_path": ctk}, bins={})[0]["changed"] is False


def test_wedged_nvidia_ctk_times_out_and_writes_nothing(host):
    """Fault: `nvidia-ctk cdi generate` stuck in a wedged driver hung the play (no deadline).

    Double: rc 124 is what coreutils `timeout` returns when it stopped the command.
    """
    host["commands"].responses.insert(0, (lambda argv: "generate" in argv, (124, "", "")))
    result, failed = run(host, bins={"nvidia-ctk": CTK, "systemctl": SYSTEMCTL, "timeout": "/usr/bin/timeout"})
    assert failed and "timed out after 120 s" in result["msg"] and "Xid" in result["msg"]
    assert host["commands"].calls[0]["argv"][:4] == ["/usr/bin/timeout", "--kill-after=10", "120s", CTK]
    assert not os.path.exists(host["output"])
