"""Bit writers for the hand-written codecs: MSB-first (JPEG, H.264, MPEG audio, FLAC) and
LSB-first (WebP lossless), plus the CRCs those formats need."""

from __future__ import annotations

__all__ = ["LsbWriter", "MsbWriter", "crc8", "crc16"]


class MsbWriter:
    """Packs values most significant bit first; Exp-Golomb codes for H.264."""

    def __init__(self) -> None:
        self.out = bytearray()
        self._acc = 0
        self._bits = 0

    def u(self, value: int, length: int) -> None:
        if length == 0:
            return
        self._acc = (self._acc << length) | (value & ((1 << length) - 1))
        self._bits += length
        while self._bits >= 8:
            self._bits -= 8
            self.out.append((self._acc >> self._bits) & 0xFF)
        self._acc &= (1 << self._bits) - 1

    def ue(self, value: int) -> None:
        """Unsigned Exp-Golomb ``ue(v)``."""
        code = value + 1
        self.u(code, 2 * code.bit_length() - 1)

    def se(self, value: int) -> None:
        """Signed Exp-Golomb ``se(v)``."""
        self.ue(2 * value - 1 if value > 0 else -2 * value)

    @property
    def aligned(self) -> bool:
        return self._bits == 0

    def align(self, bit: int = 0) -> None:
        """Pad to a byte boundary with ``bit``."""
        if self._bits:
            pad = 8 - self._bits
            self.u((1 << pad) - 1 if bit else 0, pad)

    def raw(self, data: bytes) -> None:
        """Append whole bytes; the writer must be byte-aligned."""
        if self._bits:
            raise ValueError("raw bytes need a byte-aligned writer")
        self.out += data

    def trailing(self) -> bytes:
        """H.264 ``rbsp_trailing_bits``: a stop bit, then zeros to the byte boundary."""
        self.u(1, 1)
        self.align(0)
        return bytes(self.out)

    def getvalue(self, pad_bit: int = 0) -> bytes:
        self.align(pad_bit)
        return bytes(self.out)


class LsbWriter:
    """Packs values least significant bit first (WebP lossless)."""

    def __init__(self) -> None:
        self.out = bytearray()
        self._acc = 0
        self._bits = 0

    def put(self, value: int, length: int) -> None:
        self._acc |= (value & ((1 << length) - 1)) << self._bits
        self._bits += length
        if self._bits >= 32:
            whole = self._bits // 8
            self.out += (self._acc & ((1 << (8 * whole)) - 1)).to_bytes(whole, "little")
            self._acc >>= 8 * whole
            self._bits -= 8 * whole

    def getvalue(self) -> bytes:
        nbytes = (self._bits + 7) // 8
        return bytes(self.out) + self._acc.to_bytes(nbytes, "little")


def _table(poly: int, width: int) -> list[int]:
    top, mask = 1 << (width - 1), (1 << width) - 1
    table = []
    for byte in range(256):
        crc = byte << (width - 8)
        for _ in range(8):
            crc = ((crc << 1) ^ poly) & mask if crc & top else (crc << 1) & mask
        table.append(crc)
    return table


_CRC8 = _table(0x07, 8)
_CRC16 = _table(0x8005, 16)


def crc8(data: bytes) -> int:
    """CRC-8, polynomial x^8+x^2+x+1, initial 0 (FLAC frame headers)."""
    crc = 0
    for byte in data:
        crc = _CRC8[crc ^ byte]
    return crc


def crc16(data: bytes) -> int:
    """CRC-16, polynomial x^16+x^15+x^2+1, initial 0, unreflected (FLAC frames)."""
    crc = 0
    table = _CRC16
    for byte in data:
        crc = ((crc << 8) & 0xFFFF) ^ table[(crc >> 8) ^ byte]
    return crc
