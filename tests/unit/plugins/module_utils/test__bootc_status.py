# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The bootc status parser over every fixture shape (upstream captures and per-version shapes)."""

from __future__ import annotations

import json
import os

import pytest
import yaml

from ansible_collections.edgeai.fleet.plugins.module_utils import _bootc_status as st
from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError
from ansible_collections.edgeai.fleet.plugins.module_utils._runner import CliRunner
from ansible_collections.edgeai.fleet.tests.unit.module_helpers import FakeRunCommand

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "bootc")


def fixture_text(name):
    with open(os.path.join(FIXTURES, name), encoding="utf-8") as handle:
        return handle.read()


class _NoDates(yaml.SafeLoader):
    """bootc prints JSON, where timestamps are strings: keep the YAML fixtures' timestamps as strings too."""


_NoDates.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def fixture_doc(name):
    text = fixture_text(name)
    if name.endswith(".yaml"):
        return yaml.load(text, Loader=_NoDates)  # noqa: S506 - a SafeLoader subclass
    return json.loads(text[text.index("{"):])


D_FLIGHT_STAGED = "sha256:9cb8667ee31d6a9e458e11addbcde67a2ff8047bc0d4767b9df9d84abf50be56"
D_FLIGHT_BOOTED = "sha256:6adcbcf13b489758cc6fc8e659b8a2e310d3af609b8d319decef1e434b83c2a7"

# name -> expectations: is_bootc, staged?, rollback?, rollback_queued, update_available, incompatible
EXPECTED = {
    "spec-v1-null.json": dict(is_bootc=False, staged=False, rollback=False, queued=False, update=False, incompatible=False),
    "v1.16.9-not-bootc.json": dict(is_bootc=False, staged=False, rollback=False, queued=False, update=False,
                                   incompatible=False),
    "bootc_status.json": dict(is_bootc=True, staged=True, rollback=True, queued=False, update=False, incompatible=False),
    "spec-booted-with-update.yaml": dict(is_bootc=True, staged=False, rollback=False, queued=False, update=True,
                                         incompatible=False),
    "spec-staged-download-only.yaml": dict(is_bootc=True, staged=True, rollback=False, queued=False, update=False,
                                           incompatible=False),
    "v1.1.6-staged.json": dict(is_bootc=True, staged=True, rollback=False, queued=False, update=False, incompatible=False),
    "v1.1.6-lock-polluted.txt": dict(is_bootc=True, staged=True, rollback=False, queued=False, update=False,
                                     incompatible=False),
    "v1.3.0-incompatible-other-deployments.json": dict(is_bootc=True, staged=False, rollback=True, queued=False,
                                                       update=False, incompatible=True),
    "v1.7.0-rollback-queued.json": dict(is_bootc=True, staged=False, rollback=True, queued=True, update=False,
                                        incompatible=False),
    "v1.12.0-download-only.json": dict(is_bootc=True, staged=True, rollback=False, queued=False, update=False,
                                       incompatible=False),
    "v1.16.9-cached-update.json": dict(is_bootc=True, staged=False, rollback=False, queued=False, update=True,
                                       incompatible=False),
    "v1.16.9-usr-overlay-oci.json": dict(is_bootc=True, staged=False, rollback=False, queued=False, update=False,
                                         incompatible=False),
}


def test_every_fixture_is_covered():
    names = {n for n in os.listdir(FIXTURES) if n.endswith((".json", ".yaml", ".txt"))}
    assert names == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_normalise_every_shape(name):
    want = EXPECTED[name]
    facts = st.normalise(fixture_doc(name), (1, 16, 9))
    assert facts["is_bootc"] is want["is_bootc"]
    assert (facts["staged"] is not None) is want["staged"]
    assert (facts["rollback"] is not None) is want["rollback"]
    assert facts["rollback_queued"] is want["queued"]
    assert facts["update_available"] is want["update"]
    assert facts["incompatible"] is want["incompatible"]
    assert facts["raw"] == fixture_doc(name)
    assert facts["bootc_version"] == "1.16.9"
    if facts["is_bootc"]:
        assert facts["reason"] is None or want["incompatible"]
        for key in ("image", "transport", "digest", "version", "timestamp", "pinned"):
            assert key in facts["booted"]
    else:
        assert "not booted via bootc" in facts["reason"]
    json.dumps(facts)  # facts must be plain JSON


