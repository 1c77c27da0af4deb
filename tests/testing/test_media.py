"""The media the emulator serves are real files: checked by parsing the formats here and by
decoding them with ffmpeg (an independent decoder; see ``decoders.py``)."""

from __future__ import annotations

import hashlib
import itertools
import struct
import zlib
from pathlib import Path

import pytest

from sogni_sync.testing import _audio, _images, _media
from sogni_sync.testing._raster import paint_card, text_lines

from .decoders import decode, probe, rms_dbfs

PROMPT = "A lighthouse on a cliff at dusk, volumetric light"


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


def _png_rgb(data: bytes) -> tuple[int, int, bytes]:
    chunks = dict(_png_chunks(data))
    w, h, depth, colour = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, colour) == (8, 2)
    raw = zlib.decompress(chunks[b"IDAT"])
    stride = 1 + 3 * w
    assert len(raw) == h * stride and all(raw[y * stride] == 0 for y in range(h))
    return w, h, b"".join(raw[y * stride + 1:(y + 1) * stride] for y in range(h))


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# -- images -----------------------------------------------------------------------------------

def test_png_size_cap_and_determinism() -> None:
    png = _media.render_image("a cat", 1, 1024, 512)
    assert _png_rgb(png)[:2] == (64, 32)  # default cap: 64 px, aspect kept
    assert _png_rgb(_media.render_image("x", 1, 768, 512, max_side=0))[:2] == (768, 512)
    assert _png_rgb(_media.render_image("x", 1, 768, 512, max_side=512))[:2] == (512, 341)
    assert png == _media.render_image("a cat", 1, 1024, 512)
    assert png != _media.render_image("a cat", 2, 1024, 512)
    assert png != _media.render_image("a dog", 1, 1024, 512)


def test_card_shows_prompt_seed_and_model() -> None:
    assert text_lines(PROMPT, 42, "flux1-schnell-fp8", 512, 3) == [
        "A lighthouse on a cliff at", "dusk, volumetric light", "seed 42",
        "model flux1-schnell-fp8"]
    long = text_lines("word " * 50, 7, "m", 256, 1)
    assert len(long) == 5 and long[-2:] == ["seed 7", "model m"]  # first words only
    # The text is drawn: white ink on the dark panel at the top-left, and it differs by seed.
    w, _, rgb = _png_rgb(_media.render_image(PROMPT, 42, 512, 512, max_side=0))
    top = rgb[:3 * w * 40]
    assert top.count(b"\xff\xff\xff") > 300 and top.count(b"\x14\x14\x14") > 300
    other = _png_rgb(_media.render_image(PROMPT, 43, 512, 512, max_side=0))[2]
    seed_row = 3 * w * 80  # the "seed ..." line
    assert rgb[seed_row:seed_row + 3 * w * 20] != other[seed_row:seed_row + 3 * w * 20]


def test_webp_is_lossless_vp8l() -> None:
    webp = _media.render_image(PROMPT, 5, 300, 200, output_format="webp", max_side=0)
    assert webp[:4] == b"RIFF" and webp[8:16] == b"WEBPVP8L"
    assert struct.unpack("<I", webp[4:8])[0] == len(webp) - 8
    assert webp[20] == 0x2F
    bits = int.from_bytes(webp[21:25], "little")
    assert ((bits & 0x3FFF) + 1, (bits >> 14 & 0x3FFF) + 1) == (300, 200)
    assert _media.sniff(webp) == "image/webp"


def test_huffman_lengths_are_complete_and_limited() -> None:
    counts = [1 << i for i in range(30)]  # a skewed distribution wants 29-bit codes
    lengths = _images.huffman_lengths(counts, 15)
    assert max(lengths) <= 15 and sum(2.0 ** -n for n in lengths if n) == 1.0
    assert _images.huffman_lengths([0, 5, 0], 15) == [0, 0, 0]  # one symbol: no bits


