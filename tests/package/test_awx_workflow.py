# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""examples/awx run the way AWX runs them: each node's variables built by AWX's precedence rules, real playbooks.

Reproduces issue 12 item 2. On 6e8530b: the waves survey default '[1, "10%", "50%", "100%"]' (a string, applied by
AWX to every launch) broke ``serial:``; os_rollout targeted ``bootc`` while the constructed inventory made
``bootc_hosts``, so the canary matched nothing and passed; the rollback node ran os_rollout again and, because the
workflow's extra vars beat artifacts, rolled the *new* image forward on every host; the approval's deny/timeout led
nowhere; no job template had a machine credential; survey defaults differed from the role defaults.

AWX's rules, as documented and implemented (AWX 24.6.1 / AAP 2.5):
- "Workflow extra variables" (AAP 2.5, Using automation execution, 9.2; docs.redhat.com/.../controller-workflow-
  extra-variables): survey variables are merged with the workflow's extra_vars and saved as the workflow job's
  extra_vars, which are merged into every job the workflow spawns; jobs also inherit the artifacts (set_stats data)
  of their parent jobs, merged with the ancestors' on that branch.
- awx/main/models/workflow.py ``WorkflowJobNode.get_job_kwargs``: node prompts (extra_data) < ancestor artifacts
  (``aa_dict.update`` per parent, key by key) < workflow job extra_vars ("Workflow Job extra_vars higher precedence
  than ancestor artifacts").
- awx/main/models/mixins.py ``SurveyJobTemplateMixin._update_unified_job_kwargs``: job template extra_vars < the job
  template's survey defaults (applied to every launch) < launch extra vars; AWX then adds its ``awx_*`` meta vars
  (``awx_job_id``) to the job's extra vars.
- Approval nodes: deny and timeout fail the node and take its failure path (AAP 2.5, 9.4 "Approval nodes").

The devices are simulated: the bootc double of the lab (tests/lab/doubles/bootc, contract in its header) with one
state directory per device, reached through the ``edgeai_double`` connection (the local connection under a name
ansible.builtin.reboot accepts); the double's reboot hook moves that device's deployments. The playbooks run from
the built tarball installed with only ansible-core (the session fixture), through ansible-runner as AWX does.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import BIN, REPO

ansible_runner = pytest.importorskip("ansible_runner")

DOUBLE = REPO / "tests" / "lab" / "doubles" / "bootc" / "rootfs"
IMAGE = "registry.example.com/edgeai/edge-os"
AWX = yaml.safe_load((REPO / "examples" / "awx" / "vars.yml").read_text())
TEMPLATES = {t["name"]: t for t in AWX["awx_edgeai_job_templates"]}
NODES = {n["identifier"]: n for n in AWX["awx_edgeai_workflow_nodes"]}
# Inventory order is the order serial batches follow: a is the canary, d fails its health check after 2.0.
DEVICES = {"a": "1.0", "b": "1.1", "d": "1.1", "c": "1.0"}
CANARIES = {"a"}


# ---- AWX's precedence rules --------------------------------------------------------------------------------------
def survey_defaults(survey):
    return {q["variable"]: q["default"] for q in (survey or {}).get("spec", []) if q.get("default") is not None}


def workflow_job_extra_vars(answers):
    """Workflow survey defaults < launch answers (the workflow template has no extra_vars of its own)."""
    return {**survey_defaults(AWX["awx_edgeai_rollout_survey"]), **answers}


def node_job_extra_vars(node, workflow_vars, artifacts, job_id):
    """What the job of one workflow node receives: see the module docstring for each layer's source."""
    template = TEMPLATES[node["unified_job_template"]["name"]]
    launch = {**node.get("extra_data", {}), **artifacts, **workflow_vars}
    return {**survey_defaults(template.get("survey")), **launch, "awx_job_id": job_id}


# ---- simulated devices -------------------------------------------------------------------------------------------
def ctl(state, *args):
    out = subprocess.run([DOUBLE / "usr/libexec/bootc-double/ctl", *args], check=True, capture_output=True, text=True,
                         env={**os.environ, "BOOTC_DOUBLE_STATE_DIR": str(state)})
    return out.stdout


def booted(state):
    return json.loads((state / "state.json").read_text())["booted"]["digest"]


def deployments(state):
    document = json.loads((state / "state.json").read_text())
    return document["booted"], document["staged"], document["rollback"]


@pytest.fixture()
def fleet(installed, tmp_path):
    hosts = {}
    for name, version in DEVICES.items():
        state = tmp_path / "devices" / name
        state.mkdir(parents=True)
        python = state / "python"
        # Modules inherit the device's bootc double state and find its bootc first on PATH.
        python.write_text(f"#!/bin/sh\nexport BOOTC_DOUBLE_STATE_DIR={state} PATH={DOUBLE}/usr/bin:$PATH\n"
                          f"exec {BIN}/python \"$@\"\n")
        python.chmod(0o755)
        ctl(state, "init", f"{IMAGE}:{version}", version, "1.16.9")
        for tag in ("1.0", "1.1", "2.0"):
            ctl(state, "push", f"{IMAGE}:{tag}", tag)
        hosts[name] = {
            "ansible_connection": "edgeai_double",
            "ansible_python_interpreter": str(python),
            "ansible_become": False,
            "bootc_update_reboot_command": f"env BOOTC_DOUBLE_STATE_DIR={state} {DOUBLE}/usr/libexec/bootc-double/reboot",
            "bootc_update_boot_time_command": f"cat {state}/boot_id",
            "bootc_update_health_checks": [{"name": "double", "command": f"{DOUBLE}/usr/libexec/bootc-double/health-check"}],
            "bootc_update_health_retries": 0,
        }
    new_digest = json.loads(ctl(tmp_path / "devices" / "a", "show"))["catalogue"][f"{IMAGE}:2.0"]["digest"]
    ctl(tmp_path / "devices" / "d", "unhealthy", new_digest)
    # The groups the constructed inventory of vars.yml makes: bootc from the cached bootc facts, canary from a host var.
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(json.dumps({"all": {"hosts": hosts, "children": {
        "bootc": {"hosts": {h: {} for h in DEVICES}},
        "canary": {"hosts": {h: {} for h in CANARIES}},
    }}}))
    before = {name: deployments(tmp_path / "devices" / name) for name in DEVICES}
    return {"tmp": tmp_path, "inventory": inventory, "env": installed["env"], "before": before, "new": new_digest,
            "state": lambda name: tmp_path / "devices" / name}


def run_job(fleet, node_id, extra_vars):
    """One AWX job: a fresh private data dir, the node's template's playbook by path, events and artifacts back."""
    template = TEMPLATES[NODES[node_id]["unified_job_template"]["name"]]
    collection = Path(fleet["env"]["ANSIBLE_COLLECTIONS_PATH"]) / "ansible_collections" / "edgeai" / "fleet"
    private = fleet["tmp"] / "runner" / f"{node_id}-{extra_vars['awx_job_id']}"
    private.mkdir(parents=True)
    run = ansible_runner.run(
        private_data_dir=str(private),
        playbook=str(collection / template["playbook"]),
        inventory=str(fleet["inventory"]),
        extravars=extra_vars,
        limit=NODES[node_id].get("limit"),
        envvars={**fleet["env"], "PATH": f"{BIN}:{os.environ['PATH']}",
                 "ANSIBLE_CONNECTION_PLUGINS": str(Path(__file__).parent / "connection_plugins")},
        quiet=True,
        timeout=600,
    )
    stats = [e for e in run.events if e["event"] == "playbook_on_stats"]
    artifacts = stats[-1]["event_data"].get("artifact_data", {}) if stats else {}
    return run, artifacts


def failures(run):
    failed = [e["event_data"] for e in run.events if e["event"] in ("runner_on_failed", "runner_on_unreachable")]
    hosts = "\n".join(f"{d.get('host')}: {d.get('task')}: {d.get('res', {}).get('msg')}" for d in failed)
    # A playbook-level error (a bad serial:, an unparsable play) fails no host: show the end of the output.
    return hosts or run.stdout.read()[-3000:]


def touched_by(run):
    return {e["event_data"]["host"] for e in run.events if e["event"] == "runner_on_ok"
            and e["event_data"].get("resolved_action") == "edgeai.fleet.bootc_image"}


# ---- the example's static promises -------------------------------------------------------------------------------
def test_every_job_template_logs_in_with_the_machine_credential():
    """Issue 12: no job template had a machine credential, so AWX would connect without one."""
    configure = yaml.safe_load((REPO / "examples" / "awx" / "configure.yml").read_text())
    tasks = {t["name"]: t for t in configure[0]["tasks"]}
    job_templates = tasks["Create one job template per playbook"]["awx.awx.job_template"]
    assert job_templates["credentials"] == ["{{ awx_edgeai_machine_credential }}"]
    assert AWX["awx_edgeai_machine_credential"]


def test_survey_defaults_equal_role_and_playbook_defaults():
    """AWX applies survey defaults to every launch: a default that differs from the role's changes every run."""
    specs = {}
    for path in (REPO / "roles").glob("*/meta/argument_specs.yml"):
        for option, spec in yaml.safe_load(path.read_text())["argument_specs"]["main"]["options"].items():
            specs[option] = spec.get("default")
    playbook_defaults = {
        "os_rollout_waves": [1, "10%", "50%", "100%"],
        "os_rollout_max_fail_percentage": 10,
    }
    rollout = (REPO / "playbooks" / "os_rollout.yml").read_text()
    assert "os_rollout_waves | default([1, '10%', '50%', '100%'])" in rollout
    assert "os_rollout_max_fail_percentage | default(10)" in rollout
    for template in TEMPLATES.values():
        for question in (template.get("survey") or {}).get("spec", []):
            variable, default = question["variable"], question.get("default")
            if question["type"] == "multiplechoice":
                assert default is None or default in question["choices"], question
            if question["type"] in ("integer", "float") and default is not None:
                assert question["min"] <= default <= question["max"], question
            if variable == "os_rollout_waves":
                default = [int(w) if w.isdigit() else w for w in default.split(",")]
            expected = playbook_defaults.get(variable, specs.get(variable))
            if variable in specs or variable in playbook_defaults:
                assert default == expected, f"{template['name']}: survey default of {variable} is {default!r}"


def test_workflow_targets_groups_the_constructed_inventory_makes():
    """Issue 12: os_rollout's default group 'bootc' did not exist in the constructed inventory (it made bootc_hosts)."""
    groups = set(AWX["awx_edgeai_constructed_source_vars"]["groups"])
    rollout = (REPO / "playbooks" / "os_rollout.yml").read_text()
    assert "os_rollout_hosts | default('bootc')" in rollout and "bootc" in groups
    for node in NODES.values():
        pattern = node.get("extra_data", {}).get("os_rollout_hosts")
        if pattern:
            assert set(re.split(r"[:&!,]+", pattern)) - {""} <= groups, pattern
        assert "limit" not in node, "a limit that matches nothing lets ansible-playbook pass without a host"


def test_every_failure_and_denial_leads_to_the_rollback_then_the_report():
    """Issue 12: a denied or timed-out approval did nothing; every failure must end on the rollback and the report."""
    for identifier in ("canary", "approve", "waves"):
        assert [n["identifier"] for n in NODES[identifier]["related"]["failure_nodes"]] == ["rollback"]
    assert NODES["approve"]["unified_job_template"]["type"] == "workflow_approval"
    assert [n["identifier"] for n in NODES["rollback"]["related"]["always_nodes"]] == ["report"]
    assert TEMPLATES["edgeai OS rollback"]["playbook"] == "playbooks/os_rollback.yml"
    assert "survey" not in TEMPLATES["edgeai OS rollback"], "a survey default would be applied to every rollback"


# ---- the workflow, run ---------------------------------------------------------------------------------------------
def test_rollback_returns_exactly_the_moved_hosts_to_their_own_previous_digest(fleet):
    """canary ok -> approval -> waves with one failing host -> rollback -> every moved host on its previous digest.

    a (canary, 1.0) and b (first wave, 1.1) boot 2.0; d fails its health check after 2.0 and rolls itself back; the
    rollout then stops, so c never gets touched. The rollback must switch exactly a and b, each to its own previous
    digest, leave d and c alone, and change nothing when AWX relaunches it. (A denied or timed-out approval takes the
    same failure edge one node earlier, with only the canary's record: the same playbook, a subset of this run.)
    """
    workflow_vars = workflow_job_extra_vars({"os_rollout_image": f"{IMAGE}:2.0"})
    previous = {name: booted(fleet["state"](name)) for name in DEVICES}
    assert previous["a"] != previous["b"]

    canary, artifacts = run_job(fleet, "canary", node_job_extra_vars(NODES["canary"], workflow_vars, {}, 101))
    assert canary.status == "successful", failures(canary)
    assert touched_by(canary) == CANARIES
    assert booted(fleet["state"]("a")) == fleet["new"]
    assert artifacts.get("os_rollout_pinned_digest") == fleet["new"], artifacts

    waves, waves_artifacts = run_job(fleet, "waves", node_job_extra_vars(NODES["waves"], workflow_vars, artifacts, 103))
    # Waves "1,10%,50%,100%" (the survey default, a string) over b, d, c: b, then d, which fails; more than
    # os_rollout_max_fail_percentage failed, so the job fails and c is never touched.
    assert waves.status == "failed"
    assert touched_by(waves) == {"b", "d"}
    assert booted(fleet["state"]("b")) == fleet["new"]
    assert booted(fleet["state"]("d")) == previous["d"]
    # AWX merges artifacts key by key: the waves' record must not replace the canary's.
    artifacts = {**artifacts, **waves_artifacts}
    assert {key for key in artifacts if key.startswith("os_rollout_previous_")} == {
        "os_rollout_previous_101", "os_rollout_previous_103"}

    rollback_vars = node_job_extra_vars(NODES["rollback"], workflow_vars, artifacts, 104)
    # The workflow's extra vars still name the new image: the rollback must not use them.
    assert rollback_vars["os_rollout_image"] == f"{IMAGE}:2.0"
    rollback = run_job(fleet, "rollback", rollback_vars)[0]
    assert rollback.status == "successful", failures(rollback)
    assert touched_by(rollback) == {"a", "b"}
    for name in DEVICES:
        assert booted(fleet["state"](name)) == previous[name], name
    assert deployments(fleet["state"]("c")) == fleet["before"]["c"], "c was touched"

    # AWX relaunch: every host is on its previous digest, so nothing is switched.
    again = run_job(fleet, "rollback", {**rollback_vars, "awx_job_id": 105})[0]
    assert again.status == "successful", failures(again)
    assert touched_by(again) == set()
