# -*- coding: utf-8 -*-
# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Private to the edgeai.fleet collection: may change without notice.

"""The NVIDIA CDI spec: generate with ``nvidia-ctk cdi generate`` into a private temp dir, compare
with the spec on disk, replace it atomically, list its device names from the JSON form, and on
hosts with the toolkit's ``nvidia-cdi-refresh`` units keep those enabled so every boot refreshes it.
"""

from __future__ import annotations

import os
import shutil
import tempfile

from ansible_collections.edgeai.fleet.plugins.module_utils._diff import file_diff, state_diff
from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError
from ansible_collections.edgeai.fleet.plugins.module_utils._files import atomic_write, read_text, restore
from ansible_collections.edgeai.fleet.plugins.module_utils._runner import parse_json

UNIT_DIRS = ("/etc/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system")
REFRESH_UNITS = ("nvidia-cdi-refresh.path", "nvidia-cdi-refresh.service")
# Copies under /etc/cdi shadow nothing but duplicate every device of the live spec; the CDI cache
# then drops the devices both claim (NVIDIA/NemoClaw PR #4733).
STALE_SPECS = ("/etc/cdi/nvidia.yaml", "/etc/cdi/nvidia.json")


def generate_args(params, output, fmt):
    """argv (after the executable) of one ``nvidia-ctk cdi generate``."""
    args = ["cdi", "generate", "--output", output, "--format", fmt, "--mode", params["mode"]]
    for strategy in params["device_name_strategy"]:
        args += ["--device-name-strategy", strategy]
    return args


def device_names(spec, argv=None):
    """Fully-qualified device names (``nvidia.com/gpu=0``), as ``nvidia-ctk cdi list`` prints them."""
    if not isinstance(spec, dict) or not isinstance(spec.get("kind"), str) or not isinstance(spec.get("devices"), list):
        raise FleetError("%s wrote a CDI spec without 'kind' and a 'devices' list; is nvidia-ctk a CDI-capable "
                         "release (>= 1.12)?" % " ".join(argv or ["nvidia-ctk cdi generate"]), spec=spec)
    names = []
    for device in spec["devices"]:
        if not isinstance(device, dict) or not device.get("name"):
            raise FleetError("The generated CDI spec has a device without a name: %r" % (device,), spec=spec)
        names.append("%s=%s" % (spec["kind"], device["name"]))
    return names


def spec_format(path):
    return "json" if path.endswith(".json") else "yaml"


