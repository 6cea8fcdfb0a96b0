# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils is PRIVATE to the edgeai.fleet collection. It may change or be
# removed without notice, even in a patch release. Do not import it from elsewhere.

"""Pure rendering core of the edgeai.fleet.fleet_report callback: no I/O, no ansible imports."""

from __future__ import annotations

import json
import re

from collections.abc import Mapping

from ansible_collections.edgeai.fleet.plugins.module_utils import _redact

PUBLISH_KEY = 'edgeai_report'

KNOWN_COLUMNS = (
    'booted_image', 'booted_digest', 'bootc_version', 'gpu', 'sharing', 'sharing_reason',
    'runtime', 'model', 'model_version', 'precision', 'device', 'accelerator', 'p50_ms', 'p95_ms', 'gpu_needed',
    'gpu_basis',
)

HEADERS = {
    'booted_image': 'image',
    'booted_digest': 'digest',
    'bootc_version': 'bootc',
    'gpu': 'gpu',
    'sharing': 'sharing',
    'sharing_reason': 'why',
    'runtime': 'runtime',
    'model': 'model',
    'model_version': 'mver',
    'precision': 'prec',
    'device': 'dev',
    'accelerator': 'accel',
    'p50_ms': 'p50ms',
    'p95_ms': 'p95ms',
    'gpu_needed': 'needs_gpu',
    'gpu_basis': 'gpu_basis',
}

STAT_KEYS = ('ok', 'changed', 'failed', 'unreachable', 'skipped', 'rescued', 'ignored')
TABLE_STATS = ('ok', 'changed', 'failed', 'unreachable')

EMPTY = '-'
ELLIPSIS = '\u2026'
CELL_WIDTH = 40
FAILURE_WIDTH = 300
# The verdict's basis is a sentence with two figures; cut at CELL_WIDTH it lost the one the verdict used.
COLUMN_WIDTHS = {'gpu_basis': FAILURE_WIDTH}
NO_REASON = 'no reason recorded'

_DIGEST_RE = re.compile(r'^(sha256|sha384|sha512):([0-9a-fA-F]{12})[0-9a-fA-F]*$')
_SPACE_RE = re.compile(r'\s+')


def truncate(text, width=CELL_WIDTH):
    """Cut text to at most width characters, marking the cut with an ellipsis."""
    if width < 1 or len(text) <= width:
        return text
    return text[:width - 1] + ELLIPSIS


def shorten_digest(value):
    """sha256:<64 hex> -> sha256:<12 hex>; anything that is not a digest is returned unchanged."""
    match = _DIGEST_RE.match(value)
    if not match:
        return value
    return '%s:%s' % (match.group(1), match.group(2).lower())


def _is_empty(value):
    return value is None or (isinstance(value, (str, list, tuple, dict)) and len(value) == 0)


def _to_text(value):
    if isinstance(value, bool):
        return 'yes' if value else 'no'
    if isinstance(value, float):
        return '%.2f' % value
    if isinstance(value, (list, tuple)):
        return ', '.join(_to_text(item) for item in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True, default=str, separators=(',', ':'))
    return str(value)


def format_cell(column, value, width=None):
    """One table cell: '-' when empty, single line, digest shortened, truncated to width (default: the column's)."""
    if width is None:
        width = COLUMN_WIDTHS.get(column, CELL_WIDTH)
    if _is_empty(value):
        return EMPTY
    text = _SPACE_RE.sub(' ', _to_text(value)).strip()
    if not text:
        return EMPTY
    if column == 'booted_digest':
        text = shorten_digest(text)
    return truncate(text, width)


def header(column):
    return HEADERS.get(column, column)


def failure_message(result):
    """Best single-line reason from a failed or unreachable task result dict."""
    msg = result.get('msg')
    if _is_empty(msg):
        # loops report "One or more items failed" only when an item has no msg of its own
        for item in result.get('results') or ():
            if isinstance(item, dict) and item.get('failed') and not _is_empty(item.get('msg')):
                msg = item['msg']
                break
    if _is_empty(msg):
        msg = result.get('stderr') or result.get('module_stderr') or 'failed without a message'
    # Any module's message may quote a URL with user:password@ or a signed query; the report is shared.
    return _SPACE_RE.sub(' ', _redact.text(msg)).strip()


def format_failure(task_name, message, width=FAILURE_WIDTH):
    text = '%s: %s' % (task_name, message) if task_name else message
    return truncate(_SPACE_RE.sub(' ', text).strip(), width)


def facts_row(facts):
    """Report values read from the facts of edgeai.fleet.bootc_info and edgeai.fleet.gpu_info.

    Every host gets its image and GPUs without a set_stats task; values a role publishes replace these.
    """
    row = {}
    bootc = facts.get('edgeai_bootc')
    if isinstance(bootc, Mapping):
        booted = bootc.get('booted') if isinstance(bootc.get('booted'), Mapping) else {}
        row['booted_image'] = booted.get('image') or 'not bootc'
        row['booted_digest'] = booted.get('digest') or '-'
        row['bootc_version'] = bootc.get('bootc_version') or '-'
    gpu = facts.get('edgeai_gpu')
    if isinstance(gpu, Mapping):
        products = gpu.get('products')
        # Facts come from the device: show what is there, never fail the report on a wrong shape.
        row['gpu'] = ', '.join(str(p) for p in products) if isinstance(products, list) and products else 'none'
        if not gpu.get('present'):
            # The GPU stages skip such a host, so nothing else would fill these columns.
            row['runtime'] = 'skipped (no GPU)'
            row['sharing'] = 'none (no GPU)'
    return row


