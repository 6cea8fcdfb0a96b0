# -*- coding: utf-8 -*-
# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Private to the edgeai.fleet collection: may change without notice.

"""The ``edgeai_gpu`` facts: an NVML walk over an injected ``pynvml`` plus Jetson/Tegra detection.

Nothing here imports ``pynvml``: the module passes the imported library (or None), tests pass a
fake with the same API (functions named like nvidia-ml-py's, ``NVMLError`` subclasses carrying the
NVML code in ``.value``). A field NVML refuses on one GPU becomes ``None``; only a library that
cannot be loaded at all empties the GPU list, and ``reason`` says why.
"""

from __future__ import annotations

import os
import re

from ansible_collections.edgeai.fleet.plugins.module_utils._errors import SHAPE_ERRORS, malformed

MIB = 1024 * 1024
GIB = 1024 * MIB

# NVML return codes (nvml.h NVML_ERROR_*), the ones this walk treats specially.
INVALID_ARGUMENT = 2
NOT_SUPPORTED = 3
NO_PERMISSION = 4
NOT_FOUND = 6
DRIVER_NOT_LOADED = 9
LIBRARY_NOT_FOUND = 12
FUNCTION_NOT_FOUND = 13
LIB_RM_VERSION_MISMATCH = 18
# "This GPU or driver has no such thing": null without a note. NoPermission and real failures
# (GPU lost, unknown error) are noted in ``reason`` because the data is then partial.
SILENT = (NOT_SUPPORTED, FUNCTION_NOT_FOUND)

INIT_REASONS = {
    LIBRARY_NOT_FOUND: "NVML library libnvidia-ml.so.1 not found: the NVIDIA driver is not installed",
    DRIVER_NOT_LOADED: "the NVIDIA kernel driver is not loaded (modprobe nvidia, or check dmesg for why it failed)",
    NO_PERMISSION: "no permission to open the NVIDIA devices (/dev/nvidia*); run as root or fix the device permissions",
    LIB_RM_VERSION_MISMATCH: "the NVIDIA driver library and kernel module versions differ (driver upgraded without a reboot); "
                             "reboot or reload the nvidia kernel modules",
}
MISSING_LIBRARY = "nvidia-ml-py (pynvml) is not installed"

COMPUTE_MODES = {0: "default", 1: "exclusive_thread", 2: "prohibited", 3: "exclusive_process"}
VIRTUALIZATION_MODES = {0: "none", 1: "passthrough", 2: "vgpu", 3: "host_vgpu", 4: "host_vsga"}
# NVML names of integrated GPUs (go-nvlib IsIntegratedGPUName): Jetson Orin and Thor.
INTEGRATED_GPU_MARKERS = ("(nvgpu)", "nvidia thor")
# GPU instance profile ids (NVML_GPU_INSTANCE_PROFILE_*) whose MIG profile names carry an
# attribute suffix, as nvidia-smi and go-nvlib print them.
PROFILE_SUFFIXES = {0x7: "+me", 0x8: "+me", 0xA: "+gfx", 0xB: "+gfx", 0xC: "+gfx", 0x11: "+gfx",
                    0xD: "-me", 0xE: "-me", 0xF: "+me.all", 0x10: "+me.all"}
# NVML_GPU_INSTANCE_PROFILE_* id -> GPU-instance slices, as go-nvlib's NewMigProfile (pkg/nvlib/device/mig_profile.go)
# maps them for mig-parted; 0x11 (3_SLICE_GFX) is newer than go-nvlib's switch and named like the other +gfx ids.
GI_PROFILE_SLICES = {0x0: 1, 0x1: 2, 0x2: 3, 0x3: 4, 0x4: 7, 0x5: 8, 0x6: 6, 0x7: 1, 0x8: 2, 0x9: 1, 0xA: 1, 0xB: 2,
                     0xC: 4, 0xD: 1, 0xE: 2, 0xF: 1, 0x10: 2, 0x11: 3}
L4T_RELEASE = re.compile(r"R(\d+)\s*\(release\),\s*REVISION:\s*([0-9][0-9.]*)")


# Daemons (and podman) whose presence means the container engine is installed; the NVIDIA runtime is
# registered with each one found.
ENGINE_BINARIES = (
    ("containerd", ("usr/bin/containerd", "usr/local/bin/containerd")),
    ("crio", ("usr/bin/crio", "usr/local/bin/crio")),
    ("docker", ("usr/bin/dockerd", "usr/sbin/dockerd", "usr/local/bin/dockerd")),  # usr/sbin: Debian's docker.io
    ("podman", ("usr/bin/podman", "usr/local/bin/podman")),
)


