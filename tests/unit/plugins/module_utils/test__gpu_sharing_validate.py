# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One case per validation rule, plus NVIDIA's documented valid examples (shared/reference/gpu.md §1.2, §3)."""
from __future__ import annotations

import re

import pytest

from ansible_collections.edgeai.fleet.plugins.module_utils import _gpu_mig as mig
from ansible_collections.edgeai.fleet.plugins.module_utils import _gpu_sharing_validate as v
from ansible_collections.edgeai.fleet.plugins.module_utils import _gpu_vgpu as vgpu
from ansible_collections.edgeai.fleet.tests.unit.plugins.module_utils.gpu_sharing_facts import (
    A100_40, A100_MIG, H100, T4, V100, gpu)

TS = {"resources": [{"name": "nvidia.com/gpu", "replicas": 4}]}

# k8s-device-plugin README "As a configuration file", "With CUDA Time-Slicing", "With CUDA MPS", GPU Operator "any".
NVIDIA_VALID = {
    "readme-config-file": {"version": "v1", "flags": {"migStrategy": "none", "failOnInitError": True, "nvidiaDriverRoot": "/",
                                                      "plugin": {"passDeviceSpecs": False, "deviceListStrategy": "envvar",
                                                                 "deviceIDStrategy": "uuid"}}},
    "readme-time-slicing-generic": {"version": "v1", "sharing": {"timeSlicing": {
        "renameByDefault": False, "failRequestsGreaterThanOne": False,
        "resources": [{"name": "nvidia.com/gpu", "replicas": 2}]}}},
    "readme-time-slicing-10": {"version": "v1", "sharing": {"timeSlicing": {"resources": [{"name": "nvidia.com/gpu", "replicas": 10}]}}},
    "readme-mps-10": {"version": "v1", "sharing": {"mps": {"renameByDefault": True,
                                                           "resources": [{"name": "nvidia.com/gpu", "replicas": 10}]}}},
    "operator-any": {"version": "v1", "flags": {"migStrategy": "none"},
                     "sharing": {"timeSlicing": {"resources": [{"name": "nvidia.com/gpu", "replicas": 4}]}}},
    "no-version-means-v1": {"sharing": {"timeSlicing": TS}},
    "mixed-mig-time-slicing": {"version": "v1", "flags": {"migStrategy": "mixed"},
                               "sharing": {"timeSlicing": {"resources": [{"name": "nvidia.com/mig-1g.5gb", "replicas": 2}]}}},
    "device-list-list": {"version": "v1", "flags": {"plugin": {"deviceListStrategy": ["cdi-annotations", "volume-mounts"]}}},
    "imex": {"version": "v1", "imex": {"channelIDs": [0], "required": True}},
}


# Accepted by the plugin with no effect or with a plain meaning; refusing them had no upstream reason.
NVIDIA_VALID.update({
    "flags-null": {"version": "v1", "flags": None},
    "mig-strategy-null": {"flags": {"migStrategy": None, "plugin": None, "gfd": None}},
    "imex-channel-ids-null": {"imex": {"channelIDs": None}},
    "sleep-interval-number": {"flags": {"gfd": {"sleepInterval": 5}}},
    "sleep-interval-go-duration": {"flags": {"gfd": {"sleepInterval": "1h2m3.5s"}}},
    "sleep-interval-infinite": {"flags": {"gfd": {"sleepInterval": "infinite"}}},
    "version-empty": {"version": "", "sharing": {"timeSlicing": TS}},
    "replicas-float-without-fraction": {"sharing": {"timeSlicing": {"resources": [{"name": "gpu", "replicas": 2.0}]}}},
    "devices-all": {"sharing": {"timeSlicing": {"resources": [{"name": "gpu", "replicas": 2, "devices": "all"}]}}},
    "rename-by-default-null": {"sharing": {"timeSlicing": dict(TS, renameByDefault=None, failRequestsGreaterThanOne=None)}},
    "mps-null": {"sharing": {"mps": None, "timeSlicing": TS}},
})


