# -*- coding: utf-8 -*-
# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Private to the edgeai.fleet collection: may change without notice.

"""Edge TPU target: the ``tflite`` INT8 artifact passed through Coral's ``edgetpu_compiler``.

The compiler takes only full-integer TFLite models and maps what it can to the TPU; the rest stays on
the CPU. Its own report (console output with ``-s`` and ``<name>_edgetpu.log``: the "Operator Count
Status" table and "Number of operations that will run on Edge TPU/CPU") becomes the manifest's
``edgetpu`` field. The compiled model runs only with the TPU, so the fidelity gate and the timings
run the CPU ``model.tflite`` it came from (``verified_on: cpu-tflite`` in the manifest).
"""

from __future__ import annotations

import os
import re
import shutil

from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError
from ansible_collections.edgeai.fleet.plugins.module_utils._runner import CliRunner

ENTRYPOINT = "model_edgetpu.tflite"
MAPPED = "Mapped to Edge TPU"
VERIFIED_ON = "cpu-tflite"
COMPILE_TIMEOUT = 900
_VERSION = re.compile(r"Edge TPU Compiler version (\S+)")
_HEADER = re.compile(r"^Operator\s+Count\s+Status\s*$")
_ROW = re.compile(r"^([A-Z][A-Z0-9_]*)\s+(\d+)\s+(\S.*?)\s*$")
_COUNT = re.compile(r"^(Number of operations that will run on (Edge TPU|CPU)|Total number of operations|"
                    r"Number of Edge TPU subgraphs): (\d+)\s*$")


def parse_version(text):
    match = _VERSION.search(text or "")
    return match.group(1) if match else None


def parse_table(text):
    """``[(op, count, status)]`` rows of the first "Operator Count Status" table in ``text``."""
    rows, inside = [], False
    for line in (text or "").splitlines():
        if _HEADER.match(line.strip()):
            if inside:
                break  # console output and log file pasted together: one table is the whole truth
            inside = True
            continue
        match = _ROW.match(line.strip()) if inside else None
        if match:
            rows.append((match.group(1), int(match.group(2)), match.group(3)))
    return rows


def parse_counts(text):
    """The summary numbers the compiler prints: ``{'tpu', 'cpu', 'total', 'subgraphs'}`` (those present)."""
    keys = {"Edge TPU": "tpu", "CPU": "cpu", "Total number of operations": "total",
            "Number of Edge TPU subgraphs": "subgraphs"}
    found = {}
    for line in (text or "").splitlines():
        match = _COUNT.match(line.strip())
        if match:
            found[keys[match.group(2) or match.group(1)]] = int(match.group(3))
    return found


def report(console, log_text=None):
    """The manifest's ``edgetpu`` field from the compiler's console output and its operation log.

    The stated "will run on" numbers win over the table (the compiler omits them when everything maps,
    then the table's unmapped rows are the CPU share). ``cpu_ops`` merges rows of the same op and reason.
    """
    if "Internal compiler error" in (console or ""):
        raise FleetError("edgetpu_compiler failed: %s" % next(
            line.strip() for line in console.splitlines() if "Internal compiler error" in line))
    rows = parse_table(log_text) or parse_table(console)
    counts = parse_counts(console)
    if not rows and "total" not in counts:
        raise FleetError("edgetpu_compiler printed no operation table and no operation count: is it the Edge TPU "
                         "Compiler? Output starts: %s" % (console or "").strip()[:200])
    merged = {}
    for op, count, status in rows:
        if status != MAPPED:
            merged[(op, status)] = merged.get((op, status), 0) + count
    cpu_ops = [{"op": op, "count": count, "reason": reason} for (op, reason), count in sorted(merged.items())]
    total = counts.get("total", sum(count for _op, count, _s in rows))
    cpu = counts.get("cpu", sum(item["count"] for item in cpu_ops))
    return {"ops_total": total, "ops_tpu": counts.get("tpu", total - cpu), "ops_cpu": cpu, "cpu_ops": cpu_ops,
            "subgraphs": counts.get("subgraphs"),
            "compiler_version": parse_version(log_text) or parse_version(console)}


