# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""bench/fleet/cpu.py and run.py's per-host arithmetic, over cgroup v2 cpu.stat files written here.

Simulated: the cgroup filesystem (plain files in the kernel's cpu.stat format).
"""

from __future__ import annotations

import pytest

from ansible_collections.edgeai.fleet.tests.unit.bench.fleet_bench import load

cpu = load("cpu")
run = load("run")


def _cgroup(tmp_path, name, usage_usec, user_usec=0, system_usec=0):
    path = tmp_path / name
    path.mkdir(exist_ok=True)
    # The kernel's format; the pressure lines after the three keys are there on most hosts.
    (path / "cpu.stat").write_text(f"usage_usec {usage_usec}\nuser_usec {user_usec}\nsystem_usec {system_usec}\n"
                                   "nr_periods 0\nnr_throttled 0\n\n")
    return path


@pytest.mark.parametrize("usage, user, system", [(0, 0, 0), (1_500_000, 1_000_000, 500_000), (7, 3, 4)])
def test_cpu_seconds(tmp_path, usage, user, system):
    assert cpu.cpu_seconds(_cgroup(tmp_path, "g", usage, user, system)) == {
        "usage": usage / 1e6, "user": user / 1e6, "system": system / 1e6}


def test_snapshot_and_delta(tmp_path):
    groups = {"a": _cgroup(tmp_path, "a", 1_000_000), "b": _cgroup(tmp_path, "b", 2_000_000)}
    before = cpu.snapshot(groups)
    _cgroup(tmp_path, "a", 1_250_000)
    _cgroup(tmp_path, "b", 2_000_000)
    assert cpu.delta(before, cpu.snapshot(groups)) == {"a": 0.25, "b": 0.0}


def test_idle_rates(tmp_path, monkeypatch):
    groups = {"a": _cgroup(tmp_path, "a", 0)}
    clock = iter([100.0, 110.0])
    monkeypatch.setattr(cpu.time, "monotonic", lambda: next(clock))
    monkeypatch.setattr(cpu.time, "sleep", lambda seconds: _cgroup(tmp_path, "a", 500_000))
    assert cpu.idle_rates(groups, 10) == {"a": 0.05}


@pytest.mark.parametrize("name, kind", [("bench-01", "cpu"), ("bench-02", "gpu"), ("bench-03", "bootc"),
                                        ("bench-10", "cpu"), ("x-y-12", "bootc")])
def test_node_kind_follows_lab_sh(name, kind):
    assert run.node_kind(name) == kind


def test_device_cpu_is_net_of_idle_and_never_negative():
    sample = {"wall_s": 10.0, "device_cpu_s": {"bench-01": 2.0, "bench-02": 0.1}}
    assert run.net_device(sample, {"bench-01": 0.05, "bench-02": 0.05}) == {"bench-01": 1.5, "bench-02": 0.0}


def test_per_host_summary_medians_then_kinds():
    samples = [{"wall_s": 1.0, "device_cpu_s": {"bench-01": v1, "bench-02": v2}} for v1, v2 in
               ((1.0, 4.0), (3.0, 2.0), (2.0, 3.0))]
    summary = run.per_host_summary(samples, {})
    assert summary["per_host"] == {"bench-01": 2.0, "bench-02": 3.0}
    assert (summary["mean"], summary["max"]) == (2.5, 3.0)
    assert summary["per_kind_mean"] == {"cpu": 2.0, "gpu": 3.0}
