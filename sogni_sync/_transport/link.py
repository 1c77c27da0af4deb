"""The state of a transport's connection, shared by the transport and its delivery.

Everything here is read and written with the transport's state lock held. Generations number
connections; ``ready_gen`` is the generation on which ``authenticated`` arrived, so "ready"
always means *this* connection, never a stale one. ``changed`` (a Condition on that lock) is
notified whenever the connection or a request's state changes.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from sogni_sync.errors import AuthenticationError, ClientClosedError, SogniError

__all__ = ["Link"]


class Link:
    __slots__ = ("auth_payload", "changed", "closing", "gen", "last_failure", "lock", "offline",
                 "open", "pid", "ready_gen", "terminal")

    def __init__(self, lock: threading.RLock, closing: threading.Event) -> None:
        self.lock = lock
        self.changed = threading.Condition(lock)
        self.closing = closing
        self.gen = 0
        self.open = False
        self.ready_gen = 0
        self.auth_payload: dict[str, Any] | None = None
        #: the error that stopped the connection for good (until connect() or new credentials)
        self.terminal: SogniError | None = None
        #: how the last connection attempt ended, for timeout messages
        self.last_failure = ""
        self.offline = False  # the last connection attempt failed (and none is up)
        self.pid = os.getpid()

    def is_ready(self) -> bool:
        """The socket is open and ``authenticated`` arrived on this very connection."""
        return self.open and self.ready_gen == self.gen and self.ready_gen > 0

    def is_current(self, gen: int) -> bool:
        """Connection ``gen`` is the one open now."""
        return gen == self.gen and self.open

    def halted(self) -> bool:
        return self.closing.is_set() or self.terminal is not None

    def check_usable(self, *, reset_terminal: bool = False) -> None:
        """Raise what stops the connection from being used (with ``reset_terminal``, forget a
        terminal error that a new connection may mend; rejected credentials stay)."""
        if self.closing.is_set():
            raise ClientClosedError("the client is closed")
        if os.getpid() != self.pid:
            # Only when the fork bypassed os.register_at_fork (a C-level fork): threads and
            # the socket belong to the parent, and its app id would take its connection.
            raise ClientClosedError("this client was forked without Python's fork hooks; "
                                    "create a new one in this process")
        if self.terminal is not None:
            if reset_terminal and not isinstance(self.terminal, AuthenticationError):
                self.terminal = None
                return
            raise self.terminal

    def failure_hint(self) -> str:
        return f" (last connection attempt: {self.last_failure})" if self.last_failure else ""
