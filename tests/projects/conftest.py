"""Fixtures: a session LocalSupernet (reset after each test) and a SogniClient bound to it.

Same shape as ``sogni_sync.testing.pytest_plugin``'s ``sogni_supernet``/``sogni_client``, kept
local so the suite runs whether or not the package (and so its pytest11 plugin) is installed.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from sogni_sync.client import SogniClient
from sogni_sync.testing import LocalSupernet


def make_client(net: LocalSupernet) -> SogniClient:
    return SogniClient(app_id=f"projects-test-{uuid.uuid4()}", api_key=net.api_key,
                       rest_endpoint=net.rest_url, socket_endpoint=net.socket_url)


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
def client(net: LocalSupernet) -> Iterator[SogniClient]:
    c = make_client(net)
    try:
        yield c
    finally:
        c.close()
