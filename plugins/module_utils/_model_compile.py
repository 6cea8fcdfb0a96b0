# -*- coding: utf-8 -*-
# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Private to the edgeai.fleet collection: may change without notice.

"""model_compile's core: decide whether to compile, compile beside the destination, gate, swap into place.

Flow: hash the inputs (source, calibration set, options, toolchain versions, hardware fingerprint);
an artifact whose manifest carries the same hash and whose files still match is reused. Otherwise
every candidate weights precision is built in a temporary directory next to ``dest`` and, at every
runtime precision hint the device supports when ``inference_precision`` is ``auto``, load-tested,
compared with the FP32 reference on held-back samples and timed round-robin with the other candidates;
the chosen one is renamed into place with its hint pinned in the manifest. Any failure removes the
temporary directory and leaves a previous artifact exactly as it was.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time

from ansible_collections.edgeai.fleet.plugins.module_utils._diff import state_diff
from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError
from ansible_collections.edgeai.fleet.plugins.module_utils._files import read_text
from ansible_collections.edgeai.fleet.plugins.module_utils import _model_fingerprint as fp
from ansible_collections.edgeai.fleet.plugins.module_utils import _model_gates as gates
from ansible_collections.edgeai.fleet.plugins.module_utils import _model_images as images
from ansible_collections.edgeai.fleet.plugins.module_utils import _model_manifest as mf
from ansible_collections.edgeai.fleet.plugins.module_utils import _model_npu as npu_
from ansible_collections.edgeai.fleet.plugins.module_utils import _model_toolchain as toolchain_
from ansible_collections.edgeai.fleet.plugins.module_utils._model_samples import (
    golden_doc, load_calibration, synthetic_samples, crop_sample)

AUTO_ORDER = ("int8", "int8-weights", "fp16", "fp32")
# Runtime precision hints auto may try, and the OpenVINO device capability (OPTIMIZATION_CAPABILITIES)
# that says the device runs each natively. f32 is always a candidate: it is the reference precision.
HINT_CAPABILITY = (("f32", "FP32"), ("bf16", "BF16"), ("f16", "FP16"))
# Only consulted when the runtime cannot report capabilities: the CPU units that make a hint worth timing.
# Mirrors the CPU plugin's own test (avx512_core_bf16 / avx512_core_fp16 or avx2_vnni_2, whose flag is avx_ne_convert).
HINT_CPU_FLAGS = {"bf16": ("avx512_bf16", "amx_bf16", "avx_ne_convert"),
                  "f16": ("avx512_fp16", "amx_fp16", "avx_ne_convert")}
# Timing rounds: candidates are timed round-robin so background load hits every one alike.
TIMING_ROUNDS = 4
# Options that change the artifact; anything else (latency_runs, cache_dir...) does not trigger a rebuild.
KEYED_OPTIONS = ("name", "target", "precision", "candidates", "device", "inference_precision", "input_shapes",
                 "golden_shapes", "fidelity_gate", "tolerance", "holdout", "model_type", "gpu_index")


class MissingLibrary(FleetError):
    """A Python package the chosen target needs is not importable on this host."""

    def __init__(self, package, reason, error):
        super().__init__("%s is required %s" % (package, reason), package=package, error=error)
        self.package = package
        self.reason = reason


def source_files(src):
    """The files that make up the source model: IR .xml + .bin, or ONNX plus its external data.

    External data is found by the names exporters write (``model.onnx.data``, ``model.onnx_data``,
    ``model.data``); every file found is hashed and copied so no weight goes missing.
    """
    if not os.path.isfile(src):
        raise FleetError("src %s does not exist or is not a file: pass the path of an .onnx model or an "
                         "OpenVINO .xml on the host that compiles" % src, src=src)
    base, ext = os.path.splitext(src)
    if ext == ".xml":
        weights = base + ".bin"
        if not os.path.isfile(weights):
            raise FleetError("src %s is an OpenVINO IR but %s is missing: keep the .bin beside the .xml" % (src, weights))
        return [src, weights]
    if ext != ".onnx":
        raise FleetError("src %s must end in .onnx or .xml (OpenVINO IR)" % src, src=src)
    extra = [p for p in (src + ".data", src + "_data", base + ".data") if os.path.isfile(p)]
    return [src] + extra


def plan(params, backend, fingerprint, toolchain=None):
    """Everything the idempotence decision needs, computed without compiling anything.

    ``toolchain``: the versions when known without a backend (``backend`` may then be None).
    """
    sources = source_files(params["src"])
    spec = params.get("calibration_spec")
    calibration, are_images = _calibration_files(params.get("calibration"), spec)
    options = dict((k, params.get(k)) for k in KEYED_OPTIONS)
    doc = {
        "source_sha256": mf.set_sha256(sources),
        # the preprocessing is part of the calibration set's identity (hashed only when images are used)
        "calibration_sha256": images.calibration_sha256(calibration, spec if are_images else None) if calibration else None,
        "options": options,
        "toolchain": toolchain if toolchain is not None else backend.toolchain(),
        "fingerprint": fingerprint,
    }
    doc["inputs_sha256"] = mf.sha256_doc(doc)
    doc["sources"] = sources
    doc["calibration_files"] = calibration
    doc["calibration_images"] = are_images
    return doc


def _calibration_files(directory, spec):
    """``(sorted sample paths, are_images)``; refuses mixed, unknown or missing samples."""
    if not directory:
        if spec is not None:
            raise FleetError("calibration_preprocess is %s but no calibration directory is given: pass calibration "
                             "(a directory of images) or drop calibration_preprocess" % spec["name"],
                             option="calibration_preprocess")
        return [], False
    if not os.path.isdir(directory):
        raise FleetError("calibration %s is not a directory: pass a directory of .npy (one input) or .npz "
                         "(named inputs) sample files, or of images with calibration_preprocess" % directory,
                         calibration=directory)
    return images.classify(directory, sorted(os.listdir(directory)), spec)


def decide(dest, current):
    """``(reuse, reason, existing_manifest)`` comparing the artifact in ``dest`` with the planned inputs."""
    if os.path.exists(dest) and not os.path.isdir(dest):
        raise FleetError("dest %s exists and is not a directory: model_compile writes an artifact directory there"
                         % dest, dest=dest)
    if os.path.isdir(dest) and os.listdir(dest) and not os.path.exists(os.path.join(dest, mf.MANIFEST)):
        raise FleetError("dest %s exists and holds no %s: refusing to replace a directory model_compile did "
                         "not write; choose an empty or new directory" % (dest, mf.MANIFEST), dest=dest)
    existing = mf.read(dest) if os.path.isdir(dest) else None
    if existing is None:
        return False, "no artifact in %s" % dest, None
    problems = mf.validate(existing)
    if problems:
        return False, "existing manifest is invalid (%s)" % "; ".join(problems), existing
    if existing.get("inputs_sha256") != current["inputs_sha256"]:
        changed = [k for k in ("source_sha256", "calibration_sha256", "options", "toolchain", "fingerprint")
                   if existing.get(k) != current[k]]
        return False, "inputs changed: %s" % ", ".join(changed or ["inputs_sha256"]), existing
    bad = mf.verify_files(dest, existing)
    if bad:
        return False, "artifact files differ from the manifest: %s" % ", ".join(bad), existing
    return True, "artifact is up to date", existing


def hint_candidates(requested, capabilities, cpu_flags, device):
    """Runtime precision hints to try, and the ones skipped with the reason.

    A ``requested`` hint other than ``auto`` is pinned as asked: ``[None]`` stands for the backend's own
    configured hint. For ``auto`` the device's capability list decides (``capabilities``; None when the
    runtime cannot tell, and only then do the CPU's ISA flags stand in, for a CPU device only).
    """
    if requested != "auto":
        return [None], []
    hints, skipped = [], []
    for hint, capability in HINT_CAPABILITY:
        why = None
        if hint == "f32":
            pass
        elif capabilities is not None:
            if capability not in capabilities:
                why = "device %s does not list %s in OPTIMIZATION_CAPABILITIES (%s)" % (
                    device, capability, ", ".join(capabilities) or "none")
        elif not device.upper().startswith("CPU"):
            why = "the runtime reports no capabilities for device %s" % device
        elif not set(HINT_CPU_FLAGS[hint]) & set(cpu_flags):
            why = "the runtime reports no capabilities and the CPU has none of %s" % ", ".join(HINT_CPU_FLAGS[hint])
        if why:
            skipped.append({"inference_precision": hint, "skipped": why})
        else:
            hints.append(hint)
    return hints, skipped


def candidates_for(params, backend, have_calibration):
    """Precisions to build, and the ones skipped with the reason."""
    if params["precision"] != "auto":
        wanted = [params["precision"]]
    else:
        wanted = params.get("candidates") or [p for p in AUTO_ORDER if p in backend.precisions]
    skipped = []
    chosen = []
    for precision in wanted:
        why = backend.unsupported(precision)
        if not why and precision == "int8" and not have_calibration:
            why = "int8 needs a calibration set (the calibration option)"
        if why and params["precision"] != "auto":
            raise FleetError("precision %s cannot be built for target %s: %s" % (precision, backend.name, why),
                             precision=precision, target=backend.name)
        if why:
            skipped.append({"precision": precision, "skipped": why})
        else:
            chosen.append(precision)
    if not chosen:
        raise FleetError("No candidate precision can be built for target %s: %s"
                         % (backend.name, "; ".join("%(precision)s: %(skipped)s" % s for s in skipped)))
    return chosen, skipped


class Compiler:
    """Builds, gates and installs one artifact. ``backend`` follows the interface of _model_openvino.Backend."""

    def __init__(self, params, backend, planned, now=None, log=None):
        self.params = params
        self.backend = backend
        self.planned = planned
        self.now = now or (lambda: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
        self.log = log or (lambda msg: None)

    def _samples(self, inputs):
        params = self.params
        holdout = params["holdout"]
        files = self.planned["calibration_files"]
        if files:
            if self.planned.get("calibration_images"):
                samples = images.load_images(files, inputs, params["calibration_spec"])
            else:
                samples = load_calibration(files, inputs)
            if len(samples) <= holdout:
                raise FleetError("calibration holds %d samples but holdout is %d: provide more samples than are "
                                 "held back for the fidelity gate" % (len(samples), holdout),
                                 samples=len(samples), holdout=holdout)
            return samples[:-holdout], samples[-holdout:]
        return [], synthetic_samples(inputs, holdout)

    def prepare(self):
        """Model inputs/outputs and the samples, read before anything is written (bad samples write nothing)."""
        inputs, outputs = self.backend.describe(self.params["src"], self.params.get("input_shapes"))
        calib, evals = self._samples(inputs)
        return inputs, outputs, calib, evals

    def hints(self):
        """Runtime precision hints to try (``[None]``: the one pinned by inference_precision) and those skipped."""
        requested = self.params["inference_precision"]
        capabilities = self.backend.capabilities() if requested == "auto" else None
        return hint_candidates(requested, capabilities, self.planned["fingerprint"].get("cpu_flags") or [],
                               self.params["device"])

    def build_all(self, workdir, prepared=None):
        """Build each weights precision once, load it at each runtime hint, gate every pair, time them all
        round-robin; return (chosen, all_records, inputs, outputs)."""
        params, backend = self.params, self.backend
        inputs, outputs, calib, evals = prepared or self.prepare()
        precisions, records = candidates_for(params, backend, bool(calib))
        hints, skipped_hints = self.hints()
        records.extend(skipped_hints)
        reference = backend.reference(params["src"], params.get("input_shapes"), evals)
        golden_input = crop_sample(evals[0], params.get("golden_shapes"))
        loaded = []
        for precision in precisions:
            out_dir = os.path.join(workdir, precision)
            os.makedirs(out_dir)
            started = time.perf_counter()
            try:
                entrypoint = backend.build(params["src"], precision, out_dir, calib)
            except FleetError as exc:
                records.append({"precision": precision, "passed": False, "error": "build failed: %s" % exc.msg})
                continue
            compile_s = round(time.perf_counter() - started, 3)
            for hint in hints:
                record = {"precision": precision, "compile_s": compile_s}
                if hint:
                    record["inference_precision"] = hint
                records.append(record)
                try:
                    session = backend.load(out_dir, entrypoint) if hint is None else backend.load(out_dir, entrypoint, hint)
                    produced = [session.infer(sample) for sample in evals]
                    golden_output = session.infer(golden_input)
                except FleetError as exc:
                    record.update(passed=False, error="load test failed: %s" % exc.msg)
                    continue
                measured = gates.fidelity(_flat(reference), _flat(produced))
                passed, failures = gates.evaluate(measured, params["fidelity_gate"])
                record.update(passed=passed, fidelity=measured, size_bytes=_tree_size(out_dir),
                              effective=session.effective)
                if failures:
                    record["failures"] = failures
                    record["error"] = "fidelity gate failed: %s" % gates.describe(failures)
                loaded.append((record, session, (record, out_dir, entrypoint,
                                                 golden_doc(inputs, golden_input, outputs, golden_output))))
        timings = time_round_robin([session for _r, session, _c in loaded], evals[0], params["latency_runs"])
        for (record, _s, _c), samples in zip(loaded, timings):
            record["latency_ms"] = gates.latency_summary(samples)
        built = [chosen for record, _s, chosen in loaded if record["passed"]]
        if not built:
            raise FleetError("No candidate of %s passed: %s" % (params["name"], "; ".join(
                "%s: %s" % (_label(r), r.get("error") or r.get("skipped")) for r in records)),
                candidates=records)
        chosen = min(built, key=lambda item: item[0]["latency_ms"]["p50"])
        for record, _s, _c in loaded:
            if record["passed"]:
                record["chosen"] = record is chosen[0]
        return chosen, records, inputs, outputs

    def finish(self, chosen, records, inputs, outputs):
        """Write golden.json and manifest.json into the chosen candidate's directory; return the manifest."""
        record, out_dir, entrypoint, golden = chosen
        params, planned = self.params, self.planned
        with open(os.path.join(out_dir, mf.GOLDEN), "w", encoding="utf-8") as handle:
            handle.write(mf.dumps(golden))
        effective = record["effective"]
        fidelity = dict(record["fidelity"], gate=params["fidelity_gate"], passed=True,
                        reference=self.backend.reference_name)
        doc = mf.build(
            name=params["name"], target=self.backend.name, precision=record["precision"],
            inference_precision=effective["inference_precision"], device=effective["device"], entrypoint=entrypoint,
            files=mf.hash_files(out_dir, mf.list_files(out_dir)), inputs=inputs, outputs=outputs,
            toolchain=planned["toolchain"], fingerprint=planned["fingerprint"], fidelity=fidelity,
            latency_ms=record["latency_ms"], tolerance=params["tolerance"],
            source_sha256=planned["source_sha256"], created=self.now(),
            calibration_sha256=planned["calibration_sha256"], inputs_sha256=planned["inputs_sha256"],
            candidates=records, options=planned["options"])
        # what else the backend ran on (TensorRT's dla_core, the TFLite tensor map); never a field the manifest sets
        doc.update((k, v) for k, v in effective.items() if k not in doc)
        with open(os.path.join(out_dir, mf.MANIFEST), "w", encoding="utf-8") as handle:
            handle.write(mf.dumps(doc))
        return out_dir, doc

    def run(self, dest):
        """Compile into a temporary directory beside ``dest`` and swap it in; return the manifest."""
        prepared = self.prepare()
        parent = os.path.dirname(os.path.abspath(dest))
        os.makedirs(parent, exist_ok=True)
        workdir = tempfile.mkdtemp(prefix=".%s.build-" % os.path.basename(dest), dir=parent)
        try:
            chosen, records, inputs, outputs = self.build_all(workdir, prepared)
            ready, doc = self.finish(chosen, records, inputs, outputs)
            swap_into_place(ready, dest)
            return doc
        finally:
            shutil.rmtree(workdir, ignore_errors=True)


