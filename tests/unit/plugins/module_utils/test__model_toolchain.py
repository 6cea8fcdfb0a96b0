# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""model_compile's up-to-date fast path: toolchain versions from package metadata, no runtime import.

Simulated: the artifact is built by the fake backend of model_compile_fakes, reporting the metadata versions
as its toolchain (what the real backends report; the last test checks that against the real runtimes).
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys

import pytest

from ansible_collections.edgeai.fleet.plugins.module_utils import _model_compile as mc
from ansible_collections.edgeai.fleet.plugins.module_utils import _model_toolchain as toolchain_
from ansible_collections.edgeai.fleet.tests.unit.plugins.module_utils.model_compile_fakes import (
    PARAMS, FakeBackend, write_source)

pytest.importorskip("numpy")
CPUINFO = "processor\t: 0\nmodel name\t: test cpu\nflags\t\t: fpu sse2 avx2\n"
RUNTIMES = ("openvino", "onnxruntime", "nncf", "onnx", "torch")


class MetadataBackend(FakeBackend):
    def toolchain(self):
        return toolchain_.versions(self.params["target"])


def _artifact(tmp_path, target):
    """An up-to-date artifact for ``target`` and the module parameters that ask for it."""
    (tmp_path / "cpuinfo").write_text(CPUINFO)
    params = dict(PARAMS, target=target, src=write_source(tmp_path), dest=str(tmp_path / "art" / "det"),
                  calibration_preprocess=None, calibration_preprocess_options=None, fingerprint_only=False)
    params = mc.validate_params(params)
    backend = MetadataBackend(params)
    backend.name = target
    fingerprint = mc.host_fingerprint(params, CPUINFO)
    planned = mc.plan(params, backend, fingerprint)
    mc.Compiler(params, backend, planned, now=lambda: "2026-12-02T00:00:00Z").run(params["dest"])
    return params


def _installed(dist):
    try:
        importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


@pytest.mark.parametrize("target", ["openvino", "onnxruntime"])
def test_converged_decision_imports_no_runtime(tmp_path, target):
    """run_job on an up-to-date artifact, in a fresh interpreter: reuse, and no runtime in sys.modules."""
    params = _artifact(tmp_path, target)
    (tmp_path / "params.json").write_text(json.dumps(params))
    script = (
        "import json, sys\n"
        "from ansible_collections.edgeai.fleet.plugins.module_utils import _model_compile as mc\n"
        "params = json.load(open(sys.argv[1]))\n"
        "result = mc.run_job(params, None, None, False, False, cpuinfo_path=sys.argv[2])\n"
        "print(json.dumps({'changed': result['changed'], 'reason': result['reason'],\n"
        "                  'loaded': sorted(m for m in %r if m in sys.modules)}))\n" % (RUNTIMES,))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    out = subprocess.run([sys.executable, "-c", script, str(tmp_path / "params.json"), str(tmp_path / "cpuinfo")],
                         capture_output=True, text=True, env=env, check=True).stdout
    assert json.loads(out) == {"changed": False, "reason": "artifact is up to date", "loaded": []}


def test_changed_toolchain_takes_the_backend_path(tmp_path, monkeypatch):
    """A runtime upgrade is seen without the backend, and the backend then decides (and compiles)."""
    params = _artifact(tmp_path, "openvino")
    made = []
    upgraded = dict(toolchain_.versions("openvino"), openvino="2099.1.0")
    monkeypatch.setattr(toolchain_, "versions", lambda target: upgraded)

    def make_backend(p, _run, _bin):
        backend = FakeBackend(p, version="newer")
        made.append(backend)
        return backend

    monkeypatch.setattr(mc, "make_backend", make_backend)
    result = mc.run_job(dict(params), None, None, True, False, cpuinfo_path=str(tmp_path / "cpuinfo"))
    assert made and result["changed"] and result["reason"] == "inputs changed: toolchain"


def test_tensorrt_has_no_fast_path():
    assert toolchain_.versions("tensorrt") is None


def test_onnxruntime_from_another_distribution(monkeypatch):
    """onnxruntime-gpu installs the onnxruntime package under its own distribution name."""
    def fake_version(dist):
        if dist == "onnxruntime-gpu":
            return "1.32.0"
        raise toolchain_.PackageNotFoundError(dist)

    monkeypatch.setattr(toolchain_, "_dist_version", fake_version)
    assert toolchain_.versions("onnxruntime") == {"onnxruntime": "1.32.0", "onnx": None, "numpy": None}


@pytest.mark.parametrize("target", ["openvino", "onnxruntime"])
def test_backend_reports_the_metadata_versions(target):
    """A compile writes into the manifest exactly what the fast path reads, or no artifact would ever be reused."""
    if not _installed(target):
        pytest.skip("%s is not installed" % target)
    backend = mc.make_backend(dict(PARAMS, target=target), None, None)
    assert backend.toolchain() == toolchain_.versions(target)
