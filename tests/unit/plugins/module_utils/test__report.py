# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import json

import pytest

from ansible_collections.edgeai.fleet.plugins.module_utils._report import (
    KNOWN_COLUMNS,
    NO_REASON,
    build_rows,
    escape_markdown,
    failure_message,
    format_cell,
    format_failure,
    render_json,
    render_markdown,
    render_table,
    select_columns,
    shorten_digest,
    totals,
    truncate,
)

DIGEST = 'sha256:' + '0123456789abcdef' * 4


def summary(ok=0, changed=0, failures=0, unreachable=0, skipped=0, rescued=0, ignored=0):
    return dict(ok=ok, changed=changed, failures=failures, unreachable=unreachable, skipped=skipped, rescued=rescued, ignored=ignored)


def rows_for(published, summaries=None, failures=None, columns=None):
    hosts = list(published)
    summaries = summaries or {host: summary(ok=1) for host in hosts}
    return build_rows(hosts, summaries, published, failures or {}, columns)


@pytest.mark.parametrize('value, expected', [
    (DIGEST, 'sha256:0123456789ab'),
    ('sha256:' + 'ABCDEF0123456789' * 4, 'sha256:abcdef012345'),
    ('sha512:' + 'ab' * 64, 'sha512:abababababab'),
    ('sha256:0123', 'sha256:0123'),
    ('quay.io/edgeai/node@' + DIGEST, 'quay.io/edgeai/node@' + DIGEST),
    ('latest', 'latest'),
])
def test_shorten_digest(value, expected):
    assert shorten_digest(value) == expected


@pytest.mark.parametrize('text, width, expected', [
    ('short', 10, 'short'),
    ('exactly10!', 10, 'exactly10!'),
    ('eleven chars', 10, 'eleven ch\u2026'),
    ('anything', 0, 'anything'),
])
def test_truncate(text, width, expected):
    assert truncate(text, width) == expected


@pytest.mark.parametrize('column, value, expected', [
    ('model', None, '-'),
    ('model', '', '-'),
    ('model', '   ', '-'),
    ('model', [], '-'),
    ('gpu_needed', False, 'no'),
    ('gpu_needed', True, 'yes'),
    ('p50_ms', 4.213, '4.21'),
    ('p95_ms', 12, '12'),
    ('device', ['GPU.0', 'CPU'], 'GPU.0, CPU'),
    ('extra', {'b': 1, 'a': 2}, '{"a":2,"b":1}'),
    ('sharing_reason', 'two\nlines\tand  tabs', 'two lines and tabs'),
    ('booted_digest', DIGEST, 'sha256:0123456789ab'),
    ('booted_image', 'quay.io/' + 'x' * 60, 'quay.io/' + 'x' * 31 + '\u2026'),
])
def test_format_cell(column, value, expected):
    assert format_cell(column, value) == expected


@pytest.mark.parametrize('result, expected', [
    ({'msg': 'golden   input\nmismatch'}, 'golden input mismatch'),
    ({'results': [{'failed': False, 'msg': 'fine'}, {'failed': True, 'msg': 'item two broke'}]}, 'item two broke'),
    ({'stderr': 'permission denied'}, 'permission denied'),
    ({'module_stderr': 'Traceback ...'}, 'Traceback ...'),
    ({}, 'failed without a message'),
])
def test_failure_message(result, expected):
    assert failure_message(result) == expected


def test_format_failure_prefixes_task_and_truncates():
    assert format_failure('Verify model', 'mismatch') == 'Verify model: mismatch'
    assert format_failure('', 'mismatch') == 'mismatch'
    long = format_failure('Task', 'x' * 1000)
    assert len(long) == 300 and long.endswith('\u2026')


def test_empty_run():
    rows, columns = build_rows([], {}, {}, {})
    assert rows == [] and columns == []
    assert render_table(rows, columns) == 'FLEET REPORT: no hosts were processed'
    assert 'No hosts were processed.' in render_markdown(rows, columns)
    document = json.loads(render_json(rows, 'site.yml', '2026-01-01T00:00:00Z'))
    assert document == {
        'generated': '2026-01-01T00:00:00Z', 'playbook': 'site.yml', 'hosts': {},
        'totals': {'hosts': 0, 'ok': 0, 'changed': 0, 'failed': 0, 'unreachable': 0, 'skipped': 0,
                   'rescued': 0, 'ignored': 0, 'failed_hosts': 0},
    }


def test_rows_sorted_and_stats_renamed():
    rows, dummy = rows_for({'b': {}, 'a': {}}, summaries={'a': summary(ok=2, failures=1), 'b': summary(changed=1)})
    assert [row['host'] for row in rows] == ['a', 'b']
    assert rows[0]['stats']['failed'] == 1 and 'failures' not in rows[0]['stats']


