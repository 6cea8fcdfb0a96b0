# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Image reference validation and registry detection (pure functions)."""

from __future__ import annotations

import pytest

from ansible_collections.edgeai.fleet.plugins.module_utils._bootc_ref import registry_host, split_reference, validate_image
from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize("image, transport, canonical", [
    ("quay.io/centos-bootc/centos-bootc:stream9", "registry", "quay.io/centos-bootc/centos-bootc:stream9"),
    ("docker://quay.io/x/y:1", "registry", "quay.io/x/y:1"),
    ("localhost:5000/edge/os@" + DIGEST, "registry", "localhost:5000/edge/os@" + DIGEST),
    ("registry.local/edge/os:1.2@" + DIGEST, "registry", "registry.local/edge/os:1.2@" + DIGEST),
    ("fedora", "registry", "fedora"),
    ("/var/mnt/usb/edge-os.oci:1.2", "oci", "/var/mnt/usb/edge-os.oci:1.2"),
    ("/var/mnt/usb/edge-os.tar", "oci-archive", "/var/mnt/usb/edge-os.tar"),
    ("localhost/edge-os:latest", "containers-storage", "localhost/edge-os:latest"),
    ("/srv/edge-os", "dir", "/srv/edge-os"),
])
def test_valid(image, transport, canonical):
    assert validate_image(image, transport) == canonical


@pytest.mark.parametrize("image, transport, fragment", [
    ("", "registry", "image is required"),
    ("quay.io/X/Y:1", "registry", "lowercase"),
    ("quay.io/x/y:bad tag", "registry", "whitespace"),
    ("quay.io/x/y:-bad", "registry", "tag"),
    ("quay.io/x/y@sha256:12", "registry", "digest"),
    ("containers-storage:localhost/x", "registry", "transport prefix"),
    ("usb/edge-os.oci", "oci", "absolute path"),
    ("quay.io/x/y:1", "docker-archive", "not supported"),
])
def test_invalid(image, transport, fragment):
    with pytest.raises(FleetError, match=fragment):
        validate_image(image, transport)


@pytest.mark.parametrize("image, host", [("quay.io/x/y:1", "quay.io"), ("localhost/x", "localhost"),
                                         ("registry:5000/x", "registry:5000"), ("library/fedora", "docker.io"),
                                         ("fedora:40", "docker.io")])
def test_registry_host(image, host):
    assert registry_host(image) == host


def test_split_reference():
    assert split_reference("r.io:5000/a/b:1@" + DIGEST) == ("r.io:5000", "a/b", "1", DIGEST)
    assert split_reference("a/b") == (None, "a/b", None, None)
