"""Fixtures for the emulator's own tests: plain requests + websocket-client, no SDK."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from urllib.parse import quote

import pytest

from sogni_sync.testing import LocalSupernet

from .helpers import Ws

# ``net`` (the session emulator, reset after each test) comes from tests/conftest.py.


@pytest.fixture
def connect(net: LocalSupernet) -> Iterator[Callable[..., Ws]]:
    opened: list[Ws] = []

    def make(app_id: str | None = None, headers: list[str] | None = None, handshake: bool = True,
             **query: str) -> Ws:
        params = {"appId": app_id or f"t-{uuid.uuid4()}", "clientType": "artist",
                  "forceWorkerId": "fast", **query}
        qs = "&".join(f"{k}={quote(v)}" for k, v in params.items())
        ws = Ws(f"{net.socket_url}/?{qs}",
                headers if headers is not None else [f"api-key: {net.api_key}"])
        opened.append(ws)
        if handshake:
            ws.handshake()
        return ws

    yield make
    for ws in opened:
        try:
            ws.close()
        except Exception:
            pass


