#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: model_server
short_description: Install and run a KServe V2 model server (venv, pip packages, program files, systemd unit) in one call
version_added: 0.1.0
description:
  - Does the whole "install and run the model server" concern in one round trip, so a converged host costs a few
    read-only checks instead of five tasks.
  - Creates the virtualenv O(venv) with O(python) when C(<venv>/bin/python) is missing, after checking that the
    interpreter can (C(import ensurepip, venv)).
  - Checks O(packages) with the venv's own Python and pip's vendored C(packaging) (specifiers and markers as pip reads them;
    extras are ignored, only the named distribution's version is checked; a C(name @ URL) requirement is satisfied by any
    installed version of that name). Only when one is not satisfied it runs C(pip install --no-compile
    --disable-pip-version-check) with O(pip_args) and all O(packages), then checks again.
  - Writes O(files) and the unit O(unit) to C(<unit_dir>/<service>.service) atomically, only when content or mode differs.
  - With O(state=started) it reloads systemd after a unit change, enables the unit, starts it when it is not active and
    restarts it when packages, files or the unit changed here or O(restart=true).
  - When the start or restart fails after files or the unit changed, it puts every previous file and the previous unit back
    (removing the ones that did not exist), reloads systemd, restarts the previous configuration if it was running, and
    fails saying whether the previous configuration runs again, with the last journal lines. Installed packages are not
    rolled back. A pip failure leaves the files, the unit and the running server untouched.
  - With O(state=present) (an image build, or systemd not running) it installs everything and enables the unit, which works
    offline, and never reloads, starts or restarts anything.
