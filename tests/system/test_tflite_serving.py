# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A TFLite artifact served on a lab node through the model_serving role, then a bad one rolled back.

One lab node of its own (prefix ``it-tflite``, no doubles: nothing here needs a GPU or bootc). Real: systemd on the
node, the role's venv install from the lab wheelhouse (numpy + ai-edge-litert, chosen from the manifest's target),
the collection's KServe V2 server with the LiteRT runner under its sandboxed unit, model_deploy, model_verify
(golden outputs within the manifest's tolerance) and the rollback. The served model is a real one: the PP-OCR
orientation classifier compiled here by model_compile to full-integer TFLite INT8 (onnx2tf in ``.venv-tflite``,
calibrated, gated against ONNX Runtime FP32). The bad version is the NHWC float fixture of
``tests/generators/gen_tflite_fixtures.py`` whose outputs differ from its own golden file, so only model_verify's
golden comparison catches it.

Cost: 117-153 s on 2 cores at load 8-10 (node start 5-7 s; first role run 57-83 s, most of it the venv install from
the wheelhouse; second role run 43-51 s), plus the classifier's compile (one onnx2tf run, about 40-60 s).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LAB = REPO / "tests" / "lab" / "lab.sh"
CACHE = os.environ.get("EDGEAI_LAB_CACHE", "/var/tmp/edgeai-lab")
PREFIX = "it-tflite"
MODEL = "cls"
NODE = PREFIX + "-01"

pytestmark = [
    pytest.mark.lab,
    pytest.mark.slow,
    pytest.mark.skipif(os.geteuid() != 0, reason="the lab runs as root"),
    pytest.mark.skipif(not (shutil.which("podman") and shutil.which("debootstrap")),
                       reason="the lab needs podman and debootstrap (make deps)"),
]

np = pytest.importorskip("numpy")
pytest.importorskip("ai_edge_litert")

PLAY = """
- name: Serve the TFLite artifact with the kserve backend
  hosts: lab
  gather_facts: true
  roles:
    - role: edgeai.fleet.model_serving
"""


def generator():
    spec = importlib.util.spec_from_file_location("gen_tflite_fixtures",
                                                  REPO / "tests" / "generators" / "gen_tflite_fixtures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def compiled_classifier(dest):
    """The PP-OCR orientation classifier as model_compile builds it for target tflite, precision int8."""
    from ansible_collections.edgeai.fleet.plugins.modules import model_compile
    from ansible_collections.edgeai.fleet.tests.system.test_real_models import MODELS, _package_file, text_lines
    from ansible_collections.edgeai.fleet.tests.unit.module_helpers import run_module
    onnx2tf = os.environ.get("EDGEAI_ONNX2TF") or str(REPO / ".venv-tflite" / "bin" / "onnx2tf")
    if not os.access(onnx2tf, os.X_OK):
        pytest.skip("onnx2tf is not installed at %s (make venv builds .venv-tflite)" % onnx2tf)
    parts, _license, _family, shapes, _maker, extra = MODELS["ppocr_cls"]
    calibration = dest.parent / "calib"
    calibration.mkdir()
    text_lines(str(calibration), 192)
    result, failed = run_module(model_compile, dict(
        extra, name=MODEL, src=_package_file(*parts), dest=str(dest), target="tflite", precision="int8",
        input_shapes=shapes, calibration=str(calibration), holdout=2, latency_runs=4,
        fidelity_gate={"min_cosine": 0.95}, tflite_converter=onnx2tf))
    assert not failed, result.get("msg")
    return result["manifest"]


def write_artifact(dest, model_bytes, per_channel):
    """model.tflite, golden.json (always the good model's outputs) and manifest.json, as model_compile lays them."""
    dest.mkdir(parents=True)
    (dest / "model.tflite").write_bytes(model_bytes)
    x = np.linspace(-1, 1, 48, dtype=np.float32).reshape(1, 3, 4, 4)

    def v2(name, array):
        return {"name": name, "shape": list(array.shape), "datatype": "FP32", "data": array.ravel().tolist()}
    golden = {"inputs": [v2("images", x)],
              "outputs": [v2("scaled", x * 2), v2("sum", x + np.asarray(per_channel, np.float32)[None, :, None, None])]}
    (dest / "golden.json").write_text(json.dumps(golden))
    sha = {name: hashlib.sha256((dest / name).read_bytes()).hexdigest() for name in ("model.tflite", "golden.json")}
    tensors = [{"name": n, "shape": [1, 3, 4, 4], "datatype": "FP32"} for n in ("scaled", "sum")]
    manifest = {
        "schema": "edgeai.fleet/model-manifest/v1", "name": MODEL, "target": "tflite", "precision": "fp32",
        "inference_precision": "f32", "device": "CPU", "entrypoint": "model.tflite", "files": sha,
        "inputs": [{"name": "images", "shape": [1, 3, 4, 4], "datatype": "FP32"}], "outputs": tensors,
        "tflite": {"inputs": [{"name": "images", "index": 0, "tflite_name": "serving_default_images:0",
                               "layout": "NCHW->NHWC"}],
                   "outputs": [{"name": "scaled", "index": 4, "tflite_name": "StatefulPartitionedCall:0",
                                "layout": "NCHW->NHWC"},
                               {"name": "sum", "index": 3, "tflite_name": "StatefulPartitionedCall:1",
                                "layout": "NCHW->NHWC"}]},
        "toolchain": {"ai_edge_litert": "2.3.0"}, "fingerprint": {"id": "it-tflite", "cpu_model": None,
                                                                  "cpu_flags": [], "gpu": None},
        "fidelity": {"reference": "self (fp32)"}, "latency_ms": {"p50": 0.05, "p95": 0.1}, "golden": "golden.json",
        "tolerance": {"max_abs": 1e-5, "min_cosine": 0.9999}, "source_sha256": sha["model.tflite"],
        "created": "2026-01-01T00:00:00Z", "options": {}, "candidates": [],
    }
    (dest / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("tflite-serving")
    env = dict(os.environ, CONTAINERS_CONF=f"{CACHE}/containers.conf", EDGEAI_LAB_PREFIX=PREFIX,
               EDGEAI_LAB_INVENTORY=str(tmp / "hosts.yml"), EDGEAI_LAB_PREPARE="0",
               ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_CACHE_PLUGIN_CONNECTION=str(tmp / "facts"),
               ANSIBLE_COLLECTIONS_PATH=os.environ.get("ANSIBLE_COLLECTIONS_PATH", str(REPO / ".build" / "collections")),
               # lab.sh asks the controller's python3 (the venv's) for its OpenVINO version.
               PATH="%s:%s" % (Path(sys.executable).parent, os.environ.get("PATH", "")))
    try:
        started = time.monotonic()
        up = subprocess.run(["/bin/bash", str(LAB), "up", "1"], cwd=REPO, env=env, capture_output=True, text=True,
                            timeout=600, check=False)
        sys.stdout.write("lab up: %.1f s\n" % (time.monotonic() - started))
        assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-3000:]
        yield tmp, env
    finally:
        subprocess.run(["/bin/bash", str(LAB), "down"], cwd=REPO, env=env, capture_output=True, check=False)


def serve(tmp, env, artifact):
    (tmp / "play.yml").write_text(PLAY)
    extra = {"model_serving_model_name": MODEL, "model_serving_artifact_src": str(artifact),
             "model_serving_kserve_wheelhouse": "/srv/edgeai-wheelhouse",
             "model_serving_kserve_wheelhouse_on_device": True, "model_serving_expect_device": "CPU",
             "model_serving_verify_requests": 5, "model_serving_ready_timeout": 60}
    local = Path(sys.executable).parent / "ansible-playbook"
    cmd = [str(local) if local.exists() else "ansible-playbook", "-i", str(tmp / "hosts.yml"), str(tmp / "play.yml"),
           "-e", json.dumps(extra)]
    started = time.monotonic()
    result = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600, check=False)
    sys.stdout.write("role run with %s: %.1f s\n" % (artifact.name, time.monotonic() - started))
    (tmp / ("play-%s.log" % artifact.name)).write_text(result.stdout + result.stderr)
    return result


def on_node(*argv):
    return subprocess.run(["podman", "exec", NODE, *argv], capture_output=True, text=True, timeout=60, check=False)


def test_tflite_artifact_serves_verifies_and_a_bad_one_rolls_back(node):
    tmp, env = node
    gen = generator()
    manifest = compiled_classifier(tmp / "good")
    assert (manifest["target"], manifest["precision"], manifest["inference_precision"]) == ("tflite", "int8", "i8")
    write_artifact(tmp / "bad", gen.float_nhwc(per_channel=[1.0, 10.0, 1000.0]), gen.PER_CHANNEL)

    first = serve(tmp, env, tmp / "good")
    assert first.returncode == 0, first.stdout[-6000:] + first.stderr[-3000:]
    meta = json.loads(on_node("curl", "-sf", "http://127.0.0.1:8000/v2/models/%s" % MODEL).stdout)
    assert meta["platform"] == "tflite" and meta["versions"] == ["1"]
    assert meta["parameters"] == {"device": "CPU", "precision": "i8"}
    # The venv got LiteRT for this target, and no runtime it does not serve.
    site = on_node("/var/lib/edgeai/kserve/bin/python", "-c",
                   "import importlib.metadata as m; print(sorted(d.metadata['Name'].lower() for d in m.distributions()))")
    assert "ai-edge-litert" in site.stdout and "onnxruntime" not in site.stdout, site.stdout + site.stderr

    second = serve(tmp, env, tmp / "bad")
    assert second.returncode != 0, second.stdout[-6000:]
    assert "version 2 of %s failed verification and was rolled back to version 1" % MODEL in second.stdout, second.stdout[-6000:]
    assert "max_abs" in second.stdout
    state = json.loads(on_node("cat", "/var/lib/edgeai/models/%s/.edgeai-model.json" % MODEL).stdout)
    assert state["current"] == 1
    meta = json.loads(on_node("curl", "-sf", "http://127.0.0.1:8000/v2/models/%s" % MODEL).stdout)
    assert meta["versions"] == ["1"]
