"""Concerns built after the socket authenticated still see the once-per-connection events."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from sogni_sync import SogniClient


def _setter(event: threading.Event) -> Callable[[Any], None]:
    return lambda _payload: event.set()


@pytest.fixture
def connected(sogni_supernet: Any) -> Iterator[SogniClient]:
    """A client whose swarmModels and swarmLLMModels frames have already gone by."""
    net = sogni_supernet
    with SogniClient(api_key=net.api_key, rest_endpoint=net.rest_url,
                     socket_endpoint=net.socket_url) as client:
        arrived = {name: threading.Event() for name in ("swarmModels", "swarmLLMModels")}
        for name, event in arrived.items():
            client._transport.subscribe(name, _setter(event))
        client.connect(timeout=10)
        assert all(event.wait(5) for event in arrived.values())
        yield client


def test_models_known_to_concerns_built_after_connect(connected: SogniClient) -> None:
    assert connected._transport.last_payload("swarmLLMModels")
    assert connected.chat.wait_for_models(timeout=5)
    assert connected.catalog.wait_for_models(timeout=5)


def test_replay_is_handed_to_late_subscribers(connected: SogniClient) -> None:
    seen: list[Any] = []
    connected._transport.subscribe("swarmModels", seen.append, replay_last=True)
    connected._transport.subscribe("jobState", seen.append, replay_last=True)  # not sticky
    assert len(seen) == 1 and isinstance(seen[0], dict)
