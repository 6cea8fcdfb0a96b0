# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Device-plugin config verdicts against NVIDIA/k8s-device-plugin v0.20.0 (1b826ac), case by case.

Every case is an input and the verdict upstream gives it, taken from upstream's own test tables, its README and
chart, or (ids under ``main.go``, ``flags.go``, ``sigs.k8s.io/yaml``...) from reading the code that decides it. The
id names the upstream file and test, so a change upstream can be traced to the case. Upstream tests feed JSON to
one decoder; here the same input is the whole config document the decoder is part of (a resource goes under
``sharing.timeSlicing.resources``, devices under a resource), because that is what the plugin reads.

Two checks per case: the errors upstream itself would raise (everything not marked ``(deliberate: ...)``) give
exactly upstream's verdict; and the collection's full verdict differs only where the case names a deliberate
refusal, which must then be the reason given. Go is not installed here, so the verdicts are read, not run.
"""
from __future__ import annotations

import os
import re

import pytest

from ansible_collections.edgeai.fleet.plugins.module_utils import _gpu_sharing_validate as v

UUID = "4cf8db2d-06c0-7d70-1a51-e59b25b2c16c"
_DELIBERATE = re.compile(r"\(deliberate: ([a-z-]+)\)$")


def ts(*resources, **block):
    """A document sharing ``resources`` by time-slicing."""
    return {"version": "v1", "sharing": {"timeSlicing": dict(block, resources=list(resources))}}


def res(name="gpu", replicas=2, **extra):
    return dict({"name": name, "replicas": replicas}, **extra)


def flags(**values):
    return {"version": "v1", "flags": values}


ACCEPT, REFUSE = True, False
F, R, IMEX = "api/config/v1/flags_test.go", "api/config/v1/replicas_test.go", "api/config/v1/imex_test.go"

# (id, document, upstream accepts, deliberate refusals this collection adds)
CASES = [
    # flags_test.go TestUnmarshalFlags: the empty input is not JSON; as a document, `flags` that is no mapping.
    (F + "::TestUnmarshalFlags/test_case_0", {"flags": ""}, REFUSE, ()),
    (F + "::TestUnmarshalFlags/test_case_1", flags(), ACCEPT, ()),
    (F + "::TestUnmarshalFlags/test_case_2", flags(gfd={}), ACCEPT, ()),
    (F + "::TestUnmarshalFlags/test_case_3", flags(gfd={"sleepInterval": 0}), ACCEPT, ()),
    (F + "::TestUnmarshalFlags/test_case_4", flags(gfd={"sleepInterval": "0s"}), ACCEPT, ()),
    (F + "::TestUnmarshalFlags/test_case_5", flags(gfd={"sleepInterval": 5}), ACCEPT, ()),
    (F + "::TestUnmarshalFlags/test_case_6", flags(gfd={"sleepInterval": "5s"}), ACCEPT, ()),
    (F + "::TestUnmarshalFlags/test_case_7", flags(gfd={"sleepInterval": "infinite"}), ACCEPT, ()),
    (F + "::TestUnmarshalFlags/test_case_8", flags(plugin={"deviceListStrategy": "envvar"}), ACCEPT, ()),
    (F + "::TestUnmarshalFlags/test_case_9", flags(plugin={"deviceListStrategy": ["envvar", "cdi-annotations"]}), ACCEPT, ()),
    # flags_test.go TestMarshalFlags: what the plugin writes must read back.
    (F + "::TestMarshalFlags/test_case_0", flags(migStrategy=None, failOnInitError=None, gdrcopyEnabled=None, gdsEnabled=None,
                                                 mofedEnabled=None, useNodeFeatureAPI=None, deviceDiscoveryStrategy=None),
     ACCEPT, ()),
    (F + "::TestMarshalFlags/test_case_1", flags(migStrategy=None, gfd={"oneshot": None, "noTimestamp": None, "outputFile": None,
                                                                        "sleepInterval": "0s", "machineTypeFile": None}),
     ACCEPT, ()),
    (F + "::TestMarshalFlags/test_case_2", flags(gfd={"sleepInterval": "5ns"}), ACCEPT, ()),
    (F + "::TestMarshalFlags/test_case_3", flags(gfd={"sleepInterval": "infinite"}), ACCEPT, ()),
    # imex_test.go TestImexUnmarshal (with main.go's AssertChannelIDsValid).
    (IMEX + "::TestImexUnmarshal/empty_json", {"imex": {}}, ACCEPT, ()),
    (IMEX + "::TestImexUnmarshal/null_channel_ID_is_valid", {"imex": {"channelIDs": None}}, ACCEPT, ()),
    (IMEX + "::TestImexUnmarshal/empty_channel_ID_is_valid", {"imex": {"channelIDs": []}}, ACCEPT, ()),
    (IMEX + "::TestImexUnmarshal/single_0_channel_ID_is_valid", {"imex": {"channelIDs": [0]}}, ACCEPT, ()),
    (IMEX + "::TestImexUnmarshal/single_0_channel_ID_as_int_is_valid", {"imex": {"channelIDs": [0]}}, ACCEPT, ()),
    (IMEX + "::TestImexUnmarshal/invalid_cases", {"imex": {"channelIDs": [2]}}, REFUSE, ()),
    # replicas_test.go TestUnmarshalReplicatedDevices, as `devices` of a shared nvidia.com/gpu. The empty input reads as null.
    (R + "::TestUnmarshalReplicatedDevices/test_case_0", ts(res(devices=None)), REFUSE, ()),
    (R + "::TestUnmarshalReplicatedDevices/test_case_1", ts(res(devices="not-all")), REFUSE, ()),
    (R + "::TestUnmarshalReplicatedDevices/test_case_2", ts(res(devices=-2)), REFUSE, ()),
    # The JSON literal 2.0 fails Go's int decoder; a YAML 2.0 reaches it as 2 (sigs.k8s.io/yaml), which the plugin reads.
    (R + "::TestUnmarshalReplicatedDevices/test_case_3(2.0-through-yaml)", ts(res(devices=2.0)), ACCEPT, ("devices",)),
    (R + "::TestUnmarshalReplicatedDevices/test_case_4", ts(res(devices=[-1])), REFUSE, ()),
    (R + "::TestUnmarshalReplicatedDevices/test_case_5", ts(res(devices=["-1"])), REFUSE, ()),
    (R + "::TestUnmarshalReplicatedDevices/test_case_6", ts(res(devices=["invalid-UUID"])), REFUSE, ()),
    (R + "::TestUnmarshalReplicatedDevices/test_case_7", ts(res(devices=["GPU-UUID"])), REFUSE, ()),
    (R + "::TestUnmarshalReplicatedDevices/test_case_8", ts(res(devices=["MIG-UUID"])), REFUSE, ()),
    (R + "::TestUnmarshalReplicatedDevices/test_case_9", ts(res(devices=["MIG-GPU-" + UUID])), REFUSE, ()),
    (R + "::TestUnmarshalReplicatedDevices/test_case_10", ts(res(devices="all")), ACCEPT, ()),
    (R + "::TestUnmarshalReplicatedDevices/test_case_11", ts(res(devices=2)), ACCEPT, ("devices",)),
    (R + "::TestUnmarshalReplicatedDevices/test_case_12", ts(res(devices=[0])), ACCEPT, ("devices",)),
    (R + "::TestUnmarshalReplicatedDevices/test_case_13", ts(res(devices=["0"])), ACCEPT, ("devices",)),
    (R + "::TestUnmarshalReplicatedDevices/test_case_14", ts(res(devices=["0:0"])), ACCEPT, ("devices",)),
    (R + "::TestUnmarshalReplicatedDevices/test_case_15", ts(res(devices=["GPU-" + UUID])), ACCEPT, ("devices",)),
    (R + "::TestUnmarshalReplicatedDevices/test_case_16", ts(res(devices=["MIG-" + UUID])), ACCEPT, ("devices",)),
    (R + "::TestUnmarshalReplicatedDevices/test_case_17", ts(res(devices=["MIG-GPU-%s/0/0" % UUID])), ACCEPT, ("devices",)),
    (R + "::TestUnmarshalReplicatedDevices/test_case_18", ts(res(devices=[0, "0:0", "GPU-" + UUID])), ACCEPT, ("devices",)),
    (R + "::TestUnmarshalReplicatedDevices/test_case_19", ts(res(devices=["0", "0:0", "GPU-" + UUID])), ACCEPT, ("devices",)),
    # replicas_test.go TestReplicatedDeviceRef: each kind of reference is a valid `devices` entry.
    (R + "::TestReplicatedDeviceRef/test_case_0", ts(res(devices=["0"])), ACCEPT, ("devices",)),
    (R + "::TestReplicatedDeviceRef/test_case_1", ts(res(devices=["0:0"])), ACCEPT, ("devices",)),
    (R + "::TestReplicatedDeviceRef/test_case_2", ts(res(devices=["GPU-" + UUID])), ACCEPT, ("devices",)),
    (R + "::TestReplicatedDeviceRef/test_case_3", ts(res(devices=["MIG-3eb87630-93d5-b2b6-b8ff-9b359caf4ee2"])), ACCEPT,
     ("devices",)),
    (R + "::TestReplicatedDeviceRef/test_case_4", ts(res(devices=["MIG-GPU-662077db-fa3f-0d8f-9502-21ab0ef058a2/10/0"])),
     ACCEPT, ("devices",)),
    # replicas_test.go TestMarshalReplicatedDevices: what the plugin writes reads back (the unmarshallable {} is no input).
    (R + "::TestMarshalReplicatedDevices/test_case_1", ts(res(devices="all")), ACCEPT, ()),
    (R + "::TestMarshalReplicatedDevices/test_case_2", ts(res(devices=2)), ACCEPT, ("devices",)),
    (R + "::TestMarshalReplicatedDevices/test_case_3", ts(res(devices=["0", "0:0", "GPU-" + UUID])), ACCEPT, ("devices",)),
    # replicas_test.go TestUnmarshalReplicatedResource (trailing commas of the JSON inputs dropped; the verdicts stand
    # without them). "valid" is nvidia.com/valid, a resource no node ever has.
    (R + "::TestUnmarshalReplicatedResource/test_case_0", ts(None), REFUSE, ()),
    (R + "::TestUnmarshalReplicatedResource/test_case_1", ts({}), REFUSE, ()),
    (R + "::TestUnmarshalReplicatedResource/test_case_2", ts({"name": "valid"}), REFUSE, ("not-shareable",)),
    (R + "::TestUnmarshalReplicatedResource/test_case_3", ts({"name": "valid", "devices": "all"}), REFUSE, ("not-shareable",)),
    (R + "::TestUnmarshalReplicatedResource/test_case_4", ts({"name": "valid", "devices": "all", "rename": "valid-shared"}),
     REFUSE, ("not-shareable", "rename")),
    (R + "::TestUnmarshalReplicatedResource/test_case_5", ts(res("valid", devices="all")), ACCEPT, ("not-shareable",)),
    (R + "::TestUnmarshalReplicatedResource/test_case_6", ts(res("valid", devices="all", rename="valid-shared")), ACCEPT,
     ("not-shareable", "rename")),
    (R + "::TestUnmarshalReplicatedResource/test_case_7", ts(res("valid", -1)), REFUSE, ("not-shareable",)),
    (R + "::TestUnmarshalReplicatedResource/test_case_8", ts(res("valid", 0)), REFUSE, ("not-shareable",)),
    (R + "::TestUnmarshalReplicatedResource/test_case_9", ts(res("valid")), ACCEPT, ("not-shareable",)),
    (R + "::TestUnmarshalReplicatedResource/test_case_10", ts(res("valid", rename="valid-shared")), ACCEPT,
     ("not-shareable", "rename")),
    (R + "::TestUnmarshalReplicatedResource/test_case_11", ts(res("$invalid$", rename="valid-shared")), REFUSE, ("rename",)),
    (R + "::TestUnmarshalReplicatedResource/test_case_12", ts(res("valid", rename="$invalid$")), REFUSE,
     ("not-shareable", "rename")),
    # replicas_test.go TestUnmarshalReplicatedResources; the empty input is a null block.
    (R + "::TestUnmarshalReplicatedResources/test_case_0", {"sharing": {"timeSlicing": None}}, REFUSE, ()),
    (R + "::TestUnmarshalReplicatedResources/test_case_1", {"sharing": {"timeSlicing": {}}}, REFUSE, ()),
    (R + "::TestUnmarshalReplicatedResources/test_case_2", ts(), REFUSE, ()),
    (R + "::TestUnmarshalReplicatedResources/test_case_3", ts(res("valid")), ACCEPT, ("not-shareable",)),
    (R + "::TestUnmarshalReplicatedResources/test_case_4", ts(res("valid1"), res("valid2")), ACCEPT, ("not-shareable",)),
    (R + "::TestUnmarshalReplicatedResources/test_case_5", ts(res("$invalid$")), REFUSE, ()),
    # api/config/v1/config_test.go: both documents load.
    ("api/config/v1/config_test.go::TestNewConfigDefaultsMPSFailRequestsGreaterThanOne",
     {"version": "v1", "sharing": {"mps": {"resources": [res("nvidia.com/gpu")]}}}, ACCEPT, ()),
    ("api/config/v1/config_test.go::TestNewConfigHonorsExplicitMPSFailRequestsGreaterThanOneFalse",
     {"version": "v1", "sharing": {"mps": {"failRequestsGreaterThanOne": False, "resources": [res("nvidia.com/gpu")]}}},
     ACCEPT, ()),
]

README = "README.md"
DOCUMENTED = [
    (README + "::As a configuration file", flags(migStrategy="none", failOnInitError=True, nvidiaDriverRoot="/", plugin={
        "passDeviceSpecs": False, "deviceListStrategy": "envvar", "deviceIDStrategy": "uuid"}), ACCEPT, ()),
    (README + "::dp-example-config0.yaml", flags(migStrategy="none", failOnInitError=True, nvidiaDriverRoot="/", plugin={
        "passDeviceSpecs": False, "deviceListStrategy": "envvar", "deviceIDStrategy": "uuid"}), ACCEPT, ()),
    (README + "::dp-example-config1.yaml", flags(migStrategy="mixed", failOnInitError=True, nvidiaDriverRoot="/", plugin={
        "passDeviceSpecs": False, "deviceListStrategy": "envvar", "deviceIDStrategy": "uuid"}), ACCEPT, ()),
    (README + "::With CUDA Time-Slicing/replicas-10", ts(res("nvidia.com/gpu", 10)), ACCEPT, ()),
    (README + "::With CUDA Time-Slicing/renameByDefault", ts(res("nvidia.com/gpu", 10), renameByDefault=True), ACCEPT, ()),
    (README + "::With CUDA MPS/replicas-10", {"version": "v1", "sharing": {"mps": {"resources": [res("nvidia.com/gpu", 10)]}}},
     ACCEPT, ()),
    (README + "::With CUDA MPS/renameByDefault", {"version": "v1", "sharing": {"mps": {
        "renameByDefault": True, "resources": [res("nvidia.com/gpu", 10)]}}}, ACCEPT, ()),
    (README + "::IMEX Support/[]", {"imex": {"channelIDs": []}}, ACCEPT, ()),
    (README + "::IMEX Support/[0]-not-required", {"imex": {"channelIDs": [0], "required": False}}, ACCEPT, ()),
    (README + "::IMEX Support/[0]-required", {"imex": {"channelIDs": [0], "required": True}}, ACCEPT, ()),
] + [
    # "the full set of time-sliceable resources" on a T4, an A100 40GB and an A100 80GB.
    (README + "::With CUDA Time-Slicing/time-sliceable/" + name, ts(res(name)), ACCEPT, ())
    for name in ("nvidia.com/gpu", "nvidia.com/mig-1g.5gb", "nvidia.com/mig-2g.10gb", "nvidia.com/mig-3g.20gb",
                 "nvidia.com/mig-7g.40gb", "nvidia.com/mig-1g.10gb", "nvidia.com/mig-2g.20gb", "nvidia.com/mig-3g.40gb",
                 "nvidia.com/mig-7g.80gb")
]

M, Y, C = "cmd/nvidia-device-plugin/main.go::validateFlags", "sigs.k8s.io/yaml+encoding/json", "api/config/v1"
# Verdicts read from the code (start-up validation, the decoders, the YAML-to-JSON step), no upstream test table.
READ = [
    (M + "/device-list-strategy-unknown", flags(plugin={"deviceListStrategy": "cdi"}), REFUSE, ()),
    (M + "/device-list-strategy-comma-joined-is-one-unknown-strategy", flags(plugin={"deviceListStrategy": "envvar,cdi-cri"}),
     REFUSE, ()),
    (M + "/device-list-strategy-empty-list", flags(plugin={"deviceListStrategy": []}), ACCEPT, ()),
    (M + "/device-list-strategy-null-means-default", flags(plugin={"deviceListStrategy": None}), ACCEPT, ()),
    (M + "/device-id-strategy", flags(plugin={"deviceIDStrategy": "serial"}), REFUSE, ()),
    (M + "/shared-devices-allocation-policy", flags(plugin={"sharedDevicesAllocationPolicy": "packed"}), ACCEPT, ()),
    (M + "/shared-devices-allocation-policy-unknown", flags(plugin={"sharedDevicesAllocationPolicy": "spread"}), REFUSE, ()),
    (M + "/mps-with-mig-strategy-mixed", {"flags": {"migStrategy": "mixed", "mpsRoot": "/run/nvidia/mps"},
                                          "sharing": {"mps": {"resources": [res()]}}}, REFUSE, ()),
    (M + "/mps-with-mig-strategy-single", {"flags": {"migStrategy": "single", "mpsRoot": "/run/nvidia/mps"},
                                           "sharing": {"mps": {"resources": [res()]}}}, ACCEPT, ()),
    (M + "/device-discovery-strategy", flags(deviceDiscoveryStrategy="tegra"), ACCEPT, ()),
    (M + "/device-discovery-strategy-unknown", flags(deviceDiscoveryStrategy="jetson"), REFUSE, ()),
    (M + "/mig-strategy-unknown", flags(migStrategy="all"), REFUSE, ()),
    (M + "/mig-strategy-null-means-default-none", flags(migStrategy=None), ACCEPT, ()),
    (M + "/imex-channel-ids-boolean", {"imex": {"channelIDs": [False]}}, REFUSE, ()),
    (M + "/imex-channel-ids-two", {"imex": {"channelIDs": [0, 0]}}, REFUSE, ()),
    (C + "/config.go::parseConfigFrom/version-empty-means-v1", {"version": "", "flags": {}}, ACCEPT, ()),
    (C + "/config.go::parseConfigFrom/version-absent-means-v1", {"flags": {}}, ACCEPT, ()),
    (C + "/config.go::parseConfigFrom/version-null-means-v1", {"version": None}, ACCEPT, ()),
    (C + "/config.go::parseConfigFrom/unknown-version", {"version": "v2"}, REFUSE, ()),
    (C + "/config.go::Config/flags-null", {"version": "v1", "flags": None}, ACCEPT, ()),
    (C + "/config.go::Config/sharing-null", {"version": "v1", "sharing": None}, ACCEPT, ()),
    (C + "/config.go::Config/imex-null", {"version": "v1", "imex": None}, ACCEPT, ()),
    (C + "/config.go::Config/unknown-top-key-ignored", {"version": "v1", "sharring": {}}, ACCEPT, ("unknown-key",)),
    (C + "/config.go::DisableResourceNamingInConfig/top-level-resources-discarded",
     {"resources": {"gpus": [{"pattern": "*", "name": "gpu"}]}}, ACCEPT, ("top-level-resources",)),
    (C + "/resources.go::Resource.UnmarshalJSON/no-pattern", {"resources": {"gpus": [{"name": "gpu"}]}}, REFUSE,
     ("top-level-resources",)),
    (C + "/resources.go::NewResourceName/63-characters", ts(res("nvidia.com/mig-" + "g" * 48)), ACCEPT, ("not-shareable",)),
    (C + "/resources.go::NewResourceName/64-characters", ts(res("nvidia.com/mig-" + "g" * 49)), REFUSE, ()),
    (C + "/resources.go::NewResourceName/prefix-added", ts(res("gpu")), ACCEPT, ()),
    (C + "/resources.go::NewResourceName/foreign-prefix", ts(res("amd.com/gpu")), REFUSE, ()),
    (C + "/resources.go::NewResourceName/upper-case", ts(res("nvidia.com/GPU")), REFUSE, ()),
    (C + "/replicas.go::ReplicatedResource/replicas-1", ts(res(replicas=1)), REFUSE, ()),
    (C + "/replicas.go::ReplicatedResource/replicas-null-is-0", ts(res(replicas=None)), REFUSE, ()),
    (C + "/replicas.go::ReplicatedResources/renameByDefault-null-is-false", ts(res(), renameByDefault=None), ACCEPT, ()),
    (C + "/replicas.go::ReplicatedResources/renameByDefault-string", ts(res(), renameByDefault="true"), REFUSE, ()),
    (C + "/replicas.go::ReplicatedResources/unknown-key-ignored", ts(res(), replica=3), ACCEPT, ("unknown-key",)),
    (C + "/replicas.go::ReplicatedResource/rename-null-is-an-invalid-name", ts(res(rename=None)), REFUSE, ("rename",)),
    (C + "/replicas.go::ReplicatedResource/rename-discarded", ts(res(rename="gpu.shared")), ACCEPT, ("rename",)),
    (C + "/replicas.go::ReplicatedResource/duplicate-name", ts(res(), res("nvidia.com/gpu", 3)), ACCEPT, ("duplicate-resource",)),
    (C + "/sharing.go::Sharing/mps-null-is-unset", {"sharing": {"mps": None, "timeSlicing": {"resources": [res()]}}}, ACCEPT, ()),
    (C + "/sharing.go::SharingStrategy/mps-beats-time-slicing", {"sharing": {"mps": {"resources": [res()]},
                                                                             "timeSlicing": {"resources": [res()]}}},
     ACCEPT, ("mps-and-time-slicing",)),
    (C + "/sharing.go::Sharing/time-slicing-mig-resource", ts(res("nvidia.com/mig-1g.5gb")), ACCEPT, ()),
    (C + "/sharing.go::Sharing/mps-mig-resource-matches-nothing", {"sharing": {"mps": {"resources": [res("mig-1g.5gb")]}}},
     ACCEPT, ("not-shareable",)),
    (C + "/flags.go::CommandLineFlags/unknown-flag-ignored", flags(renameByDefault=True), ACCEPT, ("unknown-key",)),
    (C + "/duration.go::Duration/not-a-duration", flags(gfd={"sleepInterval": "soon"}), REFUSE, ()),
    (C + "/duration.go::Duration/go-duration-grammar", flags(gfd={"sleepInterval": "1h2m3.5s"}), ACCEPT, ()),
    (C + "/duration.go::Duration/fraction-of-nanoseconds-as-number", flags(gfd={"sleepInterval": 1.5}), ACCEPT, ()),
    (C + "/duration.go::Duration/boolean", flags(gfd={"sleepInterval": True}), REFUSE, ()),
    (C + "/duration.go::Duration/missing-unit", flags(gfd={"sleepInterval": "10"}), REFUSE, ()),
    (C + "/duration.go::Duration/overflow", flags(gfd={"sleepInterval": "3000000h"}), REFUSE, ()),
    (Y + "/replicas-float-without-fraction", ts(res(replicas=2.0)), ACCEPT, ()),
    (Y + "/replicas-fraction", ts(res(replicas=2.5)), REFUSE, ()),
    (Y + "/replicas-boolean", ts(res(replicas=True)), REFUSE, ()),
    (Y + "/replicas-string", ts(res(replicas="4")), REFUSE, ()),
    (Y + "/replicas-int64-max", ts(res(replicas=2 ** 63 - 1)), ACCEPT, ()),
    (Y + "/replicas-beyond-int64", ts(res(replicas=2 ** 63)), REFUSE, ()),
    (Y + "/number-into-string-flag", flags(mpsRoot=5), ACCEPT, ()),
    (Y + "/number-into-resource-name", ts(res(7)), ACCEPT, ("not-shareable",)),
    (Y + "/string-into-boolean-flag", flags(failOnInitError="false"), REFUSE, ()),
    (Y + "/number-into-version", {"version": 1}, REFUSE, ()),
    (Y + "/list-into-flags", {"flags": ["migStrategy"]}, REFUSE, ()),
]

ALL = CASES + DOCUMENTED + READ


def _split(errors):
    deliberate = [m.group(1) for m in map(_DELIBERATE.search, errors) if m]
    return [e for e in errors if not _DELIBERATE.search(e)], deliberate


@pytest.mark.parametrize("doc,accepts", [(c[1], c[2]) for c in ALL], ids=[c[0] for c in ALL])
def test_upstream_verdict(doc, accepts):
    """The errors upstream itself would raise: none exactly when upstream accepts."""
    upstream, _deliberate = _split(v.device_plugin_errors(doc))
    assert (upstream == []) is accepts, upstream


@pytest.mark.parametrize("doc,accepts,deviations", [c[1:] for c in ALL], ids=[c[0] for c in ALL])
def test_only_documented_deviations(doc, accepts, deviations):
    """The full verdict adds exactly the deliberate refusals the case names, each a documented one."""
    _upstream, deliberate = _split(v.device_plugin_errors(doc))
    assert sorted(set(deliberate)) == sorted(deviations)
    assert set(deliberate) <= set(v.DELIBERATE)


DOCS = os.path.join(os.path.dirname(os.path.abspath(__file__)), *[os.pardir] * 5, "docs", "gpu-sharing.md")


@pytest.mark.skipif(not os.path.exists(DOCS), reason="docs/ is not part of this test payload")
def test_every_deliberate_refusal_is_documented():
    with open(DOCS, encoding="utf-8") as handle:
        text = handle.read()
    for deviation in v.DELIBERATE:
        assert "`%s`" % deviation in text, deviation
