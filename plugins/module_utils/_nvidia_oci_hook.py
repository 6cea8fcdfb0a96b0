# -*- coding: utf-8 -*-
# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Private to the edgeai.fleet collection: may change without notice.

"""The OCI hook of ``nvidia-ctk runtime configure --config-mode=oci-hook`` (pkg/config/ocihook/oci-hook.go).

CRI-O and podman run the hooks of their hooks directories for every container, so the NVIDIA runtime hook
needs no runtime entry at all; containerd and Docker read no hooks directory.
"""

from __future__ import annotations

import json
import os

from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError

DEFAULT_HOOK_PATH = "/etc/containers/oci/hooks.d/oci-nvidia-hook.json"
DEFAULT_RUNTIME_HOOK = "/usr/bin/nvidia-container-runtime-hook"
# generateOciHook's PATH: these, plus the hook's own directory when it is not one of them.
SEARCH_PATH = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]
ENGINES = ("crio", "podman")


def hook(runtime_hook_path):
    """The hook document, key for key and in the order nvidia-ctk writes it."""
    directory = os.path.dirname(runtime_hook_path)
    path = SEARCH_PATH + ([] if directory in SEARCH_PATH else [directory])
    return {
        "version": "1.0.0",
        "hook": {"path": runtime_hook_path, "args": [os.path.basename(runtime_hook_path), "prestart"],
                 "env": ["PATH=" + ":".join(path)]},
        "when": {"always": True, "commands": [".*"]},
        "stages": ["prestart"],
    }


def render(runtime_hook_path):
    """As Go's json.Encoder with a two-space indent writes it: a trailing newline, no escaping of '/'."""
    return json.dumps(hook(runtime_hook_path), indent=2) + "\n"


def paths(params):
    """``(hook file, runtime hook binary)`` from the module's parameters, checked."""
    if params["runtime"] not in ENGINES:
        raise FleetError("config_mode=oci-hook needs an engine that reads OCI hooks directories (crio, podman); "
                         "%s reads none, so the hook would never run" % params["runtime"], field="config_mode")
    hook_path = params.get("oci_hook_path") or DEFAULT_HOOK_PATH
    binary = params.get("runtime_hook_path") or DEFAULT_RUNTIME_HOOK
    for field, value in (("oci_hook_path", hook_path), ("runtime_hook_path", binary)):
        if not os.path.isabs(value):
            raise FleetError("%s must be an absolute path, got %r" % (field, value), field=field)
    if not hook_path.endswith(".json"):
        raise FleetError("oci_hook_path %r must end in .json: CRI-O and podman read only *.json hooks" % hook_path,
                         field="oci_hook_path")
    return hook_path, binary
