# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils is PRIVATE to the edgeai.fleet collection. It may change or be
# removed without notice, even in a patch release. Do not import it from elsewhere.

"""What a YAML value becomes in NVIDIA's Go parsers (sigs.k8s.io/yaml, then encoding/json).

NVIDIA's tools read YAML by converting it to JSON and decoding that into Go types, so a value is
accepted when that decode succeeds, not when it looks right to Python: ``2.0`` is a valid Go ``int``
(the YAML float is written back to JSON as ``2``), ``False`` is not (Python's ``False == 0`` is),
a number given where Go wants a string becomes that string, and durations follow
``time.ParseDuration``. Each helper answers for one Go type and never raises.
"""

from __future__ import annotations

import re
from fractions import Fraction

INT64_MIN, INT64_MAX = -(2 ** 63), 2 ** 63 - 1
_UUID = re.compile(r"^(urn:uuid:)?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
                   r"|^\{[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\}$|^[0-9a-fA-F]{32}$")
# time.ParseDuration's units, in nanoseconds.
_DURATION_UNITS = {"ns": 1, "us": 10 ** 3, "\u00b5s": 10 ** 3, "\u03bcs": 10 ** 3, "ms": 10 ** 6, "s": 10 ** 9,
                   "m": 60 * 10 ** 9, "h": 3600 * 10 ** 9}
_DURATION_PART = re.compile(r"([0-9]*)(?:\.([0-9]*))?([^0-9.]*)")


def is_int(value, low=INT64_MIN, high=INT64_MAX):
    """A Go ``int`` (64-bit) accepts ``value``: an integer, or a float with no fraction, in range; never a bool."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if isinstance(value, float) and not value.is_integer():
        return False
    return low <= value <= high


def as_int(value):
    """``value`` as the Go int it decodes to (``2.0`` -> ``2``); call only after ``is_int``."""
    return int(value)


def as_string(value):
    """The Go ``string`` sigs.k8s.io/yaml makes of ``value`` (numbers and booleans are converted), or None.

    Floats are formatted like Go's ``FormatFloat(f, 'g', -1, 32)`` for the common cases (``2.0`` -> ``2``).
    """
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "%g" % value
    return None


def duration_error(value):
    """Why ``value`` is not a device-plugin ``Duration`` (api/config/v1/duration.go), or None.

    A JSON number is nanoseconds; a string is ``infinite`` or ``time.ParseDuration`` syntax; null leaves it unset.
    """
    if value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)):
        return None
    if not isinstance(value, str):
        return "invalid duration %r: a number of nanoseconds or a string such as 60s, 1h30m or infinite" % (value,)
    if value == "infinite":
        return None
    return _parse_duration_error(value)


def _parse_duration_error(text):
    """time.ParseDuration's verdict: ``[-+]?(<digits>[.<digits>]<unit>)+`` or ``0``, within int64 nanoseconds."""
    rest, negative = text, False
    if rest[:1] in ("-", "+"):
        negative, rest = rest[0] == "-", rest[1:]
    if rest == "0":
        return None
    if not rest:
        return "time: invalid duration %r" % text
    total = Fraction(0)
    while rest:
        match = _DURATION_PART.match(rest)
        whole, fraction, unit = match.group(1), match.group(2), match.group(3)
        if not whole and not fraction:
            return "time: invalid duration %r" % text
        if not unit:
            return "time: missing unit in duration %r" % text
        if unit not in _DURATION_UNITS:
            return "time: unknown unit %r in duration %r" % (unit, text)
        part = Fraction(int(whole or "0"))
        if fraction:
            part += Fraction(int(fraction), 10 ** len(fraction))
        total += int(part * _DURATION_UNITS[unit])
        if total > 2 ** 63:
            return "time: invalid duration %r (overflows int64 nanoseconds)" % text
        rest = rest[match.end():]
    if total > (2 ** 63 if negative else INT64_MAX):
        return "time: invalid duration %r (overflows int64 nanoseconds)" % text
    return None


def is_uuid(text):
    """github.com/google/uuid Parse accepts ``text`` (dashed, braced, urn:uuid: or 32 hex digits)."""
    return bool(_UUID.match(text))


def is_uint(text):
    """strconv.ParseUint(text, 10, 0) succeeds: decimal digits only, within uint64."""
    return text.isdigit() and text.isascii() and int(text) < 2 ** 64
