# -*- coding: utf-8 -*-
# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Private to the edgeai.fleet collection: may change without notice.

"""Bounded, total readers for sysfs and devfs under a root.

Every helper answers None (or an empty list) for a missing, unreadable or garbage entry instead of
raising: a broken file makes one device unusable, never the whole fact run.
"""

from __future__ import annotations

import os
import re

# sysfs attributes are one page at most; anything longer is not the kernel's.
MAX_READ = 4096
# More entries than any real bus holds; the bound keeps a hostile tree from costing minutes.
MAX_ENTRIES = 1024
_DEVNAME = re.compile(r"^[A-Za-z0-9_.+-]+(/[A-Za-z0-9_.+-]+)*$")


def read(path):
    """First MAX_READ bytes of a file as stripped ASCII text (undecodable bytes replaced), or None."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_READ)
    except (OSError, ValueError):
        return None
    return data.decode("ascii", "replace").replace("\x00", "").strip()


def entries(path):
    """Sorted names in a directory, at most MAX_ENTRIES; [] when it is missing or unreadable."""
    try:
        return sorted(os.listdir(path))[:MAX_ENTRIES]
    except (OSError, ValueError):
        return []


def inside(root, path):
    """``path`` resolved, or None when it does not exist or resolves outside ``root`` (an absolute link in an image)."""
    real = os.path.realpath(path)
    base = os.path.realpath(root)
    if not os.path.exists(real) or os.path.commonpath([base, real]) != base:
        return None
    return real


def link_name(path):
    """Basename of a symlink's target (sysfs ``driver`` and ``module`` links), or None."""
    try:
        target = os.readlink(path)
    except (OSError, ValueError):
        return None
    return os.path.basename(target.rstrip("/")) or None


def hex_id(text, prefixed):
    """A 16-bit id as four lower-case hex digits: PCI files say ``0x8086``, USB files ``8086``; else None."""
    match = re.fullmatch(r"(0x)?([0-9a-fA-F]{4})", text or "")
    if not match or bool(match.group(1)) != prefixed:
        return None
    return match.group(2).lower()


def decimal(text, maximum):
    """A small non-negative integer (USB busnum/devnum), or None."""
    if not re.fullmatch(r"[0-9]{1,6}", text or ""):
        return None
    value = int(text)
    return value if value <= maximum else None


def module_version(root, device_dir):
    """``/sys/module/<module>/version`` of the driver bound to a device, found through the driver's ``module`` link.

    MODULE_VERSION() makes that file; drivers without it (or built in without it) have none.
    """
    module = inside(root, os.path.join(device_dir, "driver", "module"))
    if module is None:
        return None
    version = read(os.path.join(module, "version"))
    return version if version and version.isprintable() and len(version) <= 64 else None


def devname(class_device_dir):
    """The device node path relative to /dev from a class device's ``uevent`` (``DEVNAME=accel/accel0``), or None."""
    for line in (read(os.path.join(class_device_dir, "uevent")) or "").splitlines():
        key, _sep, value = line.partition("=")
        if key == "DEVNAME" and _DEVNAME.match(value) and ".." not in value.split("/"):
            return value
    return None
