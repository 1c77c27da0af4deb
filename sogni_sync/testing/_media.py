"""Deterministic, genuinely valid media files for emulated results.

No imaging libraries: a PNG encoder on top of :mod:`zlib`, a minimal ISO-BMFF (``ftyp`` /
``moov`` / ``mdat``) MP4, PCM WAV and silent MPEG-1 Layer III frames. Every byte is a function
of the inputs (prompt, seed, size...), so the same request always yields the same file and
tests can compare results. Images are rendered at a reduced size by default (``max_side``)
because the emulator must serve thousands of results per second; the aspect ratio follows the
request.
"""

from __future__ import annotations

import hashlib
import math
import struct
import zlib

__all__ = [
    "content_type_for",
    "render_audio",
    "render_image",
    "render_jpeg",
    "render_video",
    "sniff",
]


def _digest(*parts: object) -> bytes:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8")).digest()


def _chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def encode_png(width: int, height: int, rgb_rows: list[bytes]) -> bytes:
    """Encode 8-bit RGB rows (each ``3 * width`` bytes) as a PNG file."""
    raw = b"".join(b"\x00" + row for row in rgb_rows)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", ihdr)
        + _chunk(b"IDAT", zlib.compress(raw, 6))
        + _chunk(b"IEND", b"")
    )


def _scaled(width: int, height: int, max_side: int) -> tuple[int, int]:
    width = max(1, int(width or 512))
    height = max(1, int(height or 512))
    if max_side > 0 and max(width, height) > max_side:
        scale = max_side / max(width, height)
        width, height = max(1, round(width * scale)), max(1, round(height * scale))
    return width, height


def render_image(prompt: str, seed: int | str, width: int, height: int, *, max_side: int = 64,
                 salt: str = "") -> bytes:
    """A PNG whose colours and stripes are a function of (prompt, seed, salt)."""
    w, h = _scaled(width, height, max_side)
    d = _digest("image", prompt, seed, salt)
    base = (d[0], d[1], d[2])
    step_x = (d[3] % 7 + 1, d[4] % 7 + 1, d[5] % 7 + 1)
    step_y = (d[6] % 5 + 1, d[7] % 5 + 1, d[8] % 5 + 1)
    period = d[9] % 13 + 3
    rows = []
    for y in range(h):
        r0 = base[0] + y * step_y[0]
        g0 = base[1] + y * step_y[1]
        b0 = base[2] + y * step_y[2]
        row = bytearray(3 * w)
        for x in range(w):
            stripe = 48 if (x + y) // period % 2 else 0
            i = 3 * x
            row[i] = (r0 + x * step_x[0] + stripe) & 0xFF
            row[i + 1] = (g0 + x * step_x[1]) & 0xFF
            row[i + 2] = (b0 + x * step_x[2] - stripe) & 0xFF
        rows.append(bytes(row))
    return encode_png(w, h, rows)


# Standard DC Huffman tables (ITU T.81 Annex K.3): code-length counts, then symbols 0..11.
_DC_LUMA = (bytes((0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0)), bytes(range(12)))
_DC_CHROMA = (bytes((0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0)), bytes(range(12)))
# Our images are mosaics of flat 8x8 blocks, so every AC coefficient is zero and the only AC
# symbol ever coded is EOB (0x00): a one-symbol table with a 1-bit code is enough.
_AC_EOB = (bytes((1,) + (0,) * 15), bytes((0,)))


def _huffman_codes(table: tuple[bytes, bytes]) -> dict[int, tuple[int, int]]:
    """Canonical Huffman codes ``symbol -> (code, length)`` from a DHT definition."""
    counts, symbols = table
    codes, code, k = {}, 0, 0
    for length, n in enumerate(counts, start=1):
        for _ in range(n):
            codes[symbols[k]] = (code, length)
            code, k = code + 1, k + 1
        code <<= 1
    return codes


class _BitWriter:
    def __init__(self) -> None:
        self.out = bytearray()
        self.acc = 0
        self.bits = 0

    def write(self, value: int, length: int) -> None:
        self.acc = (self.acc << length) | (value & ((1 << length) - 1))
        self.bits += length
        while self.bits >= 8:
            self.bits -= 8
            byte = (self.acc >> self.bits) & 0xFF
            self.out.append(byte)
            if byte == 0xFF:
                self.out.append(0)  # byte stuffing
        self.acc &= (1 << self.bits) - 1

    def flush(self) -> bytes:
        if self.bits:
            self.write((1 << (8 - self.bits)) - 1, 8 - self.bits)  # pad with 1-bits
        return bytes(self.out)


def _segment(marker: int, body: bytes) -> bytes:
    return struct.pack(">BBH", 0xFF, marker, len(body) + 2) + body


