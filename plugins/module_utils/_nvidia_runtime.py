# -*- coding: utf-8 -*-
# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Private to the edgeai.fleet collection: may change without notice.

"""Register the NVIDIA container runtime with containerd, CRI-O, Docker and Podman.

A native, standard-library version of ``nvidia-ctk runtime configure``: ``plan`` computes every
file's new content (pure, used for check mode and diff), ``apply`` writes them atomically and puts
every file back when one write fails. Files owned by the collection (drop-ins) are rendered whole;
the user's files get the smallest change: one entry in containerd's ``imports``, or a JSON merge
of ``daemon.json``.
"""

from __future__ import annotations

import copy
import json
import os
import re

from ansible_collections.edgeai.fleet.plugins.module_utils import _toml_lite
from ansible_collections.edgeai.fleet.plugins.module_utils._diff import redacted_file_diff, secret_values
from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError
from ansible_collections.edgeai.fleet.plugins.module_utils._files import atomic_write, make_backup, read_text

DEFAULT_PATHS = {
    "containerd": ("/etc/containerd/config.toml", "/etc/containerd/conf.d"),
    "crio": ("/etc/crio/crio.conf", "/etc/crio/crio.conf.d"),
    "docker": ("/etc/docker/daemon.json", None),
    "podman": ("/etc/containers/containers.conf", "/etc/containers/containers.conf.d"),
}
DROP_IN_FILES = {"containerd": "99-nvidia.toml", "crio": "99-nvidia.toml", "podman": "99-nvidia.conf"}
CDI_SPEC_DIRS = ["/etc/cdi", "/var/run/cdi"]
RUNC_TYPE = "io.containerd.runc.v2"
# The CRI plugin that holds runtimes, per containerd config version (containerd 2.x: 3, 2.3+: 4).
CRI_PLUGINS = {2: "io.containerd.grpc.v1.cri", 3: "io.containerd.cri.v1.runtime", 4: "io.containerd.cri.v1.runtime"}
HEADER = "# Managed by edgeai.fleet.nvidia_runtime; edits here are overwritten on the next run.\n"
# A drop-in is never more readable than this, nor than the files it copies from; 0600 when it holds credentials.
DROP_IN_MODE = 0o644
PRIVATE_MODE = 0o600


def defaults(params):
    """Fill ``config_path``/``drop_in_dir`` with the runtime's standard locations."""
    params = dict(params)
    if params.get("runtime") not in DEFAULT_PATHS:
        raise FleetError("runtime must be one of %s, got %s" % (", ".join(sorted(DEFAULT_PATHS)), _show(params.get("runtime"))),
                         field="runtime")
    for field in ("runtime_name", "runtime_path"):
        if not isinstance(params.get(field), str):
            raise FleetError("%s must be a string, got %s" % (field, _show(params.get(field))), field=field)
    for field in ("config_path", "drop_in_dir"):
        if params.get(field) is not None and not isinstance(params[field], str):
            raise FleetError("%s must be a path, got %s" % (field, _show(params[field])), field=field)
    main, drop_in = DEFAULT_PATHS[params["runtime"]]
    params["config_path"] = params.get("config_path") or main
    params["drop_in_dir"] = params.get("drop_in_dir") or drop_in
    if params["runtime"] == "docker" and params.get("drop_in_dir"):
        raise FleetError("drop_in_dir does not apply to runtime=docker: dockerd reads only daemon.json "
                         "(set config_path instead)", field="drop_in_dir")
    if not os.path.isabs(params["runtime_path"]):
        raise FleetError("runtime_path must be an absolute path, got %r" % params["runtime_path"], field="runtime_path")
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", params["runtime_name"]) or params["runtime_name"] in ("runc", "crun"):
        raise FleetError("runtime_name %r is invalid: use letters, digits, '.', '_' or '-', and not runc/crun "
                         "(those name the low-level runtimes the NVIDIA runtime wraps)" % params["runtime_name"],
                         field="runtime_name")
    return params


def parse_containerd_major(version_output):
    """Major version from ``containerd --version`` (``containerd github.com/containerd/containerd 1.6.20~ds1 ...``)."""
    match = re.search(r"\sv?(\d+)\.(\d+)\.\d+", version_output or "")
    if not match:
        raise FleetError("Cannot find a version in `containerd --version` output %r; set config_version to 2 "
                         "(containerd 1.x) or 3 (containerd 2.x)" % (version_output or "").strip(), stdout=version_output)
    return int(match.group(1))


