"""The REST layer attacked from outside (issue 11 D7, D8, D10): resets mid-body, drip-fed and
stalled answers, ``close()`` during calls and downloads, ids that try to leave their segment,
a TLS certificate that fails verification, and a socket host that is down.

Faults come from :class:`tests.faultproxy.FaultProxy` between the client and the emulator, or
from a hostile loopback TLS server; the emulator's own fault switches are not used.
"""

from __future__ import annotations

import pathlib
import shutil
import socket
import ssl
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import suppress
from typing import Any

import pytest
import requests

from sogni_sync import Retries, SogniClient, Timeouts
from sogni_sync.errors import (
    ClientClosedError,
    ConnectionLostError,
    NotFoundError,
    SogniError,
    TimeoutError,
    TLSError,
    ValidationError,
)
from sogni_sync.projects import Project
from sogni_sync.testing import LocalSupernet
from tests.clients import our_threads
from tests.faultproxy import FaultProxy
from tests.faults.conftest import Proxied

IMAGE: dict[str, Any] = {"type": "image", "model_id": "flux1-schnell-fp8", "steps": 4}


def _calls(net: LocalSupernet, path: str) -> int:
    return sum(1 for c in net.rest_calls if c.path == path)


@pytest.fixture
def storage_via(net: LocalSupernet) -> Iterator[Callable[[FaultProxy], None]]:
    """Route the emulator's signed storage URLs through a proxy (restored afterwards)."""
    original = net.call(lambda state: state.storage.base_url)

    def route(proxy: FaultProxy) -> None:
        net.call(lambda state: setattr(state.storage, "base_url", proxy.url))

    try:
        yield route
    finally:
        net.call(lambda state: setattr(state.storage, "base_url", original))


def _finished(client: SogniClient) -> Project:
    project = client.projects.create(**IMAGE, positive_prompt="outside faults")
    project.wait(30)
    return project


def _in_thread(fn: Callable[[], Any]) -> tuple[threading.Thread, dict[str, Any]]:
    out: dict[str, Any] = {}

    def run() -> None:
        try:
            out["value"] = fn()
        except BaseException as exc:  # reported to the test
            out["error"] = exc
        out["at"] = time.monotonic()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, out


# -- D7: resets in the middle of a body -----------------------------------------------------------

def test_reset_mid_body_get_is_retried_post_is_wrapped_and_not_resent(
        proxied: Callable[..., Proxied], net: LocalSupernet) -> None:
    client, _sock, rest = proxied()
    expected = client.account.account_balance()
    before = _calls(net, "/v4/account/balance")
    rest.reset_mid_body(1)
    assert client.account.account_balance() == expected
    assert _calls(net, "/v4/account/balance") - before == 2  # reset once, retried once

    before = _calls(net, "/v1/account/username/validate")
    rest.reset_mid_body(1)
    with pytest.raises(ConnectionLostError) as info:
        client.account.validate_username("fresh_name")
    assert isinstance(info.value.__cause__, requests.exceptions.ChunkedEncodingError)
    assert _calls(net, "/v1/account/username/validate") - before == 1  # never sent twice

    rest.reset_mid_body(10)  # more resets than attempts: a SogniError, bounded
    before = _calls(net, "/v4/account/balance")
    with pytest.raises(ConnectionLostError):
        client.account.account_balance()
    assert _calls(net, "/v4/account/balance") - before == client.options.retry_attempts


def test_download_reset_mid_body_is_retried_then_raised_as_sogni_error(
        proxied: Callable[..., Proxied], storage_via: Callable[[FaultProxy], None],
        tmp_path: pathlib.Path) -> None:
    client, _sock, rest = proxied()
    storage_via(rest)
    job = _finished(client).jobs[0]
    data = job.get_result_data()
    rest.reset_mid_body(1)
    written = job.download(tmp_path / "once")
    assert written.read_bytes() == data
    rest.reset_mid_body(10)
    with pytest.raises(ConnectionLostError) as info:
        job.download(tmp_path / "never")
    assert isinstance(info.value.__cause__, BaseException)
    assert list((tmp_path / "never").iterdir()) == []  # nothing half-written left behind
    rest.reset_mid_body(10)
    with pytest.raises(SogniError):
        job.get_result_data()


# -- D8: overall deadlines and close() ------------------------------------------------------

def test_drip_fed_answer_is_bounded_by_request_timeout(proxied: Callable[..., Proxied]) -> None:
    client, _sock, rest = proxied(timeouts=Timeouts(request=1.0))
    client.account.account_balance()
    rest.slice(1, delay=0.05)  # ~20 bytes/s: every read succeeds, the call never ends
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        client.account.account_balance()
    assert time.monotonic() - started < 1.6


