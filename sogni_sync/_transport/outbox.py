"""Requests between ``send()`` and the server's first word about them.

An entry is QUEUED (provably never on the wire: not one byte of it left), SENDING (one thread
is writing it), WRITTEN (bytes of it may have left on connection generation ``gen``; waiting
for an event naming its id) or UNCERTAIN (written, then that connection dropped before any
acknowledgement). A drop never declares anything lost: UNCERTAIN entries wait for the next
authenticated connection, where :mod:`~sogni_sync._transport.reconcile` asks the server. An
entry is written at most :data:`MAX_SENDS` times, and again only after the server said it
does not have it; writes that provably did not leave are retried at most
:data:`MAX_UNWRITTEN` times.

The outbox has no lock of its own: the transport calls it with its state lock held.
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Iterable, Iterator

import attrs

from sogni_sync.errors import OutboxFullError

__all__ = ["MAX_SENDS", "MAX_UNWRITTEN", "Entry", "EntryState", "Outbox"]

#: writes of one request that may have reached the server (each after the server said no)
MAX_SENDS = 3
#: attempts of one request that provably did not leave (no byte written) before it is given up
MAX_UNWRITTEN = 20


class EntryState(enum.Enum):
    QUEUED = "queued"
    SENDING = "sending"
    WRITTEN = "written"
    UNCERTAIN = "uncertain"


_seq = itertools.count(1)


@attrs.define(eq=False)
class Entry:
    msg_type: str
    frame: str
    request_id: str | None
    state: EntryState = EntryState.QUEUED
    gen: int = 0
    #: writes of which bytes may have left (the server may have received each)
    sends: int = 0
    #: attempts that provably wrote nothing (the connection was gone or failed first)
    unwritten: int = 0
    #: a server lookup about this entry is under way
    checking: bool = False
    #: a caller thread is still inside send() for this entry
    attached: bool = True
    #: an event named the id while the entry was being written
    acked: bool = False
    seq: int = attrs.field(factory=lambda: next(_seq))

    @property
    def size(self) -> int:
        return len(self.frame)


class Outbox:
    """Bounded store of in-flight requests, keyed by insertion and by request id."""

    def __init__(self, limit: int = 1000, max_bytes: int = 8 * 1024 * 1024) -> None:
        self.limit = limit
        self.max_bytes = max_bytes
        self._entries: dict[int, Entry] = {}
        self._by_id: dict[str, Entry] = {}
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[Entry]:
        return iter(list(self._entries.values()))

    def add(self, entry: Entry) -> None:
        if len(self._entries) >= self.limit or self._bytes + entry.size > self.max_bytes:
            raise OutboxFullError(
                f"{len(self._entries)} requests ({self._bytes} bytes) are already waiting to be "
                "sent or acknowledged; slow down"
            )
        self._entries[entry.seq] = entry
        self._bytes += entry.size
        if entry.request_id:
            self._by_id[entry.request_id.upper()] = entry

    def remove(self, entry: Entry) -> None:
        if self._entries.pop(entry.seq, None) is not None:
            self._bytes -= entry.size
        if entry.request_id and self._by_id.get(entry.request_id.upper()) is entry:
            del self._by_id[entry.request_id.upper()]

    def get(self, request_id: str) -> Entry | None:
        return self._by_id.get(request_id.upper())

    def ack(self, request_id: str) -> Entry | None:
        """The server named ``request_id``: it has the request, stop tracking it."""
        entry = self._by_id.get(request_id.upper())
        if entry is None:
            return None
        if entry.state in (EntryState.QUEUED, EntryState.SENDING):
            entry.acked = True  # the writer removes it once its write returns
            return entry
        self.remove(entry)
        return entry

    def queued(self) -> list[Entry]:
        return [e for e in self._entries.values() if e.state is EntryState.QUEUED]

    def uncertain(self) -> list[Entry]:
        return [e for e in self._entries.values() if e.state is EntryState.UNCERTAIN]

    def connection_dropped(self, gen: int) -> int:
        """Connection ``gen`` (or older) dropped: what was written on it becomes UNCERTAIN
        until the server answers. Returns how many."""
        count = 0
        for entry in self._entries.values():
            if entry.state is EntryState.WRITTEN and entry.gen <= gen:
                entry.state = EntryState.UNCERTAIN
                count += 1
        return count

    def drain(self) -> Iterable[Entry]:
        """Remove and return everything (client close / terminal disconnect)."""
        entries = list(self._entries.values())
        self._entries.clear()
        self._by_id.clear()
        self._bytes = 0
        return entries
