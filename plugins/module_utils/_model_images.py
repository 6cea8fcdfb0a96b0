# -*- coding: utf-8 -*-
# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Private to the edgeai.fleet collection: may change without notice.

"""Calibration images turned into model inputs by a named preprocessing (``calibration_preprocess``).

A calibration set must be preprocessed exactly as the served model's client does, or INT8 scales are
fitted to the wrong distribution. Two recipes are built in:

- ``ppocr_det``: the PP-OCR text detector as rapidocr-onnxruntime feeds it (BGR, short side scaled up to
  ``limit_side_len``, both sides rounded to multiples of 32, bilinear, ``(x/255 - mean)/std``, NCHW).
- ``imagenet``: torchvision's evaluation transform (RGB, resize so the crop is ``crop_fraction`` of the
  image, center crop to the input's H x W, ImageNet mean/std, NCHW).

Pillow decodes the images; its import is guarded so only image calibration sets need it.
"""

from __future__ import annotations

import os
import traceback

from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError, malformed
from ansible_collections.edgeai.fleet.plugins.module_utils import _model_manifest as mf
from ansible_collections.edgeai.fleet.plugins.module_utils._model_samples import NUMPY_TYPES, _fits, require_numpy

try:
    from PIL import Image
except ImportError:  # pragma: no cover - exercised through require_pillow
    Image = None
    PIL_IMPORT_ERROR = traceback.format_exc()
else:
    PIL_IMPORT_ERROR = None

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp")
TENSOR_EXTENSIONS = (".npy", ".npz")
RESIZE_ONE = 1 << 11  # OpenCV INTER_RESIZE_COEF_SCALE

