# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which packages the model_serving role puts into the kserve server's venv, and what the lab wheelhouse holds.

Real: the role's defaults and vars files templated by ansible-core's own Templar (the expression the install task
passes to model_server), and the wheelhouse script's own parser run by bash on the role's defaults.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
ROLE = os.path.join(ROOT, "roles", "model_serving")


@pytest.fixture(scope="module")
def role_vars():
    loader = DataLoader()
    variables = dict(loader.load_from_file(os.path.join(ROLE, "defaults", "main.yml"), trusted_as_template=True))
    variables.update(loader.load_from_file(os.path.join(ROLE, "vars", "main.yml"), trusted_as_template=True))
    return loader, variables


def install_packages(role_vars, deployed, **overrides):
    loader, variables = role_vars
    templar = Templar(loader=loader, variables=dict(variables, __model_serving_deployed=deployed, **overrides))
    return templar.template(trust_as_template("{{ __model_serving_kserve_install_packages }}"))


@pytest.mark.parametrize("target,expected", [
    ("tflite", ["numpy==2.4.6", "ai-edge-litert==2.3.0"]),
    ("edgetpu", ["numpy==2.4.6", "ai-edge-litert==2.3.0"]),
    ("onnxruntime", ["numpy==2.4.6", "onnxruntime==1.32.0"]),
    ("openvino", ["numpy==2.4.6", "openvino==2026.4.1"]),
    ("tensorrt", ["numpy==2.4.6"]),  # the triton backend's; the kserve server refuses it with a clear load error
])
def test_the_venv_gets_the_common_packages_and_the_served_targets_runtime(role_vars, target, expected):
    assert install_packages(role_vars, {"manifest": {"target": target}}) == expected


@pytest.mark.parametrize("deployed", [{}, {"manifest": None}], ids=["nothing-deployed", "no-manifest"])
def test_without_a_known_target_only_the_common_packages(role_vars, deployed):
    assert install_packages(role_vars, deployed) == ["numpy==2.4.6"]


@pytest.mark.parametrize("common,target,expected", [
    # The lab inventory's list from before the map: the controller's OpenVINO pin wins, nothing is asked for twice.
    (["onnxruntime==1.32.0", "numpy==2.4.6", "openvino==2026.3.0"], "openvino",
     ["onnxruntime==1.32.0", "numpy==2.4.6", "openvino==2026.3.0"]),
    (["numpy", "ai_edge.LiteRT>=2"], "tflite", ["numpy", "ai_edge.LiteRT>=2"]),  # PEP 503 names compared
    (["onnxruntime==1.32.0", "numpy==2.4.6"], "tflite", ["onnxruntime==1.32.0", "numpy==2.4.6", "ai-edge-litert==2.3.0"]),
], ids=["old-list-with-openvino", "normalised-name", "old-default-list"])
def test_a_runtime_pinned_in_the_common_list_wins_over_the_map(role_vars, common, target, expected):
    got = install_packages(role_vars, {"manifest": {"target": target}}, model_serving_kserve_packages=common)
    assert got == expected


def test_the_lab_wheelhouse_holds_every_targets_runtime():
    script = os.path.join(ROOT, "tests", "lab", "wheelhouse.sh")
    parser = ('source <(sed -n "/^role_packages()/,/^}/p" "$1"); DEFAULTS=$2; role_packages')
    out = subprocess.run(["bash", "-c", parser, "bash", script, os.path.join(ROLE, "defaults", "main.yml")],
                         capture_output=True, text=True, check=True).stdout.split()
    assert out == ["numpy==2.4.6", "onnxruntime==1.32.0", "openvino==2026.4.1", "ai-edge-litert==2.3.0"]
