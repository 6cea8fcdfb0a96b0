# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""``edgeai_gpu`` facts in the shape gpu_info returns (brief contract), for the GPU sharing tests.

Names, memory and PCI ids are what NVML reports on those products.
"""

from __future__ import annotations


def gpu(index=0, name="NVIDIA A100-SXM4-40GB", memory=40960, cc="8.0", mig=False, mig_devices=None,
        pci="0x20B010DE", virt="none", subsystem=None, mig_profiles=None, vgpu_types=None):
    """``subsystem``, ``mig_profiles`` and ``vgpu_types`` default to None: what gpu_info reports where NVML does
    not answer (and what facts gathered before it reported them lack), so planning falls back to its tables."""
    return {
        "index": index, "name": name, "uuid": "GPU-%04d-%s" % (index, (name or "none")[-4:]), "pci_bus_id": "00000000:%02X:00.0" % (7 + index),
        "pci_device_id": pci, "memory_total_mib": memory, "memory_used_mib": 0, "compute_capability": cc,
        "persistence_mode": True, "compute_mode": "default",
        "mig_mode": mig if isinstance(mig, dict) else ({"current": mig, "pending": mig} if mig is not None else {"current": None, "pending": None}),
        "mig_devices": mig_devices or [], "virtualization_mode": virt, "processes": 0,
        "pci_subsystem_id": subsystem, "mig_profiles": mig_profiles, "vgpu_types": vgpu_types,
    }


def facts(*gpus, platform="nvml", reason=None):
    return {
        "platform": platform, "reason": reason, "driver_version": "550.54.15", "cuda_driver_version": "12.4",
        "nvml_version": "12.550.54.15", "count": len(gpus), "products": sorted({g["name"] for g in gpus}),
        "mig_capable": any(g["mig_mode"]["current"] is not None for g in gpus), "gpus": list(gpus), "tegra": None,
    }


def mig_device(profile, memory, index=0):
    return {"index": index, "profile": profile, "uuid": "MIG-%s-%d" % (profile, index), "memory_total_mib": memory}


A100_40 = gpu()
A100_80 = gpu(name="NVIDIA A100-SXM4-80GB", memory=81920, pci="0x20B210DE")
H100 = gpu(name="NVIDIA H100 80GB HBM3", memory=81559, cc="9.0", pci="0x233010DE")
A30 = gpu(name="NVIDIA A30", memory=24576, pci="0x20B710DE")
T4 = gpu(name="Tesla T4", memory=15360, cc="7.5", mig=None, pci="0x1EB810DE")
V100 = gpu(name="Tesla V100-SXM2-16GB", memory=16384, cc="7.0", mig=None, pci="0x1DB110DE")
P4 = gpu(name="Tesla P4", memory=7680, cc="6.1", mig=None, pci="0x1BB310DE")
A100_MIG = gpu(mig=True, mig_devices=[mig_device("1g.5gb", 4864, i) for i in range(7)])
NO_GPU = facts(platform="none", reason="libnvidia-ml.so.1 not found")
TEGRA = dict(facts(platform="tegra"), tegra={"model": "NVIDIA Jetson AGX Orin", "l4t_release": "36.3.0"})
VGPU_HOST = facts(gpu(name="Tesla T4", memory=15360, cc="7.5", mig=None, pci="0x1EB810DE", virt="host_vgpu"))
