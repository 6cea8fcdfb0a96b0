# -*- coding: utf-8 -*-
# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Private to the edgeai.fleet collection: may change without notice.

"""Fidelity of a compiled model against its FP32 reference, and the gate that accepts or rejects it.

Standard library only, on flat float sequences (a numpy array's ``.ravel().tolist()``), so the
device-side verifier can use the same arithmetic on KServe V2 ``data`` lists.
"""

from __future__ import annotations

import math

from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError, malformed


def cosine(a, b):
    """Cosine similarity of two equal-length sequences; two all-zero vectors count as identical."""
    if len(a) != len(b):
        raise FleetError("Cannot compare outputs of %d and %d elements" % (len(a), len(b)))
    dot = math.fsum(x * y for x, y in zip(a, b))
    na = math.sqrt(math.fsum(x * x for x in a))
    nb = math.sqrt(math.fsum(y * y for y in b))
    if na == 0.0 and nb == 0.0:
        return 1.0
    if na == 0.0 or nb == 0.0:
        return 0.0
    return max(-1.0, min(1.0, dot / (na * nb)))


def max_abs_diff(a, b):
    if len(a) != len(b):
        raise FleetError("Cannot compare outputs of %d and %d elements" % (len(a), len(b)))
    return max((abs(x - y) for x, y in zip(a, b)), default=0.0)


@malformed("the reference or candidate outputs")
def fidelity(reference, candidate):
    """Compare per-sample outputs: each argument is a list (samples) of lists (outputs) of flat sequences.

    Cosine is taken per output and a sample scores its worst output, as model_verify compares each output by
    name: over all outputs concatenated, an output that passes the int64 token ids through would hide a broken
    embedding. ``cosine_min`` is the worst sample, ``max_abs_diff`` the worst element anywhere.
    """
    if len(reference) != len(candidate) or not reference:
        raise FleetError("Fidelity needs the same, non-zero number of reference and candidate samples "
                         "(got %d and %d)" % (len(reference), len(candidate)))
    cosines, worst = [], 0.0
    for ref_outs, cand_outs in zip(reference, candidate):
        if len(ref_outs) != len(cand_outs):
            raise FleetError("The candidate returned %d outputs, the reference %d" % (len(cand_outs), len(ref_outs)))
        flat_ref = [x for out in ref_outs for x in out]
        flat_cand = [x for out in cand_outs for x in out]
        if any(math.isnan(x) or math.isinf(x) for x in flat_cand):
            cosines.append(0.0)
            worst = float("inf")
            continue
        cosines.append(min(cosine(ref, cand) for ref, cand in zip(ref_outs, cand_outs)))
        worst = max(worst, max_abs_diff(flat_ref, flat_cand))
    return {
        "samples": len(cosines),
        "cosine_mean": round(math.fsum(cosines) / len(cosines), 6),
        "cosine_min": round(min(cosines), 6),
        "max_abs_diff": worst if math.isinf(worst) else round(worst, 6),
    }


@malformed("the fidelity gate or the measured figures")
def evaluate(measured, gate):
    """Apply ``gate`` (``min_cosine`` against the worst sample, ``max_abs_diff``) to ``measured``.

    Returns ``(passed, failures)``; each failure names the metric, the measured value, the limit
    and by how much it missed, so an operator can decide whether to loosen the gate or fix the model.
    """
    failures = []
    limit = gate.get("min_cosine")
    if limit is not None and measured["cosine_min"] < limit:
        failures.append({"metric": "cosine_min", "value": measured["cosine_min"], "limit": limit,
                         "by": round(limit - measured["cosine_min"], 6)})
    limit = gate.get("max_abs_diff")
    if limit is not None and measured["max_abs_diff"] > limit:
        failures.append({"metric": "max_abs_diff", "value": measured["max_abs_diff"], "limit": limit,
                         "by": measured["max_abs_diff"] - limit})
    return not failures, failures


def describe(failures):
    """One line per failure, e.g. ``cosine_min 0.9712 < 0.98 (short by 0.0088)``."""
    parts = []
    for item in failures:
        sign = "<" if item["metric"] == "cosine_min" else ">"
        word = "short by" if sign == "<" else "over by"
        parts.append("%s %.6g %s %.6g (%s %.6g)" % (item["metric"], item["value"], sign, item["limit"], word, item["by"]))
    return "; ".join(parts)


def percentile(values, pct):
    """Nearest-rank percentile of a list of numbers (p50 = median for odd counts)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, int(math.ceil(pct / 100.0 * len(ordered))))
    return ordered[rank - 1]


@malformed("the latency samples")
def latency_summary(samples_ms):
    if not samples_ms:
        raise FleetError("No latency samples were measured (latency_runs must be at least 1)")
    return {"p50": round(percentile(samples_ms, 50), 3), "p95": round(percentile(samples_ms, 95), 3),
            "runs": len(samples_ms)}
