"""What each concern uses of the transport, as Protocols (the way ``credentials.py`` states what
the transport uses of authentication).

A concern is typed against the smallest of these that covers it, never against
:class:`~sogni_sync._transport.transport.Transport` itself, so a test double that implements
the Protocol is checked by mypy like the real transport. The pieces:

* :class:`Events` — socket events (handlers run on the socket thread with ``lock`` held),
  connection notifications and the ordered callback thread;
* :class:`RestAccess` — the REST client, the options and the ``closing`` Event;
* :class:`Sender` — messages written on the socket; :class:`Requests` adds how the server
  accounts for requests after a reconnect (:meth:`Requests.track`) and whether one is still in
  flight.

Composed per concern: :class:`AccountTransport`, :class:`CatalogTransport`,
:class:`ProjectsTransport` and :class:`ChatTransport`; the statistics, the hosted chat and the
creative workflows use :class:`RestAccess` only.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Protocol

from sogni_sync._config import ClientOptions
from sogni_sync._sync import IoPool
from sogni_sync._transport.reconcile import Lookup
from sogni_sync._transport.rest import RestClient
from sogni_sync._transport.routing import ConnectionHandler, Handler

__all__ = [
    "AccountTransport",
    "CatalogTransport",
    "ChatTransport",
    "Events",
    "ProjectsTransport",
    "Requests",
    "RestAccess",
    "Sender",
]


class Events(Protocol):
    @property
    def lock(self) -> threading.RLock:
        """The transport's state lock; concerns build their Conditions on it."""
        ...

    @property
    def closing(self) -> threading.Event: ...

    @property
    def network(self) -> str: ...

    def subscribe(self, event_type: str, handler: Handler, *, replay_last: bool = False) -> None:
        """Route every ``event_type`` payload to ``handler`` (socket thread, lock held);
        ``replay_last`` hands over the last kept payload at once."""
        ...

    def on_connection(self, handler: ConnectionHandler) -> None: ...

    def dispatch(self, fn: Callable[..., Any], *args: Any, droppable: bool = False) -> None:
        """Run ``fn(*args)`` on the callback thread, in order; ``droppable`` ones may be shed
        when the queue is full."""
        ...


class RestAccess(Protocol):
    @property
    def rest(self) -> RestClient: ...

    @property
    def options(self) -> ClientOptions: ...

    @property
    def closing(self) -> threading.Event: ...


class Sender(Protocol):
    def send(self, msg_type: str, data: Any, *, request_id: str | None = None,
             timeout: float | None = None) -> None:
        """Write one message once the socket is authenticated (connecting if needed)."""
        ...


class Requests(Sender, Protocol):

    def track(self, msg_type: str, *, named_by: str | None = None,
              listed_in: tuple[str, ...] = (), lookup: Lookup | None = None) -> None:
        """How the server accounts for ``msg_type`` requests: the payload key its events name
        a request by, and after a reconnect the ``authenticated`` keys that list them and a
        look-up for ids it does not list."""
        ...

    def awaiting(self, request_id: str) -> bool: ...

    def in_doubt(self, request_id: str) -> bool: ...

    def connect(self, timeout: float | None = None) -> None: ...


class CatalogTransport(Events, RestAccess, Protocol):
    @property
    def io(self) -> IoPool: ...

    def connect(self, timeout: float | None = None) -> None: ...


class ProjectsTransport(CatalogTransport, Requests, Protocol):
    @property
    def authenticated_payload(self) -> dict[str, Any] | None: ...


class ChatTransport(Events, RestAccess, Requests, Protocol):
    def defer_wake(self, wake: Callable[[], None]) -> None:
        """Socket thread, lock held: run ``wake`` once the current burst of reads ends."""
        ...


class AccountTransport(Events, RestAccess, Sender, Protocol):
    def keep_after_fork(self, event_type: str | None, handler: Any) -> None:
        """Register ``handler`` again in a forked child (the account stays the same)."""
        ...
