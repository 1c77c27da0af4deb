"""Fixtures for the chat tests: a fresh client per test on the session emulator
(``net``/``emulator_client`` come from ``tests/conftest.py``), and media builders.

The client is built with ``disable_socket=True`` and ``client.chat`` is touched before the
socket connects, so the chat layer is subscribed before the server's first ``swarmLLMModels``
(the transport does not replay events to late subscribers).
"""

from __future__ import annotations

import base64
import struct
import zlib
from collections.abc import Callable
from typing import Any

import pytest

LLM = "qwen3.6-35b-a3b-gguf-iq4xs"


@pytest.fixture
def client(emulator_client: Callable[..., Any]) -> Any:
    c = emulator_client("chat-test", disable_socket=True)
    c.chat  # noqa: B018 - subscribe before connecting
    c.creative_workflows  # noqa: B018
    return c


def png_bytes(width: int = 8, height: int = 8) -> bytes:
    """A real, minimal PNG (grey), built without an image library."""
    raw = b"".join(b"\x00" + b"\x80" * (width * 3) for _ in range(height))

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw))
            + chunk(b"IEND", b""))


def jpeg_bytes(width: int = 16, height: int = 12) -> bytes:
    """JPEG markers only (SOI, APP0, SOF0, EOI): enough for the dimension scan."""
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + sof + b"\xff\xd9"


def data_uri(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"
