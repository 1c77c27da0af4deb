"""HTTP and SOCKS5 proxies, through a real proxy server (``pproxy``) on loopback.

The proxy's own log names every tunnel it opened, so each test proves its traffic (REST, the
socket, a media download) went through the proxy and not around it.
"""

from __future__ import annotations

import logging
import re
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from sogni_sync import Retries, SogniClient, Timeouts
from sogni_sync.errors import MissingDependencyError, SogniError, ValidationError
from sogni_sync.errors import TimeoutError as SogniTimeoutError
from sogni_sync.testing import LocalSupernet

pytest.importorskip("pproxy")

USER, SECRET = "proxyuser", "s3cret-proxy-pw"
IMAGE: dict[str, Any] = {"type": "image", "model_id": "flux1-schnell-fp8", "steps": 4}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Pproxy:
    """``pproxy`` serving HTTP and SOCKS5 on one loopback port, logging every tunnel."""

    def __init__(self, log: Path, auth: bool = True) -> None:
        self.port = _free_port()
        self.log = log
        listen = f"http+socks5://127.0.0.1:{self.port}" + (f"#{USER}:{SECRET}" if auth else "")
        self._out = open(log, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen([sys.executable, "-m", "pproxy", "-l", listen, "-v"],
                                     stdout=self._out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 15
        while "Serving on" not in self.text():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"pproxy did not start: {self.text()}")
            time.sleep(0.05)

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def tunnels_to(self, url: str) -> int:
        """How many connections the proxy opened to ``url``'s host:port."""
        port = urlsplit(url).port
        return len(re.findall(rf"-> \S*:{port}\b", self.text()))

    def url(self, scheme: str, auth: bool = True) -> str:
        creds = f"{USER}:{SECRET}@" if auth else ""
        return f"{scheme}://{creds}127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:  # pragma: no cover
            self.proc.kill()
            self.proc.wait(5)
        self._out.close()


@pytest.fixture
def pproxy(tmp_path: Path) -> Iterator[Pproxy]:
    proxy = Pproxy(tmp_path / "pproxy.log")
    yield proxy
    proxy.stop()


@pytest.fixture
def clean_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


def _client(net: LocalSupernet, **kw: Any) -> SogniClient:
    return SogniClient(app_id=f"proxy-{uuid.uuid4()}", api_key=net.api_key,
                       rest_endpoint=net.rest_url, socket_endpoint=net.socket_url,
                       **{"retries": Retries(reconnect_base_delay=0.02, reconnect_max_delay=0.2),
                          **kw})


def _use(client: SogniClient) -> int:
    """Socket, REST and a media download; returns the downloaded size."""
    client.connect(timeout=10)
    client.account.account_balance()
    urls = client.projects.create(**IMAGE, positive_prompt="through a proxy").wait(timeout=20)
    return len(client._transport.rest.get_bytes(urls[0], timeout=10))


@pytest.mark.parametrize("scheme", ["http", "socks5", "socks5h"])
def test_rest_socket_and_download_through_the_proxy(
    scheme: str, net: LocalSupernet, pproxy: Pproxy, clean_proxy_env: None,
    caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with _client(net, proxy=pproxy.url(scheme)) as client:
        assert _use(client) > 0
        assert SECRET not in repr(client) and SECRET not in repr(client.options)
    assert pproxy.tunnels_to(net.socket_url) >= 1
    assert pproxy.tunnels_to(net.rest_url) >= 1
    assert SECRET not in caplog.text


def test_environment_proxy_variables(net: LocalSupernet, pproxy: Pproxy, clean_proxy_env: None,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALL_PROXY", pproxy.url("socks5"))
    with _client(net) as client:
        assert _use(client) > 0
    assert pproxy.tunnels_to(net.socket_url) >= 1 and pproxy.tunnels_to(net.rest_url) >= 1

    before = pproxy.text()
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    with _client(net) as client:
        assert _use(client) > 0
    assert pproxy.text() == before  # NO_PROXY: straight to the host


def test_proxy_refusing_credentials_fails_without_quoting_them(
    net: LocalSupernet, pproxy: Pproxy, clean_proxy_env: None
) -> None:
    bad = pproxy.url("http").replace(SECRET, "wrong-" + SECRET)
    with _client(net, proxy=bad, timeouts=Timeouts(request=5, send=1),
                 retries=Retries(attempts=1, reconnect_base_delay=0.02,
                                 reconnect_max_delay=0.2)) as client:
        with pytest.raises(SogniError) as rest_error:
            client.account.account_balance()
        with pytest.raises(SogniError) as socket_error:
            client.connect(timeout=1)
    for exc in (rest_error.value, socket_error.value):
        assert SECRET not in str(exc) and SECRET not in repr(exc)


def test_bad_proxy_urls_and_missing_socks_package(monkeypatch: pytest.MonkeyPatch) -> None:
    for bad in ("ftp://proxy:1", "proxy:8080", "http://", f"http://{USER}:{SECRET}@:x"):
        with pytest.raises(ValidationError, match="proxy must be a URL") as info:
            SogniClient(proxy=bad, disable_socket=True)
        assert SECRET not in str(info.value)
    with pytest.raises(ValidationError, match="https:// proxy"):
        SogniClient(proxy="https://proxy.example:443")
    assert SogniClient(proxy="https://proxy.example:443", disable_socket=True)
    monkeypatch.setitem(sys.modules, "socks", None)  # PySocks not installed
    with pytest.raises(MissingDependencyError, match=r"sogni-sync\[socks\]"):
        SogniClient(proxy="socks5://127.0.0.1:1080", disable_socket=True)


def _drip_server(stop: threading.Event) -> tuple[int, threading.Thread]:
    """An HTTP server that answers with a 100-byte body, one byte every 0.2 s."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    listener.settimeout(0.2)

    def serve() -> None:
        with listener:
            while not stop.is_set():
                try:
                    conn, _ = listener.accept()
                except TimeoutError:
                    continue
                with conn:
                    conn.recv(65536)
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
                    for _ in range(100):
                        if stop.wait(0.2):
                            break
                        try:
                            conn.sendall(b"x")
                        except OSError:
                            break

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return int(listener.getsockname()[1]), thread


@pytest.mark.parametrize("scheme", ["http", "socks5"])
def test_call_deadline_holds_through_the_proxy(scheme: str, pproxy: Pproxy,
                                               clean_proxy_env: None) -> None:
    stop = threading.Event()
    port, thread = _drip_server(stop)
    try:
        with SogniClient(proxy=pproxy.url(scheme), disable_socket=True) as client:
            started = time.monotonic()
            with pytest.raises(SogniTimeoutError):
                client._transport.rest.get_bytes(f"http://127.0.0.1:{port}/slow", timeout=1.0)
            assert time.monotonic() - started < 3.0  # not the 20 s of the drip
    finally:
        stop.set()
        thread.join(5)
    assert pproxy.tunnels_to(f"http://127.0.0.1:{port}") >= 1
