# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.edgeai.fleet.plugins.module_utils._gpu_verdict import verdict


def gpu_verdict(served, manifest=None, budget_ms=0, margin=0.25):
    """Whether the served model needs a GPU to meet budget_ms, and the measurement that says so."""
    if not isinstance(served, Mapping):
        raise AnsibleFilterError("gpu_verdict expects the result of edgeai.fleet.model_verify, got %s"
                                 % type(served).__name__)
    if manifest is not None and not isinstance(manifest, Mapping):
        raise AnsibleFilterError("gpu_verdict: manifest must be a dict (model_deploy's manifest), got %s"
                                 % type(manifest).__name__)
    return verdict(served, manifest, budget_ms, margin)


class FilterModule:
    def filters(self):
        return {"gpu_verdict": gpu_verdict}
