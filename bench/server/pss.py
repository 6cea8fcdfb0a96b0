# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Memory of a served model: PSS and RSS of one model server process, and what each import costs.

    python bench/server/pss.py serve PYTHON SERVER ARTIFACT [--requests N] [--full-size H W] [SERVER ARGS]
    python bench/server/pss.py imports PYTHON MODULE [MODULE ...]

``serve`` starts SERVER (a server program taking --model_name/--model_dir/--http_port) with PYTHON on a free
loopback port, waits for the model to be ready, sends the artifact's golden request N times (as
model_verify does), optionally one request of shape [1, 3, H, W], and prints /proc/<pid>/smaps_rollup's Pss and
Rss after start and after the requests, in MiB, as JSON. The process is stopped by PID.

``imports`` imports the modules one after another in a fresh PYTHON and prints the RSS and PSS each one adds
(RSS deltas do not move with other processes; PSS deltas can, even below zero).

PSS splits shared pages among the processes that map them: on a busy build machine other Pythons share
libpython and numpy, so compare figures from one machine and one run; on a device the server is usually
the only process mapping its runtime, where PSS is close to RSS.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import time

IMPORTS = r"""
import importlib, json, sys
def mib(key):
    with open("/proc/self/smaps_rollup") as handle:
        return next(int(l.split()[1]) for l in handle if l.startswith(key + ":")) / 1024.0
rows, pss, rss = [], 0.0, 0.0
for name in ["(interpreter)"] + sys.argv[1:]:
    if name != "(interpreter)":
        importlib.import_module(name)
    now_pss, now_rss = mib("Pss"), mib("Rss")
    rows.append([name, round(now_rss - rss, 1), round(now_pss - pss, 1), round(now_pss, 1), len(sys.modules)])
    pss, rss = now_pss, now_rss
print(json.dumps(rows))
"""


def memory(pid):
    with open("/proc/%d/smaps_rollup" % pid, encoding="ascii") as handle:
        # "Pss:   81234 kB" lines after the "<range> ---p 00000000 00:00 0 [rollup]" header
        fields = {line.split()[0][:-1]: int(line.split()[1]) for line in handle if line.split()[0].endswith(":")}
    return {key.lower() + "_mib": round(fields[key] / 1024.0, 1) for key in ("Pss", "Rss")}


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def request(conn, method, path, body=None):
    payload = None if body is None else json.dumps(body).encode()
    conn.request(method, path, body=payload, headers={"Content-Type": "application/json"} if payload else {})
    resp = conn.getresponse()
    return resp.status, resp.read()


def serve(args, extra):
    with open(os.path.join(args.artifact, "manifest.json"), encoding="utf-8") as handle:
        manifest = json.load(handle)
    with open(os.path.join(args.artifact, "golden.json"), encoding="utf-8") as handle:
        golden = json.load(handle)
    name, port = manifest["name"], free_port()
    cmd = [args.python, args.server, "--model_name", name, "--model_dir", args.artifact, "--http_port", str(port)]
    proc = subprocess.Popen(cmd + extra, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        deadline = time.monotonic() + 180
        while True:
            try:
                if request(conn, "GET", "/v2/models/%s/ready" % name)[0] == 200:
                    break
            except OSError:
                conn.close()
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("server did not become ready (rc %s)" % proc.poll())
            time.sleep(0.2)
        result = {"server": os.path.basename(args.server), "target": manifest["target"],
                  "precision": manifest.get("precision"), "ready": memory(proc.pid)}
        body = {"inputs": [{k: t[k] for k in ("name", "shape", "datatype", "data")} for t in golden["inputs"]]}
        times = []
        for dummy in range(args.requests):
            start = time.perf_counter()
            status, raw = request(conn, "POST", "/v2/models/%s/infer" % name, body)
            times.append((time.perf_counter() - start) * 1000.0)
            assert status == 200, raw[:300]
        result["after_golden"] = memory(proc.pid)
        result["golden_p50_ms"] = round(sorted(times)[len(times) // 2], 2)
        if args.full_size:
            height, width = args.full_size
            data = [0.5] * (3 * height * width)
            status, raw = request(conn, "POST", "/v2/models/%s/infer" % name,
                                  {"inputs": [{"name": golden["inputs"][0]["name"], "shape": [1, 3, height, width],
                                               "datatype": "FP32", "data": data}]})
            assert status == 200, raw[:300]
            result["after_full_size"] = memory(proc.pid)
        print(json.dumps(result))
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    one = sub.add_parser("serve")
    one.add_argument("python")
    one.add_argument("server")
    one.add_argument("artifact")
    one.add_argument("--requests", type=int, default=20)
    one.add_argument("--full-size", type=int, nargs=2, metavar=("H", "W"))
    imp = sub.add_parser("imports")
    imp.add_argument("python")
    imp.add_argument("modules", nargs="+")
    args, extra = parser.parse_known_args()  # anything else goes to the server, e.g. --cache_dir DIR
    if args.mode == "imports":
        out = subprocess.run([args.python, "-c", IMPORTS] + args.modules, check=True, capture_output=True, text=True)
        for row in json.loads(out.stdout):
            print("%-16s RSS %+6.1f MiB  PSS %+6.1f MiB -> %6.1f MiB  %5d modules" % tuple(row))
        return 0
    serve(args, extra)
    return 0


if __name__ == "__main__":
    sys.exit(main())
