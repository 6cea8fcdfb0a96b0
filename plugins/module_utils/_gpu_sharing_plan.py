# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils is PRIVATE to the edgeai.fleet collection. It may change or be
# removed without notice, even in a patch release. Do not import it from elsewhere.

"""GPU sharing plan: policy + ``edgeai_gpu`` facts -> strategy, why, and the upstream documents.

Pure: no I/O. ``plan()`` chooses the strategy (``auto`` follows ``choose_strategy``'s rule table,
documented in docs/gpu-sharing.md), derives replicas, renders the device-plugin config
(``version: v1``), its ConfigMap key (content-addressed, so new content always gets a new key
and a label change, the only thing the plugin's config-manager notices), and the mig-parted or
vgpu-device-manager config; then validates everything and raises one FleetError listing every
problem before anything can be applied.
"""

from __future__ import annotations

import hashlib
import json
import re

from ansible_collections.edgeai.fleet.plugins.module_utils import _gpu_profiles as profiles
from ansible_collections.edgeai.fleet.plugins.module_utils._gpu_mig import mig_layout_errors, mig_parted_errors, pci_id, planned_mig_states
from ansible_collections.edgeai.fleet.plugins.module_utils._gpu_vgpu import vgpu_errors, vgpu_plan
from ansible_collections.edgeai.fleet.plugins.module_utils import _gpu_sharing_validate as validate
from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError, malformed

STRATEGIES = ("none", "time-slicing", "mps", "mig", "vgpu")
MPS_ROOT = "/run/nvidia/mps"  # the device-plugin chart's mps.root
MPS_MIN_CC = (7, 0)  # Volta MPS: per-client address spaces and the thread/memory limits used here
_MEMORY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(mib|mi|m|gib|gi|g|gb|mb)?\s*$", re.IGNORECASE)


def parse_memory_mib(value):
    """MiB from an integer (MiB) or a string like ``10GiB``, ``4096Mi``, ``12g``; None when absent."""
    if value is None or value == "":
        return None
    match = _MEMORY.match(str(value))
    if not match:
        raise FleetError("memory_per_replica: %r is not a size; use MiB as an integer or a string like 10GiB or 4096MiB"
                         % (value,))
    number, unit = float(match.group(1)), (match.group(2) or "mib").lower()
    mib = int(number * 1024) if unit in ("gib", "gi", "g", "gb") else int(number)
    if mib <= 0:
        raise FleetError("memory_per_replica: must be above zero, got %r" % (value,))
    return mib


def _gpus(facts):
    return list((facts or {}).get("gpus") or [])


def _cc(gpu):
    return validate._cc(gpu.get("compute_capability"))  # pylint: disable=protected-access


def _current_layout(gpus):
    """mig-parted entries reproducing the MIG devices the facts report now (one per GPU)."""
    entries = []
    for gpu in gpus:
        if validate.mig_enabled(gpu):
            counts = {}
            for dev in gpu.get("mig_devices") or []:
                counts[dev.get("profile")] = counts.get(dev.get("profile"), 0) + 1
            entries.append({"devices": [gpu.get("index")], "mig-enabled": True, "mig-devices": counts})
    return entries


