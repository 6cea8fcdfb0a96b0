# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This module_utils is PRIVATE to the edgeai.fleet collection. It may change or be
# removed without notice, even in a patch release. Do not import it from elsewhere.

"""Whether a served model needs a GPU to meet its latency budget: a verdict that momentary load cannot flip.

Two p95 figures describe the same artifact on the same hardware class:

* ``compile``: the manifest's ``latency_ms``, measured in-process by ``model_compile`` on the host that compiled
  the artifact (the class leader, or the controller as its build host). It is fixed for the artifact, so every
  converged run reads the same number; it leaves out HTTP and JSON, which a GPU would not speed up either.
* ``served``: ``model_verify``'s p95 over the timed requests of this run, which a busy moment on the device inflates.

Load only ever adds latency, so the lower of the two is the one closer to what the hardware can do; the verdict
uses it. A figure over the budget but within ``margin`` of it is ``borderline``, never ``yes``: only a clear miss
by both measurements says a GPU is needed.
"""

from __future__ import annotations

import math

from collections.abc import Mapping

NO_BUDGET = "n/a (no budget)"


def _number(value):
    """A finite non-negative number, also from templated text ("43.0"); None for anything else."""
    if isinstance(value, bool):
        return None
    try:
        value = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return value if math.isfinite(value) and value >= 0 else None


def _on_cpu(device):
    return str(device or "CPU").upper().startswith("CPU")


def figures(served, manifest):
    """``[(source, p95_ms, samples)]`` for the measurements that describe this artifact on this host's CPU."""
    served = served if isinstance(served, Mapping) else {}
    manifest = manifest if isinstance(manifest, Mapping) else {}
    found = []
    latency = manifest.get("latency_ms")
    if isinstance(latency, Mapping) and _on_cpu(manifest.get("device")) and _number(latency.get("p95")) is not None:
        found.append(("compile", _number(latency["p95"]), latency.get("runs")))
    if _number(served.get("p95_ms")) is not None:
        found.append(("served", _number(served["p95_ms"]), served.get("requests")))
    return found


def _describe(source, p95, samples):
    counted = " (%s %s)" % (samples, "runs" if source == "compile" else "requests") if samples else ""
    return "%s p95 %.1f ms%s" % (source, p95, counted)


def verdict(served, manifest, budget_ms, margin=0.25):
    """``{"gpu_needed": no|borderline|yes|served on <dev>|unknown|n/a (no budget), "basis": text}``.

    ``served`` is model_verify's result (``device``, ``p95_ms``, ``requests``), ``manifest`` the served
    artifact's manifest summary (``device``, ``latency_ms``); ``margin`` is a fraction of the budget.
    """
    budget = _number(budget_ms) or 0.0
    if budget <= 0:
        return {"gpu_needed": NO_BUDGET, "basis": "no latency budget set"}
    served = served if isinstance(served, Mapping) else {}
    device = served.get("device") or (manifest or {}).get("device")
    if not _on_cpu(device):
        return {"gpu_needed": "served on %s" % device, "basis": "the model already runs on %s" % device}
    measured = figures(served, manifest)
    if not measured:
        return {"gpu_needed": "unknown", "basis": "no p95 latency was measured"}
    margin = max(_number(margin) or 0.0, 0.0)
    source, p95, samples = min(measured, key=lambda item: item[1])
    if p95 <= budget:
        answer, relation = "no", "<="
    elif p95 <= budget * (1 + margin):
        answer, relation = "borderline", "within %d%% over" % round(margin * 100)
    else:
        answer, relation = "yes", ">"
    basis = "%s %s budget %g ms" % (_describe(source, p95, samples), relation, budget)
    others = [_describe(*item) for item in measured if item[0] != source]
    if others:
        basis += "; %s" % ", ".join(others)
    return {"gpu_needed": answer, "basis": basis}
