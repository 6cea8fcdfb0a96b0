# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The "GPU needed" verdict does not flip with momentary load on the device.

The load-swinging inputs are the lab's own: one node measured a served p95 of 43 ms on one converged run and
270 ms on the next (budget 150 ms), with the same artifact, whose compile-time p95 was 33.2 ms over 20 runs.
"""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.edgeai.fleet.plugins.filter.gpu_verdict import FilterModule
from ansible_collections.edgeai.fleet.plugins.module_utils._gpu_verdict import NO_BUDGET, verdict

gpu_verdict = FilterModule().filters()["gpu_verdict"]

DETECTOR = {"device": "CPU", "latency_ms": {"p50": 32.5, "p95": 33.235, "runs": 20}}


def served(p95, device="CPU", requests=20):
    return {"device": device, "p50_ms": p95 * 0.8, "p95_ms": p95, "requests": requests}


@pytest.mark.parametrize("served_p95", [43.0, 270.0, 151.0, 2000.0],
                         ids=["quiet-run", "loaded-run", "just-over-budget", "swamped"])
def test_load_on_the_device_does_not_flip_the_verdict(served_p95):
    result = verdict(served(served_p95), DETECTOR, 150)
    assert result["gpu_needed"] == "no"
    assert result["basis"].startswith("compile p95 33.2 ms (20 runs) <= budget 150 ms; served p95 ")


def test_the_same_runs_flipped_on_served_p95_alone():
    """Without the compile-time figure, the 43 -> 270 ms swing is what used to flip the report (no -> yes)."""
    assert verdict(served(43.0), None, 150)["gpu_needed"] == "no"
    assert verdict(served(270.0), None, 150)["gpu_needed"] == "yes"


def test_a_loaded_compile_is_corrected_by_a_quiet_serve():
    """The build host was busy when it compiled: the served figure, lower, decides."""
    slow_compile = {"device": "CPU", "latency_ms": {"p50": 250.0, "p95": 300.0, "runs": 20}}
    result = verdict(served(90.0), slow_compile, 150)
    assert result == {"gpu_needed": "no",
                      "basis": "served p95 90.0 ms (20 requests) <= budget 150 ms; compile p95 300.0 ms (20 runs)"}


@pytest.mark.parametrize("compile_p95,served_p95,expected", [
    (149.9, 400.0, "no"),
    (150.0, 400.0, "no"),
    (160.0, 400.0, "borderline"),  # within 25 % over: a busy moment could have caused it
    (187.5, 400.0, "borderline"),
    (188.0, 400.0, "yes"),
    (400.0, 188.0, "yes"),
    (900.0, 600.0, "yes"),
])
def test_yes_needs_both_measurements_clearly_over_the_budget(compile_p95, served_p95, expected):
    manifest = {"device": "CPU", "latency_ms": {"p50": compile_p95, "p95": compile_p95, "runs": 50}}
    assert verdict(served(served_p95), manifest, 150)["gpu_needed"] == expected


def test_margin_is_a_fraction_of_the_budget():
    manifest = {"device": "CPU", "latency_ms": {"p95": 160.0, "runs": 20}}
    assert verdict(served(400.0), manifest, 150, margin=0)["gpu_needed"] == "yes"
    result = verdict(served(400.0), manifest, 150, margin=0.1)
    assert result["gpu_needed"] == "borderline"
    assert result["basis"].startswith("compile p95 160.0 ms (20 runs) within 10% over budget 150 ms")


@pytest.mark.parametrize("budget", [0, None, "0", -5, "not a number"])
def test_no_budget_no_verdict(budget):
    assert verdict(served(43.0), DETECTOR, budget) == {"gpu_needed": NO_BUDGET, "basis": "no latency budget set"}


def test_served_on_a_gpu_is_not_judged_by_cpu_figures():
    result = verdict(served(5.0, device="GPU.0"), DETECTOR, 150)
    assert result["gpu_needed"] == "served on GPU.0"


def test_compile_figure_of_an_artifact_pinned_to_another_device_is_not_a_cpu_figure():
    """An artifact compiled for a GPU but served on the CPU: its compile-time latency says nothing about the CPU."""
    gpu_artifact = {"device": "GPU", "latency_ms": {"p95": 4.0, "runs": 20}}
    assert verdict(served(270.0), gpu_artifact, 150)["gpu_needed"] == "yes"


@pytest.mark.parametrize("latency", [None, {}, {"p95": None}, {"p95": "fast"}, {"p95": float("nan")}, {"p95": True},
                                     {"p95": -1}, {"p95": 10 ** 400}, {"p95": float("inf")}, "33 ms"])
def test_malformed_compile_figures_are_ignored(latency):
    result = verdict(served(43.0), {"device": "CPU", "latency_ms": latency}, 150)
    assert result["gpu_needed"] == "no" and result["basis"].startswith("served p95 43.0 ms")


def test_nothing_measured():
    expected = {"gpu_needed": "unknown", "basis": "no p95 latency was measured"}
    assert verdict({"device": "CPU"}, {"device": "CPU"}, 150) == expected


def test_string_figures_from_templating_are_read_as_numbers():
    result = verdict({"device": "CPU", "p95_ms": "43.0", "requests": 20}, None, "150.0")
    assert result["gpu_needed"] == "no"


def test_filter_refuses_what_is_not_a_verify_result():
    with pytest.raises(AnsibleFilterError, match="result of edgeai.fleet.model_verify"):
        gpu_verdict("43 ms")
    with pytest.raises(AnsibleFilterError, match="manifest must be a dict"):
        gpu_verdict(served(43.0), ["CPU"], 150)


def test_filter_passes_through():
    assert gpu_verdict(served(270.0), DETECTOR, 150, 0.25)["gpu_needed"] == "no"
