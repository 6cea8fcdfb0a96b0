# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""bootc_image against the lab's bootc double (tests/lab/doubles/bootc), called in-process.

Simulated: the double keeps deployments in a JSON state file and resolves images from a
catalogue instead of a registry; its CLI contract (flags per version, JSON status shape,
exit codes, the rollback toggle) follows shared/reference/bootc.md. "Nothing changed" is
proven by comparing the double's state file byte for byte.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import os
from collections import namedtuple

import pytest

from ansible_collections.edgeai.fleet.plugins.module_utils import _bootc_auth, _bootc_image
from ansible_collections.edgeai.fleet.plugins.module_utils._runner import CliRunner
from ansible_collections.edgeai.fleet.plugins.modules import bootc_image
from ansible_collections.edgeai.fleet.tests.unit.module_helpers import FakeRunCommand, run_module
from ansible_collections.edgeai.fleet.tests.unit.plugins.module_utils.test__bootc_status import fixture_doc

ROOTFS = os.path.join(os.path.dirname(__file__), "..", "..", "..", "lab", "doubles", "bootc", "rootfs", "usr")
BOOTC = os.path.abspath(os.path.join(ROOTFS, "bin", "bootc"))
V1 = "quay.io/example/edge-os:1.0"
V2 = "quay.io/example/edge-os:2.0"


