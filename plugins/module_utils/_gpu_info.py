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

from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError, malformed

MIB = 1024 * 1024
GIB = 1024 * MIB

# NVML return codes (nvml.h NVML_ERROR_*), the ones this walk treats specially.
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

    def call(self, where, field, func, *args, **kwargs):
        quiet = kwargs.pop("quiet", ())
        function = getattr(self.nvml, func, None)
        if function is None:  # an nvidia-ml-py older than the call
            self._unsupported(field)
            return None
        try:
            return function(*args, **kwargs)
        except self.errors as exc:
            code = getattr(exc, "value", None)
            if code in quiet:
                return None
            if code in SILENT or (self.mismatch is not None and isinstance(exc, self.mismatch)):
                self._unsupported(field)
            else:
                self.notes.append("%s %s: %s" % (where, field, _error_name(exc)))
            return None

    def _unsupported(self, field):
        if field not in self.unsupported:
            self.unsupported.append(field)


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


def _count(walk, where, field, func, *args):
    count = walk.call(where, field, func, *args)
    if count is None:
        return 0
    if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= MAX_COUNT:
        raise FleetError("NVML reported %s %s = %r, which no driver reports; the driver and nvidia-ml-py may not "
                         "match (compare nvidia-smi)" % (where, field, count), field=field)
    return count


@malformed("NVML's answers", fix="The driver and nvidia-ml-py may not match; compare with nvidia-smi")
def _fill(walk, facts, root):
    facts["driver_version"] = _text(walk.call("system", "driver_version", "nvmlSystemGetDriverVersion"))
    cuda = walk.call("system", "cuda_driver_version", "nvmlSystemGetCudaDriverVersion")
    facts["cuda_driver_version"] = None if cuda is None else "%d.%d" % (cuda // 1000, (cuda % 1000) // 10)
    facts["nvml_version"] = _text(walk.call("system", "nvml_version", "nvmlSystemGetNVMLVersion"))
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


def _gpu(walk, index, handle):
    where = "GPU %d" % index

    def call(field, func, *args, **kwargs):
        return walk.call(where, field, func, handle, *args, **kwargs)

    pci = call("pci", "nvmlDeviceGetPciInfo")
    memory = _memory(walk, where, handle)
    capability = call("compute_capability", "nvmlDeviceGetCudaComputeCapability")
    persistence = call("persistence_mode", "nvmlDeviceGetPersistenceMode")
    compute_mode = call("compute_mode", "nvmlDeviceGetComputeMode")
    mig = call("mig_mode", "nvmlDeviceGetMigMode")
    virtualization = call("virtualization_mode", "nvmlDeviceGetVirtualizationMode")
    processes = call("processes", "nvmlDeviceGetComputeRunningProcesses")
    gpu = {
        "index": index,
        "name": _text(call("name", "nvmlDeviceGetName")),
        "uuid": _text(call("uuid", "nvmlDeviceGetUUID")),
        "pci_bus_id": _text(pci.busId) if pci is not None else None,
        "pci_device_id": "0x%08X" % pci.pciDeviceId if pci is not None else None,
        "memory_total_mib": memory.total // MIB if memory is not None else None,
        "memory_used_mib": memory.used // MIB if memory is not None else None,
        "compute_capability": "%d.%d" % tuple(capability) if capability is not None else None,
        "persistence_mode": bool(persistence) if persistence is not None else None,
        "compute_mode": COMPUTE_MODES.get(compute_mode),
        "mig_mode": {"current": bool(mig[0]), "pending": bool(mig[1])} if mig is not None else {"current": None, "pending": None},
        "mig_devices": [],
        "virtualization_mode": VIRTUALIZATION_MODES.get(virtualization),
        "processes": len(processes) if processes is not None else None,
    }
    if gpu["mig_mode"]["current"]:
        gpu["mig_devices"] = _mig_devices(walk, where, handle, memory.total if memory is not None else None)
    return gpu


def _mig_devices(walk, where, parent, parent_total_bytes):
    devices = []
    for slot in range(_count(walk, where, "mig device count", "nvmlDeviceGetMaxMigDeviceCount", parent)):
        # Unused slots raise NotFound: skip them, as go-nvlib's VisitMigDevices does.
        handle = walk.call(where, "MIG device %d" % slot, "nvmlDeviceGetMigDeviceHandleByIndex", parent, slot,
                           quiet=(NOT_FOUND,))
        if handle is None:
            continue
        mig_where = "%s MIG %d" % (where, slot)
        memory = walk.call(mig_where, "memory", "nvmlDeviceGetMemoryInfo", handle)
        attributes = walk.call(mig_where, "attributes", "nvmlDeviceGetAttributes", handle)
        gi_id = walk.call(mig_where, "gpu_instance_id", "nvmlDeviceGetGpuInstanceId", handle)
        ci_id = walk.call(mig_where, "compute_instance_id", "nvmlDeviceGetComputeInstanceId", handle)
        profile = None
        if attributes is not None:
            gi_profile = None
            if gi_id is not None:
                instance = walk.call(mig_where, "gpu_instance", "nvmlDeviceGetGpuInstanceById", parent, gi_id)
                info = walk.call(mig_where, "gpu_instance", "nvmlGpuInstanceGetInfo", instance) if instance is not None else None
                gi_profile = info.profileId if info is not None else None
            profile = mig_profile_name(attributes.gpuInstanceSliceCount, attributes.computeInstanceSliceCount,
                                       attributes.memorySizeMB, parent_total_bytes, gi_profile)
        devices.append({
            "index": slot,
            "profile": profile,
            "uuid": _text(walk.call(mig_where, "uuid", "nvmlDeviceGetUUID", handle)),
            "memory_total_mib": memory.total // MIB if memory is not None else None,
            "gpu_instance_id": gi_id,
            "compute_instance_id": ci_id,
        })
    return devices