def container_engines(root="/"):
    """Names of the installed container engines, in a stable order."""
    return [engine for engine, paths in ENGINE_BINARIES
            if any(os.path.isfile(os.path.join(root, path)) for path in paths)]


def empty_facts(tegra=None, engines=None):
    return {
        "platform": "tegra" if tegra else "none",
        "reason": None,
        "driver_version": None,
        "cuda_driver_version": None,
        "nvml_version": None,
        "count": 0,
        "products": [],
        "mig_capable": False,
        "gpus": [],
        "tegra": tegra,
        "present": bool(tegra),
        "container_engines": list(engines or []),
    }


def _read(path):
    try:
        with open(path, "rb") as handle:
            return handle.read().decode("utf-8", "replace").replace("\x00", "").strip()
    except OSError:
        return None


def detect_tegra(root="/", kernel_release=None):
    """Return ``{model, l4t_release}`` on a Jetson/Tegra board, else None.

    Primary signals are go-nvlib's ``HasTegraFiles``: ``/etc/nv_tegra_release`` is a file, or
    ``/sys/devices/soc0/family`` starts with "tegra"; cloud-native-stack adds the device-tree
    model naming a Jetson and a ``-tegra`` kernel.
    """
    release_file = os.path.join(root, "etc/nv_tegra_release")
    family = (_read(os.path.join(root, "sys/devices/soc0/family")) or "").lower()
    model = _read(os.path.join(root, "proc/device-tree/model"))
    kernel = kernel_release if kernel_release is not None else os.uname().release
    jetson_model = "nvidia jetson" in (model or "").lower()
    if not (os.path.isfile(release_file) or family.startswith("tegra") or jetson_model or kernel.endswith("-tegra")):
        return None
    match = L4T_RELEASE.search(_read(release_file) or "")
    l4t = None
    if match:
        revision = match.group(2).split(".")
        l4t = ".".join([match.group(1)] + revision + ["0"] * (2 - len(revision)))
    return {"model": model or None, "l4t_release": l4t}


