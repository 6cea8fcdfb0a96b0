# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The model server core with the host simulated by ``Host`` (a FakeRunCommand answer).

Simulated: ``python -c 'import ensurepip, venv'`` (rc 1 without python3-venv), ``python -m venv`` (creates
``bin/python``), the package check script (answers the same JSON from a dict of installed versions, exact
``==`` pins only), ``pip install`` (installs the pins, or fails like pip without a matching distribution),
``systemctl`` (is-enabled/is-active answer by exit code as systemd does: 0 enabled/active, 1 disabled,
3 inactive) and ``journalctl``. Files are real, under tmp_path. The last test runs the real check script
in a real venv.
"""

from __future__ import annotations

import json
import optparse
import os
import subprocess
import sys

import pytest

from ansible_collections.edgeai.fleet.plugins.module_utils import _model_server
from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError
from ansible_collections.edgeai.fleet.plugins.module_utils._model_server import ModelServer
from ansible_collections.edgeai.fleet.tests.unit.module_helpers import FakeRunCommand

SYSTEMCTL = "/usr/bin/systemctl"
JOURNALCTL = "/usr/bin/journalctl"
SERVICE = "edgeai-model-ocr_det"
UNIT = "[Service]\nExecStart=/opt/kserve/bin/python /opt/kserve/edgeai_model_server.py --model_name ocr_det\n"
PROGRAM = "import kserve\n"
PACKAGES = ["kserve==0.21.0", "numpy==2.4.6"]
READ_ONLY = {"is-enabled", "is-active", "-c", "-I"}


class Host:
    """A device: python, a venv, pip and systemd, answering like the real tools (see the module docstring)."""

    def __init__(self, tmp_path, ensurepip=True):
        self.tmp = tmp_path
        self.python = str(tmp_path / "python3")
        with open(self.python, "w") as handle:
            handle.write("#!/bin/sh\n")
        self.venv = str(tmp_path / "opt" / "kserve")
        self.venv_python = os.path.join(self.venv, "bin", "python")
        self.unit_dir = str(tmp_path / "etc" / "systemd" / "system")
        self.unit_path = os.path.join(self.unit_dir, SERVICE + ".service")
        self.program = os.path.join(self.venv, "edgeai_model_server.py")
        self.ensurepip = ensurepip
        self.installed = {}
        self.pip_rc = 0
        self.pip_installs_nothing = False
        self.enabled = False
        self.active = False
        self.broken_unit = None
        self.run_command = FakeRunCommand([(lambda argv: True, self.answer)])

    def params(self, **overrides):
        params = {"service": SERVICE, "venv": self.venv, "python": self.python, "packages": list(PACKAGES), "pip_args": [],
                  "index_url": None, "files": [{"path": self.program, "content": PROGRAM, "mode": "0644"}], "unit": UNIT,
                  "unit_dir": self.unit_dir, "state": "started", "restart": False}
        params.update(overrides)
        return params

    def core(self, **overrides):
        return ModelServer(self.params(**overrides), self.run_command, systemctl=SYSTEMCTL, journalctl=JOURNALCTL)

    def converge(self, **overrides):
        self.core(**overrides).run()
        self.run_command.calls.clear()

    def commands(self):
        """Each call as (program, first argument) without paths, e.g. ("systemctl", "restart")."""
        return [(os.path.basename(c["argv"][0]), c["argv"][1]) for c in self.run_command.calls]

    def answer(self, argv, kwargs):
        program, args = argv[0], argv[1:]
        if program == self.python and args[:2] == ["-c", _model_server.VENV_SUPPORT_CHECK]:
            return (0, "", "") if self.ensurepip else (1, "", "ModuleNotFoundError: No module named 'ensurepip'\n")
        if program == self.python and args[:2] == ["-m", "venv"]:
            os.makedirs(os.path.dirname(self.venv_python))
            open(self.venv_python, "w").close()
            return 0, "", ""
        if program == self.venv_python and args[:2] == ["-I", "-c"]:
            unsatisfied = [r for r in args[3:] if self.installed.get(r.split("==")[0]) != (r.split("==") + [None])[1]]
            return 0, json.dumps({"unsatisfied": unsatisfied, "invalid": {}}) + "\n", ""
        if program == self.venv_python and args[:3] == ["-m", "pip", "install"]:
            if self.pip_rc:
                return self.pip_rc, "", "Looking in links: /srv/wheelhouse\nERROR: No matching distribution found for numpy==2.4.6\n"
            for req in args[5:] if not self.pip_installs_nothing else []:
                if "==" in req:
                    name, version = req.split("==")
                    self.installed[name] = version
            return 0, "", ""
        if program == SYSTEMCTL:
            return self.systemctl(args)
        if program == JOURNALCTL:
            return 0, "Traceback (most recent call last):\nModuleNotFoundError: No module named 'kserve'\n", ""
        raise AssertionError("unexpected command %r" % argv)

    def systemctl(self, args):
        verb = args[0]
        if verb == "is-enabled":
            return (0, "enabled\n", "") if self.enabled else (1, "disabled\n", "")
        if verb == "is-active":
            return (0, "active\n", "") if self.active else (3, "inactive\n", "")
        if verb in ("enable", "disable"):
            self.enabled = verb == "enable"
        if verb in ("start", "restart"):
            with open(self.unit_path) as handle:
                if handle.read() == self.broken_unit:
                    self.active = False
                    return 1, "", "Job for %s.service failed because the control process exited with error code.\n" % SERVICE
            self.active = True
        return 0, "", ""


@pytest.fixture
def host(tmp_path):
    return Host(tmp_path)


def read(path):
    with open(path) as handle:
        return handle.read()


def test_fresh_install(host):
    result = host.core().run()
    assert host.commands() == [
        ("python3", "-c"), ("python3", "-m"), ("python", "-I"), ("python", "-m"), ("python", "-I"),
        ("systemctl", "daemon-reload"), ("systemctl", "is-enabled"), ("systemctl", "enable"), ("systemctl", "is-active"),
        ("systemctl", "start")]
    pip = host.run_command.calls[3]["argv"]
    assert pip == [host.venv_python, "-m", "pip", "install", "--no-compile", "--disable-pip-version-check"] + PACKAGES
    assert result["changed"] and result["venv_created"] and result["packages_installed"] == PACKAGES
    assert result["files_changed"] == [host.program] and result["unit_changed"] and result["daemon_reloaded"]
    assert result["enabled"] and result["started"] and not result["restarted"]
    assert read(host.unit_path) == UNIT and read(host.program) == PROGRAM
    assert oct(os.stat(host.unit_path).st_mode & 0o7777) == "0o644"
    assert host.enabled and host.active


def test_converged_runs_only_read_only_checks(host):
    host.converge()
    result = host.core().run()
    assert host.commands() == [("python", "-I"), ("systemctl", "is-enabled"), ("systemctl", "is-active")]
    assert result["changed"] is False and result["diff"] == [] and result["packages_installed"] == []
    assert not (result["enabled"] or result["started"] or result["restarted"] or result["daemon_reloaded"])


def test_package_drift_reinstalls_and_restarts(host):
    host.converge()
    host.installed["numpy"] = "2.4.5"
    result = host.core().run()
    assert result["changed"] and result["packages_installed"] == ["numpy==2.4.6"] and result["restarted"]
    assert ("systemctl", "daemon-reload") not in host.commands() and host.installed["numpy"] == "2.4.6"
    assert result["diff"][0]["before"] != result["diff"][0]["after"]


def test_unit_change_reloads_and_restarts(host):
    host.converge()
    result = host.core(unit=UNIT + "Environment=OMP_NUM_THREADS=2\n").run()
    assert result["unit_changed"] and result["daemon_reloaded"] and result["restarted"] and result["files_changed"] == []
    assert host.commands() == [("python", "-I"), ("systemctl", "daemon-reload"), ("systemctl", "is-enabled"),
                               ("systemctl", "is-active"), ("systemctl", "restart")]
    assert [d["after"] for d in result["diff"]] == [UNIT + "Environment=OMP_NUM_THREADS=2\n"]


def test_file_mode_change_alone_is_a_change(host):
    host.converge()
    result = host.core(files=[{"path": host.program, "content": PROGRAM, "mode": "0600"}]).run()
    assert result["files_changed"] == [host.program] and result["restarted"]
    assert os.stat(host.program).st_mode & 0o7777 == 0o600
    assert result["diff"][0]["after_header"] == host.program + " (mode 0600)"


def test_restart_true_restarts_without_other_changes(host):
    host.converge()
    result = host.core(restart=True).run()
    assert result["changed"] and result["restarted"] and not result["daemon_reloaded"] and result["files_changed"] == []
    assert host.commands()[-1] == ("systemctl", "restart")


def test_inactive_server_is_started(host):
    host.converge()
    host.active = False
    result = host.core().run()
    assert result["changed"] and result["started"] and not result["restarted"]


def test_state_present_in_an_image_only_enables(host):
    result = host.core(state="present").run()
    systemd = [c for c in host.commands() if c[0] == "systemctl"]
    assert systemd == [("systemctl", "is-enabled"), ("systemctl", "enable")]
    assert result["enabled"] and not (result["daemon_reloaded"] or result["started"] or result["restarted"])
    assert read(host.unit_path) == UNIT and not host.active
    host.run_command.calls.clear()
    again = host.core(state="present", restart=True).run()
    assert again["changed"] is False and host.commands() == [("python", "-I"), ("systemctl", "is-enabled")]


def test_check_mode_on_a_new_host_writes_nothing_and_predicts(host):
    result = host.core().run(check_mode=True)
    assert {c[1] for c in host.commands()} <= READ_ONLY
    assert not os.path.exists(host.venv) and not os.path.exists(host.unit_dir)
    assert result["changed"] and result["venv_created"] and result["packages_installed"] == PACKAGES
    assert result["files_changed"] == [host.program] and result["unit_changed"] and result["daemon_reloaded"]
    assert result["enabled"] and result["started"] and not host.enabled
    assert {d["after_header"] for d in result["diff"]} >= {host.program, host.unit_path}


def test_check_mode_on_a_converged_host_predicts_drift(host):
    host.converge()
    host.installed["kserve"] = "0.20.0"
    result = host.core(unit=UNIT + "# new\n").run(check_mode=True)
    assert host.commands() == [("python", "-I"), ("systemctl", "is-enabled"), ("systemctl", "is-active")]
    assert result["packages_installed"] == ["kserve==0.21.0"] and result["unit_changed"] and result["restarted"]
    assert read(host.unit_path) == UNIT and host.installed["kserve"] == "0.20.0"


def test_missing_ensurepip_fails_with_venv_support_false(tmp_path):
    host = Host(tmp_path, ensurepip=False)
    with pytest.raises(FleetError) as caught:
        host.core().run()
    assert "python3-venv" in caught.value.msg and caught.value.details["venv_support"] is False
    assert host.commands() == [("python3", "-c")] and not os.path.exists(host.venv)


def test_pip_failure_leaves_files_and_unit_untouched(host):
    host.converge()
    host.installed["numpy"] = "2.4.5"
    host.pip_rc = 1
    with pytest.raises(FleetError) as caught:
        host.core(unit=UNIT + "# new\n", files=[{"path": host.program, "content": "new\n"}]).run()
    assert "No matching distribution found for numpy==2.4.6" in caught.value.msg and "untouched" in caught.value.msg
    assert read(host.unit_path) == UNIT and read(host.program) == PROGRAM
    assert not [c for c in host.commands() if c[0] == "systemctl"]


def test_pip_success_but_still_unsatisfied(host):
    host.converge()
    host.installed["numpy"] = "2.4.5"
    host.pip_installs_nothing = True
    with pytest.raises(FleetError) as caught:
        host.core().run()
    assert caught.value.details["unsatisfied"] == ["numpy==2.4.6"] and "numpy==2.4.6" in caught.value.msg


def test_failed_restart_restores_previous_files_and_restarts_them(host):
    host.converge()
    bad = UNIT + "ExecStartPre=/bin/false\n"
    host.broken_unit = bad
    extra = os.path.join(host.venv, "extra.py")
    files = [{"path": host.program, "content": "broken\n", "mode": "0644"}, {"path": extra, "content": "x\n", "mode": "0644"}]
    with pytest.raises(FleetError) as caught:
        host.core(unit=bad, files=files).run()
    err = caught.value
    assert read(host.unit_path) == UNIT and read(host.program) == PROGRAM and not os.path.exists(extra)
    assert "The new configuration of %s.service failed" % SERVICE in err.msg and "the previous configuration runs again" in err.msg
    assert "No module named 'kserve'" in err.msg and err.details["previous_running"] is True
    assert sorted(err.details["restored"]) == sorted([host.program, extra, host.unit_path])
    assert host.commands()[-4:] == [("systemctl", "restart"), ("journalctl", "--unit"), ("systemctl", "daemon-reload"),
                                    ("systemctl", "restart")]
    assert host.active


def test_failed_first_start_removes_everything_and_disables(host):
    host.broken_unit = UNIT
    with pytest.raises(FleetError) as caught:
        host.core().run()
    assert not os.path.exists(host.unit_path) and not os.path.exists(host.program) and not host.enabled
    assert "left stopped" in caught.value.msg and caught.value.details["previous_running"] is False


def test_failed_restart_without_changes_restores_nothing(host):
    host.converge()
    host.broken_unit = UNIT
    with pytest.raises(FleetError) as caught:
        host.core(restart=True).run()
    assert "restored" not in caught.value.details and caught.value.details["journal"][-1].startswith("ModuleNotFoundError")
    assert read(host.unit_path) == UNIT


def test_index_url_only_in_the_environment(host):
    url = "https://user:s3cret@pypi.example.com/simple"
    host.core(index_url=url, pip_args=["--retries", "1"]).run()
    pip = [c for c in host.run_command.calls if c["argv"][1:3] == ["-m", "pip"]][0]
    assert pip["environ"]["PIP_INDEX_URL"] == url and pip["argv"][6:8] == ["--retries", "1"]
    assert not any("s3cret" in arg for call in host.run_command.calls for arg in call["argv"])


@pytest.mark.parametrize("overrides, field", [
    ({"service": SERVICE + ".service"}, "service"),
    ({"pip_args": ["--index-url", "https://x"]}, "pip_args"),
    ({"packages": []}, "packages"),
    ({"venv": "opt/kserve"}, "venv"),
    ({"files": [{"path": "/x", "content": "", "mode": "u+rw"}]}, "files[0].mode"),
    ({"files": [{"path": "rel.py", "content": ""}]}, "files[0].path"),
])
def test_bad_input_fails_before_anything_runs(host, overrides, field):
    with pytest.raises(FleetError) as caught:
        host.core(**overrides).run()
    assert caught.value.details["field"] == field and host.run_command.calls == []


def test_invalid_requirement_reported_by_the_check(host):
    host.converge()
    host.run_command.responses.insert(0, (lambda argv: argv[1:3] == ["-I", "-c"],
                                          (0, json.dumps({"unsatisfied": [], "invalid": {"kserve=0.21": "Expected end"}}), "")))
    with pytest.raises(FleetError) as caught:
        host.core().run()
    assert caught.value.details["field"] == "packages" and "kserve=0.21" in caught.value.msg


@pytest.mark.parametrize("value, expected", [("0644", 0o644), ("755", 0o755), (0o600, 0o600), (" 0640 ", 0o640)])
def test_parse_mode(value, expected):
    assert _model_server.parse_mode(value, "mode") == expected


def test_check_script_in_a_real_venv(tmp_path):
    """Not simulated: a real ``python -m venv`` and the real check script run by its Python."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    pip_version = subprocess.run([python, "-c", "import importlib.metadata as m; print(m.version('pip'))"],
                                 check=True, capture_output=True, text=True).stdout.strip()
    argv = [python, "-I", "-c", _model_server.CHECK_SCRIPT, "pip==%s" % pip_version, "nonexistent-dist==1.0", "PIP[extra]>=1",
            "nonexistent-dist; python_version < '3'", "not a requirement!"]
    doc = json.loads(subprocess.run(argv, check=True, capture_output=True, text=True).stdout)
    assert doc["unsatisfied"] == ["nonexistent-dist==1.0"] and list(doc["invalid"]) == ["not a requirement!"]