class CdiSpec:
    """One run of the module: plan, then apply (unless check mode) with undo on failure."""

    def __init__(self, params, ctk=None, systemctl=None, tmpdir=None, atomic_move=None,
                 unit_dirs=None, stale_specs=None):
        self.params = params
        self.ctk = ctk
        self.systemctl = systemctl
        self.tmpdir = tmpdir
        self.atomic_move = atomic_move
        self.unit_dirs = unit_dirs if unit_dirs is not None else UNIT_DIRS
        self.stale_specs = stale_specs if stale_specs is not None else STALE_SPECS

    def units_present(self):
        return any(os.path.isfile(os.path.join(d, REFRESH_UNITS[1])) for d in self.unit_dirs)

    def _need(self, runner, what, fix):
        if runner is None:
            raise FleetError("%s is needed but was not found; %s" % (what, fix))
        return runner

    def generate(self):
        """Return ``(spec document, text for the output file)`` without touching the output."""
        ctk = self._need(self.ctk, "nvidia-ctk", "install nvidia-container-toolkit or set nvidia_ctk_path")
        output = self.params["output"]
        workdir = tempfile.mkdtemp(prefix="edgeai-cdi-", dir=self.tmpdir)
        try:
            json_path = os.path.join(workdir, "nvidia.json")
            argv = ctk.argv(generate_args(self.params, json_path, "json"))
            ctk.run(generate_args(self.params, json_path, "json"), what="nvidia-ctk cdi generate")
            text = read_text(json_path)
            if text is None:
                raise FleetError("%s exited 0 but wrote no spec to %s" % (" ".join(argv), json_path), cmd=argv)
            spec = parse_json(text, argv)
            if spec_format(output) == "yaml":
                # A second run for the YAML form keeps the file byte-identical to what
                # nvidia-cdi-refresh.service writes to the same path.
                yaml_path = os.path.join(workdir, "nvidia.yaml")
                ctk.run(generate_args(self.params, yaml_path, "yaml"), what="nvidia-ctk cdi generate")
                text = read_text(yaml_path)
                if text is None:
                    raise FleetError("nvidia-ctk cdi generate exited 0 but wrote no spec to %s" % yaml_path)
            return spec, text
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    def unit_states(self):
        systemctl = self._need(self.systemctl, "systemctl", "the nvidia-cdi-refresh units need systemd")
        # is-enabled exits 0 for enabled, static, alias and indirect units; the exit code is the contract.
        return {unit: systemctl.run(["is-enabled", unit], check=False)[0] == 0 for unit in REFRESH_UNITS}

    def run(self, check_mode=False):
        params = self.params
        present = self.units_present()
        if params["refresh_units"] == "enable" and not present:
            raise FleetError("refresh_units=enable but nvidia-cdi-refresh.service is not installed in %s; it comes with "
                             "nvidia-container-toolkit >= 1.18: upgrade the toolkit or use refresh_units=auto"
                             % ", ".join(self.unit_dirs))
        use_units = present and params["refresh_units"] != "ignore"
        if params["image_mode"] and not use_units:
            why = ("refresh_units=ignore forbids using the installed units" if present
                   else "they are not installed (nvidia-container-toolkit >= 1.18 ships them; install it in the image)")
            raise FleetError("image_mode=true relies on the nvidia-cdi-refresh units to write the spec at every boot, but %s; "
                             "a spec generated at image build time would not match the booted host's GPUs" % why)
        result = {"changed": False, "devices": [], "kind": None, "spec_path": None, "files": [], "diff": [],
                  "refresh_units": {"present": present, "enabled": []}}

        spec_plan = None
        if not params["image_mode"]:
            spec, text = self.generate()
            result["devices"] = device_names(spec)
            result["kind"] = spec["kind"]
            result["spec_path"] = params["output"]
            before = read_text(params["output"])
            if before != text:
                spec_plan = (before, text)
                result["diff"].append(file_diff(params["output"], before, text))

        to_enable = []
        if use_units:
            states = self.unit_states()
            to_enable = [unit for unit in REFRESH_UNITS if not states[unit]]
            if to_enable:
                result["diff"].append(state_diff({u: "disabled" for u in to_enable}, {u: "enabled" for u in to_enable},
                                                 header="systemd units"))
            result["refresh_units"]["enabled"] = list(REFRESH_UNITS)

        stale = []
        if params["remove_stale"]:
            for path in self.stale_specs:
                if os.path.abspath(path) != os.path.abspath(params["output"]) and os.path.lexists(path):
                    stale.append((path, read_text(path)))
                    result["diff"].append(file_diff(path, stale[-1][1], None))

        result["files"] = ([params["output"]] if spec_plan else []) + [path for path, _content in stale]
        result["changed"] = bool(spec_plan or to_enable or stale)
        if check_mode or not result["changed"]:
            return result
        self._apply(result, spec_plan, to_enable, stale)
        return result

    def _apply(self, result, spec_plan, to_enable, stale):
        undo = []
        try:
            if spec_plan:
                output = self.params["output"]
                saved = atomic_write(output, spec_plan[1], mode=0o644, backup=self.params["backup"], atomic_move=self.atomic_move)
                if saved:
                    result["backup_file"] = saved
                undo.append(lambda: _put_back(output, spec_plan[0]))
            if to_enable:
                self.systemctl.run(["enable"] + to_enable, what="systemctl enable " + " ".join(to_enable))
                undo.append(lambda: self.systemctl.run(["disable"] + to_enable, check=False))
            for path, content in stale:
                os.unlink(path)
                undo.append(lambda p=path, c=content: _put_back(p, c))
        except (FleetError, OSError) as exc:
            for step in reversed(undo):
                step()
            if isinstance(exc, FleetError):
                raise
            raise FleetError("Cannot remove the stale CDI spec: %s; every change of this run was undone" % exc)


def _put_back(path, content):
    """Restore a file to ``content`` (None: the file did not exist)."""
    if content is None:
        restore(path, None)
    else:
        atomic_write(path, content, backup=False)
