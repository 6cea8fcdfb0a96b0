# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The collection as a user gets it: the built tarball in an empty collections path, ansible-core only.

Reproduces issue 12 item 1: ``ansible-playbook edgeai.fleet.site`` failed to load with ``couldn't resolve
module/action 'kubernetes.core.k8s_info'`` after installing the tarball with only ansible-core, because
``galaxy.yml`` declared no dependencies and ``gpu_sharing`` imported its Kubernetes task files statically. The
dev venv hid it: the ``ansible`` PyPI package puts ~90 collections on ``sys.path``.

Here Ansible sees only the tarball and the collections its MANIFEST.json declares, copied offline from the
``ansible`` package's bundled copies (what ``ansible-galaxy`` would download from Galaxy). Each playbook is
syntax-checked and run with ``--check`` by its FQCN against a one-host inventory (this machine, connection
local) that is not the lab's, with no ansible.cfg and no ANSIBLE_* variables from the developer's shell.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from conftest import BIN, declared_dependencies, run

PLAYBOOKS = sorted(p.stem for p in (Path(__file__).resolve().parents[2] / "playbooks").glob("*.yml"))

# What a first --check run on a host that is neither bootc nor GPU needs from the user: the example inventory's
# documented variables, minus the ones naming their real registry and model store.
CHECK_VARS = {
    "os_rollout": {"os_rollout_image": "registry.example.com/edgeai/edge-os:2.0"},
    # What os_rollout publishes for the rollback job (set_stats, an AWX artifact).
    "os_rollback": {
        "os_rollout_previous_run": {"edge1": {"image": "registry.example.com/edgeai/edge-os:1.0", "digest": "sha256:" + "a" * 64}}
    },
    "deploy_models": {"model_serving_model_name": "ocr_det", "model_serving_artifact_src": "/nonexistent/ocr_det"},
}

# This machine is no bootc host: the rollout must reach the role and refuse it by name, changing nothing.
REFUSALS = {
    "os_rollout": "edge1 cannot be updated with bootc: bootc is not installed",
    "os_rollback": "edge1 cannot be rolled back with bootc: bootc is not installed",
}


def test_only_declared_collections_are_visible(installed):
    """The installed path holds edgeai.fleet and its declared dependencies, nothing from the dev venv."""
    rc, out = run([BIN / "ansible-galaxy", "collection", "list", "--format", "json"], installed["env"], installed["work"])
    assert rc == 0, out
    # ansible-core ships its own private ansible._* collections (2.19: ansible._protomatter).
    seen = {fqcn for path in json.loads(out).values() for fqcn in path if not fqcn.startswith("ansible._")}
    assert seen == {"edgeai.fleet", *declared_dependencies(installed["tarball"])}


def test_example_inventory_sets_only_known_variables():
    """Every variable in inventories/example/group_vars is a role option, a playbook variable or a connection one."""
    repo = Path(__file__).resolve().parents[2]
    known = set()
    for path in (repo / "roles").glob("*/meta/argument_specs.yml"):
        known |= set(yaml.safe_load(path.read_text())["argument_specs"]["main"]["options"])
    playbook_text = "\n".join(p.read_text() for p in (repo / "playbooks").glob("*.yml"))
    files = sorted((repo / "inventories" / "example" / "group_vars").glob("*.yml"))
    assert files, "inventories/example/group_vars is missing"
    for path in files:
        for name in yaml.safe_load(path.read_text()):
            assert name in known or name.startswith("ansible_") or f"{name} |" in playbook_text, f"{path.name}: {name}"


def test_every_module_is_in_the_fleet_action_group(installed):
    """module_defaults for group/edgeai.fleet.fleet must reach every module (issue 12: model_server was in none)."""
    collection = installed["collections"] / "ansible_collections" / "edgeai" / "fleet"
    groups = yaml.safe_load((collection / "meta" / "runtime.yml").read_text())["action_groups"]
    modules = {p.stem for p in (collection / "plugins" / "modules").glob("*.py")}
    assert set(groups["fleet"]) == modules
    assert set().union(*(set(v) for k, v in groups.items() if k != "fleet")) == modules


@pytest.mark.parametrize("playbook", PLAYBOOKS)
def test_playbook_loads_and_check_runs(installed, playbook):
    """Syntax-check, then --check, each playbook by FQCN: fails on 6e8530b for site (kubernetes.core unresolved)."""
    base = [BIN / "ansible-playbook", "-i", installed["inventory"], f"edgeai.fleet.{playbook}"]
    rc, out = run([*base, "--syntax-check"], installed["env"], installed["work"])
    assert rc == 0, out
    extra = ["-e", json.dumps(CHECK_VARS[playbook])] if CHECK_VARS.get(playbook) else []
    rc, out = run([*base, "--check", *extra], installed["env"], installed["work"])
    if playbook in REFUSALS:
        assert rc == 2 and REFUSALS[playbook] in out, out
    else:
        assert rc == 0, out
    assert "edge1" in out
