# -*- coding: utf-8 -*-
# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Private to the edgeai.fleet collection: may change without notice.

"""Compile toolchain versions from the installed distributions' metadata, without importing any runtime.

A converged run only asks whether the artifact is up to date; importing OpenVINO to learn its version costs
about 0.75 CPU-s (ONNX Runtime less, but still hundreds of ms) on every run and every hardware class. The
backends report these same versions, so the fast path and a compile agree on the manifest's ``toolchain``.
"""

from __future__ import annotations

try:
    from importlib.metadata import PackageNotFoundError, version as _dist_version
except ImportError:  # Python < 3.8: no metadata, so every decision takes the backend's path
    _dist_version = None

# Runtimes ship under several distribution names (onnxruntime-gpu installs the onnxruntime package).
DISTRIBUTIONS = {
    "onnxruntime": ("onnxruntime", "onnxruntime-gpu", "onnxruntime-openvino", "onnxruntime-directml"),
}
# Targets whose versions metadata answers; tensorrt's comes from trtexec, so it has no fast path.
TOOLCHAINS = {
    "openvino": ("openvino", "nncf", "numpy"),
    "onnxruntime": ("onnxruntime", "onnx", "numpy"),
}


def dist_version(package):
    """The installed version of ``package`` (an import name), or None when no distribution provides it."""
    if _dist_version is None:
        return None
    for dist in DISTRIBUTIONS.get(package, (package,)):
        try:
            return _dist_version(dist)
        except PackageNotFoundError:
            continue
    return None


def versions(target):
    """``{package: version or None}`` of ``target``'s toolchain, or None when metadata cannot tell."""
    packages = TOOLCHAINS.get(target)
    if packages is None or _dist_version is None:
        return None
    return dict((package, dist_version(package)) for package in packages)
