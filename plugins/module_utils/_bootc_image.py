# -*- coding: utf-8 -*-
# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Private to the edgeai.fleet collection: may change without notice.

"""Plan and apply bootc switch / upgrade / rollback, deciding ``changed`` from status digests.

bootc has no "changed" exit code and its stdout is English for humans, so the host's
``bootc status`` is read before and after every verb and the two are compared. ``--apply``
is never passed: rebooting belongs to the caller (ansible.builtin.reboot).
"""

from __future__ import annotations

import os

from ansible_collections.edgeai.fleet.plugins.module_utils import _bootc_status as status_mod
from ansible_collections.edgeai.fleet.plugins.module_utils._bootc_auth import AuthFile
from ansible_collections.edgeai.fleet.plugins.module_utils._bootc_ref import DIGEST_RE, split_reference, validate_image
from ansible_collections.edgeai.fleet.plugins.module_utils._diff import state_diff
from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError

# Messages only: these substrings pick the fix to suggest, never whether something changed.
_HINTS = (
    (("unauthorized", "authentication required", "denied"),
     "The registry refused the request: pass credentials with the auth option (bootc reads /run/ostree/auth.json, "
     "/etc/ostree/auth.json and /usr/lib/ostree/auth.json, not podman's auth file)."),
    (("insufficient free space", "no space left"),
     "Free space on /sysroot and /boot (remove the rollback deployment or old images, 'ostree admin cleanup')."),
    (("must be executed as the root user", "cap_sys_admin"), "Run the task with become: true."),
    (("detected container", "not booted via bootc"), "The host is not booted via bootc; image updates are impossible."),
    (("manifest unknown", "not found", "no such file"), "Check that the image reference (and tag) exists."),
)


def error_hint(text):
    lowered = (text or "").lower()
    for needles, hint in _HINTS:
        if any(n in lowered for n in needles):
            return hint
    return "See stderr for bootc's own message."


def summary(facts):
    """``before``/``after``: image and digest of booted and staged, plus the boot order."""
    def entry(value, extra=()):
        if not value:
            return None
        out = {"image": value.get("image"), "transport": value.get("transport"), "digest": value.get("digest"),
               "version": value.get("version")}
        for key in extra:
            out[key] = value.get(key)
        return out
    return {"booted": entry(facts.get("booted")), "staged": entry(facts.get("staged"), ("download_only",)),
            "rollback": entry(facts.get("rollback")), "rollback_queued": bool(facts.get("rollback_queued"))}


def reboot_required(facts):
    staged = facts.get("staged")
    return bool((staged and not staged.get("download_only")) or facts.get("rollback_queued"))


