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
# serde_yaml writes the ImageSignature::OstreeRemote enum variant as a tag; JSON has {"ostreeRemote": name}.
_NoDates.add_constructor("!ostreeRemote", lambda loader, node: {"ostreeRemote": loader.construct_scalar(node)})


def fixture_doc(name):
    text = fixture_text(name)
    if name.endswith((".yaml", ".yaml.txt")):
        return yaml.load(text, Loader=_NoDates)  # noqa: S506 - a SafeLoader subclass
    return json.loads(text[text.index("{"):])


D_FLIGHT_STAGED = "sha256:9cb8667ee31d6a9e458e11addbcde67a2ff8047bc0d4767b9df9d84abf50be56"
D_FLIGHT_BOOTED = "sha256:6adcbcf13b489758cc6fc8e659b8a2e310d3af609b8d319decef1e434b83c2a7"
UPSTREAM = "bootc-dev/bootc:crates/lib/src/fixtures/"

# name -> verdicts: is_bootc, booted/staged/rollback present, rollback_queued, update_available, incompatible
# deployments, backend. Upstream's fixtures (ids "bootc-dev/bootc:crates/lib/src/fixtures/<file>") are parsed by
# its spec.rs tests (test_parse_spec_*) and rendered by status.rs tests (test_human_readable_*); the verdicts follow
# status.rs get_status: type bootcHost <=> the booted deployment has an image.
EXPECTED = {
    "spec-v1-null.json": dict(is_bootc=False, booted=False, staged=False, rollback=False, queued=False, update=False,
                              incompatible=[], backend=None),
    "spec-booted-pinned.yaml": dict(is_bootc=True, booted=True, staged=False, rollback=False, queued=False,
                                    update=False, incompatible=[], backend="ostree"),
    "spec-booted-update-same-digest.yaml": dict(is_bootc=True, booted=True, staged=False, rollback=False,
                                                queued=False, update=False, incompatible=[], backend="ostree"),
    "spec-booted-usroverlay.yaml": dict(is_bootc=True, booted=True, staged=False, rollback=False, queued=False,
                                        update=False, incompatible=[], backend="ostree"),
    "spec-booted-with-update-no-version.yaml": dict(is_bootc=True, booted=True, staged=False, rollback=False,
                                                    queued=False, update=True, incompatible=[], backend="ostree"),
    "spec-booted-with-update.yaml": dict(is_bootc=True, booted=True, staged=False, rollback=False, queued=False,
                                         update=True, incompatible=[], backend="ostree"),
    "spec-only-booted.yaml": dict(is_bootc=True, booted=True, staged=False, rollback=False, queued=False,
                                  update=False, incompatible=[], backend="ostree"),
    "spec-ostree-remote.yaml.txt": dict(is_bootc=True, booted=True, staged=False, rollback=False, queued=False,
                                        update=False, incompatible=[], backend="ostree"),
    # A plain rpm-ostree host that has staged a bootc image: not (yet) a bootc host.
    "spec-ostree-to-bootc.yaml": dict(is_bootc=False, booted=True, staged=True, rollback=False, queued=False,
                                      update=False, incompatible=[], backend="ostree"),
    # rpm-ostree layering staged on a plain rpm-ostree host: bootc upgrade refuses.
    "spec-rfe-ostree-deployment.yaml": dict(is_bootc=False, booted=True, staged=True, rollback=False, queued=False,
                                            update=False, incompatible=["staged"], backend="ostree"),
    "spec-staged-booted.yaml": dict(is_bootc=True, booted=True, staged=True, rollback=False, queued=False,
                                    update=False, incompatible=[], backend="ostree"),
    "spec-staged-download-only.yaml": dict(is_bootc=True, booted=True, staged=True, rollback=False, queued=False,
                                           update=False, incompatible=[], backend="ostree"),
    # Nothing booted (bootc's human-output test for staged + rollback): the entries are kept.
    "spec-staged-rollback.yaml": dict(is_bootc=False, booted=False, staged=True, rollback=True, queued=False,
                                      update=False, incompatible=[], backend="ostree"),
    "spec-v1a1-orig.yaml": dict(is_bootc=True, booted=True, staged=True, rollback=False, queued=False, update=False,
                                incompatible=[], backend="ostree"),
    "spec-v1a1.yaml": dict(is_bootc=True, booted=True, staged=False, rollback=False, queued=False, update=False,
                           incompatible=[], backend="ostree"),
    "spec-via-local-oci.yaml": dict(is_bootc=True, booted=True, staged=False, rollback=False, queued=False,
                                    update=False, incompatible=[], backend="ostree"),
    "bootc_status.json": dict(is_bootc=True, booted=True, staged=True, rollback=True, queued=False, update=False,
                              incompatible=[], backend="ostree"),
    "v1.16.9-not-bootc.json": dict(is_bootc=False, booted=False, staged=False, rollback=False, queued=False,
                                   update=False, incompatible=[], backend=None),
    "v1.1.6-staged.json": dict(is_bootc=True, booted=True, staged=True, rollback=False, queued=False, update=False,
                               incompatible=[], backend="ostree"),
    "v1.1.6-lock-polluted.txt": dict(is_bootc=True, booted=True, staged=True, rollback=False, queued=False,
                                     update=False, incompatible=[], backend="ostree"),
    "v1.3.0-incompatible-other-deployments.json": dict(is_bootc=False, booted=True, staged=False, rollback=True,
                                                       queued=False, update=False, incompatible=["booted"],
                                                       backend="ostree"),
    "v1.7.0-rollback-queued.json": dict(is_bootc=True, booted=True, staged=False, rollback=True, queued=True,
                                        update=False, incompatible=[], backend="ostree"),
    "v1.12.0-download-only.json": dict(is_bootc=True, booted=True, staged=True, rollback=False, queued=False,
                                       update=False, incompatible=[], backend="ostree"),
    "v1.16.9-cached-update.json": dict(is_bootc=True, booted=True, staged=False, rollback=False, queued=False,
                                       update=True, incompatible=[], backend="ostree"),
    "v1.16.9-staged-incompatible.json": dict(is_bootc=True, booted=True, staged=True, rollback=False, queued=False,
                                             update=False, incompatible=["staged"], backend="ostree"),
    "v1.16.9-usr-overlay-oci.json": dict(is_bootc=True, booted=True, staged=False, rollback=False, queued=False,
                                         update=False, incompatible=[], backend="ostree"),
    # composefs fills neither status.type nor cachedUpdate: a bootc host whose update availability is unknown.
    "v1.16.9-composefs.json": dict(is_bootc=True, booted=True, staged=False, rollback=False, queued=False,
                                   update=None, incompatible=[], backend="composefs"),
}


