#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: bootc_image
short_description: Stage a bootc image (switch or upgrade) or queue a rollback, without rebooting
version_added: 0.1.0
description:
  - Makes a bootc host track and stage an image (O(state=switched)), stage the newest version of the image it
    tracks (O(state=latest)), or queue the rollback deployment for the next boot (O(state=rolled_back)).
  - Never reboots and never passes C(--apply); RV(reboot_required) says whether a reboot would boot something
    new. Reboot with M(ansible.builtin.reboot) (the C(edgeai.fleet.bootc_update) role does that and verifies the result).
  - C(changed) is decided by comparing C(bootc status) before and after (digests, staged deployment, download-only
    lock, boot order), never from bootc's text output.
  - Check mode changes nothing on the host. For O(state=latest) it runs C(bootc upgrade --check), which only
    fetches the manifest and records it as the cached update.
    On composefs hosts bootc records no cached update and C(upgrade --check) prints no machine-readable verdict, so
    check mode predicts an upgrade there (with a warning) and runs nothing.
  - Refuses, before running bootc, hosts whose booted or staged deployment has local rpm-ostree changes
    (C(incompatible); C(bootc upgrade) refuses them, and a switch or rollback would discard the changes), a read-only
    sysroot, and O(state=latest) on a host that tracks no image. A plain rpm-ostree host (booted deployment without an
    image) can be moved to an image with O(state=switched), as with C(bootc switch).
  - A registry O(image) with both a tag and a digest (C(repo:tag@sha256:...)) needs bootc 1.2.0 or newer; older
    bootc is refused with the digest-only reference to use instead.
  - On any failure after the bootc verb ran, including a verb that exited 0 but did not stage what was asked, the
    auth file is restored (or removed when there was none) and the failed result carries C(auth_restored), the
    host's deployments as C(after), and C(changed), which is V(true) only when the deployments differ from before
    or the old auth file could not be put back.
author: edgeai.fleet contributors (@edgeai-fleet)
extends_documentation_fragment:
  - edgeai.fleet.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  idempotent:
    support: full
    details:
      - Decided from image references and digests. O(state=switched) is a no-op when the host already tracks O(image)
        (booted or staged); switch to a C(repo@sha256:...) reference to pin a digest.
      - O(state=rolled_back) is a no-op while a rollback is queued; pass O(expected_digest) so that it also stays a
        no-op after the reboot into the rollback deployment (bootc rollback is a toggle).
  platform:
    platforms: posix
