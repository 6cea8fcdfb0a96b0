#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# The work is done by the action plugin of the same name on the controller; this file holds its documentation.

from __future__ import annotations

DOCUMENTATION = r"""
module: model_artifact_fetch
short_description: Fetch a device-compiled model artifact into the controller's cache, checked against its manifest
version_added: 0.1.0
description:
  - Copies the artifact that M(edgeai.fleet.model_compile) wrote on a device (model files, C(manifest.json),
    C(golden.json)) to C(<cache>/<hardware_class>/<name>) on the controller, so the other hosts of the hardware class
    get it from there. Used by the role M(edgeai.fleet.model_serving) when a device compiles.
  - The device is untrusted. Its C(manifest.json) is bounded to 1 MiB and must be a valid manifest of model O(name)
    listing at most 1000 files; every listed path must be relative, in normal form (no empty, C(.) or C(..)
    components, no control, format or backslash characters, at most 1024 characters and 255 bytes per component)
    and carry a lowercase sha256. Anything else fails the task before a byte is fetched.
  - The cache directory is made from controller-side values only (O(cache), O(hardware_class), O(name)); the class
    and the name must each be one plain path component.
  - Files are fetched into a fresh C(.incoming-*) directory beside the cache directory. Only when that directory holds
    exactly the manifest and its files, each regular, within O(max_bytes) in total and with the manifest's sha256, is
    it renamed over the cache directory. A failure leaves the previous cache directory and no staging litter.
  - When the cache already holds exactly this artifact (same manifest bytes, every file verified) nothing is fetched.
author: edgeai.fleet contributors (@edgeai-fleet)
extends_documentation_fragment:
  - edgeai.fleet.attributes
attributes:
  action:
    description: Runs on the controller; reads the device through the connection.
    support: full
  check_mode:
    support: full
    details:
      - Reads and checks the device's manifest and listing, reports whether the cache would change, fetches nothing.
  diff_mode:
    support: none
  idempotent:
    support: full
  platform:
    platforms: posix
options:
  src:
    description: Directory of the artifact on the device (the O(edgeai.fleet.model_compile#module:dest) it compiled to).
    type: str
    required: true
  cache:
    description: Controller directory holding one artifact per hardware class and model.
    type: path
    required: true
  hardware_class:
    description: Hardware class the artifact serves; one path component of letters, digits, C(_), C(.), C(+), C(-).
    type: str
    required: true
  name:
    description: Model name; the manifest's C(name) must equal it. One path component like O(hardware_class).
    type: str
    required: true
  max_bytes:
    description: Largest total size of the artifact's files, as the device lists them and as they arrive.
    type: int
    default: 17179869184
notes:
  - A device that controls its own facts can also set variables on the controller (facts are injected as variables
    while C(INJECT_FACTS_AS_VARS) is on); the role M(edgeai.fleet.model_serving) refuses device facts named like its
    variables before it uses them to name controller paths.
seealso:
  - module: edgeai.fleet.model_compile
  - module: edgeai.fleet.model_deploy
"""

EXAMPLES = r"""
- name: Fetch the class's artifact from the host that compiled it
  edgeai.fleet.model_artifact_fetch:
    src: /var/lib/edgeai/artifacts/ocr_det
    cache: "{{ playbook_dir }}/.build/model-artifacts"
    hardware_class: jetson-orin-nx
    name: ocr_det
    max_bytes: 4294967296
"""

RETURN = r"""
path:
  description: The controller directory that holds the verified artifact.
  returned: success
  type: str
  sample: /srv/ansible/.build/model-artifacts/jetson-orin-nx/ocr_det
identity:
  description: The artifact's identity (sha256 of its file map), as M(edgeai.fleet.model_deploy) records it.
  returned: success
  type: str
  sample: 3f0a5c1e9b7d2c4a6e8f0b1d3c5e7a9f2b4d6c8e0a1b3d5f7c9e1a3b5d7f9c1e
files:
  description: The artifact's files, relative to RV(path), manifest.json not included.
  returned: success
  type: list
  elements: str
  sample: [golden.json, model.bin, model.xml]
"""
