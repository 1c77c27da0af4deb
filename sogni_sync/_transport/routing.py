"""Where incoming socket events go: the handlers of each event type, the connection handlers,
the last payload of the event types concerns asked to keep, and wake-ups deferred to the end
of a burst of reads.

The router has no lock of its own: it shares the transport's state lock, and handlers of
socket events run with that lock held (on the socket thread). Connection handlers run
without it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["ConnectionHandler", "Handler", "Router"]

log = logging.getLogger(__name__)

#: a socket event's handler: gets the event's decoded payload
Handler = Callable[[Any], None]
#: a connection handler: gets ``(kind, payload)`` — ``"connected"``, ``"authenticated"``,
#: ``"disconnected"``, ``"closing"``, ``"request_confirmed"`` or ``"request_lost"``
ConnectionHandler = Callable[[str, Any], None]


class Router:
    """Handlers by event type, connection handlers, kept payloads and deferred wake-ups.

    ``keep`` is the (shared, live) set of event types whose last payload is kept: the server
    sends them once per connection (or rarely) and they describe current state, so a concern
    built after one arrived can still start from it.
    """

    def __init__(self, lock: threading.RLock, keep: set[str]) -> None:
        self._lock = lock
        self._keep = keep
        self._handlers: dict[str, list[Handler]] = {}
        self._conn: list[ConnectionHandler] = []
        self._last: dict[str, Any] = {}
        self._deferred: dict[Callable[[], None], None] = {}

    def keep_last(self, event_types: Iterable[str]) -> None:
        with self._lock:
            self._keep.update(event_types)

    def subscribe(self, event_type: str, handler: Handler, *, replay_last: bool = False) -> None:
        with self._lock:
            self._handlers.setdefault(event_type, []).append(handler)
            if replay_last and event_type in self._last:
                try:
                    handler(self._last[event_type])
                except Exception:
                    log.exception("replaying %s failed", event_type)

    def unsubscribe(self, event_type: str, handler: Handler) -> None:
        with self._lock:
            handlers = self._handlers.get(event_type, [])
            if handler in handlers:
                handlers.remove(handler)

    def last_payload(self, event_type: str) -> Any:
        with self._lock:
            return self._last.get(event_type)

    def forget_last(self) -> None:
        """Lock held: the connection is gone for good, so no kept payload is current."""
        self._last.clear()

    def handlers(self, msg_type: str, payload: Any) -> list[Handler]:
        """Lock held: keep the payload if its type is kept; the handlers to run for it."""
        if msg_type in self._keep:
            self._last[msg_type] = payload
        return list(self._handlers.get(msg_type, ()))

    # -- connection handlers --------------------------------------------------------------------

    def on_connection(self, handler: ConnectionHandler) -> None:
        with self._lock:
            self._conn.append(handler)

    def remove_connection_handler(self, handler: ConnectionHandler) -> None:
        with self._lock:
            if handler in self._conn:
                self._conn.remove(handler)

    def emit(self, kind: str, payload: Any) -> None:
        """Notify every connection handler (call without the lock)."""
        with self._lock:
            handlers = list(self._conn)
        for handler in handlers:
            try:
                handler(kind, payload)
            except Exception:
                log.exception("connection handler failed on %s", kind)

    # -- deferred wake-ups ----------------------------------------------------------------------

    def defer(self, wake: Callable[[], None]) -> None:
        """Socket thread, lock held: run ``wake`` once the current burst of reads ends."""
        self._deferred[wake] = None

    def holds_wakes(self) -> bool:
        """Socket thread: are wake-ups deferred? (only that thread adds them)"""
        return bool(self._deferred)

    def run_deferred(self) -> None:
        if not self._deferred:  # only the socket thread adds entries
            return
        with self._lock:
            wakes, self._deferred = self._deferred, {}
            for wake in wakes:
                try:
                    wake()
                except Exception:
                    log.exception("deferred wake-up failed")
