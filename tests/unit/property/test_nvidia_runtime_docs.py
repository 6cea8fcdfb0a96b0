# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Property layer for nvidia_runtime: generated malformed configs and credentials (issue 11).

Each engine's config is one of the captured upstream defaults with nodes replaced by junk (wrong types,
10**30, non-UTF-8 text), or raw garbage bytes. The core must succeed or raise FleetError, never another
exception; in check mode and on any refusal the files it was given must be byte- and mode-identical.
Before the fix `version = [2]`, `plugins = 5`, `crio.runtime = "x"` and deep nesting raised
TypeError/AttributeError/RecursionError. A second property: registry credentials of any shape in a 0600
config never appear in a result (diff included) and the drop-in copying them is 0600.
"""

from __future__ import annotations

import json
import os
import stat

from hypothesis import given, strategies as st

from ansible_collections.edgeai.fleet.plugins.module_utils import _nvidia_runtime as core
from ansible_collections.edgeai.fleet.plugins.module_utils import _toml_lite
from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError
from ansible_collections.edgeai.fleet.tests.unit.property.conftest import tree_hash
from ansible_collections.edgeai.fleet.tests.unit.property.strategies import JUNK, RAW_BYTES, mutated

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "plugins", "module_utils", "fixtures", "nvidia_runtime")
MAIN = {"containerd": "config.toml", "crio": "crio.conf", "docker": "daemon.json", "podman": "containers.conf"}
DOCS = {
    "containerd": ["containerd-1.6-default.toml", "containerd-1.6-debian.toml", "containerd-2.0-default.toml"],
    "crio": ["crio-default.conf"],
    "docker": ["daemon-with-keys.json"],
    "podman": [],
}


def _parsed(name):
    with open(os.path.join(FIXTURES, name), encoding="utf-8") as handle:
        text = handle.read()
    return json.loads(text) if name.endswith(".json") else _toml_lite.loads(text)


def _plain(value):
    """Junk as TOML can hold it: no None (TOML has no null), everything else as generated."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_plain(v) for v in value if v is not None]
    return value


def _render(runtime, doc):
    """Bytes of ``doc`` in the engine's format; surrogates become invalid UTF-8, as a broken file holds."""
    if runtime == "docker":
        try:
            text = json.dumps(doc)
        except ValueError:
            text = "{"
    else:
        doc = _plain(doc)
        try:
            text = _toml_lite.dumps(doc if isinstance(doc, dict) else {"x": doc if doc is not None else ""})
        except ValueError:   # TomlError: a value TOML cannot hold
            text = "[broken"
    return text.encode("utf-8", "surrogateescape")


def _params(root, runtime, state, drop_in):
    return dict(runtime=runtime, state=state, set_as_default=False, runtime_name="nvidia",
                runtime_path="/usr/bin/nvidia-container-runtime", cdi_enabled=True, config_version="auto",
                podman_named_runtime=True, backup=True, config_path=os.path.join(root, MAIN[runtime]),
                drop_in_dir=None if runtime == "docker" else drop_in)


def _write(path, data, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(data)
    os.chmod(path, mode)


def _check(root, params, check_mode):
    before = tree_hash(root)
    try:
        result = core.run(params, check_mode=check_mode)
    except FleetError as err:
        assert err.msg and isinstance(err.msg, str)
        json.dumps(err.details)
        assert tree_hash(root) == before, "a refusal changed the files"
        return None
    json.dumps(result)
    if check_mode:
        assert tree_hash(root) == before, "check mode changed the files"
    return result


# The tables the core walks: random mutation rarely lands on them, so they are targeted on purpose.
CRI = ("plugins", "io.containerd.grpc.v1.cri")
WALKED = [("version",), ("imports",), ("plugins",), CRI, CRI + ("containerd",), CRI + ("containerd", "runtimes"),
          CRI + ("containerd", "default_runtime_name"), CRI + ("containerd", "runtimes", "runc"),
          CRI + ("containerd", "runtimes", "runc", "options"), ("crio",), ("crio", "runtime"),
          ("crio", "runtime", "runtimes"), ("crio", "runtime", "default_runtime"), ("runtimes",), ("features",)]


def _set(doc, path, value):
    doc = json.loads(json.dumps(doc, default=str))
    node = doc
    for key in path[:-1]:
        node = node.setdefault(key, {}) if isinstance(node, dict) else {}
    if isinstance(node, dict):
        node[path[-1]] = value
    return doc


@st.composite
def targeted(draw, doc):
    return _set(doc, draw(st.sampled_from(WALKED)), draw(JUNK))


def _configs(mutate):
    return st.sampled_from([(r, n) for r, names in DOCS.items() for n in names]).flatmap(
        lambda rn: st.tuples(st.just(rn[0]), mutate(_parsed(rn[1])).map(lambda d, r=rn[0]: _render(r, d))))


CONFIGS = st.one_of(
    _configs(targeted),
    _configs(lambda doc: mutated(doc, times=3)),
    st.tuples(st.sampled_from(sorted(MAIN)), RAW_BYTES),
)


@given(config=CONFIGS, state=st.sampled_from(["present", "absent"]), check_mode=st.booleans(),
       where=st.sampled_from(["main", "drop-in"]))
def test_malformed_configs_give_fleet_error_or_a_clean_result(tmp_path_factory, config, state, check_mode, where):
    runtime, data = config
    root = str(tmp_path_factory.mktemp("cfg"))
    params = _params(root, runtime, state, os.path.join(root, "conf.d"))
    if where == "drop-in" and runtime != "docker":
        _write(os.path.join(root, "conf.d", "10-user" + os.path.splitext(MAIN[runtime])[1]), data)
    else:
        _write(params["config_path"], data)
    _check(root, params, check_mode)


# The marker keeps a secret from matching paths, keys or "<redacted>" by coincidence.
SECRET = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20).map(lambda s: "Zq#" + s)


@given(password=SECRET, token=SECRET, check_mode=st.booleans())
def test_credentials_never_reach_a_result(tmp_path_factory, password, token, check_mode):
    root = str(tmp_path_factory.mktemp("auth"))
    params = _params(root, "containerd", "present", os.path.join(root, "conf.d"))
    doc = {"version": 2, "plugins": {"io.containerd.grpc.v1.cri": {
        "registry": {"configs": {"r.example": {"auth": {"username": "robot", "password": password,
                                                        "identitytoken": token}}},
                     "headers": {"Authorization": ["Bearer " + token]}}}}}
    _write(params["config_path"], _toml_lite.dumps(doc).encode("utf-8"), mode=0o600)
    result = _check(root, params, check_mode)
    shown = json.dumps(result, ensure_ascii=False)
    raw = "".join(d["before"] + d["after"] for d in result["diff"])
    for secret in (password, token):
        assert secret not in shown and secret not in raw
        for escaped in (json.dumps(secret)[1:-1], _toml_lite.dumps({"k": secret})[5:-2]):
            assert escaped not in raw
    if not check_mode:
        drop = os.path.join(root, "conf.d", core.DROP_IN_FILES["containerd"])
        assert stat.S_IMODE(os.stat(drop).st_mode) == 0o600
