# -*- coding: utf-8 -*-
# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The edgeai.fleet model server: one artifact over the KServe V2 REST protocol, standard library HTTP.

Serves one artifact written by ``edgeai.fleet.model_compile`` (model files + manifest.json) with
OpenVINO, ONNX Runtime or LiteRT (TFLite, with the Edge TPU delegate for target edgetpu), pinned to the
manifest's device and inference precision, over the KServe V2 REST protocol. Every inference response
carries ``parameters.device`` and ``parameters.precision`` read back from the runtime where it tells
(OpenVINO ``EXECUTION_DEVICES`` / ``INFERENCE_PRECISION_HINT``, ORT's active provider; LiteRT: CPU, or
EDGETPU once the delegate loaded), so ``edgeai.fleet.model_verify`` reports what actually ran.

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
    sys.exit("edgeai_model_server needs numpy (and onnxruntime, openvino or ai-edge-litert) in its venv: %s" % exc)

LOG = logging.getLogger("edgeai_model_server")
V2_TO_NUMPY = {"FP32": "float32", "FP16": "float16", "FP64": "float64", "INT8": "int8", "UINT8": "uint8",
               "INT16": "int16", "INT32": "int32", "INT64": "int64", "BOOL": "bool"}
NUMPY_TO_V2 = dict({v: k for k, v in V2_TO_NUMPY.items()}, uint16="UINT16", uint32="UINT32", uint64="UINT64")
ORT_PROVIDERS = {"CPU": ["CPUExecutionProvider"], "CUDA": ["CUDAExecutionProvider", "CPUExecutionProvider"],
                 "GPU": ["CUDAExecutionProvider", "CPUExecutionProvider"],
                 "TENSORRT": ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"]}
# A JSON request larger than this is refused before it is read: parsing it would cost several times its size.
MAX_REQUEST_BYTES = 256 * 1024 * 1024
# What onnx2tf does to channel-first tensors (the manifest's tflite layouts), by rank: (0, 2, ..., 1) on the way in.
TFLITE_LAYOUTS = {"NCW->NWC": 3, "NCHW->NHWC": 4, "NCDHW->NDHWC": 5}
# The Edge TPU delegate of the libedgetpu1-std (or -max) Debian package.
EDGETPU_LIBRARY = "libedgetpu.so.1"
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


class LiteRTRunner:
    """A TFLite artifact (targets tflite and edgetpu) on ai-edge-litert's Interpreter.

    Clients send and receive the manifest's tensors: its (ONNX) names, layouts and float datatypes. The manifest's
    ``tflite`` field (written by the tflite compile backend, plugins/module_utils/_model_tflite.py) maps each of
    them to an interpreter tensor (``tflite_name``, else ``index`` as in ``get_input_details()``) and says whether
    onnx2tf moved it channel-last (``layout``: one of TFLITE_LAYOUTS, or null); without the field, tensors are
    matched by name, or a single input/output to the only one. Quantized I/O is (de)quantized here with the
    tensor's own (scale, zero_point), so a full-integer model answers in the manifest's datatypes like the other
    runtimes.
    """

    def __init__(self, path, manifest, threads=None, edgetpu=False):
        from ai_edge_litert.interpreter import Interpreter, load_delegate  # guarded: only TFLite hosts need it

        delegates = []
        if edgetpu:
            try:
                delegates.append(load_delegate(EDGETPU_LIBRARY))
            except (ValueError, OSError, RuntimeError) as exc:
                # Never run an Edge TPU artifact on the CPU instead: the ops the compiler mapped would not run there.
                raise LoadError("target edgetpu needs the Edge TPU runtime (libedgetpu1-std) on this device: %s"
                                % exc) from exc
        self.interpreter = Interpreter(model_path=path, num_threads=threads or None,
                                       experimental_delegates=delegates or None)
        self.interpreter.allocate_tensors()
        self.inputs = bind_tensors(manifest, "inputs", self.interpreter.get_input_details())
        self.outputs = bind_tensors(manifest, "outputs", self.interpreter.get_output_details())
        self.shapes = {b["index"]: tuple(b["shape"]) for b in self.inputs}
        self.device = "EDGETPU" if edgetpu else "CPU"
        # LiteRT has no property to read the executed precision back from; a full-integer model runs what it holds.
        self.precision = manifest.get("inference_precision")

    def run(self, feeds):
        values = {}
        for bound in self.inputs:
            if bound["name"] not in feeds:
                raise BadRequest("input %s is missing" % bound["name"])
            value = feeds[bound["name"]]
            if bound["layout"]:
                rank = TFLITE_LAYOUTS[bound["layout"]]
                if value.ndim != rank:
                    raise BadRequest("input %s: expected a %d-D %s tensor, got shape %s"
                                     % (bound["name"], rank, bound["layout"].split("->")[0], list(value.shape)))
                value = value.transpose([0] + list(range(2, rank)) + [1])
            values[bound["index"]] = np.ascontiguousarray(quantize(value, bound))
        self.fit({index: value.shape for index, value in values.items()})
        for index, value in values.items():
            self.interpreter.set_tensor(index, value)
        self.interpreter.invoke()
        results = {}
        for bound in self.outputs:
            value = dequantize(self.interpreter.get_tensor(bound["index"]), bound)
            if bound["layout"] and value.ndim == TFLITE_LAYOUTS[bound["layout"]]:
                value = value.transpose([0, value.ndim - 1] + list(range(1, value.ndim - 1)))
            results[bound["name"]] = value
        return results

    def fit(self, shapes):
        """Resize the inputs whose request shape differs, where the model's shape signature allows it."""
        changed = {index: shape for index, shape in shapes.items() if tuple(shape) != self.shapes[index]}
        # Every shape is checked before any is resized: a refused request leaves the interpreter as it was.
        for bound in self.inputs:
            shape, signature = changed.get(bound["index"]), bound["signature"]
            fits = shape is None or (len(shape) == len(signature) and all(s in (-1, d) for s, d in zip(signature, shape)))
            if not fits:
                raise BadRequest("input %s: shape %s does not fit the model's %s (-1 is free)"
                                 % (bound["name"], list(shape), list(signature)))
        for index, shape in changed.items():
            self.interpreter.resize_tensor_input(index, list(shape), strict=True)
        if changed:
            self.interpreter.allocate_tensors()
            self.shapes.update((index, tuple(shape)) for index, shape in changed.items())


def bind_tensors(manifest, key, details):
    """Each manifest tensor of ``key`` with its interpreter tensor: name, index, layout, dtype, quantization."""
    wanted = manifest.get(key) or []
    datatypes = {t.get("name"): t.get("datatype") for t in wanted if isinstance(t, dict)}
    by_index = {d["index"]: d for d in details}
    by_name = {d["name"]: d for d in details}
    mapping = (manifest.get("tflite") or {}).get(key)
    if mapping is not None:
        if not isinstance(mapping, list) or not all(isinstance(m, dict) for m in mapping):
            raise LoadError("manifest tflite.%s must be a list of {name, index, tflite_name, layout}" % key)
        # By tflite_name where the map has it: edgetpu_compiler rewrites the graph (model_edgetpu.tflite keeps the I/O
        # tensor names of the model.tflite the map was made from, not necessarily their indices).
        pairs = [(m.get("name"), by_name.get(m["tflite_name"]) if m.get("tflite_name")
                  else by_index.get(m.get("index")), m.get("layout")) for m in mapping]
    elif all(t.get("name") in by_name for t in wanted):
        pairs = [(t["name"], by_name[t["name"]], None) for t in wanted]
    elif len(wanted) == 1 and len(details) == 1:
        pairs = [(wanted[0].get("name"), details[0], None)]
    else:
        raise LoadError("cannot tell which TFLite %s (%s) are the manifest's %s: list them in the manifest's "
                        "tflite.%s" % (key, sorted(by_name), sorted(datatypes), key))
    bound = []
    for name, detail, layout in pairs:
        if detail is None or not isinstance(name, str):
            raise LoadError("manifest tflite.%s maps %r to a tensor the model does not have (its %s: %s)"
                            % (key, name, key, sorted("%s (index %d)" % (n, d["index"]) for n, d in by_name.items())))
        if layout is not None and layout not in TFLITE_LAYOUTS:
            raise LoadError("manifest tflite.%s: %s has layout %r, not one of %s"
                            % (key, name, layout, sorted(TFLITE_LAYOUTS)))
        scales = detail.get("quantization_parameters", {}).get("scales")
        if scales is not None and len(scales) > 1:
            raise LoadError("TFLite %s %s is quantized per channel; the server (de)quantizes only per tensor"
                            % (key[:-1], detail["name"]))
        scale, zero_point = detail["quantization"]
        bound.append({"name": name, "index": detail["index"], "layout": layout, "dtype": np.dtype(detail["dtype"]),
                      "scale": float(scale), "zero_point": int(zero_point), "shape": [int(d) for d in detail["shape"]],
                      "signature": [int(d) for d in detail.get("shape_signature", detail["shape"])],
                      "datatype": V2_TO_NUMPY.get(datatypes.get(name), "float32")})
    return bound


def quantize(value, bound):
    """A request tensor -> the interpreter tensor's dtype; float values of a quantized tensor on its integer grid."""
    if bound["scale"] and bound["dtype"].kind in "iu" and value.dtype.kind == "f":
        info = np.iinfo(bound["dtype"])
        value = np.round(value / bound["scale"]) + bound["zero_point"]
        return np.clip(value, info.min, info.max).astype(bound["dtype"])
    return value.astype(bound["dtype"], casting="same_kind")


def dequantize(value, bound):
    """An interpreter output -> the manifest's datatype, back from the integer grid when quantized."""
    if bound["scale"] and bound["dtype"].kind in "iu":
        value = (value.astype(np.float32) - bound["zero_point"]) * np.float32(bound["scale"])
    return value.astype(bound["datatype"])


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
        elif target in ("tflite", "edgetpu"):
            self.runner = LiteRTRunner(path, manifest, self.threads, edgetpu=target == "edgetpu")
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
    parser.add_argument("--threads", type=int, help="ONNX Runtime intra-op / LiteRT interpreter threads")
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
