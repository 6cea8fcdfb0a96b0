# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""edgeai.fleet.accelerator_info end to end in-process, over a fake sysfs/devfs tree given as ``root``
(tests/unit/plugins/module_utils/accel/fixtures/sysfs_tree.py says what is simulated: /dev nodes are plain files)."""

from __future__ import annotations

from ansible_collections.edgeai.fleet.plugins.modules import accelerator_info
from ansible_collections.edgeai.fleet.tests.unit.module_helpers import FakeRunCommand, run_module
from ansible_collections.edgeai.fleet.tests.unit.plugins.module_utils.accel.fixtures.sysfs_tree import Tree


def run(args, **kwargs):
    commands = FakeRunCommand()
    result, failed = run_module(accelerator_info, args, run_command=commands, **kwargs)
    assert commands.calls == [], "accelerator_info runs no command"
    return result, failed


def npu_and_coral(tmp_path):
    tree = Tree(tmp_path)
    tree.pci("0000:00:0b.0", "0x8086", "0x7d1d", driver="intel_vpu", module="intel_vpu", version="1.0.", cls="accel",
             devname="accel/accel0", mode=0o666)
    tree.usb("1-2", "18d1", "9302", 1, 4, mode=0o666)
    return tree


def test_reports_the_devices_of_the_tree_as_facts(tmp_path):
    npu_and_coral(tmp_path)
    result, failed = run({"root": str(tmp_path)})
    facts = result["ansible_facts"]["edgeai_accelerators"]
    assert not failed and result["changed"] is False
    assert (facts["count"], facts["targets"], facts["reason"]) == (2, ["edgetpu", "openvino:NPU"], None)
    assert [(d["kind"], d["path"]) for d in facts["devices"]] == [("npu", "/dev/accel/accel0"),
                                                                  ("edgetpu", "/dev/bus/usb/001/004")]


def test_include_usb_false(tmp_path):
    npu_and_coral(tmp_path)
    facts = run({"root": str(tmp_path), "include_usb": False})[0]["ansible_facts"]["edgeai_accelerators"]
    assert [d["kind"] for d in facts["devices"]] == ["npu"]


def test_check_mode_and_diff_give_the_same_read_only_answer(tmp_path):
    npu_and_coral(tmp_path)
    normal = run({"root": str(tmp_path)})[0]
    checked, failed = run({"root": str(tmp_path)}, check_mode=True, diff=True)
    assert not failed and checked["changed"] is False and "diff" not in checked
    assert checked["ansible_facts"] == normal["ansible_facts"]


def test_no_accelerators_is_an_answer_not_a_failure(tmp_path):
    result, failed = run({"root": str(tmp_path)})
    assert not failed
    assert result["ansible_facts"]["edgeai_accelerators"] == {
        "count": 0, "devices": [], "targets": [], "reason": "no accelerators found"}


def test_a_root_that_is_not_a_directory_fails_with_the_fix(tmp_path):
    result, failed = run({"root": str(tmp_path / "missing")})
    assert failed and "is not a directory" in result["msg"] and result["exception"].startswith("Traceback")


def test_runs_on_this_host_without_failing():
    """The real /sys of the machine running the tests: whatever it has, the answer is well formed."""
    result, failed = run({})
    facts = result["ansible_facts"]["edgeai_accelerators"]
    assert not failed and facts["count"] == len(facts["devices"])
