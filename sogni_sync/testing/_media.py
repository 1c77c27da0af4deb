"""Deterministic media files a user can open, for emulated results.

No third-party codecs: every format is written here from its specification (standard library
only) -- PNG, baseline JPEG and lossless WebP images (:mod:`._images`), H.264 Baseline video in
MP4 (:mod:`._video`), WAV, FLAC and MP3 audio (:mod:`._audio`). Every byte is a function of the
inputs (prompt, seed, model, size...), so the same request always yields the same file.

What a result shows: images and video frames are a card (:mod:`._raster`) carrying the first
words of the prompt, the seed and the model; a video's frames move (a bouncing block and a frame
counter); audio plays a melody derived from prompt and seed. Sizes follow the request up to
caps (``max_side`` for images and video, ``max_frames``, ``max_seconds``), so a test suite can
keep generation cheap while a standalone emulator serves full-size files.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator

from sogni_sync.testing import _audio, _images, _video
from sogni_sync.testing._raster import Canvas, digest, paint_card, text_scale

__all__ = [
    "IMAGE_FORMATS",
    "content_type_for",
    "image_size",
    "render_audio",
    "render_glb",
    "render_image",
    "render_video",
    "sniff",
]

IMAGE_FORMATS = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg",
                 "webp": "image/webp"}
_AUDIO_FORMATS = {"mp3": "audio/mpeg", "wav": "audio/wav", "flac": "audio/flac"}


def scaled(width: float, height: float, max_side: int, default: int = 512) -> tuple[int, int]:
    """The requested size, shrunk (aspect kept) so that no side exceeds ``max_side`` (0 = no
    cap)."""
    w = max(1, int(width or default))
    h = max(1, int(height or default))
    if max_side > 0 and max(w, h) > max_side:
        scale = max_side / max(w, h)
        w, h = max(1, round(w * scale)), max(1, round(h * scale))
    return w, h


def render_image(prompt: str, seed: int | str, width: float, height: float, *,
                 output_format: str = "png", model: str = "", max_side: int = 64,
                 salt: str = "") -> bytes:
    """An image of the requested size (capped by ``max_side``) in ``output_format``
    (``png``, ``jpg``/``jpeg`` or ``webp``; anything else is PNG, as the server defaults)."""
    w, h = scaled(width, height, max_side)
    canvas = paint_card(prompt, seed, model, w, h, salt)
    fmt = (output_format or "png").lower()
    if fmt in ("jpg", "jpeg"):
        return _images.encode_jpeg(canvas)
    if fmt == "webp":
        return _images.encode_webp(canvas)
    return _images.encode_png(canvas)


def _yuv_tables(canvas: Canvas) -> tuple[bytes, bytes, bytes]:
    """BT.601 limited-range Y, Cb, Cr of each palette entry (never 0: no start-code bytes)."""
    pal = canvas.palette + [(0, 0, 0)] * (256 - len(canvas.palette))
    return (bytes(round(16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255) for r, g, b in pal),
            bytes(round(128 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255) for r, g, b in pal),
            bytes(round(128 + (112.0 * r - 93.786 * g - 18.214 * b) / 255) for r, g, b in pal))


def _frames(base: Canvas, width: int, height: int, seed_bytes: bytes,
            count: int) -> Iterator[_video.Frame]:
    """The frames of a video: the card, a block bouncing across it and a frame counter."""
    w = base.width
    block = max(8, min(width, height) // 6)
    speed = 2 + seed_bytes[0] % 5
    travel_x, travel_y = max(1, width - block), max(1, height - block)
    start_x, start_y = seed_bytes[1] * travel_x // 256, seed_bytes[2] * travel_y // 256
    scale = max(1, text_scale(width, height) // 2)
    for i in range(count):
        canvas = base.copy()
        ink, panel = canvas.colour((255, 255, 255)), canvas.colour((20, 20, 20))
        sprite = canvas.colour((255 - seed_bytes[3] // 2, seed_bytes[4] // 2, 255))
        x = _bounce(start_x + i * speed * block // 8, travel_x)
        y = _bounce(start_y + i * speed * block // 16, travel_y)
        canvas.fill(x, y, block, block, sprite)
        canvas.text(0, max(0, height - 9 * scale), f"frame {i + 1}/{count}", ink, panel, scale)
        ys, us, vs = _yuv_tables(canvas)
        data = bytes(canvas.pixels)
        sub = b"".join(data[r * w:(r + 1) * w:2] for r in range(0, base.height, 2))
        yield data.translate(ys), sub.translate(us), sub.translate(vs)


def _bounce(pos: int, span: int) -> int:
    pos %= 2 * span
    return pos if pos < span else 2 * span - pos


def render_video(prompt: str, seed: int | str, width: float, height: float, frames: float,
                 fps: float, *, model: str = "", max_side: int = 128,
                 max_frames: int = 160) -> bytes:
    """An H.264 MP4 of the requested size (capped by ``max_side``, rounded down to even), frame
    count (capped by ``max_frames``; 0 = no cap) and rate."""
    w, h = scaled(width, height, max_side)
    w, h = max(2, w - w % 2), max(2, h - h % 2)
    count = max(1, int(frames or 1))
    if max_frames > 0:
        count = min(count, max_frames)
    rate = float(fps or 16)
    coded_w, coded_h = (w + 15) // 16 * 16, (h + 15) // 16 * 16
    base = paint_card(prompt, seed, model, w, h).padded(coded_w, coded_h)
    frames_iter = _frames(base, w, h, digest("video", prompt, seed), count)
    return _video.encode_mp4(frames_iter, w, h, coded_w, rate)


def render_audio(prompt: str, seed: int | str, seconds: float, output_format: str, *,
                 max_seconds: float = 30.0) -> bytes:
    """A melody of the requested duration (at least 0.1 s, capped by ``max_seconds``; 0 = no
    cap) as ``mp3`` (default), ``wav`` or ``flac``."""
    seconds = max(0.1, float(seconds or 5))
    if max_seconds > 0:
        seconds = min(seconds, float(max_seconds))
    notes = _audio.melody(prompt, seed, seconds)
    fmt = (output_format or "mp3").lower()
    if fmt == "wav":
        return _audio.encode_wav(_audio.synthesize(notes))
    if fmt == "flac":
        return _audio.encode_flac(_audio.synthesize(notes))
    return _audio.encode_mp3(notes)


def image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a PNG or JPEG from its header, None for anything else."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return width, height
    if data[:2] != b"\xff\xd8":
        return None
    pos = 2
    while pos + 9 <= len(data) and data[pos] == 0xFF:
        marker, length = data[pos + 1], struct.unpack(">H", data[pos + 2:pos + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):  # a start of frame
            height, width = struct.unpack(">HH", data[pos + 5:pos + 9])
            return width, height
        pos += 2 + length
    return None


GLB_CONTENT_TYPE = "model/gltf-binary"


def render_glb(prompt: str, seed: int | str) -> bytes:
    """A glTF 2.0 binary (GLB): one tetrahedron whose shape follows prompt and seed."""
    d = digest(prompt, seed)
    apex = 0.5 + d[0] / 255.0  # the height of the tip: 0.5 .. 1.5
    positions = [(-0.5, 0.0, -0.5), (0.5, 0.0, -0.5), (0.0, 0.0, 0.5), (0.0, apex, 0.0)]
    indices = [0, 1, 2, 0, 3, 1, 1, 3, 2, 2, 3, 0]
    vertex_bytes = b"".join(struct.pack("<3f", *p) for p in positions)
    index_bytes = struct.pack(f"<{len(indices)}H", *indices)
    index_bytes += b"\0" * (-len(index_bytes) % 4)
    binary = vertex_bytes + index_bytes
    gltf = {
        "asset": {"version": "2.0", "generator": "sogni-sync emulator"},
        "scene": 0, "scenes": [{"nodes": [0]}], "nodes": [{"mesh": 0, "name": prompt[:40]}],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 0}, "indices": 1}]}],
        "buffers": [{"byteLength": len(binary)}],
        "bufferViews": [
            {"buffer": 0, "byteOffset": 0, "byteLength": len(vertex_bytes), "target": 34962},
            {"buffer": 0, "byteOffset": len(vertex_bytes), "byteLength": len(indices) * 2,
             "target": 34963}],
        "accessors": [
            {"bufferView": 0, "componentType": 5126, "count": 4, "type": "VEC3",
             "min": [-0.5, 0.0, -0.5], "max": [0.5, apex, 0.5]},
            {"bufferView": 1, "componentType": 5123, "count": len(indices), "type": "SCALAR"}],
    }
    text = json.dumps(gltf, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 4)
    chunks = (struct.pack("<I4s", len(text), b"JSON") + text
              + struct.pack("<I4s", len(binary), b"BIN\0") + binary)
    return struct.pack("<4sII", b"glTF", 2, 12 + len(chunks)) + chunks


def content_type_for(kind: str, output_format: str | None) -> str:
    """The Content-Type a stored result is served with (what its bytes really are)."""
    fmt = (output_format or "").lower()
    if fmt == "glb":
        return GLB_CONTENT_TYPE
    if kind == "video":
        return "video/mp4"
    if kind == "audio":
        return _AUDIO_FORMATS.get(fmt, "audio/mpeg")
    return IMAGE_FORMATS.get(fmt, "image/png")


def sniff(data: bytes) -> str | None:
    """The MIME type the clients derive from leading bytes (magic numbers; first match wins)."""
    if len(data) >= 12:
        if data[:3] == b"\xff\xd8\xff":
            return "image/jpeg"
        if data[:4] == b"\x89PNG":
            return "image/png"
        if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
            return "image/webp"
        if data[:3] == b"GIF":
            return "image/gif"
        if data[4:8] == b"ftyp":
            brand = data[8:12].decode("latin-1").lower()
            if "m4a" in brand or "m4b" in brand:
                return "audio/mp4"
            return "video/quicktime" if "qt" in brand else "video/mp4"
        if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
            return "audio/wav"
    if len(data) >= 3 and data[:3] == b"ID3":
        return "audio/mpeg"
    if len(data) >= 2 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0:
        return "audio/mpeg"
    return None
