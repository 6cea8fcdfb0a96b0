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
import urllib.error

from ansible.module_utils.urls import open_url

from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError

CHUNK = 1 << 20


def download(url, sha256, dest_dir, timeout=60, validate_certs=True, opener=None):
    """Stream ``url`` into ``dest_dir/artifact.download`` and check size and sha256 before returning its path.

    An interrupted or short transfer and a digest mismatch raise FleetError and delete the partial file.
    """
    if not url.startswith(("https://", "http://")):
        raise FleetError("url %r must start with http:// or https://" % url)
    path = os.path.join(dest_dir, "artifact.download")
    digest = hashlib.sha256()
    received = 0
    try:
        if opener is not None:
            response = opener(url, timeout)
        else:
            response = open_url(url, timeout=timeout, validate_certs=validate_certs,
                                http_agent="edgeai.fleet.model_deploy")
        with response, open(path, "wb") as out:
            expected_len = response.headers.get("Content-Length")
            for block in iter(lambda: response.read(CHUNK), b""):
                digest.update(block)
                out.write(block)
                received += len(block)
        if expected_len is not None and int(expected_len) != received:
            raise FleetError("Download of %s was cut short: %d of %s bytes; nothing was changed, retry the task"
                             % (url, received, expected_len), url=url, received=received, expected_bytes=int(expected_len))
    except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException) as exc:
        _unlink(path)
        raise FleetError("Download of %s failed after %d bytes (%s); nothing was changed" % (url, received, exc),
                         url=url, received=received)
    except FleetError:
        _unlink(path)
        raise
    got = digest.hexdigest()
    if got != sha256.lower():
        _unlink(path)
        raise FleetError("sha256 mismatch for %s: expected %s, downloaded %d bytes with sha256 %s; nothing was changed "
                         "(check the sha256 parameter or the file on the server)" % (url, sha256, received, got),
                         url=url, expected=sha256, got=got)
    return path


def _unlink(path):
    if os.path.exists(path):
        os.unlink(path)


def extract_archive(archive, dest_dir):
    """Extract a tar archive of an artifact; return the directory that holds manifest.json.

    Only regular files and directories with relative paths are accepted: links, devices and paths
    escaping ``dest_dir`` are refused (``tarfile`` on Python < 3.12 has no safe filter of its own).
    """
    try:
        with tarfile.open(archive, "r:*") as tar:
            members = tar.getmembers()
            for member in members:
                norm = os.path.normpath(member.name)
                if os.path.isabs(member.name) or norm.startswith("..") or not (member.isfile() or member.isdir()):
                    raise FleetError("Refusing archive member %r: only relative regular files and directories are "
                                     "allowed in a model archive" % member.name, member=member.name)
            for member in members:
                member.mode = 0o755 if member.isdir() else 0o644
                member.uid = member.gid = 0
                tar.extract(member, dest_dir, set_attrs=False)
    except (tarfile.TarError, OSError) as exc:
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
        return info[0].get("Digest") or info[0].get("Id")

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
        container = out.strip().splitlines()[-1]
        try:
            self.runner.run(["cp", "%s:%s/." % (container, self.path), dest_dir],
                            what="podman cp %s from %s" % (self.path, self.image))
        finally:
            self.runner.run(["rm", "--force", container], check=False)
        return find_artifact_root(dest_dir)
