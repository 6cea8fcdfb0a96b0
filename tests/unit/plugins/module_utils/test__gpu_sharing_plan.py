# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The sharing plan: auto rule table, replicas, rendering, keys, policy errors and the Kubernetes rollout decision."""
from __future__ import annotations

import re

import pytest
import yaml

from ansible_collections.edgeai.fleet.plugins.module_utils import _gpu_profiles as profiles
from ansible_collections.edgeai.fleet.plugins.module_utils import _gpu_sharing_plan as p
from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError
from ansible_collections.edgeai.fleet.tests.unit.plugins.module_utils.gpu_sharing_facts import (
    A30, A100_40, A100_80, A100_MIG, H100, NO_GPU, P4, T4, TEGRA, V100, VGPU_HOST, facts, gpu, mig_device)

TWO_A100 = facts(A100_40, dict(A100_40, index=1, uuid="GPU-b"))

# (rule id, policy, facts, strategy): one row per row of the auto rule table in docs/gpu-sharing.md.
AUTO_RULES = [
    ("no-gpu", {"replicas": 4}, NO_GPU, "none"),
    ("vgpu-host", {"vgpu_type": "T4-1Q", "vgpu_count": 16}, VGPU_HOST, "vgpu"),
    ("vgpu-host", {}, VGPU_HOST, "none"),
    ("tegra", {"replicas": 2}, TEGRA, "time-slicing"),
    ("tegra", {}, TEGRA, "none"),
    ("strict-mig", {"isolation": "strict"}, facts(A100_40), "mig"),
    ("strict-no-mig", {"isolation": "strict", "replicas": 4}, facts(T4), "none"),
    ("strict-no-mig", {"isolation": "strict"}, facts(A100_40, dict(T4, index=1)), "none"),
    ("mig-enabled", {"replicas": 4, "latency_sensitive": True}, facts(A100_MIG), "mig"),
    ("not-requested", {}, facts(A100_40), "none"),
    ("latency", {"replicas": 4, "latency_sensitive": True}, facts(T4), "mps"),
    ("latency-pre-volta", {"replicas": 4, "latency_sensitive": True}, facts(P4), "time-slicing"),
    ("default", {"replicas": 4}, facts(A100_40), "time-slicing"),
    ("default", {"memory_per_replica": "4GiB"}, facts(T4), "time-slicing"),
]


@pytest.mark.parametrize("rule,policy,gpu_facts,strategy", AUTO_RULES, ids=["%s-%s" % (r[0], r[3]) for r in AUTO_RULES])
def test_auto_rule_table(rule, policy, gpu_facts, strategy):
    result = p.plan(dict(policy, strategy="auto"), gpu_facts)
    assert (result["rule"], result["strategy"]) == (rule, strategy)
    assert result["reason"]


def test_auto_is_the_default_and_explicit_strategies_say_so():
    assert p.plan({"replicas": 2}, facts(A100_40))["rule"] == "default"
    result = p.plan({"strategy": "mps", "replicas": 2}, facts(A100_40))
    assert (result["rule"], result["reason"]) == ("explicit", "strategy mps set by policy")


def test_auto_keeps_the_current_mig_layout():
    result = p.plan({}, facts(A100_MIG))
    (name, entries), = result["mig"]["config"]["mig-configs"].items()
    assert name == result["mig"]["name"] and name.startswith("custom-")
    assert entries == [{"devices": [0], "mig-enabled": True, "mig-devices": {"1g.5gb": 7}}]
    assert result["device_plugin_config"]["flags"]["migStrategy"] == "single"


TIME_SLICING_YAML = """version: v1
flags:
  migStrategy: none
sharing:
  timeSlicing:
    resources:
    - name: nvidia.com/gpu
      replicas: 4
"""


