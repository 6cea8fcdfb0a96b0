# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Converged site.yml vs an ansible.builtin.ping baseline on N lab nodes, per transport, side by side in one run.

    python bench/fleet/run.py                      # N = 1, 5, 10 over ssh (as root, venv active)
    python bench/fleet/run.py --nodes 1,3 --repeat 3 --transports ssh --wait-load 1.5

For each N (ascending; nodes are added, not recreated): `tests/lab/lab.sh up N` with prefix `bench` and a
private inventory, one untimed site.yml run to converge, then, per transport and repeat, a timed ping play and
a timed converged site.yml run, both with --forks N, the same ansible.cfg, callbacks and fact cache. Each run
is in a cgroup of its own (controller CPU-seconds, ssh clients included); each node's CPU-seconds come from
its container's cgroup (bench/fleet/cpu.py). Task counts come from the ansible.posix.json stdout callback;
memory from sampling /proc for the ansible-playbook process tree. With --per-role, site.yml runs once per stage
tag at that N to split device and controller CPU by role. Writes bench/results/fleet-<UTC time>.{json,md};
removes its nodes at the end (only prefix `bench`).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import cpu

REPO = Path(__file__).resolve().parents[2]
LAB = REPO / "tests" / "lab" / "lab.sh"
SITE = REPO / "playbooks" / "site.yml"
RESULTS = REPO / "bench" / "results"
PAGE = os.sysconf("SC_PAGE_SIZE")

# Actions the controller runs itself: no connection, no module transfer to the host.
CONTROLLER_ACTIONS = {
    "ansible.builtin.set_fact", "set_fact", "ansible.builtin.set_stats", "set_stats",
    "ansible.builtin.assert", "assert", "ansible.builtin.debug", "debug", "ansible.builtin.fail", "fail",
    "ansible.builtin.include_role", "include_role", "ansible.builtin.include_tasks", "include_tasks",
    "ansible.builtin.include_vars", "include_vars", "ansible.builtin.validate_argument_spec",
    "validate_argument_spec", "ansible.builtin.meta", "meta", "ansible.builtin.add_host", "add_host",
    "ansible.builtin.group_by", "group_by",
}

PING_PLAY = """\
- name: Baseline, one round trip per host
  hosts: all
  gather_facts: false
  tasks:
    - name: Ping
      ansible.builtin.ping:
"""

TARGETS = {
    "changed": "a converged run changes nothing (changed = 0 on every host)",
    "tasks": "at most 15 executed (non-skipped) tasks per host",
    "vs_ping": "converged(N=10) <= 5 x ping(N=10) over ssh",
    "controller_cpu": "controller CPU <= 1.0 s per host per converged run over ssh",
}

# Which of the lab's inventories (EDGEAI_LAB_CONNECTION) each transport uses: both list the same nodes, and the
# connection is an inventory variable of the lab's hosts only, so the plays' delegate_to: localhost tasks stay
# local (an extra var would move them into a container too). mitogen is ssh under Mitogen's strategy.
TRANSPORTS = {"ssh": "ssh", "podman": "podman", "mitogen": "ssh"}

# site.yml's stage tags (the facts play is tagged always and runs with each of them).
STAGES = ("os", "gpu", "sharing", "models")