# -- pip_args and packages that would put credentials or a foreign index on the command line --------------------------

def _pip_install_parser():
    """pip's own option parser for ``pip install`` (the venv's pip), to check the refusal against what pip resolves."""
    commands = pytest.importorskip("pip._internal.commands")
    return commands.create_command("install").parser


REFUSED_DESTS = {"index_url", "extra_index_urls", "trusted_hosts", "cert", "client_cert"}


@pytest.mark.parametrize("arg", ["--index", "--index-u", "--index-url=https://evil.example/simple", "--pypi-url", "--pypi",
                                 "--extra", "--extra-index-url", "--trusted", "--trusted-host=evil.example", "--cert",
                                 "--client", "--client-cert=/tmp/key.pem", "-i", "-qi", "-vvqihttps://evil.example/simple"])
def test_pip_option_abbreviations_are_refused(host, arg):
    """Attack: the old check refused only ``-i``/``--index-url``; pip's optparse also takes ``--index``, ``--index-u``,
    ``--pypi-url`` and short clusters such as ``-qi``, so a foreign index (with credentials in argv) got through."""
    with pytest.raises(FleetError) as caught:
        host.core(pip_args=["--no-cache-dir", arg, "https://evil.example/simple"]).run()
    assert caught.value.details["field"] == "pip_args" and "pip_args[1]" in caught.value.msg
    assert host.run_command.calls == []


