# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Fixtures shared by the daemon suites in tests/system."""

from __future__ import annotations

import pytest

from _nvidia_runtime_helpers import kill_processes_under, unmount_under


@pytest.fixture
def work(tmp_path):
    """A scratch root for one daemon; whatever the daemon started or mounted under it is gone afterwards."""
    path = str(tmp_path)
    yield path
    kill_processes_under(path)
    unmount_under(path)
