# -*- coding: utf-8 -*-
# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Private to the edgeai.fleet collection: may change without notice.

"""Sample tensors for compilation: calibration files, synthetic inputs, and the golden.json document.

Needs numpy, which every compile target needs anyway; the import is guarded so the module can
name the missing package instead of failing on import.
"""

from __future__ import annotations

import traceback
import zipfile
import zlib

from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError, malformed

try:
    import numpy as np
except ImportError:  # pragma: no cover - exercised through require_numpy
    np = None
    NUMPY_IMPORT_ERROR = traceback.format_exc()
else:
    NUMPY_IMPORT_ERROR = None

# KServe V2 datatypes (the names model_verify sends on the wire) by numpy dtype name.
V2_TYPES = {"float32": "FP32", "float16": "FP16", "float64": "FP64", "int64": "INT64", "int32": "INT32",
            "int8": "INT8", "uint8": "UINT8", "bool": "BOOL"}
NUMPY_TYPES = dict((v, k) for k, v in V2_TYPES.items())
# Elements of one synthetic sample: input shapes come from a model file, and a corrupt or hostile one
# declaring 10**30 elements must be refused before numpy tries to allocate it (256 Mi floats = 1 GiB).
MAX_SAMPLE_ELEMENTS = 1 << 28
# What numpy raises for a file it cannot read: EOFError for an empty one, the rest for truncated or hand-made
# headers and .npz archives (which are read lazily, member by member).
_UNREADABLE = (OSError, ValueError, EOFError, SyntaxError, TypeError, MemoryError, zipfile.BadZipFile, zlib.error)


def require_numpy():
    if np is None:
        from ansible_collections.edgeai.fleet.plugins.module_utils._model_compile import MissingLibrary
        raise MissingLibrary("numpy", "to read calibration samples and compare outputs", NUMPY_IMPORT_ERROR)
    return np


def _fits(shape, model_shape):
    return len(shape) == len(model_shape) and all(m < 0 or m == d for d, m in zip(shape, model_shape))


def _coerce(array, tensor, path):
    shape = tensor["shape"]
    if array.ndim == len(shape) - 1:
        array = array[None, ...]  # a sample saved without its batch axis
    if not _fits(array.shape, shape):
        raise FleetError("calibration sample %s has shape %s but input %s expects %s (-1 = any): save samples "
                         "with the compiled input shape" % (path, list(array.shape), tensor["name"], shape),
                         sample=path, input=tensor["name"])
    return array.astype(NUMPY_TYPES.get(tensor["datatype"], "float32"), copy=False)


@malformed("a calibration sample")
def load_calibration(paths, inputs):
    """One ``{input name: array}`` per file: ``.npy`` for single-input models, ``.npz`` keyed by input name."""
    numpy = require_numpy()
    samples = []
    names = [t["name"] for t in inputs]
    for path in paths:
        try:
            samples.append(_load_sample(numpy, path, inputs, names))
        except _UNREADABLE as exc:
            raise FleetError("Cannot read calibration sample %s: %s" % (path, exc), sample=path) from exc
    return samples


def _load_sample(numpy, path, inputs, names):
    loaded = numpy.load(path, allow_pickle=False)
    if path.endswith(".npz"):
        if not hasattr(loaded, "files") or sorted(loaded.files) != sorted(names):
            raise FleetError("calibration sample %s holds arrays %s; the model's inputs are %s"
                             % (path, sorted(getattr(loaded, "files", [])), sorted(names)), sample=path)
        return dict((t["name"], _coerce(loaded[t["name"]], t, path)) for t in inputs)
    if len(inputs) != 1:
        raise FleetError("calibration sample %s is a single .npy but the model has inputs %s: save "
                         ".npz files keyed by input name" % (path, names), sample=path)
    if not hasattr(loaded, "ndim"):
        raise FleetError("calibration sample %s is an .npz archive, not an .npy array" % path, sample=path)
    return {names[0]: _coerce(loaded, inputs[0], path)}


@malformed("the model's input description", fix="Is the model file corrupt? Set input_shapes to override")
def synthetic_samples(inputs, count, seed=0):
    """Deterministic inputs when no calibration set is given: uniform [0, 1) floats, ones for integers.

    Integer inputs are usually ids or masks whose valid range the module cannot know; ones are in
    range for token ids, attention masks and segment ids alike.
    """
    numpy = require_numpy()
    dynamic = [t["name"] for t in inputs if any(d is None or d < 0 for d in t["shape"])]
    if dynamic:
        raise FleetError("inputs %s have dynamic dimensions: set input_shapes (or pass a calibration set) so "
                         "samples for the fidelity check can be made" % dynamic, inputs=dynamic)
    for tensor in inputs:
        elements = 1
        for dim in tensor["shape"]:
            elements *= int(dim)
        if elements > MAX_SAMPLE_ELEMENTS:
            raise FleetError("input %s has shape %s (%d elements), more than the %d a sample may have: is the "
                             "model file corrupt? Set input_shapes to the real size"
                             % (tensor["name"], tensor["shape"], elements, MAX_SAMPLE_ELEMENTS), input=tensor["name"])
    rng = numpy.random.default_rng(seed)
    samples = []
    for _i in range(count):
        sample = {}
        for tensor in inputs:
            dtype = NUMPY_TYPES.get(tensor["datatype"], "float32")
            if dtype.startswith("float"):
                sample[tensor["name"]] = rng.random(tensor["shape"]).astype(dtype)
            else:
                sample[tensor["name"]] = numpy.ones(tensor["shape"], dtype=dtype)
        samples.append(sample)
    return samples


@malformed("golden_shapes")
def crop_sample(sample, shapes):
    """Cut ``sample`` down to ``shapes`` (leading corner) so golden.json stays small."""
    if not shapes:
        return sample
    cropped = dict(sample)
    for name, shape in shapes.items():
        if name not in sample:
            raise FleetError("golden_shapes names input %s, which the model does not have (inputs: %s)"
                             % (name, sorted(sample)), input=name)
        array = sample[name]
        if len(shape) != array.ndim or any(s > d or s < 1 for s, d in zip(shape, array.shape)):
            raise FleetError("golden_shapes[%s] = %s must have %d positive dimensions no larger than the sample's %s"
                             % (name, list(shape), array.ndim, list(array.shape)), input=name)
        cropped[name] = array[tuple(slice(0, s) for s in shape)]
    return cropped


def v2_tensor(name, array):
    return {"name": name, "shape": [int(d) for d in array.shape],
            "datatype": V2_TYPES.get(str(array.dtype), "FP32"),
            # float32 needs 9 significant digits to round-trip exactly
            "data": [float("%.9g" % x) for x in array.ravel().tolist()] if array.dtype.kind == "f"
            else array.ravel().tolist()}


def golden_doc(inputs, golden_input, outputs, golden_output):
    """``golden.json``: one sample in KServe V2 tensor form, inputs and the outputs this artifact gave."""
    return {"inputs": [v2_tensor(t["name"], golden_input[t["name"]]) for t in inputs],
            "outputs": [v2_tensor(t["name"], array) for t, array in zip(outputs, golden_output)]}
