"""Audio for emulated results: a short melody derived from (prompt, seed), as WAV, FLAC or MP3.

Standard library only, written from the format specifications:

* WAV: 16-bit mono PCM.
* FLAC: ``fLaC`` + STREAMINFO (with the MD5 of the samples) + frames of 4096 samples with
  VERBATIM subframes, CRC-8 headers and CRC-16 footers.
* MP3: MPEG-1 Layer III, 44.1 kHz mono, 64 kbit/s, no bit reservoir. Each granule codes one
  spectral line (the note) with magnitude 1 in the ``count1`` region (quadruple table B), so a
  decoder's hybrid filter bank plays a tone near ``line * 22050 / 576`` Hz; the line
  follows the melody, so two takes sound (and decode) differently.
"""

from __future__ import annotations

import hashlib
import math
import struct

from sogni_sync.testing._bits import MsbWriter, crc8, crc16
from sogni_sync.testing._raster import digest

__all__ = ["PCM_RATE", "encode_flac", "encode_mp3", "encode_wav", "melody", "synthesize"]

PCM_RATE = 22050
_PENTATONIC = (0, 2, 4, 7, 9)


def melody(prompt: str, seed: int | str, seconds: float) -> list[tuple[float, float]]:
    """``(frequency Hz, duration s)`` notes filling ``seconds``: a pentatonic tune whose tempo
    and notes are a function of (prompt, seed)."""
    d = digest("melody", prompt, seed)
    beat = 0.16 + d[0] % 8 * 0.02
    root = 57 + d[1] % 5  # MIDI A3..C#4
    notes: list[tuple[float, float]] = []
    total, i = 0.0, 0
    while total < seconds - 1e-9:
        pick = d[2 + i % 30] ^ (i // 30 * 37)
        degree = _PENTATONIC[pick % 5] + 12 * (pick // 5 % 2)
        length = min(beat * (1 + (pick >> 6 & 1)), seconds - total)
        notes.append((440.0 * 2 ** ((root + degree - 69) / 12), length))
        total += length
        i += 1
    return notes


def synthesize(notes: list[tuple[float, float]], rate: int = PCM_RATE) -> bytes:
    """16-bit little-endian mono PCM of the notes (each cut at a whole period: no clicks)."""
    out = bytearray()
    want = 0
    for freq, length in notes:
        want += round(length * rate)
        period = max(2, round(rate / freq))
        cycle = [round(9000 * math.sin(2 * math.pi * i / period)
                       + 2500 * math.sin(4 * math.pi * i / period)) for i in range(period)]
        need = max(0, want - len(out) // 2)
        reps = max(1, round(need / period))
        out += struct.pack(f"<{period}h", *cycle) * reps
    out = out[:2 * want] + bytes(max(0, 2 * want - len(out)))
    return bytes(out)


def encode_wav(pcm: bytes, rate: int = PCM_RATE) -> bytes:
    header = b"RIFF" + struct.pack("<I", 36 + len(pcm)) + b"WAVE"
    fmt = b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
    return header + fmt + b"data" + struct.pack("<I", len(pcm)) + pcm


_FLAC_BLOCK = 4096
_FLAC_RATES = {8000: 4, 16000: 5, 22050: 6, 24000: 7, 32000: 8, 44100: 9, 48000: 10}


def _utf8_number(n: int) -> bytes:
    """FLAC's UTF-8-like coding of a frame number (up to 36 bits, 7 bytes)."""
    if n < 0x80:
        return bytes((n,))
    for count in range(2, 8):
        lead_bits = 7 - count
        if n < 1 << (lead_bits + 6 * (count - 1)):
            tail = [0x80 | (n >> 6 * i & 0x3F) for i in range(count - 2, -1, -1)]
            lead = (0xFF << (8 - count)) & 0xFF | n >> 6 * (count - 1)
            return bytes([lead, *tail])
    raise ValueError(f"frame number {n} too large")


def encode_flac(pcm: bytes, rate: int = PCM_RATE) -> bytes:
    """FLAC of 16-bit little-endian mono ``pcm`` (see the module docstring)."""
    if rate not in _FLAC_RATES:
        raise ValueError(f"unsupported FLAC sample rate {rate}")
    total = len(pcm) // 2
    big = bytearray(2 * total)  # a FLAC frame stores its samples big-endian
    big[0::2], big[1::2] = pcm[1:2 * total:2], pcm[0:2 * total:2]
    block = min(_FLAC_BLOCK, max(16, total))
    info = MsbWriter()
    info.u(block, 16)
    info.u(block, 16)
    info.u(0, 24)  # min frame size: unknown
    info.u(0, 24)  # max frame size: unknown
    info.u(rate, 20)
    info.u(0, 3)  # channels - 1
    info.u(15, 5)  # bits per sample - 1
    info.u(total, 36)
    streaminfo = info.getvalue() + hashlib.md5(pcm[:2 * total]).digest()
    out = bytearray(b"fLaC" + bytes((0x80,)) + len(streaminfo).to_bytes(3, "big") + streaminfo)
    for number, start in enumerate(range(0, total, block)):
        count = min(block, total - start)
        head = MsbWriter()
        head.u(0xFFF8, 16)  # sync, fixed block size
        head.u(0b1100 if count == _FLAC_BLOCK else 0b0111, 4)
        head.u(_FLAC_RATES[rate], 4)
        head.u(0, 4)  # mono
        head.u(0b100, 3)  # 16 bits per sample
        head.u(0, 1)
        header = head.getvalue() + _utf8_number(number)
        if count != _FLAC_BLOCK:
            header += struct.pack(">H", count - 1)
        header += bytes((crc8(header),))
        frame = header + b"\x02" + bytes(big[2 * start:2 * (start + count)])  # VERBATIM
        out += frame + struct.pack(">H", crc16(frame))
    return bytes(out)


_MP3_RATE = 44100
_MP3_KBPS = 64
_GRANULE = 576
_LINE_HZ = _MP3_RATE / 2 / _GRANULE


def _granule_bits(line: int) -> tuple[int, int]:
    """Huffman bits of a granule with one +1 at ``line``: (value, length). Table B codes a
    quadruple ``vwxy`` as ``~vwxy`` in 4 bits; the sign bit (0 = positive) follows."""
    quads = line // 4 + 1
    value = (1 << 4 * (quads - 1)) - 1  # all-zero quadruples: 1111 each
    value = value << 4 | (0xF ^ (1 << (3 - line % 4)))
    return value << 1, 4 * quads + 1


def encode_mp3(notes: list[tuple[float, float]], gain: int = 200) -> bytes:
    """MPEG-1 Layer III of the notes (see the module docstring)."""
    lines: list[int] = []
    for freq, length in notes:
        line = max(1, min(300, round(freq / _LINE_HZ)))
        lines += [line] * max(1, round(length * _MP3_RATE / _GRANULE))
    if len(lines) % 2:
        lines.append(lines[-1])
    out = bytearray()
    slot, rest = divmod(144 * _MP3_KBPS * 1000, _MP3_RATE)
    carry = 0
    for f in range(0, len(lines), 2):
        carry += rest
        padding = carry >= _MP3_RATE
        if padding:
            carry -= _MP3_RATE
        size = slot + padding
        bits = MsbWriter()
        bits.u(0x7FF, 11)  # sync
        bits.u(0b11, 2)  # MPEG-1
        bits.u(0b01, 2)  # Layer III
        bits.u(1, 1)  # no CRC
        bits.u(5, 4)  # 64 kbit/s
        bits.u(0, 2)  # 44.1 kHz
        bits.u(int(padding), 1)
        bits.u(0, 1)  # private
        bits.u(0b11, 2)  # mono
        bits.u(0, 2)  # mode extension
        bits.u(0, 1)  # copyright
        bits.u(1, 1)  # original
        bits.u(0, 2)  # emphasis
        bits.u(0, 9)  # main_data_begin: no bit reservoir
        bits.u(0, 5)  # private bits
        bits.u(0, 4)  # scfsi
        payload = [_granule_bits(line) for line in lines[f:f + 2]]
        for _value, length in payload:
            bits.u(length, 12)  # part2_3_length (no scale factors: slen 0)
            bits.u(0, 9)  # big_values
            bits.u(gain, 8)  # global_gain
            bits.u(0, 4)  # scalefac_compress
            bits.u(0, 1)  # window_switching_flag
            bits.u(0, 15)  # table_select x 3
            bits.u(0, 4)  # region0_count
            bits.u(0, 3)  # region1_count
            bits.u(0, 1)  # preflag
            bits.u(0, 1)  # scalefac_scale
            bits.u(1, 1)  # count1table_select: table B
        for value, length in payload:
            bits.u(value, length)
        frame = bits.getvalue()
        out += frame + bytes(size - len(frame))
    return bytes(out)
