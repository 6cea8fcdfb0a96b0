# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Converged site.yml vs an ansible.builtin.ping baseline on N lab nodes, side by side in one run.

    python bench/fleet/run.py                      # N = 1, 5, 10 (as root, venv active; ~10-15 min on 2 vCPUs)
    python bench/fleet/run.py --nodes 1,3 --repeat 3 --wait-load 1.5

For each N (ascending; nodes are added, not recreated): `tests/lab/lab.sh up N` with prefix `bench` and a
private inventory, one untimed site.yml run to converge, then, per repeat, a timed ping play and a timed
converged site.yml run, both with --forks N, the same ansible.cfg, callbacks and fact cache. Task counts come
from the ansible.posix.json stdout callback; memory from sampling /proc for the ansible-playbook process tree.
Writes bench/results/fleet-<UTC time>.{json,md}; removes its nodes at the end (only prefix `bench`).
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
    "scaling": "wall(N=10) <= 2 x wall(N=1), converged site.yml",
    "vs_ping": "converged(N=10) <= 10 x ping(N=10)",
}


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
def ansible_env(work):
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
    )
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


def run_playbook(work, playbook, forks, extra, timed, interval):
    argv = [playbook_bin(), "-i", str(work["inventory"]), "--forks", str(forks), *extra, str(playbook)]
    load_before = os.getloadavg()[0]
    started = time.monotonic()
    proc = subprocess.Popen(argv, cwd=REPO, env=ansible_env(work), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
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


def lab(work, *args):
    log = work["dir"] / "lab.log"
    with open(log, "a", encoding="utf-8") as handle:
        done = subprocess.run(["/bin/bash", str(LAB), *args], cwd=REPO, env=ansible_env(work) | {
            "ANSIBLE_STDOUT_CALLBACK": "default"}, stdout=handle, stderr=subprocess.STDOUT, check=False)
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


# ---------------------------------------------------------------------------------------------- report
def evaluate(rows):
    by_n = {r["nodes"]: r for r in rows}
    verdicts = []
    changed = max(r["changed_max"] for r in rows)
    verdicts.append({"target": TARGETS["changed"], "measured": f"changed = {changed} (max over converged runs)",
                     "met": changed == 0 and all(r["failed_max"] == 0 for r in rows)})
    tasks = max(r["executed_max"] for r in rows)
    verdicts.append({"target": TARGETS["tasks"], "measured": f"{tasks} per host (max)", "met": tasks <= 15})
    low, high = min(by_n), max(by_n)
    if high > low:
        ratio = by_n[high]["converged_s"] / by_n[low]["converged_s"]
        verdicts.append({"target": TARGETS["scaling"] + ("" if (low, high) == (1, 10) else f" (measured N={low}..{high})"),
                         "measured": f"{by_n[high]['converged_s']} s / {by_n[low]['converged_s']} s = {ratio:.2f}x",
                         "met": ratio <= 2.0})
    top = by_n[high]
    verdicts.append({"target": TARGETS["vs_ping"] + ("" if high == 10 else f" (measured N={high})"),
                     "measured": f"{top['converged_s']} s / {top['ping_s']} s = {top['ratio']:.2f}x",
                     "met": top["ratio"] <= 10.0})
    return verdicts


def markdown(report):
    lines = [f"# Fleet benchmark {report['started']}", "",
             f"Command: `{report['command']}`  ", f"Machine: {report['machine']}", "",
             "| N | converged s | ping s | ratio | changed | failed | executed/host max | mean "
             "| worker PSS MiB | worker RSS MiB | controller RSS MiB | load1 |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in report["rows"]:
        m = r["memory"]
        lines.append(f"| {r['nodes']} | {r['converged_s']} | {r['ping_s']} | {r['ratio']:.2f} | {r['changed_max']} "
                     f"| {r['failed_max']} | {r['executed_max']} | {r['executed_mean']} | {m['worker_peak_pss_mib_max']} "
                     f"| {m['worker_peak_rss_mib_max']} | {m['controller_peak_rss_mib']} | {r['load1']} |")
    lines += ["", "Medians of the repeats; every sample is in the JSON file. Memory: peak over the converged run "
              "at that N, sampled from /proc every %.2f s (worker = forked ansible-playbook process; PSS counts "
              "pages shared with the controller once)." % report["sample_interval_s"]]
    if report.get("marginal_pss_per_fork_mib") is not None:
        lines.append(f"Marginal memory per fork (ansible tree peak PSS, N={report['rows'][0]['nodes']}.."
                     f"{report['rows'][-1]['nodes']}): {report['marginal_pss_per_fork_mib']} MiB.")
    lines += ["", "| target | measured | met |", "|---|---|---|"]
    lines += [f"| {v['target']} | {v['measured']} | {'yes' if v['met'] else 'NO'} |" for v in report["targets"]]
    for r in report["rows"]:
        for label, key in (("changed", "changed_tasks"), ("failed", "failures")):
            found = sorted({t for s in r["samples"]["converged"] for t in s.get(key, [])})
            if found:
                lines += ["", f"N={r['nodes']}: tasks that {label} on a converged run:", ""]
                lines += [f"- {t}" for t in found]
    last = report["rows"][-1]
    roles = sorted({role for per in last["executed_per_host_role"].values() for role in per})
    lines += ["", f"Executed tasks per host and role, converged run, N={last['nodes']} ((play) = the playbooks' "
              "own tasks: facts, include_role, argument validation):", "",
              "| host | total | " + " | ".join(roles) + " |", "|---" * (len(roles) + 2) + "|"]
    for host, per in sorted(last["executed_per_host_role"].items()):
        lines.append(f"| {host} | {last['executed_per_host'][host]} | "
                     + " | ".join(str(per.get(role, 0)) for role in roles) + " |")
    lines += ["", f"Tasks executed on the converged run, N={report['rows'][-1]['nodes']} (hosts = how many hosts ran "
              "it; remote = needs a connection round trip; seconds = the task's span across all hosts):", "",
              "| role | task | action | hosts | loop items | remote | seconds |", "|---|---|---|---|---|---|---|"]
    for t in report["rows"][-1]["tasks"]:
        lines.append(f"| {t['role']} | {t['task']} | {t['action']} | {t['hosts']} | {t['loop_items']} "
                     f"| {'yes' if t['remote'] else 'no'} | {t.get('seconds', '-')} |")
    return "\n".join(lines) + "\n"


def table(report):
    head = f"{'N':>3} {'converged s':>12} {'ping s':>8} {'ratio':>6} {'changed':>8} {'failed':>7} " \
           f"{'exec max':>9} {'exec mean':>10} {'worker PSS MiB':>15}"
    out = [head, "-" * len(head)]
    for r in report["rows"]:
        out.append(f"{r['nodes']:>3} {r['converged_s']:>12} {r['ping_s']:>8} {r['ratio']:>6.2f} {r['changed_max']:>8} "
                   f"{r['failed_max']:>7} {r['executed_max']:>9} {r['executed_mean']:>10} "
                   f"{r['memory']['worker_peak_pss_mib_max']:>15}")
    out.append("")
    out += [f"[{'met' if v['met'] else 'MISSED'}] {v['target']}: {v['measured']}" for v in report["targets"]]
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------- main
def measure(work, nodes, args, extra):
    lab(work, "up", str(nodes))
    converge = run_playbook(work, SITE, nodes, extra, False, args.sample_interval)
    print(f"N={nodes}: converge run rc={converge['rc']} changed={converge['changed']} failed={converge['failed']} "
          f"in {converge['wall_s']} s", file=sys.stderr)
    pings, sites = [], []
    for repeat in range(1, args.repeat + 1):
        wait_for_load(args.wait_load)
        pings.append(run_playbook(work, work["ping"], nodes, [], True, args.sample_interval))
        sites.append(run_playbook(work, SITE, nodes, extra, True, args.sample_interval))
        print(f"N={nodes} #{repeat}: ping {pings[-1]['wall_s']} s, converged {sites[-1]['wall_s']} s "
              f"(changed={sites[-1]['changed']}, failed={sites[-1]['failed']}, load1={sites[-1]['load1_before']})",
              file=sys.stderr)
    last = sites[-1]
    row = {
        "nodes": nodes,
        "converged_s": median_of(sites, "wall_s"),
        "ping_s": median_of(pings, "wall_s"),
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
        "converge_run": {k: v for k, v in converge.items() if k != "tasks"},
        "samples": {"ping": [{k: v for k, v in p.items() if k != "tasks"} for p in pings],
                    "converged": [{k: v for k, v in s.items() if k != "tasks"} for s in sites]},
    }
    row["ratio"] = round(row["converged_s"] / row["ping_s"], 2) if row["ping_s"] else 0.0
    return row


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--nodes", default="1,5,10", help="comma-separated node counts (default 1,5,10)")
    parser.add_argument("--repeat", type=int, default=1, help="timed ping+converged pairs per N; medians reported")
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
    extra = [arg for value in args.extra_vars for arg in ("-e", value)]

    tmp = Path(tempfile.mkdtemp(prefix="edgeai-bench-"))
    inventory_dir = tmp / "inventory"
    inventory_dir.mkdir()
    # The demo's hand-written lab settings (model to serve, ...) live beside its inventory; Ansible reads
    # group_vars/host_vars relative to the inventory file, so mirror them next to ours.
    for sub in ("group_vars", "host_vars"):
        if (REPO / "inventories" / "lab" / sub).is_dir():
            (inventory_dir / sub).symlink_to(REPO / "inventories" / "lab" / sub)
    work = {"dir": tmp, "prefix": args.prefix, "inventory": inventory_dir / "hosts.yml", "ping": tmp / "ping.yml"}
    work["ping"].write_text(PING_PLAY, encoding="utf-8")
    started = datetime.datetime.now(datetime.timezone.utc)
    rows = []
    try:
        for nodes in counts:
            rows.append(measure(work, nodes, args, extra))
    finally:
        if not args.keep:
            lab(work, "down")
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"kept nodes {args.prefix}-*, inventory {work['inventory']}", file=sys.stderr)

    marginal = None
    if len(rows) > 1:
        span = rows[-1]["nodes"] - rows[0]["nodes"]
        marginal = round((rows[-1]["memory"]["ansible_tree_peak_pss_mib"]
                          - rows[0]["memory"]["ansible_tree_peak_pss_mib"]) / span, 1)
    version = subprocess.run([playbook_bin(), "--version"], capture_output=True, text=True, check=False).stdout
    report = {
        "started": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": "python bench/fleet/run.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "machine": f"{platform.node()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
                   f"{version.splitlines()[0] if version else 'ansible-playbook ?'}",
        "sample_interval_s": args.sample_interval,
        "repeat": args.repeat,
        "rows": rows,
        "marginal_pss_per_fork_mib": marginal,
    }
    report["targets"] = evaluate(rows)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    stem = args.output_dir / f"fleet-{started.strftime('%Y%m%dT%H%M%S')}"
    stem.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    stem.with_suffix(".md").write_text(markdown(report), encoding="utf-8")
    print(table(report))
    print(f"\nwrote {stem}.json and {stem}.md")
    return 0 if all(v["met"] for v in report["targets"]) else 1


if __name__ == "__main__":
    sys.exit(main())
