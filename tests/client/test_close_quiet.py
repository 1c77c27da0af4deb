"""Opening, connecting and closing a client logs no warning: a close that lands while the
client still answers its first frames (the ``swarmModels`` model-list fetch) is a close, not
a server failure."""

from __future__ import annotations

import logging
from typing import Any

import pytest

CYCLES = 20


def test_open_connect_close_cycles_log_no_warning(make_client: Any,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="sogni_sync")
    for _ in range(CYCLES):
        client = make_client()
        # every concern is built before the socket connects, so each one handles the
        # connection's first frames (the catalogue fetches the model list for swarmModels)
        for concern in ("catalog", "chat", "projects", "account"):
            getattr(client, concern)
        client.connect(timeout=10)
        client.close()  # at once: the model-list fetch is typically still in flight
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