def test_time_slicing_renders_the_gpu_operator_example_exactly():
    result = p.plan({"strategy": "time-slicing", "replicas": 4}, TWO_A100)
    assert result["device_plugin_config_yaml"] == TIME_SLICING_YAML
    assert result["expected"] == {"capacity": {"nvidia.com/gpu": "8"},
                                  "labels": {"nvidia.com/gpu.sharing-strategy": "time-slicing", "nvidia.com/gpu.replicas": "4"},
                                  "fail_requests_greater_than_one": False}


def test_mps_renders_readme_shape_with_limits():
    result = p.plan({"strategy": "mps", "replicas": 4, "rename_by_default": True}, TWO_A100)
    assert result["device_plugin_config"]["sharing"] == {
        "mps": {"renameByDefault": True, "resources": [{"name": "nvidia.com/gpu", "replicas": 4}]}}
    assert result["device_plugin_config"]["flags"] == {"migStrategy": "none", "mpsRoot": "/run/nvidia/mps"}
    # root.go PipeDir: <mpsRoot>/<advertised resource>/pipe, the resource renamed by renameByDefault.
    assert result["mps"] == {
        "root": "/run/nvidia/mps", "pipe_directory": "/run/nvidia/mps/nvidia.com/gpu.shared/pipe",
        "active_thread_percentage": 25, "pinned_memory_limits": [
            {"index": 0, "uuid": A100_40["uuid"], "limit_mib": 10240}, {"index": 1, "uuid": "GPU-b", "limit_mib": 10240}]}
    assert result["expected"]["capacity"] == {"nvidia.com/gpu.shared": "8"}
    assert result["expected"]["labels"]["nvidia.com/mps.capable"] == "true"


def test_none_renders_a_plain_config_without_sharing():
    result = p.plan({"strategy": "none"}, facts(A100_40))
    assert result["device_plugin_config"] == {"version": "v1", "flags": {"migStrategy": "none"}}
    assert re.match(r"^none-[0-9a-f]{8}$", result["config_key"])
    assert result["replicas"] is None and result["expected"]["capacity"] == {"nvidia.com/gpu": "1"}


@pytest.mark.parametrize("policy", [
    {"strategy": "time-slicing", "replicas": 3, "fail_requests_greater_than_one": True},
    {"strategy": "mps", "replicas": 48, "flags": {"plugin": {"deviceListStrategy": ["envvar", "cdi-cri"]}}},
    {"strategy": "mig", "mig_layout": "all-balanced"},
])
def test_rendered_yaml_parses_back_to_the_document(policy):
    result = p.plan(policy, facts(A100_40, dict(A100_80, index=1)))
    assert yaml.safe_load(result["device_plugin_config_yaml"]) == result["device_plugin_config"]
    if result["mig"]:
        assert yaml.safe_load(result["mig_parted_config_yaml"]) == result["mig"]["config"]


def test_config_key_is_content_addressed():
    first = p.plan({"strategy": "time-slicing", "replicas": 4}, facts(A100_40))
    again = p.plan({"strategy": "time-slicing", "replicas": 4}, facts(A100_40))
    other = p.plan({"strategy": "time-slicing", "replicas": 4, "rename_by_default": True}, facts(A100_40))
    assert first["config_key"] == again["config_key"]
    assert re.match(r"^time-slicing-4-[0-9a-f]{8}$", first["config_key"])
    assert other["config_key"] != first["config_key"] and other["config_key"].startswith("time-slicing-4-")
    assert p.plan({"strategy": "mig", "mig_layout": "all-1g.5gb"}, facts(A100_40))["config_key"].startswith("mig-single-")


@pytest.mark.parametrize("gpus,memory,replicas", [
    ((A100_40,), "10GiB", 4), ((A100_40,), "10240", 4), ((A100_40,), "10g", 4), ((A100_40, dict(A100_80, index=1)), "20Gi", 2),
    ((T4,), "4096MiB", 3), ((H100,), "7.5GiB", 10), ((A100_MIG,), "2GiB", 2),
])
def test_replicas_from_memory_per_replica_per_gpu_model(gpus, memory, replicas):
    result = p.plan({"strategy": "time-slicing", "memory_per_replica": memory}, facts(*gpus))
    assert result["replicas"] == replicas
    assert [g["index"] for g in result["replicas_per_gpu"]] == [g["index"] for g in gpus]


