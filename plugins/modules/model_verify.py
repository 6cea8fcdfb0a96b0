#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: model_verify
short_description: Prove a served model over KServe V2 - model ready, golden outputs within tolerance, latency within budget
version_added: 0.1.0
description:
  - Talks the KServe V2 REST protocol that OpenVINO Model Server, Triton and KServe share, with the Python standard
    library only.
  - Waits for the model's own readiness (C(/v2/models/<name>[/versions/<v>]/ready)), never only the server's,
    because OVMS server readiness is sticky and other servers report ready with no model loaded.
  - Sends the golden inputs of the artifact's C(golden.json) and compares every output with the golden output using
    the manifest's C(tolerance) (maximum absolute difference and minimum cosine similarity).
  - Measures p50 and p95 latency over O(requests) inferences on one kept-alive connection and checks them
    against O(latency_budget_ms).
  - Reports the device and precision the server says it used (model metadata or response C(parameters), Triton's
    C(instance_group)) and fails when they differ from O(expect_device) or O(expect_precision).
  - Fails with every figure when any check fails, so a playbook can roll back and print why.
author: edgeai.fleet contributors (@edgeai-fleet)
extends_documentation_fragment:
  - edgeai.fleet.attributes
  - edgeai.fleet.attributes.info_module
attributes:
  platform:
    platforms: posix