@pytest.mark.parametrize("doc", NVIDIA_VALID.values(), ids=list(NVIDIA_VALID))
def test_nvidia_documented_examples_are_valid(doc):
    assert v.device_plugin_errors(doc) == []
    assert v.gpu_errors(doc, [A100_40]) == []


# (case id, document, field the error must name, words of the rule)
DEVICE_PLUGIN_RULES = [
    ("not-a-mapping", ["v1"], "config", "must be a mapping"),
    ("unknown-top-key", {"version": "v1", "sharring": {}}, "sharring", "unknown key"),
    ("misplaced-renameByDefault", {"flags": {"renameByDefault": True}}, "flags.renameByDefault", "silently ignore"),
    ("unknown-version", {"version": "v2"}, "version", "unknown version"),
    ("top-level-resources", {"resources": {"gpus": [{"pattern": "*", "name": "gpu"}]}}, "resources.gpus", "ignores"),
    ("no-resources", {"sharing": {"timeSlicing": {}}}, "sharing.timeSlicing.resources", "no resources specified"),
    ("empty-resources", {"sharing": {"mps": {"resources": []}}}, "sharing.mps.resources", "no resources specified"),
    ("no-name", {"sharing": {"timeSlicing": {"resources": [{"replicas": 2}]}}}, "resources[0].name", "no resource name"),
    ("no-replicas", {"sharing": {"timeSlicing": {"resources": [{"name": "gpu"}]}}}, "resources[0].replicas", "no replicas"),
    ("replicas-1", {"sharing": {"timeSlicing": {"resources": [{"name": "nvidia.com/gpu", "replicas": 1}]}}},
     "resources[0].replicas", ">= 2"),
    ("replicas-string", {"sharing": {"timeSlicing": {"resources": [{"name": "nvidia.com/gpu", "replicas": "4"}]}}},
     "resources[0].replicas", "integer"),
    ("rename-ignored", {"sharing": {"timeSlicing": {"resources": [{"name": "nvidia.com/gpu", "replicas": 2, "rename": "x"}]}}},
     "resources[0].rename", "discards"),
    ("devices-ignored", {"sharing": {"timeSlicing": {"resources": [{"name": "nvidia.com/gpu", "replicas": 2, "devices": [0]}]}}},
     "resources[0].devices", "discards"),
    ("unknown-resource-key", {"sharing": {"timeSlicing": {"resources": [{"name": "nvidia.com/gpu", "replicas": 2, "replica": 3}]}}},
     "resources[0].replica", "unknown key"),
    ("name-upper-case", {"sharing": {"timeSlicing": {"resources": [{"name": "nvidia.com/GPU", "replicas": 2}]}}},
     "resources[0].name", "DNS subdomain"),
    ("name-foreign-prefix", {"sharing": {"timeSlicing": {"resources": [{"name": "amd.com/gpu", "replicas": 2}]}}},
     "resources[0].name", "nvidia.com/"),
    ("name-too-long", {"sharing": {"timeSlicing": {"resources": [{"name": "nvidia.com/" + "g" * 64, "replicas": 2}]}}},
     "resources[0].name", "63"),
    ("name-not-shareable", {"sharing": {"timeSlicing": {"resources": [{"name": "nvidia.com/fpga", "replicas": 2}]}}},
     "resources[0].name", "time-slicing applies to"),
    ("mps-not-gpu", {"sharing": {"mps": {"resources": [{"name": "nvidia.com/mig-1g.5gb", "replicas": 2}]}}},
     "sharing.mps.resources[0].name", "only nvidia.com/gpu"),
    ("duplicate-name", {"sharing": {"timeSlicing": {"resources": [
        {"name": "nvidia.com/gpu", "replicas": 2}, {"name": "gpu", "replicas": 3}]}}}, "resources[1].name", "listed twice"),
    ("both-strategies", {"sharing": {"timeSlicing": TS, "mps": TS}}, "sharing", "silently uses mps"),
    ("unknown-sharing-key", {"sharing": {"timeslicing": TS}}, "sharing.timeslicing", "unknown key"),
    ("unknown-replicated-key", {"sharing": {"timeSlicing": dict(TS, failRequestsGreaterThan1=True)}},
     "sharing.timeSlicing.failRequestsGreaterThan1", "unknown key"),
    ("rename-by-default-not-bool", {"sharing": {"timeSlicing": dict(TS, renameByDefault="yes")}},
     "sharing.timeSlicing.renameByDefault", "boolean"),
    ("mps-with-mixed", {"flags": {"migStrategy": "mixed"}, "sharing": {"mps": TS}}, "flags.migStrategy", "mixed"),
    ("mig-strategy-enum", {"flags": {"migStrategy": "all"}}, "flags.migStrategy", "one of"),
    ("discovery-enum", {"flags": {"deviceDiscoveryStrategy": "jetson"}}, "flags.deviceDiscoveryStrategy", "one of"),
    ("list-strategy-enum", {"flags": {"plugin": {"deviceListStrategy": "cdi"}}}, "flags.plugin.deviceListStrategy",
     "one strategy or a list"),
    # flags.go deviceListStrategyFlag: a string is ONE strategy; only the command line splits at commas.
    ("list-strategy-comma-joined", {"flags": {"plugin": {"deviceListStrategy": "envvar,cdi-cri"}}},
     "flags.plugin.deviceListStrategy", "comma-joined"),
    ("resource-name-over-63-fully-qualified", {"sharing": {"timeSlicing": {"resources": [
        {"name": "mig-" + "g" * 49, "replicas": 2}]}}}, "resources[0].name", "63 characters or less"),
    ("sleep-interval-not-a-duration", {"flags": {"gfd": {"sleepInterval": "soon"}}}, "flags.gfd.sleepInterval",
     "invalid duration"),
    ("sleep-interval-boolean", {"flags": {"gfd": {"sleepInterval": True}}}, "flags.gfd.sleepInterval", "invalid duration"),
    ("imex-channel-boolean", {"imex": {"channelIDs": [False]}}, "imex.channelIDs", "not booleans"),
    ("replicas-boolean", {"sharing": {"timeSlicing": {"resources": [{"name": "gpu", "replicas": True}]}}},
     "resources[0].replicas", "not a boolean"),
    ("replicas-beyond-go-int", {"sharing": {"timeSlicing": {"resources": [{"name": "gpu", "replicas": 2 ** 63}]}}},
     "resources[0].replicas", "Go int"),
    ("replicas-fraction", {"sharing": {"timeSlicing": {"resources": [{"name": "gpu", "replicas": 2.5}]}}},
     "resources[0].replicas", "no fraction"),
    ("devices-bogus-string", {"sharing": {"timeSlicing": {"resources": [{"name": "gpu", "replicas": 2, "devices": "some"}]}}},
     "resources[0].devices", "only valid string"),
    ("time-slicing-null", {"sharing": {"timeSlicing": None}}, "sharing.timeSlicing.resources", "no resources specified"),
    ("id-strategy-enum", {"flags": {"plugin": {"deviceIDStrategy": "serial"}}}, "flags.plugin.deviceIDStrategy", "one of"),
    ("allocation-policy-enum", {"flags": {"plugin": {"sharedDevicesAllocationPolicy": "spread"}}},
     "flags.plugin.sharedDevicesAllocationPolicy", "one of"),
    ("bool-flag-type", {"flags": {"failOnInitError": "false"}}, "flags.failOnInitError", "boolean"),
    ("unknown-plugin-flag", {"flags": {"plugin": {"deviceListStrategies": "envvar"}}}, "flags.plugin.deviceListStrategies",
     "unknown key"),
    ("unknown-gfd-flag", {"flags": {"gfd": {"oneShot": True}}}, "flags.gfd.oneShot", "unknown key"),
    ("imex-channel", {"imex": {"channelIDs": [1]}}, "imex.channelIDs", "[] or [0]"),
    ("flags-not-mapping", {"flags": ["migStrategy"]}, "flags", "mapping"),
]


