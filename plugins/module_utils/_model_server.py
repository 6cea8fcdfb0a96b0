# -*- coding: utf-8 -*-
# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Private to the edgeai.fleet collection: may change without notice.

"""Install and run a KServe model server in one pass: venv, pip packages, program files, systemd unit.

Order matters for "a failure leaves the device as it was": packages first (pip cannot be undone, but
nothing serves from new packages until a restart), then files and unit (kept in memory so they can be
put back), then systemd. A failed start with a new configuration puts the previous one back.
"""

from __future__ import annotations

import os
import re

from ansible_collections.edgeai.fleet.plugins.module_utils._diff import file_diff, state_diff
from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError
from ansible_collections.edgeai.fleet.plugins.module_utils._files import atomic_write, read_text, restore
from ansible_collections.edgeai.fleet.plugins.module_utils import _redact
from ansible_collections.edgeai.fleet.plugins.module_utils._runner import CliRunner

PIP_INSTALL = ["-m", "pip", "install", "--no-compile", "--disable-pip-version-check"]
VENV_SUPPORT_CHECK = "import ensurepip, venv"
PIP_TAIL_LINES = 20
JOURNAL_LINES = 20
# Deadlines for each command (coreutils timeout): a wedged pip, venv or systemd job fails the task
# instead of holding a rollout forever. pip downloads wheels, so it gets the most.
PIP_TIMEOUT = 1800
PYTHON_TIMEOUT = 300
SYSTEMCTL_TIMEOUT = 300
MODE_RE = re.compile(r"^[0-7]{3,4}$")

# pip's options (pip/_internal/cli/cmdoptions.py) that choose where packages come from or whom TLS trusts. pip parses
# with optparse, which takes any unique prefix of a long option ("--index", "--extra", "--trusted"), so every prefix
# of these is refused, not only the full spelling. --pypi-url is pip's alias of --index-url; -i its short form.
PIP_REFUSED_LONG = ("--index-url", "--pypi-url", "--extra-index-url", "--trusted-host", "--cert", "--client-cert")
PIP_REFUSED_SHORT = "i"
# pip install's short options that take a value: in a cluster such as "-qrreqs.txt" the rest is the value.
PIP_SHORT_WITH_VALUE = "Ccefrt"
# A URL's userinfo (greedy to the last "@" before the path: passwords may hold "@") and query (signed URLs).
URL_RE = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/\s?#]*@)?(?P<rest>[^\s?#]*)(?P<query>\?[^\s#]*)?")

# Run by the venv's own Python so versions are read where the server imports them. pip's vendored
# packaging parses specifiers and markers exactly as pip does; extras are ignored (only the named
# distribution's version is checked). Prints {"unsatisfied": [...], "invalid": {requirement: error}}.
CHECK_SCRIPT = r"""
import json
import sys
from importlib.metadata import distributions
from pip._vendor.packaging.requirements import InvalidRequirement, Requirement
from pip._vendor.packaging.utils import canonicalize_name

installed = {}
for dist in distributions():
    name = dist.metadata["Name"]
    if name:
        installed.setdefault(canonicalize_name(name), dist.version)
unsatisfied, invalid = [], {}
for text in sys.argv[1:]:
    try:
        req = Requirement(text)
    except InvalidRequirement as exc:
        invalid[text] = str(exc)
        continue
    if req.marker is not None and not req.marker.evaluate():
        continue
    version = installed.get(canonicalize_name(req.name))
    if version is None or (req.specifier and not req.specifier.contains(version, prereleases=True)):
        unsatisfied.append(text)
print(json.dumps({"unsatisfied": unsatisfied, "invalid": invalid}))
"""


