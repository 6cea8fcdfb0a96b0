# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""bench/fleet/capacity.py: the capacity model's arithmetic, from hand-checked tables."""

from __future__ import annotations

import json
import math

import pytest

from ansible_collections.edgeai.fleet.tests.unit.bench.fleet_bench import load

capacity = load("capacity")

INPUTS = {"controller_cpu_s_per_host": 2.0, "t1_s": 40.0, "controller_rss_mib": 64.0,
          "marginal_pss_mib_per_fork": 20.0, "pull_cpu_s": 9.0, "pull_bytes": 11000}


def _row(transport, nodes, cpu_per_host, converged, tree_pss, worker_pss=50.0, device_mean=3.0):
    return {"transport": transport, "nodes": nodes, "controller_cpu_per_host_s": cpu_per_host,
            "converged_s": converged, "load1": 2.0, "device": {"mean": device_mean},
            "memory": {"ansible_tree_peak_pss_mib": tree_pss, "worker_peak_pss_mib_max": worker_pss,
                       "controller_peak_rss_mib": 65.0}}


@pytest.mark.parametrize("rows, expected", [
    pytest.param([_row("ssh", 1, 3.0, 10.0, 100.0), _row("ssh", 10, 1.5, 40.0, 280.0)],
                 {"controller_cpu_s_per_host": 3.0, "t1_s": 10.0, "t1_nodes": 1, "marginal_pss_mib_per_fork": 20.0,
                  "device_cpu_s_per_host": 3.0, "controller_rss_mib": 65.0}, id="worst-cpu-smallest-n-is-t1"),
    pytest.param([_row("podman", 1, 9.0, 5.0, 10.0), _row("ssh", 5, 2.0, 30.0, 200.0)],
                 {"controller_cpu_s_per_host": 2.0, "t1_s": 30.0, "t1_nodes": 5, "marginal_pss_mib_per_fork": 50.0},
                 id="one-ssh-n-uses-worker-pss-and-ignores-podman"),
])
def test_inputs_from(rows, expected):
    found = capacity.inputs_from({"rows": rows}, None)
    assert {k: found[k] for k in expected} == expected


def test_inputs_need_ssh_rows():
    with pytest.raises(SystemExit, match="no ssh rows"):
        capacity.inputs_from({"rows": [_row("podman", 1, 1.0, 1.0, 1.0)]}, None)


@pytest.mark.parametrize("forks, slices, hosts_per_slice, waves, run_min, cores_per_slice", [
    (25, 1, 10000, 400, 266.7, 25 * 2.0 / 40.0 / 0.5),
    (50, 10, 1000, 20, 13.3, 50 * 2.0 / 40.0 / 0.5),
    (100, 3, 3334, 34, 22.7, 100 * 2.0 / 40.0 / 0.5),   # uneven split: the last slice is short, not dropped
])
def test_push_rows(forks, slices, hosts_per_slice, waves, run_min, cores_per_slice):
    (row,) = capacity.push_rows(10000, INPUTS, [forks], [slices], 0.5)
    assert (row["hosts_per_slice"], row["waves"], row["run_min"]) == (hosts_per_slice, waves, run_min)
    assert row["cores_per_slice"] == round(cores_per_slice, 2)
    assert row["memory_gib_per_slice"] == round((64.0 + forks * 20.0) / 1024, 2)
    assert row["ssh_connections"] == forks * slices


# Poisson(1): P(X <= k) = 0.368, 0.736, 0.920, 0.981, 0.9963, 0.99941 for k = 0..5.
@pytest.mark.parametrize("mean, q, k", [(1.0, 0.3, 0), (1.0, 0.5, 1), (1.0, 0.99, 4), (1.0, 0.999, 5),
                                        (0.0, 0.999, 0), (10000 / 1800, 0.999, 14)])
def test_poisson_quantile(mean, q, k):
    assert capacity.poisson_quantile(mean, q) == k
    cdf = sum(math.exp(-mean) * mean ** i / math.factorial(i) for i in range(k + 1))
    assert cdf >= q


def test_pull_rows():
    row = capacity.pull_rows(10000, INPUTS, 1800)
    assert row["requests_per_s"] == 5.56 and row["requests_per_s_p999"] == 14
    assert row["server_kbit_s"] == round(10000 / 1800 * 11000 * 8 / 1000, 1)
    assert row["device_cpu_duty_pct"] == 0.5


@pytest.mark.parametrize("mib, minutes, total_gib, gbit_s", [(12, 60, 117.2, 0.28), (800, 60, 7812.5, 18.64)])
def test_rollout(mib, minutes, total_gib, gbit_s):
    assert capacity.rollout(10000, mib, minutes) == {"artifact_mib": mib, "window_min": minutes,
                                                     "total_gib": total_gib, "gbit_s": gbit_s}


def test_main_prints_the_model_as_json(tmp_path, capsys):
    report = tmp_path / "fleet.json"
    report.write_text(json.dumps({"rows": [_row("ssh", 1, 3.0, 10.0, 100.0), _row("ssh", 10, 1.5, 40.0, 280.0)]}))
    pull = tmp_path / "pull.json"
    pull.write_text(json.dumps({"device_cpu_s": 9.0, "bytes_total": 11000}))
    assert capacity.main([str(report), "--pull", str(pull), "--forks", "50", "--slices", "10", "--json"]) == 0
    model = json.loads(capsys.readouterr().out)
    assert model["push"][0]["waves"] == 20 and model["pull"]["bytes_per_pull"] == 11000