def _show(value):
    """A short, safe rendering of a value read from a hostile file (repr of a 5000-digit int raises)."""
    try:
        text = repr(value)
    except ValueError:
        return "a %s too large to show" % type(value).__name__
    return text if len(text) <= 60 else text[:57] + "..."


def _dotted(keys):
    return ".".join(k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else json.dumps(k) for k in keys)


def _table(doc, path, *keys):
    """``doc[keys[0]][keys[1]]...`` as a dict, {} when absent; a FleetError naming the file and key when a
    level is not a table (``plugins = 5``, runtimes written as an array), never a TypeError/AttributeError."""
    node = doc
    for depth, key in enumerate(keys):
        node = node.get(key)
        if node is None:
            return {}
        if not isinstance(node, dict):
            dotted = _dotted(keys[:depth + 1])
            raise FleetError("%s: `%s` must be a table, found %s %s; fix it first, nothing was changed"
                             % (path, dotted, type(node).__name__, _show(node)), path=path, key=dotted)
    return node


def _load_toml(text, path):
    if text is None:
        return {}
    try:
        return _toml_lite.loads(text)
    except _toml_lite.TomlError as exc:
        raise FleetError("%s is not valid TOML (%s); fix or remove it first, nothing was changed" % (path, exc), path=path)


def _dump_toml(data, note="", source=None):
    try:
        return HEADER + note + "\n" + _toml_lite.dumps(data)
    except _toml_lite.TomlError as exc:
        raise FleetError("Cannot copy the settings of %s into a drop-in: %s; nothing was changed" % (source, exc),
                         path=source)


def _change(path, before, after, daemon=True, owned=False, mode=None):
    """One file's planned content; ``owned`` files (our drop-ins) are rendered whole and get no backup,
    because a backup inside a drop-in directory could be read as configuration (CRI-O reads every file).
    ``mode`` is the file's mode after the change (None: keep the current one, 0644 for a new file)."""
    return {"path": path, "before": before, "after": after, "daemon": daemon, "owned": owned, "mode": mode}


def _drop_in_mode(data, *source_modes):
    """A drop-in copying from files of ``source_modes`` is never more readable than any of them, and is
    0600 when what it copies holds registry credentials (containerd's registry.configs.*.auth)."""
    mode = DROP_IN_MODE
    for source in source_modes:
        if source is not None:
            mode &= source
    return mode & PRIVATE_MODE if secret_values(data) else mode


def _first_runtime(runtimes, names, accept=lambda runtime: True):
    for name in names:
        if not isinstance(name, str):
            continue
        runtime = runtimes.get(name)
        if isinstance(runtime, dict) and accept(runtime):
            return runtime
    return None


# ---- containerd -----------------------------------------------------------------------------

def _known_version(value):
    return isinstance(value, int) and not isinstance(value, bool) and value in CRI_PLUGINS


def containerd_version(params, main, path, containerd_major):
    """The config version to write: the main config's, else the binary's (1.x -> 2, 2.x -> 3), else 2."""
    found = main.get("version")
    if main and found is None:
        raise FleetError("%s has no `version` key, which containerd reads as a version 1 config, and version 1 has "
                         "no drop-in support: add `version = 2` (containerd 1.x) or `version = 3` (containerd 2.x) "
                         "at its top, nothing was changed" % path, path=path)
    if found is not None and not _known_version(found):
        raise FleetError("%s has `version = %s`; this module handles containerd config versions 2, 3 and 4"
                         % (path, _show(found)), path=path, key="version")
    requested = params.get("config_version") or "auto"
    if requested != "auto":
        if found is not None and found != int(requested):
            raise FleetError("config_version=%s but %s has `version = %d`: the drop-in and the main config must have "
                             "the same version; use config_version=auto or migrate the main config first"
                             % (requested, path, found), field="config_version", path=path)
        return int(requested)
    if found is not None:
        return found
    major = containerd_major() if containerd_major else None
    return 2 if major is None or major < 2 else 3


