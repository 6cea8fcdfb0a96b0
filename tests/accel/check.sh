#!/usr/bin/env bash
# Copyright (c) 2026 edgeai.fleet contributors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# On a real device with an accelerator (Intel NPU, Coral Edge TPU, Jetson DLA): read the accelerator and GPU facts,
# choose the target as model_serving's target auto does (edgeai.fleet.serving_target), compile the shipped PP-OCRv4
# detector (from the rapidocr-onnxruntime wheel) for it at INT8, and check the artifact against ONNX Runtime FP32 on
# the source model. One PASS/FAIL/SKIP line per step; exits 1 if a step failed. Not part of make test.
#
# Usage (from the repository root, after `make collection`; the Python needs the toolchain of the chosen target:
# openvino/nncf, or onnx2tf + ai-edge-litert + edgetpu_compiler, or TensorRT's trtexec; plus onnxruntime, Pillow
# and rapidocr-onnxruntime):
#   tests/accel/check.sh
#   ACCEL_CHECK_PYTHON=/opt/venv/bin/python ACCEL_CHECK_PREFERENCE=edgetpu,openvino:CPU tests/accel/check.sh
#   ACCEL_CHECK_ALLOW_CPU=1 tests/accel/check.sh   # a host without an accelerator: checks the script itself
# Keep the output, with the device and versions it names, in docs/model-compile.md.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
python=${ACCEL_CHECK_PYTHON:-/usr/bin/python3}
export ANSIBLE_COLLECTIONS_PATH=${ANSIBLE_COLLECTIONS_PATH:-$repo/.build/collections}
export ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false
export PYTHONPATH=$ANSIBLE_COLLECTIONS_PATH${PYTHONPATH:+:$PYTHONPATH}

