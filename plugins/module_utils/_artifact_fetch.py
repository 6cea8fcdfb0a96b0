# -*- coding: utf-8 -*-
# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Private to the edgeai.fleet collection: may change without notice.

"""Controller side of sharing a device-compiled artifact: everything the device says is checked before use.

The compile leader of a hardware class is a device, so its ``manifest.json``, its file listing and the bytes it
sends are untrusted input to the controller. This core decides where the artifact lives on the controller from
controller-side values only, accepts a device-supplied relative path only in a normal form that cannot leave the
staging directory, bounds every size, and moves a staged tree into the cache only after every file matched the
manifest's sha256 and nothing else was there. Used by the ``edgeai.fleet.model_artifact_fetch`` action plugin.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import tempfile

from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError
from ansible_collections.edgeai.fleet.plugins.module_utils._model_manifest import MANIFEST, sha256_file, validate

# An honest manifest is a few KiB; 1 MiB leaves room for many candidates and still bounds the parse.
MAX_MANIFEST_BYTES = 1 << 20
MAX_FILES = 1000
MAX_PATH_CHARS = 1024
# NAME_MAX of Linux file systems, in bytes.
MAX_COMPONENT_BYTES = 255
DEFAULT_MAX_BYTES = 16 << 30

_DIGEST = re.compile(r"[0-9a-f]{64}\Z")
# Names of controller cache directories: one component, no leading dot (so never "." or ".." nor a staging name).
_SAFE_COMPONENT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+-]{0,127}\Z")


def cache_dir(cache_root, hardware_class, name):
    """``<cache_root>/<hardware_class>/<name>``, refusing anything but one plain component for class and name."""
    if not isinstance(cache_root, str) or not os.path.isabs(cache_root):
        raise FleetError("The controller's artifact cache must be an absolute path, got %r" % (cache_root,))
    for label, value in (("hardware class", hardware_class), ("model name", name)):
        if not isinstance(value, str) or not _SAFE_COMPONENT.match(value):
            raise FleetError("The %s %r cannot name a directory in the controller's artifact cache: use letters, "
                             "digits, '_', '.', '+' and '-' (at most 128, not starting with '.' or '-')"
                             % (label, value))
    return os.path.join(os.path.normpath(cache_root), hardware_class, name)


def check_relpath(rel, source):
    """Return ``rel`` when it is a normal relative POSIX path that stays inside its directory; raise otherwise."""
    def refuse(why):
        raise FleetError("%s: files entry %r is refused: %s" % (source, rel, why), path=source)

    if not isinstance(rel, str) or not rel:
        refuse("not a non-empty string")
    if len(rel) > MAX_PATH_CHARS:
        refuse("longer than %d characters" % MAX_PATH_CHARS)
    if rel.startswith("/"):
        refuse("absolute path")
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:
        refuse("not valid UTF-8")
    for part in rel.split("/"):
        if part in ("", ".", ".."):
            refuse("empty, '.' or '..' path component")
        if not part.isprintable() or "\\" in part:
            refuse("control, format or backslash character in a path component")
        if len(part.encode("utf-8")) > MAX_COMPONENT_BYTES:
            refuse("a path component longer than %d bytes" % MAX_COMPONENT_BYTES)
    if rel == MANIFEST:
        refuse("manifest.json is the manifest itself, not an artifact file")
    return rel


def parse_manifest(data, source, name=None):
    """The manifest document from a device's ``manifest.json`` bytes, or FleetError naming the file and field."""
    if not isinstance(data, bytes):
        raise FleetError("%s: expected the file's bytes, got %s" % (source, type(data).__name__), path=source)
    if len(data) > MAX_MANIFEST_BYTES:
        raise FleetError("%s is %d bytes, more than the %d a manifest may have"
                         % (source, len(data), MAX_MANIFEST_BYTES), path=source)
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise FleetError("%s is not UTF-8 JSON: %s" % (source, exc), path=source)
    if not isinstance(doc, dict):
        raise FleetError("%s is not a JSON object" % source, path=source)
    files = doc.get("files")
    if not isinstance(files, dict) or not files:
        raise FleetError("%s: 'files' must map relative paths to sha256 digests" % source, path=source)
    if len(files) > MAX_FILES:
        raise FleetError("%s: 'files' lists %d files, more than %d" % (source, len(files), MAX_FILES), path=source)
    for rel, digest in files.items():
        check_relpath(rel, source)
        if not isinstance(digest, str) or not _DIGEST.match(digest):
            raise FleetError("%s: files entry %r: the sha256 must be 64 lowercase hex digits" % (source, rel),
                             path=source)
    _refuse_file_under_file(files, source)
    for key in ("entrypoint", "golden"):
        if not isinstance(doc.get(key), str):
            raise FleetError("%s: %r must be a string naming a file in 'files'" % (source, key), path=source)
    problems = validate(doc)
    if problems:
        raise FleetError("%s is not a valid manifest: %s" % (source, _clip("; ".join(problems))), path=source)
    if name is not None and doc["name"] != name:
        raise FleetError("%s is the manifest of model %s, expected %r" % (source, _clip(repr(doc["name"])), name),
                         path=source)
    return doc