def test_images_decode_with_ffmpeg(tmp_path: Path) -> None:
    canvas = paint_card(PROMPT, 9, "flux1-schnell-fp8", 200, 120)
    expected = canvas.rgb()
    for fmt in ("png", "webp"):
        data = _media.render_image(PROMPT, 9, 200, 120, output_format=fmt,
                                   model="flux1-schnell-fp8", max_side=0)
        path = _write(tmp_path, f"x.{fmt}", data)
        stream = probe(path)["stream"]
        assert (stream["codec_name"], stream["width"], stream["height"]) == (fmt, 200, 120)
        assert decode(path, "rgb24") == expected  # lossless formats: every pixel exact
    jpg = _write(tmp_path, "x.jpg", _media.render_image(
        PROMPT, 9, 200, 120, output_format="jpg", model="flux1-schnell-fp8", max_side=0))
    stream = probe(jpg)["stream"]
    assert (stream["codec_name"], stream["width"], stream["height"]) == ("mjpeg", 200, 120)
    got = decode(jpg, "rgb24")
    assert len(got) == len(expected)
    error = sum(abs(a - b) for a, b in zip(got, expected, strict=True)) / len(got)
    assert error < 4  # a quality-90 JPEG: close to the picture


def test_jpeg_structure_and_determinism() -> None:
    jpg = _media.render_image("a cat", 7, 1024, 768, output_format="jpeg")
    assert jpg[:3] == b"\xff\xd8\xff" and jpg.endswith(b"\xff\xd9")
    sof = jpg.index(b"\xff\xc0")
    assert struct.unpack(">HH", jpg[sof + 5:sof + 9]) == (48, 64)  # height, width
    assert jpg == _media.render_image("a cat", 7, 1024, 768, output_format="jpg")
    assert jpg != _media.render_image("a cat", 8, 1024, 768, output_format="jpg")
    scan = jpg[jpg.index(b"\xff\xda") + 14:-2]
    assert all(scan[i + 1] == 0 for i in range(len(scan) - 1) if scan[i] == 0xFF)  # stuffed


# -- video ------------------------------------------------------------------------------------

def _boxes(data: bytes, start: int = 0, end: int | None = None) -> dict[bytes, bytes]:
    out, pos, end = {}, start, len(data) if end is None else end
    while pos < end:
        size, kind = struct.unpack(">I4s", data[pos:pos + 8])
        out[kind] = data[pos + 8:pos + size]
        pos += size
    assert pos == end
    return out


def test_mp4_boxes_and_avcc() -> None:
    mp4 = _media.render_video("wave", 3, 320, 240, 20, 16, max_side=0)
    top = _boxes(mp4)
    assert list(top) == [b"ftyp", b"moov", b"mdat"] and mp4[8:12] == b"isom"
    stbl = _boxes(_boxes(_boxes(_boxes(_boxes(top[b"moov"])[b"trak"])[b"mdia"])[b"minf"])[b"stbl"])
    avcc = stbl[b"stsd"][stbl[b"stsd"].index(b"avcC") + 4:]
    assert avcc[:2] == bytes((1, 66))  # version 1, Baseline profile
    assert struct.unpack(">II", stbl[b"stsz"][4:12]) == (0, 20)
    assert _media.sniff(mp4) == "video/mp4"


def test_video_caps() -> None:
    mp4 = _media.render_video("wave", 3, 832, 480, 81, 16, max_side=128, max_frames=10)
    stbl = _boxes(_boxes(_boxes(_boxes(_boxes(_boxes(mp4)[b"moov"])[b"trak"])[b"mdia"])
                         [b"minf"])[b"stbl"])
    assert struct.unpack(">I", stbl[b"stsz"][8:12])[0] == 10
    tkhd = _boxes(_boxes(_boxes(mp4)[b"moov"])[b"trak"])[b"tkhd"]
    assert struct.unpack(">II", tkhd[-8:]) == (128 << 16, 74 << 16)  # 832x480 -> 128x74 (even)


def test_video_decodes_with_ffmpeg(tmp_path: Path) -> None:
    width, height, frames = 200, 120, 40  # not multiples of 16: cropped by the SPS
    path = _write(tmp_path, "v.mp4", _media.render_video(
        "ocean waves", 11, width, height, frames, 16, model="wan", max_side=0))
    info = probe(path, count_frames=True)
    stream = info["stream"]
    assert stream["codec_name"] == "h264" and stream["profile"] == "Constrained Baseline"
    assert (stream["width"], stream["height"], stream["pix_fmt"]) == (width, height, "yuv420p")
    assert int(stream["nb_read_frames"]) == frames and stream["r_frame_rate"] == "16/1"
    assert float(info["format"]["duration"]) == pytest.approx(frames / 16, abs=0.01)
    raw = decode(path, "gray")
    size = width * height
    assert len(raw) == frames * size  # every frame decodes
    pictures = [raw[i * size:(i + 1) * size] for i in range(frames)]
    assert all(a != b for a, b in itertools.pairwise(pictures))  # it moves
    other = _write(tmp_path, "w.mp4", _media.render_video(
        "ocean waves", 12, width, height, frames, 16, model="wan", max_side=0))
    assert decode(other, "gray")[:size] != pictures[0]  # another seed, another picture


