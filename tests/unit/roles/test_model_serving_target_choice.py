# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""model_serving_compile target auto, through ansible-playbook and the role's own set_vars.yml.

Five "devices" are localhost with connection=local. A test module stands in for accelerator_info and gpu_info:
it returns, as ansible_facts, the edgeai_accelerators and edgeai_gpu of an Intel NPU box (twice), a CPU-only box,
a Jetson Orin with two DLA cores, and a box whose compile target is not auto. What is simulated is only where the
facts come from; the role's tasks, the filters and the hardware class run for real.
"""

from __future__ import annotations

import json
import sys

import pytest

from ansible_collections.edgeai.fleet.tests.unit.plugins.action.test_model_artifact_fetch import run_playbook

NPU = {"kind": "npu", "vendor": "intel", "model": None, "path": "/dev/accel/accel0", "bus": "pci", "id": "8086:7d1d",
       "driver": "intel_vpu", "driver_version": None, "firmware_version": None, "usable": True, "reason": None,
       "targets": ["openvino:NPU"]}
DLA = [dict(NPU, kind="dla", vendor="nvidia", path=None, bus="platform", id="dla%d" % core, driver=None,
            targets=["tensorrt:dla"]) for core in (0, 1)]
NO_GPU = {"platform": "none", "count": 0, "products": [], "gpus": [], "tegra": None, "present": False}
ORIN = dict(NO_GPU, platform="tegra", present=True, tegra={"model": "NVIDIA Jetson AGX Orin", "l4t_release": "36.3.0"})
CPU = ["0", "GenuineIntel", "Core Ultra 7 155H"]


def accel(*devices):
    return {"count": len(devices), "devices": list(devices), "targets": [], "reason": None}


FACTS = {
    "npu1": {"edgeai_accelerators": accel(NPU), "edgeai_gpu": NO_GPU, "processor": CPU},
    "npu2": {"edgeai_accelerators": accel(NPU), "edgeai_gpu": NO_GPU, "processor": CPU},
    "cpu1": {"edgeai_accelerators": accel(), "edgeai_gpu": NO_GPU, "processor": CPU},
    "orin1": {"edgeai_accelerators": accel(*DLA), "edgeai_gpu": ORIN, "processor": CPU},
    "plain": {"edgeai_accelerators": accel(NPU), "edgeai_gpu": NO_GPU, "processor": CPU},
}
COMPILE = {host: {"src": "/models/det.onnx", "target": "auto", "precision": "int8"} for host in FACTS}
COMPILE["plain"] = {"src": "/models/det.onnx", "target": "openvino", "precision": "int8"}

FACTS_MODULE = """#!/usr/bin/python
from ansible.module_utils.basic import AnsibleModule
module = AnsibleModule(argument_spec=dict(facts=dict(type="dict", required=True)))
module.exit_json(changed=False, ansible_facts=module.params["facts"])
"""

PLAY = """
- hosts: all
  gather_facts: false
  vars:
    model_serving_model_name: det
    model_serving_image_build: false
    model_serving_compile: "{{ compile_by_host[inventory_hostname] }}"
  tasks:
    - name: Facts as accelerator_info and gpu_info would return them
      device_facts:
        facts: "{{ facts_by_host[inventory_hostname] }}"
    - name: Choose the target
      ansible.builtin.import_role:
        name: edgeai.fleet.model_serving
        tasks_from: set_vars.yml
    - name: Record what the artifact tasks would see
      ansible.builtin.set_fact:
        record:
          class: "{{ __model_serving_class }}"
          leaders: "{{ __model_serving_class_leaders }}"
          target: "{{ __model_serving_target | default(None) }}"
          params: >-
            {{ (__model_serving_compile_params | default(model_serving_compile))
               | dict2items | rejectattr('key', 'eq', 'gpu_facts') | items2dict }}
          gpu_facts: "{{ 'gpu_facts' in (__model_serving_compile_params | default({})) }}"
    - name: Write every host's record at once
      ansible.builtin.copy:
        dest: "{{ out }}/chosen.json"
        mode: "0644"
        content: "{{ dict(ansible_play_hosts | zip(ansible_play_hosts | map('extract', hostvars, 'record'))) | to_json }}"
      run_once: true
"""


@pytest.fixture(scope="module")
def chosen(tmp_path_factory):
    """One ansible-playbook run (a few seconds) for every case."""
    tmp_path = tmp_path_factory.mktemp("target-choice")
    library = tmp_path / "library"
    library.mkdir()
    (library / "device_facts.py").write_text(FACTS_MODULE)
    inventory = "\n".join(FACTS) + "\n[all:vars]\nansible_connection=local\nansible_python_interpreter=%s\n" % (
        sys.executable)
    proc = run_playbook(tmp_path, PLAY, {"facts_by_host": FACTS, "compile_by_host": COMPILE, "out": str(tmp_path)},
                        library=library, inventory=inventory)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads((tmp_path / "chosen.json").read_text())


@pytest.mark.parametrize("host, params, accelerator", [
    ("npu1", {"target": "openvino", "device": "NPU"}, "intel NPU /dev/accel/accel0"),
    ("cpu1", {"target": "openvino", "device": "CPU"}, "cpu"),
    ("orin1", {"target": "tensorrt", "dla_core": 0}, "nvidia DLA dla0"),
])
def test_auto_resolves_per_host_from_its_facts(chosen, host, params, accelerator):
    assert {key: chosen[host]["params"].get(key) for key in params} == params
    assert chosen[host]["params"]["precision"] == "int8" and chosen[host]["params"]["src"] == "/models/det.onnx"
    assert chosen[host]["target"]["accelerator"] == accelerator
    # TensorRT builds for the GPU the facts describe (a Jetson's, for the DLA).
    assert chosen[host]["gpu_facts"] == (params["target"] == "tensorrt")


def test_the_resolved_target_splits_the_hardware_class(chosen):
    """Same CPU, no discrete GPU everywhere: only the choice tells the classes apart."""
    assert chosen["npu1"]["class"] == chosen["npu2"]["class"]
    classes = {chosen[host]["class"] for host in ("npu1", "cpu1", "orin1", "plain")}
    assert len(classes) == 4
    assert sorted(chosen["npu1"]["leaders"]) == ["cpu1", "npu1", "orin1", "plain"]


def test_without_auto_nothing_changes(chosen):
    assert chosen["plain"]["target"] is None
    assert chosen["plain"]["params"] == COMPILE["plain"]
