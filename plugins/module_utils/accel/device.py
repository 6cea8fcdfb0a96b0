# -*- coding: utf-8 -*-
# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Private to the edgeai.fleet collection: may change without notice.

"""One entry of ``edgeai_accelerators.devices``, every key always present."""

from __future__ import annotations

import os


def device(kind, vendor, bus, targets, **known):
    entry = {"kind": kind, "vendor": vendor, "model": None, "path": None, "bus": bus, "id": None, "driver": None,
             "driver_version": None, "firmware_version": None, "usable": True, "reason": None,
             "targets": list(targets)}
    entry.update(known)
    return entry


def unusable(entry, reason):
    entry["usable"] = False
    entry["reason"] = reason
    return entry


def node_verdict(entry, root, access, group_hint):
    """Mark ``entry`` unusable when its /dev node (``entry["path"]``) is missing or not read/write for this user.

    ``access`` is os.access in production; tests inject one because root bypasses file modes.
    """
    node = os.path.join(root, entry["path"].lstrip("/"))
    if not os.path.exists(node):
        return unusable(entry, "device node %s is missing although the driver is bound: check that udev runs "
                               "(or that /dev is shared with this container)" % entry["path"])
    if not access(node, os.R_OK | os.W_OK):
        return unusable(entry, "no read/write permission on %s for this user: %s" % (entry["path"], group_hint))
    return entry