# ---------------------------------------------------------------------------------------------- memory
def _proc_table():
    """{pid: (ppid, comm)} for every process, from /proc/<pid>/stat."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                raw = handle.read().decode("utf-8", "replace")
        except OSError:
            continue
        # comm may contain spaces and parentheses; the fields after its closing paren are fixed.
        comm = raw[raw.index("(") + 1:raw.rindex(")")]
        table[int(entry)] = (int(raw[raw.rindex(")") + 2:].split()[1]), comm)
    return table


def _kib(path, key):
    try:
        with open(path, "rb") as handle:
            for line in handle:
                if line.startswith(key):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


class TreeSampler(threading.Thread):
    """Samples VmRSS and Pss of every process under `root` until stopped.

    The controller is `root` itself; workers are its direct children whose comm is the same (ansible forks
    a WorkerProcess per host and task without exec); everything deeper (podman exec, ...) is the connection.
    """

    def __init__(self, root, interval):
        super().__init__(daemon=True)
        self.root, self.interval = root, interval
        self.stop_event = threading.Event()
        self.peak = {}          # pid -> {"kind", "rss", "pss"} (KiB)
        self.peak_total = {"ansible_pss": 0, "ansible_rss": 0, "all_pss": 0, "workers_alive": 0}

    def run(self):
        while not self.stop_event.is_set():
            self.sample()
            self.stop_event.wait(self.interval)

    def sample(self):
        table = _proc_table()
        children = {}
        for pid, (ppid, _comm) in table.items():
            children.setdefault(ppid, []).append(pid)
        root_comm = table.get(self.root, (0, ""))[1]
        totals = dict.fromkeys(self.peak_total, 0)
        stack = [(self.root, 0)]
        while stack:
            pid, depth = stack.pop()
            stack.extend((child, depth + 1) for child in children.get(pid, ()))
            if depth == 0:
                kind = "controller"
            elif depth == 1 and table[pid][1] == root_comm:
                kind = "worker"
            else:
                kind = "connection"
            rss = _kib(f"/proc/{pid}/status", b"VmRSS:")
            pss = _kib(f"/proc/{pid}/smaps_rollup", b"Pss:")
            if rss is None:
                continue
            pss = pss if pss is not None else rss
            slot = self.peak.setdefault(pid, {"kind": kind, "rss": 0, "pss": 0})
            slot["rss"], slot["pss"] = max(slot["rss"], rss), max(slot["pss"], pss)
            totals["all_pss"] += pss
            if kind != "connection":
                totals["ansible_pss"] += pss
                totals["ansible_rss"] += rss
            totals["workers_alive"] += kind == "worker"
        for key, value in totals.items():
            self.peak_total[key] = max(self.peak_total[key], value)

    def summary(self):
        def mib(kib):
            return round(kib / 1024, 1)

        workers = [p for p in self.peak.values() if p["kind"] == "worker"]
        controller = [p for p in self.peak.values() if p["kind"] == "controller"]
        connection = [p for p in self.peak.values() if p["kind"] == "connection"]
        return {
            "controller_peak_rss_mib": mib(max((p["rss"] for p in controller), default=0)),
            "controller_peak_pss_mib": mib(max((p["pss"] for p in controller), default=0)),
            "worker_processes_seen": len(workers),
            "worker_peak_rss_mib_max": mib(max((p["rss"] for p in workers), default=0)),
            "worker_peak_pss_mib_max": mib(max((p["pss"] for p in workers), default=0)),
            "worker_peak_pss_mib_mean": mib(statistics.fmean([p["pss"] for p in workers]) if workers else 0),
            "workers_alive_max": self.peak_total["workers_alive"],
            "ansible_tree_peak_pss_mib": mib(self.peak_total["ansible_pss"]),
            "ansible_tree_peak_rss_sum_mib": mib(self.peak_total["ansible_rss"]),
            "connection_processes_seen": len(connection),
            "whole_tree_peak_pss_mib": mib(self.peak_total["all_pss"]),
        }


# ---------------------------------------------------------------------------------------------- runs
def ansible_env(work, transport="ssh"):
    env = dict(os.environ)
    env.setdefault("ANSIBLE_CONFIG", str(REPO / "ansible.cfg"))
    env.setdefault("ANSIBLE_COLLECTIONS_PATH", str(REPO / ".build" / "collections"))
    env.setdefault("CONTAINERS_CONF", os.environ.get("EDGEAI_LAB_CACHE", "/var/tmp/edgeai-lab") + "/containers.conf")
    env.update(
        EDGEAI_LAB_PREFIX=work["prefix"],
        EDGEAI_LAB_INVENTORY=str(work["inventory"]),
        # Never overwrite the demo's report or fact cache.
        EDGEAI_FLEET_REPORT_DIR=str(work["dir"] / "report"),
        ANSIBLE_CACHE_PLUGIN_CONNECTION=str(work["dir"] / "facts"),
        ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
        ANSIBLE_JSON_INDENT="0",
        ANSIBLE_SHOW_CUSTOM_STATS="1",
        ANSIBLE_RETRY_FILES_ENABLED="0",
        ANSIBLE_NOCOLOR="1",
        # A ControlPath directory per run: no run reuses another's ssh connections.
        ANSIBLE_SSH_CONTROL_PATH_DIR=str(work["dir"] / "cp" / str(time.monotonic_ns())),
    )
    if transport == "mitogen":
        env.update(PYTHONPATH=work["mitogen"], ANSIBLE_STRATEGY="mitogen_linear",
                   ANSIBLE_STRATEGY_PLUGINS=f"{work['mitogen']}/ansible_mitogen/plugins/strategy")
    return env


def playbook_bin():
    local = Path(sys.executable).parent / "ansible-playbook"
    return str(local) if local.exists() else (shutil.which("ansible-playbook") or "ansible-playbook")


def parse_json_output(stdout):
    """The json callback prints one line starting with {"custom_stats"; the fleet report prints around it."""
    for line in stdout.splitlines():
        if line.startswith('{"custom_stats"'):
            return json.loads(line)
    return None


def task_role(name, path):
    """Role of a task: the 'ns.coll.role : ' name prefix (argument validation has the play's path), else path."""
    if " : " in name:
        return name.split(" : ", 1)[0].rsplit(".", 1)[-1]
    return path.split("/roles/", 1)[1].split("/", 1)[0] if "/roles/" in path else "(play)"


def task_seconds(duration):
    try:
        start, end = (datetime.datetime.fromisoformat(duration[k].replace("Z", "+00:00")) for k in ("start", "end"))
    except (KeyError, ValueError, AttributeError):
        return 0.0
    return (end - start).total_seconds()


def count_tasks(doc):
    """Per-host executed (non-skipped) task results, per host and role, and which tasks executed."""
    per_host, per_role, tasks = {}, {}, {}
    for play in doc.get("plays", []):
        for task in play.get("tasks", []):
            name = task["task"]["name"]
            role = task_role(name, task["task"].get("path", ""))
            seconds = task_seconds(task["task"].get("duration", {}))
            for host, result in task.get("hosts", {}).items():
                per_host.setdefault(host, 0)
                if result.get("skipped"):
                    continue
                per_host[host] += 1
                roles = per_role.setdefault(host, {})
                roles[role] = roles.get(role, 0) + 1
                key = (role, name)
                entry = tasks.setdefault(key, {"role": role, "task": name, "action": result.get("action"),
                                               "hosts": 0, "loop_items": 0, "seconds": 0.0})
                entry["hosts"] += 1
                # The linear strategy runs a task on every host before the next one: its span is wall time.
                entry["seconds"] = round(max(entry["seconds"], seconds), 2)
                entry["loop_items"] += len(result.get("results", []) or [])
                entry["remote"] = result.get("action") not in CONTROLLER_ACTIONS
    return per_host, per_role, sorted(tasks.values(), key=lambda t: (t["role"], t["task"]))


def run_playbook(work, playbook, forks, extra, timed, interval, transport="ssh", nodes=None):
    # The lab's inventory lists every node of the prefix, so a run names the N it measures.
    limit = ["--limit", ",".join(sorted(nodes))] if nodes else []
    argv = [playbook_bin(), "-i", str(work["inventories"][TRANSPORTS[transport]]), "--forks", str(forks), *limit,
            *extra, str(playbook)]
    load_before = os.getloadavg()[0]
    group = cpu.RunCgroup(transport)
    device_before = cpu.snapshot(nodes) if nodes else {}
    started = time.monotonic()
    proc = subprocess.Popen(argv, cwd=REPO, env=ansible_env(work, transport), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, preexec_fn=group.preexec)
    sampler = TreeSampler(proc.pid, interval) if timed else None
    if sampler:
        sampler.start()
    # wait4 gives the child's rusage: ru_maxrss is the largest RSS of any process in the tree that was reaped.
    out_chunks = []
    reader = threading.Thread(target=lambda: out_chunks.append(proc.stdout.read()), daemon=True)
    reader.start()
    err = proc.stderr.read()
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - started
    device = cpu.delta(device_before, cpu.snapshot(nodes)) if nodes else {}
    controller = group.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    reader.join()
    if sampler:
        sampler.stop_event.set()
        sampler.join()
    doc = parse_json_output("".join(out_chunks)) or {}
    stats = doc.get("stats", {})
    per_host, per_role, tasks = count_tasks(doc)
    result = {
        "rc": proc.returncode,
        "wall_s": round(wall, 2),
        "load1_before": round(load_before, 2),
        "load1_after": round(os.getloadavg()[0], 2),
        "changed": sum(s.get("changed", 0) for s in stats.values()),
        "failed": sum(s.get("failures", 0) for s in stats.values()),
        "unreachable": sum(s.get("unreachable", 0) for s in stats.values()),
        "hosts": len(stats),
        "executed_per_host": per_host,
        "executed_per_host_role": per_role,
        "executed_max": max(per_host.values(), default=0),
        "executed_mean": round(statistics.fmean(per_host.values()), 1) if per_host else 0,
        "tasks": tasks,
        "tree_ru_maxrss_mib": round(usage.ru_maxrss / 1024, 1),
        "controller_cpu_s": round(controller["usage"], 3),
        "controller_user_s": round(controller["user"], 3),
        "controller_system_s": round(controller["system"], 3),
        "device_cpu_s": device,
    }
    if sampler:
        result["memory"] = sampler.summary()
    if not doc:
        result["stderr_tail"] = err[-2000:]
    result["failures"] = outcomes(doc, lambda res: res.get("failed") or res.get("unreachable"), True)
    # What a converged run still changes is the first thing to fix.
    result["changed_tasks"] = outcomes(doc, lambda res: res.get("changed"), False)
    return result


def outcomes(doc, wanted, with_msg):
    found = []
    for play in doc.get("plays", []):
        for task in play.get("tasks", []):
            for host, res in task.get("hosts", {}).items():
                if wanted(res):
                    msg = f": {str(res.get('msg', ''))[:200]}" if with_msg else ""
                    found.append(f"{host}: {task['task']['name']}{msg}")
    return found


def lab(work, *args, connection="ssh"):
    log = work["dir"] / "lab.log"
    env = ansible_env(work) | {"ANSIBLE_STDOUT_CALLBACK": "default", "EDGEAI_LAB_CONNECTION": connection,
                               "EDGEAI_LAB_INVENTORY": str(work["inventories"][connection])}
    with open(log, "a", encoding="utf-8") as handle:
        done = subprocess.run(["/bin/bash", str(LAB), *args], cwd=REPO, env=env, stdout=handle,
                              stderr=subprocess.STDOUT, check=False)
    if done.returncode:
        raise SystemExit(f"lab.sh {' '.join(args)} failed (rc {done.returncode}); see {log}")


def wait_for_load(limit, max_wait=600):
    if limit is None:
        return
    deadline = time.monotonic() + max_wait
    while os.getloadavg()[0] > limit and time.monotonic() < deadline:
        time.sleep(10)


def median_of(samples, key):
    return round(statistics.median(s[key] for s in samples), 2)


def node_kind(name):
    """lab.sh's roles cycle cpu, gpu, bootc by node number."""
    return ("bootc", "cpu", "gpu")[int(name.rsplit("-", 1)[1]) % 3]


def net_device(sample, idle):
    """A run's device CPU-seconds per host, less what the node burns idle over the same wall time."""
    return {h: round(max(0.0, used - idle.get(h, 0.0) * sample["wall_s"]), 3) for h, used in sample["device_cpu_s"].items()}


def per_host_summary(samples, idle):
    """Median over the repeats of each host's net device CPU, then the mean/max over hosts and per node kind."""
    nets = [net_device(s, idle) for s in samples]
    hosts = sorted(nets[0]) if nets else []
    by_host = {h: round(statistics.median(n[h] for n in nets), 3) for h in hosts}
    kinds = {}
    for host, value in by_host.items():
        kinds.setdefault(node_kind(host), []).append(value)
    return {
        "per_host": by_host,
        "mean": round(statistics.fmean(by_host.values()), 3) if by_host else 0.0,
        "max": max(by_host.values(), default=0.0),
        "per_kind_mean": {k: round(statistics.fmean(v), 3) for k, v in sorted(kinds.items())},
    }


# ---------------------------------------------------------------------------------------------- report
def evaluate(rows):
    verdicts = []
    changed = max(r["changed_max"] for r in rows)
    verdicts.append({"target": TARGETS["changed"], "measured": f"changed = {changed} (max over converged runs)",
                     "met": changed == 0 and all(r["failed_max"] == 0 for r in rows)})
    tasks = max(r["executed_max"] for r in rows)
    verdicts.append({"target": TARGETS["tasks"], "measured": f"{tasks} per host (max)", "met": tasks <= 15})
    ssh = {r["nodes"]: r for r in rows if r["transport"] == "ssh"}
    if ssh:
        top = ssh[max(ssh)]
        verdicts.append({"target": TARGETS["vs_ping"] + ("" if top["nodes"] == 10 else f" (measured N={top['nodes']})"),
                         "measured": f"{top['converged_s']} s / {top['ping_s']} s = {top['ratio']:.2f}x",
                         "met": top["ratio"] <= 5.0})
        worst = max(ssh.values(), key=lambda r: r["controller_cpu_per_host_s"])
        verdicts.append({"target": TARGETS["controller_cpu"],
                         "measured": f"{worst['controller_cpu_per_host_s']} s per host (worst N, N={worst['nodes']})",
                         "met": worst["controller_cpu_per_host_s"] <= 1.0})
    return verdicts


def markdown(report):
    lines = [f"# Fleet benchmark {report['started']}", "",
             f"Command: `{report['command']}`  ", f"Machine: {report['machine']}", "",
             "Wall seconds depend on what else runs on the machine (load1 beside them); CPU-seconds come from "
             "cgroup accounting and do not. Controller CPU: the whole ansible-playbook tree with its ssh or podman "
             "clients, per host. Device CPU: each node's container cgroup over the run, less its idle rate, per host.",
             "",
             "| transport | N | converged s | ping s | ratio | controller CPU s/host | ping controller CPU s/host "
             "| device CPU s/host mean | max | changed | failed | executed/host max | worker PSS MiB | load1 |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in report["rows"]:
        m = r["memory"]
        lines.append(f"| {r['transport']} | {r['nodes']} | {r['converged_s']} | {r['ping_s']} | {r['ratio']:.2f} "
                     f"| {r['controller_cpu_per_host_s']} | {r['ping_controller_cpu_per_host_s']} "
                     f"| {r['device']['mean']} | {r['device']['max']} | {r['changed_max']} | {r['failed_max']} "
                     f"| {r['executed_max']} | {m['worker_peak_pss_mib_max']} | {r['load1']} |")
    lines += ["", "Medians of the repeats; every sample is in the JSON file. Memory: peak over the converged run, "
              "sampled from /proc every %.2f s." % report["sample_interval_s"]]
    lines += ["", "Device CPU-seconds per host by node kind (converged run, mean over hosts of that kind):", "",
              "| transport | N | " + " | ".join(("cpu", "gpu", "bootc")) + " |", "|---|---|---|---|---|"]
    for r in report["rows"]:
        kinds = r["device"]["per_kind_mean"]
        per_kind = " | ".join(str(kinds.get(k, "-")) for k in ("cpu", "gpu", "bootc"))
        lines.append(f"| {r['transport']} | {r['nodes']} | {per_kind} |")
    if report.get("per_role"):
        pr = report["per_role"]
        lines += ["", f"Per role (ssh, N={pr['nodes']}): `site.yml --tags <stage>` less `--tags always` (the facts "
                  "play both run); CPU-seconds per host, median of the repeats:", "",
                  "| stage | controller s/host | device s/host mean | cpu nodes | gpu nodes | bootc nodes |",
                  "|---|---|---|---|---|---|"]
        for stage, v in pr["stages"].items():
            kinds = v["device"]["per_kind_mean"]
            per_kind = " | ".join(str(kinds.get(k, "-")) for k in ("cpu", "gpu", "bootc"))
            lines.append(f"| {stage} | {v['controller_per_host_s']} | {v['device']['mean']} | {per_kind} |")
    lines += ["", "| target | measured | met |", "|---|---|---|"]
    lines += [f"| {v['target']} | {v['measured']} | {'yes' if v['met'] else 'NO'} |" for v in report["targets"]]
    for r in report["rows"]:
        for label, key in (("changed", "changed_tasks"), ("failed", "failures")):
            found = sorted({t for s in r["samples"]["converged"] for t in s.get(key, [])})
            if found:
                lines += ["", f"{r['transport']} N={r['nodes']}: tasks that {label} on a converged run:", ""]
                lines += [f"- {t}" for t in found]
    last = report["rows"][-1]
    lines += ["", f"Tasks executed on the converged run, {last['transport']} N={last['nodes']} (hosts = how many "
              "hosts ran it; remote = needs a connection round trip; seconds = the task's span across all hosts):", "",
              "| role | task | action | hosts | loop items | remote | seconds |", "|---|---|---|---|---|---|---|"]
    for t in last["tasks"]:
        lines.append(f"| {t['role']} | {t['task']} | {t['action']} | {t['hosts']} | {t['loop_items']} "
                     f"| {'yes' if t['remote'] else 'no'} | {t.get('seconds', '-')} |")
    return "\n".join(lines) + "\n"


def table(report):
    head = (f"{'transport':>9} {'N':>3} {'converged s':>12} {'ping s':>8} {'ratio':>6} {'ctl CPU s/host':>15} "
            f"{'dev CPU s/host':>15} {'changed':>8} {'failed':>7} {'exec max':>9} {'load1':>6}")
    out = [head, "-" * len(head)]
    for r in report["rows"]:
        out.append(f"{r['transport']:>9} {r['nodes']:>3} {r['converged_s']:>12} {r['ping_s']:>8} {r['ratio']:>6.2f} "
                   f"{r['controller_cpu_per_host_s']:>15} {r['device']['mean']:>15} {r['changed_max']:>8} "
                   f"{r['failed_max']:>7} {r['executed_max']:>9} {r['load1']:>6}")
    out.append("")
    out += [f"[{'met' if v['met'] else 'MISSED'}] {v['target']}: {v['measured']}" for v in report["targets"]]
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------- main
def node_names(prefix, count):
    return [f"{prefix}-{i:02d}" for i in range(1, count + 1)]


def measure_transport(work, nodes, transport, args, extra, cgroups, idle):
    pings, sites = [], []
    for repeat in range(1, args.repeat + 1):
        wait_for_load(args.wait_load)
        pings.append(run_playbook(work, work["ping"], nodes, [], True, args.sample_interval, transport, cgroups))
        sites.append(run_playbook(work, SITE, nodes, extra, True, args.sample_interval, transport, cgroups))
        print(f"{transport} N={nodes} #{repeat}: ping {pings[-1]['wall_s']} s, converged {sites[-1]['wall_s']} s, "
              f"controller {sites[-1]['controller_cpu_s']} CPU-s (changed={sites[-1]['changed']}, "
              f"failed={sites[-1]['failed']}, load1={sites[-1]['load1_before']})", file=sys.stderr)
    last = sites[-1]
    row = {
        "transport": transport,
        "nodes": nodes,
        "converged_s": median_of(sites, "wall_s"),
        "ping_s": median_of(pings, "wall_s"),
        "controller_cpu_s": median_of(sites, "controller_cpu_s"),
        "controller_cpu_per_host_s": round(median_of(sites, "controller_cpu_s") / nodes, 3),
        "ping_controller_cpu_per_host_s": round(median_of(pings, "controller_cpu_s") / nodes, 3),
        "device": per_host_summary(sites, idle),
        "ping_device": per_host_summary(pings, idle),
        "changed_max": max(s["changed"] for s in sites),
        "failed_max": max(s["failed"] + s["unreachable"] for s in sites),
        "executed_max": max(s["executed_max"] for s in sites),
        "executed_mean": last["executed_mean"],
        "executed_per_host": last["executed_per_host"],
        "executed_per_host_role": last["executed_per_host_role"],
        "memory": last["memory"],
        "ping_memory": pings[-1]["memory"],
        "load1": round(statistics.fmean(s["load1_before"] for s in sites), 2),
        "tasks": last["tasks"],
        "samples": {"ping": [{k: v for k, v in p.items() if k != "tasks"} for p in pings],
                    "converged": [{k: v for k, v in s.items() if k != "tasks"} for s in sites]},
    }
    row["ratio"] = round(row["converged_s"] / row["ping_s"], 2) if row["ping_s"] else 0.0
    return row


def measure(work, nodes, args, extra):
    lab(work, "up", str(nodes))
    for connection in sorted({TRANSPORTS[t] for t in args.transports} - {"ssh"}):
        lab(work, "inventory", connection=connection)
    cgroups = cpu.container_cgroups(node_names(work["prefix"], nodes))
    # A first run can leave work for a second (a service restarted by the first, a cache filled by it).
    for _attempt in range(3):
        converge = run_playbook(work, SITE, nodes, extra, False, args.sample_interval, "ssh", cgroups)
        print(f"N={nodes}: converge run rc={converge['rc']} changed={converge['changed']} "
              f"failed={converge['failed']} in {converge['wall_s']} s", file=sys.stderr)
        if converge["changed"] == 0 or converge["failed"]:
            break
    idle = cpu.idle_rates(cgroups, args.idle_seconds)
    rows = [measure_transport(work, nodes, transport, args, extra, cgroups, idle) for transport in args.transports]
    for row in rows:
        row["idle_cpu_per_s"] = idle
        row["converge_run"] = {k: v for k, v in converge.items() if k != "tasks"}
    return rows


def measure_roles(work, nodes, args, extra):
    """Each stage's cost: site.yml with only that stage's tag, less the facts play that runs with every tag."""
    cgroups = cpu.container_cgroups(node_names(work["prefix"], nodes))
    idle = cpu.idle_rates(cgroups, args.idle_seconds)
    runs = {}
    for stage in ("always", *STAGES):
        runs[stage] = [run_playbook(work, SITE, nodes, [*extra, "--tags", stage], False, args.sample_interval,
                                    "ssh", cgroups) for _run in range(args.repeat)]
        print(f"per-role N={nodes} --tags {stage}: {[r['wall_s'] for r in runs[stage]]} s", file=sys.stderr)
    facts = per_host_summary(runs["always"], idle)
    facts_ctl = median_of(runs["always"], "controller_cpu_s")
    stages = {"facts (always)": {"controller_per_host_s": round(facts_ctl / nodes, 3), "device": facts}}
    for stage in STAGES:
        dev = per_host_summary(runs[stage], idle)
        per_host = {h: round(max(0.0, v - facts["per_host"][h]), 3) for h, v in dev["per_host"].items()}
        kinds = {}
        for host, value in per_host.items():
            kinds.setdefault(node_kind(host), []).append(value)
        stages[stage] = {
            "controller_per_host_s": round(max(0.0, median_of(runs[stage], "controller_cpu_s") - facts_ctl) / nodes, 3),
            "device": {"per_host": per_host, "mean": round(statistics.fmean(per_host.values()), 3),
                       "per_kind_mean": {k: round(statistics.fmean(v), 3) for k, v in sorted(kinds.items())}},
            "changed": max(r["changed"] for r in runs[stage]),
        }
    return {"nodes": nodes, "stages": stages,
            "samples": {k: [{x: y for x, y in r.items() if x != "tasks"} for r in v] for k, v in runs.items()}}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--nodes", default="1,5,10", help="comma-separated node counts (default 1,5,10)")
    parser.add_argument("--repeat", type=int, default=2, help="timed ping+converged pairs per N; medians reported")
    parser.add_argument("--transports", default="ssh",
                        help="comma-separated, of ssh, podman, mitogen (mitogen needs --mitogen): each measured "
                             "side by side on the same nodes")
    parser.add_argument("--mitogen", help="directory holding ansible_mitogen (pip install --target DIR mitogen)")
    parser.add_argument("--per-role", type=int, metavar="N",
                        help="at this N (one of --nodes), also run site.yml once per stage tag (ssh)")
    parser.add_argument("--idle-seconds", type=float, default=10.0,
                        help="window over which each node's idle CPU rate is measured before the timed runs")
    parser.add_argument("--prefix", default="bench", help="lab node prefix (default bench)")
    parser.add_argument("-e", "--extra-vars", action="append", default=[], help="passed to the site.yml runs")
    parser.add_argument("--wait-load", type=float, help="before each timed pair, wait (10 min at most) for load1 <= this")
    parser.add_argument("--sample-interval", type=float, default=0.1, help="memory sampling period in seconds")
    parser.add_argument("--keep", action="store_true", help="leave the nodes running (remove: lab.sh down with the prefix)")
    parser.add_argument("--output-dir", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    counts = sorted({int(n) for n in args.nodes.split(",") if n.strip()})
    if not counts or counts[0] < 1:
        parser.error("--nodes takes positive integers, e.g. 1,5,10")
    args.transports = [t.strip() for t in args.transports.split(",") if t.strip()]
    if not args.transports or set(args.transports) - set(TRANSPORTS):
        parser.error(f"--transports takes a comma-separated list of {', '.join(TRANSPORTS)}")
    if "mitogen" in args.transports and not (args.mitogen and Path(args.mitogen, "ansible_mitogen").is_dir()):
        parser.error("--transports mitogen needs --mitogen DIR with ansible_mitogen in it")
    if args.per_role is not None and args.per_role not in counts:
        parser.error("--per-role N must be one of --nodes")
    extra = [arg for value in args.extra_vars for arg in ("-e", value)]

    tmp = Path(tempfile.mkdtemp(prefix="edgeai-bench-"))
    inventories = {}
    for connection in set(TRANSPORTS.values()):
        inventory_dir = tmp / "inventory" / connection
        inventory_dir.mkdir(parents=True)
        # The demo's hand-written lab settings (model to serve, ...) live beside its inventory; Ansible reads
        # group_vars/host_vars relative to the inventory file, so mirror them next to ours.
        for sub in ("group_vars", "host_vars"):
            if (REPO / "inventories" / "lab" / sub).is_dir():
                (inventory_dir / sub).symlink_to(REPO / "inventories" / "lab" / sub)
        inventories[connection] = inventory_dir / "hosts.yml"
    work = {"dir": tmp, "prefix": args.prefix, "inventory": inventories["ssh"], "inventories": inventories,
            "ping": tmp / "ping.yml", "mitogen": str(Path(args.mitogen).resolve()) if args.mitogen else None}
    work["ping"].write_text(PING_PLAY, encoding="utf-8")
    started = datetime.datetime.now(datetime.timezone.utc)
    version = subprocess.run([playbook_bin(), "--version"], capture_output=True, text=True, check=False).stdout
    report = {
        "started": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": "python bench/fleet/run.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "machine": f"{platform.node()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
                   f"{version.splitlines()[0] if version else 'ansible-playbook ?'}",
        "sample_interval_s": args.sample_interval,
        "repeat": args.repeat,
        "rows": [],
        "per_role": None,
    }
    args.output_dir.mkdir(parents=True, exist_ok=True)
    stem = args.output_dir / f"fleet-{started.strftime('%Y%m%dT%H%M%S')}"
    try:
        for nodes in counts:
            report["rows"].extend(measure(work, nodes, args, extra))
            if nodes == args.per_role:
                report["per_role"] = measure_roles(work, nodes, args, extra)
            # After every N, so an interrupted run still leaves what it measured.
            report["targets"] = evaluate(report["rows"])
            stem.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
            stem.with_suffix(".md").write_text(markdown(report), encoding="utf-8")
    finally:
        if not args.keep:
            lab(work, "down")
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"kept nodes {args.prefix}-*, inventory {work['inventory']}", file=sys.stderr)
    print(table(report))
    print(f"\nwrote {stem}.json and {stem}.md")
    return 0 if all(v["met"] for v in report["targets"]) else 1


if __name__ == "__main__":
    sys.exit(main())
