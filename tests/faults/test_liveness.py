"""Liveness from the outside: dead links are noticed within two ping intervals, and ``close()``
returns within a second leaving no thread, whatever the peer does (issue 11 D5/D6)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from sogni_sync import SogniClient, Timeouts
from sogni_sync.testing import LocalSupernet
from tests.clients import our_threads
from tests.faultproxy import FaultProxy
from tests.faults.conftest import Proxied

PING = 1.0  # seconds: short so the tests are quick; detection must take < 2 intervals


class Drops:
    """Records when the client reports the connection as gone."""

    def __init__(self, client: SogniClient) -> None:
        self.event = threading.Event()
        self.at: float | None = None
        client._transport.on_connection(self._on)

    def _on(self, kind: str, _payload: Any) -> None:
        if kind == "disconnected" and self.at is None:
            self.at = time.monotonic()
            self.event.set()


def _connected(proxied: Callable[..., Proxied], **options: Any) -> tuple[SogniClient, FaultProxy]:
    client, sock, _rest = proxied(**options)
    client.connect(timeout=10)
    return client, sock


def test_mid_frame_stall_is_detected_within_two_ping_intervals(
        proxied: Callable[..., Proxied]) -> None:
    client, sock = _connected(proxied, timeouts=Timeouts(ping_interval=PING))
    drops = Drops(client)
    assert sock.stall_mid_frame() == 1
    started = time.monotonic()
    client._transport.send("changeNetwork", "relaxed")  # the answer is the frame cut in half
    assert drops.event.wait(2 * PING + 1.0), "a stall inside a frame was never detected"
    assert drops.at is not None and drops.at - started < 2 * PING
    sock.restore()
    client.connect(timeout=10)  # and the client recovers on a new connection
    assert client._transport.is_ready


@pytest.mark.parametrize("direction", ["s2c", "c2s", "both"])
def test_half_open_link_is_detected_within_two_ping_intervals(
        proxied: Callable[..., Proxied], direction: str) -> None:
    client, sock = _connected(proxied, timeouts=Timeouts(ping_interval=PING))
    drops = Drops(client)
    assert sock.stall(direction) == 1  # type: ignore[arg-type]
    started = time.monotonic()
    assert drops.event.wait(2 * PING + 1.0), f"a {direction} half-open link was never detected"
    assert drops.at is not None and drops.at - started < 2 * PING


def _assert_prompt_close(client: SogniClient, before: set[threading.Thread]) -> float:
    started = time.monotonic()
    client.close()
    took = time.monotonic() - started
    assert took <= 1.0, f"close() took {took:.2f}s"
    assert our_threads() - before == set()
    return took


def test_close_after_a_mid_frame_stall_is_prompt(proxied: Callable[..., Proxied]) -> None:
    before = our_threads()
    client, sock = _connected(proxied)  # the default 15 s ping: nothing has noticed yet
    sock.stall_mid_frame()
    client._transport.send("changeNetwork", "relaxed")
    time.sleep(0.2)  # the socket thread now holds half a frame
    _assert_prompt_close(client, before)


def test_close_with_a_silent_one_way_link_is_prompt(proxied: Callable[..., Proxied]) -> None:
    before = our_threads()
    client, sock = _connected(proxied)
    sock.stall("both")  # the server's answer to our close frame never comes
    _assert_prompt_close(client, before)


def test_close_during_an_unanswered_handshake_is_prompt(net: LocalSupernet) -> None:
    before = our_threads()
    with FaultProxy(net.socket_url) as sock:
        sock.refuse("blackhole")  # accepted, the upgrade is never answered
        client = SogniClient(app_id="liveness-handshake", api_key=net.api_key,
                             rest_endpoint=net.rest_url, socket_endpoint=sock.url)
        client._transport.start()
        deadline = time.monotonic() + 5
        while sock.connections == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert sock.connections >= 1
        time.sleep(0.1)  # the socket thread is blocked reading the 101 answer
        _assert_prompt_close(client, before)


@pytest.fixture
def blackholed_port() -> Iterator[int]:
    """A port whose SYNs go unanswered: a listener with a full accept queue."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    filler = socket.create_connection(server.getsockname(), timeout=2)
    try:
        yield server.getsockname()[1]
    finally:
        filler.close()
        server.close()


def test_close_during_a_blackholed_connect_is_prompt(net: LocalSupernet,
                                                     blackholed_port: int) -> None:
    before = our_threads()
    client = SogniClient(app_id="liveness-connect", api_key=net.api_key,
                         rest_endpoint=net.rest_url,
                         socket_endpoint=f"ws://127.0.0.1:{blackholed_port}")
    client._transport.start()
    time.sleep(0.3)  # the socket thread is in the TCP connect
    assert client._transport.socket_thread is not None
    assert client._transport.socket_thread.is_alive()
    _assert_prompt_close(client, before)


def test_blackholed_connect_is_bounded_by_connect_timeout(net: LocalSupernet,
                                                          blackholed_port: int) -> None:
    client = SogniClient(app_id="liveness-timeout", api_key=net.api_key,
                         rest_endpoint=net.rest_url, timeouts=Timeouts(connect=0.3),
                         socket_endpoint=f"ws://127.0.0.1:{blackholed_port}")
    try:
        from sogni_sync.errors import TimeoutError as SogniTimeout

        # each attempt ends at connect_timeout (and is retried), so the error names the cause
        with pytest.raises(SogniTimeout, match=r"last connection attempt: handshake timed out"):
            client.connect(timeout=1.0)
    finally:
        client.close()
