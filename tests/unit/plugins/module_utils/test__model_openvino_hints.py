# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The OpenVINO backend's side of the runtime precision hint, against the real OpenVINO CPU plugin.

Nothing is simulated: a two-node IR (x * 2) is compiled on this host's CPU. What the plugin reports
depends on the CPU, so the tests read its capabilities and assert the contract, not one CPU's answer.
"""

from __future__ import annotations

import pytest

from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError
from ansible_collections.edgeai.fleet.tests.unit.plugins.module_utils.model_compile_fakes import PARAMS

ov = pytest.importorskip("openvino")
np = pytest.importorskip("numpy")
ovb = pytest.importorskip("ansible_collections.edgeai.fleet.plugins.module_utils._model_openvino")


def _ir(tmp_path):
    x = ov.opset13.parameter([1, 4], ov.Type.f32, name="x")
    y = ov.opset13.multiply(x, ov.opset13.constant(np.full((1, 4), 2.0, dtype=np.float32)))
    ov.save_model(ov.Model([y], [x], "double"), str(tmp_path / "model.xml"))
    return str(tmp_path)


def test_capabilities_are_the_plugins_own_list():
    caps = ovb.Backend(dict(PARAMS)).capabilities()
    assert "FP32" in caps and all(isinstance(c, str) for c in caps)
    assert ovb.Backend(dict(PARAMS, device="NO_SUCH_DEVICE")).capabilities() is None


def test_load_pins_the_candidate_hint_over_the_configured_one(tmp_path):
    backend = ovb.Backend(dict(PARAMS, inference_precision="auto"))
    session = backend.load(_ir(tmp_path), "model.xml", "f32")
    assert session.effective["inference_precision"] == "f32"
    assert session.infer({"x": np.ones((1, 4), dtype=np.float32)})[0].tolist() == [[2.0] * 4]


def test_a_hint_the_cpu_cannot_run_is_refused(tmp_path):
    backend = ovb.Backend(dict(PARAMS))
    if "BF16" in backend.capabilities():
        pytest.skip("this CPU runs bf16 (OPTIMIZATION_CAPABILITIES lists BF16)")
    with pytest.raises(FleetError, match="runs the model in f32 although inference_precision bf16 was pinned"):
        backend.load(_ir(tmp_path), "model.xml", "bf16")
