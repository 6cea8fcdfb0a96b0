# -*- coding: utf-8 -*-
# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Private to the edgeai.fleet collection: may change without notice.

"""Read ``bootc status`` and turn the BootcHost document into the ``edgeai_bootc`` facts.

Only ``bootc status --format=json --format-version=1`` is parsed (never the human format).
Every key of the document except apiVersion/kind may be absent depending on the bootc
version (1.1.x lacks ``architecture``; early builds lack ``rollbackQueued``/``bootOrder``;
1.7 adds ``softRebootCapable``; 1.12 ``downloadOnly``; 1.14 ``usrOverlay``; 1.16.7
``readOnly``), so every lookup here tolerates a missing key or a null.

Upstream's own definitions are followed (bootc ``crates/lib/src/status.rs`` ``get_status``): a host is a
bootc host when its booted deployment comes from a container image; bootc then sets ``status.type`` to
``bootcHost``. A deployment with local rpm-ostree changes is ``incompatible`` and bootc nulls its image.
The composefs backend (``crates/lib/src/bootc_composefs/status.rs``) never sets ``type`` nor
``cachedUpdate``, so there a booted image is enough and update availability is unknown.
"""

from __future__ import annotations

import os
import re

from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError
from ansible_collections.edgeai.fleet.plugins.module_utils._runner import parse_json

API_VERSIONS = ("org.containers.bootc/v1", "org.containers.bootc/v1alpha1")
STATUS_ARGS = ["status", "--format=json", "--format-version=1"]
# 0.1.14 has --format-version but rejects 1 ("Unsupported format version: 1", rc 1, not a clap error), so a
# known older version gets --format alone (0.1.13+) or, before 0.1.13, the legacy --json.
FORMAT_ONLY_STATUS_ARGS = ["status", "--format=json"]
LEGACY_STATUS_ARGS = ["status", "--json"]
CLAP_USAGE_RC = 2

# First bootc release with each flag or field (reference bootc.md section 1.11).
FEATURES = {
    "rollback": (0, 1, 10),
    "format": (0, 1, 13),
    "format_version": (0, 1, 15),
    "rollback_apply": (1, 1, 7),
    # ImageReference::canonicalize (commit 10b66fbc): registry "repo:tag@sha256:..." pulls by digest.
    "switch_tag_digest": (1, 2, 0),
    "soft_reboot": (1, 7, 0),
    "download_only": (1, 12, 0),
    "from_downloaded": (1, 12, 0),
    "upgrade_tag": (1, 15, 0),
}

_VERSION_RE = re.compile(r"(\d+)\.(\d+)\.(\d+)")
_ROOT_HINT = ("bootc needs root with CAP_SYS_ADMIN even for 'status': run the task with become: true")


def parse_version(text):
    """``bootc 1.1.6`` -> ``(1, 1, 6)``; None when no x.y.z is present."""
    match = _VERSION_RE.search(text or "")
    return tuple(int(part) for part in match.groups()) if match else None


def version_string(version):
    return ".".join(str(part) for part in version) if version else None


def features(version):
    """Which optional flags the installed bootc has; None values mean "unknown version"."""
    return {name: (None if version is None else version >= since) for name, since in FEATURES.items()}


def require_feature(version, feature, option):
    """Raise a FleetError naming the bootc version ``option`` needs when ``version`` is older."""
    since = FEATURES[feature]
    if version is not None and version < since:
        raise FleetError(
            "%s needs bootc %s or newer; this host has bootc %s. Update the image to a newer bootc "
            "or leave %s unset." % (option, version_string(since), version_string(version), option),
            bootc_version=version_string(version))


def read_version(runner):
    """Return the installed bootc version tuple, or None when ``--version`` says nothing usable."""
    rc, out, _err = runner.run(["--version"], check=False)
    return parse_version(out) if rc == 0 else None


def status_args(version):
    """The ``bootc status`` argv for ``version``; unknown versions try the newest form first."""
    if version is None or version >= FEATURES["format_version"]:
        return STATUS_ARGS
    return FORMAT_ONLY_STATUS_ARGS if version >= FEATURES["format"] else LEGACY_STATUS_ARGS


def read_status(runner, version=None):
    """Run ``bootc status`` and return the raw BootcHost document (a dict).

    Stdout is parsed from its first ``{`` because bootc before 1.7 printed
    ``Waiting for sysroot lock...`` on stdout while another bootc process held the lock.
    """
    args = status_args(version)
    rc, out, err = runner.run(args, check=False)
    argv = runner.argv(args)
    if rc == CLAP_USAGE_RC and args != LEGACY_STATUS_ARGS:
        rc, out, err = runner.run(LEGACY_STATUS_ARGS, check=False)
        argv = runner.argv(LEGACY_STATUS_ARGS)
    if rc != 0:
        raise FleetError(
            "%s failed (rc=%d): %s. %s" % (" ".join(argv), rc, (err or out or "").strip() or "no output", _ROOT_HINT),
            cmd=argv, rc=rc, stdout=out, stderr=err)
    doc = parse_json(out, argv, rc, err, skip_to_json=True)
    validate_document(doc, argv)
    return doc


