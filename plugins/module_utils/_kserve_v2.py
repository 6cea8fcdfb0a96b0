# -*- coding: utf-8 -*-
# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Private to the edgeai.fleet collection: may change without notice.

"""A standard-library client for the KServe V2 REST protocol (OVMS, Triton, KServe) and the checks built on it.

"Ready" is not "correct": OVMS server readiness is sticky and some servers report ready with no model.
So a model is proven by per-model (or per-version) readiness, a golden-input inference compared with a
tolerance, and a latency budget, and the device/precision the server says it used.
"""

from __future__ import annotations

import http.client
import json
import math
import ssl
import time
import urllib.parse

from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError


# Largest response body read from a server: golden outputs of detection models run to tens of MB of
# JSON, and a hostile or broken server must not make the verifier read without end.
MAX_RESPONSE = 256 << 20


class V2Client:
    """Keeps one HTTP connection open so latency samples measure inference, not TCP set-up."""

    def __init__(self, base_url, timeout=10.0, validate_certs=True):
        try:
            parsed = urllib.parse.urlsplit(base_url)
            parsed.port  # pylint: disable=pointless-statement  # urlsplit checks the port only when asked
        except (TypeError, ValueError) as exc:
            raise FleetError("url %r cannot be parsed (%s); it must be http(s)://host[:port] of the model server"
                             % (base_url, exc), field="url")
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise FleetError("url %r must be http(s)://host[:port] of the model server" % base_url, field="url")
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout < float("inf"):
            raise FleetError("timeout must be a positive number of seconds, got %r" % (timeout,), field="timeout")
        self.base_url = base_url.rstrip("/")
        self.prefix = parsed.path.rstrip("/")
        self.parsed = parsed
        self.timeout = timeout
        self.context = None
        if parsed.scheme == "https":
            self.context = ssl.create_default_context() if validate_certs else ssl._create_unverified_context()  # pylint: disable=protected-access
        self.conn = None

    def _connect(self):
        if self.parsed.scheme == "https":
            return http.client.HTTPSConnection(self.parsed.hostname, self.parsed.port, timeout=self.timeout,
                                               context=self.context)
        return http.client.HTTPConnection(self.parsed.hostname, self.parsed.port, timeout=self.timeout)

    def request(self, method, path, body=None):
        """Return ``(status, parsed JSON or None, raw text)``; connection errors raise FleetError."""
        payload = None if body is None else json.dumps(body).encode("utf-8")
        headers = {"Content-Type": "application/json"} if payload is not None else {}
        for attempt in (1, 2):  # one retry on a connection the server closed between requests
            if self.conn is None:
                self.conn = self._connect()
            try:
                self.conn.request(method, self.prefix + path, body=payload, headers=headers)
                resp = self.conn.getresponse()
                raw = resp.read(MAX_RESPONSE + 1)
                if len(raw) > MAX_RESPONSE:
                    self.close()
                    raise FleetError("%s %s%s answered more than %d bytes; refusing to read on"
                                     % (method, self.base_url, path, MAX_RESPONSE), url=self.base_url + path)
                raw = raw.decode("utf-8", "replace")
                break
            except (http.client.HTTPException, OSError) as exc:
                self.close()
                if attempt == 2 or not isinstance(exc, (http.client.RemoteDisconnected, ConnectionResetError,
                                                        BrokenPipeError)):
                    raise FleetError("%s %s%s failed: %s; is the model server running and listening there?"
                                     % (method, self.base_url, path, exc), url=self.base_url + path)
        try:
            doc = json.loads(raw) if raw else None
        except (ValueError, RecursionError):
            doc = None
        return resp.status, doc, raw

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def model_path(name, version=None):
    path = "/v2/models/%s" % urllib.parse.quote(name, safe="")
    return path + ("/versions/%s" % version if version is not None else "")


def wait_ready(client, name, version=None, ready_timeout=60.0, interval=0.5, clock=time.monotonic, sleep=time.sleep):
    """Poll the model's own readiness (not the server's) until it is ready or ``ready_timeout`` passes."""
    deadline = clock() + ready_timeout
    last = None
    while True:
        try:
            status, doc, raw = client.request("GET", model_path(name, version) + "/ready")
            if status == 200 and (not isinstance(doc, dict) or doc.get("ready", True) is not False):
                return {"ready": True, "status": status}
            last = "HTTP %d %s" % (status, raw.strip()[:200])
        except FleetError as err:
            last = err.msg
        if clock() >= deadline:
            return {"ready": False, "status": last}
        sleep(interval)


