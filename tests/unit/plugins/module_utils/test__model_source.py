# Copyright (c) 2026 edgeai.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Downloads from a hostile network: a real http.server on 127.0.0.1 serving slow drips, lying
Content-Length headers and endless bodies, plus URLs that carry credentials.

Each test names the fault or attack it reproduces; on the code before issue 11 the slow drip hung
(only a per-read timeout), an endless body filled the disk, and messages quoted the URL whole.
"""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
import time

import pytest

from ansible_collections.edgeai.fleet.plugins.module_utils import _model_source as src
from ansible_collections.edgeai.fleet.plugins.module_utils import _redact
from ansible_collections.edgeai.fleet.plugins.module_utils._errors import FleetError
from ansible_collections.edgeai.fleet.tests.unit.plugins.modules.test_model_deploy import Server


@pytest.fixture
def server():
    srv = Server()
    yield srv
    srv.close()


def _headers_then(handler, length=None, chunked=False):
    handler.send_response(200)
    if length is not None:
        handler.send_header("Content-Length", str(length))
    handler.end_headers()


def test_slow_drip_hits_the_overall_deadline_and_leaves_nothing(server, tmp_path):
    """Fault: a server that sends one byte every 50 ms forever. Each read finishes inside the per-read
    timeout, so before the fix the download never ended; now download_deadline ends it."""
    def drip(handler):
        _headers_then(handler)
        try:
            for _byte in range(400):
                handler.wfile.write(b"x")
                handler.wfile.flush()
                time.sleep(0.05)
        except OSError:
            pass
    server.routes["/drip"] = drip
    started = time.monotonic()
    with pytest.raises(FleetError, match="did not finish within download_deadline=1 s"):
        src.download(server.url + "/drip", "0" * 64, str(tmp_path), timeout=5, deadline=1)
    assert time.monotonic() - started < 5
    assert os.listdir(str(tmp_path)) == []


def test_endless_body_is_cut_at_the_size_cap(server, tmp_path):
    """Fault: no Content-Length and a body that never ends; before the fix it filled the disk."""
    def endless(handler):
        _headers_then(handler)
        try:
            while True:
                handler.wfile.write(b"y" * 65536)
        except OSError:
            pass
    server.routes["/endless"] = endless
    with pytest.raises(FleetError, match="larger than max_size_mib allows"):
        src.download(server.url + "/endless", "0" * 64, str(tmp_path), timeout=5, max_bytes=1 << 20)
    assert os.listdir(str(tmp_path)) == []


def test_announced_size_over_the_cap_is_refused_before_reading(server, tmp_path):
    """Attack: a Content-Length of 10 GiB; refused from the header alone."""
    def huge(handler):
        _headers_then(handler, length=10 << 30)
        handler.wfile.write(b"z" * 1000)
    server.routes["/huge"] = huge
    with pytest.raises(FleetError, match="more than max_size_mib allows"):
        src.download(server.url + "/huge", "0" * 64, str(tmp_path), timeout=5, max_bytes=1 << 20)
    assert os.listdir(str(tmp_path)) == []


def test_body_shorter_than_content_length_is_cut_short(server, tmp_path):
    """Fault: the connection closes after 1000 of the 100000 announced bytes."""
    def short(handler):
        _headers_then(handler, length=100000)
        handler.wfile.write(b"x" * 1000)
        handler.close_connection = True
    server.routes["/short"] = short
    with pytest.raises(FleetError, match="cut short|failed after"):
        src.download(server.url + "/short", "0" * 64, str(tmp_path), timeout=5)
    assert os.listdir(str(tmp_path)) == []


@pytest.mark.parametrize("value", ["abc", "-5", "10, 20"])
def test_invalid_content_length_is_named(server, tmp_path, value):
    """Malformed input: a Content-Length that is not a non-negative number."""
    def lying(handler):
        handler.send_response(200)
        handler.send_header("Content-Length", value)
        handler.end_headers()
        handler.wfile.write(b"x")
    server.routes["/bad"] = lying
    with pytest.raises(FleetError, match="invalid Content-Length|failed after"):
        src.download(server.url + "/bad", "0" * 64, str(tmp_path), timeout=5)
    assert os.listdir(str(tmp_path)) == []


class FakeResponse:
    """Test double following http.client.HTTPResponse's contract (headers, read1, context manager), but
    returning more bytes than its Content-Length, as a broken proxy or a raw socket reader could."""

    def __init__(self, body, length, final_url=None):
        self.headers = {"Content-Length": str(length)}
        self._body = io.BytesIO(body)
        self._final_url = final_url

    def geturl(self):
        return self._final_url

    def read1(self, amount):
        return self._body.read(min(amount, 4))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_more_bytes_than_content_length_abort(tmp_path):
    """Attack: more bytes arrive than the Content-Length announced."""
    body = b"x" * 40
    with pytest.raises(FleetError, match="more than its Content-Length of 8 bytes"):
        src.download("http://127.0.0.1/x", hashlib.sha256(body).hexdigest(), str(tmp_path),
                     opener=lambda url, timeout: FakeResponse(body, 8))
    assert os.listdir(str(tmp_path)) == []


@pytest.mark.parametrize("final_url, refused", [
    ("http://mirror.example/model.tar?token=t0k", True),
    ("HTTP://mirror.example/model.tar", True),
    ("https://mirror.example/model.tar", False),
    (None, False),  # a response that cannot say where it ended: the requested URL
])
def test_https_redirected_to_http_is_refused(tmp_path, final_url, refused):
    """Downgrade: open_url follows an https -> http redirect; the transfer must not continue in clear."""
    body = b"x" * 8

    def call():
        return src.download("https://store.example/model.tar", hashlib.sha256(body).hexdigest(), str(tmp_path),
                            opener=lambda url, timeout: FakeResponse(body, 8, final_url))
    if refused:
        with pytest.raises(FleetError, match="not https; refusing the downgrade") as caught:
            call()
        assert "t0k" not in caught.value.msg
        assert os.listdir(str(tmp_path)) == []
    else:
        assert os.path.basename(call()) == "artifact.download"


def test_credentials_in_the_url_never_reach_messages(server, tmp_path):
    """Secret leak: a 404 for a URL with user:password@ and a signed query quoted the URL whole."""
    url = "http://alice:s3cret@127.0.0.1:%s/missing.tar?X-Amz-Signature=deadbeef&token=t0k#frag" \
        % server.url.rsplit(":", 1)[1]
    with pytest.raises(FleetError) as caught:
        src.download(url, "0" * 64, str(tmp_path), timeout=5)
    text = caught.value.msg + repr(caught.value.details)
    for secret in ("s3cret", "alice", "deadbeef", "t0k", "X-Amz", "frag"):
        assert secret not in text
    assert "/missing.tar" in caught.value.msg


@pytest.mark.parametrize("url", ["ftp://host/x.tar", "file:///etc/shadow", "http://", "http://[::1/x", "x",
                                 "http://host:notaport/x"])
def test_check_url_refuses_what_is_not_http_with_a_host(url):
    """Malformed input: unparsable URLs and other schemes give a FleetError, not a ValueError."""
    with pytest.raises(FleetError, match="must be an http:// or https:// URL"):
        src.check_url(url)


def test_redact_keeps_host_port_and_path_only():
    assert _redact.url("https://u:p@models.example:8443/a/b.tar?sig=1#x") == "https://models.example:8443/a/b.tar"
    assert _redact.url("http://[::1]:80/x?token=1") == "http://[::1]:80/x"
    assert _redact.url("http://[::1/x") == _redact.UNPARSABLE
    assert _redact.text("GET https://u:p@h/x?sig=1 failed; see http://h/y") == "GET https://h/x failed; see http://h/y"


def _tar(members):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_archive_that_unpacks_beyond_the_cap_is_refused(tmp_path):
    """Attack: a small compressed archive that unpacks to more than max_size_mib."""
    archive = tmp_path / "a.tar"
    archive.write_bytes(_tar([("big", b"\0" * 4096)]))
    with pytest.raises(FleetError, match="unpacks to more than"):
        src.extract_archive(str(archive), str(tmp_path / "out"), max_bytes=1024)
    assert not (tmp_path / "out").exists()


def test_archive_with_too_many_members_is_refused(tmp_path):
    """Attack: an archive of many tiny files (inode exhaustion)."""
    archive = tmp_path / "a.tar"
    archive.write_bytes(_tar([("f%d" % i, b"") for i in range(20)]))
    with pytest.raises(FleetError, match="more than 10 entries"):
        src.extract_archive(str(archive), str(tmp_path / "out"), max_members=10)


@pytest.mark.parametrize("data", [b"", b"\x1f\x8b\x08\x00garbage", b"not a tar at all" * 100])
def test_corrupt_archive_is_a_fleet_error(tmp_path, data):
    """Malformed input: empty, corrupt gzip and non-tar downloads."""
    archive = tmp_path / "a.tar"
    archive.write_bytes(data)
    with pytest.raises(FleetError, match="Cannot extract"):
        src.extract_archive(str(archive), str(tmp_path / "out"))


class FakeRunner:
    """CliRunner double: ``podman create`` that prints nothing, ``image inspect`` that prints a non-list."""

    def __init__(self, create_out="", inspect=None):
        self.create_out = create_out
        self.inspect = inspect

    def run(self, argv, what=None, check=True):
        return 0, self.create_out, ""

    def run_json(self, argv, what=None):
        return self.inspect


def test_empty_podman_create_output_is_a_fleet_error(tmp_path):
    """Malformed input: empty CLI output (before: IndexError)."""
    with pytest.raises(FleetError, match="printed no container id"):
        src.ImageSource(FakeRunner(), "img", "/models/det").extract(str(tmp_path))


@pytest.mark.parametrize("inspect", [{"Digest": "x"}, ["x"], [{"Digest": 5}]])
def test_malformed_image_inspect_is_a_fleet_error(inspect):
    """Malformed input: podman image inspect JSON of the wrong shape (before: AttributeError/KeyError)."""
    with pytest.raises(FleetError, match="podman image inspect"):
        src.ImageSource(FakeRunner(inspect=inspect), "img", "/models/det").local_digest()
