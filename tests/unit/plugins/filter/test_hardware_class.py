# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Hosts with the same CPU model and GPUs share a class; an inventory value wins."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.edgeai.fleet.plugins.filter.hardware_class import FilterModule

hardware_class = FilterModule().filters()["hardware_class"]

A100 = {"ansible_facts": {"processor": ["0", "GenuineIntel", "Xeon 8480"], "edgeai_gpu": {"products": ["NVIDIA A100"]}}}


def test_same_hardware_same_class_and_gpus_make_a_difference():
    assert hardware_class(A100) == hardware_class(dict(A100))
    cpu_only = {"ansible_facts": {"processor": ["0", "GenuineIntel", "Xeon 8480"], "edgeai_gpu": {"products": []}}}
    assert hardware_class(cpu_only) != hardware_class(A100)
    assert len(hardware_class(cpu_only)) == 12


def test_without_facts_the_cpu_is_unknown_not_an_error():
    assert hardware_class({}) == hardware_class({"ansible_facts": {"processor": []}})


@pytest.mark.parametrize("explicit, expected", [("  jetson-orin ", "jetson-orin"), ("", None), (None, None)])
def test_inventory_value_wins_unless_empty(explicit, expected):
    value = hardware_class(dict(A100, model_serving_hardware_class=explicit))
    assert value == (expected or hardware_class(A100))


def test_refuses_what_is_not_host_variables():
    with pytest.raises(AnsibleFilterError, match="hostvars"):
        hardware_class("edge-01")


def test_a_target_resolved_by_auto_splits_the_class():
    """model_serving sets __model_serving_target (edgeai.fleet.serving_target) only for target auto."""
    npu = dict(A100, __model_serving_target={"target": "openvino", "device": "NPU", "accelerator": "x", "why": "y"})
    cpu = dict(A100, __model_serving_target={"target": "openvino", "device": "CPU", "accelerator": "cpu", "why": "y"})
    assert len({hardware_class(A100), hardware_class(npu), hardware_class(cpu)}) == 3
    assert hardware_class(dict(npu, model_serving_hardware_class="lab")) == "lab-openvino-npu"
    dla = dict(A100, __model_serving_target={"target": "tensorrt", "device": "DLA0"}, model_serving_hardware_class="orin")
    assert hardware_class(dla) == "orin-tensorrt-dla0"
    assert hardware_class(dict(A100, __model_serving_target="../../etc")) == hardware_class(A100)