@pytest.mark.parametrize("doc,field,rule", [c[1:] for c in DEVICE_PLUGIN_RULES], ids=[c[0] for c in DEVICE_PLUGIN_RULES])
def test_device_plugin_rule(doc, field, rule):
    errors = v.device_plugin_errors(doc)
    assert any(e.split(": ", 1)[0].endswith(field) and rule in e for e in errors), errors


MPS = {"version": "v1", "sharing": {"mps": {"resources": [{"name": "nvidia.com/gpu", "replicas": 4}]}}}


def _mps(replicas):
    return {"version": "v1", "sharing": {"mps": {"resources": [{"name": "nvidia.com/gpu", "replicas": replicas}]}}}


GPU_RULES = [
    ("mps-on-mig-gpu", MPS, [A100_MIG], "sharing.mps", "MIG enabled"),
    ("mps-on-pending-mig", MPS, [gpu(mig={"current": False, "pending": True})], "sharing.mps", "MIG enabled"),
    ("mps-49-on-ampere", _mps(49), [A100_40], "sharing.mps.resources[0].replicas", "limit of 48"),
    ("mps-49-on-turing", _mps(49), [T4], "sharing.mps.resources[0].replicas", "limit of 48"),
    ("mps-17-on-volta", _mps(17), [V100], "sharing.mps.resources[0].replicas", "limit of 16"),
    ("mps-17-lowest-gpu-decides", _mps(17), [H100, V100], "sharing.mps.resources[0].replicas", "capability 7.0"),
]