def flatten(data):
    """Flatten nested lists (some servers return tensors nested by shape) into one flat list."""
    if not isinstance(data, list):
        return [data]
    out = []
    for item in data:
        out.extend(flatten(item) if isinstance(item, list) else [item])
    return out


def compare(expected, got):
    """max_abs and cosine of two flat numeric lists (non-numeric data compares for equality)."""
    if len(expected) != len(got):
        return {"max_abs": None, "cosine": None, "equal": False,
                "error": "length %d, expected %d" % (len(got), len(expected))}
    if not _numbers(expected + got):
        return {"max_abs": None, "cosine": None, "equal": expected == got, "error": None}
    # Floats first: a server answering 10**400 must give inf, not an OverflowError from int maths.
    expected, got = [_float(a) for a in expected], [_float(b) for b in got]
    if any(math.isnan(v) for v in got):
        # NaN compares false with every limit, so it would pass the tolerance checks unnoticed.
        return {"max_abs": None, "cosine": None, "equal": False, "error": "the server returned NaN"}
    max_abs = max((abs(a - b) for a, b in zip(expected, got)), default=0.0)
    dot = math.fsum(a * b for a, b in zip(expected, got))
    norm = math.sqrt(math.fsum(a * a for a in expected)) * math.sqrt(math.fsum(b * b for b in got))
    cosine = 1.0 if norm == 0 and max_abs == 0 else (dot / norm if norm else 0.0)
    return {"max_abs": max_abs, "cosine": cosine, "equal": max_abs == 0, "error": None}


def validate_golden(golden, path):
    """Return ``golden`` if it is a golden file model_verify can send and compare, else FleetError naming the field."""
    if not isinstance(golden, dict):
        raise FleetError("golden file %s must hold a JSON object with 'inputs' and 'outputs', got %s"
                         % (path, type(golden).__name__), path=path)
    for side in ("inputs", "outputs"):
        tensors = golden.get(side)
        if not isinstance(tensors, list) or not tensors:
            raise FleetError("golden file %s needs a non-empty '%s' list of KServe V2 tensors" % (path, side), path=path)
        for i, tensor in enumerate(tensors):
            field = "%s[%d]" % (side, i)
            if not isinstance(tensor, dict):
                raise FleetError("golden file %s: %s must be an object, got %s" % (path, field, type(tensor).__name__),
                                 path=path, field=field)
            for key, kind in (("name", str), ("datatype", str), ("shape", list), ("data", list)):
                if not isinstance(tensor.get(key), kind):
                    raise FleetError("golden file %s: %s.%s must be a %s, got %r"
                                     % (path, field, key, kind.__name__, tensor.get(key)), path=path,
                                     field="%s.%s" % (field, key))
            if not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in tensor["shape"]):
                raise FleetError("golden file %s: %s.shape must be non-negative integers, got %r"
                                 % (path, field, tensor["shape"]), path=path, field=field + ".shape")
    return golden


def validate_tolerance(tolerance, path):
    """Return the tolerance mapping (max_abs, min_cosine as numbers or null) or FleetError naming the field."""
    if not isinstance(tolerance, dict):
        raise FleetError("%s: tolerance must be an object with max_abs and/or min_cosine, got %r" % (path, tolerance),
                         path=path, field="tolerance")
    for key in ("max_abs", "min_cosine"):
        value = tolerance.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value)):
            raise FleetError("%s: tolerance.%s must be a number, got %r" % (path, key, value), path=path,
                             field="tolerance." + key)
    return tolerance


def _float(value):
    try:
        return float(value)
    except OverflowError:
        return math.copysign(math.inf, value)


def _numbers(values):
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def check_golden(response, golden, tolerance):
    """Compare every golden output with the server's; return (per-output figures, list of failures)."""
    # The response is the server's word: anything of the wrong shape is a failed check, not a crash.
    listed = response.get("outputs") if isinstance(response, dict) else None
    outputs = {o.get("name"): o for o in (listed if isinstance(listed, list) else [])
               if isinstance(o, dict) and isinstance(o.get("name"), str)}
    figures, failures = {}, []
    for want in golden["outputs"]:
        name = want["name"]
        have = outputs.get(name)
        if have is None:
            failures.append("output %s missing from the response (got %s)" % (name, sorted(outputs)))
            continue
        if have.get("shape") != want.get("shape"):
            failures.append("output %s has shape %s, expected %s" % (name, have.get("shape"), want.get("shape")))
        fig = compare(flatten(want["data"]), flatten(have.get("data")))
        figures[name] = fig
        if fig["error"]:
            failures.append("output %s: %s" % (name, fig["error"]))
        elif fig["max_abs"] is None:
            if not fig["equal"]:
                failures.append("output %s differs from the golden output" % name)
        else:
            if tolerance.get("max_abs") is not None and fig["max_abs"] > tolerance["max_abs"]:
                failures.append("output %s: max_abs %.6g > %.6g" % (name, fig["max_abs"], tolerance["max_abs"]))
            if tolerance.get("min_cosine") is not None and fig["cosine"] < tolerance["min_cosine"]:
                failures.append("output %s: cosine %.6f < %.6f" % (name, fig["cosine"], tolerance["min_cosine"]))
    return figures, failures


