# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""mig-parted's own verdicts, as tables: NVIDIA/mig-parted bd7160f.

Each id names the upstream file and test the case comes from; the inputs and the accept/refuse verdict
are upstream's, the tests are ours. The YAML/JSON strings of spec_test.go are given here as the Python
values sigs.k8s.io/yaml would hand to json.Unmarshal.
"""

from __future__ import annotations

import pytest

from ansible_collections.edgeai.fleet.plugins.module_utils import _gpu_mig as mig

SPEC = "api/spec/v1/spec_test.go"
ALL_DISABLED = {"all-disabled": [{"devices": "all", "mig-enabled": False}]}

# TestSpec: whole documents.
SPEC_CASES = [
    ("Empty", None, True),
    ("Well formed", {"version": "v1", "mig-configs": ALL_DISABLED}, True),
    ("Only version field", {"version": "v1"}, True),
    ("Well formed - wrong version", {"version": "v2", "mig-configs": ALL_DISABLED}, False),
    ("Only version field - wrong versiomn", {"version": "v2"}, False),
    ("Missing version field", {"mig-configs": ALL_DISABLED}, False),
    ("Erroneous field", {"bogus": "field", "version": "v1", "mig-configs": ALL_DISABLED}, False),
    ("Empty 'mig-configs'", {"version": "v1", "mig-configs": {}}, False),
]

# TestMigConfigSpec: one entry, wrapped in a valid document.
ENTRY_CASES = [
    ("Well formed", {"devices": "all", "mig-enabled": True, "mig-devices": {"1g.5gb": 2}}, True),
    ("Well formed with filter", {"device-filter": "MODEL", "devices": "all", "mig-enabled": True,
                                 "mig-devices": {"1g.5gb": 2}}, True),
    ("Well formed with multi-filter", {"device-filter": ["MODEL1", "MODEL2"], "devices": "all", "mig-enabled": True,
                                       "mig-devices": {"1g.5gb": 2}}, True),
    ("Missing 'devices'", {"mig-enabled": True, "mig-devices": {"1g.5gb": 2}}, False),
    ("Missing 'mig-enabled'", {"devices": "all", "mig-devices": {"1g.5gb": 2}}, False),
    ("Missing 'mig-devices', enabled: false", {"devices": "all", "mig-enabled": False}, True),
    ("Missing 'mig-devices', enabled: true", {"devices": "all", "mig-enabled": True}, False),
    ("'mig-devices' formatted correctly", {"devices": "all", "mig-enabled": True, "mig-devices": {"1g.5gb": 2}}, True),
    ("'mig-devices' formatted incorrectly", {"devices": "all", "mig-enabled": True, "mig-devices": {"bogus": 2}}, False),
    ("Erroneous field", {"bogus": "field", "devices": "all", "mig-enabled": False}, False),
    ("'devices' string == all", {"devices": "all", "mig-enabled": False}, True),
    ("'devices' string != all", {"devices": "bogus", "mig-enabled": False}, False),
    ("'devices' []int", {"devices": [0, 1, 2, 3], "mig-enabled": False}, True),
    ("'devices' not string for []int", {"devices": {}, "mig-enabled": False}, False),
]

# TestMarshallUnmarshall: every config of its spec round-trips, so each is valid.
MARSHALL = {
    "valid-format-non-existent-devices": [{"devices": "all", "mig-enabled": True, "mig-devices": {"0g.0gb": 100}}],
    "all-1-slice": [{"device-filter": "A100-SXM4-40GB", "devices": "all", "mig-enabled": True,
                     "mig-devices": {"1g.5gb": 7}}],
    "half-disabled-half-balanced-slices": [
        {"device-filter": "A100-SXM4-40GB", "devices": [0, 1, 2, 3], "mig-enabled": False},
        {"device-filter": "A100-SXM4-40GB", "devices": [4, 5, 6, 7], "mig-enabled": True,
         "mig-devices": {"1g.5gb": 2, "2g.10gb": 1, "3g.20gb": 1}}],
    "multi-device-filter": [
        {"device-filter": ["A100-SXM4-40GB", "A100-PCIE-40GB"], "devices": [0, 1, 2, 3], "mig-enabled": False}],
}

# pkg/types/mig_config.go AssertValidFormat (called for every mig-devices map) and
# pkg/mig/config/known_configs_test.go TestValidConfiguration's format-level rows.
MIG_DEVICES_CASES = [
    ("pkg/types/mig_config.go::AssertValidFormat-empty", {}, True),
    ("pkg/types/mig_config.go::AssertValidFormat-all-zero", {"1g.5gb": 0}, False),
    ("pkg/types/mig_config.go::AssertValidFormat-all-zero-two", {"1g.5gb": 0, "2g.10gb": 0}, False),
    ("pkg/types/mig_config.go::AssertValidFormat-one-zero", {"1g.5gb": 0, "2g.10gb": 1}, True),
    ("pkg/types/mig_config.go::AssertValidFormat-negative", {"1g.5gb": -1, "2g.10gb": 1}, False),
    ("pkg/mig/config/known_configs_test.go::TestValidConfiguration-Invalid device type (with count > 0)", {"bogus": 1}, False),
    ("pkg/mig/config/known_configs_test.go::TestValidConfiguration-Invalid device type (with count == 0)", {"bogus": 0}, False),
    ("pkg/mig/config/known_configs_test.go::TestValidConfiguration-Single device (equal to 0)", {"1g.5gb": 0}, False),
    ("json-int-refuses-bool", {"1g.5gb": True}, False),
    ("json-int-refuses-string", {"1g.5gb": "2"}, False),
]

# go-nvlib pkg/nvlib/device/mig_profile.go parseMigProfile (vendored in mig-parted): profile names.
PROFILE_CASES = [
    ("1g.5gb", True), ("1c.1g.5gb", True), ("1g.5gb+me", True), ("1c.1g.5gb+me", True), ("1g.24gb-me", True),
    ("1g.24gb+me.all", True), ("4g.96gb+gfx", True), ("1g.5gb+me,gfx", True), ("0g.0gb", True),
    ("", False), ("bogus", False), ("1g", False), ("1g.5", False), ("1g.5gb+", False), ("1g.5gb+me,me", False),
    ("1g.5gb+me-me", False), ("1g.5gb+1me", False), ("1g.5gb+.me", False), ("1g.5gb+me.", False),
    ("1g.5gb+m_e", False), (" 1g.5gb", False), ("1c.1g.5gb.1", False), ("xg.5gb", False),
]


def _doc(entry):
    return {"version": "v1", "mig-configs": {"c": [entry]}}


@pytest.mark.parametrize("doc, valid", [c[1:] for c in SPEC_CASES], ids=["%s::TestSpec-%s" % (SPEC, c[0]) for c in SPEC_CASES])
def test_spec(doc, valid):
    assert (mig.mig_parted_errors(doc) == []) is valid, mig.mig_parted_errors(doc)


@pytest.mark.parametrize("entry, valid", [c[1:] for c in ENTRY_CASES],
                         ids=["%s::TestMigConfigSpec-%s" % (SPEC, c[0]) for c in ENTRY_CASES])
def test_mig_config_spec(entry, valid):
    errors = mig.mig_parted_errors(_doc(entry))
    assert (errors == []) is valid, errors


@pytest.mark.parametrize("name", sorted(MARSHALL), ids=["%s::TestMarshallUnmarshall-%s" % (SPEC, n) for n in sorted(MARSHALL)])
def test_marshall_unmarshall_configs_are_valid(name):
    assert mig.mig_parted_errors({"version": "v1", "mig-configs": {name: MARSHALL[name]}}) == []


@pytest.mark.parametrize("devices, valid", [c[1:] for c in MIG_DEVICES_CASES], ids=[c[0] for c in MIG_DEVICES_CASES])
def test_mig_devices_format(devices, valid):
    errors = mig.mig_parted_errors(_doc({"devices": "all", "mig-enabled": True, "mig-devices": devices}))
    assert (errors == []) is valid, errors


@pytest.mark.parametrize("profile, valid", PROFILE_CASES,
                         ids=["go-nvlib/pkg/nvlib/device/mig_profile.go::parseMigProfile-%r" % c[0] for c in PROFILE_CASES])
def test_mig_profile_format(profile, valid):
    assert (mig.mig_profile_error(profile) is None) is valid


@pytest.mark.parametrize("devices", ["bogus", 5, None, True, [0, "1"], [0, 1.5], {"a": 1}],
                         ids=["%s::devices-%r" % (SPEC, d) for d in ["bogus", 5, None, True, [0, "1"], [0, 1.5], {"a": 1}]])
def test_malformed_devices_name_the_field_and_never_crash(devices):
    errors = mig.mig_parted_errors(_doc({"devices": devices, "mig-enabled": True, "mig-devices": {"1g.5gb": 1}}))
    assert errors and all(e.startswith("mig-configs.c[0].devices:") for e in errors), errors
    assert mig.planned_mig_states([{"devices": devices, "mig-enabled": True}], [{"index": 7}]) == [(7, False, {})]


def test_whole_float_counts_decode_as_go_ints():
    """cmd/nvidia-mig-parted/apply/apply.go reads the file with sigs.k8s.io/yaml: YAML 2.0 becomes JSON 2, an int."""
    doc = {"version": "v1", "mig-configs": {"c": [{"devices": [0.0], "mig-enabled": True,
                                                   "mig-devices": {"1g.10gb": 2.0}}]}}
    assert mig.mig_parted_errors(doc) == []
