"""Scripting the server's side of a project: frames pushed to one client, and waiting for the
client to have read them."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sogni_sync import SogniClient
from sogni_sync.testing import LocalSupernet

#: a small image project of the emulator's catalogue
IMAGE: dict[str, Any] = {"type": "image", "model_id": "flux1-schnell-fp8", "steps": 4}


def push(client: SogniClient, net: LocalSupernet, msg_type: str,
         payload: dict[str, Any]) -> None:
    """Send one socket event to ``client`` only."""
    net.send(msg_type, payload, app_id=client.app_id)


def until(predicate: Callable[[], Any], timeout: float = 10.0) -> None:
    """Wait until ``predicate()`` holds (the socket thread applies frames asynchronously)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)
