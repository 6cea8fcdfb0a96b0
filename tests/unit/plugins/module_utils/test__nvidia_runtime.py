# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The runtime-registration core over captured configs (containerd 1.6 `config default`, Debian's shipped
config, a containerd 2.0 version 3 config, a CRI-O config, a daemon.json with other keys) and corrupt inputs."""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.edgeai.fleet.plugins.module_utils import _nvidia_runtime as core
from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError
from ansible_collections.edgeai.fleet.plugins.module_utils._toml_lite import loads
from ansible_collections.edgeai.fleet.tests.unit.plugins.module_utils.nvidia_runtime_files import params, read, snapshot, write

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "nvidia_runtime")
V2 = "io.containerd.grpc.v1.cri"
V3 = "io.containerd.cri.v1.runtime"


def fixture(name):
    with open(os.path.join(FIXTURES, name), encoding="utf-8") as handle:
        return handle.read()


def drop_in(p):
    return loads(read(os.path.join(p["drop_in_dir"], core.DROP_IN_FILES[p["runtime"]])))


def nvidia_runtime(p, plugin=V2):
    return drop_in(p)["plugins"][plugin]["containerd"]["runtimes"]["nvidia"]


# ---- containerd -------------------------------------------------------------------------------

CONTAINERD_CASES = [
    # fixture, edit, expected version, plugin, SystemdCgroup copied into nvidia's options (None: not set)
    ("containerd-1.6-default.toml", None, 2, V2, False),
    ("containerd-1.6-default.toml", ("SystemdCgroup = false", "SystemdCgroup = true"), 2, V2, True),
    ("containerd-1.6-debian.toml", None, 2, V2, None),
    ("containerd-2.0-default.toml", None, 3, V3, True),
]


@pytest.mark.parametrize("name, edit, version, plugin, systemd", CONTAINERD_CASES)
def test_containerd_present(tmp_path, name, edit, version, plugin, systemd):
    text = fixture(name)
    if edit:
        text = text.replace(*edit)
    p = params(tmp_path)
    write(p["config_path"], text)
    result = core.run(p)
    assert result["changed"] and result["restart_required"]
    assert result["runtime_config_version"] == version
    main_after = read(p["config_path"])
    # The main config gains only the import: every other line is the user's, byte for byte.
    assert [line for line in main_after.splitlines() if line not in text.splitlines()] == [
        line for line in main_after.splitlines() if line.startswith("imports")]
    assert loads(main_after)["imports"][-1] == p["drop_in_dir"] + "/*.toml"
    assert {k: v for k, v in loads(main_after).items() if k != "imports"} == {
        k: v for k, v in loads(text).items() if k != "imports"}
    dropped = drop_in(p)
    assert dropped["version"] == version
    nvidia = nvidia_runtime(p, plugin)
    assert nvidia["runtime_type"] == "io.containerd.runc.v2"
    assert nvidia["options"]["BinaryName"] == "/usr/bin/nvidia-container-runtime"
    assert nvidia["options"].get("SystemdCgroup") == systemd
    runtimes = dropped["plugins"][plugin]["containerd"]["runtimes"]
    assert "runc" in runtimes
    source_cri = loads(text)["plugins"][plugin]
    for key, value in source_cri.items():   # the whole CRI section is carried over (containerd < 2.1)
        if key != "containerd":
            assert dropped["plugins"][plugin][key] == value
    assert set(result["backups"]) == {p["config_path"]}
    assert core.run(p)["changed"] is False


def test_containerd_sandboxer_and_other_keys_copied_for_v3(tmp_path):
    p = params(tmp_path)
    write(p["config_path"], fixture("containerd-2.0-default.toml"))
    core.run(p)
    assert nvidia_runtime(p, V3)["sandboxer"] == "podsandbox"


def test_containerd_without_main_config_creates_a_minimal_one(tmp_path):
    p = params(tmp_path)
    result = core.run(p, containerd_major=lambda: 1)
    assert result["backups"] == {}
    assert read(p["config_path"]) == 'version = 2\nimports = ["%s/*.toml"]\n' % p["drop_in_dir"]
    nvidia = nvidia_runtime(p)
    assert nvidia == {"runtime_type": "io.containerd.runc.v2", "runtime_root": "", "runtime_engine": "",
                      "privileged_without_host_devices": False,
                      "options": {"BinaryName": "/usr/bin/nvidia-container-runtime"}}
    assert drop_in(p)["plugins"][V2]["containerd"]["runtimes"]["runc"] == {"runtime_type": "io.containerd.runc.v2"}


@pytest.mark.parametrize("major, version", [(None, 2), (1, 2), (2, 3)])
def test_containerd_version_from_binary(tmp_path, major, version):
    p = params(tmp_path)
    assert core.run(p, check_mode=True, containerd_major=lambda: major)["runtime_config_version"] == version


def test_containerd_explicit_version_without_main_config(tmp_path):
    p = params(tmp_path, config_version="3")
    core.run(p, containerd_major=lambda: pytest.fail("must not ask the binary"))
    assert "version = 3" in read(p["config_path"])
    assert V3 in drop_in(p)["plugins"]


def test_containerd_default_cdi_and_unset_default(tmp_path):
    p = params(tmp_path, set_as_default=True, cdi_enabled=True)
    write(p["config_path"], fixture("containerd-1.6-default.toml"))
    core.run(p)
    cri = drop_in(p)["plugins"][V2]
    assert cri["containerd"]["default_runtime_name"] == "nvidia"
    assert cri["enable_cdi"] is True and cri["cdi_spec_dirs"] == ["/etc/cdi", "/var/run/cdi"]
    p["set_as_default"] = False
    assert core.run(p)["changed"]
    # back to the user's own default, as nvidia-ctk does without --set-as-default
    assert drop_in(p)["plugins"][V2]["containerd"]["default_runtime_name"] == "runc"


def test_containerd_keeps_user_cdi_spec_dirs(tmp_path):
    p = params(tmp_path, cdi_enabled=True)
    write(p["config_path"], 'version = 2\n[plugins."io.containerd.grpc.v1.cri"]\n  cdi_spec_dirs = ["/opt/cdi"]\n')
    core.run(p)
    assert drop_in(p)["plugins"][V2]["cdi_spec_dirs"] == ["/opt/cdi"]


def test_containerd_copies_runc_not_a_kata_default(tmp_path):
    p = params(tmp_path)
    write(p["config_path"], """version = 2