@pytest.mark.parametrize("value", ["ten", "10TB", "-1", "0"])
def test_memory_per_replica_must_be_a_size(value):
    with pytest.raises(FleetError, match="memory_per_replica"):
        p.plan({"strategy": "time-slicing", "memory_per_replica": value}, facts(A100_40))


# (case id, policy, facts, field the message must name, words of the rule)
POLICY_RULES = [
    ("replicas-below-2", {"strategy": "time-slicing", "replicas": 1}, facts(A100_40), "replicas:", ">= 2"),
    ("replicas-missing", {"strategy": "mps"}, facts(A100_40), "replicas:", "needs replicas"),
    ("replicas-with-none", {"strategy": "none", "replicas": 4}, facts(A100_40), "replicas:", "only time-slicing and mps"),
    ("layout-without-mig", {"strategy": "time-slicing", "replicas": 2, "mig_layout": "all-1g.5gb"}, facts(A100_40),
     "mig_layout:", "only strategy mig"),
    ("mps-mixed", {"strategy": "mps", "replicas": 2, "mig_strategy": "mixed"}, facts(A100_40), "mig_strategy:", "mixed"),
    ("mps-on-mig", {"strategy": "mps", "replicas": 2}, facts(A100_MIG), "sharing.mps:", "MIG enabled"),
    ("mps-client-limit", {"strategy": "mps", "replicas": 49}, facts(A100_40), "sharing.mps.resources[0].replicas:", "48"),
    ("mps-client-limit-volta", {"strategy": "mps", "replicas": 20}, facts(V100), "sharing.mps.resources[0].replicas:", "16"),
    ("bad-resource-name", {"strategy": "time-slicing", "replicas": 2, "resource_name": "nvidia.com/GPU"}, facts(A100_40),
     "resources[0].name:", "DNS subdomain"),
    ("unknown-flag", {"strategy": "time-slicing", "replicas": 2, "flags": {"renameByDefault": True}}, facts(A100_40),
     "flags.renameByDefault:", "silently ignore"),
    ("profile-not-offered", {"strategy": "mig", "mig_layout": "all-1g.10gb"}, facts(A30), "mig_layout:", "does not offer"),
    ("explicit-profile-not-offered", {"strategy": "mig", "mig_layout": [
        {"devices": "all", "mig-enabled": True, "mig-devices": {"1g.6gb": 4}}]}, facts(A100_40),
     "mig_layout[0].mig-devices:", "not offered"),
    ("mig-not-capable", {"strategy": "mig", "mig_layout": "all-1g.5gb"}, facts(T4), "mig_layout:", "MIG-capable"),
    ("mig-unknown-name", {"strategy": "mig", "mig_layout": "balanced"}, facts(A100_40), "mig_layout:", "not a known name"),
    ("single-over-mixed-state", {"strategy": "mig", "mig_strategy": "single", "mig_layout": [
        {"devices": [0], "mig-enabled": True, "mig-devices": {"1g.5gb": 7}}]}, TWO_A100, "mig_strategy:", "same MIG mode"),
    ("single-current-mixed-state", {"strategy": "time-slicing", "replicas": 2, "mig_strategy": "single"},
     facts(A100_MIG, dict(A100_40, index=1)), "mig_strategy:", "same MIG mode"),
    ("mig-entry-schema", {"strategy": "mig", "mig_layout": [{"devices": "all", "mig-enabled": True}]}, facts(A100_40),
     "mig-configs.", "required when mig-enabled"),
    ("vgpu-not-host", {"strategy": "vgpu", "vgpu_type": "A100-1-5C", "vgpu_count": 7}, facts(A100_40), "vgpu_type:", "vGPU host"),
    ("vgpu-wrong-model", {"strategy": "vgpu", "vgpu_type": "A10-4Q", "vgpu_count": 6}, VGPU_HOST, "vgpu_type:", "is Tesla T4"),
    ("vgpu-bad-name", {"strategy": "vgpu", "vgpu_type": "T4", "vgpu_count": 6}, VGPU_HOST, "vgpu_type:", "not a vGPU type"),
    ("vgpu-count", {"strategy": "vgpu", "vgpu_type": "T4-1Q", "vgpu_count": 0}, VGPU_HOST, "vgpu_count:", "positive"),
    ("no-gpu", {"strategy": "time-slicing", "replicas": 2}, NO_GPU, "gpu_facts:", "libnvidia-ml.so.1 not found"),
    ("tegra-mps", {"strategy": "mps", "replicas": 2}, TEGRA, "strategy:", "not available on Jetson"),
    ("memory-too-large", {"strategy": "time-slicing", "memory_per_replica": "10GiB"}, facts(T4), "memory_per_replica:",
     "1 replica(s)"),
    ("raw-config-invalid", {"config": {"version": "v1", "sharing": {"timeSlicing": {"resources": [{"name": "gpu", "replicas": 1}]}}}},
     facts(A100_40), "sharing.timeSlicing.resources[0].replicas:", ">= 2"),
]