def normalize_stats(summary):
    """AggregateStats.summarize() says 'failures'; the report says 'failed'."""
    summary = summary or {}
    stats = {key: int(summary.get(key, 0) or 0) for key in STAT_KEYS}
    stats['failed'] = int(summary.get('failures', summary.get('failed', 0)) or 0)
    return stats


def build_rows(hosts, summaries, published, failures, columns=None):
    """Rows sorted by host name, and the column list to show.

    A row is {'host', 'stats', 'report', 'failure'}; 'failure' is set only for hosts that
    ended failed or unreachable, so a failure that a rescue block recovered is not reported.
    columns=None picks every known column with a value for some host, in KNOWN_COLUMNS order,
    followed by unknown published keys in name order.
    """
    rows = []
    for host in sorted(set(hosts)):
        stats = normalize_stats(summaries.get(host))
        report = published.get(host) or {}
        failure = None
        if stats['failed'] or stats['unreachable']:
            failure = failures.get(host) or NO_REASON
        rows.append({'host': host, 'stats': stats, 'report': dict(report), 'failure': failure})
    return rows, select_columns(rows, columns)


def select_columns(rows, columns=None):
    if columns:
        return list(dict.fromkeys(columns))
    present = set()
    for row in rows:
        present.update(key for key, value in row['report'].items() if not _is_empty(value))
    known = [column for column in KNOWN_COLUMNS if column in present]
    return known + sorted(present.difference(KNOWN_COLUMNS))


def totals(rows):
    result = {'hosts': len(rows)}
    for key in STAT_KEYS:
        result[key] = sum(row['stats'][key] for row in rows)
    result['failed_hosts'] = sum(1 for row in rows if row['failure'] is not None)
    return result


def _grid(rows, columns, width):
    head = ['host'] + list(TABLE_STATS) + [header(column) for column in columns]
    body = []
    for row in rows:
        cells = [truncate(row['host'], width)] + [str(row['stats'][key]) for key in TABLE_STATS]
        cells += [format_cell(column, row['report'].get(column), COLUMN_WIDTHS.get(column, width)) for column in columns]
        body.append(cells)
    return head, body


def _status(row):
    return 'unreachable' if row['stats']['unreachable'] else 'failed'


def _totals_line(total):
    return 'TOTAL %d host%s: ok=%d changed=%d failed=%d unreachable=%d skipped=%d rescued=%d ignored=%d' % (
        total['hosts'], '' if total['hosts'] == 1 else 's', total['ok'], total['changed'], total['failed'],
        total['unreachable'], total['skipped'], total['rescued'], total['ignored'])


def render_table(rows, columns, width=CELL_WIDTH):
    """Plain-text table for the terminal, a totals line, then failed/unreachable hosts with reasons."""
    if not rows:
        return 'FLEET REPORT: no hosts were processed'
    head, body = _grid(rows, columns, width)
    widths = [max(len(line[i]) for line in [head] + body) for i in range(len(head))]
    numeric = set(range(1, 1 + len(TABLE_STATS)))

    def fmt(cells):
        out = [cell.rjust(widths[i]) if i in numeric else cell.ljust(widths[i]) for i, cell in enumerate(cells)]
        return '  '.join(out).rstrip()

    lines = ['FLEET REPORT', fmt(head), '  '.join('-' * w for w in widths)]
    lines += [fmt(cells) for cells in body]
    lines.append(_totals_line(totals(rows)))
    failed = [row for row in rows if row['failure'] is not None]
    if failed:
        lines.append('')
        lines.append('Failed or unreachable hosts:')
        lines += ['  %s (%s): %s' % (row['host'], _status(row), row['failure']) for row in failed]
    return '\n'.join(lines)


def escape_markdown(text):
    """Keep a cell inside its table column: escape pipes and backslashes, no line breaks."""
    return _SPACE_RE.sub(' ', text.replace('\\', '\\\\').replace('|', '\\|')).strip()


def render_markdown(rows, columns, playbook=None, generated=None, width=CELL_WIDTH):
    """GitHub-flavoured Markdown with the same rows as render_table plus the failures section."""
    lines = ['# Fleet report', '']
    meta = []
    if playbook:
        meta.append('Playbook: %s' % escape_markdown(playbook))
    if generated:
        meta.append('generated %s' % generated)
    if meta:
        lines += ['; '.join(meta), '']
    if not rows:
        lines.append('No hosts were processed.')
        return '\n'.join(lines) + '\n'
    head, body = _grid(rows, columns, width)
    align = ['---'] + ['---:'] * len(TABLE_STATS) + ['---'] * len(columns)
    lines.append('| ' + ' | '.join(escape_markdown(cell) for cell in head) + ' |')
    lines.append('|' + '|'.join(align) + '|')
    lines += ['| ' + ' | '.join(escape_markdown(cell) for cell in cells) + ' |' for cells in body]
    lines += ['', '**%s**' % escape_markdown(_totals_line(totals(rows)))]
    failed = [row for row in rows if row['failure'] is not None]
    if failed:
        lines += ['', '## Failed or unreachable hosts', '']
        lines += ['- **%s** (%s): %s' % (escape_markdown(row['host']), _status(row), escape_markdown(row['failure']))
                  for row in failed]
    return '\n'.join(lines) + '\n'


def render_json(rows, playbook=None, generated=None):
    """Machine-readable report; published values are kept whole (full digests, raw numbers)."""
    document = {
        'generated': generated,
        'playbook': playbook,
        'hosts': {row['host']: {'stats': row['stats'], 'report': row['report'], 'failure': row['failure']} for row in rows},
        'totals': totals(rows),
    }
    return json.dumps(document, indent=2, ensure_ascii=False, default=str) + '\n'
