# -*- coding: utf-8 -*-
# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Private to the edgeai.fleet collection: may change without notice.

"""A versioned model repository: ``<repo>/<name>/<version>/`` plus the switch that says which version serves.

Layout (shared by OVMS, Triton and the collection's KServe model server)::

    <repo>/config.json                      OVMS only: model_config_list, one entry per model
    <repo>/<name>/config.pbtxt              Triton only: backend + version_policy specific
    <repo>/<name>/<version>/                model files + manifest.json + golden.json, never rewritten
    <repo>/<name>/current -> <version>      every backend (the KServe server loads this)
    <repo>/<name>/.edgeai-model.json        bookkeeping: current, history, identity per version, rejected
    <repo>/<name>/.edgeai-model.lock        flock held by the deploy or rollback that changes this model
    <repo>/.edgeai-config.lock              OVMS only: flock held while config.json is rewritten

Version numbers are never reused: OVMS does not notice changed files inside an existing version
directory, so a new artifact always gets a new number. Servers ignore non-numeric entries, which is
why staging directories (``.incoming-*``) and the bookkeeping file can live beside the versions.

Deploys and rollbacks of one model are serialised by a lock file in its directory, because the pull
timer and a push from AWX can run at once; everything the bookkeeping file and the repository's
entries say is checked before use, since a device's disk is input like any other.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import tempfile
import time

from ansible_collections.edgeai.fleet.plugins.module_utils._diff import file_diff, state_diff
from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError
from ansible_collections.edgeai.fleet.plugins.module_utils import _redact
from ansible_collections.edgeai.fleet.plugins.module_utils._files import atomic_write, make_backup, read_text, restore
from ansible_collections.edgeai.fleet.plugins.module_utils._model_manifest import sha256_file, validate as validate_manifest

STATE_FILE = ".edgeai-model.json"
LOCK_FILE = ".edgeai-model.lock"
CONFIG_LOCK_FILE = ".edgeai-config.lock"
CURRENT_LINK = "current"
LOCK_TIMEOUT = 600
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
# ASCII only and bounded: str.isdigit() also accepts '²' (which int() refuses) and Arabic-Indic digits.
VERSION_RE = re.compile(r"^[1-9][0-9]{0,8}$")
# A pbtxt string must not close its quotes or start a new line: the file selects Triton's backend.
PBTXT_SAFE_RE = re.compile(r'^[^"\\\x00-\x1f\x7f]{1,255}$')
TRITON_BACKENDS = {"onnxruntime": ("onnxruntime", "model.onnx"), "openvino": ("openvino", "model.xml"),
                   "tensorrt": ("tensorrt", "model.plan")}


@contextlib.contextmanager
def hold_lock(path, timeout, what):
    """Hold an exclusive flock on ``path`` (created if needed), waiting at most ``timeout`` seconds.

    The holder's pid is written into the file so that a waiter can name it. The file is never
    deleted: removing a lock file lets a third process lock a new inode while the first still runs.
    """
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o644)
    except OSError as exc:
        raise FleetError("Cannot open the lock file %s: %s (is the repository read-only, or the lock file a "
                         "symlink?)" % (path, exc), path=path)
    try:
        _acquire(fd, path, timeout, what)
        yield
    finally:
        os.close(fd)


def _acquire(fd, path, timeout, what):
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
                    raise FleetError("Another deploy or rollback of %s (pid %s) still held %s after "
                                     "lock_timeout=%d s; wait for it to finish and run the task again"
                                     % (what, holder, path, timeout), path=path, lock_holder=holder)
                time.sleep(0.05)
        os.ftruncate(fd, 0)
        os.pwrite(fd, b"%d\n" % os.getpid(), 0)
    except OSError as exc:
        raise FleetError("Cannot lock %s: %s" % (path, exc), path=path)


def _field_error(path, field, expected, value):
    return FleetError("%s: %s must be %s, found %s; fix the file or remove it (the version directories stay, and "
                      "the next deploy installs a new version)" % (path, field, expected, _short(value)),
                      path=path, field=field)


def _short(value):
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def check_state(doc, path):
    """Raise FleetError naming the file and field unless ``doc`` is usable bookkeeping; return it."""
    if not isinstance(doc, dict):
        raise _field_error(path, "the document", "a JSON object", doc)
    doc.setdefault("history", [])
    doc.setdefault("versions", {})
    doc.setdefault("rejected", [])
    current = doc.get("current")
    if current is not None and not (_is_int(current) and current > 0):
        raise _field_error(path, "current", "a version number or null", current)
    if not isinstance(doc["history"], list) or not all(_is_int(v) for v in doc["history"]):
        raise _field_error(path, "history", "a list of version numbers", doc["history"])
    if not isinstance(doc["versions"], dict):
        raise _field_error(path, "versions", "an object keyed by version number", doc["versions"])
    for key, rec in doc["versions"].items():
        if not VERSION_RE.match(key):
            raise _field_error(path, "versions key %r" % key, "a version number", key)
        if not isinstance(rec, dict):
            raise _field_error(path, "versions[%s]" % key, "an object", rec)
        for field in ("identity", "source_sha256", "image_digest"):
            if rec.get(field) is not None and not isinstance(rec[field], str):
                raise _field_error(path, "versions[%s].%s" % (key, field), "a string", rec[field])
        if rec.get("manifest") is not None and not isinstance(rec["manifest"], dict):
            raise _field_error(path, "versions[%s].manifest" % key, "an object", rec["manifest"])
        if rec.get("source") is not None and not isinstance(rec["source"], dict):
            raise _field_error(path, "versions[%s].source" % key, "an object", rec["source"])
    if not isinstance(doc["rejected"], list):
        raise _field_error(path, "rejected", "a list", doc["rejected"])
    for index, rec in enumerate(doc["rejected"]):
        if not isinstance(rec, dict) or not _is_int(rec.get("version")):
            raise _field_error(path, "rejected[%d]" % index, "an object with a version number", rec)
    if doc.get("target_device") is not None and not isinstance(doc["target_device"], str):
        raise _field_error(path, "target_device", "a string", doc["target_device"])
    return doc


def scrub_sources(state):
    """Drop userinfo, query and fragment from recorded URLs (files written before they were redacted)."""
    for rec in state["versions"].values():
        source = rec.get("source")
        if source and source.get("type") == "url" and isinstance(source.get("ref"), str):
            source["ref"] = _redact.url(source["ref"])


def _safe_relpath(rel, what):
    norm = os.path.normpath(rel)
    if os.path.isabs(rel) or norm.startswith("..") or norm in (".", ""):
        raise FleetError("%s lists %r, which is not a relative path inside the artifact; rebuild the artifact"
                         % (what, rel), path=rel)
    return norm


def load_manifest(artifact_dir):
    """Read and check ``manifest.json`` (the contract written by model_compile)."""
    path = os.path.join(artifact_dir, "manifest.json")
    text = read_text(path)
    if text is None:
        raise FleetError("No manifest.json in %s: point src/url/image at a directory written by "
                         "edgeai.fleet.model_compile (model files + manifest.json + golden.json)" % artifact_dir, path=path)
    try:
        manifest = json.loads(text)
    except ValueError as exc:
        raise FleetError("%s is not valid JSON: %s" % (path, exc), path=path)
    errors = validate_manifest(manifest)  # the same contract model_compile writes with
    if errors:
        raise FleetError("%s is not a usable model manifest: %s; rebuild the artifact with edgeai.fleet.model_compile"
                         % (path, "; ".join(errors)), path=path, errors=errors)
    for rel, digest in manifest["files"].items():
        _safe_relpath(rel, path)
        if not SHA256_RE.match(digest):
            raise FleetError("%s: files[%r] is not a lowercase hex sha256: %r" % (path, rel, digest), path=path)
    golden = manifest.get("golden")
    if golden is not None:
        _safe_relpath(golden, path)
    return manifest


def load_version_manifest(version_dir):
    """load_manifest for an installed version, whose manifest.json (not model_compile) is what may be wrong."""
    try:
        return load_manifest(version_dir)
    except FleetError as exc:
        raise FleetError("Installed version %s has no usable manifest.json (%s); it was modified after it was "
                         "installed: deploy the artifact again" % (version_dir, exc.msg), path=version_dir)


def identity(manifest):
    """The artifact's identity: a digest of its file map, so the same bytes always give the same identity."""
    canon = json.dumps(sorted(manifest["files"].items()), separators=(",", ":"))
    return hashlib.sha256(canon.encode("utf-8")).hexdigest()


