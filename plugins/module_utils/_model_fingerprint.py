# -*- coding: utf-8 -*-
# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Private to the edgeai.fleet collection: may change without notice.

"""The hardware fingerprint a compiled model is bound to.

An artifact depends on the instruction set the runtime chose kernels for (x86 AVX-512 VNNI/BF16/AMX,
Arm dot-product/i8mm) and, for GPU targets, on compute capability and driver. Only those parts go
into the fingerprint, so hosts of one hardware class share an id and one compiled artifact.
"""

from __future__ import annotations

import platform

from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError
from ansible_collections.edgeai.fleet.plugins.module_utils._model_manifest import sha256_doc

# CPU features that change which kernels (and so which numerics and speed) a runtime uses.
ISA_FLAGS = frozenset((
    "sse4_1", "sse4_2", "avx", "avx2", "fma", "f16c", "avx_vnni", "avx512f", "avx512bw", "avx512vl",
    "avx512dq", "avx512cd", "avx512_vnni", "avx512_bf16", "avx512_fp16", "amx_tile", "amx_int8",
    "amx_bf16", "amx_fp16",
    # AVX2-VNNI-2 (Sierra Forest, Arrow Lake): OpenVINO runs bf16 and f16 on these without AVX-512
    "avx_ne_convert", "avx_vnni_int8",
    # Arm (the "Features" line): NEON, dot product, int8 matmul, bf16, SVE
    "asimd", "asimddp", "asimdhp", "i8mm", "bf16", "sve", "sve2",
))


def parse_cpuinfo(text, machine=None):
    """``{arch, cpu_model, cpu_flags}`` from the text of /proc/cpuinfo (first processor block)."""
    model = None
    flags = set()
    arm_parts = {}
    for line in (text or "").splitlines():
        if not line.strip():
            if model or flags:
                break
            continue
        key, _sep, value = line.partition(":")
        key, value = key.strip().lower(), value.strip()
        if key in ("model name", "hardware", "model") and value and not model and not value.isdigit():
            model = value
        elif key in ("flags", "features"):
            flags.update(value.split())
        elif key in ("cpu implementer", "cpu part"):
            arm_parts[key] = value
    if not model and arm_parts:
        model = "arm implementer %s part %s" % (arm_parts.get("cpu implementer"), arm_parts.get("cpu part"))
    return {
        "arch": machine or platform.machine(),
        "cpu_model": " ".join(model.split()) if model else None,
        "cpu_flags": sorted(flags & ISA_FLAGS),
    }


def gpu_from_facts(facts, index=0):
    """The GPU part of a fingerprint from ``ansible_facts.edgeai_gpu`` (gpu_info's contract)."""
    if not facts:
        return None
    if not isinstance(facts, dict):
        raise FleetError("gpu_facts must be the edgeai_gpu facts of edgeai.fleet.gpu_info (an object), found %s"
                         % type(facts).__name__, field="gpu_facts")
    gpus = facts.get("gpus")
    if not gpus:
        return None
    if not isinstance(gpus, list) or not all(isinstance(g, dict) for g in gpus):
        raise FleetError("gpu_facts.gpus must be a list of objects, found %s" % ("%r" % (gpus,))[:120],
                         field="gpu_facts.gpus")
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(gpus):
        raise FleetError("gpu_index %r is out of range: the host has %d GPU(s)" % (index, len(gpus)),
                         gpu_count=len(gpus))
    gpu = gpus[index]
    tegra = facts.get("tegra") or {}
    if not isinstance(tegra, dict):
        raise FleetError("gpu_facts.tegra must be an object or null, found %s" % type(tegra).__name__,
                         field="gpu_facts.tegra")
    return {
        "name": gpu.get("name"),
        "compute_capability": gpu.get("compute_capability"),
        "driver_version": facts.get("driver_version"),
        "cuda_driver_version": facts.get("cuda_driver_version"),
        "l4t_release": tegra.get("l4t_release"),
    }


def gpu_from_nvml(pynvml, index=0):
    """The same GPU part read through pynvml (``nvidia-ml-py``), for hosts where no facts were passed."""
    pynvml.nvmlInit()
    try:
        handle = pynvml.nvmlDeviceGetHandleByIndex(index)
        major, minor = pynvml.nvmlDeviceGetCudaComputeCapability(handle)
        cuda = pynvml.nvmlSystemGetCudaDriverVersion_v2()
        name = pynvml.nvmlDeviceGetName(handle)
        driver = pynvml.nvmlSystemGetDriverVersion()
        return {
            "name": name.decode() if isinstance(name, bytes) else name,
            "compute_capability": "%d.%d" % (major, minor),
            "driver_version": driver.decode() if isinstance(driver, bytes) else driver,
            "cuda_driver_version": "%d.%d" % (cuda // 1000, (cuda % 1000) // 10),
            "l4t_release": None,
        }
    finally:
        pynvml.nvmlShutdown()


def fingerprint(cpu, gpu=None, dla_core=None):
    """The fingerprint object of the manifest: the parts plus ``id``, the sha256 of the parts.

    ``dla_core``: the Jetson DLA core a TensorRT engine is built for (its layers are compiled for that engine);
    left out when None so that every artifact built before DLA support keeps its id.
    """
    doc = {"arch": cpu.get("arch"), "cpu_model": cpu.get("cpu_model"), "cpu_flags": list(cpu.get("cpu_flags", [])),
           "gpu": gpu}
    if dla_core is not None:
        doc["dla_core"] = dla_core
    doc["id"] = sha256_doc(doc)
    return doc


def mismatch(recorded, current):
    """Names of fingerprint parts that differ (empty when the artifact fits this host)."""
    keys = ("arch", "cpu_model", "cpu_flags", "gpu", "dla_core")
    recorded = recorded if isinstance(recorded, dict) else {}
    return [k for k in keys if recorded.get(k) != current.get(k)]
