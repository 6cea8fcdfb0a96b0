# -*- coding: utf-8 -*-
# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Private to the edgeai.fleet collection: may change without notice.

"""The collection's one error type, turned into fail_json at the module boundary."""

from __future__ import annotations

import contextlib


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


# What Python raises when a document has the wrong shape: a list where a mapping belongs, a string
# where a number belongs, a missing key, 10**30 where a dimension belongs.
SHAPE_ERRORS = (AttributeError, KeyError, IndexError, TypeError, ValueError, OverflowError, MemoryError,
                RecursionError)


class malformed(contextlib.ContextDecorator):  # pylint: disable=invalid-name
    """Context manager (or decorator) turning a shape error inside a document walk into a FleetError naming the document.

    For documents that come from outside (device facts, CLI output, files, server answers): the
    explicit checks name the common mistakes, this names the rest instead of letting a traceback
    through. The original exception stays chained for the traceback the module reports.
    """

    def __init__(self, what, fix="", **details):
        self.what = what
        self.fix = fix
        self.details = details

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, _tb):
        if exc_type is None or not issubclass(exc_type, SHAPE_ERRORS) or issubclass(exc_type, FleetError):
            return False
        field = (" (field %s)" % exc) if exc_type is KeyError else ""
        fix = (". " + self.fix) if self.fix else ""
        raise FleetError("%s is malformed%s: %s: %s%s" % (self.what, field, exc_type.__name__, str(exc)[:300], fix),
                         **self.details) from exc