class BootcImage:
    """One ``bootc_image`` invocation: validate, probe, plan, (apply), verify, report."""

    def __init__(self, runner, params, check_mode=False, euid=None, statvfs=None):
        self.runner = runner
        self.params = params
        self.check_mode = check_mode
        self.euid = os.geteuid() if euid is None else euid
        self.statvfs = statvfs or os.statvfs
        self.warnings = []
        self._version = None
        self.auth = AuthFile(params.get("auth_file") or "/run/ostree/auth.json")

    # ---- validation and probing ------------------------------------------------------------
    def validate(self):
        p = self.params
        state = p["state"]
        if state == "switched":
            p["image"] = validate_image(p.get("image"), p.get("transport") or "registry")
        elif p.get("image") and state == "latest":
            raise FleetError("image is only used with state=switched; state=latest upgrades the image the host "
                             "already tracks. Remove image, or use state=switched to change it.")
        for option, states in (("download_only", ("latest",)), ("from_downloaded", ("latest",)),
                               ("retain", ("switched",)), ("enforce_container_sigpolicy", ("switched",)),
                               ("expected_digest", ("rolled_back",))):
            if p.get(option) not in (None, False) and state not in states:
                raise FleetError("%s applies to state=%s only (got state=%s); remove it." % (option, "/".join(states), state))
        if p.get("expected_digest") and not DIGEST_RE.match(p["expected_digest"]):
            raise FleetError("expected_digest=%r is not a manifest digest; use the form sha256:<64 hex digits>"
                             % p["expected_digest"])
        if self.euid != 0:
            raise FleetError("bootc needs root (CAP_SYS_ADMIN) for every verb; run bootc_image with become: true.")

    # option -> (feature, verb whose --help lists the flag, flag)
    _PROBED = (("download_only", "download_only", "upgrade", "--download-only"),
               ("from_downloaded", "from_downloaded", "upgrade", "--from-downloaded"),
               ("soft_reboot", "soft_reboot", None, "--soft-reboot"))

    def probe(self):
        """Refuse options the installed bootc lacks: by version, or by the verb's --help when the version is unknown."""
        version = status_mod.read_version(self.runner)
        verb = {"switched": "switch", "latest": "upgrade", "rolled_back": "rollback"}[self.params["state"]]
        for option, feature, help_verb, flag in self._PROBED:
            if not self.params.get(option):
                continue
            status_mod.require_feature(version, feature, option)
            if version is None:
                rc, out, _err = self.runner.run([help_verb or verb, "--help"], check=False)
                if rc == 0 and flag not in out:
                    raise FleetError("%s needs bootc %s or newer; this bootc's '%s --help' has no %s. Update the image "
                                     "to a newer bootc or leave %s unset."
                                     % (option, status_mod.version_string(status_mod.FEATURES[feature]),
                                        help_verb or verb, flag, option))
        self._require_tag_digest_support(version)
        return version

    def _require_tag_digest_support(self, version):
        """bootc before 1.2.0 cannot pull a registry ``repo:tag@sha256:`` reference (no canonicalisation)."""
        p = self.params
        if p["state"] != "switched" or (p.get("transport") or "registry") != "registry":
            return
        domain, path, tag, digest = split_reference(p["image"])
        since = status_mod.FEATURES["switch_tag_digest"]
        if tag and digest and version is not None and version < since:
            pinned = "%s@%s" % ("/".join(part for part in (domain, path) if part), digest)
            raise FleetError("image=%s has both a tag and a digest, which bootc pulls only from %s on; this host has "
                             "bootc %s. Use the digest alone: image=%s"
                             % (p["image"], status_mod.version_string(since), status_mod.version_string(version),
                                pinned), bootc_version=status_mod.version_string(version))

    def check_host(self, facts):
        """Refuse before running bootc what bootc would refuse, or what would silently lose local changes.

        ``bootc upgrade`` refuses when the booted or the staged deployment is incompatible (cli.rs ``upgrade``:
        bootc nulls an incompatible deployment's image, so the spec has no image); switch and rollback are refused
        here too because they would discard the rpm-ostree layering without a word. A plain rpm-ostree host (booted,
        no image) may still be switched to an image, as upstream allows (fixture spec-ostree-to-bootc.yaml).
        """
        if facts["booted"] is None:
            raise FleetError("Cannot manage the image: %s" % facts["reason"], bootc=facts)
        if facts["incompatible"]:
            raise FleetError("Nothing was run: %s" % status_mod.incompatible_reason(facts["incompatible_deployments"]),
                             incompatible_deployments=facts["incompatible_deployments"])
        if facts["read_only"]:
            raise FleetError("The sysroot is read-only (a live ISO?); bootc cannot stage or roll back here.")
        if self.params["state"] == "latest" and not facts.get("spec_image"):
            raise FleetError("The host tracks no image (bootc would say 'No image source specified'): %s Use "
                             "state=switched with image to choose one." % facts["reason"])

    def _free_mib(self, path):
        st = self.statvfs(path)
        return st.f_bavail * st.f_frsize // (1024 * 1024)

    def check_space(self):
        """Refuse a pull that would fill the deployments' file system, or a stage /boot cannot finalize."""
        pull_minimum = self.params.get("min_free_mib") or 0
        if pull_minimum:
            where = "/sysroot" if os.path.isdir("/sysroot") else "/"
            free = self._free_mib(where)
            if free < pull_minimum:
                raise FleetError("%s has %d MiB free but min_free_mib=%d for the image pull: remove the rollback "
                                 "deployment or old images first ('ostree admin cleanup', 'bootc image prune'), or "
                                 "lower min_free_mib." % (where, free, pull_minimum), free_mib=free)
        minimum = self.params.get("boot_min_free_mib") or 0
        if not minimum or not os.path.isdir("/boot"):
            return
        free = self._free_mib("/boot")
        if free < minimum:
            raise FleetError("/boot has %d MiB free but boot_min_free_mib=%d: ostree copies the kernel and initramfs "
                             "there when the staged deployment is finalized at shutdown, and a full /boot silently "
                             "boots the old image. Free space on /boot (ostree admin cleanup) or lower "
                             "boot_min_free_mib." % (free, minimum), boot_free_mib=free)

    # ---- planning (pure) --------------------------------------------------------------------
    def desired_signature(self, facts):
        enforce = self.params.get("enforce_container_sigpolicy")
        if enforce is None:
            # bootc does not inherit the flag (bootc#815): keep enforcement the host already has.
            return (facts.get("spec_image") or {}).get("signature") == "containerPolicy"
        return bool(enforce)

    def plan(self, facts):
        """Return ``(argv_args or None, reason)``: the bootc verb to run, or None for "nothing to do"."""
        state = self.params["state"]
        soft = ["--soft-reboot=%s" % self.params["soft_reboot"]] if self.params.get("soft_reboot") else []
        if state == "switched":
            return self._plan_switch(facts, soft)
        if state == "latest":
            return self._plan_latest(facts, soft)
        return self._plan_rollback(facts, soft)

    def _plan_switch(self, facts, soft):
        p = self.params
        transport = p.get("transport") or "registry"
        enforce = self.desired_signature(facts)
        spec = facts.get("spec_image") or {}
        same_ref = spec.get("image") == p["image"] and (spec.get("transport") or "registry") == transport
        same = same_ref and (spec.get("signature") == "containerPolicy") == enforce
        if same:
            return None, "the host already tracks %s (booted or staged)" % p["image"]
        args = ["switch", "--transport", transport]
        args += ["--enforce-container-sigpolicy"] if enforce else []
        args += ["--retain"] if p.get("retain") else []
        return args + soft + [p["image"]], "switch to %s" % p["image"]

    def _plan_latest(self, facts, soft):
        p = self.params
        staged = facts.get("staged")
        if p.get("from_downloaded"):
            if not staged:
                self.warnings.append("from_downloaded: no deployment is staged (already booted, or lost on a reboot); "
                                     "nothing to apply.")
                return None, "nothing staged"
            if not staged.get("download_only"):
                return None, "the staged deployment already applies on reboot"
            return ["upgrade", "--from-downloaded"] + soft, "unlock the downloaded deployment"
        spec = facts.get("spec_image") or {}
        if spec.get("transport") == "registry" and "@sha256:" in (spec.get("image") or ""):
            pinned = spec["image"].rsplit("@", 1)[1]
            nxt = staged or facts["booted"]
            if nxt.get("digest") == pinned and bool((staged or {}).get("download_only")) == bool(p.get("download_only")):
                return None, "the tracked image is pinned by digest and that digest is already deployed"
        args = ["upgrade"] + (["--download-only"] if p.get("download_only") else [])
        return args + soft, "upgrade %s" % spec.get("image")

    def _plan_rollback(self, facts, soft):
        expected = self.params.get("expected_digest")
        rollback = facts.get("rollback")
        booted = facts["booted"]
        if expected and booted.get("digest") == expected and not facts["rollback_queued"] and not facts.get("staged"):
            return None, "the expected digest is already booted"
        if facts["rollback_queued"]:
            if expected and (rollback or {}).get("digest") != expected:
                raise FleetError("A rollback is queued to %s, not expected_digest %s; nothing changed. Inspect "
                                 "'bootc status' before deciding." % ((rollback or {}).get("digest"), expected))
            # Running 'bootc rollback' again would un-queue it (it is a toggle).
            return None, "a rollback is already queued"
        if not rollback:
            raise FleetError("There is no rollback deployment on this host, so there is nothing to roll back to; "
                             "nothing changed.")
        if not rollback.get("digest"):
            raise FleetError("The rollback deployment is not container image based; bootc cannot roll back to it.")
        if expected and rollback["digest"] != expected:
            raise FleetError("The rollback deployment has digest %s, not expected_digest %s; nothing changed."
                             % (rollback["digest"], expected), rollback=rollback)
        if facts.get("staged"):
            self.warnings.append("bootc rollback discards the staged deployment (%s)." % facts["staged"].get("digest"))
        return ["rollback"] + soft, "queue the rollback deployment %s" % rollback["digest"]

    def predict(self, facts, args):
        """The ``after`` state a check-mode run reports for ``args`` (digest of a new pull unknown)."""
        after = dict(facts)
        verb = args[0]
        if verb == "switch":
            ref = {"image": self.params["image"], "transport": self.params.get("transport") or "registry",
                   "signature": "containerPolicy" if "--enforce-container-sigpolicy" in args else None}
            after["spec_image"] = ref
            after["staged"] = dict(ref, digest=None, version=None, download_only=False)
        elif verb == "upgrade" and "--from-downloaded" in args:
            after["staged"] = dict(facts["staged"], download_only=False)
        elif verb == "upgrade":
            target = facts.get("cached_update") or {}
            after["staged"] = dict(facts.get("spec_image") or {}, digest=target.get("digest"),
                                   version=target.get("version"), download_only="--download-only" in args)
        else:
            after["rollback_queued"] = True
            after["staged"] = None
        return after

    # ---- running ------------------------------------------------------------------------------
    def _latest_needs_change(self, facts, args):
        """Check mode for state=latest: 'bootc upgrade --check' fills cachedUpdate without deploying."""
        if args[0] != "upgrade" or "--from-downloaded" in args:
            return True, facts
        if facts.get("backend") == "composefs":
            # composefs records no cachedUpdate and its 'upgrade --check' prints only a human manifest diff.
            self.warnings.append("composefs host: bootc cannot say whether an update exists without pulling it, so "
                                 "check mode predicts an upgrade.")
            return True, facts
        rc, out, err = self.runner.run(["upgrade", "--check"], check=False)
        if rc != 0:
            if self.auth.pending:
                self.warnings.append("bootc upgrade --check failed before the new credentials were written; "
                                     "predicting an update.")
                return True, facts
            raise FleetError("bootc upgrade --check failed (rc=%d): %s. %s" % (rc, (err or out).strip(), error_hint(err or out)),
                             cmd=self.runner.argv(["upgrade", "--check"]), rc=rc, stdout=out, stderr=err)
        fresh = status_mod.gather(self.runner, self._version)
        staged = fresh.get("staged")
        if fresh["update_available"]:
            return True, fresh
        want_lock = "--download-only" in args
        return bool(staged and bool(staged.get("download_only")) != want_lock), fresh

    def run(self):
        self.validate()
        self._version = self.probe()
        before = status_mod.gather(self.runner, self._version)
        self.check_host(before)
        args, reason = self.plan(before)
        if args and args[0] in ("switch", "upgrade") and "--from-downloaded" not in args:
            self.check_space()
        self.auth.prepare(self.params.get("auth"), self.params.get("image") or (before.get("spec_image") or {}).get("image"))
        if self.check_mode:
            return self._report(before, self._check(before, args), args, reason)
        self.auth.write()
        try:
            if args:
                self.runner.run(args, what="bootc %s" % args[0])
            after = status_mod.gather(self.runner, self._version)
            # Inside the try: a verb that exits 0 but did not do its job must not keep the new credentials.
            self._verify(after, args)
        except FleetError as err:
            self._undo(err, before)
            raise
        return self._report(before, after, args, reason)

    def _check(self, before, args):
        if not args:
            return before
        needed, fresh = self._latest_needs_change(before, args)
        return self.predict(fresh, args) if needed else fresh

    def _undo(self, err, before):
        """Put the auth file back and say in the error what is left changed: the deployments (from a fresh
        status) and the auth file (restored, or why not)."""
        notes = []
        if self.auth.written:
            try:
                self.auth.restore()
                err.details["auth_restored"] = True
                notes.append("The previous %s was put back." % self.auth.path)
            except FleetError as again:
                err.details["auth_restored"] = False
                notes.append("The new credentials may still be in %s: %s" % (self.auth.path, again.msg))
        err.msg = "%s. %s" % (err.msg.rstrip("."), error_hint(err.details.get("stderr") or err.msg))
        if notes:
            err.msg = "%s %s" % (err.msg, " ".join(notes))
        try:
            after = status_mod.gather(self.runner, self._version)
        except FleetError as again:
            err.details["after_error"] = again.msg
            err.details["changed"] = True   # unknown: do not claim the host is untouched
            return
        err.details["after"] = summary(after)
        moved = status_mod.identity(before) != status_mod.identity(after)
        err.details["changed"] = moved or err.details.get("auth_restored") is False

    def _verify(self, after, args):
        if args and args[0] == "switch":
            spec = after.get("spec_image") or {}
            if spec.get("image") != self.params["image"]:
                raise FleetError("bootc switch exited 0 but the host tracks %r, not %r; nothing is staged for it."
                                 % (spec.get("image"), self.params["image"]), after=summary(after))
        if args and args[0] == "rollback" and not after["rollback_queued"]:
            raise FleetError("bootc rollback exited 0 but no rollback is queued in bootc status.", after=summary(after))

    def _report(self, before, after, args, reason):
        changed = status_mod.identity(before) != status_mod.identity(after) or self.auth.changed
        result = {
            "changed": changed,
            "reboot_required": reboot_required(after),
            "before": summary(before),
            "after": summary(after),
            "bootc_version": status_mod.version_string(self._version),
            "cmd": self.runner.argv(args) if args and changed else None,
            "msg": reason if changed or not args else "bootc reported no change",
            "auth_file": self.auth.path if self.auth.changed else None,
            "status": after,
            "warnings": self.warnings,
        }
        diffs = [state_diff(summary(before), summary(after), header="bootc deployments")]
        if self.auth.changed:
            diffs.append(self.auth.diff())
        result["diff"] = diffs
        return result
