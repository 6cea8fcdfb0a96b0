# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The kserve backend on a lab node, after converge and again after side_effect (the broken version 2 rolled back).

All real: systemd runs the collection's KServe V2 model server with ONNX Runtime from a venv the role filled offline
from the read-only wheelhouse mount; requests go to its KServe V2 REST endpoint on the node's loopback. The fleet
report is the JSON file the edgeai.fleet.fleet_report callback wrote for the last playbook run on the controller.
"""
from __future__ import annotations

import json
import math
import os

REPO = "/var/lib/edgeai/models/tiny"
VENV = "/var/lib/edgeai/kserve"
URL = "http://127.0.0.1:8000"


def _curl(host, path, body=None):
    args = ["curl", "-sS", "--max-time", "20", "-w", "\n%{http_code}", URL + path]
    if body is not None:
        args += ["-H", "Content-Type: application/json", "--data-binary", json.dumps(body)]
    out = host.check_output(" ".join(["%s"] * len(args)), *args)
    text, status = out.rsplit("\n", 1)
    return int(status), text


def test_service_enabled_and_running(host):
    service = host.service("edgeai-model-tiny.service")
    assert service.is_enabled and service.is_running


def test_version_1_serves_and_version_2_is_gone(host):
    assert host.file(REPO + "/current").is_symlink
    assert host.file(REPO + "/current").linked_to == REPO + "/1"
    # After side_effect the rejected version 2 is deleted, so only version 1 remains.
    assert not host.file(REPO + "/2").exists


def test_venv_installed_offline_from_the_wheelhouse(host):
    assert host.mount_point("/srv/edgeai-wheelhouse").exists
    assert "ro" in host.mount_point("/srv/edgeai-wheelhouse").options
    installed = {p["name"].lower(): p["version"]
                 for p in json.loads(host.check_output(VENV + "/bin/python -m pip list --format json"))}
    assert installed["onnxruntime"] == "1.32.0" and installed["numpy"] == "2.4.6"
    # The server speaks KServe V2 with the standard library: no kserve stack (fastapi, grpc, pandas, ...) at all.
    assert "kserve" not in installed and "openvino" not in installed and "grpcio" not in installed


# The served detector's budget (issue 14); the kserve-based server took 219-227 MiB in the lab for it.
PSS_BUDGET_MIB = 160


def test_served_model_memory_within_budget(host):
    """PSS of the server process after converge and verification (golden + timed requests), from smaps_rollup."""
    pid = host.check_output("systemctl show -p MainPID --value %s" % UNIT)
    # "Pss:   81234 kB" lines after the "<range> ---p 00000000 00:00 0 [rollup]" header
    rollup = {line.split()[0][:-1]: int(line.split()[1]) for line in
              host.file("/proc/%s/smaps_rollup" % pid).content_string.splitlines() if line.split()[0].endswith(":")}
    pss_mib = rollup["Pss"] / 1024.0
    print("edgeai-model-tiny PSS %.1f MiB, RSS %.1f MiB" % (pss_mib, rollup["Rss"] / 1024.0))
    assert pss_mib <= PSS_BUDGET_MIB, rollup


def test_v2_live_and_model_ready(host):
    assert _curl(host, "/v2/health/live")[0] == 200
    status, text = _curl(host, "/v2/models/tiny/ready")
    assert status == 200, text


def test_golden_inference_within_tolerance_on_cpu(host):
    golden = json.loads(host.file(REPO + "/current/golden.json").content_string)
    manifest = json.loads(host.file(REPO + "/current/manifest.json").content_string)
    status, text = _curl(host, "/v2/models/tiny/infer", {"inputs": golden["inputs"]})
    assert status == 200, text
    answer = json.loads(text)
    assert answer["model_version"] == "1"
    assert answer["parameters"]["device"] == "CPU" and answer["parameters"]["precision"] == "f32"
    got = {o["name"]: o["data"] for o in answer["outputs"]}
    for expected in golden["outputs"]:
        data = got[expected["name"]]
        assert len(data) == len(expected["data"])
        assert max(abs(a - b) for a, b in zip(data, expected["data"])) <= manifest["tolerance"]["max_abs"]
        dot = sum(a * b for a, b in zip(data, expected["data"]))
        norms = math.sqrt(sum(a * a for a in data)) * math.sqrt(sum(b * b for b in expected["data"]))
        assert dot / norms >= manifest["tolerance"]["min_cosine"]


def test_fleet_report_names_version_1():
    path = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "report", "fleet-report.json")
    with open(path, encoding="utf-8") as handle:
        report = json.load(handle)["hosts"]["model-serving-kserve"]["report"]
    assert report["model"] == "tiny"
    # After converge: "1" with the figures; after side_effect: "1 (rolled back from 2)".
    assert str(report["model_version"]) == "1" or report["model_version"] == "1 (rolled back from 2)"
    if str(report["model_version"]) == "1":
        assert report["device"] == "CPU" and report["precision"] == "fp32/f32"  # the artifact's precision, then the runtime's
        assert 0 < float(report["p50_ms"]) <= float(report["p95_ms"])
        assert report["gpu_needed"] == "no"
        # Judged on the lower of the artifact's compile-time p95 and this run's served p95, and saying which.
        assert report["gpu_basis"].split(" p95 ")[0] in ("compile", "served"), report["gpu_basis"]
        assert "<= budget 50 ms" in report["gpu_basis"], report["gpu_basis"]


# -- the server's exposure: who can reach it, as whom it runs, how much of the host it sees ---------------------------

UNIT = "edgeai-model-tiny.service"
# TEST-NET-1 (RFC 5737), added to the node's lo: a local but non-loopback address to send requests from and to.
FOREIGN = "192.0.2.10"


def test_server_binds_all_addresses_but_the_unit_filters_them(host):
    """The server binds 0.0.0.0 (as the kserve server did); only the unit's IP filter keeps the LAN out."""
    listening = host.check_output("ss -ltnH")
    assert "0.0.0.0:8000" in listening or "*:8000" in listening, listening
    shown = dict(line.split("=", 1) for line in host.check_output("systemctl show %s -p IPAddressDeny -p IPAddressAllow" % UNIT)
                 .splitlines())
    assert set(shown["IPAddressDeny"].split()) == {"0.0.0.0/0", "::/0"}, shown
    assert set(shown["IPAddressAllow"].split()) == {"127.0.0.0/8", "::1/128"}, shown


