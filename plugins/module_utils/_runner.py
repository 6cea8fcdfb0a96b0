# -*- coding: utf-8 -*-
# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Private to the edgeai.fleet collection: may change without notice.

"""One way to run a device-side CLI: argv lists, C locale, JSON parsed in one place."""

from __future__ import annotations

import json

from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError

C_LOCALE = {"LANG": "C", "LC_ALL": "C", "LC_MESSAGES": "C"}


class CliRunner:
    """Runs ``executable`` with argv lists through an injected ``run_command``.

    ``run_command`` has the signature of ``AnsibleModule.run_command`` so the module passes
    its own and unit tests pass a fake; nothing here imports AnsibleModule.
    """

    def __init__(self, run_command, executable, environ=None):
        self._run_command = run_command
        self.executable = executable
        self.environ = dict(C_LOCALE)
        self.environ.update(environ or {})

    def argv(self, args):
        return [self.executable] + [str(a) for a in args]

    def run(self, args, check=True, data=None, what=None):
        """Return ``(rc, stdout, stderr)``; raise FleetError on a non-zero rc when ``check``."""
        argv = self.argv(args)
        rc, out, err = self._run_command(argv, environ_update=self.environ, data=data, binary_data=data is not None,
                                         use_unsafe_shell=False, check_rc=False)
        if check and rc != 0:
            raise FleetError(
                "%s failed (rc=%d): %s" % (what or " ".join(argv), rc, (err or out or "").strip() or "no output"),
                cmd=argv, rc=rc, stdout=out, stderr=err)
        return rc, out, err

    def run_json(self, args, what=None, skip_to_json=False):
        """Run and parse stdout as JSON.

        ``skip_to_json`` drops anything printed before the first ``{`` or ``[``: some tools
        (bootc before 1.7) print lock notices on stdout ahead of the document.
        """
        argv = self.argv(args)
        rc, out, err = self.run(args, what=what)
        return parse_json(out, argv, rc, err, skip_to_json=skip_to_json)


def parse_json(text, argv, rc=0, stderr="", skip_to_json=False):
    """Parse a command's JSON output or raise FleetError naming the command, rc and stderr."""
    doc = text or ""
    if skip_to_json:
        starts = [i for i in (doc.find("{"), doc.find("[")) if i >= 0]
        doc = doc[min(starts):] if starts else doc
    try:
        return json.loads(doc)
    except ValueError as exc:
        raise FleetError(
            "%s printed output that is not valid JSON (%s); rc=%s, stderr: %s"
            % (" ".join(argv), exc, rc, (stderr or "").strip() or "empty"),
            cmd=list(argv), rc=rc, stdout=text, stderr=stderr)