def verify_tree(artifact_dir, manifest):
    """Check every listed file's sha256; raise FleetError naming the first file that differs."""
    for rel, expected in sorted(manifest["files"].items()):
        path = os.path.join(artifact_dir, rel)
        if not os.path.isfile(path) or os.path.islink(path):
            raise FleetError("Artifact file %s listed in manifest.json is missing (or not a regular file) in %s"
                             % (rel, artifact_dir), path=path)
        got = sha256_file(path)
        if got != expected:
            raise FleetError("sha256 mismatch for %s: manifest says %s, file has %s; the artifact is corrupt "
                             "or was modified after compile" % (rel, expected, got), path=path, expected=expected, got=got)
    golden = manifest.get("golden")
    if golden and not os.path.isfile(os.path.join(artifact_dir, golden)):
        raise FleetError("Golden file %s named by manifest.json is missing in %s" % (golden, artifact_dir))


def artifact_entries(manifest):
    """Relative paths that make up one installed version."""
    entries = set(manifest["files"]) | {"manifest.json"}
    if manifest.get("golden"):
        entries.add(os.path.normpath(manifest["golden"]))
    return sorted(entries)


def summary(manifest):
    # latency_ms: the compile-time measurement the fleet report's gpu_needed verdict trusts over a loaded run.
    keys = ("name", "target", "precision", "inference_precision", "device", "entrypoint", "latency_ms")
    return {k: manifest.get(k) for k in keys}


