# -*- coding: utf-8 -*-
# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Private to the edgeai.fleet collection: may change without notice.

"""The collection's one error type, turned into fail_json at the module boundary."""

from __future__ import annotations


class FleetError(Exception):
    """A failure with an actionable message plus machine-readable details.

    ``details`` ends up as extra keys of the module's failed result
    (for a CLI: cmd, rc, stdout, stderr), so callers see what ran and why it failed.
    """

    def __init__(self, msg, **details):
        super().__init__(msg)
        self.msg = msg
        self.details = details


def fail_from_error(module, err):
    """Fail the module with the error's message, details and the formatted traceback."""
    import traceback

    module.fail_json(msg=err.msg, exception=traceback.format_exc(), **err.details)
