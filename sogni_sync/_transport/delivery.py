"""Delivery of socket messages: the outbox, the writers, and what happens to a request after
its connection dropped.

Requests sent with an id stay in the outbox (``outbox.py``) until an event names them (under
a key their concern registered with :meth:`Delivery.track`). A write that provably left
nothing is queued again; one that may have left is settled after the next ``authenticated``
by the server's own answer (``reconcile.py``), never at the drop. Each request is re-sent at
most with the same bytes, and only after the server said it does not have it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sogni_sync._sync import Deadline, wait_for
from sogni_sync._transport.envelope import encode_frame
from sogni_sync._transport.link import Link
from sogni_sync._transport.outbox import MAX_UNWRITTEN, Entry, EntryState, Outbox
from sogni_sync._transport.reconcile import Emit, Lookup, Reconciler, Submit
from sogni_sync._transport.socket import NotWrittenError
from sogni_sync.errors import TimeoutError, ValidationError

__all__ = ["Delivery"]

log = logging.getLogger(__name__)


class Delivery:
    """Writes messages on the current authenticated connection and keeps track of requests.

    ``write(frame, gen)`` writes on connection ``gen`` (raising :class:`NotWrittenError` when
    not one byte left); ``start()`` asks for a connection; ``submit`` runs a function on the io
    pool; ``emit`` notifies connection handlers. State is guarded by the lock of ``link``.
    """

    def __init__(self, link: Link, outbox: Outbox, *, write: Callable[[str, int], None],
                 start: Callable[[], None], submit: Submit, emit: Emit) -> None:
        self._link = link
        self._lock = link.lock
        #: the requests between send() and the server's first word about them
        self.outbox = outbox
        self._write_frame = write
        self._start = start
        self._submit = submit
        self._reconciler = Reconciler(link.lock, outbox, submit=submit, emit=emit,
                                      flush=self.flush, closing=link.closing)
        self._id_keys: tuple[str, ...] = ()

    # -- registration ---------------------------------------------------------------------------

    def track(self, msg_type: str, *, named_by: str | None = None,
              listed_in: tuple[str, ...] = (), lookup: Lookup | None = None) -> None:
        with self._lock:
            if named_by and named_by not in self._id_keys:
                self._id_keys = (*self._id_keys, named_by)
        self._reconciler.track(msg_type, listed_in=listed_in, lookup=lookup, named_by=named_by)

    def awaiting(self, request_id: str) -> bool:
        with self._lock:
            return self.outbox.get(request_id) is not None

    def in_doubt(self, request_id: str) -> bool:
        with self._lock:
            entry = self.outbox.get(request_id)
            return entry is not None and entry.state is EntryState.UNCERTAIN

    # -- the connection's news (lock held unless said) ------------------------------------------

    def note(self, payload: Any) -> None:
        """An incoming event: the requests it names (under a registered key) reached the
        server. An empty outbox (a stream's tokens, once its request was named) has nothing
        to acknowledge."""
        if isinstance(payload, dict):
            for key in self._id_keys:
                request_id = payload.get(key)
                if request_id and isinstance(request_id, str) and self.outbox:
                    self.outbox.ack(request_id)

    def authenticated(self, gen: int, payload: dict[str, Any]) -> None:
        """Without the lock: settle what was in doubt, then write what waits for a writer."""
        self._reconciler.settle(gen, payload)
        with self._lock:
            detached = any(not e.attached for e in self.outbox.queued())
        if detached:
            self._submit(self.flush)

    def dropped(self, gen: int) -> None:
        """Connection ``gen`` dropped: what was written on it is in doubt until the next one."""
        self.outbox.connection_dropped(gen)

    def drain(self) -> None:
        """Nothing more will be delivered (client closed, or a terminal disconnect)."""
        self.outbox.drain()

    # -- sending --------------------------------------------------------------------------------

    def send(self, msg_type: str, data: Any, request_id: str | None, deadline: Deadline) -> None:
        try:
            frame = encode_frame(msg_type, data)
        except (TypeError, ValueError) as exc:
            raise ValidationError(f"{msg_type} payload is not JSON-serialisable: {exc}") from None
        entry = Entry(msg_type, frame, request_id.upper() if request_id else None)
        with self._lock:
            self._link.check_usable()
            self.outbox.add(entry)
        try:
            self._start()
            self._send_entry(entry, deadline)
        finally:
            with self._lock:
                entry.attached = False
                if entry.state in (EntryState.QUEUED, EntryState.SENDING):
                    self.outbox.remove(entry)

    def _send_entry(self, entry: Entry, deadline: Deadline) -> None:
        link = self._link
        failed_gen = -1

        def can_proceed() -> bool:
            return (
                link.halted()
                or entry.state is not EntryState.QUEUED
                or (link.is_ready() and link.ready_gen != failed_gen)
            )

        while True:
            with self._lock:
                ok = wait_for(link.changed, can_proceed, deadline)
                link.check_usable()
                if entry.state is not EntryState.QUEUED:
                    return  # written by a flush, or acknowledged already
                if not ok:
                    raise TimeoutError(
                        "timed out waiting for an authenticated socket to send "
                        f"{entry.msg_type}{link.failure_hint()}"
                    )
                gen = link.ready_gen
                entry.state = EntryState.SENDING
                entry.gen = gen
            if self._write(entry, gen):
                return
            failed_gen = gen

    def _write(self, entry: Entry, gen: int) -> bool:
        """Write a claimed (SENDING) entry; False if it provably was not written."""
        try:
            self._write_frame(entry.frame, gen)
        except NotWrittenError:
            with self._lock:
                entry.state = EntryState.QUEUED
                entry.unwritten += 1
                give_up = not entry.attached and entry.unwritten >= MAX_UNWRITTEN
                self._link.changed.notify_all()
            if give_up:
                self._reconciler.give_up(entry, (
                    f"{entry.msg_type} {entry.request_id} could not be written in "
                    f"{entry.unwritten} attempts (it never left this process)"))
            return False
        except Exception as exc:
            log.info("write of %s failed mid-way (%s)", entry.msg_type, type(exc).__name__)
            if not entry.request_id:
                # Untracked messages are idempotent control frames: send again after reconnect.
                with self._lock:
                    entry.state = EntryState.QUEUED
                    self._link.changed.notify_all()
                return False
        log.debug("sent %s (%d bytes) on connection %d", entry.msg_type, len(entry.frame), gen)
        with self._lock:
            settle = self._mark_written(entry, gen)
            payload = dict(self._link.auth_payload or {})
            ready_gen = self._link.ready_gen
        if settle:  # outside the lock: lookups are submitted, handlers may take their locks
            self._reconciler.settle(ready_gen, payload)
        return True

    def _mark_written(self, entry: Entry, gen: int) -> bool:
        """Lock held. True when the entry's connection already dropped and a newer one is
        authenticated: the entry must be settled against that connection's payload now."""
        entry.sends += 1
        if entry.acked or not entry.request_id:
            self.outbox.remove(entry)
            return False
        entry.state = EntryState.WRITTEN
        entry.gen = gen
        self._link.changed.notify_all()
        if self._link.is_current(gen):
            return False
        # The connection died while we wrote: the drop was processed without this entry.
        self.outbox.connection_dropped(gen)
        return self._link.is_ready() and self._link.auth_payload is not None

    def flush(self) -> None:
        """Write detached QUEUED entries (resends) on the current connection (io thread)."""
        link = self._link
        while True:
            with self._lock:
                if link.halted() or not link.is_ready():
                    return
                pending = [e for e in self.outbox.queued() if not e.attached]
                if not pending:
                    return
                entry = pending[0]
                gen = link.ready_gen
                entry.state = EntryState.SENDING
                entry.gen = gen
            if not self._write(entry, gen):
                return
