# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""LAB TEST DOUBLE of nvidia-ml-py's ``pynvml`` module: simulated GPUs, no driver, no hardware.

Follows the API of ``pynvml.py`` in nvidia-ml-py 13.615.71 as shared/reference/gpu.md section 7
describes it: functions of the same names and return shapes (strings as ``str``, struct fields
``busId`` as bytes, ``nvmlDeviceGetMigMode`` -> ``[current, pending]``, ``nvmlSystemGetCudaDriverVersion``
-> 12040), ``NVMLError`` whose constructor maps the NVML code to an ``NVMLError_<Name>`` subclass
with the code in ``.value``, ``NVMLLibraryMismatchError``, NotSupported for MIG calls on GPUs
without MIG, NotFound for empty MIG slots, Uninitialized before ``nvmlInit``.

What it simulates comes from a JSON document: ``$EDGEAI_FAKE_NVML_STATE`` or
``/etc/edgeai-lab/nvml.json`` if present, else one A100-SXM4-40GB, MIG capable, MIG disabled,
driver 550.54.15. Keys: ``init_error`` (an error name such as "DriverNotLoaded"), ``driver_version``,
``cuda_driver_version`` (int), ``nvml_version``, ``errors`` ({function: error name}) and ``gpus``:
each with name, uuid, bus_id, pci_device_id, memory_total_mib, memory_used_mib,
memory_reserved_mib, compute_capability [major, minor], persistence_mode, compute_mode,
mig_mode [current, pending] or null (not MIG capable), virtualization_mode, processes (list of
{pid, used_mib}), max_mig_devices, mig_devices (list of {slot, uuid, gi_id, ci_id, gi_profile_id,
gi_slices, ci_slices, memory_mib}), gi_profiles (list of [id, slices, instances, memory MiB, name];
default: ``GI_PROFILES`` for the board's pci_device_id), vgpu_types (list of {id, name as NVML gives it
("NVIDIA A100-4C"), class, framebuffer_mib, max_instances, gi_profile_id}; answered only in
virtualization mode HOST_VGPU, NotSupported otherwise, as on a GPU without the vGPU host driver) and
``errors`` ({function: error name}) for per-GPU refusals.
Installed by tests/lab/prepare.yml; never by a role.
"""

from __future__ import annotations

import functools
import json
import os

NVML_SUCCESS = 0
_CODES = {
    "Uninitialized": 1, "InvalidArgument": 2, "NotSupported": 3, "NoPermission": 4, "AlreadyInitialized": 5,
    "NotFound": 6, "InsufficientSize": 7, "InsufficientPower": 8, "DriverNotLoaded": 9, "Timeout": 10,
    "IrqIssue": 11, "LibraryNotFound": 12, "FunctionNotFound": 13, "CorruptedInforom": 14, "GpuIsLost": 15,
    "ResetRequired": 16, "OperatingSystem": 17, "LibRmVersionMismatch": 18, "InUse": 19, "Memory": 20,
    "NoData": 21, "Unknown": 999,
}
_TEXT = {
    1: "Uninitialized", 2: "Invalid Argument", 3: "Not Supported", 4: "Insufficient Permissions",
    6: "Not Found", 9: "Driver Not Loaded", 12: "NVML Shared Library Not Found", 13: "Function Not Found",
    15: "GPU is lost", 18: "RM has detected an NVML/RM version mismatch.", 999: "Unknown Error",
}

NVML_COMPUTEMODE_DEFAULT = 0
NVML_COMPUTEMODE_EXCLUSIVE_THREAD = 1
NVML_COMPUTEMODE_PROHIBITED = 2
NVML_COMPUTEMODE_EXCLUSIVE_PROCESS = 3
NVML_GPU_VIRTUALIZATION_MODE_NONE = 0
NVML_GPU_VIRTUALIZATION_MODE_PASSTHROUGH = 1
NVML_GPU_VIRTUALIZATION_MODE_VGPU = 2
NVML_GPU_VIRTUALIZATION_MODE_HOST_VGPU = 3
NVML_GPU_VIRTUALIZATION_MODE_HOST_VSGA = 4
NVML_DEVICE_MIG_DISABLE = 0
NVML_DEVICE_MIG_ENABLE = 1
NVML_DEVICE_ARCH_AMPERE = 7
nvmlMemory_v2 = 0x02000028
NVML_GPU_INSTANCE_PROFILE_1_SLICE = 0x0
NVML_GPU_INSTANCE_PROFILE_2_SLICE = 0x1
NVML_GPU_INSTANCE_PROFILE_3_SLICE = 0x2
NVML_GPU_INSTANCE_PROFILE_4_SLICE = 0x3
NVML_GPU_INSTANCE_PROFILE_7_SLICE = 0x4
NVML_GPU_INSTANCE_PROFILE_8_SLICE = 0x5
NVML_GPU_INSTANCE_PROFILE_6_SLICE = 0x6
NVML_GPU_INSTANCE_PROFILE_1_SLICE_REV1 = 0x7
NVML_GPU_INSTANCE_PROFILE_2_SLICE_REV1 = 0x8
NVML_GPU_INSTANCE_PROFILE_1_SLICE_REV2 = 0x9
NVML_GPU_INSTANCE_PROFILE_1_SLICE_GFX = 0xA
NVML_GPU_INSTANCE_PROFILE_2_SLICE_GFX = 0xB
NVML_GPU_INSTANCE_PROFILE_4_SLICE_GFX = 0xC
NVML_GPU_INSTANCE_PROFILE_1_SLICE_NO_ME = 0xD
NVML_GPU_INSTANCE_PROFILE_2_SLICE_NO_ME = 0xE
NVML_GPU_INSTANCE_PROFILE_1_SLICE_ALL_ME = 0xF
NVML_GPU_INSTANCE_PROFILE_2_SLICE_ALL_ME = 0x10
NVML_GPU_INSTANCE_PROFILE_3_SLICE_GFX = 0x11
NVML_GPU_INSTANCE_PROFILE_COUNT = 0x12
nvmlGpuInstanceProfileInfo_v2 = 0x02000098
_NO_GI_PROFILE = 0xFFFFFFFF  # nvml.h INVALID_GPU_INSTANCE_PROFILE_ID (pynvml has no name for it): a time-sliced type

# GPU-instance profiles by PCI device id: (profile id, slices, instances, memory MiB, NVML name), ids not listed
# answer NotSupported. A100-40GB memory is what `nvidia-smi mig -lgip` prints there; H100's is its GiB column
# (9.75, 19.62, 39.50, 79.00) in MiB, close enough for every name to come out as on the real board.
GI_PROFILES = {
    "0x20B010DE": [  # A100-SXM4-40GB
        (0x0, 1, 7, 4864, "MIG 1g.5gb"), (0x7, 1, 1, 4864, "MIG 1g.5gb+me"), (0x9, 1, 4, 9856, "MIG 1g.10gb"),
        (0x1, 2, 3, 9856, "MIG 2g.10gb"), (0x2, 3, 2, 19968, "MIG 3g.20gb"), (0x3, 4, 1, 19968, "MIG 4g.20gb"),
        (0x4, 7, 1, 40192, "MIG 7g.40gb")],
    "0x233010DE": [  # H100 80GB HBM3
        (0x0, 1, 7, 9984, "MIG 1g.10gb"), (0x7, 1, 1, 9984, "MIG 1g.10gb+me"), (0x9, 1, 4, 20096, "MIG 1g.20gb"),
        (0x1, 2, 3, 20096, "MIG 2g.20gb"), (0x2, 3, 2, 40448, "MIG 3g.40gb"), (0x3, 4, 1, 40448, "MIG 4g.40gb"),
        (0x4, 7, 1, 80896, "MIG 7g.80gb")],
}


class NVMLLibraryMismatchError(Exception):
    pass


class NVMLError(Exception):
    _valClassMapping = {}

    def __new__(cls, value):
        target = NVMLError._valClassMapping.get(value, cls) if cls is NVMLError else cls
        obj = Exception.__new__(target)
        obj.value = value
        return obj

    def __init__(self, value):
        super().__init__(value)

    def __str__(self):
        return _TEXT.get(self.value, "NVML Error with code %d" % self.value)

    def __eq__(self, other):
        return self.value == getattr(other, "value", None)

    __hash__ = Exception.__hash__


for _name, _code in _CODES.items():
    _cls = type("NVMLError_" + _name, (NVMLError,), {})
    NVMLError._valClassMapping[_code] = _cls
    globals()["NVMLError_" + _name] = _cls
    globals()["NVML_ERROR_" + "".join("_" + c if c.isupper() else c.upper() for c in _name).lstrip("_")] = _code


def nvmlExceptionClass(nvmlErrorCode):
    if nvmlErrorCode not in NVMLError._valClassMapping:
        raise ValueError("nvmlErrorCode %s is not valid" % nvmlErrorCode)
    return NVMLError._valClassMapping[nvmlErrorCode]


def nvmlErrorString(result):
    return _TEXT.get(result, "Unknown Error")


DEFAULT_STATE = {
    "driver_version": "550.54.15",
    "cuda_driver_version": 12040,
    "nvml_version": "12.550.54.15",
    "gpus": [{
        "name": "NVIDIA A100-SXM4-40GB",
        "uuid": "GPU-5bf3a1e2-8c1d-4f6a-9e27-0d3c4b5a6f71",
        "bus_id": "00000000:07:00.0",
        "pci_device_id": "0x20B010DE",
        "pci_subsystem_id": "0x134F10DE",
        "memory_total_mib": 40960,
        "memory_reserved_mib": 571,
        "memory_used_mib": 0,
        "compute_capability": [8, 0],
        "architecture": NVML_DEVICE_ARCH_AMPERE,
        "persistence_mode": 1,
        "compute_mode": NVML_COMPUTEMODE_DEFAULT,
        "mig_mode": [0, 0],
        "virtualization_mode": NVML_GPU_VIRTUALIZATION_MODE_NONE,
        "processes": [],
        "max_mig_devices": 7,
        "mig_devices": [],
    }],
}


class _Struct:
    def __init__(self, **fields):
        self.__dict__.update(fields)

    def __repr__(self):
        return "%s(%s)" % (type(self).__name__, self.__dict__)


class c_nvmlDevice_t(_Struct):
    """An opaque device handle, as ctypes pointers are in the real module."""


class c_nvmlGpuInstance_t(_Struct):
    """An opaque GPU instance handle."""


class c_nvmlGpuInstanceProfileInfo_t(_Struct):
    """v1: no version, no name."""


class c_nvmlGpuInstanceProfileInfo_v2_t(_Struct):
    """v2 (nvmlDeviceGetGpuInstanceProfileInfoV): adds version and name; pynvml's _PrintableStructure hands name as str."""