@pytest.mark.parametrize("policy,gpu_facts,field,rule", [c[1:] for c in POLICY_RULES], ids=[c[0] for c in POLICY_RULES])
def test_policy_rule(policy, gpu_facts, field, rule):
    with pytest.raises(FleetError) as caught:
        p.plan(policy, gpu_facts)
    errors = caught.value.details.get("errors") or [caught.value.msg]
    assert any(field in e and rule in e for e in errors), errors
    assert "nothing was applied" in caught.value.msg or len(errors) == 1


def test_every_problem_is_reported_at_once():
    with pytest.raises(FleetError) as caught:
        p.plan({"strategy": "mps", "replicas": 1, "mig_strategy": "mixed"}, facts(A100_40))
    assert [e.split(":")[0] for e in caught.value.details["errors"]] == ["replicas", "mig_strategy"]


def test_mps_root_is_rendered_and_can_be_moved():
    result = p.plan({"strategy": "mps", "replicas": 4, "mps_root": "/var/run/mps"}, facts(A100_40))
    assert result["device_plugin_config"]["flags"]["mpsRoot"] == "/var/run/mps"
    assert result["mps"]["pipe_directory"] == "/var/run/mps/nvidia.com/gpu/pipe"
    assert "mpsRoot: /var/run/mps" in result["device_plugin_config_yaml"]
    assert "mpsRoot" not in p.plan({"strategy": "time-slicing", "replicas": 4}, facts(A100_40))["device_plugin_config"]["flags"]


def test_raw_mps_config_without_mps_root_warns():
    result = p.plan({"config": {"sharing": {"mps": {"resources": [{"name": "gpu", "replicas": 2}]}}}}, facts(A100_40))
    assert any(w.startswith("flags.mpsRoot: unset") for w in result["warnings"])


def test_raw_config_is_read_as_the_plugin_reads_it():
    """version "", migStrategy null and replicas 2.0 mean v1, none and 2 to the plugin; the key and YAML say so."""
    doc = {"version": "", "flags": {"migStrategy": None, "gfd": {"sleepInterval": 5}},
           "imex": {"channelIDs": None}, "sharing": {"timeSlicing": {"resources": [{"name": "gpu", "replicas": 2.0}]}}}
    result = p.plan({"config": doc}, facts(A100_40))
    assert result["config_key"].startswith("time-slicing-2-")
    assert result["device_plugin_config"]["version"] == "v1"
    assert result["device_plugin_config"]["flags"] == {"migStrategy": "none", "gfd": {"sleepInterval": 5}}
    assert result["device_plugin_config"]["sharing"]["timeSlicing"]["resources"] == [{"name": "gpu", "replicas": 2}]
    assert result["expected"]["capacity"] == {"nvidia.com/gpu": "2"}


