"""Incremental parser for the frames a WebSocket server sends (RFC 6455 §5).

websocket-client's own reader asks the kernel for each frame's header, length and payload in
separate ``recv`` calls and handles one frame per call, which caps a sync client well below what
loopback can carry. :class:`FrameReader` is fed whatever one large ``recv`` returned and hands
back every complete data message in it at once; partial frames wait for the next chunk.
Handshake, masking of our own frames and sending stay with websocket-client.
"""

from __future__ import annotations

from websocket import ABNF

__all__ = ["MAX_MESSAGE", "FrameReader", "ProtocolError", "parse_close"]

# The reference's WebSocket library (Node ``ws``) refuses messages above 100 MiB by default.
MAX_MESSAGE = 100 * 1024 * 1024

_TEXT, _BINARY, _CONT = ABNF.OPCODE_TEXT, ABNF.OPCODE_BINARY, ABNF.OPCODE_CONT
_CLOSE, _PING, _PONG = ABNF.OPCODE_CLOSE, ABNF.OPCODE_PING, ABNF.OPCODE_PONG


class ProtocolError(Exception):
    """The server broke the framing rules; ``code`` is the close code to answer with."""

    def __init__(self, message: str, code: int = 1002) -> None:
        super().__init__(message)
        self.code = code


class FrameReader:
    """Turns received bytes into complete messages, in order.

    :meth:`feed` returns the payloads of complete text/binary messages (fragmented ones
    reassembled) as ``bytes``. Control frames do not need ordering against data and are
    exposed as state: ``pings`` (payloads still to answer), ``pongs`` (count received) and
    ``close`` (the close frame's payload; nothing after it is parsed).
    """

    __slots__ = ("_frag", "_frag_size", "_rest", "close", "max_message", "pings", "pongs")

    def __init__(self, max_message: int = MAX_MESSAGE) -> None:
        self.max_message = max_message
        self._rest = b""
        self._frag: list[bytes] | None = None
        self._frag_size = 0
        self.pings: list[bytes] = []
        self.pongs = 0
        self.close: bytes | None = None

    @property
    def partial(self) -> bool:
        """A frame or a fragmented message has started but not completed."""
        return bool(self._rest) or self._frag is not None

    def feed(self, data: bytes) -> list[bytes]:
        if self.close is not None:
            return []
        if self._rest:
            data = self._rest + data
        out: list[bytes] = []
        n = len(data)
        pos = 0
        limit = self.max_message
        while n - pos >= 2:
            b1 = data[pos]
            b2 = data[pos + 1]
            length = b2 & 0x7F
            start = pos + 2
            if length == 126:
                if n - start < 2:
                    break
                length = (data[start] << 8) | data[start + 1]
                start += 2
            elif length == 127:
                if n - start < 8:
                    break
                length = int.from_bytes(data[start:start + 8], "big")
                start += 8
            if length > limit:
                raise ProtocolError(f"frame of {length} bytes exceeds {limit}", 1009)
            mask = b""
            if b2 & 0x80:  # servers must not mask; tolerated like websocket-client does
                if n - start < 4:
                    break
                mask = data[start:start + 4]
                start += 4
            end = start + length
            if end > n:
                break
            payload = data[start:end]
            pos = end
            if mask:
                payload = ABNF.mask(mask, payload)
            if b1 & 0x70:
                raise ProtocolError("reserved bits set without an extension")
            opcode = b1 & 0x0F
            fin = b1 & 0x80
            if opcode in (_TEXT, _BINARY):
                if self._frag is not None:
                    raise ProtocolError("new message inside a fragmented one")
                if fin:
                    out.append(payload)
                else:
                    self._frag = [payload]
                    self._frag_size = length
            elif opcode == _CONT:
                if self._frag is None:
                    raise ProtocolError("continuation frame without a message")
                self._frag_size += length
                if self._frag_size > limit:
                    raise ProtocolError(f"message exceeds {limit} bytes", 1009)
                self._frag.append(payload)
                if fin:
                    out.append(b"".join(self._frag))
                    self._frag = None
            elif opcode >= 8:
                if not fin or length > 125:
                    raise ProtocolError("fragmented or oversized control frame")
                if opcode == _PING:
                    self.pings.append(payload)
                elif opcode == _PONG:
                    self.pongs += 1
                elif opcode == _CLOSE:
                    self.close = payload
                    pos = n
                    break
                else:
                    raise ProtocolError(f"unknown control opcode {opcode}")
            else:
                raise ProtocolError(f"unknown opcode {opcode}")
        self._rest = data[pos:] if pos < n else b""
        return out


def parse_close(payload: bytes) -> tuple[int | None, str]:
    """Close code and reason of a close frame's payload (RFC 6455 §5.5.1)."""
    if len(payload) < 2:
        return None, ""
    code = int.from_bytes(payload[:2], "big")
    return code, payload[2:].decode("utf-8", "replace")
