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

from ansible_collections.edgeai.fleet.plugins.module_utils import _nvidia_oci_hook, _toml_lite
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
# The engine reads only drop-ins with this suffix (containerd through our `*.toml` import, podman `*.conf`).
DROP_IN_SUFFIX = {"containerd": ".toml", "podman": ".conf"}
# config_source=command: the engine's effective config, as nvidia-ctk reads it (argv after the CLI).
SOURCE_COMMANDS = {"containerd": ("containerd", ["config", "dump"]), "crio": ("crio", ["status", "config"])}
CDI_SPEC_DIRS = ["/etc/cdi", "/var/run/cdi"]
RUNC_TYPE = "io.containerd.runc.v2"
# Every runc shim (io.containerd.runc.v1 on older nodes): a runtime with one wraps runc as the NVIDIA runtime does.
RUNC_SHIM = re.compile(r"io\.containerd\.runc\.v[0-9]+")
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
    _drop_in_options(params)
    if not os.path.isabs(params["runtime_path"]):
        raise FleetError("runtime_path must be an absolute path, got %r" % params["runtime_path"], field="runtime_path")
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", params["runtime_name"]) or params["runtime_name"] in ("runc", "crun"):
        raise FleetError("runtime_name %r is invalid: use letters, digits, '.', '_' or '-', and not runc/crun "
                         "(those name the low-level runtimes the NVIDIA runtime wraps)" % params["runtime_name"],
                         field="runtime_name")
    return params


def _drop_in_options(params):
    """Validate ``drop_in``/``drop_in_file``/``config_source`` and fill their defaults."""
    runtime = params["runtime"]
    params["drop_in"] = params.get("drop_in", True)
    params["config_source"] = params.get("config_source") or "file"
    name = params.get("drop_in_file")
    if runtime == "docker" and name:
        raise FleetError("drop_in_file does not apply to runtime=docker: dockerd reads only daemon.json",
                         field="drop_in_file")
    if runtime == "podman" and not params["drop_in"]:
        raise FleetError("drop_in=false is not supported for podman: every podman this module supports reads "
                         "containers.conf.d, and containers.conf would lose its comments", field="drop_in")
    name = name or DROP_IN_FILES.get(runtime)
    plain = name is not None and re.fullmatch(r"[A-Za-z0-9_.+-]+", name) and name not in (".", "..")
    if name is not None and not (plain and name.endswith(DROP_IN_SUFFIX.get(runtime, ""))):
        raise FleetError("drop_in_file %r must be a plain file name%s (it is written into drop_in_dir)"
                         % (name, " ending in %s, the only files %s reads there" % (DROP_IN_SUFFIX[runtime], runtime)
                                  if runtime in DROP_IN_SUFFIX else ""), field="drop_in_file")
    params["drop_in_file"] = name


def low_level_runtimes(default):
    """nvidia-ctk's GetLowLevelRuntimes (pkg/config/engine/engine.go): the options source candidates are the
    default runtime unless it is empty or nvidia* (an NVIDIA runtime never wraps itself), then runc, then crun."""
    valid = isinstance(default, str) and default and not default.startswith("nvidia")
    return ([default] if valid else []) + ["runc", "crun"]


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

def _runc_shaped(runtime):
    if not isinstance(runtime, dict):
        return False
    shim = runtime.get("runtime_type", "")
    return shim == "" or (isinstance(shim, str) and RUNC_SHIM.fullmatch(shim) is not None)


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


def containerd_drop_in(params, main, version, path=None, add_runc=True):
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
    # Options come from the default runtime, else runc, else crun (as nvidia-ctk), but a default with a
    # shim other than runc's (kata, gVisor) is passed over: it would make the nvidia runtime that shim.
    default = ctrd.get("default_runtime_name")
    names = [n for n in low_level_runtimes(default) if n != default or _runc_shaped(runtimes.get(n))]
    source = _first_runtime(runtimes, names)
    if source is None:
        nvidia = {"runtime_type": RUNC_TYPE, "runtime_root": "", "runtime_engine": "",
                  "privileged_without_host_devices": False}
        if version >= 3:
            # Gone from containerd 2.x's runtime config: it logs "Ignoring unknown key" for each at every start.
            del nvidia["runtime_root"], nvidia["runtime_engine"]
    else:
        nvidia = copy.deepcopy(source)
    nvidia["runtime_type"] = nvidia.get("runtime_type") or RUNC_TYPE
    options = nvidia.setdefault("options", {})
    if not isinstance(options, dict):
        raise FleetError("%s: the options of the runtime nvidia-ctk would copy are not a table (found %s); fix it "
                         "first, nothing was changed" % (path, _show(options)), path=path)
    options["BinaryName"] = params["runtime_path"]
    runtimes[name] = nvidia
    if add_runc:
        # Defining any runtime in a drop-in drops containerd's built-in runc from the merged config: keep it.
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


