# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.edgeai.fleet.plugins.module_utils._diff import (
    HIDDEN, changed_files, file_diff, redact_text, redacted_file_diff, secret_values, state_diff)


def test_file_diff_marks_absent_files():
    entry = file_diff("/etc/x", None, "a\n")
    assert entry["before_header"] == "/etc/x (absent)"
    assert entry["before"] == "" and entry["after"] == "a\n"


def test_changed_files_lists_only_differences():
    diffs = [file_diff("/a", "1", "1"), file_diff("/b", None, "2"), file_diff("/c", "3", None)]
    assert changed_files(diffs) == ["/b", "/c"]


def test_state_diff_is_stable_sorted_json():
    entry = state_diff({"b": 1, "a": 2}, {"a": 2, "b": 1}, header="bootc")
    assert entry["before"] == entry["after"]
    assert entry["before"].index('"a"') < entry["before"].index('"b"')
    assert entry["before_header"] == "bootc"


# ---- credentials never reach a diff (issue 11) ----------------------------------------------------
@pytest.mark.parametrize("text, secret", [
    ('password = "s3cret-pw"\n', "s3cret-pw"),
    ("  auth = 'cm9ib3Q6czNjcmV0'\n", "cm9ib3Q6czNjcmV0"),
    ('identitytoken = "eyJ-identity"\n', "eyJ-identity"),
    ('configs."r".auth.password = "dotted-pw"\n', "dotted-pw"),
    ('auth = {username = "u", password = "inline-pw"}\n', "inline-pw"),
    ('Authorization = ["Bearer header-tok"]\n', "Bearer header-tok"),
    ('"password" = "quoted-key-pw"\n', "quoted-key-pw"),
    ('{"auths": {"r": {"auth": "json-auth-value"}}}', "json-auth-value"),
    ('Token = "UPPER-tok"\n', "UPPER-tok"),
])
def test_redact_text_hides_secret_values(text, secret):
    """Secret exposure: diffs of configs that hold registry credentials printed them verbatim."""
    out = redact_text(text)
    assert secret not in out and "<redacted>" in out


def test_redact_text_keeps_other_keys_and_table_headers():
    text = '[plugins."cri".registry.configs."r".auth]\n  username = "u"\nsandbox_image = "pause:3.9"\nauths = 1\n'
    out = redact_text(text)
    assert '[plugins."cri".registry.configs."r".auth]' in out and 'sandbox_image = "pause:3.9"' in out
    assert "auths = 1" in out and '"u"' not in out


def test_a_secret_the_pattern_misses_hides_the_whole_text():
    """A multi-line string slips past the line pattern; the leak check on the parsed values hides it all."""
    text = 'password = """\nmulti-line-secret"""\n'
    secrets = secret_values({"password": "\nmulti-line-secret"})
    assert redact_text(text, secrets) == HIDDEN


def test_secret_values_walks_nested_tables_and_skips_usernames():
    doc = {"registry": {"configs": {"r": {"auth": {"username": "robot", "password": "pw-1"}}}},
           "headers": {"Authorization": ["Bearer x-1"]}, "sandbox_image": "pause"}
    assert secret_values(doc) == {"pw-1", "Bearer x-1"}


def test_redacted_file_diff_keeps_absent_markers():
    entry = redacted_file_diff("/etc/x", None, 'password = "abc"\n')
    assert entry["before_header"] == "/etc/x (absent)" and "abc" not in entry["after"]
