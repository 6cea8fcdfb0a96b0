# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The Edge TPU target: the compiler report parser on real compiler output, and the backend on a double.

Real: the console output and operation logs users posted (fixtures/edgetpu/README.md names each thread).
Simulated: edgetpu_compiler (closed source, not installable here) through a FakeRunCommand that writes
``<name>_edgetpu.tflite`` and ``.log`` into ``-o`` as the documented CLI does, and the tflite backend it
builds on (a stub that writes a model file and returns a session).
"""

from __future__ import annotations

import os

import pytest

from ansible_collections.edgeai.fleet.plugins.module_utils import _model_edgetpu as etpu
from ansible_collections.edgeai.fleet.plugins.module_utils import _model_manifest as mf
from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError
from ansible_collections.edgeai.fleet.tests.unit.module_helpers import FakeRunCommand
from ansible_collections.edgeai.fleet.tests.unit.plugins.module_utils.model_compile_fakes import PARAMS

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "edgetpu")
UNSPECIFIED = "Operation is otherwise supported, but not mapped due to some unspecified limitation"
SUBGRAPH = "More than one subgraph is not supported"


def fixture(name):
    with open(os.path.join(FIXTURES, name), "r", encoding="utf-8") as handle:
        return handle.read()


# (fixture, total, tpu, cpu, subgraphs, version, cpu_ops as {(op, reason): count})
REPORTS = [
    ("issue393_stdout.txt", 165, 117, 48, 1, "15.0.340273435", {}),
    ("issue490_stdout.txt", 267, 261, 6, 1, None,
     {("DEQUANTIZE", "Operation is working on an unsupported data type"): 2, ("LOGISTIC", UNSPECIFIED): 1,
      ("CONCATENATION", SUBGRAPH): 1}),
    ("issue342_stdout.txt", 155, 2, 153, None, None,
     {("TRANSPOSE", "Operation not supported"): 70, ("FULLY_CONNECTED", SUBGRAPH): 1, ("PAD", SUBGRAPH): 17,
      ("ADD", SUBGRAPH): 10, ("MEAN", SUBGRAPH): 2, ("CONV_2D", SUBGRAPH): 35, ("QUANTIZE", UNSPECIFIED): 1,
      ("DEPTHWISE_CONV_2D", SUBGRAPH): 17}),
    ("yolov7_pr1672_stdout.txt", 246, 246, 0, 1, "16.0.384591198", {}),
    ("issue222_stdout.txt", 400, 0, 400, 0, "14.1.317412892",
     {("CONV_2D", "Operation is working on an unsupported data type"): 70}),
]
IDS = {"issue393_stdout.txt": "google-coral/edgetpu#393-out_dir", "issue490_stdout.txt": "google-coral/edgetpu#490-show_operations",
       "issue342_stdout.txt": "google-coral/edgetpu#342-transpose-splits-subgraph",
       "yolov7_pr1672_stdout.txt": "WongKinYiu/yolov7#1672-all-mapped", "issue222_stdout.txt": "google-coral/edgetpu#222-nothing-mapped"}


@pytest.mark.parametrize("name, total, tpu, cpu, subgraphs, version, cpu_ops", REPORTS, ids=[IDS[r[0]] for r in REPORTS])
def test_report_on_real_compiler_output(name, total, tpu, cpu, subgraphs, version, cpu_ops):
    found = etpu.report(fixture(name))
    assert (found["ops_total"], found["ops_tpu"], found["ops_cpu"]) == (total, tpu, cpu)
    assert found["subgraphs"] == subgraphs and found["compiler_version"] == version
    assert dict(((o["op"], o["reason"]), o["count"]) for o in found["cpu_ops"]) == cpu_ops
    assert mf._edgetpu_problems(found) == []


def test_log_file_table_wins_over_console_and_counts_the_table_when_numbers_are_missing():
    log = fixture("issue393_model_edgetpu.log") + "CONV_2D                        3          Mapped to Edge TPU\n" \
        "TRANSPOSE                      1          Operation not supported\n"
    found = etpu.report("Edge TPU Compiler version 15.0.340273435\n", log)
    assert (found["ops_total"], found["ops_tpu"], found["ops_cpu"]) == (4, 3, 1)
    assert found["cpu_ops"] == [{"op": "TRANSPOSE", "count": 1, "reason": "Operation not supported"}]
    assert found["compiler_version"] == "15.0.340273435"


def test_table_pasted_twice_is_read_once():
    console = fixture("issue490_stdout.txt")
    rows = etpu.parse_table(console + "\n" + console)
    assert len(rows) == 5


@pytest.mark.parametrize("text, words", [
    (fixture("issue358_stdout.txt"), "Internal compiler error. Aborting!"),
    ("usage: something else\n", "printed no operation table"),
], ids=["google-coral/edgetpu#358-internal-error", "not-the-edgetpu-compiler"])
def test_report_refuses_failures(text, words):
    with pytest.raises(FleetError) as err:
        etpu.report(text)
    assert words in err.value.msg


def test_compile_argv_follows_the_documented_cli():
    assert etpu.compile_argv("/a/model.tflite", "/a/.edgetpu") == ["-s", "-o", "/a/.edgetpu", "/a/model.tflite"]


class StubTflite:
    """Stands in for _model_tflite.Backend: writes model.tflite; its session knows nothing of the TPU."""

    entrypoint = "model.tflite"

    def toolchain(self):
        return {"onnx2tf": "1.29.24"}

    def unsupported(self, precision):
        return None

    def build(self, src, precision, out_dir, calibration):
        with open(os.path.join(out_dir, "model.tflite"), "wb") as handle:
            handle.write(b"TFL3 int8")
        return "model.tflite"

    def load(self, out_dir, entrypoint):
        session = type("S", (), {})()
        session.loaded = entrypoint
        session.effective = {"device": "CPU", "inference_precision": "i8", "tflite": {"inputs": [], "outputs": []}}
        return session


def fake_compiler(table, write_model=True, rc=0):
    """edgetpu_compiler as documented: -o receives <stem>_edgetpu.tflite and <stem>_edgetpu.log."""
    def compile_(argv, kwargs):
        out_dir, model = argv[argv.index("-o") + 1], argv[-1]
        stem = os.path.splitext(os.path.basename(model))[0]
        if write_model:
            with open(os.path.join(out_dir, stem + "_edgetpu.tflite"), "wb") as handle:
                handle.write(b"TFL3 edgetpu")
        log = "Edge TPU Compiler version 16.0.384591198\nInput: %s\n\nOperator                       Count      Status\n\n%s\n" % (
            model, table)
        with open(os.path.join(out_dir, stem + "_edgetpu.log"), "w") as handle:
            handle.write(log)
        return rc, "Edge TPU Compiler version 16.0.384591198\n\nModel compiled successfully in 9 ms.\n", ""
    run = FakeRunCommand(default=(1, "", "unexpected call"))
    run.add(lambda argv: "--version" in argv, (0, "Edge TPU Compiler version 16.0.384591198\n", ""))
    run.add(lambda argv: "-s" in argv, compile_)
    return run


def backend(run, params=None, found="/usr/bin/edgetpu_compiler"):
    paths = {"edgetpu_compiler": found, "timeout": None}
    return etpu.Backend(dict(PARAMS, target="edgetpu", edgetpu_compiler=None, **(params or {})), run,
                        paths.get, tflite=StubTflite())


MAPPED_TABLE = "QUANTIZE                       1          Mapped to Edge TPU\n" \
               "CONV_2D                        2          Mapped to Edge TPU\n" \
               "DEQUANTIZE                     1          Operation is working on an unsupported data type"


def test_build_compiles_reports_and_gates_the_cpu_model(tmp_path):
    run = fake_compiler(MAPPED_TABLE)
    target = backend(run)
    assert target.toolchain() == {"onnx2tf": "1.29.24", "edgetpu_compiler": "16.0.384591198"}
    out_dir = str(tmp_path / "int8")
    os.makedirs(out_dir)
    assert target.build("/src/m.onnx", "int8", out_dir, []) == "model_edgetpu.tflite"
    assert sorted(os.listdir(out_dir)) == ["model.tflite", "model_edgetpu.tflite"]  # scratch removed
    assert run.calls[-1]["argv"][-4:-1] == ["-s", "-o", os.path.join(out_dir, ".edgetpu")]
    session = target.load(out_dir, "model_edgetpu.tflite")
    assert session.loaded == "model.tflite"  # the TPU model cannot run here: the CPU model is gated
    assert session.effective["device"] == "EDGETPU" and session.effective["verified_on"] == "cpu-tflite"
    assert session.effective["edgetpu"] == {
        "ops_total": 4, "ops_tpu": 3, "ops_cpu": 1, "subgraphs": None, "compiler_version": "16.0.384591198",
        "cpu_ops": [{"op": "DEQUANTIZE", "count": 1, "reason": "Operation is working on an unsupported data type"}]}


@pytest.mark.parametrize("run, words", [
    (fake_compiler("CONV_2D                        2          Operation not supported"), "mapped none of the 2 operations"),
    (fake_compiler(MAPPED_TABLE, write_model=False), "wrote no model_edgetpu.tflite"),
    (fake_compiler(MAPPED_TABLE, rc=1), "edgetpu_compiler model.tflite failed (rc=1)"),
], ids=["nothing-mapped", "no-output-model", "non-zero-exit"])
def test_build_failures_leave_no_scratch(run, words, tmp_path):
    out_dir = str(tmp_path / "int8")
    os.makedirs(out_dir)
    with pytest.raises(FleetError) as err:
        backend(run).build("/src/m.onnx", "int8", out_dir, [])
    assert words in err.value.msg
    assert not os.path.exists(os.path.join(out_dir, ".edgetpu"))


def test_missing_compiler_wrong_device_and_precisions():
    with pytest.raises(FleetError) as err:
        backend(fake_compiler(""), found=None)
    assert "edgetpu_compiler not found on PATH" in err.value.msg and err.value.details["option"] == "edgetpu_compiler"
    with pytest.raises(FleetError) as err:
        backend(fake_compiler(""), params={"device": "GPU"})
    assert "device EDGETPU" in err.value.msg
    run = FakeRunCommand(default=(0, "something else 1.0\n", ""))
    with pytest.raises(FleetError) as err:
        backend(run)
    assert "no 'Edge TPU Compiler version' line" in err.value.msg
    target = backend(fake_compiler(""), params={"device": "EDGETPU"})
    assert target.unsupported("fp32") == "the Edge TPU runs only full-integer INT8 models"
    assert target.unsupported("int8") is None


@pytest.mark.parametrize("report, problem", [
    ("many", "edgetpu must be an object"),
    ({"ops_total": 3, "ops_tpu": True, "ops_cpu": 0, "cpu_ops": []}, "edgetpu.ops_tpu must be a whole number"),
    ({"ops_total": 3, "ops_tpu": 3, "ops_cpu": 0, "cpu_ops": [{"op": 1}]}, "edgetpu.cpu_ops must be a list"),
], ids=["not-an-object", "bool-count", "bad-cpu-op"])
def test_manifest_validates_the_edgetpu_field(report, problem):
    assert problem in " ".join(mf._edgetpu_problems(report))


def test_report_on_arbitrary_text_only_raises_fleet_error():
    """The compiler's output is device output: anything it prints is a report or a FleetError."""
    hypothesis = pytest.importorskip("hypothesis")
    from hypothesis import strategies as st

    @hypothesis.settings(max_examples=40, deadline=None)
    @hypothesis.given(st.text(), st.one_of(st.none(), st.text()))
    def check(console, log_text):
        try:
            found = etpu.report(console, log_text)
        except FleetError:
            return
        assert mf._edgetpu_problems(found) == []
    check()
