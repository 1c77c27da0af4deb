"""Fixtures: ``client``, a SogniClient bound to the session emulator (``tests/conftest.py``)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from sogni_sync import SogniClient


@pytest.fixture
def client(emulator_client: Callable[..., SogniClient]) -> SogniClient:
    return emulator_client("catalog-test")
