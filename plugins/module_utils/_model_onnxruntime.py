# -*- coding: utf-8 -*-
# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Private to the edgeai.fleet collection: may change without notice.

"""ONNX Runtime target (CPU execution provider): FP32 with fixed shapes, static QDQ INT8, dynamic INT8.

Static quantisation follows what was measured to load: ``quant_pre_process`` first, opset raised to 13
(per-channel DequantizeLinear needs ``axis``), and every written file load-tested by the caller.
"""

from __future__ import annotations

import os
import shutil
import time
import traceback

from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError
from ansible_collections.edgeai.fleet.plugins.module_utils._model_compile import MissingLibrary
from ansible_collections.edgeai.fleet.plugins.module_utils._model_samples import require_numpy
from ansible_collections.edgeai.fleet.plugins.module_utils._model_shapes import check_shapes
from ansible_collections.edgeai.fleet.plugins.module_utils import _model_toolchain as toolchain_

try:
    import onnxruntime as ort
except ImportError:
    ort = None
    ORT_IMPORT_ERROR = traceback.format_exc()
else:
    ORT_IMPORT_ERROR = None

try:
    import onnx
except ImportError:
    onnx = None
    ONNX_IMPORT_ERROR = traceback.format_exc()
else:
    ONNX_IMPORT_ERROR = None

ENTRYPOINT = "model.onnx"
WARMUP_RUNS = 3
PROVIDER = "CPUExecutionProvider"
ORT_TYPES = {"tensor(float)": "FP32", "tensor(float16)": "FP16", "tensor(double)": "FP64", "tensor(int64)": "INT64",
             "tensor(int32)": "INT32", "tensor(int8)": "INT8", "tensor(uint8)": "UINT8", "tensor(bool)": "BOOL"}


def _tensors(args):
    return [{"name": a.name, "shape": [d if isinstance(d, int) else -1 for d in a.shape],
             "datatype": ORT_TYPES.get(a.type, "FP32")} for a in args]


def require_onnx(why):
    if onnx is None:
        raise MissingLibrary("onnx", why, ONNX_IMPORT_ERROR)
    return onnx


def prepared_model(src, shapes):
    """The source as an onnx ModelProto (external data loaded) with ``shapes`` fixed."""
    require_onnx("to fix input shapes or quantize ONNX models")
    try:
        model = onnx.load(src)
    except (OSError, ValueError, onnx.onnx_cpp2py_export.checker.ValidationError) as exc:
        raise FleetError("Cannot read ONNX model %s: %s" % (src, exc), traceback=traceback.format_exc())
    dims_by_name = dict((i.name, i.type.tensor_type.shape.dim) for i in model.graph.input)
    check_shapes(shapes, [(name, list(dims)) for name, dims in dims_by_name.items()])
    for name, shape in (shapes or {}).items():
        for dim, size in zip(dims_by_name[name], shape):
            if size >= 0:
                dim.Clear()
                dim.dim_value = size
    return model


def save_model(model, path):
    """Save, with weights in ``<file>.data`` beside it when the model is over protobuf's 2 GB limit."""
    large = model.ByteSize() > (2 << 30) - (64 << 20)
    onnx.save(model, path, save_as_external_data=large, location=os.path.basename(path) + ".data" if large else None)


class _Reader(object):
    """onnxruntime.quantization.CalibrationDataReader over the calibration samples."""

    def __init__(self, samples):
        self._items = iter(samples)

    def get_next(self):
        return next(self._items, None)

    def rewind(self):
        pass


class Session:
    def __init__(self, session, effective):
        self.session = session
        self.effective = effective

    def infer(self, sample):
        try:
            return self.session.run(None, sample)
        except Exception as exc:  # onnxruntime raises its own exception classes per failure kind
            raise FleetError("inference failed: %s" % exc, traceback=traceback.format_exc())

    def time(self, sample, runs):
        for _i in range(WARMUP_RUNS):
            self.session.run(None, sample)
        timings = []
        for _i in range(runs):
            started = time.perf_counter()
            self.session.run(None, sample)
            timings.append((time.perf_counter() - started) * 1000.0)
        return timings


def cpu_session(model_or_path):
    """A CPU session; fails when ORT silently fell back to another provider list."""
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    payload = model_or_path if isinstance(model_or_path, str) else model_or_path.SerializeToString()
    try:
        session = ort.InferenceSession(payload, options, providers=[PROVIDER])
    except Exception as exc:  # InvalidGraph, Fail, NotImplemented...: all mean "does not load"
        raise FleetError("ONNX Runtime cannot load the model: %s" % exc, traceback=traceback.format_exc())
    if session.get_providers()[0] != PROVIDER:
        raise FleetError("ONNX Runtime runs the model on %s instead of %s" % (session.get_providers(), PROVIDER))
    return session