def swap_into_place(ready, dest):
    """Replace ``dest`` by ``ready`` with renames on one file system; the old artifact returns on failure."""
    old = None
    if os.path.exists(dest):
        old = tempfile.mkdtemp(prefix=".%s.old-" % os.path.basename(dest), dir=os.path.dirname(os.path.abspath(dest)))
        os.rmdir(old)
        os.rename(dest, old)
    try:
        os.rename(ready, dest)
    except OSError as exc:
        if old:
            os.rename(old, dest)
        raise FleetError("Cannot move the compiled artifact into %s: %s (the previous artifact is unchanged)"
                         % (dest, exc), dest=dest)
    if old:
        shutil.rmtree(old, ignore_errors=True)


def prune_cache(cache_dir, prefix, keep):
    """Remove compile caches of other runtime versions (``<prefix>-<version>``) and return the kept path.

    Caches are only valid for one runtime version, hardware and model; stale ones only fill the disk.
    """
    path = os.path.join(cache_dir, keep)
    os.makedirs(path, exist_ok=True)
    removed = []
    for entry in sorted(os.listdir(cache_dir)):
        if entry.startswith(prefix + "-") and entry != keep:
            shutil.rmtree(os.path.join(cache_dir, entry), ignore_errors=True)
            removed.append(entry)
    if not os.access(path, os.W_OK):
        raise FleetError("compile cache %s is not writable: point cache_dir at a writable directory under /var"
                         % path, cache_dir=cache_dir)
    return path, removed


