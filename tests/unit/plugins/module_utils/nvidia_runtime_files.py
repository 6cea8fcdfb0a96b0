# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Parameters and file helpers shared by the nvidia_runtime core tests: every file they touch lives under tmp_path."""

from __future__ import annotations

import os

MAIN_CONFIG = {"containerd": "config.toml", "crio": "crio.conf", "docker": "daemon.json", "podman": "containers.conf"}


def params(tmp_path, runtime="containerd", **kw):
    """The module's parameters with its defaults, the engine's main config and drop-in directory under tmp_path."""
    p = dict(runtime=runtime, state="present", set_as_default=False, runtime_name="nvidia",
             runtime_path="/usr/bin/nvidia-container-runtime", cdi_enabled=False, config_version="auto",
             podman_named_runtime=False, backup=True, config_path=str(tmp_path / MAIN_CONFIG[runtime]),
             drop_in_dir=None if runtime == "docker" else str(tmp_path / "conf.d"))
    p.update(kw)
    return p


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)


def read(path):
    """The file's text, or None when it does not exist."""
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def snapshot(tmp_path):
    """Every file under tmp_path with its bytes: equal snapshots mean nothing was written."""
    return {str(p): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