@pytest.mark.parametrize("args", [["--no-index", "--find-links", "/srv/wheelhouse"], ["-q", "--retries", "1"],
                                  ["-rrequirements-with-i.txt"], ["--no-deps", "--prefer-binary"], ["-qU"]])
def test_harmless_pip_args_pass(host, args):
    host.core(pip_args=args).run()
    pip = [c for c in host.run_command.calls if c["argv"][1:3] == ["-m", "pip"]][0]
    assert pip["argv"][6:6 + len(args)] == args


def test_refusal_matches_what_pips_own_parser_resolves():
    """Every unique prefix of every long option of the real ``pip install`` parser: refused exactly when pip would
    resolve it to an index, trusted-host or certificate option (or to no option at all, being ambiguous)."""
    parser = _pip_install_parser()
    options = {name: option.dest for option in parser._get_all_options() for name in option._long_opts}
    refused = {name for name, dest in options.items() if dest in REFUSED_DESTS}
    assert refused == set(_model_server.PIP_REFUSED_LONG)
    shorts = {name: option for option in parser._get_all_options() for name in option._short_opts}
    assert {n[1] for n, o in shorts.items() if o.dest in REFUSED_DESTS} == set(_model_server.PIP_REFUSED_SHORT)
    assert {n[1] for n, o in shorts.items() if o.takes_value() and o.dest not in REFUSED_DESTS} == set(
        _model_server.PIP_SHORT_WITH_VALUE)
    for name in options:
        for end in range(3, len(name) + 1):
            prefix = name[:end]
            try:
                dest = options[parser._match_long_opt(prefix)]
            except optparse.BadOptionError:  # ambiguous: pip refuses it itself
                dest = None
            if dest in REFUSED_DESTS:
                assert _model_server._refused_pip_option(prefix), prefix
                assert _model_server._refused_pip_option(prefix + "=https://evil.example/simple"), prefix
            elif dest is not None and prefix == name:
                assert not _model_server._refused_pip_option(prefix), prefix