def render_triton_config(name, version, manifest):
    if version is None:
        return None
    backend, default_file = TRITON_BACKENDS.get(manifest.get("target"), (None, None))
    if backend is None:
        raise FleetError("Triton cannot serve target %r; use onnxruntime, openvino or tensorrt" % manifest.get("target"))
    if not isinstance(manifest.get("entrypoint"), str) or not PBTXT_SAFE_RE.match(manifest["entrypoint"]):
        raise FleetError("manifest.json: entrypoint %s cannot be written into config.pbtxt (quotes, backslashes and "
                         "control characters are refused); rebuild the artifact" % _short(manifest.get("entrypoint")),
                         field="entrypoint")
    lines = ['name: "%s"' % name, 'backend: "%s"' % backend]
    if manifest["entrypoint"] != default_file:
        lines.append('default_model_filename: "%s"' % manifest["entrypoint"])
    lines.append("version_policy: { specific: { versions: [%d] } }" % version)
    return "# Managed by edgeai.fleet.model_deploy: edits are overwritten.\n" + "\n".join(lines) + "\n"


def render_ovms_config(current_text, name, version, base_path, target_device, path="config.json"):
    """Return config.json with this model's entry set (or removed when version is None); others untouched."""
    try:
        doc = json.loads(current_text) if current_text else {}
    except (ValueError, RecursionError) as exc:
        raise FleetError("Existing OVMS %s is not valid JSON (%s); fix or remove it" % (path, exc), path=path)
    if not isinstance(doc, dict):
        raise _field_error(path, "the document", "a JSON object", doc)
    entries = doc.get("model_config_list", [])
    if not isinstance(entries, list):
        raise _field_error(path, "model_config_list", "a list", entries)
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("config"), dict):
            raise _field_error(path, "model_config_list[%d]" % index, "an object with a config object", entry)
    if not isinstance(target_device, str):
        raise FleetError("target_device %s for %s is not a string" % (_short(target_device), path), path=path)
    entries = [e for e in entries if e["config"].get("name") != name]
    if version is not None:
        entries.append({"config": {"name": name, "base_path": base_path, "target_device": target_device,
                                   "model_version_policy": {"specific": {"versions": [version]}}}})
    doc["model_config_list"] = sorted(entries, key=lambda e: str(e["config"].get("name")))
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


