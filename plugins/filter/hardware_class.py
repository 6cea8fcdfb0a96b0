# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError


def hardware_class(host_vars):
    """A host's hardware class: model_serving_hardware_class when set, else a hash of its CPU model and GPUs.

    Takes the host's variables (``hostvars[host]``) rather than a value, so one host can compute every other
    host's class (role defaults are not in ``hostvars``).
    """
    if not isinstance(host_vars, Mapping):
        raise AnsibleFilterError("hardware_class expects a host's variables (hostvars[host]), got %s" % type(host_vars).__name__)
    # model_serving's target `auto` resolves per host (edgeai.fleet.serving_target): hosts that resolved
    # differently need different artifacts even with the same CPU and GPUs.
    choice = host_vars.get("__model_serving_target")
    target = None
    if isinstance(choice, Mapping) and choice.get("target"):
        target = re.sub(r"[^a-z0-9]+", "-", ("%s-%s" % (choice["target"], choice.get("device") or "")).lower()).strip("-")
    explicit = host_vars.get("model_serving_hardware_class")
    if explicit is not None and str(explicit).strip():
        return "-".join([str(explicit).strip()] + ([target] if target else []))
    facts = host_vars.get("ansible_facts") or {}
    processor = facts.get("processor") or []
    cpu = [str(processor[2])] if len(processor) > 2 else ["unknown-cpu"]
    gpus = [str(product) for product in (facts.get("edgeai_gpu") or {}).get("products") or []]
    chosen = ["target=" + target] if target else []
    return hashlib.sha1("|".join(cpu + gpus + chosen).encode("utf-8")).hexdigest()[:12]


class FilterModule:
    def filters(self):
        return {"hardware_class": hardware_class}
