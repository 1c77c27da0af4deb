"""RestClient units against ``responses`` (no network)."""

from __future__ import annotations

import email.utils
import io
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import responses
from responses import matchers

from sogni_sync import Retries, Timeouts
from sogni_sync._config import resolve_options
from sogni_sync._transport import check_path, quote_segment
from sogni_sync._transport.rest import RestClient, format_query, http_base, parse_retry_after
from sogni_sync.errors import (
    ApiError,
    AuthenticationError,
    ClientClosedError,
    ConnectionLostError,
    InsufficientFundsError,
    NotFoundError,
    RateLimitError,
    ServerError,
    TimeoutError,
    UnexpectedResponseError,
    ValidationError,
)

REST = "https://rest.example"


class KeyCreds:
    def __init__(self) -> None:
        self.refreshes = 0
        self.token = "t1"

    def rest_headers(self) -> dict[str, str]:
        return {"Authorization": self.token}

    def socket_headers(self) -> list[str]:
        return []

    def prepare_connect(self, timeout: float) -> None:
        return None

    def handle_unauthorized(self) -> bool:
        self.refreshes += 1
        self.token = "t2"
        return True

    @property
    def is_authenticated(self) -> bool:
        return True


def make(**kw: Any) -> RestClient:
    opts = resolve_options(
        app_id="a",
        rest_endpoint=kw.pop("rest", REST + "/some/prefix"),
        socket_endpoint=kw.pop("socket", "wss://sock.example:8443/ws"),
        **kw,
    )
    return RestClient(opts, credentials=KeyCreds())


def test_http_base_and_prefix_dropping() -> None:
    assert http_base("wss://socket.sogni.ai") == "https://socket.sogni.ai"
    assert http_base("ws://127.0.0.1:8080/x") == "http://127.0.0.1:8080"
    assert http_base("http://h:1/prefix") == "http://h:1"
    rest = make()
    assert rest.url("/v1/account/me") == REST + "/v1/account/me"
    assert rest.url("/api/v1/models/list", "socket") == "https://sock.example:8443/api/v1/models/list"


def test_query_formatting_js_style() -> None:
    q = format_query({"a": 7.0, "b": 0.1 + 0.2, "c": True, "d": None, "e": [1, 2.5], "f": "x y"})
    assert q == [("a", "7"), ("b", "0.30000000000000004"), ("c", "true"), ("e", "1,2.5"),
                 ("f", "x y")]


@responses.activate
def test_envelope_and_bare_json() -> None:
    responses.get(REST + "/v1/account/me", json={"status": "success", "data": {"u": 1}},
                  match=[matchers.header_matcher({"Authorization": "t1"})])
    responses.get("https://sock.example:8443/api/v1/models/list", json=[{"id": "m"}])
    responses.post(REST + "/v1/account/username/validate", json={"status": "success"})
    rest = make()
    assert rest.get("/v1/account/me") == {"u": 1}
    assert rest.get("/api/v1/models/list", host="socket") == [{"id": "m"}]
    assert rest.post("/v1/account/username/validate", json={"username": "x"}) is None
    assert responses.calls[2].request.headers["Content-Type"] == "application/json"


@responses.activate
def test_query_string_on_the_wire() -> None:
    responses.get(REST + "/v1/x", json={"data": 1})
    make().get("/v1/x", params={"jobId": "A", "n": 2.0, "flag": False, "skip": None})
    assert responses.calls[0].request.url == REST + "/v1/x?jobId=A&n=2&flag=false"


@pytest.mark.parametrize(
    ("status", "cls"),
    [(401, AuthenticationError), (404, NotFoundError), (429, RateLimitError),
     (500, ServerError), (400, ApiError)],
)
@responses.activate
def test_error_mapping(status: int, cls: type[ApiError]) -> None:
    body = {"status": "error", "message": "nope", "errorCode": 77}
    responses.post(REST + "/v1/y", json=body, status=status)
    rest = make()
    rest.credentials = type("NoRefresh", (KeyCreds,), {"handle_unauthorized": lambda s: False})()
    with pytest.raises(cls) as info:
        rest.post("/v1/y", json={})
    assert type(info.value) is cls
    assert info.value.status == status
    assert info.value.error_code == 77
    assert info.value.message == "nope"
    assert len(responses.calls) == 1  # POST is never retried by default