class ModelRepo:
    """One model's directory in a repository; all writes go through ``switch``, ``install`` and ``prune``."""

    def __init__(self, root, name, backend="kserve", serving_path="/models", atomic_move=None,
                 lock_timeout=LOCK_TIMEOUT):
        if not isinstance(name, str) or not NAME_RE.match(name):
            raise FleetError("name %r is not a valid model name: use letters, digits, '.', '_' and '-'" % (name,))
        self.root = root
        self.lock_timeout = lock_timeout
        self.name = name
        self.backend = backend
        self.serving_path = serving_path
        self.atomic_move = atomic_move
        self.model_dir = os.path.join(root, name)
        self.state_path = os.path.join(self.model_dir, STATE_FILE)

    # ---- locking ---------------------------------------------------------------------------
    @contextlib.contextmanager
    def locked(self):
        """Serialise every change to this model (the pull timer and an AWX push may deploy at once)."""
        try:
            os.makedirs(self.model_dir, exist_ok=True)
        except OSError as exc:
            raise FleetError("Cannot create %s: %s (is the repository read-only?)" % (self.model_dir, exc),
                             path=self.model_dir)
        with hold_lock(os.path.join(self.model_dir, LOCK_FILE), self.lock_timeout, self.name):
            yield

    # ---- reading -------------------------------------------------------------------------
    def read_state(self):
        text = read_text(self.state_path)
        if text is None:
            return {"current": None, "history": [], "versions": {}, "rejected": []}
        try:
            doc = json.loads(text)
        except ValueError as exc:
            raise FleetError("%s is corrupt (%s); restore it from a backup or remove it"
                             % (self.state_path, exc), path=self.state_path)
        return check_state(doc, self.state_path)

    def _entries(self):
        try:
            return os.listdir(self.model_dir)
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise FleetError("Cannot list %s: %s" % (self.model_dir, exc), path=self.model_dir)

    def disk_versions(self):
        """Version directories on disk; other entries (stray names, files) are not versions."""
        def is_version_dir(name):
            path = os.path.join(self.model_dir, name)
            return bool(VERSION_RE.match(name)) and os.path.isdir(path) and not os.path.islink(path)

        return sorted(int(n) for n in self._entries() if is_version_dir(n))

    def next_version(self, state):
        # Any entry with a version's name blocks that number, a stray file included: install renames onto it.
        on_disk = {int(n) for n in self._entries() if VERSION_RE.match(n)}
        used = on_disk | {int(v) for v in state["versions"]} | {r["version"] for r in state["rejected"]}
        return max(used) + 1 if used else 1

    def clean_stale(self):
        """Remove staging directories and link temporaries left by a deploy that was killed (called under the lock)."""
        for entry in self._entries():
            if entry.startswith((".incoming-", ".current.")):
                path = os.path.join(self.model_dir, entry)
                if os.path.isdir(path) and not os.path.islink(path):
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    with contextlib.suppress(OSError):
                        os.unlink(path)

    def verify_version(self, version, record):
        """Re-check a kept version before it serves again: its files and its identity must be unchanged."""
        vdir = self.version_dir(version)
        manifest = load_version_manifest(vdir)
        try:
            verify_tree(vdir, manifest)
        except FleetError as exc:
            raise FleetError("Kept version %d of %s was modified after it was installed (%s); refusing to serve it. "
                             "Deploy the artifact again: it gets a new version" % (version, self.name, exc.msg),
                             path=vdir, version=version)
        if record.get("identity") and identity(manifest) != record["identity"]:
            raise FleetError("Kept version %d of %s holds a different artifact than the one installed (identity %s, "
                             "recorded %s); refusing to serve it. Deploy the artifact again: it gets a new version"
                             % (version, self.name, identity(manifest), record["identity"]), path=vdir, version=version)

    def find(self, state, key, value):
        """The highest kept version whose record has ``key == value`` and whose directory exists, or None."""
        hits = [int(v) for v, rec in state["versions"].items()
                if value and rec.get(key) == value and os.path.isdir(self.version_dir(v))]
        return max(hits) if hits else None

    def version_dir(self, version):
        return os.path.join(self.model_dir, str(version))

    # ---- staging and installing ----------------------------------------------------------
    def staging_dir(self):
        try:
            os.makedirs(self.model_dir, exist_ok=True)
            return tempfile.mkdtemp(prefix=".incoming-", dir=self.model_dir)
        except OSError as exc:
            raise FleetError("Cannot create a staging directory in %s: %s (is the repository read-only or full?)"
                             % (self.model_dir, exc), path=self.model_dir)

    def install(self, artifact_dir, manifest, version):
        """Copy the artifact into a staging directory, verify it, then rename it to ``<version>``.

        The rename is the only step servers can observe, so a failure anywhere leaves no version behind.
        """
        target = self.version_dir(version)
        if os.path.exists(target):
            raise FleetError("%s already exists; version numbers are never reused" % target, path=target)
        stage = self.staging_dir()
        try:
            for rel in artifact_entries(manifest):
                dst = os.path.join(stage, rel)
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                shutil.copyfile(os.path.join(artifact_dir, rel), dst)
                os.chmod(dst, 0o644)
            verify_tree(stage, manifest)
            os.chmod(stage, 0o755)
            os.rename(stage, target)
        except OSError as exc:
            raise FleetError("Cannot install version %d of %s: %s" % (version, self.name, exc), path=target)
        finally:
            shutil.rmtree(stage, ignore_errors=True)
        return target

    # ---- switching -----------------------------------------------------------------------
    def _backend_files(self, new_state):
        """(path, desired text or None for absent) for each backend file the switch writes."""
        version = new_state["current"]
        manifest = new_state["versions"].get(str(version), {}).get("manifest") if version else None
        if version is not None and not manifest:
            return []  # check mode predicting an artifact it did not fetch: its content is unknown
        if self.backend == "ovms":
            path = os.path.join(self.root, "config.json")
            device = (new_state.get("target_device") or (manifest or {}).get("device") or "CPU")
            return [(path, render_ovms_config(read_text(path), self.name, version,
                                              "%s/%s" % (self.serving_path.rstrip("/"), self.name), device))]
        if self.backend == "triton":
            return [(os.path.join(self.model_dir, "config.pbtxt"), render_triton_config(self.name, version, manifest))]
        return []

    def plan_switch(self, old_state, new_state):
        """Diffs for a switch from ``old_state`` to ``new_state`` without writing anything."""
        diffs = [state_diff(self.public_state(old_state), self.public_state(new_state), header=self.state_path)]
        for path, text in self._backend_files(new_state):
            diffs.append(file_diff(path, read_text(path), text))
        link = os.path.join(self.model_dir, CURRENT_LINK)
        before = os.readlink(link) if os.path.islink(link) else None
        after = str(new_state["current"]) if new_state["current"] else None
        if before != after:
            diffs.append(file_diff(link, before and "-> %s\n" % before, after and "-> %s\n" % after))
        return diffs

    def switch(self, new_state):
        """Write the bookkeeping, the backend file and the ``current`` link; undo them all if one fails."""
        if self.backend != "ovms":
            return self._switch(new_state)
        # config.json lists every model of the repository, so two models switching at once would lose an entry.
        with hold_lock(os.path.join(self.root, CONFIG_LOCK_FILE), self.lock_timeout, "the OVMS config.json"):
            return self._switch(new_state)

    def _switch(self, new_state):
        done = []
        try:
            for path, text in self._backend_files(new_state):
                if read_text(path) == text:
                    continue
                if text is None:
                    saved = make_backup(path)
                    os.unlink(path)
                else:
                    saved = atomic_write(path, text, atomic_move=self.atomic_move)
                done.append((path, saved))
            self._set_link(new_state["current"])
            done.append((None, None))
            saved = atomic_write(self.state_path, json.dumps(new_state, indent=2, sort_keys=True) + "\n",
                                 atomic_move=self.atomic_move)
            done.append((self.state_path, saved))
        except (FleetError, OSError) as exc:
            reason = getattr(exc, "msg", exc)
            try:
                self._undo(done)
            except (FleetError, OSError) as undo_exc:
                raise FleetError("Switching %s to version %s failed (%s) and undoing it failed too (%s); check %s"
                                 % (self.name, new_state["current"], reason, getattr(undo_exc, "msg", undo_exc),
                                    self.model_dir), path=self.model_dir)
            raise FleetError("Switching %s to version %s failed and was undone: %s"
                             % (self.name, new_state["current"], reason), path=self.model_dir)
        for path, saved in done:
            if saved and path:
                _discard(saved)

    def _undo(self, done):
        old = self.read_state()
        for path, saved in reversed(done):
            if path is None:
                self._set_link(old["current"])
            else:
                restore(path, saved)
                if saved:
                    _discard(saved)

    def _set_link(self, version):
        """Point ``current`` at ``version`` with a rename, so readers see the old or the new link, never none."""
        link = os.path.join(self.model_dir, CURRENT_LINK)
        if version is None:
            if os.path.lexists(link):
                os.unlink(link)
            return
        if os.path.islink(link) and os.readlink(link) == str(version):
            return
        tmp = os.path.join(self.model_dir, ".current.%d.tmp" % os.getpid())
        if os.path.lexists(tmp):
            os.unlink(tmp)
        os.symlink(str(version), tmp)
        os.replace(tmp, link)

    @staticmethod
    def public_state(state):
        return {"current": state["current"], "versions": sorted(int(v) for v in state["versions"]),
                "rejected": sorted(r["version"] for r in state["rejected"])}

    # ---- pruning -------------------------------------------------------------------------
    @staticmethod
    def prune_plan(state, keep):
        """Versions to delete so at most ``keep`` remain: never the current one, oldest first."""
        kept = sorted((int(v) for v in state["versions"]), reverse=True)
        current = state["current"]
        order = ([current] if current is not None else []) + [v for v in kept if v != current]
        return sorted(order[keep:])

    def remove_versions(self, versions):
        for version in versions:
            shutil.rmtree(self.version_dir(version), ignore_errors=True)


