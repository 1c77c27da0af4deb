"""pytest plugin (entry point ``sogni_sync``): emulator fixtures.

* ``sogni_supernet`` -- a running :class:`~sogni_sync.testing.LocalSupernet` with
  ``step_delay=0``. The server is session-scoped (started once) and ``reset()`` after every test
  (records, faults, projects and storage cleared), so tests stay independent and fast.
* ``sogni_client`` -- a ``sogni_sync.client.SogniClient`` connected to it with the ready
  account's API key and a fresh ``app_id`` per test; closed after the test.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from sogni_sync.testing._server import LocalSupernet


@pytest.fixture(scope="session")
def _sogni_supernet_session() -> Iterator[LocalSupernet]:
    net = LocalSupernet(step_delay=0)
    net.start()
    try:
        yield net
    finally:
        net.stop()


@pytest.fixture
def sogni_supernet(_sogni_supernet_session: LocalSupernet) -> Iterator[LocalSupernet]:
    """The session emulator, reset after the test."""
    try:
        yield _sogni_supernet_session
    finally:
        _sogni_supernet_session.reset()


@pytest.fixture
def sogni_client(sogni_supernet: LocalSupernet) -> Iterator[Any]:
    """A SogniClient connected to ``sogni_supernet`` (imported lazily; closed after)."""
    from sogni_sync.client import SogniClient

    client = SogniClient(app_id=f"pytest-{uuid.uuid4()}", api_key=sogni_supernet.api_key,
                         rest_endpoint=sogni_supernet.rest_url,
                         socket_endpoint=sogni_supernet.socket_url)
    try:
        yield client
    finally:
        client.close()
