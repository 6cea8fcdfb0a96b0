# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The gpu_sharing role in Kubernetes mode (GPU Operator flavour) against an emulated API server.

Simulated: no kube-apiserver can run here, so the API is PyPI ``kmock``'s in-memory KubernetesEmulator
(ConfigMaps, Nodes, Pods and the ClusterPolicy CRD declared as resources; it
needs no Namespace objects and its path parser cannot serve /api/v1/namespaces). It ignores dryRun, so
check mode is not exercised against it (the module's check mode is covered by unit tests), and it ignores
field selectors (the role also filters pods by ``spec.nodeName``, which this test relies on).
The device plugin, its config-manager sidecar, its DaemonSet and GFD are simulated by ``FakePlugin`` following
shared/reference/gpu.md §1.4/§1.6: a node's plugin loads the ConfigMap content under the key named by its
``nvidia.com/device-plugin.config`` label when that label changes or when its pod is recreated, never when the
content under an unchanged key changes; it then advertises GPUs x replicas and the GFD sharing labels.
Real: ansible-playbook, the role, ``edgeai.fleet.gpu_sharing_config`` and ``kubernetes.core``.
"""
from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml

kmock = pytest.importorskip("kmock")
kubernetes = pytest.importorskip("kubernetes")

REPO = Path(__file__).resolve().parents[2]
NS = "gpu-operator"
CM = "edgeai-device-plugin-config"
LABEL = "nvidia.com/device-plugin.config"
NODES = ("edge-a", "edge-b")
RESOURCES = [("v1/configmaps", "ConfigMap", True), ("v1/nodes", "Node", False), ("v1/pods", "Pod", True),
             ("nvidia.com/v1/clusterpolicies", "ClusterPolicy", False)]
A100 = {"name": "NVIDIA A100-SXM4-40GB", "pci_device_id": "0x20B010DE", "memory_total_mib": 40960, "memory_used_mib": 0,
        "compute_capability": "8.0", "persistence_mode": True, "compute_mode": "default",
        "mig_mode": {"current": False, "pending": False}, "mig_devices": [], "virtualization_mode": "none", "processes": 0}


def _facts(node):
    gpus = [dict(A100, index=i, uuid="GPU-%s-%d" % (node, i), pci_bus_id="00000000:0%d:00.0" % (7 + i)) for i in range(2)]
    return {"platform": "nvml", "reason": None, "driver_version": "550.54.15", "cuda_driver_version": "12.4",
            "nvml_version": "12.550.54.15", "count": 2, "products": [A100["name"]], "mig_capable": True, "gpus": gpus,
            "tegra": None}


class ListKindEmulator(kmock.KubernetesEmulator):
    """kmock 0.8 answers list requests without ``kind``/``apiVersion`` (a TODO in its k8s.py); the real API says
    ``PodList`` etc., and kubernetes.core's k8s_info needs it. Add them as the API server does."""

    async def _serve_list(self, request):
        payload = await super()._serve_list(request)
        res = request.resource
        return dict(payload, kind=self.resources[res].kind + "List",
                    apiVersion="%s/%s" % (res.group, res.version) if res.group else res.version)


class Emulator:
    """kmock in a thread with its own event loop, stopped through an asyncio.Event."""

    def __init__(self):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.ready = threading.Event()
        self.loop = self.stop_event = None
        self.thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    async def _main(self):
        self.loop, self.stop_event = asyncio.get_running_loop(), asyncio.Event()
        async with ListKindEmulator() as emulator, kmock.Server(emulator, port=self.port):
            for resource, kind, namespaced in RESOURCES:
                emulator.resources[resource] = kmock.ResourceInfo(
                    kind=kind, namespaced=namespaced, verbs={"get", "list", "watch", "create", "update", "patch", "delete"})
            self.ready.set()
            await self.stop_event.wait()

    def __enter__(self):
        self.thread.start()
        assert self.ready.wait(20), "kmock did not start"
        return self

    def __exit__(self, *exc):
        self.loop.call_soon_threadsafe(self.stop_event.set)
        self.thread.join(10)


class FakePlugin:
    """Device plugin + config-manager + DaemonSet + GFD, per node (see the module docstring)."""

    def __init__(self, core):
        self.core = core
        self.loaded = {}       # node -> (pod name, label value) the plugin last loaded for
        self.generation = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def pods(self):
        items = self.core.list_namespaced_pod(NS, label_selector="app=nvidia-device-plugin-daemonset").items
        return {p.spec.node_name: p.metadata.name for p in items}

    def _run(self):
        while not self.stop.is_set():
            try:
                self.reconcile()
            except kubernetes.client.ApiException:
                pass  # the role may be writing the same objects; try again on the next tick
            time.sleep(0.2)

    def reconcile(self):
        pods = self.pods()
        for node in NODES:
            if node not in pods:  # the DaemonSet recreates a deleted pod
                self.generation += 1
                pods[node] = "nvidia-device-plugin-%s-%d" % (node, self.generation)
                self.core.create_namespaced_pod(NS, {
                    "apiVersion": "v1", "kind": "Pod",
                    "metadata": {"name": pods[node], "namespace": NS, "labels": {"app": "nvidia-device-plugin-daemonset"}},
                    "spec": {"nodeName": node, "containers": [{"name": "plugin", "image": "nvidia/k8s-device-plugin"}]}})
            key = (self.core.read_node(node).metadata.labels or {}).get(LABEL)
            if key is None or self.loaded.get(node) == (pods[node], key):
                continue  # same pod, same label: the sidecar sees nothing
            data = self.core.read_namespaced_config_map(CM, NS).data or {}
            if key not in data:
                continue  # "specified config does not exist": the sidecar crash-loops, nothing changes
            self._advertise(node, yaml.safe_load(data[key]))
            self.loaded[node] = (pods[node], key)

    def _advertise(self, node, config):
        sharing = config.get("sharing") or {}
        strategy, block = ("mps", sharing["mps"]) if "mps" in sharing else (
            ("time-slicing", sharing["timeSlicing"]) if "timeSlicing" in sharing else ("none", {}))
        replicas = block["resources"][0]["replicas"] if block else 1
        resource = "nvidia.com/gpu.shared" if block.get("renameByDefault") else "nvidia.com/gpu"
        labels = {"nvidia.com/gpu.sharing-strategy": strategy, "nvidia.com/gpu.replicas": str(replicas),
                  "nvidia.com/mps.capable": "true" if strategy == "mps" else "false"}
        count = {resource: str(2 * replicas)}
        self.core.patch_node(node, {"metadata": {"labels": labels}, "status": {"capacity": count, "allocatable": count}})

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(5)


@pytest.fixture(name="cluster")
def cluster_fixture(tmp_path):
    with Emulator() as emulator:
        config = kubernetes.client.Configuration()
        config.host = "http://127.0.0.1:%d" % emulator.port
        core = kubernetes.client.CoreV1Api(kubernetes.client.ApiClient(config))
        custom = kubernetes.client.CustomObjectsApi(kubernetes.client.ApiClient(config))
        for node in NODES:
            core.create_node({"apiVersion": "v1", "kind": "Node",
                              "metadata": {"name": node, "labels": {"nvidia.com/gpu.present": "true"}},
                              "status": {"capacity": {"cpu": "8", "nvidia.com/gpu": "2"}}})
        custom.create_cluster_custom_object("nvidia.com", "v1", "clusterpolicies", {
            "apiVersion": "nvidia.com/v1", "kind": "ClusterPolicy", "metadata": {"name": "cluster-policy"},
            "spec": {"devicePlugin": {"enabled": True, "config": {"name": "", "default": ""}}, "mig": {"strategy": "single"}}})
        kubeconfig = tmp_path / "kubeconfig"
        kubeconfig.write_text(yaml.safe_dump({
            "apiVersion": "v1", "kind": "Config", "current-context": "kmock",
            "clusters": [{"name": "kmock", "cluster": {"server": config.host}}],
            "contexts": [{"name": "kmock", "context": {"cluster": "kmock", "user": "kmock"}}],
            "users": [{"name": "kmock", "user": {"token": "kmock"}}]}))
        with FakePlugin(core) as plugin:
            yield {"core": core, "custom": custom, "kubeconfig": kubeconfig, "tmp": tmp_path, "plugin": plugin}


def _run_role(cluster, policies):
    """Run the role for both nodes; ``policies`` maps node -> role variables. Returns (rc, stats, output)."""
    tmp = cluster["tmp"]
    collections = tmp / "collections" / "ansible_collections" / "edgeai"
    collections.mkdir(parents=True, exist_ok=True)
    if not (collections / "fleet").exists():
        (collections / "fleet").symlink_to(REPO)
    hosts = {node: dict({"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
                         "gpu_sharing_gpu_facts": _facts(node)}, **policies[node]) for node in NODES}
    (tmp / "inventory.yml").write_text(yaml.safe_dump({"all": {"hosts": hosts}}))
    (tmp / "play.yml").write_text(yaml.safe_dump([{
        "name": "GPU sharing through the GPU Operator", "hosts": "all", "gather_facts": False,
        "roles": [{"role": "edgeai.fleet.gpu_sharing", "vars": {
            "gpu_sharing_mode": "kubernetes", "gpu_sharing_kubernetes_deployment": "operator", "gpu_sharing_namespace": NS,
            "gpu_sharing_kubeconfig": str(cluster["kubeconfig"]), "gpu_sharing_configmap_name": CM,
            "gpu_sharing_device_plugin_selector": "app=nvidia-device-plugin-daemonset",
            "gpu_sharing_wait_retries": 40, "gpu_sharing_wait_delay": 1}}]}]))
    (tmp / "ansible.cfg").write_text("[defaults]\nstdout_callback = ansible.posix.json\nhost_key_checking = false\n")
    env = dict(os.environ, ANSIBLE_CONFIG=str(tmp / "ansible.cfg"), ANSIBLE_COLLECTIONS_PATH=str(tmp / "collections"),
               ANSIBLE_LOCAL_TEMP=str(tmp / "ansible-tmp"), ANSIBLE_HOME=str(tmp / "ansible-home"))
    playbook = Path(sys.executable).parent / "ansible-playbook"
    proc = subprocess.run([str(playbook), "-i", str(tmp / "inventory.yml"), str(tmp / "play.yml")],
                          capture_output=True, text=True, env=env, timeout=300, check=False)
    try:
        report = json.loads(proc.stdout)
    except ValueError:
        return proc.returncode, {}, proc.stdout[-4000:] + proc.stderr[-2000:]
    failures = ["%s | %s | %s" % (task["task"]["name"], host, result.get("msg"))
                for play in report["plays"] for task in play["tasks"]
                for host, result in task["hosts"].items() if result.get("failed")]
    return proc.returncode, report["stats"], "\n".join(failures) + proc.stderr[-2000:]


def _state(cluster):
    core = cluster["core"]
    deadline = time.monotonic() + 10
    while set(cluster["plugin"].pods()) != set(NODES) and time.monotonic() < deadline:
        time.sleep(0.1)  # a deleted plugin pod is being recreated by the fake DaemonSet
    data = core.read_namespaced_config_map(CM, NS).data
    nodes = {n: core.read_node(n) for n in NODES}
    return {"data": data, "labels": {n: nodes[n].metadata.labels.get(LABEL) for n in NODES},
            "capacity": {n: nodes[n].status.capacity for n in NODES}, "pods": cluster["plugin"].pods()}


POLICY = {"edge-a": {"gpu_sharing_strategy": "time-slicing", "gpu_sharing_replicas": 4},
          "edge-b": {"gpu_sharing_strategy": "mps", "gpu_sharing_replicas": 2}}


def test_apply_reapply_change_restart_and_refuse(cluster):
    """One cluster, five runs (each run costs ~25 s of kubernetes.core module start-ups on 2 cores)."""
    rc, stats, out = _run_role(cluster, POLICY)
    assert rc == 0, out
    assert all(stats[n]["changed"] > 0 for n in NODES)
    first = _state(cluster)
    assert first["labels"]["edge-a"].startswith("time-slicing-4-") and first["labels"]["edge-b"].startswith("mps-2-")
    assert set(first["data"]) == set(first["labels"].values())
    assert first["capacity"]["edge-a"]["nvidia.com/gpu"] == "8" and first["capacity"]["edge-b"]["nvidia.com/gpu"] == "4"
    policy = cluster["custom"].get_cluster_custom_object("nvidia.com", "v1", "clusterpolicies", "cluster-policy")
    assert policy["spec"]["devicePlugin"]["config"] == {"name": CM, "default": ""}
    assert policy["spec"]["devicePlugin"]["enabled"] is True  # merged, not replaced

    rc, stats, out = _run_role(cluster, POLICY)
    assert rc == 0, out
    assert all(stats[n]["changed"] == 0 for n in NODES), stats
    assert _state(cluster) == first

    # New content gets a new key: written first, then the label; the plugin reloads on the label, no restart.
    rc, stats, out = _run_role(cluster, dict(POLICY, **{"edge-a": {"gpu_sharing_strategy": "time-slicing", "gpu_sharing_replicas": 8}}))
    assert rc == 0, out
    second = _state(cluster)
    assert second["labels"]["edge-a"].startswith("time-slicing-8-") and second["labels"]["edge-b"] == first["labels"]["edge-b"]
    assert set(first["data"]) < set(second["data"])  # old keys stay as rollback targets
    assert second["capacity"]["edge-a"]["nvidia.com/gpu"] == "16"
    assert second["pods"] == first["pods"]

    # Content edited under the key a node already uses: the sidecar never notices, so only that node's plugin restarts.
    core = cluster["core"]
    core.patch_namespaced_config_map(CM, NS, {"data": {second["labels"]["edge-a"]: first["data"][first["labels"]["edge-a"]]}})
    rc, stats, out = _run_role(cluster, dict(POLICY, **{"edge-a": {"gpu_sharing_strategy": "time-slicing", "gpu_sharing_replicas": 8}}))
    assert rc == 0, out
    third = _state(cluster)
    assert third["data"] == second["data"] and third["labels"] == second["labels"]
    assert third["pods"]["edge-a"] != second["pods"]["edge-a"] and third["pods"]["edge-b"] == second["pods"]["edge-b"]
    assert third["capacity"]["edge-a"]["nvidia.com/gpu"] == "16"

    # An invalid policy fails on its host before anything is applied; the other host converges untouched.
    rc, stats, out = _run_role(cluster, dict(POLICY, **{"edge-a": {"gpu_sharing_strategy": "mps", "gpu_sharing_replicas": 60}}))
    assert rc != 0 and "exceeds the MPS client limit of 48" in out
    assert stats["edge-a"]["failures"] == 1 and stats["edge-b"]["failures"] == 0 and stats["edge-b"]["changed"] == 0
    assert _state(cluster) == third
