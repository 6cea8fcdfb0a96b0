# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""mig-parted device-filter parsing and matching, from its own tables (NVIDIA/mig-parted bd7160f).

``pci_subsystem_id`` in a GPU fact is NVML's ``pciSubSystemId`` (subsystem device << 16 | subsystem vendor),
the same packing as the filter's second half.
"""

from __future__ import annotations

import pytest

from ansible_collections.edgeai.fleet.plugins.module_utils import _gpu_mig as mig

H100 = {"index": 0, "pci_device_id": "0x233010DE", "pci_subsystem_id": "0x16C010DE"}

# api/spec/v1/helpers_test.go TestMigConfigSpecMatchesDeviceFilter
MATCHES = [
    ("empty filter matches all devices", "", True),
    ("primary-only filter matches subsystem-aware hardware", "0x233010DE", True),
    ("matching subsystem filter matches hardware", "0x233010DE:0x16C010DE", True),
    ("sibling subsystem filter does not match hardware", "0x233010DE:0x16C110DE", False),
    ("multiple filters stop at a matching subsystem entry", ["0x233010DE:0x16C110DE", "0x233010DE:0x16C010DE"], True),
    ("malformed filters with extra separators do not match", "0x233010DE:0x16C010DE:extra", False),
]

# pkg/types/device_test.go TestNewDeviceIDFromString
FROM_STRING = [
    ("primary only", "0x25B610DE", (0x25B610DE, None)),
    ("with subsystem", "0x25B610DE:0x14A910DE", (0x25B610DE, 0x14A910DE)),
    ("invalid primary", "not-a-device-id", None),
    ("invalid subsystem", "0x25B610DE:not-a-subsystem", None),
    ("too many separators", "0x25B610DE:0x14A910DE:extra", None),
]

A16 = ("0x25B610DE", "0x14A910DE")
A2 = ("0x25B610DE", "0x157E10DE")
# pkg/types/device_test.go TestDeviceIDMatches: (filter, hardware id, hardware subsystem)
DEVICE_MATCHES = [
    ("primary only filter matches same primary id", "0x25B610DE", A16, True),
    ("subsystem filter matches exact hardware", "0x25B610DE:0x14A910DE", A16, True),
    ("subsystem filter rejects sibling subsystem", "0x25B610DE:0x14A910DE", A2, False),
    ("subsystem filter does not match hardware with unknown subsystem", "0x25B610DE:0x14A910DE", ("0x25B610DE", "0x00000000"), False),
    ("zero subsystem filter matches hardware with unknown subsystem", "0x25B610DE:0x00000000", ("0x25B610DE", "0x00000000"), True),
    ("different primary id does not match", "0x1E3010DE", A16, False),
]


@pytest.mark.parametrize("dfilter, want", [c[1:] for c in MATCHES],
                         ids=["api/spec/v1/helpers_test.go::TestMigConfigSpecMatchesDeviceFilter-%s" % c[0] for c in MATCHES])
def test_matches_device_filter(dfilter, want):
    assert mig.filter_matches(dfilter, H100) is want


@pytest.mark.parametrize("text, want", [c[1:] for c in FROM_STRING],
                         ids=["pkg/types/device_test.go::TestNewDeviceIDFromString-%s" % c[0] for c in FROM_STRING])
def test_device_id_from_string(text, want):
    assert mig.device_id(text) == want


@pytest.mark.parametrize("dfilter, hardware, want", [c[1:] for c in DEVICE_MATCHES],
                         ids=["pkg/types/device_test.go::TestDeviceIDMatches-%s" % c[0] for c in DEVICE_MATCHES])
def test_device_id_matches(dfilter, hardware, want):
    gpu = {"index": 0, "pci_device_id": hardware[0], "pci_subsystem_id": hardware[1]}
    assert mig.filter_matches(dfilter, gpu) is want


def test_subsystem_filter_selects_only_that_board_in_the_plan():
    """The issue's case: a 0xDEVICE:0xSUBSYS filter used never to match, so the layout silently did nothing."""
    gpus = [dict(H100, index=0), {"index": 1, "pci_device_id": "0x233010DE", "pci_subsystem_id": "0x16C110DE"}]
    entry = {"device-filter": "0x233010DE:0x16C010DE", "devices": "all", "mig-enabled": True, "mig-devices": {"1g.10gb": 7}}
    assert mig.planned_mig_states([entry], gpus) == [(0, True, {"1g.10gb": 7}), (1, False, {})]