@responses.activate
def test_insufficient_funds_and_non_json_error() -> None:
    responses.post(REST + "/v1/a", json={"status": "error", "message": "poor", "errorCode": 123},
                   status=400)
    responses.get(REST + "/v1/b", body="<html>bad gateway</html>", status=418)
    responses.get(REST + "/v1/c", body="not json", status=200)
    rest = make()
    with pytest.raises(InsufficientFundsError):
        rest.post("/v1/a")
    with pytest.raises(ApiError, match="bad gateway"):
        rest.get("/v1/b")
    with pytest.raises(ApiError, match="Failed to parse response"):
        rest.get("/v1/c")


@responses.activate
def test_retry_on_429_honours_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    responses.get(REST + "/v4/account/balance", json={"status": "error", "message": "slow",
                  "errorCode": 0}, status=429, headers={"Retry-After": "2"})
    responses.get(REST + "/v4/account/balance", json={"status": "error", "message": "busy"},
                  status=503, headers={"Retry-After": email.utils.formatdate(time.time() + 30,
                                                                              usegmt=True)})
    responses.get(REST + "/v4/account/balance", json={"status": "success", "data": {"ok": 1}})
    rest = make(retries=Retries(max_wait=10))
    slept: list[float] = []
    monkeypatch.setattr(rest, "_sleep", slept.append)
    assert rest.get("/v4/account/balance") == {"ok": 1}
    assert len(responses.calls) == 3
    assert slept[0] == 2.0
    assert slept[1] == 10.0  # HTTP-date ~30 s away, capped at retry_max_wait


@responses.activate
def test_retries_are_bounded_and_post_opt_in(monkeypatch: pytest.MonkeyPatch) -> None:
    responses.get(REST + "/v1/g", status=502, json={"message": "bad"})
    responses.post(REST + "/v1/p", status=504, json={"message": "bad"})
    rest = make()
    monkeypatch.setattr(rest, "_sleep", lambda s: None)
    with pytest.raises(ServerError):
        rest.get("/v1/g")
    assert len(responses.calls) == 3
    with pytest.raises(ServerError):
        rest.post("/v1/p", idempotent=True)
    assert len(responses.calls) == 6
    responses.get(REST + "/v1/h", status=500, json={"message": "bad"})
    with pytest.raises(ServerError):
        rest.get("/v1/h")  # 500 is not transient
    assert len(responses.calls) == 7


@responses.activate
def test_connection_errors_retry_then_map(monkeypatch: pytest.MonkeyPatch) -> None:
    responses.get(REST + "/v1/c", body=requests.ConnectionError("refused"))
    rest = make()
    monkeypatch.setattr(rest, "_sleep", lambda s: None)
    with pytest.raises(ConnectionLostError):
        rest.get("/v1/c")
    assert len(responses.calls) == 3


@responses.activate
def test_close_cuts_retry_wait_short() -> None:
    responses.get(REST + "/v1/r", status=429, json={"message": "x"},
                  headers={"Retry-After": "50"})
    rest = make(timeouts=Timeouts(request=100))  # the 50 s wait fits in the call's deadline
    threading.Timer(0.1, rest.closing.set).start()
    started = time.monotonic()
    with pytest.raises(ClientClosedError):
        rest.get("/v1/r")
    assert time.monotonic() - started < 1.0


@responses.activate
def test_a_retry_wait_past_the_deadline_raises_at_once() -> None:
    """The overall deadline covers retries: waiting 50 s with 30 s left would only fail later."""
    responses.get(REST + "/v1/r", status=429, json={"message": "x"},
                  headers={"Retry-After": "50"})
    started = time.monotonic()
    with pytest.raises(RateLimitError):
        make(retries=Retries(max_wait=60)).get("/v1/r")
    assert time.monotonic() - started < 1.0
    assert len(responses.calls) == 1


