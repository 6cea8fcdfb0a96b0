# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The CDI spec core with nvidia-ctk and systemctl simulated by FakeRunCommand.

Simulated: ``nvidia-ctk cdi generate --output P --format F`` writes a fixed spec to P (JSON or a
YAML rendering) as the real tool does; ``systemctl is-enabled`` answers by exit code.
"""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError
from ansible_collections.edgeai.fleet.plugins.module_utils._nvidia_cdi import CdiSpec, device_names, generate_args
from ansible_collections.edgeai.fleet.plugins.module_utils._runner import CliRunner
from ansible_collections.edgeai.fleet.tests.unit.module_helpers import FakeRunCommand

CTK = "/usr/bin/nvidia-ctk"
SYSTEMCTL = "/usr/bin/systemctl"
SPEC = {
    "cdiVersion": "0.5.0", "kind": "nvidia.com/gpu",
    "devices": [{"name": "0", "containerEdits": {"deviceNodes": [{"path": "/dev/nvidia0"}]}},
                {"name": "GPU-5bf3", "containerEdits": {"deviceNodes": [{"path": "/dev/nvidia0"}]}},
                {"name": "all", "containerEdits": {"deviceNodes": [{"path": "/dev/nvidia0"}]}}],
    "containerEdits": {"deviceNodes": [{"path": "/dev/nvidiactl"}]},
}
YAML = "---\ncdiVersion: \"0.5.0\"\nkind: nvidia.com/gpu\ndevices:\n- name: \"0\"\n"
DEVICES = ["nvidia.com/gpu=0", "nvidia.com/gpu=GPU-5bf3", "nvidia.com/gpu=all"]


def fake_generate(spec=None, yaml_text=YAML, rc=0, json_text=None):
    """Answer ``nvidia-ctk cdi generate`` like the real tool: write the spec to --output."""
    def answer(argv, kwargs):
        if rc:
            return rc, "", 'level=error msg="failed to initialize NVML: Driver Not Loaded"'
        output, fmt = argv[argv.index("--output") + 1], argv[argv.index("--format") + 1]
        with open(output, "w") as handle:
            handle.write(json_text if json_text is not None and fmt == "json"
                         else json.dumps(spec or SPEC, indent=2) + "\n" if fmt == "json" else yaml_text)
        return 0, "", 'level=info msg="Generated CDI spec with version 0.5.0"'
    return answer


@pytest.fixture
def env(tmp_path):
    units = tmp_path / "units"
    units.mkdir()
    etc_cdi = tmp_path / "etc-cdi"
    etc_cdi.mkdir()
    commands = FakeRunCommand()
    commands.add((CTK, "cdi", "generate"), fake_generate())
    state = {"enabled": set()}
    commands.add((SYSTEMCTL, "is-enabled"), lambda argv, kw: (0 if argv[2] in state["enabled"] else 1, "", ""))

    def enable(argv, kwargs):
        state["enabled"].update(argv[2:])
        return 0, "", ""

    commands.add((SYSTEMCTL, "enable"), enable)
    commands.add((SYSTEMCTL, "disable"), lambda argv, kw: (state["enabled"].difference_update(argv[2:]), 0, "", "")[1:])

    class Env:
        pass

    e = Env()
    e.tmp, e.units, e.commands, e.state = tmp_path, units, commands, state
    e.output = str(tmp_path / "run-cdi" / "nvidia.yaml")
    e.stale = [str(etc_cdi / "nvidia.yaml"), str(etc_cdi / "nvidia.json")]

    def core(**params):
        merged = dict(output=e.output, mode="auto", device_name_strategy=["index", "uuid"], refresh_units="auto",
                      image_mode=False, remove_stale=True, backup=False)
        merged.update(params)
        return CdiSpec(merged, ctk=CliRunner(commands, CTK), systemctl=CliRunner(commands, SYSTEMCTL),
                       tmpdir=str(tmp_path), unit_dirs=(str(units),), stale_specs=e.stale)

    e.core = core
    e.install_units = lambda: [(units / u).write_text("[Unit]\n") for u in ("nvidia-cdi-refresh.path", "nvidia-cdi-refresh.service")]
    e.calls = lambda prefix: [c["argv"] for c in commands.calls if c["argv"][:len(prefix)] == list(prefix)]
    return e


def read(path):
    with open(path) as handle:
        return handle.read()


def test_generate_args():
    params = {"mode": "csv", "device_name_strategy": ["type-index", "uuid"]}
    assert generate_args(params, "/t/x.json", "json") == [
        "cdi", "generate", "--output", "/t/x.json", "--format", "json", "--mode", "csv",
        "--device-name-strategy", "type-index", "--device-name-strategy", "uuid"]


def test_device_names_are_fully_qualified():
    assert device_names(SPEC) == DEVICES


@pytest.mark.parametrize("spec", [[], {"kind": "nvidia.com/gpu"}, {"devices": []}, {"kind": "k", "devices": [{"x": 1}]}])
def test_device_names_refuse_a_spec_without_kind_or_names(spec):
    with pytest.raises(FleetError):
        device_names(spec)


def test_new_yaml_spec_is_written_and_listed(env):
    result = env.core().run()
    assert result["changed"] and result["devices"] == DEVICES and result["kind"] == "nvidia.com/gpu"
    assert read(env.output) == YAML and result["files"] == [env.output]
    assert [a[a.index("--format") + 1] for a in env.calls((CTK,))] == ["json", "yaml"]
    assert all(not a[a.index("--output") + 1].startswith(os.path.dirname(env.output)) for a in env.calls((CTK,))), \
        "generation goes to a private temp dir, never beside the live spec"
    assert oct(os.stat(env.output).st_mode & 0o777) == "0o644"
    assert result["diff"][0]["before"] == "" and result["diff"][0]["after"] == YAML


def test_second_run_is_unchanged(env):
    env.core().run()
    mtime = os.stat(env.output).st_mtime_ns
    result = env.core().run()
    assert result["changed"] is False and result["files"] == [] and result["diff"] == []
    assert os.stat(env.output).st_mtime_ns == mtime


def test_json_output_needs_one_generation(env):
    output = str(env.tmp / "cdi" / "nvidia.json")
    result = env.core(output=output).run()
    assert json.loads(read(output)) == SPEC and result["changed"]
    assert len(env.calls((CTK,))) == 1


def test_check_mode_predicts_without_writing(env):
    result = env.core().run(check_mode=True)
    assert result["changed"] and result["devices"] == DEVICES and not os.path.exists(env.output)


def test_generation_failure_changes_nothing(env, tmp_path):
    os.makedirs(os.path.dirname(env.output))
    with open(env.output, "w") as handle:
        handle.write("old\n")
    env.commands.responses.insert(0, ((CTK, "cdi", "generate"), fake_generate(rc=1)))
    with pytest.raises(FleetError) as caught:
        env.core().run()
    assert "Driver Not Loaded" in caught.value.msg and caught.value.details["rc"] == 1
    assert read(env.output) == "old\n"
    assert [p for p in os.listdir(str(tmp_path)) if p.startswith("edgeai-cdi-")] == [], "temp dir cleaned"


def test_unparsable_generated_spec_changes_nothing(env):
    env.commands.responses.insert(0, ((CTK, "cdi", "generate"), fake_generate(json_text="not json")))
    with pytest.raises(FleetError) as caught:
        env.core().run()
    assert "not valid JSON" in caught.value.msg and not os.path.exists(env.output)


def test_spec_not_written_by_generate_is_an_error(env):
    env.commands.responses.insert(0, ((CTK, "cdi", "generate"), (0, "", "")))
    with pytest.raises(FleetError, match="wrote no spec"):
        env.core().run()


def test_missing_nvidia_ctk_is_explained(env):
    core = env.core()
    core.ctk = None
    with pytest.raises(FleetError, match="install nvidia-container-toolkit or set nvidia_ctk_path"):
        core.run()


def test_refresh_units_are_enabled_when_installed(env):
    env.install_units()
    result = env.core().run()
    assert env.state["enabled"] == {"nvidia-cdi-refresh.path", "nvidia-cdi-refresh.service"}
    assert result["refresh_units"] == {"present": True, "enabled": ["nvidia-cdi-refresh.path", "nvidia-cdi-refresh.service"]}
    assert env.core().run()["changed"] is False


def test_refresh_units_in_check_mode_are_not_enabled(env):
    env.install_units()
    result = env.core().run(check_mode=True)
    assert result["changed"] and env.state["enabled"] == set() and env.calls((SYSTEMCTL, "enable")) == []


def test_refresh_units_ignore(env):
    env.install_units()
    env.core(refresh_units="ignore").run()
    assert env.calls((SYSTEMCTL,)) == []


def test_refresh_units_enable_without_units_fails_first(env):
    with pytest.raises(FleetError, match="nvidia-container-toolkit >= 1.18"):
        env.core(refresh_units="enable").run()
    assert env.commands.calls == [] and not os.path.exists(env.output)


def test_image_mode_enables_units_and_generates_nothing(env):
    env.install_units()
    result = env.core(image_mode=True).run()
    assert result["changed"] and result["devices"] == [] and result["spec_path"] is None
    assert env.calls((CTK,)) == [] and not os.path.exists(env.output)


@pytest.mark.parametrize("units,refresh", [(False, "auto"), (True, "ignore")])
def test_image_mode_without_usable_units_fails_with_nothing_changed(env, units, refresh):
    if units:
        env.install_units()
    with pytest.raises(FleetError, match="image_mode=true relies on the nvidia-cdi-refresh units"):
        env.core(image_mode=True, refresh_units=refresh).run()
    assert env.commands.calls == []


def test_stale_etc_copy_is_removed(env):
    with open(env.stale[0], "w") as handle:
        handle.write("stale\n")
    result = env.core().run(check_mode=True)
    assert env.stale[0] in result["files"] and os.path.exists(env.stale[0])
    result = env.core().run()
    assert not os.path.exists(env.stale[0]) and env.stale[0] in result["files"]
    assert result["diff"][-1] == {"before_header": env.stale[0], "after_header": env.stale[0] + " (absent)",
                                  "before": "stale\n", "after": ""}


def test_stale_removal_can_be_disabled_and_never_removes_the_output(env):
    with open(env.stale[0], "w") as handle:
        handle.write("stale\n")
    env.core(remove_stale=False).run()
    assert os.path.exists(env.stale[0])
    env.core(output=env.stale[0]).run()
    assert read(env.stale[0]) == YAML


def test_failure_midway_undoes_every_change(env):
    env.install_units()
    os.makedirs(os.path.dirname(env.output))
    with open(env.output, "w") as handle:
        handle.write("old\n")
    with open(env.stale[0], "w") as handle:
        handle.write("stale\n")
    env.commands.responses.insert(0, ((SYSTEMCTL, "enable"), (1, "", "Failed to enable unit: Unit file is masked.")))
    with pytest.raises(FleetError, match="masked"):
        env.core().run()
    assert read(env.output) == "old\n" and read(env.stale[0]) == "stale\n"


def test_failure_removing_stale_undoes_spec_and_units(env, monkeypatch):
    env.install_units()
    with open(env.stale[0], "w") as handle:
        handle.write("stale\n")

    real_unlink = os.unlink

    def refuse(path, *args, **kwargs):
        if path == env.stale[0]:
            raise OSError(30, "Read-only file system", path)
        return real_unlink(path, *args, **kwargs)

    monkeypatch.setattr(os, "unlink", refuse)
    with pytest.raises(FleetError, match="every change of this run was undone"):
        env.core().run()
    monkeypatch.undo()
    assert not os.path.exists(env.output) and env.state["enabled"] == set()
    assert read(env.stale[0]) == "stale\n"


def test_backup_of_the_replaced_spec(env):
    os.makedirs(os.path.dirname(env.output))
    with open(env.output, "w") as handle:
        handle.write("old\n")
    result = env.core(backup=True).run()
    assert read(result["backup_file"]) == "old\n" and read(env.output) == YAML
