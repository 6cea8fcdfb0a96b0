# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""vgpu-device-manager's own verdicts, as tables: NVIDIA/vgpu-device-manager acb7270.

Each id names the upstream file and test; inputs and verdicts are upstream's, the tests are ours.
"""

from __future__ import annotations

import pytest

from ansible_collections.edgeai.fleet.plugins.module_utils import _gpu_vgpu as vgpu
from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError

TYPES = "pkg/types/types_test.go"
# TestParseVGPUType
PARSE = [
    ("Empty device type", "", False), ("Valid Q-Series (A16-8Q)", "A16-8Q", True),
    ("Valid A-Series (A16-8A)", "A16-8A", True), ("Valid B-Series (A16-8B)", "A16-8B", True),
    ("Valid C-Series (A16-8C)", "A16-8C", True), ("Invalid series", "A16-8E", False),
    ("Valid A100-5C", "A100-5C", True), ("Invalid ' A100-5C'", " A100-5C", False),
    ("Invalid 'A100 -5C'", "A100 -5C", False), ("Invalid 'A100- 5C'", "A100- 5C", False),
    ("Invalid 'A100-5C '", "A100-5C ", False), ("Valid A100-1-5C", "A100-1-5C", True),
    ("Invalid ' A100-1-5C'", " A100-1-5C", False), ("Invalid 'A100 -1-5C'", "A100 -1-5C", False),
    ("Invalid 'A100- 1-5C'", "A100- 1-5C", False), ("Invalid 'A100-1 -5C'", "A100-1 -5C", False),
    ("Invalid 'A100-1- 5C'", "A100-1- 5C", False), ("Invalid 'A100-1-5 C'", "A100-1-5 C", False),
    ("Invalid 'A100-1-5C '", "A100-1-5C ", False), ("Valid A100-1-5CME", "A100-1-5CME", True),
    ("Valid A100-1-5CNOME", "A100-1-5CNOME", True), ("Valid A100-1-5CMEALL", "A100-1-5CMEALL", True),
    ("Valid A100-1-5CGFX", "A100-1-5CGFX", True), ("Invalid 'A100-1-5Cme'", "A100-1-5Cme", False),
    ("Invalid 'A100-1-5C ME'", "A100-1-5C Me", False), ("Invalid 'A100-1-5Cab'", "A100-1-5Cab", False),
    ("Invalid bogus", "bogus", False), ("Valid RTX6000-Ada-2Q", "RTX6000-Ada-2Q", True),
]
# The type names the issue lists as refused before, all in upstream's examples/config-example.yaml, and the
# documented ones of vgpu_type.go's comment.
EXAMPLES = ["A100D-80C", "H100XM-1-10C", "H100L-94C", "H200X-141C", "B200X-180C", "V100D-16Q", "RTXA6000-48Q",
            "RTX6000-Ada-2Q", "DC-1-24CGFX", "M60-0Q", "A100-40C", "6000D-1-42C", "a100-40c"]
# TestVGPUConfigAssertValid
ASSERT_VALID = [
    ("Empty config", {}, True), ("Valid config - one entry", {"A100-5C": 1}, True),
    ("Valid config - multiple entries", {"A100-5C": 1, "A100-8C": 1}, True),
    ("Invalid config - invalid count", {"A100-5C": -1}, False),
    ("Invalid config - all zero counts", {"A100-5C": 0, "A100-8C": 0}, False),
    ("Invalid config - malformed vGPU type", {"A100-5c": 1}, False),
    ("Invalid config - both time-sliced and MIG-back devices", {"A100-5C": 1, "A100-1-5C": 1}, False),
    ("Valid config - RTX Ada device", {"RTX6000-Ada-2Q": 24}, True),
]
SPEC = "api/spec/v1/spec.go"
# Spec.UnmarshalJSON / VGPUConfigSpec.UnmarshalJSON rules, read in the source.
SPEC_CASES = [
    ("empty document", None, True),
    ("empty mapping: the version is checked only inside the key loop", {}, True),
    ("missing version", {"vgpu-configs": {"a": [{"devices": "all", "vgpu-devices": {"T4-1Q": 16}}]}}, False),
    ("wrong version", {"version": "v2"}, False),
    ("unexpected field", {"version": "v1", "bogus": 1}, False),
    ("empty vgpu-configs", {"version": "v1", "vgpu-configs": {}}, False),
    ("empty config", {"version": "v1", "vgpu-configs": {"a": []}}, False),
    ("missing devices", {"version": "v1", "vgpu-configs": {"a": [{"vgpu-devices": {"T4-1Q": 16}}]}}, False),
    ("missing vgpu-devices", {"version": "v1", "vgpu-configs": {"a": [{"devices": "all"}]}}, False),
    ("devices string != all", {"version": "v1", "vgpu-configs": {"a": [{"devices": "bogus", "vgpu-devices": {}}]}}, False),
    ("devices int", {"version": "v1", "vgpu-configs": {"a": [{"devices": 5, "vgpu-devices": {}}]}}, False),
    ("empty vgpu-devices", {"version": "v1", "vgpu-configs": {"a": [{"devices": [0], "vgpu-devices": {}}]}}, True),
    ("device-filter list", {"version": "v1", "vgpu-configs": {"a": [{"device-filter": ["0x1EB810DE"], "devices": "all",
                                                                    "vgpu-devices": {"T4-1Q": 16}}]}}, True),
    ("zero count", {"version": "v1", "vgpu-configs": {"a": [{"devices": "all", "vgpu-devices": {"T4-1Q": 0}}]}}, False),
]


@pytest.mark.parametrize("name, valid", [c[1:] for c in PARSE], ids=["%s::TestParseVGPUType-%s" % (TYPES, c[0]) for c in PARSE])
def test_parse_vgpu_type(name, valid):
    assert (vgpu.parse_vgpu_type(name) is not None) is valid


@pytest.mark.parametrize("name", EXAMPLES, ids=["examples/config-example.yaml::%s" % n for n in EXAMPLES])
def test_example_type_names(name):
    assert (vgpu.parse_vgpu_type(name) is not None) is (name != "a100-40c")


@pytest.mark.parametrize("devices, valid", [c[1:] for c in ASSERT_VALID],
                         ids=["%s::TestVGPUConfigAssertValid-%s" % (TYPES, c[0]) for c in ASSERT_VALID])
def test_vgpu_config_assert_valid(devices, valid):
    errors = vgpu.vgpu_errors({"version": "v1", "vgpu-configs": {"a": [{"devices": "all", "vgpu-devices": devices}]}})
    assert (errors == []) is valid, errors


@pytest.mark.parametrize("doc, valid", [c[1:] for c in SPEC_CASES], ids=["%s::%s" % (SPEC, c[0]) for c in SPEC_CASES])
def test_spec(doc, valid):
    assert (vgpu.vgpu_errors(doc) == []) is valid, vgpu.vgpu_errors(doc)


@pytest.mark.parametrize("vgpu_type, profile", [("A100-1-5C", "1g.5gb"), ("A100-1-5CME", "1g.5gb+me"),
                                                ("A100-1-5CNOME", "1g.5gb-me"), ("DC-1-24CGFX", "1g.24gb+gfx"),
                                                ("DC-2-48CMEALL", "2g.48gb+me.all"), ("A100-40C", None)],
                         ids=lambda v: "api/spec/v1/spec.go::ToMigConfigSpecSlice-%s" % v)
def test_mig_backed_type_to_profile(vgpu_type, profile):
    assert vgpu.mig_profile_of(vgpu_type) == profile


def _host(pci, name, memory=81920, types=None):
    gpu = {"index": 0, "name": name, "pci_device_id": pci, "memory_total_mib": memory, "virtualization_mode": "host_vgpu"}
    if types is not None:
        gpu["vgpu_types"] = types
    return gpu


BOARD_CASES = [
    ("40GB type on an A100 80GB PCIe board", "A100-40C", _host("0x20B510DE", "NVIDIA A100 80GB PCIe"), False),
    ("A100D type on an A100 80GB PCIe board", "A100D-80C", _host("0x20B510DE", "NVIDIA A100 80GB PCIe"), True),
    ("V100D on a V100 32GB board", "V100D-16Q", _host("0x1DB610DE", "Tesla V100-PCIE-32GB"), True),
    ("H100XM on an H100 SXM board", "H100XM-1-10C", _host("0x233010DE", "NVIDIA H100 80GB HBM3"), True),
    ("unknown board: grammar only", "Z9-4Q", _host("0x999910DE", "NVIDIA Future"), True),
    ("driver list wins over the table", "A100-40C", _host("0x20B510DE", "NVIDIA A100 80GB PCIe", types=[{"name": "A100-40C"}]), True),
    ("driver list refuses", "A100D-80C", _host("0x20B510DE", "NVIDIA A100 80GB PCIe", types=[{"name": "A100D-40C"}]), False),
]


@pytest.mark.parametrize("vgpu_type, gpu, valid", [c[1:] for c in BOARD_CASES],
                         ids=["examples/config-example.yaml::default-%s" % c[0] for c in BOARD_CASES])
def test_type_to_board(vgpu_type, gpu, valid):
    if valid:
        assert vgpu.vgpu_plan({"vgpu_type": vgpu_type, "vgpu_count": 1}, [gpu])[0] == vgpu_type
    else:
        with pytest.raises(FleetError, match="vgpu_type:"):
            vgpu.vgpu_plan({"vgpu_type": vgpu_type, "vgpu_count": 1}, [gpu])


# vgpu-device-manager pkg/vgpu/config_test.go::TestStripVGPUConfigSuffix (acb7270), case descriptions as ids.
STRIP_SUFFIX = [
    ("No suffix - time-sliced vGPU type", "A100-5C", "A100-5C"),
    ("No suffix - MIG-backed vGPU type", "A100-1-5C", "A100-1-5C"),
    ("ME suffix", "A100-1-5CME", "A100-1-5C"),
    ("NOME suffix", "A100-1-5CNOME", "A100-1-5C"),
    ("MEALL suffix", "A100-1-5CMEALL", "A100-1-5C"),
    ("GFX suffix", "A100-1-5CGFX", "A100-1-5C"),
    ("MEALL suffix (should be stripped instead of ME)", "A100-7-40CMEALL", "A100-7-40C"),
    ("Empty string", "", ""),
    ("String with ME in middle (should not be stripped)", "A100ME-5C", "A100ME-5C"),
    ("String with NOME in middle (should not be stripped)", "A100NOME-5C", "A100NOME-5C"),
    ("String with MEALL in middle (should not be stripped)", "A100MEALL-5C", "A100MEALL-5C"),
    ("String with GFX in middle (should not be stripped)", "A100GFX-5C", "A100GFX-5C"),
    ("RTX Ada series with GFX suffix", "RTX6000-Ada-2QGFX", "RTX6000-Ada-2Q"),
    ("RTX Ada series without suffix", "RTX6000-Ada-2Q", "RTX6000-Ada-2Q"),
    ("H100 with ME suffix", "H100-1-20CME", "H100-1-20C"),
    ("Multiple valid suffixes in name - only last one stripped", "A100-1-5CNOMEME", "A100-1-5CNOME"),
]


@pytest.mark.parametrize("config_type,expected", [c[1:] for c in STRIP_SUFFIX],
                         ids=["pkg/vgpu/config_test.go::TestStripVGPUConfigSuffix/" + c[0] for c in STRIP_SUFFIX])
def test_strip_vgpu_config_suffix(config_type, expected):
    assert vgpu.strip_config_suffix(config_type) == expected


def test_gfx_config_name_is_created_as_the_drivers_type():
    """pkg/vgpu/config.go SetVGPUConfig: DC-1-24QGFX is not a driver type, DC-1-24Q is, so upstream accepts it."""
    gpu = {"index": 0, "name": "NVIDIA RTX PRO 6000 Blackwell Server Edition", "pci_device_id": "0x2BB510DE",
           "vgpu_types": [{"name": "DC-1-24Q"}, {"name": "DC-4Q"}]}
    assert vgpu.board_error("DC-1-24QGFX", gpu) is None
    assert "supports" in vgpu.board_error("DC-1-48QGFX", gpu)