def test_close_interrupts_a_rest_call_in_flight(proxied: Callable[..., Proxied]) -> None:
    before = our_threads()
    client, _sock, rest = proxied()  # request_timeout 30 s
    client.account.account_balance()
    rest.slice(1, delay=0.2)
    thread, out = _in_thread(client.account.account_balance)
    time.sleep(0.5)
    closed_at = time.monotonic()
    client.close()
    thread.join(5)
    assert isinstance(out.get("error"), ClientClosedError), out
    assert out["at"] - closed_at < 1.0
    assert our_threads() - before == set()


def test_close_interrupts_a_stalled_download(proxied: Callable[..., Proxied],
                                             storage_via: Callable[[FaultProxy], None],
                                             tmp_path: pathlib.Path) -> None:
    client, _sock, rest = proxied()
    storage_via(rest)
    job = _finished(client).jobs[0]
    rest.slice(1, delay=0.5)
    thread, out = _in_thread(lambda: job.download(tmp_path))
    time.sleep(1.0)
    closed_at = time.monotonic()
    client.close()
    thread.join(5)
    assert isinstance(out.get("error"), ClientClosedError), out
    assert out["at"] - closed_at < 1.0
    assert [p.name for p in tmp_path.iterdir()] == []


def test_download_timeout_bounds_the_whole_transfer(
        proxied: Callable[..., Proxied], storage_via: Callable[[FaultProxy], None],
        tmp_path: pathlib.Path) -> None:
    client, _sock, rest = proxied()
    storage_via(rest)
    job = _finished(client).jobs[0]
    rest.slice(1, delay=0.1)
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        job.download(tmp_path, timeout=1.0)
    assert time.monotonic() - started < 1.6
    with pytest.raises(ValidationError):
        job.download(tmp_path, timeout=-1)


# -- D10: ids stay in their path segment -------------------------------------------------------

@pytest.mark.parametrize("bad", ["..", "."])
def test_dot_segment_ids_are_refused_before_io(proxied: Callable[..., Proxied],
                                               net: LocalSupernet, bad: str) -> None:
    client, _sock, rest = proxied()
    before = rest.connections
    calls = len(net.rest_calls)
    for attempt in (lambda: client.projects.get(bad),
                    lambda: client.creative_workflows.get(bad),
                    lambda: client._transport.rest.get(f"/v1/projects/{bad}/x")):
        with pytest.raises(ValidationError):
            attempt()
    assert len(net.rest_calls) == calls and rest.connections == before


@pytest.mark.parametrize("bad", ["../account/me", "x?admin=1", "a/../../v1/account/me",
                                 "x#frag", "a\\..\\b", "%2e%2e"])
def test_ids_never_reach_another_path_or_add_a_query(proxied: Callable[..., Proxied],
                                                     net: LocalSupernet, bad: str) -> None:
    client, _sock, _rest = proxied()
    calls = len(net.rest_calls)
    with pytest.raises(NotFoundError):
        client.projects.get(bad)
    made = [c for c in net.rest_calls[calls:] if c.host == "rest"]  # not the models list
    # one request, routed as GET /v1/projects/{id} with the whole value as the id
    assert [(c.method, c.path, c.query) for c in made] == [("GET", f"/v1/projects/{bad}", {})]


def test_catalog_ids_stay_in_their_segment(proxied: Callable[..., Proxied],
                                           net: LocalSupernet) -> None:
    client, _sock, _rest = proxied()
    calls = len(net.rest_calls)
    for network, model in (("fast", "../../../../v1/account/me"), ("x?admin=1", "m")):
        with pytest.raises(NotFoundError):
            client.catalog.size_presets(network, model)
    made = [(c.path, c.query) for c in net.rest_calls[calls:] if "size-presets" in c.path]
    assert made == [("/api/v1/size-presets/network/fast/model/../../../../v1/account/me", {}),
                    ("/api/v1/size-presets/network/x?admin=1/model/m", {})]
    with pytest.raises(ValidationError):
        client.catalog.estimate_audio_cost(model="..", duration=5, steps=4)


def test_paths_with_queries_or_dot_segments_are_refused(proxied: Callable[..., Proxied]) -> None:
    client, _sock, rest = proxied()
    before = rest.connections
    for path in ("/v1/projects/../account/me", "/v1/x?admin=1", "/v1/x#y", "/v1/%2e%2e/me"):
        with pytest.raises(ValidationError):
            client._transport.rest.get(path)
    assert rest.connections == before


# -- TLS: a certificate that fails verification is terminal ------------------------------------

@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a throwaway certificate")
    where = tmp_path_factory.mktemp("tls")
    cert, key = str(where / "cert.pem"), str(where / "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-keyout", key, "-out", cert],
                   check=True, capture_output=True, timeout=60)
    return cert, key


