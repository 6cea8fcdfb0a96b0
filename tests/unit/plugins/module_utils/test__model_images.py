# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Image calibration sets: the ppocr_det and imagenet preprocessings, the hash, and every refusal.

Images are drawn here with Pillow into tmp_path. The ppocr_det output is compared with
rapidocr-onnxruntime's own DetPreProcess/LoadImage (OpenCV) when that wheel is installed.
Simulated: the compile runtime (model_compile_fakes.FakeBackend computes y = 2x).
"""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.edgeai.fleet.plugins.module_utils import _model_compile as mc
from ansible_collections.edgeai.fleet.plugins.module_utils import _model_fingerprint as fp
from ansible_collections.edgeai.fleet.plugins.module_utils import _model_images as im
from ansible_collections.edgeai.fleet.plugins.module_utils import _model_manifest as mf
from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError
from ansible_collections.edgeai.fleet.tests.unit.plugins.module_utils.model_compile_fakes import (
    PARAMS, FakeBackend, write_calibration, write_source)

np = pytest.importorskip("numpy")
Image = pytest.importorskip("PIL.Image")
FINGERPRINT = fp.fingerprint({"arch": "x86_64", "cpu_model": "test cpu", "cpu_flags": ["avx2"]})
SMALL_DET = {"limit_side_len": 64, "limit_type": "max"}


def _image(path, size, mode="RGB", seed=0, color=None):
    w, h = size
    channels = len(mode) if mode not in ("L", "1") else 1
    if color is not None:
        img = Image.new(mode, size, color)
    else:
        rng = np.random.default_rng(seed)
        arr = rng.integers(0, 256, (h, w, channels) if channels > 1 else (h, w), dtype=np.uint8)
        img = Image.fromarray(arr, mode)
    img.save(str(path))
    return str(path)


def _images(folder, count=5, size=(96, 64), ext="png"):
    folder.mkdir(exist_ok=True)
    return [_image(folder / ("p%02d.%s" % (i, ext)), size, seed=i) for i in range(count)]


def _params(tmp_path, **over):
    params = dict(PARAMS, src=write_source(tmp_path), dest=str(tmp_path / "art" / "det"),
                  calibration_preprocess="none", calibration_preprocess_options=None)
    params.update(over)
    return mc.validate_params(params)


def _compile(params):
    backend = FakeBackend(params)
    planned = mc.plan(params, backend, FINGERPRINT)
    return mc.Compiler(params, backend, planned, now=lambda: "2026-11-27T00:00:00Z").run(params["dest"]), backend


# --- ppocr_det ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("mode, size", [("RGB", (300, 200)), ("RGB", (900, 1300)), ("L", (50, 90)),
                                        ("RGBA", (120, 100)), ("LA", (64, 48))])
@pytest.mark.parametrize("limit_type, side", [("min", 736), ("max", 960)])
def test_ppocr_det_matches_rapidocr(tmp_path, mode, size, limit_type, side):
    utils = pytest.importorskip("rapidocr_onnxruntime.ch_ppocr_det.utils")
    load_image = pytest.importorskip("rapidocr_onnxruntime.utils.load_image")
    path = _image(tmp_path / "page.png", size, mode)
    if mode in ("RGBA", "LA"):  # make part of it transparent, which rapidocr's loader treats specially
        img = Image.open(path)
        arr = np.array(img)
        arr[:10, ..., -1] = 0
        Image.fromarray(arr, mode).save(path)
    spec = im.resolve_spec("ppocr_det", {"limit_type": limit_type, "limit_side_len": side})
    mine = im.ppocr_det(path, spec)
    ref = utils.DetPreProcess(side, limit_type, [0.5] * 3, [0.5] * 3)(load_image.LoadImage()(path))
    assert mine.shape == ref.shape and mine.dtype == np.float32
    assert np.array_equal(mine, ref)  # bit for bit, OpenCV's fixed-point bilinear included


def test_ppocr_det_sizes_channel_order_and_normalisation(tmp_path):
    red = _image(tmp_path / "red.png", (100, 40), color=(255, 0, 0))
    spec = im.resolve_spec("ppocr_det", None)
    out = im.ppocr_det(red, spec)
    # short side 40 scaled up to 736 (ratio 18.4); 100 * 18.4 truncates to 1839, rounded to 57 * 32
    assert out.shape == (1, 3, 736, 1824)
    # BGR: red is the last channel; (x/255 - 0.5)/0.5
    assert np.allclose(out[0, 2], 1.0) and np.allclose(out[0, 0], -1.0) and np.allclose(out[0, 1], -1.0)
    small = im.ppocr_det(red, im.resolve_spec("ppocr_det", SMALL_DET))
    assert small.shape == (1, 3, 32, 64)  # long side 100 -> 64, short 25.6 -> int 25 -> 32
    paddle = im.resolve_spec("ppocr_det", {"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]})
    assert np.allclose(im.ppocr_det(red, paddle)[0, 2], (1.0 - 0.406) / 0.225, atol=1e-5)


def test_resize_linear_identity_and_upscale():
    img = np.arange(12, dtype=np.uint8).reshape(2, 2, 3) * 20
    assert (im.resize_linear(img, 2, 2) == img).all()
    up = im.resize_linear(img, 4, 4)
    assert up.shape == (4, 4, 3) and (up[0, 0] == img[0, 0]).all() and (up[3, 3] == img[1, 1]).all()


# --- imagenet -------------------------------------------------------------------------------------------------------

def test_imagenet_resize_center_crop_rgb_and_normalisation(tmp_path):
    path = _image(tmp_path / "cat.jpg", (300, 200), seed=3)
    spec = im.resolve_spec("imagenet", None)
    out = im.imagenet(path, spec, 224, 224)
    assert out.shape == (1, 3, 224, 224) and out.dtype == np.float32
    # torchvision: Resize(256) on the short side (200 -> 256, 300 -> int(384.0)), CenterCrop(224)
    with Image.open(path) as img:
        ref = np.asarray(img.convert("RGB").resize((384, 256), Image.BILINEAR).crop((80, 16, 304, 240)),
                         dtype=np.float32) / 255.0
    ref = (ref - np.array([0.485, 0.456, 0.406], dtype=np.float32)) / np.array([0.229, 0.224, 0.225], dtype=np.float32)
    assert np.allclose(out[0], ref.transpose(2, 0, 1), atol=1e-6)
    red = im.imagenet(_image(tmp_path / "red.png", (50, 80), color=(255, 0, 0)), spec, 32, 48)
    assert red.shape == (1, 3, 32, 48)
    assert np.allclose(red[0, 0], (1 - 0.485) / 0.229) and np.allclose(red[0, 2], (0 - 0.406) / 0.225)


# --- compile through the core with a fake backend ------------------------------------------------------------------

def test_compile_with_ppocr_det_images(tmp_path):
    files = _images(tmp_path / "pages")
    params = _params(tmp_path, precision="int8", calibration=str(tmp_path / "pages"), input_shapes={"x": [1, 3, -1, -1]},
                     calibration_preprocess="ppocr_det", calibration_preprocess_options=SMALL_DET)
    doc, backend = _compile(params)
    assert backend.builds == ["int8"]
    assert "calibrated='3'" in open(os.path.join(params["dest"], "model.xml")).read()
    assert doc["calibration_sha256"] == im.calibration_sha256(files, params["calibration_spec"])
    golden = json.load(open(os.path.join(params["dest"], "golden.json")))
    assert golden["inputs"][0]["shape"] == [1, 3, 32, 64]  # 96x64 page: long side 96 -> 64, short 42 -> 32
    assert golden["inputs"][0]["data"][:3] == pytest.approx(im.ppocr_det(files[3], params["calibration_spec"])
                                                            .ravel()[:3].tolist())


def test_compile_with_imagenet_images(tmp_path):
    _images(tmp_path / "pics", size=(40, 30), ext="jpg")
    params = _params(tmp_path, precision="int8", calibration=str(tmp_path / "pics"), input_shapes={"x": [1, 3, 16, 16]},
                     calibration_preprocess="imagenet")
    doc, _backend = _compile(params)
    golden = json.load(open(os.path.join(params["dest"], "golden.json")))
    assert golden["inputs"][0]["shape"] == [1, 3, 16, 16] and doc["calibration_sha256"]


def test_calibration_hash_covers_bytes_and_preprocessing(tmp_path):
    files = _images(tmp_path / "pages", count=3)
    det = im.resolve_spec("ppocr_det", None)
    base = im.calibration_sha256(files, det)
    assert base == im.calibration_sha256(list(files), im.resolve_spec("ppocr_det", {"limit_side_len": 736}))
    assert base != im.calibration_sha256(files, im.resolve_spec("ppocr_det", {"limit_side_len": 640}))
    assert base != im.calibration_sha256(files, im.resolve_spec("ppocr_det", {"mean": [0.4, 0.5, 0.5]}))
    assert base != im.calibration_sha256(files, im.resolve_spec("imagenet", None))
    _image(files[0], (96, 64), seed=99)
    assert base != im.calibration_sha256(files, det)
    # .npy sets keep the digest they had before images were supported
    folder = write_calibration(tmp_path)
    npy = [os.path.join(folder, n) for n in sorted(os.listdir(folder))]
    assert im.calibration_sha256(npy, None) == mf.set_sha256(npy)


def test_preprocessing_change_is_reported_and_rebuilds(tmp_path):
    _images(tmp_path / "pages")
    params = _params(tmp_path, calibration=str(tmp_path / "pages"), input_shapes={"x": [1, 3, -1, -1]},
                     calibration_preprocess="ppocr_det", calibration_preprocess_options=SMALL_DET)
    _compile(params)
    backend = FakeBackend(params)
    assert mc.decide(params["dest"], mc.plan(params, backend, FINGERPRINT))[0]
    other = _params(tmp_path, calibration=str(tmp_path / "pages"), input_shapes={"x": [1, 3, -1, -1]},
                    calibration_preprocess="ppocr_det", calibration_preprocess_options=dict(SMALL_DET, limit_side_len=96))
    assert mc.decide(params["dest"], mc.plan(other, backend, FINGERPRINT))[1] == "inputs changed: calibration_sha256"


# --- refusals: each names the option and writes nothing -------------------------------------------------------------

@pytest.mark.parametrize("setup, preprocess, needle", [
    (lambda d: None, "ppocr_det", r"calibration .* holds no \.npy or \.npz samples and no images"),
    (lambda d: (_images(d, 1), np.save(str(d / "s.npy"), np.zeros((1, 4), np.float32))), "ppocr_det",
     "mixes images and .npy/.npz samples"),
    (lambda d: (_images(d, 2), (d / "notes.txt").write_text("x")), "ppocr_det", r"unknown type \['notes.txt'\]"),
    (lambda d: _images(d, 2), "none", "holds images but calibration_preprocess is none"),
    (lambda d: np.save(str(d / "s.npy"), np.zeros((1, 4), np.float32)), "imagenet",
     "calibration_preprocess is imagenet but calibration .* holds .npy/.npz samples"),
])
def test_calibration_directory_refusals(tmp_path, setup, preprocess, needle):
    folder = tmp_path / "calib"
    folder.mkdir()
    setup(folder)
    params = _params(tmp_path, calibration=str(folder), calibration_preprocess=preprocess)
    with pytest.raises(FleetError, match=needle) as caught:
        mc.plan(params, FakeBackend(params), FINGERPRINT)
    assert caught.value.details["calibration"] == str(folder)
    assert not os.path.exists(tmp_path / "art")


def test_hidden_files_are_ignored(tmp_path):
    files = _images(tmp_path / "pages", 3)
    (tmp_path / "pages" / ".DS_Store").write_bytes(b"junk")
    params = _params(tmp_path, calibration=str(tmp_path / "pages"), calibration_preprocess="ppocr_det")
    assert mc.plan(params, FakeBackend(params), FINGERPRINT)["calibration_files"] == files


def test_preprocess_without_calibration(tmp_path):
    params = _params(tmp_path, calibration_preprocess="imagenet")
    with pytest.raises(FleetError, match="calibration_preprocess is imagenet but no calibration directory"):
        mc.plan(params, FakeBackend(params), FINGERPRINT)


@pytest.mark.parametrize("name, options, needle", [
    ("imagenet", {"limit_side_len": 640}, r"\['limit_side_len'\] do not apply to calibration_preprocess imagenet"),
    ("ppocr_det", {"crop_fraction": 0.9}, r"\['crop_fraction'\] do not apply to calibration_preprocess ppocr_det"),
    ("none", {"mean": [0.5, 0.5, 0.5]}, "calibration_preprocess is none"),
    ("ppocr_det", {"mean": [0.5]}, r"calibration_preprocess_options.mean must be 3 numbers"),
    ("imagenet", {"std": [0.2, 0.0, 0.2]}, r"calibration_preprocess_options.std must be 3 numbers .*all > 0"),
    ("ppocr_det", {"limit_side_len": 16}, "limit_side_len must be at least 32"),
    ("imagenet", {"crop_fraction": 1.5}, r"crop_fraction must be in \(0, 1\]"),
])
def test_preprocess_option_refusals(tmp_path, name, options, needle):
    with pytest.raises(FleetError, match=needle) as caught:
        _params(tmp_path, calibration_preprocess=name, calibration_preprocess_options=options)
    assert caught.value.details["option"] == "calibration_preprocess_options"


@pytest.mark.parametrize("shapes, preprocess, needle", [
    ({"x": [1, 3, 640, 640]}, "ppocr_det", r"becomes \[1, 3, 32, 64\] with calibration_preprocess ppocr_det but "
                                           r"input x expects \[1, 3, 640, 640\]"),
    ({"x": [1, 64, 96, 3]}, "ppocr_det", r"makes NCHW images \[1, 3, H, W\] but input x expects \[1, 64, 96, 3\]"),
    ({"x": [1, 3, -1, -1]}, "imagenet", r"crops to the input's H x W but input x has \[1, 3, -1, -1\]"),
    ({"x": [2, 3, 16, 16]}, "imagenet", r"becomes \[1, 3, 16, 16\] .* expects \[2, 3, 16, 16\]"),
])
def test_shape_that_does_not_fit_writes_nothing(tmp_path, shapes, preprocess, needle):
    _images(tmp_path / "pages")
    options = SMALL_DET if preprocess == "ppocr_det" else None
    params = _params(tmp_path, precision="int8", calibration=str(tmp_path / "pages"), input_shapes=shapes,
                     calibration_preprocess=preprocess, calibration_preprocess_options=options)
    with pytest.raises(FleetError, match=needle) as caught:
        _compile(params)
    assert caught.value.details["option"] == "calibration_preprocess"
    assert not os.path.exists(tmp_path / "art")


def test_multi_input_model_and_undecodable_image(tmp_path):
    _images(tmp_path / "pages")
    spec = im.resolve_spec("ppocr_det", SMALL_DET)
    two = [{"name": "a", "shape": [1, 3, -1, -1], "datatype": "FP32"}, {"name": "b", "shape": [1], "datatype": "INT64"}]
    with pytest.raises(FleetError, match=r"feeds one image input but the model has inputs \['a', 'b'\]"):
        im.load_images([], two, spec)
    broken = tmp_path / "pages" / "p99.png"
    broken.write_bytes(b"not a png")
    with pytest.raises(FleetError, match="p99.png cannot be decoded"):
        im.load_images([str(broken)], two[:1], spec)
    with pytest.raises(FleetError, match="p99.png cannot be decoded"):
        im.imagenet(str(broken), im.resolve_spec("imagenet", None), 16, 16)


def test_missing_pillow_is_reported_only_for_images(tmp_path, monkeypatch):
    monkeypatch.setattr(im, "Image", None)
    npy = _params(tmp_path, calibration=write_calibration(tmp_path))
    assert mc.plan(npy, FakeBackend(npy), FINGERPRINT)["calibration_files"]
    _images(tmp_path / "pages", 3)
    params = _params(tmp_path, calibration=str(tmp_path / "pages"), calibration_preprocess="ppocr_det")
    with pytest.raises(mc.MissingLibrary) as caught:
        mc.plan(params, FakeBackend(params), FINGERPRINT)
    assert caught.value.package == "Pillow"
