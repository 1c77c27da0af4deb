"""Fixtures of the web-integration tests: one emulator process per module (``web_emulator``).

The frameworks are the test-only extra ``web`` (``pip install -e '.[web]'``); a test whose
framework is missing is skipped with the reason.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.web.servers import Emulator, emulator


@pytest.fixture(scope="module")
def web_emulator() -> Iterator[Emulator]:
    with emulator() as emu:
        yield emu