def test_unload_from_a_non_loopback_address_is_refused(host):
    """Attack: an unauthenticated POST to /v2/repository/models/<m>/unload from the network took the model down. From a
    non-loopback address the connection must not even complete; from loopback the server still answers."""
    host.run("ip address add %s/32 dev lo" % FOREIGN)  # already there on the second verify
    assert FOREIGN in host.check_output("ip -brief address show dev lo")
    refused = host.run("curl -sS --max-time 5 -o /dev/null -w '%%{http_code}' -X POST http://%s:8000/v2/repository/models/tiny/unload"
                       % FOREIGN)
    # 28: timed out (the filter drops the SYN-ACK's peer), 7: connection refused; never an HTTP answer.
    assert refused.rc in (7, 28), (refused.rc, refused.stdout, refused.stderr)
    assert _curl(host, "/v2/models/tiny/ready")[0] == 200


def test_server_runs_unprivileged_and_sandboxed(host):
    shown = dict(line.split("=", 1) for line in host.check_output(
        "systemctl show %s -p MainPID -p DynamicUser -p ProtectSystem -p ProtectHome -p PrivateTmp -p PrivateDevices "
        "-p NoNewPrivileges -p CapabilityBoundingSet -p RestrictAddressFamilies" % UNIT).splitlines())
    assert shown["DynamicUser"] == "yes" and shown["ProtectSystem"] == "strict" and shown["ProtectHome"] == "yes"
    assert shown["PrivateTmp"] == "yes" and shown["PrivateDevices"] == "yes" and shown["NoNewPrivileges"] == "yes"
    assert shown["CapabilityBoundingSet"] == ""
    assert set(shown["RestrictAddressFamilies"].split()) == {"AF_UNIX", "AF_INET", "AF_INET6"}
    status = host.file("/proc/%s/status" % shown["MainPID"]).content_string
    fields = dict(line.split(":", 1) for line in status.splitlines())
    assert fields["Uid"].split()[0] != "0" and int(fields["CapEff"], 16) == 0 and int(fields["CapBnd"], 16) == 0
    assert fields["NoNewPrivs"].strip() == "1" and fields["Seccomp"].strip() == "2"


def test_exposure_score_at_most_3(host):
    out = host.check_output("systemd-analyze security --no-pager %s" % UNIT)
    score = float(out.rsplit("Overall exposure level for %s: " % UNIT, 1)[1].split()[0])
    print("systemd-analyze security %s: %.1f" % (UNIT, score))
    assert score <= 3.0, out
