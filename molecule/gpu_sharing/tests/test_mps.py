# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Host-mode MPS after converge. The GPUs and the MPS daemon are test doubles (files/) that record their calls;
what is real: systemd running the unit, its directories, and the helper script the role installed."""
from __future__ import annotations

# The device plugin's layout, <mpsRoot>/<resource>/pipe, with the chart's mpsRoot (the module's default).
PIPE = "/run/nvidia/mps/nvidia.com/gpu/pipe"
UUIDS = ("GPU-11111111-1111-1111-1111-111111111111", "GPU-22222222-2222-2222-2222-222222222222")


def _calls(host):
    return host.file("/var/log/fake-nvidia/calls.log").content_string.splitlines()


def test_unit_enabled_and_running(host):
    service = host.service("edgeai-mps.service")
    assert service.is_enabled and service.is_running


def test_gpus_in_exclusive_process_while_mps_runs(host):
    for uuid in UUIDS:
        assert host.file("/var/lib/fake-nvidia/mode-%s" % uuid).content_string.strip() == "Exclusive_Process"
        assert "nvidia-smi -i %s -c EXCLUSIVE_PROCESS" % uuid in _calls(host)


def test_original_modes_recorded_for_restore(host):
    recorded = host.file("/var/lib/edgeai-mps/compute-modes").content_string.splitlines()
    assert recorded == ["%s, Default" % uuid for uuid in UUIDS]


def test_daemon_uses_the_pipe_and_per_client_limits(host):
    calls = _calls(host)
    assert "nvidia-cuda-mps-control -d (pipe=%s)" % PIPE in calls
    # memory_per_replica 10GiB on 40 GiB GPUs: 4 clients, 25 % of the threads and 10240 MiB pinned each.
    assert "nvidia-cuda-mps-control set_default_active_thread_percentage 25 (pipe=%s)" % PIPE in calls
    for index in (0, 1):
        assert "nvidia-cuda-mps-control set_default_device_pinned_mem_limit %d 10240M (pipe=%s)" % (index, PIPE) in calls
    assert host.file(PIPE + "/control").exists
    assert host.file("/var/log/nvidia-mps").is_directory


def test_unit_file_is_managed(host):
    unit = host.file("/etc/systemd/system/edgeai-mps.service")
    assert unit.mode == 0o644 and "ExecStopPost=/usr/local/libexec/edgeai-mps-control restore" in unit.content_string
