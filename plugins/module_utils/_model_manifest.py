# -*- coding: utf-8 -*-
# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Private to the edgeai.fleet collection: may change without notice.

"""The model manifest (``manifest.json`` beside a compiled artifact): hashes, build, read, validate.

Standard library only: model_deploy and model_verify read the same document on devices
that have no model toolchain installed.
"""

from __future__ import annotations

import hashlib
import json
import os

from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError

SCHEMA = "edgeai.fleet/model-manifest/v1"
MANIFEST = "manifest.json"
GOLDEN = "golden.json"
TARGETS = ("openvino", "onnxruntime", "tensorrt", "tflite", "edgetpu")
# The optional ``edgetpu`` field: edgetpu_compiler's own report of where each operation runs.
EDGETPU_COUNTS = ("ops_total", "ops_tpu", "ops_cpu")
PRECISIONS = ("fp32", "fp16", "int8", "int8-weights")
# What the server pins (OpenVINO INFERENCE_PRECISION_HINT; i8 for TensorRT INT8 engines): a concrete hint, never "auto".
INFERENCE_PRECISIONS = ("f32", "bf16", "f16", "i8")
REQUIRED = ("schema", "name", "target", "precision", "inference_precision", "device", "entrypoint", "files",
            "inputs", "outputs", "toolchain", "fingerprint", "fidelity", "latency_ms", "golden", "tolerance",
            "source_sha256", "created")
_CHUNK = 1 << 20


def sha256_file(path):
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(_CHUNK), b""):
                digest.update(block)
    except OSError as exc:
        raise FleetError("Cannot read %s to hash it: %s" % (path, exc), path=path)
    return digest.hexdigest()


def canonical(doc):
    """Stable JSON text: the same data always hashes the same."""
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def sha256_doc(doc):
    return hashlib.sha256(canonical(doc).encode("utf-8")).hexdigest()


def hash_files(root, relpaths):
    """``{relpath: sha256}`` for files under ``root``."""
    return dict((rel, sha256_file(os.path.join(root, rel))) for rel in sorted(relpaths))


def list_files(root, exclude=(MANIFEST,)):
    """Relative paths of every regular file under ``root`` (sorted), minus ``exclude``."""
    found = []
    for base, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            rel = os.path.relpath(os.path.join(base, name), root)
            if rel not in exclude:
                found.append(rel)
    return found


def set_sha256(paths):
    """One digest for a set of files, independent of where they lie: sha256 over (basename, sha256) pairs.

    Used for the source model (with its external data) and the calibration set, whose
    location may differ between hosts while the content is the same.
    """
    pairs = sorted((os.path.basename(p), sha256_file(p)) for p in paths)
    return sha256_doc(pairs) if pairs else None


def build(name, target, precision, inference_precision, device, entrypoint, files, inputs, outputs, toolchain,
          fingerprint, fidelity, latency_ms, tolerance, source_sha256, created, calibration_sha256=None,
          inputs_sha256=None, candidates=None, options=None):
    """The manifest document; ``inputs_sha256`` is the idempotence key of model_compile."""
    doc = {
        "schema": SCHEMA, "name": name, "target": target, "precision": precision,
        "inference_precision": inference_precision, "device": device, "entrypoint": entrypoint,
        "files": dict(files), "inputs": inputs, "outputs": outputs, "toolchain": toolchain,
        "fingerprint": fingerprint, "calibration_sha256": calibration_sha256, "fidelity": fidelity,
        "latency_ms": latency_ms, "golden": GOLDEN, "tolerance": tolerance, "source_sha256": source_sha256,
        "created": created, "inputs_sha256": inputs_sha256, "options": options or {},
        "candidates": candidates or [],
    }
    errors = validate(doc)
    if errors:
        raise FleetError("Refusing to write an invalid manifest: %s" % "; ".join(errors), errors=errors)
    return doc


def _is_tensor(t):
    return isinstance(t, dict) and isinstance(t.get("name"), str) and isinstance(t.get("shape"), list) and isinstance(
        t.get("datatype"), str)


def _is_tensor_list(value):
    return isinstance(value, list) and all(_is_tensor(t) for t in value)


