"""Credentials never go out in cleartext to a host that is not loopback (unless allowed)."""

from __future__ import annotations

from typing import Any

import pytest
import responses

from sogni_sync import SogniClient
from sogni_sync.errors import ValidationError

REMOTE: dict[str, Any] = {"rest_endpoint": "http://api.example.com", "socket_endpoint": "wss://socket.sogni.ai",
          "disable_socket": True}


@responses.activate  # any HTTP request would fail the test: nothing is registered
def test_api_key_over_http_to_remote_host_is_refused_before_io() -> None:
    with pytest.raises(ValidationError, match=r"cleartext.*allow_insecure=True"):
        SogniClient(api_key="secret-key", **REMOTE)
    with pytest.raises(ValidationError, match=r"socket_endpoint ws://socket\.example\.com"):
        SogniClient(api_key="secret-key", socket_endpoint="ws://socket.example.com",
                    disable_socket=True)
    client = SogniClient(**REMOTE)
    with pytest.raises(ValidationError, match="an API key"):
        client.set_api_key("secret-key")
    with pytest.raises(ValidationError, match="session tokens"):
        client.set_tokens(refresh_token="a.b.c")
    with pytest.raises(ValidationError, match="password login"):
        client.account.login("user", "password")
    assert len(responses.calls) == 0
    client.close()


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "localhost", "[::1]"])
def test_loopback_stays_allowed(host: str) -> None:
    client = SogniClient(api_key="k", rest_endpoint=f"http://{host}:1",
                         socket_endpoint=f"ws://{host}:1", disable_socket=True)
    assert client.is_authenticated
    client.close()


def test_allow_insecure_opts_in() -> None:
    client = SogniClient(api_key="k", allow_insecure=True, **REMOTE)
    assert client.is_authenticated and client.options.allow_insecure
    client.close()


def test_emulator_login_over_loopback_http(make_client: Any, sogni_supernet: Any) -> None:
    client = make_client(anonymous=True, disable_socket=True)
    result = client.account.login(sogni_supernet.username, sogni_supernet.password)
    assert result.token