@pytest.mark.parametrize("doc,gpus,field,rule", [c[1:] for c in GPU_RULES], ids=[c[0] for c in GPU_RULES])
def test_gpu_rule(doc, gpus, field, rule):
    errors = v.gpu_errors(doc, gpus)
    assert any(e.split(": ", 1)[0].endswith(field) and rule in e for e in errors), errors


@pytest.mark.parametrize("replicas,gpus", [(48, [A100_40]), (48, [T4]), (16, [V100]), (2, [A100_40, V100])])
def test_mps_limits_at_the_boundary_are_valid(replicas, gpus):
    assert v.gpu_errors(_mps(replicas), gpus) == []


def test_time_slicing_on_mig_gpus_is_not_an_mps_error():
    assert v.gpu_errors({"sharing": {"timeSlicing": TS}}, [A100_MIG]) == []


SINGLE_RULES = [
    ("mixed-mig-state", [(0, True, {"1g.5gb": 7}), (1, False, {})], "same MIG mode"),
    ("enabled-without-devices", [(0, True, {})], "without MIG devices"),
    ("two-profiles", [(0, True, {"1g.5gb": 2, "2g.10gb": 1})], "one MIG profile"),
    ("two-gpus-two-profiles", [(0, True, {"1g.5gb": 7}), (1, True, {"3g.20gb": 2})], "one MIG profile"),
]


@pytest.mark.parametrize("states,rule", [c[1:] for c in SINGLE_RULES], ids=[c[0] for c in SINGLE_RULES])
def test_single_strategy_rule(states, rule):
    assert rule in v.single_strategy_error(states)


@pytest.mark.parametrize("states", [[(0, True, {"1g.5gb": 7}), (1, True, {"1g.5gb": 7})], [(0, False, {})]])
def test_single_strategy_valid(states):
    assert v.single_strategy_error(states) is None


@pytest.mark.parametrize("name,ok", [("nvidia.com/gpu", True), ("gpu", True), ("nvidia.com/mig-1g.10gb", True),
                                     ("nvidia.com/gpu.shared", True), ("nvidia.com/-gpu", False), ("", False),
                                     ("nvidia.com/gpu_0", False), ("amd.com/gpu", False),
                                     # sigs.k8s.io/yaml turns a number into the string a Go string field wants.
                                     (7, True), (None, False), (["gpu"], False),
                                     ("nvidia.com/" + "g" * 52, True), ("nvidia.com/" + "g" * 53, False), ("g" * 53, False)])