def _discard(path):
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def new_record(manifest, source, source_sha256=None, image_digest=None):
    return {"identity": identity(manifest), "manifest": summary(manifest), "source": source,
            "source_sha256": source_sha256, "image_digest": image_digest,
            "deployed": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


# ---- the two operations model_deploy offers ---------------------------------------------------
def _rejected_match(state, **keys):
    for rec in state["rejected"]:
        if any(value and rec.get(key) == value for key, value in keys.items()):
            return rec
    return None


def _refuse_rejected(state, allow, **keys):
    rec = None if allow else _rejected_match(state, **keys)
    if rec:
        raise FleetError("This artifact was rejected as version %d (%s) after a failed verification; build a new "
                         "artifact, or set redeploy_rejected=true to try it again" % (rec["version"], rec.get("when")),
                         rejected_version=rec["version"])


def _locate(repo, state, source, check_mode, allow_rejected):
    """Find or stage the artifact. Returns (version or None, manifest or None, staged dir or None, record)."""
    kind = source["kind"]
    if kind == "identity":
        _refuse_rejected(state, allow_rejected, identity=source["identity"])
        return repo.find(state, "identity", source["identity"]), None, None, None
    if kind == "url":
        _refuse_rejected(state, allow_rejected, source_sha256=source["sha256"])
        hit = repo.find(state, "source_sha256", source["sha256"])
        if hit is not None or check_mode:
            return hit, None, None, None
    if kind == "image":
        image = source["image"]
        digest = image.pinned_digest() or (image.local_digest() if check_mode or image.pull != "always" else None)
        _refuse_rejected(state, allow_rejected, image_digest=digest)
        hit = repo.find(state, "image_digest", digest)
        if hit is not None or check_mode:
            return hit, None, None, None
    if kind == "path":
        artifact = source["path"]
        if check_mode and not os.path.exists(artifact):
            return None, None, None, None  # an earlier task that copies it did not run in check mode
        manifest = load_manifest(artifact)
        verify_tree(artifact, manifest)
        _refuse_rejected(state, allow_rejected, identity=identity(manifest))
        return repo.find(state, "identity", identity(manifest)), manifest, artifact, \
            new_record(manifest, {"type": "path", "ref": artifact})
    stage = repo.staging_dir()
    try:
        if kind == "url":
            from ansible_collections.edgeai.fleet.plugins.module_utils import _model_source as src
            max_bytes = source.get("max_bytes", src.MAX_BYTES)
            archive = src.download(source["url"], source["sha256"], stage, source.get("timeout", 60),
                                   source.get("validate_certs", True), source.get("opener"), max_bytes,
                                   source.get("deadline", src.DEADLINE))
            root = src.extract_archive(archive, os.path.join(stage, "tree"), max_bytes)
            os.unlink(archive)
            # The sha256 is the identity; userinfo and signed query strings are credentials, never stored.
            ref = {"type": "url", "ref": _redact.url(source["url"])}
            extra = {"source_sha256": source["sha256"]}
        else:
            digest = image.ensure()
            root = image.extract(stage)
            ref = {"type": "image", "ref": image.image}
            extra = {"image_digest": digest}
        manifest = load_manifest(root)
        verify_tree(root, manifest)
        _refuse_rejected(state, allow_rejected, identity=identity(manifest))
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    return repo.find(state, "identity", identity(manifest)), manifest, stage, \
        dict(new_record(manifest, ref, **extra), _root=root)


def deploy(repo, source, keep=2, check_mode=False, allow_rejected=False, target_device=None):
    """Install the artifact as a new version unless one with the same bytes is kept, then make it current."""
    if check_mode or (source["kind"] == "identity" and not os.path.isdir(repo.model_dir)):
        return _deploy(repo, source, keep, check_mode, allow_rejected, target_device)
    with repo.locked():
        repo.clean_stale()
        return _deploy(repo, source, keep, check_mode, allow_rejected, target_device)


def _deploy(repo, source, keep, check_mode, allow_rejected, target_device):
    state = repo.read_state()
    old = json.loads(json.dumps(state))
    scrub_sources(state)
    version, manifest, staged, record = _locate(repo, state, source, check_mode, allow_rejected)
    if version is None and source["kind"] == "identity":
        # No kept version has these bytes: the caller copies the artifact and deploys it from src.
        return {"changed": False, "artifact_needed": True, "version": state["current"], "previous_version": state["current"],
                "installed": False, "switched": False, "removed_versions": [],
                "versions": sorted(int(v) for v in state["versions"]), "identity": source["identity"], "manifest": None,
                "path": None, "diffs": []}
    installed = None
    try:
        if version is None:
            version = installed = repo.next_version(state)
            if record is None:  # check mode without fetching: the prediction is a new version
                record = {"identity": None, "manifest": None, "source": {"type": source["kind"]}}
            root = record.pop("_root", staged)
            state["versions"][str(version)] = record
        elif version != state["current"]:
            repo.verify_version(version, state["versions"][str(version)])
        if target_device:
            state["target_device"] = target_device
        previous = state["current"]
        if previous != version:
            state["current"] = version
            state["history"] = [v for v in state["history"] if v != version] + [version]
        pruned = repo.prune_plan(state, keep)
        for v in pruned:
            state["versions"].pop(str(v), None)
        state["history"] = [v for v in state["history"] if str(v) in state["versions"]]
        changed = state != old
        # Rendering the backend files here, before anything is installed, refuses a malformed config.json
        # or a manifest that cannot be written into config.pbtxt while the repository is still untouched.
        diffs = repo.plan_switch(old, state) if changed else []
        if changed and not check_mode:
            if installed is not None:
                repo.install(root, manifest, version)
            try:
                repo.switch(state)
            except FleetError:
                if installed is not None:
                    repo.remove_versions([installed])
                raise
            repo.remove_versions(pruned)
    finally:
        if staged and source["kind"] != "path":
            shutil.rmtree(staged, ignore_errors=True)
    return {"changed": changed, "artifact_needed": False, "version": version, "previous_version": previous,
            "installed": installed is not None,
            "switched": previous != version, "removed_versions": pruned,
            "versions": sorted(int(v) for v in state["versions"]), "identity": state["versions"][str(version)].get("identity"),
            "manifest": state["versions"][str(version)].get("manifest"),
            "path": repo.version_dir(version), "diffs": diffs}


def roll_back(repo, reject=None, check_mode=False):
    """Stop serving ``reject`` (default: the current version): switch to the version served before it and drop it.

    Idempotent when ``reject`` is given: once it no longer serves, nothing changes.
    """
    if check_mode or not os.path.isdir(repo.model_dir):
        return _roll_back(repo, reject, check_mode)
    with repo.locked():
        return _roll_back(repo, reject, check_mode)


def _roll_back(repo, reject, check_mode):
    state = repo.read_state()
    old = json.loads(json.dumps(state))
    current = state["current"]
    reject = current if reject is None else reject
    if reject is None or current != reject:
        return {"changed": False, "version": current, "previous_version": current, "rejected_version": None, "switched": False,
                "versions": sorted(int(v) for v in state["versions"]), "diffs": []}
    kept = [v for v in state["history"] if v != reject and str(v) in state["versions"]]
    earlier = [v for v in kept if os.path.isdir(repo.version_dir(v))]
    target = earlier[-1] if earlier else None
    if target is not None:
        repo.verify_version(target, state["versions"][str(target)])
    rec = state["versions"].pop(str(reject), {})
    state["rejected"].append({"version": reject, "identity": rec.get("identity"), "source_sha256": rec.get("source_sha256"),
                              "image_digest": rec.get("image_digest"),
                              "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
    state["current"] = target
    state["history"] = [v for v in state["history"] if v != reject]
    scrub_sources(state)
    diffs = repo.plan_switch(old, state)
    if not check_mode:
        repo.switch(state)
        repo.remove_versions([reject])
    return {"changed": True, "version": target, "previous_version": reject, "rejected_version": reject, "switched": True,
            "versions": sorted(int(v) for v in state["versions"]), "diffs": diffs}
