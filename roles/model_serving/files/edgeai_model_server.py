# -*- coding: utf-8 -*-
# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The edgeai.fleet model server: one artifact over the KServe V2 REST protocol, standard library HTTP.

Serves one artifact written by ``edgeai.fleet.model_compile`` (model files + manifest.json) with
OpenVINO or ONNX Runtime, pinned to the manifest's device and inference precision, over the KServe V2
REST protocol. Every inference response carries ``parameters.device`` and ``parameters.precision``
read back from the runtime (OpenVINO ``EXECUTION_DEVICES`` / ``INFERENCE_PRECISION_HINT``, ORT's active
provider), so ``edgeai.fleet.model_verify`` reports what actually ran, not what was asked for.

It used to be a model class for the PyPI ``kserve`` server, whose ``import kserve`` alone loads about
1,480 modules (fastapi, uvicorn, grpc, pandas, the kubernetes client): 86 MiB RSS beyond numpy and the
runtime, of the 204 MiB PSS (219-227 MiB in the lab) the OpenVINO detector took, for protocol servers and
clients one served model never uses. The V2 REST routes that clients use (health,
server and model metadata, model readiness, infer) are a few dozen lines on ``http.server``; what is left
is numpy and the one runtime the manifest names (docs/performance.md, "Model server memory").

Not served: gRPC, the binary tensor extension, the model repository extension (load/unload), V1.

This is a program run by systemd from its own virtual environment (numpy + a runtime), not an
Ansible module_utils: Ansible never ships module_utils to a long-running service, and the collection's
controller-side sanity tests must not import the runtimes. The role copies it next to the venv.

Usage::

    python edgeai_model_server.py --model_name ocr_det --model_dir /var/lib/edgeai/models/ocr_det/current \
        --http_port 8000 [--cache_dir /var/cache/edgeai/openvino]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
import threading
import urllib.parse
import uuid

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

try:
    import numpy as np
except ImportError as exc:  # pragma: no cover - the role installs it; say so clearly if not
    sys.exit("edgeai_model_server needs numpy (and onnxruntime or openvino) in its venv: %s" % exc)

LOG = logging.getLogger("edgeai_model_server")
V2_TO_NUMPY = {"FP32": "float32", "FP16": "float16", "FP64": "float64", "INT8": "int8", "UINT8": "uint8",
               "INT16": "int16", "INT32": "int32", "INT64": "int64", "BOOL": "bool"}
