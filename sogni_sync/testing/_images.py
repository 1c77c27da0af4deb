"""Image encoders for a :class:`~sogni_sync.testing._raster.Canvas`: PNG, baseline JPEG and
lossless WebP (VP8L), written from the format specifications with the standard library only.

* PNG: 8-bit RGB, filter 0, one zlib ``IDAT``.
* JPEG: baseline SOF0, YCbCr 4:4:4, quality-90 tables. Flat 8x8 blocks (most of a card) carry
  only a DC term; the others go through a separable float DCT. Huffman tables are fixed-length
  canonical codes (4 bits per DC category, 8 bits per AC run/size symbol), valid for any data.
* WebP: VP8L with no transforms and no colour cache; runs of equal pixels become backward
  references to the left neighbour, repeated rows references to the row above; five canonical
  prefix codes built from the symbol counts (length-limited Huffman).
"""

from __future__ import annotations

import heapq
import math
import re
import struct
import zlib
from functools import lru_cache
from operator import mul

from sogni_sync.testing._bits import LsbWriter, MsbWriter
from sogni_sync.testing._raster import Canvas

__all__ = ["encode_jpeg", "encode_png", "encode_webp"]


# -- PNG ------------------------------------------------------------------------------------

def _chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def encode_png(canvas: Canvas) -> bytes:
    """An 8-bit RGB PNG of the canvas."""
    w, h = canvas.width, canvas.height
    rgb, stride = canvas.rgb(), 3 * w
    raw = b"".join(b"\x00" + rgb[y * stride:(y + 1) * stride] for y in range(h))
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr)
            + _chunk(b"IDAT", zlib.compress(raw, 6)) + _chunk(b"IEND", b""))


# -- JPEG -----------------------------------------------------------------------------------

_LUMA_Q = (16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
           14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
           18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
           49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99)
