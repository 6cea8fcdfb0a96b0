# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/site.yml driven through the ansible_runner Python API, the way AWX/AAP consumes a job.

Three lab nodes of its own (prefix ``it-runner``; what they simulate: tests/system/_site_lab.py).

Asserts on what AWX reads: the event stream (runner_on_ok, playbook_on_stats), per-host set_stats data with
``edgeai_report`` in the task results, and the artifacts (job_events/*.json, stdout, rc, status, fact_cache).
A second run must report changed == 0 for every host.
"""

from __future__ import annotations

import json

import pytest
from _site_lab import MARKS, REPO, SITE, hosts, site_lab

ansible_runner = pytest.importorskip("ansible_runner")

PREFIX = "it-runner"
HOSTS = hosts(PREFIX)

pytestmark = MARKS


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("site-runner")
    with site_lab(tmp, PREFIX, EDGEAI_FLEET_REPORT_DIR=str(tmp / "lab-report")) as env:
        yield tmp, env


def run_site(tmp, env, ident):
    # A fresh private data dir per job, as AWX does: runner keeps env/envvars from an earlier run in the same
    # directory over the envvars passed now. AWX runs from the project checkout with its ansible.cfg; runner's
    # cwd is <private_data_dir>/project, so point at the config and the collection explicitly. Runner adds the
    # jsonfile fact cache under artifacts/<ident>/fact_cache.
    private = tmp / "runner" / ident
    private.mkdir(parents=True)
    return ansible_runner.run(
        private_data_dir=str(private),
        playbook=str(SITE),
        inventory=str(tmp / "inventory" / "hosts.yml"),
        ident=ident,
        envvars={
            "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
            "ANSIBLE_COLLECTIONS_PATH": env["ANSIBLE_COLLECTIONS_PATH"],
            "CONTAINERS_CONF": env["CONTAINERS_CONF"],
            "EDGEAI_FLEET_REPORT_DIR": str(tmp / "report" / ident),
            # AWX gives every job its own SSH ControlPath directory; the shared ~/.ansible/cp would let this job
            # reuse a multiplexed master left by an earlier lab whose node had the same bridge address.
            "ANSIBLE_SSH_CONTROL_PATH_DIR": str(private / "cp"),
        },
        quiet=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def first(lab):
    tmp, env = lab
    return tmp, env, run_site(tmp, env, "converge")


def _untag(value):
    """ansible-core 2.19 stores tagged values as {"value": ..., "tags": [...], "__ansible_type": ...}."""
    if isinstance(value, dict):
        if "__ansible_type" in value and "value" in value:
            return _untag(value["value"])
        return {k: _untag(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_untag(v) for v in value]
    return value


def cached_facts(artifacts, host):
    """A host's facts from the run's jsonfile fact cache, in the layout AWX collects after the job.

    ansible-core >= 2.19 names the file s1_<host> and wraps the document in {"__payload__": "<json>"}
    (ansible/ansible#86028); ansible-runner 2.4's get_fact_cache() still reads <host> only
    (ansible/ansible-runner#1441), so read both layouts here.
    """
    for name in (host, f"s1_{host}"):
        path = artifacts / "fact_cache" / name
        if path.is_file():
            document = json.loads(path.read_text())
            if set(document) == {"__payload__"}:
                document = json.loads(document["__payload__"])
            return _untag(document)
    return {}


def _failure_text(run):
    return "\n".join(
        f"{e['event_data'].get('host')}: {e['event_data'].get('task')}: {e['event_data'].get('res', {}).get('msg')}"
        for e in run.events if e["event"] in ("runner_on_failed", "runner_on_unreachable"))


def test_events_report_every_host_and_no_failure(first):
    _tmp, _env_, run = first
    assert run.status == "successful", _failure_text(run)
    assert run.rc == 0
    events = list(run.events)

    ok_hosts = {e["event_data"]["host"] for e in events if e["event"] == "runner_on_ok"}
    assert ok_hosts == set(HOSTS)
    # The facts stage runs on every host and reaches AWX with the module's resolved name.
    facts = [e for e in events if e["event"] == "runner_on_ok"
             and e["event_data"].get("resolved_action") == "edgeai.fleet.gpu_info"]
    assert {e["event_data"]["host"] for e in facts} == set(HOSTS)
    assert facts[0]["event_data"]["res"]["ansible_facts"]["edgeai_gpu"]["platform"] in ("nvml", "tegra", "none")

    stats = [e for e in events if e["event"] == "playbook_on_stats"]
    assert len(stats) == 1
    data = stats[0]["event_data"]
    assert data["failures"] == {} and data["dark"] == {}, _failure_text(run)
    assert set(data["ok"]) == set(HOSTS)
    assert run.stats["failures"] == {}

    # Per-host set_stats reach AWX inside the task result (playbook_on_stats' artifact_data only carries
    # the global, per_host: false data that workflow nodes pass downstream).
    published = {}
    for e in events:
        res = e["event_data"].get("res", {}) if e["event"] == "runner_on_ok" else {}
        report = res.get("ansible_stats", {}).get("data", {}).get("edgeai_report")
        if report:
            assert res["ansible_stats"]["per_host"] is True
            published.setdefault(e["event_data"]["host"], {}).update(report)
    assert set(published) == set(HOSTS)
    assert all("model" in values and "p95_ms" in values for values in published.values())
    assert published[f"{PREFIX}-02"]["gpu"] != "none" and published[f"{PREFIX}-02"]["runtime"].startswith("nvidia on")
    # The image and GPU columns of the other hosts come from the facts modules' results, which AWX also receives.
    booted = {e["event_data"]["host"]: e["event_data"]["res"]["ansible_facts"]["edgeai_bootc"]
              for e in events if e["event"] == "runner_on_ok"
              and e["event_data"].get("resolved_action") == "edgeai.fleet.bootc_info"}
    assert set(booted) == set(HOSTS)
    assert booted[f"{PREFIX}-03"]["booted"]["image"].startswith("registry.example.com/edgeai/edge-os:")


def test_artifacts_are_what_awx_reads(first):
    tmp, _env_, run = first
    artifacts = tmp / "runner" / "converge" / "artifacts" / "converge"
    job_events = sorted((artifacts / "job_events").glob("*.json"))
    assert len(job_events) == len(list(run.events)) > 0
    loaded = [json.loads(p.read_text()) for p in job_events]
    assert {e["event"] for e in loaded} >= {"playbook_on_start", "runner_on_ok", "playbook_on_stats"}
    assert (artifacts / "rc").read_text().strip() == "0"
    assert (artifacts / "status").read_text().strip() == "successful"
    stdout = (artifacts / "stdout").read_text()
    assert "PLAY RECAP" in stdout and "FLEET REPORT" in stdout

    # Fact caching on (runner's jsonfile cache, as AWX's use_fact_cache): the GPU and bootc facts that
    # constructed inventory groups are built from are stored per host.
    for host in HOSTS:
        cached = cached_facts(artifacts, host)
        assert "edgeai_gpu" in cached and "edgeai_bootc" in cached, (host, sorted(cached))
    assert cached_facts(artifacts, f"{PREFIX}-02")["edgeai_gpu"]["count"] >= 1
    assert cached_facts(artifacts, f"{PREFIX}-03")["edgeai_bootc"]["is_bootc"] is True

    report = json.loads((tmp / "report" / "converge" / "fleet-report.json").read_text())
    assert set(report["hosts"]) == set(HOSTS)
    assert all(h["failure"] is None for h in report["hosts"].values())


def test_second_run_changes_nothing(first):
    tmp, env, _run = first
    again = run_site(tmp, env, "converged")
    assert again.status == "successful", _failure_text(again)
    stats = [e for e in again.events if e["event"] == "playbook_on_stats"][0]["event_data"]
    assert set(stats["ok"]) == set(HOSTS)
    changed = {host: stats["changed"].get(host, 0) for host in HOSTS}
    changed_tasks = [f"{e['event_data']['host']}: {e['event_data']['task']}" for e in again.events
                     if e["event"] == "runner_on_ok" and e["event_data"].get("res", {}).get("changed")]
    assert changed == dict.fromkeys(HOSTS, 0), changed_tasks