def predicted_manifest(params, planned, backend):
    """What check mode can know about the manifest without compiling."""
    return {"schema": mf.SCHEMA, "name": params["name"], "target": backend.name,
            "precision": params["precision"], "inference_precision": params["inference_precision"],
            "device": params["device"], "source_sha256": planned["source_sha256"],
            "calibration_sha256": planned["calibration_sha256"], "toolchain": planned["toolchain"],
            "fingerprint": planned["fingerprint"], "inputs_sha256": planned["inputs_sha256"],
            "options": planned["options"], "tolerance": params["tolerance"]}


def _check_shapes(params, key):
    shapes = params.get(key)
    if shapes is None:
        return None
    fixed = {}
    for name, shape in shapes.items():
        try:
            fixed[name] = [int(d) for d in shape]
        # OverflowError: YAML's .inf; TypeError: a scalar or a mapping where the list belongs.
        except (TypeError, ValueError, OverflowError):
            raise FleetError("%s[%s] must be a list of integers (-1 for a dynamic dimension), got %r"
                             % (key, name, shape), option=key)
    return fixed


def _inference_precision(params):
    """The hint to pin, or ``auto``: by default auto follows precision=auto; hints are OpenVINO's only."""
    wanted = params.get("inference_precision")
    if params["target"] == "openvino" and npu_.is_npu(params["device"]):
        return npu_.inference_precision(wanted)
    if wanted is None:
        wanted = "auto" if params["precision"] == "auto" else "f32"
    if wanted == "auto" and params["target"] != "openvino":
        return "f32"
    return wanted