def containerd_drop_in(params, main, version, path=None):
    """The drop-in nvidia-ctk writes: the main config's whole CRI section plus the nvidia runtime.

    containerd < 2.1 replaces (does not merge) a plugin's section when an import defines it
    (containerd/containerd#5837), so the drop-in carries a copy of the user's CRI section.
    """
    plugin = CRI_PLUGINS[version]
    _table(main, path, "plugins", plugin, "containerd", "runtimes")
    cri = copy.deepcopy(_table(main, path, "plugins", plugin))
    ctrd = cri.setdefault("containerd", {})
    runtimes = ctrd.setdefault("runtimes", {})
    name = params["runtime_name"]
    runtimes.pop(name, None)
    # Options come from a runc-shaped runtime: the default one, else runc, else crun (as nvidia-ctk);
    # a default with another shim type (kata, gVisor) would make the nvidia runtime that shim.
    source = _first_runtime(runtimes, [ctrd.get("default_runtime_name"), "runc", "crun"],
                            lambda rt: rt.get("runtime_type", RUNC_TYPE) in ("", RUNC_TYPE))
    if source is None:
        nvidia = {"runtime_type": RUNC_TYPE, "runtime_root": "", "runtime_engine": "",
                  "privileged_without_host_devices": False}
    else:
        nvidia = copy.deepcopy(source)
    nvidia["runtime_type"] = nvidia.get("runtime_type") or RUNC_TYPE
    options = nvidia.setdefault("options", {})
    if not isinstance(options, dict):
        raise FleetError("%s: the options of the runtime nvidia-ctk would copy are not a table (found %s); fix it "
                         "first, nothing was changed" % (path, _show(options)), path=path)
    options["BinaryName"] = params["runtime_path"]
    runtimes[name] = nvidia
    # Defining any runtime drops containerd's built-in runc from the merged config: keep it.
    runtimes.setdefault("runc", {"runtime_type": RUNC_TYPE})
    if params["set_as_default"]:
        ctrd["default_runtime_name"] = name
    elif ctrd.get("default_runtime_name") == name:
        del ctrd["default_runtime_name"]
    if params["cdi_enabled"]:
        cri["enable_cdi"] = True
        cri.setdefault("cdi_spec_dirs", list(CDI_SPEC_DIRS))
    return {"version": version, "plugins": {plugin: cri}}


def _array_tokens(text, start):
    """Tokens of the TOML array opening at ``text[start]``: [(kind, begin, end)], kind in '[', ']', ',', 'str'."""
    tokens, i, depth = [("[", start, start + 1)], start + 1, 1
    while i < len(text):
        c = text[i]
        if c == "#":
            i = text.find("\n", i) if "\n" in text[i:] else len(text)
            continue
        if c in "\"'":
            quote = text[i]
            j = i + 1
            while j < len(text) and text[j] != quote:
                j += 2 if quote == '"' and text[j] == "\\" else 1
            tokens.append(("str", i, j + 1))
            i = j + 1
            continue
        if c == "[":
            depth += 1
        elif c == "]":
            depth -= 1
            if depth == 0:
                tokens.append(("]", i, i + 1))
                return tokens
        elif c == "," and depth == 1:
            tokens.append((",", i, i + 1))
        i += 1
    return None


def _imports_array(text):
    match = re.search(r"^[ \t]*imports[ \t]*=[ \t]*(?=\[)", text, re.M)
    return _array_tokens(text, match.end()) if match else None


def _edit_imports(text, parsed, pattern, add):
    """Candidate texts with ``pattern`` added to (or removed from) the root ``imports`` array."""
    entry = json.dumps(pattern)
    tokens = _imports_array(text)
    candidates = []
    if add and tokens is None:
        version = re.search(r"^[ \t]*version[ \t]*=[ \t]*\d+[ \t]*(#[^\n]*)?$", text, re.M)
        line = "imports = [%s]" % entry
        if version:
            candidates.append(text[:version.end()] + "\n" + line + text[version.end():])
        candidates.append(line + "\n" + text)
    elif add:
        last = tokens[-2]
        at = last[2]
        item = entry if last[0] == "[" else (" " if last[0] == "," else ", ") + entry
        candidates.append(text[:at] + item + text[at:])
    elif tokens is not None:
        strings = [t for t in tokens if t[0] == "str"]
        ours = [t for t in strings if text[t[1]:t[2]] in (entry, "'%s'" % pattern)]
        if ours and len(strings) == 1:
            line_start = text.rfind("\n", 0, tokens[0][1]) + 1
            line_end = text.find("\n", tokens[-1][2])
            line_end = len(text) if line_end < 0 else line_end + 1
            candidates.append(text[:line_start] + text[line_end:])
        elif ours:
            index = tokens.index(ours[0])
            after, before = tokens[index + 1], tokens[index - 1]
            begin, end = (ours[0][1], after[2]) if after[0] == "," else (before[1], ours[0][2])
            candidates.append(text[:begin] + text[end:])
    expected = dict(parsed)
    imports = [i for i in parsed.get("imports", []) if i != pattern]
    if add:
        imports.append(pattern)
    if imports:
        expected["imports"] = imports
    else:
        expected.pop("imports", None)
    for candidate in candidates:
        try:
            reparsed = _toml_lite.loads(candidate)
        except _toml_lite.TomlError:
            continue
        if reparsed == expected or (not imports and reparsed == dict(expected, imports=[])):
            return candidate
    return None