@responses.activate
def test_401_refreshes_once_and_retries() -> None:
    responses.get(REST + "/v1/me", status=401, json={"message": "expired"},
                  match=[matchers.header_matcher({"Authorization": "t1"})])
    responses.get(REST + "/v1/me", json={"data": "ok"},
                  match=[matchers.header_matcher({"Authorization": "t2"})])
    rest = make()
    assert rest.get("/v1/me") == "ok"
    assert rest.credentials.refreshes == 1  # type: ignore[attr-defined]


@responses.activate
def test_timeouts_default_and_given(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Any] = []
    rest = make()
    real = rest._send_direct

    def spy(*a: Any) -> Any:
        seen.append(a[-1])  # the timeout
        return real(*a)

    monkeypatch.setattr(rest, "_send_direct", spy)
    responses.get(REST + "/v1/t", json={"data": 1})
    responses.post(REST + "/v1/bare", json={"id": "c"})
    rest.get("/v1/t")
    assert rest.post("/v1/bare", json={}, envelope=False, timeout=300) == {"id": "c"}
    rest.get("/v1/t", timeout=3)
    # (connect, read): both bounded by what is left of the call's overall deadline
    connects = [c for c, _ in seen]
    reads = [r for _, r in seen]
    assert connects == pytest.approx([30.0, 30.0, 3], abs=0.5)
    assert reads == pytest.approx([30.0, 300.0, 3], abs=0.5)
    assert all(r <= limit for r, limit in zip(reads, [30.0, 300.0, 3], strict=True))


