"""App ids: unique per process by default; a shared one is a takeover, reported once."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import pytest

from sogni_sync import SogniClient
from sogni_sync.errors import ConnectionTakenOverError


def test_default_app_ids_are_unique() -> None:
    ids = {SogniClient(disable_socket=True).app_id for _ in range(3)}
    assert len(ids) == 3


def _authenticated(net: Any, app_id: str) -> int:
    return sum(1 for f in net.frames if f.type == "authenticated" and f.app_id == app_id)


def test_shared_app_id_is_taken_over_reported_once_and_never_taken_back(
    make_client: Any, sogni_supernet: Any, caplog: pytest.LogCaptureFixture
) -> None:
    net = sogni_supernet
    first = make_client()
    first.connect(timeout=5)
    first.connect(timeout=5)  # a start() on a healthy connection must not outlive it
    gone = threading.Event()
    first.on("disconnected", lambda payload: gone.set())
    caplog.set_level(logging.WARNING, logger="sogni_sync")
    second = make_client(app_id=first.app_id)
    second.connect(timeout=5)
    assert gone.wait(5)
    assert first.taken_over and first.connection_state == "taken_over"
    assert not first.closed
    for _ in range(3):
        with pytest.raises(ConnectionTakenOverError, match="unique per process") as info:
            first.projects.create(type="image", model_id="flux1-schnell-fp8", steps=4,
                                  positive_prompt="x")
        assert "connect()" in str(info.value)
    first.set_api_key(net.api_key)  # new credentials do not take the connection back
    time.sleep(0.3)  # a reconnect would have shown by now (reconnect delay 0.02 s)
    assert _authenticated(net, first.app_id) == 2 and first.taken_over
    assert second.connection_state == "connected"
    reports = [r for r in caplog.records if "unique per process" in r.getMessage()]
    assert len(reports) == 1 and reports[0].levelno == logging.WARNING

    first.connect(timeout=5)  # the one way back: the other client is taken over now
    assert first.connection_state == "connected" and not first.taken_over
    deadline = time.monotonic() + 5
    while not second.taken_over and time.monotonic() < deadline:
        time.sleep(0.02)
    assert second.taken_over
