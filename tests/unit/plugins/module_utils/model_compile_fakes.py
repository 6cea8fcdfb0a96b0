# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A stand-in compile backend for unit tests of model_compile.

Simulated: the runtime. The fake "model" of precision P computes ``y = 2 * x + NOISE[P]`` and
reports a fixed latency per precision, so gate and selection decisions are exact and fast.
It follows the backend interface of _model_openvino.Backend (describe/reference/build/load).
"""

from __future__ import annotations

import os

from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError

NOISE = {"fp32": 0.0, "fp16": 0.001, "int8": 0.05, "int8-weights": 0.01}
LATENCY = {"fp32": 10.0, "fp16": 9.0, "int8": 4.0, "int8-weights": 6.0}
SRC_ONNX = b"fake onnx model bytes"

PARAMS = dict(name="det", target="openvino", precision="fp32", candidates=None, device="CPU",
              inference_precision="f32", input_shapes=None, golden_shapes=None, calibration=None, holdout=2,
              model_type="cnn", fidelity_gate={"min_cosine": 0.98, "max_abs_diff": None},
              tolerance={"max_abs": 0.05, "min_cosine": 0.999}, latency_runs=5, cache_dir=None, trtexec=None,
              gpu_facts=None, gpu_index=0)


class FakeSession:
    def __init__(self, precision, effective, noise, broken=False):
        self.precision = precision
        self.noise = noise
        self.effective = effective
        self.broken = broken

    def infer(self, sample):
        if self.broken:
            raise FleetError("inference failed: simulated")
        return [sample["x"] * 2.0 + self.noise[self.precision]]

    def time(self, sample, runs):
        return [LATENCY[self.precision]] * runs


class FakeBackend:
    name = "openvino"
    precisions = ("fp32", "fp16", "int8", "int8-weights")
    reference_name = "fake f32"

    def __init__(self, params, version="1.0", fail_build=(), fail_load=(), noise=None):
        self.params = params
        self.version = version
        self.fail_build = fail_build
        self.fail_load = fail_load
        self.builds = []
        self.noise = dict(NOISE, **(noise or {}))

    def toolchain(self):
        return {"fake": self.version}

    def unsupported(self, precision):
        return None

    def describe(self, src, shapes):
        shape = (shapes or {}).get("x", [1, 4])
        return ([{"name": "x", "shape": shape, "datatype": "FP32"}],
                [{"name": "y", "shape": shape, "datatype": "FP32"}])

    def reference(self, src, shapes, samples):
        return [[s["x"] * 2.0] for s in samples]

    def build(self, src, precision, out_dir, calibration):
        self.builds.append(precision)
        if precision in self.fail_build:
            raise FleetError("simulated build failure")
        with open(os.path.join(out_dir, "model.xml"), "w") as handle:
            handle.write("<net precision='%s' calibrated='%d'/>" % (precision, len(calibration)))
        return "model.xml"

    def load(self, out_dir, entrypoint):
        precision = open(os.path.join(out_dir, entrypoint)).read().split("'")[1]
        return FakeSession(precision, {"device": "CPU", "inference_precision": self.params["inference_precision"]},
                           self.noise, broken=precision in self.fail_load)


def write_source(tmp_path):
    src = tmp_path / "src" / "det.onnx"
    src.parent.mkdir(parents=True, exist_ok=True)
    src.write_bytes(SRC_ONNX)
    return str(src)


def write_calibration(tmp_path, count=5):
    import numpy as np
    calib = tmp_path / "calib"
    calib.mkdir(exist_ok=True)
    for i in range(count):
        np.save(str(calib / ("s%02d.npy" % i)), np.full((1, 4), i + 1, dtype=np.float32) * [1, -1, 0.5, 2])
    return str(calib)
