# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Property layer: every core fed generated malformed documents raises FleetError or succeeds, nothing else.

Reproduces issue 11's "malformed documents" class: GPU facts, bootc status JSON, CDI specs, golden files,
KServe responses, trtexec output files, .npy samples and CLI output of the wrong type or shape
(``version = [2]``, strings where numbers belong, ``10**30`` dimensions, non-UTF-8, empty output).
Before the fix these raised AttributeError/KeyError/TypeError/MemoryError/UnicodeError from the cores.
Documents on disk are hashed before and after: a core that only reads must not change them.
"""

from __future__ import annotations

import json
import os

from hypothesis import given, strategies as st

from ansible_collections.edgeai.fleet.plugins.module_utils import _bootc_ref, _bootc_status, _gpu_info, _gpu_profiles
from ansible_collections.edgeai.fleet.plugins.module_utils import _gpu_mig, _gpu_sharing_plan, _gpu_sharing_validate, _gpu_vgpu
from ansible_collections.edgeai.fleet.plugins.module_utils import _kserve_v2, _model_gates, _model_images
from ansible_collections.edgeai.fleet.plugins.module_utils import _model_samples, _model_tensorrt, _nvidia_cdi
from ansible_collections.edgeai.fleet.plugins.module_utils._runner import CliRunner, parse_json
from ansible_collections.edgeai.fleet.tests.unit.module_helpers import FakeRunCommand
from ansible_collections.edgeai.fleet.tests.unit.plugins.module_utils.gpu_sharing_facts import (
    A100_40, A100_MIG, T4, facts)
from ansible_collections.edgeai.fleet.tests.unit.property.strategies import (
    JUNK, RAW_BYTES, SCALARS, mutated, only_fleet_error, tree_hash)

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "plugins", "module_utils", "fixtures")


def _fixture(name):
    with open(os.path.join(FIXTURES, "bootc", name), encoding="utf-8") as handle:
        return json.load(handle)


BOOTC_DOCS = [_fixture(n) for n in ("v1.16.9-cached-update.json", "v1.7.0-rollback-queued.json",
                                    "v1.12.0-download-only.json")]


@given(st.sampled_from(BOOTC_DOCS).flatmap(lambda d: mutated(d, times=3)))
def test_bootc_status_normalise(doc):
    facts_ = only_fleet_error(_bootc_status.normalise, doc, (1, 16, 9))
    if facts_ is not None:
        json.dumps(facts_)
        _bootc_status.identity(facts_)


@given(RAW_BYTES, st.integers(min_value=-1, max_value=2), RAW_BYTES)
def test_bootc_gather_from_cli_output(status_out, rc, version_out):
    fake = FakeRunCommand([(("bootc", "--version"), (0, version_out.decode("utf-8", "surrogateescape"), "")),
                           (("bootc", "status"), (rc, status_out.decode("utf-8", "surrogateescape"), "\xff"))])
    only_fleet_error(_bootc_status.gather, CliRunner(fake, "bootc"))


HOSTILE_REFS = ["a@b@c", "[::1]:5000/x", ":", "/", "@", "a:b:c/d", "quay.io/" + "a" * 300, "x@sha256:zz"]


@given(st.one_of(st.text(max_size=40), st.sampled_from(HOSTILE_REFS)),
       st.one_of(st.sampled_from(["registry", "oci", "oci-archive", "dir", "containers-storage"]), SCALARS))
def test_bootc_ref(image, transport):
    only_fleet_error(_bootc_ref.validate_image, image, transport)
    only_fleet_error(_bootc_ref.registry_host, image)


SHARING_FACTS = [facts(A100_40), facts(A100_MIG), facts(T4)]
POLICIES = [{"replicas": 4}, {"isolation": "strict"}, {"memory_per_replica": "4GiB"},
            {"replicas": 4, "latency_sensitive": True}]


@given(st.sampled_from(SHARING_FACTS).flatmap(lambda d: mutated(d, times=3)),
       st.sampled_from(POLICIES).flatmap(lambda d: mutated(d, times=2)))
def test_gpu_sharing_plan(facts_, policy):
    if not isinstance(policy, dict):
        policy = {"config": policy}
    only_fleet_error(_gpu_sharing_plan.plan, policy, facts_)


@given(JUNK, JUNK)
def test_gpu_sharing_validate(doc, gpus):
    for check in (_gpu_sharing_validate.device_plugin_errors, _gpu_mig.mig_parted_errors, _gpu_vgpu.vgpu_errors):
        result = only_fleet_error(check, doc)
        assert result is None or isinstance(result, list)
    only_fleet_error(_gpu_sharing_validate.gpu_errors, doc, gpus)
    only_fleet_error(_gpu_mig.mig_layout_errors, doc, gpus)


@given(st.sampled_from(SHARING_FACTS[:2]).flatmap(lambda d: mutated(d["gpus"][0], times=2)), JUNK)
def test_gpu_profiles(gpu, devices):
    table = only_fleet_error(_gpu_profiles.table_for, gpu)
    if table:
        only_fleet_error(_gpu_profiles.check_layout, devices, table)
        only_fleet_error(_gpu_profiles.named_layout, devices, table)


CDI_SPEC = {"cdiVersion": "0.5.0", "kind": "nvidia.com/gpu",
            "devices": [{"name": "0", "containerEdits": {}}, {"name": "all", "containerEdits": {}}]}


@given(mutated(CDI_SPEC, times=2))
def test_nvidia_cdi_device_names(spec):
    only_fleet_error(_nvidia_cdi.device_names, spec)


GOLDEN = {"inputs": [{"name": "x", "shape": [1, 2], "datatype": "FP32", "data": [0.5, 1.0]}],
          "outputs": [{"name": "y", "shape": [1, 2], "datatype": "FP32", "data": [0.25, 0.75]}]}
RESPONSE = {"model_name": "m", "model_version": "1", "parameters": {"device": "CPU"},
            "outputs": [{"name": "y", "shape": [1, 2], "datatype": "FP32", "data": [0.25, 0.75]}]}


@given(mutated(GOLDEN, times=2), mutated({"max_abs": 0.1, "min_cosine": 0.99}, times=1))
def test_golden_file_and_tolerance(golden, tolerance):
    """A golden file or manifest tolerance of the wrong shape is refused with its field named."""
    checked = only_fleet_error(_kserve_v2.validate_golden, golden, "golden.json")
    tol = only_fleet_error(_kserve_v2.validate_tolerance, tolerance, "manifest.json")
    if checked is not None:
        _kserve_v2.infer_request(checked)
        if tol is not None:
            _kserve_v2.check_golden(RESPONSE, checked, tol)


@given(mutated(RESPONSE, times=3), mutated({"parameters": {"device": "GPU"}}, times=1), JUNK)
def test_hostile_server_response(response, metadata, config):
    """Whatever a (possibly hostile) server answers is compared, never crashes the verifier."""
    figures, failures = _kserve_v2.check_golden(response, GOLDEN, {"max_abs": 0.1, "min_cosine": 0.99})
    assert isinstance(failures, list)
    json.dumps(figures)
    _kserve_v2.device_precision(metadata, response, config)


MEASURED = {"cosine": 0.999, "max_abs": 0.01, "p95_ms": 3.0}


@given(mutated(MEASURED, times=2), mutated({"min_cosine": 0.99, "max_abs": 0.1, "latency_budget_ms": 10.0}, 2))
def test_model_gates(measured, gate):
    only_fleet_error(_model_gates.evaluate, measured, gate)


@given(st.lists(st.one_of(st.floats(allow_nan=True), st.integers(-10, 10 ** 30)), max_size=5), st.floats(0, 100))
def test_latency_summary(samples, pct):
    only_fleet_error(_model_gates.latency_summary, samples)


TENSORS = [{"name": "x", "shape": [1, 3], "datatype": "FP32"}]


@given(mutated(TENSORS, times=2), st.integers(min_value=-2, max_value=3))
def test_synthetic_samples_absurd_dimensions(inputs, count):
    """Model input shapes come from a (possibly corrupt) model file: 10**30 dims must not allocate."""
    only_fleet_error(_model_samples.synthetic_samples, inputs, count)


@given(RAW_BYTES, st.sampled_from([".npy", ".npz"]))
def test_calibration_sample_files(tmp_path_factory, content, suffix):
    root = tmp_path_factory.mktemp("calib")
    path = root / ("sample" + suffix)
    path.write_bytes(content)
    before = tree_hash(str(root))
    only_fleet_error(_model_samples.load_calibration, [str(path)], TENSORS)
    assert tree_hash(str(root)) == before


@given(st.sampled_from([None, "none", "imagenet", "ppocr_det", "bogus", 5]),
       st.one_of(st.none(), st.dictionaries(st.sampled_from([
           "mean", "std", "limit_side_len", "crop_fraction", "resize", "x"]), JUNK, max_size=3), JUNK))
def test_calibration_preprocess_options(name, options):
    only_fleet_error(_model_images.resolve_spec, name, options)


TRT_OUTPUT = [{"name": "y", "dimensions": "1x2", "values": [0.5, 0.25]}]


@given(st.one_of(mutated(TRT_OUTPUT, times=2).map(lambda d: json.dumps(d).encode()), RAW_BYTES))
def test_trtexec_export_files(tmp_path_factory, content):
    """trtexec's --exportOutput/--exportTimes files are device output: garbage is a clean error."""
    root = tmp_path_factory.mktemp("trt")
    path = root / "out.json"
    path.write_bytes(content)
    before = tree_hash(str(root))
    only_fleet_error(_model_tensorrt.parse_outputs, str(path), ["y"])
    only_fleet_error(_model_tensorrt.parse_times, str(path))
    assert tree_hash(str(root)) == before