options:
  state:
    description:
      - V(switched) makes the host track O(image) with O(transport) and stages it, unless it is already booted or staged.
        Switching to the same tag does not fetch a newer digest; use V(latest) for that.
      - V(latest) stages the newest version of the tracked image (C(bootc upgrade)), or reports no change.
      - V(rolled_back) queues the rollback deployment for the next boot. Any staged deployment is discarded by bootc.
    type: str
    choices: [switched, latest, rolled_back]
    default: switched
  image:
    description:
      - Image reference for O(state=switched), for example C(quay.io/example/edge-os:1.2) or
        C(quay.io/example/edge-os@sha256:<digest>); an absolute path for the C(oci), C(oci-archive) and C(dir)
        transports. A C(docker://) prefix is accepted and removed.
    type: str
  transport:
    description:
      - How bootc fetches O(image).
    type: str
    choices: [registry, oci, oci-archive, containers-storage, dir]
    default: registry
  enforce_container_sigpolicy:
    description:
      - Pass C(--enforce-container-sigpolicy) so that C(/etc/containers/policy.json) must verify signatures.
      - When unset, enforcement the host already has is kept (bootc does not inherit the flag on a later switch).
    type: bool
  retain:
    description:
      - Keep the previously booted image's ostree ref (C(--retain)); by default bootc prunes it.
    type: bool
    default: false
  download_only:
    description:
      - With O(state=latest), download and stage the update locked so that a reboot does not apply it (bootc 1.12+).
        Unlock it later with O(from_downloaded). Download-only state is lost on reboot (layers stay cached).
    type: bool
    default: false
  from_downloaded:
    description:
      - With O(state=latest), unlock the staged download-only deployment without contacting the registry (bootc 1.12+).
    type: bool
    default: false
  soft_reboot:
    description:
      - Prepare the staged or rollback deployment for a soft reboot (C(--soft-reboot), bootc 1.7+). V(required) fails
        when the deployment is not soft-reboot capable; V(auto) falls back to a full reboot.
    type: str
    choices: [required, auto]
  expected_digest:
    description:
      - With O(state=rolled_back), the digest that must boot after the rollback (the previous image). The module
        fails without changing anything when the rollback deployment has another digest, and is a no-op when that
        digest is already booted.
    type: str
  auth:
    description:
      - Registry credentials written to O(auth_file) (merged with its other entries, mode 0600, atomically)
        before bootc runs. Never passed on the command line. Restored to its previous content when bootc fails.
    type: dict
    suboptions:
      registry:
        description: Registry host the credentials are for; defaults to the registry of O(image) or of the tracked image.
        type: str
      username:
        description: User name.
        type: str
        required: true
      password:
        description: Password or token.
        type: str
        required: true
  auth_file:
    description:
      - Which auth file bootc should read. V(/run/ostree/auth.json) is ephemeral (gone after a reboot) and checked first;
        V(/etc/ostree/auth.json) persists and is also what logically bound images use.
    type: str
    choices: [/run/ostree/auth.json, /etc/ostree/auth.json]
    default: /run/ostree/auth.json
  min_free_mib:
    description:
      - Fail before a pull when the file system holding the deployments (C(/sysroot), or C(/)) has less free space
        than this (MiB). Checked only when the image would be pulled. V(0) disables the check.
    type: int
    default: 0
  boot_min_free_mib:
    description:
      - Fail before staging when C(/boot) has less free space than this (MiB). A full C(/boot) makes the update
        fail silently at shutdown. V(0) disables the check.
    type: int
    default: 32
  executable:
    description:
      - Path of the bootc binary. By default C(bootc) is looked up on E(PATH).
    type: path
  timeout:
    description:
      - Seconds each C(bootc) command may run before it is stopped and the task fails. A C(switch) or
        C(upgrade) pulls the image, so this is generous; the deadline exists so that a held sysroot lock or a
        stalled registry fails the task instead of blocking a rollout wave forever.
      - Enforced with coreutils C(timeout) (SIGTERM, then SIGKILL 10 seconds later). A stopped verb leaves
        the booted deployment as it was; the auth file is restored as for any other failure.
    type: int
    default: 3600
notes:
  - Needs root (C(become=true)); bootc refuses every verb otherwise.
  - Mask C(bootc-fetch-apply-updates.timer), or hosts reboot into updates outside the rollout.
seealso:
  - module: edgeai.fleet.bootc_info
"""

EXAMPLES = r"""
- name: Stage a pinned image
  edgeai.fleet.bootc_image:
    image: quay.io/example/edge-os@sha256:47e5ed613a970b6574bfa954ab25bb6e85656552899aa518b5961d9645102b38
  become: true
  register: staged

- name: Reboot into it
  ansible.builtin.reboot:
  become: true
  when: staged.reboot_required

- name: Download the newest image now, apply it in the maintenance window
  edgeai.fleet.bootc_image:
    state: latest
    download_only: true
    auth:
      username: robot
      password: "{{ registry_token }}"
  become: true

- name: Queue the rollback to the previous image
  edgeai.fleet.bootc_image:
    state: rolled_back
    expected_digest: "{{ previous_digest }}"
  become: true
"""

RETURN = r"""
reboot_required:
  description: Whether the next boot changes the booted deployment (a staged deployment that is not download-only, or a queued rollback).
  returned: always
  type: bool
  sample: true
before:
  description: Booted, staged and rollback deployments (image, transport, digest, version) and the boot order before the task.
  returned: always
  type: dict
  sample: {booted: {image: "quay.io/example/edge-os:1.1", transport: registry, digest: "sha256:47e5...", version: "1.1"},
           staged: null, rollback: null, rollback_queued: false}
after:
  description: The same after the task (predicted in check mode, where a digest not yet fetched is null).
  returned: always
  type: dict
  sample: {booted: {image: "quay.io/example/edge-os:1.1", transport: registry, digest: "sha256:47e5...", version: "1.1"},
           staged: {image: "quay.io/example/edge-os:1.2", transport: registry, digest: "sha256:a0a0...", version: "1.2",
                    download_only: false}, rollback: null, rollback_queued: false}
bootc_version:
  description: The installed bootc version, or null when it could not be read.
  returned: always
  type: str
  sample: 1.16.9
cmd:
  description: The bootc command that changed the host (or would, in check mode); null when nothing changed.
  returned: always
  type: list
  elements: str
  sample: [/usr/bin/bootc, switch, --transport, registry, "quay.io/example/edge-os:1.2"]
auth_file:
  description: The auth file that was written, or null.
  returned: always
  type: str
  sample: /run/ostree/auth.json
status:
  description: The host's bootc facts after the task, in the shape of M(edgeai.fleet.bootc_info)'s C(edgeai_bootc).
  returned: always
  type: dict
ansible_facts:
  description: Refreshed facts.
  returned: always
  type: dict
  contains:
    edgeai_bootc:
      description: RV(status) plus C(systemd_booted) and C(ostree_booted), as M(edgeai.fleet.bootc_info) returns them.
      returned: always
      type: dict
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.edgeai.fleet.plugins.module_utils._bootc_image import BootcImage
from ansible_collections.edgeai.fleet.plugins.module_utils._bootc_status import boot_mode
from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError, fail_from_error
from ansible_collections.edgeai.fleet.plugins.module_utils._runner import CliRunner, check_timeout

ARGUMENT_SPEC = {
    "state": {"type": "str", "choices": ["switched", "latest", "rolled_back"], "default": "switched"},
    "image": {"type": "str"},
    "transport": {"type": "str", "choices": ["registry", "oci", "oci-archive", "containers-storage", "dir"],
                  "default": "registry"},
    "enforce_container_sigpolicy": {"type": "bool"},
    "retain": {"type": "bool", "default": False},
    "download_only": {"type": "bool", "default": False},
    "from_downloaded": {"type": "bool", "default": False},
    "soft_reboot": {"type": "str", "choices": ["required", "auto"]},
    "expected_digest": {"type": "str"},
    "auth": {"type": "dict", "options": {
        "registry": {"type": "str"},
        "username": {"type": "str", "required": True},
        "password": {"type": "str", "required": True, "no_log": True},
    }},
    "auth_file": {"type": "str", "choices": ["/run/ostree/auth.json", "/etc/ostree/auth.json"],
                  "default": "/run/ostree/auth.json"},
    "min_free_mib": {"type": "int", "default": 0},
    "boot_min_free_mib": {"type": "int", "default": 32},
    "executable": {"type": "path"},
    "timeout": {"type": "int", "default": 3600},
}


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True,
                           required_if=[("state", "switched", ["image"])],
                           mutually_exclusive=[("download_only", "from_downloaded")])
    executable = module.params["executable"] or module.get_bin_path("bootc")
    if module.params["executable"] and not os.access(executable, os.X_OK):
        module.fail_json(msg="executable=%s is not an executable file; point it at the bootc binary or leave it "
                             "unset to search PATH" % executable)
    if not executable:
        module.fail_json(msg="bootc is not installed on this host (no bootc on PATH), so its image cannot be managed; "
                             "set executable if bootc lives elsewhere")
    try:
        core = BootcImage(CliRunner.for_module(module, executable, timeout=check_timeout(module.params["timeout"])),
                          dict(module.params),
                          check_mode=module.check_mode)
        result = core.run()
    except FleetError as err:
        fail_from_error(module, err)
    warnings = result.pop("warnings")
    diff = result.pop("diff")
    for warning in warnings:
        module.warn(warning)
    if module._diff:
        result["diff"] = diff
    result["ansible_facts"] = {"edgeai_bootc": dict(result["status"], **boot_mode())}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
