"""Requests between ``send()`` and the server's first word about them.

An entry is QUEUED (never on the wire), SENDING (one thread is writing it), WRITTEN (on the wire
of connection generation ``gen``, waiting for an event naming its id) or UNCERTAIN (written, then
the connection dropped before any acknowledgement). Only UNCERTAIN entries need reconciliation,
and each may be re-sent at most once, so the server never sees a request three times and never
twice unless it had provably not seen it.

The outbox has no lock of its own: the transport calls it with its state lock held.
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Iterable, Iterator

import attrs

from sogni_sync.errors import OutboxFullError

__all__ = ["Entry", "EntryState", "Outbox"]


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
    resent: bool = False
    #: a caller thread is still inside send() for this entry
    attached: bool = True
    #: an event named the id while the entry was being written
    acked: bool = False
    error: BaseException | None = None
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

    def connection_dropped(self, gen: int) -> list[Entry]:
        """Mark what was written on ``gen`` uncertain; return entries that are now lost
        (already re-sent once), removed from the outbox."""
        lost: list[Entry] = []
        for entry in list(self._entries.values()):
            if entry.state is EntryState.WRITTEN and entry.gen <= gen:
                if entry.resent:
                    self.remove(entry)
                    lost.append(entry)
                else:
                    entry.state = EntryState.UNCERTAIN
        return lost

    def drain(self) -> Iterable[Entry]:
        """Remove and return everything (client close / terminal disconnect)."""
        entries = list(self._entries.values())
        self._entries.clear()
        self._by_id.clear()
        self._bytes = 0
        return entries
