# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Final state after converge, idempotence and the bad-image side effect.

Simulated: bootc (the lab double, tests/lab/doubles/bootc) and reboots (its reboot hook).
"""

from __future__ import annotations

import json

GOOD = "registry.example.com/edgeai/edge-os:2.0"


def _state(host):
    return json.loads(host.check_output("/usr/libexec/bootc-double/ctl show"))


def test_good_image_booted_after_automatic_rollback(host):
    status = json.loads(host.check_output("bootc status --format=json --format-version=1"))["status"]
    state = _state(host)
    assert status["booted"]["image"]["image"]["image"] == GOOD
    assert status["booted"]["image"]["imageDigest"] == state["catalogue"][GOOD]["digest"]
    assert status["staged"] is None and status["rollbackQueued"] is False


def test_health_check_passes(host):
    assert host.run("/usr/libexec/bootc-double/health-check").rc == 0


def test_bootc_verbs_used(host):
    """Switch to 2.0, to bad, one rollback, switch to nofinalize (no rollback needed: it never booted).

    Never --apply, never a second rollback (the toggle).
    """
    verbs = [entry[1:] for entry in _state(host)["log"] if entry[0] == "bootc"]
    assert [v[0] for v in verbs] == ["switch", "switch", "rollback", "switch"]
    assert not any("--apply" in v for v in verbs)
