# -*- coding: utf-8 -*-
# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Private to the edgeai.fleet collection: may change without notice.

"""OpenVINO target: IR at FP32 / FP16 weights, NNCF post-training INT8 and INT8 weight compression.

The runtime precision is always pinned with INFERENCE_PRECISION_HINT: on CPUs with AVX-512 BF16 or
AMX the CPU plugin otherwise runs an "FP32" IR in bf16 without saying so.
"""

from __future__ import annotations

import json
import os
import time
import traceback

from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError
from ansible_collections.edgeai.fleet.plugins.module_utils._model_compile import MissingLibrary, prune_cache
from ansible_collections.edgeai.fleet.plugins.module_utils._model_samples import require_numpy
from ansible_collections.edgeai.fleet.plugins.module_utils import _model_npu as npu_
from ansible_collections.edgeai.fleet.plugins.module_utils import _model_shapes as shapes_
from ansible_collections.edgeai.fleet.plugins.module_utils import _model_toolchain as toolchain_

try:
    import openvino as ov
except ImportError:
    ov = None
    OPENVINO_IMPORT_ERROR = traceback.format_exc()
else:
    OPENVINO_IMPORT_ERROR = None

# nncf is imported only to quantize: importing it loads torch (about 2 s), which a compile that the cache answers
# does not need. Its version comes from the package metadata.
try:
    from importlib.metadata import PackageNotFoundError, version as _dist_version
except ImportError:  # Python < 3.8 has no importlib.metadata; such a host reports nncf as absent
    _dist_version = None


def _nncf_version():
    if _dist_version is None:
        return None
    try:
        return _dist_version("nncf")
    except PackageNotFoundError:
        return None


def _nncf():
    try:
        import nncf
    except ImportError as exc:
        raise MissingLibrary("nncf", "to quantize with OpenVINO", traceback.format_exc()) from exc
    return nncf


ENTRYPOINT = "model.xml"
WARMUP_RUNS = 3


def _shape(partial):
    return [d.get_length() if d.is_static else -1 for d in partial]


def _tensors(ports):
    return [{"name": p.any_name, "shape": _shape(p.get_partial_shape()),
             "datatype": _v2(str(p.get_element_type().to_dtype()))} for p in ports]


def _v2(dtype):
    from ansible_collections.edgeai.fleet.plugins.module_utils._model_samples import V2_TYPES
    return V2_TYPES.get(dtype, "FP32")


def _wrap(what, exc):
    """The runtime's verdict in the message; its full log stays in the traceback detail."""
    return FleetError("%s: %s" % (what, shapes_.clip_reason(exc)), traceback=traceback.format_exc())


class Session:
    """A compiled model that answers ``infer(sample)`` with a list of output arrays."""

    def __init__(self, compiled, effective):
        self.compiled = compiled
        self.request = compiled.create_infer_request()
        self.effective = effective

    def infer(self, sample):
        try:
            results = self.request.infer(sample)
        except RuntimeError as exc:
            raise _wrap("inference failed", exc)
        return [results[port].copy() for port in self.compiled.outputs]

    def time(self, sample, runs):
        for _i in range(WARMUP_RUNS):
            self.request.infer(sample)
        timings = []
        for _i in range(runs):
            started = time.perf_counter()
            self.request.infer(sample)
            timings.append((time.perf_counter() - started) * 1000.0)
        return timings


