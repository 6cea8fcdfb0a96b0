# -*- coding: utf-8 -*-
# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Private to the edgeai.fleet collection: may change without notice.

"""A small TOML 1.0 reader and writer for runtime configs, standard library only.

Devices may run Python 3.9/3.10, which have no ``tomllib``. ``loads`` uses ``tomllib`` where it
exists and otherwise this module's reader, which covers TOML 1.0 except date/time values (no
container runtime config uses them; they are refused with a clear error rather than misread).
``dumps`` renders only files this collection owns, in the layout ``nvidia-ctk`` (go-toml v1) uses:
sorted keys, values before sub-tables, two spaces of indentation per table level.
"""

from __future__ import annotations

import math
import re

try:
    import tomllib as _tomllib
except ImportError:  # Python < 3.11
    _tomllib = None


class TomlError(ValueError):
    """The text is not valid TOML (or uses a feature this reader refuses), or a value cannot be written."""


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_INT = re.compile(r"[+-]?(?:0|[1-9](?:_?[0-9])*)$")
_RADIX = re.compile(r"0(?:x[0-9A-Fa-f](?:_?[0-9A-Fa-f])*|o[0-7](?:_?[0-7])*|b[01](?:_?[01])*)$")
_FLOAT = re.compile(r"[+-]?(?:0|[1-9](?:_?[0-9])*)(?:\.[0-9](?:_?[0-9])*)?(?:[eE][+-]?[0-9](?:_?[0-9])*)?$")
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}|\d{2}:\d{2}:")
_ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", '"': '"', "\\": "\\"}


# Far above any runtime config; bounds the memory and time a hostile file can cost.
MAX_CHARS = 4 * 1024 * 1024


def loads(text):
    """Parse TOML text (str, or UTF-8 bytes) into plain dicts/lists; raise TomlError on invalid input."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise TomlError("not UTF-8 text (%s)" % exc)
    if len(text) > MAX_CHARS:
        raise TomlError("%d characters, more than the %d this reader accepts" % (len(text), MAX_CHARS))
    try:
        if _tomllib is not None:
            return _tomllib.loads(text)
        return parse(text)
    except RecursionError:
        raise TomlError("arrays or inline tables nested too deeply")
    except ValueError as exc:   # TOMLDecodeError, and int() refusing thousands of digits
        raise TomlError(str(exc))


def parse(text):
    """This module's own reader (used directly by the tests to compare it with tomllib)."""
    return _Parser(text).document()


