"""Fixtures: ``client``, a REST-only SogniClient bound to the session emulator (``net`` and
``emulator_client`` come from ``tests/conftest.py``); creative workflows need no socket."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from sogni_sync import SogniClient


@pytest.fixture
def client(emulator_client: Callable[..., SogniClient]) -> SogniClient:
    return emulator_client("workflows-test", disable_socket=True)
