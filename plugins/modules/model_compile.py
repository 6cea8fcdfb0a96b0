#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: model_compile
short_description: Compile and quantize a model for a runtime and the host's hardware, with a fidelity gate
version_added: 0.1.0
description:
  - Builds an OpenVINO IR (FP32, FP16 weights, NNCF post-training INT8 or INT8 weight compression), an ONNX Runtime
    model (FP32, static QDQ INT8, dynamic INT8) or a TensorRT engine (through C(trtexec)) from an ONNX model or an
    OpenVINO IR.
  - Every candidate is load-tested after it is written, compared with the FP32 reference on held-back samples and
    timed. One that fails the load test or O(fidelity_gate) is not kept and the module fails saying which and by
    how much.
  - Writes the artifact into O(dest) together with C(manifest.json) (sha256 of every file, toolchain versions,
    hardware fingerprint, calibration-set hash, fidelity, latency, the pinned inference precision) and
    C(golden.json) (one golden input and its outputs in KServe V2 form) for M(edgeai.fleet.model_verify).
  - The artifact is built in a temporary directory beside O(dest) and renamed into place, so a failure keeps any
    previous artifact as it was.
  - Idempotent. The sha256 of the source files, calibration set, options, toolchain versions and hardware fingerprint is
    stored in the manifest; the same inputs reuse the artifact without compiling. A host whose fingerprint differs
    (for TensorRT the GPU architecture, TensorRT version or driver) gets a rebuild, never a stale engine.
author: edgeai.fleet contributors (@edgeai-fleet)
extends_documentation_fragment:
  - edgeai.fleet.attributes
attributes:
  check_mode:
    support: full
    details: Hashes the inputs and predicts whether a compile would run; nothing is built or written.
  diff_mode:
    support: full
    details: Shows the manifest before and after (predicted fields only in check mode).
  idempotent:
    support: full
    details: Same source, calibration set, options, toolchain and fingerprint reuse the artifact (C(changed=false)).
  platform:
    platforms: posix
requirements:
  - numpy
  - openvino (target V(openvino)), nncf (precisions V(int8) and V(int8-weights) on OpenVINO)
  - onnxruntime, onnx and sympy (target V(onnxruntime); targets V(tensorrt), V(tflite) and V(edgetpu) for the FP32 reference)
  - onnx2tf in its own venv (targets V(tflite) and V(edgetpu)) and ai-edge-litert (their load test)
  - edgetpu_compiler from Coral (target V(edgetpu))
  - trtexec from TensorRT (target V(tensorrt)); nvidia-ml-py when O(gpu_facts) is not given for V(tensorrt)
  - Pillow (only when O(calibration) holds images)