class Backend:
    name = "onnxruntime"
    precisions = ("fp32", "int8", "int8-weights")
    reference_name = "onnxruntime CPU FP32 on the source model"

    def __init__(self, params):
        if ort is None:
            raise MissingLibrary("onnxruntime", "for target onnxruntime", ORT_IMPORT_ERROR)
        require_numpy()
        if params["device"].upper() != "CPU" or params["inference_precision"] != "f32":
            raise FleetError("target onnxruntime builds for device CPU at inference_precision f32 (got %s, %s); use "
                             "target openvino or tensorrt for other devices and precisions"
                             % (params["device"], params["inference_precision"]), option="device")
        self.params = params

    def toolchain(self):
        # The same versions the up-to-date check reads from metadata; a source build has none, so ask the runtime.
        found = toolchain_.versions(self.name)
        if found is None:
            found = {"onnx": getattr(onnx, "__version__", None), "numpy": require_numpy().__version__}
        found["onnxruntime"] = found.get("onnxruntime") or ort.__version__
        return found

    def unsupported(self, precision):
        if precision == "fp16":
            return "the CPU execution provider has no FP16 kernels for most operators"
        if precision in ("int8", "int8-weights") or self.params.get("input_shapes"):
            require_onnx("for precision %s or input_shapes on target onnxruntime" % precision)
        return None

    def _source(self, src, shapes):
        if src.endswith(".xml"):
            raise FleetError("target onnxruntime needs an .onnx src, got an OpenVINO IR %s" % src, src=src)
        return prepared_model(src, shapes) if shapes else src

    def describe(self, src, shapes):
        try:
            session = cpu_session(self._source(src, shapes))
        except FleetError as err:
            if not shapes:
                raise
            # Fixed dims reach every branch of an If, including the one the sizes do not fit (silero's 8 kHz
            # path with a 16 kHz chunk); ONNX Runtime's own type inference then refuses what it runs dynamically.
            raise FleetError("%s\nThat is with input_shapes fixed in the graph; ONNX Runtime runs dynamic dimensions "
                             "itself: leave input_shapes out and pass calibration samples of the sizes you serve."
                             % err.msg, **dict(err.details, option="input_shapes"))
        return _tensors(session.get_inputs()), _tensors(session.get_outputs())

    def reference(self, src, shapes, samples):
        session = Session(cpu_session(self._source(src, shapes)), None)
        return [session.infer(sample) for sample in samples]

    def build(self, src, precision, out_dir, calibration):
        out = os.path.join(out_dir, ENTRYPOINT)
        shapes = self.params.get("input_shapes")
        if precision == "fp32":
            if shapes:
                save_model(prepared_model(src, shapes), out)
            else:
                save_model(onnx.load(src), out) if onnx is not None else _copy(src, out)
            return ENTRYPOINT
        quantize(src, shapes, precision, calibration, out)
        return ENTRYPOINT

    def load(self, out_dir, entrypoint):
        session = cpu_session(os.path.join(out_dir, entrypoint))
        return Session(session, {"device": "CPU", "inference_precision": "f32"})


def quantize(src, shapes, precision, calibration, out):
    """Write a static QDQ INT8 (``int8``) or dynamic INT8 (``int8-weights``) ONNX model to ``out``.

    Also used by the TensorRT target, whose INT8 engines are built from a Q/DQ model (TensorRT 10
    deprecated implicit-quantisation calibrators; TensorRT 11 is strongly typed).
    """
    from onnxruntime import quantization as q
    staging = out + ".staging"
    os.makedirs(staging)
    try:
        model = prepared_model(src, shapes)
        if precision == "int8" and model.opset_import[0].version < 13:
            from onnx import version_converter
            model = version_converter.convert_version(model, 13)
        fixed = os.path.join(staging, "fixed.onnx")
        save_model(model, fixed)
        pre = os.path.join(staging, "pre.onnx")
        try:
            q.quant_pre_process(fixed, pre)
        except AssertionError:
            # ORT's symbolic shape inference asserts on graphs it does not know (Paddle's Concat on axis 1 after
            # a Shape); with input_shapes fixed, ONNX's own shape inference is enough to quantize.
            q.quant_pre_process(fixed, pre, skip_symbolic_shape=True)
        if precision == "int8":
            q.quantize_static(pre, out, _Reader(calibration), quant_format=q.QuantFormat.QDQ, per_channel=True,
                              activation_type=q.QuantType.QUInt8, weight_type=q.QuantType.QInt8)
        else:
            q.quantize_dynamic(pre, out, weight_type=q.QuantType.QInt8)
    except FleetError:
        raise
    except Exception as exc:  # quantisation raises many types; keep the traceback
        raise FleetError("building %s failed: %s" % (precision, str(exc) or type(exc).__name__),
                         traceback=traceback.format_exc())
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _copy(src, out):
    shutil.copyfile(src, out)
