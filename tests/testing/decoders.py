"""Independent decoders for the emulator's media: ffmpeg/ffprobe (Debian's ``ffmpeg`` package).

Locally a missing ffmpeg skips the tests that need it; with ``SOGNI_REQUIRE_FFMPEG`` set (CI
installs ffmpeg and sets it) a missing ffmpeg fails them, so the check cannot pass quietly.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import struct
import subprocess
from pathlib import Path
from typing import Any

import pytest


def tools() -> tuple[str, str]:
    ffmpeg, ffprobe = shutil.which("ffmpeg"), shutil.which("ffprobe")
    if ffmpeg is None or ffprobe is None:
        if os.environ.get("SOGNI_REQUIRE_FFMPEG"):
            pytest.fail("ffmpeg/ffprobe are required (SOGNI_REQUIRE_FFMPEG) but not installed")
        pytest.skip("ffmpeg/ffprobe not installed")
    return ffmpeg, ffprobe


def probe(path: Path, *, count_frames: bool = False) -> dict[str, Any]:
    """ffprobe's view of the first stream and the container."""
    _, ffprobe = tools()
    args = [ffprobe, "-v", "error", "-of", "json", "-show_streams", "-show_format"]
    if count_frames:
        args.append("-count_frames")
    out = subprocess.run([*args, str(path)], capture_output=True, check=True, text=True)
    info = json.loads(out.stdout)
    return {"stream": info["streams"][0], "format": info["format"]}


def decode(path: Path, fmt: str, *extra: str) -> bytes:
    """Decode with ffmpeg to raw ``fmt`` (``rgb24``, ``gray`` video or ``s16le`` audio); any
    decoder complaint fails the test."""
    ffmpeg, _ = tools()
    kind = ["-f", "rawvideo", "-pix_fmt", fmt] if fmt in ("rgb24", "gray") else ["-f", fmt]
    out = subprocess.run([ffmpeg, "-v", "error", "-i", str(path), *extra, *kind, "-"],
                         capture_output=True, check=True)
    assert out.stderr == b"", out.stderr.decode(errors="replace")
    return out.stdout


def rms_dbfs(pcm: bytes) -> float:
    """Root-mean-square level of 16-bit little-endian samples, in dB below full scale."""
    samples = struct.unpack(f"<{len(pcm) // 2}h", pcm[:len(pcm) // 2 * 2])
    if not samples:
        return -math.inf
    power = sum(s * s for s in samples) / len(samples)
    return 10 * math.log10(power / 32768 ** 2) if power else -math.inf


def kind_of(data: bytes) -> str | None:
    """What a result file is -- ``image``, ``video``, ``audio`` or ``model`` (a GLB) -- from its
    leading bytes, without the emulator's own sniffing."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" or data[:3] == b"\xff\xd8\xff" or (
            data[:4] == b"RIFF" and data[8:12] == b"WEBP"):
        return "image"
    if data[4:8] == b"ftyp":
        return "video"
    if data[:3] == b"ID3" or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0) \
            or data[:4] == b"fLaC" or (data[:4] == b"RIFF" and data[8:12] == b"WAVE"):
        return "audio"
    if data[:4] == b"glTF" and int.from_bytes(data[4:8], "little") == 2:
        return "model"
    return None