@responses.activate
def test_presigned_put_streams_file_without_auth(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = "https://storage.example/up?X-Signature=secret"
    responses.put(target)
    path = tmp_path / "a.bin"
    path.write_bytes(b"x" * 100_000)
    rest = make()
    bodies: list[Any] = []
    real_request = rest._session.request

    def spy(method: str, url: str, **kw: Any) -> Any:
        bodies.append(kw["data"])
        return real_request(method, url, **kw)

    monkeypatch.setattr(rest._session, "request", spy)
    rest.put_presigned(target, path, "image/png")
    rest.put_presigned(target, str(path), None)
    rest.put_presigned(target, io.BytesIO(b"abc"), "image/png")
    rest.put_presigned(target, b"raw", None)
    for call in responses.calls:
        assert "Authorization" not in call.request.headers
        assert "api-key" not in call.request.headers
    assert responses.calls[0].request.headers["Content-Type"] == "image/png"
    assert "Content-Type" not in responses.calls[1].request.headers
    assert hasattr(bodies[0], "read") and hasattr(bodies[1], "read")  # streamed, not read whole
    assert responses.calls[0].request.body == b"x" * 100_000
    responses.put("https://storage.example/bad", status=403)
    with pytest.raises(ApiError) as info:
        rest.put_presigned("https://storage.example/bad", b"x")
    assert info.value.status == 403


@responses.activate
def test_get_bytes_and_stream_to() -> None:
    responses.get("https://cdn.example/r.png?sig=1", body=b"\x89PNG data")
    rest = make()
    assert rest.get_bytes("https://cdn.example/r.png?sig=1") == b"\x89PNG data"
    buf = io.BytesIO()
    assert rest.stream_to("https://cdn.example/r.png?sig=1", buf) == 9
    assert buf.getvalue() == b"\x89PNG data"
    assert "Authorization" not in responses.calls[0].request.headers


@responses.activate
def test_stream_lines_sse() -> None:
    responses.get(REST + "/v1/creative-agent/workflows/w/events",
                  body=b"event: a\r\ndata: 1\r\n\r\ndata: 2\nlast",
                  content_type="text/event-stream")
    lines = list(make().stream_lines("GET", "/v1/creative-agent/workflows/w/events"))
    assert lines == ["event: a", "data: 1", "", "data: 2", "last"]
    responses.get(REST + "/v1/bad", status=404, json={"message": "no"})
    with pytest.raises(NotFoundError):
        make().stream_lines("GET", "/v1/bad")


def test_parse_retry_after() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("1000", cap=60) == 60
    assert parse_retry_after("garbage") is None
    assert parse_retry_after(None) is None
    future = email.utils.formatdate(time.time() + 20, usegmt=True)
    value = parse_retry_after(future)
    assert value is not None and 15 < value <= 20


@responses.activate
def test_signed_query_strings_stay_out_of_debug_logs(caplog: pytest.LogCaptureFixture) -> None:
    import logging

    responses.get("https://cdn.example/r.png?X-Amz-Signature=topsecret", body=b"x")
    caplog.set_level(logging.DEBUG)
    rest = make()
    rest.get_bytes("https://cdn.example/r.png?X-Amz-Signature=topsecret")
    logging.getLogger("urllib3.connectionpool").debug(
        '%s://%s:%s "%s %s %s" %s', "https", "cdn.example", 443, "GET",
        "/r.png?X-Amz-Signature=topsecret", "HTTP/1.1", 200)
    assert "r.png" in caplog.text
    assert "topsecret" not in caplog.text


def test_stream_calls_raise_our_errors_on_connection_failure() -> None:
    """Streaming calls sit outside the retry loop; they must still raise the public errors."""
    rest = RestClient(resolve_options(rest_endpoint="http://127.0.0.1:9"), credentials=KeyCreds())
    with pytest.raises(ConnectionLostError):
        rest.stream_to("http://127.0.0.1:9/file", io.BytesIO())
    with pytest.raises(ConnectionLostError):
        rest.stream_lines("GET", "/v1/creative-agent/workflows/x/events")


def test_proxy_settings_are_read_once_per_host(monkeypatch: pytest.MonkeyPatch) -> None:
    """The environment's proxies apply (no_proxy honoured) without a scan on every call."""
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.invalid:3128")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    rest = make(rest="https://api.example", socket="ws://127.0.0.1:9")
    assert rest._proxies("https://api.example/v1/x")["https"] == "http://proxy.invalid:3128"
    assert rest._proxies("http://127.0.0.1:9/api/x") == {}
    monkeypatch.delenv("HTTPS_PROXY")  # read once: the cached decision stands
    assert rest._proxies("https://api.example/v2/y")["https"] == "http://proxy.invalid:3128"


@responses.activate
def test_error_nested_in_data_is_read() -> None:
    """Creative-workflow errors may arrive as ``{"data": {"message", "errorCode"}}``."""
    responses.get(REST + "/v1/creative-agent/workflows/w1", status=409,
                  json={"data": {"message": "workflow already finished", "errorCode": 7}})
    with pytest.raises(ApiError, match="workflow already finished") as info:
        make().get("/v1/creative-agent/workflows/w1")
    assert info.value.error_code == 7 and info.value.status == 409


# -- ids in paths (issue 11 D10) ------------------------------------------------------------------


def test_quote_segment_keeps_a_value_in_one_segment() -> None:
    assert quote_segment("a/b?c#d e") == "a%2Fb%3Fc%23d%20e"
    assert quote_segment("ABC-123_x.y~") == "ABC-123_x.y~"
    assert quote_segment("%2e%2e") == "%252e%252e"  # a literal once quoted: harmless
    for bad in (".", ".."):
        with pytest.raises(ValidationError, match="dot segment"):
            quote_segment(bad, "project_id")
    with pytest.raises(ValidationError, match="project_id must be a string"):
        quote_segment(5, "project_id")


@pytest.mark.parametrize("path", ["/v1/a/../b", "/v1/./b", "/v1/%2E%2e/b", "/v1/x?y=1",
                                  "/v1/x#y", "/v1/x\\..\\y", "/v1/x y", "/v1/x\r\nHost: evil"])
@responses.activate
def test_unsafe_paths_are_refused_before_any_request(path: str) -> None:
    rest = make()
    with pytest.raises(ValidationError):
        rest.get(path)
    with pytest.raises(ValidationError):
        list(rest.stream_lines("GET", path))
    assert len(responses.calls) == 0
    assert check_path("/v1/leaderboard/") == "/v1/leaderboard/"


# -- transport failures (issue 11 D7) ------------------------------------------------------------


def test_a_post_that_never_connected_is_retried_one_that_was_sent_is_not(
        monkeypatch: pytest.MonkeyPatch) -> None:
    rest = RestClient(resolve_options(rest_endpoint="http://127.0.0.1:9"), credentials=KeyCreds())
    monkeypatch.setattr(rest, "_sleep", lambda s: None)
    sent: list[str] = []
    real = rest._send_direct

    def spy(*a: Any) -> Any:
        sent.append(a[0])
        return real(*a)

    monkeypatch.setattr(rest, "_send_direct", spy)
    with pytest.raises(ConnectionLostError) as info:
        rest.post("/v1/p", json={})
    assert sent == ["POST"] * 3  # connection refused: no byte left, so safe to try again
    assert isinstance(info.value.__cause__, requests.ConnectionError)


@responses.activate
def test_mid_body_failures_are_sogni_errors_with_the_cause(monkeypatch: pytest.MonkeyPatch) -> None:
    broken = requests.exceptions.ChunkedEncodingError("Connection broken: IncompleteRead")
    responses.post(REST + "/v1/p", body=broken)
    responses.get(REST + "/v1/g", body=requests.exceptions.ContentDecodingError("bad gzip"))
    rest = make()
    monkeypatch.setattr(rest, "_sleep", lambda s: None)
    with pytest.raises(ConnectionLostError) as info:
        rest.post("/v1/p", json={})
    assert info.value.__cause__ is broken
    assert len(responses.calls) == 1  # the request was sent: never again
    with pytest.raises(ConnectionLostError):
        rest.get("/v1/g")
    assert len(responses.calls) == 4  # an idempotent GET: retried, bounded


@responses.activate
def test_signed_urls_stay_out_of_failure_causes(monkeypatch: pytest.MonkeyPatch) -> None:
    url = "https://cdn.example/r.png?X-Signature=topsecret"
    responses.get(url, body=requests.ConnectionError(f"failed for {url}"))
    rest = make()
    monkeypatch.setattr(rest, "_sleep", lambda s: None)
    with pytest.raises(ConnectionLostError) as info:
        rest.get_bytes(url)
    assert "topsecret" not in str(info.value) and "topsecret" not in str(info.value.__cause__)


@responses.activate
def test_a_200_that_is_not_json_is_an_unexpected_response() -> None:
    responses.get(REST + "/v1/c", body="<html>portal</html>", status=200)
    with pytest.raises(UnexpectedResponseError, match="/v1/c") as info:
        make().get("/v1/c")
    assert isinstance(info.value, ApiError) and info.value.path.endswith("/v1/c")


@responses.activate
def test_a_header_that_cannot_be_sent_is_a_validation_error() -> None:
    rest = make()
    with pytest.raises(ValidationError, match="cannot be sent"):
        rest.get("/v1/x", headers={"X-Bad": "a\nb"})
    assert len(responses.calls) == 0


def test_bad_timeouts_are_validation_errors() -> None:
    rest = make()
    for bad in (0, -1, "5", True):
        with pytest.raises(ValidationError):
            rest.get("/v1/x", timeout=bad)


# -- overall deadline and close() (issue 11 D8), against a hostile loopback server -------------


class DripServer:
    """Answers every request with headers, then one body byte per ``delay`` seconds, forever."""

    def __init__(self, delay: float = 0.05) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.1)
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}"
        self.delay = delay
        self.accepted = 0
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.server.accept()
            except OSError:
                continue
            self.accepted += 1
            thread = threading.Thread(target=self._drip, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _drip(self, conn: socket.socket) -> None:
        with conn:
            try:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                             b"Content-Length: 100000\r\n\r\n")
                while not self._stop.wait(self.delay):
                    conn.sendall(b" ")
            except OSError:
                return

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(2)
        self.server.close()


