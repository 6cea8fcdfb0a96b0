# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The controller fetch of a device-compiled artifact, through ansible-playbook (issue 11, hole 1).

The "device" is localhost with connection=local and its artifact in a temporary directory: the action plugin,
ansible.builtin.find/slurp/fetch and the role's task file run for real; only the compile is left out (a real
model_compile needs the model toolchain), its output being written by the collection's own manifest contract.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ansible_collections.edgeai.fleet.plugins.module_utils import _artifact_fetch as af
from ansible_collections.edgeai.fleet.tests.unit.plugins.module_utils.test__model_repo import make_artifact, snapshot

# not resolved: the checkout is usually linked into an ansible_collections/edgeai/fleet tree
COLLECTIONS_ROOT = Path(os.path.abspath(af.__file__)).parents[5]


def sha(data):
    return hashlib.sha256(data).hexdigest()


def rewrite_manifest(path, **files):
    doc = json.loads((path / "manifest.json").read_text())
    doc["files"].update(files)
    (path / "manifest.json").write_text(json.dumps(doc))


def run_playbook(tmp_path, playbook, extra_vars=None, library=None, start_at=None, inventory=None):
    if not (COLLECTIONS_ROOT / "ansible_collections" / "edgeai" / "fleet" / "plugins").is_dir():
        pytest.skip("the collection is not imported from an ansible_collections/edgeai/fleet tree")
    (tmp_path / "play.yml").write_text(playbook)
    (tmp_path / "inventory.ini").write_text(
        inventory or "leader ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable)
    # Pipelining as in the collection's ansible.cfg: one process per module run instead of five.
    (tmp_path / "ansible.cfg").write_text("[defaults]\n[connection]\npipelining = true\n")
    # The caller's Ansible settings (make's ANSIBLE_CONFIG, a fact cache) must not leak into this run.
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("ANSIBLE_") or key.startswith("ANSIBLE_TEST_")}
    env.update(ANSIBLE_CONFIG=str(tmp_path / "ansible.cfg"), ANSIBLE_HOME=str(tmp_path / "home"),
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"), ANSIBLE_REMOTE_TEMP=str(tmp_path / "rtmp"),
               ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS_ROOT), ANSIBLE_NOCOLOR="1")
    if library:
        env["ANSIBLE_LIBRARY"] = str(library)
    argv = [sys.executable, "-m", "ansible.cli.playbook", "-i", "inventory.ini", "play.yml"]
    if extra_vars:
        argv += ["-e", json.dumps(extra_vars)]
    if start_at:
        argv += ["--start-at-task", start_at]
    return subprocess.run(argv, cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=120,
                          check=False)


def make_layout(root):
    """device/a/b/det holds the compiled artifact; controller/cache is the controller's artifact cache.

    The depths make ``../../../escaped`` land in device/ on the device side and in controller/ on the controller
    side, so a traversal that the old task file allowed is visible as controller/escaped.
    """
    make_artifact(str(root / "device" / "a" / "b" / "det"))
    (root / "device" / "escaped").write_bytes(b"planted")
    (root / "controller" / "cache").mkdir(parents=True)
    return root


@pytest.fixture
def layout(tmp_path):
    return make_layout(tmp_path)


PLUGIN_PLAY = """
- hosts: leader
  gather_facts: false
  tasks:
    - name: Fetch {{ item.label }}
      edgeai.fleet.model_artifact_fetch:
        src: "{{ item.src }}"
        cache: "{{ item.cache }}"
        hardware_class: "{{ item.cls | default('cls') }}"
        name: det
        max_bytes: "{{ item.max_bytes | default(1048576) }}"
      loop: "{{ cases }}"
      loop_control:
        label: "{{ item.label }}"
      register: fetched
      ignore_errors: true

    - name: Keep the results
      ansible.builtin.copy:
        content: "{{ fetched.results | to_json }}"
        dest: "{{ results }}"
        mode: "0600"
"""

# What each hostile leader's failure message says.
# Only the cases that need the real find/slurp/fetch path; the rest of the attack table (absolute keys, odd names,
# sizes, missing files) is in tests/unit/plugins/module_utils/test__artifact_fetch.py, where a case costs no
# ansible-playbook module round trip.
HOSTILE = {
    "dotdot": "'..'", "symlink": "symlink", "wrong_sha": "sha256 mismatch for model.onnx",
    "class": "cannot name a directory",
}


@pytest.fixture(scope="module")
def plugin_run(tmp_path_factory):
    """One ansible-playbook run over every case (a run costs seconds): an honest leader fetched twice into an empty
    class, then each hostile leader against a class whose cache holds the previous good artifact."""
    root = make_layout(tmp_path_factory.mktemp("plugin"))
    base = root / "device" / "a" / "b"
    good = base / "det"
    cache = root / "controller" / "cache"
    cases = [{"label": "first", "src": str(good), "cache": str(cache), "cls": "fresh"},
             {"label": "again", "src": str(good), "cache": str(cache), "cls": "fresh"}]

    def hostile(label, change, **case):
        path = base / label
        shutil.copytree(good, path, symlinks=True)
        change(path)
        cases.append(dict({"label": label, "src": str(path), "cache": str(cache)}, **case))

    def symlink(path):
        (path / "model.onnx").unlink()
        (path / "model.onnx").symlink_to(root / "device" / "escaped")
        rewrite_manifest(path, **{"model.onnx": sha(b"planted")})

    def wrong_sha(path):
        # A new version whose bytes were changed after the manifest was written (or on the wire).
        rewrite_manifest(path, **{"model.onnx": sha(b"version 2")})
        (path / "model.onnx").write_bytes(b"version 2, tampered")

    hostile("dotdot", lambda p: rewrite_manifest(p, **{"../../../escaped": sha(b"planted")}))
    hostile("symlink", symlink)
    hostile("wrong_sha", wrong_sha)
    hostile("class", lambda p: None, cls="../..")
    # The previous good state of class cls.
    shutil.copytree(good, cache / "cls" / "det")
    before = snapshot(cache / "cls")
    proc = run_playbook(root, PLUGIN_PLAY, {"cases": cases, "results": str(root / "results.json")})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = json.loads((root / "results.json").read_text())
    return root, before, {case["label"]: result for case, result in zip(cases, results)}


