# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Generate the offline GPU tables from NVIDIA's published configs (run by hand when upstream changes).

    python tests/generators/gen_gpu_tables.py MIG_PARTED_CONFIG_DEFAULT VGPU_CONFIG_EXAMPLE

MIG_PARTED_CONFIG_DEFAULT: NVIDIA/mig-parted ``deployments/systemd/config-default.yaml``;
VGPU_CONFIG_EXAMPLE: NVIDIA/vgpu-device-manager ``examples/config-example.yaml``.
Writes ``plugins/module_utils/_gpu_mig_boards.py`` and ``_gpu_vgpu_boards.py``.

mig-parted names boards only in ``all-balanced`` (device-filter ids, one comment naming the boards per
entry). A board's full memory T is the size of its full profile (``7g.<T>gb``, or ``4g.<T>gb`` on
four-slice boards) consistent with its balanced mix; a profile ``<g>g.<X>gb`` from any ``all-*`` config
that applies to the board belongs to it when ``X == round(m/slices * T)`` for a memory-slice count m
that NVIDIA pairs with g, which is how go-nvlib names profiles from NVML's memory sizes.
"""

import os
import re
import sys

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "plugins", "module_utils")
# (compute slices g, memory slices m) pairs of the seven-slice and four-slice MIG geometries.
PAIRS = {7: {1: (1, 2), 2: (2,), 3: (4,), 4: (4,), 7: (8,)}, 4: {1: (1,), 2: (2,), 4: (4,)}}
MEMORY_SLICES = {7: 8, 4: 4}
PROFILE = re.compile(r"^(\d+)g\.(\d+)gb([-+].*)?$")


def go_round(x):
    return int(x + 0.5)


def balanced_boards(text):
    """[(label, [ids], {profile: n})] from all-balanced, with the comment above each entry as the label."""
    doc = yaml.safe_load(text)
    labels = re.findall(r"^  all-balanced:\n((?:    .*\n|\n)+)", text, re.M)[0]
    names = re.findall(r"^    # (.+)$", labels, re.M)
    boards = []
    for label, entry in zip(names, doc["mig-configs"]["all-balanced"]):
        ids = entry["device-filter"]
        boards.append((label.strip(), [ids] if isinstance(ids, str) else ids, entry["mig-devices"]))
    return doc, boards


def geometry(balanced, profiles):
    compute = 7 if any(p.startswith("3g.") for p in balanced) else 4
    size = {int(PROFILE.match(p).group(1)): int(PROFILE.match(p).group(2)) for p in balanced}
    full = 7 if compute == 7 else 4
    mem = MEMORY_SLICES[compute]
    candidates = [t for t in range(1, 400) if "%dg.%dgb" % (full, t) in profiles
                  and all(go_round(PAIRS[compute][g][0] * t / mem) == x for g, x in size.items())]
    if not candidates:
        raise SystemExit("no full profile fits the balanced mix %r" % balanced)
    return compute, mem, min(candidates, key=lambda t: abs(t - size[1] * mem))


def mig_tables(text):
    doc, boards = balanced_boards(text)
    configs = doc["mig-configs"]
    offered = set()
    for entries in configs.values():
        for entry in entries:
            offered.update((entry.get("mig-devices") or {}))
    result = {}
    for label, ids, balanced in boards:
        compute, mem, total = geometry(balanced, offered)
        table = {}
        for name, entries in sorted(configs.items()):
            if not name.startswith("all-") or name == "all-balanced":
                continue
            for entry in entries:
                dfilter = entry.get("device-filter")
                dfilter = [dfilter] if isinstance(dfilter, str) else dfilter
                if dfilter and not set(dfilter) & set(ids):
                    continue
                for profile, count in (entry.get("mig-devices") or {}).items():
                    match = PROFILE.match(profile)
                    g, x, attribute = int(match.group(1)), int(match.group(2)), match.group(3)
                    fits = [m for m in PAIRS[compute].get(g, ()) if go_round(m * total / mem) == x]
                    # Attributes: +me is a one-instance, one-memory-slice variant on the seven-slice boards; +gfx, +me.all
                    # and -me exist only on the four-slice Blackwell boards that have graphics.
                    if attribute and (attribute != "+me" or count != 1 or fits[:1] != [1]) and compute != 4:
                        continue
                    if fits and g * count <= compute and (profile not in table or count > table[profile][2]):
                        table[profile] = (g, fits[0], count)
        for profile, n in balanced.items():
            assert profile in table, (label, profile)
        result[label] = {"ids": sorted(ids), "total_gb": total, "compute": compute, "memory": mem,
                         "balanced": dict(sorted(balanced.items())), "profiles": dict(sorted(table.items()))}
    return result


def vgpu_prefixes(text):
    doc = yaml.safe_load(text)
    table = {}
    for entry in doc["vgpu-configs"]["default"]:
        dfilter = entry["device-filter"]
        for device in [dfilter] if isinstance(dfilter, str) else dfilter:
            for name in entry["vgpu-devices"]:
                prefix = re.match(r"^(.*?)-(\d-)?\d+[ABCQ]", name).group(1)
                table.setdefault(device.upper().replace("0X", "0x"), [])
                if prefix not in table[device.upper().replace("0X", "0x")]:
                    table[device.upper().replace("0X", "0x")].append(prefix)
    return dict(sorted(table.items()))


HEADER = '''# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils is PRIVATE to the edgeai.fleet collection. It may change or be
# removed without notice, even in a patch release. Do not import it from elsewhere.

"""GENERATED by tests/generators/gen_gpu_tables.py from %s; do not edit by hand."""

from __future__ import annotations

'''


def main(mig_path, vgpu_path):
    with open(mig_path) as handle:
        mig = mig_tables(handle.read())
    with open(vgpu_path) as handle:
        vgpu = vgpu_prefixes(handle.read())
    with open(os.path.join(OUT, "_gpu_mig_boards.py"), "w") as handle:
        handle.write(HEADER % "NVIDIA/mig-parted deployments/systemd/config-default.yaml")
        handle.write("# board (the all-balanced comment) -> PCI ids, full memory GB, compute and memory slices,\n"
                     "# the all-balanced mix, and {profile: (compute slices, memory slices, max instances)}\n")
        handle.write("BOARDS = {\n")
        for label, board in mig.items():
            handle.write("    %r: {\n" % label)
            for key in ("ids", "total_gb", "compute", "memory", "balanced"):
                handle.write("        %r: %r,\n" % (key, board[key]))
            handle.write("        'profiles': {\n")
            for profile, spec in board["profiles"].items():
                handle.write("            %r: %r,\n" % (profile, spec))
            handle.write("        },\n    },\n")
        handle.write("}\n")
    with open(os.path.join(OUT, "_gpu_vgpu_boards.py"), "w") as handle:
        handle.write(HEADER % "NVIDIA/vgpu-device-manager examples/config-example.yaml (the default config)")
        handle.write("# PCI device id -> the vGPU type prefixes its default entry uses\n")
        handle.write("BOARD_TYPE_PREFIXES = {\n")
        for device, prefixes in vgpu.items():
            handle.write("    %r: %r,\n" % (device, tuple(prefixes)))
        handle.write("}\n")


if __name__ == "__main__":
    main(*sys.argv[1:3])