@pytest.mark.parametrize('published, columns, expected', [
    ({'h': {}}, None, []),
    ({'h': {'model': 'r50', 'booted_image': 'img'}}, None, ['booted_image', 'model']),
    ({'h': {'model': 'r50', 'zeta': 1, 'alpha': 2}}, None, ['model', 'alpha', 'zeta']),
    ({'h': {'model': None, 'gpu': ''}, 'i': {'gpu': 'none'}}, None, ['gpu']),
    ({'h': {'model': 'r50', 'gpu': 'L4'}}, ['gpu', 'site', 'gpu'], ['gpu', 'site']),
])
def test_column_selection(published, columns, expected):
    rows, selected = rows_for(published, columns=columns)
    assert selected == expected
    assert select_columns(rows, columns) == expected


def test_known_columns_keep_their_order():
    published = {'h': {key: 'v' for key in reversed(KNOWN_COLUMNS)}}
    dummy, columns = rows_for(published)
    assert columns == list(KNOWN_COLUMNS)


def test_gpu_verdict_is_shown_next_to_its_basis():
    """The verdict's basis (edgeai.fleet.gpu_verdict) is a known column right after needs_gpu, whole in the JSON."""
    basis = 'compile p95 33.2 ms (20 runs) <= budget 150 ms; served p95 270.0 ms (20 requests)'
    rows, columns = rows_for({'edge-1': {'gpu_basis': basis, 'gpu_needed': 'no', 'p95_ms': 270.0}})
    assert columns == ['p95_ms', 'gpu_needed', 'gpu_basis']
    head = render_table(rows, columns).splitlines()[1].split()
    assert head[-2:] == ['needs_gpu', 'gpu_basis']
    assert json.loads(render_json(rows))['hosts']['edge-1']['report']['gpu_basis'] == basis


def test_unknown_keys_follow_known_ones_in_table():
    rows, columns = rows_for({'edge-1': {'site': 'lab', 'gpu': 'NVIDIA L4'}})
    table = render_table(rows, columns)
    head = table.splitlines()[1].split()
    assert head == ['host', 'ok', 'changed', 'failed', 'unreachable', 'gpu', 'site']


def test_table_layout_and_totals():
    rows, columns = rows_for(
        {'edge-2': {'booted_digest': DIGEST, 'p50_ms': 3.5}, 'edge-1': {'model': 'resnet50'}},
        summaries={'edge-1': summary(ok=5, changed=2, skipped=1), 'edge-2': summary(ok=4, rescued=1)},
    )
    lines = render_table(rows, columns).splitlines()
    assert lines[0] == 'FLEET REPORT'
    assert lines[1].split() == ['host', 'ok', 'changed', 'failed', 'unreachable', 'digest', 'model', 'p50ms']
    assert lines[3].split() == ['edge-1', '5', '2', '0', '0', '-', 'resnet50', '-']
    assert lines[4].split() == ['edge-2', '4', '0', '0', '0', 'sha256:0123456789ab', '-', '3.50']
    assert lines[5] == 'TOTAL 2 hosts: ok=9 changed=2 failed=0 unreachable=0 skipped=1 rescued=1 ignored=0'
    assert len(lines) == 6
    assert len({len(line) for line in lines[1:3]}) == 1


def test_long_values_are_truncated_in_table_but_whole_in_json():
    value = 'quay.io/edgeai/' + 'very-long-image-name-' * 5
    rows, columns = rows_for({'h': {'booted_image': value, 'booted_digest': DIGEST}})
    table = render_table(rows, columns)
    assert value not in table
    assert value[:39] + '\u2026' in table
    report = json.loads(render_json(rows))['hosts']['h']['report']
    assert report == {'booted_image': value, 'booted_digest': DIGEST}


@pytest.mark.parametrize('summaries, recorded, expected', [
    ({'h': summary(failures=1)}, {'h': 'Verify: mismatch'}, 'Verify: mismatch'),
    ({'h': summary(unreachable=1)}, {'h': 'Ping: timed out'}, 'Ping: timed out'),
    ({'h': summary(failures=1)}, {}, NO_REASON),
    # a failure that a rescue block recovered leaves failures at 0
    ({'h': summary(ok=3, rescued=1)}, {'h': 'Verify: mismatch'}, None),
])
def test_failure_kept_only_for_failed_or_unreachable_hosts(summaries, recorded, expected):
    rows, dummy = build_rows(['h'], summaries, {}, recorded)
    assert rows[0]['failure'] == expected
    assert totals(rows)['failed_hosts'] == (0 if expected is None else 1)


