# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""execution-environment.yml: an EE base image, every collection pinned, and only the collections content uses.

Issue 12: the EE was built on a plain OS image and installed containers.podman and ansible.posix, which nothing in
the collection loads, at whatever version the build day resolved.
"""

from __future__ import annotations

import json
import re

import yaml
from conftest import BUNDLED, REPO

EE = yaml.safe_load((REPO / "execution-environment.yml").read_text())
# What ships and runs in a job; examples/ and the tests are not in the EE's jobs.
CONTENT = [p for d in ("roles", "playbooks", "plugins") for p in (REPO / d).rglob("*") if p.suffix in (".yml", ".py")]
FQCN = re.compile(r"\b([a-z][a-z0-9_]*)\.([a-z][a-z0-9_]*)\.[a-z][a-z0-9_]*\b")


def used_collections():
    used = set()
    for path in CONTENT:
        used |= {f"{ns}.{name}" for ns, name in FQCN.findall(path.read_text())}
    # Keep only names that are installed collections (drops dotted variables such as ansible_facts.edgeai_gpu.count).
    return {fqcn for fqcn in used if (BUNDLED / fqcn.replace(".", "/")).is_dir() and fqcn != "ansible.builtin"}


def test_base_image_is_an_execution_environment_base():
    assert EE["images"]["base_image"]["name"].startswith("ghcr.io/ansible-community/community-ee-")
    assert "registry.redhat.io/ansible-automation-platform-25/ee-minimal-rhel9" in (REPO / "execution-environment.yml").read_text()


def test_collections_are_the_used_ones_pinned_to_the_tested_version():
    pinned = {c["name"]: c["version"] for c in EE["dependencies"]["galaxy"]["collections"]}
    assert set(pinned) == used_collections() == {"kubernetes.core"}
    for name, version in pinned.items():
        manifest = json.loads((BUNDLED / name.replace(".", "/") / "MANIFEST.json").read_text())
        assert version == "==" + manifest["collection_info"]["version"], name