options:
  name:
    description: Model name as served.
    type: str
    required: true
  url:
    description: Base URL of the server's KServe V2 REST endpoint.
    type: str
    default: http://127.0.0.1:8000
  version:
    description:
      - Address this version through the C(/versions/<v>) routes (OVMS, Triton). Leave unset for servers without
        versioned routes (the collection's KServe server) and use O(expect_version).
    type: int
  expect_version:
    description: Fail unless the inference response's C(model_version) equals this.
    type: str
  manifest:
    description: Path of the served version's C(manifest.json); the golden file and tolerance come from it.
    type: path
  golden:
    description: Path of a C(golden.json) (KServe V2 tensors); overrides the manifest's.
    type: path
  max_abs:
    description: Largest allowed absolute difference per output element; overrides the manifest's tolerance.
    type: float
  min_cosine:
    description: Smallest allowed cosine similarity per output; overrides the manifest's tolerance.
    type: float
  requests:
    description: Number of timed inferences for the latency figures.
    type: int
    default: 20
  warmup:
    description: Untimed inferences before the timed ones (the first request is reported separately as RV(first_ms)).
    type: int
    default: 1
  latency_budget_ms:
    description: Fail when p95 latency exceeds this many milliseconds.
    type: float
  expect_device:
    description: Fail unless the server reports this device (case-insensitive), for example C(CPU).
    type: str
  expect_precision:
    description: Fail unless the server reports this inference precision, for example C(f32).
    type: str
  ready_timeout:
    description: Seconds to wait for the model to become ready.
    type: float
    default: 60
  timeout:
    description: Seconds to wait for each HTTP response.
    type: float
    default: 10
  validate_certs:
    description: Verify the server's TLS certificate for C(https) URLs.
    type: bool
    default: true
notes:
  - Latency measured here includes HTTP and JSON encoding; compare hosts with the same server and the same O(requests).
seealso:
  - module: edgeai.fleet.model_deploy
"""

EXAMPLES = r"""
- name: Prove the served version on an OVMS host
  edgeai.fleet.model_verify:
    name: ocr_det
    url: http://127.0.0.1:8000
    version: 3
    manifest: /var/lib/edgeai/models/ocr_det/3/manifest.json
    latency_budget_ms: 50
    expect_device: CPU
  register: proof

- name: Show the figures
  ansible.builtin.debug:
    msg: "p50 {{ proof.p50_ms }} ms, p95 {{ proof.p95_ms }} ms on {{ proof.device }} ({{ proof.precision }})"
"""

RETURN = r"""
ready:
  description: Whether the model (version) reported ready.
  returned: always
  type: bool
  sample: true
golden_ok:
  description: Whether every golden output was within tolerance.
  returned: when the model was ready and answered
  type: bool
  sample: true
outputs:
  description: Per output, C(max_abs), C(cosine) and C(equal) against the golden output.
  returned: when the model answered
  type: dict
  sample: {y: {max_abs: 0.0001, cosine: 0.99999, equal: false, error: null}}
tolerance:
  description: The tolerance applied.
  returned: always
  type: dict
  sample: {max_abs: 0.01, min_cosine: 0.999}
first_ms:
  description: Latency of the first inference (cold), in milliseconds.
  returned: when the model was ready
  type: float
  sample: 25.3
p50_ms:
  description: Median latency over O(requests) inferences, in milliseconds.
  returned: when the latency run completed
  type: float
  sample: 18.2
p95_ms:
  description: 95th percentile latency, in milliseconds.
  returned: when the latency run completed
  type: float
  sample: 21.7
within_budget:
  description: Whether p95 met O(latency_budget_ms).
  returned: when O(latency_budget_ms) is set and the latency run completed
  type: bool
  sample: true
device:
  description: Device the server reports for the model, or null when it does not say.
  returned: when the model answered
  type: str
  sample: CPU
precision:
  description: Inference precision the server reports, or null when it does not say.
  returned: when the model answered
  type: str
  sample: f32
model_version:
  description: C(model_version) of the inference response.
  returned: when the model answered
  type: str
  sample: "3"
failures:
  description: Every failed check, in words; empty on success.
  returned: always
  type: list
  elements: str
  sample: []
"""

import json
import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError, fail_from_error
from ansible_collections.edgeai.fleet.plugins.module_utils._files import read_text
from ansible_collections.edgeai.fleet.plugins.module_utils._kserve_v2 import V2Client, validate_golden, validate_tolerance, verify

ARGS = {
    "name": {"type": "str", "required": True},
    "url": {"type": "str", "default": "http://127.0.0.1:8000"},
    "version": {"type": "int"},
    "expect_version": {"type": "str"},
    "manifest": {"type": "path"},
    "golden": {"type": "path"},
    "max_abs": {"type": "float"},
    "min_cosine": {"type": "float"},
    "requests": {"type": "int", "default": 20},
    "warmup": {"type": "int", "default": 1},
    "latency_budget_ms": {"type": "float"},
    "expect_device": {"type": "str"},
    "expect_precision": {"type": "str"},
    "ready_timeout": {"type": "float", "default": 60},
    "timeout": {"type": "float", "default": 10},
    "validate_certs": {"type": "bool", "default": True},
}


def load_json(path, what):
    try:
        text = read_text(path)
    except (OSError, UnicodeError) as exc:
        raise FleetError("%s %s cannot be read: %s" % (what, path, exc), path=path)
    if text is None:
        raise FleetError("%s %s does not exist" % (what, path), path=path)
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise FleetError("%s %s is not valid JSON: %s" % (what, path, exc), path=path)


def inputs(params):
    """Golden tensors and tolerance from the manifest, overridden by explicit parameters."""
    manifest = load_json(params["manifest"], "manifest") if params["manifest"] else {}
    if not isinstance(manifest, dict):
        raise FleetError("manifest %s must hold a JSON object, got %s" % (params["manifest"], type(manifest).__name__),
                         path=params["manifest"])
    golden_path = params["golden"]
    if not golden_path:
        name = manifest.get("golden") or "golden.json"
        if not isinstance(name, str):
            raise FleetError("manifest %s: golden must be a file name, got %r" % (params["manifest"], name),
                             path=params["manifest"], field="golden")
        golden_path = os.path.join(os.path.dirname(params["manifest"]), name)
    golden = validate_golden(load_json(golden_path, "golden file"), golden_path)
    tolerance = dict(validate_tolerance(manifest.get("tolerance") or {}, params["manifest"] or golden_path))
    for key in ("max_abs", "min_cosine"):
        if params[key] is not None:
            tolerance[key] = params[key]
    if tolerance.get("max_abs") is None and tolerance.get("min_cosine") is None:
        raise FleetError("No tolerance: set max_abs and/or min_cosine, or point manifest at a manifest.json with 'tolerance'")
    return golden, tolerance


def main():
    module = AnsibleModule(argument_spec=ARGS, supports_check_mode=True, required_one_of=[("manifest", "golden")])
    p = module.params
    client = None
    try:
        if p["requests"] < 1 or p["warmup"] < 0:
            raise FleetError("requests must be >= 1 and warmup >= 0 (got %d and %d)" % (p["requests"], p["warmup"]))
        # NaN compares false with the deadline, so the readiness poll would never end.
        if not 0 <= p["ready_timeout"] < float("inf"):
            raise FleetError("ready_timeout must be a finite number of seconds >= 0, got %r" % p["ready_timeout"])
        golden, tolerance = inputs(p)
        client = V2Client(p["url"], p["timeout"], p["validate_certs"])
        expect = {"version": p["expect_version"], "device": p["expect_device"], "precision": p["expect_precision"]}
        result = verify(client, p["name"], golden, tolerance, p["version"], p["requests"], p["warmup"],
                        p["latency_budget_ms"], p["ready_timeout"], expect)
    except FleetError as err:
        fail_from_error(module, err)
    finally:
        if client is not None:
            client.close()
    result["tolerance"] = tolerance
    if result["failures"]:
        module.fail_json(msg="Model %s failed verification: %s" % (p["name"], "; ".join(result["failures"])), **result)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
