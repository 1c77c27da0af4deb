"""The outside fault harness itself: each fault does what its docstring says."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable

import pytest
import requests

from sogni_sync.testing import LocalSupernet
from tests.faultproxy import FaultProxy, _FrameParser


def _frame(payload: bytes) -> bytes:
    n = len(payload)
    if n < 126:
        return bytes([0x81, n]) + payload
    if n < 65536:
        return bytes([0x81, 126]) + n.to_bytes(2, "big") + payload
    return bytes([0x81, 127]) + n.to_bytes(8, "big") + payload


def test_frame_parser_finds_boundaries_across_any_split() -> None:
    stream = _frame(b"a") + _frame(b"x" * 300) + _frame(b"y" * 70000) + _frame(b"")
    want: list[tuple[int, int]] = []
    pos = 0
    for size in (1, 300, 70000, 0):
        head = 2 if size < 126 else 4 if size < 65536 else 10
        want.append((pos, pos + head + size))
        pos += head + size
    for piece in (1, 3, 7, 4096, len(stream)):
        parser = _FrameParser()
        got: list[tuple[int, int]] = []
        for i in range(0, len(stream), piece):
            got.extend(parser.feed(stream[i: i + piece]))
        assert got == want, piece


def _wait(cond: Callable[[], bool], timeout: float = 10) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.02)
    return cond()


def test_cut_every_breaks_websocket_links_on_frame_counts(proxied: Callable[..., tuple]) -> None:
    client, sock, _rest = proxied()
    sock.cut_every(2)
    for n in (1, 2):
        client.connect(timeout=10)  # authenticated is among the first frames, then the cut

        def cut(n: int = n) -> bool:
            return bool(sock.cuts >= n)

        assert _wait(cut), (n, sock.cuts, sock.frames, sock.connections)
    # the client reconnects on its own after each cut, so more links may follow the second
    assert sock.connections >= 2 and sock.frames >= 4 and sock.frames <= 2 * sock.connections
    sock.restore()
    client.connect(timeout=10)


def test_stall_keeps_tcp_open_but_forwards_nothing(net: LocalSupernet) -> None:
    with FaultProxy(net.rest_url) as proxy:
        session = requests.Session()
        assert session.get(proxy.url + "/v1/subscriptions/status", timeout=5).status_code == 401
        assert proxy.stall("s2c", kind="http") == 1
        with pytest.raises(requests.exceptions.ReadTimeout):
            session.get(proxy.url + "/v1/subscriptions/status", timeout=0.5)
        assert proxy.links("http") == 1  # still open: half-open, not closed
        proxy.restore()


def test_slice_drip_feeds_responses(net: LocalSupernet) -> None:
    with FaultProxy(net.rest_url) as proxy:
        proxy.slice(1, delay=0.002, kind="http")
        start = time.monotonic()
        body = requests.get(proxy.url + "/v1/subscriptions/status", timeout=5).content
        assert time.monotonic() - start >= 0.002 * len(body)


def test_reset_mid_body_breaks_one_response(net: LocalSupernet) -> None:
    with FaultProxy(net.rest_url) as proxy:
        proxy.reset_mid_body(times=1)
        with pytest.raises(requests.exceptions.RequestException):
            requests.get(proxy.url + "/v1/subscriptions/status", timeout=5)
        assert requests.get(proxy.url + "/v1/subscriptions/status", timeout=5).status_code == 401


def test_refuse_and_blackhole(net: LocalSupernet) -> None:
    with FaultProxy(net.rest_url) as proxy:
        proxy.refuse("reset")
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.get(proxy.url + "/v1/subscriptions/status", timeout=5)
        proxy.refuse("blackhole")
        with pytest.raises(requests.exceptions.ReadTimeout):
            requests.get(proxy.url + "/v1/subscriptions/status", timeout=0.3)
        proxy.restore()
        assert requests.get(proxy.url + "/v1/subscriptions/status", timeout=5).status_code == 401


def test_mid_frame_stall_holds_half_a_frame(net: LocalSupernet) -> None:
    """A raw socket behind the proxy sees part of a server frame and then silence."""
    import websocket

    with FaultProxy(net.socket_url) as proxy:
        ws = websocket.create_connection(
            proxy.url.replace("http", "ws") + f"/?appId=raw-{time.time()}",
            header=[f"api-key: {net.api_key}"], timeout=5)
        ws.recv()  # the first frame flows
        assert proxy.stall_mid_frame() == 1
        ws.settimeout(1.0)
        with pytest.raises((websocket.WebSocketTimeoutException, socket.timeout)):
            while True:
                ws.recv()
        assert ws.sock is not None
        ws.sock.close()


def test_stop_joins_everything(net: LocalSupernet) -> None:
    before = {t for t in threading.enumerate() if t.name.startswith("faultproxy")}
    proxy = FaultProxy(net.rest_url).start()
    requests.get(proxy.url + "/v1/subscriptions/status", timeout=5)
    proxy.stall("both", kind=None)
    proxy.stop()
    assert _wait(lambda: {t for t in threading.enumerate()
                          if t.name.startswith("faultproxy")} <= before, 3)
