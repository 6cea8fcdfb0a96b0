#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: model_deploy
short_description: Install a compiled model as a new numbered version in a model repository, promote it or roll it back
version_added: 0.1.0
description:
  - Installs an artifact written by M(edgeai.fleet.model_compile) (model files, C(manifest.json), C(golden.json)) as a
    new version directory C(<repository>/<name>/<version>/), the layout OpenVINO Model Server and Triton read, and
    makes it the served version.
  - Every file's sha256 is checked against the manifest on arrival, in a staging directory beside the versions; only a
    verified artifact is renamed into place, so an interrupted or corrupt transfer leaves the served version untouched.
  - The served version is switched atomically and in one place per O(backend) - the OVMS C(config.json) entry
    (C(model_version_policy.specific)), the Triton C(config.pbtxt) (C(version_policy.specific)), and for every
    backend a C(current) symlink replaced by a rename. The server still has to reload (OVMS C(POST /v1/config/reload),
    Triton C(POST /v2/repository/models/<name>/load), a restart of the KServe service); the role M(edgeai.fleet.model_serving)
    does that when RV(switched) is true.
  - A redeploy of an artifact whose files have the same sha256s as a kept version transfers no model bytes (for O(url)
    the archive's sha256, for a digest-pinned O(image) the digest, identify it without a download), reuses that
    version and reports C(changed=false) when it already serves.
  - Version numbers are never reused, because OVMS does not notice changed files in an existing version directory.
    The last O(keep) versions are kept, always including the served one.
  - O(state=rolled_back) stops serving a version that failed verification, switches back to the version served
    before it, deletes the rejected version and remembers its identity so it is not deployed again by accident.
author: edgeai.fleet contributors (@edgeai-fleet)
extends_documentation_fragment:
  - edgeai.fleet.attributes
attributes:
  check_mode:
    support: full
    details:
      - With O(url) or an O(image) not yet pulled, check mode predicts a new version without downloading anything.
      - A O(src) that does not exist yet (copied by an earlier task that check mode skipped) predicts a new version.
  diff_mode:
    support: full
  idempotent:
    support: full
    details:
      - O(state=rolled_back) without O(version) rolls back whatever serves now, so it is idempotent only with O(version).
  platform:
    platforms: posix
options:
  name:
    description: Model name served by the server, also the directory name in O(repository).
    type: str
    required: true
  repository:
    description: The model repository on the device. Keep it under C(/var) on image-based (bootc) hosts.
    type: path
    default: /var/lib/edgeai/models
  backend:
    description: Server that reads the repository; decides which switch file is written besides the C(current) link.
    type: str
    choices: [kserve, ovms, triton]
    default: kserve
  state:
    description:
      - V(present) installs the artifact (or reuses the kept version with the same files) and makes it the served version.
      - V(rolled_back) stops serving O(version) (default the served version) and serves the previous version again.
    type: str
    choices: [present, rolled_back]
    default: present
  src:
    description:
      - A directory on the device holding the artifact (C(manifest.json) at its top). The role copies controller files
        there first.
    type: path
  identity:
    description:
      - The identity of an artifact this host may already keep (a digest of its C(manifest.json) file map, from the
        P(edgeai.fleet.model_identity#filter) filter on the controller).
      - When a kept version has it, that version is made current (nothing to do if it already is) without any
        artifact on the device; otherwise nothing changes and RV(artifact_needed) is V(true), so the artifact is copied
        and deployed with O(src) only then. A converged run then costs this one call.
    type: str
  url:
    description:
      - HTTP(S) URL of a tar archive (optionally compressed) of the artifact directory. The device downloads it
        with the Python standard library. Requires O(sha256).
      - The URL may carry credentials (C(user:password@) or a signed query string such as C(X-Amz-Signature),
        C(sig=) or C(token=)), so the option is C(no_log), and the bookkeeping file, results and error messages
        show it without userinfo, query and fragment. The O(sha256) identifies the artifact.
    type: str
  sha256:
    description: Expected sha256 (hex) of the archive at O(url). Mandatory with O(url).
    type: str
  image:
    description:
      - OCI image reference of a data-only model image (C(FROM scratch), C(COPY model/ /models/<name>/)). Files are
        copied out of a created, never started, container with C(podman cp). Pin it by digest (C(...@sha256:...))
        to identify it without contacting a registry.
    type: str
  image_path:
    description: Directory inside O(image) that holds the artifact. Defaults to C(/models/<name>).
    type: str
  image_pull:
    description:
      - V(missing) pulls only when the image is not in local storage, V(always) pulls every time, V(never) fails when
        it is absent (use it for bootc logically bound images, which are pulled with the OS).
    type: str
    choices: [always, missing, never]
    default: missing
  version:
    description: With O(state=rolled_back), the version that failed and must stop serving.
    type: int
  keep:
    description: Number of versions to keep, the served one included. V(1) leaves nothing to roll back to.
    type: int
    default: 2
  serving_path:
    description: Path of O(repository) as the server sees it (inside the OVMS container), used for C(base_path).
    type: str
    default: /models
  target_device:
    description: OVMS C(target_device) for this model; defaults to the manifest's C(device).
    type: str
  redeploy_rejected:
    description: Deploy an artifact even though an earlier version with the same files was rolled back.
    type: bool
    default: false
  timeout:
    description: Seconds to wait for each connect to and each read from the O(url) server before giving up.
    type: int
    default: 60
  download_deadline:
    description:
      - Seconds the whole download of O(url) may take, however slowly the server keeps sending. A download that
        runs past it fails and leaves nothing behind.
      - Also the deadline of each C(podman) command for O(image) (a registry pull), enforced with coreutils C(timeout).
    type: int
    default: 3600
  max_size_mib:
    description:
      - Largest archive at O(url), and largest unpacked artifact, in MiB. A server that announces or sends more
        is refused before the excess reaches the disk.
    type: int
    default: 4096
  lock_timeout:
    description:
      - Seconds to wait for another deploy or rollback of the same model (for example the pull timer while AWX
        pushes) to finish. Changes to one model are serialised by a lock file, C(.edgeai-model.lock), in its
        directory.
    type: int
    default: 600
  validate_certs:
    description: Verify the TLS certificate of O(url).
    type: bool
    default: true
notes:
  - The served version never changes before the new files are complete and verified, and a failed switch is undone.
  - A kept version is checked against its manifest's sha256s again before it serves again (by O(identity), by a
    redeploy of its artifact, or by O(state=rolled_back)); a version modified on disk is refused.
  - The bookkeeping file C(.edgeai-model.json) and the OVMS C(config.json) are read as untrusted input; a malformed
    one fails the task with the file and field named, and nothing is changed.
seealso:
  - module: edgeai.fleet.model_compile
  - module: edgeai.fleet.model_verify
"""

EXAMPLES = r"""
- name: Serve the artifact that the role copied to the device
  edgeai.fleet.model_deploy:
    name: ocr_det
    src: /var/lib/edgeai/staging/ocr_det
    backend: ovms
  register: deployed

- name: Let the device download the artifact itself
  edgeai.fleet.model_deploy:
    name: ocr_det
    url: https://models.example.com/ocr_det-int8.tar.gz
    sha256: 0c1d8b0d2c8a4bd4c8dbf0b0e5c43cd6d5e1b4b3a0f6b3b0bba0d8f0c9a1e2f3

- name: Take the artifact from a model image
  edgeai.fleet.model_deploy:
    name: ocr_det
    image: registry.example.com/models/ocr_det@sha256:4f1c3b8f1f2f7a9d2d6e8c1e1a8e6b0c9d4b2a7e5f3c1d0b9a8e7f6d5c4b3a29

- name: Roll back the version that failed verification
  edgeai.fleet.model_deploy:
    name: ocr_det
    state: rolled_back
    version: "{{ deployed.version }}"
"""

RETURN = r"""
artifact_needed:
  description: With O(identity), V(true) when no kept version has it (nothing was changed); V(false) otherwise.
  returned: always
  type: bool
  sample: false
version:
  description: The version served after the task (null when nothing serves).
  returned: always
  type: int
  sample: 3
previous_version:
  description: The version served before the task.
  returned: always
  type: int
  sample: 2
installed:
  description: Whether a new version directory was installed.
  returned: when O(state=present)
  type: bool
  sample: true
switched:
  description: Whether the served version changed, so the server needs to reload.
  returned: always
  type: bool
  sample: true
rejected_version:
  description: The version that was rolled back and deleted.
  returned: when O(state=rolled_back)
  type: int
  sample: 3
removed_versions:
  description: Older versions deleted to keep O(keep).
  returned: when O(state=present)
  type: list
  elements: int
  sample: [1]
versions:
  description: Versions kept after the task.
  returned: always
  type: list
  elements: int
  sample: [2, 3]
identity:
  description: sha256 over the artifact's file map; equal identities mean equal model bytes.
  returned: when O(state=present)
  type: str
  sample: 9f2c1e6a0b7d4c3e8f5a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6a
manifest:
  description:
    - The served artifact's C(name), C(target), C(precision), C(inference_precision), C(device), C(entrypoint) and
      C(latency_ms) (the compile-time p50/p95 that the fleet report's C(gpu_needed) verdict uses).
    - Versions installed by an earlier release of the collection have no C(latency_ms) here.
  returned: when O(state=present)
  type: dict
  sample: {name: ocr_det, target: openvino, precision: int8, inference_precision: f32, device: CPU, entrypoint: model.xml,
           latency_ms: {p50: 32.5, p95: 33.2, runs: 20}}
path:
  description: Directory of the served version.
  returned: when O(state=present)
  type: str
  sample: /var/lib/edgeai/models/ocr_det/3
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError, fail_from_error
from ansible_collections.edgeai.fleet.plugins.module_utils._model_repo import ModelRepo, deploy, roll_back
from ansible_collections.edgeai.fleet.plugins.module_utils._model_source import ImageSource, check_url
from ansible_collections.edgeai.fleet.plugins.module_utils._runner import CliRunner

ARGS = {
    "name": {"type": "str", "required": True},
    "repository": {"type": "path", "default": "/var/lib/edgeai/models"},
    "backend": {"type": "str", "choices": ["kserve", "ovms", "triton"], "default": "kserve"},
    "state": {"type": "str", "choices": ["present", "rolled_back"], "default": "present"},
    "src": {"type": "path"},
    "identity": {"type": "str"},
    "url": {"type": "str", "no_log": True},
    "sha256": {"type": "str"},
    "image": {"type": "str"},
    "image_path": {"type": "str"},
    "image_pull": {"type": "str", "choices": ["always", "missing", "never"], "default": "missing"},
    "version": {"type": "int"},
    "keep": {"type": "int", "default": 2},
    "serving_path": {"type": "str", "default": "/models"},
    "target_device": {"type": "str"},
    "redeploy_rejected": {"type": "bool", "default": False},
    "timeout": {"type": "int", "default": 60},
    "download_deadline": {"type": "int", "default": 3600},
    "max_size_mib": {"type": "int", "default": 4096},
    "lock_timeout": {"type": "int", "default": 600},
    "validate_certs": {"type": "bool", "default": True},
}
POSITIVE = ("keep", "timeout", "download_deadline", "max_size_mib")


def source_of(module, params):
    if params["identity"]:
        ident = params["identity"].strip().lower()
        if len(ident) != 64 or any(c not in "0123456789abcdef" for c in ident):
            raise FleetError("identity=%r is not an artifact identity (64 hex digits, the edgeai.fleet.model_identity "
                             "filter of its manifest)" % params["identity"])
        return {"kind": "identity", "identity": ident}
    if params["src"]:
        return {"kind": "path", "path": params["src"]}
    if params["url"]:
        sha = params["sha256"].strip().lower()
        if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
            raise FleetError("sha256=%r is not a 64-character hex digest of the archive at url" % params["sha256"])
        check_url(params["url"])
        return {"kind": "url", "url": params["url"], "sha256": sha, "timeout": params["timeout"],
                "validate_certs": params["validate_certs"], "deadline": params["download_deadline"],
                "max_bytes": params["max_size_mib"] << 20}
    # A registry pull through podman gets the same overall deadline as a URL download.
    runner = CliRunner.for_module(module, module.get_bin_path("podman", required=True), timeout=params["download_deadline"])
    path = params["image_path"] or "/models/%s" % params["name"]
    return {"kind": "image", "image": ImageSource(runner, params["image"], path, params["image_pull"])}


def main():
    module = AnsibleModule(argument_spec=ARGS, supports_check_mode=True,
                           mutually_exclusive=[("src", "url", "image", "identity")], required_together=[("url", "sha256")],
                           required_if=[("state", "present", ("src", "url", "image", "identity"), True)])
    params = module.params
    try:
        for key in POSITIVE:
            if params[key] < 1:
                hint = " (2 keeps one version to roll back to)" if key == "keep" else ""
                raise FleetError("%s=%d must be at least 1%s" % (key, params[key], hint))
        if params["lock_timeout"] < 0:
            raise FleetError("lock_timeout=%d must not be negative" % params["lock_timeout"])
        repo = ModelRepo(params["repository"], params["name"], params["backend"], params["serving_path"],
                         atomic_move=module.atomic_move, lock_timeout=params["lock_timeout"])
        if params["state"] == "rolled_back":
            result = roll_back(repo, params["version"], check_mode=module.check_mode)
        else:
            result = deploy(repo, source_of(module, params), params["keep"], module.check_mode,
                            params["redeploy_rejected"], params["target_device"])
    except FleetError as err:
        fail_from_error(module, err)
    diffs = result.pop("diffs")
    if module._diff and result["changed"]:
        result["diff"] = diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()
