# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The controller's identity of an artifact is the one model_deploy records on the device."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.edgeai.fleet.plugins.filter.model_identity import FilterModule
from ansible_collections.edgeai.fleet.plugins.module_utils import _model_repo as mr
from ansible_collections.edgeai.fleet.tests.unit.plugins.module_utils.test__model_repo import make_artifact

model_identity = FilterModule().filters()["model_identity"]


def test_matches_what_model_deploy_records(tmp_path):
    manifest = make_artifact(str(tmp_path / "a"))
    repo = mr.ModelRepo(str(tmp_path / "repo"), "det")
    assert model_identity(manifest) == mr.deploy(repo, {"kind": "path", "path": str(tmp_path / "a")})["identity"]


@pytest.mark.parametrize("value", [None, "manifest.json", {"files": ["model.onnx"]}])
def test_refuses_what_is_not_a_manifest(value):
    with pytest.raises(AnsibleFilterError, match="parsed manifest.json"):
        model_identity(value)