def validate_params(params):
    """Checks the argument spec cannot express; returns a normalised copy."""
    params = dict(params)
    for key in ("holdout", "latency_runs"):
        if params[key] < 1:
            raise FleetError("%s must be at least 1, got %d" % (key, params[key]), option=key)
    params["inference_precision"] = _inference_precision(params)
    params["input_shapes"] = _check_shapes(params, "input_shapes")
    params["golden_shapes"] = _check_shapes(params, "golden_shapes")
    params["calibration_spec"] = images.resolve_spec(params.get("calibration_preprocess"),
                                                     params.get("calibration_preprocess_options"))
    if params["candidates"] and params["precision"] != "auto":
        raise FleetError("candidates is only used with precision: auto (precision is %s)" % params["precision"],
                         option="candidates")
    if params.get("dla_core") is not None and params["target"] != "tensorrt":
        raise FleetError("dla_core is only used with target: tensorrt (target is %s)" % params["target"],
                         option="dla_core")
    return params


def make_backend(params, run_command, get_bin_path):
    """The backend object for ``params['target']``; its import errors become MissingLibrary."""
    target = params["target"]
    if target == "openvino":
        from ansible_collections.edgeai.fleet.plugins.module_utils._model_openvino import Backend
        return Backend(params)
    if target == "onnxruntime":
        from ansible_collections.edgeai.fleet.plugins.module_utils._model_onnxruntime import Backend
        return Backend(params)
    if target == "tflite":
        from ansible_collections.edgeai.fleet.plugins.module_utils._model_tflite import Backend
        return Backend(params, run_command, get_bin_path)
    if target == "edgetpu":
        from ansible_collections.edgeai.fleet.plugins.module_utils._model_edgetpu import Backend
        return Backend(params, run_command, get_bin_path)
    from ansible_collections.edgeai.fleet.plugins.module_utils._model_tensorrt import Backend
    return Backend(params, run_command, get_bin_path)