# Defaults per preprocessing; every resolved value is hashed into calibration_sha256.
# ppocr_det: rapidocr_onnxruntime/config.yaml (Det: limit_side_len 736, limit_type min, mean/std 0.5) and
# rapidocr_onnxruntime/ch_ppocr_det/utils.py (DetPreProcess). PaddleOCR's own tools/infer/predict_det.py
# uses ImageNet mean/std and limit_type max / 960 instead: pass those through calibration_preprocess_options.
DEFAULTS = {
    "ppocr_det": {"limit_side_len": 736, "limit_type": "min", "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]},
    "imagenet": {"crop_fraction": 0.875, "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]},
}


def require_pillow():
    if Image is None:
        from ansible_collections.edgeai.fleet.plugins.module_utils._model_compile import MissingLibrary
        raise MissingLibrary("Pillow", "to read calibration images (calibration_preprocess)", PIL_IMPORT_ERROR)
    return Image


@malformed("calibration_preprocess_options", fix="See the model_compile documentation for each option's type")
def resolve_spec(name, options):
    """The preprocessing with every parameter filled in, or None for ``none``; rejects misplaced options."""
    options = dict((k, v) for k, v in (options or {}).items() if v is not None)
    if name in (None, "none"):
        if options:
            raise FleetError("calibration_preprocess_options %s are set but calibration_preprocess is none: choose "
                             "ppocr_det or imagenet, or drop the options" % sorted(options),
                             option="calibration_preprocess_options")
        return None
    if name not in DEFAULTS:
        raise FleetError("calibration_preprocess %r is not known; use none, %s" % (name, ", ".join(sorted(DEFAULTS))),
                         option="calibration_preprocess")
    allowed = DEFAULTS[name]
    misplaced = sorted(k for k in options if k not in allowed)
    if misplaced:
        raise FleetError("calibration_preprocess_options %s do not apply to calibration_preprocess %s (it takes %s)"
                         % (misplaced, name, sorted(allowed)), option="calibration_preprocess_options")
    spec = dict(allowed, **options)
    for key in ("mean", "std"):
        if len(spec[key]) != 3 or (key == "std" and any(v <= 0 for v in spec[key])):
            raise FleetError("calibration_preprocess_options.%s must be 3 numbers (one per channel%s), got %s"
                             % (key, ", all > 0" if key == "std" else "", spec[key]),
                             option="calibration_preprocess_options")
    if spec.get("limit_side_len", 32) < 32:
        raise FleetError("calibration_preprocess_options.limit_side_len must be at least 32, got %s"
                         % spec["limit_side_len"], option="calibration_preprocess_options")
    if not 0 < spec.get("crop_fraction", 1) <= 1:
        raise FleetError("calibration_preprocess_options.crop_fraction must be in (0, 1], got %s"
                         % spec["crop_fraction"], option="calibration_preprocess_options")
    spec["name"] = name
    return spec


def classify(directory, names, spec):
    """Paths of the calibration files in ``directory`` and whether they are images; refuses mixed or unknown."""
    images, tensors, unknown = [], [], []
    for name in names:
        path = os.path.join(directory, name)
        if name.startswith(".") or not os.path.isfile(path):
            continue  # editor and OS droppings, subdirectories
        ext = os.path.splitext(name)[1].lower()
        (images if ext in IMAGE_EXTENSIONS else tensors if ext in TENSOR_EXTENSIONS else unknown).append(path)
    where = dict(calibration=directory)
    if unknown:
        names = [os.path.basename(p) for p in unknown]
        raise FleetError("calibration %s holds files of unknown type %s: keep only .npy/.npz samples, or only "
                         "images (%s) with calibration_preprocess" % (directory, names, ", ".join(IMAGE_EXTENSIONS)),
                         **where)
    if images and tensors:
        raise FleetError("calibration %s mixes images and .npy/.npz samples: use one kind per directory (images "
                         "are preprocessed by calibration_preprocess, tensors are used as they are)" % directory, **where)
    if not images and not tensors:
        raise FleetError("calibration %s holds no .npy or .npz samples and no images (%s)"
                         % (directory, ", ".join(IMAGE_EXTENSIONS)), **where)
    if images and spec is None:
        raise FleetError("calibration %s holds images but calibration_preprocess is none: set it to the "
                         "preprocessing the model expects (ppocr_det or imagenet)" % directory, **where)
    if tensors and spec is not None:
        raise FleetError("calibration_preprocess is %s but calibration %s holds .npy/.npz samples, which are used "
                         "as they are: set calibration_preprocess to none, or pass images" % (spec["name"], directory),
                         **where)
    if images:
        require_pillow()
    return images or tensors, bool(images)


def calibration_sha256(files, spec):
    """Hash of the samples; for images also of the preprocessing, whose change changes every tensor."""
    files_sha = mf.set_sha256(files)
    if spec is None:
        return files_sha  # unchanged from before images were supported, so existing artifacts stay valid
    return mf.sha256_doc({"images": files_sha, "preprocess": spec})


def _rgb_array(path):
    """The decoded image as an RGB(A)/L(A) uint8 array, as rapidocr's LoadImage gets it from Pillow."""
    numpy = require_numpy()
    try:
        with Image.open(path) as img:
            img.load()
            if img.mode == "1":
                img = img.convert("L")
            elif img.mode == "P":
                # rapidocr would read the palette indices as gray; the colours are what the picture shows
                img = img.convert("RGBA" if "transparency" in img.info else "RGB")
            elif img.mode not in ("L", "LA", "RGB", "RGBA"):
                img = img.convert("RGB")  # CMYK, 16-bit gray...: rapidocr would misread the raw channels
            return numpy.array(img)
    # Pillow raises these for truncated files and decompression bombs; SyntaxError for broken headers.
    except (OSError, ValueError, SyntaxError, EOFError, MemoryError, Image.DecompressionBombError) as exc:
        raise FleetError("calibration image %s cannot be decoded: %s" % (path, exc), sample=path)


def _to_bgr(arr):
    """rapidocr_onnxruntime/utils/load_image.py LoadImage.convert_img, for images read from a path."""
    numpy = require_numpy()
    if arr.ndim == 2:
        return numpy.repeat(arr[:, :, None], 3, axis=2)
    if arr.shape[2] == 2:  # gray + alpha: transparent parts become white (cvt_two_to_three)
        gray, alpha = arr[..., 0], arr[..., 1]
        out = numpy.where(alpha > 0, gray, 0).astype(numpy.int32) + (255 - alpha)
        return numpy.repeat(numpy.clip(out, 0, 255).astype(numpy.uint8)[:, :, None], 3, axis=2)
    if arr.shape[2] == 4:  # cvt_four_to_three, including its inversion of any image not fully transparent
        bgr = numpy.where(arr[..., 3:4] > 0, arr[..., 2::-1], 0).astype(numpy.uint8)
        if bgr.mean() <= 0.0:
            return numpy.repeat((255 - arr[..., 3])[:, :, None], 3, axis=2).astype(numpy.uint8)
        return 255 - bgr
    return arr[..., ::-1]


def _linear_taps(n_out, n_in, clamp_weight):
    """Source indices and 11-bit weights as cv::resize computes them (float32 positions, each weight rounded)."""
    numpy = require_numpy()
    pos = ((numpy.arange(n_out) + 0.5) * (n_in / float(n_out)) - 0.5).astype(numpy.float32)
    low = numpy.floor(pos).astype(numpy.int64)
    frac = (pos - low).astype(numpy.float32)
    if clamp_weight:  # OpenCV zeroes the weight at the left/right edges, not at the top/bottom
        frac = numpy.where((low < 0) | (low >= n_in - 1), numpy.float32(0), frac)
    w0 = numpy.rint((numpy.float32(1) - frac) * numpy.float32(RESIZE_ONE)).astype(numpy.int64)
    w1 = numpy.rint(frac * numpy.float32(RESIZE_ONE)).astype(numpy.int64)
    return numpy.clip(low, 0, n_in - 1), numpy.clip(low + 1, 0, n_in - 1), w0, w1


def resize_linear(img, out_h, out_w):
    """cv2.resize(img, (out_w, out_h)) for uint8 HxWxC with INTER_LINEAR, bit for bit.

    OpenCV is not a dependency of this collection. This follows its fixed-point path
    (modules/imgproc/src/resize.cpp: HResizeLinear with 11-bit weights, then VResizeLinearVec_32s8u's
    ((b0 * (h0 >> 4)) >> 16) + ((b1 * (h1 >> 4)) >> 16) rounded by 2 bits); the unit test compares
    it with rapidocr's cv2 output.
    """
    in_h, in_w = img.shape[:2]
    x0, x1, a0, a1 = _linear_taps(out_w, in_w, True)
    y0, y1, b0, b1 = _linear_taps(out_h, in_h, False)
    src = img.astype("int64")
    top = src[y0][:, x0] * a0[None, :, None] + src[y0][:, x1] * a1[None, :, None]
    bottom = src[y1][:, x0] * a0[None, :, None] + src[y1][:, x1] * a1[None, :, None]
    out = (((b0[:, None, None] * (top >> 4)) >> 16) + ((b1[:, None, None] * (bottom >> 4)) >> 16) + 2) >> 2
    return out.clip(0, 255).astype("uint8")


def ppocr_det(path, spec):
    """rapidocr_onnxruntime/ch_ppocr_det/utils.py DetPreProcess (resize, normalize, permute) on a BGR image."""
    numpy = require_numpy()
    img = _to_bgr(_rgb_array(path))
    h, w = img.shape[:2]
    side = float(spec["limit_side_len"])
    if spec["limit_type"] == "max":
        ratio = side / max(h, w) if max(h, w) > side else 1.0
    else:
        ratio = side / min(h, w) if min(h, w) < side else 1.0
    # int() then round-half-even to 32, as DetPreProcess.resize does
    resize_h = int(round(int(h * ratio) / 32) * 32)
    resize_w = int(round(int(w * ratio) / 32) * 32)
    if resize_h <= 0 or resize_w <= 0:
        raise FleetError("calibration image %s (%dx%d) resizes to nothing with calibration_preprocess ppocr_det "
                         "(limit_side_len %s): use larger images" % (path, w, h, spec["limit_side_len"]), sample=path)
    img = resize_linear(img, resize_h, resize_w)
    mean, std = numpy.array(spec["mean"]), numpy.array(spec["std"])
    norm = (img.astype("float32") * (1 / 255.0) - mean) / std
    return numpy.expand_dims(norm.transpose((2, 0, 1)), axis=0).astype(numpy.float32)


def imagenet(path, spec, height, width):
    """torchvision Resize + CenterCrop + ToTensor + Normalize (PIL bilinear), generalised to H != W."""
    numpy = require_numpy()
    try:
        with Image.open(path) as img:
            img = img.convert("RGB")
            w, h = img.size
            # the binding side gets int(crop / crop_fraction) (224 -> 256), the other keeps the aspect ratio,
            # truncated, as torchvision's Resize(int) does for the short side of a square crop
            if height / float(h) >= width / float(w):
                new_h = int(height / spec["crop_fraction"])
                size = (max(width, int(new_h * w / float(h))), new_h)
            else:
                new_w = int(width / spec["crop_fraction"])
                size = (new_w, max(height, int(new_w * h / float(w))))
            img = img.resize(size, Image.BILINEAR)
            left, top = int(round((size[0] - width) / 2.0)), int(round((size[1] - height) / 2.0))
            arr = numpy.asarray(img.crop((left, top, left + width, top + height)), dtype=numpy.float32)
    except (OSError, ValueError) as exc:
        raise FleetError("calibration image %s cannot be decoded: %s" % (path, exc), sample=path)
    norm = (arr / 255.0 - numpy.array(spec["mean"], dtype=numpy.float32)) / numpy.array(spec["std"], dtype=numpy.float32)
    return norm.transpose((2, 0, 1))[None].astype(numpy.float32)


def load_images(paths, inputs, spec):
    """One ``{input name: array}`` per image, preprocessed by ``spec``; the model must take one NCHW image."""
    names = [t["name"] for t in inputs]
    if len(inputs) != 1:
        raise FleetError("calibration_preprocess %s feeds one image input but the model has inputs %s: pass .npz "
                         "samples keyed by input name instead" % (spec["name"], names), option="calibration_preprocess")
    tensor = inputs[0]
    shape = tensor["shape"]
    if len(shape) != 4 or shape[1] not in (3, -1):
        raise FleetError("calibration_preprocess %s makes NCHW images [1, 3, H, W] but input %s expects %s: pick the "
                         "preprocessing of this model's layout or pass .npy samples"
                         % (spec["name"], tensor["name"], shape), option="calibration_preprocess")
    if spec["name"] == "imagenet" and (shape[2] < 1 or shape[3] < 1):
        raise FleetError("calibration_preprocess imagenet crops to the input's H x W but input %s has %s: fix them "
                         "with input_shapes" % (tensor["name"], shape), option="calibration_preprocess")
    dtype = NUMPY_TYPES.get(tensor["datatype"], "float32")
    samples = []
    for path in paths:
        if spec["name"] == "imagenet":
            array = imagenet(path, spec, shape[2], shape[3])
        else:
            array = ppocr_det(path, spec)
        if not _fits(array.shape, shape):
            raise FleetError("calibration image %s becomes %s with calibration_preprocess %s but input %s expects %s "
                             "(-1 = any): use images that resize to that size (same aspect ratio, "
                             "calibration_preprocess_options.limit_side_len/limit_type), or keep H and W dynamic "
                             "(-1) in input_shapes" % (path, list(array.shape), spec["name"], tensor["name"], shape),
                             sample=path, option="calibration_preprocess")
        samples.append({tensor["name"]: array.astype(dtype, copy=False)})
    return samples