def test_flightctl_capture_without_optional_keys():
    facts = st.normalise(fixture_doc("bootc_status.json"))
    assert facts["api_version"] == "org.containers.bootc/v1alpha1"
    assert facts["booted"]["digest"] == D_FLIGHT_BOOTED
    assert facts["staged"]["digest"] == D_FLIGHT_STAGED
    assert facts["rollback"]["digest"] == D_FLIGHT_STAGED
    assert facts["booted"]["architecture"] is None
    assert facts["boot_order"] == "default"
    assert facts["booted"]["timestamp"] is None
    assert facts["bootc_version"] is None and facts["features"]["download_only"] is None


def test_cached_update_from_upgrade_check():
    facts = st.normalise(fixture_doc("spec-booted-with-update.yaml"))
    assert facts["cached_update"] == {"digest": "sha256:" + "a0" * 32, "version": "stream9.20240901.0",
                                      "timestamp": "2024-09-01T12:00:00Z"}
    assert facts["booted"]["architecture"] == "arm64"


def test_download_only_and_signature():
    facts = st.normalise(fixture_doc("spec-staged-download-only.yaml"))
    assert facts["staged"]["download_only"] is True
    assert facts["booted"]["download_only"] is False
    assert facts["staged"]["signature"] == "insecure"
    assert facts["spec_image"] == {"image": "quay.io/example/someimage:latest", "transport": "registry",
                                   "signature": "insecure"}


def test_incompatible_rollback_without_image_and_other_deployments():
    facts = st.normalise(fixture_doc("v1.3.0-incompatible-other-deployments.json"))
    assert "rpm-ostree reset" in facts["reason"]
    assert facts["booted"]["pinned"] is True
    assert facts["booted"]["signature"] == "ostreeRemote:edge"
    assert facts["rollback"]["digest"] is None and facts["rollback"]["image"] is None
    assert facts["other_deployments"][0]["version"] == "0.9"


def test_usr_overlay_oci_and_soft_reboot():
    facts = st.normalise(fixture_doc("v1.16.9-usr-overlay-oci.json"))
    assert facts["booted"]["transport"] == "oci"
    assert facts["booted"]["signature"] == "containerPolicy"
    assert facts["booted"]["soft_reboot_capable"] is True
    assert facts["usr_overlay"] == {"accessMode": "readWrite", "persistence": "transient"}


def test_update_not_available_when_cached_digest_is_booted():
    doc = fixture_doc("spec-booted-with-update.yaml")
    doc["status"]["booted"]["cachedUpdate"]["imageDigest"] = doc["status"]["booted"]["image"]["imageDigest"]
    facts = st.normalise(doc)
    assert facts["update_available"] is False and facts["cached_update"] is None


def test_rollback_queued_from_boot_order_only():
    doc = fixture_doc("bootc_status.json")
    doc["spec"]["bootOrder"] = "rollback"
    assert st.normalise(doc)["rollback_queued"] is True


@pytest.mark.parametrize("doc, fragment", [
    ({"kind": "Other", "apiVersion": "org.containers.bootc/v1"}, "BootcHost"),
    ({"kind": "BootcHost", "apiVersion": "org.containers.bootc/v2"}, "not supported"),
    ([], "BootcHost"),
])
def test_rejects_foreign_documents(doc, fragment):
    with pytest.raises(FleetError, match=fragment):
        st.normalise(doc)