def containerd_main(text, parsed, pattern, version, path, present):
    """The main config with the drop-in import added (present) or removed (absent)."""
    imports = parsed.get("imports", [])
    if not isinstance(imports, list):
        raise FleetError("`imports` in %s is not an array" % path, path=path)
    minimal = "version = %d\nimports = [%s]\n" % (version or 2, json.dumps(pattern))
    if present:
        if not parsed:
            return (text.rstrip() + "\n" if text and text.strip() else "") + minimal
        if pattern in imports:
            return text
    elif pattern not in imports:
        return text
    elif text == minimal:
        return None   # exactly the file this module creates when there is none: remove it again
    edited = _edit_imports(text, parsed, pattern, present)
    if edited is None:
        raise FleetError("Cannot safely %s %r %s `imports` in %s; edit that line by hand, nothing was changed"
                         % ("add" if present else "remove", pattern, "to" if present else "from", path), path=path)
    return edited


def plan_containerd(params, read, containerd_major, listdir, file_mode):
    main_path = params["config_path"]
    drop_dir = params["drop_in_dir"].rstrip("/") or "/"
    drop_path = os.path.join(drop_dir, DROP_IN_FILES["containerd"])
    pattern = os.path.join(drop_dir, "*.toml")
    main_text, drop_text = read(main_path), read(drop_path)
    main = _load_toml(main_text, main_path)
    if params["state"] == "present":
        version = containerd_version(params, main, main_path, containerd_major)
        note = "# Carries a copy of the CRI section of %s: containerd < 2.1 replaces a plugin's whole section on import.\n" % main_path
        drop = containerd_drop_in(params, main, version, main_path)
        drop_after = _dump_toml(drop, note, main_path)
        drop_mode = _drop_in_mode(drop, file_mode(main_path), file_mode(drop_path))
        main_after = containerd_main(main_text, main, pattern, version, main_path, True)
    else:
        version = main.get("version") if _known_version(main.get("version")) else None
        drop_after = drop_mode = None
        others = [f for f in listdir(drop_dir) if f.endswith(".toml") and f != DROP_IN_FILES["containerd"]]
        main_after = main_text if others else containerd_main(main_text, main, pattern, version, main_path, False)
    # The drop-in first: the main config must never import a directory whose file is not written yet.
    return [_change(drop_path, drop_text, drop_after, owned=True, mode=drop_mode),
            _change(main_path, main_text, main_after)], version


# ---- CRI-O ----------------------------------------------------------------------------------

def _merge(base, extra):
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base


def _crio_doc(text, path):
    doc = _load_toml(text, path)
    _table(doc, path, "crio", "runtime", "runtimes")
    return doc