def _clip(text, limit=500):
    # The device chose these values: a message quotes enough to recognise them, never a megabyte.
    return text if len(text) <= limit else text[:limit] + "... (%d characters)" % len(text)


def _refuse_file_under_file(files, source):
    # "a" and "a/b" cannot both be files: fetching one would fail or replace the other half way through.
    parents = set()
    for rel in files:
        parts = rel.split("/")
        parents.update("/".join(parts[:i]) for i in range(1, len(parts)))
    clash = sorted(parents & set(files))
    if clash:
        raise FleetError("%s: files entry %r is also the directory of another entry" % (source, clash[0]), path=source)


def check_manifest_entry(entry, source):
    """Refuse, before reading it, a manifest the device lists as missing, a symlink or too large."""
    if not isinstance(entry, dict):
        raise FleetError("%s is missing on the device" % source, path=source)
    size = entry.get("size")
    if entry.get("islnk") or not entry.get("isreg"):
        raise FleetError("%s is a symlink or not a regular file on the device" % source, path=source)
    if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= MAX_MANIFEST_BYTES:
        raise FleetError("%s has size %r on the device; a manifest may have at most %d bytes"
                         % (source, size, MAX_MANIFEST_BYTES), path=source)


def check_listing(doc, listing, source, max_bytes):
    """Check the device's own listing of the artifact before anything is fetched; return the total size.

    ``listing`` maps relative paths to ``{isreg, islnk, size}`` as the device reported them. It is untrusted
    too: it only lets the controller refuse early, and the bytes are checked again once fetched.
    """
    total = 0
    for rel in sorted(doc["files"]):
        entry = listing.get(rel)
        if not isinstance(entry, dict):
            raise FleetError("%s: %s is listed in manifest.json but missing on the device" % (source, rel), path=source)
        if entry.get("islnk") or not entry.get("isreg"):
            raise FleetError("%s: %s is a symlink or not a regular file on the device" % (source, rel), path=source)
        size = entry.get("size")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise FleetError("%s: the device reported size %r for %s" % (source, size, rel), path=source)
        total += size
        if total > max_bytes:
            raise FleetError("%s: the artifact is larger than the %d bytes allowed (model_serving_artifact_max_bytes)"
                             % (source, max_bytes), path=source)
    return total


def verify_tree(root, doc, manifest_data, max_bytes):
    """Prove ``root`` holds exactly manifest.json (these bytes) and the manifest's files with their sha256s."""
    try:
        _verify_tree(root, doc, manifest_data, max_bytes)
    except OSError as exc:
        raise FleetError("Cannot check the fetched artifact in %s: %s" % (root, exc), path=root)