def mig_profile_name(gi_slices, ci_slices, memory_mib, parent_total_bytes, gi_profile_id=None):
    """The MIG profile as nvidia-smi names it (``1g.5gb``, ``1c.2g.10gb``, ``1g.10gb+me``).

    The memory figure is go-nvlib's: the instance's share of the GPU rounded up to eighths,
    times the GPU's memory in whole GiB.
    """
    if not gi_slices or not memory_mib or not parent_total_bytes:
        return None
    fraction = (memory_mib * MIB) / float(parent_total_bytes)
    fraction = -(-fraction * 8 // 1) / 8  # ceil to 1/8
    total_gb = (parent_total_bytes + GIB - 1) // GIB
    gigabytes = int(round(fraction * total_gb))
    suffix = PROFILE_SUFFIXES.get(gi_profile_id, "")
    if ci_slices and ci_slices != gi_slices:
        return "%dc.%dg.%dgb%s" % (ci_slices, gi_slices, gigabytes, suffix)
    return "%dg.%dgb%s" % (gi_slices, gigabytes, suffix)


def _text(value):
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def _error_name(exc):
    return type(exc).__name__.replace("NVMLError_", "") or "NVMLError"


class _Walk:
    """Calls into NVML; a refusal becomes None, and partial data leaves a note."""

    def __init__(self, nvml):
        self.nvml = nvml
        mismatch = getattr(nvml, "NVMLLibraryMismatchError", None)
        self.errors = (nvml.NVMLError,) + ((mismatch,) if mismatch else ())
        self.mismatch = mismatch
        self.notes = []
        self.unsupported = []
        self.failures = 0

    def call(self, where, field, func, *args, **kwargs):
        quiet = kwargs.pop("quiet", ())
        function = getattr(self.nvml, func, None)
        if function is None:  # an nvidia-ml-py older than the call
            self.failures += 1
            self._unsupported(field)
            return None
        try:
            return function(*args, **kwargs)
        except self.errors as exc:
            code = getattr(exc, "value", None)
            if code in quiet:
                return None
            self.failures += 1
            if code in SILENT or (self.mismatch is not None and isinstance(exc, self.mismatch)):
                self._unsupported(field)
            else:
                self.notes.append("%s %s: %s" % (where, field, _error_name(exc)))
            return None

    def _unsupported(self, field):
        if field not in self.unsupported:
            self.unsupported.append(field)

    def read(self, where, field, convert, func, *args):
        """An NVML call whose answer goes through ``convert``: None when refused or unusable."""
        return self.value(where, field, convert, self.call(where, field, func, *args))

    def value(self, where, field, convert, *raw):
        """``convert(*raw)``; None when NVML refused (a None among ``raw``) or handed back what no driver returns.

        Garbage is noted, not raised: one broken field must not cost the other facts. Real pynvml decodes struct
        strings strictly on attribute access, so even reading a field inside ``convert`` can raise.
        """
        if any(item is None for item in raw):
            return None
        try:
            return convert(*raw)
        except SHAPE_ERRORS as exc:
            self.notes.append("%s %s: NVML returned an unusable value (%s: %s); the driver and nvidia-ml-py may not "
                              "match" % (where, field, type(exc).__name__, str(exc)[:80]))
            return None


def collect(nvml, root="/", kernel_release=None):
    """Return ``(facts, nvml_ready)``; ``nvml`` is the imported pynvml module or None."""
    tegra = detect_tegra(root, kernel_release)
    facts = empty_facts(tegra, container_engines(root))
    if nvml is None:
        facts["reason"] = MISSING_LIBRARY + (_TEGRA_FILES_NOTE if tegra else "")
        return facts, False
    walk = _Walk(nvml)
    try:
        nvml.nvmlInit()
    except walk.errors as exc:
        code = getattr(exc, "value", None)
        why = INIT_REASONS.get(code, "NVML initialisation failed: %s" % _error_name(exc))
        facts["reason"] = why + (_TEGRA_FILES_NOTE if tegra else "")
        return facts, False
    try:
        _fill(walk, facts, root)
    finally:
        try:
            nvml.nvmlShutdown()
        except walk.errors:
            pass  # init succeeded, so a failing shutdown leaves nothing to clean up
    return facts, True


_TEGRA_FILES_NOTE = ("; Jetson/Tegra detected from its files: NVML is absent before Orin, so use the toolkit's CSV mode "
                     "and the device plugin's tegra discovery with the envvar list strategy")


# NVML's own limits (NVML_MAX_GPUS-ish, 7 MIG slots on today's parts) with room to spare: a count past
# them is a broken driver/library pairing, and looping 10**30 times would hang the play.
MAX_COUNT = 1024
UINT32 = 0xFFFFFFFF
MAX_BYTES = 1 << 50  # 1 PiB: far above any GPU's or vGPU's memory, far below what a garbage 64-bit field holds
MAX_TEXT = 256  # NVML's string buffers are at most 96 bytes


def _uint(value, maximum):
    """An NVML unsigned field: an int (not a bool) that the C type and the hardware allow."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= maximum:
        raise ValueError("%r is not an integer from 0 to %d" % (value, maximum))
    return value


def _str(value):
    text = _text(value)
    if not isinstance(text, str) or len(text) > MAX_TEXT:
        raise ValueError("%r is not a string of at most %d characters" % (value, MAX_TEXT))
    return text


def _hex32(value):
    """A PCI id as the mig-parted ``device-filter`` spells it (``0x20B010DE``)."""
    return "0x%08X" % _uint(value, UINT32)


def _small(value):
    return _uint(value, MAX_COUNT)


def _id32(value):
    return _uint(value, UINT32)


def _mib(value):
    return _uint(value, MAX_BYTES) // MIB


def _count(walk, where, field, func, *args):
    return walk.read(where, field, _small, func, *args) or 0


def _cuda_version(value):
    value = _uint(value, 10 ** 6)
    return "%d.%d" % (value // 1000, (value % 1000) // 10)


@malformed("NVML's answers", fix="The driver and nvidia-ml-py may not match; compare with nvidia-smi")
def _fill(walk, facts, root):
    facts["driver_version"] = walk.read("system", "driver_version", _str, "nvmlSystemGetDriverVersion")
    facts["cuda_driver_version"] = walk.read("system", "cuda_driver_version", _cuda_version,
                                             "nvmlSystemGetCudaDriverVersion")
    facts["nvml_version"] = walk.read("system", "nvml_version", _str, "nvmlSystemGetNVMLVersion")
    count = _count(walk, "system", "device count", "nvmlDeviceGetCount")
    for index in range(count):
        handle = walk.call("GPU %d" % index, "handle", "nvmlDeviceGetHandleByIndex", index)
        if handle is not None:
            facts["gpus"].append(_gpu(walk, index, handle))
    gpus = facts["gpus"]
    facts["count"] = len(gpus)
    facts["products"] = sorted(set(g["name"] for g in gpus if g["name"]))
    facts["mig_capable"] = any(g["mig_mode"]["current"] is not None for g in gpus)
    integrated = any(m in (g["name"] or "").lower() for g in gpus for m in INTEGRATED_GPU_MARKERS)
    if integrated and facts["tegra"] is None:
        facts["tegra"] = {"model": _read(os.path.join(root, "proc/device-tree/model")) or None, "l4t_release": None}
    reasons = list(walk.notes)
    if facts["tegra"] is not None:
        facts["platform"] = "tegra"
        if walk.unsupported:
            reasons.insert(0, "Jetson/Tegra integrated GPU: NVML does not report %s here" % ", ".join(walk.unsupported))
    elif gpus:
        facts["platform"] = "nvml"
    else:
        reasons.insert(0, "NVML is working (driver %s) but found no NVIDIA GPU" % facts["driver_version"])
    facts["reason"] = "; ".join(reasons) or None
    facts["present"] = bool(gpus) or facts["tegra"] is not None


def _memory(walk, where, handle):
    """Memory info as nvidia-smi reports it: the v2 struct (reserved excluded from used) when the driver has it."""
    version = getattr(walk.nvml, "nvmlMemory_v2", None)
    if version is not None:
        info = walk.call(where, "memory", "nvmlDeviceGetMemoryInfo", handle, version=version,
                         quiet=(NOT_SUPPORTED, FUNCTION_NOT_FOUND, NO_PERMISSION))
        if info is not None:
            return info
    return walk.call(where, "memory", "nvmlDeviceGetMemoryInfo", handle)


def _pci(info):
    return _str(info.busId), _hex32(info.pciDeviceId), _hex32(info.pciSubSystemId)


def _memory_bytes(info):
    return _uint(info.total, MAX_BYTES), _uint(info.used, MAX_BYTES)


def _capability(value):
    major, minor = value
    return "%d.%d" % (_uint(major, 99), _uint(minor, 99))


def _mig_mode(value):
    current, pending = value
    return {"current": bool(_uint(current, 1)), "pending": bool(_uint(pending, 1))}


def _gpu(walk, index, handle):
    where = "GPU %d" % index

    def read(field, convert, func):
        return walk.read(where, field, convert, func, handle)

    bus_id, device_id, subsystem_id = read("pci", _pci, "nvmlDeviceGetPciInfo") or (None, None, None)
    total, used = walk.value(where, "memory", _memory_bytes, _memory(walk, where, handle)) or (None, None)
    capability = read("compute_capability", _capability, "nvmlDeviceGetCudaComputeCapability")
    persistence = read("persistence_mode", lambda v: bool(_uint(v, 1)), "nvmlDeviceGetPersistenceMode")
    compute_mode = read("compute_mode", COMPUTE_MODES.__getitem__, "nvmlDeviceGetComputeMode")
    mig = read("mig_mode", _mig_mode, "nvmlDeviceGetMigMode")
    gpu = {
        "index": index,
        "name": read("name", _str, "nvmlDeviceGetName"),
        "uuid": read("uuid", _str, "nvmlDeviceGetUUID"),
        "pci_bus_id": bus_id,
        "pci_device_id": device_id,
        "pci_subsystem_id": subsystem_id,
        "memory_total_mib": total // MIB if total is not None else None,
        "memory_used_mib": used // MIB if used is not None else None,
        "compute_capability": capability,
        "persistence_mode": persistence,
        "compute_mode": compute_mode,
        "mig_mode": mig or {"current": None, "pending": None},
        "mig_devices": [],
        # Asked whatever the MIG mode, as go-nvlib does: mig-parted validates a layout before it enables MIG.
        "mig_profiles": _mig_profiles(walk, where, handle, total) if mig else None,
        "virtualization_mode": read("virtualization_mode", VIRTUALIZATION_MODES.__getitem__,
                                    "nvmlDeviceGetVirtualizationMode"),
        "vgpu_types": _vgpu_types(walk, where, handle),
        "processes": read("processes", len, "nvmlDeviceGetComputeRunningProcesses"),
    }
    if gpu["mig_mode"]["current"]:
        gpu["mig_devices"] = _mig_devices(walk, where, handle, total)
    return gpu


def _gi_profile(info, slices, profile_id, total_bytes):
    memory_mib = _uint(info.memorySizeMB, total_bytes // MIB)
    return {
        "name": mig_profile_name(slices, slices, memory_mib, total_bytes, profile_id),
        "profile_id": profile_id,
        "slices": slices,
        "memory_mib": memory_mib,
        "instance_count": _small(info.instanceCount),
    }


def _mig_profiles(walk, where, handle, total_bytes):
    """The GPU-instance profiles NVML lists for the board, or None when NVML lists none.

    As go-nvlib's ``VisitMigProfiles``: every ``NVML_GPU_INSTANCE_PROFILE_*`` id, NotSupported or InvalidArgument
    meaning the board has no such profile. Names are computed as go-nvlib computes them, because mig-parted matches
    a config's profile names against those, not against NVML's own ``name`` field (which older drivers lack).
    """
    if not total_bytes:
        return None  # go-nvlib cannot name a profile without the GPU's memory either
    profiles = []
    for profile_id, slices in sorted(GI_PROFILE_SLICES.items()):
        failures = walk.failures
        info = walk.call(where, "mig_profiles", "nvmlDeviceGetGpuInstanceProfileInfo", handle, profile_id,
                         quiet=(NOT_SUPPORTED, INVALID_ARGUMENT))
        if walk.failures != failures:
            return None  # an old driver or no permission: one note, not eighteen
        profile = walk.value(where, "mig_profiles", _gi_profile, info, slices, profile_id, total_bytes)
        if profile is not None:
            profiles.append(profile)
    return profiles or None


def _id_list(ids):
    if len(ids) > MAX_COUNT:
        raise ValueError("%d ids, more than %d" % (len(ids), MAX_COUNT))
    return [_id32(type_id) for type_id in ids]


def _vgpu_name(raw):
    """go-nvlib ``parseMdevTypeName``: the last word of "NVIDIA A100-4C" or "GRID V100-8Q", as vgpu-device-manager
    compares it with a config's type names."""
    name = _str(raw).strip().split(" ")[-1]
    if not name:
        raise ValueError("empty vGPU type name %r" % (raw,))
    return name


def _vgpu_types(walk, where, handle):
    """The vGPU types the host driver supports on this GPU: None where NVML has no vGPU support (not a vGPU host)."""
    field = "vgpu_types"
    ids = walk.value(where, field, _id_list, walk.call(where, field, "nvmlDeviceGetSupportedVgpus", handle,
                                                       quiet=(NOT_SUPPORTED, FUNCTION_NOT_FOUND)))
    if ids is None:
        return None
    types = []
    for type_id in ids:
        at = "%s vGPU type %d" % (where, type_id)
        name = walk.read(at, field, _vgpu_name, "nvmlVgpuTypeGetName", type_id)
        if name is not None:
            types.append({
                "name": name,
                "type_id": type_id,
                "class": walk.read(at, field, _str, "nvmlVgpuTypeGetClass", type_id),
                "framebuffer_mib": walk.read(at, field, _mib, "nvmlVgpuTypeGetFramebufferSize", type_id),
                "max_instances": walk.read(at, field, _small, "nvmlVgpuTypeGetMaxInstances", handle, type_id),
            })
    return types


def _profile_id(info):
    return _uint(info.profileId, UINT32)


def _mig_name(attributes, total_bytes, gi_profile):
    return mig_profile_name(_uint(attributes.gpuInstanceSliceCount, 8), _uint(attributes.computeInstanceSliceCount, 8),
                            _uint(attributes.memorySizeMB, MAX_BYTES // MIB), total_bytes, gi_profile)


def _mig_devices(walk, where, parent, parent_total_bytes):
    devices = []
    for slot in range(_count(walk, where, "mig device count", "nvmlDeviceGetMaxMigDeviceCount", parent)):
        # Unused slots raise NotFound: skip them, as go-nvlib's VisitMigDevices does.
        handle = walk.call(where, "MIG device %d" % slot, "nvmlDeviceGetMigDeviceHandleByIndex", parent, slot,
                           quiet=(NOT_FOUND,))
        if handle is None:
            continue
        at = "%s MIG %d" % (where, slot)
        attributes = walk.call(at, "attributes", "nvmlDeviceGetAttributes", handle)
        gi_id = walk.read(at, "gpu_instance_id", _id32, "nvmlDeviceGetGpuInstanceId", handle)
        gi_profile = None
        if attributes is not None and gi_id is not None:
            instance = walk.call(at, "gpu_instance", "nvmlDeviceGetGpuInstanceById", parent, gi_id)
            if instance is not None:
                gi_profile = walk.read(at, "gpu_instance", _profile_id, "nvmlGpuInstanceGetInfo", instance)
        devices.append({
            "index": slot,
            "profile": walk.value(at, "attributes", _mig_name, attributes, parent_total_bytes or 0, gi_profile or 0),
            "uuid": walk.read(at, "uuid", _str, "nvmlDeviceGetUUID", handle),
            "memory_total_mib": walk.read(at, "memory", lambda m: _mib(m.total), "nvmlDeviceGetMemoryInfo", handle),
            "gpu_instance_id": gi_id,
            "compute_instance_id": walk.read(at, "compute_instance_id", _id32, "nvmlDeviceGetComputeInstanceId", handle),
        })
    return devices