def test_resource_name(name, ok):
    assert (v.resource_name_error(name) is None) is ok


# mig-parted README / api/spec/v1 (reference §3.1): the documented example is valid.
MIG_PARTED_VALID = {"version": "v1", "mig-configs": {
    "all-disabled": [{"devices": "all", "mig-enabled": False}],
    "all-1g.10gb": [{"device-filter": ["0x233010DE", "0x20B210DE"], "devices": "all", "mig-enabled": True,
                     "mig-devices": {"1g.10gb": 7}}],
    "custom-config": [{"devices": [0, 1, 2, 3], "mig-enabled": False},
                      {"devices": [4], "mig-enabled": True, "mig-devices": {"1g.5gb": 2, "2g.10gb": 1, "3g.20gb": 1}}],
    "all-enabled": [{"devices": "all", "mig-enabled": True, "mig-devices": {}}],
}}


def test_mig_parted_documented_example_is_valid():
    assert mig.mig_parted_errors(MIG_PARTED_VALID) == []


MIG_PARTED_RULES = [
    ("no-version", {"mig-configs": {"a": [{"devices": "all", "mig-enabled": False}]}}, "version", "v1"),
    ("unexpected-top", dict(MIG_PARTED_VALID, configs={}), "configs", "unexpected field"),
    ("no-configs", {"version": "v1", "mig-configs": {}}, "mig-configs", "at least one"),
    ("empty-config", {"version": "v1", "mig-configs": {"a": []}}, "mig-configs.a", "at least one entry"),
    ("unexpected-entry-field", {"version": "v1", "mig-configs": {"a": [{"devices": "all", "mig-enabled": False, "mig": 1}]}},
     "mig-configs.a[0].mig", "unexpected field"),
    ("no-devices", {"version": "v1", "mig-configs": {"a": [{"mig-enabled": False}]}}, "mig-configs.a[0].devices", "required"),
    ("bad-devices", {"version": "v1", "mig-configs": {"a": [{"devices": "0,1", "mig-enabled": False}]}},
     "mig-configs.a[0].devices", "list of GPU indexes"),
    ("no-mig-enabled", {"version": "v1", "mig-configs": {"a": [{"devices": "all"}]}}, "mig-configs.a[0].mig-enabled", "required"),
    ("enabled-without-devices", {"version": "v1", "mig-configs": {"a": [{"devices": "all", "mig-enabled": True}]}},
     "mig-configs.a[0].mig-devices", "required when mig-enabled"),
    ("disabled-with-devices", {"version": "v1", "mig-configs": {"a": [{"devices": "all", "mig-enabled": False,
                                                                      "mig-devices": {"1g.5gb": 1}}]}},
     "mig-configs.a[0].mig-devices", "must be empty"),
]


@pytest.mark.parametrize("doc,field,rule", [c[1:] for c in MIG_PARTED_RULES], ids=[c[0] for c in MIG_PARTED_RULES])
def test_mig_parted_rule(doc, field, rule):
    errors = mig.mig_parted_errors(doc)
    assert any(e.split(": ", 1)[0].endswith(field) and rule in e for e in errors), errors


VGPU_VALID = {"version": "v1", "vgpu-configs": {
    "T4-1Q": [{"devices": "all", "vgpu-devices": {"T4-1Q": 16}}],
    "T4-small": [{"devices": [0], "vgpu-devices": {"T4-1Q": 16}}, {"devices": [1], "vgpu-devices": {"T4-2Q": 8}}],
}}


def test_vgpu_documented_example_is_valid():
    assert vgpu.vgpu_errors(VGPU_VALID) == []