def parse_mode(value, field):
    """An octal permission string ("0644") or an int (YAML's unquoted 0644) -> int."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 0o7777:
        return value
    if isinstance(value, str) and MODE_RE.match(value.strip()):
        return int(value.strip(), 8)
    raise FleetError("%s: %r is not an octal file mode; quote it as a string such as \"0644\"" % (field, value), field=field)


def _require_absolute(path, field):
    if not path or not os.path.isabs(path):
        raise FleetError("%s: %r must be an absolute path" % (field, path), field=field)


def validate(params):
    """Check every input before anything runs; return the file entries ``[(path, content, mode)]``."""
    service = params["service"] or ""
    if not service or service.endswith(".service") or "/" in service:
        raise FleetError("service: %r must be a unit name without '.service' and without '/', e.g. edgeai-model-ocr_det" % service,
                         field="service")
    for field in ("venv", "python", "unit_dir"):
        _require_absolute(params[field], field)
    if not params["packages"]:
        raise FleetError("packages: give at least one pip requirement, e.g. onnxruntime==1.32.0", field="packages")
    for field in ("packages", "pip_args"):
        if not all(isinstance(arg, str) for arg in params[field] or []):
            raise FleetError("%s: every element must be a string" % field, field=field)
    for index, arg in enumerate(params["pip_args"] or []):
        option = _refused_pip_option(arg)
        if option:
            raise FleetError("pip_args[%d]: %r is pip's %s, which is refused here: pass the index through index_url, which reaches "
                             "pip in the environment and never on the command line, and install the index's CA into the "
                             "system trust store instead of --cert/--trusted-host" % (index, redact(arg), option),
                             field="pip_args")
    for field in ("pip_args", "packages"):
        for index, arg in enumerate(params[field] or []):
            if _carries_credentials(arg):
                raise FleetError("%s[%d]: %r carries credentials in a URL (user:password@ or a query string), which would show in "
                                 "the process list and the results: use index_url, or a netrc file on the device"
                                 % (field, index, redact(arg)), field=field)
    unit_path = os.path.join(params["unit_dir"], service + ".service")
    entries, seen = [], set([unit_path])
    for index, item in enumerate(params["files"] or []):
        field = "files[%d]" % index
        _require_absolute(item.get("path"), field + ".path")
        if item["path"] in seen:
            raise FleetError("%s.path: %s is given twice (or is the unit file)" % (field, item["path"]), field=field + ".path")
        seen.add(item["path"])
        entries.append((item["path"], item["content"], parse_mode(item.get("mode", "0644"), field + ".mode")))
    return entries


def _refused_pip_option(arg):
    """The refused pip option ``arg`` would select, as pip's optparse parser reads it, or None."""
    if arg.startswith("--") and len(arg) > 2:
        name = arg.split("=", 1)[0]
        # Any prefix counts, even an ambiguous one (pip rejects those anyway), so a newer pip cannot widen the hole.
        return next((option for option in PIP_REFUSED_LONG if option.startswith(name)), None)
    if arg.startswith("-") and not arg.startswith("--"):
        for char in arg[1:]:
            if char in PIP_REFUSED_SHORT:
                return "-" + char
            if char in PIP_SHORT_WITH_VALUE:
                return None
    return None


def redact(text):
    """``text`` with every URL's userinfo, query and fragment removed, for results, errors and the journal tail."""
    return _redact.text(text or "")


def _carries_credentials(arg):
    """Whether a URL in ``arg`` has a query or userinfo; a bare ssh user (git+ssh://git@host) is a name, not a secret."""
    for match in URL_RE.finditer(arg):
        userinfo = match.group("userinfo")
        if match.group("query") or (userinfo and (":" in userinfo or not match.group("scheme").endswith("ssh://"))):
            return True
    return False


def _tail(text, lines):
    return redact("\n".join((text or "").strip().splitlines()[-lines:]))


def _current(path, content, mode):
    """What is on disk now and whether ``content``/``mode`` differ from it."""
    before = read_text(path)
    before_mode = os.stat(path).st_mode & 0o7777 if before is not None else None
    return {"path": path, "before": before, "before_mode": before_mode, "after": content, "mode": mode,
            "changed": before != content or before_mode != mode}


