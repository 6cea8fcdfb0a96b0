# -*- coding: utf-8 -*-
# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Private to the edgeai.fleet collection: may change without notice.

"""Whether a running container engine has the NVIDIA runtime, asked of the engine itself.

The files can be right while the daemon still runs on the old config: a run killed after the write but before
the restart, a drop-in directory the daemon does not read, an import that never happened. Only the engine's
own view (its merged or running config) says what containers will get.
"""

from __future__ import annotations

import json
import re

# argv after the engine's CLI, and the CLI; each prints machine-readable state (TOML or JSON), never prose.
QUERIES = {
    "containerd": ("containerd", ["config", "dump"]),
    "crio": ("crio", ["status", "config"]),
    "docker": ("docker", ["info", "--format", "{{json .Runtimes}}"]),
    "podman": ("podman", ["info", "--format", "json"]),
}

# containerd 1.x dumps "basic" strings, 2.x 'literal' ones: plugins.'io.containerd.cri.v1.runtime'.
_CONTAINERD_TABLE = r'(?m)^\s*\[plugins\.(["\'])io\.containerd\.(grpc\.v1\.cri|cri\.v1\.runtime)\1\.containerd\.runtimes\.%s\]'


def containerd_active(dump, name, path):
    """The merged config (``containerd config dump``) has runtimes.<name> and its BinaryName is ``path``."""
    match = re.search(_CONTAINERD_TABLE % re.escape(name), dump)
    if not match:
        return False, "containerd's merged config has no runtimes.%s table: containerd does not read the drop-in " \
                      "(check the imports line of its config.toml) or was not restarted" % name
    # The runtime's keys, its .options table included, run until a header of another table.
    rest = dump[match.end():]
    other = re.search(r"(?m)^\s*\[(?!%s[.\]])" % re.escape(match.group(0).strip()[1:-1]), rest)
    table = rest[:other.start()] if other else rest
    if not re.search(r'(?m)^\s*BinaryName = (["\'])%s\1' % re.escape(path), table):
        return False, "containerd's runtimes.%s has no BinaryName = \"%s\"" % (name, path)
    return True, "containerd serves runtime %s (%s)" % (name, path)


def docker_active(runtimes_json, name, path):
    """``docker info --format '{{json .Runtimes}}'`` lists ``name`` with ``path``."""
    try:
        runtimes = json.loads(runtimes_json or "null")
    except ValueError:
        return False, "docker info printed no JSON runtime list: %s" % (runtimes_json or "")[:200]
    if not isinstance(runtimes, dict) or name not in runtimes:
        listed = sorted(runtimes) if isinstance(runtimes, dict) else []
        return False, "dockerd runs with the runtimes %s, not %s: it has not been restarted since daemon.json " \
                      "changed" % (listed, name)
    actual = (runtimes[name] or {}).get("path")
    if actual != path:
        return False, "dockerd's runtime %s runs %s, not %s" % (name, actual, path)
    return True, "dockerd serves runtime %s (%s)" % (name, path)


def crio_active(config, name, path):
    """``crio status config`` (the running daemon's TOML) has [crio.runtime.runtimes.<name>]."""
    if not re.search(r"(?m)^\s*\[crio\.runtime\.runtimes\.%s\]" % re.escape(name), config):
        return False, "CRI-O's running config has no [crio.runtime.runtimes.%s]: it does not read the drop-in " \
                      "or was not restarted" % name
    return True, "CRI-O serves runtime %s (%s)" % (name, path)


def podman_active(info_json, name, path):
    """Podman has no daemon: its config is read per command, so it is active when ``podman info`` parses it."""
    try:
        info = json.loads(info_json or "null")
    except ValueError:
        info = None
    if not isinstance(info, dict) or "host" not in info:
        return False, "podman info failed to read its configuration: %s" % (info_json or "")[:200]
    return True, "podman reads its configuration"


CHECKS = {"containerd": containerd_active, "crio": crio_active, "docker": docker_active, "podman": podman_active}


def running_state(engine, name, path, find_binary, run, config_path=None):
    """Ask the engine; return ``{"active": True/False/None, "detail": str}``.

    ``config_path``: containerd's main config; without it `config dump` reads the compiled-in
    /etc/containerd/config.toml, not the file the module edited.

    ``find_binary(cli)`` returns the CLI's path or None; ``run(argv)`` returns ``(rc, stdout, stderr)``.
    ``active`` is None when the engine's CLI is not installed (nothing to ask), False when the engine is not
    running or runs without the runtime.
    """
    cli, args = QUERIES[engine]
    binary = find_binary(cli)
    if not binary:
        return {"active": None, "detail": "%s is not installed, so the running %s cannot be asked" % (cli, engine)}
    if engine == "containerd" and config_path:
        args = ["--config", config_path] + args
    rc, out, err = run([binary] + args)
    if rc != 0:
        # Never stdout: `containerd config dump` prints the registry credentials of the merged config.
        why = (err or "").strip()[:300] or "no error message"
        return {"active": False, "detail": "%s failed (rc=%d): %s" % (" ".join([cli] + args), rc, why)}
    active, detail = CHECKS[engine](out, name, path)
    return {"active": active, "detail": detail}
