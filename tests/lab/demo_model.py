#!/usr/bin/env python
# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Put the demo's model and calibration set where the lab's group_vars point (make demo).

The model is the PP-OCRv4 text detector shipped in the rapidocr-onnxruntime wheel (no model hub); the
calibration set is a few seeded synthetic document pages, preprocessed as rapidocr does, saved as .npy.
Usage: demo_model.py DEST_DIR  (writes DEST_DIR/ocr_det.onnx and DEST_DIR/calibration/page*.npy)
"""

from __future__ import annotations

import os
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench", "models"))

import numpy as np  # noqa: E402  pylint: disable=wrong-import-position

import data  # noqa: E402  pylint: disable=wrong-import-position

PAGES = 8
SIDE = 320


def main(dest):
    os.makedirs(os.path.join(dest, "calibration"), exist_ok=True)
    model = os.path.join(dest, "ocr_det.onnx")
    if not os.path.exists(model):
        shutil.copyfile(data.detector_path(), model + ".tmp")
        os.replace(model + ".tmp", model)
    for seed in range(PAGES):
        path = os.path.join(dest, "calibration", "page%02d.npy" % seed)
        if not os.path.exists(path):
            tensor = data.page(seed, side=SIDE)[0]
            np.save(path + ".tmp.npy", tensor.astype(np.float32))
            os.replace(path + ".tmp.npy", path)
    print(dest)


if __name__ == "__main__":
    main(sys.argv[1])
