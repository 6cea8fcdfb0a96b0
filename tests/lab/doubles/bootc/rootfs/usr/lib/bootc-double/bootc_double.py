# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Test double for bootc (standard library only), used on lab nodes and by unit tests.

Follows the contract in shared/reference/bootc.md and the upstream fixtures in
tests/unit/plugins/module_utils/fixtures/bootc/:
- ``bootc status --format=json --format-version=1`` prints a BootcHost document whose optional
  fields follow the simulated version (architecture 1.1.7, softRebootCapable 1.7,
  downloadOnly 1.12, usrOverlay 1.14, readOnly 1.16.7; sorted one-line JSON from 1.5;
  ``Waiting for sysroot lock...`` on stdout before 1.7 when ``lock_message`` is set);
- ``switch`` / ``upgrade`` (``--check``, ``--download-only``, ``--from-downloaded``) stage
  deployments resolved from a catalogue (image ref -> digest/version) kept in the state, so a
  test can "push" a new digest under the same tag; ``rollback`` is the real toggle and
  discards a staged deployment; flags newer than the simulated version are clap errors (rc 2);
  errors are rc 1 with ``error: ...`` on stderr; ``--apply`` is refused (it would reboot);
- ``reboot`` (the hook at /usr/libexec/bootc-double/reboot) does what a reboot does to
  ostree deployments: a queued rollback swaps booted and rollback, a staged (not
  download-only) deployment becomes booted and the old booted the rollback, and a
  download-only deployment is dropped; it also changes the boot id file;
- failure injection: ``pull_errors`` (image ref -> error text), ``unhealthy`` digests, which
  make ``health-check`` fail after booting them, and ``finalize_fail`` digests, whose staged
  deployment is silently not applied by the reboot (ostree-finalize-staged failing on a full /boot).
Simulated, not real: ostree, the registry, the bootloader, /etc merges, signatures.
State: $BOOTC_DOUBLE_STATE_DIR (default /var/lib/bootc-double)/state.json.
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
import uuid

API = "org.containers.bootc/v1"
DEFAULT_VERSION = "1.16.9"


def state_dir():
    return os.environ.get("BOOTC_DOUBLE_STATE_DIR", "/var/lib/bootc-double")


def state_path():
    return os.path.join(state_dir(), "state.json")


def vtuple(text):
    return tuple(int(p) for p in text.split(".")[:3])


def fake_digest(seed):
    return "sha256:" + hashlib.sha256(seed.encode("utf-8")).hexdigest()