def validate_document(doc, argv=None):
    if not isinstance(doc, dict) or doc.get("kind") != "BootcHost":
        raise FleetError("%s did not print a BootcHost document (kind=%r); is this really bootc?"
                         % (" ".join(argv or ["bootc status"]), doc.get("kind") if isinstance(doc, dict) else None),
                         document=doc)
    if doc.get("apiVersion") not in API_VERSIONS:
        raise FleetError("bootc status apiVersion %r is not supported (expected one of %s); the collection needs an "
                         "update for this bootc release" % (doc.get("apiVersion"), ", ".join(API_VERSIONS)),
                         document=doc)


def _dict(value):
    return value if isinstance(value, dict) else {}


def _signature(value):
    """``containerPolicy`` / ``insecure`` stay strings; ``{"ostreeRemote": "x"}`` becomes ``ostreeRemote:x``."""
    if isinstance(value, dict) and value.get("ostreeRemote"):
        return "ostreeRemote:%s" % value["ostreeRemote"]
    return value if isinstance(value, str) else None


def image_ref(ref):
    """An ImageReference as ``{image, transport, signature}``, or None."""
    if not isinstance(ref, dict) or not ref.get("image"):
        return None
    return {"image": ref.get("image"), "transport": ref.get("transport") or "registry",
            "signature": _signature(ref.get("signature"))}


def image_status(status):
    """An ImageStatus (booted image, cachedUpdate) as ``{image, transport, digest, version, timestamp, architecture}``."""
    status = _dict(status)
    ref = image_ref(status.get("image")) or {}
    if not ref and not status.get("imageDigest"):
        return None
    return {"image": ref.get("image"), "transport": ref.get("transport"), "signature": ref.get("signature"),
            "digest": status.get("imageDigest"), "version": status.get("version"),
            "timestamp": status.get("timestamp"), "architecture": status.get("architecture")}


def composefs_entry(value):
    """BootEntryComposefs (spec.rs, bootc 1.9+) in snake case; ``bootType`` serialises as ``Bls``/``Uki``."""
    if not isinstance(value, dict):
        return None
    boot_type = value.get("bootType")
    return {"verity": value.get("verity"), "boot_type": boot_type.lower() if isinstance(boot_type, str) else None,
            "bootloader": value.get("bootloader"), "boot_digest": value.get("bootDigest"),
            "missing_verity_allowed": bool(value.get("missingVerityAllowed", False))}


def boot_entry(entry):
    """A BootEntry as the flat shape the facts contract promises, or None."""
    if not isinstance(entry, dict):
        return None
    img = image_status(entry.get("image")) or {}
    ostree = _dict(entry.get("ostree"))
    composefs = composefs_entry(entry.get("composefs"))
    return {
        "image": img.get("image"), "transport": img.get("transport"), "signature": img.get("signature"),
        "digest": img.get("digest"), "version": img.get("version"), "timestamp": img.get("timestamp"),
        "architecture": img.get("architecture"),
        "pinned": bool(entry.get("pinned", False)),
        "incompatible": bool(entry.get("incompatible", False)),
        "download_only": bool(entry.get("downloadOnly", False)),
        "soft_reboot_capable": entry.get("softRebootCapable"),
        "store": entry.get("store"),
        "ostree_checksum": ostree.get("checksum"),
        "ostree_stateroot": ostree.get("stateroot"),
        "deploy_serial": ostree.get("deploySerial"),
        "backend": "composefs" if composefs else ("ostree" if ostree else None),
        "composefs": composefs,
        "cached_update": _cached(entry.get("cachedUpdate")),
    }


def _cached(value):
    img = image_status(value)
    if not img or not img.get("digest"):
        return None
    return {"digest": img["digest"], "version": img.get("version"), "timestamp": img.get("timestamp"),
            "architecture": img.get("architecture"), "image": img.get("image")}


def not_bootc(reason, bootc_version=None, raw=None):
    """Facts for a host where bootc printed nothing usable (not installed): no deployments at all."""
    return {
        "is_bootc": False, "reason": reason, "api_version": (raw or {}).get("apiVersion"),
        "booted": None, "staged": None, "rollback": None, "other_deployments": [],
        "spec_image": None, "boot_order": None, "rollback_queued": False,
        "update_available": False, "cached_update": None, "incompatible": False, "incompatible_deployments": [],
        "backend": None, "read_only": False, "usr_overlay": None, "type": None,
        "bootc_version": version_string(bootc_version), "features": features(bootc_version),
        "raw": raw,
    }


def _is_bootc_host(status, booted):
    """Upstream's rule: the booted deployment comes from a container image (``type: bootcHost``)."""
    if not booted or not (booted["image"] or booted["digest"]):
        return False
    if booted["backend"] == "composefs":
        return True  # bootc_composefs/status.rs never fills status.type
    # "type" is absent only before bootc 0.1.6 (the v1alpha1 fixtures), where the image alone decides.
    return status.get("type", "bootcHost") == "bootcHost"


