"""pytest plugin (entry point ``sogni_sync``): emulator fixtures.

* ``sogni_supernet`` -- a running :class:`~sogni_sync.testing.LocalSupernet` with
  ``step_delay=0``. The server is session-scoped (started once) and ``reset()`` after every test
  (records, faults, projects, storage and balances restored), so tests stay independent and
  fast.
* ``sogni_client`` -- a ``sogni_sync.SogniClient`` connected to it with the ready
  account's API key and a fresh ``app_id`` per test; closed after the test.
* ``sogni_env`` -- ``sogni_supernet`` with ``SOGNI_REST_ENDPOINT``/``SOGNI_SOCKET_ENDPOINT``/
  ``SOGNI_API_KEY``/``SOGNI_USERNAME``/``SOGNI_PASSWORD`` set for the test, for code that
  builds its own client from the environment.
* ``@pytest.mark.sogni(step_delay=..., token_delay=..., faults=...)`` -- per-test emulator
  settings (``faults`` as accepted by ``Faults.apply``: a callable or ``{method: kwargs}``).

The plugin is loaded by every pytest run once sogni-sync is installed, so it imports nothing
heavy at module level: aiohttp and eth-account are needed only when a fixture is used.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:  # the emulator needs aiohttp (extra "emulator"); import it only when used
    from sogni_sync.testing._server import LocalSupernet


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sogni(step_delay=0, token_delay=0, faults=None): emulator settings for a test")


@pytest.fixture(scope="session")
def _sogni_supernet_session() -> Iterator[LocalSupernet]:
    from sogni_sync.testing._server import LocalSupernet

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
def sogni_env(sogni_supernet: LocalSupernet,
              monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalSupernet]:
    """``sogni_supernet`` with the ``SOGNI_*`` environment pointing at it."""
    for key, value in sogni_supernet.env.items():
        monkeypatch.setenv(key, value)
    yield sogni_supernet


@pytest.fixture
def sogni_client(sogni_supernet: LocalSupernet) -> Iterator[Any]:
    """A SogniClient connected to ``sogni_supernet`` (imported lazily; closed after)."""
    from sogni_sync._client import SogniClient

    client = SogniClient(app_id=f"pytest-{uuid.uuid4()}", api_key=sogni_supernet.api_key,
                         rest_endpoint=sogni_supernet.rest_url,
                         socket_endpoint=sogni_supernet.socket_url)
    try:
        yield client
    finally:
        client.close()
