# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The package stage's shared fixture: the built tarball installed as a user gets it (see test_fresh_install.py)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
BUNDLED = Path(sysconfig.get_paths()["purelib"]) / "ansible_collections"


def clean_env(collections: Path) -> dict:
    # The Makefile exports ANSIBLE_COLLECTIONS_PATH and ANSIBLE_CONFIG pointing at this checkout: drop them all.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "PYTEST_"))}
    env.update(
        ANSIBLE_COLLECTIONS_PATH=str(collections),
        ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_RETRY_FILES_ENABLED="false",
        ANSIBLE_LOCAL_TEMP=str(collections.parent / "tmp"),
        ANSIBLE_HOME=str(collections.parent / "ansible-home"),
    )
    return env


def run(argv, env, cwd):
    proc = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=600, check=False)
    return proc.returncode, proc.stdout + proc.stderr


def declared_dependencies(tarball: Path) -> dict:
    with tarfile.open(tarball) as tar:
        member = tar.extractfile("MANIFEST.json")
        assert member is not None, "the tarball has no MANIFEST.json"
        return json.load(member)["collection_info"]["dependencies"] or {}


@pytest.fixture(scope="session")
def installed(tmp_path_factory):
    """Build the tarball from this tree and install it, with its declared dependencies only."""
    root = tmp_path_factory.mktemp("fresh-install")
    work = root / "work"
    work.mkdir()
    collections = root / "collections"
    env = clean_env(collections)
    rc, out = run([BIN / "ansible-galaxy", "collection", "build", "--output-path", root, REPO], env, work)
    assert rc == 0, out
    tarball = next(root.glob("edgeai-fleet-*.tar.gz"))

    for fqcn in declared_dependencies(tarball):
        namespace, name = fqcn.split(".")
        source = BUNDLED / namespace / name
        assert source.is_dir(), f"declared dependency {fqcn} is not in the ansible package's bundle ({BUNDLED})"
        shutil.copytree(source, collections / "ansible_collections" / namespace / name)

    # --offline: the resolver must find every dependency, at its floor, among the collections copied above.
    rc, out = run([BIN / "ansible-galaxy", "collection", "install", "--offline", "-p", collections, tarball], env, work)
    assert rc == 0, out

    # The example estate's group_vars, so the check runs also prove they pass every role's argument_specs.
    shutil.copytree(REPO / "inventories" / "example" / "group_vars", work / "group_vars")
    inventory = work / "hosts.yml"
    inventory.write_text(
        json.dumps(
            {
                "all": {
                    "hosts": {
                        "edge1": {
                            "ansible_connection": "local",
                            "ansible_python_interpreter": sys.executable,
                            # The test runs as root without sudo; the playbooks ask for become.
                            "ansible_become": os.geteuid() != 0,
                            # This machine has no running systemd, which "auto" rightly takes for an image build.
                            "nvidia_toolkit_mode": "package",
                        }
                    },
                    # The groups of inventories/example; bootc is the one os_rollout targets by default.
                    "children": {"bootc": {"hosts": {"edge1": {}}}, "gpu": {"hosts": {"edge1": {}}}},
                }
            }
        )
    )
    return {"env": env, "work": work, "inventory": inventory, "collections": collections, "tarball": tarball}
