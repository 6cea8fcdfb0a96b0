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
import inspect
import json
import os

import pytest

from ansible_collections.edgeai.fleet.plugins.module_utils import _gpu_info, _gpu_mig, _gpu_profiles, _gpu_vgpu
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


# What go-nvlib names the simulated A100-SXM4-40GB's GPU-instance profiles (mig-parted's spelling), MIG off.
A100_40GB_PROFILES = [
    {"name": "1g.5gb", "profile_id": 0x0, "slices": 1, "memory_mib": 4864, "instance_count": 7},
    {"name": "2g.10gb", "profile_id": 0x1, "slices": 2, "memory_mib": 9856, "instance_count": 3},
    {"name": "3g.20gb", "profile_id": 0x2, "slices": 3, "memory_mib": 19968, "instance_count": 2},
    {"name": "4g.20gb", "profile_id": 0x3, "slices": 4, "memory_mib": 19968, "instance_count": 1},
    {"name": "7g.40gb", "profile_id": 0x4, "slices": 7, "memory_mib": 40192, "instance_count": 1},
    {"name": "1g.5gb+me", "profile_id": 0x7, "slices": 1, "memory_mib": 4864, "instance_count": 1},
    {"name": "1g.10gb", "profile_id": 0x9, "slices": 1, "memory_mib": 9856, "instance_count": 4},
]

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
            "pci_bus_id": "00000000:07:00.0", "pci_device_id": "0x20B010DE", "pci_subsystem_id": "0x134F10DE",
            "memory_total_mib": 40960, "memory_used_mib": 0, "compute_capability": "8.0", "persistence_mode": True,
            "compute_mode": "default", "mig_mode": {"current": False, "pending": False}, "mig_devices": [],
            "mig_profiles": A100_40GB_PROFILES, "virtualization_mode": "none", "vgpu_types": None, "processes": 0,
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


# --- What the GPU itself supports: GPU-instance profiles, PCI subsystem, vGPU types ----------------

def test_mig_profiles_are_listed_whatever_the_mig_mode(tmp_path, monkeypatch, no_tegra):
    nvml = load_double(tmp_path, monkeypatch, a100(mig_mode=[1, 1], mig_devices=MIG_DEVICES))
    facts = collect(nvml, **no_tegra)[0]
    assert facts["gpus"][0]["mig_profiles"] == A100_40GB_PROFILES and facts["reason"] is None


def test_a_board_without_mig_lists_no_profiles_and_no_vgpu_types(tmp_path, monkeypatch, no_tegra):
    facts = collect(load_double(tmp_path, monkeypatch, a100(name="NVIDIA L4", mig_mode=None)), **no_tegra)[0]
    assert facts["gpus"][0]["mig_profiles"] is None and facts["gpus"][0]["vgpu_types"] is None
    assert facts["reason"] is None, "NotSupported is an answer, not a problem"


# go-nvlib's mock A100 (40 GiB) in newMockDeviceLib: MemorySizeMB per NVML_GPU_INSTANCE_PROFILE_* id, 6 and 8
# slices NotSupported. Its TestParseMigProfile accepts these GPU-instance-level names on that device.
GO_NVLIB_MOCK = [(0x0, 1, 7, 5120, ""), (0x7, 1, 1, 5120, ""), (0x9, 1, 4, 10240, ""), (0xA, 1, 4, 5120, ""),
                 (0xD, 1, 4, 5120, ""), (0xF, 1, 1, 5120, ""), (0x1, 2, 3, 10240, ""), (0x8, 2, 1, 10240, ""),
                 (0xB, 2, 2, 10240, ""), (0xE, 2, 2, 10240, ""), (0x10, 2, 1, 10240, ""), (0x2, 3, 2, 20480, ""),
                 (0x3, 4, 1, 20480, ""), (0xC, 4, 1, 20480, ""), (0x4, 7, 1, 40960, "")]