def choose_strategy(policy, facts):
    """``(strategy, rule, reason)``; ``auto`` walks the rule table top-down, first match wins."""
    gpus = _gpus(facts)
    wanted = policy.get("strategy") or "auto"
    if wanted != "auto":
        return wanted, "explicit", "strategy %s set by policy" % wanted
    asked = policy.get("replicas") is not None or policy.get("memory_per_replica") is not None
    if (facts or {}).get("platform") in (None, "none") or not gpus and (facts or {}).get("platform") != "tegra":
        return "none", "no-gpu", "no NVIDIA GPU on this host (%s)" % ((facts or {}).get("reason") or "gpu facts list none")
    if any(g.get("virtualization_mode") == "host_vgpu" for g in gpus):
        if policy.get("vgpu_type"):
            return "vgpu", "vgpu-host", "vGPU host: GPUs are shared by handing %s vGPUs to VMs" % policy["vgpu_type"]
        return "none", "vgpu-host", "vGPU host without vgpu_type: set vgpu_type to render the vgpu-device-manager config"
    if facts.get("platform") == "tegra":
        if asked:
            return "time-slicing", "tegra", "Jetson/Tegra integrated GPU: no MIG and no MPS in the device plugin, time-slicing is the only sharing"
        return "none", "tegra", "Jetson/Tegra integrated GPU and no replicas requested: one pod per GPU"
    if policy.get("isolation") == "strict":
        if all((g.get("mig_mode") or {}).get("current") is not None for g in gpus):
            return "mig", "strict-mig", "strict isolation requested and every GPU is MIG-capable: MIG gives each pod its own memory, cache and fault domain"
        return "none", "strict-no-mig", ("strict isolation requested but %s offer no MIG; time-slicing and MPS share memory and faults, "
                                         "so each pod gets a whole GPU" % ", ".join(sorted({g.get("name") or "?" for g in gpus})))
    if any(validate.mig_enabled(g) for g in gpus):
        return "mig", "mig-enabled", ("MIG is already enabled; MPS cannot run on MIG devices and a new layout needs a GPU reset, "
                                      "so the MIG layout is kept")
    if not asked:
        return "none", "not-requested", "no replicas or memory_per_replica requested: one pod per GPU"
    if policy.get("latency_sensitive"):
        old = [g for g in gpus if (_cc(g) or (0, 0)) < MPS_MIN_CC]
        if old:
            return "time-slicing", "latency-pre-volta", ("latency-sensitive, but GPU %s has compute capability %s (< 7.0, no Volta MPS "
                                                         "limits): time-slicing" % (old[0].get("index"), old[0].get("compute_capability")))
        return "mps", "latency", ("latency-sensitive concurrent inference: MPS runs kernels of several processes at once instead of "
                                  "switching contexts, with per-client thread and pinned-memory limits")
    return "time-slicing", "default", ("sharing requested without isolation or latency needs: time-slicing is the simplest "
                                       "(no daemon, any GPU), with no memory or fault isolation")


