"""The lab (tests/lab/lab.sh): cached image builds, node lifecycle, refusals.

The lab tests need root and podman; they use their own node prefix and
inventory so a demo lab running on the same machine is never touched.
"""

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
LAB = REPO / "tests" / "lab" / "lab.sh"
CACHE = os.environ.get("EDGEAI_LAB_CACHE", "/var/tmp/edgeai-lab")
IMAGES = ("localhost/edgeai-node:bookworm", "localhost/edgeai-node-ctr:bookworm",
          "localhost/edgeai-node:bookworm-ssh", "localhost/edgeai-node-ctr:bookworm-ssh")

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="the lab runs as root")
needs_podman = pytest.mark.skipif(
    not (shutil.which("podman") and shutil.which("debootstrap")),
    reason="the lab needs podman and debootstrap (make deps)",
)


def lab_env(**extra):
    return dict(os.environ, CONTAINERS_CONF=f"{CACHE}/containers.conf", **extra)


def lab(*args, env=None, timeout=600):
    return subprocess.run(
        ["/bin/bash", str(LAB), *args],
        env=env or lab_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def image_ids():
    out = subprocess.run(
        ["podman", "image", "inspect", "--format", "{{.Id}}", *IMAGES],
        env=lab_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.split()


def lab_containers(prefix):
    out = subprocess.run(
        ["podman", "ps", "-a", "--filter", f"label=edgeai.lab.prefix={prefix}", "--format", "{{.Names}}"],
        env=lab_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    return sorted(out.stdout.split())


@pytest.fixture
def lab_prefix(tmp_path):
    """A throwaway lab: its own prefix and inventory, removed whatever happens."""
    prefixes = []

    def make():
        prefix = f"labtest-{uuid.uuid4().hex[:6]}"
        prefixes.append(prefix)
        return prefix, lab_env(
            EDGEAI_LAB_PREFIX=prefix,
            EDGEAI_LAB_INVENTORY=str(tmp_path / prefix / "hosts.yml"),
            # up runs prepare.yml; its fleet report must not replace the demo's.
            EDGEAI_FLEET_REPORT_DIR=str(tmp_path / prefix / "report"),
        )

    yield make
    for prefix in prefixes:
        names = lab_containers(prefix)
        if names:
            subprocess.run(["podman", "rm", "--force", "--time", "2", *names], env=lab_env(), check=False)
        # What lab.sh down would also remove: the prefix's SSH keys.
        shutil.rmtree(Path(CACHE) / "ssh" / prefix, ignore_errors=True)


@pytest.mark.lab
@needs_root
@needs_podman
def test_build_twice_reuses_the_images():
    first = lab("build")
    assert first.returncode == 0, first.stderr
    ids = image_ids()

    started = time.monotonic()
    second = lab("build")
    elapsed = time.monotonic() - started

    assert second.returncode == 0, second.stderr
    assert image_ids() == ids
    assert second.stderr.count("is up to date") == len(IMAGES), second.stderr
    assert elapsed < 15, f"a cached build took {elapsed:.1f} s"


@pytest.mark.lab
@needs_root
@needs_podman
def test_up_and_down_touch_only_their_own_prefix(lab_prefix):
    prefix, env = lab_prefix()
    other, other_env = lab_prefix()
    inventory = Path(env["EDGEAI_LAB_INVENTORY"])

    for e in (env, other_env):
        up = lab("up", "1", env=e, timeout=300)
        assert up.returncode == 0, up.stdout + up.stderr
    node = f"{prefix}-01"

    systemd = subprocess.run(
        ["podman", "exec", node, "systemctl", "is-system-running"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert systemd.stdout.strip() in ("running", "degraded")
    hosts = yaml.safe_load(inventory.read_text())["lab"]
    assert hosts["vars"]["ansible_connection"] == "ansible.builtin.ssh"
    assert hosts["vars"]["ansible_ssh_pipelining"] is True
    entry = hosts["children"]["cpu"]["hosts"][node]
    assert entry["lab_doubles"] == [] and entry["ansible_podman_host"] == node
    assert node in lab("status", env=env).stdout

    # Reached over SSH as a device is, with the lab's own keys: only root may read them.
    keys = Path(hosts["vars"]["ansible_ssh_private_key_file"])
    assert oct(keys.stat().st_mode & 0o777) == "0o600"
    assert oct(keys.parent.stat().st_mode & 0o777) == "0o700"
    ping = subprocess.run(
        [str(Path(sys.executable).parent / "ansible"), "-i", str(inventory), node, "-m", "ansible.builtin.ping"],
        env=env, capture_output=True, text=True, timeout=120, check=False, cwd=REPO,
    )
    assert ping.returncode == 0, ping.stdout + ping.stderr

    again = lab("up", "1", env=env, timeout=300)
    assert again.returncode == 0, again.stderr
    assert "creating" not in again.stderr

    down = lab("down", env=env)
    assert down.returncode == 0, down.stderr
    assert lab_containers(prefix) == []
    assert not inventory.exists()
    assert not keys.parent.exists()
    assert lab_containers(other) == [f"{other}-01"]


@needs_root
def test_refuses_without_podman_on_path(tmp_path):
    result = lab("status", env=lab_env(PATH=str(tmp_path)))
    assert result.returncode != 0
    assert "podman" in result.stderr
    assert "apt-get install" in result.stderr


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"), reason="needs root to drop to nobody")
def test_refuses_when_not_root():
    result = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "/bin/bash", str(LAB), "status"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "must run as root" in result.stderr
