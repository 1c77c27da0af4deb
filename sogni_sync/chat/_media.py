"""Inline media (``data:`` URI) validation and vision-message normalisation.

The Supernet's LLM workers only accept inline base64 images, and a wrong MIME type or an
oversized picture is only discovered after the job was charged — so the reference client checks
every image locally, with exact error texts that callers (and the conformance suite) match on.
No image library is needed: the dimensions come from the PNG header or the JPEG SOF segment.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Iterable, Mapping
from typing import Any, Literal

import attrs

from sogni_sync.errors import ValidationError

__all__ = [
    "MAX_VISION_IMAGES",
    "VISION_MAX_BYTES",
    "VISION_MAX_LONGEST_SIDE",
    "InlineMedia",
    "image_part",
    "image_part_from_bytes",
    "image_part_from_path",
    "normalize_messages",
    "parse_data_uri",
    "text_part",
    "to_data_uri",
]

MediaType = Literal["image", "audio", "video"]

MAX_VISION_IMAGES = 20
VISION_MAX_BYTES = 10 * 1024 * 1024
VISION_MAX_LONGEST_SIDE = 1024

_DATA_URI = re.compile(r"^data:([^;,]+);base64,([A-Za-z0-9+/=\s]+)$", re.IGNORECASE)
_BASE64_BODY = re.compile(r"^[A-Za-z0-9+/]*={0,2}$")
_WHITESPACE = re.compile(r"\s+")

# MIME → container format; dict order is the order of the "Allowed types" error text.
_FORMATS: dict[str, dict[str, str]] = {
    "image": {"image/jpeg": "jpeg", "image/jpg": "jpeg", "image/png": "png"},
    "audio": {
        "audio/m4a": "mp4",
        "audio/mp3": "mpeg",
        "audio/mp4": "mp4",
        "audio/mpeg": "mpeg",
        "audio/wav": "wav",
        "audio/wave": "wav",
        "audio/x-m4a": "mp4",
        "audio/x-wav": "wav",
    },
    "video": {"video/mp4": "mp4", "video/quicktime": "quicktime"},
}


@attrs.frozen
class InlineMedia:
    """A decoded, validated data URI."""

    mime_type: str
    data: bytes = attrs.field(repr=lambda b: f"<{len(b)} bytes>")
    width: int | None = None
    height: int | None = None


def _decode_strict_base64(text: str) -> bytes:
    cleaned = _WHITESPACE.sub("", text)
    if not _BASE64_BODY.match(cleaned):
        raise ValidationError("Invalid base64 payload")
    remainder = len(cleaned) % 4
    if remainder == 1:
        raise ValidationError("Invalid base64 payload")
    padded = cleaned + "=" * ((4 - remainder) % 4)
    try:
        data = base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError("Invalid base64 payload")
    # Zero bytes, or non-canonical trailing bits, are rejected like the reference does.
    if not data or base64.b64encode(data).decode("ascii") != padded:
        raise ValidationError("Invalid base64 payload")
    return data


def _iso_bmff(data: bytes) -> str | None:
    if len(data) < 12 or data[4:8] != b"ftyp":
        return None
    return "quicktime" if data[8:12] == b"qt  " else "mp4"


def _detect(media_type: str, data: bytes) -> str | None:
    if media_type == "image":
        if data.startswith(b"\x89PNG\r\n\x1a\n"):
            return "png"
        if data.startswith(b"\xff\xd8\xff"):
            return "jpeg"
        return None
    if media_type == "audio":
        if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
            return "wav"
        if data[:3] == b"ID3" or _is_mp3_frame(data):
            return "mpeg"
        return "mp4" if _iso_bmff(data) == "mp4" else None
    return _iso_bmff(data)


def _is_mp3_frame(data: bytes) -> bool:
    if len(data) < 2:
        return False
    b0, b1 = data[0], data[1]
    return b0 == 0xFF and (b1 & 0xE0) == 0xE0 and ((b1 >> 3) & 3) != 1 and ((b1 >> 1) & 3) != 0


def _signed32(chunk: bytes) -> int:
    return int.from_bytes(chunk, "big", signed=True)


def _png_size(data: bytes) -> tuple[int, int] | None:
    if len(data) < 24 or data[12:16] != b"IHDR":
        return None
    width, height = _signed32(data[16:20]), _signed32(data[20:24])
    return (width, height) if width > 0 and height > 0 else None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    offset, size = 2, len(data)
    while offset + 1 < size:
        while offset < size and data[offset] != 0xFF:
            offset += 1
        while offset < size and data[offset] == 0xFF:
            offset += 1
        if offset >= size:
            return None
        marker = data[offset]
        offset += 1
        if marker in (0xD8, 0xD9, 0x01) or 0xD0 <= marker <= 0xD7:
            continue
        if offset + 1 >= size:
            return None
        length = (data[offset] << 8) | data[offset + 1]
        if length < 2 or offset + length > size:
            return None
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            if offset + 6 >= size:
                return None
            height = (data[offset + 3] << 8) | data[offset + 4]
            width = (data[offset + 5] << 8) | data[offset + 6]
            return (width, height) if width > 0 and height > 0 else None
        offset += length
    return None


def parse_data_uri(
    uri: str,
    media_type: MediaType = "image",
    *,
    max_bytes: int | None = None,
    max_longest_side: int | None = None,
) -> InlineMedia:
    """Decode and check one inline data URI with the reference's rules and messages.

    Raises ``ValidationError`` with the reference's exact text (callers match on it).
    """
    match = _DATA_URI.match(uri.strip()) if isinstance(uri, str) else None
    if not match:
        raise ValidationError(
            f"Only inline base64-encoded data URIs are supported for {media_type} inputs; "
            "remote URLs are not allowed"
        )
    mime = match.group(1).lower()
    data = _decode_strict_base64(match.group(2))
    if max_bytes is not None and len(data) > max_bytes:
        limit = int(max_bytes / (1024 * 1024) + 0.5)
        raise ValidationError(f"{media_type} input exceeds {limit}MB limit")
    formats = _FORMATS[media_type]
    expected = formats.get(mime)
    if expected is None:
        raise ValidationError(
            f"Unsupported inline {media_type} MIME type {mime}. "
            f"Allowed types: {', '.join(formats)}"
        )
    if _detect(media_type, data) != expected:
        raise ValidationError(f"Inline {media_type} data does not match declared MIME type {mime}")
    if media_type != "image":
        return InlineMedia(mime, data)
    dims = _png_size(data) if expected == "png" else _jpeg_size(data)
    if dims is None:
        raise ValidationError("Unable to determine inline image dimensions")
    if max_longest_side is not None and max(dims) > max_longest_side:
        raise ValidationError(
            f"Inline image exceeds maximum dimensions of {max_longest_side}px on its longest side"
        )
    return InlineMedia(mime, data, dims[0], dims[1])


# --- building parts ------------------------------------------------------------------------


def _sniff_image_mime(data: bytes) -> str:
    kind = _detect("image", data)
    if kind is None:
        raise ValidationError(
            "Unsupported image data: only PNG and JPEG images can be sent to the LLM"
        )
    return "image/png" if kind == "png" else "image/jpeg"


def to_data_uri(data: bytes, mime_type: str | None = None) -> str:
    """``data:<mime>;base64,<payload>``; the MIME type is sniffed from PNG/JPEG magic bytes."""
    mime = mime_type or _sniff_image_mime(data)
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def text_part(text: str) -> dict[str, Any]:
    """``{"type": "text", "text": ...}`` for multi-part message content."""
    return {"type": "text", "text": text}


def image_part(url: str, *, detail: str | None = None) -> dict[str, Any]:
    """An ``image_url`` part from a data URI, validated now with the vision limits."""
    if detail is not None and detail not in ("auto", "low", "high"):
        raise ValidationError("detail must be 'auto', 'low' or 'high'")
    parse_data_uri(
        url, "image", max_bytes=VISION_MAX_BYTES, max_longest_side=VISION_MAX_LONGEST_SIDE
    )
    inner: dict[str, Any] = {"url": url.strip()}
    if detail:
        inner["detail"] = detail
    return {"type": "image_url", "image_url": inner}


def image_part_from_bytes(
    data: bytes, *, mime_type: str | None = None, detail: str | None = None
) -> dict[str, Any]:
    """An ``image_url`` part from raw PNG/JPEG bytes (no image library needed)."""
    return image_part(to_data_uri(bytes(data), mime_type), detail=detail)


def image_part_from_path(
    path: str | os.PathLike[str], *, detail: str | None = None
) -> dict[str, Any]:
    """An ``image_url`` part from a PNG/JPEG file; the type comes from its bytes, not its name."""
    with open(path, "rb") as fh:
        data = fh.read(VISION_MAX_BYTES + 1)
    return image_part_from_bytes(data, detail=detail)


# --- normalising messages ------------------------------------------------------------------


def _message_dict(message: Any) -> Mapping[str, Any]:
    if isinstance(message, Mapping):
        return message
    to_dict = getattr(message, "to_dict", None)
    if callable(to_dict):
        result = to_dict()
        if isinstance(result, Mapping):
            return result
    raise ValidationError("each message must be a mapping with 'role' and 'content'")


def normalize_messages(
    messages: Iterable[Any], *, placeholder_urls: bool = False
) -> list[dict[str, Any]]:
    """The vision-normalised copy of ``messages`` the wire carries.

    String/None content passes through; list content has each ``image_url`` part rebuilt as
    ``{type, image_url: {url (trimmed), detail (if truthy)}}`` after validation, other parts kept.
    ``placeholder_urls`` swaps every image URL for ``"[image]"`` (the estimate's token count).
    """
    if isinstance(messages, (str, bytes)) or not isinstance(messages, Iterable):
        raise ValidationError("messages must be a list of message mappings")
    out: list[dict[str, Any]] = []
    images = 0
    for raw in messages:
        message = dict(_message_dict(raw))
        content = message.get("content")
        if isinstance(content, list):
            parts: list[Any] = []
            for part in content:
                if isinstance(part, Mapping) and part.get("type") == "image_url":
                    images += 1
                    if images > MAX_VISION_IMAGES:
                        raise ValidationError(
                            f"A maximum of {MAX_VISION_IMAGES} vision images is allowed per request"
                        )
                    inner = part.get("image_url")
                    url = inner.get("url") if isinstance(inner, Mapping) else None
                    detail = inner.get("detail") if isinstance(inner, Mapping) else None
                    parse_data_uri(
                        url if isinstance(url, str) else "",
                        "image",
                        max_bytes=VISION_MAX_BYTES,
                        max_longest_side=VISION_MAX_LONGEST_SIDE,
                    )
                    new_inner: dict[str, Any] = {
                        "url": "[image]" if placeholder_urls else str(url).strip()
                    }
                    if detail:
                        new_inner["detail"] = detail
                    parts.append({"type": "image_url", "image_url": new_inner})
                else:
                    parts.append(dict(part) if isinstance(part, Mapping) else part)
            message["content"] = parts
        out.append(message)
    return out
