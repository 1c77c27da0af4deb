"""Fixtures of the suites of the lower layers (``tests/transport``, ``auth``, ``account``,
``client``): a private emulator behind ``sogni_supernet`` and a ``make_client`` factory.

Each of those suites' ``conftest.py`` imports the fixtures from here; the session emulator
itself is ``private_supernet`` in ``tests/conftest.py`` (one for all of them).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from sogni_sync import Retries, SogniClient

FAST = {"retries": Retries(reconnect_base_delay=0.02, reconnect_max_delay=0.1)}


@pytest.fixture
def sogni_supernet(private_supernet: Any) -> Iterator[Any]:
    """A private emulator for these tests (overrides the plugin's shared one): armed faults
    hit the next frame of *any* connection, so a client left connected by another suite's
    test could otherwise swallow them."""
    try:
        yield private_supernet
    finally:
        private_supernet.reset()


def our_threads() -> set[threading.Thread]:
    """Threads this library may start (named) plus websocket-client's ping threads."""
    return {
        t
        for t in threading.enumerate()
        if t.name.startswith(("sogni-socket", "sogni-callbacks", "sogni-io", "sogni-rest"))
        or "_send_ping" in t.name
    }


@pytest.fixture
def make_client(sogni_supernet: Any) -> Iterator[Any]:
    """Factory for clients wired to the emulator with fast reconnects; all closed after."""
    made: list[SogniClient] = []

    def make(**kw: Any) -> SogniClient:
        params: dict[str, Any] = {
            "app_id": f"foundation-{uuid.uuid4()}",
            "rest_endpoint": sogni_supernet.rest_url,
            "socket_endpoint": sogni_supernet.socket_url,
            **FAST,
        }
        if "api_key" not in kw and not kw.pop("anonymous", False):
            params["api_key"] = sogni_supernet.api_key
        params.update(kw)
        client = SogniClient(**params)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()
