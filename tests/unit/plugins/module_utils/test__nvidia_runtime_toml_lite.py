# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The standard-library TOML reader (for Python 3.9/3.10 devices) checked against tomllib, and the writer."""

from __future__ import annotations

import math
import os

import pytest

from ansible_collections.edgeai.fleet.plugins.module_utils import _toml_lite

tomllib = pytest.importorskip("tomllib")   # the reference implementation (Python 3.11+)

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "nvidia_runtime")
TOML_FIXTURES = sorted(f for f in os.listdir(FIXTURES) if f.endswith((".toml", ".conf")))

VALID = [
    'a = 1\nb = -2\nc = +3\nd = 1_000\n',
    'h = 0xDEAD_beef\no = 0o755\nb = 0b1010\n',
    'f = 3.14\ng = -0.5e-3\nh = 6E2\ni = inf\nj = -inf\nk = 1_0.0_1\n',
    't = true\nf = false\n',
    's = "tab\\there \\"q\\" \\\\ \\u00e9 \\U0001F600"\nl = \'C:\\\\path\\\\\'\n',
    'm = """\nfirst\nsecond"""\n',
    'm = """a \\\n    b \\\n\n   c"""\n',
    "m = '''\nraw \\n stays'''\n",
    'q = """she said "hi"""""\n',
    'a = [1, 2, 3]\nb = [ "x", \'y\', ]\nc = [\n  [1, 2], # comment\n  ["n"],\n]\nd = []\n',
    'inline = {a = 1, "b.c" = "d", e = {f = [1]}}\nempty = {}\n',
    '[a]\nx = 1\n[a.b."c.d"]\ny = 2\n[a.\'lit\']\nz = 3\n',
    '[x.y.z]\n[x]\nw = 1\n',
    'a.b.c = 1\na.b.d = 2\n"quoted key" = 3\n\'lit key\' = 4\n',
    '[[arr]]\nn = 1\n[[arr]]\nn = 2\n[arr.sub]\nm = 3\n[[arr.list]]\nk = 1\n',
    '# only a comment\n\n   \n',
    '',
    'key = "value" # trailing comment\r\nother = 1\r\n',
    '[ spaced . "key" ]\nv = 1\n',
]

INVALID = [
    'a = 1\na = 2\n',
    '[t]\n[t]\n',
    'a = \n',
    'a = "unterminated\n',
    'a = [1, 2\n',
    'a = 1 b = 2\n',
    '= 1\n',
    'a = 01\n',
    'a = 1.\n',
    'a = .1\n',
    'a = 1e\n',
    'a = "\\x"\n',
    'a = {b = 1\n',
    'a = {b = 1}\n[a]\n',
    'a = [1]\n[[a]]\n',
    'a = 1\n[a]\n',
    'a = tru\n',
    'a = "\x01"\n',
]


@pytest.mark.parametrize("text", VALID)
def test_reader_matches_tomllib(text):
    expected = tomllib.loads(text)
    got = _toml_lite.parse(text)
    assert _normalise(got) == _normalise(expected)


@pytest.mark.parametrize("name", TOML_FIXTURES)
def test_reader_matches_tomllib_on_captured_configs(name):
    with open(os.path.join(FIXTURES, name), encoding="utf-8") as handle:
        text = handle.read()
    assert _toml_lite.parse(text) == tomllib.loads(text)


@pytest.mark.parametrize("text", INVALID)
def test_reader_refuses_what_tomllib_refuses(text):
    with pytest.raises(tomllib.TOMLDecodeError):
        tomllib.loads(text)
    with pytest.raises(_toml_lite.TomlError, match="line"):
        _toml_lite.parse(text)


@pytest.mark.parametrize("text", ["d = 1979-05-27T07:32:00Z\n", "t = 07:32:00\n"])
def test_reader_refuses_dates_clearly(text):
    with pytest.raises(_toml_lite.TomlError, match="date/time"):
        _toml_lite.parse(text)


def test_loads_wraps_tomllib_errors():
    with pytest.raises(_toml_lite.TomlError):
        _toml_lite.loads("a = = 1\n")


def test_nan_parses():
    assert math.isnan(_toml_lite.parse("n = nan\n")["n"])


DOCUMENTS = [
    {},
    {"version": 2, "imports": ["/etc/containerd/conf.d/*.toml"]},
    {"plugins": {"io.containerd.grpc.v1.cri": {"containerd": {"runtimes": {"nvidia": {
        "runtime_type": "io.containerd.runc.v2", "options": {"BinaryName": "/x", "SystemdCgroup": True}}}}}}},
    {"s": 'quote " back \\ tab \t nl \n ctrl \x01 é', "f": 1.5, "neg": -2, "big": 10 ** 12, "inf": float("inf")},
    {"empty": {}, "arr": [[1, 2], ["a"]], "inline": [{"a": 1}, 2], "tables": [{"a": 1}, {"b": {"c": 2}}]},
    {"key with space": {"x.y": 1}, "": 0},
]


@pytest.mark.parametrize("data", DOCUMENTS)
def test_writer_round_trips(data):
    text = _toml_lite.dumps(data)
    assert tomllib.loads(text) == data
    assert _toml_lite.parse(text) == data


def test_writer_layout_follows_nvidia_ctk():
    text = _toml_lite.dumps({"version": 2, "plugins": {"cri": {"enable_cdi": True, "containerd": {"x": "y"}}}})
    assert text == ('version = 2\n\n[plugins]\n\n  [plugins.cri]\n    enable_cdi = true\n\n'
                    '    [plugins.cri.containerd]\n      x = "y"\n')


@pytest.mark.parametrize("value", [object(), __import__("datetime").date(2026, 1, 1), 10 ** 5000], ids=["object", "date", "huge-int"])
def test_writer_refuses_unknown_types(value):
    """Malformed input: a date (which tomllib parses) or an integer too large for str() copied from a user's
    config must give TomlError, not a TypeError/ValueError traceback from the writer."""
    with pytest.raises(_toml_lite.TomlError):
        _toml_lite.dumps({"a": value})


@pytest.mark.parametrize("text, message", [
    (b"a = \"\xff\"\n", "not UTF-8"),
    ("a = " + "[" * 100000 + "]" * 100000, "nested too deeply"),
    ("a = {" * 5000, "nested too deeply"),
    ("a = " + "1" * 5000, "digits"),
    ("#" * (_toml_lite.MAX_CHARS + 1), "more than"),
], ids=["bad-utf8", "deep-arrays", "deep-inline-tables", "5000-digits", "oversized"])
@pytest.mark.parametrize("reader", ["loads", "own reader"])
def test_hostile_text_is_a_toml_error(monkeypatch, text, message, reader):
    """Malformed input: bad UTF-8, deep nesting (RecursionError), 5000-digit integers (ValueError from int())
    and oversized text escaped as other exception types, or were parsed whole; each is a TomlError now,
    with tomllib and with this module's own reader (Python 3.9/3.10)."""
    if reader == "own reader":
        monkeypatch.setattr(_toml_lite, "_tomllib", None)
    with pytest.raises(_toml_lite.TomlError, match=message):
        _toml_lite.loads(text)


def _normalise(value):
    """NaN != NaN: compare its text instead."""
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    return value
