"""Socket behaviour against the real local emulator over loopback."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import websocket

from sogni_sync import Limits, Retries, Timeouts
from sogni_sync.errors import (
    AuthenticationError,
    ClientClosedError,
    ConnectionTakenOverError,
    OutboxFullError,
    RequestLostError,
    TimeoutError,
)
from tests.clients import our_threads


def wait_until(predicate: Any, timeout: float = 5.0) -> bool:
    """Test helper only: the library itself never polls."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.005)
    return bool(predicate())


def test_connects_with_api_key_and_query(make_client: Any, sogni_supernet: Any) -> None:
    client = make_client(
        app_source="  tests ",
        socket_event_subscriptions={"modelAvailability": False, "x": "no"},
    )
    client.connect(timeout=5)
    assert client._transport.is_ready
    payload = client._transport.authenticated_payload
    assert payload is not None and payload["username"] == sogni_supernet.username
    url = urlsplit(client._transport.socket_url())
    query = parse_qs(url.query, keep_blank_values=True)
    assert list(query) == ["appId", "appSource", "socketEventSubscriptions", "clientName",
                           "clientType", "forceWorkerId"]
    assert query["appSource"] == ["tests"]
    assert query["socketEventSubscriptions"] == ['{"modelAvailability":false}']
    assert query["clientName"][0].startswith("Sogni/3.0.0 (sogni-sync) ")
    assert query["clientType"] == ["artist"] and query["forceWorkerId"] == ["fast"]
    relaxed = make_client(network="relaxed")
    assert parse_qs(urlsplit(relaxed._transport.socket_url()).query,
                    keep_blank_values=True)["forceWorkerId"] == [""]


def test_socket_url_keeps_path_and_existing_query(make_client: Any) -> None:
    client = make_client(socket_endpoint="ws://127.0.0.1:1/sock?appId=old&keep=1",
                         disable_socket=True)
    url = client._transport.socket_url()
    assert url.startswith("ws://127.0.0.1:1/sock?appId=foundation-")
    assert "keep=1" in url
    secure = make_client(socket_endpoint="https://socket.example", disable_socket=True)
    assert secure._transport.socket_url().startswith("wss://socket.example/?")


def test_no_thread_survives_close(make_client: Any) -> None:
    before = our_threads()
    client = make_client()
    client.connect(timeout=5)
    client.account.me()
    client.on("balanceUpdate", lambda payload: None)
    client._transport.io.submit(lambda: None).result(5)
    client._transport.dispatch(lambda: None)
    client.account.switch_network("relaxed", timeout=5)
    assert our_threads() - before  # socket, callbacks, io, ping
    client.close()
    client.close()  # idempotent
    assert our_threads() - before == set()


