# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""edgeai.fleet.gpu_info end to end in-process, over the lab's pynvml double (simulated A100;
no driver or GPU) or with the library absent."""

from __future__ import annotations

import importlib.util
import json
import os

import pytest

from ansible_collections.edgeai.fleet.plugins.modules import gpu_info
from ansible_collections.edgeai.fleet.tests.unit.module_helpers import FakeRunCommand, run_module

DOUBLE = os.path.join(os.path.dirname(__file__), "..", "..", "..", "lab", "doubles", "nvidia", "rootfs",
                      "usr", "local", "lib", "python3.11", "dist-packages", "pynvml.py")


@pytest.fixture
def fake_nvml(tmp_path, monkeypatch):
    """Install a fresh pynvml double as the module's library; returns a function setting its state."""
    spec = importlib.util.spec_from_file_location("fake_pynvml_module_test", DOUBLE)
    nvml = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(nvml)
    monkeypatch.setattr(gpu_info, "pynvml", nvml)
    state = tmp_path / "nvml.json"

    def configure(doc):
        state.write_text(json.dumps(doc))
        monkeypatch.setenv("EDGEAI_FAKE_NVML_STATE", str(state))
        return nvml

    configure(nvml.DEFAULT_STATE)
    return configure


def run(args=None, **kwargs):
    commands = FakeRunCommand()
    result, failed = run_module(gpu_info, args or {}, run_command=commands, **kwargs)
    assert commands.calls == [], "gpu_info runs no command"
    return result, failed


def test_reports_the_simulated_a100_as_facts(fake_nvml):
    result, failed = run()
    assert not failed and result["changed"] is False
    facts = result["ansible_facts"]["edgeai_gpu"]
    assert facts["platform"] == "nvml" and facts["count"] == 1 and facts["mig_capable"] is True
    assert facts["gpus"][0]["pci_device_id"] == "0x20B010DE"


def test_check_mode_and_diff_give_the_same_read_only_answer(fake_nvml):
    normal = run()[0]
    checked, failed = run(check_mode=True, diff=True)
    assert not failed and checked["changed"] is False and "diff" not in checked
    assert checked["ansible_facts"] == normal["ansible_facts"], "idempotent and unaffected by check mode"


def test_missing_library_is_an_answer_not_a_failure(monkeypatch):
    monkeypatch.setattr(gpu_info, "pynvml", None)
    result, failed = run()
    facts = result["ansible_facts"]["edgeai_gpu"]
    assert not failed and result["changed"] is False
    assert (facts["platform"], facts["gpus"], facts["reason"]) == ("none", [], "nvidia-ml-py (pynvml) is not installed")


def test_missing_library_fails_when_nvml_is_required(monkeypatch):
    monkeypatch.setattr(gpu_info, "pynvml", None)
    monkeypatch.setattr(gpu_info, "PYNVML_IMPORT_ERROR", "Traceback: No module named 'pynvml'")
    result, failed = run({"require_nvml": True})
    assert failed and "nvidia-ml-py" in result["msg"] and result["exception"].startswith("Traceback")


def test_driver_not_loaded_is_an_answer(fake_nvml):
    fake_nvml({"init_error": "DriverNotLoaded"})
    result, failed = run()
    assert not failed and result["ansible_facts"]["edgeai_gpu"]["gpus"] == []
    assert "not loaded" in result["ansible_facts"]["edgeai_gpu"]["reason"]


def test_driver_not_loaded_fails_when_nvml_is_required(fake_nvml):
    fake_nvml({"init_error": "LibRmVersionMismatch"})
    result, failed = run({"require_nvml": True})
    assert failed and "require_nvml=true" in result["msg"] and "reboot" in result["msg"]


def test_working_nvml_without_gpus_is_not_a_failure_even_when_required(fake_nvml):
    fake_nvml({"driver_version": "550.54.15", "cuda_driver_version": 12040, "nvml_version": "12.550.54.15", "gpus": []})
    result, failed = run({"require_nvml": True})
    assert not failed and result["ansible_facts"]["edgeai_gpu"]["count"] == 0


def test_bad_option_type_is_refused_with_the_field_named(fake_nvml):
    result, failed = run({"require_nvml": "perhaps"})
    assert failed and "require_nvml" in result["msg"]


def test_unknown_option_is_refused(fake_nvml):
    result, failed = run({"gpus": "all"})
    assert failed and "gpus" in result["msg"]
