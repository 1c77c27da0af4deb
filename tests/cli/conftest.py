"""Fixtures of the CLI suite: a clean environment (no ``SOGNI_*`` variables, a temporary working
directory, an instant ``--emulator`` emulator) and ``remote``, the options that point a command at
the session emulator (``tests/conftest.py``'s ``net``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sogni_sync.cli import _common
from sogni_sync.testing import LocalSupernet

ENV = ("SOGNI_API_KEY", "SOGNI_APP_ID", "SOGNI_REST_ENDPOINT", "SOGNI_SOCKET_ENDPOINT",
       "SOGNI_NETWORK")


@pytest.fixture(autouse=True)
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(_common.LOCAL_OPTIONS, "step_delay", 0.0)
    monkeypatch.setitem(_common.LOCAL_OPTIONS, "token_delay", 0.0)
    yield tmp_path


@pytest.fixture
def remote(net: LocalSupernet) -> list[str]:
    return ["--api-key", net.api_key, "--rest-endpoint", net.rest_url,
            "--socket-endpoint", net.socket_url]
