"""Server-sent events parsing for the creative-workflow event stream.

Split from the HTTP code so the framing rules (blank-line separation, ``:`` comments, multi-line
``data``, JSON-or-text payloads) are testable with plain strings.
"""

from __future__ import annotations

import json
import re
from typing import Any

import attrs

__all__ = ["SseFrame", "SseParser", "TERMINAL_STATUSES", "is_terminal", "parse_sse_chunk"]

TERMINAL_STATUSES = frozenset({"completed", "failed", "cancelled"})
_BLOCK_SEP = re.compile(r"\r?\n\r?\n")
_LINE_SEP = re.compile(r"\r?\n")


@attrs.frozen
class SseFrame:
    """One SSE frame: ``data`` is parsed JSON, the raw text when not JSON, or None."""

    event: str = "message"
    data: Any = None
    id: str | None = None
    raw: str = ""


def _parse_block(block: str) -> SseFrame:
    frame_id: str | None = None
    event = "message"
    data_lines: list[str] = []
    for line in _LINE_SEP.split(block):
        if not line or line.startswith(":"):
            continue
        field, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if field == "id":
            frame_id = value
        elif field == "event":
            event = value or "message"
        elif field == "data":
            data_lines.append(value)
    text = "\n".join(data_lines)
    data: Any = None
    if text:
        try:
            data = json.loads(text)
        except ValueError:
            data = text
    return SseFrame(event=event, data=data, id=frame_id, raw=block)


def parse_sse_chunk(chunk: str) -> list[SseFrame]:
    """Parse complete SSE text (the reference's ``parseCreativeWorkflowSseChunk``)."""
    blocks = (b.strip() for b in _BLOCK_SEP.split(chunk))
    return [_parse_block(b) for b in blocks if b]


def is_terminal(frame: SseFrame) -> bool:
    """A frame whose data object carries a terminal workflow ``status`` ends the stream."""
    return isinstance(frame.data, dict) and frame.data.get("status") in TERMINAL_STATUSES


class SseParser:
    """Incremental parser: ``feed`` text as it arrives, get the frames completed so far."""

    def __init__(self) -> None:
        self._buffer = ""

    def feed(self, text: str) -> list[SseFrame]:
        self._buffer += text
        parts = _BLOCK_SEP.split(self._buffer)
        self._buffer = parts.pop()
        return [_parse_block(b.strip()) for b in parts if b.strip()]

    def feed_line(self, line: str) -> list[SseFrame]:
        """Feed one line without its terminator (as ``iter_lines`` yields them)."""
        return self.feed(line + "\n")

    def flush(self) -> list[SseFrame]:
        """Frames left in the buffer when the server closed the stream."""
        rest, self._buffer = self._buffer, ""
        return parse_sse_chunk(rest)
