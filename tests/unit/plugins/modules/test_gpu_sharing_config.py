# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""gpu_sharing_config is pure rendering: it never runs a command, never reports changed, and fails before applying."""
from __future__ import annotations

from unittest import mock

import pytest

from ansible.module_utils import basic

from ansible_collections.edgeai.fleet.plugins.modules import gpu_sharing_config
from ansible_collections.edgeai.fleet.tests.unit.module_helpers import FakeRunCommand, run_module
from ansible_collections.edgeai.fleet.tests.unit.plugins.module_utils.gpu_sharing_facts import A100_40, A100_MIG, T4, facts

ARGS = {"gpu_facts": facts(A100_40, dict(A100_40, index=1, uuid="GPU-b")), "memory_per_replica": "10GiB",
        "latency_sensitive": True}


def _run(args, **kwargs):
    runner = FakeRunCommand()
    result, failed = run_module(gpu_sharing_config, args, run_command=runner, **kwargs)
    assert runner.calls == []  # pure: no command, no device state
    return result, failed


def test_plans_auto_mps_with_reason():
    result, failed = _run(ARGS)
    assert not failed and result["changed"] is False
    assert (result["strategy"], result["rule"], result["replicas"]) == ("mps", "latency", 4)
    assert result["config_key"].startswith("mps-4-")
    assert result["device_plugin_config_yaml"].startswith("version: v1\n")
    assert result["mps"]["active_thread_percentage"] == 25


def test_check_mode_returns_the_same_plan():
    normal = _run(ARGS)[0]
    checked, failed = _run(ARGS, check_mode=True)
    assert not failed and checked == normal


def test_diff_mode_has_nothing_to_diff():
    result, failed = _run(ARGS, diff=True)
    assert not failed and result["changed"] is False and "diff" not in result


def test_idempotent_second_run_is_identical():
    first = _run(ARGS)[0]
    second = _run(ARGS)[0]
    assert first == second and second["changed"] is False


@pytest.mark.parametrize("args,words", [
    ({"gpu_facts": facts(A100_MIG), "strategy": "mps", "replicas": 2}, "MIG enabled"),
    ({"gpu_facts": facts(T4), "strategy": "time-slicing", "replicas": 1}, "replicas: must be >= 2"),
    ({"gpu_facts": facts(T4), "strategy": "mig", "mig_layout": "all-1g.5gb"}, "MIG-capable"),
    ({"gpu_facts": facts(T4), "config": {"version": "v1", "flags": {"renameByDefault": True}}}, "flags.renameByDefault"),
])
def test_invalid_policy_fails_naming_field_and_rule(args, words):
    result, failed = _run(args)
    assert failed and words in result["msg"]
    assert "nothing was applied" in result["msg"] and result["errors"]
    assert "device_plugin_config" not in result  # no half plan to apply


@pytest.mark.parametrize("args,words", [
    ({"gpu_facts": facts(T4), "replicas": 2, "memory_per_replica": "2GiB"}, "mutually exclusive"),
    ({"gpu_facts": facts(T4), "strategy": "mps", "config": {"version": "v1"}}, "mutually exclusive"),
    ({"gpu_facts": facts(T4), "strategy": "vgpu"}, "vgpu_type"),
    ({"gpu_facts": facts(T4), "strategy": "share"}, "strategy"),
])
def test_argument_spec_rejects(args, words):
    result, failed = _run(args)
    assert failed and words in result["msg"]


def test_rollout_decision_is_returned_with_cluster_state():
    first = _run(ARGS)[0]
    args = dict(ARGS, current_node_key="mps-4-00000000", current_config_data={"mps-4-00000000": "old"})
    result, failed = _run(args)
    assert not failed
    assert result["rollout"]["relabel"] is True and result["rollout"]["restart"] is False
    assert result["config_key"] == first["config_key"]


def test_version_caveats_are_ansible_warnings():
    with mock.patch.object(basic.AnsibleModule, "warn") as warn:
        result, failed = _run({"gpu_facts": facts(A100_40), "strategy": "mps", "replicas": 2,
                               "fail_requests_greater_than_one": False})
    assert not failed and "warnings" not in result
    assert "v0.20.0" in warn.call_args.args[0]