class Backend:
    name = "openvino"
    precisions = ("fp32", "fp16", "int8", "int8-weights")
    reference_name = "openvino CPU f32 on the source model"

    def __init__(self, params):
        if ov is None:
            raise MissingLibrary("openvino", "for target openvino", OPENVINO_IMPORT_ERROR)
        require_numpy()
        self.params = params
        self.core = ov.Core()
        self._models = {}
        self.version = ov.get_version().split("-")[0]
        self.npu = npu_.is_npu(params.get("device"))
        if self.npu:
            npu_.require_device(self.core, self.version)

    def toolchain(self):
        # The same versions the up-to-date check reads from metadata (no build suffix, unlike ov.get_version());
        # only a runtime built from source, which has no metadata, falls back to its own report.
        found = toolchain_.versions(self.name)
        if found is None:
            found = {"nncf": _nncf_version(), "numpy": require_numpy().__version__}
        found["openvino"] = found.get("openvino") or self.version
        return found

    def unsupported(self, precision):
        if self.npu and npu_.unsupported(precision):
            return npu_.unsupported(precision)
        if precision in ("int8", "int8-weights") and _nncf_version() is None:
            raise MissingLibrary("nncf", "for precision %s on target openvino" % precision, None)
        return None

    def _read(self, src, shapes):
        """The source as an ov.Model with ``shapes`` applied; converted once, a fresh clone per caller.

        describe, reference and every candidate's build need the same model, and NNCF changes the one it
        is given (compress_weights works in place).
        """
        key = (src, json.dumps(shapes, sort_keys=True))
        if key not in self._models:
            self._models[key] = self._convert(src, shapes)
        return self._models[key].clone()

    def _convert(self, src, shapes):
        """Shapes are fixed *at conversion*: the ONNX frontend cannot convert some graphs (Conv after If,
        stateful RNN cells) while their dimensions are dynamic, so read_model followed by reshape fails on them.
        """
        try:
            if src.endswith(".xml"):
                model = self.core.read_model(src)
                if shapes:
                    model.reshape(dict((name, ov.PartialShape(shape)) for name, shape in shapes.items()))
                return model
            if shapes:
                declared = shapes_.declared_inputs(src)
                if declared is not None:  # without the onnx package OpenVINO's own error has to do
                    shapes_.check_shapes(shapes, declared)
                return ov.convert_model(src, input=[(name, ov.PartialShape(shape)) for name, shape in shapes.items()])
            return ov.convert_model(src)
        except FleetError:
            raise
        except Exception as exc:  # OpConversionFailure, ovc's Error and RuntimeError share no base but Exception
            raise self._conversion_error(src, shapes, exc)

    def _conversion_error(self, src, shapes, exc):
        given = " with input_shapes %s" % json.dumps(shapes, sort_keys=True) if shapes else ""
        message = "OpenVINO cannot convert %s%s: %s" % (src, given, shapes_.clip_reason(exc))
        if not shapes:
            declared = shapes_.declared_inputs(src) or []
            hint = shapes_.describe_dynamic(declared)
            if hint:
                message += "\n" + hint
                return FleetError(message, traceback=traceback.format_exc(), option="input_shapes",
                                  dynamic_inputs=dict(shapes_.dynamic(declared)),
                                  input_shapes_to_start=shapes_.suggestion(declared))
        return FleetError(message + "\nWith the right input_shapes this means OpenVINO's frontend cannot convert "
                          "the graph; target onnxruntime may run it.", traceback=traceback.format_exc())

    def describe(self, src, shapes):
        model = self._read(src, shapes)
        inputs = _tensors(model.inputs)
        if self.npu:
            npu_.require_static([(t["name"], t["shape"]) for t in inputs],
                                shapes_.declared_inputs(src) if src.endswith(".onnx") else None)
        return inputs, _tensors(model.outputs)

    def reference(self, src, shapes, samples):
        try:
            compiled = self.core.compile_model(self._read(src, shapes), "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
        except RuntimeError as exc:
            raise FleetError("OpenVINO converted %s but cannot compile it for the CPU reference: %s"
                             % (src, shapes_.clip_reason(exc)), traceback=traceback.format_exc())
        session = Session(compiled, None)
        return [session.infer(sample) for sample in samples]

    def build(self, src, precision, out_dir, calibration):
        model = self._read(src, self.params.get("input_shapes"))
        nncf = _nncf() if precision in ("int8", "int8-weights") else None
        try:
            if precision == "int8":
                model_type = nncf.ModelType.TRANSFORMER if self.params.get("model_type") == "transformer" else None
                model = nncf.quantize(model, nncf.Dataset(calibration), subset_size=len(calibration),
                                      model_type=model_type)
            elif precision == "int8-weights":
                model = nncf.compress_weights(model)
            ov.save_model(model, os.path.join(out_dir, ENTRYPOINT), compress_to_fp16=precision == "fp16")
        except Exception as exc:  # nncf raises many types; the traceback travels in the error's details
            raise _wrap("building %s failed" % precision, exc)
        return ENTRYPOINT

    def _cache(self):
        cache_dir = self.params.get("cache_dir")
        if not cache_dir:
            return None
        path, _removed = prune_cache(cache_dir, "openvino", "openvino-%s" % self.version)
        return path

    def capabilities(self):
        """The device's OPTIMIZATION_CAPABILITIES (``FP32``, ``BF16``, ``FP16``...), None when it cannot say."""
        try:
            return [str(c) for c in self.core.get_property(self.params["device"], "OPTIMIZATION_CAPABILITIES")]
        except (RuntimeError, TypeError):
            return None

    def load(self, out_dir, entrypoint, hint=None):
        wanted = hint or self.params["inference_precision"]
        config = {"INFERENCE_PRECISION_HINT": wanted, "PERFORMANCE_HINT": "LATENCY"}
        cache = self._cache()
        if cache:
            config["CACHE_DIR"] = cache
        device = self.params["device"]
        try:
            compiled = self.core.compile_model(os.path.join(out_dir, entrypoint), device, config)
            effective = compiled.get_property("INFERENCE_PRECISION_HINT").to_string()
            devices = list(compiled.get_property("EXECUTION_DEVICES"))
        except RuntimeError as exc:
            raise _wrap("OpenVINO cannot compile %s for device %s" % (entrypoint, device), exc)
        if self.npu:
            npu_.require_executed_on_npu(devices)
        if effective != wanted:
            raise FleetError("device %s runs the model in %s although inference_precision %s was pinned"
                             % (device, effective, wanted), effective=effective)
        return Session(compiled, {"device": ",".join(devices), "inference_precision": effective})
