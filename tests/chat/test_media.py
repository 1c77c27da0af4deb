"""Vision inputs: data-URI rules, exact error texts, part helpers (chat.md §4)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from sogni_sync.chat import (
    image_part,
    image_part_from_bytes,
    image_part_from_path,
    parse_data_uri,
    text_part,
)
from sogni_sync.chat._media import normalize_messages
from sogni_sync.errors import ValidationError

from .conftest import data_uri, jpeg_bytes, png_bytes

REMOTE = ("Only inline base64-encoded data URIs are supported for image inputs; "
          "remote URLs are not allowed")


def test_png_and_jpeg_dimensions() -> None:
    png = parse_data_uri(data_uri(png_bytes(30, 20)))
    assert (png.mime_type, png.width, png.height) == ("image/png", 30, 20)
    jpg = parse_data_uri(data_uri(jpeg_bytes(16, 12), "image/jpg"))
    assert (jpg.mime_type, jpg.width, jpg.height) == ("image/jpg", 16, 12)


@pytest.mark.parametrize("uri, message", [
    ("https://example.com/a.png", REMOTE),
    ("data:image/png;charset=utf-8;base64,AAAA", REMOTE),
    ("data:image/png;base64,A", "Invalid base64 payload"),
    ("data:image/png;base64,QQ=x", "Invalid base64 payload"),
    ("data:image/png;base64,QQ?=", REMOTE),
    ("data:image/png;base64,QR==", "Invalid base64 payload"),  # non-canonical trailing bits
    ("data:image/png;base64,====", "Invalid base64 payload"),
    ("data:image/gif;base64," + base64.b64encode(b"GIF89a....").decode(),
     "Unsupported inline image MIME type image/gif. Allowed types: image/jpeg, image/jpg, "
     "image/png"),
    ("data:image/jpeg;base64," + base64.b64encode(png_bytes()).decode(),
     "Inline image data does not match declared MIME type image/jpeg"),
    ("data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 20).decode(),
     "Unable to determine inline image dimensions"),
])
def test_error_texts(uri: str, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_data_uri(uri, max_bytes=10 * 1024 * 1024, max_longest_side=1024)
    assert str(info.value) == message


def test_size_and_dimension_limits() -> None:
    with pytest.raises(ValidationError, match=r"^image input exceeds 10MB limit$"):
        parse_data_uri(data_uri(png_bytes() + b"\x00" * (10 * 1024 * 1024)),
                       max_bytes=10 * 1024 * 1024)
    with pytest.raises(ValidationError, match=r"maximum dimensions of 1024px"):
        parse_data_uri(data_uri(png_bytes(1025, 1)), max_longest_side=1024)
    assert parse_data_uri(data_uri(png_bytes(1024, 2)), max_longest_side=1024).width == 1024


def test_audio_and_video_magic() -> None:
    wav = b"RIFF\x00\x00\x00\x00WAVEfmt "
    assert parse_data_uri(data_uri(wav, "audio/wav"), "audio").mime_type == "audio/wav"
    mov = b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00"
    assert parse_data_uri(data_uri(mov, "video/quicktime"), "video").data == mov
    with pytest.raises(ValidationError, match=r"Inline video data does not match declared MIME "
                                              "type video/mp4"):
        parse_data_uri(data_uri(mov, "video/mp4"), "video")
    with pytest.raises(ValidationError, match=r"^audio input exceeds 1MB limit$"):
        parse_data_uri(data_uri(wav + b"\0" * (1024 * 1024)), "audio", max_bytes=1024 * 1024)


def test_normalisation_rebuilds_parts() -> None:
    url = "  " + data_uri(png_bytes()) + "\n"
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": "plain"},
        {"role": "user", "content": [
            {"type": "text", "text": "what?", "extra": 1},
            {"type": "image_url", "image_url": {"url": url, "detail": "", "x": 2}, "y": 3},
            {"type": "image_url", "image_url": {"url": url, "detail": "high"}},
        ]},
    ]
    out = normalize_messages(messages)
    assert out[0] == messages[0]
    parts = out[1]["content"]
    assert parts[0] == {"type": "text", "text": "what?", "extra": 1}
    assert parts[1] == {"type": "image_url", "image_url": {"url": url.strip()}}
    assert parts[2]["image_url"]["detail"] == "high"
    assert messages[1]["content"][1]["y"] == 3  # the caller's objects are not modified


def test_twenty_first_image_is_refused() -> None:
    part = image_part_from_bytes(png_bytes())
    normalize_messages([{"role": "user", "content": [part] * 20}])
    with pytest.raises(ValidationError, match=r"A maximum of 20 vision images is allowed per "
                                              "request"):
        normalize_messages([{"role": "user", "content": [part] * 10},
                            {"role": "user", "content": [part] * 11}])


def test_part_helpers(tmp_path: Path) -> None:
    data = png_bytes(4, 4)
    part = image_part_from_bytes(data, detail="low")
    assert part == {"type": "image_url", "image_url": {"url": data_uri(data), "detail": "low"}}
    path = tmp_path / "pic.bin"
    path.write_bytes(jpeg_bytes())
    assert image_part_from_path(path)["image_url"]["url"].startswith("data:image/jpeg;base64,")
    assert text_part("hi") == {"type": "text", "text": "hi"}
    with pytest.raises(ValidationError):
        image_part_from_bytes(b"GIF89a")
    with pytest.raises(ValidationError, match=r"detail"):
        image_part(data_uri(data), detail="ultra")
