#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: nvidia_runtime
short_description: Register the NVIDIA container runtime with containerd, CRI-O, Docker or Podman
version_added: 0.1.0
description:
  - A native, standard-library equivalent of C(nvidia-ctk runtime configure) with check mode, a diff of every
    file and a backup of every file it changes. It restarts nothing; the result's C(restart_required) says whether the
    runtime's daemon must be restarted to see the change.
  - B(containerd) (config version 2 for containerd 1.x, 3 or 4 for containerd 2.x) gets a drop-in holding a copy of
    the main config's CRI section plus the C(nvidia) runtime, whose options are copied from C(runc) (so
    C(SystemdCgroup) is kept); the main config only gains the drop-in directory in C(imports).
  - B(CRI-O) gets a drop-in with C([crio.runtime.runtimes.nvidia]). B(Docker)'s C(daemon.json) is merged, keeping every
    other key and the key order. B(Podman) needs no runtime for CDI; its drop-in sets C(cdi_spec_dirs) and optionally a
    named runtime.
  - A corrupt existing config, or one with a table of the wrong type (C(plugins = 5), C(version = [2])), is refused
    with the file and key named, and nothing is changed. If one write fails, every file already written is put back
    and no backup is left behind.
  - A drop-in is never more readable than the files it copies from (a 0600 C(config.toml) gives a 0600 drop-in), and
    is 0600 whenever it carries registry credentials; a drop-in left wider by an older release is narrowed.
    Credentials (C(auth), C(password), C(identitytoken), C(username), C(Authorization) headers, tokens) are shown as
    C(<redacted>) in the diff.
  - A symlinked config is written through to the file it points at, atomically in that file's directory; the link
    stays a link.
  - See C(docs/nvidia-runtime.md) for the differences from C(nvidia-ctk).
author: edgeai.fleet contributors (@edgeai-fleet)
extends_documentation_fragment: [edgeai.fleet.attributes]
attributes:
  check_mode: {support: full}
  diff_mode: {support: full}
  idempotent: {support: full}
  platform: {platforms: posix}
