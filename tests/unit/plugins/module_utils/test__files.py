# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import os
import stat

import pytest

from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError
from ansible_collections.edgeai.fleet.plugins.module_utils._files import atomic_write, read_text, restore


def test_read_text_missing_is_none(tmp_path):
    assert read_text(str(tmp_path / "absent")) is None


def test_atomic_write_creates_file_with_mode_and_no_backup(tmp_path):
    target = tmp_path / "sub" / "config.toml"
    assert atomic_write(str(target), "a = 1\n", mode=0o600) is None
    assert target.read_text() == "a = 1\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert os.listdir(str(target.parent)) == ["config.toml"]


def test_atomic_write_backs_up_and_restore_puts_it_back(tmp_path):
    target = tmp_path / "daemon.json"
    target.write_text('{"old": true}')
    saved = atomic_write(str(target), '{"new": true}')
    assert saved and open(saved).read() == '{"old": true}'
    assert target.read_text() == '{"new": true}'
    restore(str(target), saved)
    assert target.read_text() == '{"old": true}'


def test_restore_without_backup_removes_new_file(tmp_path):
    target = tmp_path / "new.conf"
    saved = atomic_write(str(target), "x")
    restore(str(target), saved)
    assert not target.exists()


def test_atomic_write_uses_injected_move(tmp_path):
    moves = []

    def move(src, dest):
        moves.append((src, dest))
        os.replace(src, dest)

    atomic_write(str(tmp_path / "f"), b"bytes", atomic_move=move)
    assert moves and moves[0][1] == str(tmp_path / "f")
    assert os.path.dirname(moves[0][0]) == str(tmp_path)


def test_failed_move_leaves_target_and_no_temp(tmp_path):
    target = tmp_path / "keep"
    target.write_text("original")

    def broken(src, dest):
        raise OSError("disk full")

    with pytest.raises(FleetError, match="Cannot write .*disk full"):
        atomic_write(str(target), "new", backup=False, atomic_move=broken)
    assert target.read_text() == "original"
    assert os.listdir(str(tmp_path)) == ["keep"]