@pytest.mark.parametrize("field, value", [
    ("pip_args", "--find-links=https://user:s3cret@mirror.example/wheels"),
    ("pip_args", "https://tok3n@mirror.example/wheels"),
    ("pip_args", "--proxy=http://user:p@ss@proxy.example:3128"),
    ("pip_args", "https://mirror.example/wheels?sig=s3cret"),
    ("packages", "tiny @ https://user:s3cret@files.example/tiny-1.0-py3-none-any.whl"),
    ("packages", "tiny @ git+https://s3cret@git.example/org/tiny.git@v1"),
])
def test_credentials_in_argument_urls_are_refused_and_not_echoed(host, field, value):
    """Attack: credentials in a pip argument or a ``name @ URL`` requirement end up in ``ps`` on the device and in the
    module result (``cmd``); the old code passed them through."""
    params = {field: (list(PACKAGES) if field == "packages" else []) + [value]}
    with pytest.raises(FleetError) as caught:
        host.core(**params).run()
    assert caught.value.details["field"] == field and host.run_command.calls == []
    assert "s3cret" not in caught.value.msg and "p@ss" not in caught.value.msg and "tok3n" not in caught.value.msg


def test_ssh_user_in_a_vcs_requirement_is_not_a_credential(host):
    host.core(packages=list(PACKAGES) + ["tiny @ git+ssh://git@git.example/org/tiny.git@v1"]).run()