options:
  runtime:
    description: The container engine to configure.
    type: str
    required: true
    choices: [containerd, crio, docker, podman]
  state:
    description: V(present) registers the runtime; V(absent) removes exactly what this module adds.
    type: str
    choices: [present, absent]
    default: present
  set_as_default:
    description:
      - Make the NVIDIA runtime the engine's default runtime. With V(false) a default that names O(runtime_name) is
        removed (as C(nvidia-ctk) does for containerd).
    type: bool
    default: false
  runtime_name:
    description: Name of the runtime (the Kubernetes RuntimeClass handler, C(docker --runtime) name).
    type: str
    default: nvidia
  runtime_path:
    description: Absolute path of the NVIDIA container runtime binary.
    type: path
    default: /usr/bin/nvidia-container-runtime
  cdi_enabled:
    description:
      - Enable CDI device injection in the engine (containerd C(enable_cdi), Docker C(features.cdi)). CRI-O always
        resolves CDI devices, so the option only warns there. V(false) leaves the engine's own setting alone.
    type: bool
    default: false
  config_path:
    description:
      - The engine's main config. Defaults to C(/etc/containerd/config.toml), C(/etc/crio/crio.conf),
        C(/etc/docker/daemon.json) or C(/etc/containers/containers.conf).
    type: path
  drop_in_dir:
    description:
      - Directory of the engine's drop-ins, where C(99-nvidia.toml) (C(99-nvidia.conf) for podman) is written.
        Defaults to C(/etc/containerd/conf.d), C(/etc/crio/crio.conf.d) or C(/etc/containers/containers.conf.d).
        Not used by Docker.
    type: path
  config_version:
    description:
      - containerd config version. V(auto) takes the main config's C(version), else asks C(containerd --version)
        (1.x gives 2, 2.x gives 3), else uses 2. An explicit value must match an existing main config's version.
    type: str
    choices: [auto, '2', '3']
    default: auto
  podman_named_runtime:
    description: For podman, also add C([engine.runtimes]) O(runtime_name) (implied by O(set_as_default)).
    type: bool
    default: false
  backup:
    description: Keep a timestamped copy of every file before it is changed or removed.
    type: bool
    default: true
  drop_in:
    description:
      - V(false) writes the runtime into O(config_path) itself (C(nvidia-ctk --drop-in-config="")), for engines or
        distributions that read no drop-in directory. The main config is then re-serialised, so its comments are
        lost (as with C(nvidia-ctk)); it is rewritten only when its content changes. Not for podman.
      - V(state=absent) then removes the runtime (and a default naming it) from O(config_path).
    type: bool
    default: true
  drop_in_file:
    description:
      - File name of the drop-in in O(drop_in_dir) (C(nvidia-ctk --drop-in-config)). Defaults to C(99-nvidia.toml)
        (C(99-nvidia.conf) for podman). containerd reads only C(*.toml) there, podman only C(*.conf).
    type: str
  config_source:
    description:
      - Where the options of the runtime to copy come from. V(file) reads the config files. V(command) asks the
        engine for its effective config, as C(nvidia-ctk --config-source=command) does
        (C(containerd --config <config_path> config dump), which merges imports and defaults, or C(crio status config),
        which needs a running CRI-O). With V(command) the containerd drop-in has the version that C(config dump) prints.
      - Docker and podman have no such command; V(command) warns and reads the file there (as C(nvidia-ctk)).
    type: str
    choices: [file, command]
    default: file
  config_mode:
    description:
      - V(config-file) registers a runtime in the engine's config. V(oci-hook) writes the NVIDIA runtime hook as an
        OCI hook file instead (C(nvidia-ctk --config-mode=oci-hook), deprecated upstream in favour of CDI); only CRI-O
        and podman read OCI hooks directories.
    type: str
    choices: [config-file, oci-hook]
    default: config-file
  oci_hook_path:
    description:
      - The hook file written with O(config_mode=oci-hook). podman reads C(/etc/containers/oci/hooks.d); CRI-O reads
        the directories of its C(hooks_dir) setting.
    type: path
    default: /etc/containers/oci/hooks.d/oci-nvidia-hook.json
  runtime_hook_path:
    description: Absolute path of C(nvidia-container-runtime-hook), which the OCI hook runs.
    type: path
    default: /usr/bin/nvidia-container-runtime-hook
  check_running:
    description:
      - Also ask the running engine whether it serves the runtime (C(containerd config dump),
        C(docker info --format '{{json .Runtimes}}'), C(crio status config), C(podman info --format json)), and
        report it as RV(running).
      - A daemon that does not serve it sets RV(restart_required) even when no file changes now, so a run
        killed between the write and the restart is repaired by the next one. Read-only, also in check mode.
      - Leave it V(false) where the daemon is not running on purpose (an image build).
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Register the NVIDIA runtime with containerd as a RuntimeClass handler
  edgeai.fleet.nvidia_runtime:
    runtime: containerd
  register: nvidia_containerd

- name: Make it Docker's default runtime with CDI
  edgeai.fleet.nvidia_runtime:
    runtime: docker
    set_as_default: true
    cdi_enabled: true

- name: Copy the runtime options from what containerd really runs with (imports and defaults merged)
  edgeai.fleet.nvidia_runtime:
    runtime: containerd
    config_source: command

- name: Register it in crio.conf itself, for a CRI-O that reads no crio.conf.d
  edgeai.fleet.nvidia_runtime:
    runtime: crio
    drop_in: false

- name: Inject the GPU through the NVIDIA OCI hook (podman, CRI-O)
  edgeai.fleet.nvidia_runtime:
    runtime: podman
    config_mode: oci-hook

- name: Undo the containerd registration
  edgeai.fleet.nvidia_runtime:
    runtime: containerd
    state: absent
"""

RETURN = r"""
restart_required:
  description:
    - Whether a file the running daemon reads has changed, or (with O(check_running)) the running daemon does not
      serve the runtime; never for podman, which has no daemon.
  returned: always
  type: bool
  sample: true
files:
  description: Paths written or removed, in the order they were changed.
  returned: always
  type: list
  elements: str
  sample: [/etc/containerd/conf.d/99-nvidia.toml, /etc/containerd/config.toml]
backups:
  description: Backup copy of each changed file that existed before, by path.
  returned: always
  type: dict
  sample: {/etc/containerd/config.toml: /etc/containerd/config.toml.20260101T120000.edgeai.bak}