def test_honest_artifact_is_fetched_once_then_left_alone(plugin_run):
    root, _before, results = plugin_run
    device = root / "device" / "a" / "b" / "det"
    assert results["first"]["changed"] is True and not results["first"].get("failed"), results["first"]
    assert results["again"]["changed"] is False and not results["again"].get("failed"), results["again"]
    assert results["first"]["path"] == str(root / "controller" / "cache" / "fresh" / "det")
    assert snapshot(root / "controller" / "cache" / "fresh") == dict(
        {"det": "dir"}, **{"det/" + rel: data for rel, data in snapshot(device).items()})


@pytest.mark.parametrize("label", sorted(HOSTILE))
def test_a_hostile_leader_fails_with_a_clear_message(plugin_run, label):
    """Attacks by a compromised compile leader: a ``..`` key (the reported hole), a listed file that is a symlink
    to a device secret, bytes that differ from the manifest's sha256, a class that climbs out of the cache."""
    result = plugin_run[2][label]
    assert result.get("failed") is True, result
    assert HOSTILE[label] in result["msg"], result["msg"]


def test_hostile_leaders_change_nothing_on_the_controller(plugin_run):
    """After every hostile run the previous good cache is byte-for-byte the same, nothing escaped and no
    .incoming-*/.old-* staging directory is left behind."""
    root, before, _results = plugin_run
    cache = root / "controller" / "cache"
    assert snapshot(cache / "cls") == before
    assert sorted(os.listdir(cache)) == ["cls", "fresh"]
    assert sorted(os.listdir(root / "controller")) == ["cache"]


# Matches the first task after the compile in the old task file ("Read the manifest ...") and in the new one.
START_AT = "*manifest*"
ROLE_PLAY = """
- hosts: all
  gather_facts: false
  vars:
    model_serving_model_name: det
    model_serving_compile: {src: /nonexistent/model.onnx}
    model_serving_artifact_cache: "{{ cache }}"
  tasks:
    - name: Share the artifact of the class
      ansible.builtin.import_role:
        name: edgeai.fleet.model_serving
        tasks_from: artifact.yml
"""


def test_the_role_refuses_a_dotdot_key_and_fetches_an_honest_artifact(tmp_path):
    """The reported attack through the role's own task file. Host ``leader`` compiled class cls and its
    manifest.json lists ``../../../escaped``: the old task file fetched that to controller/escaped (outside the
    cache) and passed; now the host fails and nothing outside the cache is written. Host ``honest`` leads class
    cls2 with a sound artifact, which lands in the class cache. The compile is skipped with --start-at-task."""
    make_layout(tmp_path)
    base = tmp_path / "device" / "a" / "b"
    shutil.copytree(base / "det", base / "honest")
    rewrite_manifest(base / "det", **{"../../../escaped": sha(b"planted")})
    inventory = ("leader model_serving_hardware_class=cls\nhonest model_serving_hardware_class=cls2\n"
                 "[all:vars]\nansible_connection=local\nansible_python_interpreter=%s\n" % sys.executable)
    proc = run_playbook(tmp_path, ROLE_PLAY, {
        "__model_serving_compile_dest": "{{ '%s' if inventory_hostname == 'leader' else '%s' }}"
                                        % (base / "det", base / "honest"),
        "cache": str(tmp_path / "controller" / "cache")}, start_at=START_AT, inventory=inventory)
    assert not (tmp_path / "controller" / "escaped").exists()
    assert sorted(os.listdir(tmp_path / "controller")) == ["cache"]
    assert proc.returncode != 0, proc.stdout
    assert "is refused: empty, '.' or '..' path component" in proc.stdout, proc.stdout
    assert sorted(os.listdir(tmp_path / "controller" / "cache")) == ["cls2"]
    assert snapshot(tmp_path / "controller" / "cache" / "cls2" / "det") == snapshot(base / "honest")


def test_device_facts_cannot_choose_controller_paths(layout):
    """Facts are injected as variables and outrank inventory: a device whose Python reports a fact named
    model_serving_artifact_cache would choose the controller's cache (and the source of the copy to the rest of
    the class). A test module stands in for the compromised device's fact-gathering; the role refuses the host."""
    library = layout / "library"
    library.mkdir()
    (library / "hostile_facts.py").write_text(
        "#!/usr/bin/python\nimport json\nprint(json.dumps({'changed': False, 'ansible_facts': "
        "{'model_serving_artifact_cache': '/etc'}}))\n")
    play = """
- hosts: leader
  gather_facts: false
  vars:
    model_serving_model_name: det
  tasks:
    - name: Gather the device's facts
      hostile_facts:
    - name: Share the artifact of the class
      ansible.builtin.import_role:
        name: edgeai.fleet.model_serving
        tasks_from: artifact.yml
"""
    proc = run_playbook(layout, play, library=library)
    assert proc.returncode != 0, proc.stdout
    assert "define model_serving_artifact_cache" in proc.stdout, proc.stdout