@pytest.fixture
def drip() -> Iterator[DripServer]:
    server = DripServer()
    try:
        yield server
    finally:
        server.stop()


def test_drip_fed_body_ends_at_the_deadline(drip: DripServer) -> None:
    rest = RestClient(resolve_options(rest_endpoint=drip.url, timeouts=Timeouts(request=0.5)),
                      credentials=KeyCreds())
    for call in (lambda: rest.get("/v1/x"), lambda: rest.get("/v1/x", hot=True),
                 lambda: rest.get_bytes(drip.url + "/f", timeout=0.5),
                 lambda: rest.stream_to(drip.url + "/f", io.BytesIO(), timeout=0.5)):
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            call()
        assert time.monotonic() - started < 1.0
    rest.close()


def _deadline_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name == "sogni-rest-deadline"}


@pytest.mark.parametrize("kind", ["get", "hot", "bytes", "stream", "lines", "upload"])
def test_close_interrupts_every_kind_of_call(drip: DripServer, kind: str) -> None:
    before = _deadline_threads()
    rest = RestClient(resolve_options(rest_endpoint=drip.url), credentials=KeyCreds())
    run = {
        "get": lambda: rest.get("/v1/x"),
        "hot": lambda: rest.get("/v1/x", hot=True),
        "bytes": lambda: rest.get_bytes(drip.url + "/f"),
        "stream": lambda: rest.stream_to(drip.url + "/f", io.BytesIO()),
        "lines": lambda: list(rest.stream_lines("GET", "/v1/sse")),
        "upload": lambda: rest.put_presigned(drip.url + "/up", b"x" * (64 << 20)),
    }[kind]
    out: dict[str, Any] = {}

    def target() -> None:
        try:
            out["value"] = run()
        except BaseException as exc:
            out["error"] = exc
        out["at"] = time.monotonic()

    thread = threading.Thread(target=target)
    thread.start()
    time.sleep(0.3)
    closed = time.monotonic()
    rest.closing.set()
    rest.close()
    thread.join(3)
    assert not thread.is_alive()
    assert out["at"] - closed < 1.0
    if kind != "lines":  # an SSE stream ends quietly on close, as before
        assert isinstance(out.get("error"), ClientClosedError), out
    assert _deadline_threads() - before == set()  # close() ends the client's thread


