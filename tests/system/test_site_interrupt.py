# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""site.yml survives being killed midway, and an unreachable host does not stop the others.

Three lab nodes of its own (prefix ``it-intr``; what they simulate: tests/system/_site_lab.py).

1. A first site.yml run is interrupted with SIGINT to the ansible-playbook process group (what Ctrl-C in a
   terminal does) once the NVIDIA toolkit stage is under way; the next run must finish without failures and
   without any manual repair, and a third run must change nothing.
2. One node's container is stopped (the device is offline); the run must finish on the others, list the
   host as unreachable in its stats and in the fleet report JSON, with a reason.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from _site_lab import MARKS, REPO, SITE, hosts, site_lab

PREFIX = "it-intr"
HOSTS = hosts(PREFIX)
# Interrupt inside the NVIDIA toolkit stage while it is changing the GPU node: at the first task banner of the
# role after one of its tasks reported "changed" (the engines' runtime config is then half way), or at its
# INTERRUPT_AT-th banner if nothing in it changes.
STAGE_BANNER = re.compile(r"^TASK \[edgeai\.fleet\.nvidia_toolkit : (?P<task>.*?)\] \*")
INTERRUPT_AT = 8

pytestmark = MARKS


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("site-interrupt")
    env = dict(
        EDGEAI_FLEET_REPORT_DIR=str(tmp / "report"),
        ANSIBLE_CONFIG=str(REPO / "ansible.cfg"),
        # Never share the demo's fact cache.
        ANSIBLE_CACHE_PLUGIN_CONNECTION=str(tmp / "facts"),
        ANSIBLE_NOCOLOR="1",
        PYTHONUNBUFFERED="1",
    )
    with site_lab(tmp, PREFIX, **env) as environ:
        yield tmp, environ


def playbook_cmd(tmp):
    # The ansible-playbook of the Python running the tests (the venv's), whatever PATH says.
    local = Path(sys.executable).parent / "ansible-playbook"
    return [str(local) if local.exists() else "ansible-playbook", "-i", str(tmp / "inventory" / "hosts.yml"), str(SITE)]


def run_json(tmp, env):
    """A whole site.yml run with the ansible.posix.json stdout callback: (rc, parsed document, raw stdout)."""
    done = subprocess.run(playbook_cmd(tmp), cwd=REPO, capture_output=True, text=True, timeout=600, check=False,
                          env=dict(env, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_JSON_INDENT="0"))
    # The fleet report table is printed next to the json callback's single line.
    line = next((x for x in done.stdout.splitlines() if x.startswith('{"custom_stats"')), None)
    assert line, f"no JSON output (rc {done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    return done.returncode, json.loads(line), done.stdout


def failures(doc):
    return [f"{host}: {task['task']['name']}: {res.get('msg')}"
            for play in doc["plays"] for task in play["tasks"] for host, res in task["hosts"].items()
            if res.get("failed") or res.get("unreachable")]


def changed_tasks(doc):
    return [f"{host}: {task['task']['name']}"
            for play in doc["plays"] for task in play["tasks"] for host, res in task["hosts"].items()
            if res.get("changed")]


def interrupt_midway(tmp, env):
    """Start site.yml in its own process group; SIGINT the group inside the NVIDIA toolkit stage."""
    proc = subprocess.Popen(playbook_cmd(tmp), cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    seen, changed, interrupted_at, output = 0, False, None, []
    try:
        for line in proc.stdout:
            output.append(line)
            changed = changed or (seen > 0 and line.startswith("changed: ["))
            match = STAGE_BANNER.match(line)
            if match:
                seen += 1
                if changed or seen == INTERRUPT_AT:
                    interrupted_at = match.group("task")
                    # Let the task reach the hosts before the signal lands.
                    time.sleep(0.5)
                    os.killpg(proc.pid, signal.SIGINT)
                    break
        rc = proc.wait(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        rc = proc.wait()
    output.extend(proc.stdout.read().splitlines(keepends=True))
    return rc, interrupted_at, "".join(output)


def test_interrupted_run_converges_on_rerun(lab):
    tmp, env = lab
    rc, task, output = interrupt_midway(tmp, env)
    assert task is not None, "the NVIDIA toolkit stage never started; the run ended first:\n" + output[-3000:]
    assert rc != 0 and "PLAY RECAP" not in output, f"the run was not interrupted (rc {rc}):\n{output[-3000:]}"

    rc, doc, _out = run_json(tmp, env)
    assert rc == 0, failures(doc)
    assert set(doc["stats"]) == set(HOSTS)
    assert all(s["failures"] == 0 and s["unreachable"] == 0 for s in doc["stats"].values()), failures(doc)

    rc, doc, _out = run_json(tmp, env)
    assert rc == 0, failures(doc)
    assert {h: s["changed"] for h, s in doc["stats"].items()} == dict.fromkeys(HOSTS, 0), (
        f"interrupted at '{task}'; still changing on the third run: {changed_tasks(doc)}")


def test_unreachable_host_does_not_stop_the_others(lab):
    tmp, env = lab
    offline, others = HOSTS[0], HOSTS[1:]
    subprocess.run(["podman", "stop", "--time", "2", offline], env=env, capture_output=True, check=True)

    rc, doc, _out = run_json(tmp, env)
    # 4: some hosts were unreachable (ansible-playbook's exit codes); anything else is a failure elsewhere.
    assert rc == 4, failures(doc)
    stats = doc["stats"]
    assert stats[offline]["unreachable"] >= 1
    for host in others:
        assert stats[host]["failures"] == 0 and stats[host]["unreachable"] == 0, failures(doc)
    # The others ran every play, not just the first: the last play that has tasks ran on them.
    last = [p for p in doc["plays"] if p["tasks"]][-1]
    ran = {host for task in last["tasks"] for host in task["hosts"]}
    assert set(others) <= ran, last["play"]["name"]

    report = json.loads((tmp / "report" / "fleet-report.json").read_text())
    row = report["hosts"][offline]
    assert row["stats"]["unreachable"] >= 1
    assert row["failure"], "the report must say why the host stopped"
    assert all(report["hosts"][h]["failure"] is None for h in others)
