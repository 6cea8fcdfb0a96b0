#!/usr/bin/env bash
# Copyright (c) 2026 edgeai.fleet contributors
# SPDX-License-Identifier: GPL-3.0-or-later
#
# On a real NVIDIA machine: compare what edgeai.fleet.gpu_info reports with what nvidia-smi says, field by field,
# and print PASS/FAIL/SKIP per field plus a "N passed, N failed" line. Read-only: it runs the info module and
# nvidia-smi queries only, and changes no GPU setting.
#
# Usage (from the repository root, venv active, after `make collection`):
#   tests/gpu/check.sh                 # the module runs under /usr/bin/python3 (needs nvidia-ml-py there)
#   GPU_CHECK_PYTHON=/opt/venv/bin/python tests/gpu/check.sh
# Keep the output, with the GPU and driver it names, in docs/gpu-verification.md.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
python=${GPU_CHECK_PYTHON:-/usr/bin/python3}
export ANSIBLE_COLLECTIONS_PATH=${ANSIBLE_COLLECTIONS_PATH:-$repo/.build/collections}
export ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false

for tool in ansible nvidia-smi python3; do
  command -v "$tool" >/dev/null || { echo "check.sh: $tool not found on PATH" >&2; exit 2; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# One line per host with -o: "localhost | SUCCESS => {...}"; the JSON starts at the first brace.
ansible localhost -c local -o -e "ansible_python_interpreter=$python" \
  -m edgeai.fleet.gpu_info -a require_nvml=true >"$work/module.out" 2>"$work/module.err" || {
  cat "$work/module.out" "$work/module.err" >&2
  echo "check.sh: edgeai.fleet.gpu_info failed (is nvidia-ml-py installed for $python?)" >&2
  exit 1
}

fields=index,name,uuid,pci.bus_id,pci.device_id,memory.total,memory.used,compute_cap,persistence_mode,compute_mode,mig.mode.current,mig.mode.pending,driver_version,count
# compute_cap needs driver 510 or later: ask without it if nvidia-smi refuses the field.
if ! nvidia-smi --query-gpu="$fields" --format=csv,noheader,nounits >"$work/smi.csv" 2>"$work/smi.err"; then
  fields=${fields/,compute_cap/}
  nvidia-smi --query-gpu="$fields" --format=csv,noheader,nounits >"$work/smi.csv"
fi
# The XML report adds the CUDA version, virtualization mode, MIG devices and processes; optional.
nvidia-smi -q -x >"$work/smi.xml" 2>/dev/null || : >"$work/smi.xml"

python3 - "$work/module.out" "$fields" "$work/smi.csv" "$work/smi.xml" <<'PY'
import json
import sys
import xml.etree.ElementTree as ET

module_out, fields, csv_path, xml_path = sys.argv[1:]
text = open(module_out).read()
facts = json.loads(text[text.index("{"):])["ansible_facts"]["edgeai_gpu"]
names = fields.split(",")
rows = [dict(zip(names, (c.strip() for c in line.split(",")))) for line in open(csv_path) if line.strip()]
passed = failed = skipped = 0
USED_TOLERANCE_MIB = 256  # memory.used moves between the two reads


def smi_null(value):
    return value in ("[N/A]", "N/A", "[Not Supported]", "[Insufficient Permissions]", "")


def check(label, module_value, smi_value, convert=str, tolerance=None):
    global passed, failed, skipped
    if smi_value is None:
        skipped += 1
        print("SKIP %-34s module=%r (nvidia-smi does not report it here)" % (label, module_value))
        return
    expected = None if smi_null(smi_value) else convert(smi_value)
    if tolerance is not None and expected is not None and module_value is not None:
        ok = abs(module_value - expected) <= tolerance
    else:
        ok = module_value == expected
    passed, failed = passed + ok, failed + (not ok)
    print("%s %-34s module=%r nvidia-smi=%r" % ("PASS" if ok else "FAIL", label, module_value, expected))


def enabled(value):
    return value.strip().lower() == "enabled"


first = rows[0] if rows else {}
check("count", facts["count"], first.get("count", "0"), int)
check("driver_version", facts["driver_version"], first.get("driver_version"))
check("products", facts["products"], sorted(set(r["name"] for r in rows)) if rows else None, lambda v: v)
gpus = {g["index"]: g for g in facts["gpus"]}
for row in rows:
    index = int(row["index"])
    gpu = gpus.get(index, {})
    tag = "gpu%d." % index
    check(tag + "name", gpu.get("name"), row["name"])
    check(tag + "uuid", gpu.get("uuid"), row["uuid"])
    check(tag + "pci_bus_id", gpu.get("pci_bus_id"), row["pci.bus_id"])
    check(tag + "pci_device_id", gpu.get("pci_device_id"), row["pci.device_id"], lambda v: "0x%08X" % int(v, 16))
    check(tag + "memory_total_mib", gpu.get("memory_total_mib"), row["memory.total"], int)
    check(tag + "memory_used_mib", gpu.get("memory_used_mib"), row["memory.used"], int, tolerance=USED_TOLERANCE_MIB)
    check(tag + "compute_capability", gpu.get("compute_capability"), row.get("compute_cap"))
    check(tag + "persistence_mode", gpu.get("persistence_mode"), row["persistence_mode"], enabled)
    check(tag + "compute_mode", gpu.get("compute_mode"), row["compute_mode"], str.lower)
    check(tag + "mig_mode.current", gpu.get("mig_mode", {}).get("current"), row["mig.mode.current"], enabled)
    check(tag + "mig_mode.pending", gpu.get("mig_mode", {}).get("pending"), row["mig.mode.pending"], enabled)

try:
    root = ET.parse(xml_path).getroot()
except ET.ParseError:
    root = None
if root is None:
    print("SKIP %-34s nvidia-smi -q -x gave no XML" % "cuda/virtualization/mig/processes")
    skipped += 1
else:
    check("cuda_driver_version", facts["cuda_driver_version"], root.findtext("cuda_version"))
    for index, node in enumerate(root.findall("gpu")):
        gpu = gpus.get(index, {})
        tag = "gpu%d." % index
        mode = node.findtext("gpu_virtualization_mode/virtualization_mode")
        check(tag + "virtualization_mode", gpu.get("virtualization_mode"), mode,
              lambda v: {"none": "none", "pass-through": "passthrough", "vgpu": "vgpu", "host vgpu": "host_vgpu",
                         "host vsga": "host_vsga"}.get(v.strip().lower(), v))
        migs = node.findall("mig_devices/mig_device")
        check(tag + "mig_devices", len(gpu.get("mig_devices") or []), str(len(migs)), int)
        procs = [p for p in node.findall("processes/process_info") if "C" in (p.findtext("type") or "")]
        check(tag + "processes (racy)", gpu.get("processes"), str(len(procs)) if node.find("processes") is not None else None, int)

print("GPU: %s; driver %s; CUDA %s; NVML %s" % (", ".join(facts["products"]) or "none", facts["driver_version"],
                                                facts["cuda_driver_version"], facts["nvml_version"]))
print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
sys.exit(1 if failed or not rows else 0)
PY
