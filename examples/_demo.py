"""Shared by the examples: a client for the real Supernet, or a local emulator without a key.

With ``SOGNI_API_KEY`` set, examples talk to the Sogni Supernet (``SOGNI_APP_ID`` optional).
Without it they start ``sogni_sync.testing.LocalSupernet`` in-process, so every example runs
offline on a fresh machine.
"""

from __future__ import annotations

import os
import pathlib
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from sogni_sync.client import SogniClient

if TYPE_CHECKING:
    from sogni_sync.projects import Project

OUT = pathlib.Path("out")


@contextmanager
def demo_client() -> Iterator[SogniClient]:
    """Yield a connected client; a throwaway local Supernet when no API key is configured."""
    if os.environ.get("SOGNI_API_KEY"):
        app_id = os.environ.get("SOGNI_APP_ID") or f"sogni-sync-example-{uuid.uuid4()}"
        with SogniClient(app_id=app_id) as client:
            yield client
        return
    from sogni_sync.testing import LocalSupernet

    print("SOGNI_API_KEY is not set: using a local emulated Supernet")
    # Render images at up to 512 px (the emulator default, 64 px, keeps test suites fast).
    with LocalSupernet(media_max_side=512) as net, SogniClient(
        app_id=f"sogni-sync-example-{uuid.uuid4()}",
        api_key=net.api_key,
        rest_endpoint=net.rest_url,
        socket_endpoint=net.socket_url,
    ) as client:
        yield client


def save_results(project: Project, label: str) -> None:
    """Download every result of a finished project to ./out/ and print where it went."""
    for job in project.jobs:
        if job.has_result_media:
            print(f"{label}: {job.download(OUT)}")


def sample_image() -> bytes:
    """A small PNG to feed image inputs (replace with your own file path)."""
    import struct
    import zlib

    width = height = 64
    rows = []
    for y in range(height):
        pixels = bytes(v for x in range(width) for v in (x * 4, y * 4, 128))
        rows.append(b"\x00" + pixels)  # filter byte 0, then RGB pixels
    raw = b"".join(rows)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def sample_wav(seconds: float = 1.0, rate: int = 16000) -> bytes:
    """A short silent WAV clip for audio inputs."""
    import io
    import wave

    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\x00\x00" * int(seconds * rate))
    return buf.getvalue()