class UntrustedTLSServer:
    """A loopback TLS server with a self-signed certificate; counts connection attempts."""

    def __init__(self, cert: tuple[str, str]) -> None:
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(*cert)
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.2)
        self.port = self.server.getsockname()[1]
        self.accepted = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.server.accept()
            except OSError:
                continue
            self.accepted += 1
            conn.settimeout(2)
            with suppress(OSError), self.context.wrap_socket(conn, server_side=True):
                pass  # the client aborts the handshake: it does not trust us
            conn.close()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.server.close()


@pytest.fixture
def untrusted(self_signed: tuple[str, str]) -> Iterator[UntrustedTLSServer]:
    server = UntrustedTLSServer(self_signed)
    try:
        yield server
    finally:
        server.stop()


def test_wss_certificate_failure_is_terminal_not_a_timeout(
        untrusted: UntrustedTLSServer, net: LocalSupernet) -> None:
    client = SogniClient(app_id=f"tls-{uuid.uuid4()}", api_key=net.api_key,
                         rest_endpoint=net.rest_url,
                         socket_endpoint=f"wss://127.0.0.1:{untrusted.port}",
                         retries=Retries(reconnect_base_delay=0.02, reconnect_max_delay=0.05))
    try:
        started = time.monotonic()
        with pytest.raises(TLSError, match="certificate failed verification"):
            client.connect(timeout=10)
        assert time.monotonic() - started < 3
        assert client.offline and client.connection_state == "offline"
        time.sleep(0.3)  # with fast reconnects, a retrying client would try again and again
        assert untrusted.accepted == 1
    finally:
        client.close()


def test_https_certificate_failure_is_terminal_and_not_retried(
        untrusted: UntrustedTLSServer) -> None:
    client = SogniClient(app_id=f"tls-{uuid.uuid4()}", disable_socket=True,
                         rest_endpoint=f"https://127.0.0.1:{untrusted.port}")
    try:
        with pytest.raises(TLSError, match="certificate failed verification") as info:
            client.account.account_balance()
        assert isinstance(info.value, ConnectionLostError)
        assert untrusted.accepted == 1
    finally:
        client.close()


# -- failing fast while the socket host is down ------------------------------------------------

def _wait_state(client: SogniClient, state: str, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if client.connection_state == state:
            return True
        time.sleep(0.02)
    return client.connection_state == state


def test_offline_state_and_send_timeout_fail_fast(proxied: Callable[..., Proxied]) -> None:
    client, sock, _rest = proxied(timeouts=Timeouts(send=1.0))
    client.connect(timeout=10)
    client.catalog.model_options(IMAGE["model_id"])  # cached: create() needs only the socket
    assert client.connection_state == "connected" and not client.offline
    sock.refuse("reset")
    sock.cut()
    assert _wait_state(client, "offline", 3.0), client.connection_state
    assert client.offline
    started = time.monotonic()
    with pytest.raises(TimeoutError, match="last connection attempt"):
        client.projects.create(**IMAGE, positive_prompt="while offline")
    assert time.monotonic() - started < 1.6  # send_timeout, not the 30 s default
    sock.restore()
    client.connect(timeout=10)
    assert client.connection_state == "connected" and not client.offline
    client.close()
    assert client.connection_state == "closed"


def test_pong_timeout_is_passed_to_the_socket(proxied: Callable[..., Proxied]) -> None:
    client, sock, _rest = proxied(timeouts=Timeouts(ping_interval=0.5, pong=2.0))
    client.connect(timeout=10)
    dropped = threading.Event()

    def on_connection(kind: str, _payload: Any) -> None:
        if kind == "disconnected":
            dropped.set()

    client._transport.on_connection(on_connection)
    sock.stall("s2c")
    started = time.monotonic()
    assert dropped.wait(5)
    took = time.monotonic() - started
    assert 1.8 < took < 3.5, took  # the default (2/3 of 0.5 s) would have fired within 1 s


def test_connection_state_idle_and_rejected_credentials_are_not_offline(
        net: LocalSupernet) -> None:
    from sogni_sync.errors import AuthenticationError

    idle = SogniClient(app_id=f"state-{uuid.uuid4()}", rest_endpoint=net.rest_url,
                       socket_endpoint=net.socket_url)
    rejected = SogniClient(app_id=f"state-{uuid.uuid4()}", api_key="not-a-key",
                           rest_endpoint=net.rest_url, socket_endpoint=net.socket_url)
    try:
        assert idle.connection_state == "idle" and not idle.offline
        with pytest.raises(AuthenticationError):
            rejected.connect(timeout=10)
        assert rejected.connection_state == "idle" and not rejected.offline
    finally:
        idle.close()
        rejected.close()
    assert idle.connection_state == "closed"
