# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Malformed input generators shared by the property tests."""

from __future__ import annotations

import copy
import hashlib
import json
import os

from hypothesis import strategies as st

from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError

# Values a hostile or broken document puts where a well-formed one has something else: wrong types,
# absurd numbers (10**30), negative and non-finite numbers, empty and non-UTF-8-ish text.
SCALARS = st.one_of(
    st.none(), st.booleans(),
    st.integers(min_value=-(10 ** 30), max_value=10 ** 30),
    st.sampled_from([0, -1, 10 ** 30, 2 ** 63, float("nan"), float("inf"), -0.0, "", "0", "-1", "1e400", "x"]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.text(alphabet="\udcff\x00\ufffd/.:@ ", max_size=6),
)
JUNK = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(st.text(max_size=8), inner, max_size=4)), max_leaves=12)


def _paths(doc, prefix=()):
    yield prefix
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield from _paths(value, prefix + (key,))
    elif isinstance(doc, list):
        for index, value in enumerate(doc):
            yield from _paths(value, prefix + (index,))


def _replace(doc, path, value):
    if not path:
        return value
    doc = copy.deepcopy(doc)
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return doc


@st.composite
def mutated(draw, doc, times=2):
    """``doc`` with up to ``times`` nodes (the root included) replaced by junk, or keys dropped."""
    for _step in range(draw(st.integers(min_value=1, max_value=times))):
        path = draw(st.sampled_from(list(_paths(doc))))
        if path and draw(st.booleans()) and isinstance(_get(doc, path[:-1]), dict):
            parent = copy.deepcopy(_get(doc, path[:-1]))
            parent.pop(path[-1], None)
            doc = _replace(doc, path[:-1], parent)
        else:
            doc = _replace(doc, path, draw(JUNK))
    return doc


def _get(doc, path):
    for key in path:
        doc = doc[key]
    return doc


# Bytes a tool or a file may really hold: nothing, garbage, non-UTF-8, truncated JSON, huge numbers.
RAW_BYTES = st.one_of(
    st.binary(max_size=64),
    st.sampled_from([b"", b"\xff\xfe\x00", b"{", b"[]", b"null", b"{}", b"5", b'"x"', b"1e999999",
                     b"[" * 5000, b'{"a": ' + b"9" * 5000 + b"}", b"\x93NUMPY\x01\x00", b"PK\x03\x04"]),
)


def tree_hash(root):
    """Digest of every path, mode and content under ``root``: a core must not touch the documents it reads."""
    digest = hashlib.sha256()
    for base, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(dirs + files):
            path = os.path.join(base, name)
            info = os.lstat(path)
            digest.update(("%s %o\n" % (os.path.relpath(path, root), info.st_mode)).encode("utf-8", "surrogateescape"))
            if os.path.isfile(path) and not os.path.islink(path):
                with open(path, "rb") as handle:
                    digest.update(handle.read())
    return digest.hexdigest()


def only_fleet_error(func, *args, **kwargs):
    """Call ``func``; a FleetError is a clean refusal, any other exception fails the test."""
    try:
        return func(*args, **kwargs)
    except FleetError as err:
        assert err.msg and isinstance(err.msg, str)
        json.dumps(err.details, default=str)  # the module result must be serialisable
        return None
