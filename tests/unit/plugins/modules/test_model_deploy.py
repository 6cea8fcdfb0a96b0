# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""model_deploy end to end in-process: directory, HTTP (a real server on 127.0.0.1) and OCI image sources.

The OCI source is simulated: podman is a FakeRunCommand whose ``podman cp`` copies a prepared directory,
following podman's contract (``image exists`` rc 0/1, ``image inspect`` JSON list with ``Digest``).
"""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import shutil
import threading

import pytest

from ansible_collections.edgeai.fleet.plugins.module_utils._model_repo import identity
from ansible_collections.edgeai.fleet.plugins.modules import model_deploy
from ansible_collections.edgeai.fleet.tests.unit.module_helpers import FakeRunCommand, run_module
from ansible_collections.edgeai.fleet.tests.unit.plugins.module_utils.test__model_repo import (
    make_artifact, snapshot, tar_artifact)


class Server:
    """Serves ``routes`` (path -> bytes, or a callable writing the response itself) and counts requests."""

    def __init__(self):
        self.routes = {}
        self.hits = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's naming)
                outer.hits.append(self.path)
                body = outer.routes.get(self.path.split("?", 1)[0])
                if callable(body):
                    return body(self)
                if body is None:
                    self.send_error(404)
                    return None
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return None

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    srv = Server()
    yield srv
    srv.close()


def deploy(tmp_path, check_mode=False, diff=False, run_command=None, **args):
    args.setdefault("name", "det")
    args.setdefault("repository", str(tmp_path / "repo"))
    return run_module(model_deploy, args, run_command=run_command, check_mode=check_mode, diff=diff,
                      get_bin_path={"podman": "/usr/bin/podman"})


def test_check_mode_then_apply_then_idempotent_with_diff(tmp_path):
    make_artifact(str(tmp_path / "a"))
    result, failed = deploy(tmp_path, check_mode=True, diff=True, src=str(tmp_path / "a"))
    assert not failed and result["changed"] and result["version"] == 1
    assert '"current": 1' in result["diff"][0]["after"]
    assert not os.path.exists(str(tmp_path / "repo" / "det" / "1"))
    result, failed = deploy(tmp_path, diff=True, src=str(tmp_path / "a"))
    assert not failed and result["changed"] and result["installed"] and result["switched"]
    assert result["manifest"]["precision"] == "fp32"
    # The fleet report's gpu_needed verdict reads the compile-time latency from here (roles/model_serving report.yml).
    assert result["manifest"]["latency_ms"] == {"p50": 1.0, "p95": 2.0}
    result, failed = deploy(tmp_path, diff=True, src=str(tmp_path / "a"))
    assert not failed and not result["changed"] and "diff" not in result
    assert result["manifest"]["latency_ms"] == {"p50": 1.0, "p95": 2.0}


def test_url_source_downloads_once_and_redeploy_transfers_nothing(tmp_path, server):
    make_artifact(str(tmp_path / "a"))
    blob = tar_artifact(str(tmp_path / "a"))
    server.routes["/det.tar.gz"] = blob
    sha = hashlib.sha256(blob).hexdigest()
    result, failed = deploy(tmp_path, url=server.url + "/det.tar.gz", sha256=sha)
    assert not failed and result["installed"] and result["version"] == 1, result
    assert server.hits == ["/det.tar.gz"]
    result, failed = deploy(tmp_path, url=server.url + "/det.tar.gz", sha256=sha)
    assert not failed and not result["changed"]
    assert server.hits == ["/det.tar.gz"], "an unchanged redeploy must not download again"
    assert not [n for n in os.listdir(str(tmp_path / "repo" / "det")) if n.startswith(".incoming")]


def test_sha_mismatch_leaves_served_version_untouched(tmp_path, server):
    make_artifact(str(tmp_path / "a"), payload=b"a")
    deploy(tmp_path, src=str(tmp_path / "a"))
    before = snapshot(str(tmp_path / "repo"))
    make_artifact(str(tmp_path / "b"), payload=b"b")
    server.routes["/b.tar"] = tar_artifact(str(tmp_path / "b"))
    result, failed = deploy(tmp_path, url=server.url + "/b.tar", sha256="0" * 64)
    assert failed and "sha256 mismatch" in result["msg"] and result["expected"] == "0" * 64
    assert snapshot(str(tmp_path / "repo")) == before


def test_interrupted_download_leaves_served_version_untouched(tmp_path, server):
    make_artifact(str(tmp_path / "a"), payload=b"a")
    deploy(tmp_path, src=str(tmp_path / "a"))
    before = snapshot(str(tmp_path / "repo"))

    def cut_short(handler):
        handler.send_response(200)
        handler.send_header("Content-Length", "100000")
        handler.end_headers()
        handler.wfile.write(b"x" * 1000)
        handler.wfile.flush()
        handler.close_connection = True
    server.routes["/cut.tar"] = cut_short
    result, failed = deploy(tmp_path, url=server.url + "/cut.tar", sha256="1" * 64)
    assert failed and ("cut short" in result["msg"] or "failed after" in result["msg"]), result["msg"]
    assert snapshot(str(tmp_path / "repo")) == before


def test_url_check_mode_does_not_download(tmp_path, server):
    server.routes["/x.tar"] = b"never fetched"
    result, failed = deploy(tmp_path, check_mode=True, url=server.url + "/x.tar", sha256="a" * 64)
    assert not failed and result["changed"] and server.hits == []


def test_bad_sha256_parameter_is_named(tmp_path):
    result, failed = deploy(tmp_path, url="https://example.invalid/x.tar", sha256="abc")
    assert failed and "sha256='abc'" in result["msg"]
    assert not os.path.exists(str(tmp_path / "repo"))


def test_url_without_sha256_is_refused(tmp_path):
    result, failed = deploy(tmp_path, url="https://example.invalid/x.tar")
    assert failed and "sha256" in result["msg"]


def fake_podman(tmp_path, digest="sha256:" + "d" * 64, present=True):
    """podman double: ``cp`` copies the artifact prepared under ``tmp_path/image/models/det``."""
    calls = FakeRunCommand()
    state = {"present": present}

    def exists(argv, kwargs):
        return (0, "", "") if state["present"] else (1, "", "")

    def pull(argv, kwargs):
        state["present"] = True
        return 0, "", ""

    def copy(argv, kwargs):
        shutil.copytree(str(tmp_path / "image" / "models" / "det"), argv[-1], dirs_exist_ok=True)
        return 0, "", ""
    calls.add(("/usr/bin/podman", "image", "exists"), exists)
    calls.add(("/usr/bin/podman", "image", "inspect"), (0, json.dumps([{"Id": "f" * 64, "Digest": digest}]), ""))
    calls.add(("/usr/bin/podman", "pull"), pull)
    calls.add(("/usr/bin/podman", "create"), (0, "c0ffee\n", ""))
    calls.add(("/usr/bin/podman", "cp"), copy)
    return calls


def test_image_source_pulls_extracts_and_is_idempotent(tmp_path):
    make_artifact(str(tmp_path / "image" / "models" / "det"))
    podman = fake_podman(tmp_path, present=False)
    result, failed = deploy(tmp_path, run_command=podman, image="registry.example/det:1")
    assert not failed and result["installed"], result
    verbs = [c["argv"][1] for c in podman.calls]
    assert "pull" in verbs and "cp" in verbs and verbs[-1] == "rm"
    assert ["/usr/bin/podman", "cp", "c0ffee:/models/det/."] == podman.calls[verbs.index("cp")]["argv"][:3]
    podman.calls.clear()
    result, failed = deploy(tmp_path, run_command=podman, image="registry.example/det:1")
    assert not failed and not result["changed"]
    assert [c["argv"][1] for c in podman.calls] == ["image", "image"], "known digest: no pull, no copy"


def test_image_pinned_by_digest_needs_no_podman_call_when_known(tmp_path):
    make_artifact(str(tmp_path / "image" / "models" / "det"))
    ref = "registry.example/det@sha256:" + "e" * 64
    podman = fake_podman(tmp_path, digest="sha256:" + "e" * 64)
    assert deploy(tmp_path, run_command=podman, image=ref)[0]["installed"]
    podman.calls.clear()
    result, failed = deploy(tmp_path, run_command=podman, image=ref)
    assert not failed and not result["changed"] and podman.calls == []


def test_image_never_pull_fails_clearly_and_changes_nothing(tmp_path):
    podman = fake_podman(tmp_path, present=False)
    result, failed = deploy(tmp_path, run_command=podman, image="registry.example/det:1", image_pull="never")
    assert failed and "image_pull=never" in result["msg"]
    assert not [n for n in os.listdir(str(tmp_path / "repo" / "det")) if not n.startswith(".")] \
        if os.path.isdir(str(tmp_path / "repo" / "det")) else True
    assert not os.path.exists(str(tmp_path / "repo" / "det" / "current"))


def test_rolled_back_check_mode_diff_and_idempotence(tmp_path):
    make_artifact(str(tmp_path / "a"), payload=b"a")
    make_artifact(str(tmp_path / "b"), payload=b"b")
    deploy(tmp_path, src=str(tmp_path / "a"), backend="triton")
    deploy(tmp_path, src=str(tmp_path / "b"), backend="triton")
    pbtxt = tmp_path / "repo" / "det" / "config.pbtxt"
    assert "versions: [2]" in pbtxt.read_text()
    before = snapshot(str(tmp_path / "repo"))
    result, failed = deploy(tmp_path, check_mode=True, diff=True, state="rolled_back", version=2, backend="triton")
    assert not failed and result["changed"] and result["version"] == 1
    assert any("versions: [1]" in d["after"] for d in result["diff"])
    assert snapshot(str(tmp_path / "repo")) == before
    result, failed = deploy(tmp_path, state="rolled_back", version=2, backend="triton")
    assert not failed and result["changed"] and result["rejected_version"] == 2 and result["switched"]
    assert "versions: [1]" in pbtxt.read_text()
    result, failed = deploy(tmp_path, state="rolled_back", version=2, backend="triton")
    assert not failed and not result["changed"] and result["version"] == 1


def test_keep_below_one_is_refused(tmp_path):
    make_artifact(str(tmp_path / "a"))
    result, failed = deploy(tmp_path, src=str(tmp_path / "a"), keep=0)
    assert failed and "keep=0" in result["msg"] and not os.path.exists(str(tmp_path / "repo"))


def test_invalid_name_is_refused(tmp_path):
    make_artifact(str(tmp_path / "a"))
    result, failed = deploy(tmp_path, src=str(tmp_path / "a"), name="../x")
    assert failed and "not a valid model name" in result["msg"]


def test_missing_manifest_explains_what_src_must_be(tmp_path):
    (tmp_path / "empty").mkdir()
    result, failed = deploy(tmp_path, src=str(tmp_path / "empty"))
    assert failed and "model_compile" in result["msg"]


def test_identity_asks_for_the_artifact_once(tmp_path):
    """The role's converged path: one call with the controller's identity, src only when the device lacks it."""
    manifest = make_artifact(str(tmp_path / "a"))
    ident = identity(manifest)
    result, failed = deploy(tmp_path, identity=ident)
    assert not failed and result["artifact_needed"] and not result["changed"]
    assert not os.path.exists(str(tmp_path / "repo" / "det"))
    deploy(tmp_path, src=str(tmp_path / "a"))
    result, failed = deploy(tmp_path, identity=ident.upper(), check_mode=True)
    assert not failed and not result["artifact_needed"] and not result["changed"] and result["version"] == 1


def test_bad_identity_is_named(tmp_path):
    result, failed = deploy(tmp_path, identity="abc")
    assert failed and "identity='abc'" in result["msg"]
    assert not os.path.exists(str(tmp_path / "repo"))


# ---- issue 11: secrets in URLs, download limits, bad numbers ------------------------------------------

def test_url_with_credentials_is_no_log_and_never_stored_or_printed(tmp_path, server):
    """Secret leak: user:password@ and a signed query string were stored in the 0644 bookkeeping and quoted
    in failure messages (which the fleet report prints)."""
    assert model_deploy.ARGS["url"].get("no_log") is True
    make_artifact(str(tmp_path / "a"))
    blob = tar_artifact(str(tmp_path / "a"))
    server.routes["/det.tar.gz"] = blob
    base = server.url.replace("http://", "http://carol:pa55word@")
    url = base + "/det.tar.gz?X-Amz-Signature=feedface&token=t0ken"
    result, failed = deploy(tmp_path, url=url, sha256=hashlib.sha256(blob).hexdigest())
    assert not failed and result["installed"], result
    state = (tmp_path / "repo" / "det" / ".edgeai-model.json").read_text()
    result, failed = deploy(tmp_path, url=base + "/gone.tar?sig=feedface", sha256="1" * 64)
    assert failed
    shown = json.dumps(result) + state
    for secret in ("pa55word", "carol", "feedface", "t0ken", "X-Amz", "sig="):
        assert secret not in shown
    assert server.url + "/gone.tar" in result["msg"]


def test_max_size_mib_refuses_a_larger_archive(tmp_path, server):
    """Attack: an archive larger than the size cap is refused from its Content-Length, nothing stays behind."""
    server.routes["/big.tar"] = b"x" * ((1 << 20) + 1)
    result, failed = deploy(tmp_path, url=server.url + "/big.tar", sha256="1" * 64, max_size_mib=1)
    assert failed and "max_size_mib" in result["msg"]
    assert [n for n in os.listdir(str(tmp_path / "repo" / "det")) if n != ".edgeai-model.lock"] == []


@pytest.mark.parametrize("key", ["timeout", "download_deadline", "max_size_mib", "keep"])
def test_non_positive_numbers_are_refused(tmp_path, key):
    """Malformed input: negative or zero timeouts and sizes (a negative timeout made the socket non-blocking)."""
    result, failed = deploy(tmp_path, url="https://example.invalid/x.tar", sha256="a" * 64, **{key: -1})
    assert failed and "%s=-1 must be at least 1" % key in result["msg"]
    assert not os.path.exists(str(tmp_path / "repo"))


def test_unparsable_url_is_named_without_a_traceback(tmp_path):
    """Malformed input: a URL urllib cannot split (before: ValueError escaped the core)."""
    result, failed = deploy(tmp_path, url="http://[::1/x.tar", sha256="a" * 64, check_mode=True)
    assert failed and "must be an http:// or https:// URL" in result["msg"]
