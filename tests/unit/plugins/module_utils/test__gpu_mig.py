# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The MIG tables generated from mig-parted's config-default.yaml, and how a GPU fact finds its table."""

from __future__ import annotations

import pytest

from ansible_collections.edgeai.fleet.plugins.module_utils import _gpu_profiles as profiles
from ansible_collections.edgeai.fleet.plugins.module_utils._gpu_mig_boards import BOARDS

# deployments/systemd/config-default.yaml all-balanced: every device id it lists, with its balanced mix.
BALANCED = {
    "0x294110DE": {"1g.23gb": 2, "2g.47gb": 1, "3g.93gb": 1},   # GB200 HGX
    "0x31C210DE": {"1g.35gb": 2, "2g.70gb": 1, "3g.139gb": 1},  # GB300
    "0x2BB510DE": {"1g.24gb": 2, "2g.48gb": 1},                 # RTX PRO 6000 Blackwell
    "0x290110DE": {"1g.23gb": 2, "2g.45gb": 1, "3g.90gb": 1},   # B200
    "0x318210DE": {"1g.34gb": 2, "2g.67gb": 1, "3g.135gb": 1},  # B300
    "0x234810DE": {"1g.18gb": 2, "2g.36gb": 1, "3g.72gb": 1},   # GH200 144G HBM3e
    "0x233510DE": {"1g.18gb": 2, "2g.35gb": 1, "3g.71gb": 1},   # H200 141GB
    "0x232110DE": {"1g.12gb": 2, "2g.24gb": 1, "3g.47gb": 1},   # H100 NVL
    "0x20F310DE": {"1g.10gb": 2, "2g.20gb": 1, "3g.40gb": 1},   # A800-80GB
    "0x20F610DE": {"1g.5gb": 2, "2g.10gb": 1, "3g.20gb": 1},    # A800-40GB
    "0x20B710DE": {"1g.6gb": 2, "2g.12gb": 1},                  # A30-24GB
    "0x233D10DE": {"1g.12gb": 2, "2g.24gb": 1, "3g.48gb": 1},   # H100-96GB / GH200 96GB
}


@pytest.mark.parametrize("pci, balanced", sorted(BALANCED.items()),
                         ids=["mig-parted/deployments/systemd/config-default.yaml::all-balanced-%s" % k for k in sorted(BALANCED)])
def test_every_balanced_board_has_a_table_by_pci_id(pci, balanced):
    table = profiles.table_for({"name": "whatever NVML calls it", "pci_device_id": pci})
    assert profiles.named_layout("all-balanced", table) == balanced
    assert profiles.check_layout(balanced, table) is None


def test_gh200_144g_is_not_h200_141gb():
    gh200 = profiles.table_for({"name": "NVIDIA GH200 144G HBM3e", "pci_device_id": "0x234810DE"})
    h200 = profiles.table_for({"name": "NVIDIA H200", "pci_device_id": "0x233510DE"})
    assert "2g.36gb" in gh200[3] and "2g.35gb" not in gh200[3]
    assert "2g.35gb" in h200[3] and "7g.141gb" in h200[3] and "7g.144gb" in gh200[3]


def test_board_is_chosen_by_pci_id_not_name():
    """A100 80GB named like a 40GB part still gets the 80GB table: the PCI id decides."""
    table = profiles.table_for({"name": "NVIDIA A100-SXM4-40GB", "pci_device_id": "0x20B210DE", "memory_total_mib": 40960})
    assert "1g.10gb" in table[3] and table[3]["7g.80gb"] == (7, 8, 1)


def test_unknown_pci_id_has_no_table():
    assert profiles.table_for({"name": "NVIDIA A100-SXM4-40GB", "pci_device_id": "0x1EB810DE"}) is None


def test_nvml_profiles_come_first():
    """Facts from NVML (gpu_info mig_profiles) beat the generated table."""
    gpu = {"name": "NVIDIA H100 80GB HBM3", "pci_device_id": "0x233010DE",
           "mig_profiles": [{"name": "MIG 1g.10gb", "slices": 1, "memory_mib": 9856, "instance_count": 7},
                            {"name": "MIG 7g.80gb", "slices": 7, "memory_mib": 80000, "instance_count": 1}]}
    table = profiles.table_for(gpu)
    assert sorted(table[3]) == ["1g.10gb", "7g.80gb"] and table[3]["1g.10gb"] == (1, 1, 7)


def test_all_boards_cover_every_all_balanced_entry():
    assert sum(len(b["ids"]) for b in BOARDS.values()) == 27 and len(BOARDS) == 12
