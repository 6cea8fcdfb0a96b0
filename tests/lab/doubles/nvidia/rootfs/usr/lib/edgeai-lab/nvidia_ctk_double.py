# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""LAB TEST DOUBLE of NVIDIA's nvidia-ctk (nvidia-container-toolkit v1.20.0): no driver, no GPU.

Contract followed (shared/reference/gpu.md section 5; toolkit cmd/nvidia-ctk/cdi/generate):
  nvidia-ctk --version
  nvidia-ctk cdi generate [--output PATH] [--format json|yaml] [--mode auto|nvml|csv|wsl|management]
                          [--device-name-strategy index|uuid|type-index]... [--vendor V] [--class C]
      stdout unless --output (env NVIDIA_CTK_CDI_OUTPUT_FILE_PATH); format yaml by default, json when the
      output ends in .json, --format (env NVIDIA_CTK_CDI_GENERATE_OUTPUT_FORMAT) overriding both;
      default name strategies index and uuid, plus an "all" device; exit 1 with a logged error when
      NVML cannot be initialised (except --mode csv, which reads no NVML).
  nvidia-ctk cdi list [--spec-dir DIR]...   one fully-qualified device name per line on stdout.
GPUs come from the pynvml double (same simulated host, see its docstring). `runtime configure`
is not simulated: edgeai.fleet.nvidia_runtime writes runtime configs natively.
"""

import json
import os
import re
import sys

VERSION = "1.20.0"
COMMIT = "d34b304"


def log(level, msg):
    sys.stderr.write('time="2026-01-01T00:00:00Z" level=%s msg="%s"\n' % (level, msg))


def fail(msg):
    log("error", msg)
    sys.exit(1)


def parse(argv, repeatable=()):
    opts, rest = {}, []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg.startswith("--"):
            name, eq, value = arg[2:].partition("=")
            if not eq:
                i += 1
                if i >= len(argv):
                    fail("flag needs an argument: --%s" % name)
                value = argv[i]
            if name in repeatable:
                opts.setdefault(name, []).append(value)
            else:
                opts[name] = value
        else:
            rest.append(arg)
        i += 1
    return opts, rest


def gpus_from_nvml():
    import pynvml  # the lab double, from /usr/local/lib/python3.11/dist-packages
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError as exc:
        fail("failed to generate CDI spec: failed to create device CDI specs: failed to initialize NVML: %s" % exc)
    try:
        found = []
        for index in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            migs = []
            try:
                if pynvml.nvmlDeviceGetMigMode(handle)[0]:
                    for slot in range(pynvml.nvmlDeviceGetMaxMigDeviceCount(handle)):
                        try:
                            mig = pynvml.nvmlDeviceGetMigDeviceHandleByIndex(handle, slot)
                        except pynvml.NVMLError_NotFound:
                            continue
                        migs.append((slot, pynvml.nvmlDeviceGetUUID(mig), pynvml.nvmlDeviceGetGpuInstanceId(mig)))
            except pynvml.NVMLError_NotSupported:
                pass
            found.append((index, pynvml.nvmlDeviceGetUUID(handle), migs))
        return found
    finally:
        pynvml.nvmlShutdown()


def node(path):
    return {"path": path}


def spec(gpus, strategies, vendor, klass):
    devices, all_nodes = [], []
    for index, uuid, migs in gpus:
        edits = {"deviceNodes": [node("/dev/nvidia%d" % index)]}
        all_nodes.append(node("/dev/nvidia%d" % index))
        names = {"index": str(index), "uuid": uuid, "type-index": "gpu%d" % index}
        devices.extend({"name": names[s], "containerEdits": edits} for s in strategies)
        for slot, mig_uuid, gi in migs:
            mig_edits = {"deviceNodes": [node("/dev/nvidia%d" % index), node("/dev/nvidia-caps/nvidia-cap%d" % (gi * 9 + 3))]}
            mig_names = {"index": "%d:%d" % (index, slot), "uuid": mig_uuid, "type-index": "mig%d:%d" % (index, slot)}
            devices.extend({"name": mig_names[s], "containerEdits": mig_edits} for s in strategies)
    if gpus:
        devices.append({"name": "all", "containerEdits": {"deviceNodes": all_nodes}})
    lib = "/usr/lib/x86_64-linux-gnu"
    return {
        "cdiVersion": "0.5.0",
        "kind": "%s/%s" % (vendor, klass),
        "devices": devices,
        "containerEdits": {
            "env": ["NVIDIA_VISIBLE_DEVICES=void"],
            "deviceNodes": [node("/dev/nvidiactl"), node("/dev/nvidia-uvm"), node("/dev/nvidia-uvm-tools")],
            "hooks": [{"hookName": "createContainer", "path": "/usr/bin/nvidia-cdi-hook",
                       "args": ["nvidia-cdi-hook", "update-ldcache", "--folder", lib]}],
            "mounts": [{"hostPath": lib + "/libnvidia-ml.so.550.54.15", "containerPath": lib + "/libnvidia-ml.so.550.54.15",
                        "options": ["ro", "nosuid", "nodev", "rbind", "rprivate"]}],
        },
    }


def scalar(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    # Quote what YAML would read as something else (numbers such as "0", "0:1", flags).
    return json.dumps(text) if re.match(r"^[0-9.:\-]+$|^(true|false|null|yes|no|on|off)$|[:#\[\]{},&*!|>'\"%@`]|^ |^$", text) else text


def to_yaml(value, indent=0):
    pad = " " * indent
    lines = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, (dict, list)) and item:
                lines.append("%s%s:" % (pad, key))
                lines.extend(to_yaml(item, indent + (0 if isinstance(item, list) else 2)))
            else:
                lines.append("%s%s: %s" % (pad, key, "[]" if item == [] else "{}" if item == {} else scalar(item)))
    else:
        for item in value:
            if isinstance(item, dict):
                sub = to_yaml(item, indent + 2)
                lines.append("%s- %s" % (pad, sub[0].lstrip()))
                lines.extend(sub[1:])
            else:
                lines.append("%s- %s" % (pad, scalar(item)))
    return lines


def generate(argv):
    opts = parse(argv, repeatable=("device-name-strategy",))[0]
    output = opts.get("output", os.environ.get("NVIDIA_CTK_CDI_OUTPUT_FILE_PATH", ""))
    fmt = opts.get("format", os.environ.get("NVIDIA_CTK_CDI_GENERATE_OUTPUT_FORMAT"))
    if not fmt:
        fmt = "json" if output.endswith(".json") else "yaml"
    if fmt not in ("json", "yaml"):
        fail("invalid output format: %s" % fmt)
    mode = opts.get("mode", "auto")
    if mode not in ("auto", "nvml", "csv", "wsl", "management", "gdrcopy", "gds", "mofed", "imex", "nvswitch"):
        fail("invalid discovery mode: %s" % mode)
    strategies = opts.get("device-name-strategy") or ["index", "uuid"]
    for strategy in strategies:
        if strategy not in ("index", "uuid", "type-index"):
            fail("invalid device name strategy: %s" % strategy)
    gpus = [(0, "GPU-tegra", [])] if mode == "csv" else gpus_from_nvml()
    document = spec(gpus, strategies, opts.get("vendor", "nvidia.com"), opts.get("class", "gpu"))
    text = json.dumps(document, indent=2) + "\n" if fmt == "json" else "---\n" + "\n".join(to_yaml(document)) + "\n"
    if not output:
        sys.stdout.write(text)
        return
    directory = os.path.dirname(os.path.abspath(output))
    os.makedirs(directory, exist_ok=True)
    tmp = output + ".tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, output)
    log("info", "Generated CDI spec with version %s" % document["cdiVersion"])


def list_devices(argv):
    opts = parse(argv, repeatable=("spec-dir",))[0]
    names = []
    for directory in opts.get("spec-dir") or ["/etc/cdi", "/var/run/cdi"]:
        if not os.path.isdir(directory):
            continue
        for entry in sorted(os.listdir(directory)):
            if not entry.endswith((".json", ".yaml")):
                continue
            with open(os.path.join(directory, entry), encoding="utf-8") as handle:
                text = handle.read()
            try:
                document = json.loads(text)
                kind, devices = document["kind"], [d["name"] for d in document["devices"]]
            except ValueError:
                # YAML: only the layout this double writes is understood.
                kind = re.search(r"^kind: (.+)$", text, re.M).group(1)
                devices = [json.loads(n) if n.startswith('"') else n for n in re.findall(r"^- name: (.+)$", text, re.M)]
            names.extend("%s=%s" % (kind, d) for d in devices)
    log("info", "Found %d CDI devices" % len(names))
    for name in names:
        print(name)


def main(argv):
    if argv[:1] in (["--version"], ["-v"]):
        print("NVIDIA Container Toolkit CLI version %s\ncommit: %s" % (VERSION, COMMIT))
    elif argv[:2] == ["cdi", "generate"]:
        generate(argv[2:])
    elif argv[:2] == ["cdi", "list"]:
        list_devices(argv[2:])
    else:
        fail("not simulated by the lab double: nvidia-ctk %s" % " ".join(argv))


if __name__ == "__main__":
    main(sys.argv[1:])