def _label(value):
    """A server-stated label as text (servers disagree on types), or None."""
    return None if value is None or isinstance(value, (dict, list)) else str(value)


def percentile(samples, pct):
    """Nearest-rank percentile: a latency some request actually had."""
    ordered = sorted(samples)
    rank = max(1, int(math.ceil(pct / 100.0 * len(ordered))))
    return ordered[rank - 1]


def infer_request(golden):
    return {"inputs": [{k: t[k] for k in ("name", "shape", "datatype", "data")} for t in golden["inputs"]]}


def device_precision(metadata, response, config):
    """Device and precision as the server states them: metadata/response ``parameters``, or Triton's instance kind."""
    device = precision = None
    for doc in (metadata, response):
        params = doc.get("parameters") if isinstance(doc, dict) else None
        params = params if isinstance(params, dict) else {}
        device = device or _label(params.get("device"))
        precision = precision or _label(params.get("precision")) or _label(params.get("inference_precision"))
    groups = config.get("instance_group") if isinstance(config, dict) else None
    if device is None and isinstance(groups, list) and groups:
        device = ",".join(sorted({str(g.get("kind", "") if isinstance(g, dict) else g).replace("KIND_", "")
                                  for g in groups}))
    return device, precision


def verify(client, name, golden, tolerance, version=None, requests=20, warmup=1, latency_budget_ms=None,
           ready_timeout=60.0, expect=None, clock=time.perf_counter):
    """Run every check; return the figures and the list of failed checks (empty when the model is proven)."""
    expect = expect or {}
    result = {"name": name, "version": version, "ready": False, "failures": []}
    fails = result["failures"]
    ready = wait_ready(client, name, version, ready_timeout)
    result["ready"] = ready["ready"]
    if not ready["ready"]:
        where = " version %s" % version if version else ""
        fails.append("model %s%s not ready after %ss: %s" % (name, where, ready_timeout, ready["status"]))
        return result
    _status, metadata, _raw = client.request("GET", model_path(name, version))
    result["server_versions"] = (metadata or {}).get("versions")
    cfg_status, config, _raw = client.request("GET", model_path(name) + "/config")  # Triton only; others 404
    body = infer_request(golden)
    path = model_path(name, version) + "/infer"
    start = clock()
    status, response, raw = client.request("POST", path, body)
    result["first_ms"] = round((clock() - start) * 1000.0, 3)
    if status != 200 or not isinstance(response, dict):
        fails.append("inference on the golden inputs failed: HTTP %d %s" % (status, raw.strip()[:300]))
        return result
    result["outputs"], golden_fails = check_golden(response, golden, tolerance)
    result["golden_ok"] = not golden_fails
    fails.extend(golden_fails)
    result["model_version"] = response.get("model_version")
    result["device"], result["precision"] = device_precision(metadata, response, config if cfg_status == 200 else None)
    for key in ("version", "device", "precision"):
        want = expect.get(key)
        have = result["model_version"] if key == "version" else result[key]
        if want is not None and str(have).lower() != str(want).lower():
            fails.append("server reports %s %r, expected %r" % (key, have, want))
    samples = []
    for i in range(warmup + requests):
        start = clock()
        status, response, raw = client.request("POST", path, body)
        elapsed = (clock() - start) * 1000.0
        if status != 200:
            fails.append("request %d of the latency run failed: HTTP %d %s" % (i + 1, status, raw.strip()[:200]))
            return result
        if i >= warmup:
            samples.append(elapsed)
    if samples:
        result["p50_ms"] = round(percentile(samples, 50), 3)
        result["p95_ms"] = round(percentile(samples, 95), 3)
        result["requests"] = len(samples)
    if latency_budget_ms is not None and samples:
        result["within_budget"] = result["p95_ms"] <= latency_budget_ms
        if not result["within_budget"]:
            fails.append("p95 latency %.3f ms exceeds the budget of %.3f ms" % (result["p95_ms"], latency_budget_ms))
    return result