VGPU_RULES = [
    ("version", {"version": "v2", "vgpu-configs": VGPU_VALID["vgpu-configs"]}, "version", "v1"),
    ("unexpected-entry-field", {"version": "v1", "vgpu-configs": {"a": [{"devices": "all", "vgpu-devices": {"T4-1Q": 1},
                                                                        "mig-enabled": True}]}},
     "vgpu-configs.a[0].mig-enabled", "unexpected field"),
    ("zero-count", {"version": "v1", "vgpu-configs": {"a": [{"devices": "all", "vgpu-devices": {"T4-1Q": 0}}]}},
     "vgpu-configs.a[0].vgpu-devices.T4-1Q", "positive count"),
]


@pytest.mark.parametrize("doc,field,rule", [c[1:] for c in VGPU_RULES], ids=[c[0] for c in VGPU_RULES])
def test_vgpu_rule(doc, field, rule):
    errors = vgpu.vgpu_errors(doc)
    assert any(e.split(": ", 1)[0].endswith(field) and rule in e for e in errors), errors


def _entry(devices, mig_devices, **extra):
    return dict({"devices": devices, "mig-enabled": True, "mig-devices": mig_devices}, **extra)


LAYOUT_RULES = [
    ("profile-not-offered", [_entry("all", {"1g.6gb": 4})], [A100_40], "mig_layout[0].mig-devices", "not offered by A100-40GB"),
    ("80gb-profile-on-40gb", [_entry([0], {"1g.10gb": 7})], [A100_40], "mig_layout[0].mig-devices", "at most 4"),
    ("slices-overflow", [_entry("all", {"3g.20gb": 2, "2g.10gb": 1})], [A100_40], "mig_layout[0].mig-devices",
     "8 memory slices"),
    ("not-mig-capable", [_entry("all", {"1g.5gb": 1})], [T4], "mig_layout[0]", "not MIG-capable"),
    ("unknown-model", [_entry("all", {"1g.5gb": 1})],
     [gpu(name="NVIDIA RTX 6000 Ada Generation", memory=49140, pci="0x26B110DE")],
     "mig_layout[0]", "no MIG profile table"),
    ("missing-index", [_entry([3], {"1g.5gb": 1})], [A100_40], "mig_layout[0].devices", "does not exist"),
]


@pytest.mark.parametrize("entries,gpus,field,rule", [c[1:] for c in LAYOUT_RULES], ids=[c[0] for c in LAYOUT_RULES])
def test_mig_layout_rule(entries, gpus, field, rule):
    errors = mig.mig_layout_errors(entries, gpus)
    assert any(e.split(": ", 1)[0].endswith(field) and rule in e for e in errors), errors


def test_mig_layout_device_filter_skips_other_models():
    entries = [_entry("all", {"1g.10gb": 7}, **{"device-filter": ["0x233010DE"]})]
    assert mig.mig_layout_errors(entries, [A100_40, dict(H100, index=1)]) == []


def test_strategy_of_mps_wins_like_the_plugin():
    assert v.strategy_of({"sharing": {"timeSlicing": TS, "mps": TS}}) == "mps"
    assert v.strategy_of({"sharing": {"timeSlicing": TS}}) == "time-slicing"
    assert v.strategy_of({"version": "v1"}) == "none"


MALFORMED = [c[1] for c in DEVICE_PLUGIN_RULES] + [
    {"sharing": {"timeSlicing": {"resources": "gpu"}}}, {"sharing": {"timeSlicing": {"resources": [None, 5, "gpu"]}}},
    {"sharing": {"mps": []}}, {"sharing": "mps"}, {"imex": [0]}, {"imex": {"channelIDs": "0"}},
    {"resources": {"gpus": "all", "mig": [None]}}, {"flags": {"plugin": {"deviceListStrategy": [None, 5]}}},
    {"sharing": {"timeSlicing": {"resources": [{"name": None, "replicas": None, "devices": {}, "rename": 5}]}}},
]


@pytest.mark.parametrize("doc", MALFORMED)
def test_every_error_names_the_field_and_the_rule(doc):
    """No malformed value crashes the check; each error is "<field>: <rule>" with a dotted field path."""
    errors = v.device_plugin_errors(doc)
    assert errors
    for error in errors:
        assert re.match(r"^[A-Za-z][\w.\[\]-]*: \S", error), error