def plan_crio(params, read, listdir, file_mode):
    drop_dir = params["drop_in_dir"]
    drop_path = os.path.join(drop_dir, DROP_IN_FILES["crio"])
    drop_text = read(drop_path)
    warnings = []
    if params["state"] == "absent":
        return [_change(drop_path, drop_text, None, owned=True)], warnings
    # CRI-O reads crio.conf, then crio.conf.d/* in lexical order: later files win.
    merged = _crio_doc(read(params["config_path"]), params["config_path"])
    modes = [file_mode(params["config_path"]), file_mode(drop_path)]
    for name in sorted(listdir(drop_dir)):
        if name != DROP_IN_FILES["crio"]:
            path = os.path.join(drop_dir, name)
            _merge(merged, _crio_doc(read(path), path))
            modes.append(file_mode(path))
    section = _table(merged, drop_dir, "crio", "runtime")
    runtimes = _table(merged, drop_dir, "crio", "runtime", "runtimes")
    name = params["runtime_name"]
    source = _first_runtime(runtimes, [section.get("default_runtime"), "runc", "crun"],
                            lambda rt: rt is not runtimes.get(name))
    nvidia = copy.deepcopy(source) if source else {}
    nvidia.update(runtime_path=params["runtime_path"], runtime_type="oci")
    drop = {"crio": {"runtime": {"runtimes": {name: nvidia}}}}
    if params["set_as_default"]:
        drop["crio"]["runtime"]["default_runtime"] = name
    if params["cdi_enabled"]:
        warnings.append("cdi_enabled has no setting for CRI-O: CRI-O always resolves CDI devices (as nvidia-ctk says)")
    return [_change(drop_path, drop_text, _dump_toml(drop, source=params["config_path"]), owned=True,
                    mode=_drop_in_mode(drop, *modes))], warnings


# ---- Docker ---------------------------------------------------------------------------------

def _load_json(text, path):
    if text is None or not text.strip():
        return {}
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise FleetError("%s is not valid JSON (%s); dockerd would not start with it either. Fix it first, "
                         "nothing was changed" % (path, exc), path=path)
    if not isinstance(data, dict):
        raise FleetError("%s must hold a JSON object, found %s; nothing was changed" % (path, type(data).__name__),
                         path=path)
    return data


def docker_config(params, data, warnings):
    """daemon.json with the nvidia runtime merged in (present) or our keys taken out (absent)."""
    data = copy.deepcopy(data)
    name, path = params["runtime_name"], params["runtime_path"]
    runtimes = data.get("runtimes", {})
    if not isinstance(runtimes, dict):
        raise FleetError("`runtimes` in %s is not an object; nothing was changed" % params["config_path"])
    ours = isinstance(runtimes.get(name), dict) and runtimes[name].get("path") == path
    if params["state"] == "present":
        entry = runtimes.get(name) if isinstance(runtimes.get(name), dict) else {}
        entry.update(args=entry.get("args", []), path=path)
        runtimes[name] = entry
        data["runtimes"] = runtimes
        if params["set_as_default"]:
            data["default-runtime"] = name
        elif data.get("default-runtime") == name:
            del data["default-runtime"]
        if params["cdi_enabled"]:
            features = data.setdefault("features", {})
            if not isinstance(features, dict):
                raise FleetError("`features` in %s is not an object; nothing was changed" % params["config_path"])
            features["cdi"] = True
        return data
    if name in runtimes and not ours:
        warnings.append("runtimes.%s in %s points at %r, not %s: left as it is" % (
            name, params["config_path"], runtimes[name].get("path") if isinstance(runtimes[name], dict) else runtimes[name], path))
        return data
    if ours:
        del runtimes[name]
        if not runtimes:
            del data["runtimes"]
        if data.get("default-runtime") == name:
            del data["default-runtime"]
    return data


def plan_docker(params, read):
    path = params["config_path"]
    text = read(path)
    before = _load_json(text, path)
    warnings = []
    after = docker_config(params, before, warnings)
    # Rewrite only on a real change, so a hand-formatted file stays byte for byte as it is.
    new_text = text if after == before and text is not None else json.dumps(after, indent=2, ensure_ascii=False) + "\n"
    if text is None and params["state"] == "absent":
        new_text = None
    return [_change(path, text, new_text)], warnings


# ---- Podman ---------------------------------------------------------------------------------

def plan_podman(params, read, file_mode):
    drop_path = os.path.join(params["drop_in_dir"], DROP_IN_FILES["podman"])
    drop_text = read(drop_path)
    _load_toml(read(params["config_path"]), params["config_path"])   # podman fails on a corrupt file: so do we
    if params["state"] == "absent":
        return [_change(drop_path, drop_text, None, daemon=False, owned=True)]
    engine = {"cdi_spec_dirs": list(CDI_SPEC_DIRS)}
    if params["set_as_default"] or params.get("podman_named_runtime"):
        engine["runtimes"] = {params["runtime_name"]: [params["runtime_path"]]}
    if params["set_as_default"]:
        engine["runtime"] = params["runtime_name"]
    return [_change(drop_path, drop_text, _dump_toml({"engine": engine}), daemon=False, owned=True,
                    mode=_drop_in_mode({}, file_mode(drop_path)))]