def compile_argv(model, out_dir):
    """``-s`` prints the operation table, ``-o`` puts ``<name>_edgetpu.tflite`` and ``.log`` in ``out_dir``."""
    return ["-s", "-o", out_dir, model]


class Backend:
    """Builds the tflite INT8 artifact, compiles it for the Edge TPU, gates the CPU tflite."""

    name = "edgetpu"
    precisions = ("int8",)
    reference_name = "onnxruntime CPU FP32 on the source model"

    def __init__(self, params, run_command, get_bin_path, tflite=None):
        if params["device"].upper() not in ("CPU", "EDGETPU"):
            raise FleetError("target edgetpu compiles for the Edge TPU (device EDGETPU, or the default CPU), "
                             "got device %s" % params["device"], option="device")
        compiler = params.get("edgetpu_compiler") or get_bin_path("edgetpu_compiler")
        if not compiler:
            raise FleetError("edgetpu_compiler not found on PATH: install the edgetpu-compiler package from Coral's "
                             "apt repository (x86-64 Debian/Ubuntu build hosts only) or set the edgetpu_compiler "
                             "option", option="edgetpu_compiler")
        if tflite is None:
            from ansible_collections.edgeai.fleet.plugins.module_utils import _model_tflite
            tflite = _model_tflite.Backend(dict(params, device="CPU"), run_command, get_bin_path)
        self.tflite = tflite
        self.params = params
        self.runner = CliRunner(run_command, compiler, timeout=COMPILE_TIMEOUT, timeout_bin=get_bin_path("timeout"))
        _rc, out, err = self.runner.run(["--version"], check=False, what="edgetpu_compiler --version")
        self.version = parse_version(out) or parse_version(err)
        if not self.version:
            raise FleetError("Cannot tell the version of %s: it printed no 'Edge TPU Compiler version' line"
                             % compiler, stdout=out, stderr=err)
        self.reports = {}

    def toolchain(self):
        return dict(self.tflite.toolchain(), edgetpu_compiler=self.version)

    def unsupported(self, precision):
        if precision != "int8":
            return "the Edge TPU runs only full-integer INT8 models"
        return self.tflite.unsupported(precision)

    def describe(self, src, shapes):
        return self.tflite.describe(src, shapes)

    def reference(self, src, shapes, samples):
        return self.tflite.reference(src, shapes, samples)

    def build(self, src, precision, out_dir, calibration):
        cpu_model = self.tflite.build(src, precision, out_dir, calibration)
        scratch = os.path.join(out_dir, ".edgetpu")
        os.makedirs(scratch)
        try:
            _rc, out, _err = self.runner.run(compile_argv(os.path.join(out_dir, cpu_model), scratch),
                                             what="edgetpu_compiler %s" % cpu_model)
            stem = os.path.splitext(cpu_model)[0]
            compiled = os.path.join(scratch, stem + "_edgetpu.tflite")
            log_path = os.path.join(scratch, stem + "_edgetpu.log")
            log_text = None
            if os.path.isfile(log_path):
                with open(log_path, "r", encoding="utf-8", errors="replace") as handle:
                    log_text = handle.read()
            found = report(out, log_text)
            if not os.path.isfile(compiled):
                raise FleetError("edgetpu_compiler reported success but wrote no %s" % os.path.basename(compiled))
            if found["ops_tpu"] == 0:
                raise FleetError("edgetpu_compiler mapped none of the %d operations to the Edge TPU: %s" % (
                    found["ops_total"], "; ".join("%(op)s x%(count)d: %(reason)s" % o for o in found["cpu_ops"][:5])))
            os.rename(compiled, os.path.join(out_dir, ENTRYPOINT))
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        self.reports[out_dir] = found
        return ENTRYPOINT

    def load(self, out_dir, entrypoint):
        # The compiled model needs the TPU: gate and time the CPU model it came from, and say so.
        session = self.tflite.load(out_dir, self.tflite.entrypoint)
        session.effective = dict(session.effective, device="EDGETPU", edgetpu=self.reports[out_dir],
                                 verified_on=VERIFIED_ON)
        return session