MIG_1G = gpu(mig=True, mig_devices=[mig_device("1g.5gb", 4864, i) for i in range(7)])
MIG_MIXED_PROFILES = gpu(index=1, mig=True, mig_devices=[mig_device("3g.20gb", 19968, 0), mig_device("1g.5gb", 4864, 1)])
MIG_EMPTY = gpu(index=1, mig=True, mig_devices=[])


@pytest.mark.parametrize("gpus,rule", [
    ([MIG_1G, dict(A100_40, index=1)], "same MIG mode"),
    ([MIG_1G, MIG_MIXED_PROFILES], "one MIG profile"),
    ([MIG_EMPTY], "without MIG devices"),
], ids=["mig-on-and-off", "mixed-profiles", "mig-on-without-devices"])
def test_raw_config_single_is_refused_where_the_plugin_refuses_it(gpus, rule):
    """internal/rm/device_map.go: single needs one MIG mode, one MIG device type and devices on every MIG GPU."""
    with pytest.raises(FleetError) as caught:
        p.plan({"config": {"flags": {"migStrategy": "single"}}}, facts(*gpus))
    assert caught.value.details["errors"][0].startswith("flags.migStrategy: single")
    assert rule in caught.value.details["errors"][0]


def _raw(mig_strategy, sharing, *gpus):
    return p.plan({"config": {"flags": {"migStrategy": mig_strategy}, "sharing": sharing}}, facts(*gpus))


TS_GPU_4 = {"timeSlicing": {"resources": [{"name": "nvidia.com/gpu", "replicas": 4}]}}
TS_1G_3 = {"timeSlicing": {"resources": [{"name": "nvidia.com/mig-1g.5gb", "replicas": 3}]}}


# Capacity with MIG on and off, single and mixed, is in upstream/test_k8s_device_plugin_plan.py.


def test_sharing_a_mig_resource_the_node_lacks_warns_and_shares_nothing():
    result = _raw("none", TS_1G_3, A100_40)
    assert result["strategy"] == "time-slicing"
    assert result["expected"]["labels"] == {"nvidia.com/gpu.sharing-strategy": "none"}
    assert any("nvidia.com/mig-1g.5gb matches no device" in w for w in result["warnings"])


def test_mixed_labels_name_the_shared_profile():
    labels = _raw("mixed", TS_1G_3, MIG_1G)["expected"]["labels"]
    # GFD labels the MIG-enabled GPU itself as an unshared nvidia.com/gpu with replicas 0 (internal/lm/mig-strategy.go).
    assert labels == {"nvidia.com/mig-1g.5gb.sharing-strategy": "time-slicing", "nvidia.com/mig-1g.5gb.replicas": "3",
                      "nvidia.com/gpu.sharing-strategy": "none", "nvidia.com/gpu.replicas": "0",
                      "nvidia.com/mig.strategy": "mixed"}


def test_mixed_resource_name_replaces_plus():
    assert p.validate.mixed_resource_name("1g.10gb+me") == "nvidia.com/mig-1g.10gb.me"


def test_raw_config_is_validated_and_keyed():
    doc = {"version": "v1", "sharing": {"mps": {"renameByDefault": True, "resources": [{"name": "nvidia.com/gpu", "replicas": 10}]}}}
    result = p.plan({"config": doc}, facts(A100_40))
    assert (result["strategy"], result["replicas"]) == ("mps", 10)
    assert result["config_key"].startswith("mps-10-")
    assert result["device_plugin_config"]["flags"] == {"migStrategy": "none"}