def fixture_id(value):
    """pytest id naming the upstream file a fixture was copied from (other parameters keep pytest's ids)."""
    if not isinstance(value, str):
        return None
    # .txt: a verbatim upstream YAML file that ansible-test's yamllint cannot load (a serde tag)
    return UPSTREAM + value[:-len(".txt")] if value.startswith("spec-") and value.endswith(".yaml.txt") else (
        UPSTREAM + value if value.startswith("spec-") else value)


def test_every_fixture_is_covered():
    names = {n for n in os.listdir(FIXTURES) if n.endswith((".json", ".yaml", ".txt"))}
    assert names == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED), ids=fixture_id)
def test_normalise_every_shape(name):
    want = EXPECTED[name]
    facts = st.normalise(fixture_doc(name), (1, 16, 9))
    assert facts["is_bootc"] is want["is_bootc"]
    assert (facts["booted"] is not None) is want["booted"]
    assert (facts["staged"] is not None) is want["staged"]
    assert (facts["rollback"] is not None) is want["rollback"]
    assert facts["rollback_queued"] is want["queued"]
    assert facts["update_available"] is want["update"]
    assert facts["incompatible_deployments"] == want["incompatible"]
    assert facts["incompatible"] is bool(want["incompatible"])
    assert facts["backend"] == want["backend"]
    assert facts["raw"] == fixture_doc(name)
    assert facts["bootc_version"] == "1.16.9"
    if facts["is_bootc"]:
        assert (facts["reason"] is None) is not want["incompatible"]
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
                                      "timestamp": "2024-09-01T12:00:00Z", "architecture": "arm64",
                                      "image": "quay.io/centos-bootc/centos-bootc:stream9"}
    assert facts["booted"]["architecture"] == "arm64"


