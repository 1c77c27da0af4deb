"""Test doubles of the transport, typed against the same Protocols the concerns use.

``make lint`` runs mypy on this module too, so a double that drifts from its Protocol (a
missing member, another signature) fails there, not in a test that happens to call it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from sogni_sync._config import resolve_options
from sogni_sync._transport import Anonymous, ChatTransport, RestClient
from sogni_sync._transport.reconcile import Lookup

__all__ = ["FakeTransport"]


class FakeTransport:
    """A scripted in-memory transport for a chat concern: events are emitted by the test,
    sends are recorded and handed to ``on_send`` on a thread of their own."""

    def __init__(self, models: Any = None) -> None:
        self.lock = threading.RLock()
        self.closing = threading.Event()
        self.network = "fast"
        self.options = resolve_options(disable_socket=True, app_source=None)
        self.rest = RestClient(self.options, closing=self.closing, credentials=Anonymous())
        self.handlers: dict[str, list[Callable[[Any], None]]] = {}
        self.conn: list[Callable[[str, Any], None]] = []
        self.sent: list[tuple[str, Any]] = []
        self.tracked: dict[str, tuple[str | None, tuple[str, ...], Lookup | None]] = {}
        self.on_send: Callable[[Any], object] = lambda body: None
        self._last = {"swarmLLMModels": models} if models is not None else {}

    def subscribe(self, event_type: str, handler: Callable[[Any], None], *,
                  replay_last: bool = False) -> None:
        self.handlers.setdefault(event_type, []).append(handler)
        last = self._last.get(event_type)
        if replay_last and last is not None:  # like the real transport's kept payloads
            handler(last)

    def on_connection(self, handler: Callable[[str, Any], None]) -> None:
        self.conn.append(handler)

    def dispatch(self, fn: Callable[..., Any], *args: Any, droppable: bool = False) -> None:
        fn(*args)

    def track(self, msg_type: str, *, named_by: str | None = None,
              listed_in: tuple[str, ...] = (), lookup: Lookup | None = None) -> None:
        self.tracked[msg_type] = (named_by, listed_in, lookup)

    def awaiting(self, request_id: str) -> bool:
        return False

    def in_doubt(self, request_id: str) -> bool:
        return False

    def connect(self, timeout: float | None = None) -> None:
        return None

    def defer_wake(self, wake: Callable[[], None]) -> None:
        wake()  # no socket bursts here: wake at once (the lock is held, as in the transport)

    def send(self, msg_type: str, data: Any, *, request_id: str | None = None,
             timeout: float | None = None) -> None:
        self.sent.append((msg_type, data))
        threading.Thread(target=self.on_send, args=(data,)).start()

    def emit(self, event: str, payload: Any) -> None:
        """Deliver one socket event as the transport does: handlers run with the lock held."""
        with self.lock:
            for handler in list(self.handlers.get(event, [])):
                handler(payload)


def _conforms(fake: FakeTransport) -> ChatTransport:
    return fake  # mypy: the double implements the chat concern's Protocol