def load():
    try:
        with open(state_path(), encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        return {"version": DEFAULT_VERSION, "booted": None, "staged": None, "rollback": None,
                "rollback_queued": False, "catalogue": {}, "pull_errors": {}, "unhealthy": [], "serial": 0,
                "lock_message": False, "incompatible": False, "log": []}


def save(state):
    os.makedirs(state_dir(), exist_ok=True)
    tmp = state_path() + ".tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(state, handle, indent=2, sort_keys=True)
    os.replace(tmp, state_path())


class Fail(Exception):
    def __init__(self, msg, rc=1):
        super().__init__(msg)
        self.msg = msg
        self.rc = rc


# ---- document rendering -------------------------------------------------------------------
def _image_status(dep, version):
    out = {"image": dict(dep["ref"]), "version": dep.get("version"), "timestamp": dep.get("timestamp"),
           "imageDigest": dep["digest"]}
    if out["image"].get("signature") is None:
        out["image"].pop("signature", None)
    if version >= (1, 1, 7):
        out["architecture"] = dep.get("architecture", "amd64")
    return out


def _entry(dep, version, incompatible=False):
    if dep is None:
        return None
    entry = {"image": _image_status(dep, version), "cachedUpdate": None, "incompatible": incompatible,
             "pinned": False, "store": "ostreeContainer",
             "ostree": {"checksum": hashlib.sha256(dep["digest"].encode()).hexdigest(),
                        "deploySerial": dep.get("serial", 0), "stateroot": "default"}}
    cached = dep.get("cached_update")
    if incompatible:
        # status.rs boot_entry_from_deployment: local rpm-ostree changes cannot be shown as an image.
        entry["image"] = None
    elif cached:
        entry["cachedUpdate"] = _image_status(dict(dep, **cached), version)
    if version >= (1, 7, 0):
        entry["softRebootCapable"] = False
    if version >= (1, 12, 0):
        entry["downloadOnly"] = bool(dep.get("download_only"))
    return entry


def spec_ref(state):
    dep = state["staged"] or state["booted"]
    return dep["ref"] if dep else None


def document(state, booted_only=False):
    version = vtuple(state["version"])
    incompatible = bool(state["booted"]) and state.get("incompatible", False)
    ref = spec_ref(state) if state["staged"] or not incompatible else None
    spec_image = dict(ref) if ref else None
    if spec_image and spec_image.get("signature") is None:
        spec_image.pop("signature", None)
    status = {
        "staged": None if booted_only else _entry(state["staged"], version),
        "booted": _entry(state["booted"], version, state.get("incompatible", False)),
        "rollback": None if booted_only else _entry(state["rollback"], version),
        "rollbackQueued": bool(state["rollback_queued"]),
        "type": "bootcHost" if state["booted"] and not incompatible else None,
    }
    if version >= (1, 14, 0):
        status["usrOverlay"] = None
    if version >= (1, 16, 7):
        status["readOnly"] = False
    return {"apiVersion": API, "kind": "BootcHost", "metadata": {"name": "host"},
            "spec": {"image": spec_image, "bootOrder": "rollback" if state["rollback_queued"] else "default"},
            "status": status}


# ---- verbs ----------------------------------------------------------------------------------
def _require_booted(state, what):
    if not state["booted"]:
        raise Fail("error: %s: System not booted via bootc" % what)
    if os.geteuid() != 0 and not os.environ.get("BOOTC_DOUBLE_ALLOW_NONROOT"):
        raise Fail("error: This command must be executed as the root user")


def _flags(args, known, version):
    """Split ``args`` into flags and positionals, rejecting flags the simulated version lacks (clap: rc 2)."""
    flags, positional = {}, []
    it = iter(args)
    for arg in it:
        if not arg.startswith("--"):
            positional.append(arg)
            continue
        name, _sep, value = arg[2:].partition("=")
        since = known.get(name)
        if since is None or version < since:
            raise Fail("error: unexpected argument '--%s' found\n\nUsage: bootc [OPTIONS]" % name, rc=2)
        if name in ("transport", "soft-reboot", "format", "format-version") and not value:
            value = next(it, "")
        flags[name] = value or True
    return flags, positional


def resolve(state, ref):
    """Registry lookup: the digest and version a pull of ``ref`` would fetch now."""
    image = ref["image"]
    if image in state.get("pull_errors", {}):
        raise Fail("error: Switching: Pulling: %s" % state["pull_errors"][image])
    if "@" in image:
        digest = image.rsplit("@", 1)[1]
        for entry in state["catalogue"].values():
            if entry["digest"] == digest:
                return dict(entry)
        raise Fail("error: Pulling: reading manifest %s: manifest unknown" % digest)
    if image not in state["catalogue"]:
        raise Fail("error: Pulling: initializing source docker://%s: reading manifest: manifest unknown" % image)
    return dict(state["catalogue"][image])


def _deployment(state, ref, found, download_only=False):
    state["serial"] += 1
    return {"ref": ref, "digest": found["digest"], "version": found.get("version"),
            "timestamp": found.get("timestamp"), "architecture": found.get("architecture", "amd64"),
            "download_only": download_only, "serial": state["serial"]}


def cmd_status(state, args):
    version = vtuple(state["version"])
    flags = _flags(args, {"format": (0, 1, 13), "format-version": (0, 1, 14), "json": (0, 1, 1),
                          "booted": (0, 1, 1), "verbose": (1, 5, 0)}, version)[0]
    if flags.get("format") not in ("json", None) or (flags.get("format") is None and "json" not in flags):
        raise Fail("error: the double only prints JSON; pass --format=json", rc=2)
    if flags.get("format-version") not in (None, "0", "1"):
        raise Fail("error: Unsupported format version: %s" % flags["format-version"])
    if state["booted"] and os.geteuid() != 0 and not os.environ.get("BOOTC_DOUBLE_ALLOW_NONROOT"):
        raise Fail("error: This command must be executed as the root user")
    doc = document(state, booted_only="booted" in flags)
    prefix = "Waiting for sysroot lock...\n" if state.get("lock_message") and version < (1, 7, 0) else ""
    if version >= (1, 5, 0):
        text = json.dumps(doc, sort_keys=True, separators=(",", ":"))
    else:
        text = json.dumps(doc, indent=2)
    return prefix + text + "\n"


def cmd_switch(state, args):
    version = vtuple(state["version"])
    flags, pos = _flags(args, {"transport": (0, 1, 0), "enforce-container-sigpolicy": (0, 1, 5), "retain": (0, 1, 1),
                               "soft-reboot": (1, 7, 0), "quiet": (0, 1, 0), "apply": (0, 1, 3)}, version)
    _require_booted(state, "Switching")
    if "apply" in flags:
        raise Fail("error: the bootc double refuses --apply (it would reboot the host)")
    if len(pos) != 1:
        raise Fail("error: the following required arguments were not provided: <TARGET>", rc=2)
    image = pos[0][len("docker://"):] if pos[0].startswith("docker://") else pos[0]
    ref = {"image": image, "transport": flags.get("transport", "registry"),
           "signature": "containerPolicy" if "enforce-container-sigpolicy" in flags else None}
    if ref == spec_ref(state):
        return "Image specification is unchanged.\n"
    found = resolve(state, ref)
    state["staged"] = _deployment(state, ref, found)
    state["rollback_queued"] = False
    return "Queued for next boot: %s\n  Version: %s\n  Digest: %s\n" % (image, found.get("version"), found["digest"])


def cmd_upgrade(state, args):
    version = vtuple(state["version"])
    flags = _flags(args, {"check": (0, 1, 1), "download-only": (1, 12, 0), "from-downloaded": (1, 12, 0),
                          "soft-reboot": (1, 7, 0), "quiet": (0, 1, 0), "apply": (0, 1, 3), "tag": (1, 15, 0)},
                   version)[0]
    _require_booted(state, "Upgrading")
    if "apply" in flags:
        raise Fail("error: the bootc double refuses --apply (it would reboot the host)")
    staged = state["staged"]
    if "from-downloaded" in flags:
        if not staged:
            raise Fail("error: Upgrading: No staged deployment found")
        staged["download_only"] = False
        return "Staged deployment will now be applied on reboot\n"
    ref = spec_ref(state)
    found = resolve(state, ref)
    current = staged or state["booted"]
    if "check" in flags:
        if found["digest"] in (current["digest"], state["booted"]["digest"]):
            current.pop("cached_update", None)
            return "No changes in: %s\n" % ref["image"]
        current["cached_update"] = {k: found.get(k) for k in ("digest", "version", "timestamp")}
        current["cached_update"]["architecture"] = found.get("architecture", "amd64")
        return "Update available for: %s\n  Version: %s\n  Digest: %s\n" % (
            ref["image"], found.get("version"), found["digest"])
    lock = "download-only" in flags
    if staged and staged["digest"] == found["digest"]:
        staged["download_only"] = lock
        return "Staged update present, not changed\n"
    if found["digest"] == state["booted"]["digest"]:
        return "No update available.\n"
    state["staged"] = _deployment(state, ref, found, download_only=lock)
    state["booted"].pop("cached_update", None)
    return "Queued for next boot: %s\n  Version: %s\n  Digest: %s\n" % (
        ref["image"], found.get("version"), found["digest"])


def cmd_rollback(state, args):
    version = vtuple(state["version"])
    flags = _flags(args, {"apply": (1, 1, 7), "soft-reboot": (1, 7, 0)}, version)[0]
    _require_booted(state, "Rollback")
    if "apply" in flags:
        raise Fail("error: the bootc double refuses --apply (it would reboot the host)")
    if not state["rollback"]:
        raise Fail("error: No rollback available")
    state["staged"] = None
    if state["rollback_queued"]:
        state["rollback_queued"] = False
        return "notice: Reverting queued rollback state\nNext boot: current deployment\n"
    state["rollback_queued"] = True
    return "Next boot: rollback deployment\n"


# ---- lab-side hooks ---------------------------------------------------------------------------
def boot_id_path():
    return os.path.join(state_dir(), "boot_id")


def new_boot_id():
    """The lab's ansible.builtin.reboot boot_time_command reads this file: it changes on every simulated boot."""
    os.makedirs(state_dir(), exist_ok=True)
    with open(boot_id_path(), "w", encoding="utf-8") as handle:
        handle.write(str(uuid.uuid4()) + "\n")


def reboot(state):
    """What a reboot does to the deployments (ostree-finalize-staged + bootloader order)."""
    if state["rollback_queued"]:
        state["booted"], state["rollback"] = state["rollback"], state["booted"]
        state["rollback_queued"] = False
    elif state["staged"] and state["staged"]["digest"] in state.get("finalize_fail", []):
        pass  # ostree-finalize-staged failed at shutdown (a full /boot): the old deployment boots, silently
    elif state["staged"] and not state["staged"].get("download_only"):
        state["rollback"], state["booted"] = state["booted"], state["staged"]
    state["staged"] = None
    for dep in (state["booted"], state["rollback"]):
        if dep:
            dep.pop("cached_update", None)
    new_boot_id()
    return "rebooted into %s\n" % (state["booted"] or {}).get("digest")


def health(state):
    digest = (state["booted"] or {}).get("digest")
    if digest in state.get("unhealthy", []):
        raise Fail("health-check: booted image %s is unhealthy (injected by the bootc double)" % digest)
    return "healthy: %s\n" % digest


def ctl(state, args):
    """Set-up verbs for tests: init, push, fail-pull, unhealthy, finalize-fail, clear-faults, set, show."""
    verb, rest = (args[0], args[1:]) if args else ("show", [])
    if verb == "init":  # init IMAGE [VERSION] [BOOTC_VERSION]
        image, ver = rest[0], (rest[1] if len(rest) > 1 else "1.0")
        found = state["catalogue"].get(image) or {"digest": fake_digest(image + ver), "version": ver,
                                                  "timestamp": "2026-01-01T00:00:00Z"}
        state["catalogue"][image] = found
        state["booted"] = _deployment(state, {"image": image, "transport": "registry", "signature": None}, found)
        state["staged"] = state["rollback"] = None
        state["rollback_queued"] = False
        if len(rest) > 2:
            state["version"] = rest[2]
        if not os.path.exists(boot_id_path()):
            new_boot_id()
    elif verb == "push":  # push IMAGE VERSION [DIGEST]
        image, ver = rest[0], rest[1]
        state["catalogue"][image] = {"digest": rest[2] if len(rest) > 2 else fake_digest(image + ver),
                                     "version": ver, "timestamp": "2026-02-01T00:00:00Z"}
    elif verb == "fail-pull":  # fail-pull IMAGE [MESSAGE]
        state["pull_errors"][rest[0]] = " ".join(rest[1:]) or "unauthorized: authentication required"
    elif verb == "unhealthy":  # unhealthy DIGEST
        state["unhealthy"].append(rest[0])
    elif verb == "finalize-fail":  # finalize-fail DIGEST
        state.setdefault("finalize_fail", []).append(rest[0])
    elif verb == "clear-faults":
        state["pull_errors"], state["unhealthy"], state["finalize_fail"] = {}, [], []
    elif verb == "set":  # set KEY JSON
        state[rest[0]] = json.loads(rest[1])
    elif verb != "show":
        raise Fail("usage: ctl init|push|fail-pull|unhealthy|finalize-fail|clear-faults|set|show", rc=2)
    return json.dumps(state, indent=2, sort_keys=True) + "\n"


VERBS = {"status": cmd_status, "switch": cmd_switch, "upgrade": cmd_upgrade, "update": cmd_upgrade,
         "rollback": cmd_rollback}


def main(argv, mode="bootc"):
    state = load()
    try:
        if mode == "reboot":
            out = reboot(state)
        elif mode == "health":
            out = health(state)
        elif mode == "ctl":
            out = ctl(state, argv)
        elif argv[:1] in (["--version"], ["-V"]):
            out = "bootc %s\n" % state["version"]
        elif argv[:1] and argv[0] in VERBS:
            out = VERBS[argv[0]](state, argv[1:])
        else:
            raise Fail("error: unrecognized subcommand '%s' (the bootc double implements status, switch, upgrade, "
                       "rollback, --version)" % (argv[0] if argv else ""), rc=2)
    except Fail as err:
        sys.stderr.write(err.msg + "\n")
        return err.rc
    # Read-only calls leave the state file untouched, so tests can prove "nothing changed" byte for byte.
    if mode in ("reboot", "ctl") or (mode == "bootc" and argv[0] in ("switch", "upgrade", "update", "rollback")):
        state.setdefault("log", []).append([mode] + list(argv))
        save(state)
    sys.stdout.write(out)
    return 0


if __name__ == "__main__":
    # Called by the shell wrappers as: python3 bootc_double.py MODE ARGS...
    sys.exit(main(sys.argv[2:], sys.argv[1]))