@given(st.text(max_size=30), st.booleans())
def test_parse_json_any_text(text, skip):
    only_fleet_error(parse_json, text, ["tool"], 0, "\udcff", skip)


@given(RAW_BYTES, RAW_BYTES, st.integers(min_value=-1, max_value=255))
def test_runner_any_output_is_text(out, err, rc):
    """Non-UTF-8 or binary output still yields a message that json.dumps accepts."""
    fake = FakeRunCommand(default=(rc, out, err))
    result = only_fleet_error(CliRunner(fake, "tool").run, ["x"])
    if result is not None:
        json.dumps(result)


class _Struct:
    def __init__(self, **fields):
        self.__dict__.update(fields)


NVML_ANSWERS = st.fixed_dictionaries({
    "nvmlSystemGetDriverVersion": st.one_of(st.just("550.54"), st.binary(max_size=8), SCALARS),
    "nvmlSystemGetCudaDriverVersion": st.one_of(st.just(12040), SCALARS),
    "nvmlDeviceGetCount": st.one_of(st.sampled_from([0, 1, 2, 10 ** 30, -1, "2", 2.5, True]), SCALARS),
    "nvmlDeviceGetName": st.one_of(st.just(b"NVIDIA A100-SXM4-40GB"), st.binary(max_size=8), SCALARS),
    "nvmlDeviceGetPciInfo": st.one_of(st.just(_Struct(busId=b"0000:01:00.0", pciDeviceId=0x20B010DE)),
                                      st.builds(_Struct, busId=SCALARS, pciDeviceId=SCALARS), SCALARS),
    "nvmlDeviceGetMemoryInfo": st.one_of(st.just(_Struct(total=40 << 30, used=0)),
                                         st.builds(_Struct, total=SCALARS, used=SCALARS), SCALARS),
    "nvmlDeviceGetCudaComputeCapability": st.one_of(st.just((8, 0)), JUNK),
    "nvmlDeviceGetMigMode": st.one_of(st.just((1, 1)), JUNK),
    "nvmlDeviceGetMaxMigDeviceCount": st.one_of(st.sampled_from([0, 7, 10 ** 30, "7"]), SCALARS),
    "nvmlDeviceGetAttributes": st.one_of(st.builds(_Struct, gpuInstanceSliceCount=SCALARS,
                                                   computeInstanceSliceCount=SCALARS, memorySizeMB=SCALARS), SCALARS),
    "nvmlDeviceGetComputeRunningProcesses": st.one_of(st.just([]), JUNK),
})


