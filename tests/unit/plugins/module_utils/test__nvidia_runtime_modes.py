# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The `nvidia-ctk runtime configure` modes beyond the default (issue 15): config_source=command, drop_in=false
(the main file edited in place), a custom drop-in file name and config_mode=oci-hook.

Inputs and verdicts come from NVIDIA/nvidia-container-toolkit at d34b304:
cmd/nvidia-ctk/runtime/configure/configure_test.go (TestConfigureCommand, TestConfigureCommandLineSource)
and pkg/config/ocihook/oci-hook.go. Simulated: the engine's effective config (``containerd config dump``,
``crio status config``) is a canned string in the shape each prints; tests/system runs the real containerd.
"""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.edgeai.fleet.plugins.module_utils import _nvidia_runtime as core
from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError
from ansible_collections.edgeai.fleet.plugins.module_utils._toml_lite import loads
from ansible_collections.edgeai.fleet.tests.unit.plugins.module_utils.nvidia_runtime_files import params, read, snapshot, write

V2 = "io.containerd.grpc.v1.cri"
V3 = "io.containerd.cri.v1.runtime"
CONFIGURE = "configure/configure_test.go::"

# TestConfigureCommandLineSource/containerd: config from command: what its mock `containerd config dump` prints.
UPSTREAM_DUMP = """version = 2

[plugins]
  [plugins."io.containerd.grpc.v1.cri"]
    [plugins."io.containerd.grpc.v1.cri".containerd]
      default_runtime_name = "runc"

      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes]
        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
          runtime_type = "io.containerd.runc.v2"
"""

# containerd 2.1's `config dump` style: version 3, literal strings, defaults filled in.
DUMP_V3 = """version = 3
root = '/var/lib/containerd'

