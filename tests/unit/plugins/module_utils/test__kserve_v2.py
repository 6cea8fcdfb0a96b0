# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The KServe V2 client and checks against a fake V2 server on 127.0.0.1.

The fake follows the V2 REST contract (kserve.github.io data-plane v2-protocol; OVMS and Triton docs):
per-model and per-version ready routes, metadata with ``versions``, JSON tensors with flat ``data``,
response ``parameters``; it computes y = 2x + 1 so the golden comparison is real arithmetic.
"""

from __future__ import annotations

import http.server
import json
import re
import threading

import pytest

from ansible_collections.edgeai.fleet.plugins.module_utils import _kserve_v2 as v2
from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError

GOLDEN = {"inputs": [{"name": "x", "shape": [1, 3], "datatype": "FP32", "data": [1.0, 2.0, 3.0]}],
          "outputs": [{"name": "y", "shape": [1, 3], "datatype": "FP32", "data": [3.0, 5.0, 7.0]}]}


class FakeV2Server:
    """A V2 server for one model; ``scale`` breaks the outputs, ``ready_after`` delays readiness."""

    def __init__(self, name="det", versions=("1",), scale=2.0, ready_after=0, parameters=None, nested=False,
                 respond=None):
        self.name, self.versions, self.scale = name, list(versions), scale
        self.respond = respond  # request inputs -> output tensors, for models with several inputs and outputs
        self.ready_calls = 0
        self.ready_after = ready_after
        self.parameters = parameters if parameters is not None else {"device": "CPU", "precision": "f32"}
        self.nested = nested
        self.requests = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out in two writes

            def reply(self, status, doc):
                body = json.dumps(doc).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def route(self):
                match = re.match(r"^/v2/models/([^/]+)(?:/versions/([^/]+))?(/ready|/infer|/config)?$", self.path)
                if not match or match.group(1) != outer.name:
                    return None, None
                version = match.group(2)
                if version is not None and version not in outer.versions:
                    return "missing", None
                return version or outer.versions[-1], match.group(3) or ""

            def do_GET(self):  # noqa: N802
                outer.requests.append(("GET", self.path))
                version, what = self.route()
                if version in (None, "missing"):
                    return self.reply(404, {"error": "model not found"})
                if what == "/ready":
                    outer.ready_calls += 1
                    ok = outer.ready_calls > outer.ready_after
                    return self.reply(200 if ok else 503, {"name": outer.name, "ready": ok})
                if what == "/config":
                    return self.reply(404, {"error": "no config endpoint"})
                return self.reply(200, {"name": outer.name, "versions": outer.versions, "platform": "fake",
                                        "parameters": outer.parameters})

            def do_POST(self):  # noqa: N802
                outer.requests.append(("POST", self.path))
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                version, what = self.route()
                if version in (None, "missing") or what != "/infer":
                    return self.reply(404, {"error": "model not found"})
                if outer.respond:
                    return self.reply(200, {"model_name": outer.name, "model_version": version,
                                            "outputs": outer.respond(body["inputs"])})
                tensor = body["inputs"][0]
                data = [outer.scale * v + 1.0 for v in tensor["data"]]
                if outer.nested:
                    data = [data]
                return self.reply(200, {"model_name": outer.name, "model_version": version,
                                        "outputs": [{"name": "y", "shape": tensor["shape"], "datatype": "FP32",
                                                     "data": data}]})

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def fake():
    servers = []

    def start(**kwargs):
        servers.append(FakeV2Server(**kwargs))
        return servers[-1]
    yield start
    for server in servers:
        server.close()


def test_compare_figures():
    fig = v2.compare([1.0, 0.0], [1.0, 0.1])
    assert fig["max_abs"] == pytest.approx(0.1) and fig["cosine"] == pytest.approx(1 / (1.01 ** 0.5))
    assert v2.compare([0.0], [0.0])["cosine"] == 1.0
    assert v2.compare([1, 2], [1])["error"] == "length 1, expected 2"
    assert v2.compare(["a"], ["a"])["equal"] and not v2.compare(["a"], ["b"])["equal"]


def test_percentile_is_nearest_rank():
    samples = list(range(1, 101))
    assert v2.percentile(samples, 50) == 50 and v2.percentile(samples, 95) == 95
    assert v2.percentile([7.0], 95) == 7.0


def test_flatten_nested_tensors():
    assert v2.flatten([[1, 2], [3, [4]]]) == [1, 2, 3, 4]


def test_verify_passes_with_figures(fake):
    server = fake()
    client = v2.V2Client(server.url)
    result = v2.verify(client, "det", GOLDEN, {"max_abs": 1e-6, "min_cosine": 0.9999}, requests=10,
                       latency_budget_ms=5000, expect={"device": "cpu", "precision": "F32"})
    client.close()
    assert result["failures"] == [] and result["ready"] and result["golden_ok"]
    assert result["device"] == "CPU" and result["precision"] == "f32" and result["within_budget"]
    assert result["requests"] == 10 and result["p50_ms"] <= result["p95_ms"]
    assert result["outputs"]["y"]["max_abs"] == 0.0
    infers = [r for r in server.requests if r[0] == "POST"]
    assert len(infers) == 1 + 1 + 10  # golden + warmup + timed


def test_verify_reports_wrong_outputs(fake):
    server = fake(scale=2.5)
    result = v2.verify(v2.V2Client(server.url), "det", GOLDEN, {"max_abs": 0.01, "min_cosine": 0.9999}, requests=2)
    assert not result["golden_ok"]
    assert any("max_abs 1.5 > 0.01" in f for f in result["failures"])


def test_verify_uses_version_routes_and_reports_missing_version(fake):
    server = fake(versions=("1", "2"))
    ok = v2.verify(v2.V2Client(server.url), "det", GOLDEN, {"max_abs": 0.01}, version=1, requests=1,
                   expect={"version": "1"})
    assert ok["failures"] == [] and ("GET", "/v2/models/det/versions/1/ready") in server.requests
    missing = v2.verify(v2.V2Client(server.url), "det", GOLDEN, {"max_abs": 0.01}, version=3, requests=1,
                        ready_timeout=0)
    assert not missing["ready"] and "not ready" in missing["failures"][0]


def test_wait_ready_polls_until_model_ready(fake):
    server = fake(ready_after=2)
    state = v2.wait_ready(v2.V2Client(server.url), "det", ready_timeout=10, interval=0.01)
    assert state["ready"] and server.ready_calls == 3


def test_latency_budget_failure_names_figures(fake):
    server = fake()
    ticks = iter(range(0, 10 ** 6, 100))  # each request "takes" 100 s of the fake clock

    result = v2.verify(v2.V2Client(server.url), "det", GOLDEN, {"max_abs": 0.01}, requests=3, warmup=0,
                       latency_budget_ms=50, clock=lambda: next(ticks))
    assert result["within_budget"] is False and result["p95_ms"] == 100000.0
    assert "exceeds the budget" in result["failures"][-1]


def test_unexpected_device_is_a_failure(fake):
    server = fake(parameters={"device": "GPU.0"})
    result = v2.verify(v2.V2Client(server.url), "det", GOLDEN, {"max_abs": 0.01}, requests=1,
                       expect={"device": "CPU"})
    assert result["failures"] == ["server reports device 'GPU.0', expected 'CPU'"]


def test_nested_output_and_triton_instance_kind():
    assert v2.device_precision({}, {}, {"instance_group": [{"kind": "KIND_GPU"}]}) == ("GPU", None)
    figures, failures = v2.check_golden({"outputs": [{"name": "y", "shape": [1, 3], "data": [[3.0, 5.0, 7.0]]}]},
                                        GOLDEN, {"max_abs": 0.0})
    assert failures == [] and figures["y"]["equal"]


def test_missing_output_and_shape_mismatch():
    _fig, failures = v2.check_golden({"outputs": [{"name": "z", "shape": [3], "data": [1, 2, 3]}]}, GOLDEN,
                                     {"max_abs": 1})
    assert failures == ["output y missing from the response (got ['z'])"]
    _fig, failures = v2.check_golden({"outputs": [{"name": "y", "shape": [3], "data": [3.0, 5.0, 7.0]}]}, GOLDEN,
                                     {"max_abs": 1})
    assert failures == ["output y has shape [3], expected [1, 3]"]


def test_unreachable_server_raises_clear_error():
    client = v2.V2Client("http://127.0.0.1:9", timeout=1)
    with pytest.raises(FleetError, match="is the model server running"):
        client.request("GET", "/v2/health/ready")


def test_bad_url_is_refused():
    with pytest.raises(FleetError, match="must be http"):
        v2.V2Client("ftp://x")


def test_oversized_response_is_refused(fake, monkeypatch):
    """Hostile server: a body larger than the cap is not read on (the cap is lowered here to keep the test small)."""
    srv = fake()
    monkeypatch.setattr(v2, "MAX_RESPONSE", 16)
    client = v2.V2Client(srv.url)
    try:
        with pytest.raises(FleetError, match="answered more than 16 bytes"):
            client.request("GET", "/v2/models/det")
    finally:
        client.close()


def test_nan_from_the_server_fails_the_golden_check():
    """Hostile server: NaN compares false with every limit, so it used to pass max_abs and min_cosine."""
    golden = {"inputs": [], "outputs": [{"name": "y", "shape": [2], "datatype": "FP32", "data": [1.0, 2.0]}]}
    response = {"outputs": [{"name": "y", "shape": [2], "data": [float("nan"), 2.0]}]}
    _figures, failures = v2.check_golden(response, golden, {"max_abs": 0.1, "min_cosine": 0.99})
    assert failures == ["output y: the server returned NaN"]


# A stateful streaming model as silero-vad's ONNX export declares it: float audio chunk, float state tensor,
# int64 rank-0 sample rate in; a probability and the next state out.
STATEFUL = {"inputs": [{"name": "input", "shape": [1, 4], "datatype": "FP32", "data": [0.1, -0.2, 0.3, 0.0]},
                       {"name": "state", "shape": [2, 1, 2], "datatype": "FP32", "data": [0.5, 0.0, -0.5, 1.0]},
                       {"name": "sr", "shape": [], "datatype": "INT64", "data": [16000]}],
            "outputs": [{"name": "output", "shape": [1, 1], "datatype": "FP32", "data": [0.2]},
                        {"name": "stateN", "shape": [2, 1, 2], "datatype": "FP32", "data": [0.25, 0.0, -0.25, 0.5]}]}


def _stateful(inputs, halve_state=0.5):
    by_name = dict((t["name"], t) for t in inputs)
    assert by_name["sr"] == {"name": "sr", "shape": [], "datatype": "INT64", "data": [16000]}
    return [{"name": "output", "shape": [1, 1], "datatype": "FP32", "data": [round(sum(by_name["input"]["data"]), 6)]},
            {"name": "stateN", "shape": [2, 1, 2], "datatype": "FP32",
             "data": [halve_state * v for v in by_name["state"]["data"]]}]


def test_infer_request_sends_every_input_with_its_dtype_and_rank_zero_shape():
    sent = v2.infer_request(v2.validate_golden(STATEFUL, "golden.json"))["inputs"]
    assert [(t["name"], t["shape"], t["datatype"]) for t in sent] == [
        ("input", [1, 4], "FP32"), ("state", [2, 1, 2], "FP32"), ("sr", [], "INT64")]
    assert json.loads(json.dumps(sent))[2]["data"] == [16000]


def test_verify_several_inputs_and_outputs(fake):
    server = fake(name="vad", respond=_stateful)
    result = v2.verify(v2.V2Client(server.url), "vad", STATEFUL, {"max_abs": 1e-6}, requests=2)
    assert result["failures"] == [] and sorted(result["outputs"]) == ["output", "stateN"]


def test_verify_names_the_one_output_of_several_that_drifts(fake):
    server = fake(name="vad", respond=lambda inputs: _stateful(inputs, halve_state=0.6))
    result = v2.verify(v2.V2Client(server.url), "vad", STATEFUL, {"max_abs": 0.01}, requests=1)
    assert result["failures"] == ["output stateN: max_abs 0.1 > 0.01"]
    assert result["outputs"]["output"]["max_abs"] == 0.0
