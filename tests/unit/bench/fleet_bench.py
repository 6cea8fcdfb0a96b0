# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""bench/fleet's scripts as modules: they are not a package, and run.py imports cpu as a sibling."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

FLEET = Path(__file__).resolve().parents[3] / "bench" / "fleet"


def load(name):
    if str(FLEET) not in sys.path:
        sys.path.insert(0, str(FLEET))
    spec = importlib.util.spec_from_file_location("fleet_bench_" + name, FLEET / (name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
