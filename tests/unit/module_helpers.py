# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Run a module's main() in-process on ansible-core 2.19+ and capture its result."""

from __future__ import annotations

import json
import os
from unittest import mock

import pytest

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args


class ModuleExit(Exception):
    """Raised instead of sys.exit so a test can read the module's result."""

    def __init__(self, result, failed):
        super().__init__(json.dumps(result, default=str))
        self.result = result
        self.failed = failed


def _exit_json(self, **kwargs):
    kwargs.setdefault("changed", False)
    raise ModuleExit(kwargs, failed=False)


def _fail_json(self, msg, **kwargs):
    kwargs["msg"] = msg
    kwargs["failed"] = True
    raise ModuleExit(kwargs, failed=True)


class FakeRunCommand:
    """Stands in for AnsibleModule.run_command.

    ``responses`` maps a predicate on argv (a callable or a tuple prefix) to ``(rc, out, err)``
    or to a callable returning it; every call is recorded in ``calls``.
    """

    def __init__(self, responses=None, default=(0, "", "")):
        self.responses = list(responses or [])
        self.default = default
        self.calls = []

    def add(self, match, answer):
        self.responses.append((match, answer))

    def __call__(self, args, **kwargs):
        argv = list(args)
        self.calls.append({"argv": argv, "data": kwargs.get("data"), "environ": kwargs.get("environ_update")})
        # Responses are keyed on the tool's own argv: the coreutils timeout wrapper (CliRunner.for_module) is not part of it.
        bare = argv[3:] if argv and os.path.basename(argv[0]) == "timeout" and argv[1:2] and argv[1].startswith("--kill-after=") else argv
        for match, answer in self.responses:
            hit = match(bare) if callable(match) else tuple(bare[:len(match)]) == tuple(match)
            if hit:
                return answer(argv, kwargs) if callable(answer) else answer
        return self.default


def run_module(module, args, run_command=None, check_mode=False, diff=False, get_bin_path=None):
    """Run ``module.main()`` with ``args``; return ``(result, failed)``.

    ``run_command`` replaces AnsibleModule.run_command (a FakeRunCommand or any callable).
    ``get_bin_path`` maps a binary name to its path (or None for "not installed").
    """
    args = dict(args)
    if check_mode:
        args["_ansible_check_mode"] = True
    if diff:
        args["_ansible_diff"] = True
    patches = [
        mock.patch.object(basic.AnsibleModule, "exit_json", _exit_json),
        mock.patch.object(basic.AnsibleModule, "fail_json", _fail_json),
    ]
    if run_command is not None:
        patches.append(mock.patch.object(basic.AnsibleModule, "run_command",
                                         lambda self, *a, **kw: run_command(*a, **kw)))
    if get_bin_path is not None:
        def _bin(self, name, required=False, opt_dirs=None):
            path = get_bin_path(name) if callable(get_bin_path) else get_bin_path.get(name)
            if path is None and required:
                self.fail_json(msg="Failed to find required executable %s" % name)
            return path
        patches.append(mock.patch.object(basic.AnsibleModule, "get_bin_path", _bin))
    with patch_module_args(args):
        for patcher in patches:
            patcher.start()
        try:
            with pytest.raises(ModuleExit) as caught:
                module.main()
        finally:
            for patcher in patches:
                patcher.stop()
    return caught.value.result, caught.value.failed
