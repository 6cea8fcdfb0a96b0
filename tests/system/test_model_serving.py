# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The kserve backend for real, on loopback: deploy -> serve -> verify -> broken version -> roll back -> verify.

Real: the collection's KServe V2 server (``roles/model_serving/files/edgeai_model_server.py``) with ONNX
Runtime, the model_deploy and model_verify modules (run in-process), the repository on disk. Nothing is
simulated; the model is a tiny ONNX graph (y = s * x + 1) built here with the ``onnx`` package, so the golden
outputs are real ONNX Runtime outputs. The "broken" version has s = 3: it loads and reports ready, and only the
golden comparison catches it, which is the point.

The server needs only numpy and the runtime (no kserve stack any more), which the test venv has, so it runs
on this interpreter (EDGEAI_KSERVE_PYTHON names another one).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import pytest

from ansible_collections.edgeai.fleet.plugins.modules import model_deploy, model_verify
from ansible_collections.edgeai.fleet.tests.unit.module_helpers import run_module

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SERVER = os.path.join(ROOT, "roles", "model_serving", "files", "edgeai_model_server.py")

MAKE_ARTIFACT = r"""
import hashlib, json, os, sys
import numpy as np, onnx, onnx.helper as h, onnxruntime as ort
dest, scale = sys.argv[1], float(sys.argv[2])
os.makedirs(dest, exist_ok=True)
x = h.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 3])
y = h.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1, 3])
inits = [h.make_tensor("s", onnx.TensorProto.FLOAT, [1], [scale]), h.make_tensor("b", onnx.TensorProto.FLOAT, [1], [1.0])]
graph = h.make_graph([h.make_node("Mul", ["x", "s"], ["t"]), h.make_node("Add", ["t", "b"], ["y"])], "g", [x], [y], inits)
model = h.make_model(graph, opset_imports=[h.make_opsetid("", 13)])
model.ir_version = 8
path = os.path.join(dest, "model.onnx")
onnx.save(model, path)
# Golden outputs always come from the good model (s = 2): a broken artifact ships the right golden file.
feed = np.array([[0.5, -1.0, 2.0]], dtype=np.float32)
golden_out = feed * 2.0 + 1.0
sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
tensor = lambda n, a: {"name": n, "shape": list(a.shape), "datatype": "FP32", "data": a.flatten().tolist()}
golden = {"inputs": [tensor("x", feed)], "outputs": [tensor("y", golden_out)]}
json.dump(golden, open(os.path.join(dest, "golden.json"), "w"))
sha = lambda rel: hashlib.sha256(open(os.path.join(dest, rel), "rb").read()).hexdigest()
manifest = {"schema": "edgeai.fleet/model-manifest/v1", "name": "tiny", "target": "onnxruntime", "precision": "fp32",
            "inference_precision": "f32", "device": "CPU", "entrypoint": "model.onnx",
            "files": {rel: sha(rel) for rel in ("model.onnx", "golden.json")},
            "fingerprint": {"id": "loopback"}, "fidelity": {}, "latency_ms": {"p50": 0.1, "p95": 0.2},
            "source_sha256": sha("model.onnx"), "created": "2026-01-01T00:00:00Z",
            "inputs": [{"name": "x", "shape": [1, 3], "datatype": "FP32"}],
            "outputs": [{"name": "y", "shape": [1, 3], "datatype": "FP32"}], "golden": "golden.json",
            "tolerance": {"max_abs": 1e-5, "min_cosine": 0.9999},
            "toolchain": {"onnxruntime": ort.__version__}, "measured_output": sess.run(None, {"x": feed})[0].tolist()}
json.dump(manifest, open(os.path.join(dest, "manifest.json"), "w"))
"""