def test_pip_failure_result_is_redacted(host):
    """Fault: pip fails and echoes a URL with credentials (a proxy, a find-links mirror the netrc filled in); the error's
    ``msg``, ``cmd`` and ``stderr`` must not carry them."""
    host.installed = {}
    host.run_command.responses.insert(0, (lambda argv: argv[1:4] == ["-m", "pip", "install"], (
        1, "", "Looking in links: https://bob:s3cret@mirror.example/wheels?token=s3cret\nERROR: No matching distribution\n")))
    with pytest.raises(FleetError) as caught:
        host.core(pip_args=["--find-links", "https://mirror.example/wheels"]).run()
    text = repr((caught.value.msg, caught.value.details))
    assert "s3cret" not in text and "https://mirror.example/wheels\n" in caught.value.msg


@pytest.mark.parametrize("text, expected", [
    ("https://user:p@ss@host.example/simple?x=1#frag", "https://host.example/simple"),
    ("see http://host/a and git+ssh://git@h/r", "see http://host/a and git+ssh://h/r"),
    ("no url here", "no url here"),
])
def test_redact(text, expected):
    assert _model_server.redact(text) == expected


@pytest.mark.parametrize("field", ["packages", "pip_args"])
def test_non_string_list_elements_fail_cleanly(host, field):
    with pytest.raises(FleetError) as caught:
        host.core(**{field: ["kserve==0.21.0", 5]}).run()
    assert caught.value.details["field"] == field