_state = {"ref": 0, "doc": None}


def _raise(name):
    raise NVMLError(_CODES[name])


def _load():
    path = os.environ.get("EDGEAI_FAKE_NVML_STATE") or "/etc/edgeai-lab/nvml.json"
    if os.path.exists(path):
        with open(path, "r", encoding="utf-8") as handle:
            return json.load(handle)
    return json.loads(json.dumps(DEFAULT_STATE))


def _checked(func):
    """Uninitialized before nvmlInit, then any simulated refusal for this function (and GPU)."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if _state["ref"] == 0:
            _raise("Uninitialized")
        errors = dict(_state["doc"].get("errors") or {})
        for arg in args:
            if isinstance(arg, c_nvmlDevice_t):
                errors.update(arg.gpu.get("errors") or {})
                if arg.mig is not None:
                    errors.update(arg.mig.get("errors") or {})
        name = errors.get(func.__name__)
        if name == "LibraryMismatch":
            raise NVMLLibraryMismatchError("Unversioned function called and the pyNVML version does not match the NVML lib version.")
        if name:
            _raise(name)
        return func(*args, **kwargs)
    return wrapper


def nvmlInitWithFlags(flags):
    doc = _load()
    if doc.get("init_error"):
        _raise(doc["init_error"])
    _state["doc"] = doc
    _state["ref"] += 1


def nvmlInit():
    nvmlInitWithFlags(0)


def nvmlShutdown():
    if _state["ref"] == 0:
        _raise("Uninitialized")
    _state["ref"] -= 1


@_checked
def nvmlSystemGetDriverVersion():
    return _state["doc"]["driver_version"]


@_checked
def nvmlSystemGetCudaDriverVersion():
    return _state["doc"]["cuda_driver_version"]


@_checked
def nvmlSystemGetNVMLVersion():
    return _state["doc"]["nvml_version"]


@_checked
def nvmlDeviceGetCount():
    return len(_state["doc"]["gpus"])


def _handle(index, mig=None):
    return c_nvmlDevice_t(index=index, gpu=_state["doc"]["gpus"][index], mig=mig)


@_checked
def nvmlDeviceGetHandleByIndex(index):
    if not 0 <= index < len(_state["doc"]["gpus"]):
        _raise("InvalidArgument")
    return _handle(index)


@_checked
def nvmlDeviceGetHandleByUUID(uuid):
    for index, gpu in enumerate(_state["doc"]["gpus"]):
        if gpu["uuid"] == uuid:
            return _handle(index)
        for mig in gpu.get("mig_devices") or []:
            if mig["uuid"] == uuid:
                return _handle(index, mig)
    _raise("NotFound")


@_checked
def nvmlDeviceGetHandleByPciBusId(pciBusId):
    for index, gpu in enumerate(_state["doc"]["gpus"]):
        if gpu["bus_id"].lower() == pciBusId.lower():
            return _handle(index)
    _raise("NotFound")


@_checked
def nvmlDeviceGetIndex(handle):
    return handle.index


@_checked
def nvmlDeviceGetMinorNumber(handle):
    return handle.index


@_checked
def nvmlDeviceGetName(handle):
    return handle.gpu["name"]


@_checked
def nvmlDeviceGetUUID(handle):
    return handle.mig["uuid"] if handle.mig is not None else handle.gpu["uuid"]


@_checked
def nvmlDeviceGetArchitecture(device):
    return device.gpu.get("architecture", NVML_DEVICE_ARCH_AMPERE)


@_checked
def nvmlDeviceGetPciInfo(handle):
    gpu = handle.gpu
    domain, bus, rest = gpu["bus_id"].split(":")
    device = rest.split(".")[0]
    return _Struct(busId=gpu["bus_id"].encode(), busIdLegacy=gpu["bus_id"][4:].encode(), domain=int(domain, 16),
                   bus=int(bus, 16), device=int(device, 16), pciDeviceId=int(gpu["pci_device_id"], 16),
                   pciSubSystemId=int(gpu.get("pci_subsystem_id", "0x0"), 16))


nvmlDeviceGetPciInfo_v3 = nvmlDeviceGetPciInfo


@_checked
def nvmlDeviceGetMemoryInfo(handle, version=None):
    mib = 1024 * 1024
    if handle.mig is not None:
        total, used, reserved = handle.mig["memory_mib"], 0, 0
    else:
        total, used = handle.gpu["memory_total_mib"], handle.gpu.get("memory_used_mib", 0)
        reserved = handle.gpu.get("memory_reserved_mib", 0)
    if version:
        return _Struct(version=version, total=total * mib, reserved=reserved * mib, used=used * mib,
                       free=(total - reserved - used) * mib)
    # The v1 struct counts the driver's reservation as used, like the C API.
    return _Struct(total=total * mib, used=(used + reserved) * mib, free=(total - used - reserved) * mib)


@_checked
def nvmlDeviceGetCudaComputeCapability(handle):
    return tuple(handle.gpu["compute_capability"])


@_checked
def nvmlDeviceGetPersistenceMode(handle):
    return handle.gpu["persistence_mode"]


@_checked
def nvmlDeviceGetComputeMode(handle):
    return handle.gpu["compute_mode"]


@_checked
def nvmlDeviceGetVirtualizationMode(handle):
    return handle.gpu["virtualization_mode"]


@_checked
def nvmlDeviceGetComputeRunningProcesses(handle):
    mib = 1024 * 1024
    return [_Struct(pid=p["pid"], usedGpuMemory=None if p.get("used_mib") is None else p["used_mib"] * mib,
                    gpuInstanceId=p.get("gi_id", 0xFFFFFFFF), computeInstanceId=p.get("ci_id", 0xFFFFFFFF))
            for p in handle.gpu.get("processes") or []]


def _mig_capable(handle):
    if handle.gpu.get("mig_mode") is None:
        _raise("NotSupported")


@_checked
def nvmlDeviceGetMigMode(device):
    _mig_capable(device)
    return list(device.gpu["mig_mode"])


@_checked
def nvmlDeviceGetMaxMigDeviceCount(device):
    _mig_capable(device)
    return device.gpu.get("max_mig_devices", 7)


@_checked
def nvmlDeviceGetMigDeviceHandleByIndex(device, index):
    _mig_capable(device)
    if not device.gpu["mig_mode"][0]:
        _raise("InvalidArgument")
    for mig in device.gpu.get("mig_devices") or []:
        if mig["slot"] == index:
            return _handle(device.index, mig)
    _raise("NotFound")


@_checked
def nvmlDeviceIsMigDeviceHandle(device):
    return int(device.mig is not None)


@_checked
def nvmlDeviceGetDeviceHandleFromMigDeviceHandle(migDevice):
    if migDevice.mig is None:
        _raise("InvalidArgument")
    return _handle(migDevice.index)


def _mig_only(handle):
    if handle.mig is None:
        _raise("InvalidArgument")
    return handle.mig


@_checked
def nvmlDeviceGetGpuInstanceId(device):
    return _mig_only(device)["gi_id"]


@_checked
def nvmlDeviceGetComputeInstanceId(device):
    return _mig_only(device)["ci_id"]


@_checked
def nvmlDeviceGetAttributes(device):
    mig = device.mig
    if mig is None:
        _raise("NotSupported")
    return _Struct(multiprocessorCount=14 * mig["gi_slices"], sharedCopyEngineCount=mig["gi_slices"],
                   sharedDecoderCount=0, sharedEncoderCount=0, sharedJpegCount=0, sharedOfaCount=0,
                   gpuInstanceSliceCount=mig["gi_slices"], computeInstanceSliceCount=mig["ci_slices"],
                   memorySizeMB=mig["memory_mib"])


@_checked
def nvmlDeviceGetGpuInstanceById(device, gpuInstanceId):
    for mig in device.gpu.get("mig_devices") or []:
        if mig["gi_id"] == gpuInstanceId:
            return c_nvmlGpuInstance_t(device=device, mig=mig)
    _raise("NotFound")


@_checked
def nvmlGpuInstanceGetInfo(gpuInstance):
    mig = gpuInstance.mig
    return _Struct(device=gpuInstance.device, id=mig["gi_id"], profileId=mig.get("gi_profile_id", 0),
                   placement=_Struct(start=0, size=mig["gi_slices"]))


@_checked
def nvmlDeviceGetGpuInstanceProfileInfo(device, profile, version=2):
    """InvalidArgument past NVML_GPU_INSTANCE_PROFILE_COUNT, NotSupported for a profile the board lacks."""
    _mig_capable(device)
    if version not in (1, 2):
        _raise("FunctionNotFound")
    if not 0 <= profile < NVML_GPU_INSTANCE_PROFILE_COUNT:
        _raise("InvalidArgument")
    listed = device.gpu.get("gi_profiles", GI_PROFILES.get(device.gpu.get("pci_device_id"), []))
    for profile_id, slices, instances, memory_mib, name in listed:
        if profile_id == profile:
            fields = dict(id=profile_id, isP2pSupported=0, sliceCount=slices, instanceCount=instances,
                          multiprocessorCount=(16 if slices < 7 else 14) * slices, copyEngineCount=slices,
                          decoderCount=slices // 2, encoderCount=0, jpegCount=0, ofaCount=0, memorySizeMB=memory_mib)
            if version == 1:
                return c_nvmlGpuInstanceProfileInfo_t(**fields)
            return c_nvmlGpuInstanceProfileInfo_v2_t(version=nvmlGpuInstanceProfileInfo_v2, name=name, **fields)
    _raise("NotSupported")


nvmlDeviceGetGpuInstanceProfileInfoV = nvmlDeviceGetGpuInstanceProfileInfo


def _vgpu_host(handle):
    if handle.gpu.get("virtualization_mode") != NVML_GPU_VIRTUALIZATION_MODE_HOST_VGPU:
        _raise("NotSupported")
    return [t["id"] for t in handle.gpu.get("vgpu_types") or []]


@_checked
def nvmlDeviceGetSupportedVgpus(handle):
    return _vgpu_host(handle)


@_checked
def nvmlDeviceGetCreatableVgpus(handle):
    return _vgpu_host(handle)  # nothing is ever created here, so everything supported stays creatable


def _vgpu_type(type_id):
    for gpu in _state["doc"]["gpus"]:
        for vgpu_type in gpu.get("vgpu_types") or []:
            if vgpu_type["id"] == type_id:
                return vgpu_type
    _raise("InvalidArgument")


@_checked
def nvmlVgpuTypeGetName(vgpuTypeId):
    return _vgpu_type(vgpuTypeId)["name"]


@_checked
def nvmlVgpuTypeGetClass(vgpuTypeId):
    return _vgpu_type(vgpuTypeId).get("class", "Compute")


@_checked
def nvmlVgpuTypeGetFramebufferSize(vgpuTypeId):
    return _vgpu_type(vgpuTypeId)["framebuffer_mib"] * 1024 * 1024


@_checked
def nvmlVgpuTypeGetMaxInstances(handle, vgpuTypeId):
    return _vgpu_type(vgpuTypeId)["max_instances"]


@_checked
def nvmlVgpuTypeGetGpuInstanceProfileId(vgpuTypeId):
    return _vgpu_type(vgpuTypeId).get("gi_profile_id", _NO_GI_PROFILE)
