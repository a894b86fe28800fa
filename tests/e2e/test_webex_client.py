"""WebexClient's file handling over real HTTP: size caps, scans, foreign hosts."""
from __future__ import annotations

import threading

import pytest
from flask import Flask, Response
from webexpythonsdk.exceptions import ApiError
from werkzeug.serving import make_server

from bot.webex_client import WebexClient
from provisioning.errors import UserError
from tests.support.live import Sleeps, fast_client


def attached(fake, data: bytes, name: str = "numbers.csv") -> str:
    room = fake.add_room("ops", "direct")
    message = fake.user_message("eve@acme.example", room, "import", files=[(name, data, "text/csv")])
    return message["files"][0]


def test_download_returns_the_bytes_and_file_info_the_name(fake_webex):
    url = attached(fake_webex, b"Number\n+390212345678\n")
    client = fast_client(fake_webex)
    assert client.file_info(url) == ("numbers.csv", 21)
    assert client.download(url, max_bytes=1000) == b"Number\n+390212345678\n"
    assert all(r.headers.get("Authorization") == f"Bearer {fake_webex.bot_token}"
               for r in fake_webex.requests if "/contents/" in r.path)


def test_a_file_over_the_limit_is_refused_from_its_length(fake_webex):
    url = attached(fake_webex, b"x" * 5000)
    with pytest.raises(UserError, match="too large .5,000 bytes.; the limit is 1,000 bytes"):
        fast_client(fake_webex).download(url, max_bytes=1000)


def test_a_file_that_stays_under_scan_is_given_up_on(fake_webex):
    url = attached(fake_webex, b"Number\n")
    fake_webex.scan_pending(url, times=50)
    sleeps = Sleeps()
    client = WebexClient(fake_webex.bot_token, fake_webex.base_url, scan_waits=3, sleep=sleeps)
    with pytest.raises(UserError, match="still scanning"):
        client.download(url, max_bytes=1000)
    assert sleeps == [1.0, 1.0, 1.0]


def test_a_missing_file_is_a_clear_error(fake_webex):
    with pytest.raises(UserError, match="HTTP 404"):
        fast_client(fake_webex).download(f"{fake_webex.base_url}contents/nope", max_bytes=1000)


def test_the_token_is_never_sent_to_another_host(fake_webex):
    client = fast_client(fake_webex)
    for url in ("http://files.example.net/v1/contents/x", "file:///etc/passwd", "ftp://127.0.0.1/x"):
        with pytest.raises(UserError, match="not a Webex file"):
            client.download(url, max_bytes=1000)
    assert not [r for r in fake_webex.requests if "/contents/" in r.path]


def test_a_streamed_file_without_length_is_cut_at_the_limit():
    app = Flask("chunked")
    sent = []

    @app.get("/v1/contents/big")
    def big():
        def blocks():
            for _ in range(100):
                sent.append(1)
                yield b"y" * 65536
        return Response(blocks(), mimetype="text/csv")

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_port}/v1/"
        with pytest.raises(UserError, match="too large; the limit is 200,000 bytes"):
            WebexClient("token", base).download(f"{base}contents/big", max_bytes=200_000)
    finally:
        server.shutdown()
        server.server_close()
    assert len(sent) < 100  # reading stopped early instead of taking all 6.5 MB


def test_server_errors_while_downloading_are_retried(fake_webex):
    url = attached(fake_webex, b"Number\n+390212345678\n")
    fake_webex.fail_next("GET", "/contents/", 502, times=2)
    assert fast_client(fake_webex).download(url, max_bytes=1000) == b"Number\n+390212345678\n"
    assert sum(1 for r in fake_webex.requests if r.method == "GET" and "/contents/" in r.path) == 3


def test_a_download_that_keeps_failing_is_given_up_on(fake_webex):
    url = attached(fake_webex, b"Number\n+390212345678\n")
    fake_webex.fail_next("GET", "/contents/", 503, times=100)
    with pytest.raises(ApiError):
        fast_client(fake_webex).download(url, max_bytes=1000)
    attempts = sum(1 for r in fake_webex.requests if r.method == "GET" and "/contents/" in r.path)
    assert 1 < attempts < 100, attempts
