# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Test double of a device connection: the local connection under another name.

ansible.builtin.reboot refuses the ``local`` transport (it would reboot the controller). Each simulated device runs
its modules here through an interpreter wrapper that points the bootc double at the device's own state, and its
reboot command is the double's reboot hook, so a reboot only moves that device's simulated deployments.
"""

from __future__ import annotations

DOCUMENTATION = """
name: edgeai_double
short_description: local execution for simulated devices (tests only)
description:
  - The ansible.builtin.local connection under a name ansible.builtin.reboot accepts.
author: edgeai.fleet contributors
"""

from ansible.plugins.connection.local import Connection as LocalConnection


class Connection(LocalConnection):
    transport = "edgeai_double"