@pytest.mark.parametrize("text, version", [
    ("bootc 1.1.6\n", (1, 1, 6)), ("bootc 1.16.9", (1, 16, 9)), ("bootc 0.1.15-dev", (0, 1, 15)),
    ("", None), ("bootc unknown", None),
])
def test_parse_version(text, version):
    assert st.parse_version(text) == version


@pytest.mark.parametrize("version, soft, download", [((1, 1, 6), False, False), ((1, 7, 0), True, False),
                                                     ((1, 12, 0), True, True), (None, None, None)])
def test_features(version, soft, download):
    feats = st.features(version)
    assert feats["soft_reboot"] is soft and feats["download_only"] is download


def test_require_feature_names_the_version():
    with pytest.raises(FleetError, match=r"download_only needs bootc 1\.12\.0 or newer; this host has bootc 1\.1\.6"):
        st.require_feature((1, 1, 6), "download_only", "download_only")
    st.require_feature(None, "download_only", "download_only")
    st.require_feature((1, 12, 0), "download_only", "download_only")


def runner_for(*answers):
    fake = FakeRunCommand(list(answers))
    return CliRunner(fake, "/usr/bin/bootc"), fake


def test_read_status_parses_lock_polluted_stdout():
    runner, fake = runner_for((("/usr/bin/bootc", "status"), (0, fixture_text("v1.1.6-lock-polluted.txt"), "")))
    doc = st.read_status(runner)
    assert doc["status"]["staged"] is not None
    assert fake.calls[0]["argv"] == ["/usr/bin/bootc", "status", "--format=json", "--format-version=1"]
    assert fake.calls[0]["environ"]["LC_ALL"] == "C"


def test_read_status_falls_back_to_legacy_json_flag():
    text = fixture_text("bootc_status.json")
    runner, fake = runner_for(
        (("/usr/bin/bootc", "status", "--format=json"), (2, "", "error: unexpected argument '--format' found")),
        (("/usr/bin/bootc", "status", "--json"), (0, text, "")))
    assert st.read_status(runner)["kind"] == "BootcHost"
    assert [c["argv"][1:] for c in fake.calls] == [st.STATUS_ARGS, st.LEGACY_STATUS_ARGS]


def test_read_status_failure_suggests_become():
    runner = runner_for((("/usr/bin/bootc", "status"), (1, "", "error: This command must be executed as the root user")))[0]
    with pytest.raises(FleetError, match="become: true") as caught:
        st.read_status(runner)
    assert caught.value.details["rc"] == 1


def test_read_status_rejects_garbage():
    runner = runner_for((("/usr/bin/bootc", "status"), (0, "not json at all", "")))[0]
    with pytest.raises(FleetError, match="not valid JSON"):
        st.read_status(runner)


def test_gather_reads_version_then_status():
    runner, fake = runner_for((("/usr/bin/bootc", "--version"), (0, "bootc 1.12.0\n", "")),
                              (("/usr/bin/bootc", "status"), (0, fixture_text("v1.12.0-download-only.json"), "")))
    facts = st.gather(runner)
    assert facts["bootc_version"] == "1.12.0" and facts["features"]["download_only"] is True
    assert facts["staged"]["download_only"] is True


def test_identity_tracks_download_only_lock():
    facts = st.normalise(fixture_doc("v1.12.0-download-only.json"))
    unlocked = st.normalise(fixture_doc("v1.12.0-download-only.json"))
    unlocked["staged"]["download_only"] = False
    assert st.identity(facts) != st.identity(unlocked)
    assert st.identity(facts) == st.identity(st.normalise(fixture_doc("v1.12.0-download-only.json")))


def test_boot_mode_reads_the_markers_in_run(tmp_path):
    assert st.boot_mode(str(tmp_path)) == {"systemd_booted": False, "ostree_booted": False}
    (tmp_path / "run" / "systemd" / "system").mkdir(parents=True)
    (tmp_path / "run" / "ostree-booted").write_text("")
    assert st.boot_mode(str(tmp_path)) == {"systemd_booted": True, "ostree_booted": True}
