# -*- coding: utf-8 -*-
# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Private to the edgeai.fleet collection: may change without notice.

"""Diff records in the shape Ansible's --diff output expects."""

from __future__ import annotations

import json
import re


def file_diff(path, before, after):
    """A diff entry for one file; ``None`` content means the file is absent."""
    return {
        "before_header": path if before is not None else "%s (absent)" % path,
        "after_header": path if after is not None else "%s (absent)" % path,
        "before": before or "",
        "after": after or "",
    }


def state_diff(before, after, header=None):
    """A diff entry for structured state (dicts), rendered as stable, sorted JSON text."""
    entry = {
        "before": json.dumps(before, indent=2, sort_keys=True) + "\n",
        "after": json.dumps(after, indent=2, sort_keys=True) + "\n",
    }
    if header:
        entry["before_header"] = entry["after_header"] = header
    return entry


def changed_files(diffs):
    """Paths of the file diffs whose content differs."""
    return [d["after_header"].replace(" (absent)", "") for d in diffs if d["before"] != d["after"]]


# Keys whose values are credentials in the configs this collection edits: containerd's
# registry.configs.*.auth table (username, password, auth, identitytoken), registry headers
# (Authorization), and the usual token/secret names. Compared case-insensitively.
SECRET_KEYS = frozenset(("auth", "password", "passwd", "identitytoken", "identity_token", "token", "registrytoken",
                         "registry_token", "username", "authorization", "proxy-authorization", "x-registry-auth",
                         "secret", "client_secret"))
# A username is hidden too, but too short and common to prove a leak by searching for it.
_NOT_PROOF = frozenset(("username",))
REDACTED = "<redacted>"
HIDDEN = "<content hidden: this file holds credentials>\n"

_KEY = r"(?:%s)" % "|".join(sorted((k.replace("-", r"\-") for k in SECRET_KEYS), key=len, reverse=True))
# TOML `key = value` (bare, dotted or quoted key; inline tables too) and JSON `"key": value`.
_ASSIGNMENT = re.compile(
    r"""(?im)((?:(?<![\w-])%s|"%s"|'%s')[ \t]*[=:][ \t]*)"""
    r"""("(?:[^"\\\n]|\\.)*"|'[^'\n]*'|\[[^\]\n]*\]|[^,}\s][^,}\n]*)""" % (_KEY, _KEY, _KEY))


def secret_values(data, inside=False):
    """Every string stored under a secret key of ``data`` (parsed TOML/JSON), for leak checks."""
    found = set()
    if isinstance(data, dict):
        for key, value in data.items():
            name = str(key).lower()
            if name in _NOT_PROOF:
                continue
            found |= secret_values(value, inside or name in SECRET_KEYS)
    elif isinstance(data, list):
        for value in data:
            found |= secret_values(value, inside)
    elif inside and isinstance(data, str) and len(data) >= 3:
        found.add(data)
    return found


def redact_text(text, secrets=()):
    """``text`` with the value of every secret key replaced; all of it hidden when a known secret survives
    (a multi-line string, an odd layout), so a diff never shows one."""
    if not text:
        return text
    redacted = _ASSIGNMENT.sub(lambda m: m.group(1) + '"%s"' % REDACTED, text)
    if any(secret in redacted for secret in secrets):
        return HIDDEN
    return redacted


def redacted_file_diff(path, before, after, secrets=()):
    """``file_diff`` with credentials redacted from both sides."""
    return file_diff(path, None if before is None else redact_text(before, secrets),
                     None if after is None else redact_text(after, secrets))