for tool in ansible "$python"; do
  command -v "$tool" >/dev/null || { echo "check.sh: $tool not found" >&2; exit 2; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0

# One line per host with -o: "localhost | SUCCESS => {...}"; the JSON starts at the first brace.
module() {
  local name=$1 args=$2 out=$3
  ansible localhost -c local -o -e "ansible_python_interpreter=$python" -m "$name" -a "$args" >"$out.raw" 2>"$out.err" \
    || { cat "$out.raw" "$out.err" >&2; return 1; }
  "$python" -c 'import json,sys; t=open(sys.argv[1]).read(); json.dump(json.loads(t[t.index("{"):]), open(sys.argv[2], "w"))' \
    "$out.raw" "$out"
}

# 1. Facts, printed whole: they are what the choice is made from.
if module edgeai.fleet.accelerator_info '' "$work/accel.json" && module edgeai.fleet.gpu_info '' "$work/gpu.json"; then
  "$python" - "$work/accel.json" <<'PY'
import json, sys
facts = json.load(open(sys.argv[1]))["ansible_facts"]["edgeai_accelerators"]
print(json.dumps(facts, indent=2))
devices = ["%s %s %s (%s)" % (d["vendor"], d["kind"], d["path"] or d["id"], "usable" if d["usable"] else d["reason"])
           for d in facts["devices"]]
print("PASS facts    %d accelerator(s): %s" % (facts["count"], "; ".join(devices) or facts["reason"]))
PY
else
  echo "FAIL facts    accelerator_info or gpu_info failed (output above)"
  exit 1
fi

# 2. The choice, exactly as the role makes it, and the compile arguments it leads to.
choose_failed() {
  # 3: the step printed its own FAIL line; anything else is a crash with its traceback above.
  [ "$1" = 3 ] || echo "FAIL choose   the choice or the calibration pages failed (output above)"
  exit 1
}
"$python" - "$work" "${ACCEL_CHECK_PREFERENCE:-}" "${ACCEL_CHECK_ALLOW_CPU:-0}" <<'PY' || choose_failed "$?"
import importlib.util, json, os, random, sys
from ansible_collections.edgeai.fleet.plugins.filter.serving_target import serving_target

work, preference, allow_cpu = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
accel = json.load(open(os.path.join(work, "accel.json")))["ansible_facts"]["edgeai_accelerators"]
gpu = json.load(open(os.path.join(work, "gpu.json")))["ansible_facts"]["edgeai_gpu"]
choice = serving_target(accel, gpu, preference.split(",") if preference else None, {"precision": "int8"})
if choice["accelerator"] == "cpu" and not allow_cpu:
    print("FAIL choose   no usable accelerator: %s (ACCEL_CHECK_ALLOW_CPU=1 goes on with the CPU)" % choice["why"])
    sys.exit(3)  # said why: no second FAIL line
print("PASS choose   %s device %s on %s: %s" % (choice["target"], choice["device"], choice["accelerator"], choice["why"]))

spec = importlib.util.find_spec("rapidocr_onnxruntime")
if spec is None:
    print("FAIL choose   rapidocr-onnxruntime (the shipped detector) is not installed for %s" % sys.executable)
    sys.exit(3)
from PIL import Image, ImageDraw, ImageFont

pages = os.path.join(work, "pages")
os.makedirs(pages)
SIDE = 256
for i in range(6):  # text pages drawn as tests/system/test_model_compile.py draws them for the detector's INT8
    rng = random.Random(i)
    img = Image.new("RGB", (SIDE, SIDE), (rng.randint(225, 255),) * 3)
    draw, y = ImageDraw.Draw(img), 6
    while y < SIDE - 20:
        x, size = rng.randint(2, 30), rng.randint(12, 22)
        while x < SIDE - 40:
            word = rng.choice(["INVOICE", "Total", "12.50", "2026-11-27", "ID 4471", "edge", "fleet", "Qty", "EUR",
                               "Ref#889", "Net"])
            draw.text((x, y), word, fill=(rng.randint(0, 60),) * 3, font=ImageFont.load_default(size=size))
            x += int(size * 0.6 * len(word)) + rng.randint(8, 30)
        y += size + rng.randint(4, 14)
    img.save(os.path.join(pages, "page%02d.png" % i))

GATE = 0.9  # what the suite holds the detector's INT8 to (tests/system/test_model_compile.py)
args = {"name": "ocr_det", "src": os.path.join(os.path.dirname(spec.origin), "models", "ch_PP-OCRv4_det_infer.onnx"),
        "dest": os.path.join(work, "artifact"), "target": choice["target"], "precision": "int8",
        "input_shapes": {"x": [1, 3, SIDE, SIDE]}, "calibration": pages, "calibration_preprocess": "ppocr_det",
        "calibration_preprocess_options": {"limit_side_len": SIDE}, "holdout": 2, "latency_runs": 5,
        "fidelity_gate": {"min_cosine": GATE}}
device = choice["device"]
if choice["target"] == "openvino":
    args["device"] = device
if choice["target"] == "tensorrt":
    args["gpu_facts"] = gpu
    args["dla_core" if device.startswith("DLA") else "gpu_index"] = int(device[3:])
json.dump(args, open(os.path.join(work, "compile_args.json"), "w"))
json.dump(choice, open(os.path.join(work, "choice.json"), "w"))
PY

# 3. The compile, with model_compile's own fidelity gate (INT8 against ONNX Runtime FP32 on two held-back pages).
if module edgeai.fleet.model_compile "$(cat "$work/compile_args.json")" "$work/compile.json"; then
  "$python" - "$work/compile.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))["manifest"]
extra = " edgetpu %s" % json.dumps(m["edgetpu"]) if m.get("edgetpu") else ""
extra += " dla_core %s" % m["dla_core"] if m.get("dla_core") is not None else ""
print("PASS compile  target %s device %s precision %s/%s fidelity %s latency %s%s" % (
    m.get("target"), m.get("device"), m.get("precision"), m.get("inference_precision"),
    json.dumps(m.get("fidelity")), json.dumps(m.get("latency_ms")), extra))
PY
else
  echo "FAIL compile  edgeai.fleet.model_compile failed (output above)"
  exit 1
fi

# 4. The artifact's golden outputs against ONNX Runtime FP32 on the source, compared as model_verify does; on an Edge
#    TPU also the compiled model on the TPU itself (model_compile gates the CPU-executed TFLite only).
"$python" - "$work" <<'PY' || failed=1
import json, os, sys
import numpy as np
import onnxruntime as ort
from ansible_collections.edgeai.fleet.plugins.module_utils._kserve_v2 import check_golden, infer_request

work = sys.argv[1]
args = json.load(open(os.path.join(work, "compile_args.json")))
golden = json.load(open(os.path.join(work, "artifact", "golden.json")))
feed = {t["name"]: np.array(t["data"], dtype=np.float32).reshape(t["shape"]) for t in infer_request(golden)["inputs"]}
session = ort.InferenceSession(args["src"], providers=["CPUExecutionProvider"])
reference = {meta.name: out for meta, out in zip(session.get_outputs(), session.run(None, feed))}
as_v2 = {"outputs": [{"name": n, "shape": list(o.shape), "data": o.ravel().tolist()} for n, o in reference.items()]}
gate = args["fidelity_gate"]["min_cosine"]
figures, failures = check_golden(as_v2, golden, {"min_cosine": gate})
print("%s verify   golden vs ONNX Runtime FP32: %s%s" % ("FAIL" if failures else "PASS", json.dumps(figures),
                                                      "; " + "; ".join(failures) if failures else ""))
bad = bool(failures)

tpu_model = os.path.join(work, "artifact", "model_edgetpu.tflite")
if args["target"] != "edgetpu":
    print("SKIP on-tpu   target %s: model_compile already ran it on the device" % args["target"])
else:
    from ai_edge_litert.interpreter import Interpreter, load_delegate
    try:
        delegate = load_delegate("libedgetpu.so.1")
    except (OSError, ValueError) as exc:
        print("FAIL on-tpu   the Edge TPU runtime libedgetpu.so.1 does not load: %s" % exc)
        sys.exit(1)
    interp = Interpreter(model_path=tpu_model, experimental_delegates=[delegate])
    interp.allocate_tensors()
    for detail in interp.get_input_details():
        value = feed[detail["name"]] if detail["name"] in feed else next(iter(feed.values()))
        scale, zero = detail["quantization"]
        if detail["dtype"] != np.float32 and scale:
            value = np.clip(np.round(value / scale + zero), np.iinfo(detail["dtype"]).min, np.iinfo(detail["dtype"]).max)
        interp.set_tensor(detail["index"], value.astype(detail["dtype"]).reshape(detail["shape"]))
    interp.invoke()
    out = interp.get_output_details()[0]
    got = interp.get_tensor(out["index"]).astype(np.float32)
    scale, zero = out["quantization"]
    if out["dtype"] != np.float32 and scale:
        got = (got - zero) * scale
    want = next(iter(reference.values()))
    if got.shape != want.shape and got.ndim == 4:
        got = got.transpose(0, 3, 1, 2)  # onnx2tf keeps TFLite's NHWC where ONNX had NCHW
    got, want = got.ravel(), want.ravel()
    norm = float(np.linalg.norm(got) * np.linalg.norm(want)) or 1.0
    cosine = float(np.dot(got, want)) / norm if got.size == want.size else 0.0
    print("%s on-tpu   model_edgetpu.tflite on the TPU vs ONNX Runtime FP32: cosine %.4f (gate %g)"
          % ("PASS" if cosine >= gate else "FAIL", cosine, gate))
    bad = bad or cosine < gate
sys.exit(1 if bad else 0)
PY

[ "$failed" = 0 ] && echo "accel check: all steps passed" || echo "accel check: a step failed"
exit "$failed"