def render_jpeg(prompt: str, seed: int | str, width: int, height: int, *, max_side: int = 64,
                salt: str = "") -> bytes:
    """A baseline (SOF0) YCbCr JPEG: a mosaic of flat 8x8 blocks coloured by (prompt, seed).

    Flat blocks have only a DC coefficient, so the encoder needs no DCT: DC = 8 x (level - 128),
    quantised by 8, differentially Huffman-coded; each block then ends with EOB.
    """
    w, h = _scaled(width, height, max_side)
    d = _digest("jpeg", prompt, seed, salt)
    bw, bh = (w + 7) // 8, (h + 7) // 8
    tables = [_huffman_codes(t) for t in (_DC_LUMA, _AC_EOB, _DC_CHROMA, _AC_EOB)]
    bits = _BitWriter()
    pred = [0, 0, 0]
    for by in range(bh):
        for bx in range(bw):
            r = (d[0] + bx * (d[3] % 29 + 8) + by * 5) & 0xFF
            g = (d[1] + by * (d[4] % 29 + 8) + bx * 3) & 0xFF
            b = (d[2] + (bx + by) * (d[5] % 17 + 4)) & 0xFF
            ycc = (0.299 * r + 0.587 * g + 0.114 * b,
                   128 - 0.168736 * r - 0.331264 * g + 0.5 * b,
                   128 + 0.5 * r - 0.418688 * g - 0.081312 * b)
            for comp, level in enumerate(ycc):
                dc_codes, ac_codes = tables[0:2] if comp == 0 else tables[2:4]
                value = round(level) - 128  # 8 * (level - 128) / quantiser 8
                diff, pred[comp] = value - pred[comp], value
                size = abs(diff).bit_length()
                code, length = dc_codes[size]
                bits.write(code, length)
                if size:
                    bits.write(diff if diff > 0 else diff + (1 << size) - 1, size)
                code, length = ac_codes[0]
                bits.write(code, length)
    quant = bytes((8,) * 64)
    dht = b"".join(bytes((cls_id,)) + t[0] + t[1] for cls_id, t in
                   ((0x00, _DC_LUMA), (0x10, _AC_EOB), (0x01, _DC_CHROMA), (0x11, _AC_EOB)))
    sof = struct.pack(">BHHB", 8, h, w, 3) + bytes((1, 0x11, 0, 2, 0x11, 1, 3, 0x11, 1))
    sos = bytes((3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0))
    return (b"\xff\xd8"
            + _segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
            + _segment(0xDB, b"\x00" + quant + b"\x01" + quant)
            + _segment(0xC0, sof) + _segment(0xC4, dht) + _segment(0xDA, sos)
            + bits.flush() + b"\xff\xd9")


def _box(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", 8 + len(body)) + kind + body


def render_video(prompt: str, seed: int | str, width: int, height: int, frames: int,
                 fps: float) -> bytes:
    """A structurally valid MP4: ``ftyp isom`` + ``moov`` (``mvhd``, one ``trak``) + ``mdat``.

    The ``mdat`` holds a deterministic payload, not an H.264 stream; players will not show a
    picture, but container parsers (and magic-byte checks) accept the file.
    """
    fps = float(fps or 16)
    frames = max(1, int(frames or 1))
    timescale = 1000
    duration = int(frames / fps * timescale)
    w, h = int(width or 512), int(height or 512)
    ftyp = _box(b"ftyp", b"isom" + struct.pack(">I", 512) + b"isomiso2mp41")
    matrix = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
    mvhd = _box(b"mvhd", struct.pack(">IIIII", 0, 0, 0, timescale, duration)
                + struct.pack(">IH", 0x10000, 0x100) + b"\x00" * 10 + matrix + b"\x00" * 24
                + struct.pack(">I", 2))
    tkhd = _box(b"tkhd", struct.pack(">IIIIII", 3, 0, 0, 1, 0, duration) + b"\x00" * 8
                + struct.pack(">HHHH", 0, 0, 0, 0) + matrix + struct.pack(">II", w << 16, h << 16))
    mdhd = _box(b"mdhd", struct.pack(">IIIII", 0, 0, 0, timescale, duration)
                + struct.pack(">HH", 0x55C4, 0))
    hdlr = _box(b"hdlr", struct.pack(">II", 0, 0) + b"vide" + b"\x00" * 12 + b"VideoHandler\x00")
    mdia = _box(b"mdia", mdhd + hdlr)
    trak = _box(b"trak", tkhd + mdia)
    moov = _box(b"moov", mvhd + trak)
    d = _digest("video", prompt, seed, w, h, frames, fps)
    mdat = _box(b"mdat", d * max(1, min(frames, 256)))
    return ftyp + moov + mdat


def _wav(samples: bytes, rate: int) -> bytes:
    header = b"RIFF" + struct.pack("<I", 36 + len(samples)) + b"WAVE"
    fmt = b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
    return header + fmt + b"data" + struct.pack("<I", len(samples)) + samples


def _mp3(seconds: float) -> bytes:
    # MPEG-1 Layer III, 128 kbit/s, 44.1 kHz, mono, no padding: 417-byte frames. All-zero side
    # information (part2_3_length = 0) decodes as silence.
    header = bytes((0xFF, 0xFB, 0x90, 0xC0))
    frame = header + b"\x00" * (417 - 4)
    count = max(1, math.ceil(seconds * 44100 / 1152))
    return frame * count


def render_audio(prompt: str, seed: int | str, seconds: float, output_format: str) -> bytes:
    """WAV (a tone whose pitch depends on prompt and seed) or MP3 (silent frames) or FLAC->WAV."""
    seconds = max(0.1, min(float(seconds or 5), 30.0))
    if output_format == "mp3":
        return _mp3(seconds)
    rate = 8000
    d = _digest("audio", prompt, seed)
    freq = 220 + (d[0] << 8 | d[1]) % 660
    n = int(rate * seconds)
    period = rate / freq
    one = [int(8000 * math.sin(2 * math.pi * i / period)) for i in range(int(period * 4) or 1)]
    cycle = struct.pack(f"<{len(one)}h", *one)
    reps = n // len(one) + 1
    return _wav((cycle * reps)[: 2 * n], rate)


def content_type_for(kind: str, output_format: str | None) -> str:
    """The Content-Type a stored result is served with."""
    fmt = (output_format or "").lower()
    if kind == "video":
        return "video/mp4"
    if kind == "audio":
        return "audio/mpeg" if fmt in ("", "mp3") else "audio/wav"
    return "image/jpeg" if fmt in ("jpg", "jpeg") else "image/png"


def sniff(data: bytes) -> str | None:
    """The MIME type the clients derive from leading bytes (transport.md §10.4)."""
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