diff:
  description: One before/after record per changed file.
  returned: when diff mode is on
  type: list
  elements: dict
running:
  description:
    - With O(check_running), what the running engine says; V(null) otherwise.
    - C(active) is V(true) when the engine serves the runtime, V(false) when it is not running or runs without it,
      V(null) when its CLI is not installed; C(detail) says which.
  returned: always
  type: dict
  sample: {active: false, detail: "dockerd runs with the runtimes ['io.containerd.runc.v2', 'runc'], not nvidia"}
runtime_config_version:
  description: The containerd config version written (null for the other engines).
  returned: always
  type: int
  sample: 2
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.edgeai.fleet.plugins.module_utils import _nvidia_runtime
from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError, fail_from_error
from ansible_collections.edgeai.fleet.plugins.module_utils._nvidia_engine_state import running_state
from ansible_collections.edgeai.fleet.plugins.module_utils._runner import CliRunner

# Seconds an engine query (containerd --version, config dump, docker info, crio status, podman info) may take.
ENGINE_TIMEOUT = 60


def main():
    module = AnsibleModule(
        argument_spec=dict(
            runtime=dict(type="str", required=True, choices=["containerd", "crio", "docker", "podman"]),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            set_as_default=dict(type="bool", default=False),
            runtime_name=dict(type="str", default="nvidia"),
            runtime_path=dict(type="path", default="/usr/bin/nvidia-container-runtime"),
            cdi_enabled=dict(type="bool", default=False),
            config_path=dict(type="path"),
            drop_in_dir=dict(type="path"),
            config_version=dict(type="str", default="auto", choices=["auto", "2", "3"]),
            podman_named_runtime=dict(type="bool", default=False),
            backup=dict(type="bool", default=True),
            check_running=dict(type="bool", default=False),
            drop_in=dict(type="bool", default=True),
            drop_in_file=dict(type="str"),
            config_source=dict(type="str", default="file", choices=["file", "command"]),
            config_mode=dict(type="str", default="config-file", choices=["config-file", "oci-hook"]),
            oci_hook_path=dict(type="path", default="/etc/containers/oci/hooks.d/oci-nvidia-hook.json"),
            runtime_hook_path=dict(type="path", default="/usr/bin/nvidia-container-runtime-hook"),
        ),
        supports_check_mode=True,
    )

    def containerd_major():
        binary = module.get_bin_path("containerd")
        if not binary:
            return None
        out = CliRunner.for_module(module, binary, timeout=ENGINE_TIMEOUT).run(["--version"], what="containerd --version")[1]
        return _nvidia_runtime.parse_containerd_major(out)

    def engine_state():
        def run(argv):
            # A wedged engine socket must fail the task, not hang it: same deadline as every other command.
            return CliRunner.for_module(module, argv[0], timeout=ENGINE_TIMEOUT).run(argv[1:], check=False)
        return running_state(params["runtime"], params["runtime_name"], params["runtime_path"],
                             module.get_bin_path, run, config_path=params["config_path"])

    def engine_config(runtime, config_path):
        cli, args = _nvidia_runtime.SOURCE_COMMANDS[runtime]
        binary = module.get_bin_path(cli)
        if not binary:
            raise FleetError("config_source=command needs `%s` on the PATH; install it or use config_source=file, "
                             "nothing was changed" % cli, field="config_source")
        # The config the module edits, not containerd's compiled-in default path.
        argv = (["--config", config_path] if runtime == "containerd" else []) + args
        return CliRunner.for_module(module, binary, timeout=ENGINE_TIMEOUT).run(argv, what="%s %s" % (cli, " ".join(args)))[1]

    params = module.params
    # An OCI hook registers no runtime the engine could report.
    wanted = params["check_running"] and params["state"] == "present" and params["config_mode"] == "config-file"
    try:
        result = _nvidia_runtime.run(params, check_mode=module.check_mode, atomic_move=module.atomic_move,
                                     containerd_major=containerd_major, engine_state=engine_state if wanted else None,
                                     engine_config=engine_config)
    except FleetError as err:
        fail_from_error(module, err)
        return
    for warning in result.pop("warnings"):
        module.warn(warning)
    if not module._diff:
        result.pop("diff")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
