"""Fixtures shared by the suites that run against the emulator.

* ``supernet`` -- one :class:`~sogni_sync.testing.LocalSupernet` (``step_delay=0``) per session.
* ``net`` -- that emulator for one test, ``reset()`` after it (records, faults, projects, storage,
  balances) with ``step_delay`` back to 0, so tests stay independent.
* ``emulator_client`` -- ``emulator_client(prefix, **options)`` builds a ``SogniClient`` bound to
  ``net`` with a fresh ``app_id``; every client made is closed after the test.
* ``private_supernet`` -- a second session emulator, only for the suites of the lower layers
  (their ``sogni_supernet``, see ``tests/clients.py``).
* ``run_threads`` -- ``run_threads(work, count)`` runs ``work(i)`` on ``count`` threads at once and
  returns what they raised.

Same shape as ``sogni_sync.testing.pytest_plugin``'s ``sogni_supernet``/``sogni_client``, kept
here so the suites run whether or not the package (and so its pytest11 plugin) is installed.
A suite's own ``conftest.py`` builds its ``client`` fixture from ``emulator_client``.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from sogni_sync import SogniClient
from sogni_sync.testing import LocalSupernet


@pytest.fixture(scope="session")
def supernet() -> Iterator[LocalSupernet]:
    with LocalSupernet(step_delay=0) as net:
        yield net


@pytest.fixture(scope="session")
def private_supernet() -> Iterator[LocalSupernet]:
    with LocalSupernet(step_delay=0) as net:
        yield net


@pytest.fixture
def net(supernet: LocalSupernet) -> Iterator[LocalSupernet]:
    try:
        yield supernet
    finally:
        supernet.reset()
        supernet.options.step_delay = 0.0


@pytest.fixture
def emulator_client(net: LocalSupernet) -> Iterator[Callable[..., SogniClient]]:
    made: list[SogniClient] = []

    def make(prefix: str = "test", **options: Any) -> SogniClient:
        client = SogniClient(app_id=f"{prefix}-{uuid.uuid4()}", api_key=net.api_key,
                             rest_endpoint=net.rest_url, socket_endpoint=net.socket_url,
                             **options)
        made.append(client)
        return client

    try:
        yield make
    finally:
        for client in made:
            client.close()


def _run_threads(work: Callable[[int], None], count: int, join_timeout: float = 60
                 ) -> list[BaseException]:
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            work(i)
        except BaseException as exc:  # pragma: no cover - reported to the test
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(join_timeout)
    return errors


@pytest.fixture
def run_threads() -> Callable[..., list[BaseException]]:
    return _run_threads
