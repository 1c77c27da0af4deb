"""Socket frame codec: every message is a JSON text frame ``{"type": name, "data": payload}``,
where the payload is compact UTF-8 JSON carried as base64."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable
from typing import Any

__all__ = ["MAX_DEPTH", "FrameError", "compact_json", "decode_frame", "encode_frame",
           "too_deep"]


# The envelope as JSON encoders write it compactly: a type without escapes, plain base64 data.
# Anything else (spaces, key order, escapes, other keys) takes the general json.loads path, so
# both paths accept and reject exactly the same frames.
_ENVELOPE = re.compile(rb'\{"type":"([ !#-\[\]-~]+)","data":"([A-Za-z0-9+/]+={0,2})"\}')
_DECODER = json.JSONDecoder()
_json_decode = _DECODER.decode  # json.loads(str) without its keyword handling
# The decoder's own scanner: ``decode`` is it plus two whitespace regex matches; a frame's JSON as
# encoders write it has no surrounding whitespace, so one call reads it (anything else, including
# every malformed document, goes on to ``decode``, which accepts and rejects as before).
_scan_once: Callable[[str, int], tuple[Any, int]] = _DECODER.scan_once  # type: ignore[attr-defined]


#: Deepest JSON nesting accepted from a server. The C decoder recurses per level and is bounded
#: only by ``sys.getrecursionlimit()``, which some libraries raise (py_ecc, pulled in by the
#: wallet extra, sets 100000): a deep enough document would then overflow the C stack.
MAX_DEPTH = 200
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def too_deep(text: str) -> bool:
    """True when ``text`` (JSON) nests arrays/objects deeper than :data:`MAX_DEPTH`.

    Cheap for real documents: only one with more than ``MAX_DEPTH`` brackets is scanned, along
    its bracket skeleton (strings removed), stopping at the first level too deep.
    """
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return False
    depth = 0
    for bracket in _NOT_BRACKET.sub("", _STRING.sub("", text)):
        if bracket in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return True
        else:
            depth -= 1
    return False


def _loads(text: str, msg_type: str | None) -> Any:
    """``text`` decoded; ``msg_type`` names the frame whose data it is (``None``: the frame)."""
    # No more brackets than characters: short documents (token frames) skip the count.
    if len(text) > MAX_DEPTH and too_deep(text):
        raise FrameError(f"{_what(msg_type)} is nested too deeply")
    try:
        try:
            value, end = _scan_once(text, 0)
            if end == len(text):
                return value
        except StopIteration:
            pass
        return _json_decode(text)
    except RecursionError:
        raise FrameError(f"{_what(msg_type)} is nested too deeply") from None


def _what(msg_type: str | None) -> str:
    return "frame" if msg_type is None else f"{msg_type!r} frame data"


class FrameError(ValueError):
    """An incoming frame could not be decoded; it is dropped, the connection lives on."""


def compact_json(value: Any) -> str:
    """JSON the way JS writes it: no spaces, non-ASCII raw, insertion order kept."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def encode_frame(msg_type: str, data: Any) -> str:
    """Encode one client frame; the result is sent as a text frame, unchanged on resends.

    ``None`` is sent as ``null``: payload builders decide which keys are absent, because the
    reference sends explicit nulls in places (``scheduler``, ``startingImage`` …).
    """
    payload = compact_json(data).encode("utf-8")
    return compact_json({"type": msg_type, "data": base64.b64encode(payload).decode("ascii")})


def decode_frame(raw: str | bytes | bytearray) -> tuple[str, Any]:
    """Decode a text or binary frame into ``(type, payload)``.

    Top-level string ``jobID``/``imgID`` are upper-cased: the client makes upper-case ids and
    matching must not depend on the server's spelling.
    """
    fast = _ENVELOPE.fullmatch(raw) if isinstance(raw, (bytes, bytearray)) else None
    data: Any
    if fast is not None:
        name, data = fast.group(1, 2)
        msg_type = name.decode("ascii")
    else:
        msg_type, data = _envelope(raw)
    try:
        payload = _loads(binascii.a2b_base64(data).decode("utf-8"), msg_type)
    except FrameError:
        raise
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise FrameError(f"{msg_type!r} frame data is not base64 JSON: {exc}") from None
    if isinstance(payload, dict):
        for key in ("jobID", "imgID"):
            value = payload.get(key)
            if value and isinstance(value, str):
                payload[key] = value.upper()
    return msg_type, payload


def _envelope(raw: str | bytes | bytearray) -> tuple[str, str]:
    """The general path: any JSON spelling of ``{"type": str, "data": non-empty str}``."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, (bytes, bytearray)) else raw
        outer = _loads(text, None)
    except FrameError:
        raise
    except (UnicodeDecodeError, ValueError) as exc:
        raise FrameError(f"frame is not JSON: {exc}") from None
    if not isinstance(outer, dict) or not isinstance(outer.get("type"), str):
        raise FrameError("frame has no string 'type'")
    msg_type: str = outer["type"]
    data = outer.get("data")
    if not isinstance(data, str) or not data:
        raise FrameError(f"{msg_type!r} frame has no data")
    return msg_type, data
