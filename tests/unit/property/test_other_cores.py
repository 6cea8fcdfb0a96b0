# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Property layer over the document readers of the other cores (TOML, manifests, bookkeeping, URLs, facts).

Same rule as test_owned_cores: generated malformed documents may only raise the collection's FleetError
(TomlError included, it is one) and must leave the files they read unchanged.
"""

from __future__ import annotations

import json

from hypothesis import given, strategies as st

from ansible_collections.edgeai.fleet.plugins.module_utils import _model_fingerprint, _model_manifest, _model_repo
from ansible_collections.edgeai.fleet.plugins.module_utils import _model_source, _nvidia_engine_state, _nvidia_runtime
from ansible_collections.edgeai.fleet.plugins.module_utils import _report, _toml_lite
from ansible_collections.edgeai.fleet.tests.unit.plugins.module_utils.gpu_sharing_facts import A100_40, facts as gpu_facts
from ansible_collections.edgeai.fleet.tests.unit.property.strategies import JUNK, RAW_BYTES, mutated, only_fleet_error, tree_hash


TOML_TEXT = st.one_of(
    st.text(alphabet='[]{}="\'.,#\n abcversion0123456789-+:_\\tfe', max_size=60),
    st.sampled_from(["version = [2]", "plugins = 5", "version = 2\n[plugins]\n[plugins]", "a = 1\na = 2",
                     "[a.b]\n[a]\nb = 1", "x = " + "[" * 2000, "x = 1" + "0" * 5000, "\ufeffversion = 2",
                     "k = \"\\ud800\"", "[[a]]\n[a]"]),
    RAW_BYTES)


@given(TOML_TEXT)
def test_toml_reader(text):
    """The reader's own contract is TomlError (a ValueError its callers turn into FleetError with the path)."""
    try:
        _toml_lite.loads(text)
    except _toml_lite.TomlError:
        pass


MANIFEST = {"schema": 1, "name": "det", "target": "openvino", "precision": "fp32", "inference_precision": "f32",
            "device": "CPU", "entrypoint": "model.xml", "golden": "golden.json",
            "files": {"model.xml": "a" * 64, "model.bin": "b" * 64, "golden.json": "c" * 64},
            "inputs": [{"name": "x", "shape": [1, 3], "datatype": "FP32"}],
            "outputs": [{"name": "y", "shape": [1, 2], "datatype": "FP32"}],
            "fingerprint": {"id": "f" * 16}, "tolerance": {"max_abs": 0.1, "min_cosine": 0.99},
            "latency_ms": {"p50": 1.0, "p95": 2.0}}


@given(mutated(MANIFEST, times=3))
def test_manifest_validate(doc):
    errors = only_fleet_error(_model_manifest.validate, doc)
    assert errors is None or isinstance(errors, list)


@given(st.one_of(mutated(MANIFEST, times=3).map(lambda d: json.dumps(d).encode()), RAW_BYTES))
def test_manifest_files_on_disk(tmp_path_factory, content):
    """A device's manifest.json is input: reading it never raises anything but FleetError, never changes it."""
    root = tmp_path_factory.mktemp("artifact")
    (root / "manifest.json").write_bytes(content)
    (root / "model.xml").write_bytes(b"<xml/>")
    before = tree_hash(str(root))
    only_fleet_error(_model_manifest.read, str(root))
    only_fleet_error(_model_repo.load_manifest, str(root))
    assert tree_hash(str(root)) == before


@given(st.one_of(RAW_BYTES.map(lambda b: b.decode("utf-8", "replace")),
                 JUNK.map(json.dumps),
                 mutated({"model_config_list": [{"config": {"name": "m", "base_path": "/m"}}]}, 3).map(json.dumps)))
def test_ovms_config(text):
    only_fleet_error(_model_repo.render_ovms_config, text, "det", 2, "/models/det", "CPU")


@given(st.one_of(st.text(max_size=40), st.sampled_from(
    ["http://[::1", "https://", "https://u:p@h/x?sig=1", "ftp://h/x", "https://h:99999/x", "http://\udcff/",
     "https://h/" + "a" * 5000, "//h/x", "https:///x", "https://[]/x"])))
def test_source_url(url):
    shown = only_fleet_error(_model_source.check_url, url)
    assert shown is None or ("@" not in shown.split("/")[2] if shown.count("/") >= 2 else True)


@given(mutated(gpu_facts(A100_40), times=3), st.integers(-1, 3))
def test_fingerprint_from_gpu_facts(facts, index):
    only_fleet_error(_model_fingerprint.gpu_from_facts, facts, index)


@given(st.text(max_size=200), st.one_of(st.none(), st.text(max_size=8)))
def test_fingerprint_cpuinfo(text, machine):
    only_fleet_error(_model_fingerprint.parse_cpuinfo, text, machine)


@given(mutated({"edgeai_bootc": {"is_bootc": True, "booted": {"image": {"image": "q/x:1"}, "digest": "sha256:" + "a" * 64}},
                "edgeai_gpu": gpu_facts(A100_40)}, times=3))
def test_report_row_from_facts(facts):
    """The callback hands facts_row the ansible_facts mapping of a result; inside it, anything goes."""
    only_fleet_error(_report.facts_row, facts if isinstance(facts, dict) else {"edgeai_gpu": facts})


@given(st.text(max_size=80), JUNK.map(json.dumps), st.text(max_size=20))
def test_engine_state_readers(dump, runtimes_json, name):
    for check, text in ((_nvidia_engine_state.containerd_active, dump), (_nvidia_engine_state.docker_active, runtimes_json),
                        (_nvidia_engine_state.crio_active, dump), (_nvidia_engine_state.podman_active, runtimes_json)):
        only_fleet_error(check, text, name or "nvidia", "/usr/bin/nvidia-container-runtime")


@given(st.one_of(st.text(max_size=60), st.sampled_from(["", "containerd github.com/containerd/containerd v", "v99999999999999999999.1"])))
def test_containerd_version_output(text):
    only_fleet_error(_nvidia_runtime.parse_containerd_major, text)
