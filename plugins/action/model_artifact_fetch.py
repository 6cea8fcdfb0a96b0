# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Fetch a device-compiled artifact into the controller's cache; the checks live in module_utils/_artifact_fetch."""

from __future__ import annotations

import base64
import binascii
import posixpath

from ansible.plugins.action import ActionBase

from ansible_collections.edgeai.fleet.plugins.module_utils import _artifact_fetch as af
from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError
from ansible_collections.edgeai.fleet.plugins.module_utils._model_manifest import MANIFEST
from ansible_collections.edgeai.fleet.plugins.module_utils._model_repo import identity


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("src", "cache", "hardware_class", "name", "max_bytes"))

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        args = self.validate_argument_spec(argument_spec=dict(
            src=dict(type="str", required=True),
            cache=dict(type="path", required=True),
            hardware_class=dict(type="str", required=True),
            name=dict(type="str", required=True),
            max_bytes=dict(type="int", default=af.DEFAULT_MAX_BYTES),
        ))[1]
        try:
            result.update(self._fetch(args, task_vars or {}))
        except FleetError as err:
            result.update(err.details, failed=True, changed=False, msg=err.msg)
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result

    def _fetch(self, args, task_vars):
        if args["max_bytes"] <= 0:
            raise FleetError("max_bytes must be positive, got %d" % args["max_bytes"])
        # A relative cache is relative to the playbook, as ansible.builtin.fetch has it.
        dest = af.cache_dir(self._loader.path_dwim(args["cache"]), args["hardware_class"], args["name"])
        src = posixpath.normpath(args["src"])
        source = "%s:%s" % (task_vars.get("inventory_hostname", "device"), posixpath.join(src, MANIFEST))
        listing = self._listing(src, task_vars)
        manifest_data = self._manifest(src, listing, source, task_vars)
        doc = af.parse_manifest(manifest_data, source, args["name"])
        af.check_listing(doc, listing, source, args["max_bytes"])
        done = dict(path=dest, identity=identity(doc), files=sorted(doc["files"]))
        if af.cache_matches(dest, doc, manifest_data, args["max_bytes"]):
            return dict(done, changed=False)
        if self._task.check_mode:
            return dict(done, changed=True)
        staged = af.staging_dir(dest)
        try:
            af.write_manifest(staged, manifest_data)
            for rel in sorted(doc["files"]):
                self._fetch_file(posixpath.join(src, rel), af.safe_join(staged, rel), task_vars)
            af.verify_tree(staged, doc, manifest_data, args["max_bytes"])
            af.promote(staged, dest)
        finally:
            af.discard(staged)
        return dict(done, changed=True)

    def _listing(self, src, task_vars):
        """The device's own view of the artifact directory: relative path -> {isreg, islnk, size}."""
        found = self._execute_module(
            module_name="ansible.legacy.find", task_vars=task_vars,
            module_args=dict(paths=[src], recurse=True, file_type="any", hidden=True, follow=False))
        if found.get("failed"):
            raise FleetError("Cannot list the artifact %s on the device: %s" % (src, found.get("msg")))
        prefix = src.rstrip("/") + "/"
        listing = {}
        for entry in found.get("files") or []:
            path = entry.get("path") if isinstance(entry, dict) else None
            if isinstance(path, str) and path.startswith(prefix):
                listing[path[len(prefix):]] = entry
        return listing

    def _manifest(self, src, listing, source, task_vars):
        af.check_manifest_entry(listing.get(MANIFEST), source)
        slurped = self._execute_module(module_name="ansible.legacy.slurp", task_vars=task_vars,
                                       module_args=dict(src=posixpath.join(src, MANIFEST)))
        if slurped.get("failed"):
            raise FleetError("Cannot read %s: %s" % (source, slurped.get("msg")))
        try:
            return base64.b64decode(slurped.get("content") or "", validate=True)
        except (binascii.Error, TypeError, ValueError) as exc:
            raise FleetError("%s: the device sent content that is not base64: %s" % (source, exc))

    def _fetch_file(self, remote, local, task_vars):
        task = self._task.copy()
        task.args = dict(src=remote, dest=local, flat=True, fail_on_missing=True, validate_checksum=True)
        fetch = self._shared_loader_obj.action_loader.get(
            "ansible.legacy.fetch", task=task, connection=self._connection, play_context=self._play_context,
            loader=self._loader, templar=self._templar, shared_loader_obj=self._shared_loader_obj)
        fetched = fetch.run(task_vars=task_vars)
        if fetched.get("failed"):
            raise FleetError("Cannot fetch %s from the device: %s" % (remote, fetched.get("msg")), path=remote)
