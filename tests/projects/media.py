"""Tiny media inputs (only their magic bytes matter to the client) and result sniffing."""

from __future__ import annotations

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 56
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 60
MP4 = b"\x00\x00\x00\x18ftypisom" + b"\x00" * 52
MOV = b"\x00\x00\x00\x14ftypqt  " + b"\x00" * 52
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 48
MP3 = b"ID3\x03\x00" + b"\x00" * 59


def kind_of(data: bytes) -> str:
    """"image", "video" or "audio" from a downloaded result's magic bytes."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" or data[:3] == b"\xff\xd8\xff" or (
        data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    ):
        return "image"
    if data[4:8] == b"ftyp":
        brand = data[8:12].lower()
        return "audio" if b"m4a" in brand else "video"
    if (data[:4] == b"RIFF" and data[8:12] == b"WAVE") or data[:3] == b"ID3" or data[:4] in (
        b"fLaC", b"OggS"
    ) or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0):
        return "audio"
    return "unknown"