def _load_double():
    """The double's code, imported in-process: spawning it per call costs seconds on a loaded CI machine."""
    spec = importlib.util.spec_from_file_location("bootc_double", os.path.join(ROOTFS, "lib", "bootc-double", "bootc_double.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BOOTC_DOUBLE = _load_double()


class Double:
    """One bootc double with its own state directory, called as ``run_command`` would call bootc."""

    def __init__(self, path, monkeypatch, version="1.16.9"):
        self.dir = str(path)
        monkeypatch.setenv("BOOTC_DOUBLE_STATE_DIR", self.dir)
        monkeypatch.setenv("BOOTC_DOUBLE_ALLOW_NONROOT", "1")
        self.calls = []
        self.deadlines = []
        self.ctl("init", V1, "1.0", version)
        self.ctl("push", V2, "2.0")

    @staticmethod
    def invoke(mode, args):
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            rc = BOOTC_DOUBLE.main(list(args), mode)
        return rc, out.getvalue(), err.getvalue()

    def ctl(self, *args):
        rc, out, err = self.invoke("ctl", args)
        assert rc == 0, err
        return json.loads(out)

    def reboot(self):
        assert self.invoke("reboot", [])[0] == 0

    def state_bytes(self):
        with open(os.path.join(self.dir, "state.json"), "rb") as handle:
            return handle.read()

    def digest(self, image):
        return self.ctl("show")["catalogue"][image]["digest"]

    def __call__(self, args, environ_update=None, data=None, **_kwargs):
        args = self.unwrap(args)
        assert args[0] == BOOTC and (environ_update or {}).get("LC_ALL") == "C"
        self.calls.append(list(args))
        return self.invoke("bootc", args[1:])

    def unwrap(self, args):
        """``args`` without the coreutils timeout prefix the module puts before every bootc command."""
        args = list(args)
        if os.path.basename(args[0]) == "timeout":
            # The module runs every verb under coreutils timeout (a held sysroot lock must not hang a wave).
            assert args[1] == "--kill-after=10" and args[2].endswith("s"), args[:3]
            self.deadlines.append(int(args[2][:-1]))
            args = args[3:]
        return args

    def verbs(self):
        return [c[1] for c in self.calls if c[1] not in ("--version", "status")]


@pytest.fixture
def double(tmp_path, monkeypatch):
    monkeypatch.setattr(_bootc_auth, "FS_ROOT", str(tmp_path / "root"))
    monkeypatch.setattr(_bootc_image.os, "geteuid", lambda: 0)
    return Double(tmp_path / "state", monkeypatch)


def run(double, check_mode=False, diff=False, **args):
    args.setdefault("boot_min_free_mib", 0)
    return run_module(bootc_image, dict(args, executable=BOOTC), run_command=double, check_mode=check_mode, diff=diff)


# ---- switched -------------------------------------------------------------------------------
def test_switch_stages_then_is_idempotent(double):
    result, failed = run(double, image=V2)
    assert not failed, result
    assert result["changed"] is True and result["reboot_required"] is True
    assert result["before"]["staged"] is None
    assert result["after"]["staged"]["digest"] == double.digest(V2)
    assert result["cmd"] == [BOOTC, "switch", "--transport", "registry", V2]
    assert result["ansible_facts"]["edgeai_bootc"]["staged"]["image"] == V2
    # The refreshed facts keep what bootc_info adds, so roles that decide image mode from them need not re-read.
    assert {"systemd_booted", "ostree_booted"} <= set(result["ansible_facts"]["edgeai_bootc"])
    again = run(double, image=V2)[0]
    assert again["changed"] is False and again["reboot_required"] is True and again["cmd"] is None
    assert double.verbs() == ["switch"]


def test_switch_to_booted_image_is_a_noop(double):
    result = run(double, image=V1)[0]
    assert result["changed"] is False and result["reboot_required"] is False
    assert double.verbs() == []


def test_switch_check_mode_predicts_and_touches_nothing(double):
    before = double.state_bytes()
    result, failed = run(double, check_mode=True, diff=True, image=V2)
    assert not failed and result["changed"] is True
    assert result["after"]["staged"]["image"] == V2 and result["after"]["staged"]["digest"] is None
    assert double.state_bytes() == before and double.verbs() == []
    assert '"image": "%s"' % V2 in result["diff"][0]["after"]


def test_switch_diff(double):
    result = run(double, diff=True, image=V2)[0]
    entry = result["diff"][0]
    assert entry["before_header"] == "bootc deployments"
    assert double.digest(V2) in entry["after"] and double.digest(V2) not in entry["before"]


def test_switch_by_digest_and_flags(double):
    pinned = "quay.io/example/edge-os@" + double.digest(V2)
    result, failed = run(double, image="docker://" + pinned, retain=True, enforce_container_sigpolicy=True)
    assert not failed, result
    assert result["cmd"] == [BOOTC, "switch", "--transport", "registry", "--enforce-container-sigpolicy", "--retain", pinned]
    assert result["status"]["spec_image"]["signature"] == "containerPolicy"
    # Unset enforce keeps the host's enforcement instead of silently dropping it (bootc#815).
    assert run(double, image=pinned)[0]["changed"] is False


def test_switch_back_to_booted_cancels_staged(double):
    run(double, image=V2)
    result = run(double, image=V1)[0]
    assert result["changed"] is True and result["after"]["staged"]["digest"] == double.digest(V1)


# ---- latest -----------------------------------------------------------------------------------
def test_latest_stages_a_pushed_digest_under_the_same_tag(double):
    assert run(double, state="latest")[0]["changed"] is False
    double.ctl("push", V1, "1.0.1")
    check = run(double, state="latest", check_mode=True)[0]
    assert check["changed"] is True and check["after"]["staged"]["digest"] == double.digest(V1)
    assert check["status"]["staged"] is None or check["after"]["staged"]["version"] == "1.0.1"
    result = run(double, state="latest")[0]
    assert result["changed"] is True and result["after"]["staged"]["version"] == "1.0.1"
    assert run(double, state="latest")[0]["changed"] is False


def test_latest_check_mode_without_update_is_unchanged(double):
    before = json.loads(double.state_bytes())
    result = run(double, state="latest", check_mode=True)[0]
    assert result["changed"] is False
    after = json.loads(double.state_bytes())
    assert before["booted"] == after["booted"] and after["staged"] is None


def test_download_only_then_from_downloaded(double):
    double.ctl("push", V1, "1.0.1")
    locked, failed = run(double, state="latest", download_only=True)
    assert not failed and locked["changed"] is True and locked["reboot_required"] is False
    assert locked["after"]["staged"]["download_only"] is True
    assert run(double, state="latest", download_only=True)[0]["changed"] is False
    applied = run(double, state="latest", from_downloaded=True)[0]
    assert applied["changed"] is True and applied["reboot_required"] is True
    assert applied["cmd"] == [BOOTC, "upgrade", "--from-downloaded"]
    assert run(double, state="latest", from_downloaded=True)[0]["changed"] is False


def test_plain_upgrade_unlocks_a_download_only_deployment(double):
    """community.general.bootc_manage reports this case unchanged; the digest/lock diff does not."""
    double.ctl("push", V1, "1.0.1")
    run(double, state="latest", download_only=True)
    result = run(double, state="latest")[0]
    assert result["changed"] is True and result["after"]["staged"]["download_only"] is False


def test_from_downloaded_after_reboot_is_a_noop_with_warning(double):
    result, failed = run(double, state="latest", from_downloaded=True)
    assert not failed and result["changed"] is False
    core = _bootc_image.BootcImage(CliRunner(double, BOOTC), {"state": "latest", "from_downloaded": True}, euid=0)
    assert core.run()["changed"] is False
    assert any("nothing to apply" in w for w in core.warnings)


@pytest.mark.parametrize("option, value, needed", [("download_only", True, "1.12.0"), ("from_downloaded", True, "1.12.0"),
                                                   ("soft_reboot", "auto", "1.7.0")])
def test_options_newer_than_the_installed_bootc(tmp_path, monkeypatch, option, value, needed):
    monkeypatch.setattr(_bootc_image.os, "geteuid", lambda: 0)
    double = Double(tmp_path, monkeypatch, version="1.1.6")
    before = double.state_bytes()
    result, failed = run(double, state="latest", **{option: value})
    assert failed and "needs bootc %s or newer; this host has bootc 1.1.6" % needed in result["msg"]
    assert double.state_bytes() == before


def test_unknown_version_probes_help():
    """A bootc whose --version is unreadable is probed through the verb's --help (a FakeRunCommand bootc)."""
    fake = FakeRunCommand([(("/b", "--version"), (0, "bootc (custom build)", "")),
                           (("/b", "upgrade", "--help"), (0, "Usage: bootc upgrade [--quiet] [--check] [--apply]", ""))])
    core = _bootc_image.BootcImage(CliRunner(fake, "/b"), {"state": "latest", "download_only": True}, euid=0)
    with pytest.raises(_bootc_image.FleetError, match="has no --download-only"):
        core.run()
    assert [c["argv"][1:] for c in fake.calls] == [["--version"], ["upgrade", "--help"]]


def test_soft_reboot_flag_is_passed(double):
    result, failed = run(double, image=V2, soft_reboot="auto")
    assert not failed and "--soft-reboot=auto" in result["cmd"]


# ---- rolled_back ------------------------------------------------------------------------------
def test_rollback_queues_once_and_never_toggles(double):
    run(double, image=V2)
    double.reboot()
    old = double.digest(V1)
    result, failed = run(double, state="rolled_back", expected_digest=old)
    assert not failed and result["changed"] is True and result["after"]["rollback_queued"] is True
    again = run(double, state="rolled_back", expected_digest=old)[0]
    assert again["changed"] is False and again["after"]["rollback_queued"] is True
    assert double.verbs() == ["switch", "rollback"]
    double.reboot()
    after_boot = run(double, state="rolled_back", expected_digest=old)[0]
    assert after_boot["changed"] is False and after_boot["after"]["booted"]["digest"] == old


def test_rollback_check_mode(double):
    run(double, image=V2)
    double.reboot()
    before = double.state_bytes()
    result = run(double, state="rolled_back", check_mode=True, diff=True)[0]
    assert result["changed"] is True and result["after"]["rollback_queued"] is True
    assert double.state_bytes() == before


@pytest.mark.parametrize("setup, args, fragment", [
    ("fresh", {}, "no rollback deployment"),
    ("rebooted", {"expected_digest": "sha256:" + "e" * 64}, "not expected_digest"),
])
def test_rollback_errors_change_nothing(double, setup, args, fragment):
    if setup == "rebooted":
        run(double, image=V2)
        double.reboot()
    before = double.state_bytes()
    result, failed = run(double, state="rolled_back", **args)
    assert failed and fragment in result["msg"]
    assert double.state_bytes() == before


# ---- errors: each leaves the deployments as they were ------------------------------------------
def test_pull_failure_restores_auth_and_keeps_deployments(double, tmp_path):
    double.ctl("fail-pull", V2, "unauthorized: authentication required")
    auth = tmp_path / "root" / "run" / "ostree" / "auth.json"
    auth.parent.mkdir(parents=True)
    auth.write_text('{"auths": {"other.example": {"auth": "b2xkOm9sZA=="}}}')
    auth.chmod(0o600)
    before = double.state_bytes()
    result, failed = run(double, image=V2, auth={"username": "robot", "password": "s3cret"})
    assert failed and "auth option" in result["msg"]
    assert result["after"]["staged"] is None
    assert auth.read_text() == '{"auths": {"other.example": {"auth": "b2xkOm9sZA=="}}}'
    # the double's state only gained the logged call: deployments are byte-identical
    assert json.loads(double.state_bytes())["staged"] is None
    assert json.loads(double.state_bytes())["booted"] == json.loads(before)["booted"]
    assert "s3cret" not in json.dumps(result) and all("s3cret" not in " ".join(c) for c in double.calls)


class NoOpVerb:
    """A bootc whose ``verb`` exits 0 without doing anything (seen with a sysroot lock held by another client):
    the double's contract otherwise, so ``status`` shows the host unchanged."""

    def __init__(self, double, verb):
        self.double, self.verb = double, verb

    def __call__(self, args, **kwargs):
        bare = self.double.unwrap(args)
        if len(bare) > 1 and bare[1] == self.verb:
            self.double.calls.append(bare)
            return 0, "", ""
        return self.double(args, **kwargs)


@pytest.mark.parametrize("existing", [None, '{"auths": {"other.example": {"auth": "b2xkOm9sZA=="}}}'],
                         ids=["no-auth-file", "existing-auth-file"])
def test_verify_failure_restores_auth(double, tmp_path, existing):
    """Fault: `bootc switch` exits 0 but the host does not track the image. Before the fix the verify step ran
    after the restore window, so the new credentials stayed in auth.json and the failure said nothing about
    them; now the previous file (or no file) is back and the failed result says so, with changed=false."""
    auth = tmp_path / "root" / "run" / "ostree" / "auth.json"
    if existing is not None:
        auth.parent.mkdir(parents=True)
        auth.write_text(existing)
        auth.chmod(0o600)
    result, failed = run_module(bootc_image, dict(image=V2, executable=BOOTC, boot_min_free_mib=0,
                                                  auth={"username": "robot", "password": "s3cret"}),
                                run_command=NoOpVerb(double, "switch"))
    assert failed and "exited 0 but the host tracks" in result["msg"]
    assert result["auth_restored"] is True and "was put back" in result["msg"]
    assert result["changed"] is False and result["after"]["staged"] is None
    if existing is None:
        assert not auth.exists()
    else:
        assert auth.read_text() == existing and oct(auth.stat().st_mode & 0o777) == "0o600"
    assert "s3cret" not in json.dumps(result) and "cm9ib3Q6czNjcmV0" not in json.dumps(result)


def test_rollback_verify_failure_restores_auth(double, tmp_path):
    """Fault: `bootc rollback` exits 0 but queues nothing; the credentials written for it are removed again."""
    run(double, image=V2)
    double.reboot()
    result, failed = run_module(bootc_image, dict(state="rolled_back", executable=BOOTC, boot_min_free_mib=0,
                                                  auth={"registry": "quay.io", "username": "robot", "password": "s3cret"}),
                                run_command=NoOpVerb(double, "rollback"))
    assert failed and "no rollback is queued" in result["msg"] and result["auth_restored"] is True
    assert not (tmp_path / "root" / "run" / "ostree" / "auth.json").exists()


def test_auth_restore_failure_is_reported(double, tmp_path, monkeypatch):
    """Fault: the auth file cannot be put back (read-only /run); the error says where the new credentials are
    and reports changed=true instead of claiming the host is untouched."""
    def broken(self):
        raise _bootc_auth.FleetError("Cannot remove /run/ostree/auth.json: Read-only file system")

    monkeypatch.setattr(_bootc_auth.AuthFile, "restore", broken)
    result, failed = run_module(bootc_image, dict(image=V2, executable=BOOTC, boot_min_free_mib=0,
                                                  auth={"username": "robot", "password": "s3cret"}),
                                run_command=NoOpVerb(double, "switch"))
    assert failed and result["auth_restored"] is False and result["changed"] is True
    assert "may still be in /run/ostree/auth.json" in result["msg"]


def test_auth_restore_removes_the_new_file_and_wraps_os_errors(tmp_path, monkeypatch):
    """Fault: removing the new auth file fails; a FleetError, never a raw OSError, escapes the core."""
    monkeypatch.setattr(_bootc_auth, "FS_ROOT", str(tmp_path))
    auth = _bootc_auth.AuthFile("/run/ostree/auth.json")
    auth.prepare({"registry": "quay.io", "username": "u", "password": "p"}, None)
    auth.write()

    def read_only(path):
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(_bootc_auth.os, "unlink", read_only)
    with pytest.raises(_bootc_auth.FleetError, match="Read-only"):
        auth.restore()


def test_auth_written_0600_merged_and_idempotent(double, tmp_path):
    result, failed = run(double, diff=True, image=V2, auth={"username": "robot", "password": "s3cret"})
    assert not failed and result["auth_file"] == "/run/ostree/auth.json"
    path = tmp_path / "root" / "run" / "ostree" / "auth.json"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert json.loads(path.read_text())["auths"]["quay.io"]["auth"] == "cm9ib3Q6czNjcmV0"
    assert "s3cret" not in json.dumps(result["diff"]) and "cm9ib3Q6czNjcmV0" not in json.dumps(result["diff"])
    again = run(double, image=V2, auth={"username": "robot", "password": "s3cret"})[0]
    assert again["changed"] is False


def test_auth_check_mode_writes_nothing(double, tmp_path):
    result = run(double, check_mode=True, image=V1, auth={"username": "robot", "password": "s3cret"})[0]
    assert result["changed"] is True
    assert not (tmp_path / "root" / "run" / "ostree" / "auth.json").exists()


@pytest.mark.parametrize("args, fragment", [
    ({"image": "Quay.io/Example/UPPER:1"}, "lowercase"),
    ({"image": "quay.io/x/y@sha256:abc"}, "digest"),
    ({"image": "oci:/var/x"}, "transport prefix"),
    ({"image": "relative/path", "transport": "oci"}, "absolute path"),
    ({"image": "quay.io/x/y:1 extra"}, "whitespace"),
    ({"state": "latest", "image": V2}, "state=switched"),
    ({"state": "latest", "retain": True}, "retain applies"),
    ({"state": "rolled_back", "expected_digest": "abc"}, "sha256:<64 hex digits>"),
])
def test_bad_input_changes_nothing(double, args, fragment):
    before = double.state_bytes()
    result, failed = run(double, **args)
    assert failed and fragment in result["msg"], result["msg"]
    assert double.state_bytes() == before and double.verbs() == []


def test_argument_spec_errors(double):
    assert run(double, transport="docker-daemon", image=V2)[1]
    assert run(double, state="switched")[1]
    assert run(double, state="latest", download_only=True, from_downloaded=True)[1]


def test_non_root(double, monkeypatch):
    monkeypatch.setattr(_bootc_image.os, "geteuid", lambda: 1000)
    result, failed = run(double, image=V2)
    assert failed and "become: true" in result["msg"] and double.calls == []


def test_not_booted_via_bootc(double):
    double.ctl("set", "booted", "null")
    result, failed = run(double, image=V2)
    assert failed and "not booted via bootc" in result["msg"] and double.verbs() == []


def test_incompatible_host(double):
    double.ctl("set", "incompatible", "true")
    before = double.state_bytes()
    result, failed = run(double, image=V2)
    assert failed and "rpm-ostree reset" in result["msg"] and double.state_bytes() == before


def fixture_core(name, version="bootc 1.16.9", check_mode=False, **params):
    """A BootcImage over a fixed ``bootc status`` document (upstream shape); any verb is answered rc 1.

    Simulated: bootc itself. ``--version`` and ``status`` answer from the fixture; a verb reaching the fake
    fails the test through ``calls``.
    """
    status = json.dumps(fixture_doc(name))
    fake = FakeRunCommand([((BOOTC, "--version"), (0, version + "\n", "")), ((BOOTC, "status"), (0, status, ""))],
                          default=(1, "", "error: unexpected verb"))
    params = dict({"state": "latest", "boot_min_free_mib": 0}, **params)
    return _bootc_image.BootcImage(CliRunner(fake, BOOTC), params, check_mode=check_mode, euid=0), fake


def verbs_run(fake):
    return [c["argv"][1] for c in fake.calls if c["argv"][1] not in ("--version", "status")]


@pytest.mark.parametrize("name, state, slot", [
    ("v1.16.9-staged-incompatible.json", "latest", "staged"),
    ("v1.16.9-staged-incompatible.json", "switched", "staged"),
    ("spec-rfe-ostree-deployment.yaml", "latest", "staged"),
    ("v1.3.0-incompatible-other-deployments.json", "latest", "booted"),
], ids=lambda v: ("bootc-dev/bootc:crates/lib/src/fixtures/" + v) if str(v).startswith("spec-") else None)
def test_incompatible_booted_or_staged_refused_before_bootc(name, state, slot):
    """bootc cli.rs upgrade: 'Deployment contains local rpm-ostree modifications' when booted or staged is
    incompatible; bootc_image says so before running anything."""
    core, fake = fixture_core(name, state=state, image=V2 if state == "switched" else None)
    with pytest.raises(_bootc_image.FleetError, match="The %s deployment has local rpm-ostree" % slot) as caught:
        core.run()
    assert "rpm-ostree reset" in caught.value.msg and caught.value.details["incompatible_deployments"] == [slot]
    assert verbs_run(fake) == []


def test_plain_rpm_ostree_host_can_be_switched_to_an_image():
    """bootc-dev/bootc fixtures/spec-ostree-to-bootc.yaml: upstream switch works where the booted image is null."""
    core, fake = fixture_core("spec-ostree-to-bootc.yaml", state="switched", image=V2, check_mode=True)
    result = core.run()
    assert result["changed"] is True and verbs_run(fake) == []


def test_latest_without_a_tracked_image_is_refused():
    """Nothing booted from an image and nothing staged: bootc would fail with 'No image source specified'."""
    core = fixture_core("spec-ostree-to-bootc.yaml")[0]
    doc = fixture_doc("spec-ostree-to-bootc.yaml")
    doc["status"]["staged"], doc["spec"]["image"] = None, None
    facts = _bootc_image.status_mod.normalise(doc)
    with pytest.raises(_bootc_image.FleetError, match="No image source specified"):
        core.check_host(facts)


def test_composefs_check_mode_predicts_an_upgrade():
    """composefs (bootc_composefs/status.rs) caches no update and 'upgrade --check' prints no machine-readable
    verdict: check mode reports the upgrade it cannot rule out, without running any verb."""
    core, fake = fixture_core("v1.16.9-composefs.json", check_mode=True)
    result = core.run()
    assert result["changed"] is True and verbs_run(fake) == []
    assert any("composefs" in w for w in result["warnings"])


TAGGED_DIGEST = "quay.io/example/edge-os:2.0@sha256:" + "ab" * 32


@pytest.mark.parametrize("version, refused", [("bootc 1.1.7", True), ("bootc 1.2.0", False), ("bootc 1.16.9", False),
                                              ("bootc (unknown)", False)],
                         ids=lambda v: "bootc-dev/bootc:commit-10b66fbc@" + v.split()[-1] if isinstance(v, str) else None)
def test_tag_and_digest_reference_needs_bootc_1_2(version, refused):
    """bootc spec.rs test_image_reference_canonicalize (v1.2.0): ``repo:tag@sha256:`` is pulled by digest."""
    core, fake = fixture_core("v1.16.9-cached-update.json", version=version, state="switched", image=TAGGED_DIGEST,
                              check_mode=True)
    if refused:
        with pytest.raises(_bootc_image.FleetError, match=r"only from 1\.2\.0 on.*image=quay.io/example/edge-os@sha256:"):
            core.run()
    else:
        assert core.run()["changed"] is True
    assert verbs_run(fake) == []


def test_read_only_sysroot(double):
    double.ctl("set", "version", '"1.16.9"')
    core = _bootc_image.BootcImage(CliRunner(double, BOOTC), {"state": "switched", "image": V2}, euid=0)
    facts = _bootc_image.status_mod.gather(core.runner)
    facts["read_only"] = True
    with pytest.raises(_bootc_image.FleetError, match="read-only"):
        core.check_host(facts)


def test_unknown_image(double):
    result, failed = run(double, image="quay.io/example/missing:1")
    assert failed and "image reference" in result["msg"] and result["after"]["staged"] is None


def test_full_boot_partition(double, monkeypatch):
    vfs = namedtuple("vfs", "f_bavail f_frsize")
    monkeypatch.setattr(_bootc_image.os.path, "isdir", lambda path: True)
    core = _bootc_image.BootcImage(CliRunner(double, BOOTC), {"state": "switched", "image": V2, "boot_min_free_mib": 64},
                                   euid=0, statvfs=lambda path: vfs(10, 1024 * 1024))
    before = double.state_bytes()
    with pytest.raises(_bootc_image.FleetError, match="/boot has 10 MiB free"):
        core.run()
    assert double.state_bytes() == before


def test_too_little_space_for_the_pull(double, monkeypatch):
    vfs = namedtuple("vfs", "f_bavail f_frsize")
    monkeypatch.setattr(_bootc_image.os.path, "isdir", lambda path: path == "/sysroot")
    core = _bootc_image.BootcImage(CliRunner(double, BOOTC), {"state": "switched", "image": V2, "min_free_mib": 1024},
                                   euid=0, statvfs=lambda path: vfs(100 if path == "/sysroot" else 10 ** 6, 1024 * 1024))
    before = double.state_bytes()
    with pytest.raises(_bootc_image.FleetError, match="/sysroot has 100 MiB free but min_free_mib=1024"):
        core.run()
    assert double.state_bytes() == before


def test_bootc_missing():
    result, failed = run_module(bootc_image, {"image": V2}, get_bin_path={"bootc": None})
    assert failed and "bootc is not installed" in result["msg"]


def test_every_bootc_command_runs_under_the_timeout_option(double):
    """A wedged bootc (sysroot lock held by another operation) must fail the task, not block a wave forever."""
    result, failed = run(double, image=V2, timeout=900)
    assert not failed, result
    assert double.calls and len(double.deadlines) == len(double.calls)
    assert set(double.deadlines) == {900}


@pytest.mark.parametrize("timeout", [0, -1])
def test_non_positive_timeout_is_refused_before_anything_runs(double, timeout):
    result, failed = run(double, image=V2, timeout=timeout)
    assert failed and "timeout" in result["msg"]
    assert double.calls == []
