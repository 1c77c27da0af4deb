"""pytest plugin (entry point ``sogni_sync``): emulator fixtures.

* ``sogni_supernet`` -- a running :class:`~sogni_sync.testing.LocalSupernet` with
  ``step_delay=0``. The server is session-scoped (started once) and ``reset()`` after every test
  (records, faults, projects, storage and balances restored), so tests stay independent and
  fast.
* ``sogni_client`` -- a ``sogni_sync.client.SogniClient`` connected to it with the ready
  account's API key and a fresh ``app_id`` per test; closed after the test.
* ``@pytest.mark.sogni(step_delay=..., token_delay=..., faults=...)`` -- per-test emulator
  settings (``faults`` as accepted by ``Faults.apply``: a callable or ``{method: kwargs}``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from sogni_sync.testing._server import LocalSupernet


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sogni(step_delay=0, token_delay=0, faults=None): emulator settings for a test")


@pytest.fixture(scope="session")
def _sogni_supernet_session() -> Iterator[LocalSupernet]:
    net = LocalSupernet(step_delay=0)
    net.start()
    try:
        yield net
    finally:
        net.stop()


@pytest.fixture
def sogni_supernet(request: pytest.FixtureRequest,
                   _sogni_supernet_session: LocalSupernet) -> Iterator[LocalSupernet]:
    """The session emulator (with the test's ``sogni`` marker applied), reset after the test."""
    net = _sogni_supernet_session
    marker = request.node.get_closest_marker("sogni")
    settings: dict[str, Any] = dict(marker.kwargs) if marker else {}
    net.options.step_delay = float(settings.get("step_delay", 0.0))
    net.options.token_delay = float(settings.get("token_delay", 0.0))
    net.faults.apply(settings.get("faults"))
    try:
        yield net
    finally:
        net.reset()
        net.options.step_delay = net.options.token_delay = 0.0


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
