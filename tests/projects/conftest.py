"""Fixtures: a LocalSupernet and a client whose ``projects`` talk to it.

Uses ``sogni_sync.client.SogniClient`` when it exists; otherwise a bare Transport with an
API-key header provider, which is all ProjectsApi needs.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from sogni_sync.testing import LocalSupernet


class _ApiKey:
    def __init__(self, key: str) -> None:
        self.key = key

    def rest_headers(self) -> dict[str, str]:
        return {"api-key": self.key}

    def socket_headers(self) -> list[str]:
        return [f"api-key: {self.key}"]

    def prepare_connect(self, timeout: float) -> None:
        return None

    def handle_unauthorized(self) -> bool:
        return False

    @property
    def is_authenticated(self) -> bool:
        return True


class _BareClient:
    """The parts of SogniClient these tests use."""

    def __init__(self, net: LocalSupernet, app_id: str) -> None:
        from sogni_sync._config import ClientOptions
        from sogni_sync._transport import Transport
        from sogni_sync.projects import ProjectsApi

        options = ClientOptions(app_id=app_id, rest_endpoint=net.rest_url,
                                socket_endpoint=net.socket_url)
        self.transport = Transport(options, credentials=_ApiKey(net.api_key))
        self.projects = ProjectsApi(self.transport)

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> _BareClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def make_client(net: LocalSupernet) -> Any:
    app_id = f"projects-test-{uuid.uuid4()}"
    try:
        from sogni_sync.client import SogniClient
    except ImportError:
        return _BareClient(net, app_id)
    return SogniClient(app_id=app_id, api_key=net.api_key, rest_endpoint=net.rest_url,
                       socket_endpoint=net.socket_url)


@pytest.fixture(scope="session")
def supernet() -> Iterator[LocalSupernet]:
    with LocalSupernet(step_delay=0) as net:
        yield net


@pytest.fixture
def net(supernet: LocalSupernet) -> Iterator[LocalSupernet]:
    try:
        yield supernet
    finally:
        supernet.reset()


@pytest.fixture
def client(net: LocalSupernet) -> Iterator[Any]:
    c = make_client(net)
    try:
        yield c
    finally:
        c.close()