def replicas_for(policy, gpus, mig_on):
    """``(replicas, per_gpu)``: the policy's replicas, or the fewest that ``memory_per_replica`` allows on any GPU.

    One sharing setting covers every GPU of a node, so the smallest GPU decides.
    """
    if policy.get("replicas") is not None:
        return policy["replicas"], []
    per_replica = parse_memory_mib(policy.get("memory_per_replica"))
    if per_replica is None:
        return None, []
    per_gpu = []
    for gpu in gpus:
        memory = gpu.get("memory_total_mib") or 0
        if mig_on and gpu.get("mig_devices"):
            memory = min(d.get("memory_total_mib") or 0 for d in gpu["mig_devices"])
        per_gpu.append({"index": gpu.get("index"), "name": gpu.get("name"), "memory_total_mib": memory,
                        "replicas": memory // per_replica})
    if not per_gpu:
        raise FleetError("memory_per_replica: needs GPU memory from gpu_facts, and the facts list no GPU")
    return min(p["replicas"] for p in per_gpu), per_gpu


def render_device_plugin(strategy, replicas, policy, mig_strategy):
    """The device-plugin config document, in the key order of NVIDIA's README examples."""
    flags = {"migStrategy": mig_strategy}
    if strategy == "mps":
        # Without it the plugin exits ("using MPS requires --mps-root") unless the deployment sets MPS_ROOT.
        flags["mpsRoot"] = policy.get("mps_root") or MPS_ROOT
    flags.update(policy.get("flags") or {})
    doc = {"version": "v1", "flags": flags}
    if strategy in ("time-slicing", "mps"):
        block = {}
        if policy.get("rename_by_default") is not None:
            block["renameByDefault"] = policy["rename_by_default"]
        if policy.get("fail_requests_greater_than_one") is not None:
            block["failRequestsGreaterThanOne"] = policy["fail_requests_greater_than_one"]
        block["resources"] = [{"name": policy.get("resource_name") or "nvidia.com/gpu", "replicas": replicas}]
        doc["sharing"] = {"mps" if strategy == "mps" else "timeSlicing": block}
    return doc


def content_hash(doc):
    return hashlib.sha256(json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def config_key(strategy, replicas, doc):
    """ConfigMap key: ``<strategy>-<replicas>-<hash8>`` (``none-<hash8>``); new content, new key."""
    parts = [strategy] + ([str(replicas)] if strategy in ("time-slicing", "mps") else [])
    if strategy == "mig":
        parts.append(doc["flags"]["migStrategy"])
    return "-".join(parts + [content_hash(doc)[:8]])


def _scalar(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return str(value)
    text = str(value)
    plain = re.match(r"^[A-Za-z0-9_./+-][A-Za-z0-9_./+ -]*$", text) and not text.endswith(" ")
    special = text.lower() in ("true", "false", "yes", "no", "on", "off", "null", "~", "y", "n") or re.match(r"^[-+.\d]", text)
    return text if plain and not special else json.dumps(text)


def render_yaml(value, indent=0):
    """Block YAML like the upstream examples (list items level with their key); deterministic."""
    pad = " " * indent
    lines = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, list) and item and not any(isinstance(i, (dict, list)) for i in item):
                lines.append("%s%s: [%s]" % (pad, _scalar(key), ", ".join(_scalar(i) for i in item)))
            elif isinstance(item, (dict, list)) and item:
                lines.append("%s%s:" % (pad, _scalar(key)))
                lines.append(render_yaml(item, indent + (2 if isinstance(item, dict) else 0)))
            else:
                lines.append("%s%s: %s" % (pad, _scalar(key), "{}" if item == {} else "[]" if item == [] else _scalar(item)))
    else:
        for item in value:
            if isinstance(item, dict) and item:
                body = render_yaml(item, indent + 2)
                lines.append(pad + "- " + body[indent + 2:])
            elif isinstance(item, list) and item:
                lines.append(pad + "- " + json.dumps(item))
            else:
                lines.append("%s- %s" % (pad, _scalar(item)))
    return "\n".join(lines)


def mig_plan(policy, gpus, strategy_rule):
    """``(config_name, entries)`` for mig-parted from ``mig_layout`` (name or entries) or the current layout."""
    layout = policy.get("mig_layout")
    if layout is None and strategy_rule == "mig-enabled":
        return "custom", _current_layout(gpus)
    if layout is None:
        layout = "all-balanced"
    if not isinstance(layout, str):
        if not isinstance(layout, list) or not layout:
            raise FleetError("mig_layout: must be a layout name such as all-1g.10gb or a non-empty list of mig-parted entries")
        return "custom", layout
    if layout == "all-disabled":
        return layout, [{"devices": "all", "mig-enabled": False}]
    if not layout.startswith("all-"):
        raise FleetError("mig_layout: %r is not a known name; use all-disabled, all-enabled, all-balanced, all-<profile> "
                         "or a list of mig-parted entries" % layout)
    by_model = {}
    for gpu in gpus:
        table = profiles.table_for(gpu) if (gpu.get("mig_mode") or {}).get("current") is not None else None
        if table is None:
            continue
        devices = profiles.named_layout(layout, table)
        if devices is None:
            raise FleetError("mig_layout: GPU %s (%s) does not offer profile %s (it offers %s)"
                             % (gpu.get("index"), gpu.get("name"), layout[4:], ", ".join(sorted(table[3]))))
        slot = by_model.setdefault(table[0], {"ids": [], "indexes": [], "devices": devices})
        slot["indexes"].append(gpu.get("index"))
        if gpu.get("pci_device_id"):
            slot["ids"].append(pci_id(gpu["pci_device_id"]))
    if not by_model:
        raise FleetError("mig_layout: %s needs MIG-capable GPUs with a known profile table; this host has %s (known: %s)"
                         % (layout, ", ".join(g.get("name") or "?" for g in gpus) or "none", ", ".join(profiles.known_models())))
    entries = []
    for _key, slot in sorted(by_model.items()):
        entry = {"devices": "all"} if slot["ids"] else {"devices": sorted(slot["indexes"])}
        if slot["ids"]:
            entry = {"device-filter": sorted(set(slot["ids"])), "devices": "all"}
        entry.update({"mig-enabled": True, "mig-devices": slot["devices"]})
        entries.append(entry)
    return layout, entries


def current_mig_states(gpus):
    states = []
    for gpu in gpus:
        counts = {}
        for dev in gpu.get("mig_devices") or []:
            counts[dev.get("profile")] = counts.get(dev.get("profile"), 0) + 1
        states.append((gpu.get("index"), validate.mig_enabled(gpu), counts))
    return states


def default_mig_strategy(states):
    if not any(on for _i, on, _d in states):
        return "none"
    return "mixed" if validate.single_strategy_error(states) else "single"


def mps_limits(gpus, replicas, doc):
    """What the MPS control daemon sets per client, like upstream: total/replicas MiB and 100/replicas %.

    ``pipe_directory`` is where the plugin's daemon puts its pipes for the shared resource
    (cmd/mps-control-daemon/mps/root.go: ``<mpsRoot>/<resource>/pipe``); the host-mode daemon uses the same path.
    """
    root = doc["flags"].get("mpsRoot") or MPS_ROOT
    shared = _shared(doc)[1].get("nvidia.com/gpu", ("nvidia.com/gpu", replicas))[0]
    return {
        "root": root,
        "pipe_directory": "%s/%s/pipe" % (root.rstrip("/"), shared),
        "active_thread_percentage": 100 // replicas,
        "pinned_memory_limits": [{"index": g.get("index"), "uuid": g.get("uuid"),
                                  "limit_mib": (g.get("memory_total_mib") or 0) // replicas} for g in gpus],
    }


def device_map(mig_strategy, mig_states):
    """Devices per resource before sharing, as the plugin builds them (internal/rm/device_map.go).

    ``none`` advertises every GPU whole, MIG or not; ``single`` advertises MIG devices as nvidia.com/gpu;
    ``mixed`` advertises each MIG profile under its own resource and MIG-disabled GPUs as nvidia.com/gpu.
    """
    counts = {}
    for _index, on, devices in mig_states:
        if on and mig_strategy != "none":
            for profile, count in sorted(devices.items()):
                name = "nvidia.com/gpu" if mig_strategy == "single" else validate.mixed_resource_name(profile)
                counts[name] = counts.get(name, 0) + count
        else:
            counts["nvidia.com/gpu"] = counts.get("nvidia.com/gpu", 0) + 1
    return {name: count for name, count in counts.items() if count}


def _shared(doc):
    """``{resource: (advertised name, replicas)}`` of the sharing block the plugin uses (replicas.go, config.go)."""
    strategy, block = validate.sharing_block(doc)
    if block is None:
        return strategy, {}
    shared = {}
    for res in block["resources"]:
        name = validate.full_resource_name(res["name"])
        shared[name] = (name + ".shared" if block.get("renameByDefault") else name, int(res["replicas"]))
    return strategy, shared


def expected_node(doc, mig_states):
    """What the node should advertise once the plugin and GFD run ``doc``, and the shared resources that match nothing.

    Capacity follows updateDeviceMapWithReplicas: a shared resource present on the node is advertised
    count x replicas under its name (``<name>.shared`` with renameByDefault); a shared resource the node
    does not have is skipped. Labels are the GFD labels (internal/lm/mig-strategy.go, resource.go) this
    collection waits for; GFD adds more.
    """
    mig_strategy = doc["flags"]["migStrategy"]
    strategy, shared = _shared(doc)
    base = device_map(mig_strategy, mig_states)
    capacity = {}
    for name, count in sorted(base.items()):
        advertised, replicas = shared.get(name, (name, 1))
        capacity[advertised] = str(int(capacity.get(advertised, "0")) + count * replicas)
    labels = _gfd_labels(strategy, shared, base, mig_strategy, mig_states)
    return ({"capacity": capacity, "labels": labels,
             "fail_requests_greater_than_one": validate.fail_requests_greater_than_one(doc)},
            sorted(set(shared) - set(base)))


def _gfd_labels(strategy, shared, base, mig_strategy, mig_states):
    """Sharing labels GFD sets: a resource it shares gets ``.sharing-strategy`` and ``.replicas``.

    nvidia.com/gpu is labelled from whole GPUs when there are any, from the MIG devices under single; when
    every GPU has MIG on otherwise, GFD labels it without sharing (replicas 0) whatever the plugin advertises.
    """
    labels = {}
    for name in sorted(set(shared) & set(base)):
        labels.update({name + ".sharing-strategy": strategy, name + ".replicas": str(shared[name][1])})
    whole = any(not on for _i, on, _d in mig_states) or mig_strategy == "single"
    if mig_states and not whole:
        labels.update({"nvidia.com/gpu.sharing-strategy": "none", "nvidia.com/gpu.replicas": "0"})
    elif mig_states and "nvidia.com/gpu" not in shared:
        labels["nvidia.com/gpu.sharing-strategy"] = "none"
    if mig_strategy != "none":
        labels["nvidia.com/mig.strategy"] = mig_strategy
    if strategy == "mps" and not any(on for _i, on, _d in mig_states):
        labels["nvidia.com/mps.capable"] = "true"
    return labels


def rollout_decision(desired_key, desired_text, current_data, current_label):
    """What Kubernetes mode must do for one node (pure, the trap of §1.4 made explicit).

    ``write_key``: the ConfigMap lacks the key or holds other content under it; ``relabel``: the
    node's ``nvidia.com/device-plugin.config`` label differs (set it only after the key exists);
    ``restart``: the label stays but the content under it changes, which the config-manager
    sidecar never notices (it watches the label only), so the node's plugin pod must restart.
    """
    current_data = current_data or {}
    present = current_data.get(desired_key)
    write_key = present != desired_text
    relabel = current_label != desired_key
    restart = not relabel and present is not None and present != desired_text
    if restart:
        reason = "key %s already selected but its content changes: restart the device-plugin pod" % desired_key
    elif relabel:
        reason = "node label %s -> %s: the config-manager sidecar reloads the plugin" % (current_label or "(none)", desired_key)
    else:
        reason = "node already runs %s" % desired_key
    return {"write_key": write_key, "relabel": relabel, "restart": restart, "reason": reason}


def _raise(errors, **details):
    if errors:
        raise FleetError("GPU sharing policy is invalid (nothing was applied): " + "; ".join(errors), errors=errors, **details)


def _policy_errors(policy, strategy):
    errors = []
    replicas = policy.get("replicas")
    if replicas is not None and replicas < 2:
        errors.append("replicas: must be >= 2 (the device plugin rejects %d); for no sharing use strategy none" % replicas)
    if strategy in ("time-slicing", "mps") and replicas is None and policy.get("memory_per_replica") is None:
        errors.append("replicas: strategy %s needs replicas or memory_per_replica" % strategy)
    if policy.get("strategy") not in (None, "auto"):
        for field in ("replicas", "memory_per_replica"):
            if policy.get(field) is not None and strategy not in ("time-slicing", "mps"):
                errors.append("%s: only time-slicing and mps use it, strategy is %s" % (field, strategy))
        if policy.get("mig_layout") is not None and strategy != "mig":
            errors.append("mig_layout: only strategy mig uses it, strategy is %s" % strategy)
    if strategy == "mps" and policy.get("mig_strategy") == "mixed":
        errors.append("mig_strategy: mps cannot be combined with mixed (the plugin exits at start-up); use none")
    return errors


def _facts_errors(facts, strategy):
    platform = (facts or {}).get("platform")
    if strategy != "none" and (platform in (None, "none") or not _gpus(facts)) and platform != "tegra":
        return ["gpu_facts: strategy %s needs a GPU but the facts say none (%s); run edgeai.fleet.gpu_info first"
                % (strategy, (facts or {}).get("reason") or "no gpus")]
    if platform == "tegra" and strategy in ("mps", "mig", "vgpu"):
        return ["strategy: %s is not available on Jetson/Tegra; use time-slicing or none" % strategy]
    return []


def plan(policy, facts):
    """The whole plan for one host, or FleetError listing every problem. See the module's RETURN."""
    try:
        with malformed("the sharing policy or the host's GPU facts (edgeai_gpu)",
                       fix="Check the policy's types against the module documentation and re-gather GPU facts"):
            return _plan(policy, facts)
    except FleetError as err:
        if "errors" in err.details:
            raise
        raise FleetError("GPU sharing policy is invalid (nothing was applied): " + err.msg, errors=[err.msg]) from err


def _plan(policy, facts):
    gpus = _gpus(facts)
    raw = policy.get("config")
    if raw is not None:
        errors = validate.device_plugin_errors(raw) + validate.gpu_errors(raw, gpus)
        _raise(errors)
        doc, states = validate.normalize(raw), current_mig_states(gpus)
        if doc["flags"]["migStrategy"] == "single":
            why = validate.single_strategy_error(states)
            _raise(["flags.migStrategy: " + why] if why else [])
        strategy, block = validate.sharing_block(doc)
        replicas = max(r["replicas"] for r in block["resources"]) if block else None
        return _finish(strategy, "explicit", "device-plugin config given by policy", replicas, [], doc, gpus, states, policy,
                       None, None)
    strategy, rule, reason = choose_strategy(policy, facts)
    errors = _policy_errors(policy, strategy) + _facts_errors(facts, strategy)
    _raise(errors, strategy=strategy)
    mig_name, mig_doc, vgpu_name, vgpu_doc = None, None, None, None
    states = current_mig_states(gpus)
    if strategy == "mig":
        mig_name, entries = mig_plan(policy, gpus, rule)
        mig_doc = {"version": "v1", "mig-configs": {}}
        errors += mig_layout_errors(entries, gpus)
        # Content-addressed like the ConfigMap key: mig-manager also reacts to label changes only.
        mig_name = "%s-%s" % (mig_name, content_hash(entries)[:8])
        mig_doc["mig-configs"][mig_name] = entries
        errors += mig_parted_errors(mig_doc)
        states = planned_mig_states(entries, gpus)
    elif strategy == "vgpu":
        vgpu_name, vgpu_doc = vgpu_plan(policy, gpus)
        errors += vgpu_errors(vgpu_doc)
    mig_strategy = policy.get("mig_strategy") or default_mig_strategy(states)
    if mig_strategy == "single":
        why = validate.single_strategy_error(states)
        if why:
            errors.append("mig_strategy: " + why)
    replicas, per_gpu = (None, [])
    if strategy in ("time-slicing", "mps"):
        replicas, per_gpu = replicas_for(policy, gpus, any(on for _i, on, _d in states))
        if replicas < 2 and policy.get("replicas") is None:
            errors.append("memory_per_replica: %s MiB leaves %d replica(s) on the smallest GPU; sharing needs >= 2 "
                          "(lower memory_per_replica or use strategy none)" % (parse_memory_mib(policy["memory_per_replica"]), replicas))
            _raise(errors, strategy=strategy)
    doc = render_device_plugin(strategy, replicas, policy, mig_strategy)
    errors += validate.device_plugin_errors(doc) + validate.gpu_errors(doc, gpus)
    _raise(errors, strategy=strategy)
    doc = validate.normalize(doc)  # null policy flags are unset to the plugin; render them as such
    mig = {"name": mig_name, "config": mig_doc} if mig_doc else None
    vgpu = {"name": vgpu_name, "config": vgpu_doc} if vgpu_doc else None
    return _finish(strategy, rule, reason, replicas, per_gpu, doc, gpus, states, policy, mig, vgpu)


def _finish(strategy, rule, reason, replicas, per_gpu, doc, gpus, states, policy, mig, vgpu):
    warnings = []
    block = (doc.get("sharing") or {}).get("mps")
    if isinstance(block, dict) and block.get("failRequestsGreaterThanOne") is False:
        warnings.append("failRequestsGreaterThanOne: false under mps is honoured only by device plugin v0.20.0 and later")
    if strategy == "mps" and not doc["flags"].get("mpsRoot"):
        warnings.append("flags.mpsRoot: unset; the plugin exits at start-up unless its deployment sets --mps-root "
                        "or MPS_ROOT (the Helm chart and the GPU Operator do)")
    expected, unmatched = expected_node(doc, states) if strategy != "vgpu" else (
        {"capacity": {}, "labels": {}, "fail_requests_greater_than_one": None}, [])
    for name in unmatched:
        warnings.append("sharing: %s matches no device under this node's MIG state (migStrategy %s), so the plugin "
                        "skips it and shares nothing under that name" % (name, doc["flags"]["migStrategy"]))
    text = render_yaml(doc) + "\n"
    key = config_key(strategy, replicas, doc)
    result = {
        "strategy": strategy,
        "rule": rule,
        "reason": reason,
        "replicas": replicas if strategy in ("time-slicing", "mps") else None,
        "replicas_per_gpu": per_gpu,
        "device_plugin_config": doc,
        "device_plugin_config_yaml": text,
        "config_key": key,
        "mig": mig,
        "mig_parted_config_yaml": render_yaml(mig["config"]) + "\n" if mig else None,
        "vgpu": vgpu,
        "vgpu_config_yaml": render_yaml(vgpu["config"]) + "\n" if vgpu else None,
        "mps": mps_limits(gpus, replicas, doc) if strategy == "mps" else None,
        # A vGPU host hands its GPUs to VMs (the sandbox device plugin advertises vGPU types): nothing to expect here.
        "expected": expected,
        "warnings": warnings,
    }
    if policy.get("current_config_data") is not None or policy.get("current_node_key") is not None:
        result["rollout"] = rollout_decision(key, text, policy.get("current_config_data"), policy.get("current_node_key"))
    return result