@pytest.fixture
def blackholed_url() -> Iterator[str]:
    """A port whose SYNs go unanswered: a listener with a full accept queue."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    filler = socket.create_connection(server.getsockname(), timeout=2)
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        filler.close()
        server.close()


@pytest.mark.parametrize("hot", [False, True])
def test_close_interrupts_a_call_still_connecting(blackholed_url: str, hot: bool) -> None:
    rest = RestClient(resolve_options(rest_endpoint=blackholed_url), credentials=KeyCreds())
    out: dict[str, Any] = {}

    def target() -> None:
        try:
            rest.get("/v1/x", hot=hot)
        except BaseException as exc:
            out["error"] = exc
        out["at"] = time.monotonic()

    thread = threading.Thread(target=target)
    thread.start()
    time.sleep(0.3)  # in the TCP connect: no answer will ever come
    assert thread.is_alive()
    closed = time.monotonic()
    rest.closing.set()
    rest.close()
    thread.join(3)
    assert not thread.is_alive() and out["at"] - closed < 1.0
    assert isinstance(out.get("error"), ClientClosedError), out



def test_error_retry_after_and_details_from_the_body_first() -> None:
    from sogni_sync._transport.failures import error_for_status

    body = {"status": "error", "message": "busy", "errorCode": 7, "retryAfter": 12,
            "details": {"running": 3, "limit": 3}}
    err = error_for_status(409, body, {"Retry-After": "99"}, "")
    assert type(err) is ApiError
    assert (err.retry_after, err.details, err.error_code) == (12.0, {"running": 3, "limit": 3}, 7)
    # the header when the body has no usable value; a non-object details is dropped
    err = error_for_status(503, {"message": "restarting", "retryAfter": -1, "details": [1]},
                           {"Retry-After": "5"}, "")
    assert isinstance(err, ServerError)
    assert (err.retry_after, err.details) == (5.0, None)
    err = error_for_status(429, {"message": "slow down", "retryAfter": "7"}, {}, "")
    assert isinstance(err, RateLimitError) and err.retry_after is None
    # a plain-text body is the message
    err = error_for_status(400, None, {}, "Bad things happened\n")
    assert (err.message, err.retry_after, err.details) == ("Bad things happened", None, None)


@responses.activate
def test_a_refusal_carries_retry_after_and_details_to_the_caller() -> None:
    responses.post(REST + "/v1/runs", status=409, headers={"Retry-After": "30"},
                   json={"status": "error", "message": "too many runs", "errorCode": 4,
                         "details": {"active": 5, "limit": 5}})
    with pytest.raises(ApiError) as info:
        make().post("/v1/runs", {})
    assert (info.value.status, info.value.retry_after) == (409, 30.0)
    assert info.value.details == {"active": 5, "limit": 5}
