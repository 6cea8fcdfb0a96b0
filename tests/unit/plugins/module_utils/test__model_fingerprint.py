# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.edgeai.fleet.plugins.module_utils import _model_fingerprint as fp
from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError

# Trimmed /proc/cpuinfo of a 2-vCPU Sapphire Rapids guest (two processor blocks, flags cut).
X86 = """processor	: 0
vendor_id	: GenuineIntel
model		: 143
model name	: Intel(R) Xeon(R)   Platinum 8481C CPU @ 2.70GHz
flags		: fpu sse4_1 sse4_2 avx avx2 fma f16c hypervisor avx512f avx512bw avx512vl avx512_vnni avx512_bf16 amx_tile amx_int8 amx_bf16 tsc_known_freq

processor	: 1
model name	: Something Else
flags		: fpu
"""

# Jetson Orin / Neoverse style: no "model name", Features instead of flags.
ARM = """processor	: 0
BogoMIPS	: 62.50
Features	: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp
CPU implementer	: 0x41
CPU architecture: 8
CPU part	: 0xd42
"""

# ansible_facts.edgeai_gpu as gpu_info returns it (shared contract).
GPU_FACTS = {
    "platform": "nvml", "reason": None, "driver_version": "550.54.15", "cuda_driver_version": "12.4",
    "nvml_version": "12.550.54.15", "count": 1, "products": ["NVIDIA A100-SXM4-40GB"], "mig_capable": True,
    "gpus": [{"index": 0, "name": "NVIDIA A100-SXM4-40GB", "uuid": "GPU-1", "compute_capability": "8.0"}],
    "tegra": None,
}


def test_x86_first_block_isa_flags_only():
    cpu = fp.parse_cpuinfo(X86, machine="x86_64")
    assert cpu["cpu_model"] == "Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz"
    assert cpu["arch"] == "x86_64"
    assert "avx512_vnni" in cpu["cpu_flags"] and "amx_int8" in cpu["cpu_flags"] and "avx512_bf16" in cpu["cpu_flags"]
    assert "hypervisor" not in cpu["cpu_flags"] and "tsc_known_freq" not in cpu["cpu_flags"]
    assert cpu["cpu_flags"] == sorted(cpu["cpu_flags"])


def test_avx2_vnni_2_flags_are_kept():
    """AVX2-VNNI-2 CPUs run bf16/f16 in OpenVINO without AVX-512 (issue 14): their flags decide the hint candidates."""
    cpu = fp.parse_cpuinfo("flags\t\t: avx2 avx_vnni avx_vnni_int8 avx_ne_convert hypervisor\n", machine="x86_64")
    assert cpu["cpu_flags"] == ["avx2", "avx_ne_convert", "avx_vnni", "avx_vnni_int8"]


def test_arm_features_and_part_number():
    cpu = fp.parse_cpuinfo(ARM, machine="aarch64")
    assert cpu["cpu_model"] == "arm implementer 0x41 part 0xd42"
    assert cpu["cpu_flags"] == ["asimd", "asimddp", "asimdhp"]


def test_empty_cpuinfo():
    assert fp.parse_cpuinfo("", machine="x86_64") == {"arch": "x86_64", "cpu_model": None, "cpu_flags": []}


def test_gpu_from_facts_and_index_errors():
    gpu = fp.gpu_from_facts(GPU_FACTS)
    assert gpu == {"name": "NVIDIA A100-SXM4-40GB", "compute_capability": "8.0", "driver_version": "550.54.15",
                   "cuda_driver_version": "12.4", "l4t_release": None}
    tegra = dict(GPU_FACTS, tegra={"model": "NVIDIA Jetson AGX Orin", "l4t_release": "36.3.0"})
    assert fp.gpu_from_facts(tegra)["l4t_release"] == "36.3.0"
    assert fp.gpu_from_facts({"platform": "none", "gpus": []}) is None
    with pytest.raises(FleetError, match="gpu_index 3"):
        fp.gpu_from_facts(GPU_FACTS, index=3)


class FakeNvml:
    """pynvml's calls used by gpu_from_nvml, answering like an Orin-less A100 host."""

    def __init__(self):
        self.shutdown = False

    def nvmlInit(self):
        pass

    def nvmlShutdown(self):
        self.shutdown = True

    def nvmlDeviceGetHandleByIndex(self, index):
        return index

    def nvmlDeviceGetCudaComputeCapability(self, handle):
        return 8, 6

    def nvmlSystemGetCudaDriverVersion_v2(self):
        return 12040

    def nvmlDeviceGetName(self, handle):
        return b"NVIDIA A10"

    def nvmlSystemGetDriverVersion(self):
        return "550.54.15"


def test_gpu_from_nvml():
    nvml = FakeNvml()
    assert fp.gpu_from_nvml(nvml) == {"name": "NVIDIA A10", "compute_capability": "8.6",
                                      "driver_version": "550.54.15", "cuda_driver_version": "12.4",
                                      "l4t_release": None}
    assert nvml.shutdown


def test_fingerprint_id_is_stable_and_sensitive():
    cpu = fp.parse_cpuinfo(X86, machine="x86_64")
    first = fp.fingerprint(cpu)
    assert first == fp.fingerprint(dict(cpu))
    assert len(first["id"]) == 64 and first["gpu"] is None
    no_amx = dict(cpu, cpu_flags=[f for f in cpu["cpu_flags"] if not f.startswith("amx")])
    assert fp.fingerprint(no_amx)["id"] != first["id"]
    with_gpu = fp.fingerprint(cpu, fp.gpu_from_facts(GPU_FACTS))
    assert with_gpu["id"] != first["id"]
    newer_driver = dict(GPU_FACTS, driver_version="560.1")
    assert fp.fingerprint(cpu, fp.gpu_from_facts(newer_driver))["id"] != with_gpu["id"]
    assert fp.mismatch(with_gpu, fp.fingerprint(cpu, fp.gpu_from_facts(newer_driver))) == ["gpu"]
    assert fp.mismatch(first, first) == []


@pytest.mark.parametrize("facts, index", [
    ("not facts", 0), ({"gpus": "GPU-0"}, 0), ({"gpus": [5]}, 0), ({"gpus": [{}]}, -1),
    ({"gpus": [{}]}, "0"), ({"gpus": [{}], "tegra": "orin"}, 0),
])
def test_malformed_gpu_facts_are_a_fleet_error(facts, index):
    """Malformed document: GPU facts of the wrong shape or a negative index (before: AttributeError,
    TypeError, or gpus[-1] chosen silently)."""
    with pytest.raises(FleetError, match="gpu_facts|gpu_index"):
        fp.gpu_from_facts(facts, index)


def test_dla_core_is_part_of_the_fingerprint_only_when_used():
    """An engine is compiled for one DLA core; artifacts built without DLA keep the id they had before."""
    cpu = fp.parse_cpuinfo(X86, machine="x86_64")
    gpu = fp.gpu_from_facts(GPU_FACTS)
    plain = fp.fingerprint(cpu, gpu)
    assert "dla_core" not in plain and fp.fingerprint(cpu, gpu, dla_core=None) == plain
    core0, core1 = fp.fingerprint(cpu, gpu, dla_core=0), fp.fingerprint(cpu, gpu, dla_core=1)
    assert core0["dla_core"] == 0 and len({plain["id"], core0["id"], core1["id"]}) == 3
    assert fp.mismatch(core0, core1) == ["dla_core"] and fp.mismatch(plain, core0) == ["dla_core"]
