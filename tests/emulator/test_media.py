"""The media codecs produce valid, deterministic files."""

from __future__ import annotations

import struct
import zlib

import pytest

from sogni_sync.testing import _media


def _png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    out, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF
        out.append((kind, body))
        pos += 12 + length
    return out


def test_png_is_valid_and_deterministic() -> None:
    png = _media.render_image("a cat", 1, 1024, 512)
    chunks = _png_chunks(png)
    assert [k for k, _ in chunks] == [b"IHDR", b"IDAT", b"IEND"]
    w, h = struct.unpack(">II", chunks[0][1][:8])
    assert (w, h) == (64, 32)
    raw = zlib.decompress(chunks[1][1])
    assert len(raw) == h * (1 + 3 * w)
    assert png == _media.render_image("a cat", 1, 1024, 512)
    assert png != _media.render_image("a cat", 2, 1024, 512)
    assert png != _media.render_image("a dog", 1, 1024, 512)
    full = _png_chunks(_media.render_image("x", 1, 100, 80, max_side=0))
    assert struct.unpack(">II", full[0][1][:8]) == (100, 80)


def test_mp4_boxes() -> None:
    mp4 = _media.render_video("wave", 3, 512, 512, 33, 16)
    pos, kinds = 0, []
    while pos < len(mp4):
        size, kind = struct.unpack(">I4s", mp4[pos:pos + 8])
        kinds.append(kind)
        pos += size
    assert kinds == [b"ftyp", b"moov", b"mdat"] and pos == len(mp4)
    assert mp4[8:12] == b"isom"
    assert _media.sniff(mp4) == "video/mp4"


def test_wav_and_mp3() -> None:
    wav = _media.render_audio("song", 1, 2, "wav")
    assert wav[:4] == b"RIFF" and wav[8:12] == b"WAVE"
    assert struct.unpack("<I", wav[40:44])[0] == 2 * 8000 * 2
    assert _media.sniff(wav) == "audio/wav"
    mp3 = _media.render_audio("song", 1, 2, "mp3")
    assert mp3[:2] == b"\xff\xfb" and len(mp3) % 417 == 0
    assert _media.sniff(mp3) == "audio/mpeg"
    assert _media.content_type_for("audio", "flac") == "audio/wav"


def test_sniff_table() -> None:
    assert _media.sniff(b"\xff\xd8\xff" + b"\0" * 9) == "image/jpeg"
    assert _media.sniff(b"RIFF\0\0\0\0WEBP" + b"\0") == "image/webp"
    assert _media.sniff(b"\0\0\0\x18ftypM4A " + b"\0") == "audio/mp4"
    assert _media.sniff(b"\0\0\0\x18ftypqt  " + b"\0") == "video/quicktime"
    assert _media.sniff(b"ID3") == "audio/mpeg"
    assert _media.sniff(b"\0" * 64) is None


def test_jpeg_structure_and_determinism() -> None:
    jpg = _media.render_jpeg("a cat", 7, 1024, 768)
    assert jpg[:3] == b"\xff\xd8\xff" and jpg.endswith(b"\xff\xd9")
    sof = jpg.index(b"\xff\xc0")
    assert struct.unpack(">HH", jpg[sof + 5:sof + 9]) == (48, 64)  # height, width
    assert _media.sniff(jpg) == "image/jpeg"
    assert jpg == _media.render_jpeg("a cat", 7, 1024, 768)
    assert jpg != _media.render_jpeg("a cat", 8, 1024, 768)
    scan = jpg[jpg.index(b"\xff\xda") + 14:-2]
    assert all(scan[i + 1] == 0 for i in range(len(scan) - 1) if scan[i] == 0xFF)  # stuffed


def test_jpeg_decodes_with_libjpeg_when_available(tmp_path) -> None:
    import shutil
    import subprocess

    djpeg = shutil.which("djpeg")
    if djpeg is None:
        pytest.skip("djpeg not installed")
    path = tmp_path / "x.jpg"
    path.write_bytes(_media.render_jpeg("a cat", 7, 100, 50, max_side=0))
    out = subprocess.run([djpeg, str(path)], capture_output=True, check=True)
    assert out.stdout.startswith(b"P6\n100 50\n255\n") and not out.stderr
