# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Jobs through ansible-runner's streaming path: transmit -> worker -> process, as AWX runs them on execution nodes.

AWX (and AAP through receptor) never runs ansible-playbook itself: the controller packs the private data dir with
``ansible_runner.run(streamer="transmit")``, the execution node (or hop node chain) feeds that stream to
``ansible-runner worker`` in its own, empty private data dir, and the controller rebuilds events and artifacts from
the worker's output with ``streamer="process"`` (ansible-runner docs, "Remote job execution"). What crosses the
stream is all the controller sees: the project, the inventory and the extra vars must be in the transmitted
directory, and events, stats, set_stats artifacts and the fleet_report output must come back through it.

The job runs from the built tarball installed with only ansible-core (the session fixture), standing in for the EE.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import BIN
import test_awx_workflow as awx

# The AWX workflow test's fixture "fleet", made visible here: simulated bootc devices (the bootc double).
fleet = awx.fleet

ansible_runner = pytest.importorskip("ansible_runner")


def project_playbook(name):
    """An AWX project that uses the collection: one playbook importing the collection's playbook by FQCN."""
    return f"---\n- name: {name}\n  ansible.builtin.import_playbook: edgeai.fleet.{name}\n"


def stream_job(root, playbook_text, inventory_dir, extravars, envvars):
    """One job across the stream; returns the processor, its events and its artifact dir (the controller's side)."""
    controller, node = root / "controller", root / "execution-node"
    (controller / "project").mkdir(parents=True)
    node.mkdir()
    (controller / "project" / "job.yml").write_text(playbook_text)
    shutil.copytree(inventory_dir, controller / "inventory")

    # Files, not memory buffers: ansible-runner's transmitter writes to a named stream, as receptor gives it.
    packed, results = root / "transmitted.stream", root / "worker.stream"
    with packed.open("wb") as out:
        ansible_runner.run(streamer="transmit", _output=out, private_data_dir=str(controller), playbook="job.yml",
                           extravars=extravars, envvars=envvars, ident="job")
    with packed.open("rb") as stdin, results.open("wb") as stdout:
        worker = subprocess.run([BIN / "ansible-runner", "worker", "--private-data-dir", str(node)], stdin=stdin,
                                stdout=stdout, stderr=subprocess.PIPE, timeout=300, check=False,
                                env={**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}"})
    assert worker.returncode == 0, worker.stderr.decode()[-3000:]
    # The processor keeps no event list: AWX saves each event from event_handler, and so does this test.
    events = []
    with results.open("rb") as stream:
        processor = ansible_runner.run(streamer="process", _input=stream, private_data_dir=str(controller), ident="job",
                                       quiet=True, event_handler=events.append)
    return processor, events, controller / "artifacts" / "job"


def events_of(events, kind):
    return [e for e in events if e["event"] == kind]


def tail(artifacts):
    stdout = artifacts / "stdout"
    return stdout.read_text()[-3000:] if stdout.is_file() else "no stdout came back"


def test_site_streams_events_report_and_artifacts(installed, tmp_path):
    """site.yml on the one-host example estate: every stage's events, the stats and the fleet report come back."""
    inventory = tmp_path / "inventory"
    inventory.mkdir()
    shutil.copy(installed["inventory"], inventory / "hosts.yml")
    shutil.copytree(installed["work"] / "group_vars", inventory / "group_vars")
    report_dir = tmp_path / "report"
    envvars = {**installed["env"], "ANSIBLE_CALLBACKS_ENABLED": "edgeai.fleet.fleet_report",
               "EDGEAI_FLEET_REPORT_DIR": str(report_dir)}
    envvars.pop("PATH", None)
    run, events, artifacts = stream_job(tmp_path / "site", project_playbook("site"), inventory, {}, envvars)

    assert run.status == "successful", tail(artifacts)
    kinds = {e["event"] for e in events}
    assert {"playbook_on_start", "playbook_on_play_start", "runner_on_ok", "playbook_on_stats"} <= kinds
    facts = {e["event_data"]["resolved_action"]: e["event_data"]["res"]["ansible_facts"]
             for e in events_of(events, "runner_on_ok")
             if e["event_data"].get("host") == "edge1"
             and e["event_data"].get("resolved_action") in ("edgeai.fleet.bootc_info", "edgeai.fleet.gpu_info")}
    assert set(facts) == {"edgeai.fleet.bootc_info", "edgeai.fleet.gpu_info"}
    assert facts["edgeai.fleet.gpu_info"]["edgeai_gpu"]["present"] is False
    assert facts["edgeai.fleet.bootc_info"]["edgeai_bootc"]["is_bootc"] is False

    stats = events_of(events, "playbook_on_stats")
    assert len(stats) == 1
    assert stats[0]["event_data"]["failures"] == {} and stats[0]["event_data"]["dark"] == {}
    assert "edge1" in stats[0]["event_data"]["ok"]

    # Every event arrived, in order (AWX stores them by counter), and the worker's artifacts came back with the
    # stream's end: status, rc, stdout and the fact cache constructed inventories are built from.
    assert [e["counter"] for e in events] == list(range(1, len(events) + 1))
    cache = [p for p in (artifacts / "fact_cache").iterdir() if p.name in ("edge1", "s1_edge1")]
    assert len(cache) == 1 and "edgeai_gpu" in cache[0].read_text()
    assert (artifacts / "status").read_text().strip() == "successful"
    assert (artifacts / "rc").read_text().strip() == "0"
    stdout = (artifacts / "stdout").read_text()
    assert "PLAY RECAP" in stdout and "FLEET REPORT" in stdout and "edge1" in stdout
    # The report file is written where the job ran (the execution node), from the same run.
    report = json.loads((report_dir / "fleet-report.json").read_text())
    assert list(report["hosts"]) == ["edge1"] and report["hosts"]["edge1"]["failure"] is None
    assert report["hosts"]["edge1"]["report"]["sharing"] == "none (no GPU)"


def test_rollout_artifacts_cross_the_stream(request, tmp_path):
    """The canary's set_stats artifacts, which AWX hands to the next workflow node, arrive through the stream."""
    devices = request.getfixturevalue("fleet")
    inventory = tmp_path / "canary-inventory"
    inventory.mkdir()
    shutil.copy(devices["inventory"], inventory / "hosts.yml")
    previous = json.loads((devices["state"]("a") / "state.json").read_text())["booted"]
    workflow_vars = awx.workflow_job_extra_vars({"os_rollout_image": f"{awx.IMAGE}:2.0"})
    extravars = awx.node_job_extra_vars(awx.NODES["canary"], workflow_vars, {}, 201)
    envvars = {**devices["env"], "ANSIBLE_CONNECTION_PLUGINS": str(Path(__file__).parent / "connection_plugins")}
    envvars.pop("PATH", None)
    run, events, artifacts = stream_job(tmp_path / "canary", project_playbook("os_rollout"), inventory, extravars, envvars)

    assert run.status == "successful", tail(artifacts)
    artifact_data = events_of(events, "playbook_on_stats")[-1]["event_data"].get("artifact_data", {})
    assert artifact_data["os_rollout_pinned_digest"] == devices["new"]
    assert artifact_data["os_rollout_image"] == f"{awx.IMAGE}@{devices['new']}"
    assert artifact_data["os_rollout_previous_201"] == {"a": {"image": previous["ref"]["image"], "digest": previous["digest"]}}
    assert previous["digest"] != devices["new"]