def test_failure_listing_below_table():
    rows, columns = build_rows(
        ['ok-host', 'down', 'broken'],
        {'ok-host': summary(ok=1), 'down': summary(unreachable=1), 'broken': summary(ok=2, failures=1)},
        {},
        {'down': 'Gather facts: connection refused', 'broken': 'Verify model: mismatch'},
    )
    lines = render_table(rows, columns).splitlines()
    start = lines.index('Failed or unreachable hosts:')
    assert lines[start + 1:] == [
        '  broken (failed): Verify model: mismatch',
        '  down (unreachable): Gather facts: connection refused',
    ]
    markdown = render_markdown(rows, columns)
    assert '## Failed or unreachable hosts' in markdown
    assert '- **down** (unreachable): Gather facts: connection refused' in markdown
    assert 'ok-host' not in markdown.split('## Failed')[1]


@pytest.mark.parametrize('text, expected', [
    ('a|b', 'a\\|b'),
    ('a\\b', 'a\\\\b'),
    ('line\nbreak', 'line break'),
    ('plain', 'plain'),
])
def test_escape_markdown(text, expected):
    assert escape_markdown(text) == expected


def test_markdown_table_escapes_pipes_and_keeps_row_shape():
    rows, columns = rows_for({'edge|1': {'sharing_reason': 'mig|time-slicing', 'model': 'r50'}})
    markdown = render_markdown(rows, columns, playbook='site.yml', generated='2026-01-01T00:00:00Z')
    lines = markdown.splitlines()
    assert lines[0] == '# Fleet report'
    assert lines[2] == 'Playbook: site.yml; generated 2026-01-01T00:00:00Z'
    table = [line for line in lines if line.startswith('|')]
    assert table[0] == '| host | ok | changed | failed | unreachable | why | model |'
    assert table[1] == '|---|---:|---:|---:|---:|---|---|'
    assert table[2] == '| edge\\|1 | 1 | 0 | 0 | 0 | mig\\|time-slicing | r50 |'
    unescaped = [line.replace('\\|', '') for line in table]
    assert {line.count('|') for line in unescaped} == {8}


def test_json_document_shape():
    rows, dummy = build_rows(
        ['b', 'a'], {'a': summary(ok=1), 'b': summary(failures=1)},
        {'a': {'booted_digest': DIGEST, 'gpu_needed': False}}, {'b': 'Task: boom'},
    )
    document = json.loads(render_json(rows, 'site.yml', '2026-01-01T00:00:00Z'))
    assert list(document['hosts']) == ['a', 'b']
    assert document['hosts']['a'] == {
        'stats': {'ok': 1, 'changed': 0, 'failed': 0, 'unreachable': 0, 'skipped': 0, 'rescued': 0, 'ignored': 0},
        'report': {'booted_digest': DIGEST, 'gpu_needed': False},
        'failure': None,
    }
    assert document['hosts']['b']['failure'] == 'Task: boom'
    assert document['totals']['hosts'] == 2 and document['totals']['failed'] == 1


def test_failure_message_never_prints_url_credentials():
    """Secret leak: a module's failure message quoting a URL with user:password@ or a signed query went
    into the shared fleet report verbatim (terminal, Markdown and JSON)."""
    result = {"msg": "Download of https://dave:t0psecret@models.example/x.tar?X-Amz-Signature=abc&sig=1 failed"}
    text = failure_message(result)
    assert text == "Download of https://models.example/x.tar failed"


def test_gpu_basis_is_whole_in_the_tables():
    """Regression: gpu_basis was cut at 40 characters like every cell, hiding the figure the verdict used."""
    basis = 'compile p95 33.2 ms (20 runs) <= budget 150 ms; served p95 270.0 ms (20 requests)'
    rows, columns = rows_for({'edge-1': {'gpu_basis': basis, 'gpu_needed': 'no'}})
    assert basis in render_table(rows, columns)
    assert basis in render_markdown(rows, columns)
    assert len(format_cell('gpu_basis', 'x' * 400)) == 300


def test_accelerator_column_says_what_serves_the_model():
    published = {'npu-1': {'device': 'NPU', 'accelerator': 'intel NPU /dev/accel/accel0', 'p50_ms': 3.0},
                 'cpu-1': {'device': 'CPU', 'accelerator': 'cpu'}}
    rows, columns = rows_for(published)
    assert columns == ['device', 'accelerator', 'p50_ms']
    lines = render_table(rows, columns).splitlines()
    assert lines[1].split()[-3:] == ['dev', 'accel', 'p50ms']
    assert lines[3].split()[-2:] == ['cpu', '-'] and 'intel NPU /dev/accel/accel0' in lines[4]
