# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The NVML walk against the lab's pynvml double (simulated GPUs; no driver or hardware).

The double (tests/lab/doubles/nvidia/.../pynvml.py) mimics nvidia-ml-py's API and exception
classes; each test describes the simulated host as a JSON document, including NVML refusals.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import os

import pytest

from ansible_collections.edgeai.fleet.plugins.module_utils import _gpu_info
from ansible_collections.edgeai.fleet.plugins.module_utils._gpu_info import collect, detect_tegra, mig_profile_name

DOUBLE = os.path.join(os.path.dirname(__file__), "..", "..", "..", "lab", "doubles", "nvidia", "rootfs",
                      "usr", "local", "lib", "python3.11", "dist-packages", "pynvml.py")


def load_double(tmp_path, monkeypatch, doc=None):
    """A fresh instance of the pynvml double simulating ``doc`` (default: its A100)."""
    spec = importlib.util.spec_from_file_location("fake_pynvml_%d" % id(tmp_path), DOUBLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    state = tmp_path / "nvml.json"
    state.write_text(json.dumps(module.DEFAULT_STATE if doc is None else doc))
    monkeypatch.setenv("EDGEAI_FAKE_NVML_STATE", str(state))
    return module


def a100(**changes):
    module_doc = copy.deepcopy(_default_doc())
    module_doc["gpus"][0].update(changes)
    return module_doc


def _default_doc():
    spec = importlib.util.spec_from_file_location("fake_pynvml_defaults", DOUBLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.DEFAULT_STATE


MIG_DEVICES = [
    {"slot": 0, "uuid": "MIG-11111111-2222-3333-4444-555555555555", "gi_id": 7, "ci_id": 0, "gi_profile_id": 0,
     "gi_slices": 1, "ci_slices": 1, "memory_mib": 4864},
    {"slot": 2, "uuid": "MIG-66666666-7777-8888-9999-000000000000", "gi_id": 1, "ci_id": 0, "gi_profile_id": 2,
     "gi_slices": 3, "ci_slices": 3, "memory_mib": 19968},
]


@pytest.fixture
def no_tegra(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    return {"root": str(root), "kernel_release": "6.1.0-18-amd64"}


def test_a100_full_walk_matches_the_fact_contract(tmp_path, monkeypatch, no_tegra):
    nvml = load_double(tmp_path, monkeypatch)
    facts, ready = collect(nvml, **no_tegra)
    assert ready is True
    assert facts == {
        "platform": "nvml", "reason": None, "driver_version": "550.54.15", "cuda_driver_version": "12.4",
        "nvml_version": "12.550.54.15", "count": 1, "products": ["NVIDIA A100-SXM4-40GB"], "mig_capable": True,
        "tegra": None, "present": True, "container_engines": [],
        "gpus": [{
            "index": 0, "name": "NVIDIA A100-SXM4-40GB", "uuid": "GPU-5bf3a1e2-8c1d-4f6a-9e27-0d3c4b5a6f71",
            "pci_bus_id": "00000000:07:00.0", "pci_device_id": "0x20B010DE", "memory_total_mib": 40960,
            "memory_used_mib": 0, "compute_capability": "8.0", "persistence_mode": True, "compute_mode": "default",
            "mig_mode": {"current": False, "pending": False}, "mig_devices": [], "virtualization_mode": "none",
            "processes": 0,
        }],
    }
    assert nvml._state["ref"] == 0, "nvmlShutdown pairs nvmlInit"


def test_mig_enabled_lists_devices_and_skips_empty_slots(tmp_path, monkeypatch, no_tegra):
    nvml = load_double(tmp_path, monkeypatch, a100(mig_mode=[1, 1], mig_devices=MIG_DEVICES))
    gpu = collect(nvml, **no_tegra)[0]["gpus"][0]
    assert gpu["mig_mode"] == {"current": True, "pending": True}
    assert gpu["mig_devices"] == [
        {"index": 0, "profile": "1g.5gb", "uuid": MIG_DEVICES[0]["uuid"], "memory_total_mib": 4864,
         "gpu_instance_id": 7, "compute_instance_id": 0},
        {"index": 2, "profile": "3g.20gb", "uuid": MIG_DEVICES[1]["uuid"], "memory_total_mib": 19968,
         "gpu_instance_id": 1, "compute_instance_id": 0},
    ]


def test_mig_pending_change_is_visible(tmp_path, monkeypatch, no_tegra):
    nvml = load_double(tmp_path, monkeypatch, a100(mig_mode=[0, 1]))
    assert collect(nvml, **no_tegra)[0]["gpus"][0]["mig_mode"] == {"current": False, "pending": True}


def test_non_mig_gpu_has_null_mig_mode_and_is_not_mig_capable(tmp_path, monkeypatch, no_tegra):
    doc = a100(name="NVIDIA L4", mig_mode=None, compute_mode=3, virtualization_mode=2,
               processes=[{"pid": 10, "used_mib": 100}, {"pid": 11, "used_mib": None}])
    facts = collect(load_double(tmp_path, monkeypatch, doc), **no_tegra)[0]
    gpu = facts["gpus"][0]
    assert gpu["mig_mode"] == {"current": None, "pending": None} and gpu["mig_devices"] == []
    assert facts["mig_capable"] is False and facts["reason"] is None
    assert (gpu["compute_mode"], gpu["virtualization_mode"], gpu["processes"]) == ("exclusive_process", "vgpu", 2)


@pytest.mark.parametrize("error", ["NotSupported", "NoPermission", "FunctionNotFound", "GpuIsLost", "LibraryMismatch"])
def test_every_per_gpu_refusal_becomes_null(tmp_path, monkeypatch, no_tegra, error):
    functions = ["nvmlDeviceGetName", "nvmlDeviceGetUUID", "nvmlDeviceGetPciInfo", "nvmlDeviceGetMemoryInfo",
                 "nvmlDeviceGetCudaComputeCapability", "nvmlDeviceGetPersistenceMode", "nvmlDeviceGetComputeMode",
                 "nvmlDeviceGetMigMode", "nvmlDeviceGetVirtualizationMode", "nvmlDeviceGetComputeRunningProcesses"]
    doc = a100(errors={f: error for f in functions})
    facts, ready = collect(load_double(tmp_path, monkeypatch, doc), **no_tegra)
    gpu = facts["gpus"][0]
    assert ready and facts["count"] == 1 and facts["products"] == []
    assert [k for k, v in gpu.items() if v is not None and k not in ("index", "mig_mode", "mig_devices")] == []
    assert gpu["mig_mode"] == {"current": None, "pending": None}
    if error in ("NoPermission", "GpuIsLost"):
        assert "GPU 0 persistence_mode: %s" % error in facts["reason"], "partial data is explained"
    else:
        assert facts["reason"] is None, "a field the GPU does not have is simply null"


def test_memory_falls_back_to_v1_when_the_driver_lacks_v2(tmp_path, monkeypatch, no_tegra):
    nvml = load_double(tmp_path, monkeypatch)
    v1 = nvml.nvmlDeviceGetMemoryInfo

    def memory(handle, version=None):
        if version:
            raise nvml.NVMLError(nvml.NVML_ERROR_FUNCTION_NOT_FOUND)
        return v1(handle)

    monkeypatch.setattr(nvml, "nvmlDeviceGetMemoryInfo", memory)
    gpu = collect(nvml, **no_tegra)[0]["gpus"][0]
    assert (gpu["memory_total_mib"], gpu["memory_used_mib"]) == (40960, 571), "v1 counts the reservation as used"


def test_function_missing_from_an_old_library_is_null(tmp_path, monkeypatch, no_tegra):
    nvml = load_double(tmp_path, monkeypatch)
    monkeypatch.delattr(nvml, "nvmlDeviceGetVirtualizationMode")
    monkeypatch.delattr(nvml, "nvmlSystemGetNVMLVersion")
    facts = collect(nvml, **no_tegra)[0]
    assert facts["nvml_version"] is None and facts["gpus"][0]["virtualization_mode"] is None
    assert facts["reason"] is None


def test_mig_device_details_refused_are_null(tmp_path, monkeypatch, no_tegra):
    devices = [dict(MIG_DEVICES[0], errors={"nvmlDeviceGetAttributes": "NoPermission", "nvmlDeviceGetUUID": "NotSupported"})]
    nvml = load_double(tmp_path, monkeypatch, a100(mig_mode=[1, 1], mig_devices=devices))
    facts = collect(nvml, **no_tegra)[0]
    assert facts["gpus"][0]["mig_devices"][0]["profile"] is None
    assert facts["gpus"][0]["mig_devices"][0]["uuid"] is None
    assert facts["reason"] == "GPU 0 MIG 0 attributes: NoPermission"


def test_lost_gpu_is_skipped_and_explained(tmp_path, monkeypatch, no_tegra):
    doc = a100()
    doc["gpus"].append(dict(copy.deepcopy(doc["gpus"][0]), uuid="GPU-2", bus_id="00000000:08:00.0"))
    nvml = load_double(tmp_path, monkeypatch, doc)
    real = nvml.nvmlDeviceGetHandleByIndex

    def handle(index):
        if index == 1:
            raise nvml.NVMLError(nvml.NVML_ERROR_GPU_IS_LOST)
        return real(index)

    monkeypatch.setattr(nvml, "nvmlDeviceGetHandleByIndex", handle)
    facts = collect(nvml, **no_tegra)[0]
    assert facts["count"] == 1 and facts["reason"] == "GPU 1 handle: GpuIsLost"


def test_two_gpus_products_are_distinct(tmp_path, monkeypatch, no_tegra):
    doc = a100()
    doc["gpus"].append(dict(copy.deepcopy(doc["gpus"][0]), uuid="GPU-2", bus_id="00000000:08:00.0"))
    facts = collect(load_double(tmp_path, monkeypatch, doc), **no_tegra)[0]
    assert facts["count"] == 2 and facts["products"] == ["NVIDIA A100-SXM4-40GB"]
    assert [g["index"] for g in facts["gpus"]] == [0, 1]


def test_driver_without_gpus(tmp_path, monkeypatch, no_tegra):
    doc = a100()
    doc["gpus"] = []
    facts, ready = collect(load_double(tmp_path, monkeypatch, doc), **no_tegra)
    assert ready and facts["platform"] == "none" and facts["gpus"] == [] and facts["count"] == 0
    assert facts["present"] is False
    assert facts["driver_version"] == "550.54.15"
    assert facts["reason"] == "NVML is working (driver 550.54.15) but found no NVIDIA GPU"


@pytest.mark.parametrize("error,text", [
    ("LibraryNotFound", "libnvidia-ml.so.1 not found"),
    ("DriverNotLoaded", "kernel driver is not loaded"),
    ("NoPermission", "no permission"),
    ("LibRmVersionMismatch", "reboot or reload"),
    ("Unknown", "NVML initialisation failed: Unknown"),
])
def test_init_failures_give_no_gpus_and_a_reason(tmp_path, monkeypatch, no_tegra, error, text):
    facts, ready = collect(load_double(tmp_path, monkeypatch, {"init_error": error}), **no_tegra)
    assert ready is False
    assert facts == dict(_gpu_info.empty_facts(), reason=facts["reason"])
    assert text in facts["reason"]


def test_library_missing(no_tegra):
    facts, ready = collect(None, **no_tegra)
    assert ready is False and facts["platform"] == "none" and facts["gpus"] == []
    assert facts["reason"] == "nvidia-ml-py (pynvml) is not installed"


def test_system_level_refusals_are_null(tmp_path, monkeypatch, no_tegra):
    doc = a100()
    doc["errors"] = {"nvmlSystemGetDriverVersion": "NoPermission", "nvmlSystemGetCudaDriverVersion": "NotSupported"}
    facts = collect(load_double(tmp_path, monkeypatch, doc), **no_tegra)[0]
    assert facts["driver_version"] is None and facts["cuda_driver_version"] is None
    assert facts["reason"] == "system driver_version: NoPermission"


def test_shutdown_failure_is_ignored(tmp_path, monkeypatch, no_tegra):
    nvml = load_double(tmp_path, monkeypatch)

    def shutdown():
        raise nvml.NVMLError(999)

    monkeypatch.setattr(nvml, "nvmlShutdown", shutdown)
    assert collect(nvml, **no_tegra)[0]["count"] == 1


# --- Jetson / Tegra -----------------------------------------------------------------------------

def tegra_root(tmp_path, release=None, family=None, model=None):
    root = tmp_path / "root"
    for rel, text in (("etc/nv_tegra_release", release), ("sys/devices/soc0/family", family),
                      ("proc/device-tree/model", model)):
        if text is not None:
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(text.encode())
    root.mkdir(exist_ok=True)
    return str(root)


ORIN_RELEASE = "# R36 (release), REVISION: 3.0, GCID: 36191598, BOARD: generic, EABI: aarch64, DATE: Mon May  6 17:34:21 UTC 2024\n"


@pytest.mark.parametrize("files,kernel,expected", [
    ({"release": ORIN_RELEASE, "model": "NVIDIA Jetson AGX Orin Developer Kit\x00"}, "5.15.136",
     {"model": "NVIDIA Jetson AGX Orin Developer Kit", "l4t_release": "36.3.0"}),
    ({"release": "# R35 (release), REVISION: 4.1, GCID: 33958178\n"}, "5.10.120", {"model": None, "l4t_release": "35.4.1"}),
    ({"release": "# R38 (release), REVISION: 2\n"}, "6.8", {"model": None, "l4t_release": "38.2.0"}),
    ({"family": "Tegra234\n"}, "5.15", {"model": None, "l4t_release": None}),
    ({"model": "NVIDIA Jetson Xavier NX"}, "4.9", {"model": "NVIDIA Jetson Xavier NX", "l4t_release": None}),
    ({}, "5.10.104-tegra", {"model": None, "l4t_release": None}),
    ({"family": "jh7110", "model": "Raspberry Pi 4"}, "6.1.0-rpi", None),
    ({}, "6.1.0-18-amd64", None),
])
def test_detect_tegra(tmp_path, files, kernel, expected):
    assert detect_tegra(tegra_root(tmp_path, **files), kernel) == expected


def test_detect_tegra_defaults_to_the_running_kernel():
    assert detect_tegra("/nonexistent-root") in (None, {"model": None, "l4t_release": None})


def test_jetson_without_nvml_is_tegra_with_a_reason(tmp_path, monkeypatch):
    root = tegra_root(tmp_path, release=ORIN_RELEASE, model="NVIDIA Jetson Xavier NX")
    nvml = load_double(tmp_path, monkeypatch, {"init_error": "LibraryNotFound"})
    facts, ready = collect(nvml, root=root, kernel_release="4.9.337-tegra")
    assert not ready and facts["platform"] == "tegra" and facts["gpus"] == []
    # NVML lists no GPU, yet the integrated GPU is there to prepare for containers.
    assert facts["present"] is True
    assert facts["tegra"] == {"model": "NVIDIA Jetson Xavier NX", "l4t_release": "36.3.0"}
    assert "CSV mode" in facts["reason"]


def test_jetson_without_the_library(tmp_path):
    facts = collect(None, root=tegra_root(tmp_path, release=ORIN_RELEASE), kernel_release="5.15")[0]
    assert facts["platform"] == "tegra" and facts["reason"].startswith("nvidia-ml-py (pynvml) is not installed; Jetson")


ORIN_GPU = {"name": "Orin (nvgpu)", "uuid": "GPU-0e1f", "bus_id": "00000000:00:00.0", "pci_device_id": "0x0",
            "memory_total_mib": 62841, "memory_used_mib": 0, "compute_capability": [8, 7], "persistence_mode": 0,
            "compute_mode": 0, "mig_mode": None, "virtualization_mode": 0, "processes": [],
            "errors": {"nvmlDeviceGetPciInfo": "NotSupported", "nvmlDeviceGetMemoryInfo": "NotSupported",
                       "nvmlDeviceGetPersistenceMode": "NotSupported", "nvmlDeviceGetComputeRunningProcesses": "NotSupported"}}


def test_orin_with_limited_nvml_says_what_nvml_does_not_give(tmp_path, monkeypatch):
    root = tegra_root(tmp_path, release=ORIN_RELEASE, model="NVIDIA Jetson AGX Orin")
    doc = {"driver_version": "540.3.0", "cuda_driver_version": 12060, "nvml_version": "12.540.3.0", "gpus": [ORIN_GPU]}
    facts, ready = collect(load_double(tmp_path, monkeypatch, doc), root=root, kernel_release="5.15.136-tegra")
    gpu = facts["gpus"][0]
    assert ready and facts["platform"] == "tegra" and facts["products"] == ["Orin (nvgpu)"]
    assert gpu["compute_capability"] == "8.7" and gpu["pci_bus_id"] is None and gpu["memory_total_mib"] is None
    assert facts["reason"] == ("Jetson/Tegra integrated GPU: NVML does not report pci, memory, persistence_mode, "
                               "mig_mode, processes here")


def test_thor_name_alone_makes_the_platform_tegra(tmp_path, monkeypatch, no_tegra):
    doc = {"driver_version": "580.0", "cuda_driver_version": 13000, "nvml_version": "13.580.0",
           "gpus": [dict(ORIN_GPU, name="NVIDIA Thor", errors={})]}
    facts = collect(load_double(tmp_path, monkeypatch, doc), **no_tegra)[0]
    assert facts["platform"] == "tegra" and facts["tegra"] == {"model": None, "l4t_release": None}
    assert facts["cuda_driver_version"] == "13.0"


# --- MIG profile names --------------------------------------------------------------------------

@pytest.mark.parametrize("args,name", [
    ((1, 1, 4864, 40960 * 1024 ** 2), "1g.5gb"),
    ((2, 2, 9856, 40960 * 1024 ** 2), "2g.10gb"),
    ((3, 3, 19968, 40960 * 1024 ** 2), "3g.20gb"),
    ((4, 4, 19968, 40960 * 1024 ** 2), "4g.20gb"),
    ((7, 7, 40192, 40960 * 1024 ** 2), "7g.40gb"),
    ((1, 1, 9984, 81920 * 1024 ** 2), "1g.10gb"),
    ((2, 1, 9856, 40960 * 1024 ** 2), "1c.2g.10gb"),
    ((1, 1, 9984, 81920 * 1024 ** 2, 0x7), "1g.10gb+me"),
    ((1, 1, 9984, 81920 * 1024 ** 2, 0xF), "1g.10gb+me.all"),
    ((1, 1, 11008, 95830 * 1024 ** 2, 0xD), "1g.12gb-me"),
    ((0, 0, 0, 0), None),
])
def test_mig_profile_name(args, name):
    assert mig_profile_name(*args) == name


def test_container_engines_found_by_their_binaries(tmp_path):
    assert _gpu_info.container_engines(str(tmp_path)) == []
    for path in ("usr/sbin/dockerd", "usr/local/bin/containerd", "usr/bin/podman"):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("")
    (tmp_path / "usr" / "bin" / "crio").mkdir()  # a directory is not an installed binary
    assert _gpu_info.container_engines(str(tmp_path)) == ["containerd", "docker", "podman"]


def test_engines_are_reported_without_nvml(tmp_path):
    (tmp_path / "usr" / "bin").mkdir(parents=True)
    (tmp_path / "usr" / "bin" / "containerd").write_text("")
    facts, ready = collect(None, root=str(tmp_path), kernel_release="6.1.0-amd64")
    assert not ready and facts["container_engines"] == ["containerd"]
