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


# ---- faults and hostile layouts (issue 11) ------------------------------------------------------

class _FailingFile:
    """A file object whose write fails like a full or broken disk; everything else is the real file."""

    def __init__(self, real, error):
        self.real, self.error = real, error

    def write(self, _data):
        raise self.error

    def __getattr__(self, name):
        return getattr(self.real, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.real.close()


@pytest.mark.parametrize("errno_, where", [(28, "write"), (5, "write"), (28, "fsync"), (5, "fsync")])
def test_failed_write_leaves_original_and_no_litter(tmp_path, monkeypatch, errno_, where):
    """Fault: ENOSPC/EIO while writing or syncing the temp file. Before the fix the backup copy (taken
    first) stayed behind as ``*.edgeai.bak`` litter; now the original is intact and nothing else is left."""
    from ansible_collections.edgeai.fleet.plugins.module_utils import _files

    target = tmp_path / "config.toml"
    target.write_text("original")
    error = OSError(errno_, os.strerror(errno_))
    if where == "write":
        real_fdopen = os.fdopen
        monkeypatch.setattr(_files.os, "fdopen", lambda fd, *a, **kw: _FailingFile(real_fdopen(fd, *a, **kw), error))
    else:
        def fsync(_fd):
            raise error
        monkeypatch.setattr(_files.os, "fsync", fsync)
    with pytest.raises(FleetError, match="Cannot write"):
        atomic_write(str(target), "new content")
    assert target.read_text() == "original"
    assert os.listdir(str(tmp_path)) == ["config.toml"]


def test_failed_move_removes_the_backup_it_took(tmp_path):
    """Fault: the rename fails after the backup was taken; the backup must not stay as litter."""
    target = tmp_path / "keep"
    target.write_text("original")

    def broken(src, dest):
        raise OSError(28, "No space left on device")

    with pytest.raises(FleetError, match="No space left"):
        atomic_write(str(target), "new", backup=True, atomic_move=broken)
    assert target.read_text() == "original"
    assert os.listdir(str(tmp_path)) == ["keep"]


def test_symlinked_config_is_written_through(tmp_path):
    """Hostile layout: /etc/containerd/config.toml is a symlink to the administrator's real file. Before the fix
    os.replace swapped the link for a regular file, silently detaching the config; now the target is
    rewritten atomically in its own directory and the link stays a link."""
    real_dir = tmp_path / "real"
    real_dir.mkdir()
    real = real_dir / "config.toml"
    real.write_text("old")
    real.chmod(0o600)
    link = tmp_path / "etc" / "config.toml"
    link.parent.mkdir()
    link.symlink_to(real)
    saved = atomic_write(str(link), "new", mode=0o600)
    assert link.is_symlink() and os.readlink(str(link)) == str(real)
    assert real.read_text() == "new" and stat.S_IMODE(real.stat().st_mode) == 0o600
    assert os.path.dirname(saved) == str(real_dir) and open(saved).read() == "old"
    assert os.listdir(str(link.parent)) == ["config.toml"]
    restore(str(link), saved)
    assert link.is_symlink() and real.read_text() == "old"


def test_symlink_to_a_directory_is_refused(tmp_path):
    """Hostile layout: the config path points at a directory; a clear FleetError, nothing replaced."""
    (tmp_path / "dir").mkdir()
    (tmp_path / "config.toml").symlink_to(tmp_path / "dir")
    with pytest.raises(FleetError, match="not a regular file"):
        atomic_write(str(tmp_path / "config.toml"), "x")
    assert (tmp_path / "config.toml").is_symlink()


def test_backup_of_a_private_file_is_never_world_readable(tmp_path, monkeypatch):
    """Secret exposure: shutil.copy2 created the backup of a 0600 file with the umask's 0644 and narrowed it
    only afterwards; the backup must be created 0600 (checked at the moment of creation)."""
    from ansible_collections.edgeai.fleet.plugins.module_utils import _files

    target = tmp_path / "config.toml"
    target.write_text("password = 's3cret'")
    target.chmod(0o600)
    modes = []
    real_open = os.open

    def spy(path, flags, mode=0o777, **kw):
        fd = real_open(path, flags, mode, **kw)
        if str(path).endswith(".edgeai.bak"):
            modes.append(stat.S_IMODE(os.fstat(fd).st_mode))
        return fd

    monkeypatch.setattr(_files.os, "open", spy)
    saved = atomic_write(str(target), "password = 'n3w'", mode=0o600)
    assert modes and all(m & 0o077 == 0 for m in modes)
    assert stat.S_IMODE(os.stat(saved).st_mode) == 0o600


def test_two_backups_in_the_same_second_do_not_overwrite(tmp_path):
    """Fault: two writes within one second used one backup name, losing the first original."""
    target = tmp_path / "f"
    target.write_text("one")
    first = atomic_write(str(target), "two")
    second = atomic_write(str(target), "three")
    assert first != second and open(first).read() == "one" and open(second).read() == "two"


def test_private_mode_is_not_widened_by_atomic_move(tmp_path):
    """Secret exposure: AnsibleModule.atomic_move gives a new file the umask's mode (0644); a 0600 file is
    renamed with os.replace instead, so it is never world-readable."""
    def umask_move(src, dest):
        os.replace(src, dest)
        os.chmod(dest, 0o644)

    atomic_write(str(tmp_path / "secret"), "x", mode=0o600, atomic_move=umask_move)
    assert stat.S_IMODE((tmp_path / "secret").stat().st_mode) == 0o600


@pytest.mark.parametrize("content, message", [(b"\xff\xfe bad", "not UTF-8"), (b"x" * 65, "larger than 64 bytes")])
def test_read_text_refuses_binary_and_huge_files(tmp_path, content, message):
    """Malformed input: non-UTF-8 and oversized files give a FleetError naming the file, never a traceback
    or a whole huge file in memory."""
    path = tmp_path / "config.toml"
    path.write_bytes(content)
    with pytest.raises(FleetError, match=message) as info:
        read_text(str(path), limit=64)
    assert str(path) in info.value.msg


def test_read_text_of_a_directory_is_a_fleet_error(tmp_path):
    with pytest.raises(FleetError, match="Cannot read"):
        read_text(str(tmp_path))
