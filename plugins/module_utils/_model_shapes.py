# -*- coding: utf-8 -*-
# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Private to the edgeai.fleet collection: may change without notice.

"""Model input shapes for error messages: the dynamic inputs, an ``input_shapes`` value to start from,
and the reason a converter gave, clipped to a line.

Standard library only; the ONNX graph is read with the optional ``onnx`` package when it is there,
because only the graph keeps the exporter's symbolic dimension names (``batch``, ``sequence``).
"""

from __future__ import annotations

import json
import re

from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError

# A converter's failure log runs to pages (OpenVINO's ONNX frontend prints every unconverted node
# with its validation trace); the message keeps this many characters of its verdict.
REASON_CHARS = 300


def declared_inputs(src):
    """``[(name, dims)]`` of an ONNX model's graph inputs, a dim an int, a symbolic name or ``'?'``.

    None when the onnx package is missing or the file is not a readable ONNX model: callers fall back
    to the shapes the runtime reports.
    """
    try:
        import onnx
        from google.protobuf.message import DecodeError
    except ImportError:
        return None
    try:
        graph = onnx.load(src, load_external_data=False).graph
    except (OSError, ValueError, DecodeError):
        return None
    initializers = set(i.name for i in graph.initializer)
    inputs = []
    for value in graph.input:
        if value.name in initializers:  # old exporters list weights as inputs too
            continue
        dims = [d.dim_value if d.HasField("dim_value") else (d.dim_param or "?")
                for d in value.type.tensor_type.shape.dim]
        inputs.append((value.name, dims))
    return inputs


def check_shapes(shapes, inputs):
    """Refuse ``input_shapes`` that name an input the model lacks or give it another rank."""
    declared = dict(inputs)
    for name, shape in sorted((shapes or {}).items()):
        if name not in declared:
            raise FleetError("input_shapes names %s, but the model's inputs are %s" % (name, sorted(declared)),
                             option="input_shapes")
        if len(shape) != len(declared[name]):
            raise FleetError("input_shapes[%s] has %d dimensions, the model input has %d (%s)"
                             % (name, len(shape), len(declared[name]), declared[name]), option="input_shapes")


def dynamic(inputs):
    """The ``(name, dims)`` pairs with a dimension that is not a fixed size (symbolic, ``?`` or -1)."""
    return [(name, dims) for name, dims in inputs if any(not isinstance(d, int) or d < 0 for d in dims)]


def suggestion(inputs):
    """``input_shapes`` for the dynamic inputs with every open dimension set to 1 (batch 1, one step)."""
    return dict((name, [d if isinstance(d, int) and d >= 0 else 1 for d in dims]) for name, dims in dynamic(inputs))


def describe_dynamic(inputs):
    """Lines naming the dynamic inputs and an ``input_shapes`` value to start from; '' when none is dynamic."""
    open_inputs = dynamic(inputs)
    if not open_inputs:
        return ""
    listed = "; ".join("%s [%s]" % (name, ", ".join(str(d) for d in dims)) for name, dims in open_inputs)
    return ("inputs with dynamic dimensions: %s.\nSet input_shapes to fix them, starting from %s "
            "(each 1 stands for a dynamic dimension: put the size your inputs have)."
            % (listed, json.dumps(suggestion(inputs), sort_keys=True)))


def clip_reason(text):
    """The verdict of a converter's or plugin's log in one line, clipped.

    OpenVINO nests messages: "Exception from <file>:" and "Check 'false' failed" wrap the node's own complaint,
    and the frontend ends with "-- Conversion is failed for: <ops>". Keep that summary, the first specific
    check and the sentence after it.
    """
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    if not lines:
        return ""
    picked = [line.lstrip("- ") for line in lines if "Conversion is failed for" in line][:1]
    checks = [i for i, line in enumerate(lines)
              if line.startswith("While validating") or ("Check '" in line and "Check 'false'" not in line)]
    if checks:
        picked.append(re.sub(r" failed at \S+:\d+:?$", " failed", lines[checks[0]]))
        plain = [line for line in lines[checks[0] + 1:] if not line.endswith(":") and not line.startswith("--")]
        picked.extend(plain[:1])
    reason = " / ".join(picked or lines[:1])
    return reason if len(reason) <= REASON_CHARS else reason[:REASON_CHARS - 3] + "..."