NUMPY_TO_V2 = dict({v: k for k, v in V2_TO_NUMPY.items()}, uint16="UINT16", uint32="UINT32", uint64="UINT64")
ORT_PROVIDERS = {"CPU": ["CPUExecutionProvider"], "CUDA": ["CUDAExecutionProvider", "CPUExecutionProvider"],
                 "GPU": ["CUDAExecutionProvider", "CPUExecutionProvider"],
                 "TENSORRT": ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"]}
# A JSON request larger than this is refused before it is read: parsing it would cost several times its size.
MAX_REQUEST_BYTES = 256 * 1024 * 1024
MODEL_ROUTE = re.compile(r"^/v2/models/(?P<name>[^/]+)(?P<action>/ready|/infer)?/?$")


class LoadError(Exception):
    pass


class BadRequest(Exception):
    """The client's request cannot be served as sent (HTTP 400)."""


def read_manifest(version_dir):
    with open(os.path.join(version_dir, "manifest.json"), encoding="utf-8") as handle:
        manifest = json.load(handle)
    if manifest.get("schema") != "edgeai.fleet/model-manifest/v1":
        raise LoadError("%s/manifest.json has schema %r" % (version_dir, manifest.get("schema")))
    return manifest


class OpenVINORunner:
    def __init__(self, path, device, precision, cache_dir=None):
        import openvino as ov  # guarded: only hosts serving OpenVINO artifacts need it

        core = ov.Core()
        if cache_dir:
            core.set_property({"CACHE_DIR": cache_dir})
        config = {"PERFORMANCE_HINT": "LATENCY"}
        if precision:
            # Pinned: without it the CPU plugin silently runs an FP32 IR in bf16 on AVX-512 BF16 / AMX hosts.
            config["INFERENCE_PRECISION_HINT"] = precision
        self.compiled = core.compile_model(path, device, config)
        self.request = self.compiled.create_infer_request()
        devices = self.compiled.get_property("EXECUTION_DEVICES")
        self.device = ",".join(devices) if isinstance(devices, (list, tuple)) else str(devices)
        try:
            hint = self.compiled.get_property("INFERENCE_PRECISION_HINT")
            # An openvino.Type prints as "<Type: 'float32'>"; its type name is the hint's own spelling ("f32").
            self.precision = hint.get_type_name() if hasattr(hint, "get_type_name") else str(hint).lower()
        except RuntimeError:  # devices without the property (some NPUs) report what was asked
            self.precision = precision

    def run(self, feeds):
        results = self.request.infer(feeds)
        return {port.get_any_name(): np.asarray(value) for port, value in results.items()}


class OnnxRuntimeRunner:
    def __init__(self, path, device, precision, threads=None):
        import onnxruntime as ort  # guarded: only hosts serving ONNX artifacts need it

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if threads:
            options.intra_op_num_threads = threads
        wanted = ORT_PROVIDERS.get((device or "CPU").upper())
        if wanted is None:
            raise LoadError("device %r is not one of %s for ONNX Runtime" % (device, sorted(ORT_PROVIDERS)))
        self.session = ort.InferenceSession(path, options, providers=wanted)
        active = self.session.get_providers()
        # ORT falls back to the CPU silently when an accelerator provider cannot load: refuse that.
        if active[0] != wanted[0]:
            raise LoadError("ONNX Runtime runs %s, not %s as the manifest's device %r requires"
                            % (active[0], wanted[0], device))
        self.device = (device or "CPU").upper()
        self.precision = precision

    def run(self, feeds):
        names = [o.name for o in self.session.get_outputs()]
        return dict(zip(names, self.session.run(names, feeds)))


class EdgeaiModel:
    """One artifact version directory, loaded once."""

    def __init__(self, name, model_dir, cache_dir=None, threads=None):
        self.name = name
        # Resolve ``current`` once: a later switch of the link is picked up by a restart, not mid-flight.
        self.version_dir = os.path.realpath(model_dir)
        self.version = os.path.basename(self.version_dir)
        self.cache_dir = cache_dir
        self.threads = threads
        self.manifest = None
        self.runner = None
        self.ready = False
        # An OpenVINO InferRequest is not thread-safe, and one inference at a time keeps the runtime's thread pool
        # to itself; the HTTP threads only parse and serialise in parallel.
        self.lock = threading.Lock()

    def load(self):
        manifest = read_manifest(self.version_dir)
        path = os.path.join(self.version_dir, manifest["entrypoint"])
        device = manifest.get("device") or "CPU"
        precision = manifest.get("inference_precision")
        target = manifest.get("target")
        if target == "openvino":
            self.runner = OpenVINORunner(path, device, precision, self.cache_dir)
        elif target == "onnxruntime":
            self.runner = OnnxRuntimeRunner(path, device, precision, self.threads)
        else:
            raise LoadError("target %r is not served by the kserve backend; use the triton backend for TensorRT"
                            % target)
        self.manifest = manifest
        LOG.info("loaded %s version %s (%s) on %s, precision %s", self.name, self.version, target,
                 self.runner.device, self.runner.precision)
        self.ready = True
        return self.ready

    def parameters(self):
        return {"device": self.runner.device, "precision": self.runner.precision}

    def metadata(self):
        def types(key):
            return [{k: t.get(k) for k in ("name", "datatype", "shape")} for t in self.manifest.get(key, [])]
        return {"name": self.name, "versions": [self.version], "platform": self.manifest.get("target"),
                "inputs": types("inputs"), "outputs": types("outputs"), "parameters": self.parameters()}

    def infer(self, request):
        """A V2 inference request document -> the V2 response document."""
        if not isinstance(request, dict) or not isinstance(request.get("inputs"), list) or not request["inputs"]:
            raise BadRequest("a KServe V2 inference request needs a non-empty 'inputs' list")
        feeds = dict(decode_tensor(tensor) for tensor in request["inputs"])
        wanted = request.get("outputs")
        wanted = {o.get("name") for o in wanted if isinstance(o, dict)} if isinstance(wanted, list) and wanted else None
        with self.lock:
            results = self.runner.run(feeds)
        outputs = [encode_tensor(name, value) for name, value in results.items() if wanted is None or name in wanted]
        return {"model_name": self.name, "model_version": self.version, "id": request.get("id") or str(uuid.uuid4()),
                "parameters": self.parameters(), "outputs": outputs}


def decode_tensor(tensor):
    """A V2 JSON input tensor -> (name, numpy array of its datatype and shape)."""
    if not isinstance(tensor, dict) or not isinstance(tensor.get("name"), str):
        raise BadRequest("every input needs a name, a shape, a datatype and data")
    name, datatype, shape = tensor["name"], tensor.get("datatype"), tensor.get("shape")
    if datatype not in V2_TO_NUMPY:
        raise BadRequest("input %s: datatype %r is not served (one of %s)" % (name, datatype, sorted(V2_TO_NUMPY)))
    if not isinstance(shape, list) or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
        raise BadRequest("input %s: shape must be a list of non-negative integers, got %r" % (name, shape))
    try:
        array = np.asarray(tensor.get("data"), dtype=V2_TO_NUMPY[datatype])
        return name, array.reshape(shape)
    except (TypeError, ValueError) as exc:
        raise BadRequest("input %s: data does not fit %s %s: %s" % (name, datatype, shape, exc)) from exc


def encode_tensor(name, value):
    value = np.ascontiguousarray(value)
    datatype = NUMPY_TO_V2.get(value.dtype.name)
    if datatype is None:
        raise LoadError("output %s has dtype %s, which KServe V2 JSON cannot carry" % (name, value.dtype))
    return {"name": name, "shape": list(value.shape), "datatype": datatype, "data": value.ravel().tolist()}


class V2Handler(BaseHTTPRequestHandler):
    """The KServe V2 REST routes for one model (``server.model``); one kept-alive connection per client thread."""

    protocol_version = "HTTP/1.1"
    server_version = "edgeai-model-server"
    # Headers and body leave in two writes: with Nagle's algorithm the body waits for the client's delayed ACK of
    # the headers, 40 ms on Linux per kept-alive request (measured on the lab node: p50 44 ms for a 16x8 MatMul).
    disable_nagle_algorithm = True

    def do_GET(self):  # noqa: N802 - http.server's naming
        model = self.server.model
        path = urllib.parse.urlsplit(self.path).path
        if path == "/v2/health/live":
            return self.answer(200, {"live": True})
        if path == "/v2/health/ready":
            return self.answer(200 if model.ready else 503, {"ready": model.ready})
        if path in ("/v2", "/v2/"):
            return self.answer(200, {"name": self.server_version, "version": "1", "extensions": []})
        route = self.model_route(path)
        if route is None or route == "/infer":
            return self.answer(404, {"error": "no route GET %s" % path})
        if route == "/ready":
            return self.answer(200 if model.ready else 503, {"name": model.name, "ready": model.ready})
        return self.answer(200, model.metadata())

    def do_POST(self):  # noqa: N802 - http.server's naming
        path = urllib.parse.urlsplit(self.path).path
        if self.model_route(path) != "/infer":
            self.close_connection = True  # the body stays unread
            return self.answer(404, {"error": "no route POST %s" % path})
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            self.close_connection = True
            return self.answer(411, {"error": "an inference request needs a Content-Length"})
        if int(length) > MAX_REQUEST_BYTES:
            self.close_connection = True
            return self.answer(413, {"error": "request of %s bytes is over the limit of %d" % (length, MAX_REQUEST_BYTES)})
        body = self.rfile.read(int(length))
        if self.headers.get("Inference-Header-Content-Length") is not None:
            return self.answer(400, {"error": "the binary tensor extension is not served; send the tensors as JSON"})
        try:
            return self.answer(200, self.server.model.infer(json.loads(body)))
        except (ValueError, RecursionError) as exc:  # json.JSONDecodeError is a ValueError
            return self.answer(400, {"error": "the request is not JSON: %s" % exc})
        except BadRequest as exc:
            return self.answer(400, {"error": str(exc)})
        except Exception as exc:  # pylint: disable=broad-exception-caught
            # The runtimes raise their own types (shape mismatches, device errors): keep serving, log the traceback.
            LOG.exception("inference on %s failed", self.server.model.name)
            return self.answer(500, {"error": "inference failed: %s" % exc})

    def model_route(self, path):
        """'' for metadata, '/ready' or '/infer' for this model's routes; None for anything else."""
        match = MODEL_ROUTE.match(path)
        if match is None or urllib.parse.unquote(match.group("name")) != self.server.model.name:
            return None
        return match.group("action") or ""

    def answer(self, status, doc):
        body = json.dumps(doc, separators=(",", ":")).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin  # http.server's signature
        LOG.debug("%s " + format, self.address_string(), *args)


class V2Server(ThreadingHTTPServer):
    """A thread per connection (daemon threads: a kept-alive client never blocks a stop)."""

    def __init__(self, address, model):
        super().__init__(address, V2Handler)
        self.model = model


def serve(model, port, host=""):
    """Bind ``host:port`` and return the server (``serve_forever`` runs it); ``""`` is every IPv4 address."""
    return V2Server((host, port), model)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model_name", required=True, help="name the model is served under")
    parser.add_argument("--model_dir", required=True, help="version directory, usually <repo>/<name>/current")
    parser.add_argument("--http_port", type=int, default=8080, help="KServe V2 REST port")
    parser.add_argument("--cache_dir", help="OpenVINO CACHE_DIR (keep it under /var/cache)")
    parser.add_argument("--threads", type=int, help="ONNX Runtime intra-op threads")
    # Units written for the kserve-based server pass it; there never is a gRPC server to enable.
    parser.add_argument("--enable_grpc", choices=["false"], default="false", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    model = EdgeaiModel(args.model_name, args.model_dir, args.cache_dir, args.threads)
    try:
        model.load()
    except Exception as exc:  # pylint: disable=broad-exception-caught
        # ORT and OpenVINO raise their own exception types. Log the traceback and exit non-zero so systemd
        # (and the role's verify step) see a failed start, never a ready-but-empty server.
        LOG.exception("cannot load %s from %s: %s", args.model_name, args.model_dir, exc)
        return 2
    server = serve(model, args.http_port)
    LOG.info("serving %s version %s over KServe V2 REST on port %d", model.name, model.version, args.http_port)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