[plugins]
  [plugins.'io.containerd.cri.v1.runtime']
    enable_cdi = true
    [plugins.'io.containerd.cri.v1.runtime'.containerd]
      default_runtime_name = 'runc'
      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes]
        [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
          runtime_type = 'io.containerd.runc.v2'
          sandboxer = 'podsandbox'
          [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
            SystemdCgroup = true
"""

# TestConfigureCommand/crio: existing config with nvidia runtime (its crio.conf).
UPSTREAM_CRIO = """[crio]
[crio.runtime]
default_runtime = "runc"

[crio.runtime.runtimes.runc]
runtime_path = "/usr/bin/runc"
runtime_type = "oci"

[crio.runtime.runtimes.nvidia]
runtime_path = "/old/path/nvidia-container-runtime"
runtime_type = "oci"
"""

# TestConfigureCommand/containerd: v2 existing config without nvidia runtime.
UPSTREAM_CTRD = """version = 2

[plugins]
  [plugins."io.containerd.grpc.v1.cri"]
    [plugins."io.containerd.grpc.v1.cri".containerd]
      default_runtime_name = "runc"

      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes]
        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
          runtime_type = "io.containerd.runc.v2"

          [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
            BinaryName = "/usr/bin/runc"
"""


def canned(text):
    calls = []

    def engine_config(runtime, config_path):
        calls.append((runtime, config_path))
        return text
    engine_config.calls = calls
    return engine_config


# ---- config_source=command ------------------------------------------------------------------

def test_containerd_config_from_command(tmp_path):
    """configure_test.go::TestConfigureCommandLineSource/containerd: config from command."""
    p = params(tmp_path, config_source="command")
    write(p["config_path"], "version = 2\n")
    dump = canned(UPSTREAM_DUMP)
    result = core.run(p, engine_config=dump)
    assert dump.calls == [("containerd", p["config_path"])]
    assert result["runtime_config_version"] == 2
    drop = read(os.path.join(p["drop_in_dir"], "99-nvidia.toml"))
    assert '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia]' in drop
    assert 'BinaryName = "/usr/bin/nvidia-container-runtime"' in drop
    assert loads(read(p["config_path"]))["imports"] == [p["drop_in_dir"] + "/*.toml"]
    assert core.run(p, engine_config=dump)["changed"] is False


def test_containerd_command_source_copies_the_effective_runc_and_takes_its_version(tmp_path):
    """containerd 2.x dumps version 3 for a version 2 file; the drop-in follows the dump, as nvidia-ctk's does."""
    p = params(tmp_path, config_source="command")
    write(p["config_path"], "version = 2\n")
    result = core.run(p, engine_config=canned(DUMP_V3))
    assert result["runtime_config_version"] == 3
    cri = loads(read(os.path.join(p["drop_in_dir"], "99-nvidia.toml")))["plugins"][V3]
    assert cri["enable_cdi"] is True
    assert cri["containerd"]["runtimes"]["nvidia"] == {
        "runtime_type": "io.containerd.runc.v2", "sandboxer": "podsandbox",
        "options": {"SystemdCgroup": True, "BinaryName": "/usr/bin/nvidia-container-runtime"}}


@pytest.mark.parametrize("dump, error", [
    ("version = [3]\n", "handles containerd config versions"),
    ("version = 3\n[plugins\n", "is not valid TOML"),
])
def test_containerd_bad_dump_changes_nothing(tmp_path, dump, error):
    p = params(tmp_path, config_source="command")
    write(p["config_path"], "version = 2\n")
    before = snapshot(tmp_path)
    with pytest.raises(FleetError, match=error):
        core.run(p, engine_config=canned(dump))
    assert snapshot(tmp_path) == before


def test_command_source_without_a_cli_fails(tmp_path):
    with pytest.raises(FleetError, match="config_source=command needs"):
        core.run(params(tmp_path, config_source="command"))


def test_crio_config_from_command(tmp_path):
    """`crio status config` is the running daemon's merged config: it wins over the files."""
    p = params(tmp_path, runtime="crio", config_source="command")
    write(p["config_path"], UPSTREAM_CRIO)
    dump = UPSTREAM_CRIO.replace('default_runtime = "runc"', 'default_runtime = "crun"') + \
        '\n[crio.runtime.runtimes.crun]\nruntime_path = "/usr/bin/crun"\nruntime_type = "oci"\nmonitor_cgroup = "pod"\n'
    core.run(p, engine_config=canned(dump))
    nvidia = loads(read(os.path.join(p["drop_in_dir"], "99-nvidia.toml")))["crio"]["runtime"]["runtimes"]["nvidia"]
    assert nvidia == {"runtime_path": "/usr/bin/nvidia-container-runtime", "runtime_type": "oci", "monitor_cgroup": "pod"}


@pytest.mark.parametrize("runtime", ["docker", "podman"])
def test_command_source_falls_back_to_the_file_with_a_warning(tmp_path, runtime):
    """configure.go validateFlags: "A command Config Source is not supported for docker; using file"."""
    result = core.run(params(tmp_path, runtime=runtime, config_source="command"), check_mode=True)
    assert result["changed"] and "using its config file" in result["warnings"][0]


# ---- drop_in=false: the main config edited in place --------------------------------------------

def test_containerd_in_place(tmp_path):
    """configure_test.go::TestConfigureCommand/containerd: v2 existing config without nvidia runtime, written to
    the main file (nvidia-ctk --drop-in-config="")."""
    p = params(tmp_path, drop_in=False, set_as_default=True)
    write(p["config_path"], "# site config\n" + UPSTREAM_CTRD)
    result = core.run(p)
    assert result["files"] == [p["config_path"]] and list(result["backups"]) == [p["config_path"]]
    assert not os.path.exists(p["drop_in_dir"])
    doc = loads(read(p["config_path"]))
    assert "imports" not in doc
    ctrd = doc["plugins"][V2]["containerd"]
    assert ctrd["default_runtime_name"] == "nvidia"
    assert ctrd["runtimes"]["nvidia"] == {"runtime_type": "io.containerd.runc.v2",
                                          "options": {"BinaryName": "/usr/bin/nvidia-container-runtime"}}
    assert core.run(p)["changed"] is False

    removed = core.run(dict(p, state="absent"))
    assert removed["changed"] and loads(read(p["config_path"])) == loads(UPSTREAM_CTRD.replace(
        '      default_runtime_name = "runc"\n', ""))
    assert core.run(dict(p, state="absent"))["changed"] is False


def test_containerd_in_place_without_a_main_config(tmp_path):
    p = params(tmp_path, drop_in=False)
    core.run(p, containerd_major=lambda: 2)
    doc = loads(read(p["config_path"]))
    assert doc["version"] == 3 and "nvidia" in doc["plugins"][V3]["containerd"]["runtimes"]
    assert "runc" not in doc["plugins"][V3]["containerd"]["runtimes"]


def test_containerd_in_place_refuses_a_version_other_than_the_dump(tmp_path):
    p = params(tmp_path, drop_in=False, config_source="command")
    write(p["config_path"], "version = 2\n")
    with pytest.raises(FleetError, match="migrate it first"):
        core.run(p, engine_config=canned(DUMP_V3))
    assert read(p["config_path"]) == "version = 2\n"


def test_crio_in_place(tmp_path):
    """configure_test.go::TestConfigureCommand/crio: existing config with nvidia runtime, into crio.conf."""
    p = params(tmp_path, runtime="crio", drop_in=False, set_as_default=True)
    write(p["config_path"], UPSTREAM_CRIO)
    core.run(p)
    runtime = loads(read(p["config_path"]))["crio"]["runtime"]
    assert runtime["default_runtime"] == "nvidia"
    assert runtime["runtimes"]["nvidia"] == {"runtime_path": "/usr/bin/nvidia-container-runtime", "runtime_type": "oci"}
    assert not os.path.exists(p["drop_in_dir"])
    assert core.run(p)["changed"] is False
    core.run(dict(p, state="absent"))
    assert loads(read(p["config_path"]))["crio"]["runtime"] == {
        "runtimes": {"runc": {"runtime_path": "/usr/bin/runc", "runtime_type": "oci"}}}


def test_podman_in_place_is_refused(tmp_path):
    with pytest.raises(FleetError, match="not supported for podman"):
        core.run(params(tmp_path, runtime="podman", drop_in=False))


# ---- drop_in_file ------------------------------------------------------------------------------

@pytest.mark.parametrize("runtime, name", [("containerd", "50-gpu.toml"), ("crio", "50-gpu.conf"),
                                           ("podman", "50-gpu.conf")])
def test_custom_drop_in_file(tmp_path, runtime, name):
    p = params(tmp_path, runtime=runtime, drop_in_file=name)
    result = core.run(p)
    assert os.path.join(p["drop_in_dir"], name) in result["files"]
    assert sorted(os.listdir(p["drop_in_dir"])) == [name]
    core.run(dict(p, state="absent"))
    assert os.listdir(p["drop_in_dir"]) == []
    if runtime == "containerd":
        assert read(p["config_path"]) is None   # the minimal main config it created is gone again


@pytest.mark.parametrize("runtime, name", [("containerd", "50-gpu.conf"), ("podman", "50-gpu.toml"),
                                           ("crio", "../escape.toml"), ("crio", ".."), ("docker", "x.json")])
def test_bad_drop_in_file_is_refused(tmp_path, runtime, name):
    with pytest.raises(FleetError, match="drop_in_file"):
        core.run(params(tmp_path, runtime=runtime, drop_in_file=name))


# ---- config_mode=oci-hook ----------------------------------------------------------------------

# What pkg/config/ocihook/oci-hook.go::generateOciHook gives for the default hook path.
UPSTREAM_HOOK = {
    "version": "1.0.0",
    "hook": {"path": "/usr/bin/nvidia-container-runtime-hook", "args": ["nvidia-container-runtime-hook", "prestart"],
             "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]},
    "when": {"always": True, "commands": [".*"]},
    "stages": ["prestart"],
}


@pytest.mark.parametrize("runtime", ["podman", "crio"])
def test_oci_hook(tmp_path, runtime):
    """configure_test.go::TestConfigureCommand/oci-hook: create hook file."""
    hook_path = str(tmp_path / "etc/containers/oci/hooks.d/99-nvidia.json")
    p = params(tmp_path, runtime=runtime, config_mode="oci-hook", oci_hook_path=hook_path)
    result = core.run(p, check_mode=True)
    assert result["changed"] and result["restart_required"] is False and snapshot(tmp_path) == {}
    core.run(p)
    text = read(hook_path)
    assert json.loads(text) == UPSTREAM_HOOK and list(json.loads(text)) == list(UPSTREAM_HOOK)
    assert text.endswith("}\n") and '\n  "hook": {\n    "path"' in text   # json.Encoder with SetIndent("", "  ")
    assert list(snapshot(tmp_path)) == [hook_path]
    assert core.run(p)["changed"] is False
    assert core.run(dict(p, state="absent"))["files"] == [hook_path] and snapshot(tmp_path) == {}


def test_oci_hook_outside_the_search_path():
    """generateOciHook appends the hook's own directory to PATH when it is not a standard one."""
    from ansible_collections.edgeai.fleet.plugins.module_utils import _nvidia_oci_hook
    doc = _nvidia_oci_hook.hook("/opt/nvidia/bin/nvidia-container-runtime-hook")
    assert doc["hook"]["env"] == ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/opt/nvidia/bin"]


@pytest.mark.parametrize("runtime, kw, error", [
    ("containerd", {}, "reads none"),
    ("docker", {}, "reads none"),
    ("podman", {"oci_hook_path": "hooks.d/x.json"}, "absolute"),
    ("podman", {"runtime_hook_path": "nvidia-container-runtime-hook"}, "absolute"),
    ("crio", {"oci_hook_path": "/etc/containers/oci/hooks.d/x.conf"}, "end in .json"),
])
def test_oci_hook_refusals(tmp_path, runtime, kw, error):
    with pytest.raises(FleetError, match=error):
        core.run(params(tmp_path, runtime=runtime, config_mode="oci-hook", **kw))
    assert snapshot(tmp_path) == {}