@pytest.fixture(scope="module")
def kserve_python():
    return os.environ.get("EDGEAI_KSERVE_PYTHON", sys.executable)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Served:
    """One kserve process on a free port, started and stopped by PID."""

    def __init__(self, python, model_dir, log):
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.log = open(log, "ab")
        self.proc = subprocess.Popen([python, SERVER, "--model_name", "tiny", "--model_dir", model_dir,
                                      "--http_port", str(self.port), "--enable_grpc", "false"],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        self.log_path = log
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                with open(log, "rb") as handle:
                    pytest.fail("model server exited %d:\n%s" % (self.proc.returncode, handle.read()[-3000:].decode()))
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.2)
        pytest.fail("model server did not listen on %s within 90 s" % self.url)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


@pytest.fixture
def serve(kserve_python, tmp_path):
    running = []

    def start(model_dir):
        for srv in running:
            srv.stop()
        running.append(Served(kserve_python, model_dir, str(tmp_path / "server.log")))
        return running[-1]
    yield start
    for srv in running:
        srv.stop()


def verify(url, repo, version):
    manifest = os.path.join(repo, "tiny", "current", "manifest.json")
    return run_module(model_verify, {"name": "tiny", "url": url, "manifest": manifest,
                                     "requests": 20, "latency_budget_ms": 2000, "ready_timeout": 60,
                                     "expect_version": str(version), "expect_device": "CPU", "expect_precision": "f32"})


def test_serve_verify_reject_broken_version_and_roll_back(kserve_python, serve, tmp_path):
    repo = str(tmp_path / "repo")
    for name, scale in (("good", "2.0"), ("broken", "3.0")):
        subprocess.run([kserve_python, "-c", MAKE_ARTIFACT, str(tmp_path / name), scale], check=True)
    current = os.path.join(repo, "tiny", "current")

    deployed, failed = run_module(model_deploy, {"name": "tiny", "repository": repo, "src": str(tmp_path / "good")})
    assert not failed and deployed["version"] == 1
    server = serve(current)
    proof, failed = verify(server.url, repo, 1)
    assert not failed, proof
    assert proof["device"] == "CPU" and proof["precision"] == "f32" and proof["model_version"] == "1"
    assert proof["outputs"]["y"]["max_abs"] <= 1e-5 and proof["p95_ms"] < 2000

    deployed, failed = run_module(model_deploy, {"name": "tiny", "repository": repo, "src": str(tmp_path / "broken")})
    assert not failed and deployed["version"] == 2 and deployed["switched"]
    server = serve(current)
    proof, failed = verify(server.url, repo, 2)
    assert failed and proof["ready"] and proof["golden_ok"] is False, proof
    assert "max_abs" in proof["msg"]

    rolled, failed = run_module(model_deploy, {"name": "tiny", "repository": repo, "state": "rolled_back", "version": 2})
    assert not failed and rolled["version"] == 1 and rolled["rejected_version"] == 2
    server = serve(current)
    proof, failed = verify(server.url, repo, 1)
    assert not failed and proof["model_version"] == "1", proof

    again, failed = run_module(model_deploy, {"name": "tiny", "repository": repo, "src": str(tmp_path / "broken")})
    assert failed and "rejected as version 2" in again["msg"]
    with open(os.path.join(repo, "tiny", ".edgeai-model.json")) as handle:
        assert json.load(handle)["current"] == 1


def test_unloadable_artifact_exits_instead_of_serving_nothing(kserve_python, tmp_path):
    subprocess.run([kserve_python, "-c", MAKE_ARTIFACT, str(tmp_path / "good"), "2.0"], check=True)
    (tmp_path / "good" / "model.onnx").write_bytes(b"not an onnx file")
    start = time.monotonic()
    proc = subprocess.run([kserve_python, SERVER, "--model_name", "tiny", "--model_dir", str(tmp_path / "good"),
                           "--http_port", str(free_port()), "--enable_grpc", "false"], capture_output=True, timeout=120,
                          check=False)
    assert proc.returncode == 2 and b"cannot load tiny" in proc.stderr + proc.stdout
    assert time.monotonic() - start < 120
