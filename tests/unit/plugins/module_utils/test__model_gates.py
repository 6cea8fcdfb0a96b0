# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import math

import pytest

from ansible_collections.edgeai.fleet.plugins.module_utils import _model_gates as gates
from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError


@pytest.mark.parametrize("a, b, expected", [
    ([1.0, 0.0], [1.0, 0.0], 1.0),
    ([1.0, 0.0], [0.0, 1.0], 0.0),
    ([1.0, 2.0], [-1.0, -2.0], -1.0),
    ([0.0, 0.0], [0.0, 0.0], 1.0),
    ([0.0, 0.0], [1.0, 0.0], 0.0),
])
def test_cosine(a, b, expected):
    assert gates.cosine(a, b) == pytest.approx(expected)


def test_length_mismatch_is_an_error():
    with pytest.raises(FleetError):
        gates.cosine([1.0], [1.0, 2.0])
    with pytest.raises(FleetError):
        gates.max_abs_diff([1.0], [])


def test_fidelity_worst_sample_and_element():
    reference = [[[1.0, 2.0, 3.0]], [[1.0, 0.0, 0.0]]]
    candidate = [[[1.0, 2.0, 3.5]], [[0.0, 1.0, 0.0]]]
    measured = gates.fidelity(reference, candidate)
    assert measured["samples"] == 2
    assert measured["cosine_min"] == 0.0
    assert measured["max_abs_diff"] == 1.0
    assert 0.49 < measured["cosine_mean"] < 0.5


def test_fidelity_scores_the_worst_output_not_all_outputs_together():
    """A traced sentence encoder (paraphrase-MiniLM-L3-v2) returns its int64 ids beside the embedding: the ids must
    not outweigh an embedding that lost its direction."""
    ids = [101.0, 7592.0, 2088.0, 102.0]
    measured = gates.fidelity([[ids, [1.0, 0.0]]], [[ids, [0.0, 1.0]]])
    assert measured["cosine_min"] == 0.0


def test_fidelity_treats_nan_as_worst():
    measured = gates.fidelity([[[1.0, 2.0]]], [[[float("nan"), 2.0]]])
    assert measured["cosine_min"] == 0.0 and math.isinf(measured["max_abs_diff"])


def test_fidelity_needs_matching_samples_and_outputs():
    with pytest.raises(FleetError, match="same, non-zero"):
        gates.fidelity([], [])
    with pytest.raises(FleetError, match="2 outputs"):
        gates.fidelity([[[1.0]]], [[[1.0], [2.0]]])


def test_gate_pass_and_fail_by_how_much():
    measured = {"cosine_min": 0.9712, "max_abs_diff": 0.3, "cosine_mean": 0.99, "samples": 2}
    assert gates.evaluate(measured, {"min_cosine": 0.97, "max_abs_diff": None}) == (True, [])
    passed, failures = gates.evaluate(measured, {"min_cosine": 0.98, "max_abs_diff": 0.25})
    assert not passed
    assert failures[0] == {"metric": "cosine_min", "value": 0.9712, "limit": 0.98, "by": 0.0088}
    assert failures[1]["metric"] == "max_abs_diff" and failures[1]["by"] == pytest.approx(0.05)
    text = gates.describe(failures)
    assert "cosine_min 0.9712 < 0.98 (short by 0.0088)" in text
    assert "max_abs_diff 0.3 > 0.25 (over by 0.05)" in text


def test_percentiles():
    values = [float(v) for v in range(1, 21)]
    assert gates.percentile(values, 50) == 10.0
    assert gates.percentile(values, 95) == 19.0
    assert gates.percentile([], 50) is None
    assert gates.latency_summary([3.0, 1.0, 2.0]) == {"p50": 2.0, "p95": 3.0, "runs": 3}
