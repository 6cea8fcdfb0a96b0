# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Hypothesis set-up for the property layer: deterministic, bounded, the same on every machine."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# derandomize: CI and a laptop draw the same cases, so a failure reproduces and the run time is stable.
settings.register_profile("fleet", max_examples=60, deadline=None, derandomize=True, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
settings.load_profile(os.environ.get("EDGEAI_HYPOTHESIS_PROFILE", "fleet"))


# Other test files of this layer import tree_hash from here.
from ansible_collections.edgeai.fleet.tests.unit.property.strategies import tree_hash  # noqa: E402,F401 pylint: disable=unused-import,wrong-import-position