class _Parser:
    def __init__(self, text):
        self.s = text.replace("\r\n", "\n")
        self.i = 0
        self.headers = set()   # ids of tables opened by a [header]
        self.frozen = set()    # ids of inline tables and arrays, which later lines may not extend

    def fail(self, msg):
        raise TomlError("line %d: %s" % (self.s.count("\n", 0, self.i) + 1, msg))

    def peek(self, n=1):
        return self.s[self.i:self.i + n]

    def skip_ws(self):
        while self.peek() in (" ", "\t") and self.i < len(self.s):
            self.i += 1

    def skip_blank(self):
        """Whitespace, comments and newlines (between statements and inside arrays)."""
        while self.i < len(self.s):
            c = self.s[self.i]
            if c in " \t\n":
                self.i += 1
            elif c == "#":
                self.skip_comment()
            else:
                return

    def skip_comment(self):
        end = self.s.find("\n", self.i)
        end = len(self.s) if end < 0 else end
        if any(ord(c) < 32 and c != "\t" or c == "\x7f" for c in self.s[self.i:end]):
            self.fail("control character in comment")
        self.i = end

    def end_of_line(self):
        self.skip_ws()
        if self.peek() == "#":
            self.skip_comment()
        if self.i < len(self.s) and self.s[self.i] != "\n":
            self.fail("expected the end of the line, found %r" % self.s[self.i:self.i + 10])

    def expect(self, token):
        if not self.s.startswith(token, self.i):
            self.fail("expected %r" % token)
        self.i += len(token)

    def document(self):
        root = table = {}
        while True:
            self.skip_blank()
            if self.i >= len(self.s):
                return root
            if self.s.startswith("[[", self.i):
                self.i += 2
                keys = self.key()
                self.skip_ws()
                self.expect("]]")
                parent = self.walk(root, keys[:-1])
                array = parent.setdefault(keys[-1], [])
                if not isinstance(array, list) or id(array) in self.frozen:
                    self.fail("%s is not an array of tables" % ".".join(keys))
                table = {}
                array.append(table)
            elif self.peek() == "[":
                self.i += 1
                keys = self.key()
                self.skip_ws()
                self.expect("]")
                parent = self.walk(root, keys[:-1])
                table = parent.get(keys[-1])
                if table is None:
                    table = parent[keys[-1]] = {}
                elif not isinstance(table, dict) or id(table) in self.headers or id(table) in self.frozen:
                    self.fail("table %s is defined twice" % ".".join(keys))
                self.headers.add(id(table))
            else:
                self.keyval(table)
            self.end_of_line()

    def walk(self, table, keys):
        for key in keys:
            value = table.setdefault(key, {})
            if isinstance(value, list) and value and isinstance(value[-1], dict) and id(value) not in self.frozen:
                value = value[-1]
            if not isinstance(value, dict) or id(value) in self.frozen:
                self.fail("key %s is not a table" % key)
            table = value
        return table

    def key(self):
        keys = []
        while True:
            self.skip_ws()
            c = self.peek()
            if c == '"':
                keys.append(self.basic_string())
            elif c == "'":
                keys.append(self.literal_string())
            else:
                match = _BARE_KEY.match(self.s, self.i)
                if not match:
                    self.fail("invalid key")
                keys.append(match.group())
                self.i = match.end()
            self.skip_ws()
            if self.peek() != ".":
                return keys
            self.i += 1

    def keyval(self, table):
        keys = self.key()
        self.expect("=")
        self.skip_ws()
        value = self.value()
        target = self.walk(table, keys[:-1])
        if keys[-1] in target:
            self.fail("key %s is defined twice" % ".".join(keys))
        target[keys[-1]] = value

    def value(self):
        c = self.peek()
        if self.s.startswith('"""', self.i):
            return self.multiline('"""')
        if self.s.startswith("'''", self.i):
            return self.multiline("'''")
        if c == '"':
            return self.basic_string()
        if c == "'":
            return self.literal_string()
        if c == "[":
            return self.array()
        if c == "{":
            return self.inline_table()
        for word, value in (("true", True), ("false", False)):
            if self.s.startswith(word, self.i):
                self.i += len(word)
                return value
        return self.number()

    def number(self):
        match = re.compile(r"[0-9A-Za-z_+.:-]+").match(self.s, self.i)
        if not match:
            self.fail("invalid value")
        token = match.group()
        if _DATETIME.match(token):
            self.fail("date/time values are not supported here; quote the value")
        self.i = match.end()
        if _INT.match(token):
            return int(token.replace("_", ""))
        if _RADIX.match(token):
            return int(token[2:].replace("_", ""), {"x": 16, "o": 8, "b": 2}[token[1]])
        if token.lstrip("+-") in ("inf", "nan"):
            return float(token)
        if _FLOAT.match(token) and ("." in token or "e" in token.lower()) and not re.search(r"\.(?:$|[eE])", token):
            return float(token.replace("_", ""))
        self.fail("invalid value %r" % token)

    def array(self):
        self.i += 1
        items = []
        while True:
            self.skip_blank()
            if self.peek() == "]":
                break
            items.append(self.value())
            self.skip_blank()
            if self.peek() == ",":
                self.i += 1
            elif self.peek() != "]":
                self.fail("expected ',' or ']' in array")
        self.i += 1
        self.frozen.add(id(items))
        return items

    def inline_table(self):
        self.i += 1
        table = {}
        self.skip_ws()
        if self.peek() == "}":
            self.i += 1
            self.frozen.add(id(table))
            return table
        while True:
            self.keyval(table)
            self.skip_ws()
            if self.peek() == "}":
                self.i += 1
                self.frozen.add(id(table))
                return table
            self.expect(",")

    def basic_string(self):
        self.i += 1
        out = []
        while True:
            c = self.peek()
            if not c or c == "\n":
                self.fail("unterminated string")
            self.i += 1
            if c == '"':
                return "".join(out)
            out.append(self.escape() if c == "\\" else self.plain(c))

    def plain(self, c):
        if (ord(c) < 32 and c not in "\t\n") or c == "\x7f":
            self.fail("control character in string")
        return c

    def escape(self):
        c = self.peek()
        self.i += 1
        if c in _ESCAPES:
            return _ESCAPES[c]
        if c in ("u", "U"):
            size = 4 if c == "u" else 8
            digits = self.s[self.i:self.i + size]
            if not re.fullmatch(r"[0-9A-Fa-f]{%d}" % size, digits):
                self.fail("invalid unicode escape")
            self.i += size
            code = int(digits, 16)
            if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                self.fail("invalid unicode scalar value")
            return chr(code)
        self.fail("invalid escape \\%s" % c)

    def literal_string(self):
        end = self.s.find("'", self.i + 1)
        newline = self.s.find("\n", self.i + 1)
        if end < 0 or 0 <= newline < end:
            self.fail("unterminated string")
        text = self.s[self.i + 1:end]
        for c in text:
            self.plain(c)
        self.i = end + 1
        return text

    def multiline(self, delim):
        self.i += 3
        if self.peek() == "\n":
            self.i += 1
        end = self.s.find(delim, self.i)
        if end < 0:
            self.fail("unterminated multi-line string")
        quotes = len(self.s[end:end + 6]) - len(self.s[end:end + 6].lstrip(delim[0]))
        if quotes > 5:
            self.fail("too many quotes closing a multi-line string")
        end += quotes - 3   # up to two quotes may sit right before the closing delimiter
        body, self.i = self.s[self.i:end], end + 3
        if delim == "'''":
            return "".join(self.plain(c) for c in body)
        out, j = [], 0
        while j < len(body):
            c = body[j]
            if c != "\\":
                out.append(self.plain(c))
                j += 1
                continue
            rest = re.match(r"[ \t]*\n[ \t\n]*", body[j + 1:])
            if rest:   # a line-ending backslash trims the newline and following whitespace
                j += 1 + rest.end()
                continue
            sub = _Parser(body[j:j + 10])
            sub.i = 1
            out.append(sub.escape())
            j += sub.i
        return "".join(out)


