# -*- coding: utf-8 -*-
# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Private to the edgeai.fleet collection: may change without notice.

"""Registry credentials in the auth.json that bootc reads (never podman's file, never argv).

bootc (ostree-ext) looks at /run/ostree/auth.json, then /etc/ostree/auth.json, then
/usr/lib/ostree/auth.json. The file is merged (other registries' entries are kept), written
atomically with mode 0600, and put back exactly as it was when the bootc verb fails. The
previous content is held in memory rather than in a backup file so no stale copy of a
secret is left on disk. The rename is a plain os.replace of a mkstemp file (created 0600):
AnsibleModule.atomic_move would re-apply the old file's or the umask's mode after the
move, briefly exposing the secret.
"""

from __future__ import annotations

import base64
import json
import os
import stat

from ansible_collections.edgeai.fleet.plugins.module_utils._bootc_ref import registry_host
from ansible_collections.edgeai.fleet.plugins.module_utils._diff import state_diff
from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError
from ansible_collections.edgeai.fleet.plugins.module_utils._files import atomic_write, read_text

AUTH_FILES = ("/run/ostree/auth.json", "/etc/ostree/auth.json")
MODE = 0o600
# Prefix for file-system access; unit tests point it at a temporary directory.
FS_ROOT = ""


def _load(path, text):
    if text is None or not text.strip():
        return {}
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise FleetError("%s is not valid JSON (%s); fix or remove it, bootc cannot read it either" % (path, exc),
                         path=path)
    if not isinstance(doc, dict) or not isinstance(doc.get("auths", {}), dict):
        raise FleetError("%s must be a JSON object with an 'auths' object, like podman's auth.json" % path, path=path)
    return doc


def _entry(username, password):
    return {"auth": base64.b64encode(("%s:%s" % (username, password)).encode("utf-8")).decode("ascii")}


class AuthFile:
    """Plans, writes and restores one auth.json."""

    def __init__(self, path):
        if path not in AUTH_FILES:
            raise FleetError("auth_file=%r is not a file bootc reads; use one of %s" % (path, ", ".join(AUTH_FILES)))
        self.path = path
        self.fs_path = FS_ROOT + path
        self.old_text = None
        self.old_mode = None
        self.new_text = None
        self.registry = None
        self.pending = False
        self.written = False

    @property
    def changed(self):
        return self.pending

    def prepare(self, auth, image):
        """Compute the new content for ``auth`` ({registry, username, password}); no I/O besides reading."""
        if not auth:
            return
        if not auth.get("username") or not auth.get("password"):
            raise FleetError("auth needs both username and password (for a token, use the token as password)")
        self.registry = auth.get("registry") or (registry_host(image) if image else None)
        if not self.registry:
            raise FleetError("auth.registry is required when the host tracks no image yet")
        self.old_text = read_text(self.fs_path)
        if self.old_text is not None:
            self.old_mode = stat.S_IMODE(os.stat(self.fs_path).st_mode)
        doc = _load(self.path, self.old_text)
        wanted = _entry(auth["username"], auth["password"])
        current = doc.get("auths", {}).get(self.registry)
        if current == wanted and self.old_mode == MODE:
            return
        doc.setdefault("auths", {})[self.registry] = wanted
        self.new_text = json.dumps(doc, indent=2, sort_keys=True) + "\n"
        self.pending = True

    def write(self):
        if self.pending:
            atomic_write(self.fs_path, self.new_text, mode=MODE, backup=False)
            self.written = True

    def restore(self):
        """Undo ``write``: the old content with its old mode, or no file at all."""
        if not self.written:
            return
        if self.old_text is None:
            try:
                if os.path.lexists(self.fs_path):
                    os.unlink(self.fs_path)
            except OSError as exc:
                raise FleetError("Cannot remove %s: %s" % (self.path, exc), path=self.path)
        else:
            atomic_write(self.fs_path, self.old_text, mode=self.old_mode or MODE, backup=False)
        self.written = False

    def diff(self):
        """Which registries have credentials, before and after; never the credentials themselves."""
        before = sorted(_load(self.path, self.old_text).get("auths", {}))
        after = sorted(set(before) | {self.registry})
        return state_diff({"registries": before, "mode": oct(self.old_mode) if self.old_mode is not None else None},
                          {"registries": after, "mode": oct(MODE), "credentials_updated": self.registry},
                          header=self.path)