def _effective_config(params, engine_config):
    """The engine's merged config (config_source=command), parsed: ``(doc, what)``; ``(None, None)`` for file."""
    if params["config_source"] != "command":
        return None, None
    if engine_config is None:
        raise FleetError("config_source=command needs the engine's CLI; nothing was changed", field="config_source")
    cli, args = SOURCE_COMMANDS[params["runtime"]]
    what = "`%s %s`" % (cli, " ".join(args))
    return _load_toml(engine_config(params["runtime"], params["config_path"]), what), what


def _dump_version(params, dump, what):
    """With config_source=command the drop-in has the effective config's version, as nvidia-ctk writes it:
    containerd 2.x prints 3 for a version 2 file, and reads each imported file in its own version."""
    found = dump.get("version")
    if not _known_version(found):
        raise FleetError("%s printed `version = %s`; this module handles containerd config versions 2, 3 and 4"
                         % (what, _show(found)), key="version")
    requested = params.get("config_version") or "auto"
    if requested != "auto" and int(requested) != found:
        raise FleetError("config_version=%s but %s prints `version = %d`; use config_version=auto"
                         % (requested, what, found), field="config_version")
    return found


def _prune(doc, keys):
    """Remove the tables along ``keys`` (deepest first) that are left empty."""
    for depth in range(len(keys), 0, -1):
        parent = doc
        for key in keys[:depth - 1]:
            parent = parent.get(key) if isinstance(parent, dict) else None
        if isinstance(parent, dict) and parent.get(keys[depth - 1]) == {}:
            del parent[keys[depth - 1]]


def _in_place_text(text, before, after):
    """The main config re-serialised (comments lost, as with nvidia-ctk), only when its content changes."""
    if after == before:
        return text
    try:
        return _toml_lite.dumps(after)
    except _toml_lite.TomlError as exc:
        raise FleetError("Cannot rewrite the main config in place: %s; use drop_in=true, nothing was changed" % exc)


def _remove_runtime(doc, path, section_keys, default_key, name):
    """``doc`` without runtimes.<name> and a default naming it: what drop_in=false added (nvidia-ctk's cleanup)."""
    doc = copy.deepcopy(doc)
    section = _table(doc, path, *section_keys)
    runtimes = _table(doc, path, *section_keys, "runtimes")
    runtimes.pop(name, None)
    if section.get(default_key) == name:
        del section[default_key]
    _prune(doc, list(section_keys) + ["runtimes"])
    return doc


def _containerd_section(version):
    return ("plugins", CRI_PLUGINS[version], "containerd")


def plan_containerd(params, read, containerd_major, listdir, file_mode, engine_config=None):
    main_path = params["config_path"]
    drop_dir = params["drop_in_dir"].rstrip("/") or "/"
    drop_name = params["drop_in_file"]
    drop_path = os.path.join(drop_dir, drop_name)
    pattern = os.path.join(drop_dir, "*.toml")
    main_text, drop_text = read(main_path), read(drop_path)
    main = _load_toml(main_text, main_path)
    in_place = not params["drop_in"]
    if params["state"] == "present":
        dump, what = _effective_config(params, engine_config)
        if dump is None:
            version = containerd_version(params, main, main_path, containerd_major)
        else:
            version = _dump_version(params, dump, what)
            containerd_version(dict(params, config_version="auto"), main, main_path, None)   # refuse a v1 file
        source, source_name = (main, main_path) if dump is None else (dump, what)
        drop = containerd_drop_in(params, source, version, source_name, add_runc=not in_place)
        if in_place:
            if main.get("version", version) != version:
                raise FleetError("%s prints `version = %d` but %s has `version = %d`: drop_in=false writes into that "
                                 "file, so migrate it first (`containerd config migrate`) or use drop_in=true; nothing "
                                 "was changed" % (what, version, main_path, main["version"]), path=main_path)
            after = copy.deepcopy(main)
            after["version"] = version
            _table(after, main_path, "plugins")
            after.setdefault("plugins", {})[CRI_PLUGINS[version]] = drop["plugins"][CRI_PLUGINS[version]]
            return [_change(main_path, main_text, _in_place_text(main_text, main, after),
                            mode=_drop_in_mode(drop, file_mode(main_path)) if main_text is None else None)], version
        note = "# Carries a copy of the CRI section of %s: containerd < 2.1 replaces a plugin's whole section on import.\n" % source_name
        drop_after = _dump_toml(drop, note, source_name)
        drop_mode = _drop_in_mode(drop, file_mode(main_path), file_mode(drop_path))
        main_after = containerd_main(main_text, main, pattern, version, main_path, True)
    else:
        version = main.get("version") if _known_version(main.get("version")) else None
        if in_place:
            after = main if version is None else _remove_runtime(main, main_path, _containerd_section(version),
                                                                 "default_runtime_name", params["runtime_name"])
            return [_change(main_path, main_text, _in_place_text(main_text, main, after))], version
        drop_after = drop_mode = None
        others = [f for f in listdir(drop_dir) if f.endswith(".toml") and f != drop_name]
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


