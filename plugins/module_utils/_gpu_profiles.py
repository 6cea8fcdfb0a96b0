# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils is PRIVATE to the edgeai.fleet collection. It may change or be
# removed without notice, even in a patch release. Do not import it from elsewhere.

"""MIG profile tables per GPU, and the named layouts built from them.

A GPU's table comes, in this order, from what NVML lists for the board (``gpu_info``'s ``mig_profiles``), from
the tables generated out of mig-parted's published default config by PCI device id (``_gpu_mig_boards``), and
only for facts without a PCI id (gathered before gpu_info reported one) from the product name below.

Source of the name-keyed tables: NVIDIA MIG User Guide, "Supported MIG Profiles" (A30, A100 40/80 GB, H100 80/94/96 GB,
H200 141 GB, B200 180 GB) and the profile names mig-parted accepts (``types.MigConfig``).
Each profile is ``(compute slices, memory slices, max instances)``. ``+me`` variants carry the
media engines and exist once per GPU. Placement (which slices an instance may start on) is not
modelled: the slice sums below are necessary conditions and mig-parted ``assert``/``apply``
stays the final judge of a layout.
"""

from __future__ import annotations

import re

from ansible_collections.edgeai.fleet.plugins.module_utils._errors import malformed
from ansible_collections.edgeai.fleet.plugins.module_utils._gpu_mig_boards import BOARDS

# PCI device id (upper-case hex, mig-parted's device-filter spelling) -> generated board
BOARD_BY_ID = dict((device, label) for label, board in BOARDS.items() for device in board["ids"])


def _seven_slice(small, medium, large, full):
    """The 7-compute / 8-memory-slice table shared by A100, H100, H200 and B200."""
    return {
        "1g.%s" % small: (1, 1, 7),
        "1g.%s+me" % small: (1, 1, 1),
        "1g.%s" % medium: (1, 2, 4),
        "2g.%s" % medium: (2, 2, 3),
        "3g.%s" % large: (3, 4, 2),
        "4g.%s" % large: (4, 4, 1),
        "7g.%s" % full: (7, 8, 1),
    }


# family, nominal memory (GiB) -> (compute slices, memory slices, profiles)
TABLES = {
    ("A100", 40): (7, 8, _seven_slice("5gb", "10gb", "20gb", "40gb")),
    ("A100", 80): (7, 8, _seven_slice("10gb", "20gb", "40gb", "80gb")),
    ("H100", 80): (7, 8, _seven_slice("10gb", "20gb", "40gb", "80gb")),
    ("H100", 94): (7, 8, _seven_slice("12gb", "24gb", "47gb", "94gb")),
    ("H100", 96): (7, 8, _seven_slice("12gb", "24gb", "48gb", "96gb")),
    ("H800", 80): (7, 8, _seven_slice("10gb", "20gb", "40gb", "80gb")),
    ("H200", 141): (7, 8, _seven_slice("18gb", "35gb", "71gb", "141gb")),
    ("B200", 180): (7, 8, _seven_slice("23gb", "45gb", "90gb", "180gb")),
    ("A30", 24): (4, 4, {
        "1g.6gb": (1, 1, 4),
        "1g.6gb+me": (1, 1, 1),
        "2g.12gb": (2, 2, 2),
        "2g.12gb+me": (2, 2, 1),
        "4g.24gb": (4, 4, 1),
    }),
}

# NVML names: "NVIDIA A100-SXM4-40GB", "NVIDIA A100 80GB PCIe", "NVIDIA H100 NVL", "NVIDIA GH200 480GB".
_FAMILY = re.compile(r"\b(A100|A30|H100|H800|H200|B200)\b", re.IGNORECASE)
_GH = re.compile(r"\bGH200\b", re.IGNORECASE)


def family_of(name):
    """GPU family from an NVML product name, or None when it has no MIG table here."""
    if not name:
        return None
    if _GH.search(name):
        return "H100"  # GH200's Hopper GPU: 96 GB (H100 96 GB table) or 141/144 GB (H200 table)
    match = _FAMILY.search(name)
    if not match:
        return None
    return match.group(1).upper()


