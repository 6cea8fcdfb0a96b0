# -*- coding: utf-8 -*-
# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Private to the edgeai.fleet collection: may change without notice.

"""Atomic file writes with a backup that can be restored when a later step fails.

A symlinked target is written through: the link is resolved and the file it points at is replaced
atomically in its own directory, so the link stays a link (replacing it by a regular file would
silently detach the configuration from wherever the administrator keeps it). A failed write leaves
the original file untouched and no temporary or backup file behind.
"""

from __future__ import annotations

import os
import stat
import tempfile
import time

from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError

# Configuration files are small; a bigger one is refused instead of being read into memory whole.
MAX_READ_BYTES = 16 * 1024 * 1024


def read_text(path, limit=MAX_READ_BYTES):
    """Return the file's text, or None when it does not exist."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise FleetError("Cannot read %s: %s" % (path, exc), path=path)
    if len(data) > limit:
        raise FleetError("Cannot read %s: it is larger than %d bytes, far more than any configuration file; "
                         "check what wrote it" % (path, limit), path=path)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FleetError("Cannot read %s: it is not UTF-8 text (%s)" % (path, exc), path=path)


def backup_path(path, stamp=None):
    return "%s.%s.edgeai.bak" % (path, stamp or time.strftime("%Y%m%dT%H%M%S"))


def _unlink_quietly(path):
    try:
        os.unlink(path)
    except OSError:
        pass


def _copy_private(src, dest):
    """Copy ``src`` to a new file ``dest`` that is never more readable than ``src``.

    shutil.copy2 creates the copy with the umask's mode and narrows it only afterwards, which
    briefly exposes a 0600 file's secrets; O_EXCL also refuses to follow a planted symlink.
    """
    mode = stat.S_IMODE(os.stat(src).st_mode)
    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode & 0o700)
    try:
        with os.fdopen(fd, "wb") as out, open(src, "rb") as source:
            while True:
                chunk = source.read(1024 * 1024)
                if not chunk:
                    break
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(dest, mode)
    except BaseException:
        _unlink_quietly(dest)
        raise


def make_backup(path):
    """Copy ``path`` to a new, unique backup file with the same mode; return the backup's path."""
    saved = backup_path(path)
    counter = 1
    while os.path.lexists(saved):
        saved = "%s.%d" % (backup_path(path), counter)
        counter += 1
    _copy_private(path, saved)
    return saved


def atomic_write(path, content, mode=0o644, backup=True, atomic_move=None):
    """Write ``content`` to ``path`` atomically; return the backup's path or None.

    The temporary file is created in the target's directory so the final rename never crosses
    file systems. ``atomic_move`` is ``AnsibleModule.atomic_move`` when called from a module
    (it keeps SELinux contexts); without it ``os.replace`` is used. atomic_move re-applies the
    old file's or the umask's mode, so a file that must not be world-readable is renamed with
    ``os.replace``: it is never visible with a wider mode than ``mode``.
    """
    real = os.path.realpath(path)
    directory = os.path.dirname(real)
    data = content.encode("utf-8") if isinstance(content, str) else content
    saved = tmp = None
    moved = False
    try:
        os.makedirs(directory, exist_ok=True)
        if os.path.exists(real) and not os.path.isfile(real):
            raise FleetError("Cannot write %s: %s is not a regular file" % (path, real), path=path)
        fd, tmp = tempfile.mkstemp(prefix=".%s." % os.path.basename(real), dir=directory)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        # The backup is taken last, so a write that fails on a full disk leaves no copy behind.
        if backup and os.path.exists(real):
            saved = make_backup(real)
        if atomic_move is not None and mode & 0o004:
            atomic_move(tmp, real)
        else:
            os.replace(tmp, real)
        tmp, moved = None, True
        current = stat.S_IMODE(os.stat(real).st_mode)
        if current & ~mode:
            # atomic_move gave a new file the umask's mode: never leave it wider than asked for.
            os.chmod(real, current & mode)
    except OSError as exc:
        raise FleetError("Cannot write %s: %s" % (path, exc), path=path)
    finally:
        # Also on SystemExit: AnsibleModule.atomic_move fails the module itself.
        if tmp is not None:
            _unlink_quietly(tmp)
        if saved and not moved:
            _unlink_quietly(saved)
    return saved


def restore(path, saved):
    """Undo an ``atomic_write``: put the backup back, or remove a file that did not exist."""
    try:
        if saved:
            with open(saved, "rb") as handle:
                data = handle.read()
            atomic_write(path, data, mode=stat.S_IMODE(os.stat(saved).st_mode), backup=False)
        elif os.path.lexists(path):
            os.unlink(path)
    except (OSError, FleetError) as exc:
        raise FleetError("Cannot restore %s from %s: %s" % (path, saved, exc), path=path, backup=saved)