_QUANT = tuple(max(1, (q * 20 + 50) // 100) for q in _LUMA_Q)  # quality 90, natural order
_ZIGZAG = tuple(sorted(range(64), key=lambda i: (i // 8 + i % 8,
                                                 (i // 8) if (i // 8 + i % 8) % 2 else (i % 8))))
_DC_SYMBOLS = bytes(range(12))
_AC_SYMBOLS = bytes([0x00, 0xF0] + [run << 4 | size for run in range(16) for size in range(1, 11)])
_AC_CODE = {sym: i for i, sym in enumerate(_AC_SYMBOLS)}  # 8-bit fixed-length codes
_COS = tuple(tuple((math.sqrt(0.5) if u == 0 else 1.0) * 0.5 * math.cos((2 * x + 1) * u * math.pi
                                                                        / 16) for x in range(8))
             for u in range(8))


_SHIFT = 128 * sum(_COS[0])  # the level shift only moves each row's DC term


def _fdct(block: bytes) -> list[float]:
    """2-D DCT-II of an 8x8 block of samples (level-shifted by 128), natural order."""
    rows = [[sum(map(mul, c, block[8 * r:8 * r + 8])) for c in _COS] for r in range(8)]
    for row in rows:
        row[0] -= _SHIFT
    out = [0.0] * 64
    for u, col in enumerate(zip(*rows, strict=True)):
        for v, c in enumerate(_COS):
            out[8 * v + u] = sum(map(mul, c, col))
    return out


def _category(value: int) -> tuple[int, int]:
    size = abs(value).bit_length()
    return size, (value if value >= 0 else value + (1 << size) - 1)


@lru_cache(maxsize=4096)
def _quantised(block: bytes) -> tuple[int, ...]:
    """The block's quantised coefficients in zigzag order (text blocks repeat: cached)."""
    f = _fdct(block)
    return tuple(round(f[i] / _QUANT[i]) for i in _ZIGZAG)


def _encode_block(bits: MsbWriter, block: bytes, pred: int) -> int:
    coeffs: tuple[int, ...] | None = None
    if block.count(block[0]) == 64:
        dc = round(8 * (block[0] - 128) / _QUANT[0])
    else:
        coeffs = _quantised(block)
        dc = coeffs[0]
    size, extra = _category(dc - pred)
    bits.u(size, 4)
    bits.u(extra, size)
    if coeffs is not None:
        run = 0
        last = max((i for i in range(1, 64) if coeffs[i]), default=0)
        for i in range(1, last + 1):
            value = coeffs[i]
            if value == 0:
                run += 1
                continue
            while run > 15:
                bits.u(_AC_CODE[0xF0], 8)
                run -= 16
            size, extra = _category(max(-1023, min(1023, value)))
            bits.u(_AC_CODE[run << 4 | size], 8)
            bits.u(extra, size)
            run = 0
        if last == 63:
            return dc
    bits.u(_AC_CODE[0x00], 8)  # EOB
    return dc


def _segment(marker: int, body: bytes) -> bytes:
    return struct.pack(">BBH", 0xFF, marker, len(body) + 2) + body


def _ycc_planes(canvas: Canvas) -> list[bytes]:
    pal = canvas.palette + [(0, 0, 0)] * (256 - len(canvas.palette))
    data = bytes(canvas.pixels)
    tables = (
        bytes(min(255, max(0, round(0.299 * r + 0.587 * g + 0.114 * b))) for r, g, b in pal),
        bytes(min(255, max(0, round(128 - 0.168736 * r - 0.331264 * g + 0.5 * b)))
              for r, g, b in pal),
        bytes(min(255, max(0, round(128 + 0.5 * r - 0.418688 * g - 0.081312 * b)))
              for r, g, b in pal),
    )
    return [data.translate(t) for t in tables]


def encode_jpeg(canvas: Canvas) -> bytes:
    """A baseline JFIF JPEG of the canvas (see the module docstring)."""
    w, h = canvas.width, canvas.height
    bw, bh = (w + 7) // 8, (h + 7) // 8
    planes = []
    for plane in _ycc_planes(canvas):  # pad to whole blocks by repeating the edges
        rows = [plane[y * w:(y + 1) * w] for y in range(h)]
        rows = [r + r[-1:] * (8 * bw - w) for r in rows]
        rows += [rows[-1]] * (8 * bh - h)
        planes.append(rows)
    bits, pred = MsbWriter(), [0, 0, 0]
    for by in range(bh):
        for bx in range(bw):
            x0 = 8 * bx
            for comp, rows in enumerate(planes):
                block = b"".join(rows[8 * by + r][x0:x0 + 8] for r in range(8))
                pred[comp] = _encode_block(bits, block, pred[comp])
    scan = bits.getvalue(pad_bit=1).replace(b"\xff", b"\xff\x00")
    quant = bytes(_QUANT[i] for i in _ZIGZAG)
    dc_bits = bytes(3) + bytes((len(_DC_SYMBOLS),)) + bytes(12)  # 12 codes of 4 bits
    ac_bits = bytes(7) + bytes((len(_AC_SYMBOLS),)) + bytes(8)  # 162 codes of 8 bits
    dht = bytes((0x00,)) + dc_bits + _DC_SYMBOLS + bytes((0x10,)) + ac_bits + _AC_SYMBOLS
    sof = struct.pack(">BHHB", 8, h, w, 3) + bytes((1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0))
    sos = bytes((3, 1, 0x00, 2, 0x00, 3, 0x00, 0, 63, 0))
    return (b"\xff\xd8"
            + _segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
            + _segment(0xDB, b"\x00" + quant)
            + _segment(0xC0, sof) + _segment(0xC4, dht) + _segment(0xDA, sos)
            + scan + b"\xff\xd9")


# -- WebP lossless (VP8L) -------------------------------------------------------------------

_CODE_LENGTH_ORDER = (17, 18, 0, 1, 2, 3, 4, 5, 16, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
_MAX_COPY = 4096


def huffman_lengths(counts: list[int], limit: int) -> list[int]:
    """Code lengths of a complete prefix code for the used symbols, none longer than ``limit``.

    A single used symbol gets length 0 (callers encode that case specially). Over-long codes are
    avoided the way libwebp does it: raise the smallest counts and build again.
    """
    used = [i for i, c in enumerate(counts) if c]
    lengths = [0] * len(counts)
    if len(used) <= 1:
        return lengths
    floor = 1
    while True:
        heap: list[tuple[int, int, tuple[int, ...]]] = [
            (max(counts[i], floor), i, (i,)) for i in used]
        heapq.heapify(heap)
        depth = dict.fromkeys(used, 0)
        tie = len(counts)
        while len(heap) > 1:
            c1, _, s1 = heapq.heappop(heap)
            c2, _, s2 = heapq.heappop(heap)
            for sym in s1 + s2:
                depth[sym] += 1
            heapq.heappush(heap, (c1 + c2, tie, s1 + s2))
            tie += 1
        if max(depth.values()) <= limit:
            for sym, d in depth.items():
                lengths[sym] = d
            return lengths
        floor *= 2


def canonical_codes(lengths: list[int]) -> list[int]:
    """DEFLATE-style canonical codes, bit-reversed for an LSB-first writer."""
    max_len = max(lengths, default=0)
    counts = [0] * (max_len + 1)
    for n in lengths:
        if n:
            counts[n] += 1
    code, next_code = 0, [0] * (max_len + 1)
    for n in range(1, max_len + 1):
        code = (code + counts[n - 1]) << 1
        next_code[n] = code
    codes = [0] * len(lengths)
    for sym, n in enumerate(lengths):
        if n:
            c = next_code[n]
            next_code[n] += 1
            codes[sym] = int(format(c, f"0{n}b")[::-1], 2)
    return codes


def _write_code(out: LsbWriter, counts: list[int]) -> tuple[list[int], list[int]]:
    """Write one prefix code (simple form for a single symbol) and return (codes, lengths)."""
    used = [i for i, c in enumerate(counts) if c]
    if len(used) <= 1:
        sym = used[0] if used else 0
        out.put(1, 1)  # simple code
        out.put(0, 1)  # one symbol
        if sym < 2:
            out.put(0, 1)
            out.put(sym, 1)
        else:
            out.put(1, 1)
            out.put(sym, 8)
        return [0] * len(counts), [0] * len(counts)
    lengths = huffman_lengths(counts, 15)
    cl_counts = [0] * 19
    for n in lengths:
        cl_counts[n] += 1
    if sum(1 for c in cl_counts if c) == 1:  # the length code needs two symbols to be complete
        cl_counts[0 if cl_counts[0] == 0 else 1] += 1
    cl_lengths = huffman_lengths(cl_counts, 7)
    cl_codes = canonical_codes(cl_lengths)
    num = max(i for i, sym in enumerate(_CODE_LENGTH_ORDER) if cl_lengths[sym]) + 1
    num = max(num, 4)
    out.put(0, 1)  # normal code
    out.put(num - 4, 4)
    for sym in _CODE_LENGTH_ORDER[:num]:
        out.put(cl_lengths[sym], 3)
    out.put(0, 1)  # max_symbol = alphabet size
    for n in lengths:
        out.put(cl_codes[n], cl_lengths[n])
    return canonical_codes(lengths), lengths


def _prefix(value: int) -> tuple[int, int, int]:
    """VP8L prefix coding of a length or distance ``value`` >= 1: (symbol, extra bits, extra)."""
    n = value - 1
    if n < 4:
        return n, 0, 0
    high = n.bit_length() - 1
    second = (n >> (high - 1)) & 1
    return 2 * high + second, high - 1, n & ((1 << (high - 1)) - 1)


def _tokens(canvas: Canvas) -> list[tuple[int, int]]:
    """(palette index, -1) literals and (length, distance code) copies."""
    w, data = canvas.width, bytes(canvas.pixels)
    tokens: list[tuple[int, int]] = []
    y = 0
    while y < canvas.height:
        row = data[y * w:(y + 1) * w]
        if y and row == data[(y - 1) * w:y * w]:
            same = 1
            while y + same < canvas.height and data[(y + same) * w:(y + same + 1) * w] == row:
                same += 1
            total = same * w
            while total:
                take = min(total, _MAX_COPY)
                tokens.append((take, 1))  # distance code 1: the pixel one row up
                total -= take
            y += same
            continue
        for run in re.finditer(rb"(.)\1*", row, re.S):
            tokens.append((run.group()[0], -1))
            rest = len(run.group()) - 1
            while rest:
                take = min(rest, _MAX_COPY)
                tokens.append((take, 2))  # distance code 2: the pixel to the left
                rest -= take
        y += 1
    return tokens


def encode_webp(canvas: Canvas) -> bytes:
    """A lossless WebP (``RIFF``/``WEBP``/``VP8L``) of the canvas (see the module docstring)."""
    w, h = canvas.width, canvas.height
    if not (1 <= w <= 16384 and 1 <= h <= 16384):
        raise ValueError("WebP sides are 1..16384 pixels")
    pal = canvas.palette + [(0, 0, 0)] * (256 - len(canvas.palette))
    tokens = _tokens(canvas)
    green, red, blue = [0] * 280, [0] * 256, [0] * 256
    alpha, dist = [0] * 256, [0] * 40
    for value, code in tokens:
        if code < 0:
            r, g, b = pal[value]
            green[g] += 1
            red[r] += 1
            blue[b] += 1
            alpha[255] += 1
        else:
            green[256 + _prefix(value)[0]] += 1
            dist[_prefix(code)[0]] += 1
    out = LsbWriter()
    out.put(0x2F, 8)
    out.put(w - 1, 14)
    out.put(h - 1, 14)
    out.put(0, 1)  # alpha_is_used
    out.put(0, 3)  # version
    out.put(0, 1)  # no transform
    out.put(0, 1)  # no colour cache
    out.put(0, 1)  # no meta prefix codes
    g_codes, g_len = _write_code(out, green)
    r_codes, r_len = _write_code(out, red)
    b_codes, b_len = _write_code(out, blue)
    a_codes, a_len = _write_code(out, alpha)
    d_codes, d_len = _write_code(out, dist)
    put = out.put
    for value, code in tokens:
        if code < 0:
            r, g, b = pal[value]
            put(g_codes[g], g_len[g])
            put(r_codes[r], r_len[r])
            put(b_codes[b], b_len[b])
            put(a_codes[255], a_len[255])
        else:
            sym, nbits, extra = _prefix(value)
            put(g_codes[256 + sym], g_len[256 + sym])
            put(extra, nbits)
            sym, nbits, extra = _prefix(code)
            put(d_codes[sym], d_len[sym])
            put(extra, nbits)
    body = out.getvalue()
    chunk = b"VP8L" + struct.pack("<I", len(body)) + body + (b"\x00" if len(body) % 2 else b"")
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk
