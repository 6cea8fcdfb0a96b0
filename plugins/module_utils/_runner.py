# -*- coding: utf-8 -*-
# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Private to the edgeai.fleet collection: may change without notice.

"""One way to run a device-side CLI: argv lists, C locale, a deadline, JSON parsed in one place."""

from __future__ import annotations

import json
import os

from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError

C_LOCALE = {"LANG": "C", "LC_ALL": "C", "LC_MESSAGES": "C"}

# Generous on purpose: the deadline exists so that a wedged tool (a held sysroot lock, a hung GPU
# driver) fails the task instead of blocking a rollout wave forever, not to police slow hosts.
DEFAULT_TIMEOUT = 600
# After the deadline the command gets SIGTERM, then SIGKILL this many seconds later.
KILL_GRACE = 10
# coreutils timeout exits 124 when it sent SIGTERM, 128+9 when it had to SIGKILL.
TIMEOUT_RCS = (124, 137)
# What a failed result may carry of a command's output: a tool printing megabytes of garbage must
# not be echoed into the result, the log and the AWX database (twice, in msg and in stdout).
MAX_OUTPUT = 4096

# Why a given tool hangs, so the message says what to do instead of only "timed out".
TIMEOUT_HINTS = {
    "bootc": "another bootc or rpm-ostree operation may hold the sysroot lock; check `bootc status` and "
             "`systemctl list-jobs` on the host, or wait for it to finish",
    "rpm-ostree": "another rpm-ostree or bootc operation may hold the sysroot lock",
    "nvidia-smi": "the NVIDIA driver may be wedged (see `dmesg` for Xid errors); a reboot usually clears it",
    "nvidia-ctk": "the NVIDIA driver or NVML may be wedged (see `dmesg` for Xid errors)",
    "systemctl": "systemd may be busy with a long job queue (`systemctl list-jobs`)",
    "trtexec": "the engine build is slower than the deadline allows; raise the timeout option for large models",
}


def clip(text, limit=MAX_OUTPUT):
    """Return ``text`` as valid text of at most about ``limit`` characters, keeping the end.

    The end is kept because tools print the reason they failed last. Undecodable bytes become
    U+FFFD so that the real message still reaches the user instead of an encoding error.
    """
    text = to_text(text)
    if len(text) <= limit:
        return text
    return "[%d characters cut] ...%s" % (len(text) - limit, text[-limit:])


def to_text(value):
    """Decode command output, whatever run_command handed back, to printable, JSON-safe text."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    value = str(value)
    try:
        # run_command keeps undecodable bytes as lone surrogates, which json.dumps of the result rejects.
        return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:
        return value.encode("utf-8", "replace").decode("utf-8")


class CliRunner:
    """Runs ``executable`` with argv lists through an injected ``run_command``.

    ``run_command`` has the signature of ``AnsibleModule.run_command`` so the module passes
    its own and unit tests pass a fake; nothing here imports AnsibleModule. run_command has no
    deadline of its own, so with ``timeout_bin`` (coreutils ``timeout``) every argv is wrapped in
    ``timeout --kill-after=KILL_GRACE <timeout>s``: still an argv list, and the whole process group
    of the command is signalled.
    """

    def __init__(self, run_command, executable, environ=None, timeout=DEFAULT_TIMEOUT, timeout_bin=None):
        self._run_command = run_command
        self.executable = executable
        self.environ = dict(C_LOCALE)
        self.environ.update(environ or {})
        self.timeout = check_timeout(timeout)
        self.timeout_bin = timeout_bin

    @classmethod
    def for_module(cls, module, executable, environ=None, timeout=DEFAULT_TIMEOUT):
        """Build a runner on ``module.run_command`` with a deadline from coreutils ``timeout``."""
        return cls(module.run_command, executable, environ=environ, timeout=timeout,
                   timeout_bin=module.get_bin_path("timeout"))

    def argv(self, args):
        return [self.executable] + [str(a) for a in args]

    def run(self, args, check=True, data=None, what=None, timeout=None):
        """Return ``(rc, stdout, stderr)``; raise FleetError on a non-zero rc when ``check``.

        A command that outlives its deadline always raises, ``check`` or not: its rc says
        nothing about the tool.
        """
        argv = self.argv(args)
        timeout = self.timeout if timeout is None else check_timeout(timeout)
        wrapped = argv
        if self.timeout_bin:
            wrapped = [self.timeout_bin, "--kill-after=%d" % KILL_GRACE, "%ds" % timeout] + argv
        rc, out, err = self._run_command(wrapped, environ_update=self.environ, data=data, binary_data=data is not None,
                                         use_unsafe_shell=False, check_rc=False)
        out, err = to_text(out), to_text(err)
        if self.timeout_bin and rc in TIMEOUT_RCS:
            tool = os.path.basename(self.executable)
            raise FleetError(
                "%s timed out after %d s and was stopped: %s. The module's timeout option sets the deadline."
                % (what or " ".join(argv), timeout,
                   TIMEOUT_HINTS.get(tool, "the command hung or the host is overloaded")),
                cmd=argv, rc=rc, timeout=timeout, stdout=clip(out), stderr=clip(err))
        if check and rc != 0:
            raise FleetError(
                "%s failed (rc=%d): %s" % (what or " ".join(argv), rc, clip((err or out or "").strip()) or "no output"),
                cmd=argv, rc=rc, stdout=clip(out), stderr=clip(err))
        return rc, out, err

    def run_json(self, args, what=None, skip_to_json=False, timeout=None):
        """Run and parse stdout as JSON.

        ``skip_to_json`` drops anything printed before the first ``{`` or ``[``: some tools
        (bootc before 1.7) print lock notices on stdout ahead of the document.
        """
        argv = self.argv(args)
        rc, out, err = self.run(args, what=what, timeout=timeout)
        return parse_json(out, argv, rc, err, skip_to_json=skip_to_json)


def check_timeout(value):
    """Return ``value`` as a positive whole number of seconds or raise FleetError."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise FleetError("timeout must be a positive whole number of seconds, got %r" % (value,))
    return value


def parse_json(text, argv, rc=0, stderr="", skip_to_json=False):
    """Parse a command's JSON output or raise FleetError naming the command, rc and stderr."""
    doc = to_text(text)
    if skip_to_json:
        starts = [i for i in (doc.find("{"), doc.find("[")) if i >= 0]
        doc = doc[min(starts):] if starts else doc
    if not doc.strip():
        raise FleetError("%s printed output that is not valid JSON (it printed nothing); rc=%s, stderr: %s"
                         % (" ".join(argv), rc, clip(stderr).strip() or "empty"),
                         cmd=list(argv), rc=rc, stdout="", stderr=clip(stderr))
    try:
        return json.loads(doc)
    except (ValueError, RecursionError) as exc:
        raise FleetError(
            "%s printed output that is not valid JSON (%s); rc=%s, stderr: %s"
            % (" ".join(argv), exc, rc, clip(stderr).strip() or "empty"),
            cmd=list(argv), rc=rc, stdout=clip(text), stderr=clip(stderr))
