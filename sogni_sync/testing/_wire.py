"""The emulator's own envelope codec and small JSON helpers.

The emulator deliberately shares *names* with the client but no code: if the client's codec
has a bug, an emulator that imported it would agree with the bug. Frames are
``{"type": <name>, "data": <base64 of compact UTF-8 JSON>}``; the server side writes them as
binary WebSocket frames (what browser clients require) and accepts text or binary.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
import uuid
from typing import Any

__all__ = [
    "FrameError",
    "decode_frame",
    "dumps",
    "encode_frame",
    "new_id",
    "now_ms",
]


class FrameError(ValueError):
    """A client frame that is not a valid envelope."""


def dumps(value: Any) -> str:
    """Compact JSON with raw non-ASCII, like ``JSON.stringify``."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def encode_frame(msg_type: str, payload: Any) -> bytes:
    """Encode one server->client envelope as UTF-8 bytes (sent as a binary frame)."""
    data = base64.b64encode(dumps(payload).encode("utf-8")).decode("ascii")
    return dumps({"type": msg_type, "data": data}).encode("utf-8")


def decode_frame(raw: str | bytes) -> tuple[str, Any]:
    """Decode one client->server envelope; raise :class:`FrameError` when malformed."""
    try:
        outer = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise FrameError(f"frame is not JSON: {exc}") from None
    if not isinstance(outer, dict) or not isinstance(outer.get("type"), str):
        raise FrameError("frame has no string 'type'")
    data = outer.get("data")
    if data is None or data == "":
        return outer["type"], None
    if not isinstance(data, str):
        raise FrameError("frame 'data' is not a string")
    try:
        payload = json.loads(base64.b64decode(data, validate=True).decode("utf-8"))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise FrameError(f"frame 'data' is not base64 JSON: {exc}") from None
    return outer["type"], payload


def new_id() -> str:
    """An upper-case UUID v4, the id style Sogni uses everywhere."""
    return str(uuid.uuid4()).upper()


def now_ms() -> int:
    return int(time.time() * 1000)
