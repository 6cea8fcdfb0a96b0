# -*- coding: utf-8 -*-
# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Private to the edgeai.fleet collection: may change without notice.

"""Where a model artifact comes from: a directory on the device, an HTTP(S) archive, or an OCI image.

The device fetches; the controller never streams model bytes. Every fetch lands in a staging
directory inside the model's own directory (same file system, so installing is a rename) and is
verified before anything that serves can see it.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import tarfile
import threading
import urllib.error
import zlib

from ansible.module_utils.urls import ConnectionError as UrlsConnectionError
from ansible.module_utils.urls import open_url

from ansible_collections.edgeai.fleet.plugins.module_utils import _redact
from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError

CHUNK = 1 << 20
MAX_BYTES = 4096 << 20
MAX_MEMBERS = 10000
DEADLINE = 3600
# What urllib, http.client and open_url raise for a failed transfer; FleetError is raised by _fetch itself.
_TRANSFER_ERRORS = (urllib.error.URLError, OSError, ValueError, http.client.HTTPException, UrlsConnectionError)


def check_url(url):
    """Return ``url`` redacted for messages; raise FleetError unless it is an http(s) URL with a host."""
    shown = _redact.url(url)
    if shown == _redact.UNPARSABLE or not shown.startswith(("https://", "http://")) or shown.split("/")[2] in ("", "[]"):
        raise FleetError("url %s must be an http:// or https:// URL with a host" % shown, url=shown)
    return shown


def _content_length(headers, shown):
    value = headers.get("Content-Length")
    if value is None:
        return None
    try:
        length = int(value.strip())
    except ValueError:
        length = -1
    if length < 0:
        raise FleetError("The server of %s sent an invalid Content-Length %r; nothing was changed"
                         % (shown, value[:40]), url=shown)
    return length


def _fetch(url, shown, out, options, cancel, progress):
    """Worker thread: stream the body into ``out`` within the size limits; record the outcome in ``progress``."""
    try:
        with out:
            opener = options["opener"]
            if opener is not None:
                response = opener(url, options["timeout"])
            else:
                response = open_url(url, timeout=options["timeout"], validate_certs=options["validate_certs"],
                                    http_agent="edgeai.fleet.model_deploy")
            with response:
                # open_url follows redirects, https to http included: the sha256 still pins the bytes, but a
                # signed URL's token and the artifact would then cross the network in clear.
                final = str(getattr(response, "geturl", lambda: url)() or url)
                if url.lower().startswith("https://") and not final.lower().startswith("https://"):
                    raise FleetError("%s redirected to %s, which is not https; refusing the downgrade, nothing was "
                                     "downloaded" % (shown, _redact.url(final)), url=shown)
                expected = progress["expected"] = _content_length(response.headers, shown)
                limit = options["max_bytes"]
                if expected is not None and expected > limit:
                    raise FleetError("%s is %d bytes, more than max_size_mib allows (%d bytes); nothing was "
                                     "downloaded" % (shown, expected, limit), url=shown, expected_bytes=expected)
                # read1 returns what one receive brings, so a slow drip cannot hold a read open for a whole chunk.
                read = getattr(response, "read1", None) or response.read
                while not cancel.is_set():
                    block = read(CHUNK)
                    if not block:
                        break
                    progress["received"] += len(block)
                    if expected is not None and progress["received"] > expected:
                        raise FleetError("The server of %s sent more than its Content-Length of %d bytes; nothing "
                                         "was changed" % (shown, expected), url=shown, expected_bytes=expected)
                    if progress["received"] > limit:
                        raise FleetError("%s is larger than max_size_mib allows (%d bytes); nothing was changed"
                                         % (shown, limit), url=shown)
                    progress["digest"].update(block)
                    out.write(block)
    except FleetError as exc:
        progress["error"] = exc
    except _TRANSFER_ERRORS as exc:
        message = _redact.text(str(exc).replace(url, shown))
        progress["error"] = FleetError("Download of %s failed after %d bytes (%s); nothing was changed"
                                       % (shown, progress["received"], message), url=shown,
                                       received=progress["received"])
    except Exception as exc:  # a bug, not a transfer fault: download() re-raises it with its traceback
        progress["error"] = exc


def download(url, sha256, dest_dir, timeout=60, validate_certs=True, opener=None, max_bytes=MAX_BYTES,
             deadline=DEADLINE):
    """Stream ``url`` into ``dest_dir/artifact.download`` and check size and sha256 before returning its path.

    ``timeout`` bounds each connect and receive, ``deadline`` the whole transfer and ``max_bytes`` its
    size. Messages and error details carry the URL without userinfo, query and fragment, which may hold
    credentials. Any failure raises FleetError and leaves no file behind.
    """
    shown = check_url(url)
    path = os.path.join(dest_dir, "artifact.download")
    progress = {"received": 0, "expected": None, "error": None, "digest": hashlib.sha256()}
    cancel = threading.Event()
    try:
        out = open(path, "wb")
    except OSError as exc:
        raise FleetError("Cannot create %s for the download: %s" % (path, exc), path=path)
    # The transfer runs in a worker so that the deadline holds even while a connect, a TLS handshake or
    # a header line is stuck; the worker owns ``out``, so it is never closed under a running write.
    worker = threading.Thread(target=_fetch, args=(url, shown, out, {
        "timeout": timeout, "validate_certs": validate_certs, "opener": opener, "max_bytes": max_bytes},
        cancel, progress), name="edgeai-download", daemon=True)
    worker.start()
    worker.join(deadline)
    if worker.is_alive():
        cancel.set()
        _unlink(path)
        raise FleetError("Download of %s did not finish within download_deadline=%d s (%d bytes received); nothing "
                         "was changed" % (shown, deadline, int(progress["received"])), url=shown,
                         received=progress["received"])
    received, expected, error = progress["received"], progress["expected"], progress["error"]
    if error is None and expected is not None and received != expected:
        error = FleetError("Download of %s was cut short: %s of %s bytes; nothing was changed, retry the task"
                           % (shown, received, expected), url=shown, received=received, expected_bytes=expected)
    if isinstance(error, BaseException):
        _unlink(path)
        raise error
    got = progress["digest"].hexdigest()
    if got != sha256.lower():
        _unlink(path)
        raise FleetError("sha256 mismatch for %s: expected %s, downloaded %d bytes with sha256 %s; nothing was changed "
                         "(check the sha256 parameter or the file on the server)" % (shown, sha256, received, got),
                         url=shown, expected=sha256, got=got)
    return path


def _unlink(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise FleetError("Cannot remove the partial download %s: %s" % (path, exc), path=path)


def extract_archive(archive, dest_dir, max_bytes=MAX_BYTES, max_members=MAX_MEMBERS):
    """Extract a tar archive of an artifact; return the directory that holds manifest.json.

    Only regular files and directories with relative paths are accepted: links, devices and paths
    escaping ``dest_dir`` are refused (``tarfile`` on Python < 3.12 has no safe filter of its own).
    A compressed archive can unpack to far more than was downloaded, so the unpacked size has the
    same cap as the download.
    """
    try:
        with tarfile.open(archive, "r:*") as tar:
            members = []
            for member in tar:
                members.append(member)
                if len(members) > max_members:
                    raise FleetError("%s holds more than %d entries; a model artifact has a handful of files"
                                     % (archive, max_members))
            if sum(m.size for m in members if m.isfile()) > max_bytes:
                raise FleetError("%s unpacks to more than max_size_mib allows (%d bytes); nothing was changed"
                                 % (archive, max_bytes))
            for member in members:
                norm = os.path.normpath(member.name)
                if os.path.isabs(member.name) or norm.startswith("..") or not (member.isfile() or member.isdir()):
                    raise FleetError("Refusing archive member %r: only relative regular files and directories are "
                                     "allowed in a model archive" % member.name, member=member.name)
            for member in members:
                member.mode = 0o755 if member.isdir() else 0o644
                member.uid = member.gid = 0
                tar.extract(member, dest_dir, set_attrs=False)
    except (tarfile.TarError, OSError, EOFError, ValueError, zlib.error) as exc:
        raise FleetError("Cannot extract %s: %s; the url must point at a tar archive (.tar, .tar.gz) of the "
                         "artifact directory" % (archive, exc))
    return find_artifact_root(dest_dir)


def find_artifact_root(path):
    """``path`` itself, or its single sub-directory, whichever holds manifest.json."""
    if os.path.isfile(os.path.join(path, "manifest.json")):
        return path
    subdirs = [d for d in os.listdir(path) if os.path.isdir(os.path.join(path, d))]
    if len(subdirs) == 1 and os.path.isfile(os.path.join(path, subdirs[0], "manifest.json")):
        return os.path.join(path, subdirs[0])
    raise FleetError("No manifest.json at the top of the artifact (looked in %s and its single sub-directory)" % path)


class ImageSource:
    """A model packaged as an OCI image (``FROM scratch`` + ``COPY model/ /models/<name>/``), read with podman."""

    def __init__(self, runner, image, path, pull="missing"):
        self.runner = runner
        self.image = image
        self.path = path.rstrip("/") or "/"
        self.pull = pull

    def pinned_digest(self):
        """The digest in an ``...@sha256:...`` reference, known without asking podman."""
        return self.image.rsplit("@", 1)[1] if "@sha256:" in self.image else None

    def local_digest(self):
        """The digest of the local copy, or None when podman has no such image."""
        rc, out, err = self.runner.run(["image", "exists", self.image], check=False)
        if rc == 1:
            return None
        if rc != 0:
            raise FleetError("podman image exists %s failed (rc=%d): %s" % (self.image, rc, err.strip()),
                             rc=rc, stderr=err)
        info = self.runner.run_json(["image", "inspect", self.image], what="podman image inspect")
        if not info:
            return None
        if not isinstance(info, list) or not isinstance(info[0], dict):
            raise FleetError("podman image inspect %s did not print a list of objects; cannot read the image's "
                             "digest" % self.image, image=self.image)
        digest = info[0].get("Digest") or info[0].get("Id")
        if digest is not None and not isinstance(digest, str):
            raise FleetError("podman image inspect %s: Digest is %r, not a string" % (self.image, digest),
                             image=self.image)
        return digest

    def ensure(self):
        """Pull according to the pull policy and return the local image's digest."""
        digest = None if self.pull == "always" else self.local_digest()
        if digest is None:
            if self.pull == "never":
                raise FleetError("Image %s is not in local storage and image_pull=never; pull it first (or pre-pull "
                                 "it as a bootc logically bound image)" % self.image, image=self.image)
            self.runner.run(["pull", "--quiet", self.image], what="podman pull %s" % self.image)
            digest = self.local_digest()
        return digest

    def extract(self, dest_dir):
        """Copy ``path`` out of the image through a created (never started) container; return the artifact root."""
        _rc, out, _err = self.runner.run(["create", "--network", "none", self.image, "/edgeai-model-extract"],
                                         what="podman create %s" % self.image)
        lines = out.strip().splitlines()
        if not lines:
            raise FleetError("podman create %s printed no container id" % self.image, image=self.image)
        container = lines[-1].strip()
        try:
            self.runner.run(["cp", "%s:%s/." % (container, self.path), dest_dir],
                            what="podman cp %s from %s" % (self.path, self.image))
        finally:
            self.runner.run(["rm", "--force", container], check=False)
        return find_artifact_root(dest_dir)
