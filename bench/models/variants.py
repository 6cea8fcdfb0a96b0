# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The PP-OCRv4 detector's NNCF and runtime options side by side with ONNX Runtime FP32, on this CPU.

    python bench/models/variants.py                     # ~6 min on 2 idle vCPUs
    python bench/models/variants.py --variants default,mixed --rounds 3

Each variant is one ``nncf.quantize`` setting (preset, bias correction, overflow fix, an ignored scope);
every artifact is timed round-robin with the others (batch 1, ``PERFORMANCE_HINT=LATENCY``, f32 pinned)
and scored on the same word-recall proxy as run.py. It answers "does this option help on this CPU?";
run.py measures what ``model_compile`` itself chooses.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import data  # noqa: E402  (bench-local module)
import run  # noqa: E402  (run.py's runners, timing and fidelity)


def _non_pointwise_convs(model):
    """3x3 (non-1x1) convolutions: without VNNI their INT8 kernels run no faster than f32 ones."""
    return [op.get_friendly_name() for op in model.get_ordered_ops()
            if op.get_type_name() == "Convolution" and list(op.input(1).get_partial_shape().to_shape())[2:] != [1, 1]]


def variants(nncf, model):
    advanced = nncf.quantization.advanced_parameters
    return {
        "default": {},
        "mixed": {"preset": nncf.QuantizationPreset.MIXED},
        "bias-correction": {"fast_bias_correction": False},
        "overflow-fix-off": {"advanced_parameters": advanced.AdvancedQuantizationParameters(
            overflow_fix=advanced.OverflowFix.DISABLE)},
        "pointwise-only": {"ignored_scope": nncf.IgnoredScope(names=_non_pointwise_convs(model),
                                                              types=["ConvolutionBackpropData"], validate=False)},
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", default=os.path.join(run.ROOT, "bench", "results", "work", "variants"))
    parser.add_argument("--variants", default="default,mixed,bias-correction,overflow-fix-off,pointwise-only")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--calib", type=int, default=32)
    parser.add_argument("--eval", type=int, default=16)
    args = parser.parse_args()
    import nncf
    import openvino as ov
    machine = run.machine()
    print("CPU %s; ISA: %s; OpenVINO CPU capabilities: %s; load average %s" % (
        machine["cpu_model"], " ".join(machine["isa_flags"]), " ".join(machine["openvino_cpu_capabilities"]),
        machine["load_average"]), flush=True)
    os.makedirs(args.work, exist_ok=True)
    src, core = data.detector_path(), ov.Core()

    def read():
        model = core.read_model(src)
        model.reshape({"x": ov.PartialShape([1, 3, 640, 640])})
        return model

    calib = [{"x": data.page(1000 + i)[0]} for i in range(args.calib)]
    pages = [data.page(2000 + i) for i in range(args.eval)]
    evals, boxes = [{"x": p[0]} for p in pages], [p[1] for p in pages]
    runners = {"ORT FP32": run.OrtRunner(run.ORTB.prepared_model(src, {"x": [1, 3, 640, 640]}))}
    fp32 = os.path.join(args.work, "fp32.xml")
    ov.save_model(read(), fp32, compress_to_fp16=False)
    runners["OV FP32"] = run.OvRunner(fp32, "f32")
    table = variants(nncf, read())
    for name in args.variants.split(","):
        path = os.path.join(args.work, "int8-%s.xml" % name)
        ov.save_model(nncf.quantize(read(), nncf.Dataset(calib), subset_size=len(calib), **table[name]), path,
                      compress_to_fp16=False)
        runners["OV INT8 " + name] = run.OvRunner(path, "f32")
    reference = [runners["ORT FP32"](s) for s in evals]
    times = run.interleaved(runners, evals[0], 5, args.rounds, args.runs)
    base, base_min = statistics.median(times["ORT FP32"]), min(times["ORT FP32"])
    print("| config | median ms | min ms | speed-up (median) | speed-up (min) | word recall | F1 | map cosine |")
    print("|---|---|---|---|---|---|---|---|")
    for label, runner in runners.items():
        fid = run.detector_fidelity(reference, [runner(s) for s in evals], boxes)
        med, low = statistics.median(times[label]), min(times[label])
        print("| %s | %.2f | %.2f | %.2fx | %.2fx | %.4f | %.4f | %.4f |" % (
            label, med, low, base / med, base_min / low, fid["word_recall"], fid["f1"], fid["cosine_mean"]))


if __name__ == "__main__":
    main()
