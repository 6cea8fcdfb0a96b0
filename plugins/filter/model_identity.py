# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.edgeai.fleet.plugins.module_utils._model_repo import identity


def model_identity(manifest):
    """The identity edgeai.fleet.model_deploy records for an artifact with this manifest.json."""
    if not isinstance(manifest, Mapping) or not isinstance(manifest.get("files"), Mapping):
        raise AnsibleFilterError("model_identity expects a parsed manifest.json (a dict with a 'files' map), got %s"
                                 % type(manifest).__name__)
    return identity(manifest)


class FilterModule:
    def filters(self):
        return {"model_identity": model_identity}
