# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: fleet_report
type: aggregate
short_description: Per-host fleet summary table and JSON/Markdown report at the end of a run
version_added: 0.1.0
author:
  - edgeai.fleet contributors (@edgeai-fleet)
description:
  - At the end of a playbook run, prints one row per host with the ok, changed, failed and unreachable
    counts and the values that roles published, then a totals line and the reason each failed or
    unreachable host stopped.
  - "Roles publish values with M(ansible.builtin.set_stats) using O(ansible.builtin.set_stats#module:per_host=true)
    and a single key C(edgeai_report) whose value is a dictionary, for example
    C(data: {edgeai_report: {booted_digest: sha256:...}}). Leave O(ansible.builtin.set_stats#module:aggregate)
    at its default V(true): values published by several tasks or roles for the same host are then merged
    recursively, a later value for the same key replacing an earlier one. With V(false) each call replaces
    everything published before for that host."
  - Values published without O(ansible.builtin.set_stats#module:per_host=true) are not host rows and are ignored.
  - The facts that M(edgeai.fleet.bootc_info) and M(edgeai.fleet.gpu_info) return fill C(booted_image),
    C(booted_digest), C(bootc_version) and C(gpu) (and, on a host without a GPU, C(runtime) and C(sharing)) without
    a task; values published with M(ansible.builtin.set_stats) replace them.
  - "Known columns, in this order: C(booted_image), C(booted_digest) (shortened to C(sha256:) and 12 hex digits
    in the table, kept whole in the JSON file), C(bootc_version), C(gpu), C(sharing), C(sharing_reason), C(runtime),
    C(model), C(model_version), C(precision), C(device), C(accelerator) (what serves the model), C(p50_ms), C(p95_ms),
    C(gpu_needed), C(gpu_basis) (the measurement the verdict used; cells are cut at 40 characters, this one at 300).
    Other published keys
    follow in name order."
  - When O(report_dir) is set, also writes C(<report_name>.json) and C(<report_name>.md) there, atomically.
  - This is an aggregate callback, not a stdout callback, so it works next to any stdout callback and in AWX.
requirements:
  - enable in configuration, for example C(callbacks_enabled = edgeai.fleet.fleet_report) in the C([defaults])
    section of C(ansible.cfg) or E(ANSIBLE_CALLBACKS_ENABLED=edgeai.fleet.fleet_report)
options:
  report_dir:
    description:
      - Directory to write the JSON and Markdown report files to. It is created if missing.
      - When not set, the report is only printed.
    type: path
    env:
      - name: EDGEAI_FLEET_REPORT_DIR
    ini:
      - section: callback_edgeai_fleet_report
        key: report_dir
  report_name:
    description:
      - File name, without directory or extension, of the report files in O(report_dir).
    type: str
    default: fleet-report
    env:
      - name: EDGEAI_FLEET_REPORT_NAME
    ini:
      - section: callback_edgeai_fleet_report
        key: report_name
  columns:
    description:
      - Published keys to show as table columns, in this order.
      - By default every known column that has a value for at least one host is shown, followed by
        unknown published keys. The JSON file always holds every published value.
    type: list
    elements: str
    env:
      - name: EDGEAI_FLEET_REPORT_COLUMNS
    ini:
      - section: callback_edgeai_fleet_report
        key: columns
notes:
  - Callback options are read from C(ansible.cfg) and the environment only; core does not pass play
    variables to callbacks that are not the stdout callback.
  - A failure recovered by a C(rescue) block or ignored with C(ignore_errors) does not mark a host as failed.
seealso:
  - module: ansible.builtin.set_stats
"""

import datetime
import os
import tempfile
from collections.abc import Mapping

from ansible.plugins.callback import CallbackBase

from ansible_collections.edgeai.fleet.plugins.module_utils._report import (
    PUBLISH_KEY,
    build_rows,
    facts_row,
    failure_message,
    format_failure,
    render_json,
    render_markdown,
    render_table,
)

DEFAULT_NAME = 'fleet-report'


def _task_result_parts(result):
    # ansible-core 2.19 made host/result public; earlier cores only have the underscored attributes.
    host = getattr(result, 'host', None) or result._host
    data = getattr(result, 'result', None)
    if data is None:
        data = result._result
    return host.get_name(), result.task_name, data


def write_atomic(path, text):
    """Write through a temp file in the same directory so readers never see a half-written report."""
    directory = os.path.dirname(path) or '.'
    fd, tmp = tempfile.mkstemp(dir=directory, prefix='.%s.' % os.path.basename(path), suffix='.tmp')
    try:
        with os.fdopen(fd, 'w', encoding='utf-8') as handle:
            handle.write(text)
        # mkstemp creates 0600; reports are meant to be picked up by CI and other users
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'edgeai.fleet.fleet_report'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display=None):
        super().__init__(display=display)
        self._failures = {}
        self._from_facts = {}
        self._playbook = None

    def v2_playbook_on_start(self, playbook):
        self._playbook = os.path.basename(getattr(playbook, '_file_name', '') or '') or None

    def _record_failure(self, result):
        host, task_name, data = _task_result_parts(result)
        self._failures[host] = format_failure(task_name, failure_message(data))

    def v2_runner_on_ok(self, result):
        host, _task_name, data = _task_result_parts(result)
        facts = data.get('ansible_facts') if isinstance(data, Mapping) else None
        if isinstance(facts, Mapping) and ('edgeai_bootc' in facts or 'edgeai_gpu' in facts):
            self._from_facts.setdefault(host, {}).update(facts_row(facts))

    def v2_runner_on_failed(self, result, ignore_errors=False):
        if not ignore_errors:
            self._record_failure(result)

    def v2_runner_on_unreachable(self, result):
        self._record_failure(result)

    def _published(self, stats, host):
        value = stats.custom.get(host, {}).get(PUBLISH_KEY, {})
        if isinstance(value, Mapping):
            return dict(value)
        self._display.warning(
            'fleet_report: %s published %s as %s; set_stats data.%s must be a dictionary, ignoring it.'
            % (host, PUBLISH_KEY, type(value).__name__, PUBLISH_KEY))
        return {}

    def _report_name(self):
        name = self.get_option('report_name') or DEFAULT_NAME
        if os.path.basename(name) != name or name in ('.', '..'):
            self._display.warning('fleet_report: report_name %r must be a plain file name without a directory; using %r.'
                                  % (name, DEFAULT_NAME))
            return DEFAULT_NAME
        return name

    def v2_playbook_on_stats(self, stats):
        hosts = sorted(stats.processed)
        summaries = {host: stats.summarize(host) for host in hosts}
        published = {host: dict(self._from_facts.get(host, {}), **self._published(stats, host)) for host in hosts}
        rows, columns = build_rows(hosts, summaries, published, self._failures, self.get_option('columns') or None)
        self._display.display(render_table(rows, columns))

        report_dir = self.get_option('report_dir')
        if not report_dir:
            return
        generated = datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')
        base = os.path.join(report_dir, self._report_name())
        try:
            os.makedirs(report_dir, exist_ok=True)
            write_atomic(base + '.json', render_json(rows, self._playbook, generated))
            write_atomic(base + '.md', render_markdown(rows, columns, self._playbook, generated))
        except OSError as exc:
            self._display.warning('fleet_report: could not write the report to %s: %s. Check that the directory is writable '
                                  'or change report_dir.' % (report_dir, exc))
            return
        self._display.display('Fleet report written to %s.json and %s.md' % (base, base))