def _from_nvml(gpu):
    """The table NVML reported for this board: ``mig_profiles`` [{name, slices, memory_mib, instance_count}]."""
    listed = [p for p in gpu.get("mig_profiles") or [] if p.get("name") and p.get("slices")]
    if not listed:
        return None
    full = max(listed, key=lambda p: (p["slices"], p.get("memory_mib") or 0))
    compute = full["slices"]
    memory = 8 if compute == 7 else compute
    table = {}
    for item in listed:
        name = item["name"][4:] if item["name"].startswith("MIG ") else item["name"]
        share = (item.get("memory_mib") or 0) / float(full.get("memory_mib") or 1)
        table[name] = (item["slices"], max(1, int(round(share * memory))), item.get("instance_count") or 0)
    return (gpu.get("name") or "GPU", int(round((full.get("memory_mib") or 0) / 1024.0))), compute, memory, table


def _from_board(gpu):
    text = str(gpu.get("pci_device_id") or "")
    label = BOARD_BY_ID.get("0x" + text[2:].upper() if text.lower().startswith("0x") else text.upper())
    if label is None:
        return None
    board = BOARDS[label]
    return (label, board["total_gb"]), board["compute"], board["memory"], dict(board["profiles"])


@malformed("a GPU fact (edgeai_gpu.gpus[])", fix="Re-gather facts with edgeai.fleet.gpu_info")
def table_for(gpu):
    """``(key, compute_slices, memory_slices, profiles)`` for a gpu fact, or None if unknown.

    NVML's own list first, then mig-parted's boards by PCI device id; a fact without a PCI id falls
    back to the family from the name and the nominal size closest to the reported memory.
    """
    table = _from_nvml(gpu)
    if table is not None:
        return table
    if gpu.get("pci_device_id"):
        return _from_board(gpu)
    family = family_of(gpu.get("name"))
    if family is None:
        return None
    candidates = [key for key in TABLES if key[0] == family]
    if family == "H100" and _GH.search(gpu.get("name") or ""):
        candidates += [key for key in TABLES if key[0] == "H200"]
    memory_mib = gpu.get("memory_total_mib") or 0
    key = min(candidates, key=lambda k: abs(k[1] * 1024 - memory_mib))
    compute, memory, profiles = TABLES[key]
    return key, compute, memory, profiles


def known_models():
    return sorted(BOARDS)


def _smallest(profiles, g):
    """Smallest plain (no +me) profile with ``g`` compute slices, or None."""
    names = [p for p, spec in profiles.items() if spec[0] == g and "+" not in p]
    return min(names, key=lambda p: profiles[p][1]) if names else None


@malformed("a named MIG layout")
def named_layout(layout, table):
    """MIG devices ``{profile: count}`` for a named layout on a GPU with ``table``.

    ``all-<profile>``: as many of that profile as fit; ``all-balanced``: the mig-parted default
    mix (two smallest 1g, one 2g, one 3g; A30: two 1g and one 2g); ``all-enabled``: MIG on,
    no instances. Returns None when the GPU does not offer the profile.
    """
    key, compute, _memory, profiles = table
    if layout == "all-enabled":
        return {}
    if layout == "all-balanced" and key[0] in BOARDS:
        return dict(BOARDS[key[0]]["balanced"])
    if layout == "all-balanced":
        if compute == 4:
            return {_smallest(profiles, 1): 2, _smallest(profiles, 2): 1}
        return {_smallest(profiles, 1): 2, _smallest(profiles, 2): 1, _smallest(profiles, 3): 1}
    profile = layout[len("all-"):]
    if profile not in profiles:
        return None
    return {profile: profiles[profile][2]}


@malformed("a MIG layout (mig-devices: {profile: count})")
def check_layout(devices, table):
    """Why ``devices`` ({profile: count}) cannot be created on a GPU with ``table``, or None."""
    key, compute, memory, profiles = table
    model = key[0] if key[0] in BOARDS else "%s %dGB" % key  # generated board labels carry their size
    for profile, count in sorted(devices.items()):
        if profile not in profiles:
            return "profile %s is not offered by %s (it offers %s)" % (profile, model, ", ".join(sorted(profiles)))
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            return "count for %s must be a non-negative integer, got %r" % (profile, count)
        if count > profiles[profile][2]:
            return "%s allows at most %d x %s, asked for %d" % (model, profiles[profile][2], profile, count)
    used_compute = sum(profiles[p][0] * n for p, n in devices.items())
    used_memory = sum(profiles[p][1] * n for p, n in devices.items())
    if used_compute > compute or used_memory > memory:
        return ("%s has %d compute and %d memory slices; the layout needs %d and %d"
                % (model, compute, memory, used_compute, used_memory))
    return None
