# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

from ansible_collections.edgeai.fleet.plugins.module_utils._diff import changed_files, file_diff, state_diff


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