def _crio_files(params, read, listdir, file_mode, drop_path):
    """crio.conf, then crio.conf.d/* in lexical order (later files win), merged; and the files' modes."""
    merged = _crio_doc(read(params["config_path"]), params["config_path"])
    modes = [file_mode(params["config_path"]), file_mode(drop_path)]
    for name in sorted(listdir(params["drop_in_dir"])):
        if name != params["drop_in_file"]:
            path = os.path.join(params["drop_in_dir"], name)
            _merge(merged, _crio_doc(read(path), path))
            modes.append(file_mode(path))
    return merged, modes


def plan_crio(params, read, listdir, file_mode, engine_config=None):
    main_path = params["config_path"]
    drop_path = os.path.join(params["drop_in_dir"], params["drop_in_file"])
    drop_text = read(drop_path)
    warnings = []
    name, in_place = params["runtime_name"], not params["drop_in"]
    section_keys = ("crio", "runtime")
    if params["state"] == "absent":
        if in_place:
            text = read(main_path)
            main = _crio_doc(text, main_path)
            after = _remove_runtime(main, main_path, section_keys, "default_runtime", name)
            return [_change(main_path, text, _in_place_text(text, main, after))], warnings
        return [_change(drop_path, drop_text, None, owned=True)], warnings
    dump, what = _effective_config(params, engine_config)
    if dump is None:
        merged, modes = _crio_files(params, read, listdir, file_mode, drop_path)
    else:
        merged, modes = dump, [file_mode(main_path), file_mode(drop_path)]
    source_name = what or params["drop_in_dir"]
    section = _table(merged, source_name, *section_keys)
    runtimes = _table(merged, source_name, "crio", "runtime", "runtimes")
    source = _first_runtime(runtimes, low_level_runtimes(section.get("default_runtime")),
                            lambda rt: rt is not runtimes.get(name))
    nvidia = copy.deepcopy(source) if source else {}
    nvidia.update(runtime_path=params["runtime_path"], runtime_type="oci")
    if params["cdi_enabled"]:
        warnings.append("cdi_enabled has no setting for CRI-O: CRI-O always resolves CDI devices (as nvidia-ctk says)")
    if in_place:
        text = read(main_path)
        main = _crio_doc(text, main_path)
        after = copy.deepcopy(main)
        target = after.setdefault("crio", {}).setdefault("runtime", {})
        target.setdefault("runtimes", {})[name] = nvidia
        if params["set_as_default"]:
            target["default_runtime"] = name
        elif target.get("default_runtime") == name:
            del target["default_runtime"]
        return [_change(main_path, text, _in_place_text(text, main, after))], warnings
    drop = {"crio": {"runtime": {"runtimes": {name: nvidia}}}}
    if params["set_as_default"]:
        drop["crio"]["runtime"]["default_runtime"] = name
    return [_change(drop_path, drop_text, _dump_toml(drop, source=source_name), owned=True,
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
    drop_path = os.path.join(params["drop_in_dir"], params["drop_in_file"])
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


def plan_oci_hook(params, read):
    """config_mode=oci-hook: the hook file alone; engines read hooks per container, so no restart."""
    hook_path, binary = _nvidia_oci_hook.paths(params)
    after = _nvidia_oci_hook.render(binary) if params["state"] == "present" else None
    return [_change(hook_path, read(hook_path), after, daemon=False, owned=True)]


def plan(params, read=read_text, containerd_major=None, listdir=_listdir, file_mode=_mode, engine_config=None):
    """Every file change for ``params`` (defaults filled by ``defaults``): (changes, config_version, warnings).

    ``engine_config(runtime, config_path)`` returns the engine's effective config (config_source=command).
    """
    runtime, version, warnings = params["runtime"], None, []
    if params["config_source"] == "command" and runtime not in SOURCE_COMMANDS:
        warnings.append("config_source=command is not supported for %s (as nvidia-ctk); using its config file" % runtime)
        params = dict(params, config_source="file")
    if params.get("config_mode") == "oci-hook":
        changes = plan_oci_hook(params, read)
    elif runtime == "containerd":
        changes, version = plan_containerd(params, read, containerd_major, listdir, file_mode, engine_config)
    elif runtime == "crio":
        changes, more = plan_crio(params, read, listdir, file_mode, engine_config)
        warnings += more
    elif runtime == "docker":
        changes, more = plan_docker(params, read)
        warnings += more
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
        engine_state=None, engine_config=None):
    """Plan, then apply unless in check mode; return the module's result.

    ``engine_state()``, when given, asks the running engine whether it serves the runtime
    (``_nvidia_engine_state.running_state``): a daemon still on an old config needs a restart even when no file
    changes now, e.g. after a run killed between the write and the restart.
    """
    params = defaults(params)
    changes, version, warnings = plan(params, read=read, containerd_major=containerd_major, listdir=listdir,
                                      engine_config=engine_config)
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