# -- audio ------------------------------------------------------------------------------------

def test_wav_flac_mp3_structure() -> None:
    wav = _media.render_audio("song", 1, 2, "wav")
    assert wav[:4] == b"RIFF" and wav[8:12] == b"WAVE" and _media.sniff(wav) == "audio/wav"
    rate, = struct.unpack("<I", wav[24:28])
    assert struct.unpack("<I", wav[40:44])[0] == 2 * rate * 2
    flac = _media.render_audio("song", 1, 2, "flac")
    assert flac[:4] == b"fLaC" and flac[4] == 0x80  # STREAMINFO, the last metadata block
    info = int.from_bytes(flac[18:26], "big")
    assert (info >> 44, (info >> 36) & 0xFF, info & (1 << 36) - 1) == (rate, 0x0F, 2 * rate)
    assert flac[26:42] == hashlib.md5(wav[44:]).digest()
    mp3 = _media.render_audio("song", 1, 2, "mp3")
    assert mp3[:2] == b"\xff\xfb" and _media.sniff(mp3) == "audio/mpeg"
    assert mp3 != _media.render_audio("song", 2, 2, "mp3")
    assert len(_media.render_audio("song", 1, 60, "wav", max_seconds=3)) == 44 + 3 * rate * 2


def test_flac_frame_numbers() -> None:
    assert _audio._utf8_number(5) == b"\x05"
    assert _audio._utf8_number(0x80) == b"\xc2\x80"
    assert _audio._utf8_number(0x7FF) == b"\xdf\xbf"
    assert _audio._utf8_number(0x800) == b"\xe0\xa0\x80"


def test_audio_decodes_with_ffmpeg(tmp_path: Path) -> None:
    # 25 s: more than 128 FLAC frames, so frame numbers take two bytes.
    wav = _media.render_audio("upbeat synthwave", 3, 25, "wav")
    flac = _write(tmp_path, "a.flac", _media.render_audio("upbeat synthwave", 3, 25, "flac"))
    assert probe(flac)["stream"]["codec_name"] == "flac"
    assert decode(flac, "s16le") == wav[44:]  # bit-exact, CRCs and MD5 accepted
    mp3 = _write(tmp_path, "a.mp3", _media.render_audio("upbeat synthwave", 3, 4, "mp3"))
    info = probe(mp3)
    assert info["stream"]["codec_name"] == "mp3"
    assert float(info["format"]["duration"]) == pytest.approx(4, abs=0.1)
    pcm = decode(mp3, "s16le")
    assert rms_dbfs(pcm) > -30  # audible, not silence
    again = _write(tmp_path, "b.mp3", _media.render_audio("upbeat synthwave", 4, 4, "mp3"))
    assert decode(again, "s16le") != pcm  # another take sounds different


def test_content_types_match_the_bytes() -> None:
    assert _media.content_type_for("image", "webp") == "image/webp"
    assert _media.content_type_for("image", "jpg") == "image/jpeg"
    assert _media.content_type_for("image", None) == "image/png"
    assert _media.content_type_for("audio", "flac") == "audio/flac"
    assert _media.content_type_for("audio", "wav") == "audio/wav"
    assert _media.content_type_for("audio", "mp3") == "audio/mpeg"
    assert _media.content_type_for("video", "mp4") == "video/mp4"


def test_sniff_table() -> None:
    assert _media.sniff(b"\xff\xd8\xff" + b"\0" * 9) == "image/jpeg"
    assert _media.sniff(b"RIFF\0\0\0\0WEBP" + b"\0") == "image/webp"
    assert _media.sniff(b"\0\0\0\x18ftypM4A " + b"\0") == "audio/mp4"
    assert _media.sniff(b"\0\0\0\x18ftypqt  " + b"\0") == "video/quicktime"
    assert _media.sniff(b"ID3") == "audio/mpeg"
    assert _media.sniff(b"\0" * 64) is None
