"""Records of what the emulator received and sent, readable from test threads.

``net.received("jobRequest")`` returns every decoded client payload of that type exactly as
parsed from the wire (compare as JSON); ``net.rest_calls`` lists :class:`RestCall` records in
the spirit of ``responses.calls``. Appends happen on the emulator loop; readers get copies under
a lock, so a test can inspect them while the emulator runs. Records are bounded (``limit``
most recent frames and calls each) so a long-running standalone emulator does not grow.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Frame", "Recorder", "RestCall"]

_SECRET_HEADERS = {"api-key", "authorization", "cookie"}


@dataclass(frozen=True)
class RestCall:
    """One HTTP request the emulator answered (REST host or socket host)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any
    status: int
    host: str  # "rest" or "socket"
    body: bytes = field(default=b"", repr=False)
    time: float = field(default_factory=time.monotonic)
    peer: str = ""  # the client's host:port: which TCP connection carried the call


@dataclass(frozen=True)
class Frame:
    """One decoded socket message; ``direction`` is ``"in"`` (client->server) or ``"out"``."""

    direction: str
    type: str
    data: Any
    app_id: str
    connection: int
    time: float = field(default_factory=time.monotonic)


def redact_headers(headers: Any) -> dict[str, str]:
    return {k: ("<redacted>" if k.lower() in _SECRET_HEADERS else v) for k, v in headers.items()}


class Recorder:
    def __init__(self, limit: int = 1_000_000) -> None:
        self._lock = threading.Lock()
        self._frames: deque[Frame] = deque(maxlen=limit)
        self._calls: deque[RestCall] = deque(maxlen=limit)
        self.record_sent = True

    def frame(self, direction: str, msg_type: str, data: Any, app_id: str, conn: int) -> None:
        if direction == "out" and not self.record_sent:
            return
        with self._lock:
            self._frames.append(Frame(direction, msg_type, data, app_id, conn))

    def call(self, call: RestCall) -> None:
        with self._lock:
            self._calls.append(call)

    def received(self, msg_type: str | None = None) -> list[Any]:
        with self._lock:
            return [f.data for f in self._frames
                    if f.direction == "in" and (msg_type is None or f.type == msg_type)]

    def sent(self, msg_type: str | None = None) -> list[Any]:
        with self._lock:
            return [f.data for f in self._frames
                    if f.direction == "out" and (msg_type is None or f.type == msg_type)]

    def frames(self) -> list[Frame]:
        with self._lock:
            return list(self._frames)

    def calls(self) -> list[RestCall]:
        with self._lock:
            return list(self._calls)

    def clear(self) -> None:
        with self._lock:
            self._frames.clear()
            self._calls.clear()
