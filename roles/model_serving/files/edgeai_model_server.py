# -*- coding: utf-8 -*-
# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The edgeai.fleet model class for the KServe Python model server (PyPI ``kserve``).

Serves one artifact written by ``edgeai.fleet.model_compile`` (model files + manifest.json) with
OpenVINO or ONNX Runtime, pinned to the manifest's device and inference precision, over the KServe V2
REST protocol. Every inference response carries ``parameters.device`` and ``parameters.precision``
read back from the runtime (OpenVINO ``EXECUTION_DEVICES`` / ``INFERENCE_PRECISION_HINT``, ORT's active
provider), so ``edgeai.fleet.model_verify`` reports what actually ran, not what was asked for.

This is a program run by systemd from its own virtual environment (kserve + a runtime), not an
Ansible module_utils: Ansible never ships module_utils to a long-running service, and the collection's
controller-side sanity tests must not import kserve. The role copies it next to the venv.

Usage::

    python edgeai_model_server.py --model_name ocr_det --model_dir /var/lib/edgeai/models/ocr_det/current \
        --http_port 8000 --enable_grpc false [--cache_dir /var/cache/edgeai/openvino]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import uuid

try:
    import numpy as np
    import kserve
    from kserve import InferOutput, InferRequest, InferResponse, Model, ModelServer
    from kserve.model_server import parser as kserve_parser
    from kserve.utils.numpy_codec import from_np_dtype
except ImportError as exc:  # pragma: no cover - the role installs these; say so clearly if not
    sys.exit("edgeai_model_server needs the kserve and numpy packages in its venv: %s" % exc)

LOG = logging.getLogger("edgeai_model_server")
V2_TO_NUMPY = {"FP32": "float32", "FP16": "float16", "FP64": "float64", "INT8": "int8", "UINT8": "uint8",
               "INT16": "int16", "INT32": "int32", "INT64": "int64", "BOOL": "bool"}
ORT_PROVIDERS = {"CPU": ["CPUExecutionProvider"], "CUDA": ["CUDAExecutionProvider", "CPUExecutionProvider"],
                 "GPU": ["CUDAExecutionProvider", "CPUExecutionProvider"],
                 "TENSORRT": ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"]}


class LoadError(Exception):
    pass


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


class EdgeaiModel(Model):
    """A ``kserve.Model`` for one artifact version directory."""

    def __init__(self, name, model_dir, cache_dir=None, threads=None):
        super().__init__(name)
        # Resolve ``current`` once: a later switch of the link is picked up by a restart, not mid-flight.
        self.version_dir = os.path.realpath(model_dir)
        self.version = os.path.basename(self.version_dir)
        self.cache_dir = cache_dir
        self.threads = threads
        self.manifest = None
        self.runner = None

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

    def get_input_types(self):
        return [{k: t.get(k) for k in ("name", "datatype", "shape")} for t in self.manifest.get("inputs", [])]

    def get_output_types(self):
        return [{k: t.get(k) for k in ("name", "datatype", "shape")} for t in self.manifest.get("outputs", [])]

    def predict(self, payload, headers=None, response_headers=None):
        if not isinstance(payload, InferRequest):
            raise kserve.errors.InvalidInput("only KServe V2 requests are served")
        feeds = {}
        for tensor in payload.inputs:
            array = tensor.as_numpy()
            want = V2_TO_NUMPY.get(tensor.datatype)
            feeds[tensor.name] = array.astype(want) if want else array
        outputs = []
        for name, value in self.runner.run(feeds).items():
            value = np.ascontiguousarray(value)
            out = InferOutput(name=name, shape=list(value.shape), datatype=from_np_dtype(value.dtype))
            out.set_data_from_numpy(value, binary_data=False)
            outputs.append(out)
        return InferResponse(response_id=payload.id or str(uuid.uuid4()), model_name=self.name, model_version=self.version,
                             infer_outputs=outputs,
                             parameters={"device": self.runner.device, "precision": self.runner.precision})


def main(argv=None):
    parser = argparse.ArgumentParser(parents=[kserve_parser], description=__doc__.splitlines()[0])
    parser.add_argument("--model_dir", required=True, help="version directory, usually <repo>/<name>/current")
    parser.add_argument("--cache_dir", help="OpenVINO CACHE_DIR (keep it under /var/cache)")
    parser.add_argument("--threads", type=int, help="ONNX Runtime intra-op threads")
    args, _unknown = parser.parse_known_args(argv)
    logging.basicConfig(level=logging.INFO)
    model = EdgeaiModel(args.model_name, args.model_dir, args.cache_dir, args.threads)
    try:
        model.load()
    except Exception as exc:  # pylint: disable=broad-exception-caught
        # ORT and OpenVINO raise their own exception types. Log the traceback and exit non-zero so systemd
        # (and the role's verify step) see a failed start, never a ready-but-empty server.
        LOG.exception("cannot load %s from %s: %s", args.model_name, args.model_dir, exc)
        return 2
    ModelServer(http_port=args.http_port, grpc_port=args.grpc_port, enable_grpc=args.enable_grpc,
                workers=1).start([model])
    return 0


if __name__ == "__main__":
    sys.exit(main())