def test_mig_layouts_render_mig_parted_format():
    result = p.plan({"strategy": "mig", "mig_layout": "all-1g.10gb"}, facts(A100_80, dict(H100, index=1)))
    name = result["mig"]["name"]
    assert re.match(r"^all-1g\.10gb-[0-9a-f]{8}$", name)
    assert result["mig"]["config"] == {"version": "v1", "mig-configs": {name: [
        # one entry for both boards, as mig-parted's own config-default.yaml groups them
        {"device-filter": ["0x20B210DE", "0x233010DE"], "devices": "all", "mig-enabled": True,
         "mig-devices": {"1g.10gb": 7}}]}}
    assert result["mig_parted_config_yaml"].splitlines()[3] == '  - device-filter: ["0x20B210DE", "0x233010DE"]'
    # GFD labels the MIG devices that single advertises as nvidia.com/gpu, unshared here (internal/lm/mig-strategy.go).
    assert result["expected"] == {"capacity": {"nvidia.com/gpu": "14"}, "fail_requests_greater_than_one": None,
                                  "labels": {"nvidia.com/mig.strategy": "single", "nvidia.com/gpu.sharing-strategy": "none"}}


def test_mig_disabled_returns_to_whole_gpus():
    result = p.plan({"strategy": "mig", "mig_layout": "all-disabled"}, facts(A100_MIG))
    assert list(result["mig"]["config"]["mig-configs"].values()) == [[{"devices": "all", "mig-enabled": False}]]
    assert result["mig"]["name"].startswith("all-disabled-")
    assert result["device_plugin_config"]["flags"]["migStrategy"] == "none"


def test_mixed_mig_strategy_expects_per_profile_resources():
    result = p.plan({"strategy": "mig", "mig_layout": "all-balanced"}, facts(A30))
    assert result["device_plugin_config"]["flags"]["migStrategy"] == "mixed"
    assert result["expected"]["capacity"] == {"nvidia.com/mig-1g.6gb": "2", "nvidia.com/mig-2g.12gb": "1"}


def test_vgpu_renders_vgpu_device_manager_format():
    result = p.plan({"strategy": "vgpu", "vgpu_type": "T4-1Q", "vgpu_count": 16}, VGPU_HOST)
    assert result["vgpu"] == {"name": "T4-1Q", "config": {"version": "v1", "vgpu-configs": {
        "T4-1Q": [{"devices": "all", "vgpu-devices": {"T4-1Q": 16}}]}}}
    assert yaml.safe_load(result["vgpu_config_yaml"]) == result["vgpu"]["config"]
    assert result["expected"] == {"capacity": {}, "labels": {}, "fail_requests_greater_than_one": None}


def test_mps_fail_requests_false_warns_about_plugin_version():
    result = p.plan({"strategy": "mps", "replicas": 2, "fail_requests_greater_than_one": False}, facts(A100_40))
    assert "v0.20.0" in result["warnings"][0]


# (case id, desired key, current ConfigMap data, current node label, write_key, relabel, restart)
ROLLOUT = [
    ("fresh-node", "ts-4-aaaa", {}, None, True, True, False),
    ("converged", "ts-4-aaaa", {"ts-4-aaaa": "DOC"}, "ts-4-aaaa", False, False, False),
    ("new-content-new-key", "ts-8-bbbb", {"ts-4-aaaa": "OLD"}, "ts-4-aaaa", True, True, False),
    ("same-key-edited-content", "any", {"any": "OLD"}, "any", True, False, True),
    ("key-written-label-pending", "ts-4-aaaa", {"ts-4-aaaa": "DOC"}, "none-cccc", False, True, False),
    ("label-set-key-missing", "ts-4-aaaa", {}, "ts-4-aaaa", True, False, False),
]