def host_fingerprint(params, cpuinfo_text):
    """This host's fingerprint; the GPU part only for targets whose artifact depends on the GPU."""
    cpu = fp.parse_cpuinfo(cpuinfo_text)
    gpu = None
    if params["target"] == "tensorrt" or "GPU" in params["device"].upper():
        if params.get("gpu_facts") is not None:
            gpu = fp.gpu_from_facts(params["gpu_facts"], params["gpu_index"])
        else:
            try:
                import pynvml
            except ImportError:
                import traceback
                raise MissingLibrary("nvidia-ml-py", "to fingerprint the GPU when gpu_facts is not given",
                                     traceback.format_exc())
            gpu = fp.gpu_from_nvml(pynvml, params["gpu_index"])
        if gpu is None and params["target"] == "tensorrt":
            raise FleetError("target tensorrt needs a GPU but gpu_facts lists none (reason: %s)"
                             % (params["gpu_facts"] or {}).get("reason"), option="gpu_facts")
    return fp.fingerprint(cpu, gpu, dla_core=params.get("dla_core"))


def _reused_without_runtime(params, dest, cpuinfo):
    """The result for an up-to-date artifact, decided with the toolchain versions from package metadata.

    A converged run ends here without importing the runtime. None hands the decision to the backend's path,
    which also reports any problem in its own order of checks, so this path can only save work.
    """
    known = toolchain_.versions(params["target"])
    if known is None:
        return None
    try:
        fingerprint = host_fingerprint(params, cpuinfo)
        reuse, reason, existing = decide(dest, plan(params, None, fingerprint, toolchain=known))
    except FleetError:
        return None
    return _reused(dest, fingerprint, reason, existing) if reuse else None


