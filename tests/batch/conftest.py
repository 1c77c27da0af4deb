"""Fixtures of the batch suite: ``client``/``make_client`` bound to the session emulator."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from sogni_sync.client import SogniClient

MODEL = "flux1-schnell-fp8"


@pytest.fixture
def client(emulator_client: Callable[..., SogniClient]) -> SogniClient:
    return emulator_client("batch-test")
