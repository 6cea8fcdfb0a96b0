# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""edgeai.fleet.nvidia_runtime against a real containerd 1.6 (Debian 12) started on temporary paths.

Real: containerd, its config merging (`config dump`), the CRI plugin answering over gRPC, runc.
Simulated: nvidia-container-runtime is a shell script that logs its argv and execs runc (no GPU here),
and the pod sandbox image is a two-megabyte image holding /bin/sleep, built by the test.
containerd 2.x (config version 3) is in test_nvidia_runtime_containerd2.py.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile

import pytest

from _nvidia_runtime_helpers import Daemon, ansible_module, fake_runtime, wait_for

tomllib = pytest.importorskip("tomllib")
grpc = pytest.importorskip("grpc")
cri = pytest.importorskip("cri_api.v1.api_pb2")
cri_grpc = pytest.importorskip("cri_api.v1.api_pb2_grpc")

pytestmark = pytest.mark.skipif(not shutil.which("containerd") or os.geteuid() != 0,
                                reason="needs containerd and root")

PAUSE = "localhost/pause:test"


def pause_image_archive():
    """A docker-archive with /bin/sleep and its libraries, CMD sleep infinity (the CRI sandbox image)."""
    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w") as tar:
        for src, dest in (("/usr/bin/sleep", "bin/sleep"), ("/lib/x86_64-linux-gnu/libc.so.6", "lib/x86_64-linux-gnu/libc.so.6"),
                          ("/lib64/ld-linux-x86-64.so.2", "lib64/ld-linux-x86-64.so.2")):
            tar.add(os.path.realpath(src), arcname=dest)
    layer_bytes = layer.getvalue()
    diff_id = "sha256:" + hashlib.sha256(layer_bytes).hexdigest()
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["/bin/sleep", "infinity"]},
                         "rootfs": {"type": "layers", "diff_ids": [diff_id]}}).encode()
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    manifest = json.dumps([{"Config": config_name, "RepoTags": [PAUSE], "Layers": ["layer/layer.tar"]}]).encode()
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w") as tar:
        for name, data in ((config_name, config), ("layer/layer.tar", layer_bytes), ("manifest.json", manifest)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return archive.getvalue()


def user_config(work):
    """The operator's own config: private paths, a custom sandbox image and runc without systemd cgroups."""
    return """version = 2
root = "{w}/root"
state = "{w}/state"
imports = []
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
                    "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]

[grpc]
  address = "{w}/containerd.sock"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{pause}"
  # the sandbox's oom_score_adj=-998 needs CAP_SYS_RESOURCE, which this machine lacks (testing.md §3)
  restrict_oom_score_adj = true

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
  SystemdCgroup = false
""".format(w=work, pause=PAUSE)


def dump(main):
    out = subprocess.run(["containerd", "-c", main, "config", "dump"], capture_output=True, text=True, check=True,
                         timeout=30).stdout
    return tomllib.loads(out)


def test_containerd_registration_check_mode_idempotence_and_hand_edits(work):
    runtime = fake_runtime(work)[0]
    main, drop_dir = os.path.join(work, "config.toml"), os.path.join(work, "conf.d")
    with open(main, "w", encoding="utf-8") as handle:
        handle.write(user_config(work))
    args = {"runtime": "containerd", "config_path": main, "drop_in_dir": drop_dir, "runtime_path": runtime}

    predicted = ansible_module(args, check=True)
    assert predicted["changed"] and predicted["restart_required"] and not os.path.exists(drop_dir)
    assert len(predicted["diff"]) == 2

    applied = ansible_module(args)
    assert applied["changed"] and applied["runtime_config_version"] == 2
    assert [d["after"] for d in applied["diff"]] == [d["after"] for d in predicted["diff"]]
    merged = dump(main)
    cri_cfg = merged["plugins"]["io.containerd.grpc.v1.cri"]
    runtimes = cri_cfg["containerd"]["runtimes"]
    assert runtimes["nvidia"]["options"]["BinaryName"] == runtime
    assert runtimes["nvidia"]["options"]["SystemdCgroup"] is False
    assert runtimes["runc"]["runtime_type"] == "io.containerd.runc.v2"
    # containerd 1.6 replaces the CRI section with the drop-in's: the user's settings survive only because it is copied
    assert cri_cfg["sandbox_image"] == PAUSE and cri_cfg["restrict_oom_score_adj"] is True
    assert cri_cfg["containerd"]["default_runtime_name"] == "runc"

    assert ansible_module(args)["changed"] is False

    # The operator edits the main config by hand: kept as written, and carried into the drop-in.
    with open(main, encoding="utf-8") as handle:
        edited = handle.read().replace("restrict_oom_score_adj = true", "restrict_oom_score_adj = true\n  max_concurrent_downloads = 7")
    with open(main, "w", encoding="utf-8") as handle:
        handle.write(edited)
    again = ansible_module(dict(args, set_as_default=True))
    assert again["changed"] and again["files"] == [os.path.join(drop_dir, "99-nvidia.toml")]
    with open(main, encoding="utf-8") as handle:
        assert handle.read() == edited
    cri_cfg = dump(main)["plugins"]["io.containerd.grpc.v1.cri"]
    assert cri_cfg["max_concurrent_downloads"] == 7
    assert cri_cfg["containerd"]["default_runtime_name"] == "nvidia"

    removed = ansible_module(dict(args, state="absent"))
    assert removed["changed"] and not os.path.exists(os.path.join(drop_dir, "99-nvidia.toml"))
    assert "nvidia" not in dump(main)["plugins"]["io.containerd.grpc.v1.cri"]["containerd"]["runtimes"]
    with open(main, encoding="utf-8") as handle:
        left = handle.read()
    assert "imports" not in tomllib.loads(left)   # `imports = []` held only our entry: the line goes
    assert left.splitlines() == [line for line in edited.splitlines() if not line.startswith("imports")]


def test_containerd_cri_runs_a_pod_sandbox_on_the_nvidia_handler(work):
    runtime, runtime_log = fake_runtime(work)
    main = os.path.join(work, "config.toml")
    with open(main, "w", encoding="utf-8") as handle:
        handle.write(user_config(work))
    result = ansible_module({"runtime": "containerd", "config_path": main, "drop_in_dir": os.path.join(work, "conf.d"),
                             "runtime_path": runtime}, diff=False)
    assert result["changed"], result

    sock = os.path.join(work, "containerd.sock")
    daemon = Daemon(["containerd", "-c", main], os.path.join(work, "containerd.log"))
    try:
        wait_for(lambda: os.path.exists(sock) or not daemon.alive(), 20, "containerd's socket")
        assert daemon.alive(), daemon.output()
        subprocess.run(["ctr", "--address", sock, "-n", "k8s.io", "images", "import", "-"], input=pause_image_archive(),
                       check=True, capture_output=True, timeout=60)
        channel = grpc.insecure_channel("unix://" + sock)
        stub = cri_grpc.RuntimeServiceStub(channel)
        status = stub.Status(cri.StatusRequest(verbose=True), timeout=10)
        config = json.loads(status.info["config"])
        handlers = config["containerd"]["runtimes"]
        assert handlers["nvidia"]["options"]["BinaryName"] == runtime
        assert config["sandboxImage"] == PAUSE

        sandbox = cri.PodSandboxConfig(
            metadata=cri.PodSandboxMetadata(name="nvrt", namespace="default", uid="nvrt-uid", attempt=0),
            linux=cri.LinuxPodSandboxConfig(security_context=cri.LinuxSandboxSecurityContext(
                namespace_options=cri.NamespaceOption(network=cri.NODE))))
        pod = stub.RunPodSandbox(cri.RunPodSandboxRequest(config=sandbox, runtime_handler="nvidia"), timeout=60)
        state = stub.PodSandboxStatus(cri.PodSandboxStatusRequest(pod_sandbox_id=pod.pod_sandbox_id), timeout=10)
        assert state.status.state == cri.SANDBOX_READY
        assert state.status.runtime_handler == "nvidia"
        with open(runtime_log, encoding="utf-8") as handle:
            calls = handle.read().splitlines()
        assert any(" create " in " %s " % c for c in calls), calls
        stub.StopPodSandbox(cri.StopPodSandboxRequest(pod_sandbox_id=pod.pod_sandbox_id), timeout=30)
        stub.RemovePodSandbox(cri.RemovePodSandboxRequest(pod_sandbox_id=pod.pod_sandbox_id), timeout=30)
        channel.close()
    finally:
        daemon.stop()