class _NvmlError(Exception):
    value = 999


def _fake_nvml(answers):
    nvml = _Struct(NVMLError=_NvmlError, nvmlInit=lambda: None, nvmlShutdown=lambda: None,
                   nvmlDeviceGetHandleByIndex=lambda i: ("gpu", i),
                   nvmlDeviceGetMigDeviceHandleByIndex=lambda parent, slot: ("mig", slot))
    for name, value in answers.items():
        setattr(nvml, name, lambda *_a, _v=value, **_k: _v)
    return nvml


@given(NVML_ANSWERS)
def test_gpu_facts_from_a_confused_nvml(tmp_path_factory, answers):
    """A driver/library mismatch makes NVML answer garbage: counts of 10**30 must not hang, types must not crash.

    Garbage is a fact about the device, not an error: collect reports it (a reason per GPU) and never raises.
    """
    root = tmp_path_factory.mktemp("root")
    facts = _gpu_info.collect(_fake_nvml(answers), str(root), "6.1.0")[0]
    json.dumps(facts)
    assert isinstance(facts["count"], int) and facts["count"] >= 0


@given(st.dictionaries(st.sampled_from(["etc/nv_tegra_release", "sys/devices/soc0/family", "proc/device-tree/model"]),
                       RAW_BYTES, max_size=3), st.sampled_from(["6.1.0", "5.15.136-tegra", ""]))
def test_tegra_detection_reads_any_file(tmp_path_factory, files, kernel):
    root = tmp_path_factory.mktemp("root")
    for rel, content in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(content)
    before = tree_hash(str(root))
    only_fleet_error(_gpu_info.detect_tegra, str(root), kernel)
    assert tree_hash(str(root)) == before


HOSTILE_SERVER_URLS = ["http://[::1", "http://h:99999", "http://h:x/", "https://", "ftp://h", "http://127.0.0.1:8000/prefix/"]


@given(st.one_of(st.text(max_size=30), st.sampled_from(HOSTILE_SERVER_URLS)),
       st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-5, 5), st.none(), st.text(max_size=3)))
def test_v2_client_url_and_timeout(url, timeout):
    """Unparsable URLs and zero, negative or NaN timeouts are refused before any connection is made."""
    client = only_fleet_error(_kserve_v2.V2Client, url, timeout)
    if client is not None:
        assert client.timeout > 0
