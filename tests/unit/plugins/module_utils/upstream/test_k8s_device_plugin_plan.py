# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The plan means what NVIDIA/k8s-device-plugin v0.20.0 (1b826ac) does with the same config, case by case.

Capacity, GFD labels, ``failRequestsGreaterThanOne``, MIG strategies and MPS client limits, from upstream's test
tables (internal/lm/mig-strategy_test.go, internal/rm/rm_test.go, api/config/v1/config_test.go,
cmd/mps-control-daemon/mps/device_test.go, api/config/v1/resources_test.go), its README and chart, and the code
that builds the device map (internal/rm/device_map.go). Ids name the upstream file and test. GPUs come from the
``edgeai_gpu`` fact shape (a test double of gpu_info: no GPU is read); upstream's own tests use NVML mocks too.
"""
from __future__ import annotations

import pytest

from ansible_collections.edgeai.fleet.plugins.module_utils import _gpu_sharing_plan as p
from ansible_collections.edgeai.fleet.plugins.module_utils import _gpu_sharing_validate as v
from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError
from ansible_collections.edgeai.fleet.tests.unit.plugins.module_utils.gpu_sharing_facts import (
    A100_40, facts, gpu, mig_device)


def whole(index=0):
    return dict(A100_40, index=index, uuid="GPU-%d" % index)


def mig(index=0, *profiles):
    return gpu(index=index, mig=True, mig_devices=[mig_device(name, 4864, i) for i, name in enumerate(profiles)])


def plan(mig_strategy, sharing, gpus, **flags):
    doc = {"version": "v1", "flags": dict(flags, migStrategy=mig_strategy)}
    if sharing:
        doc["sharing"] = sharing
    return p.plan({"config": doc}, facts(*gpus))


def ts(replicas=2, name="nvidia.com/gpu", **block):
    return {"timeSlicing": dict(block, resources=[{"name": name, "replicas": replicas}])}


def mps(replicas=2, **block):
    return {"mps": dict(block, resources=[{"name": "nvidia.com/gpu", "replicas": replicas}])}


EIGHT = [whole(i) for i in range(8)]
README, DM = "README.md", "internal/rm/device_map.go"
# (id, migStrategy, sharing, gpus, capacity)
CAPACITY = [
    (README + "::With CUDA Time-Slicing/8-GPUs-replicas-10", "none", ts(10), EIGHT, {"nvidia.com/gpu": "80"}),
    (README + "::With CUDA Time-Slicing/renameByDefault", "none", ts(10, renameByDefault=True), EIGHT,
     {"nvidia.com/gpu.shared": "80"}),
    (README + "::With CUDA MPS/8-GPUs-replicas-10", "none", mps(10), EIGHT, {"nvidia.com/gpu": "80"}),
    (README + "::With CUDA MPS/renameByDefault", "none", mps(10, renameByDefault=True), EIGHT, {"nvidia.com/gpu.shared": "80"}),
    (DM + "::buildGPUDeviceMap/none-advertises-mig-enabled-gpus-whole", "none", ts(4), [mig(0, "1g.5gb", "1g.5gb")],
     {"nvidia.com/gpu": "4"}),
    (DM + "::buildMigDeviceMap/single-mig-devices-are-nvidia.com-gpu", "single", ts(4), [mig(0, *["1g.5gb"] * 7)],
     {"nvidia.com/gpu": "28"}),
    (DM + "::buildMigDeviceMap/single-without-mig-is-whole-gpus", "single", ts(4), [whole()], {"nvidia.com/gpu": "4"}),
    (DM + "::buildMigDeviceMap/mixed-shares-the-named-profile", "mixed", ts(3, "nvidia.com/mig-1g.5gb"),
     [mig(0, *["1g.5gb"] * 7), whole(1)], {"nvidia.com/mig-1g.5gb": "21", "nvidia.com/gpu": "1"}),
    (DM + "::buildMigDeviceMap/mixed-shares-whole-gpus-only", "mixed", ts(4), [mig(0, *["1g.5gb"] * 7), whole(1)],
     {"nvidia.com/mig-1g.5gb": "7", "nvidia.com/gpu": "4"}),
    (DM + "::buildMigDeviceMap/mixed-plus-becomes-dot", "mixed", None, [mig(0, "1g.10gb+me", "1g.10gb")],
     {"nvidia.com/mig-1g.10gb.me": "1", "nvidia.com/mig-1g.10gb": "1"}),
    (DM + "::assertAllMigDevicesAreValid/mixed-allows-an-empty-mig-gpu", "mixed", None, [mig(0), whole(1)],
     {"nvidia.com/gpu": "1"}),
    (DM + "::updateDeviceMapWithReplicas/renameByDefault-mig-single", "single", ts(4, renameByDefault=True),
     [mig(0, *["1g.5gb"] * 7)], {"nvidia.com/gpu.shared": "28"}),
    (DM + "::updateDeviceMapWithReplicas/absent-resource-is-skipped", "none", ts(3, "nvidia.com/mig-1g.5gb"), [whole()],
     {"nvidia.com/gpu": "1"}),
]


@pytest.mark.parametrize("mig_strategy,sharing,gpus,capacity", [c[1:] for c in CAPACITY], ids=[c[0] for c in CAPACITY])
def test_capacity(mig_strategy, sharing, gpus, capacity):
    assert plan(mig_strategy, sharing, gpus, mpsRoot="/run/nvidia/mps")["expected"]["capacity"] == capacity


MS = "internal/lm/mig-strategy_test.go"
# (id, migStrategy, sharing, gpus, upstream GFD labels): the plan's labels must all be among GFD's.
LABELS = [
    (MS + "::TestMigStrategyNoneLabels/single_non-mig_device_returns_non-mig_(none)_labels", "none", None, [whole()],
     {"nvidia.com/gpu.count": "1", "nvidia.com/gpu.replicas": "1", "nvidia.com/gpu.sharing-strategy": "none"}),
    (MS + "::TestMigStrategyNoneLabels/sharing_is_applied_to_single_device", "none", ts(2), [whole()],
     {"nvidia.com/gpu.count": "1", "nvidia.com/gpu.replicas": "2", "nvidia.com/gpu.sharing-strategy": "time-slicing"}),
    (MS + "::TestMigStrategyNoneLabels/sharing_is_applied_to_multiple_devices", "none", ts(2), [whole(0), whole(1)],
     {"nvidia.com/gpu.count": "2", "nvidia.com/gpu.replicas": "2", "nvidia.com/gpu.sharing-strategy": "time-slicing"}),
    (MS + "::TestMigStrategyNoneLabels/sharing_is_not_applied_to_single_MIG_device;_replicas_is_zero", "none", ts(2),
     [mig(0, "1g.5gb")], {"nvidia.com/gpu.count": "1", "nvidia.com/gpu.replicas": "0", "nvidia.com/gpu.sharing-strategy": "none"}),
    (MS + "::TestMigStrategyNoneLabels/sharing_is_not_applied_to_multiple_MIG_device;_replicas_is_zero", "none", ts(2),
     [mig(0, "1g.5gb"), mig(1, "1g.5gb")],
     {"nvidia.com/gpu.count": "2", "nvidia.com/gpu.replicas": "0", "nvidia.com/gpu.sharing-strategy": "none"}),
    (MS + "::TestMigStrategyNoneLabels/sharing_is_applied_to_MIG_device_and_non-MIG_device", "none", ts(2),
     [mig(0, "1g.5gb"), whole(1)],
     {"nvidia.com/gpu.count": "2", "nvidia.com/gpu.replicas": "2", "nvidia.com/gpu.sharing-strategy": "time-slicing"}),
    (MS + "::TestMigStrategySingleLabels/single_non-mig_device_returns_non-mig_(none)_labels", "single", None, [whole()],
     {"nvidia.com/gpu.count": "1", "nvidia.com/gpu.replicas": "1", "nvidia.com/gpu.sharing-strategy": "none",
      "nvidia.com/mig.strategy": "single"}),
    (MS + "::TestMigStrategySingleLabels/multiple_non-mig_device_returns_non-mig_(none)_labels", "single", None,
     [whole(0), whole(1)], {"nvidia.com/gpu.count": "2", "nvidia.com/gpu.replicas": "1",
                            "nvidia.com/gpu.sharing-strategy": "none", "nvidia.com/mig.strategy": "single"}),
    (MS + "::TestMigStrategySingleLabels/single_mig-enabled_device_returns_mig_labels", "single", None, [mig(0, "2g.10gb")],
     {"nvidia.com/gpu.count": "1", "nvidia.com/gpu.replicas": "1", "nvidia.com/gpu.sharing-strategy": "none",
      "nvidia.com/mig.strategy": "single"}),
    (MS + "::TestMigStrategySingleLabels/multiple_mig-enabled_devices_returns_mig_labels", "single", None,
     [mig(0, "2g.10gb"), mig(1, "2g.10gb")],
     {"nvidia.com/gpu.count": "2", "nvidia.com/gpu.replicas": "1", "nvidia.com/gpu.sharing-strategy": "none",
      "nvidia.com/mig.strategy": "single"}),
]


@pytest.mark.parametrize("mig_strategy,sharing,gpus,gfd", [c[1:] for c in LABELS], ids=[c[0] for c in LABELS])
def test_labels_are_gfd_labels(mig_strategy, sharing, gpus, gfd):
    labels = plan(mig_strategy, sharing, gpus)["expected"]["labels"]
    assert labels and labels.items() <= gfd.items()


# GFD labels these "mig-strategy-invalid" and the plugin's device map fails ("invalid MIG configuration").
SINGLE_INVALID = [
    (MS + "::TestMigStrategySingleLabels/empty_mig_devices_returns_MIG_invalid_label", [mig(0)]),
    (MS + "::TestMigStrategySingleLabels/mixed_mig_config_returns_MIG_invalid_label", [mig(0, "1g.5gb", "3g.20gb")]),
    (MS + "::TestMigStrategySingleLabels/mixed_mig_enabled_and_disabled_returns_invalid_config", [mig(0, "1g.5gb"), whole(1)]),
    (MS + "::TestMigStrategySingleLabels/enabled,_disabled,_and_empty_returns_invalid_config",
     [mig(0, "1g.5gb"), whole(1), mig(2)]),
]


@pytest.mark.parametrize("gpus", [c[1] for c in SINGLE_INVALID], ids=[c[0] for c in SINGLE_INVALID])
def test_single_is_refused_where_upstream_marks_it_invalid(gpus):
    with pytest.raises(FleetError) as caught:
        plan("single", None, gpus)
    assert caught.value.details["errors"][0].startswith("flags.migStrategy: single")


RM, CT = "internal/rm/rm_test.go::TestValidateRequest", "api/config/v1/config_test.go"
# (id, sharing, devices requested, refused). rm_test.go builds Sharing by hand; a config file always passes
# NewConfig, which config_test.go shows defaults MPS to true, so its "MPS with two devices" case (nil, built
# without NewConfig) has no config-file equivalent and is left out, as are the two unshared device-ID cases.
REQUESTS = [
    (RM + "/timeslicing_with_single_device", ts(2), 1, False),
    (RM + "/timeslicing_with_two_devices", ts(2), 2, False),
    (RM + "/timeslicing_with_two_devices_--_failRequestsGreaterThanOne", ts(2, failRequestsGreaterThanOne=True), 2, True),
    (RM + "/MPS_with_single_device", mps(2), 1, False),
    (RM + "/MPS_with_two_devices_--_failRequestsGreaterThanOne", mps(2, failRequestsGreaterThanOne=True), 2, True),
    (CT + "::TestNewConfigDefaultsMPSFailRequestsGreaterThanOne", mps(2), 2, True),
    (CT + "::TestNewConfigHonorsExplicitMPSFailRequestsGreaterThanOneFalse", mps(2, failRequestsGreaterThanOne=False), 2, False),
]


@pytest.mark.parametrize("sharing,count,refused", [c[1:] for c in REQUESTS], ids=[c[0] for c in REQUESTS])
def test_fail_requests_greater_than_one(sharing, count, refused):
    enforced = plan("none", sharing, [whole()], mpsRoot="/run/nvidia/mps")["expected"]["fail_requests_greater_than_one"]
    assert (count > 1 and enforced) is refused


DT = "cmd/mps-control-daemon/mps/device_test.go::TestDevice"
# (id, compute capability, replicas or None, max clients, replicas refused)
MPS_DEVICES = [
    (DT + "/leading_v_ignored", "v7.5", None, 48, False),
    (DT + "/no-leading_v_supported", "7.5", None, 48, False),
    (DT + "/pre-volta_clients", "7.0", None, 16, False),
    (DT + "/post-volta_clients", "9.0", None, 48, False),
    (DT + "/pre-volta_clients_exceeded", "7.0", 29, 16, True),
    (DT + "/post-volta_clients_exceeded", "9.0", 49, 48, True),
    (DT + "/pre-volta_clients_max", "7.0", 16, 16, False),
    (DT + "/post-volta_clients_max", "9.0", 48, 48, False),
]


@pytest.mark.parametrize("cc,replicas,limit,refused", [c[1:] for c in MPS_DEVICES], ids=[c[0] for c in MPS_DEVICES])
def test_mps_client_limit(cc, replicas, limit, refused):
    device = gpu(cc=cc, mig=None)
    assert v.mps_limit([device])[0] == limit
    if replicas is not None:
        assert bool(v.gpu_errors({"sharing": mps(replicas)}, [device])) is refused


RT = "api/config/v1/resources_test.go::TestResourcePatternMatches"
# Mixed-strategy resources are matched by exact profile (pattern = the profile's name), so distinct profiles
# must get distinct resource names. The five wildcard cases have no counterpart: the plugin's own patterns
# for MIG resources are exact names, and its "*" covers whole GPUs only.
PATTERNS = [
    (RT + "/exact_match", "1g.24gb", "1g.24gb", True),
    (RT + "/no_match_on_different_string", "1g.24gb", "2g.48gb", False),
    (RT + "/does_not_substring_match_with_suffix", "1g.24gb", "1g.24gb-me", False),
    (RT + "/does_not_substring_match_with_plus_suffix", "1g.24gb", "1g.24gb+me.all", False),
    (RT + "/does_not_substring_match_with_prefix", "1g.24gb", "x1g.24gb", False),
    (RT + "/dash-me_suffix_matches_its_own_pattern", "1g.24gb-me", "1g.24gb-me", True),
    (RT + "/plus-me.all_suffix_matches_its_own_pattern", "1g.24gb+me.all", "1g.24gb+me.all", True),
    (RT + "/gfx_suffix_matches_its_own_pattern", "1g.24gb+gfx", "1g.24gb+gfx", True),
    (RT + "/base_pattern_does_not_match_+gfx_suffix", "1g.24gb", "1g.24gb+gfx", False),
    (RT + "/gfx_pattern_does_not_match_base", "1g.24gb+gfx", "1g.24gb", False),
    (RT + "/gfx_pattern_does_not_match_-me_suffix", "1g.24gb+gfx", "1g.24gb-me", False),
    (RT + "/2g_gfx_suffix_matches_its_own_pattern", "2g.48gb+gfx", "2g.48gb+gfx", True),
    (RT + "/2g_base_does_not_match_+gfx_suffix", "2g.48gb", "2g.48gb+gfx", False),
]


@pytest.mark.parametrize("pattern,profile,same", [c[1:] for c in PATTERNS], ids=[c[0] for c in PATTERNS])
def test_mixed_resource_names_keep_profiles_apart(pattern, profile, same):
    assert (v.mixed_resource_name(pattern) == v.mixed_resource_name(profile)) is same
    assert v.resource_name_error(v.mixed_resource_name(profile)) is None


def test_mps_root_is_the_chart_default():
    """deployments/helm/nvidia-device-plugin/values.yaml mps.root, which the chart passes as MPS_ROOT."""
    result = p.plan({"strategy": "mps", "replicas": 4}, facts(whole()))
    assert result["device_plugin_config"]["flags"]["mpsRoot"] == "/run/nvidia/mps"
    assert result["mps"]["pipe_directory"] == "/run/nvidia/mps/nvidia.com/gpu/pipe"
