# -*- coding: utf-8 -*-
# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Private to the edgeai.fleet collection: may change without notice.

"""TensorRT target through ``trtexec``: engines built on the GPU host, with a timing cache.

An engine is bound to the TensorRT version, the GPU architecture and the driver; those are part of
the manifest's fingerprint and toolchain, so a host where any differs gets a rebuild before anything
loads the old engine. Load tests and timings also go through trtexec (``--loadEngine``,
``--loadInputs``, ``--exportOutput``, ``--exportTimes``: JSON, never console text).

Precision flags follow the TensorRT major version: TensorRT 10 takes ``--fp16``/``--int8``;
TensorRT 11 removed them (always strongly typed), so FP16 needs an FP16 model and INT8 a Q/DQ model.
INT8 engines are built from a Q/DQ ONNX model made by ONNX Runtime's static quantisation, since
trtexec ``--int8`` without calibration data uses placeholder scales.

``dla_core`` builds for a Jetson DLA core (``--useDLACore=N --allowGPUFallback``; the engine is loaded with the same
``--useDLACore``). DLA runs FP16 and INT8 only: TensorRT 10 trtexec turns FP16 on by itself when ``--int8`` is not
given, so an "fp32" DLA engine would be an FP16 one and is refused. GPU fallback is always on: without it trtexec
sets DIRECT_IO and FP32 input/output tensors, whose reformatting runs on the GPU, fail the build. ``--buildDLAStandalone``
is not used: it writes a cuDLA loadable, not a TensorRT engine, which neither trtexec ``--loadEngine`` nor the
model server can run. DLA support by release (NVIDIA "Working with DLA", TensorRT 11.4.1): up to 10.7, none in
10.8-11.4.0, again from 11.4.1 on Jetson AGX Orin with JetPack 7.2.2 or later.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile

from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError, malformed
from ansible_collections.edgeai.fleet.plugins.module_utils._model_compile import prune_cache
from ansible_collections.edgeai.fleet.plugins.module_utils._model_samples import NUMPY_TYPES, require_numpy
from ansible_collections.edgeai.fleet.plugins.module_utils._runner import CliRunner

ENTRYPOINT = "model.plan"
WARMUP_MS = 200
_BANNER = re.compile(r"\[TensorRT v(\d+)\]")
ENGINE_PRECISION = {"fp32": "f32", "fp16": "f16", "int8": "i8"}
# Jetson Xavier and Orin have two DLA cores at most; Orin Nano, Nano, TX2 and Thor have none.
DLA_CORES = 2
DLA_BOARDS = ("xavier", "orin")
NO_DLA_BOARDS = ("orin nano",)


def parse_version(text):
    """``10.8.0`` from trtexec's banner token ``[TensorRT v100800]`` (major*10000 + minor*100 + patch)."""
    match = _BANNER.search(text or "")
    if not match:
        return None
    number = int(match.group(1))
    return "%d.%d.%d" % (number // 10000, (number // 100) % 100, number % 100)


def shape_spec(shapes):
    """``x:1x3x640x640,y:1x128`` for --minShapes/--optShapes/--maxShapes; TensorRT needs fixed sizes here."""
    parts = []
    for name, shape in sorted(shapes.items()):
        if any(d < 1 for d in shape):
            raise FleetError("input_shapes[%s] = %s: target tensorrt builds for fixed shapes, give every dimension"
                             % (name, shape), option="input_shapes")
        parts.append("'%s':%s" % (name, "x".join(str(d) for d in shape)) if ":" in name else
                     "%s:%s" % (name, "x".join(str(d) for d in shape)))
    return ",".join(parts)


def _release(version):
    return tuple(int(p) for p in re.findall(r"\d+", version)[:3])


def dla_release_problem(version):
    """Why TensorRT ``version`` cannot build DLA engines on Jetson, or None."""
    release = _release(version)
    if release[:2] <= (10, 7) or release >= (11, 4, 1):
        return None
    return ("TensorRT %s builds no DLA engines on Jetson: 10.7 was the last 10.x release with DLA, and 11.x has it "
            "again from 11.4.1 on Jetson AGX Orin with JetPack 7.2.2 or later" % version)


def dla_precision_problem(precision, major):
    """Why a DLA engine cannot have weights of ``precision`` on TensorRT ``major``, or None."""
    if precision == "fp32" and major < 11:
        return ("DLA runs FP16 or INT8 only and trtexec %d builds a DLA engine without --int8 in FP16 whatever is "
                "asked: choose precision fp16 or int8" % major)
    return None


def check_dla_host(gpu_facts, dla_core):
    """Refuse ``dla_core`` unless gpu_info's Tegra facts show a Jetson with that DLA core (Xavier or Orin)."""
    facts = gpu_facts if isinstance(gpu_facts, dict) else {}
    tegra = facts.get("tegra")
    if not isinstance(tegra, dict):
        raise FleetError("dla_core %s: DLA cores exist only on Jetson Xavier and Orin, and gpu_facts shows no "
                         "Jetson/Tegra board (platform %s): pass the edgeai_gpu facts of edgeai.fleet.gpu_info from a "
                         "Jetson as gpu_facts, or drop dla_core" % (dla_core, facts.get("platform")), option="dla_core")
    model = tegra.get("model") or "an unnamed Tegra board"
    lowered = model.lower()
    if not any(b in lowered for b in DLA_BOARDS) or any(b in lowered for b in NO_DLA_BOARDS):
        raise FleetError("dla_core %s: %s has no DLA core (only Jetson Xavier and Orin AGX/NX have them): drop "
                         "dla_core to build for the GPU" % (dla_core, model), option="dla_core", model=model)
    if not 0 <= dla_core < DLA_CORES:
        raise FleetError("dla_core %s: %s has DLA cores 0 and 1" % (dla_core, model), option="dla_core")


def build_argv(onnx_path, engine, precision, major, timing_cache, shapes, dla_core=None):
    """trtexec arguments that build ``engine`` from ``onnx_path`` (no inference run)."""
    argv = ["--onnx=%s" % onnx_path, "--saveEngine=%s" % engine, "--skipInference"]
    if timing_cache:
        argv.append("--timingCacheFile=%s" % timing_cache)
    if shapes:
        spec = shape_spec(shapes)
        argv += ["--minShapes=%s" % spec, "--optShapes=%s" % spec, "--maxShapes=%s" % spec]
    if dla_core is not None:
        problem = dla_precision_problem(precision, major)
        if problem:
            raise FleetError(problem, option="dla_core", precision=precision)
        argv += ["--useDLACore=%d" % dla_core, "--allowGPUFallback"]
    if major >= 11:
        return argv  # strongly typed: precision comes from the model (FP32 or Q/DQ)
    if precision == "fp32":
        argv.append("--noTF32")  # FP32 means FP32: TF32 would change numerics on Ampere and later
    elif precision == "fp16":
        argv.append("--fp16")
    elif precision == "int8":
        argv.append("--int8")  # explicit quantisation: scales come from the Q/DQ nodes
    return argv


@malformed("trtexec's --exportOutput file")
def parse_outputs(path, names):
    """Arrays in ``names`` order from trtexec's --exportOutput JSON ``[{name, dimensions, values}]``."""
    numpy = require_numpy()
    try:
        with open(path, "r", encoding="utf-8") as handle:
            doc = json.load(handle)
    except (OSError, ValueError, RecursionError) as exc:
        raise FleetError("trtexec wrote no readable --exportOutput file %s: %s" % (path, exc))
    by_name = dict((item["name"], item) for item in doc)
    arrays = []
    for name in names:
        if name not in by_name:
            raise FleetError("trtexec output %s lacks tensor %s (has %s)" % (path, name, sorted(by_name)))
        item = by_name[name]
        dims = [int(d) for d in str(item["dimensions"]).split("x") if d]
        arrays.append(numpy.array(item["values"], dtype="float32").reshape(dims))
    return arrays


def parse_times(path):
    """Per-inference latency (ms) from trtexec's --exportTimes JSON."""
    try:
        with open(path, "r", encoding="utf-8") as handle:
            return [float(item["latencyMs"]) for item in json.load(handle)]
    except (OSError, ValueError, KeyError, TypeError, RecursionError) as exc:
        raise FleetError("trtexec wrote no readable --exportTimes file %s: %s" % (path, exc))


class Session:
    """Runs an engine through trtexec: inputs as raw files, outputs and timings as JSON."""

    def __init__(self, runner, engine, inputs, outputs, effective):
        self.runner = runner
        self.engine = engine
        self.inputs = inputs
        self.outputs = outputs
        self.effective = effective

    def _run(self, sample, extra):
        scratch = tempfile.mkdtemp(prefix=".trtexec-", dir=os.path.dirname(self.engine))
        try:
            loads = []
            for tensor in self.inputs:
                path = os.path.join(scratch, "%s.bin" % re.sub(r"[^A-Za-z0-9_.-]", "_", tensor["name"]))
                array = sample[tensor["name"]].astype(NUMPY_TYPES.get(tensor["datatype"], "float32"))
                array.tofile(path)
                loads.append("'%s':%s" % (tensor["name"], path))
            argv = ["--loadEngine=%s" % self.engine, "--loadInputs=%s" % ",".join(loads)] + extra(scratch)
            if "dla_core" in self.effective:  # the runtime runs a DLA engine's layers on the core it is told
                argv.append("--useDLACore=%d" % self.effective["dla_core"])
            self.runner.run(argv, what="trtexec --loadEngine=%s" % self.engine)
            return scratch
        except Exception:
            shutil.rmtree(scratch, ignore_errors=True)
            raise

    def infer(self, sample):
        scratch = self._run(sample, lambda d: ["--exportOutput=%s" % os.path.join(d, "out.json"), "--iterations=1",
                                               "--warmUp=0", "--duration=0"])
        try:
            return parse_outputs(os.path.join(scratch, "out.json"), [t["name"] for t in self.outputs])
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    def time(self, sample, runs):
        scratch = self._run(sample, lambda d: ["--exportTimes=%s" % os.path.join(d, "times.json"),
                                               "--iterations=%d" % runs, "--warmUp=%d" % WARMUP_MS, "--duration=0"])
        try:
            return parse_times(os.path.join(scratch, "times.json"))[-runs:]
        finally:
            shutil.rmtree(scratch, ignore_errors=True)


class Backend:
    name = "tensorrt"
    precisions = ("fp32", "fp16", "int8")
    reference_name = "onnxruntime CPU FP32 on the source model"

    def __init__(self, params, run_command, get_bin_path):
        from ansible_collections.edgeai.fleet.plugins.module_utils import _model_onnxruntime as ort_backend
        trtexec = params.get("trtexec") or get_bin_path("trtexec")
        if not trtexec:
            raise FleetError("trtexec not found on PATH: install TensorRT (on Jetson it is "
                             "/usr/src/tensorrt/bin/trtexec) or set the trtexec option", option="trtexec")
        self.params = params
        timeout = params.get("trtexec_timeout")
        self.runner = CliRunner(run_command, trtexec, timeout=3600 if timeout is None else timeout,
                                timeout_bin=get_bin_path("timeout"))
        # the FP32 reference and the Q/DQ models come from ONNX Runtime on the CPU
        self.ort = ort_backend.Backend(dict(params, device="CPU", inference_precision="f32",
                                            input_shapes=params.get("input_shapes")))
        self.ort_module = ort_backend
        _rc, out, err = self.runner.run(["--help"], check=False, what="trtexec --help")
        self.version = parse_version(out) or parse_version(err)
        if not self.version:
            raise FleetError("Cannot tell the TensorRT version of %s: its banner has no [TensorRT vNNNNNN] token"
                             % trtexec, stdout=out, stderr=err)
        self.major = int(self.version.split(".")[0])
        self.dla_core = params.get("dla_core")
        if self.dla_core is not None:
            check_dla_host(params.get("gpu_facts"), self.dla_core)
            problem = dla_release_problem(self.version)
            if problem:
                raise FleetError("dla_core %d: %s" % (self.dla_core, problem), option="dla_core",
                                 tensorrt=self.version)

    def toolchain(self):
        return {"tensorrt": self.version, "onnxruntime": self.ort.toolchain()["onnxruntime"],
                "onnx": self.ort.toolchain()["onnx"]}

    def unsupported(self, precision):
        if precision == "fp16" and self.major >= 11:
            return ("TensorRT %s removed --fp16 (always strongly typed): convert the model to FP16 (ModelOpt "
                    "AutoCast) and build it with precision fp32" % self.version)
        if precision == "int8-weights":
            return "weight-only INT8 is not a TensorRT engine precision"
        if self.dla_core is not None and dla_precision_problem(precision, self.major):
            return dla_precision_problem(precision, self.major)
        return self.ort.unsupported("int8" if precision == "int8" else "fp32")

    def describe(self, src, shapes):
        return self.ort.describe(src, shapes)

    def reference(self, src, shapes, samples):
        return self.ort.reference(src, shapes, samples)

    def _timing_cache(self, gpu):
        cache_dir = self.params.get("cache_dir")
        if not cache_dir:
            return None
        arch = (gpu or {}).get("compute_capability") or "unknown"
        path, _removed = prune_cache(cache_dir, "tensorrt", "tensorrt-%s-sm%s" % (self.version, arch.replace(".", "")))
        return os.path.join(path, "timing.cache")

    def build(self, src, precision, out_dir, calibration):
        shapes = self.params.get("input_shapes")
        onnx_path = src
        if precision == "int8":
            onnx_path = os.path.join(out_dir, ".qdq.onnx")
            self.ort_module.quantize(src, shapes, "int8", calibration, onnx_path)
        gpu = (getattr(self, "fingerprint", None) or {}).get("gpu")
        try:
            self.runner.run(build_argv(onnx_path, os.path.join(out_dir, ENTRYPOINT), precision, self.major,
                                       self._timing_cache(gpu), shapes, self.dla_core),
                            what="trtexec build (%s)" % precision)
        finally:
            if onnx_path != src and os.path.exists(onnx_path):
                os.unlink(onnx_path)
        return ENTRYPOINT

    def load(self, out_dir, entrypoint):
        inputs, outputs = self.describe(self.params["src"], self.params.get("input_shapes"))
        engine = os.path.join(out_dir, entrypoint)
        if not os.path.isfile(engine):
            raise FleetError("trtexec reported success but wrote no engine %s" % engine)
        precision = os.path.basename(out_dir)  # the compiler builds each candidate in <workdir>/<precision>
        effective = {"device": "GPU%d" % self.params.get("gpu_index", 0),
                     "inference_precision": ENGINE_PRECISION.get(precision, "f32")}
        if self.dla_core is not None:
            effective["dla_core"] = self.dla_core
        return Session(self.runner, engine, inputs, outputs, effective)