def _not_bootc_reason(status, booted):
    prefix = "The host is not booted via bootc"
    if booted is None:
        return ("%s (bootc status reports no booted deployment); this is a package-mode host or a container."
                % prefix)
    if booted["incompatible"]:
        return ("%s: the booted deployment has local rpm-ostree modifications (incompatible), so bootc reports no "
                "image for it. Manage the host with rpm-ostree, or run 'rpm-ostree reset' and reboot." % prefix)
    if not (booted["image"] or booted["digest"]):
        return ("%s: the booted deployment is not from a container image (status.type %r is not bootcHost: a plain "
                "rpm-ostree host). bootc_image state=switched can move it to an image." % (prefix, status.get("type")))
    return "%s: status.type is %r, not bootcHost." % (prefix, status.get("type"))


def incompatible_reason(slots):
    return ("The %s deployment has local rpm-ostree modifications (incompatible); 'bootc upgrade' refuses to run "
            "until they are gone. Run 'rpm-ostree reset' (or 'rpm-ostree cleanup -p' for a staged one) or manage "
            "the host with rpm-ostree." % " and ".join(slots))


def _update(booted, staged):
    """``(update_available, cached_update)``; availability is None (unknown) on composefs, which caches nothing."""
    if (booted or {}).get("backend") == "composefs":
        return None, None
    # The cached update belongs to the deployment that boots next: staged if there is one.
    cached = (staged or {}).get("cached_update") or (booted or {}).get("cached_update")
    next_digests = {(booted or {}).get("digest"), (staged or {}).get("digest")}
    update = bool(cached and cached["digest"] not in next_digests)
    return update, cached if update else None


def normalise(doc, bootc_version=None):
    """Turn a BootcHost document into the ``edgeai_bootc`` facts (see the bootc_info RETURN docs).

    Deployments are reported even when the host is not a bootc host (a plain rpm-ostree host being
    switched to an image, a staged deployment with nothing booted): ``is_bootc`` and ``reason`` say why.
    """
    validate_document(doc)
    spec = _dict(doc.get("spec"))
    status = _dict(doc.get("status"))
    booted = boot_entry(status.get("booted"))
    staged = boot_entry(status.get("staged"))
    rollback = boot_entry(status.get("rollback"))
    is_bootc = _is_bootc_host(status, booted)
    incompatible = [name for name, entry in (("booted", booted), ("staged", staged)) if entry and entry["incompatible"]]
    update, cached = _update(booted, staged)
    if not is_bootc:
        reason = _not_bootc_reason(status, booted)
    else:
        reason = incompatible_reason(incompatible) if incompatible else None
    overlay = status.get("usrOverlay")
    return {
        "is_bootc": is_bootc,
        "reason": reason,
        "api_version": doc.get("apiVersion"),
        "booted": booted, "staged": staged, "rollback": rollback,
        "other_deployments": [boot_entry(e) for e in status.get("otherDeployments") or [] if isinstance(e, dict)],
        "spec_image": image_ref(spec.get("image")),
        "boot_order": spec.get("bootOrder") or "default",
        "rollback_queued": bool(status.get("rollbackQueued", False)) or spec.get("bootOrder") == "rollback",
        "update_available": update,
        "cached_update": cached,
        "incompatible": bool(incompatible),
        "incompatible_deployments": incompatible,
        "backend": (booted or staged or {}).get("backend"),
        "read_only": bool(status.get("readOnly", False)),
        "usr_overlay": overlay if isinstance(overlay, dict) else None,
        "type": status.get("type"),
        "bootc_version": version_string(bootc_version),
        "features": features(bootc_version),
        "raw": doc,
    }


def gather(runner, bootc_version=None):
    """Version probe plus status, normalised; the one entry point both modules use."""
    version = bootc_version if bootc_version is not None else read_version(runner)
    return normalise(read_status(runner, version), version)


def identity(facts):
    """The parts of the facts that change when bootc changes the host (used to decide ``changed``)."""
    def entry(value):
        if not value:
            return None
        return {"image": value.get("image"), "transport": value.get("transport"), "signature": value.get("signature"),
                "digest": value.get("digest"), "version": value.get("version"),
                "download_only": value.get("download_only")}
    return {
        "booted": entry(facts.get("booted")),
        "staged": entry(facts.get("staged")),
        "rollback": entry(facts.get("rollback")),
        "rollback_queued": bool(facts.get("rollback_queued")),
        "spec_image": facts.get("spec_image"),
    }


def boot_mode(root="/"):
    """How the running system booted, from the markers systemd and ostree leave in /run.

    ``systemd_booted`` is sd_booted(3): false in a container or bootc image build (``RUN`` in a Containerfile),
    where roles may write files but must not start or restart services. ``ostree_booted`` is an image-based
    host (bootc or rpm-ostree), where packages come with the image.
    """
    return {
        "systemd_booted": os.path.isdir(os.path.join(root, "run/systemd/system")),
        "ostree_booted": os.path.exists(os.path.join(root, "run/ostree-booted")),
    }