@pytest.mark.parametrize("key,data,label,write_key,relabel,restart", [r[1:] for r in ROLLOUT], ids=[r[0] for r in ROLLOUT])
def test_rollout_decision(key, data, label, write_key, relabel, restart):
    decision = p.rollout_decision(key, "DOC", data, label)
    assert (decision["write_key"], decision["relabel"], decision["restart"]) == (write_key, relabel, restart)
    assert decision["reason"]


def test_plan_adds_rollout_when_the_cluster_state_is_given():
    first = p.plan({"strategy": "time-slicing", "replicas": 4}, facts(A100_40))
    result = p.plan({"strategy": "time-slicing", "replicas": 4, "current_node_key": first["config_key"],
                     "current_config_data": {first["config_key"]: first["device_plugin_config_yaml"]}}, facts(A100_40))
    assert result["rollout"] == {"write_key": False, "relabel": False, "restart": False,
                                 "reason": "node already runs %s" % first["config_key"]}
    assert "rollout" not in first


@pytest.mark.parametrize("name,memory,key", [
    ("NVIDIA A100-SXM4-40GB", 40960, ("A100", 40)), ("NVIDIA A100-PCIE-40GB", 40536, ("A100", 40)),
    ("NVIDIA A100 80GB PCIe", 81920, ("A100", 80)), ("NVIDIA H100 80GB HBM3", 81559, ("H100", 80)),
    ("NVIDIA H100 NVL", 95830, ("H100", 94)), ("NVIDIA GH200 480GB", 97871, ("H100", 96)),
    ("NVIDIA GH200 144G HBM3e", 146081, ("H200", 141)), ("NVIDIA H200", 143771, ("H200", 141)),
    ("NVIDIA H800", 81559, ("H800", 80)), ("NVIDIA B200", 183359, ("B200", 180)), ("NVIDIA A30", 24576, ("A30", 24)),
])
def test_profile_table_per_model(name, memory, key):
    """Facts without a PCI id (hand-written, offline planning) fall back to the product name."""
    assert profiles.table_for(gpu(name=name, memory=memory, pci=None))[0] == key


@pytest.mark.parametrize("name", ["Tesla T4", "NVIDIA GeForce RTX 4090", "Orin (nvgpu)", None])
def test_no_profile_table_for_non_mig_models(name):
    assert profiles.table_for(gpu(name=name, pci=None)) is None


@pytest.mark.parametrize("layout,gpu_fact,devices", [
    ("all-1g.10gb", A100_80, {"1g.10gb": 7}), ("all-3g.20gb", A100_40, {"3g.20gb": 2}), ("all-7g.80gb", H100, {"7g.80gb": 1}),
    ("all-balanced", H100, {"1g.10gb": 2, "2g.20gb": 1, "3g.40gb": 1}), ("all-balanced", A30, {"1g.6gb": 2, "2g.12gb": 1}),
    ("all-enabled", A100_40, {}), ("all-1g.6gb", A100_40, None),
])
def test_named_layouts(layout, gpu_fact, devices):
    table = profiles.table_for(gpu_fact)
    assert profiles.named_layout(layout, table) == devices
    if devices is not None:
        assert profiles.check_layout(devices, table) is None


def test_mig_devices_memory_bounds_replicas():
    mig = gpu(mig=True, mig_devices=[mig_device("3g.20gb", 19968, 0), mig_device("3g.20gb", 19968, 1)])
    result = p.plan({"strategy": "time-slicing", "memory_per_replica": "9GiB"}, facts(mig))
    assert result["replicas"] == 2 and result["device_plugin_config"]["flags"]["migStrategy"] == "single"


def test_null_policy_flags_are_unset_not_rendered():
    result = p.plan({"strategy": "time-slicing", "replicas": 2, "flags": {"migStrategy": None, "gfd": {"oneshot": None}}},
                    facts(A100_40))
    assert result["device_plugin_config"]["flags"] == {"migStrategy": "none", "gfd": {}}
    assert result["expected"]["capacity"] == {"nvidia.com/gpu": "2"}