def test_close_from_many_threads_at_once(make_client: Any) -> None:
    before = our_threads()
    client = make_client()
    client.connect(timeout=5)
    threads = [threading.Thread(target=client.close) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert wait_until(lambda: not (our_threads() - before), 3)


def test_close_wakes_a_blocked_send(make_client: Any, sogni_supernet: Any) -> None:
    sogni_supernet.faults.delay(30, types="authenticated")  # the socket never becomes ready
    client = make_client()
    errors: list[BaseException] = []
    woke = threading.Event()

    def blocked() -> None:
        try:
            client._transport.send("changeNetwork", "fast", timeout=20)
        except BaseException as exc:
            errors.append(exc)
        woke.set()

    thread = threading.Thread(target=blocked)
    thread.start()
    time.sleep(0.2)
    assert not woke.is_set()
    started = time.monotonic()
    client.close()
    assert woke.wait(1.0)
    assert time.monotonic() - started < 1.0
    assert isinstance(errors[0], ClientClosedError)


def test_send_times_out_without_authentication(make_client: Any, sogni_supernet: Any) -> None:
    sogni_supernet.faults.delay(30, types="authenticated")
    client = make_client()
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        client._transport.send("changeNetwork", "fast", timeout=0.3)
    assert 0.25 < time.monotonic() - started < 2
    assert len(client._transport._delivery.outbox) == 0


def test_reconnect_after_drop_and_send_waits(make_client: Any, sogni_supernet: Any) -> None:
    client = make_client()
    events: list[tuple[str, Any]] = []
    client._transport.on_connection(lambda kind, payload: events.append((kind, payload)))
    client.connect(timeout=5)
    first = client._transport.authenticated_payload
    sogni_supernet.faults.drop_after(0)  # the answer to the next message kills the socket
    client._transport.send("changeNetwork", "relaxed")
    assert wait_until(lambda: any(k == "disconnected" for k, _ in events))
    # A send during/after the drop waits for the reconnect instead of failing.
    client.account.switch_network("fast", timeout=5)
    assert client._transport.authenticated_payload is not first
    kinds = [k for k, _ in events]
    assert kinds.count("authenticated") >= 1
    disconnected = next(p for k, p in events if k == "disconnected")
    assert disconnected["terminal"] is False


def test_4021_is_terminal_and_clears_auth(make_client: Any, sogni_supernet: Any) -> None:
    client = make_client()
    client.connect(timeout=5)
    events: list[Any] = []
    client._transport.on_connection(lambda kind, payload: events.append((kind, payload)))
    sogni_supernet.faults.close_after(0, 4021, "Authentication failed")
    client._transport.send("changeNetwork", "relaxed")
    assert wait_until(lambda: ("disconnected" in [k for k, _ in events]))
    payload = next(p for k, p in events if k == "disconnected")
    assert payload["code"] == 4021 and payload["terminal"] is True
    with pytest.raises(AuthenticationError):
        client._transport.send("changeNetwork", "fast", timeout=2)
    assert client.is_authenticated is False
    assert not client._transport.socket_thread.is_alive()


def test_refused_handshake_fails_waiters_fast(make_client: Any, sogni_supernet: Any) -> None:
    sogni_supernet.faults.refuse_connects(1, code=4021)
    client = make_client()
    started = time.monotonic()
    with pytest.raises(AuthenticationError):
        client.connect(timeout=10)
    assert time.monotonic() - started < 2


def test_4015_takeover(make_client: Any) -> None:
    first = make_client()
    first.connect(timeout=5)
    closed: list[Any] = []
    taken_over = threading.Event()

    def on_connection(kind: str, payload: Any) -> None:
        if kind == "disconnected":
            closed.append(payload)
            taken_over.set()

    first._transport.on_connection(on_connection)
    second = make_client(app_id=first.app_id)
    second.connect(timeout=5)
    # The first client is idle, so it reads the server's 4015 close frame. (A write racing the
    # close can hit a reset socket first and lose the code; the TCP drop then looks ordinary.)
    assert taken_over.wait(5)
    assert closed[0]["code"] == 4015 and closed[0]["terminal"] is True
    with pytest.raises(ConnectionTakenOverError):
        first._transport.send("changeNetwork", "fast", timeout=2)
    assert second._transport.is_ready


def test_uncertain_request_the_server_does_not_know_is_resent_with_same_bytes(
    make_client: Any, sogni_supernet: Any
) -> None:
    client = make_client()
    client.connect(timeout=5)
    asked: list[str] = []
    # the server read it and dropped it; asked after the reconnect, it does not know the id

    def lookup(rid: str) -> bool:
        asked.append(rid)
        return False

    client._transport.track("setSocketEventSubscriptions", listed_in=("activeProjects",),
                           lookup=lookup)
    sogni_supernet.faults.forget_next("setSocketEventSubscriptions", 1)
    client._transport.send("setSocketEventSubscriptions", {"subscriptions": {"x": True}},
                          request_id="req-1")
    assert wait_until(lambda: len(sogni_supernet.received("setSocketEventSubscriptions")) == 1)
    entry = client._transport._delivery.outbox.get("REQ-1")
    assert entry is not None
    client._transport._socket.drop()
    assert wait_until(lambda: len(sogni_supernet.received("setSocketEventSubscriptions")) == 2)
    first, second = sogni_supernet.received("setSocketEventSubscriptions")
    assert first == second
    assert asked == ["REQ-1"]
    assert wait_until(lambda: entry.sends == 2)  # the writer counts it once its write returns


def test_untracked_request_in_doubt_is_lost_never_resent(
    make_client: Any, sogni_supernet: Any
) -> None:
    client = make_client()
    lost: list[Any] = []
    client.on("request_lost", lost.append)
    client.connect(timeout=5)
    sogni_supernet.faults.forget_next("setSocketEventSubscriptions", 1)
    client._transport.send("setSocketEventSubscriptions", {}, request_id="req-2")
    assert wait_until(lambda: len(sogni_supernet.received("setSocketEventSubscriptions")) == 1)
    client._transport._socket.drop()
    assert wait_until(lambda: bool(lost))
    assert lost[0]["request_id"] == "REQ-2"
    assert isinstance(lost[0]["error"], RequestLostError)
    assert "cannot be asked" in str(lost[0]["error"])
    client.connect(timeout=5)
    time.sleep(0.2)
    assert len(sogni_supernet.received("setSocketEventSubscriptions")) == 1  # never a second
    assert client._transport._delivery.outbox.get("REQ-2") is None


def test_ack_by_job_id_clears_outbox(make_client: Any, sogni_supernet: Any) -> None:
    client = make_client()
    client.connect(timeout=5)
    client._transport.track("jobError", named_by="jobID")
    client._transport.send("jobError", {"jobID": "abc-1", "error": "artistCanceled",
                                        "error_message": "artistCanceled",
                                        "isFromWorker": False}, request_id="abc-1")
    assert wait_until(lambda: len(client._transport._delivery.outbox) == 0)


def test_outbox_bound(make_client: Any, sogni_supernet: Any) -> None:
    sogni_supernet.faults.delay(30, types="authenticated")
    client = make_client(limits=Limits(outbox_requests=1))
    outcome: list[BaseException] = []

    def blocked() -> None:
        try:
            client._transport.send("a", {}, timeout=5)
        except BaseException as exc:
            outcome.append(exc)

    blocker = threading.Thread(target=blocked)
    blocker.start()
    assert wait_until(lambda: len(client._transport._delivery.outbox) == 1)
    with pytest.raises(OutboxFullError):
        client._transport.send("b", {}, timeout=5)
    client.close()
    blocker.join(2)
    assert isinstance(outcome[0], ClientClosedError)


def test_callbacks_run_on_dispatcher_and_errors_are_logged(
    make_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client(disable_socket=True)
    seen: list[str] = []
    done = threading.Event()

    def bad(_: Any) -> None:
        raise RuntimeError("boom")

    def good(payload: Any) -> None:
        seen.append(threading.current_thread().name)
        done.set()

    client.on("connected", bad)
    client.on("authenticated", good)
    with caplog.at_level(logging.ERROR, logger="sogni_sync"):
        client.connect(timeout=5)
        assert done.wait(5)
    assert seen == ["sogni-callbacks"]
    assert "boom" in caplog.text


def test_socket_event_subscriptions_follow_server(make_client: Any, sogni_supernet: Any) -> None:
    client = make_client()
    client.connect(timeout=5)
    got = threading.Event()
    client.on("socketEventSubscriptionsUpdated", lambda p: got.set())
    client.set_socket_event_subscriptions({"modelAvailability": False, "bogus": 1})
    assert got.wait(5)
    assert sogni_supernet.received("setSocketEventSubscriptions")[-1] == {
        "subscriptions": {"modelAvailability": False}
    }
    assert client._transport.socket_event_subscriptions.get("modelAvailability") is False


def test_malformed_frames_are_dropped(make_client: Any, sogni_supernet: Any) -> None:
    client = make_client()
    client.connect(timeout=5)
    for kind in ("garbage", "no_data", "bad_base64", "not_object"):
        sogni_supernet.faults.malformed(1, kind=kind)
        assert client.account.switch_network("relaxed", timeout=5) == "relaxed"
    assert client._transport.is_ready


def test_unreachable_server_times_out_with_hint(make_client: Any) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = make_client(socket_endpoint=f"ws://127.0.0.1:{port}")
    with pytest.raises(TimeoutError, match="ConnectionRefusedError"):
        client.connect(timeout=0.5)


def test_concurrent_senders_across_a_drop(make_client: Any, sogni_supernet: Any) -> None:
    """Many threads send requests with ids while the connection drops: each id reaches the
    server or, when it was in doubt and nobody can ask the server, is reported lost; none
    reaches it twice, and the outbox ends empty."""
    client = make_client()
    client.connect(timeout=5)
    lost: list[str] = []
    client._transport.on_connection(
        lambda k, p: lost.append(p["request_id"]) if k == "request_lost" else None)
    client._transport.track("jobError", named_by="jobID")  # the server's events name the id
    ids = [f"00000000-0000-4000-8000-{i:012d}" for i in range(40)]
    errors: list[BaseException] = []

    def cancel(job_id: str) -> None:
        try:
            client._transport.send("jobError", {"jobID": job_id, "error": "artistCanceled",
                                                "error_message": "artistCanceled",
                                                "isFromWorker": False}, request_id=job_id)
        except BaseException as exc:
            errors.append(exc)

    sogni_supernet.faults.drop_after(10)
    threads = [threading.Thread(target=cancel, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert errors == []
    assert wait_until(lambda: len(client._transport._delivery.outbox) == 0, 10)
    received = [p["jobID"] for p in sogni_supernet.received("jobError")]
    assert set(received) | set(lost) == set(ids)
    assert max(received.count(i) for i in ids) == 1


def test_close_during_reconnect_backoff_is_prompt(make_client: Any, sogni_supernet: Any) -> None:
    before = our_threads()
    client = make_client(retries=Retries(reconnect_base_delay=30, reconnect_max_delay=30))
    client.connect(timeout=5)
    sogni_supernet.faults.refuse_connects(1, code=1011)  # the reconnect fails: long backoff
    client._transport._socket.drop()
    time.sleep(0.2)
    started = time.monotonic()
    client.close()
    assert time.monotonic() - started < 1.0
    assert our_threads() - before == set()


def test_silent_server_handshake_is_bounded(make_client: Any) -> None:
    import socket

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.05)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            accepted.append(conn)  # never answers the upgrade

    acceptor = threading.Thread(target=accept)
    acceptor.start()
    before = our_threads()
    try:
        port = server.getsockname()[1]
        client = make_client(socket_endpoint=f"ws://127.0.0.1:{port}",
                             timeouts=Timeouts(connect=0.2))
        with pytest.raises(TimeoutError, match="handshake timed out"):
            client.connect(timeout=1.0)
        assert len(accepted) >= 2  # the watchdog cut the first attempt and it reconnected
        client.close()
        assert our_threads() - before == set()
    finally:
        stop.set()
        acceptor.join(2)
        for conn in accepted:
            conn.close()
        server.close()


def test_other_4xxx_codes_are_terminal_until_connect(make_client: Any, sogni_supernet: Any) -> None:
    from sogni_sync.errors import ConnectionLostError

    client = make_client()
    client.connect(timeout=5)
    sogni_supernet.faults.close_after(0, 4010, "App ID blocked")
    client._transport.send("changeNetwork", "relaxed")
    with pytest.raises(ConnectionLostError) as info:
        for _ in range(500):
            client._transport.send("changeNetwork", "fast", timeout=2)
            time.sleep(0.01)
    assert info.value.code == 4010 and type(info.value) is ConnectionLostError
    assert client.is_authenticated  # only 4021 forgets the credentials
    client.connect(timeout=5)  # an explicit connect() starts over
    assert client._transport.is_ready


def test_close_code_survives_a_failed_close_reply(make_client: Any, sogni_supernet: Any) -> None:
    """The server's 4021 must win even when our reply to its close frame hits a broken pipe."""
    client = make_client()
    client.connect(timeout=5)
    ws = client._transport._socket._app.sock
    send = ws.send

    def broken_close_reply(payload: Any, opcode: int = websocket.ABNF.OPCODE_TEXT) -> int:
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            raise BrokenPipeError(32, "Broken pipe")
        result: int = send(payload, opcode)
        return result

    ws.send = broken_close_reply
    closed = threading.Event()
    seen: list[Any] = []

    def on_connection(kind: str, payload: Any) -> None:
        if kind == "disconnected":
            seen.append(payload)
            closed.set()

    client._transport.on_connection(on_connection)
    sogni_supernet.faults.close_after(0, 4021, "Authentication failed",
                                      app_id=client.app_id)
    client._transport.send("changeNetwork", "relaxed")
    assert closed.wait(5)
    assert seen[0]["code"] == 4021 and seen[0]["terminal"] is True