@pytest.mark.parametrize("name, slot, stateroot, serial", [
    ("spec-booted-with-update.yaml", "booted", "default", 0),
    ("spec-staged-booted.yaml", "staged", "default", 0),
    ("v1.16.9-cached-update.json", "booted", "default", 1),
], ids=fixture_id)
def test_ostree_stateroot_and_deploy_serial(name, slot, stateroot, serial):
    """BootEntryOstree (spec.rs): stateroot and deploySerial are kept next to the checksum."""
    entry = st.normalise(fixture_doc(name))[slot]
    assert (entry["ostree_stateroot"], entry["deploy_serial"]) == (stateroot, serial)
    assert entry["backend"] == "ostree" and entry["composefs"] is None


def test_cached_update_keeps_architecture_and_image():
    """A 1.16.9 cachedUpdate is a full ImageStatus: architecture is a String there (spec.rs), never null."""
    cached = st.normalise(fixture_doc("v1.16.9-cached-update.json"))["cached_update"]
    assert cached["architecture"] == "amd64" and cached["image"] == "quay.io/example/edge-os:1.0"


def test_nothing_booted_keeps_staged_rollback_and_spec():
    """bootc-dev/bootc status.rs test_human_readable_staged_rollback_spec: staged and rollback with nothing booted."""
    facts = st.normalise(fixture_doc("spec-staged-rollback.yaml"))
    assert facts["is_bootc"] is False and "no booted deployment" in facts["reason"]
    assert facts["staged"]["digest"] == "sha256:16dc2b6256b4ff0d2ec18d2dbfb06d117904010c8cf9732cdb022818cf7a7566"
    assert facts["rollback"]["digest"] == "sha256:736b359467c9437c1ac915acaae952aad854e07eb4a16a94999a48af08c83c34"
    assert facts["spec_image"]["image"] == "quay.io/example/someimage:latest"


def test_plain_rpm_ostree_host_is_not_bootc():
    """bootc-dev/bootc fixtures/spec-ostree-to-bootc.yaml: booted image null and type null (status.rs get_status)."""
    facts = st.normalise(fixture_doc("spec-ostree-to-bootc.yaml"))
    assert facts["is_bootc"] is False and facts["type"] is None
    assert "not from a container image" in facts["reason"] and "not bootcHost" in facts["reason"]
    assert facts["staged"]["image"] == "quay.io/centos-bootc/centos-bootc:stream9"


def test_type_other_than_bootchost_is_not_bootc():
    doc = fixture_doc("spec-only-booted.yaml")
    doc["status"]["type"] = None
    facts = st.normalise(doc)
    assert facts["is_bootc"] is False and "not bootcHost" in facts["reason"]


@pytest.mark.parametrize("name, slots", [
    ("spec-rfe-ostree-deployment.yaml", ["staged"]),
    ("v1.16.9-staged-incompatible.json", ["staged"]),
    ("v1.3.0-incompatible-other-deployments.json", ["booted"]),
], ids=fixture_id)
def test_incompatible_booted_or_staged_is_surfaced(name, slots):
    """cli.rs upgrade refuses when the booted or the staged deployment is incompatible."""
    facts = st.normalise(fixture_doc(name))
    assert facts["incompatible_deployments"] == slots and facts["incompatible"] is True
    assert "rpm-ostree" in facts["reason"] and facts["spec_image"] is None


