# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pull mode on a lab node: the rendered units, the lock, one real ansible-pull run against the local git
repository that prepare.yml built, its journal lines and its local fleet report.

Nothing is simulated: systemd, flock, git, ansible-pull (from the venv the role installed out of the wheelhouse)
and the edgeai.fleet.fleet_report callback all run for real on the node. The tests run in file order: the lock
test must see the service before its first real run.
"""
from __future__ import annotations

import json

UNIT = 'edgeai-pull'
HOST = 'fleet-pull-node'
PROOF = '/var/tmp/edgeai-pull-proof.txt'
REPORT = '/var/lib/edgeai-pull/report/fleet-report.json'


def _show(host, unit, prop):
    return host.check_output('systemctl show --property=%s --value %s', prop, unit)


def _journal(host):
    return host.check_output('journalctl --no-pager --output=cat --identifier=%s', UNIT)


def test_units_are_rendered_and_valid(host):
    service = host.file('/etc/systemd/system/%s.service' % UNIT)
    assert service.mode == 0o644
    exec_start = _show(host, UNIT + '.service', 'ExecStart')
    for word in ('/usr/bin/flock', '--nonblock', '/run/edgeai-pull.lock', '/var/lib/edgeai-pull/venv/bin/ansible-pull',
                 'file:///srv/edgeai-pull-test/src', '--limit', HOST, '--clean', '--verify-commit', 'local.yml'):
        assert word in exec_start
    for word in ('--only-if-changed', '--accept-host-key'):
        assert word not in exec_start
    assert _show(host, UNIT + '.service', 'SyslogIdentifier') == UNIT
    environment = _show(host, UNIT + '.service', 'Environment').split()
    assert 'ANSIBLE_CALLBACKS_ENABLED=edgeai.fleet.fleet_report' in environment
    assert 'EDGEAI_FLEET_REPORT_DIR=/var/lib/edgeai-pull/report' in environment
    assert 'GNUPGHOME=/etc/edgeai-pull/gnupg' in environment
    assert 'GIT_TERMINAL_PROMPT=0' in environment
    assert _show(host, UNIT + '.timer', 'RandomizedDelayUSec') == '15min'
    verify = host.run('systemd-analyze verify /etc/systemd/system/%s.service /etc/systemd/system/%s.timer', UNIT, UNIT)
    assert verify.rc == 0, verify.stderr


def test_inventory_names_the_device_in_its_groups(host):
    inventory = host.file('/etc/edgeai-pull/inventory.yml')
    assert inventory.mode == 0o600
    assert HOST in inventory.content_string


def test_the_signers_keyring_is_private_to_root(host):
    """The keyring --verify-commit checks against is the role's own, not root's: a 0700 GNUPGHOME whose gpg.conf
    names only the keyring built from fleet_pull_gpg_public_keys."""
    home = host.file('/etc/edgeai-pull/gnupg')
    assert home.is_directory and home.mode == 0o700 and home.user == 'root'
    assert host.file('/etc/edgeai-pull/gnupg/gpg.conf').content_string == (
        'no-default-keyring\nkeyring /etc/edgeai-pull/gnupg/trusted-keys.gpg\n')
    keys = host.check_output('gpg --homedir /etc/edgeai-pull/gnupg --batch --with-colons --list-keys')
    assert [line.split(':')[9] for line in keys.splitlines() if line.startswith('uid:')] == [
        'release <release@example.invalid>']
    assert not host.file('/etc/edgeai-pull/git-credentials').exists


def test_timer_is_enabled_and_active(host):
    timer = host.service(UNIT + '.timer')
    assert timer.is_enabled
    assert timer.is_running


def test_a_run_that_finds_the_lock_taken_is_skipped(host):
    """While something else holds the lock, the service exits at once with flock's conflict code, which the
    unit counts as success, and the playbook does not run."""
    started = host.run('flock /run/edgeai-pull.lock systemctl start %s.service', UNIT)
    assert started.rc == 0, started.stderr
    assert _show(host, UNIT + '.service', 'Result') == 'success'
    assert 'Starting Ansible Pull' not in _journal(host)
    assert not host.file(PROOF).exists


def test_the_service_pulls_and_runs_the_playbook(host):
    started = host.run('systemctl start %s.service', UNIT)
    assert started.rc == 0, _journal(host)
    assert _show(host, UNIT + '.service', 'Result') == 'success'
    assert _show(host, UNIT + '.service', 'ExecMainStatus') == '0'
    proof = host.file(PROOF).content_string
    assert 'host=%s\n' % HOST in proof
    assert 'groups=cpu,lab\n' in proof
    checkout = host.file('/var/lib/edgeai-pull/collections/ansible_collections/edgeai/fleet/local.yml')
    assert checkout.exists


def test_the_journal_holds_the_run(host):
    lines = _journal(host).splitlines()
    assert any(line.startswith('Starting Ansible Pull') for line in lines)
    assert any(line.startswith(HOST) and 'failed=0' in line for line in lines)


def test_the_run_wrote_a_local_report(host):
    report = json.loads(host.file(REPORT).content_string)
    entry = report['hosts'][HOST]
    assert entry['failure'] is None
    assert entry['stats']['failed'] == 0
    assert entry['report'] == {'pull_source': 'local-git'}
    assert host.file('/var/lib/edgeai-pull/report/fleet-report.md').exists


def _pull_branch(host, branch):
    """ansible-pull of one branch of the pull source, with the service's environment and --verify-commit, into a
    checkout of its own, so the service's checkout stays as it is."""
    environment = _show(host, UNIT + '.service', 'Environment')
    return host.run(
        'env %s /var/lib/edgeai-pull/venv/bin/ansible-pull --url file:///srv/edgeai-pull-test/src --checkout %s '
        '--directory /var/tmp/edgeai-pull-%s --inventory /etc/edgeai-pull/inventory.yml --limit %s --verify-commit '
        'local.yml' % (environment, branch, branch, HOST))


def test_an_unsigned_commit_is_not_run(host):
    """Attack: whoever can write to the pull source (or sits on an unauthenticated path to it) pushes a commit;
    before the fix the role did not pass --verify-commit by default and every device ran it as root. Now the
    checkout step fails the signature check and the playbook never starts."""
    result = _pull_branch(host, 'unsigned')
    assert result.rc != 0
    assert 'Failed to verify GPG signature' in result.stdout + result.stderr
    assert not host.file('/var/tmp/edgeai-pull-unsigned-ran.txt').exists


def test_a_commit_signed_by_a_stranger_is_not_run(host):
    """Attack: a commit signed, but by a key that is not one of fleet_pull_gpg_public_keys (for example one in
    root's own keyring); only the role's keyring counts."""
    result = _pull_branch(host, 'foreign')
    assert result.rc != 0
    assert 'Failed to verify GPG signature' in result.stdout + result.stderr
    assert not host.file('/var/tmp/edgeai-pull-foreign-ran.txt').exists