def _reused(dest, fingerprint, reason, existing):
    return {"path": dest, "manifest_path": os.path.join(dest, mf.MANIFEST), "fingerprint": fingerprint,
            "reason": reason, "changed": False, "manifest": existing, "candidates": existing.get("candidates", [])}


def run_job(params, run_command, get_bin_path, check_mode, want_diff, cpuinfo_path="/proc/cpuinfo"):
    """The whole module: plan, decide, compile or predict; returns the module result."""
    if params.get("fingerprint_only"):
        # read-only: lets a play group hosts by hardware class before deciding where to compile
        return {"changed": False, "fingerprint": host_fingerprint(params, read_text(cpuinfo_path) or ""),
                "reason": "fingerprint_only", "path": params.get("dest"), "manifest_path": None, "manifest": {},
                "candidates": []}
    params = validate_params(params)
    dest = params["dest"]
    cpuinfo = read_text(cpuinfo_path) or ""
    fast = _reused_without_runtime(params, dest, cpuinfo)
    if fast:
        return fast
    backend = make_backend(params, run_command, get_bin_path)
    fingerprint = host_fingerprint(params, cpuinfo)
    backend.fingerprint = fingerprint
    planned = plan(params, backend, fingerprint)
    reuse, reason, existing = decide(dest, planned)
    if reuse:
        return _reused(dest, fingerprint, reason, existing)
    result = {"path": dest, "manifest_path": os.path.join(dest, mf.MANIFEST), "fingerprint": fingerprint,
              "reason": reason, "changed": True}
    if check_mode:
        after = predicted_manifest(params, planned, backend)
        result.update(manifest=after, candidates=[])
    else:
        after = Compiler(params, backend, planned).run(dest)
        result.update(manifest=after, candidates=after["candidates"])
    if want_diff:
        result["diff"] = state_diff(existing or {}, after, header=result["manifest_path"])
    return result


def time_round_robin(sessions, sample, runs):
    """``runs`` latency samples per session, taken in alternating rounds so that background load
    (other tenants of a small edge box) hits every candidate alike instead of whichever ran last."""
    per_round = [runs // TIMING_ROUNDS + (1 if i < runs % TIMING_ROUNDS else 0) for i in range(TIMING_ROUNDS)]
    timings = [[] for _s in sessions]
    for count in per_round:
        for samples, session in zip(timings, sessions):
            if count:
                samples.extend(session.time(sample, count))
    return timings


def _label(record):
    """``int8``, ``int8 at bf16`` or ``bf16 hint`` for a candidate record in messages."""
    if "precision" not in record:
        return "%s hint" % record["inference_precision"]
    if record.get("inference_precision"):
        return "%(precision)s at %(inference_precision)s" % record
    return record["precision"]


def _flat(per_sample):
    """Samples of output tensors (numpy arrays or sequences) as flat float lists for the gates."""
    return [[out.ravel().tolist() if hasattr(out, "ravel") else list(out) for out in sample] for sample in per_sample]


def _tree_size(root):
    return sum(os.path.getsize(os.path.join(root, rel)) for rel in mf.list_files(root, exclude=()))