def test_composefs_fields_and_unknown_update():
    """BootEntryComposefs (spec.rs) on a host status.rs of bootc_composefs builds: no type, no cachedUpdate."""
    facts = st.normalise(fixture_doc("v1.16.9-composefs.json"))
    composefs = facts["booted"]["composefs"]
    assert facts["backend"] == "composefs" and facts["booted"]["backend"] == "composefs"
    assert composefs["boot_type"] == "bls" and composefs["bootloader"] == "systemd"
    assert len(composefs["verity"]) == 128 and composefs["missing_verity_allowed"] is False
    assert len(composefs["boot_digest"]) == 64
    assert facts["update_available"] is None and facts["cached_update"] is None
    assert facts["booted"]["ostree_checksum"] is None


def test_download_only_and_signature():
    facts = st.normalise(fixture_doc("spec-staged-download-only.yaml"))
    assert facts["staged"]["download_only"] is True
    assert facts["booted"]["download_only"] is False
    assert facts["staged"]["signature"] == "insecure"
    assert facts["spec_image"] == {"image": "quay.io/example/someimage:latest", "transport": "registry",
                                   "signature": "insecure"}


def test_incompatible_rollback_without_image_and_other_deployments():
    facts = st.normalise(fixture_doc("v1.3.0-incompatible-other-deployments.json"))
    assert "rpm-ostree reset" in facts["reason"] and "incompatible" in facts["reason"]
    assert facts["booted"]["pinned"] is True and facts["booted"]["incompatible"] is True
    assert facts["booted"]["image"] is None and facts["spec_image"] is None
    assert facts["rollback"]["digest"] is None and facts["rollback"]["image"] is None
    assert facts["other_deployments"][0]["version"] == "0.9"


def test_ostree_remote_signature():
    """bootc-dev/bootc crates/lib/src/spec.rs test_parse_ostreeremote over fixtures/spec-ostree-remote.yaml."""
    facts = st.normalise(fixture_doc("spec-ostree-remote.yaml.txt"))
    assert facts["spec_image"]["signature"] == "ostreeRemote:fedora"


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


# First tag with each feature, from bootc-dev/bootc history: format-version in v0.1.14 accepts only 0
# (lib/src/status.rs@v0.1.14 "Unsupported format version"), 1 from v0.1.15; tag+digest switch from v1.2.0
# (commit 10b66fbc, spec.rs test_image_reference_canonicalize).
@pytest.mark.parametrize("version, args", [
    ((0, 1, 12), st.LEGACY_STATUS_ARGS),
    ((0, 1, 13), st.FORMAT_ONLY_STATUS_ARGS),
    ((0, 1, 14), st.FORMAT_ONLY_STATUS_ARGS),
    ((0, 1, 15), st.STATUS_ARGS),
    ((1, 16, 9), st.STATUS_ARGS),
    (None, st.STATUS_ARGS),
], ids=lambda v: "bootc-dev/bootc:lib/src/status.rs@v%s" % ".".join(map(str, v)) if isinstance(v, tuple) else None)
def test_status_args_follow_the_version(version, args):
    assert st.status_args(version) == args


@pytest.mark.parametrize("feature, older, since", [
    ("format_version", (0, 1, 14), (0, 1, 15)),
    ("switch_tag_digest", (1, 1, 7), (1, 2, 0)),
    ("rollback_apply", (1, 1, 6), (1, 1, 7)),
    ("soft_reboot", (1, 6, 0), (1, 7, 0)),
    ("download_only", (1, 11, 0), (1, 12, 0)),
    ("upgrade_tag", (1, 14, 0), (1, 15, 0)),
], ids=lambda v: v if isinstance(v, str) else None)
def test_feature_gates(feature, older, since):
    assert st.features(older)[feature] is False and st.features(since)[feature] is True


def test_read_status_on_0_1_14_uses_format_only():
    text = fixture_text("bootc_status.json")
    runner, fake = runner_for((("/usr/bin/bootc", "status", "--format=json"), (0, text, "")))
    st.read_status(runner, (0, 1, 14))
    assert fake.calls[0]["argv"][1:] == st.FORMAT_ONLY_STATUS_ARGS


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
