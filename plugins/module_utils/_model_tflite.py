# -*- coding: utf-8 -*-
# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Private to the edgeai.fleet collection: may change without notice.

"""TFLite target: a full-integer INT8 (or FP32) ``model.tflite`` from ONNX, converted by ``onnx2tf``.

onnx2tf runs as an external CLI (its own venv: it pins protobuf 4 and TensorFlow 2.19, which the runtime
side cannot share), through CliRunner with a deadline, like trtexec for TensorRT. The load test, the
fidelity gate and the timings run in-process with LiteRT (``ai-edge-litert``) on the CPU.

INT8 is full-integer quantisation calibrated on the compiler's calibration samples (``-oiqt`` with one
``-cind`` per input), with float32 inputs and outputs (``-iqd/-oqd float32``: the model quantizes on the
way in), so clients, golden.json and model_verify keep the ONNX tensors.

Layout: onnx2tf turns rank-3/4/5 inputs channel-last (NCW->NWC, NCHW->NHWC, NCDHW->NDHWC; its
calibration files must already be in that order) and may do the same to outputs. The manifest keeps the
ONNX names, shapes and datatypes; its ``tflite`` field maps each to the TFLite tensor index and says which
were transposed, and this backend transposes exactly as the server must.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import time
import traceback

from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError
from ansible_collections.edgeai.fleet.plugins.module_utils._model_samples import require_numpy, synthetic_samples
from ansible_collections.edgeai.fleet.plugins.module_utils._model_shapes import REASON_CHARS, clip_reason, describe_dynamic
from ansible_collections.edgeai.fleet.plugins.module_utils._runner import CliRunner

ENTRYPOINT = "model.tflite"
# onnx2tf names its files after the input: <stem>_full_integer_quant.tflite, <stem>_float32.tflite.
# int8-weights is onnx2tf's dynamic-range model: INT8 weights, float activations (LiteRT's hybrid kernels).
CONVERTED = {"int8": "_full_integer_quant.tflite", "int8-weights": "_dynamic_range_quant.tflite",
             "fp32": "_float32.tflite"}
INFERENCE_PRECISION = {"int8": "i8", "int8-weights": "f32", "fp32": "f32"}
LAYOUTS = {3: "NCW->NWC", 4: "NCHW->NHWC", 5: "NCDHW->NDHWC"}
# onnx2tf's download_test_image_data() reads this from its working directory before it tries the network.
OFFLINE_TEST_DATA = "calibration_image_sample_data_20x128x128x3_float32.npy"
# TensorFlow scope names (Paddle exports name nodes "Softmax@0", which onnx2tf passes on and TF refuses).
_SCOPE_UNSAFE = re.compile(r"[^A-Za-z0-9_.>/-]")
# onnx2tf's signature names an input x "serving_default_x:0" in the interpreter's details.
_SIGNATURE_NAME = re.compile(r"^serving_default_(.*?)(:\d+)?$")
CONVERT_TIMEOUT = 1800
WARMUP_RUNS = 3
_VERSION = re.compile(r"(\d+\.\d+\.\d+)")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_EXCEPTION = re.compile(r"^[A-Za-z_.]*(Error|Exception): ")
_DIST_INFO = re.compile(r"^onnx2tf-(\d+\.\d+\.\d+)\.dist-info$")


def channel_last(rank):
    """The permutation onnx2tf applies to a channel-first tensor of ``rank`` 3 to 5: (0, 2, ..., 1)."""
    return [0] + list(range(2, rank)) + [1]


def channel_first(rank):
    """The inverse of channel_last: a channel-last tensor back to the ONNX order."""
    return [0, rank - 1] + list(range(1, rank - 1))


def transposed(shape, layout):
    return [shape[i] for i in channel_last(len(shape))] if layout else list(shape)


def input_layout(shape):
    """What onnx2tf does to an input (onnx2tf/ops/Input.py): ranks 3 to 5 go channel-last, others stay."""
    return LAYOUTS.get(len(shape))


def output_layout(onnx_shape, tflite_shape, inputs_moved):
    """The layout of one output, from its ONNX and TFLite shapes; refuses a shape neither order explains.

    When both orders fit (equal sizes, [1, 8, 8, 8]) the inputs decide: onnx2tf keeps channel-last through the
    graph once it moved the inputs. A wrong guess cannot pass unnoticed: the fidelity gate compares the
    transposed outputs with ONNX Runtime's.
    """
    onnx_shape, tflite_shape = list(onnx_shape), list(tflite_shape)
    layout = LAYOUTS.get(len(onnx_shape))
    same = tflite_shape == onnx_shape
    moved = bool(layout) and tflite_shape == transposed(onnx_shape, layout)
    if same and moved:
        return layout if inputs_moved else None
    if same:
        return None
    if moved:
        return layout
    raise FleetError("onnx2tf wrote an output of shape %s for the ONNX output of shape %s: neither the ONNX order nor "
                     "the channel-last one" % (tflite_shape, onnx_shape))


def convert_argv(onnx_path, out_dir, precision, sample_files):
    """onnx2tf arguments; ``sample_files`` is ``[(input name, .npy path)]``, one per input.

    Shapes are fixed in the ONNX file itself: onnx2tf's ``-ois`` leaves a numeric -1 batch dimension open.
    The samples go in for fp32 too: onnx2tf infers the ONNX graph on them to choose each op's layout, and on its
    default data (random images) it built a broken PP-OCRv4 detector ("Output tensors of a Functional model must
    be the output of a TensorFlow Layer").
    """
    argv = ["-i", onnx_path, "-o", out_dir, "-n"]
    quantized = precision in ("int8", "int8-weights")
    if quantized:
        argv += ["-oiqt", "-qt", "per-channel", "-iqd", "float32", "-oqd", "float32"]
    for name, path in sample_files:
        # samples are already normalised as the model expects: mean 0, std 1 leave them as they are
        argv += ["-cind", name, path] + (["[0.0]", "[1.0]"] if quantized else [])
    return argv


def onnx_for_onnx2tf(model):
    """The ONNX ModelProto with node names TensorFlow accepts as scopes (names carry no meaning)."""
    for node in model.graph.node:
        node.name = _SCOPE_UNSAFE.sub("_", node.name)
    return model


def tflite_input_name(name):
    match = _SIGNATURE_NAME.match(name)
    return match.group(1) if match else name


def calibration_arrays(calibration, inputs, precision="int8"):
    """``{name: array}``: the samples of each input stacked on the batch axis, in onnx2tf's layout."""
    numpy = require_numpy()
    arrays = {}
    for tensor in inputs:
        floating = tensor["datatype"] in ("FP32", "FP16", "FP64")
        if precision == "int8" and not floating:
            raise FleetError("full-integer calibration in onnx2tf feeds float inputs only; input %s is %s: use "
                             "precision fp32 for this model" % (tensor["name"], tensor["datatype"]))
        stacked = numpy.concatenate([numpy.asarray(s[tensor["name"]], dtype="float32" if floating else None)
                                     for s in calibration], axis=0)
        if input_layout(tensor["shape"]):
            stacked = stacked.transpose(channel_last(stacked.ndim))
        arrays[tensor["name"]] = stacked
    return arrays


def venv_version(converter):
    """onnx2tf's version from the dist-info of the venv its script lies in, without starting it.

    ``onnx2tf -V`` imports TensorFlow first (about 10 s); the up-to-date check of every run needs the version.
    """
    venv = os.path.dirname(os.path.dirname(os.path.realpath(converter)))
    found = sorted(glob.glob(os.path.join(venv, "lib", "python3*", "site-packages", "onnx2tf-*.dist-info")))
    match = _DIST_INFO.match(os.path.basename(found[-1])) if found else None
    return match.group(1) if match else None


def _interpreter_class():
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        from ansible_collections.edgeai.fleet.plugins.module_utils._model_compile import MissingLibrary
        raise MissingLibrary("ai-edge-litert", "for targets tflite and edgetpu (the LiteRT load test)",
                             traceback.format_exc())
    return Interpreter


def io_map(inputs, outputs, details_in, details_out):
    """The manifest's ``tflite`` field: each ONNX tensor's TFLite index, TFLite name and layout.

    Inputs keep their ONNX names in onnx2tf's signature (matched by name, else by position); outputs are
    matched by position, the order onnx2tf keeps.
    """
    if len(details_in) != len(inputs) or len(details_out) != len(outputs):
        raise FleetError("onnx2tf wrote a model with %d inputs and %d outputs; the ONNX model has %d and %d"
                         % (len(details_in), len(details_out), len(inputs), len(outputs)))
    by_name = dict((tflite_input_name(d["name"]), d) for d in details_in)
    mapped_in = []
    for position, tensor in enumerate(inputs):
        detail = by_name.get(tensor["name"]) or details_in[position]
        layout = input_layout(tensor["shape"])
        if list(detail["shape"]) != transposed(tensor["shape"], layout):
            raise FleetError("onnx2tf laid out input %s as %s; expected %s from the ONNX shape %s"
                             % (tensor["name"], list(detail["shape"]), transposed(tensor["shape"], layout),
                                tensor["shape"]))
        mapped_in.append({"name": tensor["name"], "index": int(detail["index"]), "tflite_name": detail["name"],
                          "layout": layout})
    moved = any(item["layout"] for item in mapped_in)
    mapped_out = [{"name": tensor["name"], "index": int(detail["index"]), "tflite_name": detail["name"],
                   "layout": output_layout(tensor["shape"], detail["shape"], moved)}
                  for tensor, detail in zip(outputs, details_out)]
    return {"inputs": mapped_in, "outputs": mapped_out}


class Session:
    """One LiteRT interpreter; feeds and returns tensors in the ONNX layout (the manifest's ``tflite`` map)."""

    def __init__(self, interpreter, mapping, dtypes, effective):
        self.interpreter = interpreter
        self.mapping = mapping
        self.dtypes = dtypes
        self.effective = effective

    def _feed(self, sample):
        for item in self.mapping["inputs"]:
            array = require_numpy().asarray(sample[item["name"]]).astype(self.dtypes[item["index"]])
            if item["layout"]:
                array = array.transpose(channel_last(array.ndim))
            self.interpreter.set_tensor(item["index"], array)

    def infer(self, sample):
        try:
            self._feed(sample)
            self.interpreter.invoke()
        except (ValueError, RuntimeError) as exc:  # LiteRT's kernels report shape and type errors this way
            raise FleetError("inference failed: %s" % exc, traceback=traceback.format_exc())
        produced = []
        for item in self.mapping["outputs"]:
            array = self.interpreter.get_tensor(item["index"])
            produced.append(array.transpose(channel_first(array.ndim)) if item["layout"] else array)
        return produced

    def time(self, sample, runs):
        for _i in range(WARMUP_RUNS):
            self.infer(sample)
        timings = []
        for _i in range(runs):
            started = time.perf_counter()
            self._feed(sample)
            self.interpreter.invoke()
            timings.append((time.perf_counter() - started) * 1000.0)
        return timings


class Backend:
    name = "tflite"
    precisions = ("fp32", "int8", "int8-weights")
    reference_name = "onnxruntime CPU FP32 on the source model"
    entrypoint = ENTRYPOINT

    def __init__(self, params, run_command, get_bin_path):
        from ansible_collections.edgeai.fleet.plugins.module_utils import _model_onnxruntime as ort_backend
        if params["device"].upper() != "CPU":
            raise FleetError("target tflite builds for the CPU (LiteRT's built-in kernels), got device %s; use target "
                             "edgetpu for a Coral Edge TPU" % params["device"], option="device")
        self.interpreter_class = _interpreter_class()
        converter = params.get("tflite_converter") or get_bin_path("onnx2tf")
        if not converter:
            raise FleetError("onnx2tf not found on PATH: install onnx2tf in its own venv (it pins tensorflow and "
                             "protobuf; `make venv` builds .venv-tflite) and set the tflite_converter option to its "
                             "bin/onnx2tf", option="tflite_converter")
        self.params = params
        self.converter = converter
        timeout_bin = get_bin_path("timeout")
        self.runner = CliRunner(run_command, converter, timeout=CONVERT_TIMEOUT, timeout_bin=timeout_bin)
        # coreutils env -C: onnx2tf reads its offline test data from its working directory
        self.convert_runner = CliRunner(run_command, get_bin_path("env") or "/usr/bin/env", timeout=CONVERT_TIMEOUT,
                                        timeout_bin=timeout_bin)
        self.ort = ort_backend.Backend(dict(params, device="CPU", inference_precision="f32"))
        self.ort_module = ort_backend
        self.version = venv_version(converter) or self._ask_version()
        self.maps = {}

    def _ask_version(self):
        _rc, out, err = self.runner.run(["-V"], check=False, what="onnx2tf -V")
        match = _VERSION.search(out or "") or _VERSION.search(err or "")
        if not match:
            raise FleetError("Cannot tell the version of %s: `onnx2tf -V` printed no version" % self.converter,
                             stdout=out, stderr=err)
        return match.group(1)

    def toolchain(self):
        from ai_edge_litert import __version__ as litert_version
        return dict(self.ort.toolchain(), onnx2tf=self.version, ai_edge_litert=litert_version)

    def unsupported(self, precision):
        if precision == "fp16":
            return "LiteRT's CPU kernels compute FP16 models in FP32: build fp32"
        return None

    def describe(self, src, shapes):
        inputs, outputs = self.ort.describe(src, shapes)
        text = describe_dynamic([(t["name"], t["shape"]) for t in inputs])
        if text:
            raise FleetError("target tflite builds for fixed shapes (full-integer TFLite models are static): %s" % text,
                             option="input_shapes")
        return inputs, outputs

    def reference(self, src, shapes, samples):
        return self.ort.reference(src, shapes, samples)

    def build(self, src, precision, out_dir, calibration):
        shapes = self.params.get("input_shapes")
        inputs, outputs = self.describe(src, shapes)
        scratch = os.path.join(out_dir, ".onnx2tf")
        os.makedirs(scratch)
        try:
            numpy = require_numpy()
            model = os.path.join(scratch, "model.onnx")
            self.ort_module.save_model(onnx_for_onnx2tf(self.ort_module.prepared_model(src, shapes)), model)
            # onnx2tf fetches validation images from GitHub for image-like inputs unless this file is in its cwd
            numpy.save(os.path.join(scratch, OFFLINE_TEST_DATA),
                       numpy.random.default_rng(0).uniform(0, 1, (20, 128, 128, 3)).astype("float32"))
            files = []
            samples = calibration or synthetic_samples(inputs, 2)
            for i, (name, array) in enumerate(sorted(calibration_arrays(samples, inputs, precision).items())):
                path = os.path.join(scratch, "samples-%d.npy" % i)
                numpy.save(path, array)
                files.append((name, path))
            converted = os.path.join(scratch, "out")
            rc, out, err = self.convert_runner.run(["-C", scratch, self.converter] + convert_argv(
                model, converted, precision, files), check=False, what="onnx2tf (%s)" % precision)
            found = os.path.join(converted, "model" + CONVERTED[precision])
            if rc != 0 or not os.path.isfile(found):
                raise FleetError("onnx2tf could not convert %s to %s TFLite (rc %d): %s" % (
                    os.path.basename(src), precision, rc,
                    _verdict(err or out) or "no %s written" % os.path.basename(found)),
                    stdout=_tail(out), stderr=_tail(err))
            shutil.move(found, os.path.join(out_dir, ENTRYPOINT))
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        self.maps[out_dir] = self._map(os.path.join(out_dir, ENTRYPOINT), inputs, outputs)
        return ENTRYPOINT

    def _interpreter(self, path):
        try:
            interpreter = self.interpreter_class(model_path=path)
            interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as exc:  # unresolved (Flex/custom) ops end up here
            raise FleetError("LiteRT cannot load %s: %s" % (os.path.basename(path), clip_reason(str(exc))),
                             traceback=traceback.format_exc())
        return interpreter

    def _map(self, path, inputs, outputs):
        interpreter = self._interpreter(path)
        return io_map(inputs, outputs, interpreter.get_input_details(), interpreter.get_output_details())

    def load(self, out_dir, entrypoint):
        interpreter = self._interpreter(os.path.join(out_dir, entrypoint))
        dtypes = dict((d["index"], d["dtype"]) for d in interpreter.get_input_details())
        precision = os.path.basename(out_dir)  # the compiler builds each candidate in <workdir>/<precision>
        # Compiler.finish copies effective's other keys into the manifest: the server's tensor map
        return Session(interpreter, self.maps[out_dir], dtypes,
                       {"device": "CPU", "inference_precision": INFERENCE_PRECISION.get(precision, "f32"),
                        "tflite": self.maps[out_dir]})


def _verdict(text):
    """onnx2tf's verdict in a line: the ONNX op it stopped at and the exception, not its progress log."""
    lines = [_ANSI.sub("", line).strip() for line in (text or "").splitlines() if line.strip()]
    picked = [line.split("ERROR:", 1)[-1].strip() for line in lines if "onnx_op_name:" in line][-1:]
    picked += [line for line in lines if _EXCEPTION.match(line)][-1:]
    reason = " / ".join(picked or lines[-1:])
    return reason if len(reason) <= REASON_CHARS else reason[:REASON_CHARS - 3] + "..."


def _tail(text, limit=4000):
    return (text or "")[-limit:]
