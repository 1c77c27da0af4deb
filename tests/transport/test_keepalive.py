"""The keep-alive GET path used for result URL minting (``RestClient.request(..., hot=True)``)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from sogni_sync import Retries
from sogni_sync._config import resolve_options
from sogni_sync._transport.rest import RestClient
from sogni_sync.errors import ConnectionLostError, NotFoundError


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive unless the server decides otherwise

    def do_GET(self) -> None:
        server: Any = self.server
        server.requests.append((self.path, self.headers.get("api-key")))
        status = 404 if self.path.startswith("/missing") else 200
        body = json.dumps({"status": "success", "data": {"url": "http://x/1"}} if status == 200
                          else {"status": "error", "message": "not here", "errorCode": 1})
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())
        # Drop idle keep-alive connections without saying so, as servers and proxies do.
        self.close_connection = server.drop_after_reply

    def log_message(self, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    drop_after_reply = False

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[tuple[str, str | None]] = []
        self.connections = 0

    def get_request(self) -> Any:
        self.connections += 1
        return super().get_request()


@pytest.fixture
def server() -> Iterator[_Server]:
    srv = _Server()
    thread = threading.Thread(target=srv.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


class _Key:
    def rest_headers(self) -> dict[str, str]:
        return {"api-key": "k"}

    def handle_unauthorized(self) -> bool:
        return False


def _rest(server: _Server) -> RestClient:
    base = f"http://127.0.0.1:{server.server_address[1]}"
    return RestClient(resolve_options(rest_endpoint=base, socket_endpoint="ws://127.0.0.1:9"),
                      credentials=_Key())  # type: ignore[arg-type]


def test_reuses_one_connection_and_sends_auth(server: _Server) -> None:
    rest = _rest(server)
    for _ in range(3):
        assert rest.request("GET", "/v1/image/downloadUrl", params={"a": 1}, hot=True) == {
            "url": "http://x/1"}
    assert server.connections == 1
    assert server.requests == [("/v1/image/downloadUrl?a=1", "k")] * 3
    rest.close()


def test_a_dropped_idle_connection_is_replaced(server: _Server) -> None:
    server.drop_after_reply = True
    rest = _rest(server)
    rest.request("GET", "/v1/x", hot=True)
    rest.request("GET", "/v1/x", hot=True)  # the first connection is dead by now
    assert len(server.requests) == 2 and server.connections == 2
    rest.close()


def test_errors_map_like_every_other_call(server: _Server) -> None:
    rest = _rest(server)
    with pytest.raises(NotFoundError, match="not here"):
        rest.request("GET", "/missing", hot=True)
    refused = RestClient(resolve_options(rest_endpoint="http://127.0.0.1:9",
                                         socket_endpoint="ws://127.0.0.1:9",
                                         retries=Retries(attempts=1)),
                         credentials=_Key())  # type: ignore[arg-type]
    with pytest.raises(ConnectionLostError):
        refused.request("GET", "/v1/x", hot=True)


def test_a_proxy_takes_the_ordinary_path(server: _Server, monkeypatch: pytest.MonkeyPatch
                                         ) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("NO_PROXY", "")
    rest = _rest(server)
    with pytest.raises(ConnectionLostError):  # requests went through the (dead) proxy
        rest.request("GET", "/v1/x", hot=True, idempotent=False)
    assert server.requests == []