def _verify_tree(root, doc, manifest_data, max_bytes):
    expected = set(doc["files"]) | {MANIFEST}
    found = set()
    total = 0
    for base, dirs, names in os.walk(root):
        for entry in dirs + names:
            path = os.path.join(base, entry)
            rel = os.path.relpath(path, root)
            mode = os.lstat(path).st_mode
            if stat.S_ISDIR(mode):
                continue
            if not stat.S_ISREG(mode):
                raise FleetError("%s in the fetched artifact is a symlink or special file" % rel, path=path)
            if rel not in expected:
                raise FleetError("%s in the fetched artifact is not listed in manifest.json" % rel, path=path)
            found.add(rel)
            total += os.lstat(path).st_size
            if total > max_bytes:
                raise FleetError("The fetched artifact is larger than the %d bytes allowed" % max_bytes, path=root)
    missing = sorted(expected - found)
    if missing:
        raise FleetError("%s listed in manifest.json was not fetched" % missing[0], path=root)
    with open(os.path.join(root, MANIFEST), "rb") as handle:
        if handle.read() != manifest_data:
            raise FleetError("manifest.json in %s differs from the manifest that was checked" % root, path=root)
    for rel, digest in sorted(doc["files"].items()):
        got = sha256_file(os.path.join(root, rel))
        if got != digest:
            raise FleetError("sha256 mismatch for %s: manifest.json says %s, the fetched file has %s"
                             % (rel, digest, got), path=os.path.join(root, rel), expected=digest, got=got)


def cache_matches(dest, doc, manifest_data, max_bytes):
    """Whether the cache already holds exactly this artifact (so nothing is fetched)."""
    if os.path.islink(dest) or not os.path.isdir(dest):
        return False
    try:
        verify_tree(dest, doc, manifest_data, max_bytes)
    except (FleetError, OSError):
        return False
    return True


def staging_dir(dest):
    """A fresh directory beside ``dest`` (same file system, so the final rename is atomic)."""
    parent = os.path.dirname(dest)
    try:
        os.makedirs(parent, exist_ok=True)
        return tempfile.mkdtemp(prefix=".incoming-", dir=parent)
    except OSError as exc:
        raise FleetError("Cannot create a staging directory in %s: %s" % (parent, exc), path=parent)


def safe_join(root, rel):
    """``root/rel`` for a checked ``rel``, proved once more not to leave ``root`` (including through symlinks)."""
    path = os.path.join(root, rel)
    real_root = os.path.realpath(root)
    if os.path.commonpath([real_root, os.path.realpath(path)]) != real_root:
        raise FleetError("%s would leave the staging directory %s" % (rel, root), path=root)
    return path


def write_manifest(root, data):
    with open(os.path.join(root, MANIFEST), "wb") as handle:
        handle.write(data)


def promote(staged, dest):
    """Put the verified ``staged`` tree at ``dest``: the previous tree stays until the new one is in place."""
    if os.path.islink(dest):
        raise FleetError("%s is a symlink; refusing to replace it with the fetched artifact" % dest, path=dest)
    old = None
    try:
        os.chmod(staged, 0o755)
        if os.path.exists(dest):
            old = tempfile.mkdtemp(prefix=".old-", dir=os.path.dirname(dest))
            os.rename(dest, os.path.join(old, "tree"))
        try:
            os.rename(staged, dest)
        except OSError:
            if old is not None:
                os.rename(os.path.join(old, "tree"), dest)
            raise
    except OSError as exc:
        raise FleetError("Cannot move the fetched artifact into %s: %s" % (dest, exc), path=dest)
    finally:
        # When even putting the previous tree back failed, it stays in .old-* for the operator.
        if old is not None and os.path.isdir(dest):
            shutil.rmtree(old, ignore_errors=True)


def discard(path):
    shutil.rmtree(path, ignore_errors=True)