options:
  service:
    description:
      - Name of the systemd unit, without C(.service).
    type: str
    required: true
  venv:
    description:
      - The virtualenv directory the server runs from.
    type: path
    required: true
  python:
    description:
      - Interpreter that creates the venv. It needs C(ensurepip) (Debian/Ubuntu package C(python3-venv)); when it is missing the
        module fails with C(venv_support=false) in the result so a role can install the package and retry.
    type: path
    default: /usr/bin/python3
  packages:
    description:
      - pip requirement specifiers installed into the venv, for example C(onnxruntime==1.32.0).
    type: list
    elements: str
    required: true
  pip_args:
    description:
      - Extra C(pip install) arguments, one argv element each, for example C([--no-index, --find-links, /srv/wheelhouse]).
      - Refused, in any spelling pip accepts (unique prefixes such as C(--index), the C(--pypi-url) alias, short clusters
        such as C(-qi)) - C(--index-url), C(--extra-index-url), C(--trusted-host), C(--cert) and C(--client-cert). Use
        O(index_url) for the index and the system trust store for certificates.
      - Refused, here and in O(packages) - any URL with userinfo (C(user:password@), a token) or a query string, which would
        show in the process list and the result. A bare ssh user such as C(git+ssh://git@host/repo) is allowed.
      - The C(cmd), C(msg), C(stderr) and C(journal) of a failed result have URL userinfo and queries replaced by C(***).
    type: list
    elements: str
    default: []
  index_url:
    description:
      - Package index URL, possibly with credentials. It reaches pip only through the E(PIP_INDEX_URL) environment variable,
        never on the command line.
    type: str
  files:
    description:
      - Program files to install, for example the model class into the venv.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Absolute path of the file.
        type: path
        required: true
      content:
        description: The whole content of the file.
        type: str
        required: true
      mode:
        description: Octal permissions; quote them, for example V("0644").
        type: raw
        default: "0644"
  unit:
    description:
      - Content of the systemd unit file.
    type: str
    required: true
  unit_dir:
    description:
      - Directory of the unit file C(<unit_dir>/<service>.service).
    type: path
    default: /etc/systemd/system
  state:
    description:
      - V(started) installs, enables and runs the server. V(present) installs and enables it only (image builds, systemd
        not running).
    type: str
    choices: [started, present]
    default: started
  restart:
    description:
      - Restart the server even when nothing here changed, for example because the served model version switched.
      - Ignored with O(state=present).
    type: bool
    default: false
extends_documentation_fragment:
  - edgeai.fleet.attributes
attributes:
  check_mode:
    support: full
    details:
      - Runs only read-only commands (the ensurepip check, the package check when the venv exists, C(systemctl is-enabled) and
        C(systemctl is-active)) and predicts every change; with no venv yet all O(packages) are predicted.
  diff_mode:
    support: full
  idempotent:
    support: full
    details:
      - Not with O(restart=true), which restarts on every run by design.
  platform:
    platforms: posix
requirements:
  - systemd (C(systemctl)) on the managed host; C(journalctl) for the journal lines in failure messages.
seealso:
  - module: edgeai.fleet.model_deploy
  - module: edgeai.fleet.model_verify
author:
  - edgeai.fleet contributors (@edgeai-fleet)
"""

EXAMPLES = r"""
- name: Install and run the KServe V2 server for ocr_det (the model_serving role's program, OpenVINO)
  edgeai.fleet.model_server:
    service: edgeai-model-ocr_det
    venv: /opt/edgeai/kserve
    packages: [numpy==2.4.6, openvino]
    files:
      - path: /opt/edgeai/kserve/edgeai_model_server.py
        content: "{{ lookup('ansible.builtin.file', 'edgeai_model_server.py') }}"
    unit: "{{ lookup('ansible.builtin.template', 'edgeai-model.service.j2') }}"
    restart: "{{ deployed.switched }}"

- name: Air-gapped, from a wheelhouse on the device
  edgeai.fleet.model_server:
    service: edgeai-model-ocr_det
    venv: /opt/edgeai/kserve
    packages: [onnxruntime==1.32.0, numpy==2.4.6]
    pip_args: [--no-index, --find-links, /srv/wheelhouse]
    unit: "{{ lookup('ansible.builtin.template', 'edgeai-model.service.j2') }}"

- name: In a bootc image build, install and enable only
  edgeai.fleet.model_server:
    service: edgeai-model-ocr_det
    venv: /opt/edgeai/kserve
    packages: [onnxruntime==1.32.0, numpy==2.4.6]
    index_url: "{{ vault_index_url }}"
    unit: "{{ lookup('ansible.builtin.template', 'edgeai-model.service.j2') }}"
    state: present
"""

RETURN = r"""
venv_created:
  description: Whether the venv was created (or would be, in check mode).
  returned: success
  type: bool
  sample: false
packages_installed:
  description: Requirements that were not satisfied and were installed (or would be); all O(packages) when the venv is new.
  returned: success
  type: list
  elements: str
  sample: [numpy==2.4.6]
files_changed:
  description: Paths of O(files) written (or that would be).
  returned: success
  type: list
  elements: str
  sample: [/opt/edgeai/kserve/edgeai_model_server.py]
unit_changed:
  description: Whether the unit file was written (or would be).
  returned: success
  type: bool
  sample: true
daemon_reloaded:
  description: Whether systemd was reloaded (or would be).
  returned: success
  type: bool
  sample: true
enabled:
  description: Whether this run enabled the unit (or would).
  returned: success
  type: bool
  sample: false
restarted:
  description: Whether this run restarted the running server (or would).
  returned: success
  type: bool
  sample: true
started:
  description: Whether this run started the server that was not active (or would).
  returned: success
  type: bool
  sample: false
venv_support:
  description: V(false) when O(python) cannot create a venv with pip; install C(python3-venv) and run again.
  returned: failure, when the interpreter lacks ensurepip
  type: bool
  sample: false
restored:
  description: Files and unit put back after the new configuration failed to start.
  returned: failure, after a failed start with a new configuration
  type: list
  elements: str
  sample: [/etc/systemd/system/edgeai-model-ocr_det.service]
previous_running:
  description: Whether the previous configuration runs again after a failed start with a new one.
  returned: failure, after a failed start with a new configuration
  type: bool
  sample: true
journal:
  description: Last lines of the unit's journal.
  returned: failure, when the start or restart failed
  type: list
  elements: str
  sample: ["ModuleNotFoundError: No module named 'kserve'"]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError, fail_from_error
from ansible_collections.edgeai.fleet.plugins.module_utils._model_server import ModelServer


def main():
    module = AnsibleModule(
        argument_spec=dict(
            service=dict(type="str", required=True),
            venv=dict(type="path", required=True),
            python=dict(type="path", default="/usr/bin/python3"),
            packages=dict(type="list", elements="str", required=True),
            pip_args=dict(type="list", elements="str", default=[]),
            index_url=dict(type="str", no_log=True),
            files=dict(type="list", elements="dict", default=[], options=dict(
                path=dict(type="path", required=True),
                content=dict(type="str", required=True),
                mode=dict(type="raw", default="0644"),
            )),
            unit=dict(type="str", required=True),
            unit_dir=dict(type="path", default="/etc/systemd/system"),
            state=dict(type="str", default="started", choices=["started", "present"]),
            restart=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    try:
        core = ModelServer(module.params, module.run_command, systemctl=module.get_bin_path("systemctl", required=True),
                           journalctl=module.get_bin_path("journalctl"), atomic_move=module.atomic_move,
                           timeout_bin=module.get_bin_path("timeout"))
        result = core.run(check_mode=module.check_mode)
    except FleetError as err:
        fail_from_error(module, err)
    if not module._diff:
        result.pop("diff")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