# ---- plan and apply ---------------------------------------------------------------------------

def _listdir(path):
    try:
        return os.listdir(path)
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise FleetError("Cannot list %s: %s" % (path, exc), path=path)


def _mode(path):
    """The file's permission bits, None when it does not exist."""
    try:
        return os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise FleetError("Cannot stat %s: %s" % (path, exc), path=path)


def _needed(change, file_mode):
    if change["before"] != change["after"]:
        return True
    # Same content with a wider mode: a drop-in an older release wrote 0644 while it copies credentials.
    return change["after"] is not None and change["mode"] is not None and file_mode(change["path"]) != change["mode"]


def plan(params, read=read_text, containerd_major=None, listdir=_listdir, file_mode=_mode):
    """Every file change for ``params`` (defaults filled by ``defaults``): (changes, config_version, warnings)."""
    runtime, version, warnings = params["runtime"], None, []
    if runtime == "containerd":
        changes, version = plan_containerd(params, read, containerd_major, listdir, file_mode)
    elif runtime == "crio":
        changes, warnings = plan_crio(params, read, listdir, file_mode)
    elif runtime == "docker":
        changes, warnings = plan_docker(params, read)
    else:
        changes = plan_podman(params, read, file_mode)
    for change in changes:
        if change["mode"] is None and change["after"] is not None:
            change["mode"] = file_mode(change["path"]) or DROP_IN_MODE
        change["before_mode"] = file_mode(change["path"]) if change["before"] is not None else None
    return [c for c in changes if _needed(c, file_mode)], version, warnings


def _write(change, backup, atomic_move, mode=None):
    path = change["path"]
    if change["after"] is not None:
        return atomic_write(path, change["after"], mode=mode or change["mode"], backup=backup, atomic_move=atomic_move)
    try:
        saved = make_backup(path) if backup else None
        os.unlink(path)
    except OSError as exc:
        raise FleetError("Cannot remove %s: %s" % (path, exc), path=path)
    return saved


def apply(changes, backup=True, atomic_move=None):
    """Write the changes in order; on a failure put back every file already written, then re-raise."""
    done, backups = [], {}
    try:
        for change in changes:
            saved = _write(change, backup and not change["owned"], atomic_move)
            done.append(change)
            if saved:
                backups[change["path"]] = saved
    except FleetError:
        for change in reversed(done):
            _write(dict(change, after=change["before"]), False, atomic_move, mode=change["before_mode"])
        for saved in backups.values():   # the originals are back in place: a backup now is only litter
            os.unlink(saved)
        raise
    return backups


def _secrets(changes):
    """Credential strings in any file being changed: one file's secret may be copied into another's diff."""
    found = set()
    for change in changes:
        for text in (change["before"], change["after"]):
            for parse in (_toml_lite.loads, json.loads):
                try:
                    found |= secret_values(parse(text or ""))
                    break
                except ValueError:
                    continue
    return found


def run(params, check_mode=False, atomic_move=None, containerd_major=None, read=read_text, listdir=_listdir,
        engine_state=None):
    """Plan, then apply unless in check mode; return the module's result.

    ``engine_state()``, when given, asks the running engine whether it serves the runtime
    (``_nvidia_engine_state.running_state``): a daemon still on an old config needs a restart even when no file
    changes now, e.g. after a run killed between the write and the restart.
    """
    params = defaults(params)
    changes, version, warnings = plan(params, read=read, containerd_major=containerd_major, listdir=listdir)
    backups = {} if check_mode else apply(changes, backup=params.get("backup", True), atomic_move=atomic_move)
    running = engine_state() if engine_state else None
    secrets = _secrets(changes)
    stale = bool(running) and running["active"] is False and params["runtime"] != "podman"
    return {
        "changed": bool(changes),
        "restart_required": any(c["daemon"] for c in changes) or stale,
        "running": running,
        "files": [c["path"] for c in changes],
        "backups": backups,
        "diff": [redacted_file_diff(c["path"], c["before"], c["after"], secrets) for c in changes],
        "runtime_config_version": version,
        "warnings": warnings,
    }