[plugins."io.containerd.grpc.v1.cri".containerd]
  default_runtime_name = "kata"
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.kata]
  runtime_type = "io.containerd.kata.v2"
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
  SystemdCgroup = true
""")
    core.run(p)
    assert nvidia_runtime(p) == {"runtime_type": "io.containerd.runc.v2",
                                 "options": {"SystemdCgroup": True, "BinaryName": "/usr/bin/nvidia-container-runtime"}}
    assert drop_in(p)["plugins"][V2]["containerd"]["default_runtime_name"] == "kata"


def test_containerd_hand_edit_is_kept_and_carried_into_the_drop_in(tmp_path):
    p = params(tmp_path)
    write(p["config_path"], fixture("containerd-1.6-default.toml"))
    core.run(p)
    edited = read(p["config_path"]).replace('sandbox_image = "registry.k8s.io/pause:3.6"',
                                            'sandbox_image = "localhost/pause:test"')
    write(p["config_path"], edited)
    result = core.run(p)
    assert result["files"] == [os.path.join(p["drop_in_dir"], "99-nvidia.toml")]
    assert read(p["config_path"]) == edited
    assert drop_in(p)["plugins"][V2]["sandbox_image"] == "localhost/pause:test"


MULTILINE = """version = 2
imports = [
  "/etc/containerd/other/*.toml",  # site defaults
  '/opt/more.toml'
]
root = "/var/lib/containerd"
"""


@pytest.mark.parametrize("text", [
    MULTILINE,
    'version = 2\nimports = ["/a.toml",]\n',
    'version = 2 # two\n\n[plugins]\n',
    '# head comment\nroot = "/x"\nversion = 2\n',
    'version = 2\nimports = []\n',
])
def test_containerd_imports_edit_and_absent_round_trip(tmp_path, text):
    p = params(tmp_path)
    write(p["config_path"], text)
    core.run(p)
    after = loads(read(p["config_path"]))
    assert after["imports"] == loads(text).get("imports", []) + [p["drop_in_dir"] + "/*.toml"]
    assert core.run(dict(p, state="absent"))["changed"]
    if text == "version = 2\nimports = []\n":   # now identical to the file we create: removed like it
        assert read(p["config_path"]) is None
    else:
        assert loads(read(p["config_path"])) in (loads(text), {k: v for k, v in loads(text).items() if k != "imports"})
    assert not os.path.exists(os.path.join(p["drop_in_dir"], "99-nvidia.toml"))
    assert core.run(dict(p, state="absent"))["changed"] is False


def test_containerd_absent_removes_the_minimal_file_it_created(tmp_path):
    p = params(tmp_path)
    core.run(p)
    result = core.run(dict(p, state="absent"))
    assert sorted(result["files"]) == sorted([p["config_path"], os.path.join(p["drop_in_dir"], "99-nvidia.toml")])
    assert not os.path.exists(p["config_path"])


def test_containerd_absent_keeps_import_used_by_other_drop_ins(tmp_path):
    p = params(tmp_path)
    write(p["config_path"], fixture("containerd-1.6-debian.toml"))
    core.run(p)
    write(os.path.join(p["drop_in_dir"], "50-site.toml"), "version = 2\n")
    main = read(p["config_path"])
    result = core.run(dict(p, state="absent"))
    assert result["files"] == [os.path.join(p["drop_in_dir"], "99-nvidia.toml")]
    assert read(p["config_path"]) == main


@pytest.mark.parametrize("text, kw, message", [
    ("version = 2\n[plugins\n", {}, "not valid TOML"),
    ('root = "/var/lib/containerd"\n', {}, "version 1"),
    ("version = 1\n", {}, "versions 2, 3 and 4"),
    ('version = "2"\n', {}, "versions 2, 3 and 4"),
    ("version = 2\n", {"config_version": "3"}, "must have the same version"),
    ("version = 2\nimports = \"/x\"\n", {}, "not an array"),
    ('version = 2\n[plugins."io.containerd.grpc.v1.cri"]\n  containerd = 5\n', {}, "must be a table"),
])
def test_containerd_errors_change_nothing(tmp_path, text, kw, message):
    p = params(tmp_path, **kw)
    write(p["config_path"], text)
    before = snapshot(tmp_path)
    with pytest.raises(FleetError, match=message):
        core.run(p)
    assert snapshot(tmp_path) == before


def test_check_mode_predicts_and_writes_nothing(tmp_path):
    p = params(tmp_path)
    write(p["config_path"], fixture("containerd-1.6-default.toml"))
    before = snapshot(tmp_path)
    predicted = core.run(p, check_mode=True)
    assert snapshot(tmp_path) == before
    assert predicted["changed"] and predicted["backups"] == {}
    real = core.run(p)
    assert predicted["files"] == real["files"]
    assert [d["after"] for d in predicted["diff"]] == [read(f) for f in real["files"]]
    assert predicted["diff"][0]["before_header"].endswith("(absent)")


def test_failed_write_restores_every_file(tmp_path):
    p = params(tmp_path)
    write(p["config_path"], fixture("containerd-1.6-debian.toml"))
    before = snapshot(tmp_path)

    def atomic_move(src, dest):
        if dest == p["config_path"]:
            raise OSError("disk full")
        os.replace(src, dest)

    with pytest.raises(FleetError, match="disk full"):
        core.run(p, atomic_move=atomic_move)
    after = {k: v for k, v in snapshot(tmp_path).items() if not k.endswith(".edgeai.bak")}
    assert after == before


def test_parse_containerd_major():
    assert core.parse_containerd_major("containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1\n") == 1
    assert core.parse_containerd_major("containerd containerd.io v2.1.3 c787fb98911740dd3ff2d0e45ce88cdf01410486") == 2
    with pytest.raises(FleetError, match="config_version"):
        core.parse_containerd_major("weird")


# ---- CRI-O ------------------------------------------------------------------------------------

def test_crio_copies_the_default_runtime(tmp_path):
    p = params(tmp_path, runtime="crio", set_as_default=True, cdi_enabled=True)
    write(p["config_path"], fixture("crio-default.conf"))
    result = core.run(p)
    assert result["restart_required"] and result["warnings"]
    dropped = drop_in(p)
    nvidia = dropped["crio"]["runtime"]["runtimes"]["nvidia"]
    assert nvidia["runtime_path"] == "/usr/bin/nvidia-container-runtime" and nvidia["runtime_type"] == "oci"
    assert nvidia["monitor_path"] == "/usr/libexec/crio/conmon" and nvidia["monitor_cgroup"] == "system.slice"
    assert nvidia["runtime_root"] == "/run/crun"
    assert dropped["crio"]["runtime"]["default_runtime"] == "nvidia"
    assert core.run(p)["changed"] is False
    assert core.run(dict(p, state="absent"))["files"] == [os.path.join(p["drop_in_dir"], "99-nvidia.toml")]
    assert read(p["config_path"]) == fixture("crio-default.conf")


def test_crio_reads_other_drop_ins_and_needs_no_main_config(tmp_path):
    p = params(tmp_path, runtime="crio")
    write(os.path.join(p["drop_in_dir"], "10-runc.conf"), '[crio.runtime.runtimes.runc]\nmonitor_path = "/x/conmon"\n')
    core.run(p)
    assert drop_in(p) == {"crio": {"runtime": {"runtimes": {"nvidia": {
        "monitor_path": "/x/conmon", "runtime_path": "/usr/bin/nvidia-container-runtime", "runtime_type": "oci"}}}}}


def test_crio_corrupt_config_changes_nothing(tmp_path):
    p = params(tmp_path, runtime="crio")
    write(p["config_path"], "[crio.runtime\n")
    before = snapshot(tmp_path)
    with pytest.raises(FleetError, match="crio.conf is not valid TOML"):
        core.run(p)
    assert snapshot(tmp_path) == before


# ---- Docker -----------------------------------------------------------------------------------

def test_docker_merge_keeps_keys_and_order(tmp_path):
    p = params(tmp_path, runtime="docker", set_as_default=True, cdi_enabled=True)
    write(p["config_path"], fixture("daemon-with-keys.json"))
    result = core.run(p)
    assert result["restart_required"]
    text = read(p["config_path"])
    data = json.loads(text)
    original = json.loads(fixture("daemon-with-keys.json"))
    assert list(data)[:len(original)] == list(original)
    assert data["runtimes"] == {"kata": {"path": "/usr/bin/kata-runtime"},
                                "nvidia": {"args": [], "path": "/usr/bin/nvidia-container-runtime"}}
    assert data["default-runtime"] == "nvidia" and data["features"] == {"cdi": True}
    assert {k: v for k, v in data.items() if k not in ("runtimes", "default-runtime", "features")} == {
        k: v for k, v in original.items() if k != "runtimes"}
    assert text.startswith('{\n  "log-driver"')
    assert core.run(p)["changed"] is False

    result = core.run(dict(p, state="absent"))
    data = json.loads(read(p["config_path"]))
    assert data["runtimes"] == {"kata": {"path": "/usr/bin/kata-runtime"}} and "default-runtime" not in data
    assert data["features"] == {"cdi": True}   # cannot tell whether the user had it: left alone


def test_docker_untouched_when_already_right(tmp_path):
    p = params(tmp_path, runtime="docker")
    text = '{"runtimes":{"nvidia":{"path":"/usr/bin/nvidia-container-runtime","args":[]}}}'
    write(p["config_path"], text)
    assert core.run(p)["changed"] is False
    assert read(p["config_path"]) == text


def test_docker_absent_leaves_a_foreign_nvidia_runtime(tmp_path):
    p = params(tmp_path, runtime="docker", state="absent")
    text = '{"runtimes": {"nvidia": {"path": "/opt/other-runtime"}}, "default-runtime": "nvidia"}'
    write(p["config_path"], text)
    result = core.run(p)
    assert result["changed"] is False and "left as it is" in result["warnings"][0]
    assert read(p["config_path"]) == text


def test_docker_new_file_and_absent_without_file(tmp_path):
    p = params(tmp_path, runtime="docker")
    assert core.run(dict(p, state="absent"))["changed"] is False
    assert not os.path.exists(p["config_path"])
    core.run(p)
    assert json.loads(read(p["config_path"])) == {
        "runtimes": {"nvidia": {"args": [], "path": "/usr/bin/nvidia-container-runtime"}}}


@pytest.mark.parametrize("text, message", [
    ('{"runtimes": {', "not valid JSON"),
    ("[1, 2]", "must hold a JSON object"),
    ('{"runtimes": []}', "`runtimes`"),
    ('{"features": true}', "`features`"),
])
def test_docker_errors_change_nothing(tmp_path, text, message):
    p = params(tmp_path, runtime="docker", cdi_enabled=True)
    write(p["config_path"], text)
    before = snapshot(tmp_path)
    with pytest.raises(FleetError, match=message):
        core.run(p)
    assert snapshot(tmp_path) == before


# ---- Podman -----------------------------------------------------------------------------------

@pytest.mark.parametrize("kw, engine", [
    ({}, {"cdi_spec_dirs": ["/etc/cdi", "/var/run/cdi"]}),
    ({"podman_named_runtime": True}, {"cdi_spec_dirs": ["/etc/cdi", "/var/run/cdi"],
                                      "runtimes": {"nvidia": ["/usr/bin/nvidia-container-runtime"]}}),
    ({"set_as_default": True}, {"cdi_spec_dirs": ["/etc/cdi", "/var/run/cdi"], "runtime": "nvidia",
                                "runtimes": {"nvidia": ["/usr/bin/nvidia-container-runtime"]}}),
])
def test_podman_drop_in(tmp_path, kw, engine):
    p = params(tmp_path, runtime="podman", **kw)
    result = core.run(p)
    assert result["changed"] and not result["restart_required"]
    assert drop_in(p) == {"engine": engine}
    assert core.run(p)["changed"] is False
    assert core.run(dict(p, state="absent"))["changed"]
    assert not os.listdir(p["drop_in_dir"])


def test_podman_corrupt_containers_conf_changes_nothing(tmp_path):
    p = params(tmp_path, runtime="podman")
    write(p["config_path"], "[engine\n")
    before = snapshot(tmp_path)
    with pytest.raises(FleetError, match="containers.conf is not valid TOML"):
        core.run(p)
    assert snapshot(tmp_path) == before


# ---- parameters -------------------------------------------------------------------------------

@pytest.mark.parametrize("runtime, kw, field", [
    ("containerd", {"runtime_path": "nvidia-container-runtime"}, "runtime_path"),
    ("containerd", {"runtime_name": "runc"}, "runtime_name"),
    ("containerd", {"runtime_name": "a b"}, "runtime_name"),
    ("docker", {"drop_in_dir": "/etc/docker/conf.d"}, "drop_in_dir"),
])
def test_bad_parameters_are_named(tmp_path, runtime, kw, field):
    with pytest.raises(FleetError, match=field) as caught:
        core.run(params(tmp_path, runtime=runtime, **kw))
    assert caught.value.details["field"] == field
    assert not list(tmp_path.iterdir())


def test_standard_paths_are_the_defaults():
    p = core.defaults(dict(runtime="containerd", runtime_path="/usr/bin/nvidia-container-runtime", runtime_name="nvidia"))
    assert (p["config_path"], p["drop_in_dir"]) == ("/etc/containerd/config.toml", "/etc/containerd/conf.d")
    p = core.defaults(dict(runtime="docker", runtime_path="/usr/bin/nvidia-container-runtime", runtime_name="nvidia"))
    assert (p["config_path"], p["drop_in_dir"]) == ("/etc/docker/daemon.json", None)


# ---- the running engine -------------------------------------------------------------------------------

def test_unchanged_files_but_a_stale_daemon_needs_a_restart(tmp_path):
    """A run killed after the write and before the restart: the next run finds nothing to write, yet restarts."""
    p = params(tmp_path)
    write(p["config_path"], fixture("containerd-1.6-default.toml"))
    core.run(p)
    stale = {"active": False, "detail": "containerd's merged config has no runtimes.nvidia table"}
    result = core.run(p, engine_state=lambda: stale)
    assert not result["changed"] and result["restart_required"] and result["running"] == stale
    live = {"active": True, "detail": "containerd serves runtime nvidia"}
    assert core.run(p, engine_state=lambda: live)["restart_required"] is False


def test_unknown_engine_state_does_not_ask_for_a_restart(tmp_path):
    p = params(tmp_path)
    write(p["config_path"], fixture("containerd-1.6-default.toml"))
    core.run(p)
    result = core.run(p, engine_state=lambda: {"active": None, "detail": "containerd is not installed"})
    assert result["restart_required"] is False


def test_without_the_check_running_is_null(tmp_path):
    p = params(tmp_path)
    write(p["config_path"], fixture("containerd-1.6-default.toml"))
    assert core.run(p)["running"] is None
