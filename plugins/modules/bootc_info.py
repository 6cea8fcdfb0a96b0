#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: bootc_info
short_description: Gather bootc deployment facts (booted, staged and rollback images and digests)
version_added: 0.1.0
description:
  - Runs C(bootc status --format=json --format-version=1) and returns the parsed document as the
    C(edgeai_bootc) fact.
  - Works on every bootc release from 1.1.x to 1.16; every field that a given release does not print is
    returned as null or false. Output polluted by the C(Waiting for sysroot lock...) notice that bootc before
    1.7 printed on stdout is still parsed.
  - A host without bootc, or not booted via bootc (a package-mode host, a container), is reported with
    C(is_bootc=false) and a C(reason), not as a failure.
  - bootc needs root even for C(status) on a booted host, so run this with C(become=true).
author: edgeai.fleet contributors (@edgeai-fleet)
extends_documentation_fragment:
  - edgeai.fleet.attributes
  - edgeai.fleet.attributes.info_module
attributes:
  platform:
    platforms: posix
options:
  executable:
    description:
      - Path of the bootc binary. By default C(bootc) is looked up on E(PATH).
    type: path
  timeout:
    description:
      - Seconds each C(bootc) command may run before it is stopped and the task fails.
      - C(bootc status) waits for the sysroot lock while another bootc or rpm-ostree operation runs;
        without a deadline that would block a rollout wave forever.
      - Enforced with coreutils C(timeout) (SIGTERM, then SIGKILL 10 seconds later).
    type: int
    default: 120
notes:
  - Changed-ness of other modules is computed from these facts, never from bootc's text output.
seealso:
  - module: edgeai.fleet.bootc_image
"""

EXAMPLES = r"""
- name: Read the bootc state
  edgeai.fleet.bootc_info:
  become: true

- name: Show the booted digest
  ansible.builtin.debug:
    msg: "{{ ansible_facts.edgeai_bootc.booted.digest | default('not a bootc host') }}"
"""

RETURN = r"""
ansible_facts:
  description: Facts to add to ansible_facts.
  returned: always
  type: dict
  contains:
    edgeai_bootc:
      description:
        - The host's bootc state.
        - V(booted), V(staged) and V(rollback) are null or a dict with keys C(image), C(transport), C(signature),
          C(digest), C(version), C(timestamp), C(architecture), C(pinned), C(incompatible), C(download_only),
          C(soft_reboot_capable), C(store), C(ostree_checksum), C(ostree_stateroot), C(deploy_serial), C(backend)
          (V(ostree) or V(composefs)), C(composefs) (null, or C(verity), C(boot_type) V(bls)/V(uki), C(bootloader),
          C(boot_digest), C(missing_verity_allowed)) and C(cached_update).
        - C(is_bootc) follows bootc's own definition (C(status.type) is C(bootcHost), that is, the booted deployment
          comes from a container image; composefs hosts, where bootc never sets C(type), count when their booted deployment has an
          image). A plain rpm-ostree host, a host with an incompatible booted deployment, or one with nothing booted is
          C(is_bootc=false); C(reason) says why. The deployments bootc reports are returned either way.
        - C(rollback_queued) is true when the next boot is the rollback deployment.
        - C(update_available) is true when the last C(bootc upgrade --check) found a digest that is neither
          booted nor staged; C(cached_update) then holds its C(digest), C(version), C(timestamp), C(architecture) and
          C(image). On composefs hosts (C(backend=composefs)) bootc records no cached update, so it is null (unknown).
        - C(incompatible) is true when the booted or the staged deployment has local rpm-ostree changes;
          C(incompatible_deployments) lists which (V(booted), V(staged)). C(bootc upgrade) refuses such hosts.
        - C(bootc_version) is the installed version (C(x.y.z)) or null; C(features) maps optional bootc
          features (C(soft_reboot), C(download_only), C(switch_tag_digest), ...) to true, false, or null when the
          version is unknown.
        - C(raw) is the unmodified C(bootc status) document.
        - C(systemd_booted) is false where systemd is not running as init (a container or an image build, where
          roles write files but start nothing); C(ostree_booted) is true on an image-based (ostree) host. Both
          are read from C(/run) on every host, bootc or not.
      returned: always
      type: dict
      sample:
        is_bootc: true
        reason: null
        api_version: org.containers.bootc/v1
        booted:
          image: quay.io/example/edge-os:1.2
          transport: registry
          signature: null
          digest: sha256:47e5ed613a970b6574bfa954ab25bb6e85656552899aa518b5961d9645102b38
          version: "1.2"
          timestamp: "2026-03-01T12:00:00Z"
          architecture: amd64
          pinned: false
          incompatible: false
          download_only: false
          soft_reboot_capable: false
          store: ostreeContainer
          ostree_checksum: 439f6bd2e2361bee292c1f31840d798c5ac5ba76483b8021dc9f7b0164ac0f48
          ostree_stateroot: default
          deploy_serial: 0
          backend: ostree
          composefs: null
          cached_update: null
        staged: null
        rollback: null
        other_deployments: []
        spec_image: {image: quay.io/example/edge-os:1.2, transport: registry, signature: null}
        boot_order: default
        rollback_queued: false
        update_available: false
        cached_update: null
        incompatible: false
        incompatible_deployments: []
        backend: ostree
        read_only: false
        usr_overlay: null
        type: bootcHost
        bootc_version: 1.16.9
        features: {rollback: true, soft_reboot: true, download_only: true}
        raw: {}
        systemd_booted: true
        ostree_booted: true
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.edgeai.fleet.plugins.module_utils._bootc_status import boot_mode, gather, not_bootc
from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError, fail_from_error
from ansible_collections.edgeai.fleet.plugins.module_utils._runner import CliRunner


def main():
    module = AnsibleModule(argument_spec={"executable": {"type": "path"}, "timeout": {"type": "int", "default": 120}},
                           supports_check_mode=True)
    executable = module.params["executable"] or module.get_bin_path("bootc")
    # A directory is "executable" to os.access too; run_command would then die with a traceback.
    if module.params["executable"] and not (os.path.isfile(executable) and os.access(executable, os.X_OK)):
        module.fail_json(msg="executable=%s is not an executable file; point it at the bootc binary or leave it "
                             "unset to search PATH" % executable)
    if not executable:
        facts = not_bootc("bootc is not installed (no bootc executable on PATH); this is not an image-mode host.")
    else:
        try:
            facts = gather(CliRunner.for_module(module, executable, timeout=module.params["timeout"]))
        except FleetError as err:
            fail_from_error(module, err)
    facts.update(boot_mode())
    module.exit_json(changed=False, ansible_facts={"edgeai_bootc": facts})


if __name__ == "__main__":
    main()
