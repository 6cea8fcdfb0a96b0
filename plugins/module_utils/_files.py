# -*- coding: utf-8 -*-
# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Private to the edgeai.fleet collection: may change without notice.

"""Atomic file writes with a backup that can be restored when a later step fails."""

from __future__ import annotations

import os
import shutil
import tempfile
import time

from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError


def read_text(path):
    """Return the file's text, or None when it does not exist."""
    try:
        with open(path, "r", encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise FleetError("Cannot read %s: %s" % (path, exc), path=path)


def backup_path(path, stamp=None):
    return "%s.%s.edgeai.bak" % (path, stamp or time.strftime("%Y%m%dT%H%M%S"))


def atomic_write(path, content, mode=0o644, backup=True, atomic_move=None):
    """Write ``content`` to ``path`` atomically; return the backup's path or None.

    The temporary file is created in the target's directory so the final rename never crosses
    file systems. ``atomic_move`` is ``AnsibleModule.atomic_move`` when called from a module
    (it keeps SELinux contexts); without it ``os.replace`` is used.
    """
    directory = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(directory, exist_ok=True)
        saved = None
        if backup and os.path.exists(path):
            saved = backup_path(path)
            shutil.copy2(path, saved)
        fd, tmp = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), dir=directory)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(content.encode("utf-8") if isinstance(content, str) else content)
            os.chmod(tmp, mode)
            if atomic_move is not None:
                atomic_move(tmp, path)
            else:
                os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    except OSError as exc:
        raise FleetError("Cannot write %s: %s" % (path, exc), path=path)
    return saved


def restore(path, saved):
    """Undo an ``atomic_write``: put the backup back, or remove a file that did not exist."""
    try:
        if saved:
            shutil.copy2(saved, path)
        elif os.path.exists(path):
            os.unlink(path)
    except OSError as exc:
        raise FleetError("Cannot restore %s from %s: %s" % (path, saved, exc), path=path, backup=saved)