# ---- writer ---------------------------------------------------------------------------------

def _key(name):
    return name if _BARE_KEY.fullmatch(name) else _string(name)


def _string(text):
    out = []
    for c in text:
        if c in ('"', "\\"):
            out.append("\\" + c)
        elif c in "\b\t\n\f\r":
            out.append("\\" + {"\b": "b", "\t": "t", "\n": "n", "\f": "f", "\r": "r"}[c])
        elif ord(c) < 32 or c == "\x7f":
            out.append("\\u%04x" % ord(c))
        else:
            out.append(c)
    return '"%s"' % "".join(out)


def _inline(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        try:
            return str(value)
        except ValueError:   # more digits than int-to-str conversion allows
            raise TomlError("an integer too large to write")
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, list):
        return "[%s]" % ", ".join(_inline(v) for v in value)
    if isinstance(value, dict):
        return "{%s}" % ", ".join("%s = %s" % (_key(k), _inline(v)) for k, v in sorted(value.items()))
    raise TomlError("cannot write a %s value (%.60r) as TOML here" % (type(value).__name__, value))


def _is_table_array(value):
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def dumps(data):
    """Render a dict as TOML: values first, then sub-tables, keys sorted, nested tables indented."""
    lines = []
    _table(lines, data, [], 0)
    return "\n".join(lines).strip("\n") + "\n"


def _table(lines, table, path, depth):
    pad = "  " * depth
    for name in sorted(table):
        value = table[name]
        if not isinstance(value, dict) and not _is_table_array(value):
            lines.append("%s%s = %s" % (pad, _key(name), _inline(value)))
    for name in sorted(table):
        value = table[name]
        sub = path + [_key(name)]
        if isinstance(value, dict):
            lines.extend(["", "%s[%s]" % ("  " * depth, ".".join(sub))])
            _table(lines, value, sub, depth + 1)
        elif _is_table_array(value):
            for item in value:
                lines.extend(["", "%s[[%s]]" % ("  " * depth, ".".join(sub))])
                _table(lines, item, sub, depth + 1)