@pytest.mark.parametrize("name", ["1g.5gb", "1g.5gb+me", "1g.5gb+me.all", "1g.5gb+gfx"],
                         ids=lambda n: "go-nvlib/pkg/nvlib/device/mig_profile_test.go::TestParseMigProfile/Valid_" + n)
def test_profile_names_are_the_ones_go_nvlib_accepts(tmp_path, monkeypatch, no_tegra, name):
    nvml = load_double(tmp_path, monkeypatch, a100(gi_profiles=GO_NVLIB_MOCK))
    names = [p["name"] for p in collect(nvml, **no_tegra)[0]["gpus"][0]["mig_profiles"]]
    assert name in names
    assert sorted(names) == sorted(["1g.5gb", "2g.10gb", "3g.20gb", "4g.20gb", "7g.40gb", "1g.5gb+me", "2g.10gb+me",
                                    "1g.10gb", "1g.5gb+gfx", "2g.10gb+gfx", "4g.20gb+gfx", "1g.5gb-me", "2g.10gb-me",
                                    "1g.5gb+me.all", "2g.10gb+me.all"])


def test_mig_memory_rounding_matches_go_nvlib_table():
    """go-nvlib/pkg/nvlib/device/mig_profile_test.go::TestGetMigMemorySizeGB, its generated table in full:
    24, 40 and 80 GiB boards, every 1/32 GiB step, rounded up to the next eighth of the board."""
    gib, mib = 1024 ** 3, 1024 ** 2
    checked = 0
    for total in (24 * gib, 40 * gib, 80 * gib):
        slice_size = total // 8
        for size in range(gib // 32, total + 1, gib // 32):
            expected = next(j for j in range(slice_size, total + 1, slice_size) if size <= j) // gib
            assert mig_profile_name(1, 1, size // mib, total) == "1g.%dgb" % expected, (total, size)
            checked += 1
    assert checked == (24 + 40 + 80) * 32


def test_profiles_the_board_refuses_are_absent(tmp_path, monkeypatch, no_tegra):
    """NotSupported (ids the board lacks) and InvalidArgument (ids this driver does not know) skip that id only."""
    nvml = load_double(tmp_path, monkeypatch)
    real = nvml.nvmlDeviceGetGpuInstanceProfileInfo

    def info(handle, profile, version=2):
        if profile == nvml.NVML_GPU_INSTANCE_PROFILE_1_SLICE_REV2:
            raise nvml.NVMLError(nvml.NVML_ERROR_INVALID_ARGUMENT)
        return real(handle, profile, version)

    monkeypatch.setattr(nvml, "nvmlDeviceGetGpuInstanceProfileInfo", info)
    facts = collect(nvml, **no_tegra)[0]
    assert [p["name"] for p in facts["gpus"][0]["mig_profiles"]] == [
        "1g.5gb", "2g.10gb", "3g.20gb", "4g.20gb", "7g.40gb", "1g.5gb+me"]
    assert facts["reason"] is None


def test_profiles_named_without_nvml_name_field(tmp_path, monkeypatch, no_tegra):
    """The v1 struct (drivers before nvmlDeviceGetGpuInstanceProfileInfoV) has no ``name``; names do not need it."""
    nvml = load_double(tmp_path, monkeypatch)
    real = nvml.nvmlDeviceGetGpuInstanceProfileInfo
    monkeypatch.setattr(nvml, "nvmlDeviceGetGpuInstanceProfileInfo", lambda h, p, version=2: real(h, p, 1))
    assert collect(nvml, **no_tegra)[0]["gpus"][0]["mig_profiles"] == A100_40GB_PROFILES


@pytest.mark.parametrize("error,reason", [
    ("NoPermission", "GPU 0 mig_profiles: NoPermission"),
    ("FunctionNotFound", None),
])
def test_profile_query_refused_whole_gives_none_and_one_note(tmp_path, monkeypatch, no_tegra, error, reason):
    facts = collect(load_double(tmp_path, monkeypatch, a100(errors={"nvmlDeviceGetGpuInstanceProfileInfo": error})),
                    **no_tegra)[0]
    assert facts["gpus"][0]["mig_profiles"] is None and facts["reason"] == reason


def test_profiles_need_the_gpu_memory_to_be_named(tmp_path, monkeypatch, no_tegra):
    facts = collect(load_double(tmp_path, monkeypatch, a100(errors={"nvmlDeviceGetMemoryInfo": "NotSupported"})),
                    **no_tegra)[0]
    assert facts["gpus"][0]["mig_profiles"] is None


def vgpu_host(*types, **changes):
    return a100(virtualization_mode=3, vgpu_types=list(types), **changes)


A100X_4C = {"id": 530, "name": "NVIDIA A100X-4C", "class": "Compute", "framebuffer_mib": 4096, "max_instances": 10}
A100X_40C = {"id": 539, "name": "GRID A100X-40C", "class": "Compute", "framebuffer_mib": 40960, "max_instances": 1}


def test_vgpu_host_lists_the_types_the_driver_supports(tmp_path, monkeypatch, no_tegra):
    facts = collect(load_double(tmp_path, monkeypatch, vgpu_host(A100X_4C, A100X_40C)), **no_tegra)[0]
    assert facts["gpus"][0]["vgpu_types"] == [
        {"name": "A100X-4C", "type_id": 530, "class": "Compute", "framebuffer_mib": 4096, "max_instances": 10},
        {"name": "A100X-40C", "type_id": 539, "class": "Compute", "framebuffer_mib": 40960, "max_instances": 1},
    ]
    assert facts["gpus"][0]["virtualization_mode"] == "host_vgpu" and facts["reason"] is None


def test_vgpu_host_without_types_is_an_empty_list(tmp_path, monkeypatch, no_tegra):
    assert collect(load_double(tmp_path, monkeypatch, vgpu_host()), **no_tegra)[0]["gpus"][0]["vgpu_types"] == []


@pytest.mark.parametrize("raw,name", [
    ("NVIDIA A100-4C", "A100-4C"),
    ("GRID V100-8Q", "V100-8Q"),
    ("NVIDIA RTX Pro 6000 Blackwell A100-4C", "A100-4C"),
    ("NVIDIA RTX A6000 Ada Generation H100-8C", "H100-8C"),
    ("A100-4C", "A100-4C"),
    ("", None),
    ("   ", None),
], ids=lambda v: None if v is None else "go-nvlib/pkg/nvmdev/nvmdev_test.go::TestParseMdevTypeName/%r" % (v,))
def test_vgpu_type_names_parse_as_go_nvlib_does(tmp_path, monkeypatch, no_tegra, raw, name):
    facts = collect(load_double(tmp_path, monkeypatch, vgpu_host(dict(A100X_4C, name=raw))), **no_tegra)[0]
    if name is None:
        assert facts["gpus"][0]["vgpu_types"] == [] and "GPU 0 vGPU type 530 vgpu_types: NVML returned" in facts["reason"]
    else:
        assert facts["gpus"][0]["vgpu_types"][0]["name"] == name and facts["reason"] is None


# --- Hostile NVML values: a reason, never a traceback ---------------------------------------------

class _Undecodable:
    """Real pynvml's _PrintableStructure decodes bytes fields strictly when read: garbage raises on access."""

    pciDeviceId = 0x20B010DE
    pciSubSystemId = 0x134F10DE

    @property
    def busId(self):
        return b"\xff\xfe0000".decode()


def _pci(**fields):
    base = dict(busId=b"00000000:07:00.0", pciDeviceId=0x20B010DE, pciSubSystemId=0x134F10DE)
    return type("nvmlPciInfo_t", (), dict(base, **fields))()


@pytest.mark.parametrize("function,answer,field", [
    ("nvmlDeviceGetPciInfo", _pci(pciDeviceId="0x20B010DE"), "pci"),
    ("nvmlDeviceGetPciInfo", _pci(pciSubSystemId=-1), "pci"),
    ("nvmlDeviceGetPciInfo", _pci(pciDeviceId=2 ** 40), "pci"),
    ("nvmlDeviceGetPciInfo", _Undecodable(), "pci"),
    ("nvmlDeviceGetName", 12, "name"),
    ("nvmlDeviceGetName", "x" * 10000, "name"),
    ("nvmlDeviceGetCudaComputeCapability", (8,), "compute_capability"),
    ("nvmlDeviceGetPersistenceMode", 7, "persistence_mode"),
    ("nvmlDeviceGetComputeMode", [3], "compute_mode"),
    ("nvmlDeviceGetMigMode", [2, True], "mig_mode"),
    ("nvmlDeviceGetVirtualizationMode", 99, "virtualization_mode"),
    ("nvmlDeviceGetComputeRunningProcesses", 5, "processes"),
    ("nvmlDeviceGetSupportedVgpus", list(range(10 ** 5)), "vgpu_types"),
    ("nvmlDeviceGetSupportedVgpus", [1.5], "vgpu_types"),
])
def test_garbage_from_nvml_is_a_reason_not_a_failure(tmp_path, monkeypatch, no_tegra, function, answer, field):
    nvml = load_double(tmp_path, monkeypatch)
    monkeypatch.setattr(nvml, function, lambda *args, **kwargs: answer)
    facts, ready = collect(nvml, **no_tegra)
    gpu = facts["gpus"][0]
    assert ready and facts["count"] == 1
    assert "GPU 0 %s: NVML returned an unusable value" % field in facts["reason"]
    assert gpu.get(field, gpu.get("pci_device_id")) in (None, {"current": None, "pending": None})


@pytest.mark.parametrize("memory,instances", [(10 ** 12, 7), (4864, 10 ** 9), ("4864", 7), (4864, None)])
def test_garbage_profile_is_left_out_with_a_reason(tmp_path, monkeypatch, no_tegra, memory, instances):
    nvml = load_double(tmp_path, monkeypatch)
    real = nvml.nvmlDeviceGetGpuInstanceProfileInfo

    def info(handle, profile, version=2):
        answer = real(handle, profile, version)
        if profile == 0:
            answer.memorySizeMB, answer.instanceCount = memory, instances
        return answer

    monkeypatch.setattr(nvml, "nvmlDeviceGetGpuInstanceProfileInfo", info)
    facts = collect(nvml, **no_tegra)[0]
    assert [p["name"] for p in facts["gpus"][0]["mig_profiles"]] == [p["name"] for p in A100_40GB_PROFILES[1:]]
    assert facts["reason"].startswith("GPU 0 mig_profiles: NVML returned an unusable value")


@pytest.mark.parametrize("function,answer", [
    ("nvmlVgpuTypeGetFramebufferSize", 2 ** 64), ("nvmlVgpuTypeGetMaxInstances", -3), ("nvmlVgpuTypeGetClass", 3)])
def test_garbage_vgpu_detail_is_null_with_a_reason(tmp_path, monkeypatch, no_tegra, function, answer):
    nvml = load_double(tmp_path, monkeypatch, vgpu_host(A100X_4C))
    monkeypatch.setattr(nvml, function, lambda *args: answer)
    facts = collect(nvml, **no_tegra)[0]
    vtype = facts["gpus"][0]["vgpu_types"][0]
    assert vtype["name"] == "A100X-4C" and None in vtype.values()
    assert "GPU 0 vGPU type 530 vgpu_types: NVML returned an unusable value" in facts["reason"]


@pytest.mark.parametrize("count", [10 ** 30, -1, "2", True])
def test_impossible_device_count_is_a_reason(tmp_path, monkeypatch, no_tegra, count):
    """A count no driver reports (the bound keeps a 10**30 loop from hanging the play) yields no GPU and says why."""
    nvml = load_double(tmp_path, monkeypatch)
    monkeypatch.setattr(nvml, "nvmlDeviceGetCount", lambda: count)
    facts, ready = collect(nvml, **no_tegra)
    assert ready and facts["gpus"] == []
    assert "system device count: NVML returned an unusable value" in facts["reason"]


# --- The facts feed the planning side -----------------------------------------------------------

H100_80GB = {"name": "NVIDIA H100 80GB HBM3", "uuid": "GPU-9c1e", "bus_id": "00000000:19:00.0",
             "pci_device_id": "0x233010DE", "pci_subsystem_id": "0x16C110DE", "memory_total_mib": 81559,
             "memory_used_mib": 0, "compute_capability": [9, 0], "persistence_mode": 1, "compute_mode": 0,
             "mig_mode": [0, 0], "virtualization_mode": 0, "processes": [], "max_mig_devices": 7, "mig_devices": []}


@pytest.mark.parametrize("board", ["a100", "h100"])
def test_nvml_profiles_give_the_same_table_as_mig_parted_default_config(tmp_path, monkeypatch, no_tegra, board):
    """gpu_info's ``mig_profiles`` -> _gpu_profiles.table_for agrees with the table generated from mig-parted's
    config-default.yaml for that PCI id (simulated boards: the double answers what nvidia-smi mig -lgip lists)."""
    doc = a100() if board == "a100" else dict(a100(), gpus=[H100_80GB])
    gpu = collect(load_double(tmp_path, monkeypatch, doc), **no_tegra)[0]["gpus"][0]
    from_nvml = _gpu_profiles.table_for(gpu)
    offline = _gpu_profiles.table_for(dict(gpu, mig_profiles=None))
    assert from_nvml[1:] == offline[1:], "compute slices, memory slices and {profile: (g, memory slices, max)}"
    assert _gpu_profiles.check_layout({"1g.5gb" if board == "a100" else "1g.10gb": 7}, from_nvml) is None


@pytest.mark.parametrize("dfilter,matches", [
    ("0x20B010DE", True), ("0x20B010DE:0x134F10DE", True), ("0x20B010DE:0x145F10DE", False), ("0x20B210DE", False),
])
def test_pci_ids_from_nvml_drive_mig_parted_device_filters(tmp_path, monkeypatch, no_tegra, dfilter, matches):
    gpu = collect(load_double(tmp_path, monkeypatch), **no_tegra)[0]["gpus"][0]
    assert _gpu_mig.filter_matches(dfilter, gpu) is matches


def test_vgpu_types_from_nvml_decide_the_vgpu_board_check(tmp_path, monkeypatch, no_tegra):
    gpu = collect(load_double(tmp_path, monkeypatch, vgpu_host(A100X_4C, A100X_40C)), **no_tegra)[0]["gpus"][0]
    assert _gpu_vgpu.board_error("A100X-4C", gpu) is None
    assert "supports A100X-40C, A100X-4C, not A100D-4C" in _gpu_vgpu.board_error("A100D-4C", gpu)
    assert _gpu_vgpu.vgpu_plan({"vgpu_type": "A100X-40C", "vgpu_count": 1}, [gpu])[0] == "A100X-40C"


# --- The double keeps to nvidia-ml-py's API -----------------------------------------------------

NVML_API_FILE = os.path.join(os.path.dirname(__file__), "fixtures", "nvml", "nvidia-ml-py-13.615.71.json")


@pytest.fixture(scope="module")
def nvml_api():
    """Function parameters, constants and struct fields of the real pynvml.py (tests/generators/gen_nvml_api.py)."""
    with open(NVML_API_FILE, encoding="utf-8") as handle:
        return json.load(handle)


def test_double_functions_and_constants_are_nvidia_ml_pys(tmp_path, monkeypatch, nvml_api):
    nvml = load_double(tmp_path, monkeypatch)
    functions = {name: f for name, f in vars(nvml).items() if name.startswith("nvml") and callable(f)
                 and not isinstance(f, type)}
    assert len(functions) > 40
    for name, function in sorted(functions.items()):
        assert name in nvml_api["functions"], "%s is not in nvidia-ml-py" % name
        assert list(inspect.signature(function).parameters) == nvml_api["functions"][name], name
    constants = {name: v for name, v in vars(nvml).items() if name.startswith(("NVML_", "nvml")) and isinstance(v, int)}
    assert {name: nvml_api["constants"].get(name) for name in constants} == constants


@pytest.mark.parametrize("call,struct", [
    (lambda n, h: n.nvmlDeviceGetPciInfo(h), "nvmlPciInfo_t"),
    (lambda n, h: n.nvmlDeviceGetMemoryInfo(h), "c_nvmlMemory_t"),
    (lambda n, h: n.nvmlDeviceGetMemoryInfo(h, version=n.nvmlMemory_v2), "c_nvmlMemory_v2_t"),
    (lambda n, h: n.nvmlDeviceGetGpuInstanceProfileInfo(h, 0), "c_nvmlGpuInstanceProfileInfo_v2_t"),
    (lambda n, h: n.nvmlDeviceGetGpuInstanceProfileInfo(h, 0, 1), "c_nvmlGpuInstanceProfileInfo_t"),
    (lambda n, h: n.nvmlDeviceGetAttributes(n.nvmlDeviceGetMigDeviceHandleByIndex(h, 0)), "c_nvmlDeviceAttributes"),
    (lambda n, h: n.nvmlGpuInstanceGetInfo(n.nvmlDeviceGetGpuInstanceById(h, 7)), "c_nvmlGpuInstanceInfo_t"),
], ids=lambda v: v if isinstance(v, str) else None)
def test_double_structs_carry_nvidia_ml_pys_fields(tmp_path, monkeypatch, nvml_api, call, struct):
    nvml = load_double(tmp_path, monkeypatch, a100(mig_mode=[1, 1], mig_devices=MIG_DEVICES))
    nvml.nvmlInit()
    answer = call(nvml, nvml.nvmlDeviceGetHandleByIndex(0))
    assert sorted(vars(answer)) == sorted(nvml_api["structs"][struct])


@pytest.mark.parametrize("function,args", [
    ("nvmlDeviceGetGpuInstanceProfileInfo", (0,)), ("nvmlDeviceGetSupportedVgpus", ()),
    ("nvmlDeviceGetCreatableVgpus", ()), ("nvmlDeviceGetMigMode", ())])
def test_double_answers_not_supported_where_nvml_does(tmp_path, monkeypatch, function, args):
    """No MIG on an L4, no vGPU outside a vGPU host (the A100 default runs bare metal)."""
    nvml = load_double(tmp_path, monkeypatch, a100(name="NVIDIA L4", mig_mode=None))
    nvml.nvmlInit()
    with pytest.raises(nvml.NVMLError_NotSupported):
        getattr(nvml, function)(nvml.nvmlDeviceGetHandleByIndex(0), *args)


def test_double_profile_ids_past_the_count_are_invalid_arguments(tmp_path, monkeypatch):
    nvml = load_double(tmp_path, monkeypatch)
    nvml.nvmlInit()
    handle = nvml.nvmlDeviceGetHandleByIndex(0)
    with pytest.raises(nvml.NVMLError_InvalidArgument):
        nvml.nvmlDeviceGetGpuInstanceProfileInfo(handle, nvml.NVML_GPU_INSTANCE_PROFILE_COUNT)
    with pytest.raises(nvml.NVMLError_NotSupported):
        nvml.nvmlDeviceGetGpuInstanceProfileInfo(handle, nvml.NVML_GPU_INSTANCE_PROFILE_8_SLICE)
