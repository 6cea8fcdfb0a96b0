# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""LAB TEST DOUBLE of nvidia-smi: read-only queries answered from the pynvml double's simulated GPUs.

Simulated: `nvidia-smi -L` and `nvidia-smi --query-gpu=F[,F...] --format=csv[,noheader][,nounits]` for
the fields tests/gpu/check.sh compares (index, name, uuid, pci.bus_id, pci.device_id, pci.sub_device_id, memory.total,
memory.used, compute_cap, persistence_mode, compute_mode, mig.mode.current, mig.mode.pending,
driver_version, count), printed the way the real tool prints them ("Enabled", "Exclusive_Process",
"[N/A]"). Exit 9 with "NVIDIA-SMI has failed..." when NVML cannot be initialised. Nothing can be set.
"""

import sys

import pynvml  # the lab double

FIELDS = ("index", "name", "uuid", "pci.bus_id", "pci.device_id", "pci.sub_device_id", "memory.total", "memory.used",
          "compute_cap",
          "persistence_mode", "compute_mode", "mig.mode.current", "mig.mode.pending", "driver_version", "count")
MODES = {0: "Default", 1: "Exclusive_Thread", 2: "Prohibited", 3: "Exclusive_Process"}


def value(field, index, handle, units):
    mib = 1024 * 1024
    try:
        if field == "index":
            return str(index)
        if field == "name":
            return pynvml.nvmlDeviceGetName(handle)
        if field == "uuid":
            return pynvml.nvmlDeviceGetUUID(handle)
        if field == "pci.bus_id":
            return pynvml.nvmlDeviceGetPciInfo(handle).busId.decode()
        if field == "pci.device_id":
            return "0x%08X" % pynvml.nvmlDeviceGetPciInfo(handle).pciDeviceId
        if field == "pci.sub_device_id":
            return "0x%08X" % pynvml.nvmlDeviceGetPciInfo(handle).pciSubSystemId
        if field in ("memory.total", "memory.used"):
            info = pynvml.nvmlDeviceGetMemoryInfo(handle, version=pynvml.nvmlMemory_v2)
            return "%d%s" % ((info.total if field == "memory.total" else info.used) // mib, units)
        if field == "compute_cap":
            return "%d.%d" % pynvml.nvmlDeviceGetCudaComputeCapability(handle)
        if field == "persistence_mode":
            return "Enabled" if pynvml.nvmlDeviceGetPersistenceMode(handle) else "Disabled"
        if field == "compute_mode":
            return MODES[pynvml.nvmlDeviceGetComputeMode(handle)]
        if field in ("mig.mode.current", "mig.mode.pending"):
            mode = pynvml.nvmlDeviceGetMigMode(handle)[0 if field.endswith("current") else 1]
            return "Enabled" if mode else "Disabled"
        if field == "driver_version":
            return pynvml.nvmlSystemGetDriverVersion()
        if field == "count":
            return str(pynvml.nvmlDeviceGetCount())
    except pynvml.NVMLError_NotSupported:
        return "[N/A]"
    except pynvml.NVMLError_NoPermission:
        return "[Insufficient Permissions]"
    return None


def main(argv):
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError as exc:
        print("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. (%s)" % exc)
        return 9
    try:
        count = pynvml.nvmlDeviceGetCount()
        handles = [pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(count)]
        if argv == ["-L"]:
            for i, h in enumerate(handles):
                print("GPU %d: %s (UUID: %s)" % (i, pynvml.nvmlDeviceGetName(h), pynvml.nvmlDeviceGetUUID(h)))
            return 0
        opts = dict(a[2:].split("=", 1) for a in argv if a.startswith("--") and "=" in a)
        if "query-gpu" not in opts or not opts.get("format", "").startswith("csv"):
            print("LAB DOUBLE: only -L and --query-gpu=... --format=csv[,noheader][,nounits] are simulated")
            return 2
        fields = opts["query-gpu"].split(",")
        unknown = [f for f in fields if f not in FIELDS]
        if unknown:
            print('Field "%s" is not a valid field to query.' % unknown[0])
            return 2
        fmt = opts["format"].split(",")
        units = "" if "nounits" in fmt else " MiB"
        if "noheader" not in fmt:
            print(", ".join(f + (" [MiB]" if f.startswith("memory.") and units else "") for f in fields))
        for i, h in enumerate(handles):
            print(", ".join(value(f, i, h, units) for f in fields))
        return 0
    finally:
        pynvml.nvmlShutdown()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