class ModelServer:
    """One model server: ``run(check_mode)`` returns the module result (with ``diff`` always filled)."""

    def __init__(self, params, run_command, systemctl, journalctl=None, atomic_move=None, timeout_bin=None):
        self.params = params
        self.files = validate(params)
        self.unit_name = params["service"] + ".service"
        self.unit_path = os.path.join(params["unit_dir"], self.unit_name)
        self.venv_python = os.path.join(params["venv"], "bin", "python")
        self._run_command = run_command
        self._atomic_move = atomic_move
        self._timeout_bin = timeout_bin
        self.systemctl = self._runner(systemctl, SYSTEMCTL_TIMEOUT)
        self.journalctl = self._runner(journalctl, SYSTEMCTL_TIMEOUT) if journalctl else None
        self._was_active = False

    def _runner(self, executable, timeout, environ=None):
        return CliRunner(self._run_command, executable, environ=environ, timeout=timeout, timeout_bin=self._timeout_bin)

    def run(self, check_mode=False):
        result = {"changed": False, "venv_created": False, "packages_installed": [], "files_changed": [], "unit_changed": False,
                  "daemon_reloaded": False, "enabled": False, "restarted": False, "started": False, "diff": []}
        self._packages(result, check_mode)
        plan = [_current(*entry) for entry in self.files] + [_current(self.unit_path, self.params["unit"], 0o644)]
        for entry in plan:
            if entry["changed"]:
                result["diff"].append(self._diff(entry))
        result["files_changed"] = [e["path"] for e in plan[:-1] if e["changed"]]
        result["unit_changed"] = plan[-1]["changed"]
        written = [] if check_mode else self._write(plan)
        try:
            self._systemd(result, check_mode)
        except FleetError as err:
            if written:
                self._roll_back(result, written, err)
            raise
        result["changed"] = any(result[key] for key in ("venv_created", "packages_installed", "files_changed", "unit_changed",
                                                        "enabled", "restarted", "started"))
        return result

    # -- venv and packages ------------------------------------------------------------------------

    def _packages(self, result, check_mode):
        if not os.path.exists(self.venv_python):
            self._check_venv_support()
            result["venv_created"] = True
            result["diff"].append(state_diff({"venv": None}, {"venv": self.params["venv"]}, header="venv"))
            if check_mode:
                # Nothing is installed in a venv that does not exist yet.
                result["packages_installed"] = list(self.params["packages"])
                return
            self._runner(self.params["python"], PYTHON_TIMEOUT).run(
                ["-m", "venv", self.params["venv"]], what="Creating the venv %s" % self.params["venv"])
        missing = self._unsatisfied()
        result["packages_installed"] = missing
        if not missing:
            return
        result["diff"].append(state_diff({"unsatisfied": missing}, {"unsatisfied": []}, header="packages in %s" % self.params["venv"]))
        if check_mode:
            return
        environ = {"PIP_INDEX_URL": self.params["index_url"]} if self.params.get("index_url") else None
        pip = self._runner(self.venv_python, PIP_TIMEOUT, environ=environ)
        args = PIP_INSTALL + list(self.params["pip_args"] or []) + list(self.params["packages"])
        rc, out, err = pip.run(args, check=False)
        if rc != 0:
            raise FleetError("pip install into %s failed (rc=%d); the program files, the unit and the running server were left "
                             "untouched. pip said:\n%s" % (self.params["venv"], rc, _tail(err or out, PIP_TAIL_LINES)),
                             cmd=[redact(arg) for arg in pip.argv(args)], rc=rc, stderr=_tail(err, PIP_TAIL_LINES),
                             packages=[redact(req) for req in missing])
        still = self._unsatisfied()
        if still:
            raise FleetError("pip install into %s succeeded but these requirements are still not satisfied: %s. Look for conflicting "
                             "pins in packages, or an index or wheelhouse without those versions" % (self.params["venv"], ", ".join(still)),
                             unsatisfied=still)

    def _check_venv_support(self):
        python = self.params["python"]
        if not os.path.exists(python):
            raise FleetError("python: %s does not exist; point python at an interpreter that can create a venv" % python, field="python")
        rc, out, err = self._runner(python, PYTHON_TIMEOUT).run(["-c", VENV_SUPPORT_CHECK], check=False)
        if rc != 0:
            raise FleetError("%s cannot create a venv with pip (import ensurepip, venv failed): install python3-venv (Debian/Ubuntu) "
                             "on the host, or bake it into the image" % python,
                             venv_support=False, rc=rc, stderr=_tail(err or out, 5))

    def _unsatisfied(self):
        runner = self._runner(self.venv_python, PYTHON_TIMEOUT)
        doc = runner.run_json(["-I", "-c", CHECK_SCRIPT] + list(self.params["packages"]),
                              what="Checking the packages installed in %s" % self.params["venv"])
        if not isinstance(doc, dict) or not isinstance(doc.get("unsatisfied"), list):
            raise FleetError("The package check in %s printed an unexpected document: %r" % (self.params["venv"], doc))
        if doc.get("invalid"):
            raise FleetError("packages: %s not valid pip requirement specifiers (%s); write them as name==version or name @ URL"
                             % (", ".join(sorted(doc["invalid"])), "; ".join(sorted(doc["invalid"].values()))),
                             field="packages", invalid=doc["invalid"])
        return doc["unsatisfied"]

    # -- files and unit ---------------------------------------------------------------------------

    @staticmethod
    def _diff(entry):
        diff = file_diff(entry["path"], entry["before"], entry["after"])
        if entry["before_mode"] is not None and entry["before_mode"] != entry["mode"]:
            diff["before_header"] += " (mode %04o)" % entry["before_mode"]
            diff["after_header"] += " (mode %04o)" % entry["mode"]
        return diff

    def _put(self, path, content, mode):
        atomic_write(path, content, mode=mode, backup=False, atomic_move=self._atomic_move)
        # AnsibleModule.atomic_move copies the old file's mode (or applies the umask to a new one).
        try:
            os.chmod(path, mode)
        except OSError as exc:
            raise FleetError("Cannot set the mode of %s: %s" % (path, exc), path=path)

    def _write(self, plan):
        written = []
        try:
            for entry in plan:
                if entry["changed"]:
                    self._put(entry["path"], entry["after"], entry["mode"])
                    written.append(entry)
        except FleetError:
            self._restore(written)
            raise
        return written

    def _restore(self, written):
        for entry in reversed(written):
            if entry["before"] is None:
                restore(entry["path"], None)
            else:
                self._put(entry["path"], entry["before"], entry["before_mode"])

    # -- systemd ----------------------------------------------------------------------------------

    def _systemd(self, result, check_mode):
        started_state = self.params["state"] == "started"
        if started_state and result["unit_changed"]:
            result["daemon_reloaded"] = True
            if not check_mode:
                self.systemctl.run(["daemon-reload"])
        # rc 0 means enabled (also static/alias/indirect), anything else means enable it.
        was_enabled = self.systemctl.run(["is-enabled", self.unit_name], check=False)[0] == 0
        result["enabled"] = not was_enabled
        if not was_enabled and not check_mode:
            self.systemctl.run(["enable", self.unit_name])
        before, after = {"enabled": was_enabled}, {"enabled": True}
        if started_state:
            self._was_active = self.systemctl.run(["is-active", self.unit_name], check=False)[0] == 0
            before["active"], after["active"] = self._was_active, True
            config_changed = bool(result["packages_installed"] or result["files_changed"] or result["unit_changed"])
            if not self._was_active:
                result["started"] = True
                action = "start"
            elif config_changed or self.params["restart"]:
                result["restarted"] = True
                action = "restart"
            else:
                action = None
            if action and not check_mode:
                rc, out, err = self.systemctl.run([action, self.unit_name], check=False)
                if rc != 0:
                    raise FleetError("systemctl %s %s failed (rc=%d): %s" % (action, self.unit_name, rc, (err or out).strip()),
                                     cmd=self.systemctl.argv([action, self.unit_name]), rc=rc, stderr=err,
                                     journal=self._journal())
        if before != after:
            result["diff"].append(state_diff(before, after, header=self.unit_name))

    def _journal(self):
        if self.journalctl is None:
            return []
        rc, out, _err = self.journalctl.run(["--unit", self.unit_name, "--lines", JOURNAL_LINES, "--no-pager", "--output", "cat"],
                                            check=False)
        return redact(out).splitlines()[-JOURNAL_LINES:] if rc == 0 else []

    def _roll_back(self, result, written, err):
        """Put the previous files and unit back and run the previous configuration; turns ``err`` into the full story."""
        self._restore(written)
        notes = []
        if result["unit_changed"] and self.params["state"] == "started":
            if self.systemctl.run(["daemon-reload"], check=False)[0] != 0:
                notes.append("systemctl daemon-reload after the restore failed")
        if result["enabled"]:
            self.systemctl.run(["disable", self.unit_name], check=False)
        previous_running = False
        if self.params["state"] != "started":
            status = "the previous configuration is back in place"
        elif not self._was_active:
            status = "the server was not running before, so it was left stopped"
        else:
            previous_running = self.systemctl.run(["restart", self.unit_name], check=False)[0] == 0
            status = "the previous configuration runs again" if previous_running else "the previous configuration did not start either"
        journal = err.details.get("journal") or self._journal()
        err.msg = "The new configuration of %s failed: %s. Put back the previous files and unit (%s); %s.%s%s" % (
            self.unit_name, err.msg, ", ".join(e["path"] for e in written), status,
            (" " + "; ".join(notes) + ".") if notes else "",
            ("\nLast journal lines:\n" + "\n".join(journal)) if journal else "")
        err.args = (err.msg,)
        err.details.update(restored=[e["path"] for e in written], previous_running=previous_running, journal=journal)