def validate(doc):
    """Return a list of problems (empty when the manifest is usable)."""
    if not isinstance(doc, dict):
        return ["manifest is not a JSON object"]
    errors = ["missing key %r" % key for key in REQUIRED if key not in doc]
    if doc.get("schema") != SCHEMA:
        errors.append("schema is %r, expected %r" % (doc.get("schema"), SCHEMA))
    if doc.get("target") not in TARGETS:
        errors.append("target %r is not one of %s" % (doc.get("target"), ", ".join(TARGETS)))
    if doc.get("precision") not in PRECISIONS:
        errors.append("precision %r is not one of %s" % (doc.get("precision"), ", ".join(PRECISIONS)))
    # Fields used as dictionary keys, paths or config values: a list or number there must be an error
    # message, not a TypeError further down.
    for key in ("name", "entrypoint", "device", "inference_precision"):
        if key in doc and not isinstance(doc[key], str):
            errors.append("%s must be a string, found %s" % (key, type(doc[key]).__name__))
    if isinstance(doc.get("inference_precision"), str) and doc["inference_precision"] not in INFERENCE_PRECISIONS:
        errors.append("inference_precision %r is not one of %s" % (doc["inference_precision"], ", ".join(INFERENCE_PRECISIONS)))
    if doc.get("golden") is not None and not isinstance(doc["golden"], str):
        errors.append("golden must be a string or null, found %s" % type(doc["golden"]).__name__)
    files = doc.get("files")
    if not isinstance(files, dict) or not files:
        errors.append("files must map relative paths to sha256 digests")
    else:
        for rel, digest in files.items():
            if os.path.isabs(rel) or rel.split("/")[0] == ".." or not isinstance(digest, str) or len(digest) != 64:
                errors.append("files entry %r: expected a relative path and a sha256 hex digest" % rel)
        if isinstance(doc.get("entrypoint"), str) and doc["entrypoint"] not in files:
            errors.append("entrypoint %r is not listed in files" % doc.get("entrypoint"))
        if isinstance(doc.get("golden"), str) and doc["golden"] and doc["golden"] not in files:
            errors.append("golden %r is not listed in files" % doc.get("golden"))
    for key in ("inputs", "outputs"):
        if key in doc and not _is_tensor_list(doc[key]):
            errors.append("%s must be a list of {name, shape, datatype}" % key)
    fingerprint = doc.get("fingerprint")
    if not isinstance(fingerprint, dict) or not isinstance(fingerprint.get("id"), str):
        errors.append("fingerprint must be an object with an id")
    tolerance = doc.get("tolerance")
    if not isinstance(tolerance, dict) or not set(("max_abs", "min_cosine")) <= set(tolerance):
        errors.append("tolerance must hold max_abs and min_cosine")
    latency = doc.get("latency_ms")
    if not isinstance(latency, dict) or not set(("p50", "p95")) <= set(latency):
        errors.append("latency_ms must hold p50 and p95")
    if "edgetpu" in doc:
        errors.extend(_edgetpu_problems(doc["edgetpu"]))
    return errors


def _cpu_op(item):
    return isinstance(item, dict) and isinstance(item.get("op"), str) and isinstance(item.get("count"), int)


def _edgetpu_problems(report):
    if not isinstance(report, dict):
        return ["edgetpu must be an object, found %s" % type(report).__name__]
    errors = ["edgetpu.%s must be a whole number" % key for key in EDGETPU_COUNTS
              if not isinstance(report.get(key), int) or isinstance(report.get(key), bool)]
    ops = report.get("cpu_ops")
    if not isinstance(ops, list) or not all(_cpu_op(o) for o in ops):
        errors.append("edgetpu.cpu_ops must be a list of {op, count, reason}")
    return errors


def read(directory):
    """The manifest in ``directory`` or None when there is none; raise FleetError when it is unreadable."""
    path = os.path.join(directory, MANIFEST)
    try:
        with open(path, "r", encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise FleetError("Cannot read manifest %s: %s" % (path, exc), path=path)


def verify_files(directory, doc):
    """Names of files whose sha256 differs from the manifest's (missing files included)."""
    bad = []
    for rel, digest in sorted(doc.get("files", {}).items()):
        path = os.path.join(directory, rel)
        if not os.path.isfile(path) or sha256_file(path) != digest:
            bad.append(rel)
    return bad


def dumps(doc):
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"
