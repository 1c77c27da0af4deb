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
import re
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


_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
_PLAIN_TYPE = re.compile(r"[A-Za-z0-9_.-]+")
_prefixes: dict[str, bytes] = {}


def dumps(value: Any) -> str:
    """Compact JSON with raw non-ASCII, like ``JSON.stringify``."""
    return _ENCODER.encode(value)


def encode_frame(msg_type: str, payload: Any) -> bytes:
    """Encode one server->client envelope as UTF-8 bytes (sent as a binary frame).

    Hot path (one call per frame): the envelope is assembled from bytes because a plain event
    name and a base64 string never need JSON escaping.
    """
    data = base64.b64encode(_ENCODER.encode(payload).encode("utf-8"))
    prefix = _prefixes.get(msg_type)
    if prefix is None:
        if not _PLAIN_TYPE.fullmatch(msg_type):
            return dumps({"type": msg_type, "data": data.decode("ascii")}).encode("utf-8")
        prefix = _prefixes[msg_type] = f'{{"type":"{msg_type}","data":"'.encode("ascii")
    return prefix + data + b'"}'


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
