# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Capacity model for a large estate, from the lab's measured per-host costs.

    python bench/fleet/capacity.py bench/results/fleet-<time>.json [--pull bench/results/pull-<time>.json]

Push (AWX: forks per job, job slices running side by side on execution nodes): a converged run of one host
costs `c` controller CPU-seconds and takes `t1` seconds end to end (the N=1 ssh run); F forks keep F hosts in
flight, so a slice works through its hosts F at a time, each batch ("wave") lasting about t1 as long as the
slice's cores keep up: cores >= F * c / t1. Memory per slice: the controller process plus F forks at the
measured marginal PSS. Pull: each device runs once per timer period; with RandomizedDelaySec as wide as the
period, requests arrive evenly: rate = devices / period, with Poisson bursts around it.

Every input is printed with the table; the ones not measured here are options with the default named.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path


def inputs_from(report, pull):
    ssh = sorted((r for r in report["rows"] if r["transport"] == "ssh"), key=lambda r: r["nodes"])
    if not ssh:
        raise SystemExit("the report has no ssh rows; run bench/fleet/run.py with --transports ssh")
    low, top = ssh[0], ssh[-1]
    span = top["nodes"] - low["nodes"]
    per_fork = ((top["memory"]["ansible_tree_peak_pss_mib"] - low["memory"]["ansible_tree_peak_pss_mib"]) / span
                if span else top["memory"]["worker_peak_pss_mib_max"])
    found = {
        "controller_cpu_s_per_host": max(r["controller_cpu_per_host_s"] for r in ssh),
        "device_cpu_s_per_host": top["device"]["mean"],
        "t1_s": low["converged_s"],
        "t1_nodes": low["nodes"],
        "t1_load1": low["load1"],
        "marginal_pss_mib_per_fork": round(per_fork, 1),
        "controller_rss_mib": top["memory"]["controller_peak_rss_mib"],
    }
    if pull:
        found.update(pull_cpu_s=pull["device_cpu_s"], pull_bytes=pull["bytes_total"])
    return found


def push_rows(devices, inp, forks_list, slices_list, utilisation):
    rows = []
    for forks in forks_list:
        for slices in slices_list:
            per_slice = math.ceil(devices / slices)
            waves = math.ceil(per_slice / forks)
            cores = forks * inp["controller_cpu_s_per_host"] / inp["t1_s"] / utilisation
            memory = inp["controller_rss_mib"] + forks * inp["marginal_pss_mib_per_fork"]
            rows.append({
                "forks": forks, "slices": slices, "hosts_per_slice": per_slice, "waves": waves,
                "run_min": round(waves * inp["t1_s"] / 60, 1),
                "cores_per_slice": round(cores, 2), "cores_total": round(cores * slices, 1),
                "memory_gib_per_slice": round(memory / 1024, 2),
                "memory_gib_total": round(memory * slices / 1024, 1),
                "ssh_connections": forks * slices,
            })
    return rows


def poisson_quantile(mean, q):
    """Smallest k with P(X <= k) >= q for X ~ Poisson(mean); the per-second request burst to plan for."""
    k, term = 0, math.exp(-mean)
    total = term
    while total < q:
        k += 1
        term *= mean / k
        total += term
    return k


def pull_rows(devices, inp, period_s):
    rate = devices / period_s
    bytes_s = rate * inp["pull_bytes"]
    return {
        "period_min": period_s / 60,
        "requests_per_s": round(rate, 2),
        "requests_per_s_p999": poisson_quantile(rate, 0.999),
        "bytes_per_pull": inp["pull_bytes"],
        "server_kbit_s": round(bytes_s * 8 / 1000, 1),
        "server_gib_per_day": round(bytes_s * 86400 / 2**30, 2),
        "device_cpu_s_per_pull": inp["pull_cpu_s"],
        "device_cpu_duty_pct": round(100 * inp["pull_cpu_s"] / period_s, 3),
    }


def rollout(devices, artifact_mib, window_min):
    """Bytes the registry or model store serves when every device fetches `artifact_mib` within the window."""
    total_gib = devices * artifact_mib / 1024
    return {"artifact_mib": artifact_mib, "window_min": window_min, "total_gib": round(total_gib, 1),
            "gbit_s": round(total_gib * 2**30 * 8 / (window_min * 60) / 1e9, 2)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("report", type=Path, help="bench/results/fleet-*.json from bench/fleet/run.py")
    parser.add_argument("--pull", type=Path, help="bench/results/pull-*.json from bench/fleet/pull.py")
    parser.add_argument("--devices", type=int, default=10000)
    parser.add_argument("--forks", default="25,50,100")
    parser.add_argument("--slices", default="1,10,40")
    parser.add_argument("--utilisation", type=float, default=0.7,
                        help="share of a core the controller may use before it, not the devices, sets the pace")
    parser.add_argument("--period-min", type=float, default=30.0, help="pull timer period (RandomizedDelaySec as wide)")
    parser.add_argument("--model-mib", type=float, default=12.0, help="model artifact per device (not measured here)")
    parser.add_argument("--os-image-mib", type=float, default=800.0,
                        help="OS image delta per device in a bootc rollout (assumption, not measured here)")
    parser.add_argument("--rollout-window-min", type=float, default=60.0)
    parser.add_argument("--json", action="store_true", help="print the model as JSON instead of tables")
    args = parser.parse_args(argv)
    report = json.loads(args.report.read_text(encoding="utf-8"))
    pull = json.loads(args.pull.read_text(encoding="utf-8")) if args.pull else None
    inp = inputs_from(report, pull)
    model = {
        "inputs": inp,
        "push": push_rows(args.devices, inp, [int(x) for x in args.forks.split(",")],
                          [int(x) for x in args.slices.split(",")], args.utilisation),
        "pull": pull_rows(args.devices, inp, args.period_min * 60) if pull else None,
        "rollout": [rollout(args.devices, args.model_mib, args.rollout_window_min),
                    rollout(args.devices, args.os_image_mib, args.rollout_window_min)],
    }
    if args.json:
        print(json.dumps(model, indent=2))
        return 0
    print(f"inputs ({args.report.name}): " + ", ".join(f"{k}={v}" for k, v in inp.items()))
    print(f"\npush, {args.devices} devices, controller at {args.utilisation:.0%} of a core per slice's share:\n")
    print("| forks | slices | hosts/slice | waves | run min | cores/slice | cores total | GiB/slice | GiB total "
          "| ssh connections |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in model["push"]:
        print(f"| {r['forks']} | {r['slices']} | {r['hosts_per_slice']} | {r['waves']} | {r['run_min']} "
              f"| {r['cores_per_slice']} | {r['cores_total']} | {r['memory_gib_per_slice']} "
              f"| {r['memory_gib_total']} | {r['ssh_connections']} |")
    if model["pull"]:
        p = model["pull"]
        print(f"\npull, {args.devices} devices every {p['period_min']:g} min with full jitter: "
              f"{p['requests_per_s']} requests/s (p99.9 second: {p['requests_per_s_p999']}), "
              f"{p['bytes_per_pull']} bytes per converged pull = {p['server_kbit_s']} kbit/s, "
              f"{p['server_gib_per_day']} GiB/day; device {p['device_cpu_s_per_pull']} CPU-s per pull "
              f"({p['device_cpu_duty_pct']} % of one core)")
    print("\nrollout bandwidth (every device fetches once within the window):")
    for r in model["rollout"]:
        print(f"  {r['artifact_mib']:g} MiB per device in {r['window_min']:g} min: {r['total_gib']} GiB, "
              f"{r['gbit_s']} Gbit/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