options:
  name:
    description: Model name recorded in the manifest (the name the model server serves it under).
    type: str
  src:
    description:
      - Source model on the compiling host, an C(.onnx) file (external data beside it as C(<src>.data) or
        C(<src>_data) is included) or an OpenVINO C(.xml) with its C(.bin).
      - Required unless O(fingerprint_only=true), like O(name) and O(dest).
    type: path
  dest:
    description:
      - Artifact directory. It receives the model files, C(manifest.json) and C(golden.json) and is replaced
        as a whole. A non-empty directory without a C(manifest.json) is refused.
    type: path
  fingerprint_only:
    description:
      - Only return this host's hardware fingerprint for O(target) (nothing is read, built or written), so a play
        can group hosts by C(fingerprint.id) and compile once per hardware class.
    type: bool
    default: false
  target:
    description: Runtime the artifact is built for.
    type: str
    choices: [openvino, onnxruntime, tensorrt, tflite, edgetpu]
    default: openvino
  precision:
    description:
      - Precision of the artifact. V(int8) needs O(calibration). V(int8-weights) compresses weights only (no
        calibration data). V(auto) builds O(candidates) and keeps the fastest one that passes the gate; the
        manifest records every candidate's figures.
    type: str
    choices: [fp32, fp16, int8, int8-weights, auto]
    default: fp32
  candidates:
    description: Precisions tried by O(precision=auto), default every one the target supports.
    type: list
    elements: str
    choices: [fp32, fp16, int8, int8-weights]
  device:
    description:
      - Device the artifact is load-tested and timed on (OpenVINO device name such as V(CPU), V(GPU) or V(NPU)).
      - V(NPU) (Intel Core Ultra NPU) needs every input dimension fixed (by the model or O(input_shapes)), builds
        V(fp16), V(int8) or V(int8-weights) only and pins C(INFERENCE_PRECISION_HINT) V(f16). It fails early on a host
        without an NPU, since the OpenVINO wheel has no offline NPU compiler; it never falls back to the CPU.
    type: str
    default: CPU
  inference_precision:
    description:
      - Runtime precision pinned with C(INFERENCE_PRECISION_HINT) and recorded in the manifest. The module fails when
        the device runs another one. Never left to a plugin default (OpenVINO picks bf16 on CPUs with BF16 units).
      - V(auto) makes the hint a candidate dimension (target V(openvino) only). Every weights precision is then
        load-tested, gated and timed at each hint the device lists in its C(OPTIMIZATION_CAPABILITIES) (V(f32)
        always, V(bf16) on CPUs with AVX-512 BF16 or AMX, V(f16) on GPUs); the chosen pair's hint is pinned in the
        manifest, so the server runs what was measured. Other targets pin V(f32).
      - Default V(auto) with O(precision=auto), otherwise V(f32).
    type: str
    choices: [auto, f32, bf16, f16]
  input_shapes:
    description:
      - "Shapes to fix, by input name, for example C({x: [1, 3, 640, 640]}); V(-1) keeps a dimension dynamic and
        C([]) is a rank-0 (scalar) input such as a sample rate. Inputs not named keep the model's shapes."
      - Applied when the model is converted (OpenVINO C(convert_model(input=...)) for an ONNX O(src)), because some
        graphs (control flow, recurrent state) only convert with their dimensions fixed. When a conversion fails on
        dynamic dimensions and no shapes were given, the error lists the dynamic inputs with their symbolic shapes
        and a value to start from.
      - For O(target=onnxruntime) the sizes are written into the graph's inputs. ONNX Runtime runs dynamic dimensions
        itself, and a graph whose type inference fails once they are fixed is refused saying so (leave
        O(input_shapes) out and pass O(calibration) samples of the served size).
    type: dict
  golden_shapes:
    description:
      - Shapes, by input name, to which the golden input is cut (leading corner of the first held-back sample) so that
        C(golden.json) stays small. Only useful when the artifact accepts those shapes (dynamic dimensions).
    type: dict
  calibration:
    description:
      - Directory of sample inputs, one sample per file, C(.npy) for a single-input model or C(.npz) keyed by input
        name, in the model's input layout and preprocessing; or images (C(.png), C(.jpg), C(.jpeg), C(.bmp))
        turned into inputs by O(calibration_preprocess). One kind per directory; files of other types are refused
        (names starting with a dot are ignored).
      - The last O(holdout) files (by name) are held back for the fidelity gate and the golden sample; the others
        calibrate. Its sha256 (for images together with the preprocessing and its parameters) goes into the
        manifest as C(calibration_sha256).
    type: path
  calibration_preprocess:
    description:
      - How images in O(calibration) become model inputs (NCHW float32, batch 1, for a model with one image input).
        Images need the Python package Pillow on the compiling host.
      - V(none) uses C(.npy)/C(.npz) samples as they are; images are refused.
      - V(ppocr_det) is the PP-OCR text detector's preprocessing as C(rapidocr-onnxruntime) does it (BGR, short side
        scaled up to C(limit_side_len) 736, both sides rounded to multiples of 32, bilinear,
        C((x/255 - 0.5)/0.5)). The size follows each image, so the model's H and W must be dynamic (V(-1)) or
        match what the images resize to.
      - V(imagenet) is the torchvision evaluation transform (RGB, resize so the crop is C(crop_fraction) 0.875 of
        the image, center crop to the input's H x W, ImageNet mean/std); the input's H and W must be fixed.
      - An image whose preprocessed shape does not fit the model input fails the module before anything is written.
    type: str
    choices: [none, ppocr_det, imagenet]
    default: none
  calibration_preprocess_options:
    description: Parameters of O(calibration_preprocess) that differ from its defaults; each is hashed with the images.
    type: dict
    suboptions:
      limit_side_len:
        description: V(ppocr_det) only. Side length the image is scaled to (default 736).
        type: int
      limit_type:
        description:
          - V(ppocr_det) only. V(min) (default, rapidocr) scales the short side up to O(calibration_preprocess_options.limit_side_len);
            V(max) (PaddleOCR's C(predict_det.py)) scales the long side down to it.
        type: str
        choices: [min, max]
      crop_fraction:
        description: V(imagenet) only. Crop size over resized size (default 0.875, 224 out of 256).
        type: float
      mean:
        description:
          - Per-channel mean subtracted after scaling to [0, 1], in the channel order the preprocessing produces
            (BGR for V(ppocr_det), RGB for V(imagenet)). Defaults 0.5 (ppocr_det), ImageNet's (imagenet).
            PaddleOCR's own detector script uses ImageNet's for V(ppocr_det).
        type: list
        elements: float
      std:
        description: Per-channel standard deviation, like O(calibration_preprocess_options.mean).
        type: list
        elements: float
  holdout:
    description: Number of samples held back for the fidelity gate (synthetic samples are used without O(calibration)).
    type: int
    default: 2
  model_type:
    description: V(transformer) selects NNCF's transformer quantization scheme (keeps sensitive ops in float).
    type: str
    choices: [cnn, transformer]
    default: cnn
  fidelity_gate:
    description: Limits against the FP32 reference on the held-back samples; a candidate that misses one is rejected.
    type: dict
    default: {}
    suboptions:
      min_cosine:
        description: Minimum cosine similarity of the outputs, worst sample.
        type: float
        default: 0.98
      max_abs_diff:
        description: Maximum absolute difference of any output element.
        type: float
  tolerance:
    description: Tolerance recorded for M(edgeai.fleet.model_verify) when it compares served outputs with C(golden.json).
    type: dict
    default: {}
    suboptions:
      max_abs:
        description: Maximum absolute difference of any output element.
        type: float
        default: 0.05
      min_cosine:
        description: Minimum cosine similarity of each output.
        type: float
        default: 0.999
  latency_runs:
    description: Timed inferences (after 3 warm-up runs) for the manifest's p50/p95 latency.
    type: int
    default: 20
  cache_dir:
    description:
      - Compile cache root (OpenVINO C(CACHE_DIR), TensorRT timing cache), one subdirectory per runtime version; those
        of other versions are pruned. Keep it under C(/var) on image-based hosts.
    type: path
  trtexec:
    description: Path of C(trtexec) for O(target=tensorrt); looked up on C(PATH) when not set.
    type: path
  tflite_converter:
    description:
      - Path of the C(onnx2tf) executable for O(target=tflite) and O(target=edgetpu); looked up on C(PATH) when not
        set. onnx2tf pins its own TensorFlow and protobuf, so install it in a venv of its own and point here.
      - V(tflite) builds V(int8) (full-integer, calibrated on O(calibration), float32 inputs and outputs) or V(fp32);
        shapes must be fixed. Inputs of rank 3 to 5 are channel-last inside the model; the manifest keeps the ONNX
        tensors and maps them in its C(tflite) field.
    type: path
  edgetpu_compiler:
    description:
      - Path of Coral's C(edgetpu_compiler) for O(target=edgetpu); looked up on C(PATH) when not set.
      - V(edgetpu) builds the V(tflite) INT8 model, compiles it for the Edge TPU and records the compiler's operation
        report in the manifest's C(edgetpu) field. The gate and timings run the CPU model (C(verified_on=cpu-tflite)).
    type: path
  trtexec_timeout:
    description:
      - Seconds one C(trtexec) run (an engine build or a timing run) may take before it is stopped and the task
        fails, so that a wedged GPU driver cannot hang the play. Large models on Jetson may need more.
    type: int
    default: 3600
  gpu_facts:
    description:
      - The C(edgeai_gpu) facts of M(edgeai.fleet.gpu_info), used for the GPU part of the fingerprint of V(tensorrt)
        artifacts. Without them the module reads the GPU through C(nvidia-ml-py).
    type: dict
  gpu_index:
    description: Which GPU of O(gpu_facts) the engine is built for.
    type: int
    default: 0
  dla_core:
    description:
      - Jetson DLA core (V(0) or V(1)) a V(tensorrt) engine is built for, with GPU fallback for the layers the DLA
        cannot run (C(trtexec --useDLACore=N --allowGPUFallback)). Recorded in the manifest and the fingerprint.
      - Needs O(gpu_facts) of a Jetson Xavier or Orin (not Orin Nano) and a TensorRT release with DLA on Jetson
        (up to 10.7, or 11.4.1 and later). DLA runs FP16 and INT8 only, so V(fp32) is refused on TensorRT 10.
      - Null builds for the GPU.
    type: int
"""

EXAMPLES = r"""
- name: Compile the OCR detector to OpenVINO INT8 for this host's CPU class
  edgeai.fleet.model_compile:
    name: ocr_det
    src: /var/lib/edgeai/src/ch_PP-OCRv4_det_infer.onnx
    dest: /var/lib/edgeai/artifacts/ocr_det/int8
    precision: int8
    input_shapes: {x: [1, 3, 640, 640]}
    calibration: /var/lib/edgeai/calib/ocr_det
    fidelity_gate: {min_cosine: 0.98}
    cache_dir: /var/cache/edgeai/compile
  register: compiled

- name: Calibrate the detector on scanned pages (640x640 JPEGs), preprocessed as rapidocr does
  edgeai.fleet.model_compile:
    name: ocr_det
    src: /var/lib/edgeai/src/ch_PP-OCRv4_det_infer.onnx
    dest: /var/lib/edgeai/artifacts/ocr_det/int8-pages
    precision: int8
    input_shapes: {x: [1, 3, 640, 640]}
    calibration: /var/lib/edgeai/calib/pages
    calibration_preprocess: ppocr_det
    calibration_preprocess_options: {limit_side_len: 640}

- name: Calibrate an image classifier on JPEGs with the ImageNet transform
  edgeai.fleet.model_compile:
    name: resnet50
    src: /var/lib/edgeai/src/resnet50.onnx
    dest: /var/lib/edgeai/artifacts/resnet50/int8
    precision: int8
    input_shapes: {input: [1, 3, 224, 224]}
    calibration: /var/lib/edgeai/calib/imagenet-sample
    calibration_preprocess: imagenet

- name: Keep the fastest of INT8, INT8 weights, FP16 and FP32 that passes the gate
  edgeai.fleet.model_compile:
    name: minilm
    src: /var/lib/edgeai/src/minilm.onnx
    dest: /var/lib/edgeai/artifacts/minilm/auto
    precision: auto
    model_type: transformer
    calibration: /var/lib/edgeai/calib/minilm
    fidelity_gate: {min_cosine: 0.98}

- name: Full-integer TFLite of the detector for a Coral Edge TPU (onnx2tf in its own venv)
  edgeai.fleet.model_compile:
    name: ocr_det
    src: /var/lib/edgeai/src/ch_PP-OCRv4_det_infer.onnx
    dest: /var/lib/edgeai/artifacts/ocr_det/edgetpu
    target: edgetpu
    precision: int8
    input_shapes: {x: [1, 3, 640, 640]}
    calibration: /var/lib/edgeai/calib/ocr_det
    tflite_converter: /opt/onnx2tf/bin/onnx2tf

- name: Build a TensorRT FP16 engine on a GPU host
  edgeai.fleet.model_compile:
    name: ocr_det
    src: /var/lib/edgeai/src/ch_PP-OCRv4_det_infer.onnx
    dest: /var/lib/edgeai/artifacts/ocr_det/trt
    target: tensorrt
    precision: fp16
    input_shapes: {x: [1, 3, 640, 640]}
    gpu_facts: "{{ ansible_facts.edgeai_gpu }}"
    cache_dir: /var/cache/edgeai/compile
"""

RETURN = r"""
manifest:
  description: The manifest of the artifact in O(dest) (predicted fields only in check mode when a compile is due).
  returned: always
  type: dict
  sample: {"name": "ocr_det", "precision": "int8", "inference_precision": "f32", "latency_ms": {"p50": 18.2, "p95": 21.0}}
path:
  description: The artifact directory.
  returned: always
  type: str
  sample: /var/lib/edgeai/artifacts/ocr_det/int8
manifest_path:
  description: Path of C(manifest.json) (null with O(fingerprint_only=true)).
  returned: always
  type: str
  sample: /var/lib/edgeai/artifacts/ocr_det/int8/manifest.json
fingerprint:
  description: This host's hardware fingerprint; group hosts by C(fingerprint.id) to compile once per class.
  returned: always
  type: dict
  sample: {"id": "9f2c...", "arch": "x86_64", "cpu_model": "Intel(R) Xeon(R) Processor", "cpu_flags": ["avx2"], "gpu": null}
reason:
  description: Why the artifact was reused or (re)built.
  returned: always
  type: str
  sample: "inputs changed: toolchain"
candidates:
  description:
    - Every candidate's precision, fidelity, latency, size and compile time, or why it failed.
    - With O(inference_precision=auto) a candidate is a weights precision at a runtime hint (C(inference_precision));
      hints the device cannot run are listed with the reason they were skipped.
  returned: always
  type: list
  elements: dict
  sample: [{"precision": "int8", "inference_precision": "f32", "passed": true, "chosen": true,
            "latency_ms": {"p50": 18.2, "p95": 21.0}},
           {"inference_precision": "bf16", "skipped": "device CPU does not list BF16 in OPTIMIZATION_CAPABILITIES"}]
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError, fail_from_error
from ansible_collections.edgeai.fleet.plugins.module_utils._model_compile import MissingLibrary, run_job

GATE = dict(min_cosine=dict(type="float", default=0.98), max_abs_diff=dict(type="float"))
TOLERANCE = dict(max_abs=dict(type="float", default=0.05), min_cosine=dict(type="float", default=0.999))
PRECISIONS = ["fp32", "fp16", "int8", "int8-weights"]
PREPROCESS = dict(limit_side_len=dict(type="int"), limit_type=dict(type="str", choices=["min", "max"]),
                  crop_fraction=dict(type="float"), mean=dict(type="list", elements="float"),
                  std=dict(type="list", elements="float"))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str"), src=dict(type="path"), dest=dict(type="path"),
            fingerprint_only=dict(type="bool", default=False),
            target=dict(type="str", default="openvino",
                        choices=["openvino", "onnxruntime", "tensorrt", "tflite", "edgetpu"]),
            precision=dict(type="str", default="fp32", choices=PRECISIONS + ["auto"]),
            candidates=dict(type="list", elements="str", choices=PRECISIONS),
            device=dict(type="str", default="CPU"),
            inference_precision=dict(type="str", choices=["auto", "f32", "bf16", "f16"]),
            input_shapes=dict(type="dict"), golden_shapes=dict(type="dict"), calibration=dict(type="path"),
            calibration_preprocess=dict(type="str", default="none", choices=["none", "ppocr_det", "imagenet"]),
            calibration_preprocess_options=dict(type="dict", options=PREPROCESS),
            holdout=dict(type="int", default=2), model_type=dict(type="str", default="cnn", choices=["cnn", "transformer"]),
            fidelity_gate=dict(type="dict", default={}, options=GATE, apply_defaults=True),
            tolerance=dict(type="dict", default={}, options=TOLERANCE, apply_defaults=True),
            latency_runs=dict(type="int", default=20), cache_dir=dict(type="path"), trtexec=dict(type="path"),
            trtexec_timeout=dict(type="int", default=3600),
            gpu_facts=dict(type="dict"), gpu_index=dict(type="int", default=0), dla_core=dict(type="int"),
            tflite_converter=dict(type="path"), edgetpu_compiler=dict(type="path"),
        ),
        required_if=[("precision", "int8", ("calibration",)), ("fingerprint_only", False, ("name", "src", "dest"))],
        supports_check_mode=True,
    )
    try:
        result = run_job(module.params, module.run_command, module.get_bin_path, module.check_mode, module._diff)
    except MissingLibrary as err:
        module.fail_json(msg=missing_required_lib(err.package, reason=err.reason), exception=err.details.get("error"))
    except FleetError as err:
        fail_from_error(module, err)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
