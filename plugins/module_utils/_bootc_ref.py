# -*- coding: utf-8 -*-
# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Private to the edgeai.fleet collection: may change without notice.

"""Validate bootc image references before anything runs, so a typo fails with a fix, not a pull error."""

from __future__ import annotations

import re

from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError

TRANSPORTS = ("registry", "oci", "oci-archive", "containers-storage", "dir")
DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}$")
# The distribution reference grammar, simplified: lowercase path components, optional tag, optional digest.
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_DOMAIN_RE = re.compile(r"^(?:localhost|[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+|\[[0-9a-fA-F:]+\]|[A-Za-z0-9-]+:\d+)(?::\d+)?$")
_PATH_RE = re.compile(r"^%s(?:/%s)*$" % (_COMPONENT, _COMPONENT))
_TAG_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_FORM = "[registry[:port]/]repository[:tag][@sha256:<64 hex digits>], repository in lowercase"


def split_reference(image):
    """``quay.io/a/b:1@sha256:..`` -> ``(domain or None, path, tag or None, digest or None)``; no validation."""
    rest, digest = (image.split("@", 1) + [None])[:2]
    domain = None
    first, sep, remainder = rest.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost" or first.startswith("[")):
        domain, rest = first, remainder
    path, tag = rest, None
    if ":" in rest.rsplit("/", 1)[-1]:
        path, tag = rest.rsplit(":", 1)
    return domain, path, tag, digest


def registry_host(image):
    """The registry a reference pulls from (the key of its auth.json entry); Docker Hub without a domain."""
    domain = split_reference(image)[0]
    return domain or "docker.io"


def validate_image(image, transport):
    """Return the canonical reference for ``transport`` or raise a FleetError naming the field and the fix."""
    if transport not in TRANSPORTS:
        raise FleetError("transport=%r is not supported; use one of %s" % (transport, ", ".join(TRANSPORTS)))
    image = (image or "").strip()
    if not image:
        raise FleetError("image is required with state=switched: the reference the host should track, e.g. "
                         "quay.io/example/edge-os:1.2 or quay.io/example/edge-os@sha256:<digest>")
    if any(c.isspace() for c in image):
        raise FleetError("image=%r contains whitespace; give one image reference" % image)
    if transport == "registry":
        return _validate_registry(image)
    if transport in ("oci", "oci-archive", "dir"):
        if not image.startswith("/"):
            raise FleetError("image=%r must be an absolute path for transport=%s (e.g. /var/mnt/usb/edge-os.oci%s)"
                             % (image, transport, "" if transport == "dir" else "[:tag]"))
    return image


def _validate_registry(image):
    if image.startswith("docker://"):
        image = image[len("docker://"):]  # bootc canonicalises docker:// to the registry transport
    elif re.match(r"^(oci|oci-archive|containers-storage|dir|registry|ostree-[a-z-]+):", image):
        raise FleetError("image=%r carries a transport prefix; put the transport in the transport option and "
                         "give the bare reference in image" % image)
    domain, path, tag, digest = split_reference(image)
    problems = []
    if domain is not None and not _DOMAIN_RE.match(domain):
        problems.append("registry %r is not a host name" % domain)
    if not _PATH_RE.match(path or ""):
        problems.append("repository %r must be lowercase letters, digits and . _ - separators" % path)
    if tag is not None and not _TAG_RE.match(tag):
        problems.append("tag %r is not a valid tag" % tag)
    if digest is not None and not DIGEST_RE.match(digest):
        problems.append("digest %r is not sha256:<64 lowercase hex digits>" % digest)
    if problems:
        raise FleetError("image=%r is not a valid registry reference: %s. Expected %s"
                         % (image, "; ".join(problems), _FORM))
    return image
